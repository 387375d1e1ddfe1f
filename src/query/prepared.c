/* prepared.c -- building prepared answers (see prepared.h): the general path run once per
 * (name, type) of every zone, its answers kept in the layout of prepared_internal.h. Control
 * thread only. */
#include "meridian/prepared.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "prepared_internal.h"

#define HUGE_PAGE (2u << 20)
/* Pool offsets are 32-bit: past this no record may start (one more always fits below 4 GiB). */
#define POOL_MAX ((size_t)UINT32_MAX - 2u * WIRE_MSG_MAX)

/* Whether a node's type is asked about on its own: A and AAAA are asked about every node anyway;
 * meta types never (ANY depends on the transport). */
static bool own_type(uint16_t t)
{
	return t != WIRE_TYPE_A && t != WIRE_TYPE_AAAA && t != WIRE_TYPE_OPT && (t < 128 || t > 255);
}

static size_t candidates(const struct zone_set *zones)
{
	size_t n = 0;
	for (size_t z = 0; z < zones->count; z++) {
		const struct zone *zone = zones->zones[z];
		for (uint32_t b = 0; b <= zone->table_mask; b++)
			for (const struct zone_node *node = zone->table[b]; node; node = node->hash_next)
				n += 2u + node->rrset_count;
	}
	return n;
}

static void pool_append(struct prepared *p, const void *data, size_t len)
{
	if (p->pool_cap - p->pool_len < len) {
		size_t cap = p->pool_cap;
		while (cap - p->pool_len < len)
			cap *= 2;
		p->pool = realloc(p->pool, cap);
		if (!p->pool)
			abort();
		p->pool_cap = cap;
	}
	memcpy(p->pool + p->pool_len, data, len);
	p->pool_len += len;
}

/* Keeps the answer the general path wrote to out (len octets) for the question (name, qtype). */
static int find_pointers(const uint8_t *sections, size_t len, unsigned count, uint16_t *at, unsigned max);

/* Whether the count[0] answer RRs in sections (len octets) are each owned by a pointer to the
 * question and carry no compressed name in their rdata, and nothing follows them. */
static bool owned_by_question(const uint8_t *sections, size_t len, const uint16_t count[3])
{
	size_t pos = 0;
	if (count[1] || count[2])
		return false;
	for (unsigned i = 0; i < count[0]; i++) {
		if (len - pos < 12 || get16(sections + pos) != (0xC000u | WIRE_HEADER_SIZE) ||
		    wire_type_compresses(get16(sections + pos + 2)))
			return false;
		pos += 12u + get16(sections + pos + 10);
		if (pos > len)
			return false;
	}
	return pos == len;
}

static uint32_t append_record(struct prepared *p, const uint8_t *name, size_t name_len, uint16_t qtype,
			      const uint8_t *out, size_t len, bool signed_zone)
{
	size_t at = WIRE_HEADER_SIZE + name_len + QUESTION_TAIL;
	struct prepared_record r = {
	    .qtype = qtype,
	    .flags = get16(out + 2),
	    .count = {get16(out + 6), get16(out + 8), get16(out + 10)},
	    .sections_len = (uint16_t)(len - at),
	    .name_len = (uint8_t)name_len,
	    .signed_zone = signed_zone,
	};
	r.shape = owned_by_question(out + at, len - at, r.count) ? SHAPE_ANY_OWNER : SHAPE_FIXED;
	uint16_t pointers[REFERRAL_POINTERS];
	int n = -1;
	if (!(r.flags & WIRE_FLAG_AA) && r.count[0] == 0 && r.count[1] > 0)
		n = find_pointers(out + at, len - at, (unsigned)r.count[1] + r.count[2], pointers,
				  REFERRAL_POINTERS);
	r.pointer_count = n < 0 ? NO_POINTERS : (uint8_t)n;
	p->pool_len = (p->pool_len + 3u) & ~(size_t)3u; /* records start 4-aligned */
	uint32_t offset = (uint32_t)p->pool_len;
	pool_append(p, &r, offsetof(struct prepared_record, bytes));
	pool_append(p, name, name_len);
	pool_append(p, out + at, len - at);
	for (int i = 0; i < n; i++) {
		uint8_t be[2];
		put16(be, pointers[i]);
		pool_append(p, be, 2);
	}
	return offset;
}

static void add_record(struct prepared *p, struct prepared_slot *slot, uint32_t hash, const uint8_t *name,
		       size_t name_len, uint16_t qtype, const uint8_t *out, size_t len, bool signed_zone)
{
	uint32_t offset = append_record(p, name, name_len, qtype, out, len, signed_zone);
	slot->hash = hash;
	slot->offset = offset;
	p->count++;
}

