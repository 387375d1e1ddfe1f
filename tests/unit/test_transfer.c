/* test_transfer.c -- zone transfers (transfer.h): who may transfer, the messages of a transfer read
 * back with ldns and compared with the zone file, IXFR, the query path's refusals, and the config. */
#include <check.h>
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/conf.h"
#include "meridian/journal.h"
#include "meridian/loader.h"
#include "meridian/query.h"
#include "meridian/transfer.h"
#include "support.h"

#define ZONE_HEAD                                                                                            \
	"$ORIGIN example.com.\n$TTL 300\n"                                                                   \
	"@ SOA ns1 hostmaster 2024010107 7200 900 1209600 300\n"                                             \
	"@ NS ns1\n@ NS ns2.example.net.\n@ MX 10 mail\n@ TXT \"v=spf1 -all\"\n"                             \
	"ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\nmail A 192.0.2.25\n"                                       \
	"www CNAME web\nweb A 192.0.2.80\n*.wild TXT \"any\"\n"                                              \
	"sub NS ns.sub\nns.sub A 192.0.2.99\n"                                                               \
	"odd TYPE65400 \\# 3 010203\n"                                                                       \
	"a.b.c A 192.0.2.7\n"

#define CONF_HEAD "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"

/* Writes ZONE_HEAD plus hosts numbered A records as x.zone and loads a config serving it with
 * extra (fields of the zone entry). */
static struct snapshot *load(unsigned hosts, const char *extra)
{
	unit_write_hosts_zone("x.zone", ZONE_HEAD, hosts);
	char config[1024];
	snprintf(config, sizeof(config),
		 CONF_HEAD "zones = { { name = \"example.com\", file = \"x.zone\", %s } }\n", extra);
	return unit_load_snapshot("x.conf", config);
}

/* A query for name/type in wire form (id 0x4242), with an OPT record when edns, and the SOA with
 * serial in authority when ixfr_serial is not 0. */
