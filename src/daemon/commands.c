/* commands.c -- what meridianctl asks the running server: status, health, set, drain, explain,
 * reload. Each answers as text or, after "--json", as one JSON object. Control thread only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "meridian/explain.h"
#include "meridian/journal.h"
#include "meridian/json.h"
#include "meridian/prepared.h"
#include "meridian/region_counts.h"
#include "meridian/wire.h"

struct request {
	struct daemon *dm;
	bool json;
	int argc;
	char **argv;
	FILE *out;
};

static const char *iso_time(double t, char *buf, size_t size)
{
	if (t <= 0)
		return "never";
	time_t sec = (time_t)t;
	struct tm tm;
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&sec, &tm));
	return buf;
}

static const char *serving_name(enum health_serving s)
{
	return s == HEALTH_SERVING ? "serving" : s == HEALTH_DRAINING ? "draining" : "out";
}

/* "POOL/MEMBER" in the running config. */
static bool find_member(const struct conf *c, const char *text, unsigned *pool, unsigned *member)
{
	const char *slash = strchr(text, '/');
	if (!slash)
		return false;
	for (unsigned p = 0; p < c->pool_count; p++) {
		if (strlen(c->pools[p].name) != (size_t)(slash - text) ||
		    strncmp(c->pools[p].name, text, (size_t)(slash - text)))
			continue;
		for (unsigned m = 0; m < c->pools[p].member_count; m++)
			if (!strcmp(c->pools[p].members[m].name, slash + 1)) {
				*pool = p;
				*member = m;
				return true;
			}
	}
	return false;
}

static enum control_status fail(struct request *r, enum control_status status, const char *message)
{
	if (r->json) {
		fputs("{\"error\":", r->out);
		json_write_string(r->out, message);
		fputs("}\n", r->out);
	} else {
		fprintf(r->out, "%s\n", message);
	}
	return status;
}

/* ---- status ---- */

struct health_counts {
	unsigned members, monitored, out, draining, forced;
};

static void count_health(const struct daemon *dm, const struct conf *c, struct health_counts *n)
{
	memset(n, 0, sizeof(*n));
	double now = daemon_now();
	for (unsigned p = 0; p < c->pool_count; p++)
		for (unsigned m = 0; m < c->pools[p].member_count; m++) {
			enum health_serving s = monitor_serving(dm->monitor, p, m, now);
			n->members++;
			n->monitored += monitor_monitored(dm->monitor, p, m);
			n->out += s == HEALTH_OUT;
			n->draining += s == HEALTH_DRAINING;
			n->forced += monitor_state(dm->monitor, p, m)->forced != HEALTH_AUTO;
		}
}

/* The regions line of status: "regions:      europe 12, americas 3; earlier: apac 4". */
struct region_list {
	FILE *out;
	size_t count;
	bool earlier;
};

static void region_text(const char *region, uint64_t answers, bool current, void *arg)
{
	struct region_list *l = arg;
	const char *sep = !l->count ? "regions:      " : !current && !l->earlier ? "; earlier: " : ", ";
	fprintf(l->out, "%s%s %" PRIu64, sep, region, answers);
	l->earlier |= !current;
	l->count++;
}

static void region_json(const char *region, uint64_t answers, bool current, void *arg)
{
	struct region_list *l = arg;
	fputs(l->count++ ? ",{\"name\":" : "{\"name\":", l->out);
	json_write_string(l->out, region);
	fprintf(l->out, ",\"answers\":%" PRIu64 ",\"current\":%s}", answers, current ? "true" : "false");
}

/* "udp4 N, udp6 N, tcp4 N, tcp6 N" */
static void transports_text(FILE *out, const struct query_stats *q)
{
	for (int t = 0; t < QUERY_TRANSPORT_KINDS; t++)
		fprintf(out, "%s%s %" PRIu64, t ? ", " : "", query_transport_names[t], q->transports[t]);
}

/* A query type's count, for sorting. */
struct type_count {
	unsigned slot; /* in query_stats.qtypes */
	uint64_t queries;
};

