/* answers.c -- the answers of dynamic records under live health, for the running config or a
 * candidate, and what their computation reports (Lua runs and errors, the guard's replacements) to
 * the log, status and the audit log. Control thread only. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/guard.h"
#include "meridian/wire.h"

/* The running pool with the same name as pool p of c (the monitor follows the running config), or
 * -1 when p is new. */
static long running_pool(const struct conf *running, const struct conf *c, unsigned p)
{
	if (running == c)
		return p;
	for (unsigned i = 0; i < running->pool_count; i++)
		if (!strcmp(running->pools[i].name, c->pools[p].name))
			return i;
	return -1;
}

static long running_member(const struct conf_pool *running, const struct conf_pool *pool, unsigned m)
{
	if (running == pool)
		return m;
	for (unsigned i = 0; i < running->member_count; i++)
		if (!strcmp(running->members[i].name, pool->members[m].name))
			return i;
	return -1;
}

/* The live state of conf's members, matched by pool and member name with the monitor's (the running
 * config's): a member the running config does not have counts as up, as it will when published. */
static void view_build(struct policy_member_states *v, const struct daemon *dm, const struct conf *conf,
		       double now)
{
	const struct conf *running = snapshot_latest() ? snapshot_latest()->conf : conf;
	policy_member_states_init(v, conf);
	for (unsigned p = 0; p < conf->pool_count; p++) {
		long rp = running_pool(running, conf, p);
		for (unsigned m = 0; rp >= 0 && m < conf->pools[p].member_count; m++) {
			long rm = running_member(&running->pools[rp], &conf->pools[p], m);
			if (rm < 0)
				continue;
			const struct health_state *h = monitor_state(dm->monitor, (unsigned)rp, (unsigned)rm);
			v->serving[p][m] =
			    (uint8_t)monitor_serving(dm->monitor, (unsigned)rp, (unsigned)rm, now);
			v->forced[p][m] = h->forced != HEALTH_AUTO;
			v->since[p][m] =
			    now - (h->forced != HEALTH_AUTO && h->forced_since > h->since ? h->forced_since
											  : h->since);
		}
	}
}

struct dyn_table *daemon_answers(struct daemon *dm, const struct snapshot *target,
				 const struct snapshot *previous, struct policy_report *report,
				 struct diag *d)
{
	const struct conf *conf = target->conf;
	memset(report, 0, sizeof(*report));
	if (!conf->record_count)
		return NULL;
	double now = daemon_now();
	struct policy_member_states v;
	view_build(&v, dm, conf, now);
	const struct intent_rrset **intent = guard_record_intents(target);
	struct policy_inputs in = {.serving = (const uint8_t *const *)v.serving,
				   .lua = target->lua,
				   .forced = (const bool *const *)v.forced,
				   .since = (const double *const *)v.since,
				   .now = now,
				   .report = report,
				   .intent = intent};
	if (previous) {
		in.previous = previous->dyn;
		in.previous_conf = previous->conf;
	}
	struct dyn_table *t = policy_compute(conf, target->geo, &in, d);
	free(intent);
	policy_member_states_free(&v);
	return t;
}

static void on_recheck(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	daemon_health_changed(w->data);
}

static const char *type_name(uint16_t type)
{
	return type == WIRE_TYPE_A ? "A" : type == WIRE_TYPE_AAAA ? "AAAA" : "CNAME";
}

/* The guard's replacements in answers now serving s: logged, counted and audited. */
static void note_guard(struct daemon *dm, const struct snapshot *s, const struct policy_report *r,
		       const char *source)
{
	dm->guard_interventions += r->guard_interventions;
	for (size_t i = 0; i < r->guard_event_count; i++) {
		const struct policy_guard_event *e = &r->guard_events[i];
		const struct conf_record *rec = &s->conf->records[e->record];
		const char *region = s->conf->geo.region_count ? s->conf->geo.regions[e->region].name : "";
		daemon_log("guard: %s %s, region %s: %s; serving %s", rec->name, type_name(rec->type),
			   *region ? region : "(none)", e->reason, e->served);
		struct audit_event ev;
		audit_begin(&ev, "guard");
		audit_add_string(&ev, "source", source);
		audit_add_string(&ev, "name", rec->name);
		audit_add_string(&ev, "type", type_name(rec->type));
		audit_add_string(&ev, "region", region);
		audit_add_string(&ev, "reason", e->reason);
		audit_add_string(&ev, "served", e->served);
		audit_add_uint(&ev, "serial", s->conf->serial);
		daemon_audit(dm, &ev);
	}
	if (r->guard_interventions > r->guard_event_count) {
		size_t more = r->guard_interventions - r->guard_event_count;
		daemon_log("guard: %zu more answers replaced", more);
		struct audit_event ev;
		audit_begin(&ev, "guard");
		audit_add_string(&ev, "source", source);
		audit_add_uint(&ev, "more", more);
		audit_add_uint(&ev, "serial", s->conf->serial);
		daemon_audit(dm, &ev);
	}
}

void daemon_note_report(struct daemon *dm, const struct snapshot *s, const struct policy_report *r,
			const char *source)
{
	double now = daemon_now();
	note_guard(dm, s, r, source);
	if (!r->lua_runs)
		return;
	dm->policy_runs += r->lua_runs;
	dm->policy_errors += r->lua_errors;
	dm->policy_last_ms = r->lua_seconds * 1e3;
	if (r->lua_errors)
		snprintf(dm->policy_last_error, sizeof(dm->policy_last_error), "%s", r->last_error);
	ev_timer_stop(dm->loop, &dm->recheck);
	if (r->recheck_at > 0) {
		ev_timer_init(&dm->recheck, on_recheck, r->recheck_at > now ? r->recheck_at - now : 0, 0);
		dm->recheck.data = dm;
		ev_timer_start(dm->loop, &dm->recheck);
	}
}