static size_t request(uint8_t *out, const char *name, ldns_rr_type type, ldns_rr_class klass, bool edns,
		      uint32_t ixfr_serial)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, klass, 0);
	ldns_pkt_set_id(p, 0x4242);
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, 1232);
		ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_HEX, "")); /* forces an OPT */
	}
	if (ixfr_serial) {
		char text[128];
		snprintf(text, sizeof(text), "%s 300 IN SOA ns1.%s hostmaster.%s %u 1 1 1 1", name, name,
			 name, ixfr_serial);
		ldns_rr *soa = NULL;
		ck_assert_int_eq(ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa);
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static struct sockaddr_storage peer(const char *text)
{
	return unit_address(text);
}

START_TEST(who_may_transfer)
{
	struct snapshot *s = load(0, "transfer = { \"127.0.0.0/8\", \"2001:db8::/32\" }");
	ck_assert_uint_eq(s->conf->transfer_zones, 1);
	uint8_t q[512];
	struct sockaddr_storage in = peer("127.0.0.2"), v6 = peer("2001:db8::1"), out = peer("192.0.2.1");
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	ck_assert(transfer_wanted(s, q, len, &in));
	ck_assert(transfer_wanted(s, q, len, &v6));
	ck_assert(!transfer_wanted(s, q, len, &out));
	len = request(q, "EXAMPLE.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, true, 5);
	ck_assert(transfer_wanted(s, q, len, &in));
	/* not a transfer of a zone we serve */
	len = request(q, "www.example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	ck_assert(!transfer_wanted(s, q, len, &in));
	len = request(q, "example.org.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	ck_assert(!transfer_wanted(s, q, len, &in));
	len = request(q, "example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, false, 0);
	ck_assert(!transfer_wanted(s, q, len, &in));
	len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_CH, false, 0);
	ck_assert(!transfer_wanted(s, q, len, &in));
	/* a response is never a request */
	len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	q[2] |= 0x80;
	ck_assert(!transfer_wanted(s, q, len, &in));
	snapshot_free(s);

	/* a zone without a transfer list: nothing is wanted, whoever asks */
	s = load(0, "notify = { \"127.0.0.1:5300\" }");
	ck_assert_uint_eq(s->conf->transfer_zones, 0);
	len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	ck_assert(!transfer_wanted(s, q, len, &in));
	snapshot_free(s);
}
END_TEST

/* Every RR of the zone file, canonical, one per line, sorted. */
static char **zone_file_rrs(size_t *count)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/x.zone", unit_tmpdir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ldns_zone *z = NULL;
	int line = 0;
	ck_assert_int_eq(ldns_zone_new_frm_fp_l(&z, f, NULL, 300, LDNS_RR_CLASS_IN, &line), LDNS_STATUS_OK);
	fclose(f);
	size_t n = ldns_rr_list_rr_count(ldns_zone_rrs(z));
	char **out = calloc(n + 1, sizeof(*out));
	out[0] = ldns_rr2str(ldns_zone_soa(z));
	for (size_t i = 0; i < n; i++)
		out[i + 1] = ldns_rr2str(ldns_rr_list_rr(ldns_zone_rrs(z), i));
	ldns_zone_deep_free(z);
	*count = n + 1;
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct received {
	char **rrs;
	size_t count, cap;
	unsigned messages, soas;
	const char *first, *last; /* types of the first and last RR */
};

/* Runs a stream to its end, checking every message, and collects its RRs as text. */
static void receive(const struct snapshot *s, const uint8_t *q, size_t len, bool edns, struct received *r)
{
	struct wire_query wq;
	ck_assert_int_eq(wire_parse_query(q, len, &wq), WIRE_PARSE_OK);
	const struct zone *z = zone_set_get(s->zones, wq.qname.data, wq.qname.len);
	ck_assert_ptr_nonnull(z);
	struct transfer_stream st;
	transfer_stream_start(&st, z, &wq, q, len, 1232);
	static uint8_t msg[65535];
	memset(r, 0, sizeof(*r));
	size_t mlen;
	while ((mlen = transfer_stream_next(&st, msg, sizeof(msg)))) {
		ck_assert_uint_le(mlen, TRANSFER_MESSAGE_MAX);
		ldns_pkt *p = NULL;
		ck_assert_int_eq(ldns_wire2pkt(&p, msg, mlen), LDNS_STATUS_OK);
		ck_assert_uint_eq(ldns_pkt_id(p), 0x4242);
		ck_assert(ldns_pkt_qr(p) && ldns_pkt_aa(p) && !ldns_pkt_tc(p));
		ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		ck_assert_uint_eq(ldns_pkt_qdcount(p), r->messages == 0 ? 1 : 0);
		ck_assert_int_eq(ldns_pkt_edns(p), edns);
		ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (r->count == r->cap)
				r->rrs =
				    realloc(r->rrs, (r->cap = r->cap ? 2 * r->cap : 64) * sizeof(*r->rrs));
			r->rrs[r->count++] = ldns_rr2str(rr);
			r->soas += ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;
			const char *type = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA ? "SOA" : "other";
			if (!r->first)
				r->first = type;
			r->last = type;
		}
		ldns_pkt_free(p);
		r->messages++;
		ck_assert_uint_lt(r->messages, 10000);
	}
	ck_assert_uint_eq(st.messages, r->messages);
	ck_assert_uint_eq(st.records, r->count);
	ck_assert_uint_eq(transfer_stream_next(&st, msg, sizeof(msg)), 0); /* and stays ended */
}

static void received_free(struct received *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->rrs[i]);
	free(r->rrs);
}

/* The whole zone, in as many messages as it takes, holds exactly the zone file's RRs. */
static void check_whole_zone(unsigned hosts, bool edns, unsigned min_messages)
{
	struct snapshot *s = load(hosts, "transfer = { \"127.0.0.1\" }");
	uint8_t q[512];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, edns, 0);
	struct received r;
	receive(s, q, len, edns, &r);
	ck_assert_uint_ge(r.messages, min_messages);
	ck_assert_str_eq(r.first, "SOA");
	ck_assert_str_eq(r.last, "SOA");
	ck_assert_uint_eq(r.soas, 2);
	size_t n;
	char **want = zone_file_rrs(&n);
	ck_assert_uint_eq(r.count, n + 1); /* the SOA twice */
	free(r.rrs[--r.count]);		   /* the closing SOA */
	qsort(r.rrs, r.count, sizeof(*r.rrs), cmp_str);
	qsort(want, n, sizeof(*want), cmp_str);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(r.rrs[i], want[i]);
		free(want[i]);
	}
	free(want);
	received_free(&r);
	snapshot_free(s);
}

START_TEST(whole_zone_small)
{
	check_whole_zone(0, false, 1);
}
END_TEST

START_TEST(whole_zone_many_messages)
{
	check_whole_zone(5000, true, 6); /* 5,000 A records of about 30 octets: at least 150 KB */
}
END_TEST

