/* test_prepared.c -- unit tests of prepared answers: every answer the table gives is byte for byte the
 * general path's, for every name of the fixtures, many types and many kinds of query; the table
 * declines what it must; dynamic data is never prepared; the cap holds. */
#include <check.h>
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/cookie.h"
#include "meridian/loader.h"
#include "meridian/prepared.h"
#include "meridian/region_counts.h"
#include "support.h"

/* ---- queries ---- */

/* OPT_ECS: 198.51.100.0/24; OPT_ECS6: 2001:db8:a8::/45 (a prefix ending inside an octet); OPT_ECS0:
 * IPv4 /0, no address octets */
enum opt_kind {
	OPT_NONE,
	OPT_PLAIN,
	OPT_COOKIE,
	OPT_NSID,
	OPT_ECS,
	OPT_VERSION1,
	OPT_ECS6,
	OPT_ECS0,
	OPT_KEEPALIVE
};

/* How a test query is made. */
struct variant {
	bool rd;
	bool mixed_case;
	enum opt_kind opt;
	uint16_t payload;
	bool do_bit;
	enum query_transport transport;
};

static const struct variant variants[] = {
    {.transport = QUERY_UDP},
    {.rd = true, .mixed_case = true, .transport = QUERY_UDP},
    {.opt = OPT_PLAIN, .payload = 512, .transport = QUERY_UDP},
    {.opt = OPT_PLAIN, .payload = 1232, .do_bit = true, .mixed_case = true, .transport = QUERY_UDP},
    {.opt = OPT_PLAIN, .payload = 100, .transport = QUERY_UDP},
    {.opt = OPT_COOKIE, .payload = 4096, .rd = true, .transport = QUERY_UDP},
    {.opt = OPT_NSID, .payload = 1232, .transport = QUERY_UDP},
    {.opt = OPT_ECS, .payload = 1232, .transport = QUERY_UDP},
    {.opt = OPT_VERSION1, .payload = 1232, .transport = QUERY_UDP},
    {.opt = OPT_ECS6, .payload = 512, .do_bit = true, .mixed_case = true, .transport = QUERY_UDP},
    {.opt = OPT_ECS0, .payload = 1232, .transport = QUERY_UDP},
    {.transport = QUERY_TCP},
    {.opt = OPT_PLAIN, .payload = 1232, .mixed_case = true, .transport = QUERY_TCP},
    {.opt = OPT_KEEPALIVE, .payload = 1232, .transport = QUERY_TCP},
    {.opt = OPT_KEEPALIVE, .payload = 1232, .transport = QUERY_UDP},
};
#define VARIANTS (sizeof(variants) / sizeof(variants[0]))

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes the query for the wire name (name_len octets) and qtype made as v says; returns its length. */
static size_t make_query(uint8_t *pkt, const uint8_t *name, size_t name_len, uint16_t qtype,
			 const struct variant *v)
{
	memset(pkt, 0, 12);
	put16(pkt, 0x5a5a);
	put16(pkt + 2, v->rd ? 0x0100 : 0);
	put16(pkt + 4, 1);
	memcpy(pkt + 12, name, name_len);
	if (v->mixed_case)
		for (size_t i = 0; i < name_len; i += 2)
			if (pkt[12 + i] >= 'a' && pkt[12 + i] <= 'z')
				pkt[12 + i] = (uint8_t)(pkt[12 + i] - 32);
	size_t len = 12 + name_len;
	put16(pkt + len, qtype);
	put16(pkt + len + 2, 1);
	len += 4;
	if (v->opt == OPT_NONE)
		return len;
	pkt[11] = 1;
	uint8_t *o = pkt + len;
	o[0] = 0;
	put16(o + 1, 41);
	put16(o + 3, v->payload);
	o[5] = 0;
	o[6] = v->opt == OPT_VERSION1 ? 1 : 0;
	o[7] = v->do_bit ? 0x80 : 0;
	o[8] = 0;
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t nsid[] = {0, 3, 0, 0};
	static const uint8_t ecs[] = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100};
	static const uint8_t ecs6[] = {0, 8, 0, 10, 0, 2, 45, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xa8};
	static const uint8_t ecs0[] = {0, 8, 0, 4, 0, 1, 0, 0};
	static const uint8_t keepalive[] = {0, 11, 0, 0};
	const uint8_t *data = v->opt == OPT_COOKIE	? cookie
			      : v->opt == OPT_NSID	? nsid
			      : v->opt == OPT_ECS	? ecs
			      : v->opt == OPT_ECS6	? ecs6
			      : v->opt == OPT_ECS0	? ecs0
			      : v->opt == OPT_KEEPALIVE ? keepalive
							: NULL;
	size_t data_len = v->opt == OPT_COOKIE	    ? sizeof(cookie)
			  : v->opt == OPT_NSID	    ? sizeof(nsid)
			  : v->opt == OPT_ECS	    ? sizeof(ecs)
			  : v->opt == OPT_ECS6	    ? sizeof(ecs6)
			  : v->opt == OPT_ECS0	    ? sizeof(ecs0)
			  : v->opt == OPT_KEEPALIVE ? sizeof(keepalive)
						    : 0;
	put16(o + 9, (unsigned)data_len);
	if (data_len)
		memcpy(o + 11, data, data_len);
	return len + 11 + data_len;
}

/* The wire form of a presentation name (static buffer). */
static const uint8_t *wire_of(const char *text, size_t *len)
{
	static uint8_t buf[256];
	ldns_rdf *rdf = ldns_dname_new_frm_str(text);
	ck_assert_ptr_nonnull(rdf);
	*len = ldns_rdf_size(rdf);
	memcpy(buf, ldns_rdf_data(rdf), *len);
	ldns_rdf_deep_free(rdf);
	return buf;
}

/* ---- answering both ways ---- */

static uint8_t out_general[WIRE_MSG_MAX], out_table[WIRE_MSG_MAX];
static size_t table_answers; /* queries the table answered, over a test */
/* Who asks (NULL: no source address) and the query count both paths start from: it seeds the
 * per-query choice of dynamic values (rotation, weighted draws). */
static const struct sockaddr_storage *asker;
static uint64_t queries_before;

