/* test_query.c -- unit tests of answering one query (query_answer), checked with ldns's parser. */
#include <check.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/query.h"
#include "support.h"

static struct snapshot *snap;

static void setup(void)
{
	snap = unit_query_fixture();
}

static void teardown(void)
{
	snapshot_free(snap);
}

/* Options of a test query. */
struct ask {
	uint16_t payload; /* 0: no EDNS */
	bool do_bit;
	bool nsid;
	bool keepalive; /* an edns-tcp-keepalive option (RFC 7828) */
	uint8_t version;
	enum query_transport transport;
	uint16_t rclass;
};

/* Builds a query with ldns (plus a hand-made OPT record), answers it, parses the answer with ldns. */
static ldns_pkt *ask_full(const char *name, ldns_rr_type type, const struct ask *o, size_t *out_len)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(name);
	ldns_pkt *qp = ldns_pkt_query_new(owner, type, o->rclass ? o->rclass : LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(qp, 4242);
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(ldns_pkt2wire(&wire, qp, &len), LDNS_STATUS_OK);
	ldns_pkt_free(qp);
	uint8_t pkt[600];
	memcpy(pkt, wire, len);
	free(wire);
	if (o->payload) {
		uint8_t opt[] = {0,
				 0,
				 41,
				 (uint8_t)(o->payload >> 8),
				 (uint8_t)o->payload,
				 0,
				 o->version,
				 o->do_bit ? 0x80 : 0,
				 0,
				 0,
				 0};
		static const uint8_t nsid[] = {0, 3, 0, 0}, keepalive[] = {0, 11, 0, 0};
		opt[10] = (uint8_t)((o->nsid ? sizeof(nsid) : 0) + (o->keepalive ? sizeof(keepalive) : 0));
		memcpy(pkt + len, opt, sizeof(opt));
		len += sizeof(opt);
		if (o->nsid) {
			memcpy(pkt + len, nsid, sizeof(nsid));
			len += sizeof(nsid);
		}
		if (o->keepalive) {
			memcpy(pkt + len, keepalive, sizeof(keepalive));
			len += sizeof(keepalive);
		}
		pkt[11] = 1;
	}
	static uint8_t out[WIRE_MSG_MAX];
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t n = query_answer(snap, pkt, len, NULL, out, sizeof(out), o->transport, &scratch, &stats);
	if (out_len)
		*out_len = n;
	if (!n)
		return NULL;
	ldns_pkt *answer = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&answer, out, n), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_id(answer), 4242);
	ck_assert(ldns_pkt_qr(answer));
	return answer;
}

static ldns_pkt *ask(const char *name, ldns_rr_type type)
{
	struct ask o = {.payload = 1232};
	return ask_full(name, type, &o, NULL);
}

/* The presentation form of RR i of a section, for readable assertions. */
static char *rr_text(ldns_rr_list *list, size_t i)
{
	static char buf[512];
	char *s = ldns_rr2str(ldns_rr_list_rr(list, i));
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	buf[strcspn(buf, "\n")] = 0;
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return buf;
}