START_TEST(ixfr)
{
	struct snapshot *s = load(10, "transfer = { \"127.0.0.1\" }");
	uint8_t q[512];
	struct received r;
	/* the secondary has our serial, or a newer one: the SOA alone */
	const uint32_t current[] = {2024010107, 2024010108, 2024010107u + 0x7fffffffu};
	for (size_t i = 0; i < sizeof(current) / sizeof(current[0]); i++) {
		size_t len =
		    request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, false, current[i]);
		receive(s, q, len, false, &r);
		ck_assert_uint_eq(r.messages, 1);
		ck_assert_uint_eq(r.count, 1);
		ck_assert_uint_eq(r.soas, 1);
		ck_assert_ptr_nonnull(strstr(r.rrs[0], "2024010107"));
		received_free(&r);
	}
	/* an older serial (or one exactly 2^31 away, which RFC 1982 does not order): the whole zone */
	const uint32_t older[] = {2024010106, 1, 2024010107u + 0x80000000u};
	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
		size_t len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, true, older[i]);
		receive(s, q, len, true, &r);
		ck_assert_uint_eq(r.soas, 2);
		ck_assert_uint_eq(r.count, 15 + 10 + 1); /* the head's 15, the hosts, the SOA again */
		received_free(&r);
	}
	/* an IXFR without its SOA: the whole zone */
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, false, 0);
	receive(s, q, len, false, &r);
	ck_assert_uint_eq(r.soas, 2);
	received_free(&r);
	snapshot_free(s);
}
END_TEST

/* The Extended DNS Error code and text of the query path's answer. */
static unsigned refusal(const struct snapshot *s, const uint8_t *q, size_t len, const char *from,
			enum query_transport transport, char *text, size_t n)
{
	struct sockaddr_storage p = peer(from);
	uint8_t out[65535];
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t rlen = query_answer(s, q, len, &p, out, sizeof(out), transport, &scratch, &stats);
	ldns_pkt *pkt = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&pkt, out, rlen), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_rcode(pkt), LDNS_RCODE_REFUSED);
	ck_assert_uint_eq(ldns_pkt_ancount(pkt), 0);
	ldns_rdf *data = ldns_pkt_edns_data(pkt);
	ck_assert_ptr_nonnull(data);
	const uint8_t *o = ldns_rdf_data(data);
	size_t olen = ldns_rdf_size(data), pos = 0;
	unsigned code = 0;
	while (pos + 4 <= olen) {
		unsigned opt = (unsigned)o[pos] << 8 | o[pos + 1], l = (unsigned)o[pos + 2] << 8 | o[pos + 3];
		if (opt == 15 && l >= 2) {
			code = (unsigned)o[pos + 4] << 8 | o[pos + 5];
			snprintf(text, n, "%.*s", (int)(l - 2), (const char *)o + pos + 6);
		}
		pos += 4 + l;
	}
	ldns_pkt_free(pkt);
	return code;
}

START_TEST(refusals)
{
	struct snapshot *s = load(0, "transfer = { \"127.0.0.1\" }");
	uint8_t q[512];
	char text[128];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, true, 0);
	ck_assert_uint_eq(refusal(s, q, len, "127.0.0.2", QUERY_TCP, text, sizeof(text)), 18);
	ck_assert_str_eq(text, "zone transfer not allowed from this address");
	ck_assert_uint_eq(refusal(s, q, len, "127.0.0.1", QUERY_UDP, text, sizeof(text)), 21);
	ck_assert_str_eq(text, "AXFR is served over TCP only");
	len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, true, 5);
	ck_assert_uint_eq(refusal(s, q, len, "192.0.2.1", QUERY_UDP, text, sizeof(text)), 18);
	snapshot_free(s);
	s = load(0, "notify = { \"127.0.0.1\" }");
	len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, true, 0);
	ck_assert_uint_eq(refusal(s, q, len, "127.0.0.1", QUERY_TCP, text, sizeof(text)), 21);
	ck_assert_str_eq(text, "zone transfers are not served");
	ck_assert_uint_eq(s->conf->zones[0].notify_count, 1);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&s->conf->zones[0].notify[0].addr)->sin_port), 53);
	snapshot_free(s);
}
END_TEST

/* ---- IXFR with differences (journal.h) ---------------------------------------------------------- */

/* Names no version changes: a difference must stay smaller than the zone to be kept. */
#define JOURNAL_PADDING                                                                                      \
	"p1 A 192.0.2.101\np2 A 192.0.2.102\np3 A 192.0.2.103\np4 A 192.0.2.104\np5 A 192.0.2.105\n"         \
	"p6 A 192.0.2.106\np7 A 192.0.2.107\np8 A 192.0.2.108\np9 A 192.0.2.109\n"

#define JOURNAL_HEAD(serial)                                                                                 \
	"$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster " serial " 7200 900 1209600 300\n"             \
	"@ NS ns1\nns1 A 192.0.2.53\n" JOURNAL_PADDING

