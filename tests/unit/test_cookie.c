/* test_cookie.c -- unit tests of DNS Cookies (cookie.h): RFC 9018's test vectors, the verdicts and
 * the cookie a reply carries, secrets in a config, and what query_answer does with a cookie (RFC
 * 7873 5.2 and 5.4), checked with ldns's parser. */
#include <arpa/inet.h>
#include <check.h>
#include <ldns/ldns.h>
#include <string.h>

#include "meridian/cookie.h"
#include "meridian/query.h"
#include "meridian/wire.h"
#include "support.h"

static void hex(const char *text, uint8_t *out, size_t n)
{
	ck_assert_uint_eq(strlen(text), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(text + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static struct cookie_secrets secrets(const char *first, const char *second)
{
	struct cookie_secrets s = {.count = second ? 2 : 1};
	ck_assert(cookie_secret_parse(first, strlen(first), s.key[0]));
	if (second)
		ck_assert(cookie_secret_parse(second, strlen(second), s.key[1]));
	return s;
}

#define SECRET_A   "e5e973e5a6b2a43f48e7dc849e37bfcf" /* RFC 9018 A.1 to A.3 */
#define SECRET_OLD "dd3bdf9344b678b185a6f5cb60fca715" /* A.4, before the rollover */
#define SECRET_NEW "445536bcd2513298075a5d379663c962" /* A.4, after it */
#define IPV6_A4	   "2001:db8:220:1:59de:d0f4:8769:82b8"

/* The server cookie made for client at now from address, as hex. */
static void expect_made(const char *secret, const char *client, const char *address, uint32_t now,
			const char *want)
{
	struct cookie_secrets s = secrets(secret, NULL);
	uint8_t c[COOKIE_CLIENT_LEN], made[COOKIE_SERVER_LEN], expect[COOKIE_SERVER_LEN];
	hex(client, c, sizeof(c));
	hex(want, expect, sizeof(expect));
	struct sockaddr_storage peer = unit_address(address);
	cookie_make(made, c, now, &peer, s.key[0]);
	ck_assert_mem_eq(made, expect, sizeof(expect));
}

START_TEST(rfc9018_vectors)
{
	expect_made(SECRET_A, "2464c4abcf10c957", "198.51.100.100", 1559731985,
		    "010000005cf79f111f8130c3eee29480");
	expect_made(SECRET_A, "2464c4abcf10c957", "198.51.100.100", 1559734385,
		    "010000005cf7a871d4a564a1442aca77");
	expect_made(SECRET_A, "fc93fc62807ddb86", "203.0.113.203", 1559734700,
		    "010000005cf7a9acf73a7810aca2381e");
	expect_made(SECRET_NEW, "22681ab97d52c298", IPV6_A4, 1559741961, "010000005cf7c609a6bb79d16625507a");
}
END_TEST

/* cookie_answer on the option data in hex from address at now: the verdict, and the reply's data. */
static enum cookie_verdict judge(const struct cookie_secrets *s, const char *option, const char *address,
				 uint32_t now, uint8_t reply[COOKIE_REPLY_LEN])
{
	uint8_t data[40];
	size_t len = strlen(option) / 2;
	hex(option, data, len);
	ck_assert(wire_cookie_well_formed(len));
	struct sockaddr_storage peer = unit_address(address);
	return cookie_answer(s, data, len, &peer, now, reply);
}

static void ck_reply(const uint8_t reply[COOKIE_REPLY_LEN], const char *want)
{
	uint8_t expect[COOKIE_REPLY_LEN];
	hex(want, expect, sizeof(expect));
	ck_assert_mem_eq(reply, expect, sizeof(expect));
}

START_TEST(verdicts_and_replies)
{
	struct cookie_secrets a = secrets(SECRET_A, NULL);
	uint8_t reply[COOKIE_REPLY_LEN];
	/* A.1: a client cookie alone gets a new server cookie */
	ck_assert_int_eq(judge(&a, "2464c4abcf10c957", "198.51.100.100", 1559731985, reply),
			 COOKIE_CLIENT_ONLY);
	ck_reply(reply, "2464c4abcf10c957010000005cf79f111f8130c3eee29480");
	/* ten minutes later it is valid and young: sent back as it is */
	ck_assert_int_eq(judge(&a, "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100",
			       1559731985 + 600, reply),
			 COOKIE_VALID);
	ck_reply(reply, "2464c4abcf10c957010000005cf79f111f8130c3eee29480");
	/* A.2: 40 minutes later, still valid, but renewed */
	ck_assert_int_eq(judge(&a, "2464c4abcf10c957010000005cf79f111f8130c3eee29480", "198.51.100.100",
			       1559734385, reply),
			 COOKIE_VALID);
	ck_reply(reply, "2464c4abcf10c957010000005cf7a871d4a564a1442aca77");
	/* A.3: a cookie stamped 1559727985 (with reserved octets set, which are hashed as sent) is too
	 * old at 1559734700 and replaced by the vector's */
	ck_assert_int_eq(
	    judge(&a, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "203.0.113.203", 1559734700, reply),
	    COOKIE_INVALID);
	ck_reply(reply, "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e");
	/* within its hour it is valid, and still replaced: the reserved octets must be zero in ours */
	ck_assert_int_eq(judge(&a, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "203.0.113.203",
			       1559727985 + 60, reply),
			 COOKIE_VALID);
	uint8_t client[COOKIE_CLIENT_LEN], fresh[COOKIE_SERVER_LEN];
	hex("fc93fc62807ddb86", client, sizeof(client));
	struct sockaddr_storage a3 = unit_address("203.0.113.203");
	cookie_make(fresh, client, 1559727985 + 60, &a3, a.key[0]);
	ck_assert_mem_eq(reply + COOKIE_CLIENT_LEN, fresh, sizeof(fresh));
	/* the same cookie from another address is not ours */
	ck_assert_int_eq(judge(&a, "fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", "203.0.113.204",
			       1559727985 + 60, reply),
			 COOKIE_INVALID);
	/* A.4: the old secret still checks during a rollover, the new one makes the reply */
	struct cookie_secrets rolled = secrets(SECRET_NEW, SECRET_OLD);
	ck_assert_int_eq(
	    judge(&rolled, "22681ab97d52c298010000005cf7c57926556bd0934c72f8", IPV6_A4, 1559741961, reply),
	    COOKIE_VALID);
	ck_reply(reply, "22681ab97d52c298010000005cf7c609a6bb79d16625507a");
	struct cookie_secrets only_new = secrets(SECRET_NEW, NULL);
	ck_assert_int_eq(
	    judge(&only_new, "22681ab97d52c298010000005cf7c57926556bd0934c72f8", IPV6_A4, 1559741961, reply),
	    COOKIE_INVALID);
	/* an hour old holds, a second more does not; five minutes ahead holds, a second more does not */
	const char *made = "2464c4abcf10c957010000005cf79f111f8130c3eee29480";
	ck_assert_int_eq(judge(&a, made, "198.51.100.100", 1559731985 + 3600, reply), COOKIE_VALID);
	ck_assert_int_eq(judge(&a, made, "198.51.100.100", 1559731985 + 3601, reply), COOKIE_INVALID);
	ck_assert_int_eq(judge(&a, made, "198.51.100.100", 1559731985 - 300, reply), COOKIE_VALID);
	ck_assert_int_eq(judge(&a, made, "198.51.100.100", 1559731985 - 301, reply), COOKIE_INVALID);
	/* an 8-octet server cookie, or version 2: not one of ours */
	ck_assert_int_eq(judge(&a, "2464c4abcf10c9570100000000000000", "198.51.100.100", 1559731985, reply),
			 COOKIE_INVALID);
	ck_assert_int_eq(judge(&a, "2464c4abcf10c957020000005cf79f111f8130c3eee29480", "198.51.100.100",
			       1559731985, reply),
			 COOKIE_INVALID);
	ck_reply(reply, "2464c4abcf10c957010000005cf79f111f8130c3eee29480");
}
END_TEST

START_TEST(lengths_and_secrets)
{
	static const size_t ok[] = {8, 16, 24, 40}, bad[] = {0, 7, 9, 15, 41, 64};
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(wire_cookie_well_formed(ok[i]), "%zu octets", ok[i]);
	for (size_t i = 0; i < 6; i++)
		ck_assert_msg(!wire_cookie_well_formed(bad[i]), "%zu octets", bad[i]);
	uint8_t key[COOKIE_SECRET_LEN];
	ck_assert(cookie_secret_parse(SECRET_A, 32, key));
	ck_assert_uint_eq(key[0], 0xe5);
	ck_assert(!cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfc", 31, key));
	ck_assert(!cookie_secret_parse("e5e973e5a6b2a43f48e7dc849e37bfcg", 32, key));
	/* without a configured secret every config of the process gets the same random one */
	uint8_t a[COOKIE_SECRET_LEN], b[COOKIE_SECRET_LEN], zero[COOKIE_SECRET_LEN] = {0};
	ck_assert(cookie_process_secret(a));
	ck_assert(cookie_process_secret(b));
	ck_assert_mem_eq(a, b, sizeof(a));
	ck_assert(memcmp(a, zero, sizeof(a)) != 0);
}
END_TEST

START_TEST(config_secrets)
{
	struct conf *c =
	    unit_load_conf("cookies.conf", "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
					   "cookie_secrets = { \"" SECRET_NEW "\", \"" SECRET_OLD "\" }\n");
	ck_assert(c->cookies);
	ck_assert_uint_eq(c->cookie_secrets.count, 2);
	struct cookie_secrets want = secrets(SECRET_NEW, SECRET_OLD);
	ck_assert_mem_eq(c->cookie_secrets.key, want.key, 2 * COOKIE_SECRET_LEN);
	conf_free(c);
	c = unit_load_conf("off.conf", "serial = 1\nlisten = { \"127.0.0.1:5353\" }\ncookies = false\n");
	ck_assert(!c->cookies);
	conf_free(c);
	/* errors, with file:line */
	static const char *const bad[] = {
	    "cookie_secrets = { \"e5e973\" }",
	    "cookie_secrets = {}",
	    "cookie_secrets = \"" SECRET_A "\"",
	    "cookie_secrets = { \"" SECRET_A "\", \"" SECRET_A "\", \"" SECRET_A "\", \"" SECRET_A
	    "\", \"" SECRET_A "\" }",
	    "cookies = 1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n%s\n", bad[i]);
		const char *error = unit_conf_error("bad.conf", text);
		ck_assert_msg(strstr(error, "bad.conf:3:"), "%s: %s", bad[i], error);
	}
}
END_TEST

/* ---- query_answer ---- */

static struct snapshot *snap;

static void setup(void)
{
	snap = unit_query_fixture();
	struct conf *c = (struct conf *)snap->conf;
	c->cookie_secrets = secrets(SECRET_A, NULL);
	cookie_now_fix(1559731985);
}

static void teardown(void)
{
	cookie_now_fix(0);
	snapshot_free(snap);
}

/* A query for www.example.com A (questions: 1 or 0) with an OPT holding the options in hex. */
static size_t make_query(uint8_t *pkt, unsigned questions, const char *options)
{
	static const uint8_t head[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	static const uint8_t question[] = {3,	'w', 'w', 'w', 7,   'e', 'x', 'a', 'm', 'p', 'l',
					   'e', 3,   'c', 'o', 'm', 0,	 0,   1,   0,	1};
	memcpy(pkt, head, sizeof(head));
	pkt[5] = (uint8_t)questions;
	size_t len = sizeof(head);
	if (questions) {
		memcpy(pkt + len, question, sizeof(question));
		len += sizeof(question);
	}
	size_t olen = strlen(options) / 2;
	static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0};
	memcpy(pkt + len, opt, sizeof(opt));
	pkt[len + sizeof(opt)] = (uint8_t)(olen >> 8);
	pkt[len + sizeof(opt) + 1] = (uint8_t)olen;
	len += sizeof(opt) + 2;
	hex(options, pkt + len, olen);
	return len + olen;
}

/* Answers pkt from 198.51.100.100 and returns it parsed; *cookie gets the reply's COOKIE option
 * data (NULL: none) and *cookie_len its length. */
static ldns_pkt *answer(const uint8_t *pkt, size_t len, uint8_t *cookie, size_t *cookie_len)
{
	static uint8_t out[WIRE_MSG_MAX];
	struct wire_query scratch;
	struct query_stats stats = {0};
	struct sockaddr_storage peer = unit_address("198.51.100.100");
	size_t n = query_answer(snap, pkt, len, &peer, out, sizeof(out), QUERY_UDP, &scratch, &stats);
	ck_assert_uint_gt(n, 0);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	*cookie_len = 0;
	ldns_rdf *data = ldns_pkt_edns_data(p);
	const uint8_t *o = data ? ldns_rdf_data(data) : NULL;
	size_t left = data ? ldns_rdf_size(data) : 0;
	while (left >= 4) {
		size_t code = (size_t)o[0] << 8 | o[1], olen = (size_t)o[2] << 8 | o[3];
		ck_assert_uint_le(4 + olen, left);
		if (code == WIRE_EDNS_COOKIE) {
			memcpy(cookie, o + 4, olen);
			*cookie_len = olen;
		}
		o += 4 + olen;
		left -= 4 + olen;
	}
	return p;
}

#define COOKIE_A1 "2464c4abcf10c957010000005cf79f111f8130c3eee29480"

START_TEST(answers_carry_cookies)
{
	uint8_t pkt[512], cookie[64];
	size_t len, clen;
	/* a client cookie alone: the answer, and RFC 9018 A.1's server cookie */
	len = make_query(pkt, 1, "000a00082464c4abcf10c957");
	ldns_pkt *p = answer(pkt, len, cookie, &clen);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ck_assert_uint_eq(clen, COOKIE_REPLY_LEN);
	ck_reply(cookie, COOKIE_A1);
	ldns_pkt_free(p);
	/* with a client subnet option too: both come back */
	len = make_query(pkt, 1, "0008000700011800c63364000a00082464c4abcf10c957");
	p = answer(pkt, len, cookie, &clen);
	ck_assert_uint_eq(clen, COOKIE_REPLY_LEN);
	ck_reply(cookie, COOKIE_A1);
	ldns_pkt_free(p);
	/* malformed: too short, between client and server cookie, too long, or two of them */
	static const char *const bad[] = {
	    "000a00072464c4abcf10c9",
	    "000a000c2464c4abcf10c95701020304",
	    "000a0029" COOKIE_A1 "00000000000000000000000000000000aa",
	    "000a00082464c4abcf10c957000a00082464c4abcf10c957",
	};
	for (size_t i = 0; i < 4; i++) {
		len = make_query(pkt, 1, bad[i]);
		p = answer(pkt, len, cookie, &clen);
		ck_assert_msg(ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR, "malformed cookie %zu", i);
		ck_assert_uint_eq(clen, 0);
		ldns_pkt_free(p);
	}
	/* with cookies off, the option is ignored, malformed or not */
	((struct conf *)snap->conf)->cookies = false;
	for (size_t i = 0; i < 2; i++) {
		len = make_query(pkt, 1, i ? bad[0] : "000a00082464c4abcf10c957");
		p = answer(pkt, len, cookie, &clen);
		ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
		ck_assert_uint_eq(clen, 0);
		ldns_pkt_free(p);
	}
}
END_TEST

/* RFC 7873 5.4: a query without a question asks for a server cookie. */
START_TEST(asking_for_a_server_cookie)
{
	uint8_t pkt[512], cookie[64];
	size_t len, clen;
	len = make_query(pkt, 0, "000a00082464c4abcf10c957");
	ldns_pkt *p = answer(pkt, len, cookie, &clen);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 0);
	ck_reply(cookie, COOKIE_A1);
	ldns_pkt_free(p);
	/* a valid server cookie: NOERROR */
	len = make_query(pkt, 0, "000a0018" COOKIE_A1);
	p = answer(pkt, len, cookie, &clen);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	/* one that is not ours: BADCOOKIE (23: 7 in the header, 1 in the OPT), with a good one */
	len = make_query(pkt, 0, "000a00182464c4abcf10c957010000005cf79f111f8130c3eee29481");
	p = answer(pkt, len, cookie, &clen);
	ck_assert_uint_eq(ldns_pkt_get_rcode(p), 7);
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 1);
	ck_reply(cookie, COOKIE_A1);
	ldns_pkt_free(p);
	/* no question and no cookie: still FORMERR */
	len = make_query(pkt, 0, "");
	p = answer(pkt, len, cookie, &clen);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
}
END_TEST

static Suite *cookie_suite(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc = tcase_create("cookie");
	tcase_add_test(tc, rfc9018_vectors);
	tcase_add_test(tc, verdicts_and_replies);
	tcase_add_test(tc, lengths_and_secrets);
	tcase_add_test(tc, config_secrets);
	suite_add_tcase(s, tc);
	TCase *q = tcase_create("query");
	tcase_add_checked_fixture(q, setup, teardown);
	tcase_add_test(q, answers_carry_cookies);
	tcase_add_test(q, asking_for_a_server_cookie);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(cookie_suite(), "cookie");
}
