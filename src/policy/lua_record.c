/* lua_record.c -- the answer of a record whose policy is a Lua file, in one region: the policy runs
 * (lua_policy.h) over the members' live state, and a policy that fails changes nothing: the last
 * good answer for that (record, region) keeps serving, or, before there is one, every member up. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "meridian/wire.h"

/* The first errors of a computation are reported one by one, the rest only counted. */
#define REPORTED_ERRORS_MAX 10

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A seed per (record, region): math.random repeats itself for the same inputs. */
static uint64_t seed_of(size_t record, unsigned region)
{
	uint64_t x =
	    (uint64_t)record * 0x9e3779b97f4a7c15ull ^ ((uint64_t)region + 1) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	return x * 0x94d049bb133111ebull;
}

struct lua_call {
	struct lua_policy_input input;
	struct lua_policy_member *members;
	struct lua_policy_dc *dcs;
};

static void call_prepare(struct lua_call *call, const struct conf *conf, const struct geo_map *geo, size_t r,
			 unsigned g, const struct policy_inputs *in)
{
	const struct conf_record *rec = &conf->records[r];
	const struct conf_pool *pool = &conf->pools[rec->pool];
	call->members = calloc(pool->member_count + 1, sizeof(*call->members));
	call->dcs = calloc(conf->datacenter_count + 1, sizeof(*call->dcs));
	struct dc_distance *d = calloc(conf->datacenter_count + 1, sizeof(*d));
	if (!call->members || !call->dcs || !d)
		abort();
	for (unsigned m = 0; m < pool->member_count; m++) {
		call->members[m].state = policy_member_serving(in, rec->pool, m);
		call->members[m].forced = in && in->forced && in->forced[rec->pool][m];
		call->members[m].since = in && in->since ? in->since[rec->pool][m] : 0;
	}
	size_t n = policy_dc_distances(conf, geo, g, d);
	for (size_t i = 0; i < n; i++)
		call->dcs[i] = (struct lua_policy_dc){.dc = d[i].dc, .km = d[i].km};
	free(d);
	call->input = (struct lua_policy_input){.record = r,
						.region = policy_region_name(conf, g),
						.members = call->members,
						.dcs = call->dcs,
						.dc_count = n,
						.now = in ? in->now : 0,
						.seed = seed_of(r, g)};
}

/* The report's count of limit hits for file (added when missing and there is room). */
static unsigned *limit_hits(struct policy_report *r, const char *file)
{
	for (size_t i = 0; i < r->limited_count; i++)
		if (!strcmp(r->limited[i].file, file))
			return &r->limited[i].hits;
	if (r->limited_count == sizeof(r->limited) / sizeof(r->limited[0]))
		return NULL;
	r->limited[r->limited_count].file = file;
	r->limited[r->limited_count].hits = 0;
	return &r->limited[r->limited_count++].hits;
}

static bool is_limit_error(const char *err)
{
	return strstr(err, "budget of") || strstr(err, "time limit of") || strstr(err, "memory cap of");
}

static bool call_run(struct lua_call *call, const struct conf *conf, const struct policy_inputs *in,
		     struct lua_policy_output *out, char *err, size_t err_size)
{
	if (!in || !in->lua) {
		snprintf(err, err_size, "the policy file is not loaded");
		return false;
	}
	const char *file = conf->records[call->input.record].policy_file;
	unsigned *hits = in->report ? limit_hits(in->report, file) : NULL;
	if (hits && *hits >= POLICY_LIMIT_HITS_MAX) {
		snprintf(err, err_size, "%s: not run: it exceeded its limits %u times in this round", file,
			 *hits);
		return false;
	}
	double t0 = seconds_now();
	bool ok = lua_policy_run(in->lua, conf, &call->input, out, err, err_size);
	if (in->report) {
		in->report->lua_runs++;
		in->report->lua_seconds += seconds_now() - t0;
	}
	if (!ok && hits && is_limit_error(err))
		++*hits;
	return ok;
}

/* Whether the live answer differs from the answer the policy gives with every member up. */
static bool differs_from_all_up(struct lua_call *call, const struct conf *conf,
				const struct policy_inputs *in, const struct lua_policy_output *live)
{
	const struct conf_pool *pool = &conf->pools[conf->records[call->input.record].pool];
	bool all_serving = true;
	for (unsigned m = 0; m < pool->member_count; m++)
		all_serving &= call->members[m].state == HEALTH_SERVING;
	if (all_serving)
		return false;
	for (unsigned m = 0; m < pool->member_count; m++)
		call->members[m] = (struct lua_policy_member){.state = HEALTH_SERVING};
	struct lua_policy_output up;
	char err[64];
	if (!call_run(call, conf, in, &up, err, sizeof(err)))
		return true;
	return up.count != live->count ||
	       memcmp(up.member, live->member, live->count * sizeof(live->member[0]));
}