/* A snapshot serving text as example.com, with secondaries and fields (more of the zone entry). */
static struct snapshot *version(const char *text, const char *fields)
{
	unit_write_file("j.zone", text);
	char config[512];
	snprintf(
	    config, sizeof(config),
	    CONF_HEAD
	    "zones = { { name = \"example.com\", file = \"j.zone\", transfer = { \"127.0.0.1\" }%s } }\n",
	    fields);
	return unit_load_snapshot("j.conf", config);
}

/* next after prev, as a reload publishes it: next's zones get their journals. */
static void reload(const struct snapshot *prev, const struct snapshot *next)
{
	transfer_keep_journals(prev->zones, next, NULL);
}

/* The RRs (text, sorted, SOA left out) of a whole-zone transfer of s. */
static struct received whole(const struct snapshot *s)
{
	uint8_t q[512];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, false, 0);
	struct received r;
	receive(s, q, len, false, &r);
	size_t kept = 0;
	for (size_t i = 0; i < r.count; i++) {
		if (strstr(r.rrs[i], "\tSOA\t"))
			free(r.rrs[i]);
		else
			r.rrs[kept++] = r.rrs[i];
	}
	r.count = kept;
	qsort(r.rrs, r.count, sizeof(*r.rrs), cmp_str);
	return r;
}

static bool is_soa(const char *rr, uint32_t serial)
{
	char text[32];
	snprintf(text, sizeof(text), " %u ", serial);
	return strstr(rr, "\tSOA\t") && strstr(rr, text);
}

/* Applies the IXFR s sends to a secondary at serial from (whose RRs are base, sorted) as RFC 1995 4
 * says a secondary does, checking its form on the way; returns how many steps it held, or -1 when
 * it was the whole zone instead. out gets the RRs (sorted, no SOA) it leaves the secondary with. */
static int apply_ixfr(const struct snapshot *s, uint32_t from, const struct received *base,
		      struct received *out)
{
	uint8_t q[512];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, false, from);
	struct received r;
	receive(s, q, len, false, &r);
	uint32_t serial = s->zones->zones[0]->serial;
	ck_assert(r.count >= 2 && is_soa(r.rrs[0], serial) && is_soa(r.rrs[r.count - 1], serial));
	if (!is_soa(r.rrs[1], from)) { /* the whole zone */
		received_free(&r);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->rrs = calloc(base->count + r.count + 1, sizeof(*out->rrs));
	for (size_t i = 0; i < base->count; i++)
		out->rrs[out->count++] = strdup(base->rrs[i]);
	int steps = 0;
	size_t i = 1;
	uint32_t at = from;
	while (i < r.count - 1) {
		ck_assert_msg(is_soa(r.rrs[i], at), "step %d does not start at serial %u: %s", steps, at,
			      r.rrs[i]);
		for (i++; !strstr(r.rrs[i], "\tSOA\t"); i++) { /* deletions: each must be there */
			size_t k = 0;
			while (k < out->count && strcmp(out->rrs[k], r.rrs[i]) != 0)
				k++;
			ck_assert_msg(k < out->count, "deleted but not there: %s", r.rrs[i]);
			free(out->rrs[k]);
			out->rrs[k] = out->rrs[--out->count];
		}
		const char *to = r.rrs[i];
		for (i++; i < r.count - 1 && !strstr(r.rrs[i], "\tSOA\t"); i++) /* additions */
			out->rrs[out->count++] = strdup(r.rrs[i]);
		unsigned long next = strtoul(strstr(to, "hostmaster.example.com. ") + 24, NULL, 10);
		ck_assert_uint_ne(next, at);
		at = (uint32_t)next;
		steps++;
	}
	ck_assert_uint_eq(at, serial);
	qsort(out->rrs, out->count, sizeof(*out->rrs), cmp_str);
	received_free(&r);
	return steps;
}