/* Prepares the answer a query with DO gets to the question in query (qlen octets), which a signed
 * zone answered as the record at plain: its RRSIGs and proofs added (proofs.h). Asked with an OPT
 * record (DO, the largest payload) and kept without it, as every record is kept without one (the
 * reply writes the client's). Not kept when the general path needs more than the question to
 * answer it (a proof that depends on more, truncation). */
static void add_dnssec_twin(struct prepared *p, uint32_t plain, const struct snapshot *snap, uint8_t *query,
			    size_t qlen, uint8_t *out, struct wire_query *scratch)
{
	uint8_t *opt = query + qlen;
	opt[0] = 0;
	put16(opt + 1, WIRE_TYPE_OPT);
	put16(opt + 3, WIRE_MSG_MAX);
	opt[5] = 0;
	opt[6] = 0;
	put16(opt + 7, 0x8000u); /* DO */
	put16(opt + 9, 0);
	put16(query + 10, 1);
	bool complete, signed_zone;
	size_t len = query_answer_static(snap, query, qlen + OPT_SIZE, out, WIRE_MSG_MAX, scratch, &complete,
					 &signed_zone);
	put16(query + 10, 0);
	if (!complete || !signed_zone || len < qlen + OPT_SIZE || get16(out + 4) != 1 || get16(out + 10) == 0)
		return;
	const uint8_t *o = out + len - OPT_SIZE;
	if (o[0] != 0 || get16(o + 1) != WIRE_TYPE_OPT || get16(o + 9) != 0)
		return; /* the OPT record is not last, or carries options: not an answer kept */
	put16(out + 10, get16(out + 10) - 1u);
	uint32_t twin = append_record(p, query + WIRE_HEADER_SIZE, qlen - WIRE_HEADER_SIZE - QUESTION_TAIL,
				      get16(query + qlen - QUESTION_TAIL), out, len - OPT_SIZE, true);
	struct prepared_record *r = (struct prepared_record *)(p->pool + plain);
	r->dnssec_twin = twin;
	p->twins++;
}

/* Keeps (name, qtype) as answered by the values of a dynamic record: flags as the general path
 * sets them (out: its static run), and the sections' DYNAMIC_* fields. */
static void add_dynamic(struct prepared *p, struct prepared_slot *slot, uint32_t hash, const uint8_t *name,
			size_t name_len, uint16_t qtype, const uint8_t *out, const struct dynamic_ref *ref)
{
	struct prepared_record r = {
	    .qtype = qtype,
	    .flags = get16(out + 2),
	    .sections_len = DYNAMIC_SIZE,
	    .name_len = (uint8_t)name_len,
	    .shape = SHAPE_DYNAMIC,
	    .pointer_count = NO_POINTERS,
	};
	uint8_t fields[DYNAMIC_SIZE] = {(uint8_t)(ref->record >> 24),
					(uint8_t)(ref->record >> 16),
					(uint8_t)(ref->record >> 8),
					(uint8_t)ref->record,
					ref->apex_labels,
					ref->chase};
	p->pool_len = (p->pool_len + 3u) & ~(size_t)3u;
	uint32_t offset = (uint32_t)p->pool_len;
	pool_append(p, &r, offsetof(struct prepared_record, bytes));
	pool_append(p, name, name_len);
	pool_append(p, fields, sizeof(fields));
	slot->hash = hash;
	slot->offset = offset;
	p->count++;
}

/* Whether the dynamic RRset of node that (node's name, qtype) reads alone answers it: the general
 * path's static run (out, len octets; query qlen octets) stopped where it needed dynamic data and
 * wrote nothing (an authoritative NOERROR with empty sections), and the general path finds it
 * from the name's zone at this very node (not a wildcard's, not another zone's): a dynamic A or
 * AAAA asked for its own type, or a dynamic CNAME asked for CNAME (its values are the answer) or
 * for A or AAAA (its values, then the chain when the target lies in the zone: *ref says so). */
