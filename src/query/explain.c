/* explain.c -- why a client gets the answer it gets (see explain.h).
 *
 * The answer is not recomputed here: a real query (with the client as an EDNS client-subnet option)
 * goes through query_answer and the response is printed, so what --explain shows is what the server
 * sends. The region, its match and the policy's order are then described beside it. */
#include "meridian/explain.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/policy.h"
#include "meridian/prepared.h"
#include "meridian/query.h"

static const char *policy_name(enum conf_policy p)
{
	static const char *const names[] = {"failover", "nearest", "weighted", "all"};
	return names[p];
}

static const char *match_name(enum geo_match_kind k)
{
	static const char *const names[] = {"net", "subdivision", "country", "continent", "default region"};
	return names[k];
}

/* Which path answers a plain query for name/type (no EDNS, so no client subnet): the prepared
 * answers or the general path; dynamic: name/type is a dynamic record. Said only where the snapshot
 * has prepared answers (the daemon's). */
static void print_path(const struct snapshot *s, const char *name, ldns_rr_type type, bool dynamic, FILE *out)
{
	if (!s->prepared)
		return;
	ldns_rdf *owner = ldns_dname_new_frm_str(name);
	if (!owner)
		return;
	ldns_pkt *qp = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, 0);
	uint8_t *wire = NULL;
	size_t len = 0;
	bool ok = ldns_pkt2wire(&wire, qp, &len) == LDNS_STATUS_OK;
	ldns_pkt_free(qp);
	static uint8_t resp[WIRE_MSG_MAX];
	struct query_stats stats = {0};
	if (ok)
		fprintf(out, "path:    %s\n",
			prepared_answer(s, wire, len, NULL, resp, sizeof(resp), QUERY_UDP, &stats)
			    ? (dynamic
				   ? "a plain query is answered from the prepared answers (this record's "
				     "values for the client's region, picked per query)"
				   : "a plain query (no client subnet) is answered from the prepared answers")
			    : "the general path answers (not a prepared answer)");
	free(wire);
}

/* A query packet for name/type with an ECS option for the client network; returns its length. */
static size_t make_query(const char *name, ldns_rr_type type, const struct geo_net *net, bool v4,
			 uint8_t *pkt, size_t cap)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(name);
	if (!owner)
		return 0;
	ldns_pkt *qp = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, 0);
	uint8_t *wire = NULL;
	size_t len = 0;
	ldns_status st = ldns_pkt2wire(&wire, qp, &len);
	ldns_pkt_free(qp);
	unsigned source = v4 ? net->prefix - 96u : net->prefix;
	size_t addr_len = (source + 7) / 8;
	if (st != LDNS_STATUS_OK || len + 11 + 8 + addr_len > cap) {
		free(wire);
		return 0;
	}
	memcpy(pkt, wire, len);
	free(wire);
	uint16_t opt_len = (uint16_t)(4 + 4 + addr_len);
	uint8_t opt[11 + 8] = {0,
			       0,
			       41,
			       0x10,
			       0,
			       0,
			       0,
			       0,
			       0,
			       (uint8_t)(opt_len >> 8),
			       (uint8_t)opt_len,
			       0,
			       8,
			       0,
			       (uint8_t)(4 + addr_len),
			       0,
			       v4 ? 1 : 2,
			       (uint8_t)source,
			       0};
	memcpy(pkt + len, opt, sizeof(opt));
	memcpy(pkt + len + sizeof(opt), net->addr + (v4 ? 12 : 0), addr_len);
	pkt[11] = 1; /* ARCOUNT */
	return len + sizeof(opt) + addr_len;
}

/* The config's dynamic record for name/type, or NULL. */
static const struct conf_record *find_record(const struct conf *c, const ldns_rdf *owner, uint16_t type)
{
	for (size_t i = 0; i < c->record_count; i++) {
		const struct conf_record *r = &c->records[i];
		if (r->type == type && r->owner_len == ldns_rdf_size(owner) &&
		    wire_name_equal(r->owner, ldns_rdf_data(owner), r->owner_len))
			return r;
	}
	return NULL;
}

/* Why the dynamic answer is what it is, from its flags. */
static void print_state(const struct snapshot *s, const struct conf_record *rec, unsigned region, FILE *out)
{
	const struct conf *c = s->conf;
	const struct dyn_answer *a = dyn_answer_get(s->dyn, (size_t)(rec - c->records), region);
	const char *why =
	    a->flags & DYN_FLAG_GUARD
		? "the guard replaced an answer outside the record's intent (see the log)"
	    : a->flags & DYN_FLAG_POLICY_ERROR	? "the policy failed: the last good answer keeps serving"
	    : a->flags & DYN_FLAG_FAIL_OPEN	? "no member up: every member (when_all_down serve_all)"
	    : a->flags & DYN_FLAG_LAST_GOOD	? "no member up: the last good answer"
	    : a->flags & DYN_FLAG_FALLBACK_POOL ? "no member up: the fallback pool"
	    : a->flags & DYN_FLAG_DEGRADED	? "degraded: differs from the all-up answer"
						: "every preferred member up";
	fprintf(out, "state:   %s, ttl %u\n", why, a->ttl);
}

static void print_members(const struct conf *c, const struct conf_record *rec, const struct explain_health *h,
			  FILE *out)
{
	const struct conf_pool *pool = &c->pools[rec->pool];
	for (unsigned m = 0; m < pool->member_count; m++) {
		char state[256];
		h->member(h->arg, rec->pool, m, state, sizeof(state));
		fprintf(out, "member:  %s/%s (%s) %s\n", pool->name, pool->members[m].name,
			c->datacenters[pool->members[m].dc].name, state);
	}
}

