/* metrics.c -- what the metrics endpoint (http.h) serves: the counters and states of `meridianctl
 * status` and `health`, in Prometheus's text format (version 0.0.4). Runs on the control thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "meridian/region_counts.h"
#include "meridian/version.h"

/* A label value, escaped as the text format wants (backslash, double quote, newline). */
static void label(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *out, const char *name, const char *type, const char *help, double value)
{
	head(out, name, type, help);
	fprintf(out, "%s %.17g\n", name, value);
}

static void queries(FILE *out, const struct query_stats *q)
{
	one(out, "meridian_queries_total", "counter", "DNS queries received over UDP and TCP.",
	    (double)q->queries);
	head(out, "meridian_responses_total", "counter", "DNS responses sent, by rcode.");
	for (int i = 0; i < 6; i++)
		fprintf(out, "meridian_responses_total{rcode=\"%s\"} %" PRIu64 "\n", query_rcode_names[i],
			q->rcode[i]);
	one(out, "meridian_responses_badvers_total", "counter",
	    "Responses with BADVERS (EDNS version above 0).", (double)q->badvers);
	one(out, "meridian_queries_edns_total", "counter", "Queries with an EDNS OPT record.",
	    (double)q->edns);
	one(out, "meridian_queries_dropped_total", "counter",
	    "Queries dropped: malformed beyond an answer, too large, or replies the socket could not take.",
	    (double)q->dropped);
	one(out, "meridian_responses_truncated_total", "counter",
	    "Responses sent with TC (too large for UDP).", (double)q->truncated);
	head(out, "meridian_rate_limited_total", "counter",
	     "UDP queries over their client network's rate limit: unanswered, or answered with a bare "
	     "truncated reply (slip).");
	fprintf(out, "meridian_rate_limited_total{action=\"dropped\"} %" PRIu64 "\n", q->rate_limited);
	fprintf(out, "meridian_rate_limited_total{action=\"truncated\"} %" PRIu64 "\n", q->slipped);
	head(out, "meridian_rate_limit_dry_run_total", "counter",
	     "Under rate_limit.dry_run: queries the limit would have dropped or truncated (all answered).");
	fprintf(out, "meridian_rate_limit_dry_run_total{action=\"dropped\"} %" PRIu64 "\n", q->dry_limited);
	fprintf(out, "meridian_rate_limit_dry_run_total{action=\"truncated\"} %" PRIu64 "\n", q->dry_slipped);
	head(
	    out, "meridian_queries_by_transport_total", "counter",
	    "DNS queries by transport and the client's address family (an IPv4-mapped IPv6 client is IPv4).");
	for (int t = 0; t < QUERY_TRANSPORT_KINDS; t++)
		fprintf(out, "meridian_queries_by_transport_total{proto=\"%s\",family=\"%s\"} %" PRIu64 "\n",
			t < QUERY_TCP4 ? "udp" : "tcp", t == QUERY_UDP6 || t == QUERY_TCP6 ? "ipv6" : "ipv4",
			q->transports[t]);
	head(out, "meridian_queries_by_type_total", "counter",
	     "DNS queries with a question, by its type (types asked at least once; above CAA: \"other\").");
	char buf[16];
	for (unsigned t = 0; t <= QUERY_QTYPE_OTHER; t++)
		if (q->qtypes[t])
			fprintf(out, "meridian_queries_by_type_total{type=\"%s\"} %" PRIu64 "\n",
				query_qtype_name(t, buf, sizeof(buf)), q->qtypes[t]);
	head(out, "meridian_tsig_queries_total", "counter",
	     "TSIG-signed queries: verified (answered and signed), or failed (NOTAUTH: BADKEY, BADSIG, "
	     "BADTIME, BADTRUNC).");
	fprintf(out, "meridian_tsig_queries_total{result=\"verified\"} %" PRIu64 "\n", q->tsig_verified);
	fprintf(out, "meridian_tsig_queries_total{result=\"failed\"} %" PRIu64 "\n", q->tsig_failed);
}

static void transfers(FILE *out, const struct daemon *dm)
{
	struct transfer_counts t;
	struct notify_counts n;
	transfer_server_counts(dm->transfers, &t);
	notifier_counts(dm->notifier, &n);
	head(out, "meridian_transfers_total", "counter",
	     "Zone transfers (AXFR, IXFR) to secondaries: sent to their end, or stopped before it.");
	fprintf(out, "meridian_transfers_total{result=\"served\"} %" PRIu64 "\n", t.served);
	fprintf(out, "meridian_transfers_total{result=\"aborted\"} %" PRIu64 "\n", t.aborted);
	one(out, "meridian_transfers_incremental_total", "counter",
	    "IXFR requests answered with the differences since the secondary's serial.", t.incremental);
	one(out, "meridian_transfers_active", "gauge", "Zone transfers being sent now.", t.active);
	head(out, "meridian_notify_total", "counter",
	     "NOTIFY to secondaries: messages sent (retries included), servers that answered, servers that "
	     "never did.");
	fprintf(out, "meridian_notify_total{result=\"sent\"} %" PRIu64 "\n", n.sent);
	fprintf(out, "meridian_notify_total{result=\"answered\"} %" PRIu64 "\n", n.answered);
	fprintf(out, "meridian_notify_total{result=\"abandoned\"} %" PRIu64 "\n", n.abandoned);
}

