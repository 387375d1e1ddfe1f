/* prepared_reply.c -- answering from prepared answers (see prepared.h): a parser that reads only
 * what a plain query holds, a table lookup, and the reply copied or (for a dynamic record) written
 * for the client. Query path: no allocation, no locks. */
#include "meridian/prepared.h"

#include <string.h>

#include "meridian/client.h"
#include "meridian/cookie.h"
#include "meridian/region_counts.h"
#include "prepared_internal.h"

#define EDNS_VERSION 6 /* offset in the OPT record of the EDNS version octet */

/* Zone z's negative answer (prepared.c, prepare_negatives), or NULL. */
static const struct prepared_negative *negative_of(const struct prepared *p, const struct zone *z)
{
	if (!p->negative_slots)
		return NULL;
	for (uint32_t i = zone_slot_hash(z) & p->negative_mask;; i = (i + 1) & p->negative_mask) {
		uint32_t at = p->negative_slots[i];
		if (!at)
			return NULL;
		if (p->negatives[at - 1].zone == z)
			return &p->negatives[at - 1];
	}
}

/* A plain query's OPT record at pkt[pos] (len - pos octets left): version 0, options well framed,
 * no NSID or edns-tcp-keepalive, at most one client subnet option and that one well formed. Sets q->payload,
 * q->do_bit and, for a client subnet, q->ecs_at and q->ecs_len (the whole option, header included). */
static bool plain_opt(const uint8_t *pkt, size_t len, size_t pos, struct prepared_query *q)
{
	if (len - pos < OPT_SIZE || pkt[pos] != 0 || get16(pkt + pos + 1) != WIRE_TYPE_OPT ||
	    pkt[pos + EDNS_VERSION] != 0)
		return false;
	q->payload = get16(pkt + pos + 3);
	q->do_bit = (pkt[pos + 7] & 0x80u) != 0;
	size_t rdlen = get16(pkt + pos + 9);
	pos += OPT_SIZE;
	if (len - pos < rdlen)
		return false;
	for (size_t end = pos + rdlen; pos < end;) {
		if (end - pos < 4)
			return false;
		unsigned code = get16(pkt + pos), olen = get16(pkt + pos + 2);
		if (code == WIRE_EDNS_NSID || code == WIRE_EDNS_TCP_KEEPALIVE || end - pos - 4 < olen)
			return false;
		if (code == WIRE_EDNS_ECS) {
			if (q->ecs_len || !wire_ecs_well_formed(pkt + pos + 4, olen))
				return false;
			q->ecs_at = (uint16_t)pos;
			q->ecs_len = (uint16_t)(4 + olen);
		} else if (code == WIRE_EDNS_COOKIE) {
			q->cookie_bad |= q->cookie_len || !wire_cookie_well_formed(olen);
			q->cookie_at = (uint16_t)(pos + 4);
			q->cookie_len = (uint8_t)(olen > 40 ? 40 : olen);
		}
		pos += 4u + olen;
	}
	return true;
}

/* Reads a plain query (see prepared.h); false for anything else. */
static bool read_plain(const uint8_t *pkt, size_t len, struct prepared_query *q)
{
	/* Header: a query (QR clear, opcode QUERY), one question, at most one additional RR. */
	if (len < WIRE_HEADER_SIZE + 1 + QUESTION_TAIL || (pkt[2] & 0xF8u) || get16(pkt + 4) != 1 ||
	    get16(pkt + 6) || get16(pkt + 8) || get16(pkt + 10) > 1)
		return false;
	/* The question name: uncompressed labels (a pointer or an extended label type is over 63). */
	size_t pos = WIRE_HEADER_SIZE;
	for (unsigned label; (label = pkt[pos]) != 0; pos += label + 1u)
		if (label > 63 || pos + label - WIRE_HEADER_SIZE + 2 > WIRE_NAME_MAX ||
		    len - pos < label + 2u)
			return false;
	q->name_len = pos + 1 - WIRE_HEADER_SIZE;
	pos++;
	if (len - pos < QUESTION_TAIL || get16(pkt + pos + 2) != WIRE_CLASS_IN)
		return false;
	q->qtype = get16(pkt + pos);
	pos += QUESTION_TAIL;
	q->question_len = pos - WIRE_HEADER_SIZE;
	q->payload = 0;
	q->do_bit = false;
	q->ecs_at = q->ecs_len = 0;
	q->cookie_at = q->cookie_len = 0;
	q->cookie_bad = false;
	q->edns = get16(pkt + 10) == 1;
	if (q->edns && !plain_opt(pkt, len, pos, q))
		return false;
	memcpy(q->name, pkt + WIRE_HEADER_SIZE, q->name_len);
	memset(q->name + q->name_len, 0, 8);
	return true;
}

