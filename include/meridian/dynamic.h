/* dynamic.h -- the answers of dynamic records, per region, as a snapshot holds them.
 *
 * Policies (policy.h) run off the query path and fill a dyn_table: for every dynamic record and
 * every region, the values to serve and how a worker picks among them per query. The query path
 * only reads it: dyn_select picks the values for one answer without allocating.
 *
 * Values use the RRset layout of zone.h: each a 2-byte rdlength (network order) then the rdata, back
 * to back, so the response builder treats static and dynamic data alike. */
#ifndef MERIDIAN_DYNAMIC_H
#define MERIDIAN_DYNAMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/arena.h"

/* How a worker picks the values of one answer, per query. */
enum dyn_select {
	DYN_SELECT_ALL,	     /* every value; with a cap, a window that rotates per query */
	DYN_SELECT_FIRST,    /* the first cap values, in the policy's order */
	DYN_SELECT_WEIGHTED, /* cap values (1 without a cap) drawn by weight without replacement */
	DYN_SELECT_SHUFFLE,  /* cap values (all without a cap) in a random order per query */
	DYN_SELECT_HASH,     /* cap values (1 without a cap) chosen by a hash of the client's network,
			      * so a client keeps its answer while the values stay the same */
};

#define DYN_VALUES_MAX 64 /* values one answer may hold (pool members of one record) */

/* Why an answer is what it is (for explain, status and the TTL). */
enum dyn_flag {
	DYN_FLAG_DEGRADED = 1,	    /* differs from the all-up answer, or a member drains: ttl_degraded */
	DYN_FLAG_FAIL_OPEN = 2,	    /* no member up: every member of the type (when_all_down serve_all) */
	DYN_FLAG_LAST_GOOD = 4,	    /* no member up: the last answer that had members up */
	DYN_FLAG_FALLBACK_POOL = 8, /* no member up: from the when_all_down pool */
	DYN_FLAG_POLICY_ERROR = 16, /* the Lua policy failed: the last good answer (or fail open) */
	DYN_FLAG_GUARD = 32,	    /* the guard replaced an answer that broke the record's intent */
};

struct dyn_answer {
	uint16_t type;	/* WIRE_TYPE_A, _AAAA or _CNAME */
	uint8_t select; /* enum dyn_select */
	uint8_t count;	/* values, 1..DYN_VALUES_MAX (0: the record has no answer in this region) */
	uint16_t cap;	/* values per response, 0 = all */
	uint8_t flags;	/* enum dyn_flag bits */
	uint32_t ttl;
	const uint8_t *rdata;	 /* count values in the zone RRset layout */
	const uint16_t *offsets; /* offset of each value in rdata (for picking without walking) */
	const uint32_t *weights; /* weight of each value (DYN_SELECT_WEIGHTED) */
	uint32_t weight_total;
};

struct dyn_table {
	size_t record_count;
	size_t region_count;	    /* at least 1: with no regions configured everyone is in region 0 */
	struct dyn_answer *answers; /* answers[record * region_count + region] */
	struct arena arena;
};

static inline const struct dyn_answer *dyn_answer_get(const struct dyn_table *t, size_t record, size_t region)
{
	return &t->answers[record * t->region_count + region];
}

/* Picks the values of one response: writes up to DYN_VALUES_MAX indexes into picked and returns how
 * many. seed varies per query (a per-thread counter): it drives rotation, weighted draws and
 * shuffles. client is a hash of the client's network (its ECS source network or address): it drives
 * DYN_SELECT_HASH. */
unsigned dyn_select(const struct dyn_answer *a, uint32_t seed, uint32_t client, uint8_t *picked);

void dyn_table_free(struct dyn_table *t);

#endif
