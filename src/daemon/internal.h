/* internal.h -- the daemon's state, shared by daemon.c (lifecycle, reload, publication) and
 * commands.c (the control socket's commands). Control thread only. */
#ifndef MERIDIAN_DAEMON_INTERNAL_H
#define MERIDIAN_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "meridian/audit.h"
#include "meridian/background.h"
#include "meridian/control.h"
#include "meridian/diag.h"
#include "meridian/http.h"
#include "meridian/monitor.h"
#include "meridian/policy.h"
#include "meridian/server.h"
#include "meridian/snapshot.h"
#include "meridian/transfer.h"

struct daemon {
	char *config_path; /* the config reload reads: the one started with, or the last applied */
	struct ev_loop *loop;
	struct server *server;
	struct monitor *monitor;
	struct control *control;
	char *state_dir; /* as the running config resolved them: changing them needs a restart */
	char *control_path;
	double started; /* wall clock */
	uint64_t reloads, reload_failures;
	uint64_t health_publications;
	double last_publish_ms;		     /* policy run + swap of the last health publication */
	uint64_t policy_runs, policy_errors; /* Lua policy calls, and those that failed */
	double policy_last_ms;		     /* Lua time of the last computation */
	char policy_last_error[512];
	ev_timer recheck; /* the earliest time a Lua policy asked to run again */
	struct audit *audit;
	uint64_t guard_interventions;  /* answers the guard replaced */
	uint64_t guard_refusals;       /* candidates refused for breaking an intent */
	struct http_endpoint *metrics; /* the Prometheus endpoint, when configured */
	ev_timer limit_report;	       /* logs what the rate limit did, every RATE_REPORT_INTERVAL */
	uint64_t limit_reported[4]; /* rate_limited, slipped, dry_limited, dry_slipped at the last report */
	struct background *loader;  /* loads configs off this thread (loads.c) */
	struct load *loading;	    /* the load running there, NULL when none */
	struct load *queue;	    /* the loads waiting, in order */
	double last_load_seconds;   /* how long the last reload or apply took to load (0: none yet) */
	bool stopping;		    /* no load starts any more */
	struct transfer_server *transfers; /* zone transfers the workers hand over (transfer.h) */
	struct notifier *notifier;	   /* NOTIFY to the zones' secondaries */
};

/* A log line on stderr: "TIME meridiand: TEXT", or "<PRIORITY>TEXT" when stderr is the journal's
 * stream (daemon_log_init decides, once). daemon_log is LOG_INFO; diag entries are LOG_ERR or
 * LOG_WARNING. Safe from any thread. */
