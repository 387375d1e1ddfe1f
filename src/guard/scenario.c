/* scenario.c -- guarded dynamic records under every health scenario: the candidate's own policies
 * (built-in or Lua) compute each guarded record in every region with every member up, each
 * datacenter down, each pool the record uses down, each of their members down, and every member
 * down, and, for records that fall back to another pool, their pool down together with each of
 * the fallback pool's datacenters and members in turn; an empty answer, or one holding a value the
 * intent does not list, is a violation. The scenario with everything up is computed first and serves as the
 * "last good" answer of the others, as it would in production. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/policy.h"
#include "meridian/wire.h"

struct run {
	const struct snapshot *s;
	const struct intent_rrset *const *intent;
	double now;
	struct diag *d;
	size_t room;		  /* violations still to describe */
	size_t violations;	  /* found */
	uint8_t **serving;	  /* [pool][member]: the scenario's health */
	uint8_t *only;		  /* guarded records */
	uint8_t *used;		  /* pools the guarded records answer from */
	uint8_t *failed;	  /* [record * regions + region]: a violation was found already */
	struct dyn_table *all_up; /* the first scenario's answers, the others' "last good" */
	bool first_done;
};

static size_t regions_of(const struct conf *c)
{
	return c->geo.region_count ? c->geo.region_count : 1;
}

static const char *region_name(const struct conf *c, size_t g)
{
	return c->geo.region_count ? c->geo.regions[g].name : "(none)";
}

static void set_all(struct run *x, uint8_t state)
{
	const struct conf *c = x->s->conf;
	for (size_t p = 0; p < c->pool_count; p++)
		memset(x->serving[p], state, c->pools[p].member_count + 1);
}

static const char *zone_of(const struct snapshot *s, const struct conf_record *rec)
{
	struct wire_name name;
	const struct zone *z =
	    wire_name_from_wire(&name, rec->owner, rec->owner_len) ? zone_set_find(s->zones, &name) : NULL;
	return z ? z->name_text : "?";
}

static void violation(struct run *x, size_t r, size_t g, const char *scenario, const char *what)
{
	const struct conf *c = x->s->conf;
	const struct conf_record *rec = &c->records[r];
	char type[16];
	x->failed[r * regions_of(c) + g] = 1;
	x->violations++;
	if (!x->room)
		return;
	x->room--;
	diag_error(x->d, c->path, rec->line,
		   "zone %s: %s %s, region %s, scenario \"%s\": %s (intent line %u)", zone_of(x->s, rec),
		   x->intent[r]->name, intent_type_name(rec->type, type, sizeof(type)), region_name(c, g),
		   scenario, what, x->intent[r]->line);
}

static void check_table(struct run *x, const struct dyn_table *t, const char *scenario)
{
	const struct conf *c = x->s->conf;
	size_t regions = regions_of(c);
	for (size_t r = 0; r < c->record_count; r++) {
		for (size_t g = 0; x->intent[r] && g < regions; g++) {
			if (x->failed[r * regions + g])
				continue;
			const struct dyn_answer *a = dyn_answer_get(t, r, g);
			char bad[256], all[512], what[1024];
			if (a->count == 0) {
				violation(x, r, g, scenario, "would serve nothing");
				continue;
			}
			if (policy_answer_within(a, x->intent[r], bad, sizeof(bad)))
				continue;
			policy_answer_text(a, all, sizeof(all));
			snprintf(what, sizeof(what), "would serve %s; %s is not in the intent", all, bad);
			violation(x, r, g, scenario, what);
		}
	}
}

/* Computes the guarded records under the current x->serving and checks them. */
static void run_scenario(struct run *x, const char *scenario)
{
	const struct conf *c = x->s->conf;
	struct policy_report report = {0};
	struct policy_inputs in = {.serving = (const uint8_t *const *)x->serving,
				   .lua = x->s->lua,
				   .now = x->now,
				   .report = &report,
				   .only = x->only};
	if (x->all_up) {
		in.previous = x->all_up;
		in.previous_conf = c;
	}
	struct diag quiet;
	diag_init(&quiet);
	struct dyn_table *t = policy_compute(c, x->s->geo, &in, &quiet);
	if (!t) {
		/* a record with no member of its type at all: every guarded answer would be empty */
		for (size_t r = 0; r < c->record_count; r++)
			for (size_t g = 0; x->intent[r] && g < regions_of(c); g++)
				if (!x->failed[r * regions_of(c) + g])
					violation(x, r, g, scenario,
						  quiet.count ? quiet.entries[0].text
							      : "would serve nothing");
	} else {
		check_table(x, t, scenario);
	}
	diag_free(&quiet);
	if (!x->first_done)
		x->all_up = t;
	else
		dyn_table_free(t);
	x->first_done = true;
}

static void mark_used(struct run *x)
{
	const struct conf *c = x->s->conf;
	for (size_t r = 0; r < c->record_count; r++) {
		if (!x->intent[r])
			continue;
		x->only[r] = 1;
		x->used[c->records[r].pool] = 1;
		if (c->records[r].when_all_down == CONF_ALL_DOWN_POOL)
			x->used[c->records[r].fallback_pool] = 1;
	}
}

