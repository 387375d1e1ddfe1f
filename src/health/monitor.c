/* monitor.c -- health: schedules every member's checks on the control loop, feeds the state
 * machines, persists them, and publishes what the answers should use.
 *
 * Each member owns three timers: the next check, the end of a flap hold, and a drain deadline.
 * Checks are spread out: the first within min(1 s, interval) of start, then each one
 * interval * uniform(0.9, 1.1) after the previous one started, from a PRNG seeded per process by
 * getrandom(), so a fleet of meridians never probes in lock-step. A check that is still running
 * when its next one is due delays that one until it reports (checks never overlap).
 *
 * Published state: answers use published_up, not the observed `up`. They are equal except while
 * the checker is frozen. Freeze: every monitored member (two or more) has failed its last check and
 * their failure streaks all began within one round of checks, i.e. within the longest
 * interval * 1.1 + timeout among them (the most a sudden loss can take to reach every member's next
 * check and be reported). A whole fleet failing at once is far more likely to be this checker's own
 * network than the world, so the answers keep the state from before the collapse: members that
 * went down at or after the earliest of those failures are published up again, and later
 * transitions are not published. The first successful check of any member thaws: the published
 * state becomes the observed one, as the state machines stand.
 *
 * changed() is never called from inside a monitor_* function: changes mark the monitor dirty and a
 * zero-delay timer calls changed() once on the next loop iteration, however many changes came. The
 * state file is saved the same way (a whole fleet going down is one write, not one per member),
 * except for forced states, which are on disk before monitor_force returns. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "meridian/monitor.h"
#include "meridian/probe.h"

struct mon_member {
	struct monitor *m;
	const char *pool, *name; /* point into the conf: identify the member across reloads */
	const struct conf_member *cm;
	const struct conf_check *check; /* NULL: not monitored, observed state always up */
	struct health_params params;
	struct health_state st;
	bool published_up;   /* what the answers use: st.up, except while frozen */
	bool due;	     /* the next check came due while this one was still running */
	struct probe *probe; /* the running check, NULL between checks */
	ev_timer check_timer, hold_timer, drain_timer;
};

struct monitor {
	struct ev_loop *loop;
	const struct conf *conf;
	char *state_path; /* NULL: no persistence */
	struct monitor_hooks hooks;
	struct probe_engine *engine;
	struct mon_member *mm; /* every member of every pool, in conf order */
	size_t count;
	size_t *pool_first; /* index in mm of each pool's first member */
	size_t pool_count;
	uint64_t generation;
	bool frozen;
	bool changed_due, save_due;
	ev_timer flush; /* zero-delay: one save and one changed() for all changes of a loop iteration */
	uint64_t rng;
	struct monitor_stats stats;
};

/* ---- small helpers ---- */

static void seed(struct monitor *m)
{
	if (getrandom(&m->rng, sizeof(m->rng), GRND_NONBLOCK) != (ssize_t)sizeof(m->rng))
		m->rng = (uint64_t)(ev_time() * 1e6) ^ ((uint64_t)getpid() << 32);
}

