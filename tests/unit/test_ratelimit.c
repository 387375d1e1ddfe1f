/* test_ratelimit.c -- unit tests of the per-client rate limit (ratelimit.h): bursts and the steady
 * rate on a clock the test sets, slip, client networks and exempt nets, the slots a flood of other
 * networks leaves a limited one, the clock's wrap, threads sharing the table, the truncated reply,
 * and the rate_limit table of a config. */
#include <check.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <string.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/ratelimit.h"
#include "support.h"

#define SECOND 1000000u

static struct ratelimit_spec spec(unsigned rate, unsigned burst, unsigned slip)
{
	return (struct ratelimit_spec){.rate = rate,
				       .burst = burst,
				       .slip = slip,
				       .ipv4_prefix = 24,
				       .ipv6_prefix = 56,
				       .table_size = 1024};
}

/* How many of n responses to client at now pass. */
static unsigned passes(struct ratelimit *t, const struct ratelimit_spec *s, const char *client, uint64_t now,
		       unsigned n)
{
	struct sockaddr_storage peer = unit_address(client);
	unsigned slip = 0, ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += ratelimit_check(t, s, &peer, now, &slip) == RATELIMIT_PASS;
	return ok;
}

START_TEST(burst_then_rate)
{
	struct ratelimit *t = ratelimit_new(1024);
	ck_assert_ptr_nonnull(t);
	struct ratelimit_spec s = spec(10, 5, 2);
	uint64_t t0 = 1000 * (uint64_t)SECOND;
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", t0, 20), 5); /* the burst, then nothing */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", t0 + SECOND / 20, 5), 0);
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", t0 + SECOND / 10, 5), 1); /* 1/rate later: one more */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", t0 + SECOND / 2, 10), 4);
	/* the steady rate: 10 per second, one every 100 ms */
	unsigned got = 0;
	for (unsigned ms = 510; ms < 3510; ms += 10)
		got += passes(t, &s, "192.0.2.1", t0 + ms * 1000u, 3);
	ck_assert_uint_eq(got, 30);
	/* idle for long: the whole burst again, and no more */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", t0 + 60 * (uint64_t)SECOND, 20), 5);
	/* a burst of 1: one at a time */
	struct ratelimit_spec one = spec(100, 1, 0);
	ck_assert_uint_eq(passes(t, &one, "198.51.100.1", t0, 3), 1);
	ck_assert_uint_eq(passes(t, &one, "198.51.100.1", t0 + SECOND / 100, 3), 1);
	ratelimit_free(t);
}
END_TEST

START_TEST(slip)
{
	struct ratelimit *t = ratelimit_new(1024);
	struct sockaddr_storage peer = unit_address("192.0.2.1");
	uint64_t now = 5 * (uint64_t)SECOND;
	static const unsigned slips[] = {0, 1, 2, 3};
	for (size_t k = 0; k < sizeof(slips) / sizeof(slips[0]); k++) {
		struct ratelimit_spec s = spec(1, 1, slips[k]);
		unsigned count = 0, dropped = 0, truncated = 0;
		now += 10 * (uint64_t)SECOND;
		ck_assert_int_eq(ratelimit_check(t, &s, &peer, now, &count), RATELIMIT_PASS);
		for (unsigned i = 1; i <= 12; i++) {
			enum ratelimit_verdict v = ratelimit_check(t, &s, &peer, now, &count);
			ck_assert_int_ne(v, RATELIMIT_PASS);
			if (v == RATELIMIT_TRUNCATE) {
				truncated++;
				ck_assert_msg(slips[k] && i % slips[k] == 0,
					      "slip %u: limited response %u truncated", slips[k], i);
			} else {
				dropped++;
			}
		}
		ck_assert_uint_eq(count, 12);
		ck_assert_uint_eq(truncated, slips[k] ? 12 / slips[k] : 0);
		ck_assert_uint_eq(dropped + truncated, 12);
	}
	ratelimit_free(t);
}
END_TEST

