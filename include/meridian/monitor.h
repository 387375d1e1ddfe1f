/* monitor.h -- the health monitor on the control thread: schedules every member's checks, feeds the
 * results to their state machines (health.h), persists the state, and tells the daemon when the
 * published health changed so it can rebuild the answers.
 *
 * Scheduling: a member's first check runs at a random offset within one second of start (or of its
 * appearance in a reload); after that every `interval` with +-10% jitter, so a fleet never probes in
 * lock-step. A check never overlaps itself.
 *
 * Checker sanity: when every monitored member (two or more) is failing and their failure streaks all
 * began within one round of checks (the longest interval * 1.1 + timeout among them: the most a
 * sudden loss takes to reach every member's next check, given the jitter, and be reported), the
 * checker's own network is suspect: the published state freezes (logged loudly through the log
 * callback). Members that went down at or after the first of those failures are published up again
 * (fall = 1 may have taken one down before the others failed), later transitions are not published.
 * The first successful check of any member thaws: the published state becomes the observed one.
 *
 * The state file is written on every transition, hold and forced state (forced states before
 * monitor_force returns, the others once per loop iteration). */
#ifndef MERIDIAN_MONITOR_H
#define MERIDIAN_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/health.h"

struct monitor;

struct monitor_hooks {
	/* The published state changed (a transition, a forced state, a drain deadline, a thaw): the
	 * daemon recomputes the answers. Called from the loop, never from inside a monitor_* call. */
	void (*changed)(void *arg);
	/* A line for the log ("health: web/ams-1 down: HTTP 502 (3 consecutive failures)",
	 * "health: FROZEN: ...", "health: thawed: ...", "health: web/ams-1 forced down (generation 4)"). */
	void (*log)(void *arg, const char *line);
	void *arg;
};

/* Starts monitoring every member of conf that has a check. state_path (NULL: no persistence) is read
 * first: saved observed and forced states and the generation are restored. Returns NULL with the
 * reason in d (an unreadable or malformed state file, a probe engine that cannot start). conf must
 * outlive the monitor or the next monitor_reconfigure. */
struct monitor *monitor_new(struct ev_loop *loop, const struct conf *conf, const char *state_path,
			    const struct monitor_hooks *hooks, struct diag *d);
void monitor_free(struct monitor *m);

/* A reload: members with the same pool and name keep their state (observed and forced); new members
 * start as up with their first check within a second; members that are gone are dropped. */
void monitor_reconfigure(struct monitor *m, const struct conf *conf);

/* The published serving state of members[member] of pools[pool] at time now (frozen while the
 * checker is suspect). Unmonitored members follow only their forced state. now is wall-clock
 * seconds, as ev_now(loop) gives them (drain deadlines are compared with it). Out of range: OUT. */
enum health_serving monitor_serving(const struct monitor *m, unsigned pool, unsigned member, double now);
/* The live state machine of a member (for `meridianctl health`). */
const struct health_state *monitor_state(const struct monitor *m, unsigned pool, unsigned member);
bool monitor_monitored(const struct monitor *m, unsigned pool, unsigned member);
bool monitor_frozen(const struct monitor *m);
/* Bumped by every change of forced state; persisted. */
uint64_t monitor_generation(const struct monitor *m);

/* Forces a member's state (meridianctl set / drain). if_generation != 0 must equal the current
 * generation, otherwise the change is refused and err names both ("generation moved: you acted on
 * generation A, the current generation is B"). drain_in: seconds before a drained member leaves the
 * answers. The generation starts at 1 (0 means "no check"). Returns 0 on success (saved already),
 * 1 when refused or when there is no such member (err set). */
int monitor_force(struct monitor *m, unsigned pool, unsigned member, enum health_forced f, double drain_in,
		  uint64_t if_generation, char *err, size_t err_size);

/* Counters for status. */
struct monitor_stats {
	uint64_t checks, failures, transitions, freezes;
};
void monitor_stats(const struct monitor *m, struct monitor_stats *out);

#endif