void daemon_log_init(void);
void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void daemon_log_at(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* metrics.c: the metrics endpoint's page (an http_render_fn; arg: the daemon). */
char *daemon_metrics(void *arg, size_t *len);
void daemon_log_diag(const char *prefix, const struct diag *d);
/* Prepares the answers of a snapshot's zones (prepared.h) unless its base has them, and logs how
 * many; before the snapshot is published. */
void daemon_prepare(struct snapshot *s);
double daemon_now(void); /* wall clock, seconds */

/* Appends an event to the audit log (logging, not failing, when it cannot be written). */
void daemon_audit(struct daemon *dm, struct audit_event *e);

/* answers.c: the answers of target's dynamic records under live health (members matched by name
 * with the running config's), guarded by target's intents; previous is the snapshot serving now
 * (NULL at start-up). report is filled; NULL when target has no dynamic records or on error (d). */
struct dyn_table *daemon_answers(struct daemon *dm, const struct snapshot *target,
				 const struct snapshot *previous, struct policy_report *report,
				 struct diag *d);
/* What a computation whose answers now serve s reported: counters, the recheck timer, and the
 * guard's replacements to the log and the audit log (source: "health", "reload", ...). */
void daemon_note_report(struct daemon *dm, const struct snapshot *s, const struct policy_report *r,
			const char *source);
/* The monitor's published state changed (or a policy asked to run again): new answers, one swap. */
void daemon_health_changed(void *arg);

/* candidate.c: a config that may replace the running one (reload, apply, plan). */
enum candidate_verdict {
	CANDIDATE_SAFE,	   /* loads, and nothing refuses it */
	CANDIDATE_REFUSED, /* loads, but a stale serial, a restart-only change or the guard refuses it */
	CANDIDATE_ERROR,   /* does not load (the reasons say why) */
};

struct candidate {
	char *path; /* the config file, absolute when it could be resolved */
	enum candidate_verdict verdict;
	struct snapshot *snap;	     /* with live-health answers; NULL when it did not load */
	struct diag reasons;	     /* errors: why it is refused or does not load; warnings too */
	uint64_t running_serial;     /* the serial serving when it was built */
	bool has_serial;	     /* its config loaded: */
	uint64_t serial;	     /* its serial */
	struct policy_report report; /* its answers' computation (for daemon_note_report on publish) */
	size_t guard_violations;     /* what the guard found (plan reports them; reload and apply count
				      * a refusal in the daemon's guard_refusals) */
};

/* The slow half, on the background thread (it touches nothing of the daemon's): loads path, its
 * zones (keeping those of previous, the set serving, whose files did not change: loader_build_from),
 * geo map and policies, prepares the answers (when prepare: plan does not need them) and runs the
 * guard (guard.h) on its own policies. */
void daemon_candidate_load(struct candidate *c, const char *path, bool prepare,
			   const struct zone_set *previous);
/* The other half, on the control thread, against what runs now: config serial newer (an equal
 * serial only with the very same file), no restart-only change, no zone SOA serial going backwards
 * (RFC 1982), answers under live health; sets the verdict. Publishes nothing. */
void daemon_candidate_check(struct daemon *dm, struct candidate *c);
void daemon_candidate_free(struct candidate *c);
/* Publishes a safe candidate (taking its snapshot) and makes its path the daemon's config. */
void daemon_candidate_publish(struct daemon *dm, struct candidate *c, const char *source);
/* Ends a reload or apply of c (source: "signal", "meridianctl", "apply"): audits the attempt
 * ("accepted", "refused" or "failed", with both serials and the reasons), then publishes a safe
 * candidate or counts the failure (and a guard refusal). Returns whether c was published. */
bool daemon_candidate_conclude(struct daemon *dm, struct candidate *c, const char *source);

/* loads.c: loading a config (reload, plan, apply) on the background thread, one at a time, in the
 * order asked; the control thread goes on meanwhile (health checks, publications, the control socket,
 * metrics) and the running snapshot keeps serving. */
enum load_kind { LOAD_RELOAD, LOAD_PLAN, LOAD_APPLY };

struct load {
	struct daemon *dm;
	enum load_kind kind;
	const char *source;	     /* reload: "signal" or "meridianctl" */
	char *config;		     /* plan, apply: the CONFIG argument; NULL: the daemon's config */
	uint64_t if_serial;	     /* apply */
	bool json;		     /* answer in JSON */
	struct control_later *reply; /* the meridianctl client waiting; NULL for a signal */
	double asked, started;	     /* wall clock: when it was asked for, when it started loading */
	struct candidate c;	     /* built by the load */
	struct zone_set *previous;   /* the zones serving when it started (referenced) */
	char *journal_notes;	     /* what the IXFR journals kept (transfer_keep_journals), to log */
	size_t journal_notes_len;
	struct load *next;
};

/* A new load of kind (calloc'd; abort when out of memory). */
struct load *daemon_load_new(struct daemon *dm, enum load_kind kind);
/* Queues l (taken over) and starts it when nothing loads. A reload asked by a signal while another
 * signal's reload is still queued joins that one. */
void daemon_load_queue(struct daemon *dm, struct load *l);
/* For a control command: defers the request's answer to l's end and queues l. */
enum control_status daemon_load_defer(struct daemon *dm, struct load *l);
/* The loads queued behind the running one. */
size_t daemon_loads_queued(const struct daemon *dm);
/* How long the running load has run (0 when none). */
double daemon_load_seconds(const struct daemon *dm);
const char *daemon_load_name(enum load_kind kind); /* "reload", "plan", "apply" */
/* Stopping: a load still running is abandoned, and every waiting client told so. */
void daemon_loads_stop(struct daemon *dm);

/* A reload's end (daemon.c): audits, publishes a safe candidate, logs; the answer for meridianctl to
 * out (NULL for a signal). */
enum control_status daemon_reload_finish(struct load *l, FILE *out);

/* plan_apply.c: `plan [CONFIG]` and `apply [CONFIG] --if-serial N` (argv[0] is the command): the
 * arguments are checked and the load deferred; the *_finish functions answer when it has ended. */
enum control_status daemon_plan(struct daemon *dm, bool json, int argc, char **argv, FILE *out);
enum control_status daemon_apply(struct daemon *dm, bool json, int argc, char **argv, FILE *out);
enum control_status daemon_plan_finish(struct load *l, FILE *out);
enum control_status daemon_apply_finish(struct load *l, FILE *out);

/* The control socket's request handler (commands.c). */
enum control_status daemon_command(void *arg, int argc, char **argv, FILE *out);

#endif
