/* state.c -- health: the state machine of one member (hysteresis, flap damping, forced states).
 *
 * Observed state: a member changes only after `fall` consecutive failures (up -> down) or `rise`
 * consecutive successes (down -> up). A member that was never checked starts up and needs `fall`
 * failures like any other, so a fleet of new instances is not judged on its first answer.
 *
 * Damping: every transition is remembered in flaps[] for flap_window seconds. A transition that
 * leaves more than flap_limit of them in the window holds the member down for `hold` seconds.
 * While held, results still count (the streak is what health_tick judges at the end of the hold),
 * but `up` stays false. Engaging a hold forgets the remembered transitions: the hold is the
 * penalty, and counting afresh afterwards keeps its end from re-engaging it at once when hold is
 * shorter than flap_window.
 *
 * The forced state is kept apart from the observed one, so both can be shown; health_serving
 * combines them. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "meridian/health.h"

/* Separates a check's own reason from what damping adds to it; health_tick cuts there. */
#define FLAP_MARK "; flapping: "

void health_init(struct health_state *s, double now)
{
	memset(s, 0, sizeof(*s));
	s->up = true;
	s->since = now;
	s->forced = HEALTH_AUTO;
}

/* flaps[] holds flap_limit + 1 transitions at most, which is what detecting "more than" needs. */
static unsigned flap_limit(const struct health_params *p)
{
	return p->flap_limit < HEALTH_FLAPS_MAX ? p->flap_limit : HEALTH_FLAPS_MAX - 1;
}

/* Forgets transitions older than the window, then remembers this one (the oldest goes when full). */
static void flap_record(struct health_state *s, const struct health_params *p, double now)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < s->flap_count && i < HEALTH_FLAPS_MAX; i++)
		if (s->flaps[i] >= now - p->flap_window)
			s->flaps[keep++] = s->flaps[i];
	if (keep == HEALTH_FLAPS_MAX) {
		memmove(s->flaps, s->flaps + 1, (HEALTH_FLAPS_MAX - 1) * sizeof(s->flaps[0]));
		keep--;
	}
	s->flaps[keep++] = now;
	s->flap_count = keep;
}

static void format_when(double t, char *buf, size_t size)
{
	time_t secs = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&secs, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%.0f", t);
}

/* reason = check + suffix. When it does not fit, the check's part is cut, never the suffix, so the
 * damping explanation stays readable. check may be s->reason itself. */
static void set_reason(struct health_state *s, const char *check, const char *suffix)
{
	size_t room = sizeof(s->reason) - 1;
	size_t slen = strlen(suffix), clen = strlen(check);
	if (slen > room)
		slen = room;
	if (clen > room - slen)
		clen = room - slen;
	memmove(s->reason, check, clen);
	memcpy(s->reason + clen, suffix, slen);
	s->reason[clen + slen] = 0;
}

static void hold(struct health_state *s, const struct health_params *p, const char *check, double now)
{
	char when[40], suffix[160];
	unsigned n = s->flap_count;
	s->up = false;
	s->held_until = now + p->hold;
	s->flap_count = 0;
	format_when(s->held_until, when, sizeof(when));
	snprintf(suffix, sizeof(suffix), FLAP_MARK "%u transitions in %g s, held down for %g s until %s", n,
		 p->flap_window, p->hold, when);
	set_reason(s, check, suffix);
}

/* Flips `up`, remembers the transition, and holds the member down when it flaps. */
static void transition(struct health_state *s, const struct health_params *p, const char *check, double now)
{
	bool was = s->up;
	unsigned limit = flap_limit(p);
	s->up = !s->up;
	flap_record(s, p, now);
	if (limit > 0 && s->flap_count > limit)
		hold(s, p, check, now);
	if (s->up != was)
		s->since = now;
}

static void count_result(struct health_state *s, bool ok, double now)
{
	if (s->has_result && s->last_ok == ok) {
		if (s->streak < UINT_MAX)
			s->streak++;
	} else {
		s->streak = 1;
	}
	if (ok)
		s->fail_since = 0;
	else if (s->streak == 1 || s->fail_since == 0)
		s->fail_since = now;
	s->has_result = true;
	s->last_ok = ok;
	s->last_time = now;
}

bool health_result(struct health_state *s, const struct health_params *p, bool ok, const char *reason,
		   double now)
{
	bool was = s->up;
	if (!reason)
		reason = ok ? "ok" : "failed";
	/* a hold whose end was not ticked on time ends before this result is judged */
	health_tick(s, p, now);
	count_result(s, ok, now);
	if (s->held_until > 0) {
		char when[40], suffix[128];
		format_when(s->held_until, when, sizeof(when));
		snprintf(suffix, sizeof(suffix), FLAP_MARK "held down until %s", when);
		set_reason(s, reason, suffix);
		return s->up != was;
	}
	set_reason(s, reason, "");
	if (s->up ? !ok && s->streak >= p->fall : ok && s->streak >= p->rise)
		transition(s, p, reason, now);
	return s->up != was;
}

bool health_tick(struct health_state *s, const struct health_params *p, double now)
{
	if (s->held_until <= 0 || now < s->held_until)
		return false;
	s->held_until = 0;
	/* the reason goes back to the last check's own */
	char *mark = NULL;
	for (char *at = strstr(s->reason, FLAP_MARK); at; at = strstr(at + 1, FLAP_MARK))
		mark = at;
	if (mark)
		*mark = 0;
	if (s->up || !s->has_result || !s->last_ok || s->streak < p->rise)
		return false;
	s->up = true;
	s->since = now;
	flap_record(s, p, now);
	return true;
}

void health_force(struct health_state *s, enum health_forced f, double drain_in, double now)
{
	s->forced = f;
	s->forced_since = now;
	s->drain_until = f == HEALTH_FORCE_DRAIN ? now + (drain_in > 0 ? drain_in : 0) : 0;
}

/* A drained member that the checks find down leaves at once: draining exists to let resolvers'
 * caches of a working member expire, not to keep a dead one in the answers. */
enum health_serving health_serving(const struct health_state *s, double now)
{
	switch (s->forced) {
	case HEALTH_FORCE_UP:
		return HEALTH_SERVING;
	case HEALTH_FORCE_DOWN:
		return HEALTH_OUT;
	case HEALTH_FORCE_DRAIN:
		return s->up && now < s->drain_until ? HEALTH_DRAINING : HEALTH_OUT;
	case HEALTH_AUTO:
		break;
	}
	return s->up ? HEALTH_SERVING : HEALTH_OUT;
}

static const char *const forced_names[] = {
    [HEALTH_AUTO] = "auto",
    [HEALTH_FORCE_UP] = "up",
    [HEALTH_FORCE_DOWN] = "down",
    [HEALTH_FORCE_DRAIN] = "drain",
};

const char *health_forced_name(enum health_forced f)
{
	if ((unsigned)f < sizeof(forced_names) / sizeof(forced_names[0]))
		return forced_names[f];
	return "?";
}

bool health_forced_parse(const char *text, enum health_forced *f)
{
	for (unsigned i = 0; i < sizeof(forced_names) / sizeof(forced_names[0]); i++)
		if (text && strcmp(text, forced_names[i]) == 0) {
			*f = (enum health_forced)i;
			return true;
		}
	return false;
}