/* The dynamic answers s's region counts gained since *seen (region_counts.h), region by region
 * packed into one number (a decimal digit each: a query adds at most one, so a packed value with
 * more than one digit set, or a digit above 1, is wrong); *seen moves on. No assertion here: Check
 * reports every passing one to its parent process, which would slow this test to a crawl. */
static uint64_t regions_counted(const struct snapshot *s, uint64_t *seen)
{
	uint64_t packed = 0;
	for (unsigned r = 0; s->region_counts && r < s->region_counts->regions; r++) {
		uint64_t n = region_counts_sum(s->region_counts, r);
		packed = packed * 10 + (n - seen[r]);
		seen[r] = n;
	}
	return packed;
}

/* Whether a packed count (regions_counted) is one answer for one region, or none. */
static bool one_or_none(uint64_t packed)
{
	while (packed && packed % 10 == 0)
		packed /= 10;
	return packed <= 1;
}

static void regions_seen(const struct snapshot *s, uint64_t *seen)
{
	for (unsigned r = 0; s->region_counts && r < s->region_counts->regions; r++)
		seen[r] = region_counts_sum(s->region_counts, r);
}

/* Answers pkt from asker with s's table and without it; both must give the same bytes and the same
 * counters, region counts included (the stats carry thread slot 1). Returns whether the table
 * answered. */
static bool answer_both(struct snapshot *s, const uint8_t *pkt, size_t len, enum query_transport t,
			const char *what)
{
	struct wire_query scratch;
	uint64_t seen[16];
	regions_seen(s, seen);
	struct query_stats general = {.queries = queries_before, .thread_slot = 1},
			   table = {.queries = queries_before, .thread_slot = 1};
	const struct prepared *p = s->prepared;
	s->prepared = NULL;
	size_t n_general =
	    query_answer(s, pkt, len, asker, out_general, sizeof(out_general), t, &scratch, &general);
	uint64_t regions_general = regions_counted(s, seen);
	s->prepared = p;
	size_t n_table = query_answer(s, pkt, len, asker, out_table, sizeof(out_table), t, &scratch, &table);
	uint64_t regions_table = regions_counted(s, seen);
	ck_assert_msg(n_general == n_table, "%s: %zu octets from the general path, %zu with the table", what,
		      n_general, n_table);
	ck_assert_msg(memcmp(out_general, out_table, n_general) == 0, "%s: the answers differ", what);
	ck_assert_msg(memcmp(&general, &table, sizeof(general)) == 0, "%s: the counters differ", what);
	/* read ahead, as the UDP thread answers a batch */
	struct query_stats ahead = {.queries = queries_before, .thread_slot = 1};
	struct prepared_query read;
	query_read(s, pkt, len, &read);
	query_prefetch(s, &read);
	size_t n_ahead =
	    query_answer_read(s, &read, pkt, len, asker, out_table, sizeof(out_table), t, &scratch, &ahead);
	ck_assert_msg(n_ahead == n_general && memcmp(out_general, out_table, n_general) == 0,
		      "%s: the answer read ahead differs", what);
	ck_assert_msg(memcmp(&general, &ahead, sizeof(general)) == 0, "%s: the counters read ahead differ",
		      what);
	uint64_t regions_ahead = regions_counted(s, seen);
	struct query_stats direct = {.queries = queries_before, .thread_slot = 1};
	bool answered =
	    p && prepared_answer(s, pkt, len, asker, out_table, sizeof(out_table), t, &direct) > 0;
	uint64_t regions_direct = answered ? regions_counted(s, seen) : regions_general;
	ck_assert_msg(one_or_none(regions_general) && regions_table == regions_general &&
			  regions_ahead == regions_general && regions_direct == regions_general,
		      "%s: region counts (one digit per region) %llu general path, %llu with the table, %llu "
		      "read ahead, %llu the table's own",
		      what, (unsigned long long)regions_general, (unsigned long long)regions_table,
		      (unsigned long long)regions_ahead, (unsigned long long)regions_direct);
	if (answered) {
		ck_assert_msg(memcmp(out_general, out_table, n_general) == 0,
			      "%s: the table's own answer differs", what);
		table_answers++;
	}
	return answered;
}

static const uint16_t qtypes[] = {1, 28, 2, 15, 16, 6, 5, 43, 39, 255, 33, 65, 46, 99};
#define QTYPES (sizeof(qtypes) / sizeof(qtypes[0]))

/* Every name of every zone of s, and extra names, asked every type in every variant. */
static void compare_everything(struct snapshot *s, const char *const *extra, size_t extra_count)
{
	uint8_t pkt[600];
	char what[512];
	for (size_t z = 0; z < s->zones->count; z++) {
		const struct zone *zone = s->zones->zones[z];
		for (uint32_t b = 0; b <= zone->table_mask; b++)
			for (const struct zone_node *node = zone->table[b]; node; node = node->hash_next)
				for (size_t t = 0; t < QTYPES; t++)
					for (size_t v = 0; v < VARIANTS; v++) {
						size_t len = make_query(pkt, node->name, node->name_len,
									qtypes[t], &variants[v]);
						char name[300];
						wire_name_to_text(node->name, node->name_len, name,
								  sizeof(name));
						snprintf(what, sizeof(what), "%s type %u variant %zu", name,
							 qtypes[t], v);
						answer_both(s, pkt, len, variants[v].transport, what);
					}
	}
	for (size_t i = 0; i < extra_count; i++) {
		size_t name_len;
		const uint8_t *name = wire_of(extra[i], &name_len);
		for (size_t t = 0; t < QTYPES; t++)
			for (size_t v = 0; v < VARIANTS; v++) {
				size_t len = make_query(pkt, name, name_len, qtypes[t], &variants[v]);
				snprintf(what, sizeof(what), "%s type %u variant %zu", extra[i], qtypes[t],
					 v);
				answer_both(s, pkt, len, variants[v].transport, what);
			}
	}
}

/* ---- the query fixture (tests/unit/data/query: CNAME chains and loops, DNAME, delegations, a
 * child zone beside its parent, a wildcard, an RRset over 512 octets) ---- */

static struct snapshot *snap;

static void setup(void)
{
	snap = unit_query_fixture();
	snapshot_set_prepared(snap, prepared_build(snap, 1000000));
	table_answers = 0;
	cookie_now_fix(1559731985); /* both paths answer at one moment: the same server cookies */
}

