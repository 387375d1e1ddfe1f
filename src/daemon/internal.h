/* internal.h -- the daemon's state, shared by daemon.c (lifecycle, reload, publication) and
 * commands.c (the control socket's commands). Control thread only. */
#ifndef MERIDIAN_DAEMON_INTERNAL_H
#define MERIDIAN_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "meridian/audit.h"
#include "meridian/control.h"
#include "meridian/diag.h"
#include "meridian/http.h"
#include "meridian/monitor.h"
#include "meridian/policy.h"
#include "meridian/server.h"
#include "meridian/snapshot.h"

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
};

void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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

/* Loads path (NULL: the daemon's config) and checks it against the running snapshot: config serial
 * newer (an equal serial only with the very same file), no restart-only change, no zone SOA serial
 * going backwards (RFC 1982), and the guard (guard.h). Publishes nothing. */
void daemon_candidate_build(struct daemon *dm, const char *path, struct candidate *c);
void daemon_candidate_free(struct candidate *c);
/* Publishes a safe candidate (taking its snapshot) and makes its path the daemon's config. */
void daemon_candidate_publish(struct daemon *dm, struct candidate *c, const char *source);
/* Audits a reload attempt ("accepted", "refused" or "failed"), with both serials and the reasons. */
void daemon_audit_reload(struct daemon *dm, const struct candidate *c, const char *source,
			 const char *result);

/* Reloads config and zones (source: "signal" or "meridianctl"); false with the reasons in d (the
 * running snapshot keeps serving). Audited. */
bool daemon_reload(struct daemon *dm, const char *source, struct diag *d);

/* plan_apply.c: `plan [CONFIG]` and `apply [CONFIG] --if-serial N` (argv[0] is the command). */
enum control_status daemon_plan(struct daemon *dm, bool json, int argc, char **argv, FILE *out);
enum control_status daemon_apply(struct daemon *dm, bool json, int argc, char **argv, FILE *out);

/* The control socket's request handler (commands.c). */
enum control_status daemon_command(void *arg, int argc, char **argv, FILE *out);

#endif