/* splitmix64: tiny, and good enough to spread checks. Returns [0, 1). */
static double uniform(struct monitor *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

static void mlog(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mlog(struct monitor *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!m->hooks.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->hooks.log(m->hooks.arg, line);
}

static void save_now(struct monitor *m)
{
	m->save_due = false;
	if (!m->state_path)
		return;
	struct health_entry *e = calloc(m->count + 1, sizeof(*e));
	if (!e)
		abort();
	for (size_t i = 0; i < m->count; i++)
		e[i] = (struct health_entry){m->mm[i].pool, m->mm[i].name, &m->mm[i].st};
	struct diag d;
	diag_init(&d);
	if (!health_save(m->state_path, m->generation, e, m->count, &d))
		mlog(m, "health: cannot save the state: %s", d.count ? d.entries[0].text : "?");
	diag_free(&d);
	free(e);
}

static void flush_later(struct monitor *m)
{
	if (!ev_is_active(&m->flush))
		ev_timer_start(m->loop, &m->flush);
}

static void notify(struct monitor *m)
{
	m->changed_due = true;
	flush_later(m);
}

static void save(struct monitor *m)
{
	if (m->state_path) {
		m->save_due = true;
		flush_later(m);
	}
}

/* Saves first, so that what changed() announces is on disk. changed() comes last: it may even
 * reconfigure or free the monitor. */
static void flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct monitor *m = w->data;
	bool changed = m->changed_due;
	(void)loop;
	(void)revents;
	m->changed_due = false;
	if (m->save_due)
		save_now(m);
	if (changed && m->hooks.changed)
		m->hooks.changed(m->hooks.arg);
}

static struct mon_member *find(const struct monitor *m, unsigned pool, unsigned member)
{
	if (pool >= m->pool_count || member >= m->conf->pools[pool].member_count)
		return NULL;
	return &m->mm[m->pool_first[pool] + member];
}

/* An unmonitored member has no observed state but `up`; its forced state stays. */
static void reset_observed(struct health_state *st, double now)
{
	struct health_state keep = *st;
	health_init(st, now);
	st->forced = keep.forced;
	st->forced_since = keep.forced_since;
	st->drain_until = keep.drain_until;
}

/* ---- freeze ---- */

static void thaw(struct monitor *m, const struct mon_member *by)
{
	m->frozen = false;
	mlog(m, "health: thawed: %s/%s answered (%s); answers follow the checks again", by->pool, by->name,
	     by->st.reason);
	for (size_t i = 0; i < m->count; i++)
		m->mm[i].published_up = m->mm[i].st.up;
	notify(m);
}

/* See the top of the file. Called after a failure, when not frozen. */
static void maybe_freeze(struct monitor *m)
{
	size_t monitored = 0;
	double lo = INFINITY, hi = -INFINITY, round = 0;
	for (size_t i = 0; i < m->count; i++) {
		const struct mon_member *mm = &m->mm[i];
		if (!mm->check)
			continue;
		if (!mm->st.has_result || mm->st.last_ok)
			return;
		monitored++;
		lo = fmin(lo, mm->st.fail_since);
		hi = fmax(hi, mm->st.fail_since);
		round = fmax(round, mm->check->interval * 1.1 + mm->check->timeout);
	}
	if (monitored < 2 || hi - lo > round)
		return;
	m->frozen = true;
	m->stats.freezes++;
	mlog(m,
	     "health: FROZEN: all %zu monitored members failed within %.1f s; suspecting this checker's "
	     "network; answers keep the state from before",
	     monitored, hi - lo);
	bool moved = false;
	for (size_t i = 0; i < m->count; i++) {
		struct mon_member *mm = &m->mm[i];
		if (mm->check && !mm->st.up && mm->st.since >= lo && !mm->published_up) {
			mm->published_up = true;
			moved = true;
		}
	}
	if (moved)
		notify(m);
}

/* ---- timers and checks ---- */

static void arm(struct monitor *m, ev_timer *w, double at, double now)
{
	ev_timer_stop(m->loop, w);
	ev_timer_set(w, at > now ? at - now : 0, 0);
	ev_timer_start(m->loop, w);
}

/* Hold and drain deadlines follow the state; a small margin makes sure that whoever reads the state
 * when changed() runs is past the deadline. */
static void arm_deadlines(struct mon_member *mm)
{
	struct monitor *m = mm->m;
	double now = ev_now(m->loop);
	if (mm->st.held_until > 0)
		arm(m, &mm->hold_timer, mm->st.held_until, now);
	else
		ev_timer_stop(m->loop, &mm->hold_timer);
	if (mm->st.forced == HEALTH_FORCE_DRAIN && mm->st.drain_until > now)
		arm(m, &mm->drain_timer, mm->st.drain_until + 0.001, now);
	else
		ev_timer_stop(m->loop, &mm->drain_timer);
}

static void log_transition(struct monitor *m, const struct mon_member *mm, const char *how)
{
	const struct health_state *st = &mm->st;
	const char *what = st->last_ok ? "success" : "failure";
	mlog(m, "health: %s/%s %s: %s (%s%u %s%s%s)%s", mm->pool, mm->name, st->up ? "up" : "down",
	     st->reason, how, st->streak, st->streak == 1 ? "" : "consecutive ", what,
	     st->streak == 1 ? "" : (st->last_ok ? "es" : "s"), m->frozen ? " [frozen: not published]" : "");
}

static void publish(struct mon_member *mm)
{
	if (!mm->m->frozen && mm->published_up != mm->st.up) {
		mm->published_up = mm->st.up;
		notify(mm->m);
	}
}

static void probe_done(void *arg, const struct probe_result *r);

static void start_check(struct mon_member *mm)
{
	struct monitor *m = mm->m;
	ev_timer_set(&mm->check_timer, mm->check->interval * (0.9 + 0.2 * uniform(m)), 0);
	ev_timer_start(m->loop, &mm->check_timer);
	mm->probe = probe_start(m->engine, mm->check, mm->cm, probe_done, mm);
}

static void check_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mon_member *mm = w->data;
	(void)loop;
	(void)revents;
	if (mm->probe)
		mm->due = true;
	else
		start_check(mm);
}

