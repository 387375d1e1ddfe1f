/* prepared_internal.h -- the layout of prepared answers, shared by building them (prepared.c) and
 * answering from them (prepared_reply.c).
 *
 * One byte pool of records (the name, lowercased, then the response's sections as the general path
 * wrote them; for a signed zone's answer, a second record right after it holding its sections for a
 * query with DO, which only the first points at) and an open-addressing table of (hash, pool offset) slots,
 * sized once built to be at most three quarters full, so a lookup touches one slot line (small enough to stay
 * in cache more often) and the one record it matches. The lookups are inline: the query path calls them per
 * query. */
#ifndef MERIDIAN_QUERY_PREPARED_INTERNAL_H
#define MERIDIAN_QUERY_PREPARED_INTERNAL_H

#include <string.h>

#include "meridian/prepared.h"
#include "meridian/zone.h"

#define QUESTION_TAIL 4	 /* qtype, qclass */
#define OPT_SIZE      11 /* root owner, type, class, TTL, rdlength: an OPT without options */

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
	bool signed_zone;     /* a DNSSEC-signed zone's answer: a query with DO gets another (proofs.h), */
	uint32_t dnssec_twin; /* ...the record at this pool offset when it was prepared (0: it was not) */
	uint8_t bytes[];      /* the name (lowercased wire form), then the sections, then pointer offsets */
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
	/* the answer is the values of one dynamic RRset at this name, picked per query for the
	 * client's region as the general path picks them (prepared_reply.c, dynamic_reply): a dynamic
	 * A or AAAA, or a dynamic CNAME whose target lies outside the zone (within it, the general
	 * path chases the chain). The sections hold the DYNAMIC_* fields. */
	SHAPE_DYNAMIC,
};

/* The sections of a SHAPE_DYNAMIC record. */
#define DYNAMIC_RECORD	    0 /* the dyn_table record index, 4 octets */
#define DYNAMIC_APEX_LABELS 4 /* the labels of the zone's apex name, root included */
#define DYNAMIC_CHASE	    5 /* 1: a CNAME asked for another type: a target in the zone is chased */
#define DYNAMIC_SIZE	    6

struct dynamic_ref {
	uint32_t record;
	uint8_t apex_labels;
	uint8_t chase;
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
	size_t twins; /* of those, signed zones' answers with a second record for DO */
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
static inline uint32_t name_fold(uint8_t *buf, size_t len, uint16_t qtype)
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

static inline const struct prepared_record *record_at(const struct prepared *p, uint32_t offset)
{
	return (const struct prepared_record *)(p->pool + offset);
}

/* The slot holding (name, qtype), or the free slot where it would go. */
static inline struct prepared_slot *slot_for(const struct prepared *p, const uint8_t *name, size_t len,
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
static inline struct prepared_slot *node_slot(const struct prepared *p, const struct zone_node *node,
					      uint16_t qtype, uint32_t *hash)
{
	uint8_t name[NAME_BUF] = {0};
	memcpy(name, node->name, node->name_len);
	*hash = name_fold(name, node->name_len, qtype);
	return slot_for(p, node->name, node->name_len, qtype, *hash);
}

static inline uint32_t zone_slot_hash(const struct zone *z)
{
	return (uint32_t)(((uintptr_t)z >> 4) * 0x9E3779B1u);
}

#endif