static void members(FILE *out, const struct daemon *dm, const struct conf *c)
{
	static const struct {
		const char *name, *help;
	} gauges[3] = {
	    {"meridian_member_up", "Whether the member's checks say it is up (1) or down (0)."},
	    {"meridian_member_serving", "Whether answers hold the member (1), or not: out or draining (0)."},
	    {"meridian_member_forced",
	     "Whether an operator forced the member's state (1) or its checks decide (0)."},
	};
	double now = daemon_now();
	for (int g = 0; g < 3; g++) {
		head(out, gauges[g].name, "gauge", gauges[g].help);
		for (unsigned p = 0; p < c->pool_count; p++)
			for (unsigned m = 0; m < c->pools[p].member_count; m++) {
				const struct health_state *h = monitor_state(dm->monitor, p, m);
				int v = g == 0	 ? h->up
					: g == 1 ? monitor_serving(dm->monitor, p, m, now) == HEALTH_SERVING
						 : h->forced != HEALTH_AUTO;
				fprintf(out, "%s{pool=", gauges[g].name);
				label(out, c->pools[p].name);
				fputs(",member=", out);
				label(out, c->pools[p].members[m].name);
				fputs(",dc=", out);
				label(out, c->datacenters[c->pools[p].members[m].dc].name);
				fprintf(out, "} %d\n", v);
			}
	}
}

static void region_metric(const char *region, uint64_t answers, bool current, void *arg)
{
	(void)current; /* a region a reload removed keeps its counter: counters never go back */
	fputs("meridian_region_answers_total{region=", arg);
	label(arg, region);
	fprintf(arg, "} %" PRIu64 "\n", answers);
}

char *daemon_metrics(void *arg, size_t *len)
{
	struct daemon *dm = arg;
	const struct snapshot *s = snapshot_latest();
	const struct conf *c = s->conf;
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);
	if (!out)
		return NULL;
	head(out, "meridian_build_info", "gauge", "The running version.");
	fprintf(out, "meridian_build_info{version=\"%s\"} 1\n", MERIDIAN_VERSION);
	one(out, "meridian_start_time_seconds", "gauge", "When the server started (Unix time).", dm->started);
	one(out, "meridian_config_serial", "gauge", "The serial of the running config.", (double)c->serial);
	one(out, "meridian_snapshot_generation", "gauge", "Snapshots published since the start.",
	    (double)s->generation);
	one(out, "meridian_health_generation", "gauge",
	    "The generation operator actions compare against (--if-generation).",
	    (double)monitor_generation(dm->monitor));
	head(out, "meridian_zone_serial", "gauge", "The SOA serial each zone is served at.");
	for (size_t i = 0; i < s->zones->count; i++) {
		fputs("meridian_zone_serial{zone=", out);
		label(out, s->zones->zones[i]->name_text);
		fprintf(out, "} %u\n", s->zones->zones[i]->serial);
	}
	head(out, "meridian_zone_signatures_expire_time_seconds", "gauge",
	     "When the first RRSIG of each DNSSEC-signed zone expires (Unix time): sign and reload before.");
	for (size_t i = 0; i < s->zones->count; i++) {
		const struct zone *z = s->zones->zones[i];
		if (z->dnssec.denial == ZONE_DENIAL_NONE || !z->dnssec.expires)
			continue;
		fputs("meridian_zone_signatures_expire_time_seconds{zone=", out);
		label(out, z->name_text);
		fprintf(out, "} %" PRId64 "\n", z->dnssec.expires);
	}
	head(out, "meridian_reloads_total", "counter", "Reloads (SIGHUP, reload, apply), by result.");
	fprintf(out, "meridian_reloads_total{result=\"accepted\"} %" PRIu64 "\n", dm->reloads);
	fprintf(out, "meridian_reloads_total{result=\"refused\"} %" PRIu64 "\n", dm->reload_failures);
	one(out, "meridian_load_running_seconds", "gauge",
	    "How long the config load in progress (reload, plan, apply) has run; 0 when none runs.",
	    daemon_load_seconds(dm));
	one(out, "meridian_loads_waiting", "gauge", "Config loads queued behind the one in progress.",
	    (double)daemon_loads_queued(dm));
	one(out, "meridian_last_load_seconds", "gauge",
	    "How long the last reload or apply took to load its config and zones (0: none yet).",
	    dm->last_load_seconds);
	one(out, "meridian_guard_refusals_total", "counter", "Candidate configs the record guard refused.",
	    (double)dm->guard_refusals);
	one(out, "meridian_guard_interventions_total", "counter",
	    "Policy answers the record guard replaced with the last good one.",
	    (double)dm->guard_interventions);
	one(out, "meridian_policy_runs_total", "counter", "Lua policy calls.", (double)dm->policy_runs);
	one(out, "meridian_policy_errors_total", "counter",
	    "Lua policy calls that failed (last good answer kept).", (double)dm->policy_errors);
	one(out, "meridian_health_publications_total", "counter", "Snapshots published for health changes.",
	    (double)dm->health_publications);
	struct monitor_stats ms;
	monitor_stats(dm->monitor, &ms);
	one(out, "meridian_checks_total", "counter", "Health checks run.", (double)ms.checks);
	one(out, "meridian_check_failures_total", "counter", "Health checks that failed.",
	    (double)ms.failures);
	one(out, "meridian_health_transitions_total", "counter", "Members going up or down.",
	    (double)ms.transitions);
	one(out, "meridian_health_frozen", "gauge",
	    "Whether health is frozen (1) because every check failed at once (the checker is suspect).",
	    monitor_frozen(dm->monitor) ? 1 : 0);
	members(out, dm, c);
	struct query_stats q;
	server_stats(dm->server, &q);
	queries(out, &q);
	head(out, "meridian_region_answers_total", "counter",
	     "Answers built from dynamic records, by the client's region.");
	region_counts_each(s->region_counts, c, region_metric, out);
	transfers(out, dm);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
