/* prepared.c -- prepared answers (see prepared.h): built by running the general path once per
 * (name, type), looked up by a parser that reads only what a plain query holds.
 *
 * Layout: one byte pool of records (the name, lowercased, then the response's sections as the
 * general path wrote them) and an open-addressing table of (hash, pool offset) slots, sized once
 * built to be at most three quarters full, so a lookup touches one slot line (small enough to stay in
 * cache more often) and the one record it matches. */
#include "meridian/prepared.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "meridian/client.h"
#include "meridian/zone.h"

#define QUESTION_TAIL 4	 /* qtype, qclass */
#define OPT_SIZE      11 /* root owner, type, class, TTL, rdlength: an OPT without options */
#define EDNS_VERSION  6	 /* offset in the OPT record of the EDNS version octet */
#define HUGE_PAGE     (2u << 20)
/* Pool offsets are 32-bit: past this no record may start (one more always fits below 4 GiB). */
#define POOL_MAX ((size_t)UINT32_MAX - 2u * WIRE_MSG_MAX)

struct prepared_slot {
	uint32_t hash;
	uint32_t offset; /* of the record in the pool; 0 marks a free slot */
};

struct prepared_record {
	uint16_t qtype;
	uint16_t flags;	       /* the response's flags word to a query without RD: QR, AA, rcode */
	uint16_t count[3];     /* answer, authority, additional */
	uint16_t sections_len; /* octets after the question */
	uint8_t name_len;
	uint8_t shape; /* enum record_shape */
	/* for a referral: how many compression pointers its sections hold (their offsets follow the
	 * sections, two octets each), so that it also answers the names below its cut; else NO_POINTERS */
	uint8_t pointer_count;
	uint8_t bytes[]; /* the name (lowercased wire form), then the sections, then pointer offsets */
};
#define NO_POINTERS	  0xFFu
#define REFERRAL_POINTERS 64

/* What a record's sections are. */
enum record_shape {
	/* the response's sections, for this name */
	SHAPE_FIXED,
	/* answer RRs owned by the question (a pointer to it) with no name in their rdata compressed:
	 * the same bytes for any question, so they also answer the names a wildcard node (this
	 * record's name) synthesizes */
	SHAPE_ANY_OWNER,
	/* the answer is the values of one dynamic A or AAAA RRset at this name and nothing else: the
	 * sections hold its dyn_table record index (4 octets), and the values are picked per query
	 * for the client's region, as the general path picks them (see dynamic_reply) */
	SHAPE_DYNAMIC,
};

/* The negative answer of one zone: its SOA in authority, as the general path writes it to a question
 * about the apex that finds no data there. The same SOA answers every NXDOMAIN and NODATA in the
 * zone, with the pointers into the question moved by how much longer the question's name is, unless
 * the question shares more than the apex with the SOA's names (see prepare_negative). */
#define NEGATIVE_MAX	  (2 * WIRE_NAME_MAX + 64)
#define NEGATIVE_POINTERS 4

struct prepared_negative {
	const struct zone *zone;
	uint16_t flags;
	uint16_t count[3];
	uint16_t sections_len;
	uint16_t pointers;
	uint8_t pointer_at[2 * NEGATIVE_POINTERS]; /* offsets in sections of its compression pointers */
	uint8_t guard[2][64]; /* the SOA's MNAME's and RNAME's label just above the apex, or "" */
	uint8_t sections[NEGATIVE_MAX];
};

