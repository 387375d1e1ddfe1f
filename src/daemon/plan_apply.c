/* plan_apply.c -- `meridianctl plan` and `apply`: what a candidate config would change and whether
 * it would be accepted, then loading it only if the running serial is still the one the plan was
 * made against and the guard accepts it. There is no override: to remove an intended record, change
 * the intent, and the plan shows that change first. Control thread only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/plan.h"
#include "meridian/json.h"

#define PLAN_LIMIT 50 /* changes listed per area; the rest are counted */

static const char *verdict_name(enum candidate_verdict v)
{
	return v == CANDIDATE_SAFE ? "safe" : v == CANDIDATE_REFUSED ? "refused" : "error";
}

static void report_text(FILE *out, const struct candidate *c, const struct plan *p, const char *outcome)
{
	fprintf(out, "candidate: %s", c->path);
	if (c->has_serial)
		fprintf(out, " (serial %" PRIu64 ")", c->serial);
	fprintf(out, "\nrunning:   serial %" PRIu64 "\n", c->running_serial);
	fprintf(out, "verdict:   %s\n", outcome);
	for (size_t i = 0; i < c->reasons.count; i++)
		fprintf(out, "  %s %s\n", c->reasons.entries[i].level == DIAG_ERROR ? "-" : "warning:",
			c->reasons.entries[i].text);
	if (c->report.guard_interventions)
		fprintf(out,
			"  note: under live health the guard replaced %zu answers that broke the intent; the "
			"answers below show what it would serve instead\n",
			c->report.guard_interventions);
	if (p)
		plan_write_text(p, out, PLAN_LIMIT);
}

static void reasons_json(FILE *out, const struct diag *d, enum diag_level level)
{
	bool first = true;
	fputc('[', out);
	for (size_t i = 0; i < d->count; i++) {
		if (d->entries[i].level != level)
			continue;
		if (!first)
			fputc(',', out);
		json_write_string(out, d->entries[i].text);
		first = false;
	}
	fputc(']', out);
}

static void report_json(FILE *out, const struct candidate *c, const struct plan *p, bool applied)
{
	fputs("{\"verdict\":", out);
	json_write_string(out, verdict_name(c->verdict));
	fputs(",\"config\":", out);
	json_write_string(out, c->path);
	fprintf(out, ",\"running_serial\":%" PRIu64, c->running_serial);
	if (c->has_serial)
		fprintf(out, ",\"candidate_serial\":%" PRIu64, c->serial);
	fputs(",\"reasons\":", out);
	reasons_json(out, &c->reasons, DIAG_ERROR);
	fputs(",\"warnings\":", out);
	reasons_json(out, &c->reasons, DIAG_WARNING);
	fprintf(out, ",\"guard_replacements\":%zu", c->report.guard_interventions);
	fprintf(out, ",\"applied\":%s,\"plan\":", applied ? "true" : "false");
	if (p)
		plan_write_json(p, out, PLAN_LIMIT);
	else
		fputs("null", out);
	fputs("}\n", out);
}

static enum control_status status_of(enum candidate_verdict v)
{
	return v == CANDIDATE_SAFE ? CONTROL_OK : v == CANDIDATE_REFUSED ? CONTROL_REFUSED : CONTROL_ERROR;
}

/* A copy of the CONFIG argument, or NULL for the daemon's own config. */
static char *config_arg(const char *config)
{
	char *copy = config ? strdup(config) : NULL;
	if (config && !copy)
		abort();
	return copy;
}

enum control_status daemon_plan(struct daemon *dm, bool json, int argc, char **argv, FILE *out)
{
	if (argc > 2) {
		fputs(json ? "{\"error\":\"usage: plan [CONFIG]\"}\n" : "usage: plan [CONFIG]\n", out);
		return CONTROL_ERROR;
	}
	struct load *l = daemon_load_new(dm, LOAD_PLAN);
	l->json = json;
	l->config = config_arg(argc == 2 ? argv[1] : NULL);
	return daemon_load_defer(dm, l);
}

enum control_status daemon_plan_finish(struct load *l, FILE *out)
{
	struct candidate *c = &l->c;
	struct plan *p = c->snap ? plan_compare(snapshot_latest(), c->snap) : NULL;
	if (l->json) {
		report_json(out, c, p, false);
	} else {
		report_text(out, c, p,
			    c->verdict == CANDIDATE_SAFE      ? "safe: apply would load it"
			    : c->verdict == CANDIDATE_REFUSED ? "refused: reload and apply would not load it"
							      : "error: it does not load");
		if (c->verdict == CANDIDATE_SAFE)
			fprintf(out, "to apply:  meridianctl apply --if-serial %" PRIu64 " %s\n",
				c->running_serial, c->path);
	}
	plan_free(p);
	return status_of(c->verdict);
}

/* "--if-serial N" somewhere in argv[1..]; the other argument, if any, is the config. */
static bool apply_args(int argc, char **argv, uint64_t *serial, const char **config)
{
	bool have = false;
	*config = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--if-serial") && i + 1 < argc && !have) {
			char *end;
			*serial = strtoull(argv[++i], &end, 10);
			if (*end || !*argv[i] || argv[i][0] == '-')
				return false;
			have = true;
		} else if (!*config && argv[i][0] != '-') {
			*config = argv[i];
		} else {
			return false;
		}
	}
	return have;
}

enum control_status daemon_apply(struct daemon *dm, bool json, int argc, char **argv, FILE *out)
{
	uint64_t serial = 0;
	const char *config;
	if (!apply_args(argc, argv, &serial, &config)) {
		const char *usage =
		    "usage: apply [CONFIG] --if-serial N (N: the running serial the plan showed)";
		if (json)
			fprintf(out, "{\"error\":\"%s\"}\n", usage);
		else
			fprintf(out, "%s\n", usage);
		return CONTROL_ERROR;
	}
	struct load *l = daemon_load_new(dm, LOAD_APPLY);
	l->json = json;
	l->config = config_arg(config);
	l->if_serial = serial;
	return daemon_load_defer(dm, l);
}

/* The serial is compared when the load has ended, against what runs then: a reload or apply that
 * ended while this one loaded makes it stale. */
enum control_status daemon_apply_finish(struct load *l, FILE *out)
{
	struct daemon *dm = l->dm;
	struct candidate *c = &l->c;
	if (c->running_serial != l->if_serial) {
		diag_error(&c->reasons, NULL, 0,
			   "the running serial is %" PRIu64 ", not %" PRIu64
			   ": the config changed since the plan; run meridianctl plan again",
			   c->running_serial, l->if_serial);
		if (c->verdict == CANDIDATE_SAFE)
			c->verdict = CANDIDATE_REFUSED;
	}
	struct plan *p = c->snap ? plan_compare(snapshot_latest(), c->snap) : NULL;
	bool apply = daemon_candidate_conclude(dm, c, "apply");
	if (apply)
		daemon_log("apply: ok (serial %" PRIu64 ", snapshot %" PRIu64 ") from %s",
			   snapshot_latest()->conf->serial, snapshot_latest()->generation, c->path);
	else
		daemon_log_diag("apply: refused: ", &c->reasons);
	if (l->json)
		report_json(out, c, p, apply);
	else
		report_text(out, c, p,
			    apply ? "applied"
			    : c->verdict == CANDIDATE_REFUSED
				? "refused: not loaded, the running config keeps serving"
				: "error: it does not load; the running config keeps serving");
	plan_free(p);
	return status_of(c->verdict);
}
