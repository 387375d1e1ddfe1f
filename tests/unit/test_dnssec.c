/* test_dnssec.c -- unit tests of serving presigned zones (zone.h's DNSSEC index, proofs.h): the
 * example zones of RFC 4035 Appendix A (NSEC) and RFC 5155 Appendix A (NSEC3, opt-out) answer the
 * queries of their Appendix B with the records those appendices list; the NSEC3 hashes are the ones
 * RFC 5155 publishes; and the loader's checks of a signed zone.
 *
 * The zones' RRSIGs are placeholders (a one-octet signature): which records an answer holds does not
 * depend on what the signatures say, and the end-to-end test (tests/differential/dnssec.sh) checks
 * real ones with a validator. */
#include <check.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/diag.h"
#include "meridian/prepared.h"
#include "meridian/query.h"
#include "meridian/transfer.h"
#include "meridian/zone.h"
#include "support.h"

/* Records of a test zone: owner (relative), type, rdata, and whether the zone signs the RRset. */
struct rec {
	const char *owner, *type, *rdata;
	bool sign;
};

#define SIG "8 2 3600 20401231000000 20000101000000 1 example. AA=="

/* RFC 4035 Appendix A, without the keys and signatures. */
static const struct rec rfc4035[] = {
    {"@", "SOA", "ns1 bugs.x.w 1081539377 3600 300 3600000 3600", true},
    {"@", "NS", "ns1", true},
    {"@", "NS", "ns2", false},
    {"@", "MX", "1 xx", true},
    {"@", "DNSKEY", "256 3 5 AQOy1bZVvpPqhg4j7EJoM9rI3ZmyEx2OzDBVrZy/6Aw=", true},
    {"@", "NSEC", "a NS SOA MX RRSIG NSEC DNSKEY", true},
    {"a", "NS", "ns1.a", false},
    {"a", "NS", "ns2.a", false},
    {"a", "DS", "57855 5 1 B6DCD485719ADCA18E5F3D48A2331627FDD3636B", true},
    {"a", "NSEC", "ai NS DS RRSIG NSEC", true},
    {"ns1.a", "A", "192.0.2.5", false},
    {"ns2.a", "A", "192.0.2.6", false},
    {"ai", "A", "192.0.2.9", true},
    {"ai", "HINFO", "\"KLH-10\" \"ITS\"", true},
    {"ai", "AAAA", "2001:db8::f00:baa9", true},
    {"ai", "NSEC", "b A HINFO AAAA RRSIG NSEC", true},
    {"b", "NS", "ns1.b", false},
    {"b", "NS", "ns2.b", false},
    {"b", "NSEC", "ns1 NS RRSIG NSEC", true},
    {"ns1.b", "A", "192.0.2.7", false},
    {"ns2.b", "A", "192.0.2.8", false},
    {"ns1", "A", "192.0.2.1", true},
    {"ns1", "NSEC", "ns2 A RRSIG NSEC", true},
    {"ns2", "A", "192.0.2.2", true},
    {"ns2", "NSEC", "*.w A RRSIG NSEC", true},
    {"*.w", "MX", "1 ai", true},
    {"*.w", "NSEC", "x.w MX RRSIG NSEC", true},
    {"x.w", "MX", "1 xx", true},
    {"x.w", "NSEC", "x.y.w MX RRSIG NSEC", true},
    {"x.y.w", "MX", "1 xx", true},
    {"x.y.w", "NSEC", "xx MX RRSIG NSEC", true},
    {"xx", "A", "192.0.2.10", true},
    {"xx", "HINFO", "\"KLH-10\" \"TOPS-20\"", true},
    {"xx", "AAAA", "2001:db8::f00:baaa", true},
    {"xx", "NSEC", "example. A HINFO AAAA RRSIG NSEC", true},
    {NULL, NULL, NULL, false},
};

/* RFC 5155 Appendix A (opt-out: the unsigned delegation c has no NSEC3), without the keys and
 * signatures. 2t7b4g4vsa5smi47k61mv5bv1a22bojr is both a name of the zone and the hash of ns1. */
#define N3 "1 1 12 aabbccdd "
static const struct rec rfc5155[] = {
    {"@", "SOA", "ns1 bugs.x.w 1 3600 300 3600000 3600", true},
    {"@", "NS", "ns1", true},
    {"@", "NS", "ns2", false},
    {"@", "MX", "1 xx", true},
    {"@", "DNSKEY", "256 3 7 AwEAAaetidLzsKWUt4swWR8yu0wPHPiUi8LU", true},
    {"@", "NSEC3PARAM", "1 0 12 aabbccdd", true},
    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr", "A", "192.0.2.127", true},
    {"a", "NS", "ns1.a", false},
    {"a", "NS", "ns2.a", false},
    {"a", "DS", "58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C", true},
    {"ns1.a", "A", "192.0.2.5", false},
    {"ns2.a", "A", "192.0.2.6", false},
    {"ai", "A", "192.0.2.9", true},
    {"ai", "HINFO", "\"KLH-10\" \"ITS\"", true},
    {"ai", "AAAA", "2001:db8::f00:baa9", true},
    {"c", "NS", "ns1.c", false},
    {"c", "NS", "ns2.c", false},
    {"ns1.c", "A", "192.0.2.7", false},
    {"ns2.c", "A", "192.0.2.8", false},
    {"ns1", "A", "192.0.2.1", true},
    {"ns2", "A", "192.0.2.2", true},
    {"*.w", "MX", "1 ai", true},
    {"x.w", "MX", "1 xx", true},
    {"x.y.w", "MX", "1 xx", true},
    {"xx", "A", "192.0.2.10", true},
    {"xx", "HINFO", "\"KLH-10\" \"TOPS-20\"", true},
    {"xx", "AAAA", "2001:db8::f00:baaa", true},
    {"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "NSEC3",
     N3 "2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG", true},
    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr", "NSEC3", N3 "2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG", true},
    {"2vptu5timamqttgl4luu9kg21e0aor3s", "NSEC3", N3 "35mthgpgcu1qg68fab165klnsnk3dpvl MX RRSIG", true},
    {"35mthgpgcu1qg68fab165klnsnk3dpvl", "NSEC3", N3 "b4um86eghhds6nea196smvmlo4ors995 NS DS RRSIG", true},
    {"b4um86eghhds6nea196smvmlo4ors995", "NSEC3", N3 "gjeqe526plbf1g8mklp59enfd789njgi MX RRSIG", true},
    {"gjeqe526plbf1g8mklp59enfd789njgi", "NSEC3", N3 "ji6neoaepv8b5o6k4ev33abha8ht9fgc HINFO A AAAA RRSIG",
     true},
    {"ji6neoaepv8b5o6k4ev33abha8ht9fgc", "NSEC3", N3 "k8udemvp1j2f7eg6jebps17vp3n8i58h", true},
    {"k8udemvp1j2f7eg6jebps17vp3n8i58h", "NSEC3", N3 "kohar7mbb8dc2ce8a9qvl8hon4k53uhi", true},
    {"kohar7mbb8dc2ce8a9qvl8hon4k53uhi", "NSEC3", N3 "q04jkcevqvmu85r014c7dkba38o0ji5r A RRSIG", true},
    {"q04jkcevqvmu85r014c7dkba38o0ji5r", "NSEC3", N3 "r53bq7cc2uvmubfu5ocmm6pers9tk9en A RRSIG", true},
    {"r53bq7cc2uvmubfu5ocmm6pers9tk9en", "NSEC3", N3 "t644ebqk9bibcna874givr6joj62mlhv MX RRSIG", true},
    {"t644ebqk9bibcna874givr6joj62mlhv", "NSEC3", N3 "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom HINFO A AAAA RRSIG",
     true},
    {NULL, NULL, NULL, false},
};