static bool dynamic_answer(const struct snapshot *snap, const struct zone_node *node, uint16_t qtype,
			   const uint8_t *out, size_t len, size_t qlen, struct dynamic_ref *ref)
{
	if (len != qlen || (get16(out + 2) & (WIRE_FLAG_AA | WIRE_FLAG_TC | 0xFu)) != WIRE_FLAG_AA ||
	    get16(out + 6) || get16(out + 8) || get16(out + 10))
		return false;
	bool address = qtype == WIRE_TYPE_A || qtype == WIRE_TYPE_AAAA;
	const struct zone_rrset *rrset = address ? zone_node_rrset(node, qtype) : NULL;
	if (!rrset && (address || qtype == WIRE_TYPE_CNAME))
		rrset = zone_node_rrset(node, WIRE_TYPE_CNAME);
	struct wire_name name;
	if (!rrset || rrset->count != 0 || !snap->dyn || rrset->ttl >= snap->dyn->record_count ||
	    !wire_name_from_wire(&name, node->name, node->name_len))
		return false;
	const struct zone *z = zone_set_find(snap->zones, &name);
	struct zone_result found;
	if (!z)
		return false;
	zone_lookup(z, &name, qtype, &found);
	*ref = (struct dynamic_ref){rrset->ttl, z->apex.label_count, found.kind == ZONE_CNAME};
	return (found.kind == ZONE_FOUND || found.kind == ZONE_CNAME) && !found.wildcard &&
	       found.node == node && found.rrset == rrset;
}

/* Prepares the answer to (node's name, qtype) unless the table has it (a name two zones hold: the
 * general path answered from the right one the first time). query and out are work buffers. */
static void prepare_one(struct prepared *p, const struct snapshot *snap, const struct zone_node *node,
			uint16_t qtype, uint8_t *query, uint8_t *out, struct wire_query *scratch)
{
	uint32_t h;
	struct prepared_slot *slot = node_slot(p, node, qtype, &h);
	if (slot->offset)
		return;

	memset(query, 0, WIRE_HEADER_SIZE);
	put16(query + 4, 1);
	memcpy(query + WIRE_HEADER_SIZE, node->name, node->name_len);
	size_t qlen = WIRE_HEADER_SIZE + node->name_len;
	put16(query + qlen, qtype);
	put16(query + qlen + 2, WIRE_CLASS_IN);
	qlen += QUESTION_TAIL;

	bool complete, signed_zone;
	size_t len =
	    query_answer_static(snap, query, qlen, out, WIRE_MSG_MAX, scratch, &complete, &signed_zone);
	if (complete && len >= qlen && get16(out + 4) == 1) {
		add_record(p, slot, h, node->name, node->name_len, qtype, out, len, signed_zone);
		if (signed_zone)
			add_dnssec_twin(p, slot->offset, snap, query, qlen, out, scratch);
		return;
	}
	struct dynamic_ref ref;
	if (len >= qlen && dynamic_answer(snap, node, qtype, out, len, qlen, &ref))
		add_dynamic(p, slot, h, node->name, node->name_len, qtype, out, &ref);
}

/* Every question about a node: A and AAAA (the questions most clients ask, whatever the node holds),
 * then each type it holds. False once max_answers is reached with questions left. */
static bool prepare_node(struct prepared *p, const struct snapshot *snap, const struct zone_node *node,
			 size_t max_answers, uint8_t *query, uint8_t *out, struct wire_query *scratch)
{
	for (unsigned i = 0; i < 2u + node->rrset_count; i++) {
		uint16_t t = i == 0 ? WIRE_TYPE_A : i == 1 ? WIRE_TYPE_AAAA : node->rrsets[i - 2].type;
		if (i >= 2 && !own_type(t))
			continue;
		if (p->count == max_answers || p->pool_len > POOL_MAX)
			return false;
		prepare_one(p, snap, node, t, query, out, scratch);
	}
	return true;
}

/* ---- negative answers ---- */

/* Steps over the name at p[*pos] (labels up to the root or a pointer), recording where its pointer is
 * (at[*n], at most max). False when it runs past end or there are more pointers than max. */
static bool step_name(const uint8_t *p, size_t end, size_t *pos, uint16_t *at, unsigned *n, unsigned max)
{
	while (*pos < end && p[*pos] != 0 && p[*pos] < 0xC0)
		*pos += p[*pos] + 1u;
	if (*pos >= end)
		return false;
	if (p[*pos] < 0xC0) {
		(*pos)++;
		return true;
	}
	if (*n == max || end - *pos < 2)
		return false;
	at[(*n)++] = (uint16_t)*pos;
	*pos += 2;
	return true;
}

/* Where the compression pointers are in the count RRs of sections (len octets): in owners and in the
 * names of rdata the builder compresses (wire_type_compresses, with the layouts of build.c's
 * put_rdata). Returns how many (at most max), or -1 when the bytes are not such RRs or hold more. */