static void probe_done(void *arg, const struct probe_result *r)
{
	struct mon_member *mm = arg;
	struct monitor *m = mm->m;
	double now = ev_now(m->loop);
	bool was_held = mm->st.held_until > 0;
	mm->probe = NULL;
	m->stats.checks++;
	if (!r->ok)
		m->stats.failures++;
	bool changed = health_result(&mm->st, &mm->params, r->ok, r->reason, now);
	bool held = mm->st.held_until > 0;
	if (changed) {
		m->stats.transitions++;
		log_transition(m, mm, "");
	} else if (held && !was_held) {
		mlog(m, "health: %s/%s held down: %s", mm->pool, mm->name, mm->st.reason);
	} else if (was_held && !held) {
		mlog(m, "health: %s/%s hold ended; stays down: %s", mm->pool, mm->name, mm->st.reason);
	}
	/* a hold begins here, or ends here when this result came at its deadline before its timer */
	if (changed || held != was_held)
		arm_deadlines(mm);
	if (m->frozen && r->ok)
		thaw(m, mm);
	else
		publish(mm);
	if (!m->frozen && !r->ok)
		maybe_freeze(m);
	if (changed || held != was_held)
		save(m);
	if (mm->due) {
		mm->due = false;
		ev_timer_stop(m->loop, &mm->check_timer);
		start_check(mm);
	}
}

static void hold_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mon_member *mm = w->data;
	struct monitor *m = mm->m;
	(void)revents;
	if (mm->st.held_until <= 0)
		return;
	/* the timer may fire a hair before held_until by the wall clock; it is due all the same */
	double now = fmax(ev_now(loop), mm->st.held_until);
	if (health_tick(&mm->st, &mm->params, now)) {
		m->stats.transitions++;
		log_transition(m, mm, "hold ended, ");
		publish(mm);
	} else {
		mlog(m, "health: %s/%s hold ended; stays down: %s", mm->pool, mm->name, mm->st.reason);
	}
	save(m);
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mon_member *mm = w->data;
	(void)revents;
	if (mm->st.forced != HEALTH_FORCE_DRAIN)
		return;
	if (ev_now(loop) < mm->st.drain_until) {
		arm_deadlines(mm);
		return;
	}
	mlog(mm->m, "health: %s/%s drained: out of the answers", mm->pool, mm->name);
	notify(mm->m);
}

/* ---- building and tearing down the member list ---- */

static void params_of(const struct conf_check *c, struct health_params *p)
{
	p->rise = c->rise ? c->rise : 1;
	p->fall = c->fall ? c->fall : 1;
	p->flap_limit = c->flap_limit;
	p->flap_window = c->flap_window;
	p->hold = c->hold;
}

