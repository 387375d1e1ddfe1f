/* journal.c -- the differences between a zone's versions (journal.h).
 *
 * Each version's RRs (all but the SOA) are written out in uncompressed wire form, one run per
 * version; the old version's RRs go into an open-addressing table by hash, each RR of the new version
 * looks for an equal one there and marks it found, and what is left unmarked was deleted. That is
 * linear in the zone's size, which matters for the large zones that most need IXFR: a reload of a
 * million-record zone compares two million RRs. */
#include "meridian/journal.h"

#include <stdlib.h>
#include <string.h>

#include "meridian/grow.h"
#include "meridian/wire.h"

/* The RRs of one version, back to back, and where each starts. */
struct rr_run {
	uint8_t *buf;
	size_t len, cap;
	size_t *start; /* count + 1 entries: the last is len */
	size_t count, start_cap;
};

static bool run_add(void *arg, const struct zone_rr *rr)
{
	struct rr_run *r = arg;
	if (rr->set->type == WIRE_TYPE_SOA && rr->node->flags & ZONE_NODE_APEX)
		return true; /* the zone's SOA: it opens and closes each step instead */
	size_t size = zone_rr_wire_size(rr);
	r->buf = grow_array(r->buf, &r->cap, r->len + size, 1);
	r->start = grow_array(r->start, &r->start_cap, r->count + 2, sizeof(*r->start));
	zone_rr_wire(rr, r->buf + r->len);
	r->start[r->count++] = r->len;
	r->len += size;
	r->start[r->count] = r->len;
	return true;
}

/* Every RR of z but the SOA, as a transfer sends them (an RRSIG at the TTL of the RRset it covers). */
static void run_of_zone(struct rr_run *r, const struct zone *z)
{
	memset(r, 0, sizeof(*r));
	zone_each_rr(z, run_add, r);
	if (!r->start) {
		r->start = grow_array(NULL, &r->start_cap, 1, sizeof(*r->start));
		r->start[0] = 0;
	}
}

static void run_free(struct rr_run *r)
{
	free(r->buf);
	free(r->start);
}

static uint64_t rr_hash(const uint8_t *p, size_t len)
{
	uint64_t h = 0xCBF29CE484222325u ^ len; /* FNV-1a, eight octets at a time */
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof(w));
		h = (h ^ w) * 0x100000001B3u;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001B3u;
	return h ^ h >> 32;
}

static const uint8_t *rr_at(const struct rr_run *r, size_t i, size_t *len)
{
	*len = r->start[i + 1] - r->start[i];
	return r->buf + r->start[i];
}

/* The RRs of each run missing from the other: marks[i] is set for each RR of old found in new, and
 * each RR of new found in old. An RR written twice counts twice. */
static void compare_runs(const struct rr_run *old, const struct rr_run *new, bool *old_found, bool *new_found)
{
	size_t cap = 16;
	while (cap < 2 * old->count)
		cap *= 2;
	uint32_t *slot = calloc(cap, sizeof(*slot)); /* index + 1 of an old RR; 0: free */
	uint32_t *slot_hash = malloc(cap * sizeof(*slot_hash));
	if (!slot || !slot_hash)
		abort();
	size_t mask = cap - 1;
	for (size_t i = 0; i < old->count; i++) {
		size_t len;
		const uint8_t *rr = rr_at(old, i, &len);
		uint64_t h = rr_hash(rr, len);
		size_t k = (size_t)h & mask;
		while (slot[k])
			k = (k + 1) & mask;
		slot[k] = (uint32_t)i + 1;
		slot_hash[k] = (uint32_t)h;
	}
	for (size_t i = 0; i < new->count; i++) {
		size_t len;
		const uint8_t *rr = rr_at(new, i, &len);
		uint64_t h = rr_hash(rr, len);
		for (size_t k = (size_t)h & mask; slot[k]; k = (k + 1) & mask) {
			size_t o = slot[k] - 1, olen;
			if (slot_hash[k] != (uint32_t)h || old_found[o])
				continue;
			const uint8_t *orr = rr_at(old, o, &olen);
			if (olen == len && memcmp(orr, rr, len) == 0) {
				old_found[o] = new_found[i] = true;
				break;
			}
		}
	}
	free(slot);
	free(slot_hash);
}