static void same_rrs(const struct received *a, const struct received *b)
{
	ck_assert_uint_eq(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		ck_assert_str_eq(a->rrs[i], b->rrs[i]);
}

START_TEST(ixfr_differences)
{
	struct snapshot *v1 =
	    version(JOURNAL_HEAD("10") "www A 192.0.2.1\nold A 192.0.2.9\nttl 60 A 192.0.2.5\n"
				       "mx MX 10 mail\nmx MX 20 mail2\n",
		    "");
	/* a changed address, a name gone, one added, a TTL changed, one RR of an RRset removed */
	struct snapshot *v2 =
	    version(JOURNAL_HEAD("11") "www A 192.0.2.2\nnew A 192.0.2.10\nttl 120 A 192.0.2.5\n"
				       "mx MX 10 mail\n",
		    "");
	reload(v1, v2);
	const struct zone *z2 = v2->zones->zones[0];
	ck_assert_ptr_nonnull(z2->journal);
	ck_assert_uint_eq(z2->journal->count, 1);
	const struct journal_delta *d = z2->journal->delta[0];
	ck_assert_uint_eq(d->from, 10);
	ck_assert_uint_eq(d->to, 11);
	ck_assert_uint_eq(d->deleted_count, 4); /* www 1, old, ttl at 60, mx 20 */
	ck_assert_uint_eq(d->added_count, 3);	/* www 2, new, ttl at 120 */

	struct received r1 = whole(v1), r2 = whole(v2), applied;
	ck_assert_int_eq(apply_ixfr(v2, 10, &r1, &applied), 1);
	same_rrs(&applied, &r2);
	received_free(&applied);

	/* a third version: a chain of two steps, each applied in turn */
	struct snapshot *v3 =
	    version(JOURNAL_HEAD("12") "www A 192.0.2.2\nnew A 192.0.2.10\nttl 120 A 192.0.2.5\n"
				       "mx MX 10 mail\nextra TXT \"added in 12\"\n",
		    "");
	reload(v2, v3);
	ck_assert_uint_eq(v3->zones->zones[0]->journal->count, 2);
	struct received r3 = whole(v3);
	ck_assert_int_eq(apply_ixfr(v3, 10, &r1, &applied), 2);
	same_rrs(&applied, &r3);
	received_free(&applied);
	ck_assert_int_eq(apply_ixfr(v3, 11, &r2, &applied), 1);
	same_rrs(&applied, &r3);
	received_free(&applied);
	/* a serial never served, or one before the history: the whole zone */
	ck_assert_int_eq(apply_ixfr(v3, 9, &r1, &applied), -1);
	ck_assert_int_eq(apply_ixfr(v3, 5, &r1, &applied), -1);

	/* the same serial and content again (a reload of an unrelated change): the history carries on */
	struct snapshot *v3b =
	    version(JOURNAL_HEAD("12") "www A 192.0.2.2\nnew A 192.0.2.10\nttl 120 A 192.0.2.5\n"
				       "mx MX 10 mail\nextra TXT \"added in 12\"\n",
		    "");
	reload(v3, v3b);
	ck_assert_ptr_eq(v3b->zones->zones[0]->journal, v3->zones->zones[0]->journal);
	/* the same serial with other content: no history can be trusted, IXFR gets the whole zone */
	struct snapshot *v3c = version(JOURNAL_HEAD("12") "www A 192.0.2.3\n", "");
	reload(v3b, v3c);
	ck_assert_ptr_null(v3c->zones->zones[0]->journal);
	ck_assert_int_eq(apply_ixfr(v3c, 11, &r2, &applied), -1);

	snapshot_free(v1);
	snapshot_free(v2);
	snapshot_free(v3);
	snapshot_free(v3b);
	snapshot_free(v3c);
	received_free(&r1);
	received_free(&r2);
	received_free(&r3);
}
END_TEST

START_TEST(ixfr_history_bounds)
{
	/* ixfr = 2: the two latest steps are kept */
	char text[1024];
	struct snapshot *prev = NULL;
	struct received rrs[5];
	for (unsigned v = 1; v <= 5; v++) {
		snprintf(text, sizeof(text), JOURNAL_HEAD("%u") "v%u TXT \"version %u\"\n", v, v, v);
		struct snapshot *s = version(text, ", ixfr = 2");
		if (prev) {
			reload(prev, s);
			snapshot_free(prev);
		}
		rrs[v - 1] = whole(s);
		prev = s;
	}
	ck_assert_uint_eq(prev->zones->zones[0]->journal->count, 2);
	struct received applied;
	ck_assert_int_eq(apply_ixfr(prev, 3, &rrs[2], &applied), 2);
	same_rrs(&applied, &rrs[4]);
	received_free(&applied);
	ck_assert_int_eq(apply_ixfr(prev, 4, &rrs[3], &applied), 1);
	same_rrs(&applied, &rrs[4]);
	received_free(&applied);
	ck_assert_int_eq(apply_ixfr(prev, 2, &rrs[1], &applied), -1); /* dropped */

	/* the config's ixfr lowered since the zone was read (a zone kept by a reload keeps its journal):
	 * a stream spanning more steps than it allows sends the whole zone */
	uint8_t q[512];
	size_t qlen = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, false, 3);
	struct wire_query wq;
	ck_assert_int_eq(wire_parse_query(q, qlen, &wq), WIRE_PARSE_OK);
	struct transfer_stream st;
	transfer_stream_start(&st, prev->zones->zones[0], &wq, q, qlen, 1232);
	ck_assert(st.incremental);
	transfer_stream_limit_steps(&st, 2);
	ck_assert(st.incremental);
	transfer_stream_limit_steps(&st, 1);
	ck_assert(!st.incremental);
	snapshot_free(prev);

	/* the history holds no more bytes of RRs than the zone: each step here replaces 2 of the zone's
	 * 15 RRs (all of about 30 octets), 4 RRs of difference, so 3 steps are kept, not the 7 that
	 * ixfr allows */
	prev = NULL;
	for (unsigned v = 1; v <= 8; v++) {
		snprintf(text, sizeof(text),
			 JOURNAL_HEAD("%u") "r1 A 198.51.100.%u\nr2 A 198.51.100.%u\nr3 A 198.51.100.3\n"
					    "r4 A 198.51.100.4\n",
			 v, v + 10, v + 20);
		struct snapshot *s = version(text, ", ixfr = 10");
		if (prev) {
			reload(prev, s);
			snapshot_free(prev);
		}
		prev = s;
	}
	const struct zone_journal *history = prev->zones->zones[0]->journal;
	ck_assert_uint_eq(history->count, 3);
	ck_assert_int_eq(journal_find(history, 8 - history->count), 0);
	ck_assert_int_eq(journal_find(history, 7 - history->count), -1);
	snapshot_free(prev);

	/* ixfr = 0: none kept */
	struct snapshot *a = version(JOURNAL_HEAD("1") "a A 192.0.2.1\n", ", ixfr = 0");
	struct snapshot *b = version(JOURNAL_HEAD("2") "a A 192.0.2.2\n", ", ixfr = 0");
	reload(a, b);
	ck_assert_ptr_null(b->zones->zones[0]->journal);
	snapshot_free(a);
	snapshot_free(b);

	/* a difference larger than the zone: not kept, the whole zone is cheaper */
	unit_write_hosts_zone("j.zone", JOURNAL_HEAD("1"), 50);
	a = unit_load_snapshot("j.conf", CONF_HEAD "zones = { { name = \"example.com\", file = \"j.zone\", "
						   "transfer = { \"127.0.0.1\" } } }\n");
	b = version(JOURNAL_HEAD("2") "a A 192.0.2.2\n", "");
	struct journal_report report;
	struct zone_journal *j = journal_next(a->zones->zones[0], b->zones->zones[0], 10, &report);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(report.outcome, JOURNAL_RESTARTED);
	snapshot_free(a);
	snapshot_free(b);
	for (unsigned v = 0; v < 5; v++)
		received_free(&rrs[v]);
}
END_TEST

