/* internal.h -- what the built-in policies (builtin.c) and the Lua records (lua_record.c) share:
 * choosing members, encoding answers, previous answers, distances. Control thread only. */
#ifndef MERIDIAN_POLICY_INTERNAL_H
#define MERIDIAN_POLICY_INTERNAL_H

#include "meridian/policy.h"

/* The members chosen for one (record, region), in answer order, from one pool. */
struct choice {
	unsigned pool;
	unsigned member[DYN_VALUES_MAX];
	unsigned count;
	bool draining; /* a chosen member drains: the answer takes ttl_degraded */
};

/* Which members a choice may take. */
struct eligible {
	const struct policy_inputs *in; /* NULL: every member serving (the all-up answer) */
	bool standby;			/* standby members too (only through a fallback pool) */
	bool any_state;			/* fail open: members that are out too */
};

struct dc_distance {
	unsigned dc;
	double km; /* INFINITY when unknown */
};

bool policy_member_fits(const struct conf_member *m, uint16_t type);
enum health_serving policy_member_serving(const struct policy_inputs *in, unsigned pool, unsigned member);
/* Eligible members of c's pool in datacenter dc (every datacenter when dc < 0), in config order. */
void policy_add_members(struct choice *c, const struct conf *conf, const struct conf_record *rec, long dc,
			const struct eligible *e);
/* Encodes c as a's values with the record's select rule, cap and TTL (ttl_degraded when flags). */
void policy_fill_answer(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct conf_record *rec, const struct choice *c, uint8_t flags);
void policy_copy_answer(struct dyn_answer *a, struct arena *ar, const struct conf_record *rec,
			const struct dyn_answer *from, uint8_t flags);
/* The previous answer of record r in region g, matched by name when the config changed; NULL when
 * there is none, or (unless any) when it was itself a fail-open answer (not a good one). */
const struct dyn_answer *policy_previous_answer(const struct conf *conf, const struct policy_inputs *in,
						size_t r, unsigned g, bool any);
/* Every member of the record's type that serves, else every member of the type. */
void policy_fail_open(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
		      const struct conf_record *rec, const struct policy_inputs *in);
const char *policy_region_name(const struct conf *c, unsigned region);
/* Every datacenter with its distance from the region, nearest first (unknown last, config order). */
size_t policy_dc_distances(const struct conf *conf, const struct geo_map *geo, unsigned region,
			   struct dc_distance *d);

/* A Lua record's answer in region g (lua_record.c). When the policy fails and the record is guarded
 * (in->intent[r]), a is left without values and flagged DYN_FLAG_POLICY_ERROR, and failure says why,
 * for the guard; an unguarded record keeps its last good answer (or fails open). */
void policy_compute_lua(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct geo_map *geo, size_t r, unsigned g, const struct policy_inputs *in,
			struct diag *d, char *failure, size_t failure_size);
/* The guard at run time (intent_guard.c): replaces a, the answer of guarded record r in region g,
 * when it is empty, failed (failure says why) or breaks the record's intent, and reports it. */
void policy_guard_answer(struct dyn_answer *a, struct arena *ar, const struct conf *conf, size_t r,
			 unsigned g, const struct policy_inputs *in, const char *failure);

#endif