/* What a reply holds besides the query's id, RD bit and question. */
struct reply {
	uint16_t flags; /* QR, AA, rcode */
	const uint16_t *count;
	const uint8_t *sections;
	size_t sections_len;
	/* where in sections the compression pointers to move by shift are: two octets each (network
	 * order) */
	const uint8_t *pointer_bytes;
	unsigned pointer_count;
	unsigned shift;
};

static void record_reply(const struct prepared_record *rec, struct reply *r)
{
	*r = (struct reply){.flags = rec->flags,
			    .count = rec->count,
			    .sections = rec->bytes + rec->name_len,
			    .sections_len = rec->sections_len};
}

/* The referral for name, below the cut: the cut's own prepared referral (as asked for A; a referral
 * is the same for every type but DS) with its pointers moved by the extra length. The general path
 * would compress more of it against the question only if a name in it (an NS target below the cut,
 * its glue) lay below the question's label above the cut; such a target has glue, so that label
 * would be a node of the zone: then the general path answers. */
static bool referral_reply(const struct prepared *p, const struct zone *z, const struct wire_name *name,
			   const struct zone_node *cut, struct reply *r)
{
	if (name->label_count <= cut->label_count)
		return false;
	size_t below = name->labels[name->label_count - cut->label_count - 1];
	if (zone_node_find(z, name->data + below, name->len - below))
		return false;
	uint32_t h;
	const struct prepared_slot *slot = node_slot(p, cut, WIRE_TYPE_A, &h);
	if (!slot->offset)
		return false;
	const struct prepared_record *rec = record_at(p, slot->offset);
	if (rec->pointer_count == NO_POINTERS)
		return false;
	record_reply(rec, r);
	r->pointer_bytes = rec->bytes + rec->name_len + rec->sections_len;
	r->pointer_count = rec->pointer_count;
	r->shift = (unsigned)(name->len - cut->name_len);
	return true;
}

/* The reply to q from its zone, for a name the table does not hold: the prepared answer of the
 * wildcard that synthesizes it when that answer is the same for any name (any_owner); the prepared
 * referral of the cut above it, pointers moved by the extra length, when the general path would
 * compress it the same (see below); or the zone's negative answer for NXDOMAIN and NODATA when the
 * general path would write the SOA as prepared. False for anything else. */
