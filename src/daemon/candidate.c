/* candidate.c -- a config that may replace the running one: loaded and checked by the guard on the
 * background thread, then given live-health answers and checked against what runs (stale serials,
 * restart-only changes, zone serials going backwards) on the control thread, without publishing
 * anything; then published, or refused with every reason. Reload, apply and plan all go through
 * here, so what plan says is what reload and apply do. */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/guard.h"
#include "meridian/loader.h"

/* Whether two paths name the same file or folder: the running config may have been given relative
 * to meridiand's working folder and the candidate as an absolute path. */
static bool same_path(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	if (!strcmp(a, b))
		return true;
	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

static const char *restart_only_change(const struct daemon *dm, const struct conf *running,
				       const struct conf *c)
{
	if (!server_same_sockets(running, c))
		return "listen, workers, tcp_clients, tcp_idle_timeout and rate_limit.table_size";
	if (!same_path(dm->state_dir, c->state_dir) || !same_path(dm->control_path, c->control))
		return "state_dir and control";
	if ((running->user.text != NULL) != (c->user.text != NULL) ||
	    (c->user.text && (running->user.uid != c->user.uid || running->user.gid != c->user.gid)))
		return "user";
	if (running->metrics.addr_len != c->metrics.addr_len ||
	    memcmp(&running->metrics.addr, &c->metrics.addr, c->metrics.addr_len) != 0)
		return "metrics";
	return NULL;
}

/* A config whose serial is not newer than the running one's is stale (pushed from an old checkout,
 * or by a tool working from an old view): refused. The very same file (same serial, same bytes) is
 * the running config itself: reloading it re-reads the zones, whose own serials are checked. */
static bool stale(const struct conf *running, const struct conf *c, struct diag *d)
{
	if (c->serial > running->serial)
		return false;
	if (c->serial == running->serial && !memcmp(c->digest, running->digest, sizeof(c->digest)))
		return false;
	diag_error(d, c->path, 0,
		   "stale config: serial %" PRIu64 " is %s the running serial %" PRIu64
		   " (a changed config needs a higher serial)",
		   c->serial, c->serial == running->serial ? "equal to" : "older than", running->serial);
	return true;
}

/* Zone serials may not go backwards (RFC 1982 comparison): a zone file restored from an old copy
 * would otherwise serve old data that secondaries refuse. */
static size_t zones_backwards(const struct snapshot *running, const struct snapshot *s, struct diag *d)
{
	size_t n = 0;
	for (size_t i = 0; i < s->zones->count; i++) {
		const struct zone *z = s->zones->zones[i];
		const struct zone *old = zone_set_get(running->zones, z->apex.data, z->apex.len);
		if (!old)
			continue;
		int cmp = zone_serial_compare(z->serial, old->serial);
		if (cmp < 0 || cmp == ZONE_SERIAL_UNDEFINED) {
			diag_error(
			    d, z->file, 0,
			    "zone %s: SOA serial %u %s the running serial %u (RFC 1982): a zone's serial "
			    "may not go backwards",
			    z->name_text, z->serial, cmp < 0 ? "is older than" : "cannot be ordered against",
			    old->serial);
			n++;
		}
	}
	return n;
}

static char *absolute(const char *path)
{
	char buf[PATH_MAX];
	char *s = realpath(path, buf) ? strdup(buf) : strdup(path);
	if (!s)
		abort();
	return s;
}

void daemon_candidate_load(struct candidate *c, const char *path, bool prepare,
			   const struct zone_set *previous)
{
	memset(c, 0, sizeof(*c));
	diag_init(&c->reasons);
	c->path = absolute(path);
	c->verdict = CANDIDATE_ERROR;
	struct conf *conf = conf_load(c->path, &c->reasons);
	if (!conf)
		return;
	c->has_serial = true;
	c->serial = conf->serial;
	c->snap = loader_build_from(conf, LOADER_ALL_OR_NOTHING, previous, &c->reasons);
	if (!c->snap)
		return;
	if (prepare)
		daemon_prepare(c->snap);
	c->guard_violations = guard_check_snapshot(c->snap, daemon_now(), &c->reasons);
}

void daemon_candidate_check(struct daemon *dm, struct candidate *c)
{
	const struct snapshot *running = snapshot_latest();
	c->running_serial = running->conf->serial;
	if (!c->snap)
		return;
	size_t refusals = stale(running->conf, c->snap->conf, &c->reasons);
	const char *fixed = restart_only_change(dm, running->conf, c->snap->conf);
	if (fixed) {
		diag_error(&c->reasons, c->path, 0, "%s can only change with a restart", fixed);
		refusals++;
	}
	refusals += zones_backwards(running, c->snap, &c->reasons);
	if (c->snap->conf->record_count) {
		struct dyn_table *t = daemon_answers(dm, c->snap, running, &c->report, &c->reasons);
		if (!t) {
			snapshot_free(c->snap);
			c->snap = NULL;
			return;
		}
		dyn_table_free(c->snap->dyn);
		c->snap->dyn = t;
	}
	refusals += c->guard_violations;
	c->verdict = refusals ? CANDIDATE_REFUSED : CANDIDATE_SAFE;
}

void daemon_candidate_free(struct candidate *c)
{
	snapshot_free(c->snap);
	diag_free(&c->reasons);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* Audits a reload attempt ("accepted", "refused" or "failed"), with both serials and the reasons. */
static void audit_reload(struct daemon *dm, const struct candidate *c, const char *source, const char *result)
{
	struct audit_event e;
	audit_begin(&e, "reload");
	audit_add_string(&e, "source", source);
	audit_add_string(&e, "result", result);
	audit_add_string(&e, "config", c->path);
	audit_add_uint(&e, "running_serial", c->running_serial);
	if (c->has_serial)
		audit_add_uint(&e, "candidate_serial", c->serial);
	audit_add_diag(&e, "reasons", &c->reasons);
	daemon_audit(dm, &e);
}

void daemon_candidate_publish(struct daemon *dm, struct candidate *c, const char *source)
{
	struct snapshot *s = c->snap;
	c->snap = NULL;
	monitor_reconfigure(dm->monitor, s->conf);
	daemon_prepare(s);
	notifier_changes(dm->notifier, snapshot_latest(), s); /* before the old snapshot goes */
	snapshot_publish(s);
	daemon_note_report(dm, s, &c->report, source);
	if (strcmp(dm->config_path, c->path)) {
		free(dm->config_path);
		dm->config_path = strdup(c->path);
		if (!dm->config_path)
			abort();
	}
	dm->reloads++;
}

bool daemon_candidate_conclude(struct daemon *dm, struct candidate *c, const char *source)
{
	bool ok = c->verdict == CANDIDATE_SAFE;
	/* the candidate's serial is read before publishing hands its snapshot over */
	audit_reload(dm, c, source, ok ? "accepted" : c->verdict == CANDIDATE_REFUSED ? "refused" : "failed");
	if (ok) {
		daemon_candidate_publish(dm, c, source);
	} else {
		dm->reload_failures++;
		dm->guard_refusals += c->guard_violations > 0;
	}
	return ok;
}