/* Lays out the members of conf with fresh states (up, no result) and unarmed timers. */
static bool build(struct monitor *m, const struct conf *conf, struct mon_member **out, size_t **first)
{
	size_t n = 0;
	for (size_t p = 0; p < conf->pool_count; p++)
		n += conf->pools[p].member_count;
	struct mon_member *v = calloc(n + 1, sizeof(*v));
	size_t *f = calloc(conf->pool_count + 1, sizeof(*f));
	if (!v || !f) {
		free(v);
		free(f);
		return false;
	}
	double now = ev_now(m->loop);
	size_t i = 0;
	for (size_t p = 0; p < conf->pool_count; p++) {
		f[p] = i;
		for (size_t k = 0; k < conf->pools[p].member_count; k++, i++) {
			struct mon_member *mm = &v[i];
			mm->m = m;
			mm->pool = conf->pools[p].name;
			mm->cm = &conf->pools[p].members[k];
			mm->name = mm->cm->name;
			mm->check = mm->cm->check;
			if (mm->check)
				params_of(mm->check, &mm->params);
			health_init(&mm->st, now);
			mm->published_up = true;
			ev_timer_init(&mm->check_timer, check_cb, 0, 0);
			ev_timer_init(&mm->hold_timer, hold_cb, 0, 0);
			ev_timer_init(&mm->drain_timer, drain_cb, 0, 0);
			mm->check_timer.data = mm->hold_timer.data = mm->drain_timer.data = mm;
		}
	}
	*out = v;
	*first = f;
	return true;
}

static void start_member(struct mon_member *mm)
{
	struct monitor *m = mm->m;
	if (!mm->check) {
		reset_observed(&mm->st, ev_now(m->loop));
		mm->published_up = true;
	}
	arm_deadlines(mm);
	if (mm->check) {
		double spread = mm->check->interval < 1 ? mm->check->interval : 1;
		ev_timer_set(&mm->check_timer, spread * uniform(m), 0);
		ev_timer_start(m->loop, &mm->check_timer);
	}
}

static void stop_member(struct mon_member *mm)
{
	struct ev_loop *loop = mm->m->loop;
	ev_timer_stop(loop, &mm->check_timer);
	ev_timer_stop(loop, &mm->hold_timer);
	ev_timer_stop(loop, &mm->drain_timer);
	if (mm->probe)
		probe_cancel(mm->probe);
	mm->probe = NULL;
	mm->due = false;
}

static void monitor_release(struct monitor *m)
{
	if (m->save_due)
		save_now(m);
	for (size_t i = 0; i < m->count; i++)
		stop_member(&m->mm[i]);
	ev_timer_stop(m->loop, &m->flush);
	if (m->engine)
		probe_engine_free(m->engine);
	free(m->mm);
	free(m->pool_first);
	free(m->state_path);
	free(m);
}

static bool restore(struct monitor *m, struct diag *d)
{
	if (!m->state_path)
		return true;
	struct health_entry *e = calloc(m->count + 1, sizeof(*e));
	if (!e)
		abort();
	for (size_t i = 0; i < m->count; i++)
		e[i] = (struct health_entry){m->mm[i].pool, m->mm[i].name, &m->mm[i].st};
	bool ok = health_load(m->state_path, &m->generation, e, m->count, d);
	free(e);
	for (size_t i = 0; ok && i < m->count; i++)
		m->mm[i].published_up = m->mm[i].st.up;
	return ok;
}

/* ---- the interface ---- */

struct monitor *monitor_new(struct ev_loop *loop, const struct conf *conf, const char *state_path,
			    const struct monitor_hooks *hooks, struct diag *d)
{
	struct monitor *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->loop = loop;
	m->conf = conf;
	m->generation = 1;
	if (hooks)
		m->hooks = *hooks;
	ev_timer_init(&m->flush, flush_cb, 0, 0);
	m->flush.data = m;
	seed(m);
	if (state_path && !(m->state_path = strdup(state_path)))
		abort();
	if (!build(m, conf, &m->mm, &m->pool_first))
		abort();
	m->count = 0;
	for (size_t p = 0; p < conf->pool_count; p++)
		m->count += conf->pools[p].member_count;
	m->pool_count = conf->pool_count;
	if (!restore(m, d) || !(m->engine = probe_engine_new(loop, d))) {
		monitor_release(m);
		return NULL;
	}
	for (size_t i = 0; i < m->count; i++)
		start_member(&m->mm[i]);
	return m;
}