static bool dc_used(const struct run *x, unsigned dc)
{
	const struct conf *c = x->s->conf;
	for (size_t p = 0; p < c->pool_count; p++)
		for (size_t m = 0; x->used[p] && m < c->pools[p].member_count; m++)
			if (c->pools[p].members[m].dc == dc)
				return true;
	return false;
}

/* Members of dc (every pool) out. */
static void dc_out(struct run *x, unsigned dc)
{
	const struct conf *c = x->s->conf;
	for (size_t p = 0; p < c->pool_count; p++)
		for (size_t m = 0; m < c->pools[p].member_count; m++)
			if (c->pools[p].members[m].dc == dc)
				x->serving[p][m] = HEALTH_OUT;
}

/* Whether a guarded record answering from pool p falls back to pool f. */
static bool falls_back(const struct run *x, size_t p, size_t f)
{
	const struct conf *c = x->s->conf;
	for (size_t r = 0; r < c->record_count; r++)
		if (x->intent[r] && c->records[r].pool == p &&
		    c->records[r].when_all_down == CONF_ALL_DOWN_POOL && c->records[r].fallback_pool == f)
			return true;
	return false;
}

/* With pool p down its records answer from their fallback pool f: that pool's own failures, one at a
 * time (each of its datacenters, each of its members), are scenarios too. */
static void fallback_scenarios(struct run *x, size_t p, size_t f)
{
	const struct conf *c = x->s->conf;
	const struct conf_pool *fp = &c->pools[f];
	char name[512];
	for (unsigned dc = 0; dc < c->datacenter_count; dc++) {
		bool here = false;
		for (size_t m = 0; m < fp->member_count; m++)
			here |= fp->members[m].dc == dc;
		if (!here)
			continue;
		memset(x->serving[p], HEALTH_OUT, c->pools[p].member_count);
		dc_out(x, dc);
		snprintf(name, sizeof(name), "pool %s down, datacenter %s down", c->pools[p].name,
			 c->datacenters[dc].name);
		run_scenario(x, name);
		set_all(x, HEALTH_SERVING);
	}
	for (size_t m = 0; fp->member_count > 1 && m < fp->member_count; m++) {
		memset(x->serving[p], HEALTH_OUT, c->pools[p].member_count);
		x->serving[f][m] = HEALTH_OUT;
		snprintf(name, sizeof(name), "pool %s down, member %s/%s down", c->pools[p].name, fp->name,
			 fp->members[m].name);
		run_scenario(x, name);
		set_all(x, HEALTH_SERVING);
	}
}

static void each_scenario(struct run *x)
{
	const struct conf *c = x->s->conf;
	char name[256];
	set_all(x, HEALTH_SERVING);
	run_scenario(x, "every member up");
	for (unsigned dc = 0; dc < c->datacenter_count; dc++) {
		if (!dc_used(x, dc))
			continue;
		dc_out(x, dc);
		snprintf(name, sizeof(name), "datacenter %s down", c->datacenters[dc].name);
		run_scenario(x, name);
		set_all(x, HEALTH_SERVING);
	}
	for (size_t p = 0; p < c->pool_count; p++) {
		if (!x->used[p])
			continue;
		memset(x->serving[p], HEALTH_OUT, c->pools[p].member_count);
		snprintf(name, sizeof(name), "pool %s down", c->pools[p].name);
		run_scenario(x, name);
		set_all(x, HEALTH_SERVING);
		for (size_t f = 0; f < c->pool_count; f++)
			if (f != p && falls_back(x, p, f))
				fallback_scenarios(x, p, f);
		for (size_t m = 0; c->pools[p].member_count > 1 && m < c->pools[p].member_count; m++) {
			x->serving[p][m] = HEALTH_OUT;
			snprintf(name, sizeof(name), "member %s/%s down", c->pools[p].name,
				 c->pools[p].members[m].name);
			run_scenario(x, name);
			x->serving[p][m] = HEALTH_SERVING;
		}
	}
	set_all(x, HEALTH_OUT);
	run_scenario(x, "every member down");
}

size_t guard_check_scenarios(const struct snapshot *s, const struct intent_rrset *const *intent, double now,
			     struct diag *d, size_t room)
{
	const struct conf *c = s->conf;
	struct run x = {.s = s, .intent = intent, .now = now, .d = d, .room = room};
	x.serving = calloc(c->pool_count + 1, sizeof(*x.serving));
	x.only = calloc(c->record_count + 1, 1);
	x.used = calloc(c->pool_count + 1, 1);
	x.failed = calloc(c->record_count * regions_of(c) + 1, 1);
	if (!x.serving || !x.only || !x.used || !x.failed)
		abort();
	for (size_t p = 0; p < c->pool_count; p++)
		if (!(x.serving[p] = calloc(c->pools[p].member_count + 1, 1)))
			abort();
	mark_used(&x);
	each_scenario(&x);
	dyn_table_free(x.all_up);
	for (size_t p = 0; p < c->pool_count; p++)
		free(x.serving[p]);
	free(x.serving);
	free(x.only);
	free(x.used);
	free(x.failed);
	return x.violations;
}