/* Writes the zone "example." of recs as unit_tmpdir/name: each record, and after the last record of
 * each signed RRset its placeholder RRSIG. */
static void write_zone(const char *name, const struct rec *recs)
{
	char *text = malloc(64 * 1024);
	ck_assert_ptr_nonnull(text);
	size_t len = (size_t)snprintf(text, 64 * 1024, "$ORIGIN example.\n$TTL 3600\n");
	for (const struct rec *r = recs; r->owner; r++) {
		len +=
		    (size_t)snprintf(text + len, 64 * 1024 - len, "%s %s %s\n", r->owner, r->type, r->rdata);
		bool last = !r[1].owner || strcmp(r[1].owner, r->owner) || strcmp(r[1].type, r->type);
		if (r->sign && last)
			len += (size_t)snprintf(text + len, 64 * 1024 - len, "%s RRSIG %s " SIG "\n",
						r->owner, r->type);
	}
	unit_write_file(name, text);
	free(text);
}

static struct snapshot *snap;

static struct snapshot *serve(const struct rec *recs)
{
	write_zone("example.zone", recs);
	struct snapshot *s = unit_load_snapshot(
	    "dnssec.conf", "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
			   "zones = { { name = \"example\", file = \"example.zone\" } }\n");
	/* with the table of prepared answers, as the daemon serves: it must leave DO queries alone */
	snapshot_set_prepared(s, prepared_build(s, 1000000));
	return s;
}

static void setup_nsec(void)
{
	snap = serve(rfc4035);
}

static void setup_nsec3(void)
{
	snap = serve(rfc5155);
}

static void teardown(void)
{
	snapshot_free(snap);
}

/* Asks snap for name and type over transport with a 4096-octet EDNS payload, DO set when do_bit. */
/* A query for name and type with a 4096-octet EDNS payload, DO set when do_bit (the caller frees it). */
static uint8_t *query_wire(const char *name, ldns_rr_type type, bool do_bit, size_t *len)
{
	ldns_pkt *qp = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(qp, 7);
	ldns_pkt_set_edns_udp_size(qp, 4096);
	ldns_pkt_set_edns_do(qp, do_bit);
	ldns_pkt_set_edns_data(qp, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_HEX, "")); /* forces the OPT RR */
	uint8_t *wire;
	ck_assert_int_eq(ldns_pkt2wire(&wire, qp, len), LDNS_STATUS_OK);
	ldns_pkt_free(qp);
	return wire;
}

/* Asks snap for name and type over transport (query_wire's query). */
static ldns_pkt *ask_over(const char *name, ldns_rr_type type, bool do_bit, enum query_transport transport)
{
	size_t len;
	uint8_t *wire = query_wire(name, type, do_bit, &len);
	static uint8_t out[WIRE_MSG_MAX];
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t n = query_answer(snap, wire, len, NULL, out, sizeof(out), transport, &scratch, &stats);
	free(wire);
	ck_assert_uint_gt(n, 0);
	ldns_pkt *answer = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&answer, out, n), LDNS_STATUS_OK);
	return answer;
}

static ldns_pkt *ask(const char *name, ldns_rr_type type, bool do_bit)
{
	return ask_over(name, type, do_bit, QUERY_UDP);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "owner TYPE" of every record of a section (RRSIGs as "owner RRSIG(covered)"), sorted, joined with
 * ", ": what the appendices' examples list, without the signatures' bytes. */
static const char *section(ldns_rr_list *list)
{
	static char buf[4096];
	char *items[64];
	size_t n = ldns_rr_list_rr_count(list);
	ck_assert_uint_le(n, 64);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(list, i);
		char *owner = ldns_rdf2str(ldns_rr_owner(rr));
		char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
		char covered[32] = "";
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
			char *c = ldns_rdf2str(ldns_rr_rrsig_typecovered(rr));
			snprintf(covered, sizeof(covered), "(%s)", c);
			free(c);
		}
		items[i] = malloc(strlen(owner) + strlen(type) + strlen(covered) + 2);
		sprintf(items[i], "%s %s%s", owner, type, covered);
		free(owner);
		free(type);
	}
	qsort(items, n, sizeof(*items), cmp_str);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(buf, ", ");
		strcat(buf, items[i]);
		free(items[i]);
	}
	return buf;
}