void monitor_free(struct monitor *m)
{
	if (m)
		monitor_release(m);
}

static int member_cmp(const void *a, const void *b)
{
	const struct mon_member *x = *(const struct mon_member *const *)a;
	const struct mon_member *y = *(const struct mon_member *const *)b;
	int c = strcmp(x->pool, y->pool);
	return c ? c : strcmp(x->name, y->name);
}

void monitor_reconfigure(struct monitor *m, const struct conf *conf)
{
	struct mon_member *old = m->mm, *v;
	size_t oldn = m->count, *first;
	struct mon_member **sorted = calloc(oldn + 1, sizeof(*sorted));
	if (!sorted || !build(m, conf, &v, &first))
		abort();
	for (size_t i = 0; i < oldn; i++) {
		stop_member(&old[i]);
		sorted[i] = &old[i];
	}
	qsort(sorted, oldn, sizeof(*sorted), member_cmp);
	m->mm = v;
	m->count = 0;
	for (size_t p = 0; p < conf->pool_count; p++)
		m->count += conf->pools[p].member_count;
	bool moved = false;
	for (size_t i = 0; i < m->count; i++) {
		struct mon_member *key = &v[i],
				  **hit = bsearch(&key, sorted, oldn, sizeof(*sorted), member_cmp);
		if (!hit)
			continue;
		v[i].st = (*hit)->st;
		v[i].published_up = (*hit)->published_up;
		if (!v[i].check && !v[i].published_up)
			moved = true; /* no longer monitored: counts as up from now on */
	}
	free(sorted);
	free(old);
	free(m->pool_first);
	m->pool_first = first;
	m->pool_count = conf->pool_count;
	m->conf = conf;
	for (size_t i = 0; i < m->count; i++)
		start_member(&m->mm[i]);
	save(m);
	if (moved)
		notify(m);
}

enum health_serving monitor_serving(const struct monitor *m, unsigned pool, unsigned member, double now)
{
	const struct mon_member *mm = find(m, pool, member);
	if (!mm)
		return HEALTH_OUT;
	struct health_state published = mm->st;
	published.up = mm->published_up;
	return health_serving(&published, now);
}

const struct health_state *monitor_state(const struct monitor *m, unsigned pool, unsigned member)
{
	const struct mon_member *mm = find(m, pool, member);
	return mm ? &mm->st : NULL;
}

bool monitor_monitored(const struct monitor *m, unsigned pool, unsigned member)
{
	const struct mon_member *mm = find(m, pool, member);
	return mm && mm->check;
}

bool monitor_frozen(const struct monitor *m)
{
	return m->frozen;
}

uint64_t monitor_generation(const struct monitor *m)
{
	return m->generation;
}

int monitor_force(struct monitor *m, unsigned pool, unsigned member, enum health_forced f, double drain_in,
		  uint64_t if_generation, char *err, size_t err_size)
{
	struct mon_member *mm = find(m, pool, member);
	if (!mm) {
		if (err && err_size)
			snprintf(err, err_size, "no member %u in pool %u", member, pool);
		return 1;
	}
	if (if_generation != 0 && if_generation != m->generation) {
		if (err && err_size)
			snprintf(
			    err, err_size,
			    "generation moved: you acted on generation %llu, the current generation is %llu",
			    (unsigned long long)if_generation, (unsigned long long)m->generation);
		return 1;
	}
	health_force(&mm->st, f, drain_in, ev_now(m->loop));
	m->generation++;
	arm_deadlines(mm);
	if (f == HEALTH_FORCE_DRAIN)
		mlog(m, "health: %s/%s forced drain: out of the answers in %g s (generation %llu)", mm->pool,
		     mm->name, drain_in, (unsigned long long)m->generation);
	else
		mlog(m, "health: %s/%s forced %s (generation %llu)", mm->pool, mm->name,
		     health_forced_name(f), (unsigned long long)m->generation);
	save_now(m);
	notify(m);
	return 0;
}

void monitor_stats(const struct monitor *m, struct monitor_stats *out)
{
	*out = m->stats;
}
