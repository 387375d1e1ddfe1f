/* scenarios.c -- `meridiand --check` for Lua policies: every policy, in every region, through the
 * failures it must survive (all up, each datacenter down, each member down, all down).
 *
 * The policy is called directly (lua_policy_run), not through policy_compute: policy_compute hides a
 * failing policy behind the last good answer, which is right for serving and wrong for a check. The
 * scenarios are the ones an operator cannot easily stage on a live deployment; a policy that passes
 * them may still answer badly, which is what the operator's own test files are for (testfile.c). */
#include "meridian/policy_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "meridian/wire.h"

/* One (record, region) being checked: the policy's input, whose member states each scenario sets. */
struct scenario_run {
	const struct snapshot *s;
	size_t record;
	unsigned region;
	struct lua_policy_member *members;
	struct lua_policy_dc *dcs;
	size_t dc_count;
	double now;
};

enum scenario_kind { SCENARIO_ALL_UP, SCENARIO_DC_DOWN, SCENARIO_MEMBER_DOWN, SCENARIO_ALL_DOWN };

static const char *scenario_type_name(uint16_t type)
{
	return type == WIRE_TYPE_A ? "A" : type == WIRE_TYPE_AAAA ? "AAAA" : "CNAME";
}

/* Deterministic per (record, region), as in serving: a scenario that fails fails every time. */
static uint64_t scenario_seed(size_t record, unsigned region)
{
	uint64_t x = ((uint64_t)record << 32 | region) * 0x9e3779b97f4a7c15ull;
	return x ^ x >> 29;
}

/* Member m of the record's pool is out in scenario (kind, which). */
static bool scenario_out(const struct conf_member *m, unsigned index, enum scenario_kind kind, unsigned which)
{
	switch (kind) {
	case SCENARIO_ALL_UP:
		return false;
	case SCENARIO_DC_DOWN:
		return m->dc == which;
	case SCENARIO_MEMBER_DOWN:
		return index == which;
	case SCENARIO_ALL_DOWN:
		return true;
	}
	return false;
}

/* Runs one scenario; a failure goes into d named by record, region and scenario. */
static bool scenario_one(struct scenario_run *run, enum scenario_kind kind, unsigned which, const char *name,
			 struct diag *d)
{
	const struct conf *conf = run->s->conf;
	const struct conf_record *rec = &conf->records[run->record];
	const struct conf_pool *pool = &conf->pools[rec->pool];
	for (unsigned m = 0; m < pool->member_count; m++)
		run->members[m] = (struct lua_policy_member){
		    .state = scenario_out(&pool->members[m], m, kind, which) ? HEALTH_OUT : HEALTH_SERVING};
	const char *region = policy_region_name(conf, run->region);
	struct lua_policy_input in = {.record = run->record,
				      .region = region,
				      .members = run->members,
				      .dcs = run->dcs,
				      .dc_count = run->dc_count,
				      .now = run->now,
				      .seed = scenario_seed(run->record, run->region)};
	struct lua_policy_output out;
	char err[512];
	if (lua_policy_run(run->s->lua, conf, &in, &out, err, sizeof(err)))
		return true;
	diag_error(d, rec->policy_file, 0, "record %s %s, region %s, scenario %s: %s", rec->name,
		   scenario_type_name(rec->type), *region ? region : "(none)", name, err);
	return false;
}

/* Every scenario for one (record, region). */
static bool scenario_region(struct scenario_run *run, struct diag *d)
{
	const struct conf *conf = run->s->conf;
	const struct conf_pool *pool = &conf->pools[conf->records[run->record].pool];
	char name[160];
	bool ok = scenario_one(run, SCENARIO_ALL_UP, 0, "all up", d);
	for (unsigned i = 0; i < conf->datacenter_count; i++) {
		snprintf(name, sizeof(name), "dc %s down", conf->datacenters[i].name);
		ok &= scenario_one(run, SCENARIO_DC_DOWN, i, name, d);
	}
	for (unsigned m = 0; m < pool->member_count; m++) {
		snprintf(name, sizeof(name), "member %s/%s down", pool->name, pool->members[m].name);
		ok &= scenario_one(run, SCENARIO_MEMBER_DOWN, m, name, d);
	}
	return scenario_one(run, SCENARIO_ALL_DOWN, 0, "all down", d) && ok;
}

/* The datacenters ordered by distance from the region, as policy_compute gives them to a policy. */
static void scenario_dcs(struct scenario_run *run)
{
	const struct conf *conf = run->s->conf;
	struct dc_distance *dist = calloc(conf->datacenter_count + 1, sizeof(*dist));
	if (!dist)
		abort();
	run->dc_count = policy_dc_distances(conf, run->s->geo, run->region, dist);
	for (size_t i = 0; i < run->dc_count; i++)
		run->dcs[i] = (struct lua_policy_dc){.dc = dist[i].dc, .km = dist[i].km};
	free(dist);
}

bool policy_check_scenarios(const struct snapshot *s, struct diag *d)
{
	const struct conf *conf = s->conf;
	size_t pool_max = 0;
	for (size_t p = 0; p < conf->pool_count; p++)
		pool_max = conf->pools[p].member_count > pool_max ? conf->pools[p].member_count : pool_max;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct scenario_run run = {.s = s,
				   .members = calloc(pool_max + 1, sizeof(*run.members)),
				   .dcs = calloc(conf->datacenter_count + 1, sizeof(*run.dcs)),
				   .now = (double)ts.tv_sec + ts.tv_nsec / 1e9};
	if (!run.members || !run.dcs)
		abort();
	unsigned regions = conf->geo.region_count ? (unsigned)conf->geo.region_count : 1;
	bool ok = true;
	for (size_t r = 0; r < conf->record_count; r++) {
		if (conf->records[r].policy != CONF_POLICY_LUA)
			continue;
		if (!s->lua) {
			diag_error(d, conf->records[r].policy_file, 0, "record %s: the policy is not loaded",
				   conf->records[r].name);
			ok = false;
			continue;
		}
		run.record = r;
		for (run.region = 0; run.region < regions; run.region++) {
			scenario_dcs(&run);
			ok &= scenario_region(&run, d);
		}
	}
	free(run.members);
	free(run.dcs);
	return ok;
}