/* The policy failed: counted, and reported for the first errors of a computation. */
static void note_failure(const struct conf *conf, size_t r, unsigned g, const struct policy_inputs *in,
			 const char *err, const char *outcome, struct diag *d)
{
	const struct conf_record *rec = &conf->records[r];
	struct policy_report *report = in ? in->report : NULL;
	size_t errors = report ? ++report->lua_errors : 0;
	const char *region = policy_region_name(conf, g);
	if (report)
		snprintf(report->last_error, sizeof(report->last_error), "record %s %s, region %s: %s",
			 rec->name,
			 rec->type == WIRE_TYPE_A      ? "A"
			 : rec->type == WIRE_TYPE_AAAA ? "AAAA"
						       : "CNAME",
			 *region ? region : "(none)", err);
	/* Errors raised in the file name it with its line; the limits and answer checks do not. */
	bool named = !strncmp(err, rec->policy_file, strlen(rec->policy_file));
	if (errors <= REPORTED_ERRORS_MAX)
		diag_warn(d, named ? NULL : rec->policy_file, 0, "%s (record %s, region %s): %s", err,
			  rec->name, *region ? region : "(none)", outcome);
}

/* The policy of an unguarded record failed: the last good answer as it was, else every member up
 * (fail open). */
static void keep_last_good(struct dyn_answer *a, struct arena *ar, const struct conf *conf, size_t r,
			   unsigned g, const struct policy_inputs *in, const char *err, struct diag *d)
{
	const struct conf_record *rec = &conf->records[r];
	note_failure(conf, r, g, in, err, "the last good answer keeps serving", d);
	const struct dyn_answer *prev = policy_previous_answer(conf, in, r, g, true);
	if (prev) {
		policy_copy_answer(a, ar, rec, prev, (uint8_t)(prev->flags | DYN_FLAG_POLICY_ERROR));
		a->ttl = prev->ttl;
		a->select = prev->select;
		a->cap = prev->cap;
		return;
	}
	policy_fail_open(a, ar, conf, rec, in);
	a->flags |= DYN_FLAG_POLICY_ERROR;
}

void policy_compute_lua(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct geo_map *geo, size_t r, unsigned g, const struct policy_inputs *in,
			struct diag *d, char *failure, size_t failure_size)
{
	const struct conf_record *rec = &conf->records[r];
	struct lua_call call;
	struct lua_policy_output out;
	char err[256];
	call_prepare(&call, conf, geo, r, g, in);
	if (!call_run(&call, conf, in, &out, err, sizeof(err))) {
		if (in && in->intent && in->intent[r]) {
			/* guarded: the guard picks what serves instead (intent_guard.c) */
			note_failure(conf, r, g, in, err, "the guard picks the answer", d);
			memset(a, 0, sizeof(*a));
			a->flags = DYN_FLAG_POLICY_ERROR;
			snprintf(failure, failure_size, "the policy failed: %s", err);
		} else {
			keep_last_good(a, ar, conf, r, g, in, err, d);
		}
	} else {
		struct choice c = {.pool = rec->pool, .count = out.count};
		memcpy(c.member, out.member, out.count * sizeof(out.member[0]));
		for (unsigned i = 0; i < c.count; i++)
			c.draining |= call.members[c.member[i]].state == HEALTH_DRAINING;
		bool degraded = c.draining || differs_from_all_up(&call, conf, in, &out);
		policy_fill_answer(a, ar, conf, rec, &c, degraded ? DYN_FLAG_DEGRADED : 0);
		a->select = (uint8_t)out.select;
		a->cap = rec->type == WIRE_TYPE_CNAME
			     ? 1
			     : (uint16_t)(out.answers > UINT16_MAX ? UINT16_MAX : out.answers);
		if (out.has_ttl)
			a->ttl = out.ttl;
		struct policy_report *report = in ? in->report : NULL;
		if (report && out.recheck > 0 &&
		    (report->recheck_at == 0 || in->now + out.recheck < report->recheck_at))
			report->recheck_at = in->now + out.recheck;
	}
	free(call.members);
	free(call.dcs);
}