/* The query path's answer to an IXFR over UDP from 127.0.0.1 (payload 0: no EDNS): its rcode, and the
 * type and serial of each answer RR ("SOA 2", "A", ...), space-separated, in answers. */
static int udp_ixfr(const struct snapshot *s, uint32_t serial, uint16_t payload, char *answers, size_t n)
{
	uint8_t q[512];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, payload != 0, serial);
	if (payload) { /* request's OPT says 1232: set the payload asked for */
		ck_assert_uint_eq(q[len - 11 + 3] << 8 | q[len - 11 + 4], 1232);
		q[len - 11 + 3] = (uint8_t)(payload >> 8);
		q[len - 11 + 4] = (uint8_t)payload;
	}
	struct sockaddr_storage from = peer("127.0.0.1");
	static uint8_t out[65535];
	struct wire_query scratch;
	struct query_stats stats = {0};
	size_t rlen = query_answer(s, q, len, &from, out, sizeof(out), QUERY_UDP, &scratch, &stats);
	ck_assert_uint_le(rlen, payload ? payload : 512);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, rlen), LDNS_STATUS_OK);
	answers[0] = 0;
	size_t at = 0;
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			at += (size_t)snprintf(answers + at, n - at, "%sSOA %u", at ? " " : "",
					       ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)));
		else {
			char *type = ldns_rr_type2str(ldns_rr_get_type(rr));
			at += (size_t)snprintf(answers + at, n - at, "%s%s", at ? " " : "", type);
			free(type);
		}
	}
	ck_assert(ldns_pkt_aa(p) && !ldns_pkt_tc(p));
	int rcode = ldns_pkt_get_rcode(p);
	ldns_pkt_free(p);
	return rcode;
}