static bool zone_reply(const struct prepared *p, const struct prepared_query *q, struct reply *r)
{
	/* DS may be answered by the parent zone; meta types get their own treatment. */
	if (q->qtype == WIRE_TYPE_DS || q->qtype == WIRE_TYPE_OPT || (q->qtype >= 128 && q->qtype <= 255))
		return false;
	/* q's name is read and lowercased: only its labels need indexing (not wire_name_from_wire's
	 * second lowercasing pass, on the path of every NXDOMAIN, NODATA and referral). */
	struct wire_name name;
	memcpy(name.data, q->name, q->name_len);
	name.len = (uint8_t)q->name_len;
	name.label_count = 0;
	for (size_t at = 0;; at += name.data[at] + 1u) {
		if (name.label_count == WIRE_LABELS_MAX)
			return false;
		name.labels[name.label_count++] = (uint8_t)at;
		if (name.data[at] == 0)
			break;
	}
	const struct zone *z = zone_set_find(p->zones, &name);
	if (!z || (q->do_bit && z->dnssec.denial != ZONE_DENIAL_NONE))
		return false; /* with DO, a signed zone's answers carry proofs the table does not hold */
	struct zone_result found;
	zone_lookup_hashed(z, &name, wire_name_hash(name.data, name.len), q->qtype, &found);

	if (found.kind == ZONE_FOUND && found.wildcard && found.rrset) {
		uint32_t h;
		const struct prepared_slot *slot = node_slot(p, found.node, q->qtype, &h);
		if (!slot->offset || record_at(p, slot->offset)->shape != SHAPE_ANY_OWNER)
			return false;
		record_reply(record_at(p, slot->offset), r);
		return true;
	}

	if (found.kind == ZONE_DELEGATION)
		return referral_reply(p, z, &name, found.node, r);

	const struct prepared_negative *neg = negative_of(p, z);
	if (!neg || (found.kind != ZONE_NXDOMAIN && found.kind != ZONE_NODATA))
		return false;
	/* The general path compresses the SOA's names against the question: a longer suffix than the
	 * apex in common with one of them gives other bytes (see prepare_negative). */
	if (name.label_count > z->apex.label_count) {
		const uint8_t *label = name.data + name.labels[name.label_count - z->apex.label_count - 1];
		for (unsigned i = 0; i < 2; i++)
			if (neg->guard[i][0] && memcmp(neg->guard[i], label, label[0] + 1u) == 0)
				return false;
	}
	r->flags = (uint16_t)(neg->flags | (found.kind == ZONE_NXDOMAIN ? WIRE_RCODE_NXDOMAIN : 0));
	r->count = neg->count;
	r->sections = neg->sections;
	r->sections_len = neg->sections_len;
	r->pointer_bytes = neg->pointer_at;
	r->pointer_count = neg->pointers;
	r->shift = (unsigned)(name.len - z->apex.len);
	return true;
}

/* The size limit of query_answer: 65535 over TCP; over UDP the requester's payload capped by ours
 * and raised to 512, or 512 without EDNS; never more than out_cap. */
static size_t reply_limit(const struct conf *c, const struct prepared_query *q,
			  enum query_transport transport, size_t out_cap)
{
	size_t limit = WIRE_MSG_MAX;
	if (transport == QUERY_UDP) {
		limit = q->edns && q->payload < c->udp_payload ? q->payload
			: q->edns			       ? c->udp_payload
							       : WIRE_UDP_MIN;
		if (limit < WIRE_UDP_MIN)
			limit = WIRE_UDP_MIN;
	}
	return limit > out_cap ? out_cap : limit;
}

/* The client subnet option a reply echoes: the query's, unless the config ignores the option. */
static size_t ecs_echo_len(const struct conf *c, const struct prepared_query *q)
{
	return q->edns && c->ecs ? q->ecs_len : 0;
}

/* The COOKIE option a reply carries (header included): a client and a server cookie when cookies are
 * on and the query sent one (cookie_refused: a malformed one, which the general path answers with FORMERR).
 */
static size_t cookie_echo_len(const struct conf *c, const struct prepared_query *q)
{
	return q->edns && c->cookies && q->cookie_len ? 4u + COOKIE_REPLY_LEN : 0;
}

static bool cookie_refused(const struct conf *c, const struct prepared_query *q)
{
	return q->edns && c->cookies && q->cookie_bad;
}

/* Writes the header (the query's id and RD bit, flags and counts; one more additional RR for the
 * OPT) and the question as received; returns where the sections go. */
static uint8_t *write_head(const uint8_t *pkt, const struct prepared_query *q, unsigned flags,
			   unsigned answers, unsigned authority, unsigned additional, uint8_t *out)
{
	out[0] = pkt[0];
	out[1] = pkt[1];
	put16(out + 2, flags | (get16(pkt + 2) & WIRE_FLAG_RD));
	put16(out + 4, 1);
	put16(out + 6, answers);
	put16(out + 8, authority);
	put16(out + 10, additional + (q->edns ? 1u : 0u));
	memcpy(out + WIRE_HEADER_SIZE, pkt + WIRE_HEADER_SIZE, q->question_len);
	return out + WIRE_HEADER_SIZE + q->question_len;
}

/* Writes the OPT record at `at` when the query has EDNS: our payload, the DO bit echoed, the query's
 * client subnet option (ecs octets of it: 0 for none) echoed with scope, then the cookies for peer
 * (cookie octets: 0 for none), as the general path orders its options. */