START_TEST(networks)
{
	struct ratelimit *t = ratelimit_new(1024);
	struct ratelimit_spec s = spec(1, 2, 0);
	uint64_t now = 7 * (uint64_t)SECOND;
	/* one IPv4 /24 shares a budget; the next /24 has its own */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now, 1), 1);
	ck_assert_uint_eq(passes(t, &s, "192.0.2.200", now, 5), 1);
	ck_assert_uint_eq(passes(t, &s, "192.0.3.1", now, 5), 2);
	/* one IPv6 /56: 2001:db8:0:1:: and 2001:db8:0:ff:: share it, 2001:db8:0:100:: is the next */
	ck_assert_uint_eq(passes(t, &s, "2001:db8:0:1::1", now, 1), 1);
	ck_assert_uint_eq(passes(t, &s, "2001:db8:0:ff::53", now, 5), 1);
	ck_assert_uint_eq(passes(t, &s, "2001:db8:0:100::1", now, 5), 2);
	/* an IPv4-mapped IPv6 source is its IPv4 address */
	ck_assert_uint_eq(passes(t, &s, "::ffff:192.0.2.7", now, 5), 0);
	/* /32 and /128: every address on its own */
	s.ipv4_prefix = 32;
	s.ipv6_prefix = 128;
	ck_assert_uint_eq(passes(t, &s, "203.0.113.1", now, 5), 2);
	ck_assert_uint_eq(passes(t, &s, "203.0.113.2", now, 5), 2);
	ck_assert_uint_eq(passes(t, &s, "2001:db8::1", now, 5), 2);
	ck_assert_uint_eq(passes(t, &s, "2001:db8::2", now, 5), 2);
	/* exempt nets are never limited; the rest of their /24 is */
	static const struct geo_net exempt[] = {
	    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 0}, 96 + 25},
	    {{0x20, 0x01, 0x0d, 0xb8, 0xff}, 40},
	};
	struct ratelimit_spec e = spec(1, 1, 0);
	e.exempt = exempt;
	e.exempt_count = 2;
	ck_assert_uint_eq(passes(t, &e, "198.51.100.1", now, 50), 50);
	ck_assert_uint_eq(passes(t, &e, "198.51.100.127", now, 50), 50);
	ck_assert_uint_eq(passes(t, &e, "198.51.100.128", now, 50), 1);
	ck_assert_uint_eq(passes(t, &e, "2001:db8:ff12::1", now, 50), 50);
	ck_assert_uint_eq(passes(t, &e, "2001:db8:fe00::1", now, 50), 1);
	/* off: everything passes, with or without a table */
	struct ratelimit_spec off = spec(0, 0, 0);
	ck_assert_uint_eq(passes(t, &off, "192.0.2.1", now, 50), 50);
	ck_assert_uint_eq(passes(NULL, &s, "192.0.2.1", now, 50), 50);
	ratelimit_free(t);
}
END_TEST

/* A flood from many other networks (more than the table holds) takes the slots that were idle the
 * longest: a network over its limit leads the clock the most and keeps its slot, so a forged flood
 * cannot wash it out. */
START_TEST(limited_network_keeps_its_slot)
{
	struct ratelimit *t = ratelimit_new(1024);
	struct ratelimit_spec s = spec(10, 5, 0);
	uint64_t now = 9 * (uint64_t)SECOND;
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now, 10), 5);
	char client[32];
	unsigned fresh = 0;
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(client, sizeof(client), "10.%u.%u.1", i / 256, i % 256);
		fresh += passes(t, &s, client, now + 1000, 1);
	}
	ck_assert_uint_eq(fresh, 20000); /* every new network starts with its burst */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now + 2000, 10), 0);
	ratelimit_free(t);
	ck_assert_ptr_null(ratelimit_new(1000)); /* not a power of two */
	ck_assert_ptr_null(ratelimit_new(2));
}
END_TEST

START_TEST(clock_wrap)
{
	struct ratelimit *t = ratelimit_new(1024);
	struct ratelimit_spec s = spec(10, 5, 0);
	const uint64_t wrap = UINT64_C(1) << 40; /* the slots keep 40 bits of microseconds */
	uint64_t now = 3 * wrap - SECOND / 5;
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now, 10), 5);
	/* across the wrap the lead is still measured right: 1/10 s later one more, then nothing */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now + SECOND / 10, 10), 1);
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now + SECOND / 5 + 1, 10), 1);
	/* a slot left alone for about a wrap reads as idle, not as far ahead */
	ck_assert_uint_eq(passes(t, &s, "192.0.2.1", now + wrap - SECOND / 10, 10), 5);
	ratelimit_free(t);
}
END_TEST