static void teardown(void)
{
	snapshot_free(snap);
}

START_TEST(table_answers_equal_the_general_path)
{
	/* Names that are not nodes: NXDOMAIN (some sharing the label above the apex with the SOA's
	 * MNAME or RNAME), answers from a wildcard, a DNAME, a delegation, other zones, no zone. */
	static const char *const elsewhere[] = {
	    "nothere.example.com.",	   "NotHere.Example.COM.",     "deep.nothere.example.com.",
	    "x.ns1.example.com.",	   "hostmaster.example.com.",  "a.hostmaster.example.com.",
	    "x.y.ent.example.com.",	   "nope.sub.example.com.",    "x.ns.sub.example.com.",
	    "hostmaster.sub.example.com.", "x.wild.example.com.",      "a.b.old.example.com.",
	    "host.deleg.example.com.",	   "www.example.net.",	       "ent.example.com.x.",
	    "A.B.Deleg.example.COM.",	   "x.ns1.deleg.example.com.", "ns9.deleg.example.com."};
	compare_everything(snap, elsewhere, sizeof(elsewhere) / sizeof(elsewhere[0]));
	/* the table did answer most of it: every plain question about the names, in every case */
	ck_assert_uint_gt(table_answers, 500);
	ck_assert_uint_gt(prepared_count(snap->prepared), 40);
	ck_assert(!prepared_capped(snap->prepared));
}
END_TEST

/* Asks name/qtype as variant v; returns whether the table answered (the answers are compared too). */
static bool from_table(const char *name, uint16_t qtype, const struct variant *v)
{
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *wire = wire_of(name, &name_len);
	size_t len = make_query(pkt, wire, name_len, qtype, v);
	return answer_both(snap, pkt, len, v->transport, name);
}

START_TEST(table_answers_plain_queries)
{
	const struct variant plain = {.transport = QUERY_UDP}, edns = {.opt = OPT_PLAIN, .payload = 1232};
	ck_assert(from_table("www.example.com.", 1, &plain));
	ck_assert(from_table("WWW.Example.COM.", 28, &edns));
	ck_assert(from_table("alias.example.com.", 1, &plain));	  /* a CNAME chased in the zone */
	ck_assert(from_table("ns1.example.com.", 28, &plain));	  /* NODATA */
	ck_assert(from_table("www.example.com.", 15, &plain));	  /* NODATA: the zone's negative answer */
	ck_assert(from_table("nothere.example.com.", 1, &plain)); /* NXDOMAIN: likewise */
	ck_assert(from_table("Deep.NotHere.example.COM.", 28, &edns));
	ck_assert(from_table("x.y.ent.example.com.", 1, &plain));
	ck_assert(from_table("nope.sub.example.com.", 1, &plain)); /* the child zone's own SOA */
	ck_assert(from_table("x.wild.example.com.", 1, &plain));   /* the wildcard's answer */
	ck_assert(from_table("A.b.Wild.example.com.", 1, &edns));
	ck_assert(from_table("x.wild.example.com.", 28, &plain));    /* NODATA through the wildcard */
	ck_assert(from_table("host.deleg.example.com.", 1, &plain)); /* the cut's referral, moved */
	ck_assert(from_table("A.B.Deleg.example.COM.", 15, &edns));
	ck_assert(from_table("deleg.example.com.", 1, &plain));	      /* a referral with glue */
	ck_assert(from_table("sub.example.com.", 43, &plain));	      /* DS: the parent's answer */
	ck_assert(from_table("sub.example.com.", 6, &plain));	      /* SOA: the child's */
	ck_assert(from_table("dangling.example.com.", 1, &plain));    /* NXDOMAIN at the end of a chain */
	ck_assert(from_table("big.example.com.", 16, &variants[11])); /* over TCP */
	/* a client subnet: a table answer is the same for every client, the option echoed with scope 0 */
	ck_assert(from_table("www.example.com.", 1, &variants[7]));
	ck_assert(from_table("nothere.example.com.", 1, &variants[9]));
	ck_assert(from_table("host.deleg.example.com.", 1, &variants[10]));
	/* with ecs = false the option is ignored: no echo, by either path */
	struct conf *c = snap->conf;
	c->ecs = false;
	ck_assert(from_table("www.example.com.", 1, &variants[7]));
	ck_assert(from_table("www.example.com.", 28, &variants[9]));
	c->ecs = true;
}
END_TEST

/* One octet of a query changed, and what that makes of it. */
struct octet_change {
	size_t at;
	uint8_t value;
	const char *what;
};

/* Each change applied alone to the query in pkt (len octets) must leave it to the general path. */
static void expect_declined(const uint8_t *pkt, size_t len, const struct octet_change *changes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t copy[600];
		memcpy(copy, pkt, len);
		copy[changes[i].at] = changes[i].value;
		ck_assert_msg(!answer_both(snap, copy, len, QUERY_UDP, changes[i].what),
			      "%s: answered from the table", changes[i].what);
	}
}

