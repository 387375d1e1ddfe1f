/* daemon.c -- the control thread: start-up, reload, health-driven publication, stop (see daemon.h). */
#include "meridian/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"
#include "meridian/loader.h"
#include "meridian/policy.h"

void daemon_log(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s meridiand: ", stamp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void daemon_log_diag(const char *prefix, const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		daemon_log("%s%s%s", prefix, d->entries[i].level == DIAG_WARNING ? "warning: " : "",
			   d->entries[i].text);
}

double daemon_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The answers of conf (with geo) under the monitor's live health; previous is the snapshot serving
 * now (for when_all_down = "last_good"), NULL at start-up. */
static void on_recheck(struct ev_loop *loop, ev_timer *w, int revents);

/* Lua policy runs: counters for status, the error for the log, and the next recheck. */
static void note_policy_runs(struct daemon *dm, const struct policy_report *r, double now)
{
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

static struct dyn_table *answers_with_health(struct daemon *dm, const struct snapshot *target,
					     const struct snapshot *previous, struct diag *d)
{
	const struct conf *conf = target->conf;
	if (!conf->record_count)
		return NULL;
	double now = daemon_now();
	uint8_t **serving = calloc(conf->pool_count + 1, sizeof(*serving));
	bool **forced = calloc(conf->pool_count + 1, sizeof(*forced));
	double **since = calloc(conf->pool_count + 1, sizeof(*since));
	if (!serving || !forced || !since)
		abort();
	for (unsigned p = 0; p < conf->pool_count; p++) {
		size_t n = conf->pools[p].member_count + 1;
		serving[p] = calloc(n, sizeof(**serving));
		forced[p] = calloc(n, sizeof(**forced));
		since[p] = calloc(n, sizeof(**since));
		if (!serving[p] || !forced[p] || !since[p])
			abort();
		for (unsigned m = 0; m < conf->pools[p].member_count; m++) {
			const struct health_state *h = monitor_state(dm->monitor, p, m);
			serving[p][m] = (uint8_t)monitor_serving(dm->monitor, p, m, now);
			forced[p][m] = h->forced != HEALTH_AUTO;
			since[p][m] =
			    now - (h->forced != HEALTH_AUTO && h->forced_since > h->since ? h->forced_since
											  : h->since);
		}
	}
	struct policy_report report = {0};
	struct policy_inputs in = {.serving = (const uint8_t *const *)serving,
				   .lua = target->lua,
				   .forced = (const bool *const *)forced,
				   .since = (const double *const *)since,
				   .now = now,
				   .report = &report};
	if (previous) {
		in.previous = previous->dyn;
		in.previous_conf = previous->conf;
	}
	struct dyn_table *t = policy_compute(conf, target->geo, &in, d);
	for (unsigned p = 0; p < conf->pool_count; p++) {
		free(serving[p]);
		free(forced[p]);
		free(since[p]);
	}
	free(serving);
	free(forced);
	free(since);
	if (report.lua_runs)
		note_policy_runs(dm, &report, now);
	return t;
}

/* Gives a candidate the live-health answers instead of the loader's all-up ones. */
static void apply_health(struct daemon *dm, struct snapshot *cand, const struct snapshot *previous)
{
	struct diag d;
	diag_init(&d);
	struct dyn_table *t = answers_with_health(dm, cand, previous, &d);
	if (t) {
		dyn_table_free(cand->dyn);
		cand->dyn = t;
	}
	daemon_log_diag("health: ", &d);
	diag_free(&d);
}

/* The monitor's published state changed: new answers over the same zones, one swap. */
static void on_health_changed(void *arg)
{
	struct daemon *dm = arg;
	const struct snapshot *running = snapshot_latest();
	if (!running->conf->record_count)
		return;
	double t0 = monotonic_ms();
	struct diag d;
	diag_init(&d);
	struct dyn_table *t = answers_with_health(dm, running, running, &d);
	if (!t) {
		daemon_log_diag("health: ", &d);
		daemon_log("health: new answers failed; the running answers keep serving");
		diag_free(&d);
		return;
	}
	daemon_log_diag("policy: ", &d); /* Lua policies that failed kept their last good answers */
	diag_free(&d);
	struct snapshot *s = snapshot_derive(running, t);
	snapshot_publish(s);
	dm->last_publish_ms = monotonic_ms() - t0;
	dm->health_publications++;
	daemon_log("health: published snapshot %llu (%zu answers) in %.2f ms",
		   (unsigned long long)s->generation, t->record_count * t->region_count, dm->last_publish_ms);
}

/* A policy asked to run again at a time (follow-the-sun rules): the same as a health change. */
static void on_recheck(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	on_health_changed(w->data);
}

static void on_monitor_log(void *arg, const char *line)
{
	(void)arg;
	daemon_log("%s", line);
}

/* Folder for the health state (and the control socket by default); made when missing. */
static bool make_state_dir(const char *dir, struct diag *d)
{
	if (mkdir(dir, 0750) == 0 || errno == EEXIST)
		return true;
	diag_error(d, dir, 0, "cannot create the state folder: %s", strerror(errno));
	return false;
}

static char *state_file(const char *dir)
{
	char *path = NULL;
	if (asprintf(&path, "%s/health.state", dir) < 0)
		abort();
	return path;
}

static const char *restart_only_change(const struct daemon *dm, const struct conf *running,
				       const struct conf *c)
{
	if (!server_same_sockets(running, c))
		return "listen, workers, tcp_clients and tcp_idle_timeout";
	if (strcmp(dm->state_dir, c->state_dir) || strcmp(dm->control_path, c->control))
		return "state_dir and control";
	return NULL;
}

bool daemon_reload(struct daemon *dm, struct diag *d)
{
	struct conf *conf = conf_load(dm->config_path, d);
	const struct snapshot *running = snapshot_latest();
	const char *fixed = NULL;
	/* A config older than the running one is stale (pushed from an old checkout, say): refuse it.
	 * An equal serial reloads the zones under the same config. */
	struct snapshot *cand = NULL;
	if (conf && conf->serial < running->conf->serial)
		diag_error(d, dm->config_path, 0,
			   "stale config: serial %llu is older than the running serial %llu",
			   (unsigned long long)conf->serial, (unsigned long long)running->conf->serial);
	else if (conf && (fixed = restart_only_change(dm, running->conf, conf)))
		diag_error(d, dm->config_path, 0, "%s can only change with a restart", fixed);
	else if (conf)
		cand = loader_build(conf, LOADER_ALL_OR_NOTHING, d), conf = NULL;
	conf_free(conf);
	if (!cand) {
		dm->reload_failures++;
		return false;
	}
	monitor_reconfigure(dm->monitor, cand->conf);
	apply_health(dm, cand, running);
	snapshot_publish(cand);
	dm->reloads++;
	return true;
}

static void log_snapshot(const struct snapshot *s)
{
	const struct zone_set *set = s->zones;
	for (size_t i = 0; i < set->count; i++)
		daemon_log("zone %s: serial %u, %zu records", set->zones[i]->name_text, set->zones[i]->serial,
			   set->zones[i]->rr_count);
	if (s->geo)
		daemon_log("geo: %zu regions, %zu map entries", s->conf->geo.region_count,
			   geo_map_entries(s->geo));
}

static void reload_and_log(struct daemon *dm)
{
	struct diag d;
	diag_init(&d);
	bool ok = daemon_reload(dm, &d);
	daemon_log_diag(ok ? "reload: " : "reload: failed: ", &d);
	diag_free(&d);
	const struct snapshot *s = snapshot_latest();
	if (!ok) {
		daemon_log("reload: failed: the running configuration (serial %llu) keeps serving",
			   (unsigned long long)s->conf->serial);
		return;
	}
	log_snapshot(s);
	daemon_log("reload: ok (serial %llu, snapshot %llu, %zu zones, %zu dynamic records)",
		   (unsigned long long)s->conf->serial, (unsigned long long)s->generation, s->zones->count,
		   s->conf->record_count);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGHUP) {
		reload_and_log(w->data);
		return;
	}
	daemon_log("stopping (signal %d)", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* Config, zones, state folder, monitor and first answers: the snapshot to start with. */
static struct snapshot *start_snapshot(struct daemon *dm, struct diag *d)
{
	struct conf *conf = conf_load(dm->config_path, d);
	if (!conf)
		return NULL;
	size_t zone_count = conf->zone_count;
	struct snapshot *snap = loader_build(conf, LOADER_SKIP_BAD_ZONES, d);
	if (!snap)
		return NULL;
	if (snap->zones->count < zone_count)
		diag_warn(d, dm->config_path, 0, "%zu of %zu zones failed to load and are not served",
			  zone_count - snap->zones->count, zone_count);
	if (!make_state_dir(snap->conf->state_dir, d)) {
		snapshot_free(snap);
		return NULL;
	}
	char *path = state_file(snap->conf->state_dir);
	const struct monitor_hooks hooks = {.changed = on_health_changed, .log = on_monitor_log, .arg = dm};
	dm->monitor = monitor_new(dm->loop, snap->conf, path, &hooks, d);
	free(path);
	if (!dm->monitor) {
		diag_error(d, snap->conf->state_dir, 0,
			   "the health state cannot be restored; move health.state away to start afresh");
		snapshot_free(snap);
		return NULL;
	}
	dm->state_dir = strdup(snap->conf->state_dir);
	dm->control_path = strdup(snap->conf->control);
	apply_health(dm, snap, NULL);
	return snap;
}

/* Opens the control socket (first: a second meridiand on the same state folder stops here, before
 * it binds anything), then starts the workers with the control signals blocked, so only this thread
 * handles them. */
static bool start_workers(struct daemon *dm, const struct conf *conf, struct diag *d)
{
	dm->control = control_open(dm->loop, conf->control, daemon_command, dm, d);
	if (!dm->control)
		return false;
	sigset_t control, old;
	sigemptyset(&control);
	sigaddset(&control, SIGHUP);
	sigaddset(&control, SIGTERM);
	sigaddset(&control, SIGINT);
	pthread_sigmask(SIG_BLOCK, &control, &old);
	dm->server = server_start(conf, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return dm->server != NULL;
}

static void stop_all(struct daemon *dm)
{
	control_close(dm->control);
	server_stop(dm->server);
	ev_timer_stop(dm->loop, &dm->recheck);
	monitor_free(dm->monitor);
	snapshot_free(snapshot_latest());
	free(dm->state_dir);
	free(dm->control_path);
}

static void run_loop(struct daemon *dm)
{
	ev_signal sig[3];
	static const int signums[3] = {SIGHUP, SIGTERM, SIGINT};
	for (int i = 0; i < 3; i++) {
		ev_signal_init(&sig[i], on_signal, signums[i]);
		sig[i].data = dm;
		ev_signal_start(dm->loop, &sig[i]);
	}
	const struct conf *c = snapshot_latest()->conf;
	for (size_t i = 0; i < c->listen_count; i++)
		daemon_log("listening on %s (udp, tcp)", c->listen[i].text);
	daemon_log("control socket %s", c->control);
	daemon_log("ready: serial %llu, %zu zones, %u workers", (unsigned long long)c->serial,
		   snapshot_latest()->zones->count, c->workers);
	ev_run(dm->loop, 0);
}

int daemon_serve(const char *config_path)
{
	struct daemon dm = {.config_path = config_path, .loop = EV_DEFAULT, .started = daemon_now()};
	ev_timer_init(&dm.recheck, on_recheck, 0, 0);
	struct diag d;
	diag_init(&d);
	struct snapshot *snap = start_snapshot(&dm, &d);
	if (snap) {
		log_snapshot(snap);
		snapshot_publish(snap);
	}
	bool ok = snap && start_workers(&dm, snap->conf, &d);
	daemon_log_diag("", &d);
	diag_free(&d);
	if (ok)
		run_loop(&dm);
	if (snap)
		stop_all(&dm);
	else
		monitor_free(dm.monitor);
	if (ok)
		daemon_log("stopped");
	return ok ? 0 : 1;
}