static void write_opt(const struct conf *c, const uint8_t *pkt, const struct prepared_query *q, size_t ecs,
		      unsigned scope, size_t cookie, const struct sockaddr_storage *peer, uint8_t *at)
{
	if (!q->edns)
		return;
	at[0] = 0;
	put16(at + 1, WIRE_TYPE_OPT);
	put16(at + 3, c->udp_payload);
	at[5] = 0;
	at[6] = 0;
	at[7] = q->do_bit ? 0x80u : 0u;
	at[8] = 0;
	put16(at + 9, (unsigned)(ecs + cookie));
	if (ecs) {
		memcpy(at + OPT_SIZE, pkt + q->ecs_at, ecs);
		at[OPT_SIZE + 7] = (uint8_t)scope; /* code, length, family, source, then scope */
	}
	if (cookie) {
		uint8_t *o = at + OPT_SIZE + ecs;
		put16(o, WIRE_EDNS_COOKIE);
		put16(o + 2, COOKIE_REPLY_LEN);
		cookie_answer(&c->cookie_secrets, pkt + q->cookie_at, q->cookie_len, peer, cookie_now(),
			      o + 4);
	}
}

static void count_reply(const struct prepared_query *q, unsigned flags, struct query_stats *stats)
{
	stats->queries++;
	if (q->edns)
		stats->edns++;
	unsigned rcode = flags & 0xFu;
	if (rcode < sizeof(stats->rcode) / sizeof(stats->rcode[0]))
		stats->rcode[rcode]++;
}

/* Writes the reply to the query in pkt (read into q) as query_answer would; 0 when it does not fit
 * the size the query allows (the general path truncates). A table answer is the same for every
 * client: a client subnet option is echoed with scope 0 (RFC 7871 7.2.1). */
static size_t write_reply(const struct conf *c, const uint8_t *pkt, const struct prepared_query *q,
			  const struct reply *r, const struct sockaddr_storage *peer, uint8_t *out,
			  size_t out_cap, enum query_transport transport, struct query_stats *stats)
{
	size_t ecs = ecs_echo_len(c, q), cookie = cookie_echo_len(c, q);
	size_t total =
	    WIRE_HEADER_SIZE + q->question_len + r->sections_len + (q->edns ? OPT_SIZE + ecs + cookie : 0);
	if (total > reply_limit(c, q, transport, out_cap) || cookie_refused(c, q))
		return 0;
	uint8_t *at = write_head(pkt, q, r->flags, r->count[0], r->count[1], r->count[2], out);
	memcpy(at, r->sections, r->sections_len);
	for (unsigned i = 0; i < r->pointer_count; i++) {
		uint8_t *ptr = at + get16(r->pointer_bytes + 2 * i);
		put16(ptr, get16(ptr) + r->shift);
	}
	write_opt(c, pkt, q, ecs, 0, cookie, peer, at + r->sections_len);
	count_reply(q, r->flags, stats);
	return total;
}

#define RR_FIXED 12 /* an answer RR's owner (a pointer to the question), type, class, TTL, rdlength */

/* How the general path writes a CNAME target t right after the question q and an owner that points
 * at it: compressed against the question (build.c, find_suffix), the labels before the longest
 * suffix the two share, then a pointer to that suffix in the question, or the whole name when they
 * share none. Both names are lowercase (wire_name_from_wire), so labels compare as octets. Sets
 * *head (octets written as labels) and *pointer (0: none). */
static void target_form(const struct wire_name *q, const struct wire_name *t, size_t *head, unsigned *pointer)
{
	int i = t->label_count - 2, k = q->label_count - 2; /* the last labels before the root */
	while (i >= 0 && k >= 0 &&
	       memcmp(t->data + t->labels[i], q->data + q->labels[k], t->data[t->labels[i]] + 1u) == 0) {
		i--;
		k--;
	}
	bool shared = i < t->label_count - 2;
	*head = shared ? t->labels[i + 1] : t->len;
	*pointer = shared ? 0xC000u | (WIRE_HEADER_SIZE + q->labels[k + 1]) : 0;
}