#define ASSERT_ANSWER(p, rcode, answer, authority)                                                           \
	do {                                                                                                 \
		ck_assert_int_eq(ldns_pkt_get_rcode(p), rcode);                                              \
		ck_assert_str_eq(section(ldns_pkt_answer(p)), answer);                                       \
		ck_assert_str_eq(section(ldns_pkt_authority(p)), authority);                                 \
	} while (0)

/* ---- RFC 4035 Appendix B (NSEC) ---- */

START_TEST(nsec_answer_is_signed)
{
	/* B.1, minimal: the answer and its RRSIG, no authority NS */
	ldns_pkt *p = ask("x.w.example.", LDNS_RR_TYPE_MX, true);
	ck_assert(ldns_pkt_aa(p) && !ldns_pkt_ad(p));
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "x.w.example. MX, x.w.example. RRSIG(MX)", "");
	ldns_pkt_free(p);
	/* without DO: no DNSSEC records at all (RFC 4035 3.1) */
	p = ask("x.w.example.", LDNS_RR_TYPE_MX, false);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "x.w.example. MX", "");
	ldns_pkt_free(p);
	p = ask("ml.example.", LDNS_RR_TYPE_A, false);
	ASSERT_ANSWER(p, LDNS_RCODE_NXDOMAIN, "", "example. SOA");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec_name_error)
{
	/* B.2: ml.example does not exist (b.example's NSEC), nor does *.example (example's NSEC) */
	ldns_pkt *p = ask("ml.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NXDOMAIN, "",
		      "b.example. NSEC, b.example. RRSIG(NSEC), example. NSEC, example. RRSIG(NSEC), "
		      "example. RRSIG(SOA), example. SOA");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec_no_data)
{
	/* B.3 */
	ldns_pkt *p = ask("ns1.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "example. RRSIG(SOA), example. SOA, ns1.example. NSEC, ns1.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
	/* an empty non-terminal: the NSEC that covers it (y.w.example lies between x.w and x.y.w) */
	p = ask("y.w.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "example. RRSIG(SOA), example. SOA, x.w.example. NSEC, x.w.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec_referrals)
{
	/* B.4: to a signed zone, with its DS */
	ldns_pkt *p = ask("mc.a.example.", LDNS_RR_TYPE_MX, true);
	ck_assert(!ldns_pkt_aa(p));
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "a.example. DS, a.example. NS, a.example. NS, a.example. RRSIG(DS)");
	ck_assert_uint_eq(ldns_pkt_arcount(p), 2); /* glue (the OPT record is not counted by ldns) */
	ldns_pkt_free(p);
	/* B.5: to an unsigned one, with the NSEC showing it has no DS */
	p = ask("mc.b.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "b.example. NS, b.example. NS, b.example. NSEC, b.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
	/* B.8: the DS of a cut is the parent's: NODATA with the cut's NSEC */
	p = ask("ai.example.", LDNS_RR_TYPE_DS, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "ai.example. NSEC, ai.example. RRSIG(NSEC), example. RRSIG(SOA), example. SOA");
	ldns_pkt_free(p);
	p = ask("b.example.", LDNS_RR_TYPE_DS, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "b.example. NSEC, b.example. RRSIG(NSEC), example. RRSIG(SOA), example. SOA");
	ldns_pkt_free(p);
	p = ask("a.example.", LDNS_RR_TYPE_DS, true);
	ck_assert(ldns_pkt_aa(p));
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "a.example. DS, a.example. RRSIG(DS)", "");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec_wildcards)
{
	/* B.6: the expansion signed, and x.y.w.example's NSEC proving no closer name */
	ldns_pkt *p = ask("a.z.w.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "a.z.w.example. MX, a.z.w.example. RRSIG(MX)",
		      "x.y.w.example. NSEC, x.y.w.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
	/* B.7: no AAAA at the wildcard either */
	p = ask("a.z.w.example.", LDNS_RR_TYPE_AAAA, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "*.w.example. NSEC, *.w.example. RRSIG(NSEC), example. RRSIG(SOA), example. SOA, "
		      "x.y.w.example. NSEC, x.y.w.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec_types_asked_for)
{
	ldns_pkt *p = ask("example.", LDNS_RR_TYPE_DNSKEY, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "example. DNSKEY, example. RRSIG(DNSKEY)", "");
	ldns_pkt_free(p);
	p = ask("ai.example.", LDNS_RR_TYPE_NSEC, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "ai.example. NSEC, ai.example. RRSIG(NSEC)", "");
	ldns_pkt_free(p);
	/* RRSIGs asked for are the data: no signature over them */
	p = ask("ai.example.", LDNS_RR_TYPE_RRSIG, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR,
		      "ai.example. RRSIG(A), ai.example. RRSIG(AAAA), ai.example. RRSIG(HINFO), "
		      "ai.example. RRSIG(NSEC)",
		      "");
	ldns_pkt_free(p);
}
END_TEST

/* ---- RFC 5155 Appendix B (NSEC3 with opt-out) ---- */

START_TEST(nsec3_hashes_match_rfc5155)
{
	static const char *const vectors[][2] = {
	    {"example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
	    {"a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"},
	    {"ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"},
	    {"ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"},
	    {"ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r"},
	    {"w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"},
	    {"*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"},
	    {"x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"},
	    {"y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"},
	    {"x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"},
	    {"xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"},
	    {"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi"},
	};
	const struct zone *z = zone_set_get(snap->zones, (const uint8_t *)"\7example", 9);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(z->dnssec.denial, ZONE_DENIAL_NSEC3);
	ck_assert_int_eq(z->dnssec.expires, 2240524800); /* 2040-12-31, the placeholders' expiration */
	ck_assert_uint_eq(z->dnssec.iterations, 12);
	ck_assert_uint_eq(z->dnssec.nsec3_count, 12);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		ldns_rdf *name = ldns_dname_new_frm_str(vectors[i][0]);
		uint8_t hash[ZONE_NSEC3_HASH_LEN];
		zone_nsec3_hash(z, ldns_rdf_data(name), ldns_rdf_size(name), hash);
		ldns_rdf_deep_free(name);
		char text[40];
		static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
		for (unsigned k = 0; k < 32; k++) {
			unsigned bit = k * 5, v = 0;
			for (unsigned j = 0; j < 5; j++, bit++)
				v = v << 1 | ((hash[bit / 8] >> (7 - bit % 8)) & 1u);
			text[k] = b32[v];
		}
		text[32] = 0;
		ck_assert_msg(strcmp(text, vectors[i][1]) == 0, "H(%s) = %s, RFC 5155 says %s", vectors[i][0],
			      text, vectors[i][1]);
		/* every one of them is an NSEC3 owner of the zone, and is found as a match */
		bool match;
		ck_assert_ptr_nonnull(zone_nsec3_for(z, hash, &match));
		ck_assert(match);
	}
}
END_TEST

#define H(x)	      x ".example."
#define N3_AND_SIG(x) H(x) " NSEC3, " H(x) " RRSIG(NSEC3)"

START_TEST(nsec3_name_error)
{
	/* B.1: closest encloser x.w.example (b4um86...), next closer c.x.w.example covered by
	 * 0p9mha..., wildcard *.x.w.example covered by 35mthg... */
	ldns_pkt *p = ask("a.c.x.w.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NXDOMAIN, "",
		      N3_AND_SIG("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom") ", " N3_AND_SIG(
			  "35mthgpgcu1qg68fab165klnsnk3dpvl") ", " N3_AND_SIG("b4um86eghhds6nea196smvmlo4ors9"
									      "95") ", "
										    "example. RRSIG(SOA), "
										    "example. SOA");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec3_no_data)
{
	/* B.2 */
	ldns_pkt *p = ask("ns1.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      N3_AND_SIG("2t7b4g4vsa5smi47k61mv5bv1a22bojr") ", example. RRSIG(SOA), example. SOA");
	ldns_pkt_free(p);
	/* B.2.1: an empty non-terminal has an NSEC3 of its own */
	p = ask("y.w.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "example. RRSIG(SOA), example. SOA, " N3_AND_SIG("ji6neoaepv8b5o6k4ev33abha8ht9fgc"));
	ldns_pkt_free(p);
	/* B.6: no DS at ai.example */
	p = ask("ai.example.", LDNS_RR_TYPE_DS, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "example. RRSIG(SOA), example. SOA, " N3_AND_SIG("gjeqe526plbf1g8mklp59enfd789njgi"));
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec3_opt_out_referral)
{
	/* B.3: c.example is in an opt-out span: the closest provable encloser (example, 0p9mha...) and
	 * the NSEC3 covering the next closer name c.example (35mthg..., its opt-out flag set) */
	ldns_pkt *p = ask("mc.c.example.", LDNS_RR_TYPE_MX, true);
	ck_assert(!ldns_pkt_aa(p));
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      N3_AND_SIG("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom") ", " N3_AND_SIG(
			  "35mthgpgcu1qg68fab165klnsnk3dpvl") ", c.example. NS, c.example. NS");
	ldns_pkt_free(p);
	/* its DS, asked for: the same proof (RFC 5155 7.2.4) */
	p = ask("c.example.", LDNS_RR_TYPE_DS, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      N3_AND_SIG("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom") ", " N3_AND_SIG(
			  "35mthgpgcu1qg68fab165klnsnk3dpvl") ", example. RRSIG(SOA), example. SOA");
	ldns_pkt_free(p);
	/* a signed delegation: its DS */
	p = ask("mc.a.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "a.example. DS, a.example. NS, a.example. NS, a.example. RRSIG(DS)");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec3_wildcards)
{
	/* B.4: the next closer name z.w.example is covered by q04jkc... */
	ldns_pkt *p = ask("a.z.w.example.", LDNS_RR_TYPE_MX, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "a.z.w.example. MX, a.z.w.example. RRSIG(MX)",
		      N3_AND_SIG("q04jkcevqvmu85r014c7dkba38o0ji5r"));
	ldns_pkt_free(p);
	/* B.5: closest encloser w.example (k8udem...), next closer covered (q04jkc...), and the
	 * wildcard's own NSEC3 (r53bq7...) without AAAA */
	p = ask("a.z.w.example.", LDNS_RR_TYPE_AAAA, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "",
		      "example. RRSIG(SOA), example. SOA, " N3_AND_SIG(
			  "k8udemvp1j2f7eg6jebps17vp3n8i58h") ", " N3_AND_SIG("q04jkcevqvmu85r014c7dkba38o0ji"
									      "5r") ", " N3_AND_SIG("r53bq7cc"
												    "2uvmubfu"
												    "5ocmm6pe"
												    "rs9tk9e"
												    "n"));
	ldns_pkt_free(p);
}
END_TEST

START_TEST(nsec3_owner_names_do_not_exist)
{
	/* RFC 5155 7.2.8: a hashed owner name is answered as a name that does not exist, whatever the
	 * type; the closest encloser is the apex (0p9mha... matches it) */
	ldns_pkt *p = ask("b4um86eghhds6nea196smvmlo4ors995.example.", LDNS_RR_TYPE_NSEC3, true);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask("b4um86eghhds6nea196smvmlo4ors995.example.", LDNS_RR_TYPE_A, false);
	ASSERT_ANSWER(p, LDNS_RCODE_NXDOMAIN, "", "example. SOA");
	ldns_pkt_free(p);
	/* but a name of the zone that happens to look like a hash, and holds an NSEC3 too, exists */
	p = ask("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(
	    p, LDNS_RCODE_NOERROR,
	    "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. A, 2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. "
	    "RRSIG(A)",
	    "");
	ldns_pkt_free(p);
}
END_TEST

/* Transfers snap's zone "example." and returns the number of records of type whose text (in ldns's
 * presentation, tabs as spaces) starts with prefix; every RRSIG's TTL is checked against the RRset's. */
static unsigned transferred(const char *type, const char *prefix)
{
	ldns_pkt *qp =
	    ldns_pkt_query_new(ldns_dname_new_frm_str("example."), LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	uint8_t *q;
	size_t len;
	ck_assert_int_eq(ldns_pkt2wire(&q, qp, &len), LDNS_STATUS_OK);
	ldns_pkt_free(qp);
	struct wire_query wq;
	ck_assert_int_eq(wire_parse_query(q, len, &wq), WIRE_PARSE_OK);
	struct transfer_stream st;
	transfer_stream_start(&st, zone_set_get(snap->zones, (const uint8_t *)"\7example", 9), &wq, q, len,
			      0);
	static uint8_t msg[65535];
	size_t mlen;
	unsigned found = 0;
	while ((mlen = transfer_stream_next(&st, msg, sizeof(msg)))) {
		ldns_pkt *p = NULL;
		ck_assert_int_eq(ldns_wire2pkt(&p, msg, mlen), LDNS_STATUS_OK);
		ldns_rr_list *list = ldns_pkt_answer(p);
		for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
			ldns_rr *rr = ldns_rr_list_rr(list, i);
			char *t = ldns_rr_type2str(ldns_rr_get_type(rr));
			char *text = ldns_rr2str(rr);
			for (char *c = text; *c; c++)
				if (*c == '\t')
					*c = ' ';
			found += strcmp(t, type) == 0 && strncmp(text, prefix, strlen(prefix)) == 0;
			free(t);
			free(text);
		}
		ldns_pkt_free(p);
	}
	free(q);
	return found;
}

START_TEST(nsec3_transfer_holds_the_chain)
{
	/* the hashed owner names lookup does not see go out with the zone, signatures and all */
	ck_assert_uint_eq(transferred("NSEC3", ""), 12);
	ck_assert_uint_eq(
	    transferred("RRSIG", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 3600 IN RRSIG NSEC3 "), 1);
	ck_assert_uint_eq(transferred("NSEC3PARAM", ""), 1);
}
END_TEST

START_TEST(transfer_sends_rrsigs_at_their_rrsets_ttl)
{
	snapshot_free(snap);
	static const struct rec zone[] = {
	    {"@", "SOA", "ns1 h 1 3600 300 3600000 300", true}, {"@", "NS", "ns1", true},
	    {"@", "NSEC", "ns1 NS SOA RRSIG NSEC", true},	{"ns1", "A", "192.0.2.1", true},
	    {"ns1 300", "NSEC", "example. A RRSIG NSEC", true}, {NULL, NULL, NULL, false},
	};
	snap = serve(zone);
	/* asked for, by type or with ANY, each RRSIG has its RRset's TTL too (RFC 4035 2.2) */
	for (int do_bit = 0; do_bit < 2; do_bit++) {
		ldns_pkt *p = ask("ns1.example.", LDNS_RR_TYPE_RRSIG, do_bit);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 2);
		for (size_t i = 0; i < 2; i++) {
			ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
			bool nsec = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_NSEC;
			ck_assert_uint_eq(ldns_rr_ttl(rr), nsec ? 300 : 3600);
		}
		ldns_pkt_free(p);
	}
	/* ANY over TCP with DO: every RRset with its signatures, none of them twice */
	ldns_pkt *p = ask_over("ns1.example.", LDNS_RR_TYPE_ANY, true, QUERY_TCP);
	ck_assert_str_eq(
	    section(ldns_pkt_answer(p)),
	    "ns1.example. A, ns1.example. NSEC, ns1.example. RRSIG(A), ns1.example. RRSIG(NSEC)");
	ldns_pkt_free(p);
	/* the zone keeps ns1's RRSIGs as one RRset at the lower TTL; each goes out at its RRset's */
	ck_assert_uint_eq(transferred("RRSIG", "ns1.example. 3600 IN RRSIG A "), 1);
	ck_assert_uint_eq(transferred("RRSIG", "ns1.example. 300 IN RRSIG NSEC "), 1);
	ck_assert_uint_eq(transferred("NSEC", "ns1.example. 300 IN NSEC "), 1);
}
END_TEST

/* Whether the prepared table answers name and type (with DO when do_bit). */
static bool from_table(const char *name, ldns_rr_type type, bool do_bit)
{
	size_t len;
	uint8_t *wire = query_wire(name, type, do_bit, &len);
	static uint8_t out[WIRE_MSG_MAX];
	struct query_stats stats = {0};
	size_t n = prepared_answer(snap, wire, len, NULL, out, sizeof(out), QUERY_UDP, &stats);
	free(wire);
	return n > 0;
}

/* A query for name (wire form) and type: EDNS with payload and DO when edns, RD, the name's case
 * changed when mixed (the answer echoes it). */
static size_t raw_query(uint8_t *out, const uint8_t *name, size_t name_len, uint16_t type, bool edns,
			uint16_t payload, bool do_bit, bool mixed)
{
	memset(out, 0, WIRE_HEADER_SIZE);
	out[0] = 0x12;
	out[1] = 0x34;
	out[2] = 0x01; /* RD */
	out[5] = 1;
	out[11] = edns;
	memcpy(out + WIRE_HEADER_SIZE, name, name_len);
	if (mixed)
		for (size_t i = WIRE_HEADER_SIZE; i < WIRE_HEADER_SIZE + name_len; i += 2)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] -= 'a' - 'A';
	size_t at = WIRE_HEADER_SIZE + name_len;
	const uint8_t tail[] = {(uint8_t)(type >> 8), (uint8_t)type, 0, 1};
	memcpy(out + at, tail, 4);
	at += 4;
	if (edns) {
		const uint8_t opt[11] = {
		    0, 0, 41, (uint8_t)(payload >> 8), (uint8_t)payload, 0, 0, do_bit ? 0x80 : 0, 0, 0, 0};
		memcpy(out + at, opt, sizeof(opt));
		at += sizeof(opt);
	}
	return at;
}

/* Every name of snap's zone and a few it does not hold, asked every type with and without DO, over
 * UDP with several payloads and over TCP: the answer with the table of prepared answers is the
 * general path's, byte for byte. Returns how many DO queries the table answered itself. */
static unsigned table_equals_general_path(const char *const *others, size_t other_count)
{
	static const uint16_t types[] = {1, 28, 2, 6, 15, 16, 43, 46, 47, 48, 50, 51, 13, 99};
	static const struct {
		bool edns, do_bit, mixed;
		uint16_t payload;
		enum query_transport transport;
	} variants[] = {{false, false, false, 0, QUERY_UDP},  {true, false, true, 1232, QUERY_UDP},
			{true, true, false, 1232, QUERY_UDP}, {true, true, true, 4096, QUERY_UDP},
			{true, true, false, 512, QUERY_UDP},  {true, true, false, 1232, QUERY_TCP},
			{false, false, false, 0, QUERY_TCP}};
	static uint8_t general[WIRE_MSG_MAX], table[WIRE_MSG_MAX];
	uint8_t names[64][WIRE_NAME_MAX];
	size_t name_lens[64], count = 0;
	const struct zone *z = snap->zones->zones[0];
	for (size_t n = 0; n < z->node_count && count < 64; n++) {
		memcpy(names[count], z->apex_node[n].name, z->apex_node[n].name_len);
		name_lens[count++] = z->apex_node[n].name_len;
	}
	for (size_t i = 0; i < other_count && count < 64; i++) {
		ldns_rdf *rdf = ldns_dname_new_frm_str(others[i]);
		memcpy(names[count], ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		name_lens[count++] = ldns_rdf_size(rdf);
		ldns_rdf_deep_free(rdf);
	}
	unsigned from_table_with_do = 0;
	for (size_t n = 0; n < count; n++)
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
				uint8_t q[WIRE_NAME_MAX + 64];
				size_t len =
				    raw_query(q, names[n], name_lens[n], types[t], variants[v].edns,
					      variants[v].payload, variants[v].do_bit, variants[v].mixed);
				struct wire_query scratch;
				struct query_stats s1 = {0}, s2 = {0}, s3 = {0};
				const struct prepared *p = snap->prepared;
				snap->prepared = NULL;
				size_t n1 = query_answer(snap, q, len, NULL, general, sizeof(general),
							 variants[v].transport, &scratch, &s1);
				snap->prepared = p;
				size_t n2 = query_answer(snap, q, len, NULL, table, sizeof(table),
							 variants[v].transport, &scratch, &s2);
				char text[WIRE_NAME_MAX * 4];
				wire_name_to_text(names[n], name_lens[n], text, sizeof(text));
				ck_assert_msg(
				    n1 == n2 && memcmp(general, table, n1) == 0,
				    "%s type %u variant %zu: %zu octets from the general path, %zu with "
				    "the table, or other bytes",
				    text, types[t], v, n1, n2);
				if (variants[v].do_bit &&
				    prepared_answer(snap, q, len, NULL, table, sizeof(table),
						    variants[v].transport, &s3) > 0) {
					ck_assert(memcmp(general, table, n1) == 0);
					from_table_with_do++;
				}
			}
	return from_table_with_do;
}

START_TEST(prepared_table_answers_do_queries_as_the_general_path)
{
	/* RFC 5155's zone (this fixture): every answer the same with the table as without */
	static const char *const nsec3_others[] = {"a.c.x.w.example.", "ml.example.", "mc.b.example.",
						   "x.y.w.example.",
						   "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example."};
	ck_assert_uint_gt(table_equals_general_path(nsec3_others, 5), 100);
	ck_assert_uint_gt(prepared_dnssec_count(snap->prepared), 10);

	/* RFC 4035's zone beside an unsigned one */
	snapshot_free(snap);
	write_zone("example.zone", rfc4035);
	unit_write_file("other.zone",
			"$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ NS ns1\nns1 A 192.0.2.1\n"
			"www A 192.0.2.2\n*.w A 192.0.2.3\n");
	snap = unit_load_snapshot("two.conf", "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
					      "zones = { { name = \"example\", file = \"example.zone\" },\n"
					      "          { name = \"other\", file = \"other.zone\" } }\n");
	snapshot_set_prepared(snap, prepared_build(snap, 1000000));
	static const char *const nsec_others[] = {"ml.example.",    "a.z.w.example.", "mc.b.example.",
						  "x.y.w.example.", "www.other.",     "nx.other."};
	ck_assert_uint_gt(table_equals_general_path(nsec_others, 6), 100);

	/* the signed zone's exact questions come from the table with DO too; what depends on the name
	 * asked beyond a node of the zone (a name error's proofs, a referral below the cut, a wildcard's
	 * answer) takes the general path */
	ck_assert(from_table("xx.example.", LDNS_RR_TYPE_A, true));
	ck_assert(from_table("xx.example.", LDNS_RR_TYPE_A, false));
	ck_assert(from_table("ns1.example.", LDNS_RR_TYPE_AAAA, true)); /* NODATA with its NSEC */
	ck_assert(from_table("b.example.", LDNS_RR_TYPE_A, true));	/* a referral at the cut */
	ck_assert(!from_table("ml.example.", LDNS_RR_TYPE_A, true));
	ck_assert(from_table("ml.example.", LDNS_RR_TYPE_A, false));
	ck_assert(!from_table("mc.b.example.", LDNS_RR_TYPE_A, true));
	ck_assert(from_table("mc.b.example.", LDNS_RR_TYPE_A, false));
	ck_assert(!from_table("a.z.w.example.", LDNS_RR_TYPE_MX, true));
	ldns_pkt *p = ask("xx.example.", LDNS_RR_TYPE_A, true);
	ASSERT_ANSWER(p, LDNS_RCODE_NOERROR, "xx.example. A, xx.example. RRSIG(A)", "");
	ldns_pkt_free(p);
	/* the unsigned zone beside it keeps the table for DO queries: names, negatives, wildcards */
	ck_assert(from_table("www.other.", LDNS_RR_TYPE_A, true));
	ck_assert(from_table("nx.other.", LDNS_RR_TYPE_A, true));
	ck_assert(from_table("a.w.other.", LDNS_RR_TYPE_A, true));
}
END_TEST

/* ---- the loader's checks ---- */

START_TEST(canonical_order_of_rfc4034)
{
	/* RFC 4034 6.1's example, in order */
	static const char *const names[] = {"example.",		"a.example.",	   "yljkjljk.a.example.",
					    "Z.a.example.",	"zABC.a.EXAMPLE.", "z.example.",
					    "\\001.z.example.", "*.z.example.",	   "\\200.z.example."};
	uint8_t prev[WIRE_NAME_MAX];
	size_t prev_len = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ldns_rdf *rdf = ldns_dname_new_frm_str(names[i]);
		ldns_dname2canonical(rdf);
		uint8_t name[WIRE_NAME_MAX];
		size_t len = ldns_rdf_size(rdf);
		memcpy(name, ldns_rdf_data(rdf), len);
		ldns_rdf_deep_free(rdf);
		ck_assert_int_eq(zone_name_canonical_compare(name, len, name, len), 0);
		if (i) {
			ck_assert_msg(zone_name_canonical_compare(prev, prev_len, name, len) < 0,
				      "%s before %s", names[i - 1], names[i]);
			ck_assert(zone_name_canonical_compare(name, len, prev, prev_len) > 0);
		}
		memcpy(prev, name, len);
		prev_len = len;
	}
}
END_TEST

/* Loads text as zone "example." and returns its diagnostics joined (a static buffer); *loaded tells
 * whether it loaded. */
static const char *load(const char *text, bool *loaded)
{
	unit_write_file("check.zone", text);
	char path[128];
	snprintf(path, sizeof(path), "%s/check.zone", unit_tmpdir);
	struct diag d;
	diag_init(&d);
	struct zone *z = zone_load("example.", path, &d);
	*loaded = z != NULL;
	zone_unref(z);
	static char buf[8192];
	snprintf(buf, sizeof(buf), "%s", unit_diag_text(&d));
	diag_free(&d);
	return buf;
}

#define HEAD                                                                                                 \
	"$ORIGIN example.\n$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ RRSIG SOA " SIG "\n"             \
	"@ NS ns1\n@ RRSIG NS " SIG "\n@ NSEC ns1 NS SOA RRSIG NSEC\n@ RRSIG NSEC " SIG "\n"

START_TEST(loader_warns_about_signatures)
{
	bool loaded;
	/* line 9 has no RRSIG; line 11's expired in 2001 */
	const char *d = load(HEAD "ns1 A 192.0.2.1\n"
				  "ns1 NSEC example. A RRSIG NSEC\n"
				  "ns1 RRSIG NSEC 8 2 300 20010101000000 20000101000000 1 example. AA==\n",
			     &loaded);
	ck_assert(loaded);
	ck_assert_msg(strstr(d, "check.zone:9: no RRSIG covers the A RRset at ns1.example.") != NULL, "%s",
		      d);
	ck_assert_msg(strstr(d, "20401231") == NULL && strstr(d, "2040-12-31") == NULL, "%s",
		      d); /* valid ones */
	ck_assert_msg(
	    strstr(d,
		   "check.zone:11: the RRSIG over NSEC at ns1.example. expired on 2001-01-01 00:00:00 UTC") !=
		NULL,
	    "%s", d);
	/* a DNSKEY without signatures: served unsigned, said so */
	d = load("$ORIGIN example.\n@ 3600 SOA ns1 h 1 3600 300 3600000 300\n@ 3600 NS ns1\n"
		 "@ 3600 DNSKEY 256 3 8 AwEAAQ==\nns1 3600 A 192.0.2.1\n",
		 &loaded);
	ck_assert(loaded);
	ck_assert_msg(
	    strstr(d, "check.zone:4: the zone has a DNSKEY at its apex but no RRSIG over its SOA") != NULL,
	    "%s", d);
	/* no warnings about TTLs that differ between RRSIGs of one name (each follows its RRset) */
	d = load(HEAD "ns1 A 192.0.2.1\nns1 RRSIG A " SIG "\nns1 300 NSEC example. A RRSIG NSEC\n"
		      "ns1 300 RRSIG NSEC " SIG "\n",
		 &loaded);
	ck_assert(loaded);
	ck_assert_msg(strstr(d, "TTL") == NULL, "%s", d);
}
END_TEST

START_TEST(loader_checks_nsec3_parameters)
{
	bool loaded;
	const char *d =
	    load("$ORIGIN example.\n$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ RRSIG SOA " SIG
		 "\n@ NS ns1\n@ NSEC3PARAM 1 0 151 -\nns1 A 192.0.2.1\n",
		 &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: NSEC3PARAM with 151 iterations") != NULL, "%s", d);
	d = load("$ORIGIN example.\n$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ RRSIG SOA " SIG
		 "\n@ NS ns1\n@ NSEC3PARAM 2 0 0 -\nns1 A 192.0.2.1\n",
		 &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: NSEC3PARAM hash algorithm 2") != NULL, "%s", d);
	/* rdata too short for its fields (RFC 3597 form, which ldns does not check) */
	d = load("$ORIGIN example.\n$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ RRSIG SOA " SIG
		 "\n@ NS ns1\n@ TYPE51 \\# 2 0100\nns1 A 192.0.2.1\n",
		 &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: malformed NSEC3PARAM record") != NULL, "%s", d);
	d = load("$ORIGIN example.\n$TTL 3600\n@ SOA ns1 h 1 3600 300 3600000 300\n@ RRSIG SOA " SIG
		 "\n@ NS ns1\n@ NSEC3PARAM 1 0 5 ab\n@ RRSIG NSEC3PARAM " SIG "\n@ RRSIG NS " SIG
		 "\nns1 A 192.0.2.1\nns1 RRSIG A " SIG "\n",
		 &loaded);
	ck_assert(loaded);
	ck_assert_msg(strstr(d, "check.zone:6: NSEC3PARAM with 5 iterations: RFC 9276 3.1 asks for 0") !=
			  NULL,
		      "%s", d);
}
END_TEST

/* RFC 8976 Appendix A.1: the simple example zone and its SHA-384 digest. */
#define RFC8976_A1(ns2, digest_serial, hash)                                                                 \
	"$ORIGIN example.\n"                                                                                 \
	"example.      86400  IN  SOA     ns1 admin 2018031900 (\n"                                          \
	"                                 1800 900 604800 86400 )\n"                                         \
	"              86400  IN  NS      ns1\n"                                                             \
	"              86400  IN  NS      ns2\n"                                                             \
	"              86400  IN  ZONEMD  " digest_serial " 1 " hash " (\n"                                  \
	"                                 c68090d90a7aed71\n"                                                \
	"                                 6bc459f9340e3d7c\n"                                                \
	"                                 1370d4d24b7e2fc3\n"                                                \
	"                                 a1ddc0b9a87153b9\n"                                                \
	"                                 a9713b3c9ae5cc27\n"                                                \
	"                                 777f98b8e730044c )\n"                                              \
	"ns1           3600   IN  A       203.0.113.63\n"                                                    \
	"ns2           3600   IN  AAAA    " ns2 "\n"

START_TEST(zonemd_digest_is_checked)
{
	bool loaded;
	/* RFC 8976 A.1 as published: its digest matches */
	const char *d = load(RFC8976_A1("2001:db8::63", "2018031900", "1"), &loaded);
	ck_assert_msg(loaded, "%s", d);
	ck_assert_msg(strstr(d, "ZONEMD") == NULL, "%s", d);
	/* one address changed after the digest was made: refused at the ZONEMD's line */
	d = load(RFC8976_A1("2001:db8::64", "2018031900", "1"), &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: ZONEMD: no digest matches the zone's contents") != NULL, "%s",
		      d);
	/* a record missing (a file cut short) */
	d = load(RFC8976_A1("2001:db8::63", "2018031900", "1") "extra 60 TXT \"added later\"\n", &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: ZONEMD: no digest matches") != NULL, "%s", d);
	/* the digest of another serial */
	d = load(RFC8976_A1("2001:db8::63", "2018031899", "1"), &loaded);
	ck_assert(!loaded);
	ck_assert_msg(strstr(d, "check.zone:6: ZONEMD: its serial (2018031899) is not the SOA's (2018031900)") != NULL, "%s", d);
	/* a hash algorithm nobody here knows (private use, 240): loaded, with a warning */
	d = load(RFC8976_A1("2001:db8::63", "2018031900", "240"), &loaded);
	ck_assert_msg(loaded, "%s", d);
	ck_assert_msg(strstr(d, "check.zone:6: ZONEMD: no digest of a scheme and algorithm we know") != NULL,
		      "%s", d);
}
END_TEST

START_TEST(dynamic_records_need_an_unsigned_zone)
{
	unit_write_file("check.zone", HEAD "ns1 A 192.0.2.1\nns1 RRSIG A " SIG "\n");
	char path[128];
	snprintf(path, sizeof(path), "%s/check.zone", unit_tmpdir);
	struct zone_dynamic dyn = {.owner = (const uint8_t *)"\3www\7example",
				   .owner_len = 13,
				   .type = 1,
				   .index = 0,
				   .file = "meridian.conf",
				   .line = 12};
	struct diag d;
	diag_init(&d);
	ck_assert_ptr_null(zone_load_dynamic("example.", path, &dyn, 1, &d));
	const char *text = unit_diag_text(&d);
	ck_assert_msg(
	    strstr(text,
		   "meridian.conf:12: A record at www.example.: dynamic record in a DNSSEC-signed zone") !=
		NULL,
	    "%s", text);
	diag_free(&d);
}
END_TEST

static Suite *dnssec_suite(void)
{
	Suite *s = suite_create("dnssec");
	TCase *tc = tcase_create("nsec");
	tcase_add_checked_fixture(tc, setup_nsec, teardown);
	tcase_add_test(tc, nsec_answer_is_signed);
	tcase_add_test(tc, nsec_name_error);
	tcase_add_test(tc, nsec_no_data);
	tcase_add_test(tc, nsec_referrals);
	tcase_add_test(tc, nsec_wildcards);
	tcase_add_test(tc, nsec_types_asked_for);
	suite_add_tcase(s, tc);
	tc = tcase_create("nsec3");
	tcase_add_checked_fixture(tc, setup_nsec3, teardown);
	tcase_add_test(tc, nsec3_hashes_match_rfc5155);
	tcase_add_test(tc, nsec3_name_error);
	tcase_add_test(tc, nsec3_no_data);
	tcase_add_test(tc, nsec3_opt_out_referral);
	tcase_add_test(tc, nsec3_wildcards);
	tcase_add_test(tc, nsec3_owner_names_do_not_exist);
	tcase_add_test(tc, nsec3_transfer_holds_the_chain);
	tcase_add_test(tc, transfer_sends_rrsigs_at_their_rrsets_ttl);
	tcase_add_test(tc, prepared_table_answers_do_queries_as_the_general_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("load");
	tcase_add_test(tc, canonical_order_of_rfc4034);
	tcase_add_test(tc, loader_warns_about_signatures);
	tcase_add_test(tc, loader_checks_nsec3_parameters);
	tcase_add_test(tc, zonemd_digest_is_checked);
	tcase_add_test(tc, dynamic_records_need_an_unsigned_zone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(dnssec_suite(), "dnssec");
}