struct hammer {
	struct ratelimit *t;
	const struct ratelimit_spec *s;
	uint64_t now;
	unsigned passed;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	h->passed = passes(h->t, h->s, "192.0.2.1", h->now, 200000);
	return NULL;
}

/* Threads sharing one network's slot: together they get the burst, not a burst each. */
START_TEST(threads_share_the_budget)
{
	struct ratelimit *t = ratelimit_new(1024);
	struct ratelimit_spec s = spec(1000, 500, 0);
	struct hammer h[2] = {{t, &s, 11 * (uint64_t)SECOND, 0}, {t, &s, 11 * (uint64_t)SECOND, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	unsigned total = h[0].passed + h[1].passed;
	/* a thread that loses CAS_TRIES races in a row lets its response pass: allow a few */
	ck_assert_msg(total >= 500 && total <= 510, "%u + %u passed", h[0].passed, h[1].passed);
	ratelimit_free(t);
}
END_TEST

START_TEST(truncated_reply)
{
	ldns_pkt *q = NULL;
	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, "www.example.com", LDNS_RR_TYPE_AAAA,
						    LDNS_RR_CLASS_IN, LDNS_RD | LDNS_CD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	ldns_pkt_set_edns_udp_size(q, 1232);
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	uint8_t out[512];
	size_t n = ratelimit_truncated(wire, len, out, sizeof(out));
	ck_assert_uint_eq(n, 12 + 17 + 4); /* header and question; the OPT record is not repeated */
	ldns_pkt *r = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&r, out, n), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_id(r), 0x1234);
	ck_assert(ldns_pkt_qr(r) && ldns_pkt_tc(r) && ldns_pkt_rd(r) && ldns_pkt_cd(r));
	ck_assert(!ldns_pkt_aa(r) && !ldns_pkt_ra(r) && !ldns_pkt_ad(r));
	ck_assert_int_eq(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_qdcount(r), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(r) + ldns_pkt_nscount(r) + ldns_pkt_arcount(r), 0);
	ck_assert_ptr_null(ldns_pkt_edns_data(r));
	ck_assert_int_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(r), 0)), LDNS_RR_TYPE_AAAA);
	ldns_pkt_free(r);
	/* nothing for what is not a query with one question, or does not fit */
	ck_assert_uint_eq(ratelimit_truncated(wire, len, out, 20), 0);
	ck_assert_uint_eq(ratelimit_truncated(wire, 11, out, sizeof(out)), 0);
	ck_assert_uint_eq(ratelimit_truncated(wire, 12 + 10, out, sizeof(out)), 0); /* the name is cut */
	uint8_t copy[512];
	memcpy(copy, wire, len);
	copy[2] |= 0x80; /* a response */
	ck_assert_uint_eq(ratelimit_truncated(copy, len, out, sizeof(out)), 0);
	memcpy(copy, wire, len);
	copy[5] = 2; /* two questions */
	ck_assert_uint_eq(ratelimit_truncated(copy, len, out, sizeof(out)), 0);
	copy[5] = 0; /* none */
	ck_assert_uint_eq(ratelimit_truncated(copy, len, out, sizeof(out)), 0);
	free(wire);
	ldns_pkt_free(q);
}
END_TEST

#define CONF_HEAD "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"

