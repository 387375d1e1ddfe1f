/* daemon.c -- the control thread: start-up, reload, health-driven publication, stop (see daemon.h). */
#include "meridian/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "meridian/guard.h"
#include "meridian/json.h"
#include "meridian/loader.h"
#include "meridian/policy.h"
#include "meridian/prepared.h"
#include "meridian/privileges.h"
#include "meridian/supervisor.h"

/* Whether stderr is systemd's journal stream (JOURNAL_STREAM names its device and inode): lines
 * then carry their syslog priority as "<N>" and no time stamp of ours (the journal keeps its own). */
static bool log_to_journal;

void daemon_log_init(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	log_to_journal = stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
			 fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
			 (unsigned long long)st.st_ino == ino;
}

/* One line, written whole: the loading thread logs too. */
static void log_line(int priority, const char *fmt, va_list ap)
{
	flockfile(stderr);
	if (log_to_journal) {
		fprintf(stderr, "<%d>", priority);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
		fprintf(stderr, "%s meridiand: ", stamp);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void daemon_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}

void daemon_log_at(int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(priority, fmt, ap);
	va_end(ap);
}

void daemon_log_diag(const char *prefix, const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		daemon_log_at(d->entries[i].level == DIAG_WARNING ? LOG_WARNING : LOG_ERR, "%s%s%s", prefix,
			      d->entries[i].level == DIAG_WARNING ? "warning: " : "", d->entries[i].text);
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

void daemon_health_changed(void *arg)
{
	struct daemon *dm = arg;
	const struct snapshot *running = snapshot_latest();
	if (!running->conf->record_count)
		return;
	double t0 = monotonic_ms();
	struct diag d;
	diag_init(&d);
	struct policy_report report;
	struct dyn_table *t = daemon_answers(dm, running, running, &report, &d);
	if (!t) {
		daemon_log_diag("health: ", &d);
		daemon_log_at(LOG_ERR, "health: new answers failed; the running answers keep serving");
		diag_free(&d);
		return;
	}
	daemon_log_diag("policy: ", &d); /* Lua policies that failed kept their last good answers */
	diag_free(&d);
	struct snapshot *s = snapshot_derive(running, t);
	snapshot_publish(s);
	dm->last_publish_ms = monotonic_ms() - t0;
	dm->health_publications++;
	daemon_note_report(dm, s, &report, "health");
	daemon_log("health: published snapshot %llu (%zu answers) in %.2f ms",
		   (unsigned long long)s->generation, t->record_count * t->region_count, dm->last_publish_ms);
}

void daemon_audit(struct daemon *dm, struct audit_event *e)
{
	if (!dm->audit) {
		audit_discard(e);
		return;
	}
	if (!audit_write(dm->audit, e))
		daemon_log_at(LOG_ERR, "audit: cannot write %s: %s", audit_path(dm->audit), strerror(errno));
}

/* The audit log in the state folder, (re)opened at start and on every reload, so that it can be
 * moved away for rotation. A log that cannot be opened is reported; the server keeps serving. */
static void audit_reopen(struct daemon *dm)
{
	char *path = NULL;
	if (asprintf(&path, "%s/audit.log", dm->state_dir) < 0)
		abort();
	struct diag d;
	diag_init(&d);
	struct audit *a = audit_open(path, &d);
	free(path);
	if (!a) {
		daemon_log_diag("audit: ", &d);
		diag_free(&d);
		return; /* keep the old descriptor, if any */
	}
	diag_free(&d);
	audit_close(dm->audit);
	dm->audit = a;
}

static void on_component_log(void *arg, const char *line)
{
	(void)arg;
	daemon_log("%s", line);
}

/* Folder for the health state (and the control socket by default); made when missing. It, and the
 * files meridiand keeps in it, must be writable by the account meridiand runs as: a folder left
 * from a run as root is the usual case, and is named here rather than by the first write to fail. */
static bool make_state_dir(const char *dir, struct diag *d)
{
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		diag_error(d, dir, 0, "cannot create the state folder: %s", strerror(errno));
		return false;
	}
	static const char *const kept[] = {"", "/health.state", "/audit.log"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", dir, kept[i]);
		struct stat st;
		bool exists = lstat(path, &st) == 0;
		if ((i && !exists) || access(path, i ? W_OK : W_OK | X_OK) == 0)
			continue;			 /* a file not made yet, or one we may write */
		if (errno != EACCES && errno != EPERM) { /* a read-only file system, ... */
			diag_error(d, path, 0, "%s is not writable: %s", i ? "this file" : "the state folder",
				   strerror(errno));
			return false;
		}
		char owner[64] = "another account", self[64] = "this account";
		struct passwd *pw = exists ? getpwuid(st.st_uid) : NULL;
		if (pw) /* getpwuid's result is overwritten by the next call: copied */
			snprintf(owner, sizeof(owner), "%s", pw->pw_name);
		if ((pw = getpwuid(geteuid())))
			snprintf(self, sizeof(self), "%s", pw->pw_name);
		diag_error(d, path, 0,
			   "%s is not writable by %s, the account meridiand runs as (it belongs to %s): "
			   "chown it to that account, or set another state_dir",
			   i ? "this file" : "the state folder", self, owner);
		return false;
	}
	return true;
}

static char *state_file(const char *dir)
{
	char *path = NULL;
	if (asprintf(&path, "%s/health.state", dir) < 0)
		abort();
	return path;
}

/* Whether z is the very zone previous (may be NULL) holds at its apex: kept by the reload. */
static bool zone_kept(const struct zone *z, const struct zone_set *previous)
{
	return previous && zone_set_get(previous, z->apex.data, z->apex.len) == z;
}

/* How many zones of set were kept from previous as they were. */
static size_t zones_kept(const struct zone_set *set, const struct zone_set *previous)
{
	size_t n = 0;
	for (size_t i = 0; i < set->count; i++)
		n += zone_kept(set->zones[i], previous);
	return n;
}

/* A line per zone of s; those kept from previous (may be NULL) as they were say so. */
static void log_snapshot(const struct snapshot *s, const struct zone_set *previous)
{
	const struct zone_set *set = s->zones;
	for (size_t i = 0; i < set->count; i++) {
		const struct zone *z = set->zones[i];
		bool kept = zone_kept(z, previous);
		daemon_log("zone %s: serial %u, %zu records%s", z->name_text, z->serial, z->rr_count,
			   kept ? ", files unchanged: kept as loaded" : "");
	}
	if (s->geo)
		daemon_log("geo: %zu regions, %zu map entries", s->conf->geo.region_count,
			   geo_map_entries(s->geo));
}

void daemon_prepare(struct snapshot *s)
{
	if (s->prepared)
		return;
	struct prepared *p = prepared_build(s, s->conf->prepared_answers);
	snapshot_set_prepared(s, p);
	if (!p)
		return;
	char dnssec[64] = "";
	if (prepared_dnssec_count(p))
		snprintf(dnssec, sizeof(dnssec), ", %zu of them also with DNSSEC", prepared_dnssec_count(p));
	daemon_log("prepared answers: %zu%s (%.1f MiB)%s", prepared_count(p), dnssec,
		   (double)prepared_bytes(p) / (1024.0 * 1024.0),
		   prepared_capped(p) ? ", stopped at prepared_answers; the rest take the general path" : "");
}

enum control_status daemon_reload_finish(struct load *l, FILE *out)
{
	struct daemon *dm = l->dm;
	struct candidate *c = &l->c;
	bool ok = daemon_candidate_conclude(dm, c, l->source);
	daemon_log_diag(ok ? "reload: " : "reload: failed: ", &c->reasons);
	const struct snapshot *s = snapshot_latest();
	char took[64];
	double now = daemon_now(), waited = l->started - l->asked;
	snprintf(took, sizeof(took), "in %.2f s", now - l->started);
	if (waited >= 0.05)
		snprintf(took + strlen(took), sizeof(took) - strlen(took), ", after waiting %.2f s", waited);
	if (!ok) {
		daemon_log_at(LOG_WARNING,
			      "reload: failed: the running configuration (serial %" PRIu64 ") keeps serving",
			      s->conf->serial);
	} else {
		if (!out)
			log_snapshot(s, l->previous);
		daemon_log("reload: ok (serial %" PRIu64 ", snapshot %" PRIu64
			   ", %zu zones, %zu dynamic records) %s%s",
			   s->conf->serial, s->generation, s->zones->count, s->conf->record_count, took,
			   out ? ", asked by meridianctl" : "");
	}
	if (!out)
		return ok ? CONTROL_OK : CONTROL_REFUSED;
	const struct diag *d = &c->reasons;
	size_t kept = ok ? zones_kept(s->zones, l->previous) : 0, read = ok ? s->zones->count - kept : 0;
	if (l->json) {
		fprintf(
		    out,
		    "{\"ok\":%s,\"serial\":%" PRIu64 ",\"snapshot\":%" PRIu64
		    ",\"seconds\":%.3f,\"waited\":%.3f,\"zones_read\":%zu,\"zones_kept\":%zu,\"messages\":[",
		    ok ? "true" : "false", s->conf->serial, s->generation, now - l->started, waited, read,
		    kept);
		for (size_t i = 0; i < d->count; i++) {
			if (i)
				fputc(',', out);
			json_write_string(out, d->entries[i].text);
		}
		fputs("]}\n", out);
	} else {
		for (size_t i = 0; i < d->count; i++)
			fprintf(out, "%s\n", d->entries[i].text);
		fprintf(out, "reload %s: serial %" PRIu64 " serving (snapshot %" PRIu64 ")",
			ok ? "ok" : "refused", s->conf->serial, s->generation);
		if (ok)
			fprintf(out, "; zones: %zu read, %zu kept (files unchanged)", read, kept);
		fputc('\n', out);
	}
	return ok ? CONTROL_OK : CONTROL_REFUSED;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (w->signum == SIGHUP) {
		struct daemon *dm = w->data;
		audit_reopen(dm);
		struct load *l = daemon_load_new(dm, LOAD_RELOAD);
		l->source = "signal";
		daemon_load_queue(dm, l);
		return;
	}
	daemon_log_at(LOG_NOTICE, "stopping (signal %d)", w->signum);
	supervisor_stopping();
	ev_break(loop, EVBREAK_ALL);
}

/* The first answers, under the restored health, and the guard's verdict: a config that breaks an
 * intent does not start (there is no last good state to keep serving). Audited either way. */
static bool start_answers(struct daemon *dm, struct snapshot *snap, struct policy_report *report,
			  struct diag *d)
{
	struct diag why;
	diag_init(&why);
	struct dyn_table *t = daemon_answers(dm, snap, NULL, report, &why);
	bool ok = t || !snap->conf->record_count;
	if (t) {
		dyn_table_free(snap->dyn);
		snap->dyn = t;
	}
	if (ok && guard_check_snapshot(snap, daemon_now(), &why))
		ok = false;
	struct audit_event e;
	audit_begin(&e, "start");
	audit_add_string(&e, "result", ok ? "accepted" : "refused");
	audit_add_string(&e, "config", dm->config_path);
	audit_add_uint(&e, "serial", snap->conf->serial);
	audit_add_diag(&e, "reasons", &why);
	daemon_audit(dm, &e);
	if (!ok)
		diag_error(&why, dm->config_path, 0,
			   "refusing to start: the configuration breaks its intent");
	diag_move(d, &why);
	diag_free(&why);
	return ok;
}

/* Config, zones, state folder, monitor and first answers: the snapshot to start with. */
static struct snapshot *start_snapshot(struct daemon *dm, struct policy_report *report, struct diag *d)
{
	struct conf *conf = conf_load(dm->config_path, d);
	if (!conf)
		return NULL;
	/* Before any zone, state file or thread: start-up reads what reloads will read, as they will. */
	if (!privileges_drop(&conf->user, dm->config_path, d)) {
		conf_free(conf);
		return NULL;
	}
	if (geteuid() == 0)
		diag_warn(d, dm->config_path, 0,
			  "running as root: set user = \"NAME\" to run as an unprivileged account once the "
			  "sockets are bound");
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
	const struct monitor_hooks hooks = {
	    .changed = daemon_health_changed, .log = on_component_log, .arg = dm};
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
	audit_reopen(dm);
	return start_answers(dm, snap, report, d) ? snap : (snapshot_free(snap), NULL);
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
	dm->transfers = transfer_server_new(dm->loop, on_component_log, dm);
	dm->notifier = notifier_new(dm->loop, on_component_log, dm);
	if (!dm->transfers || !dm->notifier) {
		diag_error(d, NULL, 0, "cannot start the transfer server: %s", strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return false;
	}
	dm->server = server_start(conf, transfer_server_handoff_fd(dm->transfers), d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!dm->server)
		return false;
	if (conf->metrics.addr_len &&
	    !(dm->metrics = http_start(dm->loop, &conf->metrics.addr, conf->metrics.addr_len,
				       conf->metrics.text, daemon_metrics, dm, d)))
		return false;
	return privileges_bound(d); /* every socket is bound: CAP_NET_BIND_SERVICE goes */
}

static void stop_all(struct daemon *dm)
{
	daemon_loads_stop(dm); /* answers the clients waiting for loads: before the socket closes */
	control_close(dm->control);
	http_stop(dm->metrics);
	server_stop(dm->server);
	transfer_server_free(dm->transfers); /* after the workers: none hands anything over any more */
	notifier_free(dm->notifier);
	ev_timer_stop(dm->loop, &dm->recheck);
	ev_timer_stop(dm->loop, &dm->limit_report);
	monitor_free(dm->monitor);
	snapshot_free(snapshot_latest());
	audit_close(dm->audit);
	free(dm->state_dir);
	free(dm->control_path);
}

#define RATE_REPORT_INTERVAL 10.0 /* seconds */

/* The workers count what the rate limit did; the control thread says so in the log, once per
 * interval in which it did anything (the query path never writes a log line). */
static void on_limit_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct daemon *dm = w->data;
	struct query_stats q;
	server_stats(dm->server, &q);
	uint64_t now[4] = {q.rate_limited, q.slipped, q.dry_limited, q.dry_slipped}, d[4];
	for (int i = 0; i < 4; i++)
		d[i] = now[i] - dm->limit_reported[i];
	if (d[0] || d[1])
		daemon_log("rate limit: %" PRIu64 " responses unanswered and %" PRIu64
			   " sent truncated in the last %.0f s",
			   d[0], d[1], RATE_REPORT_INTERVAL);
	if (d[2] || d[3])
		daemon_log("rate limit (dry run): %" PRIu64
			   " responses would have gone unanswered and %" PRIu64
			   " truncated in the last %.0f s",
			   d[2], d[3], RATE_REPORT_INTERVAL);
	memcpy(dm->limit_reported, now, sizeof(now));
}

static void run_loop(struct daemon *dm)
{
	ev_timer_start(dm->loop, &dm->limit_report);
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
	if (dm->metrics)
		daemon_log("metrics on http://%s/metrics", c->metrics.text);
	daemon_log("ready: serial %llu, %zu zones, %u workers", (unsigned long long)c->serial,
		   snapshot_latest()->zones->count, c->workers);
	supervisor_ready(c->serial, snapshot_latest()->zones->count, false);
	notifier_changes(dm->notifier, NULL, snapshot_latest());
	ev_run(dm->loop, 0);
}

int daemon_serve(const char *config_path)
{
	daemon_log_init();
	struct daemon dm = {.config_path = strdup(config_path), .loop = EV_DEFAULT, .started = daemon_now()};
	dm.loader = background_new(dm.loop);
	if (!dm.config_path || !dm.loader)
		abort();
	ev_timer_init(&dm.recheck, NULL, 0, 0); /* started with its callback by daemon_note_report */
	ev_timer_init(&dm.limit_report, on_limit_report, RATE_REPORT_INTERVAL, RATE_REPORT_INTERVAL);
	dm.limit_report.data = &dm;
	struct diag d;
	diag_init(&d);
	struct policy_report report;
	struct snapshot *snap = start_snapshot(&dm, &report, &d);
	if (snap) {
		log_snapshot(snap, NULL);
		daemon_prepare(snap);
		snapshot_publish(snap);
		daemon_note_report(&dm, snap, &report, "start");
	}
	bool ok = snap && start_workers(&dm, snap->conf, &d);
	daemon_log_diag("", &d);
	diag_free(&d);
	if (ok)
		run_loop(&dm);
	if (snap) {
		stop_all(&dm);
	} else {
		background_free(dm.loader);
		monitor_free(dm.monitor);
		audit_close(dm.audit);
		free(dm.state_dir);
		free(dm.control_path);
	}
	free(dm.config_path);
	if (ok)
		daemon_log("stopped");
	return ok ? 0 : 1;
}