/* Whether a CNAME target t lies in the zone of the question q, whose apex is q's last apex_labels
 * labels: the general path follows the chain there. */
static bool target_in_zone(const struct wire_name *q, const struct wire_name *t, unsigned apex_labels)
{
	if (t->label_count < apex_labels || q->label_count < apex_labels)
		return false;
	unsigned tf = t->labels[t->label_count - apex_labels], qf = q->labels[q->label_count - apex_labels];
	return t->len - tf == q->len - qf && memcmp(t->data + tf, q->data + qf, t->len - tf) == 0;
}

/* The CNAME a dynamic answer gives (v: its value, rdlength first) as the general path writes it
 * (target_form); false when the general path is to answer: not a name, a question longer than the
 * builder's table of its suffixes, or (chase) a target in the zone, whose chain it follows. */
static bool cname_form(const struct prepared_query *q, const uint8_t *v, bool chase, unsigned apex_labels,
		       size_t *head, unsigned *pointer)
{
	struct wire_name name, target;
	if (!wire_name_from_wire(&name, q->name, q->name_len) || name.label_count - 1u > WIRE_COMPRESS_MAX ||
	    !wire_name_from_wire(&target, v + 2, get16(v)) || target.len != get16(v) ||
	    (chase && target_in_zone(&name, &target, apex_labels)))
		return false;
	target_form(&name, &target, head, pointer);
	return true;
}

/* Writes an answer RR owned by a pointer to the question at at: type, TTL, and the rdata (rdlen
 * octets at v, or for a CNAME its first head octets and then pointer when not 0). */
static uint8_t *write_rr(uint8_t *at, uint16_t type, uint32_t ttl, const uint8_t *v, size_t rdlen,
			 unsigned pointer)
{
	put16(at, 0xC000u | WIRE_HEADER_SIZE);
	put16(at + 2, type);
	put16(at + 4, WIRE_CLASS_IN);
	put16(at + 6, ttl >> 16);
	put16(at + 8, ttl & 0xFFFFu);
	put16(at + 10, (unsigned)rdlen + (pointer ? 2u : 0u));
	memcpy(at + RR_FIXED, v, rdlen);
	at += RR_FIXED + rdlen;
	if (pointer) {
		put16(at, pointer);
		at += 2;
	}
	return at;
}

/* The reply to a question a dynamic record answers (SHAPE_DYNAMIC), as the general path writes it:
 * the client's network and region (client.h), the region's values picked with the seed the general
 * path would use (its query count), each an RR owned by a pointer to the question (a CNAME target
 * compressed as the general path compresses it), and the client subnet option echoed with the
 * scope of the map entry that decided. 0, with nothing written or counted, when the general path
 * is to answer: it does not fit (the general path truncates), or a CNAME's target is to be chased
 * in the zone. */