START_TEST(config)
{
	struct conf *c = unit_load_conf("none.conf", CONF_HEAD);
	ck_assert_uint_eq(c->rate_limit.rate, 0);
	ck_assert_uint_eq(c->rate_limit.table_size, 65536);
	conf_free(c);
	c = unit_load_conf("defaults.conf", CONF_HEAD "rate_limit = { rate = 20 }\n");
	const struct ratelimit_spec *r = &c->rate_limit;
	ck_assert_uint_eq(r->rate, 20);
	ck_assert_uint_eq(r->burst, 20);
	ck_assert_uint_eq(r->slip, 2);
	ck_assert_uint_eq(r->ipv4_prefix, 24);
	ck_assert_uint_eq(r->ipv6_prefix, 56);
	ck_assert_uint_eq(r->table_size, 65536);
	ck_assert_uint_eq(r->exempt_count, 0);
	conf_free(c);
	c = unit_load_conf("all.conf", CONF_HEAD
			   "rate_limit = { rate = 500000, slip = 0, ipv4_prefix = 32,\n"
			   "  ipv6_prefix = 64, table_size = 1048576,\n"
			   "  exempt = { \"192.0.2.0/24\", \"2001:db8::/32\", \"203.0.113.9\" } }\n");
	r = &c->rate_limit;
	ck_assert_uint_eq(r->burst, RATELIMIT_BURST_MAX); /* the default burst is capped */
	ck_assert_uint_eq(r->slip, 0);
	ck_assert_uint_eq(r->ipv4_prefix, 32);
	ck_assert_uint_eq(r->ipv6_prefix, 64);
	ck_assert_uint_eq(r->table_size, 1048576);
	ck_assert_uint_eq(r->exempt_count, 3);
	ck_assert_uint_eq(r->exempt[0].prefix, 96 + 24);
	ck_assert_uint_eq(r->exempt[1].prefix, 32);
	ck_assert_uint_eq(r->exempt[2].prefix, 128);
	ck_assert(!r->dry_run);
	conf_free(c);
	c = unit_load_conf("dry.conf", CONF_HEAD "rate_limit = { rate = 20, dry_run = true }\n");
	ck_assert(c->rate_limit.dry_run);
	conf_free(c);
	/* errors, at file:line, saying what was expected */
	static const struct {
		const char *text, *message;
	} bad[] = {
	    {"rate_limit = 20", "rate_limit: expected a table"},
	    {"rate_limit = { burst = 5 }", "rate_limit.rate: required"},
	    {"rate_limit = { rate = 0 }", "rate_limit.rate: expected an integer in 1..1000000, got 0"},
	    {"rate_limit = { rate = 5, burst = 0 }", "rate_limit.burst: expected an integer in 1..100000"},
	    {"rate_limit = { rate = 5, slip = 11 }", "rate_limit.slip: expected an integer in 0..10"},
	    {"rate_limit = { rate = 5, ipv4_prefix = 33 }",
	     "rate_limit.ipv4_prefix: expected an integer in 8..32"},
	    {"rate_limit = { rate = 5, ipv6_prefix = 8 }",
	     "rate_limit.ipv6_prefix: expected an integer in 16..128"},
	    {"rate_limit = { rate = 5, table_size = 100000 }",
	     "rate_limit.table_size: expected a power of two, got 100000"},
	    {"rate_limit = { rate = 5, rates = 5 }",
	     "rate_limit: unknown key 'rates' (did you mean 'rate'?)"},
	    {"rate_limit = { rate = 5, exempt = { \"192.0.2.1/24\" } }",
	     "rate_limit.exempt[1]: \"192.0.2.1/24\" has bits set beyond the /24 prefix (did you mean "
	     "\"192.0.2.0/24\"?)"},
	    {"rate_limit = { rate = 5, exempt = { \"example.com\" } }",
	     "rate_limit.exempt[1]: expected a network"},
	    {"rate_limit = { rate = 5, exempt = \"192.0.2.0/24\" }", "rate_limit.exempt: expected a list"},
	    {"rate_limit = { rate = 5, dry_run = 1 }", "rate_limit.dry_run: expected true or false, got number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), CONF_HEAD "%s\n", bad[i].text);
		const char *error = unit_conf_error("bad.conf", text);
		ck_assert_msg(strstr(error, "bad.conf:3: ") && strstr(error, bad[i].message), "%s: %s",
			      bad[i].text, error);
	}
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, burst_then_rate);
	tcase_add_test(tc, slip);
	tcase_add_test(tc, networks);
	tcase_add_test(tc, limited_network_keeps_its_slot);
	tcase_add_test(tc, clock_wrap);
	tcase_add_test(tc, threads_share_the_budget);
	tcase_add_test(tc, truncated_reply);
	tcase_add_test(tc, config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(ratelimit_suite(), "ratelimit");
}