static void print_record(const struct snapshot *s, const struct conf_record *rec, unsigned region, FILE *out)
{
	const struct conf *c = s->conf;
	fprintf(out, "record:  %s, pool %s, policy %s, ttl %u", rec->name, c->pools[rec->pool].name,
		rec->policy == CONF_POLICY_LUA ? rec->policy_file : policy_name(rec->policy), rec->ttl);
	if (rec->answers)
		fprintf(out, ", answers %u", rec->answers);
	fprintf(out, "\norder:  ");
	unsigned *dcs = calloc(c->datacenter_count + 1, sizeof(*dcs));
	size_t n = dcs ? policy_dc_order(c, s->geo, rec, region, dcs) : 0;
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s", c->datacenters[dcs[i]].name);
	fprintf(out, "%s\n", n ? "" : " (none)");
	free(dcs);
}

static void print_response(const uint8_t *resp, size_t len, FILE *out)
{
	ldns_pkt *p = NULL;
	if (!len || ldns_wire2pkt(&p, resp, len) != LDNS_STATUS_OK) {
		fprintf(out, "answer:  (no response)\n");
		return;
	}
	char *rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
	fprintf(out, "status:  %s%s\n", rcode, ldns_pkt_aa(p) ? ", authoritative" : "");
	free(rcode);
	ldns_rr_list *answer = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		char *text = ldns_rr2str(ldns_rr_list_rr(answer, i));
		text[strcspn(text, "\n")] = 0;
		fprintf(out, "answer:  %s\n", text);
		free(text);
	}
	if (!ldns_rr_list_rr_count(answer))
		fprintf(out, "answer:  (none)\n");
	ldns_pkt_free(p);
}

/* The ECS scope of the response (RFC 7871), read from its OPT record's options. */
static int response_scope(const uint8_t *resp, size_t len)
{
	ldns_pkt *p = NULL;
	if (!len || ldns_wire2pkt(&p, resp, len) != LDNS_STATUS_OK)
		return -1;
	int scope = -1;
	ldns_rdf *data = ldns_pkt_edns_data(p);
	for (size_t at = 0; data && at + 4 <= ldns_rdf_size(data);) {
		const uint8_t *o = ldns_rdf_data(data) + at;
		size_t olen = (size_t)(o[2] << 8 | o[3]);
		if ((o[0] << 8 | o[1]) == 8 && olen >= 4)
			scope = o[7];
		at += 4 + olen;
	}
	ldns_pkt_free(p);
	return scope;
}

bool explain_print(const struct snapshot *s, const char *name, const char *type, const char *client,
		   const struct explain_health *health, FILE *out, struct diag *d)
{
	ldns_rr_type qtype = ldns_get_rr_type_by_name(type);
	struct geo_net net;
	if (!qtype) {
		diag_error(d, NULL, 0, "explain: unknown type '%s'", type);
		return false;
	}
	/* A client subnet option may not carry bits beyond its prefix (RFC 7871 6: FORMERR), so
	 * explain names the network instead of guessing. */
	bool host_bits = false;
	if (!geo_net_parse_masked(client, &net, &host_bits)) {
		diag_error(d, NULL, 0,
			   "explain: '%s' is not an address or a network (203.0.113.7, 2001:db8::/48)",
			   client);
		return false;
	}
	if (host_bits) {
		char text[GEO_NET_TEXT_MAX];
		geo_net_format(&net, text, sizeof(text));
		diag_error(d, NULL, 0, "explain: '%s': it has address bits set beyond /%u; the network is %s",
			   client, net.prefix - (strchr(client, ':') ? 0u : 96u), text);
		return false;
	}
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	/* "::ffff:192.0.2.0/120" is an IPv6 client (its scope counts IPv6 bits), "192.0.2.0/24" IPv4. */
	bool v4 = memcmp(net.addr, v4_mapped, 12) == 0 && net.prefix >= 96 && !strchr(client, ':');
	uint8_t pkt[512], resp[WIRE_MSG_MAX];
	size_t len = make_query(name, qtype, &net, v4, pkt, sizeof(pkt));
	if (!len) {
		diag_error(d, NULL, 0, "explain: '%s' is not a domain name", name);
		return false;
	}
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t rlen = query_answer(s, pkt, len, NULL, resp, sizeof(resp), QUERY_TCP, &scratch, &stats);

	fprintf(out, "query:   %s %s from %s\n", name, type, client);
	unsigned region = s->conf->geo.region_count ? s->conf->geo.default_region : 0;
	if (s->geo) {
		unsigned scope;
		enum geo_match_kind kind;
		char what[64];
		region = geo_map_explain(s->geo, net.addr, net.prefix, &scope, &kind, what, sizeof(what));
		fprintf(out, "region:  %s (%s%s%s)\n", s->conf->geo.regions[region].name, match_name(kind),
			*what ? " " : "", what);
	} else {
		fprintf(out, "region:  (no regions configured)\n");
	}
	ldns_rdf *owner = ldns_dname_new_frm_str(name);
	const struct conf_record *rec = owner ? find_record(s->conf, owner, (uint16_t)qtype) : NULL;
	ldns_rdf_deep_free(owner);
	if (rec) {
		print_record(s, rec, region, out);
		if (s->dyn)
			print_state(s, rec, region, out);
		if (health)
			print_members(s->conf, rec, health, out);
	} else
		fprintf(out, "record:  static zone data (no dynamic %s record at this name)\n", type);
	print_response(resp, rlen, out);
	print_path(s, name, qtype, rec != NULL, out);
	int scope = response_scope(resp, rlen);
	if (scope >= 0)
		fprintf(out, "scope:   /%d%s\n", scope,
			scope == 0 ? " (the answer does not depend on the client)" : "");
	return true;
}
