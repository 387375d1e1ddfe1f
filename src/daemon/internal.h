/* internal.h -- the daemon's state, shared by daemon.c (lifecycle, reload, publication) and
 * commands.c (the control socket's commands). Control thread only. */
#ifndef MERIDIAN_DAEMON_INTERNAL_H
#define MERIDIAN_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "meridian/control.h"
#include "meridian/diag.h"
#include "meridian/monitor.h"
#include "meridian/server.h"
#include "meridian/snapshot.h"

struct daemon {
	const char *config_path;
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
};

void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void daemon_log_diag(const char *prefix, const struct diag *d);
double daemon_now(void); /* wall clock, seconds */

/* Reloads config and zones; false with the reasons in d (the running snapshot keeps serving). */
bool daemon_reload(struct daemon *dm, struct diag *d);

/* The control socket's request handler (commands.c). */
enum control_status daemon_command(void *arg, int argc, char **argv, FILE *out);

#endif
