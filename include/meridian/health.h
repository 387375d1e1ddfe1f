/* health.h -- the health state of one pool member: hysteresis, flap damping, forced states, and
 * their persistence in the state folder.
 *
 * Pure logic with explicit times (wall-clock seconds, as double), so it is unit-tested without
 * clocks or sockets; monitor.h drives it from real check results. Nothing here runs on the query
 * path: the control thread turns these states into answers (policy.h) and publishes a snapshot. */
#ifndef MERIDIAN_HEALTH_H
#define MERIDIAN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/diag.h"

/* What an operator forced (meridianctl set / drain). */
enum health_forced {
	HEALTH_AUTO,	   /* follow the checks */
	HEALTH_FORCE_UP,   /* serve whatever the checks say */
	HEALTH_FORCE_DOWN, /* never serve */
	HEALTH_FORCE_DRAIN /* serve with the degraded TTL until drain_until, then never; a drained member the
			    * checks find down leaves at once (draining lets caches of a working member
			    * expire, it does not bring a dead one back) */
};

/* What the answers make of a member at a given time. */
enum health_serving {
	HEALTH_SERVING,	 /* in the answers */
	HEALTH_DRAINING, /* still in the answers, but its records use ttl_degraded */
	HEALTH_OUT,	 /* left every answer: down (observed or forced), held, or drained */
};

struct health_params {
	unsigned rise, fall; /* >= 1 */
	unsigned flap_limit; /* 0: no damping */
	double flap_window, hold;
};

#define HEALTH_FLAPS_MAX 32 /* transitions remembered for damping (flap_limit is capped to 31) */

struct health_state {
	bool up;			/* observed state after hysteresis (and damping) */
	bool has_result;		/* a check has reported (or the state was restored from disk) */
	bool last_ok;			/* the last result */
	unsigned streak;		/* consecutive results equal to last_ok */
	double since;			/* when `up` last changed (or was first known) */
	double fail_since;		/* first failure of the current failure streak; 0 after a success */
	double last_time;		/* when the last result came */
	double held_until;		/* damped: down until then whatever the checks say; 0: not held */
	double flaps[HEALTH_FLAPS_MAX]; /* times of recent transitions, oldest first */
	unsigned flap_count;
	char reason[128]; /* the last result's reason ("HTTP 502", "connect: refused", "held: ...") */
	enum health_forced forced;
	double forced_since;
	double drain_until; /* HEALTH_FORCE_DRAIN: served (degraded) until then */
};

/* A member that has never been checked: up, no result. */
void health_init(struct health_state *s, double now);

/* Applies one check result at time now. `fall` consecutive failures take an up member down, `rise`
 * consecutive successes bring a down member back (a member without results starts up and needs
 * `fall` failures too). A transition that makes more than flap_limit transitions within flap_window
 * holds the member down for `hold` seconds; the reason keeps the check's own reason and adds the
 * hold ("HTTP 502; flapping: 5 transitions in 60 s, held down for 120 s until ..."). Engaging a
 * hold forgets the remembered transitions, so its end cannot re-engage it at once. While held,
 * results still count but `up` stays false; a result past held_until ends the hold first, as
 * health_tick would. Returns true when `up` changed. */
bool health_result(struct health_state *s, const struct health_params *p, bool ok, const char *reason,
		   double now);

/* Ends an expired hold: the member takes the state its current streak earns. Returns true when
 * `up` changed. The caller calls it at held_until. */
bool health_tick(struct health_state *s, const struct health_params *p, double now);

/* Sets the forced state; drain_in (seconds, HEALTH_FORCE_DRAIN only) delays the removal. */
void health_force(struct health_state *s, enum health_forced f, double drain_in, double now);

enum health_serving health_serving(const struct health_state *s, double now);

const char *health_forced_name(enum health_forced f); /* "auto", "up", "down", "drain" */
bool health_forced_parse(const char *text, enum health_forced *f);

/* One member in a state file: pool and member names identify it across restarts and reloads. */
struct health_entry {
	const char *pool;
	const char *member;
	struct health_state *state;
};

/* Writes every entry's observed and forced state and the generation to path atomically (a temporary
 * file PATH.tmp.PID in the same folder, fsync, rename, fsync of the folder). The format is text,
 * "meridian-health 1", "generation N", one "member pool=.. name=.. key=value ..." line per entry
 * (every field of health_state; free text quoted with \" \\ \xHH escapes), "end COUNT"; see
 * persist.c. Returns false with the reason in d. */
bool health_save(const char *path, uint64_t generation, const struct health_entry *e, size_t n,
		 struct diag *d);

/* Restores the entries found in path (by pool and member name; saved members that are gone are
 * ignored, entries not saved are left as they are) and the generation. A missing file is not an
 * error: nothing is restored and *generation is left alone. A malformed file is an error with
 * file:line, and nothing is restored. */
bool health_load(const char *path, uint64_t *generation, struct health_entry *e, size_t n, struct diag *d);

#endif