static size_t missing_bytes(const struct rr_run *r, const bool *found, uint32_t *count)
{
	size_t bytes = 0;
	*count = 0;
	for (size_t i = 0; i < r->count; i++)
		if (!found[i]) {
			bytes += r->start[i + 1] - r->start[i];
			++*count;
		}
	return bytes;
}

static uint8_t *copy_missing(uint8_t *out, const struct rr_run *r, const bool *found)
{
	for (size_t i = 0; i < r->count; i++)
		if (!found[i]) {
			size_t len;
			const uint8_t *rr = rr_at(r, i, &len);
			memcpy(out, rr, len);
			out += len;
		}
	return out;
}

/* z's SOA as zone_each_rr gives an RR. */
static struct zone_rr soa_rr(const struct zone *z)
{
	struct zone_rr rr = {.node = z->apex_node, .set = z->soa, .ttl = z->soa->ttl};
	size_t pos = 0;
	zone_rdata_next(z->soa, &pos, &rr.rdata, &rr.rdlen);
	return rr;
}

static size_t soa_size(const struct zone *z)
{
	struct zone_rr rr = soa_rr(z);
	return zone_rr_wire_size(&rr);
}

static uint8_t *put_soa(uint8_t *out, const struct zone *z)
{
	struct zone_rr rr = soa_rr(z);
	return out + zone_rr_wire(&rr, out);
}

static bool soa_equal(const struct zone *a, const struct zone *b)
{
	struct zone_rr x = soa_rr(a), y = soa_rr(b);
	return x.ttl == y.ttl && x.rdlen == y.rdlen && memcmp(x.rdata, y.rdata, x.rdlen) == 0;
}

/* The step from old to new given what compare_runs found. */
static struct journal_delta *delta_new(const struct zone *old_zone, const struct zone *new_zone,
				       const struct rr_run *old, const bool *old_found,
				       const struct rr_run *new, const bool *new_found)
{
	uint32_t deleted_count, added_count;
	size_t deleted_len = missing_bytes(old, old_found, &deleted_count);
	size_t added_len = missing_bytes(new, new_found, &added_count);
	size_t from_len = soa_size(old_zone), to_len = soa_size(new_zone);
	struct journal_delta *d = malloc(sizeof(*d) + from_len + to_len + deleted_len + added_len);
	if (!d)
		abort();
	uint8_t *at = d->data;
	*d = (struct journal_delta){.from = old_zone->serial,
				    .to = new_zone->serial,
				    .from_soa = at,
				    .from_soa_len = from_len,
				    .to_soa = at + from_len,
				    .to_soa_len = to_len,
				    .deleted = at + from_len + to_len,
				    .deleted_len = deleted_len,
				    .deleted_count = deleted_count,
				    .added = at + from_len + to_len + deleted_len,
				    .added_len = added_len,
				    .added_count = added_count,
				    .refs = 1};
	at = put_soa(at, old_zone);
	at = put_soa(at, new_zone);
	at = copy_missing(at, old, old_found);
	copy_missing(at, new, new_found);
	return d;
}

static void delta_unref(struct journal_delta *d)
{
	if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(d);
}

static size_t delta_bytes(const struct journal_delta *d)
{
	return d->deleted_len + d->added_len;
}

/* old's last steps and d (taken over): at most keep steps, and no more bytes of RRs than limit (the
 * zone's own: a longer history would cost more memory than the zone). */
static struct zone_journal *journal_append(const struct zone_journal *old, struct journal_delta *d,
					   unsigned keep, size_t limit)
{
	unsigned carried = 0;
	size_t bytes = delta_bytes(d);
	while (old && carried < old->count && carried + 1 < keep) {
		size_t more = delta_bytes(old->delta[old->count - 1 - carried]);
		if (bytes + more > limit)
			break;
		bytes += more;
		carried++;
	}
	struct zone_journal *j = malloc(sizeof(*j) + (carried + 1) * sizeof(j->delta[0]));
	if (!j)
		abort();
	j->refs = 1;
	j->count = carried + 1;
	for (unsigned i = 0; i < carried; i++) {
		j->delta[i] = old->delta[old->count - carried + i];
		__atomic_add_fetch(&j->delta[i]->refs, 1, __ATOMIC_RELAXED);
	}
	j->delta[carried] = d;
	return j;
}

