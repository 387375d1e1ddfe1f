/* loads.c -- config loads (reload, plan, apply) on the background thread, one at a time, in the order
 * they were asked (see internal.h). The control thread queues a load, goes on with health checks,
 * publications and the control socket while it runs, then checks the candidate against what runs by
 * then and concludes: publishes or refuses, logs, answers the client that asked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "internal.h"
#include "meridian/supervisor.h"
#include "meridian/transfer.h"

struct load *daemon_load_new(struct daemon *dm, enum load_kind kind)
{
	struct load *l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	l->dm = dm;
	l->kind = kind;
	l->asked = daemon_now();
	return l;
}

static void load_free(struct load *l)
{
	daemon_candidate_free(&l->c);
	zone_set_free(l->previous);
	free(l->journal_notes);
	free(l->config);
	free(l);
}

/* Runs on the background thread: only the load's own data. */
static void load_work(void *arg)
{
	struct load *l = arg;
	daemon_candidate_load(&l->c, l->config, l->kind != LOAD_PLAN, l->previous);
	if (l->kind != LOAD_PLAN && l->previous && l->c.snap) {
		FILE *notes = open_memstream(&l->journal_notes, &l->journal_notes_len);
		if (!notes)
			abort(); /* out of memory, as everywhere else in a load */
		transfer_keep_journals(l->previous, l->c.snap, notes);
		fclose(notes);
	}
}

/* Logs what the journals kept, once the load is published. */
static void log_journal_notes(const struct load *l)
{
	for (const char *line = l->journal_notes; line && *line;) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);
		daemon_log("reload: %.*s", len, line);
		line += len + (end != NULL);
	}
}

static void load_next(struct daemon *dm);

/* Sends the answer to the client waiting, if any (it may have left: then nothing happens). */
static void answer(struct load *l, enum control_status status, char *body, size_t len)
{
	if (l->reply)
		control_later_answer(l->reply, status, body, len);
	else
		free(body);
	l->reply = NULL;
}

/* Back on the control thread. */
static void load_done(void *arg)
{
	struct load *l = arg;
	struct daemon *dm = l->dm;
	dm->loading = NULL;
	if (l->kind != LOAD_PLAN)
		dm->last_load_seconds = daemon_now() - l->started;
	daemon_candidate_check(dm, &l->c);
	char *body = NULL;
	size_t len = 0;
	FILE *out = l->reply ? open_memstream(&body, &len) : NULL;
	if (l->reply && !out)
		abort(); /* out of memory, as everywhere else on the control thread */
	enum control_status status = l->kind == LOAD_RELOAD ? daemon_reload_finish(l, out)
				     : l->kind == LOAD_PLAN ? daemon_plan_finish(l, out)
							    : daemon_apply_finish(l, out);
	if (out && fclose(out) != 0) {
		free(body);
		body = strdup("out of memory\n");
		len = body ? strlen(body) : 0;
		status = CONTROL_ERROR;
	}
	answer(l, status, body, len);
	if (l->kind != LOAD_PLAN && status == CONTROL_OK)
		log_journal_notes(l);
	if (l->kind != LOAD_PLAN) {
		const struct snapshot *s = snapshot_latest();
		supervisor_ready(s->conf->serial, s->zones->count, status != CONTROL_OK);
	}
	load_free(l);
	load_next(dm);
}

static void load_next(struct daemon *dm)
{
	if (dm->loading || dm->stopping || !dm->queue)
		return;
	struct load *l = dm->queue;
	dm->queue = l->next;
	l->next = NULL;
	if (!l->config) {
		l->config = strdup(dm->config_path); /* the config as it is named when the load starts */
		if (!l->config)
			abort();
	}
	dm->loading = l;
	l->started = daemon_now();
	/* the zones serving: the load keeps those whose files did not change, and for the IXFR
	 * journals compares the others with them (loads run one at a time, so these are what it will
	 * replace when it publishes) */
	const struct zone_set *now = snapshot_latest()->zones;
	l->previous = zone_set_new(now->zones, now->count);
	if (l->kind != LOAD_PLAN)
		supervisor_reloading(l->config);
	if (background_start(dm->loader, load_work, load_done, l))
		return;
	/* No thread to be had: load here, holding the loop up as loads did before they had one. */
	daemon_log_at(LOG_WARNING,
		      "reload: cannot start the loading thread (%s); loading on the control thread",
		      strerror(errno));
	load_work(l);
	load_done(l);
}

void daemon_load_queue(struct daemon *dm, struct load *l)
{
	struct load **tail = &dm->queue;
	for (; *tail; tail = &(*tail)->next)
		if (l->kind == LOAD_RELOAD && !l->reply && (*tail)->kind == LOAD_RELOAD && !(*tail)->reply) {
			daemon_log("reload: one is already waiting to start; this signal joins it");
			load_free(l);
			return;
		}
	*tail = l;
	if (dm->loading)
		daemon_log("%s: waiting for the load of %s to end (%zu waiting)", daemon_load_name(l->kind),
			   dm->loading->config, daemon_loads_queued(dm));
	load_next(dm);
}

enum control_status daemon_load_defer(struct daemon *dm, struct load *l)
{
	l->reply = control_defer(dm->control);
	if (!l->reply) { /* not from a control request: cannot happen, but answer rather than hang */
		load_free(l);
		return CONTROL_ERROR;
	}
	daemon_load_queue(dm, l);
	return CONTROL_LATER;
}

const char *daemon_load_name(enum load_kind kind)
{
	return kind == LOAD_RELOAD ? "reload" : kind == LOAD_PLAN ? "plan" : "apply";
}

double daemon_load_seconds(const struct daemon *dm)
{
	return dm->loading ? daemon_now() - dm->loading->started : 0;
}

size_t daemon_loads_queued(const struct daemon *dm)
{
	size_t n = 0;
	for (const struct load *l = dm->queue; l; l = l->next)
		n++;
	return n;
}

static void answer_stopping(struct load *l)
{
	static const char text[] = "meridiand stopped before this load ended; nothing was loaded\n";
	char *body = strdup(text);
	answer(l, CONTROL_ERROR, body, body ? strlen(body) : 0);
}

void daemon_loads_stop(struct daemon *dm)
{
	dm->stopping = true;
	struct load *running = dm->loading;
	if (running && background_abandon(dm->loader)) {
		/* Its thread may still use it until the process ends: it is left, not freed. */
		daemon_log("stopping: the load of %s in progress is abandoned; nothing of it was published",
			   running->config);
		answer_stopping(running);
		dm->loading = NULL;
	}
	while (dm->queue) {
		struct load *l = dm->queue;
		dm->queue = l->next;
		answer_stopping(l);
		load_free(l);
	}
	background_free(dm->loader);
	dm->loader = NULL;
}