START_TEST(exact_match_is_authoritative)
{
	ldns_pkt *p = ask("www.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "www.example.com. 3600 IN A 192.0.2.10");
	ck_assert_int_eq(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(question_case_is_echoed)
{
	ldns_pkt *p = ask("WwW.ExAmple.COM.", LDNS_RR_TYPE_A);
	ck_assert_str_eq(rr_text(ldns_pkt_question(p), 0), "WwW.ExAmple.COM. IN A");
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nxdomain_carries_soa_with_negative_ttl)
{
	ldns_pkt *p = ask("nothere.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_nscount(p), 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ck_assert_int_eq(ldns_rr_ttl(soa), 300);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nodata_and_empty_non_terminal)
{
	ldns_pkt *p = ask("www.example.com.", LDNS_RR_TYPE_MX);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	p = ask("b.ent.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(cname_chain_is_followed_in_zone)
{
	ldns_pkt *p = ask("chain1.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 4);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0),
			 "chain1.example.com. 3600 IN CNAME chain2.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1),
			 "chain2.example.com. 3600 IN CNAME alias.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 2), "alias.example.com. 3600 IN CNAME www.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 3), "www.example.com. 3600 IN A 192.0.2.10");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(cname_loop_stops)
{
	ldns_pkt *p = ask("loop1.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
	/* through a wildcard: a.wl -> x.wl -> x.wl, each record once (RFC 2181 5) */
	p = ask("a.wl.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "a.wl.example.com. 3600 IN CNAME x.wl.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1), "x.wl.example.com. 3600 IN CNAME x.wl.example.com.");
	ldns_pkt_free(p);
	p = ask("x.wl.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(cname_to_missing_name_is_nxdomain)
{
	ldns_pkt *p = ask("dangling.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_int_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	p = ask("out.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_int_eq(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(wildcard_synthesizes_with_query_name)
{
	ldns_pkt *p = ask("x.y.wild.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "x.y.wild.example.com. 3600 IN A 192.0.2.99");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(referral_has_ns_and_glue_without_aa)
{
	ldns_pkt *p = ask("host.deep.sub.example.com.", LDNS_RR_TYPE_A);
	/* sub.example.com is also served: the longest zone answers authoritatively. */
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ck_assert(ldns_pkt_aa(p));
	ldns_pkt_free(p);
	p = ask("ns.sub.example.com.", LDNS_RR_TYPE_A);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(referral_to_unserved_child)
{
	ldns_pkt *p = ask("www.deleg.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(!ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_nscount(p), 2);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_NS);
	ck_assert_int_eq(ldns_pkt_arcount(p),
			 2); /* ns1.deleg (in-bailiwick), ns2 (sibling); ldns counts no OPT */
	ldns_pkt_free(p);
	/* NS at the cut is a referral too; DS at a cut not served below is answered (NODATA here). */
	p = ask("deleg.example.com.", LDNS_RR_TYPE_NS);
	ck_assert(!ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_nscount(p), 2);
	ldns_pkt_free(p);
	p = ask("deleg.example.com.", LDNS_RR_TYPE_DS);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(ds_at_cut_is_answered_by_parent)
{
	ldns_pkt *p = ask("sub.example.com.", LDNS_RR_TYPE_DS);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), LDNS_RR_TYPE_DS);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(outside_every_zone_is_refused)
{
	ldns_pkt *p = ask("www.example.org.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ck_assert(!ldns_pkt_aa(p));
	ldns_pkt_free(p);
	p = ask("example.com.", LDNS_RR_TYPE_AXFR);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(any_is_minimal_over_udp_and_full_over_tcp)
{
	ldns_pkt *p = ask("example.com.", LDNS_RR_TYPE_ANY);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2); /* the NS RRset: lowest type at the apex */
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), LDNS_RR_TYPE_NS);
	ldns_pkt_free(p);
	struct ask o = {.payload = 1232, .transport = QUERY_TCP};
	p = ask_full("example.com.", LDNS_RR_TYPE_ANY, &o, NULL);
	ck_assert_int_eq(ldns_pkt_ancount(p), 4); /* NS x2, SOA, MX */
	ldns_pkt_free(p);
}
END_TEST

START_TEST(too_big_for_udp_is_truncated)
{
	struct ask o = {.payload = 512};
	size_t len;
	ldns_pkt *p = ask_full("big.example.com.", LDNS_RR_TYPE_TXT, &o, &len);
	ck_assert(ldns_pkt_tc(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_edns_udp_size(p),
			 1232); /* the OPT record stays (ldns keeps it out of arcount) */
	ck_assert_uint_le(len, 512);
	ldns_pkt_free(p);
	o.transport = QUERY_TCP;
	p = ask_full("big.example.com.", LDNS_RR_TYPE_TXT, &o, NULL);
	ck_assert(!ldns_pkt_tc(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 6);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(edns_echo_nsid_badvers)
{
	struct ask none = {0};
	ldns_pkt *p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &none, NULL);
	ck_assert_int_eq(ldns_pkt_arcount(p), 0);
	ck_assert_int_eq(ldns_pkt_edns_udp_size(p), 0);
	ldns_pkt_free(p);

	struct ask o = {.payload = 4096, .do_bit = true, .nsid = true};
	p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert(ldns_pkt_edns_do(p));
	ck_assert_int_eq(ldns_pkt_edns_udp_size(p), 1232);
	ldns_rdf *data = ldns_pkt_edns_data(p);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(ldns_rdf_size(data), 4 + 7);
	ck_assert_mem_eq(ldns_rdf_data(data) + 4, "unit-ns", 7);
	ldns_pkt_free(p);

	struct ask v1 = {.payload = 1232, .version = 1};
	p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &v1, NULL);
	ck_assert_int_eq(ldns_pkt_edns_extended_rcode(p), 1); /* BADVERS = 16: upper bits 1 */
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

/* RFC 7828: asked over TCP, the answer carries the connection's idle timeout (tcp_idle_timeout, in
 * units of 100 ms) after the other options; over UDP the option is ignored. */
START_TEST(tcp_keepalive_signals_the_idle_timeout)
{
	struct ask o = {.payload = 1232, .nsid = true, .keepalive = true, .transport = QUERY_TCP};
	snap->conf->tcp_idle_timeout = 25;
	ldns_pkt *p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_rdf *data = ldns_pkt_edns_data(p);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(ldns_rdf_size(data), 4 + 7 + 6);
	static const uint8_t keepalive[] = {0, 11, 0, 2, 0, 250};
	ck_assert_mem_eq(ldns_rdf_data(data) + 11, keepalive, sizeof(keepalive));
	ldns_pkt_free(p);
	/* a timeout beyond what 16 bits of 100 ms hold says the most they can */
	snap->conf->tcp_idle_timeout = 7000;
	o.nsid = false;
	p = ask_full("nothere.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	data = ldns_pkt_edns_data(p);
	ck_assert_ptr_nonnull(data);
	static const uint8_t longest[] = {0, 11, 0, 2, 0xff, 0xff};
	ck_assert_int_eq(ldns_rdf_size(data), sizeof(longest));
	ck_assert_mem_eq(ldns_rdf_data(data), longest, sizeof(longest));
	ldns_pkt_free(p);
	/* over UDP: no option */
	o.transport = QUERY_UDP;
	p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert_ptr_null(ldns_pkt_edns_data(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(chaos_identity_and_refused_version)
{
	struct ask o = {.payload = 1232, .rclass = LDNS_RR_CLASS_CH};
	ldns_pkt *p = ask_full("id.server.", LDNS_RR_TYPE_TXT, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "id.server. 0 CH TXT \"unit-1\"");
	ldns_pkt_free(p);
	p = ask_full("version.bind.", LDNS_RR_TYPE_TXT, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(malformed_queries)
{
	static uint8_t out[WIRE_MSG_MAX];
	struct wire_query scratch;
	struct query_stats stats = {0};
	/* QR=1: dropped */
	uint8_t response[] = {0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	ck_assert_uint_eq(query_answer(snap, response, sizeof(response), NULL, out, sizeof(out), QUERY_UDP,
				       &scratch, &stats),
			  0);
	/* short header: dropped */
	ck_assert_uint_eq(
	    query_answer(snap, response, 5, NULL, out, sizeof(out), QUERY_UDP, &scratch, &stats), 0);
	/* QDCOUNT 2: FORMERR */
	uint8_t two[] = {0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1};
	size_t n = query_answer(snap, two, sizeof(two), NULL, out, sizeof(out), QUERY_UDP, &scratch, &stats);
	ck_assert_uint_ge(n, 12);
	ck_assert_int_eq(out[3] & 0xf, LDNS_RCODE_FORMERR);
	ck_assert_int_eq(out[2] & 0x80, 0x80);
	/* opcode 2 (STATUS): NOTIMP */
	uint8_t status[] = {0, 3, 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	n = query_answer(snap, status, sizeof(status), NULL, out, sizeof(out), QUERY_UDP, &scratch, &stats);
	ck_assert_uint_ge(n, 12);
	ck_assert_int_eq(out[3] & 0xf, LDNS_RCODE_NOTIMPL);
	ck_assert_uint_eq(stats.dropped, 2);
	/* the same with an OPT record and CD=1: NOTIMP, question and OPT echoed, CD clear */
	uint8_t status_edns[] = {0, 4, 0x10, 0x10, 0, 1,  0, 0,	  0, 0, 0, 1, 0, 0,
				 1, 0, 1,    0,	   0, 41, 4, 208, 0, 0, 0, 0, 0, 0};
	n = query_answer(snap, status_edns, sizeof(status_edns), NULL, out, sizeof(out), QUERY_UDP, &scratch,
			 &stats);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	ck_assert_int_eq(ldns_pkt_qdcount(p), 1);
	ck_assert(ldns_pkt_edns(p));
	ck_assert(!ldns_pkt_cd(p));
	ldns_pkt_free(p);
}
END_TEST

START_TEST(dname_synthesizes_a_cname)
{
	ldns_pkt *p = ask("www.old.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 3);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "old.example.com. 600 IN DNAME new.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1),
			 "www.old.example.com. 600 IN CNAME www.new.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 2), "www.new.example.com. 3600 IN A 192.0.2.61");
	ck_assert_int_eq(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
	/* the target does not exist: NXDOMAIN for it (RFC 6604), SOA in authority */
	p = ask("a.b.old.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1),
			 "a.b.old.example.com. 600 IN CNAME a.b.new.example.com.");
	ck_assert_int_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	/* the DNAME's own name is not rewritten */
	p = ask("old.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 0);
	ck_assert_int_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	p = ask("old.example.com.", LDNS_RR_TYPE_DNAME);
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	/* a CNAME question is answered by the synthesized CNAME, not followed */
	p = ask("www.old.example.com.", LDNS_RR_TYPE_CNAME);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(dname_in_chains_and_out_of_zone)
{
	ldns_pkt *p = ask("toold.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 4);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0),
			 "toold.example.com. 3600 IN CNAME www.old.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1), "old.example.com. 600 IN DNAME new.example.com.");
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 3), "www.new.example.com. 3600 IN A 192.0.2.61");
	ldns_pkt_free(p);
	/* a target in another zone ends the answer there */
	p = ask("x.far.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 1), "x.far.example.com. 3600 IN CNAME x.example.net.");
	ck_assert_int_eq(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(dname_too_long_is_yxdomain)
{
	/* 2 + 245 octets: fits */
	ldns_pkt *p = ask("x.deep.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_int_eq(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
	/* 12 + 245 octets: over 255, YXDOMAIN with the DNAME alone (RFC 6672 2.2) */
	p = ask("abcdefghijk.deep.example.com.", LDNS_RR_TYPE_A);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_YXDOMAIN);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), LDNS_RR_TYPE_DNAME);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(class_any_and_header_bits)
{
	struct ask o = {.payload = 1232, .rclass = LDNS_RR_CLASS_ANY};
	ldns_pkt *p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(!ldns_pkt_aa(p));
	ck_assert_int_eq(ldns_pkt_ancount(p), 1);
	ck_assert_str_eq(rr_text(ldns_pkt_answer(p), 0), "www.example.com. 3600 IN A 192.0.2.10");
	ldns_pkt_free(p);
	o.rclass = LDNS_RR_CLASS_HS;
	p = ask_full("www.example.com.", LDNS_RR_TYPE_A, &o, NULL);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}
END_TEST

/* The Extended DNS Error (RFC 8914) of an answer: its code, or -1 when there is none; its
 * EXTRA-TEXT in text (size n). */
static int ede_of(ldns_pkt *p, char *text, size_t n)
{
	ldns_rdf *data = ldns_pkt_edns_data(p);
	const uint8_t *d = data ? ldns_rdf_data(data) : NULL;
	size_t len = data ? ldns_rdf_size(data) : 0;
	for (size_t at = 0; at + 4 <= len;) {
		unsigned code = (unsigned)d[at] << 8 | d[at + 1], olen = (unsigned)d[at + 2] << 8 | d[at + 3];
		ck_assert_uint_le(at + 4 + olen, len);
		if (code == 15) {
			ck_assert_uint_ge(olen, 2);
			snprintf(text, n, "%.*s", (int)(olen - 2), (const char *)d + at + 6);
			return d[at + 4] << 8 | d[at + 5];
		}
		at += 4 + olen;
	}
	*text = 0;
	return -1;
}

/* Every refusal says why (RFC 8914) when the query has EDNS; answers never carry one. */
START_TEST(refusals_say_why)
{
	static const struct {
		const char *name;
		ldns_rr_type type;
		ldns_rr_class rclass;
		int code;
		const char *text;
	} cases[] = {
	    {"www.example.org.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, ""},
	    {"org.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_ANY, 20, ""},
	    {"example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 21, "zone transfers are not served"},
	    {"sub.example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, 21, "zone transfers are not served"},
	    {"www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_HS, 21, "class not served"},
	    {"www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_NONE, 21, "class not served"},
	    {"version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 18, "no version configured"},
	    {"hostname.bind.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 21, "CHAOS: only TXT"},
	    {"authors.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 21,
	     "CHAOS: only id.server and version.bind"},
	    {"www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, -1, ""},
	    {"nothing.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, -1, ""},
	    {"id.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, -1, ""},
	};
	char text[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ask o = {.payload = 1232, .nsid = true, .rclass = cases[i].rclass};
		ldns_pkt *p = ask_full(cases[i].name, cases[i].type, &o, NULL);
		int code = ede_of(p, text, sizeof(text));
		ck_assert_msg(code == cases[i].code && strcmp(text, cases[i].text) == 0, "%s: EDE %d (%s)",
			      cases[i].name, code, text);
		ck_assert_int_eq(ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED, code >= 0);
		ck_assert_ptr_nonnull(ldns_pkt_edns_data(p)); /* NSID too: the options follow one another */
		ldns_pkt_free(p);
		struct ask plain = {.rclass = cases[i].rclass};
		p = ask_full(cases[i].name, cases[i].type, &plain, NULL);
		ck_assert_int_eq(ldns_pkt_edns_udp_size(p), 0); /* no EDNS, no OPT, no reason */
		ldns_pkt_free(p);
	}
}
END_TEST

/* The longest refusal: a 255-octet name asked for a transfer with a 512-octet payload, and the
 * largest options a reply carries (NSID of 128 octets, an IPv6 /128 client subnet, a cookie)
 * still has room for its reason. */
START_TEST(longest_refusal_fits_512)
{
	struct conf *c = (struct conf *)snap->conf;
	static const uint8_t nsid[128] = {'n'};
	c->nsid = nsid;
	c->nsid_len = sizeof(nsid);
	uint8_t pkt[700] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	size_t len = 12;
	/* three labels of 62 octets and one of 52, then example.com: 255 octets with the root */
	for (int l = 0; l < 3; l++) {
		pkt[len++] = 62;
		memset(pkt + len, 'a', 62);
		len += 62;
	}
	pkt[len++] = 52;
	memset(pkt + len, 'b', 52);
	len += 52;
	memcpy(pkt + len, "\7example\3com\0", 13);
	len += 13;
	ck_assert_uint_eq(len - 12, 255);
	static const uint8_t tail[] = {
	    0,	  252, 0,    1,			  /* AXFR IN */
	    0,	  0,   41,   2,	   0,		  /* OPT, payload 512 */
	    0,	  0,   0,    0,	   0, 40,	  /* TTL (version 0, no flags), rdlength */
	    0,	  3,   0,    0,			  /* NSID */
	    0,	  8,   0,    20,   0, 2,  128, 0, /* ECS IPv6 /128 */
	    0x20, 1,   0x0d, 0xb8, 0, 0,  0,   0, 0, 0, 0, 0, 0, 0,
	    0,	  1,   0,    10,   0, 8,  1,   2, 3, 4, 5, 6, 7, 8}; /* client cookie */
	memcpy(pkt + len, tail, sizeof(tail));
	len += sizeof(tail);
	static uint8_t out[WIRE_MSG_MAX];
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t n = query_answer(snap, pkt, len, NULL, out, sizeof(out), QUERY_UDP, &scratch, &stats);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(n, 512);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	char text[128];
	ck_assert_int_eq(ede_of(p, text, sizeof(text)), 21);
	ck_assert_str_eq(text, "zone transfers are not served");
	ck_assert_uint_eq(ldns_rdf_size(ldns_pkt_edns_data(p)), 132 + 24 + 28 + 6 + strlen(text));
	ldns_pkt_free(p);
}
END_TEST

static Suite *query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("answer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exact_match_is_authoritative);
	tcase_add_test(tc, question_case_is_echoed);
	tcase_add_test(tc, nxdomain_carries_soa_with_negative_ttl);
	tcase_add_test(tc, nodata_and_empty_non_terminal);
	tcase_add_test(tc, cname_chain_is_followed_in_zone);
	tcase_add_test(tc, cname_loop_stops);
	tcase_add_test(tc, cname_to_missing_name_is_nxdomain);
	tcase_add_test(tc, wildcard_synthesizes_with_query_name);
	tcase_add_test(tc, referral_has_ns_and_glue_without_aa);
	tcase_add_test(tc, referral_to_unserved_child);
	tcase_add_test(tc, ds_at_cut_is_answered_by_parent);
	tcase_add_test(tc, outside_every_zone_is_refused);
	tcase_add_test(tc, any_is_minimal_over_udp_and_full_over_tcp);
	tcase_add_test(tc, too_big_for_udp_is_truncated);
	tcase_add_test(tc, edns_echo_nsid_badvers);
	tcase_add_test(tc, tcp_keepalive_signals_the_idle_timeout);
	tcase_add_test(tc, chaos_identity_and_refused_version);
	tcase_add_test(tc, malformed_queries);
	tcase_add_test(tc, dname_synthesizes_a_cname);
	tcase_add_test(tc, dname_in_chains_and_out_of_zone);
	tcase_add_test(tc, dname_too_long_is_yxdomain);
	tcase_add_test(tc, class_any_and_header_bits);
	tcase_add_test(tc, refusals_say_why);
	tcase_add_test(tc, longest_refusal_fits_512);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(query_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