struct zone_journal *journal_next(const struct zone *old_zone, const struct zone *new_zone, unsigned keep,
				  struct journal_report *report)
{
	struct journal_report none;
	if (!report)
		report = &none;
	memset(report, 0, sizeof(*report));
	int order = old_zone ? zone_serial_compare(new_zone->serial, old_zone->serial) : -1;
	if (!keep || order < 0 || order == ZONE_SERIAL_UNDEFINED) {
		report->outcome = keep && old_zone ? JOURNAL_RESTARTED : JOURNAL_OFF;
		return NULL;
	}
	struct rr_run old, new;
	run_of_zone(&old, old_zone);
	run_of_zone(&new, new_zone);
	bool *old_found = calloc(old.count + 1, sizeof(bool)),
	     *new_found = calloc(new.count + 1, sizeof(bool));
	if (!old_found || !new_found)
		abort();
	compare_runs(&old, &new, old_found, new_found);
	struct zone_journal *j = NULL;
	uint32_t deleted, added;
	size_t changed = missing_bytes(&old, old_found, &deleted) + missing_bytes(&new, new_found, &added);
	bool same_soa = soa_equal(old_zone, new_zone);
	if (order == 0) {
		/* the same serial: its history still holds only if nothing changed */
		if (changed == 0 && same_soa && old_zone->journal) {
			j = old_zone->journal;
			journal_ref(j);
			report->outcome = JOURNAL_CARRIED;
			report->steps = j->count;
		} else {
			report->outcome = changed == 0 && same_soa ? JOURNAL_OFF : JOURNAL_RESTARTED;
		}
	} else if (changed > new.len) {
		report->outcome = JOURNAL_RESTARTED; /* the whole zone is the cheaper answer */
	} else {
		struct journal_delta *d = delta_new(old_zone, new_zone, &old, old_found, &new, new_found);
		j = journal_append(old_zone->journal, d, keep, new.len);
		*report = (struct journal_report){
		    .outcome = JOURNAL_EXTENDED, .deleted = deleted, .added = added, .steps = j->count};
	}
	free(old_found);
	free(new_found);
	run_free(&old);
	run_free(&new);
	return j;
}

void journal_ref(struct zone_journal *j)
{
	if (j)
		__atomic_add_fetch(&j->refs, 1, __ATOMIC_RELAXED);
}

void journal_unref(struct zone_journal *j)
{
	if (!j || __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (unsigned i = 0; i < j->count; i++)
		delta_unref(j->delta[i]);
	free(j);
}

long journal_find(const struct zone_journal *j, uint32_t from)
{
	if (!j)
		return -1;
	for (unsigned i = j->count; i-- > 0;)
		if (j->delta[i]->from == from)
			return (long)i;
	return -1;
}

bool journal_rr_next(const uint8_t *run, size_t len, size_t *pos, const uint8_t **name, size_t *name_len,
		     uint16_t *type, uint32_t *ttl, const uint8_t **rdata, uint16_t *rdlen)
{
	size_t p = *pos;
	if (p >= len)
		return false;
	size_t start = p;
	while (run[p] != 0)
		p += 1u + run[p];
	p++;
	*name = run + start;
	*name_len = p - start;
	*type = (uint16_t)(run[p] << 8 | run[p + 1]);
	*ttl =
	    (uint32_t)run[p + 4] << 24 | (uint32_t)run[p + 5] << 16 | (uint32_t)run[p + 6] << 8 | run[p + 7];
	*rdlen = (uint16_t)(run[p + 8] << 8 | run[p + 9]);
	*rdata = run + p + 10;
	*pos = p + 10u + *rdlen;
	return true;
}