static int find_pointers(const uint8_t *sections, size_t len, unsigned count, uint16_t *at, unsigned max)
{
	size_t pos = 0;
	unsigned n = 0;
	for (unsigned rr = 0; rr < count; rr++) {
		if (!step_name(sections, len, &pos, at, &n, max) || len - pos < 10)
			return -1;
		uint16_t type = get16(sections + pos);
		size_t end = pos + 10 + get16(sections + pos + 8);
		pos += 10;
		if (end > len)
			return -1;
		if (wire_type_compresses(type)) {
			unsigned names = type == WIRE_TYPE_SOA || type == WIRE_TYPE_MINFO ? 2 : 1;
			if (type == WIRE_TYPE_MX)
				pos += 2;
			for (unsigned i = 0; i < names; i++)
				if (pos > end || !step_name(sections, end, &pos, at, &n, max))
					return -1;
			if (type == WIRE_TYPE_SOA)
				pos += 20;
			if (pos != end)
				return -1;
		}
		pos = end;
	}
	return pos == len ? (int)n : -1;
}

/* The label of name just above the apex (lowercased, length octet first) into label, or "" when
 * name is not strictly below the apex. */
static void label_above(const struct zone *z, const uint8_t *name, size_t len, uint8_t *label)
{
	struct wire_name n;
	label[0] = 0;
	if (!wire_name_from_wire(&n, name, len) || n.label_count <= z->apex.label_count ||
	    !wire_name_same(n.data + n.labels[n.label_count - z->apex.label_count], z->apex.data,
			    z->apex.len))
		return;
	const uint8_t *l = n.data + n.labels[n.label_count - z->apex.label_count - 1];
	memcpy(label, l, l[0] + 1u);
}

/* Prepares zone z's negative answer: the general path's reply to a question about the apex of a
 * private-use type (RFC 6895) the apex does not hold. Written that way, the SOA's owner is a pointer
 * to the question, and MNAME and RNAME are compressed against the apex at most: for a longer question
 * the general path writes the same, pointers moved by the extra length, as long as the question's
 * label above the apex is not also MNAME's or RNAME's (then it would compress against more of it:
 * those questions take the general path). */
static bool prepare_negative(const struct snapshot *snap, const struct zone *z, struct prepared_negative *neg,
			     uint8_t *query, uint8_t *out, struct wire_query *scratch)
{
	uint16_t qtype = 65280;
	while (qtype < 65534 && zone_node_rrset(z->apex_node, qtype))
		qtype++;
	memset(query, 0, WIRE_HEADER_SIZE);
	put16(query + 4, 1);
	memcpy(query + WIRE_HEADER_SIZE, z->apex.data, z->apex.len);
	size_t qlen = WIRE_HEADER_SIZE + z->apex.len;
	put16(query + qlen, qtype);
	put16(query + qlen + 2, WIRE_CLASS_IN);
	qlen += QUESTION_TAIL;

	bool complete;
	size_t len = query_answer_static(snap, query, qlen, out, WIRE_MSG_MAX, scratch, &complete, NULL);
	if (!complete || len < qlen || len - qlen > NEGATIVE_MAX || (out[3] & 0xFu) != WIRE_RCODE_NOERROR ||
	    get16(out + 6) != 0 || get16(out + 8) != 1 || get16(out + 10) != 0)
		return false;
	neg->zone = z;
	neg->flags = get16(out + 2);
	neg->count[0] = 0;
	neg->count[1] = 1;
	neg->count[2] = 0;
	neg->sections_len = (uint16_t)(len - qlen);
	memcpy(neg->sections, out + qlen, neg->sections_len);
	uint16_t at[NEGATIVE_POINTERS];
	int pointers = find_pointers(neg->sections, neg->sections_len, 1, at, NEGATIVE_POINTERS);
	if (pointers < 0)
		return false;
	neg->pointers = (uint16_t)pointers;
	for (int i = 0; i < pointers; i++)
		put16(neg->pointer_at + 2 * i, at[i]);
	const uint8_t *rdata;
	uint16_t rdlen;
	size_t pos = 0;
	if (!zone_rdata_next(z->soa, &pos, &rdata, &rdlen))
		return false;
	size_t mname = wire_name_length(rdata, rdlen);
	size_t rname = mname ? wire_name_length(rdata + mname, rdlen - mname) : 0;
	if (!rname)
		return false;
	label_above(z, rdata, mname, neg->guard[0]);
	label_above(z, rdata + mname, rname, neg->guard[1]);
	return true;
}