static size_t dynamic_reply(const struct snapshot *snap, const uint8_t *pkt, const struct prepared_query *q,
			    const struct prepared_record *rec, const struct sockaddr_storage *peer,
			    uint8_t *out, size_t out_cap, enum query_transport transport,
			    struct query_stats *stats)
{
	const struct conf *c = snap->conf;
	const uint8_t *f = rec->bytes + rec->name_len; /* the DYNAMIC_* fields */
	uint32_t record = (uint32_t)f[DYNAMIC_RECORD] << 24 | (uint32_t)f[DYNAMIC_RECORD + 1] << 16 |
			  (uint32_t)f[DYNAMIC_RECORD + 2] << 8 | f[DYNAMIC_RECORD + 3];
	if (!snap->dyn || record >= snap->dyn->record_count || cookie_refused(c, q))
		return 0;
	size_t ecs = ecs_echo_len(c, q), cookie = cookie_echo_len(c, q);
	const uint8_t *option = ecs ? pkt + q->ecs_at + 4 : NULL; /* family, source, scope, address */
	struct client_net net;
	bool known = client_net_of(&net, option ? get16(option) : 0, option ? option[2] : 0,
				   option ? option + 4 : NULL, peer);
	unsigned scope;
	unsigned region = client_region(snap, snap->geo && known ? &net : NULL, &scope);
	const struct dyn_answer *d = dyn_answer_get(snap->dyn, record, region);
	bool cname = d->type == WIRE_TYPE_CNAME;
	if (d->type != q->qtype && !cname)
		return 0;
	uint8_t picked[DYN_VALUES_MAX];
	uint32_t client = d->select == DYN_SELECT_HASH ? client_hash(known ? &net : NULL, &scope) : 0;
	unsigned count = dyn_select(d, (uint32_t)(stats->queries + 1), client, picked);
	size_t total = WIRE_HEADER_SIZE + q->question_len + (q->edns ? OPT_SIZE + ecs + cookie : 0);
	size_t head = 0;
	unsigned pointer = 0;
	if (cname) { /* one target: the general path chases it when it lies in the zone */
		if (count != 1)
			return 0;
		if (!cname_form(q, d->rdata + d->offsets[picked[0]], f[DYNAMIC_CHASE], f[DYNAMIC_APEX_LABELS],
				&head, &pointer))
			return 0;
		total += RR_FIXED + head + (pointer ? 2 : 0);
	} else {
		for (unsigned i = 0; i < count; i++)
			total += RR_FIXED + get16(d->rdata + d->offsets[picked[i]]);
	}
	if (total > reply_limit(c, q, transport, out_cap))
		return 0;
	uint8_t *at = write_head(pkt, q, rec->flags, count, 0, 0, out);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *v = d->rdata + d->offsets[picked[i]];
		at = write_rr(at, d->type, d->ttl, v + 2, cname ? head : get16(v), pointer);
	}
	/* scope 0 unless the option had a source prefix (the general path looked the client up by it) */
	write_opt(c, pkt, q, ecs, option && option[2] > 0 ? scope : 0, cookie, peer, at);
	count_reply(q, rec->flags, stats);
	region_counts_add(snap->region_counts, stats->thread_slot, region);
	return total;
}

void prepared_read(const uint8_t *pkt, size_t len, struct prepared_query *q)
{
	q->plain = read_plain(pkt, len, q);
	if (q->plain)
		q->hash = name_fold(q->name, q->name_len, q->qtype);
}

void prepared_prefetch_slot(const struct prepared *p, const struct prepared_query *q)
{
	if (q->plain)
		__builtin_prefetch(&p->slots[q->hash & p->mask]);
}

void prepared_prefetch_answer(const struct prepared *p, const struct prepared_query *q)
{
	if (!q->plain)
		return;
	const struct prepared_slot *slot = &p->slots[q->hash & p->mask];
	if (slot->offset && slot->hash == q->hash) {
		const uint8_t *record = p->pool + slot->offset;
		__builtin_prefetch(record);
		__builtin_prefetch(record + 64); /* most records are shorter; many cross a line */
	}
}

size_t prepared_answer_read(const struct snapshot *snap, const struct prepared_query *q, const uint8_t *pkt,
			    const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
			    enum query_transport transport, struct query_stats *stats)
{
	const struct prepared *p = snap->prepared;
	if (!p || !q->plain)
		return 0;
	const struct prepared_slot *slot = slot_for(p, q->name, q->name_len, q->qtype, q->hash);
	struct reply r;
	if (slot->offset) {
		const struct prepared_record *rec = record_at(p, slot->offset);
		if (q->do_bit && rec->signed_zone) {
			/* DO to a signed zone: its answer with RRSIGs and proofs, when it was prepared */
			if (!rec->dnssec_twin)
				return 0;
			rec = record_at(p, rec->dnssec_twin);
		}
		if (rec->shape == SHAPE_DYNAMIC)
			return dynamic_reply(snap, pkt, q, rec, peer, out, out_cap, transport, stats);
		record_reply(rec, &r);
	} else if (!zone_reply(p, q, &r)) {
		return 0;
	}
	return write_reply(snap->conf, pkt, q, &r, peer, out, out_cap, transport, stats);
}

size_t prepared_answer(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		       const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
		       enum query_transport transport, struct query_stats *stats)
{
	struct prepared_query q;
	prepared_read(pkt, len, &q);
	return prepared_answer_read(snap, &q, pkt, peer, out, out_cap, transport, stats);
}