START_TEST(ixfr_over_udp)
{
	struct snapshot *v1 = version(JOURNAL_HEAD("1") "www A 192.0.2.1\n", "");
	struct snapshot *v2 = version(JOURNAL_HEAD("2") "www A 192.0.2.2\n", "");
	reload(v1, v2);
	char answers[512];
	/* RFC 1995 2: the differences when they fit one message */
	ck_assert_int_eq(udp_ixfr(v2, 1, 1232, answers, sizeof(answers)), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(answers, "SOA 2 SOA 1 A SOA 2 A SOA 2");
	ck_assert_int_eq(udp_ixfr(v2, 1, 0, answers, sizeof(answers)), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(answers, "SOA 2 SOA 1 A SOA 2 A SOA 2");
	/* current, or a serial we have no differences from: the SOA alone (then TCP) */
	ck_assert_int_eq(udp_ixfr(v2, 2, 1232, answers, sizeof(answers)), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(answers, "SOA 2");
	ck_assert_int_eq(udp_ixfr(v2, 7, 1232, answers, sizeof(answers)), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(answers, "SOA 2");
	/* differences that do not fit: the SOA alone */
	unit_write_hosts_zone("j.zone", JOURNAL_HEAD("3") "www A 192.0.2.2\n", 200);
	struct snapshot *v3 =
	    unit_load_snapshot("j.conf", CONF_HEAD "zones = { { name = \"example.com\", file = "
						   "\"j.zone\", transfer = { \"127.0.0.1\" } } }\n");
	reload(v2, v3);
	ck_assert_uint_eq(v3->zones->zones[0]->journal->count, 2);
	ck_assert_int_eq(udp_ixfr(v3, 2, 1232, answers, sizeof(answers)), LDNS_RCODE_NOERROR);
	ck_assert_str_eq(answers, "SOA 3");
	snapshot_free(v1);
	snapshot_free(v2);
	snapshot_free(v3);
}
END_TEST

START_TEST(ixfr_many_messages)
{
	/* 3,000 hosts added at once: the differences span several messages, resumed where each ended */
	struct snapshot *a = version(JOURNAL_HEAD("1") "a A 192.0.2.1\n", "");
	unit_write_hosts_zone("j.zone", JOURNAL_HEAD("2") "a A 192.0.2.1\n", 3000);
	struct snapshot *b =
	    unit_load_snapshot("j.conf", CONF_HEAD "zones = { { name = \"example.com\", file = "
						   "\"j.zone\", transfer = { \"127.0.0.1\" } } }\n");
	reload(a, b);
	ck_assert_ptr_nonnull(b->zones->zones[0]->journal);
	struct received ra = whole(a), rb = whole(b), applied;
	ck_assert_int_eq(apply_ixfr(b, 1, &ra, &applied), 1);
	same_rrs(&applied, &rb);
	uint8_t q[512];
	size_t len = request(q, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, true, 1);
	struct received r;
	receive(b, q, len, true, &r);
	ck_assert_uint_ge(r.messages, 3);
	ck_assert_uint_eq(r.count, 3000 + 4);
	received_free(&r);
	received_free(&applied);
	received_free(&ra);
	received_free(&rb);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

/* The first error of a config that must not load, from its file name on. */
static const char *conf_error(const char *config)
{
	const char *e = unit_conf_error("e.conf", config);
	const char *at = strstr(e, "e.conf:");
	return at ? at : e;
}

START_TEST(config)
{
	unit_write_file("c.zone", "$ORIGIN example.com.\n@ 300 SOA ns1 hostmaster 1 7200 900 1209600 300\n"
				  "@ 300 NS ns1\nns1 300 A 192.0.2.53\n");
	struct conf *c =
	    unit_load_conf("c.conf", CONF_HEAD
			   "zones = { { name = \"example.com\", file = \"c.zone\",\n"
			   "  transfer = { \"192.0.2.0/24\", \"2001:db8::/32\", \"203.0.113.9\" },\n"
			   "  notify = { \"192.0.2.1\", \"[2001:db8::1]:5300\", \"192.0.2.2:53\" } } }\n");
	ck_assert_uint_eq(c->transfer_zones, 1);
	ck_assert_uint_eq(c->zones[0].transfer_count, 3);
	ck_assert_uint_eq(c->zones[0].notify_count, 3);
	ck_assert_uint_eq(c->zones[0].ixfr_versions, CONF_IXFR_DEFAULT);
	ck_assert_str_eq(c->zones[0].notify[1].text, "[2001:db8::1]:5300");
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&c->zones[0].notify[1].addr)->sin6_port), 5300);
	ck_assert_uint_eq(c->notify_source[0].addr_len, 0); /* none: the kernel picks */
	conf_free(c);

	/* notify_source: one address per family, each of this host */
	c = unit_load_conf("c.conf", CONF_HEAD "notify_source = { \"127.0.0.2\", \"::1\" }\n");
	ck_assert_str_eq(c->notify_source[0].text, "127.0.0.2");
	ck_assert_int_eq(c->notify_source[0].addr.ss_family, AF_INET);
	ck_assert_str_eq(c->notify_source[1].text, "::1");
	ck_assert_int_eq(c->notify_source[1].addr.ss_family, AF_INET6);
	conf_free(c);
	ck_assert_str_eq(
	    conf_error(CONF_HEAD "notify_source = { \"127.0.0.1:53\" }\n"),
	    "e.conf:3: notify_source[1]: \"127.0.0.1:53\": expected an IPv4 or IPv6 address (no port)");
	ck_assert_str_eq(conf_error(CONF_HEAD "notify_source = { \"127.0.0.2\", \"127.0.0.3\" }\n"),
			 "e.conf:3: notify_source[2]: \"127.0.0.3\": a second IPv4 address (one per family)");
	ck_assert_str_eq(conf_error(CONF_HEAD "notify_source = { \"192.0.2.1\" }\n"),
			 "e.conf:3: notify_source[1]: \"192.0.2.1\": cannot send from it here: Cannot assign "
			 "requested address");
	ck_assert_str_eq(
	    conf_error(CONF_HEAD "notify_source = \"127.0.0.2\"\n"),
	    "e.conf:3: notify_source: expected a list of one IPv4 and/or one IPv6 address, got string");

#define ZONES(fields) CONF_HEAD "zones = { { name = \"example.com\", file = \"c.zone\",\n" fields " } }\n"
	ck_assert_str_eq(
	    conf_error(ZONES("  transfer = { \"192.0.2.1/24\" }")),
	    "e.conf:4: zones[1].transfer[1]: \"192.0.2.1/24\" has bits set beyond the /24 prefix "
	    "(did you mean \"192.0.2.0/24\"?)");
	ck_assert_str_eq(
	    conf_error(ZONES("  transfer = \"192.0.2.0/24\"")),
	    "e.conf:4: zones[1].transfer: expected a list of networks \"address/prefix\" allowed to "
	    "transfer, got string");
	ck_assert_str_eq(conf_error(ZONES("  transfer = { }")),
			 "e.conf:4: zones[1].transfer: expected 1 to 256 networks, got 0");
	ck_assert_str_eq(conf_error(ZONES("  transfer = { \"192.0.2.0/24\" },\n  ixfr = -1")),
			 "e.conf:5: zones[1].ixfr: expected an integer in 0..1000, got -1");
	ck_assert_str_eq(conf_error(ZONES("  ixfr = \"10\"")),
			 "e.conf:4: zones[1].ixfr: expected an integer, got string");
	ck_assert_str_eq(conf_error(ZONES("  notify = { \"ns2.example.net\" }")),
			 "e.conf:4: zones[1].notify[1]: \"ns2.example.net\": missing port (expected "
			 "\"address:port\")");
	ck_assert_str_eq(conf_error(ZONES("  notify = { \"192.0.2.1\", \"192.0.2.1:53\" }")),
			 "e.conf:4: zones[1].notify[2]: \"192.0.2.1:53\" duplicates zones[1].notify[1]");
	ck_assert_str_eq(conf_error(ZONES("  notfy = { \"192.0.2.1\" }")),
			 "e.conf:4: zones[1]: unknown key 'notfy' (did you mean 'notify'?)");
#undef ZONES
}
END_TEST

/* A zone with secondaries cannot hold a dynamic record: they would serve the zone without it. */
START_TEST(no_dynamic_records)
{
	unit_write_file("d.zone",
			"$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
			"@ NS ns1\nns1 A 192.0.2.53\n");
	struct conf *conf = unit_load_conf(
	    "d.conf", CONF_HEAD
	    "zones = { { name = \"example.com\", file = \"d.zone\", transfer = { \"127.0.0.1\" } } }\n"
	    "datacenters = { ams = {} }\n"
	    "pools = { web = { members = { { name = \"a\", addr = \"192.0.2.10\", dc = \"ams\" } } } }\n"
	    "records = { { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = 20, "
	    "policy = \"all\" } }\n");
	struct diag d;
	diag_init(&d);
	ck_assert_ptr_null(loader_build(conf, LOADER_ALL_OR_NOTHING, &d));
	ck_assert_msg(strstr(unit_diag_text(&d), "d.conf:6: record api.example.com: zone example.com has "
						 "secondaries (transfer or notify, line 3)") != NULL,
		      "%s", unit_diag_text(&d));
	diag_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("transfer");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, who_may_transfer);
	tcase_add_test(tc, whole_zone_small);
	tcase_add_test(tc, whole_zone_many_messages);
	tcase_add_test(tc, ixfr);
	tcase_add_test(tc, ixfr_differences);
	tcase_add_test(tc, ixfr_history_bounds);
	tcase_add_test(tc, ixfr_many_messages);
	tcase_add_test(tc, ixfr_over_udp);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, config);
	tcase_add_test(tc, no_dynamic_records);
	suite_add_tcase(s, tc);
	return unit_run_in_tmpdir(s, "transfer");
}
