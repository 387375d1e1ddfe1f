/* policy.h -- computing the answers of dynamic records: the built-in policies.
 *
 * Runs on the control thread whenever an input changes (config, and later health), never per
 * query. Member state is an input from the start: a member that is not up leaves every answer
 * (until the health issue lands, every member is up). */
#ifndef MERIDIAN_POLICY_H
#define MERIDIAN_POLICY_H

#include <stdbool.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/dynamic.h"
#include "meridian/geo.h"
#include "meridian/health.h"
#include "meridian/lua_policy.h"

/* What the answers are computed from besides the config. */
struct policy_inputs {
	/* serving[pool][member]: an enum health_serving (health.h). NULL: every member serving. */
	const uint8_t *const *serving;
	/* The answers published before and the config they were computed from, for
	 * when_all_down = "last_good" (records and regions are matched by name when the config
	 * changed). NULL: there is no previous answer. */
	const struct dyn_table *previous;
	const struct conf *previous_conf;
	/* Lua policies (required when the config has Lua records): the compiled files, what ctx.members
	 * says of each member besides its state (forced[pool][member], since[pool][member] in seconds;
	 * NULL: not forced, 0 s), ctx.now, and where runs, errors and recheck times are counted. */
	struct lua_policy_set *lua;
	const bool *const *forced;
	const double *const *since;
	double now;
	struct policy_report *report;
};

#define POLICY_LIMIT_HITS_MAX 3

/* What one computation's Lua policies did. */
struct policy_report {
	size_t lua_runs;      /* policy calls */
	size_t lua_errors;    /* calls that failed: the last good answer kept serving */
	double lua_seconds;   /* time spent in Lua */
	double recheck_at;    /* the earliest now + recheck a policy asked for; 0: none */
	char last_error[512]; /* the last failure, with record and region */
	/* Policy files that hit a limit (budget, time, memory) POLICY_LIMIT_HITS_MAX times in this
	 * computation are not called again in it: a stuck policy costs a few runs, not one per
	 * (record, region). */
	struct {
		const char *file;
		unsigned hits;
	} limited[16];
	size_t limited_count;
};

/* The ordered list of datacenters a record prefers in a region (failover: its order for the region,
 * else the default region's, else all datacenters in config order; nearest: by distance from the
 * region's location, unknown locations last). Writes up to conf->datacenter_count indexes, returns
 * the count. */
size_t policy_dc_order(const struct conf *conf, const struct geo_map *geo, const struct conf_record *rec,
		       unsigned region, unsigned *dcs);

/* Computes every (record, region) answer. geo may be NULL when no regions are configured (one
 * region). Members that are out leave every answer; a draining member stays but lowers the answer's
 * TTL to ttl_degraded, as does any answer that differs from the all-up answer or comes from
 * when_all_down. Never an empty answer: when no member is up, when_all_down decides, and a fallback
 * that finds nothing either fails open to every member of the record's type (standby excluded).
 * Returns NULL with reasons in d when a record has no member of its type at all. */
struct dyn_table *policy_compute(const struct conf *conf, const struct geo_map *geo,
				 const struct policy_inputs *in, struct diag *d);

#endif
