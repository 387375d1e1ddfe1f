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
#include "meridian/intent.h"
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
	/* The guard at run time: intent[r] is what record r may answer (NULL: not guarded; the array
	 * NULL: no record is). An answer of a guarded record that is empty, comes from a policy that
	 * failed, or holds a value its intent does not list is replaced by the last good answer for that
	 * (record, region) when it is within the intent, else by the intended values whose members are
	 * not out, else by every intended value; each replacement is counted and described in report. */
	const struct intent_rrset *const *intent;
	/* Records to compute (only[r] != 0); NULL: all. The others are left without values and are not
	 * errors (the guard's scenarios compute only guarded records). */
	const uint8_t *only;
};

#define POLICY_GUARD_EVENTS_MAX 16

/* One replacement the guard made. */
struct policy_guard_event {
	size_t record;
	unsigned region;
	char reason[256]; /* "empty answer", "the policy failed: ...", "203.0.113.9 is not in the intent" */
	char served[256]; /* "the last good answer: 192.0.2.1", "intended members not out: ...", ... */
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
	/* The guard's replacements: all counted, the first POLICY_GUARD_EVENTS_MAX described. */
	size_t guard_interventions;
	struct policy_guard_event guard_events[POLICY_GUARD_EVENTS_MAX];
	size_t guard_event_count;
};

/* An answer's values in presentation form, ", "-separated, truncated to fit size. */
void policy_answer_text(const struct dyn_answer *a, char *buf, size_t size);
/* Whether every value of a is one intent s lists; otherwise the first one that is not, as text, in
 * bad. */
bool policy_answer_within(const struct dyn_answer *a, const struct intent_rrset *s, char *bad, size_t size);

/* The ordered list of datacenters a record prefers in a region (failover: its order for the region,
 * else the default region's, else all datacenters in config order; nearest: by distance from the
 * region's location, unknown locations last). Writes up to conf->datacenter_count indexes, returns
 * the count. */
size_t policy_dc_order(const struct conf *conf, const struct geo_map *geo, const struct conf_record *rec,
		       unsigned region, unsigned *dcs);

/* What policy_inputs says of every member, as arrays by pool and member of conf: its serving state
 * (an enum health_serving), whether an operator forced it, and for how long (seconds) it has been in
 * that state. policy_member_states_init makes them all serving, not forced, 0 s (allocates; aborts
 * when memory is short, like the rest of the control thread). */
struct policy_member_states {
	uint8_t **serving;
	bool **forced;
	double **since;
	size_t pools;
};
void policy_member_states_init(struct policy_member_states *v, const struct conf *conf);
void policy_member_states_free(struct policy_member_states *v);

/* Computes every (record, region) answer. geo may be NULL when no regions are configured (one
 * region). Members that are out leave every answer; a draining member stays but lowers the answer's
 * TTL to ttl_degraded, as does any answer that differs from the all-up answer or comes from
 * when_all_down. Never an empty answer: when no member is up, when_all_down decides, and a fallback
 * that finds nothing either fails open to every member of the record's type (standby excluded).
 * Returns NULL with reasons in d when a record has no member of its type at all. */
struct dyn_table *policy_compute(const struct conf *conf, const struct geo_map *geo,
				 const struct policy_inputs *in, struct diag *d);

#endif