static void prepare_negatives(struct prepared *p, const struct snapshot *snap, uint8_t *query, uint8_t *out,
			      struct wire_query *scratch)
{
	size_t count = snap->zones->count;
	uint32_t slots = 4;
	while (slots < 2 * count)
		slots *= 2;
	p->negatives = calloc(count ? count : 1, sizeof(*p->negatives));
	p->negative_slots = calloc(slots, sizeof(*p->negative_slots));
	if (!p->negatives || !p->negative_slots)
		abort();
	p->negative_mask = slots - 1;
	uint32_t used = 0;
	for (size_t i = 0; i < count; i++) {
		const struct zone *z = snap->zones->zones[i];
		if (!prepare_negative(snap, z, &p->negatives[used], query, out, scratch))
			continue;
		uint32_t at = zone_slot_hash(z) & p->negative_mask;
		while (p->negative_slots[at])
			at = (at + 1) & p->negative_mask;
		p->negative_slots[at] = ++used;
	}
}

/* Building sized the table for every candidate answer; a lookup's slot is more often in cache when
 * the table is no larger than the answers kept need: at most three quarters full. */
static void shrink_slots(struct prepared *p)
{
	uint32_t slots = 16;
	while (slots < p->count + p->count / 3 + 1)
		slots *= 2;
	if (slots >= p->mask + 1)
		return;
	struct prepared_slot *table = calloc(slots, sizeof(*table));
	if (!table)
		abort();
	for (uint32_t i = 0; i <= p->mask; i++) {
		if (!p->slots[i].offset)
			continue;
		uint32_t at = p->slots[i].hash & (slots - 1);
		while (table[at].offset)
			at = (at + 1) & (slots - 1);
		table[at] = p->slots[i];
	}
	free(p->slots);
	p->slots = table;
	p->mask = slots - 1;
}

/* Moves slots and pool into one block of memory the size they need, backed by huge pages where the
 * kernel has them: a lookup lands at a random place in each, and on 4 KiB pages most lookups would
 * also miss the TLB. */
static void settle(struct prepared *p)
{
	shrink_slots(p);
	size_t slots_size = ((size_t)p->mask + 1) * sizeof(*p->slots);
	size_t size = (slots_size + p->pool_len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	uint8_t *block = aligned_alloc(HUGE_PAGE, size);
	if (!block)
		abort();
	madvise(block, size, MADV_HUGEPAGE); /* advice only: 4 KiB pages work too */
	memcpy(block, p->slots, slots_size);
	memcpy(block + slots_size, p->pool, p->pool_len);
	free(p->slots);
	free(p->pool);
	p->slots = (struct prepared_slot *)block;
	p->pool = block + slots_size;
	p->pool_cap = p->pool_len;
	p->block_size = size;
}

struct prepared *prepared_build(const struct snapshot *snap, size_t max_answers)
{
	if (max_answers == 0)
		return NULL;
	size_t want = candidates(snap->zones);
	if (want > max_answers)
		want = max_answers;
	uint32_t slots = 16;
	while (slots < 2 * want)
		slots *= 2;
	struct prepared *p = calloc(1, sizeof(*p));
	uint8_t *query = malloc(WIRE_HEADER_SIZE + WIRE_NAME_MAX + QUESTION_TAIL + OPT_SIZE);
	uint8_t *out = malloc(WIRE_MSG_MAX);
	struct wire_query *scratch = malloc(sizeof(*scratch));
	if (!p || !query || !out || !scratch)
		abort();
	p->slots = calloc(slots, sizeof(*p->slots));
	p->mask = slots - 1;
	p->pool_cap = 1u << 16;
	p->pool = malloc(p->pool_cap);
	if (!p->slots || !p->pool)
		abort();
	p->pool_len = 2; /* offset 0 marks a free slot */
	p->zones = snap->zones;
	prepare_negatives(p, snap, query, out, scratch);

	for (size_t z = 0; z < snap->zones->count && !p->capped; z++) {
		const struct zone *zone = snap->zones->zones[z];
		for (uint32_t b = 0; b <= zone->table_mask && !p->capped; b++)
			for (const struct zone_node *node = zone->table[b]; node && !p->capped;
			     node = node->hash_next)
				p->capped = !prepare_node(p, snap, node, max_answers, query, out, scratch);
	}
	free(query);
	free(out);
	free(scratch);
	settle(p);
	return p;
}

void prepared_free(struct prepared *p)
{
	if (!p)
		return;
	free(p->slots); /* the block */
	free(p->negatives);
	free(p->negative_slots);
	free(p);
}

size_t prepared_count(const struct prepared *p)
{
	return p ? p->count : 0;
}

size_t prepared_dnssec_count(const struct prepared *p)
{
	return p ? p->twins : 0;
}

size_t prepared_bytes(const struct prepared *p)
{
	return p ? p->block_size + sizeof(*p) : 0;
}

bool prepared_capped(const struct prepared *p)
{
	return p && p->capped;
}