/* Most asked first; a tie by type number. */
static int most_asked_first(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;
	if (x->queries != y->queries)
		return x->queries < y->queries ? 1 : -1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* The query types asked most, most first ("A 1200, AAAA 800, MX 3"), then how many more types
 * were asked and how often. */
static void qtypes_text(FILE *out, const struct query_stats *q)
{
	enum { SHOWN = 8 };
	struct type_count asked[QUERY_QTYPE_OTHER + 1];
	size_t count = 0;
	for (unsigned t = 0; t <= QUERY_QTYPE_OTHER; t++)
		if (q->qtypes[t])
			asked[count++] = (struct type_count){t, q->qtypes[t]};
	if (!count) {
		fputs("none yet", out);
		return;
	}
	qsort(asked, count, sizeof(asked[0]), most_asked_first);
	char buf[16];
	uint64_t rest = 0;
	for (size_t i = 0; i < count; i++)
		if (i < SHOWN)
			fprintf(out, "%s%s %" PRIu64, i ? ", " : "",
				query_qtype_name(asked[i].slot, buf, sizeof(buf)), asked[i].queries);
		else
			rest += asked[i].queries;
	if (count > SHOWN)
		fprintf(out, " and %zu more type%s, %" PRIu64 " queries", count - SHOWN,
			count - SHOWN == 1 ? "" : "s", rest);
}

/* ,"transports":{"udp4":N,...},"query_types":{"A":N,...} (the types asked at least once) */
static void counts_json(FILE *out, const struct query_stats *q)
{
	fputs(",\"transports\":{", out);
	for (int t = 0; t < QUERY_TRANSPORT_KINDS; t++)
		fprintf(out, "%s\"%s\":%" PRIu64, t ? "," : "", query_transport_names[t], q->transports[t]);
	fputs("},\"query_types\":{", out);
	char buf[16];
	for (unsigned t = 0, n = 0; t <= QUERY_QTYPE_OTHER; t++)
		if (q->qtypes[t])
			fprintf(out, "%s\"%s\":%" PRIu64, n++ ? "," : "",
				query_qtype_name(t, buf, sizeof(buf)), q->qtypes[t]);
	fputc('}', out);
}

/* What status reports besides the snapshot, read once for the text and JSON forms alike. */
struct status_counts {
	struct health_counts health;
	struct monitor_stats checks;
	struct query_stats queries;
	struct transfer_counts transfers;
	struct notify_counts notify;
};

static void status_text(struct request *r, const struct snapshot *s, const struct status_counts *c)
{
	const struct health_counts *n = &c->health;
	const struct monitor_stats *ms = &c->checks;
	const struct query_stats *q = &c->queries;
	const struct transfer_counts *t = &c->transfers;
	const struct notify_counts *nc = &c->notify;
	FILE *out = r->out;
	const struct daemon *dm = r->dm;
	fprintf(out, "serial:       %" PRIu64 "\n", s->conf->serial);
	fprintf(out, "generation:   %" PRIu64 "\n", monitor_generation(dm->monitor));
	fprintf(out, "snapshot:     %" PRIu64 "\n", s->generation);
	fprintf(out, "uptime:       %.0f s\n", daemon_now() - dm->started);
	for (size_t i = 0; i < s->zones->count; i++) {
		const struct zone *z = s->zones->zones[i];
		fprintf(out, "zone:         %s serial %u (%zu records)", z->name_text, z->serial,
			z->rr_count);
		if (z->dnssec.denial != ZONE_DENIAL_NONE) {
			char when[40] = "never";
			time_t expires = (time_t)z->dnssec.expires;
			struct tm tm;
			if (expires && gmtime_r(&expires, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
			fprintf(out, ", signed with %s, first signature expires %s",
				zone_denial_name(z->dnssec.denial), when);
		}
		if (z->journal)
			fprintf(out, ", IXFR from serial %u (%u step%s)", z->journal->delta[0]->from,
				z->journal->count, z->journal->count == 1 ? "" : "s");
		fputc('\n', out);
	}
	fprintf(out, "records:      %zu dynamic\n", s->conf->record_count);
	char dnssec[64] = "";
	if (prepared_dnssec_count(s->prepared))
		snprintf(dnssec, sizeof(dnssec), ", %zu of them also with DNSSEC",
			 prepared_dnssec_count(s->prepared));
	fprintf(out, "prepared:     %zu answers%s (%.1f MiB)%s\n", prepared_count(s->prepared), dnssec,
		(double)prepared_bytes(s->prepared) / (1024.0 * 1024.0),
		prepared_capped(s->prepared) ? ", stopped at prepared_answers" : "");
	fprintf(out, "members:      %u (%u monitored), %u out, %u draining, %u forced%s\n", n->members,
		n->monitored, n->out, n->draining, n->forced,
		monitor_frozen(dm->monitor) ? ", FROZEN (every check failing at once)" : "");
	fprintf(out,
		"checks:       %" PRIu64 " run, %" PRIu64 " failed, %" PRIu64 " transitions, %" PRIu64
		" freezes\n",
		ms->checks, ms->failures, ms->transitions, ms->freezes);
	fprintf(out, "publications: %" PRIu64 " from health, last %.2f ms\n", dm->health_publications,
		dm->last_publish_ms);
	fprintf(out, "reloads:      %" PRIu64 " ok, %" PRIu64 " failed", dm->reloads, dm->reload_failures);
	if (dm->last_load_seconds > 0)
		fprintf(out, " (the last load took %.2f s)", dm->last_load_seconds);
	if (dm->loading)
		fprintf(out, "; loading %s (%s) for %.1f s, %zu waiting", dm->loading->config,
			daemon_load_name(dm->loading->kind), daemon_load_seconds(dm),
			daemon_loads_queued(dm));
	fputc('\n', out);
	fprintf(out, "guard:        %" PRIu64 " answers replaced, %" PRIu64 " candidates refused\n",
		dm->guard_interventions, dm->guard_refusals);
	fprintf(out, "audit log:    %s\n", dm->audit ? audit_path(dm->audit) : "(not open)");
	if (dm->policy_runs)
		fprintf(out,
			"policies:     %" PRIu64 " runs, %" PRIu64
			" failed (the last good answer kept), last %.2f ms%s%s\n",
			dm->policy_runs, dm->policy_errors, dm->policy_last_ms,
			*dm->policy_last_error ? "\n  last error: " : "", dm->policy_last_error);
	fprintf(out, "queries:      %" PRIu64 " (", q->queries);
	for (int i = 0; i < 6; i++)
		fprintf(out, "%s%s %" PRIu64, i ? ", " : "", query_rcode_names[i], q->rcode[i]);
	fprintf(out, "), %" PRIu64 " dropped, %" PRIu64 " truncated\n", q->dropped, q->truncated);
	fputs("transports:   ", out);
	transports_text(out, q);
	fputs("\nquery types:  ", out);
	qtypes_text(out, q);
	fputc('\n', out);
	struct region_list regions = {.out = out};
	region_counts_each(s->region_counts, s->conf, region_text, &regions);
	if (regions.count)
		fputs(" (dynamic answers by client region)\n", out);
	const struct ratelimit_spec *rl = &s->conf->rate_limit;
	if (rl->rate)
		fprintf(out,
			"rate limit:   %u/s per client network (burst %u, slip %u%s): %" PRIu64
			" unanswered, %" PRIu64 " sent truncated",
			rl->rate, rl->burst, rl->slip, rl->dry_run ? ", dry run" : "", q->rate_limited,
			q->slipped);
	else
		fputs("rate limit:   off", out);
	if (rl->dry_run || q->dry_limited || q->dry_slipped)
		fprintf(out, "; dry run: %" PRIu64 " would have gone unanswered, %" PRIu64 " truncated",
			q->dry_limited, q->dry_slipped);
	fputc('\n', out);
	if (s->conf->tsig_key_count || q->tsig_verified || q->tsig_failed)
		fprintf(out,
			"tsig:         %zu keys; %" PRIu64 " signed queries verified, %" PRIu64
			" failed (NOTAUTH)\n",
			s->conf->tsig_key_count, q->tsig_verified, q->tsig_failed);
	fprintf(out,
		"transfers:    %" PRIu64 " served (%" PRIu64 " incremental), %" PRIu64
		" stopped early, %u now; notify: %" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64
		" unanswered\n",
		t->served, t->incremental, t->aborted, t->active, nc->sent, nc->answered, nc->abandoned);
}

static void status_json(struct request *r, const struct snapshot *s, const struct status_counts *c)
{
	const struct health_counts *n = &c->health;
	const struct monitor_stats *ms = &c->checks;
	const struct query_stats *q = &c->queries;
	const struct transfer_counts *t = &c->transfers;
	const struct notify_counts *nc = &c->notify;
	FILE *out = r->out;
	const struct daemon *dm = r->dm;
	fprintf(out,
		"{\"serial\":%" PRIu64 ",\"generation\":%" PRIu64 ",\"snapshot\":%" PRIu64 ",\"uptime\":%.3f",
		s->conf->serial, monitor_generation(dm->monitor), s->generation, daemon_now() - dm->started);
	fputs(",\"zones\":[", out);
	for (size_t i = 0; i < s->zones->count; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_write_string(out, s->zones->zones[i]->name_text);
		const struct zone *z = s->zones->zones[i];
		fprintf(out, ",\"serial\":%u,\"records\":%zu", z->serial, z->rr_count);
		if (z->dnssec.denial != ZONE_DENIAL_NONE)
			fprintf(out, ",\"dnssec\":\"%s\",\"signatures_expire\":%" PRId64,
				zone_denial_name(z->dnssec.denial), z->dnssec.expires);
		if (z->journal) {
			fputs(",\"ixfr_serials\":[", out);
			for (unsigned k = 0; k < z->journal->count; k++)
				fprintf(out, "%s%u", k ? "," : "", z->journal->delta[k]->from);
			fputc(']', out);
		}
		fputc('}', out);
	}
	fprintf(
	    out,
	    "],\"dynamic_records\":%zu,\"members\":{\"total\":%u,\"monitored\":%u,\"out\":%u,\"draining\":%u,"
	    "\"forced\":%u,\"frozen\":%s}",
	    s->conf->record_count, n->members, n->monitored, n->out, n->draining, n->forced,
	    monitor_frozen(dm->monitor) ? "true" : "false");
	fprintf(out,
		",\"checks\":{\"run\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"transitions\":%" PRIu64
		",\"freezes\":%" PRIu64 "}",
		ms->checks, ms->failures, ms->transitions, ms->freezes);
	fprintf(out, ",\"publications\":{\"health\":%" PRIu64 ",\"last_ms\":%.3f}", dm->health_publications,
		dm->last_publish_ms);
	fprintf(out,
		",\"reloads\":{\"ok\":%" PRIu64 ",\"failed\":%" PRIu64
		",\"last_load_seconds\":%.3f,\"loading\":",
		dm->reloads, dm->reload_failures, dm->last_load_seconds);
	if (dm->loading) {
		fputs("{\"config\":", out);
		json_write_string(out, dm->loading->config);
		fprintf(out, ",\"kind\":\"%s\",\"seconds\":%.3f,\"waiting\":%zu}",
			daemon_load_name(dm->loading->kind), daemon_load_seconds(dm),
			daemon_loads_queued(dm));
	} else {
		fputs("null", out);
	}
	fputc('}', out);
	fprintf(out, ",\"prepared\":{\"answers\":%zu,\"dnssec\":%zu,\"bytes\":%zu,\"capped\":%s}",
		prepared_count(s->prepared), prepared_dnssec_count(s->prepared), prepared_bytes(s->prepared),
		prepared_capped(s->prepared) ? "true" : "false");
	fprintf(out, ",\"guard\":{\"interventions\":%" PRIu64 ",\"refusals\":%" PRIu64 "},\"audit_log\":",
		dm->guard_interventions, dm->guard_refusals);
	json_write_string(out, dm->audit ? audit_path(dm->audit) : "");
	fprintf(out,
		",\"policies\":{\"runs\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"last_ms\":%.3f,\"last_error\":",
		dm->policy_runs, dm->policy_errors, dm->policy_last_ms);
	json_write_string(out, dm->policy_last_error);
	fputc('}', out);
	fprintf(out, ",\"queries\":{\"total\":%" PRIu64, q->queries);
	for (int i = 0; i < 6; i++)
		fprintf(out, ",\"%s\":%" PRIu64, query_rcode_names[i], q->rcode[i]);
	fprintf(out,
		",\"dropped\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"rate_limited\":%" PRIu64
		",\"slipped\":%" PRIu64 ",\"dry_limited\":%" PRIu64 ",\"dry_slipped\":%" PRIu64 "}",
		q->dropped, q->truncated, q->rate_limited, q->slipped, q->dry_limited, q->dry_slipped);
	counts_json(out, q);
	struct region_list regions = {.out = out};
	fputs(",\"regions\":[", out);
	region_counts_each(s->region_counts, s->conf, region_json, &regions);
	fputc(']', out);
	const struct ratelimit_spec *rl = &s->conf->rate_limit;
	fprintf(out, ",\"rate_limit\":{\"rate\":%u,\"burst\":%u,\"slip\":%u,\"dry_run\":%s}", rl->rate,
		rl->burst, rl->slip, rl->dry_run ? "true" : "false");
	fprintf(out, ",\"tsig\":{\"keys\":%zu,\"verified\":%" PRIu64 ",\"failed\":%" PRIu64 "}",
		s->conf->tsig_key_count, q->tsig_verified, q->tsig_failed);
	fprintf(out,
		",\"transfers\":{\"served\":%" PRIu64 ",\"incremental\":%" PRIu64 ",\"aborted\":%" PRIu64
		",\"active\":%u}"
		",\"notify\":{\"sent\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"abandoned\":%" PRIu64 "}}\n",
		t->served, t->incremental, t->aborted, t->active, nc->sent, nc->answered, nc->abandoned);
}

static enum control_status cmd_status(struct request *r)
{
	if (r->argc != 1)
		return fail(r, CONTROL_ERROR, "usage: status");
	const struct snapshot *s = snapshot_latest();
	struct status_counts c;
	count_health(r->dm, s->conf, &c.health);
	monitor_stats(r->dm->monitor, &c.checks);
	server_stats(r->dm->server, &c.queries);
	transfer_server_counts(r->dm->transfers, &c.transfers);
	notifier_counts(r->dm->notifier, &c.notify);
	(r->json ? status_json : status_text)(r, s, &c);
	return CONTROL_OK;
}

/* ---- health ---- */

static void member_json(struct request *r, const struct conf *c, unsigned p, unsigned m, double now)
{
	const struct health_state *h = monitor_state(r->dm->monitor, p, m);
	FILE *out = r->out;
	fputs("{\"pool\":", out);
	json_write_string(out, c->pools[p].name);
	fputs(",\"member\":", out);
	json_write_string(out, c->pools[p].members[m].name);
	fputs(",\"dc\":", out);
	json_write_string(out, c->datacenters[c->pools[p].members[m].dc].name);
	fprintf(out,
		",\"monitored\":%s,\"observed\":\"%s\",\"forced\":\"%s\",\"serving\":\"%s\",\"since\":%.3f",
		monitor_monitored(r->dm->monitor, p, m) ? "true" : "false", h->up ? "up" : "down",
		health_forced_name(h->forced), serving_name(monitor_serving(r->dm->monitor, p, m, now)),
		h->since);
	if (h->has_result) {
		fprintf(out, ",\"last\":{\"ok\":%s,\"at\":%.3f,\"reason\":", h->last_ok ? "true" : "false",
			h->last_time);
		json_write_string(out, h->reason);
		fputc('}', out);
	}
	if (h->held_until > now)
		fprintf(out, ",\"held_until\":%.3f", h->held_until);
	if (h->forced == HEALTH_FORCE_DRAIN)
		fprintf(out, ",\"drain_until\":%.3f", h->drain_until);
	fputc('}', out);
}

static void member_text(struct request *r, const struct conf *c, unsigned p, unsigned m, double now)
{
	const struct health_state *h = monitor_state(r->dm->monitor, p, m);
	char name[160], since[32], until[32];
	snprintf(name, sizeof(name), "%s/%s", c->pools[p].name, c->pools[p].members[m].name);
	fprintf(r->out, "%-24s %-5s %-4s forced %-5s %-8s since %s", name,
		c->datacenters[c->pools[p].members[m].dc].name, h->up ? "up" : "down",
		health_forced_name(h->forced), serving_name(monitor_serving(r->dm->monitor, p, m, now)),
		iso_time(h->since, since, sizeof(since)));
	if (!monitor_monitored(r->dm->monitor, p, m))
		fputs("  (not monitored)", r->out);
	else if (h->has_result)
		fprintf(r->out, "  last: %s %s (%.1f s ago)", h->last_ok ? "ok" : "FAIL", h->reason,
			now - h->last_time);
	else
		fputs("  last: (no result yet)", r->out);
	if (h->held_until > now)
		fprintf(r->out, "  held down until %s", iso_time(h->held_until, until, sizeof(until)));
	if (h->forced == HEALTH_FORCE_DRAIN && h->drain_until > now)
		fprintf(r->out, "  leaves the answers at %s", iso_time(h->drain_until, until, sizeof(until)));
	fputc('\n', r->out);
}

static enum control_status cmd_health(struct request *r)
{
	const struct conf *c = snapshot_latest()->conf;
	if (r->argc > 2)
		return fail(r, CONTROL_ERROR, "usage: health [POOL]");
	long only = -1;
	for (unsigned p = 0; r->argc == 2 && p < c->pool_count; p++)
		if (!strcmp(c->pools[p].name, r->argv[1]))
			only = p;
	if (r->argc == 2 && only < 0)
		return fail(r, CONTROL_ERROR, "no such pool");
	double now = daemon_now();
	bool first = true;
	if (r->json) {
		fprintf(r->out,
			"{\"generation\":%" PRIu64 ",\"frozen\":%s,\"policy_errors\":%" PRIu64
			",\"policy_last_error\":",
			monitor_generation(r->dm->monitor), monitor_frozen(r->dm->monitor) ? "true" : "false",
			r->dm->policy_errors);
		json_write_string(r->out, r->dm->policy_last_error);
		fputs(",\"members\":[", r->out);
	} else {
		fprintf(r->out, "generation %" PRIu64 "%s\n", monitor_generation(r->dm->monitor),
			monitor_frozen(r->dm->monitor) ? ", FROZEN: every check failing at once, answers kept"
						       : "");
		if (r->dm->policy_errors)
			fprintf(r->out, "policy errors: %" PRIu64 ", last: %s\n", r->dm->policy_errors,
				r->dm->policy_last_error);
	}
	for (unsigned p = 0; p < c->pool_count; p++) {
		if (only >= 0 && p != (unsigned)only)
			continue;
		for (unsigned m = 0; m < c->pools[p].member_count; m++) {
			if (r->json && !first)
				fputc(',', r->out);
			first = false;
			(r->json ? member_json : member_text)(r, c, p, m, now);
		}
	}
	if (r->json)
		fputs("]}\n", r->out);
	return CONTROL_OK;
}

/* ---- set, drain ---- */

/* "--if-generation N" at argv[at]; true when absent or well-formed. */
static bool if_generation(struct request *r, int at, uint64_t *gen)
{
	*gen = 0;
	if (at == r->argc)
		return true;
	if (at + 2 != r->argc || strcmp(r->argv[at], "--if-generation"))
		return false;
	char *end;
	*gen = strtoull(r->argv[at + 1], &end, 10);
	return *end == 0 && *gen > 0;
}

/* The longest normal TTL of the records whose pools hold the member: resolvers may cache an answer
 * with it that long. */
static uint32_t longest_ttl(const struct conf *c, unsigned pool)
{
	uint32_t ttl = 0;
	for (size_t i = 0; i < c->record_count; i++) {
		const struct conf_record *rec = &c->records[i];
		bool uses = rec->pool == pool ||
			    (rec->when_all_down == CONF_ALL_DOWN_POOL && rec->fallback_pool == pool);
		if (uses && rec->ttl > ttl)
			ttl = rec->ttl;
	}
	return ttl;
}

static enum control_status force(struct request *r, const char *who, enum health_forced f, double drain_in,
				 uint64_t gen)
{
	const struct conf *c = snapshot_latest()->conf;
	unsigned p, m;
	if (!find_member(c, who, &p, &m))
		return fail(r, CONTROL_ERROR, "no such member (use POOL/MEMBER, see `meridianctl health`)");
	char err[256];
	uint64_t before = monitor_generation(r->dm->monitor);
	bool refused = monitor_force(r->dm->monitor, p, m, f, drain_in, gen, err, sizeof(err)) != 0;
	uint64_t now_gen = monitor_generation(r->dm->monitor);
	struct audit_event e;
	audit_begin(&e, f == HEALTH_FORCE_DRAIN ? "drain" : "set");
	audit_add_string(&e, "member", who);
	audit_add_string(&e, "state", health_forced_name(f));
	if (f == HEALTH_FORCE_DRAIN)
		audit_add_uint(&e, "leaves_in", (uint64_t)drain_in);
	audit_add_string(&e, "result", refused ? "refused" : "accepted");
	if (gen)
		audit_add_uint(&e, "if_generation", gen);
	audit_add_uint(&e, "generation_before", before);
	audit_add_uint(&e, "generation", now_gen);
	audit_add_string(&e, "reason", refused ? err : NULL);
	daemon_audit(r->dm, &e);
	if (refused)
		return fail(r, CONTROL_REFUSED, err);
	if (r->json) {
		fputs("{\"member\":", r->out);
		json_write_string(r->out, who);
		fprintf(r->out, ",\"forced\":\"%s\",\"generation\":%" PRIu64, health_forced_name(f), now_gen);
		if (f == HEALTH_FORCE_DRAIN)
			fprintf(r->out, ",\"leaves_in\":%.3f", drain_in);
		fputs("}\n", r->out);
	} else if (f == HEALTH_FORCE_DRAIN && drain_in > 0) {
		fprintf(r->out,
			"%s: draining; its records answer with ttl_degraded now and it leaves the answers in "
			"%.0f s "
			"(generation %" PRIu64 ")\n",
			who, drain_in, now_gen);
	} else {
		fprintf(r->out, "%s: forced %s (generation %" PRIu64 ")\n", who, health_forced_name(f),
			now_gen);
	}
	return CONTROL_OK;
}

static enum control_status cmd_set(struct request *r)
{
	enum health_forced f;
	uint64_t gen;
	if (r->argc < 3 || !health_forced_parse(r->argv[2], &f) || !if_generation(r, 3, &gen))
		return fail(r, CONTROL_ERROR,
			    "usage: set POOL/MEMBER up|down|drain|auto [--if-generation N]");
	return force(r, r->argv[1], f, 0, gen);
}

static enum control_status cmd_drain(struct request *r)
{
	uint64_t gen;
	char *end = NULL;
	double in = r->argc >= 4 && !strcmp(r->argv[2], "--in") ? strtod(r->argv[3], &end) : -1;
	if (in < 0 || !end || *end || !if_generation(r, 4, &gen))
		return fail(r, CONTROL_ERROR, "usage: drain POOL/MEMBER --in SECONDS [--if-generation N]");
	unsigned p, m;
	const struct conf *c = snapshot_latest()->conf;
	if (find_member(c, r->argv[1], &p, &m) && longest_ttl(c, p) > in)
		in = longest_ttl(c, p); /* resolvers may hold the old answer that long */
	return force(r, r->argv[1], HEALTH_FORCE_DRAIN, in, gen);
}

/* ---- explain, reload ---- */

static void explain_member(void *arg, unsigned pool, unsigned member, char *buf, size_t size)
{
	const struct daemon *dm = arg;
	const struct health_state *h = monitor_state(dm->monitor, pool, member);
	char since[32];
	snprintf(buf, size, "%s, %s, forced %s, since %s%s%s",
		 serving_name(monitor_serving(dm->monitor, pool, member, daemon_now())),
		 h->up ? "up" : "down", health_forced_name(h->forced),
		 iso_time(h->since, since, sizeof(since)), h->has_result ? ", last: " : "",
		 h->has_result ? h->reason : "");
}

/* explain's "key:   value" lines as one JSON object; keys that repeat become lists. */
static void lines_to_json(const char *text, FILE *out)
{
	fputc('{', out);
	const char *keys[] = {"answer", "member"};
	bool open_list = false;
	char last[32] = "";
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (colon && colon < line + len && (size_t)(colon - line) < sizeof(last)) {
			char key[32], *value = strndup(colon + 1, (size_t)(line + len - colon - 1));
			snprintf(key, sizeof(key), "%.*s", (int)(colon - line), line);
			bool list = !strcmp(key, keys[0]) || !strcmp(key, keys[1]);
			bool same = open_list && !strcmp(key, last);
			if (open_list && !same)
				fputc(']', out);
			if (!same) {
				fprintf(out, "%s\"%s\":%s", *last ? "," : "", key, list ? "[" : "");
				open_list = list;
			} else {
				fputc(',', out);
			}
			json_write_string(out, value + strspn(value, " \t"));
			snprintf(last, sizeof(last), "%s", key);
			free(value);
		}
		line += len + (nl != NULL);
	}
	fputs(open_list ? "]}\n" : "}\n", out);
}

static enum control_status cmd_explain(struct request *r)
{
	if (r->argc != 4)
		return fail(r, CONTROL_ERROR, "usage: explain NAME TYPE CLIENT[/PREFIX]");
	struct diag d;
	diag_init(&d);
	char *text = NULL;
	size_t size = 0;
	FILE *buf = open_memstream(&text, &size);
	const struct explain_health live = {.member = explain_member, .arg = r->dm};
	bool ok = buf && explain_print(snapshot_latest(), r->argv[1], r->argv[2], r->argv[3], &live, buf, &d);
	if (buf)
		fclose(buf);
	enum control_status status = CONTROL_OK;
	if (!ok)
		status = fail(r, CONTROL_ERROR, d.count ? d.entries[0].text : "explain failed");
	else if (r->json)
		lines_to_json(text, r->out);
	else
		fputs(text, r->out);
	free(text);
	diag_free(&d);
	return status;
}

/* Whether two zone names in presentation form are the same: case aside, a final dot aside. */
static bool same_zone_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la > 1 && a[la - 1] == '.';
	lb -= lb > 1 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* notify [ZONE]: tells ZONE's notify servers (every zone's when none is named) of its serial now. */
static enum control_status cmd_notify(struct request *r)
{
	if (r->argc > 2)
		return fail(r, CONTROL_ERROR, "usage: notify [ZONE]");
	const struct snapshot *s = snapshot_latest();
	const char *name = r->argc == 2 ? r->argv[1] : NULL;
	size_t told = 0;
	if (r->json)
		fputs("{\"zones\":[", r->out);
	for (size_t i = 0; i < s->conf->zone_count; i++) {
		const struct conf_zone *cz = &s->conf->zones[i];
		if (name && !same_zone_name(name, cz->name))
			continue;
		struct zone *z = (struct zone *)zone_set_get(s->zones, cz->apex, cz->apex_len);
		if (!cz->notify_count || !z)
			continue;
		notifier_zone(r->dm->notifier, cz, z);
		if (r->json) {
			fputs(told ? ",{\"name\":" : "{\"name\":", r->out);
			json_write_string(r->out, z->name_text);
			fprintf(r->out, ",\"serial\":%u,\"servers\":%zu}", z->serial, cz->notify_count);
		} else {
			fprintf(r->out, "notify %s serial %u: %zu server%s\n", z->name_text, z->serial,
				cz->notify_count, cz->notify_count == 1 ? "" : "s");
		}
		told++;
	}
	if (r->json)
		fputs("]}\n", r->out);
	if (!told && name) {
		char why[320];
		snprintf(why, sizeof(why), "zone %s is not served here, or has no notify servers", name);
		return fail(r, CONTROL_REFUSED, why);
	}
	if (!told && !r->json)
		fputs("no zone has notify servers\n", r->out);
	return CONTROL_OK;
}

static enum control_status cmd_reload(struct request *r)
{
	if (r->argc != 1)
		return fail(r, CONTROL_ERROR, "usage: reload");
	struct load *l = daemon_load_new(r->dm, LOAD_RELOAD);
	l->source = "meridianctl";
	l->json = r->json;
	return daemon_load_defer(r->dm, l);
}

static enum control_status cmd_plan(struct request *r)
{
	return daemon_plan(r->dm, r->json, r->argc, r->argv, r->out);
}

static enum control_status cmd_apply(struct request *r)
{
	return daemon_apply(r->dm, r->json, r->argc, r->argv, r->out);
}

enum control_status daemon_command(void *arg, int argc, char **argv, FILE *out)
{
	struct request r = {.dm = arg, .argc = argc, .argv = argv, .out = out};
	if (r.argc && !strcmp(r.argv[0], "--json"))
		r.json = true, r.argc--, r.argv++;
	static const struct {
		const char *name;
		enum control_status (*run)(struct request *);
	} commands[] = {{"status", cmd_status}, {"health", cmd_health},	  {"set", cmd_set},
			{"drain", cmd_drain},	{"explain", cmd_explain}, {"reload", cmd_reload},
			{"plan", cmd_plan},	{"apply", cmd_apply},	  {"notify", cmd_notify}};
	for (size_t i = 0; r.argc && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(r.argv[0], commands[i].name))
			return commands[i].run(&r);
	return fail(&r, CONTROL_ERROR,
		    "unknown command (status, health, set, drain, explain, reload, plan, apply, notify)");
}