struct prepared {
	const struct zone_set *zones; /* what the table was prepared from (the same base owns it) */
	struct prepared_negative *negatives;
	uint32_t *negative_slots; /* by zone address: index + 1, 0 free */
	uint32_t negative_mask;
	struct prepared_slot *slots;
	uint32_t mask;
	uint8_t *pool;
	size_t pool_len, pool_cap;
	size_t count;
	bool capped;
	size_t block_size; /* once built: slots and pool share one block (slots first) */
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Names are lowercased and hashed eight octets at a time, in a buffer that holds the name followed by
 * zeros up to the next multiple of eight. Length octets (1..63) are never letters, so the whole name
 * is lowercased at once. */
#define NAME_BUF PREPARED_NAME_BUF

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

/* Each ASCII capital letter of w (and nothing else) gets its 0x20 bit. */
static inline uint64_t lower64(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u;
	uint64_t low7 = w & (0x7F * ones);
	uint64_t above_z = low7 + (0x7F - 'Z') * ones; /* high bit: octet > 'Z' */
	uint64_t from_a = low7 + (0x80 - 'A') * ones;  /* high bit: octet >= 'A' */
	uint64_t upper = (from_a ^ above_z) & ~w & (0x80 * ones);
	return w | upper >> 2;
}

/* Lowercases buf (len octets, zero-padded to a multiple of eight) in place and returns its hash. */
static uint32_t name_fold(uint8_t *buf, size_t len, uint16_t qtype)
{
	uint64_t h = 0x9E3779B97F4A7C15u ^ qtype;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = lower64(load64(buf + i));
		memcpy(buf + i, &w, sizeof(w));
		h = (h ^ w) * 0xFF51AFD7ED558CCDu;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

static const struct prepared_record *record_at(const struct prepared *p, uint32_t offset)
{
	return (const struct prepared_record *)(p->pool + offset);
}

/* The slot holding (name, qtype), or the free slot where it would go. */
static struct prepared_slot *slot_for(const struct prepared *p, const uint8_t *name, size_t len,
				      uint16_t qtype, uint32_t hash)
{
	for (uint32_t i = hash & p->mask;; i = (i + 1) & p->mask) {
		struct prepared_slot *s = &p->slots[i];
		if (!s->offset)
			return s;
		if (s->hash != hash)
			continue;
		const struct prepared_record *r = record_at(p, s->offset);
		if (r->qtype == qtype && r->name_len == len && memcmp(r->bytes, name, len) == 0)
			return s;
	}
}

/* The slot of (a zone node's name, qtype), and the hash it goes by; for names already lowercased. */
static struct prepared_slot *node_slot(const struct prepared *p, const struct zone_node *node, uint16_t qtype,
				       uint32_t *hash)
{
	uint8_t name[NAME_BUF] = {0};
	memcpy(name, node->name, node->name_len);
	*hash = name_fold(name, node->name_len, qtype);
	return slot_for(p, node->name, node->name_len, qtype, *hash);
}

/* ---- building (control thread) ---- */

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

static void add_record(struct prepared *p, struct prepared_slot *slot, uint32_t hash, const uint8_t *name,
		       size_t name_len, uint16_t qtype, const uint8_t *out, size_t len)
{
	size_t at = WIRE_HEADER_SIZE + name_len + QUESTION_TAIL;
	struct prepared_record r = {
	    .qtype = qtype,
	    .flags = get16(out + 2),
	    .count = {get16(out + 6), get16(out + 8), get16(out + 10)},
	    .sections_len = (uint16_t)(len - at),
	    .name_len = (uint8_t)name_len,
	};
	r.shape = owned_by_question(out + at, len - at, r.count) ? SHAPE_ANY_OWNER : SHAPE_FIXED;
	uint16_t pointers[REFERRAL_POINTERS];
	int n = -1;
	if (!(r.flags & WIRE_FLAG_AA) && r.count[0] == 0 && r.count[1] > 0)
		n = find_pointers(out + at, len - at, (unsigned)r.count[1] + r.count[2], pointers,
				  REFERRAL_POINTERS);
	r.pointer_count = n < 0 ? NO_POINTERS : (uint8_t)n;
	p->pool_len = (p->pool_len + 1u) & ~(size_t)1u; /* records start 2-aligned */
	uint32_t offset = (uint32_t)p->pool_len;
	pool_append(p, &r, offsetof(struct prepared_record, bytes));
	pool_append(p, name, name_len);
	pool_append(p, out + at, len - at);
	for (int i = 0; i < n; i++) {
		uint8_t be[2];
		put16(be, pointers[i]);
		pool_append(p, be, 2);
	}
	slot->hash = hash;
	slot->offset = offset;
	p->count++;
}

/* Keeps (name, qtype) as answered by the values of dynamic record `record`: flags as the general
 * path sets them (out: its static run). */
static void add_dynamic(struct prepared *p, struct prepared_slot *slot, uint32_t hash, const uint8_t *name,
			size_t name_len, uint16_t qtype, const uint8_t *out, uint32_t record)
{
	struct prepared_record r = {
	    .qtype = qtype,
	    .flags = get16(out + 2),
	    .sections_len = 4,
	    .name_len = (uint8_t)name_len,
	    .shape = SHAPE_DYNAMIC,
	    .pointer_count = NO_POINTERS,
	};
	uint8_t index[4] = {(uint8_t)(record >> 24), (uint8_t)(record >> 16), (uint8_t)(record >> 8),
			    (uint8_t)record};
	p->pool_len = (p->pool_len + 1u) & ~(size_t)1u;
	uint32_t offset = (uint32_t)p->pool_len;
	pool_append(p, &r, offsetof(struct prepared_record, bytes));
	pool_append(p, name, name_len);
	pool_append(p, index, sizeof(index));
	slot->hash = hash;
	slot->offset = offset;
	p->count++;
}

/* The dynamic A or AAAA RRset that alone answers (node's name, qtype), or NULL. The general path's
 * static run (out, len octets; query qlen octets) stopped where it needed dynamic data and wrote
 * nothing: an authoritative NOERROR with empty sections. It answers qtype from the name's zone as
 * found by the general path, at this very node (not a wildcard's, not another zone's), so the
 * values are the whole answer. */
static const struct zone_rrset *dynamic_answer(const struct snapshot *snap, const struct zone_node *node,
					       uint16_t qtype, const uint8_t *out, size_t len, size_t qlen)
{
	if ((qtype != WIRE_TYPE_A && qtype != WIRE_TYPE_AAAA) || len != qlen ||
	    (get16(out + 2) & (WIRE_FLAG_AA | WIRE_FLAG_TC | 0xFu)) != WIRE_FLAG_AA || get16(out + 6) ||
	    get16(out + 8) || get16(out + 10))
		return NULL;
	const struct zone_rrset *rrset = zone_node_rrset(node, qtype);
	struct wire_name name;
	if (!rrset || rrset->count != 0 || !snap->dyn || rrset->ttl >= snap->dyn->record_count ||
	    !wire_name_from_wire(&name, node->name, node->name_len))
		return NULL;
	const struct zone *z = zone_set_find(snap->zones, &name);
	struct zone_result found;
	if (!z)
		return NULL;
	zone_lookup(z, &name, qtype, &found);
	return found.kind == ZONE_FOUND && !found.wildcard && found.node == node && found.rrset == rrset
		   ? rrset
		   : NULL;
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

	bool complete;
	size_t len = query_answer_static(snap, query, qlen, out, WIRE_MSG_MAX, scratch, &complete);
	if (complete && len >= qlen && get16(out + 4) == 1) {
		add_record(p, slot, h, node->name, node->name_len, qtype, out, len);
		return;
	}
	const struct zone_rrset *dynamic =
	    len >= qlen ? dynamic_answer(snap, node, qtype, out, len, qlen) : NULL;
	if (dynamic)
		add_dynamic(p, slot, h, node->name, node->name_len, qtype, out, dynamic->ttl);
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

static uint32_t zone_slot_hash(const struct zone *z)
{
	return (uint32_t)(((uintptr_t)z >> 4) * 0x9E3779B1u);
}

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
	size_t len = query_answer_static(snap, query, qlen, out, WIRE_MSG_MAX, scratch, &complete);
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
	uint8_t *query = malloc(WIRE_HEADER_SIZE + WIRE_NAME_MAX + QUESTION_TAIL);
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

size_t prepared_bytes(const struct prepared *p)
{
	return p ? p->block_size + sizeof(*p) : 0;
}

bool prepared_capped(const struct prepared *p)
{
	return p && p->capped;
}

/* ---- answering (query path) ---- */

/* A plain query's OPT record at pkt[pos] (len - pos octets left): version 0, options well framed,
 * no NSID, at most one client subnet option and that one well formed. Sets q->payload, q->do_bit
 * and, for a client subnet, q->ecs_at and q->ecs_len (the whole option, header included). */
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
		if (code == WIRE_EDNS_NSID || end - pos - 4 < olen)
			return false;
		if (code == WIRE_EDNS_ECS) {
			if (q->ecs_len || !wire_ecs_well_formed(pkt + pos + 4, olen))
				return false;
			q->ecs_at = (uint16_t)pos;
			q->ecs_len = (uint16_t)(4 + olen);
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
	/* q's name is read and lowercased: only its labels need indexing. */
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
	if (!z)
		return false;
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

/* Writes the OPT record at `at` when the query has EDNS: our payload, the DO bit echoed, and the
 * query's client subnet option (ecs octets of it: 0 for none) echoed with scope. */
static void write_opt(const struct conf *c, const uint8_t *pkt, const struct prepared_query *q, size_t ecs,
		      unsigned scope, uint8_t *at)
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
	put16(at + 9, (unsigned)ecs);
	if (ecs) {
		memcpy(at + OPT_SIZE, pkt + q->ecs_at, ecs);
		at[OPT_SIZE + 7] = (uint8_t)scope; /* code, length, family, source, then scope */
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
			  const struct reply *r, uint8_t *out, size_t out_cap, enum query_transport transport,
			  struct query_stats *stats)
{
	size_t ecs = ecs_echo_len(c, q);
	size_t total = WIRE_HEADER_SIZE + q->question_len + r->sections_len + (q->edns ? OPT_SIZE + ecs : 0);
	if (total > reply_limit(c, q, transport, out_cap))
		return 0;
	uint8_t *at = write_head(pkt, q, r->flags, r->count[0], r->count[1], r->count[2], out);
	memcpy(at, r->sections, r->sections_len);
	for (unsigned i = 0; i < r->pointer_count; i++) {
		uint8_t *ptr = at + get16(r->pointer_bytes + 2 * i);
		put16(ptr, get16(ptr) + r->shift);
	}
	write_opt(c, pkt, q, ecs, 0, at + r->sections_len);
	count_reply(q, r->flags, stats);
	return total;
}

#define RR_FIXED 12 /* an answer RR's owner (a pointer to the question), type, class, TTL, rdlength */

/* The reply to a question a dynamic record answers (SHAPE_DYNAMIC), as the general path writes it:
 * the client's network and region (client.h), the region's values picked with the seed the general
 * path would use (its query count), each an RR owned by a pointer to the question, and the client
 * subnet option echoed with the scope of the map entry that decided. 0, with nothing written or
 * counted, when it does not fit (the general path truncates). */
static size_t dynamic_reply(const struct snapshot *snap, const uint8_t *pkt, const struct prepared_query *q,
			    const struct prepared_record *rec, const struct sockaddr_storage *peer,
			    uint8_t *out, size_t out_cap, enum query_transport transport,
			    struct query_stats *stats)
{
	const struct conf *c = snap->conf;
	const uint8_t *index = rec->bytes + rec->name_len;
	uint32_t record =
	    (uint32_t)index[0] << 24 | (uint32_t)index[1] << 16 | (uint32_t)index[2] << 8 | index[3];
	if (!snap->dyn || record >= snap->dyn->record_count)
		return 0;
	size_t ecs = ecs_echo_len(c, q);
	const uint8_t *option = ecs ? pkt + q->ecs_at + 4 : NULL; /* family, source, scope, address */
	struct client_net net;
	bool known = client_net_of(&net, option ? get16(option) : 0, option ? option[2] : 0,
				   option ? option + 4 : NULL, peer);
	unsigned scope;
	unsigned region = client_region(snap, snap->geo && known ? &net : NULL, &scope);
	const struct dyn_answer *d = dyn_answer_get(snap->dyn, record, region);
	if (d->type != q->qtype)
		return 0;
	uint8_t picked[DYN_VALUES_MAX];
	uint32_t client = d->select == DYN_SELECT_HASH ? client_hash(known ? &net : NULL, &scope) : 0;
	unsigned count = dyn_select(d, (uint32_t)(stats->queries + 1), client, picked);
	size_t total = WIRE_HEADER_SIZE + q->question_len + (q->edns ? OPT_SIZE + ecs : 0);
	for (unsigned i = 0; i < count; i++)
		total += RR_FIXED + get16(d->rdata + d->offsets[picked[i]]);
	if (total > reply_limit(c, q, transport, out_cap))
		return 0;
	uint8_t *at = write_head(pkt, q, rec->flags, count, 0, 0, out);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *v = d->rdata + d->offsets[picked[i]];
		unsigned rdlen = get16(v);
		put16(at, 0xC000u | WIRE_HEADER_SIZE);
		put16(at + 2, d->type);
		put16(at + 4, WIRE_CLASS_IN);
		put16(at + 6, d->ttl >> 16);
		put16(at + 8, d->ttl & 0xFFFFu);
		put16(at + 10, rdlen);
		memcpy(at + RR_FIXED, v + 2, rdlen);
		at += RR_FIXED + rdlen;
	}
	/* scope 0 unless the option had a source prefix (the general path looked the client up by it) */
	write_opt(c, pkt, q, ecs, option && option[2] > 0 ? scope : 0, at);
	count_reply(q, rec->flags, stats);
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
		if (rec->shape == SHAPE_DYNAMIC)
			return dynamic_reply(snap, pkt, q, rec, peer, out, out_cap, transport, stats);
		record_reply(rec, &r);
	} else if (!zone_reply(p, q, &r)) {
		return 0;
	}
	return write_reply(snap->conf, pkt, q, &r, out, out_cap, transport, stats);
}

size_t prepared_answer(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		       const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
		       enum query_transport transport, struct query_stats *stats)
{
	struct prepared_query q;
	prepared_read(pkt, len, &q);
	return prepared_answer_read(snap, &q, pkt, peer, out, out_cap, transport, stats);
}