START_TEST(table_declines_what_it_must)
{
	const struct variant plain = {.transport = QUERY_UDP};
	ck_assert(
	    !from_table("big.example.com.", 16, &plain)); /* over 512 octets: truncated by the general path */
	ck_assert(!from_table("www.example.com.", 255, &plain));     /* ANY depends on the transport */
	ck_assert(!from_table("www.example.com.", 1, &variants[6])); /* NSID */
	ck_assert(!from_table("www.example.com.", 1, &variants[8])); /* EDNS version 1: BADVERS */
	/* NXDOMAIN whose label above the apex is the SOA MNAME's (ns1) or RNAME's (hostmaster): the
	 * general path compresses the SOA against more of the question. */
	ck_assert(!from_table("x.ns1.example.com.", 1, &plain));
	ck_assert(!from_table("hostmaster.example.com.", 1, &plain));
	/* below a cut, under its NS target's name: the general path compresses the target against it */
	ck_assert(!from_table("x.ns1.deleg.example.com.", 1, &plain));
	ck_assert(!from_table("nothere.example.com.", 43, &plain)); /* DS: a parent zone may answer */

	/* Header and question shapes the table leaves to the general path. */
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *wire = wire_of("www.example.com.", &name_len);
	size_t len = make_query(pkt, wire, name_len, 1, &plain);
	const struct octet_change changes[] = {
	    {2, 0x80, "QR set"},      {2, 0x28, "opcode UPDATE"}, {5, 2, "two questions"},
	    {7, 1, "an answer RR"},   {9, 1, "an authority RR"},  {11, 2, "two additional RRs"},
	    {len - 1, 3, "class CH"},
	};
	expect_declined(pkt, len, changes, sizeof(changes) / sizeof(changes[0]));
	/* a question name cut short, and one that is a compression pointer */
	ck_assert(!answer_both(snap, pkt, 12 + 5, QUERY_UDP, "cut short"));
	uint8_t pointer[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
	ck_assert(!answer_both(snap, pointer, sizeof(pointer), QUERY_UDP, "pointer"));
	/* an OPT record cut short, and one whose option overruns it */
	uint8_t opt[600];
	size_t opt_len = make_query(opt, wire, name_len, 1, &variants[5]);
	ck_assert(!answer_both(snap, opt, opt_len - 3, QUERY_UDP, "OPT cut short"));
	opt[opt_len - 12 + 3] = 40;
	ck_assert(!answer_both(snap, opt, opt_len, QUERY_UDP, "option overruns"));
	/* edns-tcp-keepalive: over TCP the answer carries the idle timeout, so neither transport's is
	 * the table's */
	opt_len = make_query(opt, wire, name_len, 1, &variants[13]);
	ck_assert(!answer_both(snap, opt, opt_len, QUERY_TCP, "keepalive over TCP"));
	ck_assert(!answer_both(snap, opt, opt_len, QUERY_UDP, "keepalive over UDP"));
}
END_TEST

/* A client subnet option the general path refuses (FORMERR) is its to answer. */
START_TEST(table_declines_malformed_client_subnets)
{
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *name = wire_of("www.example.com.", &name_len);
	size_t len = make_query(pkt, name, name_len, 1, &variants[7]);
	size_t opt = len - 11; /* the option: code, length, family, source, scope, 3 octets */
	ck_assert(answer_both(snap, pkt, len, QUERY_UDP, "client subnet 198.51.100.0/24"));
	const struct octet_change bad[] = {
	    {opt + 5, 3, "client subnet family 3"},
	    {opt + 6, 33, "client subnet source /33 of IPv4"},
	    {opt + 6, 21, "client subnet address bits beyond /21"},
	    {opt + 6, 16, "client subnet /16 with three address octets"},
	    {opt + 7, 8, "client subnet scope set in the query"},
	};
	expect_declined(pkt, len, bad, sizeof(bad) / sizeof(bad[0]));
	uint8_t two[600];
	memcpy(two, pkt, len);
	memcpy(two + len, pkt + opt, 11);
	two[opt - 1] = 22; /* OPT rdlength: both options */
	ck_assert(!answer_both(snap, two, len + 11, QUERY_UDP, "two client subnet options"));
}
END_TEST

/* A batch read ahead as a whole (each query read, then each prefetched, then each answered) gets
 * the answers each query gets on its own: nothing read for one query leaks into another. */
START_TEST(batch_read_ahead_answers_each_query)
{
	static const char *const names[] = {
	    "www.example.com.",	       "alias.example.com.", "nothere.example.com.", "x.wild.example.com.",
	    "host.deleg.example.com.", "ns1.example.com.",   "WWW.EXAMPLE.COM.",     "www.example.net."};
	enum { N = sizeof(names) / sizeof(names[0]) };
	static const uint16_t types[N] = {1, 28, 1, 16, 1, 28, 15, 1};
	const struct variant v = {.opt = OPT_PLAIN, .payload = 1232};
	static uint8_t pkts[N][600], expect[N][WIRE_MSG_MAX];
	size_t lens[N], expect_len[N];
	struct wire_query scratch;
	struct query_stats one = {0}, batch = {0};
	static struct prepared_query read[N];
	for (size_t i = 0; i < N; i++) {
		size_t name_len;
		const uint8_t *wire = wire_of(names[i], &name_len);
		lens[i] = make_query(pkts[i], wire, name_len, types[i], &v);
		expect_len[i] = query_answer(snap, pkts[i], lens[i], NULL, expect[i], WIRE_MSG_MAX, QUERY_UDP,
					     &scratch, &one);
		ck_assert_uint_gt(expect_len[i], 0);
	}
	for (size_t i = 0; i < N; i++)
		query_read(snap, pkts[i], lens[i], &read[i]);
	for (size_t i = 0; i < N; i++)
		query_prefetch(snap, &read[i]);
	for (size_t i = 0; i < N; i++) {
		size_t n = query_answer_read(snap, &read[i], pkts[i], lens[i], NULL, out_table,
					     sizeof(out_table), QUERY_UDP, &scratch, &batch);
		ck_assert_msg(n == expect_len[i] && memcmp(out_table, expect[i], n) == 0,
			      "%s: batch answer differs", names[i]);
	}
	ck_assert(memcmp(&one, &batch, sizeof(one)) == 0);
	/* the table itself answers the first six from what was read (www.example.net is in no zone) */
	struct query_stats direct = {0};
	for (size_t i = 0; i < 6; i++)
		ck_assert_msg(prepared_answer_read(snap, &read[i], pkts[i], NULL, out_table,
						   sizeof(out_table), QUERY_UDP, &direct) == expect_len[i],
			      "%s: the table did not answer what was read", names[i]);
}
END_TEST

/* Asks name/qtype made as v says from peer over t, into stats; returns the answer's length. */
static size_t ask_from(const char *name, uint16_t qtype, const struct variant *v,
		       const struct sockaddr_storage *peer, enum query_transport t, struct query_stats *stats)
{
	uint8_t pkt[600];
	struct wire_query scratch;
	size_t name_len;
	const uint8_t *wire = wire_of(name, &name_len);
	size_t len = make_query(pkt, wire, name_len, qtype, v);
	return query_answer(snap, pkt, len, peer, out_table, sizeof(out_table), t, &scratch, stats);
}

START_TEST(queries_count_once_by_transport_and_type)
{
	const struct variant plain = {.transport = QUERY_UDP}, small = {.opt = OPT_PLAIN, .payload = 512};
	const struct sockaddr_storage v4 = unit_address("192.0.2.1"), v6 = unit_address("2001:db8::1"),
				      mapped = unit_address("::ffff:192.0.2.1");
	struct query_stats st = {0};
	/* a table answer, and one the table declines (too big for 512 octets: the general path
	 * truncates it): each counted once */
	ck_assert_uint_gt(ask_from("www.example.com.", 1, &plain, &v4, QUERY_UDP, &st), 0);
	ck_assert_uint_gt(ask_from("big.example.com.", 16, &small, &v4, QUERY_UDP, &st), 0);
	ck_assert_uint_eq(st.truncated, 1);
	/* TCP from IPv6, and from an IPv4-mapped IPv6 address (an IPv4 client) */
	ck_assert_uint_gt(ask_from("www.example.com.", 28, &plain, &v6, QUERY_TCP, &st), 0);
	ck_assert_uint_gt(ask_from("www.example.com.", 257, &plain, &mapped, QUERY_TCP, &st), 0);
	/* a type above CAA, and no source address (not counted by transport) */
	ck_assert_uint_gt(ask_from("www.example.com.", 65280, &plain, NULL, QUERY_UDP, &st), 0);
	/* not a plain query (class CH): the general path counts its type */
	uint8_t pkt[600];
	struct wire_query scratch;
	size_t name_len;
	const uint8_t *wire = wire_of("version.bind.", &name_len);
	size_t len = make_query(pkt, wire, name_len, 16, &plain);
	pkt[len - 1] = 3;
	ck_assert_uint_gt(
	    query_answer(snap, pkt, len, &v6, out_table, sizeof(out_table), QUERY_UDP, &scratch, &st), 0);
	/* two questions: FORMERR, a query without a type */
	pkt[5] = 2;
	ck_assert_uint_gt(
	    query_answer(snap, pkt, len, &v6, out_table, sizeof(out_table), QUERY_UDP, &scratch, &st), 0);
	ck_assert_uint_eq(st.rcode[1], 1);

	ck_assert_uint_eq(st.queries, 7);
	ck_assert_uint_eq(st.transports[QUERY_UDP4], 2);
	ck_assert_uint_eq(st.transports[QUERY_UDP6], 2);
	ck_assert_uint_eq(st.transports[QUERY_TCP4], 1);
	ck_assert_uint_eq(st.transports[QUERY_TCP6], 1);
	uint64_t typed = 0;
	for (unsigned t = 0; t <= QUERY_QTYPE_OTHER; t++)
		typed += st.qtypes[t];
	ck_assert_uint_eq(typed, 6);
	ck_assert_uint_eq(st.qtypes[1], 1);
	ck_assert_uint_eq(st.qtypes[16], 2);
	ck_assert_uint_eq(st.qtypes[28], 1);
	ck_assert_uint_eq(st.qtypes[257], 1);
	ck_assert_uint_eq(st.qtypes[QUERY_QTYPE_OTHER], 1);
	char buf[16];
	ck_assert_str_eq(query_qtype_name(257, buf, sizeof(buf)), "CAA");
	ck_assert_str_eq(query_qtype_name(65, buf, sizeof(buf)), "HTTPS");
	ck_assert_str_eq(query_qtype_name(QUERY_QTYPE_OTHER, buf, sizeof(buf)), "other");
	ck_assert_str_eq(query_qtype_name(0, buf, sizeof(buf)), "TYPE0");
}
END_TEST

START_TEST(cap_stops_preparing)
{
	struct prepared *p = prepared_build(snap, 5);
	ck_assert_uint_eq(prepared_count(p), 5);
	ck_assert(prepared_capped(p));
	ck_assert_uint_gt(prepared_bytes(p), 0);
	prepared_free(p);
	ck_assert_ptr_null(prepared_build(snap, 0));
}
END_TEST

/* ---- dynamic records: answered per query from the table when they alone are the answer; the
 * chains that reach them are never prepared ---- */

START_TEST(chains_to_dynamic_data_are_never_prepared)
{
	unit_write_file("dyn.zone",
			"$ORIGIN example.com.\n$TTL 300\n"
			"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n"
			"www A 192.0.2.1\nto-api CNAME api\nto-www CNAME www\n"
			"*.w A 192.0.2.7\n*.w MX 10 mail.example.com.\n");
	struct snapshot *s = unit_load_snapshot(
	    "dyn.conf",
	    "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
	    "zones = { { name = \"example.com\", file = \"dyn.zone\" } }\n"
	    "datacenters = { ams = {} }\n"
	    "pools = { web = { members = { { name = \"a\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
	    "  { name = \"b\", addr = \"192.0.2.11\", dc = \"ams\" } } } }\n"
	    "records = { { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = 20,"
	    " policy = \"all\", answers = 1 } }\n");
	snapshot_set_prepared(s, prepared_build(s, 1000000));

	struct snapshot *saved = snap;
	snap = s;
	const struct variant plain = {.transport = QUERY_UDP};
	ck_assert(from_table("api.example.com.", 1, &plain));	    /* the dynamic record, picked per query */
	ck_assert(from_table("api.example.com.", 1, &variants[7])); /* ... asked with a client subnet */
	ck_assert(!from_table("to-api.example.com.", 1, &plain));   /* a chain to it */
	ck_assert(from_table("api.example.com.", 28, &plain)); /* NODATA beside it reads no dynamic data */
	ck_assert(from_table("to-www.example.com.", 1, &plain));
	ck_assert(from_table("x.w.example.com.", 1, &plain));
	/* a name in the rdata is compressed against the question: the wildcard's answer differs per name */
	ck_assert(!from_table("x.w.example.com.", 15, &plain));
	static const char *const synthesized[] = {"x.w.example.com.", "Mail.W.example.com.",
						  "a.b.w.example.com."};
	compare_everything(s, synthesized, sizeof(synthesized) / sizeof(synthesized[0]));
	snap = saved;
	snapshot_free(s);
}
END_TEST

/* A deployment with regions from nets (one of which splits another's /24), and a dynamic record for
 * each way of picking values: failover (all of a datacenter, rotating), nearest (the first N),
 * weighted, all with a cap, a Lua policy picking by client hash (its scope widens to /24 or /56), A
 * and AAAA at one name, 50 values that fit only over TCP, and a dynamic CNAME. */
static struct snapshot *geo_deployment(void)
{
	unit_write_file("geo.zone",
			"$ORIGIN example.com.\n$TTL 300\n"
			"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n"
			"www A 192.0.2.1\nto-fo CNAME fo\nfo TXT \"beside\"\n");
	unit_write_file("hash.lua", "return function(ctx) return { members = meridian.up(ctx.members),"
				    " select = \"hash\", answers = 2 } end\n");
	struct snapshot *s = unit_load_snapshot(
	    "geo.conf",
	    "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
	    "zones = { { name = \"example.com\", file = \"geo.zone\" } }\n"
	    "regions = {\n"
	    "  europe = { nets = { \"192.0.2.0/24\", \"2001:db8:e::/48\" }, lat = 50, lon = 8 },\n"
	    "  asia = { nets = { \"198.51.100.0/24\", \"2001:db8:a::/48\" }, lat = 10, lon = 105 },\n"
	    "  office = { nets = { \"198.51.100.128/26\", \"::ffff:203.0.113.0/120\" },\n"
	    "    lat = 40, lon = -75 },\n"
	    "  americas = { nets = { \"10.0.0.0/8\" }, lat = 40, lon = -100 },\n"
	    "}\ndefault_region = \"americas\"\n"
	    "datacenters = { ams = { lat = 52.37, lon = 4.90 }, iad = { lat = 38.95, lon = -77.45 },\n"
	    "  sin = { lat = 1.35, lon = 103.99 } }\n"
	    "pools = {\n"
	    "  web = { members = {\n"
	    "    { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
	    "    { name = \"ams-2\", addr = \"192.0.2.11\", dc = \"ams\" },\n"
	    "    { name = \"iad-1\", addr = \"198.51.100.10\", dc = \"iad\", weight = 3 },\n"
	    "    { name = \"iad-2\", addr = \"198.51.100.11\", dc = \"iad\" },\n"
	    "    { name = \"sin-1\", addr = \"203.0.113.10\", dc = \"sin\", weight = 2 } } },\n"
	    "  web6 = { members = {\n"
	    "    { name = \"ams-1\", addr = \"2001:db8:1::10\", dc = \"ams\" },\n"
	    "    { name = \"iad-1\", addr = \"2001:db8:2::10\", dc = \"iad\" },\n"
	    "    { name = \"iad-2\", addr = \"2001:db8:2::11\", dc = \"iad\" } } },\n"
	    "  edge = { members = {\n"
	    "    { name = \"ams\", target = \"www.example.com\", dc = \"ams\" },\n"
	    "    { name = \"iad\", target = \"edge.example.net\", dc = \"iad\" },\n"
	    "    { name = \"sin\", target = \"cdn.edge.com\", dc = \"sin\" } } },\n"
	    "}\n"
	    "pools.many = { members = {} }\n"
	    "for i = 1, 50 do\n"
	    "  pools.many.members[i] = { name = \"m\" .. i, addr = \"2001:db8:3::\" .. i, dc = \"ams\" }\n"
	    "end\n"
	    "local order = { europe = { \"ams\", \"iad\" }, americas = { \"iad\", \"ams\" },\n"
	    "  asia = { \"sin\", \"ams\" }, office = { \"sin\", \"iad\" } }\n"
	    "local function record(name, type, pool, ttl, policy)\n"
	    "  return { name = name .. \".example.com\", type = type, pool = pool, ttl = ttl,\n"
	    "           policy = policy }\n"
	    "end\n"
	    "records = {\n"
	    "  record(\"fo\", \"A\", \"web\", 30, \"failover\"),\n"
	    "  record(\"fo\", \"AAAA\", \"web6\", 40, \"failover\"),\n"
	    "  record(\"near\", \"A\", \"web\", 50, \"nearest\"),\n"
	    "  record(\"wt\", \"A\", \"web\", 60, \"weighted\"),\n"
	    "  record(\"all\", \"A\", \"web\", 70, \"all\"),\n"
	    "  record(\"sticky\", \"A\", \"web\", 80, \"hash.lua\"),\n"
	    "  record(\"big\", \"AAAA\", \"many\", 99, \"all\"),\n"
	    "  record(\"cdn\", \"CNAME\", \"edge\", 90, \"failover\"),\n"
	    "}\n"
	    "records[1].order, records[2].order, records[8].order = order, order, order\n"
	    "records[3].answers, records[4].answers, records[5].answers = 2, 2, 3\n");
	snapshot_set_prepared(s, prepared_build(s, 1000000));
	return s;
}

/* Appends a client subnet option for net (text address, prefix) to the query in pkt (len octets,
 * with an OPT record last and no option yet); returns the new length. */
static size_t with_subnet(uint8_t *pkt, size_t len, const char *text, unsigned prefix)
{
	struct sockaddr_storage ss = unit_address(text);
	bool v4 = ss.ss_family == AF_INET;
	const uint8_t *addr = v4 ? (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr
				 : (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	size_t octets = (prefix + 7) / 8;
	uint8_t *o = pkt + len;
	put16(o, 8);
	put16(o + 2, (unsigned)(4 + octets));
	put16(o + 4, v4 ? 1 : 2);
	o[6] = (uint8_t)prefix;
	o[7] = 0;
	memcpy(o + 8, addr, octets);
	if (prefix & 7)
		o[8 + octets - 1] &= (uint8_t)(0xFF00u >> (prefix & 7));
	put16(pkt + len - 2, (unsigned)(8 + octets)); /* the OPT's rdlength */
	return len + 8 + octets;
}

static const char *const dynamic_names[] = {"fo.example.com.", "near.example.com.", "wt.example.com.",
					    "all.example.com.", "sticky.example.com."};
#define DYNAMIC_NAMES (sizeof(dynamic_names) / sizeof(dynamic_names[0]))

/* Source addresses: each region over IPv4 and IPv6, the office net that splits asia's /24, an
 * IPv4-mapped IPv6 source, an address in no net (the default region). */
static const char *const sources[] = {
    "192.0.2.7",     "198.51.100.5",	   "198.51.100.130",   "10.1.2.3",   "2001:db8:e::1",
    "2001:db8:a::9", "::ffff:203.0.113.4", "::ffff:192.0.2.9", "172.16.0.1", "2001:db8:ff::1"};
#define SOURCES (sizeof(sources) / sizeof(sources[0]))

/* Client subnets: inside one entry, spanning entries of different regions (the scope grows past
 * the source prefix), ending inside an octet, longer than the hash's /24 and /56 cut, IPv4-mapped
 * in an IPv6 option, /0 (the source address decides). */
static const struct {
	const char *addr;
	unsigned prefix;
} subnets[] = {{"192.0.2.0", 24},	    {"198.51.100.0", 24}, {"198.51.100.128", 25},
	       {"198.51.100.160", 27},	    {"10.9.0.0", 17},	  {"192.0.2.77", 32},
	       {"2001:db8:e::", 48},	    {"2001:db8:a::", 40}, {"2001:db8:a:1::", 64},
	       {"::ffff:203.0.113.0", 120}, {"0.0.0.0", 0},	  {"::", 0}};
#define SUBNETS (sizeof(subnets) / sizeof(subnets[0]))

static const uint64_t counts[] = {0, 1, 2, 7, 41, 1000003}; /* queries answered before */
#define COUNTS (sizeof(counts) / sizeof(counts[0]))

/* Asks name/type as kind from every source (and from none), with every client subnet (and none)
 * when kind has EDNS, after each of counts[] queries, both ways; returns how many the table
 * answered. */
static size_t ask_everywhere(struct snapshot *s, const char *name, uint16_t type, const struct variant *kind)
{
	uint8_t pkt[600];
	char what[512];
	size_t answered = 0;
	for (size_t src = 0; src <= SOURCES; src++)
		for (size_t e = kind->opt ? 0 : SUBNETS; e <= SUBNETS; e++)
			for (size_t c = 0; c < COUNTS; c++) {
				struct sockaddr_storage from;
				if (src < SOURCES)
					from = unit_address(sources[src]);
				asker = src < SOURCES ? &from : NULL;
				queries_before = counts[c];
				size_t name_len;
				const uint8_t *wire = wire_of(name, &name_len);
				size_t len = make_query(pkt, wire, name_len, type, kind);
				if (e < SUBNETS)
					len = with_subnet(pkt, len, subnets[e].addr, subnets[e].prefix);
				snprintf(
				    what, sizeof(what), "%s type %u from %s subnet %s/%u count %llu ecs %d",
				    name, type, src < SOURCES ? sources[src] : "-",
				    e < SUBNETS ? subnets[e].addr : "-", e < SUBNETS ? subnets[e].prefix : 0,
				    (unsigned long long)counts[c], s->conf->ecs);
				answered += answer_both(s, pkt, len, kind->transport, what);
			}
	asker = NULL;
	queries_before = 0;
	return answered;
}

/* What region name of s has counted (region_counts.h). */
static uint64_t region_answers(const struct snapshot *s, const char *name)
{
	for (unsigned r = 0; r < s->conf->geo.region_count; r++)
		if (strcmp(s->conf->geo.regions[r].name, name) == 0)
			return region_counts_sum(s->region_counts, r);
	ck_abort_msg("no region %s", name);
	return 0;
}

/* name/type asked as v from source by a server thread (slot 1); the answer's length.
 * (dynamic_answers_equal_the_general_path holds the paths to the same counts.) */
static size_t ask_counted(struct snapshot *s, const char *name, uint16_t type, const struct variant *v,
			  const char *source)
{
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *wire = wire_of(name, &name_len);
	struct sockaddr_storage from = unit_address(source);
	size_t len = make_query(pkt, wire, name_len, type, v);
	struct wire_query scratch;
	struct query_stats stats = {.thread_slot = 1};
	return query_answer(s, pkt, len, &from, out_general, sizeof(out_general), v->transport, &scratch,
			    &stats);
}

/* Dynamic answers are counted for the client's region, once per answer, by either path; NODATA
 * beside a dynamic record, a truncated answer and answers outside a server thread are not. */
START_TEST(region_counts_follow_the_answers)
{
	struct snapshot *s = geo_deployment();
	ck_assert_ptr_nonnull(s->region_counts);
	const struct variant udp = {.transport = QUERY_UDP}, tcp = {.transport = QUERY_TCP},
			     edns512 = {.opt = OPT_PLAIN, .payload = 512, .transport = QUERY_UDP};
	ck_assert_uint_gt(ask_counted(s, "fo.example.com.", 1, &udp, "192.0.2.7"), 0);
	ck_assert_uint_eq(region_answers(s, "europe"), 1);
	ask_counted(s, "fo.example.com.", 28, &udp, "198.51.100.130"); /* AAAA: dynamic too */
	ask_counted(s, "near.example.com.", 1, &tcp, "198.51.100.130");
	ck_assert_uint_eq(region_answers(s, "office"), 2);
	ask_counted(s, "near.example.com.", 28, &udp, "198.51.100.5"); /* NODATA */
	ask_counted(s, "www.example.com.", 1, &udp, "198.51.100.5");   /* static */
	ask_counted(s, "to-fo.example.com.", 1, &udp, "198.51.100.5"); /* a chain to fo */
	ck_assert_uint_eq(region_answers(s, "asia"), 1);
	ask_counted(s, "big.example.com.", 28, &edns512, "10.1.2.3"); /* truncated */
	ck_assert_uint_eq(region_answers(s, "americas"), 0);
	ask_counted(s, "big.example.com.", 28, &tcp, "10.1.2.3"); /* the retry over TCP */
	ck_assert_uint_eq(region_answers(s, "americas"), 1);
	/* outside a server thread (slot 0), or a slot beyond the table: nothing */
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *wire = wire_of("fo.example.com.", &name_len);
	size_t len = make_query(pkt, wire, name_len, 1, &udp);
	struct sockaddr_storage from = unit_address("192.0.2.7");
	struct wire_query scratch;
	struct query_stats none = {0}, beyond = {.thread_slot = s->region_counts->rows + 1};
	ck_assert_uint_gt(
	    query_answer(s, pkt, len, &from, out_general, sizeof(out_general), QUERY_UDP, &scratch, &none),
	    0);
	ck_assert_uint_gt(
	    query_answer(s, pkt, len, &from, out_general, sizeof(out_general), QUERY_UDP, &scratch, &beyond),
	    0);
	ck_assert_uint_eq(region_answers(s, "europe"), 1);
	snapshot_free(s);
}
END_TEST

START_TEST(dynamic_answers_equal_the_general_path)
{
	struct snapshot *s = geo_deployment();
	ck_assert_ptr_nonnull(s->dyn);
	struct snapshot *saved = snap;
	snap = s;
	static const uint16_t types[] = {1, 28, 16, 5, 15};
	const struct variant kinds[] = {
	    {.transport = QUERY_UDP},
	    {.rd = true, .mixed_case = true, .opt = OPT_PLAIN, .payload = 1232, .do_bit = true},
	    {.opt = OPT_PLAIN, .payload = 512, .transport = QUERY_TCP},
	};
	size_t dynamic_answers = 0, cname_answers = 0;
	for (int ecs_on = 1; ecs_on >= 0; ecs_on--) {
		s->conf->ecs = ecs_on;
		for (size_t n = 0; n <= DYNAMIC_NAMES; n++) {
			const char *name = n < DYNAMIC_NAMES ? dynamic_names[n] : "cdn.example.com.";
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
				for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
					size_t answered = ask_everywhere(s, name, types[t], &kinds[k]);
					/* the A questions, and fo's AAAA: dynamic answers */
					if (n < DYNAMIC_NAMES &&
					    (types[t] == 1 || (types[t] == 28 && n == 0)))
						dynamic_answers += answered;
					if (n == DYNAMIC_NAMES && types[t] == 5) /* cdn's CNAME */
						cname_answers += answered;
				}
		}
	}
	s->conf->ecs = true;
	/* every one of them came from the table */
	ck_assert_uint_eq(dynamic_answers, 2 /* ecs */ * (DYNAMIC_NAMES + 1) * (1 + 2 * (SUBNETS + 1)) *
					       (SOURCES + 1) * COUNTS);
	/* and every CNAME question about cdn, whichever the target */
	ck_assert_uint_eq(cname_answers, 2 * (1 + 2 * (SUBNETS + 1)) * (SOURCES + 1) * COUNTS);
	snap = saved;
	snapshot_free(s);
}
END_TEST

/* What a dynamic answer leaves to the general path, and what it answers: a chain's start, a dynamic
 * CNAME whose target the general path chases, values that do not fit (TC), and a client subnet
 * the general path refuses. */
START_TEST(dynamic_answers_decline_what_they_must)
{
	struct snapshot *s = geo_deployment();
	struct snapshot *saved = snap;
	snap = s;
	const struct variant plain = {.transport = QUERY_UDP}, edns = {.opt = OPT_PLAIN, .payload = 1232};
	ck_assert(from_table("fo.example.com.", 1, &plain));
	ck_assert(from_table("fo.example.com.", 16, &plain)); /* the static TXT beside it */
	ck_assert(!from_table("to-fo.example.com.", 1, &plain));
	ck_assert(!from_table("fo.example.com.", 255, &plain));
	/* A dynamic CNAME: europe's target (www.example.com) is in the zone, and asked for A the
	 * general path chases it; americas' (edge.example.net) and asia's (cdn.edge.com, sharing
	 * "com" with the question) are not: the CNAME is the answer. Asked for CNAME it always
	 * is. */
	struct sockaddr_storage europe = unit_address("192.0.2.7"), americas = unit_address("10.1.1.1"),
				asia = unit_address("198.51.100.5");
	asker = &europe;
	ck_assert(!from_table("cdn.example.com.", 1, &plain));
	ck_assert(!from_table("cdn.example.com.", 28, &edns));
	ck_assert(from_table("cdn.example.com.", 5, &plain));
	ck_assert(from_table("CDN.Example.COM.", 5, &edns));
	asker = &americas;
	ck_assert(from_table("cdn.example.com.", 1, &plain));
	ck_assert(from_table("cdn.example.com.", 28, &edns));
	asker = &asia;
	ck_assert(from_table("cdn.example.com.", 1, &plain));
	ck_assert(from_table("cDn.eXample.cOm.", 1, &edns));
	asker = NULL;
	ck_assert(!from_table("cdn.example.com.", 255, &plain));
	ck_assert(!from_table("big.example.com.", 28, &plain));	      /* 50 AAAA: over 512 octets */
	ck_assert(!from_table("big.example.com.", 28, &edns));	      /* and over 1232 */
	ck_assert(from_table("big.example.com.", 28, &variants[11])); /* over TCP they fit */
	uint8_t pkt[600];
	size_t name_len;
	const uint8_t *wire = wire_of("fo.example.com.", &name_len);
	size_t len = with_subnet(pkt, make_query(pkt, wire, name_len, 1, &edns), "192.0.2.0", 23);
	ck_assert(answer_both(s, pkt, len, QUERY_UDP, "fo with a client subnet"));
	pkt[len - 1] |= 1; /* an address bit beyond the /23: FORMERR from the general path */
	ck_assert(!answer_both(s, pkt, len, QUERY_UDP, "fo with a malformed client subnet"));
	snap = saved;
	snapshot_free(s);
}
END_TEST

static Suite *prepared_suite(void)
{
	Suite *s = suite_create("prepared");
	TCase *tc = tcase_create("prepared");
	/* dynamic_answers_equal_the_general_path compares some 100,000 answers four ways: over Check's
	 * 4 s under AddressSanitizer on a busy machine */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, table_answers_equal_the_general_path);
	tcase_add_test(tc, table_answers_plain_queries);
	tcase_add_test(tc, table_declines_what_it_must);
	tcase_add_test(tc, table_declines_malformed_client_subnets);
	tcase_add_test(tc, batch_read_ahead_answers_each_query);
	tcase_add_test(tc, queries_count_once_by_transport_and_type);
	tcase_add_test(tc, cap_stops_preparing);
	tcase_add_test(tc, chains_to_dynamic_data_are_never_prepared);
	tcase_add_test(tc, dynamic_answers_equal_the_general_path);
	tcase_add_test(tc, region_counts_follow_the_answers);
	tcase_add_test(tc, dynamic_answers_decline_what_they_must);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(prepared_suite(), "prepared");
}
