/* test_policy.c -- unit tests of the built-in policies (policy_compute) and of per-query selection
 * (dyn_select). */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/policy.h"
#include "meridian/wire.h"

enum { WWW, CDN, IMG, ALL, WWW6, EDGE };
enum { EUROPE, AMERICAS, ASIA, NOWHERE };
enum { AMS1, AMS2, IAD1, SIN1, AMS6 };
enum { S = HEALTH_SERVING, D = HEALTH_DRAINING, O = HEALTH_OUT }; /* member states, short */

static struct conf *conf;
static struct geo_map *geo;

static void setup(void)
{
	struct diag d;
	diag_init(&d);
	conf = conf_load("tests/unit/data/policy/policy.conf", &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(conf);
	geo = geo_map_build(&conf->geo, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(geo);
	diag_free(&d);
}

static void teardown(void)
{
	geo_map_free(geo);
	conf_free(conf);
}

static struct dyn_table *compute(const struct policy_inputs *in)
{
	struct diag d;
	diag_init(&d);
	struct dyn_table *t = policy_compute(conf, geo, in, &d);
	ck_assert_ptr_nonnull(t);
	diag_free(&d);
	return t;
}

/* The answer's values as dotted quads joined by spaces, in stored order. */
static const char *values(const struct dyn_answer *a)
{
	static char buf[512];
	buf[0] = 0;
	for (unsigned i = 0; i < a->count; i++) {
		const uint8_t *v = a->rdata + a->offsets[i];
		char text[INET6_ADDRSTRLEN];
		if (a->type == WIRE_TYPE_CNAME)
			wire_name_to_text(v + 2, (size_t)(v[0] << 8 | v[1]), text, sizeof(text));
		else
			inet_ntop(a->type == WIRE_TYPE_A ? AF_INET : AF_INET6, v + 2, text, sizeof(text));
		if (i)
			strcat(buf, " ");
		strcat(buf, text);
	}
	return buf;
}

START_TEST(failover_follows_each_regions_order)
{
	struct dyn_table *t = compute(NULL);
	ck_assert_uint_eq(t->region_count, 4);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, EUROPE)), "192.0.2.10 192.0.2.11");
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, AMERICAS)), "198.51.100.10");
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, ASIA)), "203.0.113.10");
	/* a region without an order of its own uses the default region's */
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, NOWHERE)), "198.51.100.10");
	ck_assert_uint_eq(dyn_answer_get(t, WWW, EUROPE)->ttl, 30);
	dyn_table_free(t);
}
END_TEST

START_TEST(failover_moves_on_when_members_are_down)
{
	uint8_t web[] = {O, O, S, S, S}, edge[] = {S, S};
	const uint8_t *up[] = {web, edge};
	struct policy_inputs in = {.serving = up};
	struct dyn_table *t = compute(&in);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, EUROPE)), "198.51.100.10");
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, ASIA)), "203.0.113.10");
	dyn_table_free(t);

	/* every member down: fail open with every member of the type, never an empty answer */
	uint8_t none[] = {O, O, O, O, O};
	const uint8_t *down[] = {none, edge};
	in.serving = down;
	t = compute(&in);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, EUROPE)),
			 "192.0.2.10 192.0.2.11 198.51.100.10 203.0.113.10");
	dyn_table_free(t);
}
END_TEST

START_TEST(nearest_orders_by_distance_and_spills_over)
{
	unsigned dcs[3];
	ck_assert_uint_eq(policy_dc_order(conf, geo, &conf->records[CDN], ASIA, dcs), 3);
	ck_assert_str_eq(conf->datacenters[dcs[0]].name, "sin");
	ck_assert_uint_eq(policy_dc_order(conf, geo, &conf->records[CDN], EUROPE, dcs), 3);
	ck_assert_str_eq(conf->datacenters[dcs[0]].name, "ams");
	ck_assert_str_eq(conf->datacenters[dcs[1]].name, "iad");

	struct dyn_table *t = compute(NULL);
	/* answers = 2: the nearest datacenter has one member, the next nearest fills the second */
	ck_assert_str_eq(values(dyn_answer_get(t, CDN, ASIA)), "203.0.113.10 192.0.2.10 192.0.2.11");
	ck_assert_uint_eq(dyn_answer_get(t, CDN, ASIA)->cap, 2);
	ck_assert_str_eq(values(dyn_answer_get(t, CDN, AMERICAS)), "198.51.100.10 192.0.2.10 192.0.2.11");
	/* a region without a location keeps the config order of datacenters */
	ck_assert_str_eq(values(dyn_answer_get(t, CDN, NOWHERE)), "192.0.2.10 192.0.2.11");
	uint8_t picked[DYN_VALUES_MAX];
	ck_assert_uint_eq(dyn_select(dyn_answer_get(t, CDN, ASIA), 7, 0, picked), 2);
	ck_assert_uint_eq(picked[0], 0);
	ck_assert_uint_eq(picked[1], 1);
	dyn_table_free(t);
}
END_TEST

START_TEST(types_take_their_own_members)
{
	struct dyn_table *t = compute(NULL);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW6, EUROPE)), "2001:db8::10");
	ck_assert_uint_eq(dyn_answer_get(t, WWW6, EUROPE)->type, WIRE_TYPE_AAAA);
	ck_assert_str_eq(values(dyn_answer_get(t, EDGE, ASIA)), "ams.edge.example.net.");
	ck_assert_str_eq(values(dyn_answer_get(t, EDGE, AMERICAS)), "iad.edge.example.net.");
	ck_assert_uint_eq(dyn_answer_get(t, EDGE, AMERICAS)->cap, 1);
	dyn_table_free(t);
}
END_TEST

START_TEST(weighted_draws_follow_weights)
{
	struct dyn_table *t = compute(NULL);
	const struct dyn_answer *a = dyn_answer_get(t, IMG, EUROPE);
	ck_assert_uint_eq(a->count, 4);
	ck_assert_uint_eq(a->weight_total, 5);
	unsigned hits[4] = {0};
	uint8_t picked[DYN_VALUES_MAX];
	for (uint32_t seed = 0; seed < 50000; seed++) {
		ck_assert_uint_eq(dyn_select(a, seed, 0, picked), 1);
		hits[picked[0]]++;
	}
	/* iad-1 (index 2) has weight 2 of 5: 40% +- 2%; the others 20% each */
	ck_assert_uint_ge(hits[2], 19000);
	ck_assert_uint_le(hits[2], 21000);
	for (int i = 0; i < 4; i++)
		if (i != 2)
			ck_assert(hits[i] >= 9000 && hits[i] <= 11000);
	dyn_table_free(t);
}
END_TEST

START_TEST(all_with_a_cap_rotates)
{
	struct dyn_table *t = compute(NULL);
	const struct dyn_answer *a = dyn_answer_get(t, ALL, EUROPE);
	ck_assert_uint_eq(a->count, 4);
	uint8_t picked[DYN_VALUES_MAX];
	bool seen[4] = {false};
	for (uint32_t seed = 0; seed < 4; seed++) {
		ck_assert_uint_eq(dyn_select(a, seed, 0, picked), 2);
		ck_assert_uint_ne(picked[0], picked[1]);
		seen[picked[0]] = true;
	}
	for (int i = 0; i < 4; i++)
		ck_assert(seen[i]);
	dyn_table_free(t);
}
END_TEST

START_TEST(shuffle_and_hash_select)
{
	struct dyn_table *t = compute(NULL);
	struct dyn_answer a = *dyn_answer_get(t, IMG, EUROPE); /* 4 values */
	uint8_t picked[DYN_VALUES_MAX];
	a.select = DYN_SELECT_SHUFFLE;
	a.cap = 0;
	unsigned firsts[4] = {0};
	for (uint32_t seed = 0; seed < 4000; seed++) {
		ck_assert_uint_eq(dyn_select(&a, seed, 0, picked), 4);
		bool seen[4] = {false};
		for (int i = 0; i < 4; i++)
			seen[picked[i]] = true;
		ck_assert(seen[0] && seen[1] && seen[2] && seen[3]); /* a permutation */
		firsts[picked[0]]++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert(firsts[i] > 800 && firsts[i] < 1200);
	/* hash: one value per client, the same for every query of that client, spread over clients */
	a.select = DYN_SELECT_HASH;
	unsigned per_value[4] = {0};
	for (uint32_t client = 0; client < 4000; client++) {
		ck_assert_uint_eq(dyn_select(&a, 1, client * 2654435761u, picked), 1);
		uint8_t first = picked[0];
		ck_assert_uint_eq(dyn_select(&a, 99, client * 2654435761u, picked), 1);
		ck_assert_uint_eq(picked[0], first);
		per_value[first]++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert(per_value[i] > 700 && per_value[i] < 1300);
	/* when a value leaves, only the clients that had it move (rendezvous hashing) */
	struct dyn_answer fewer = a;
	fewer.count = 3;
	for (uint32_t client = 0; client < 1000; client++) {
		dyn_select(&a, 0, client * 2654435761u, picked);
		uint8_t before = picked[0];
		dyn_select(&fewer, 0, client * 2654435761u, picked);
		if (before < 3)
			ck_assert_uint_eq(picked[0], before);
	}
	dyn_table_free(t);
}
END_TEST

/* ---- health inputs: tests/unit/data/policy/health.conf ---- */

enum { OPEN, LAST, FALL };
enum { H_EUROPE, H_AMERICAS };
static struct conf *hconf;
static struct geo_map *hgeo;

static void health_setup(void)
{
	struct diag d;
	diag_init(&d);
	hconf = conf_load("tests/unit/data/policy/health.conf", &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(hconf);
	hgeo = geo_map_build(&hconf->geo, &d);
	ck_assert_ptr_nonnull(hgeo);
	diag_free(&d);
}

static void health_teardown(void)
{
	geo_map_free(hgeo);
	conf_free(hconf);
}

/* Answers under web and spare member states (4 and 2 values of S, D or O), after previous. */
static struct dyn_table *compute_states(const uint8_t web[4], const uint8_t spare[2],
					const struct dyn_table *previous)
{
	const uint8_t *serving[] = {web, spare};
	struct policy_inputs in = {
	    .serving = serving, .previous = previous, .previous_conf = previous ? hconf : NULL};
	struct diag d;
	diag_init(&d);
	struct dyn_table *t = policy_compute(hconf, hgeo, &in, &d);
	ck_assert_ptr_nonnull(t);
	diag_free(&d);
	return t;
}

START_TEST(standby_members_serve_only_through_a_fallback)
{
	const uint8_t web[] = {S, S, S, S}, spare[] = {S, S};
	struct dyn_table *t = compute_states(web, spare, NULL);
	ck_assert_str_eq(values(dyn_answer_get(t, OPEN, H_EUROPE)), "192.0.2.10 192.0.2.11");
	ck_assert_str_eq(values(dyn_answer_get(t, FALL, H_EUROPE)), "192.0.2.10 192.0.2.11 198.51.100.10");
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_EUROPE)->ttl, 40);
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_EUROPE)->flags, 0);
	dyn_table_free(t);
}
END_TEST

START_TEST(a_degraded_answer_takes_ttl_degraded)
{
	const uint8_t web[] = {O, S, S, S}, spare[] = {S, S};
	struct dyn_table *t = compute_states(web, spare, NULL);
	/* ams-1 down: europe still answers from ams, but not the all-up answer: ttl / 4 */
	ck_assert_str_eq(values(dyn_answer_get(t, OPEN, H_EUROPE)), "192.0.2.11");
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_EUROPE)->ttl, 10);
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_EUROPE)->flags, DYN_FLAG_DEGRADED);
	ck_assert_uint_eq(dyn_answer_get(t, LAST, H_EUROPE)->ttl, 5);
	/* americas prefers iad, untouched: the normal TTL */
	ck_assert_str_eq(values(dyn_answer_get(t, OPEN, H_AMERICAS)), "198.51.100.10");
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_AMERICAS)->ttl, 40);
	dyn_table_free(t);
}
END_TEST

START_TEST(a_draining_member_stays_with_the_degraded_ttl)
{
	const uint8_t web[] = {D, S, S, S}, spare[] = {S, S};
	struct dyn_table *t = compute_states(web, spare, NULL);
	ck_assert_str_eq(values(dyn_answer_get(t, OPEN, H_EUROPE)), "192.0.2.10 192.0.2.11");
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_EUROPE)->ttl, 10);
	/* a region whose answer does not hold the member keeps the normal TTL */
	ck_assert_uint_eq(dyn_answer_get(t, OPEN, H_AMERICAS)->ttl, 40);
	dyn_table_free(t);
}
END_TEST

START_TEST(all_down_serve_all_fails_open_without_standby)
{
	const uint8_t web[] = {O, O, O, S}, spare[] = {S, S};
	struct dyn_table *t = compute_states(web, spare, NULL);
	const struct dyn_answer *a = dyn_answer_get(t, OPEN, H_EUROPE);
	ck_assert_str_eq(values(a), "192.0.2.10 192.0.2.11 198.51.100.10");
	ck_assert_uint_eq(a->flags, DYN_FLAG_DEGRADED | DYN_FLAG_FAIL_OPEN);
	ck_assert_uint_eq(a->ttl, 10);
	dyn_table_free(t);
}
END_TEST

START_TEST(all_down_last_good_keeps_the_answer_from_before)
{
	const uint8_t ams_down[] = {O, O, S, S}, all_down[] = {O, O, O, O}, spare[] = {S, S};
	/* no previous answer: fail open */
	struct dyn_table *t0 = compute_states(all_down, spare, NULL);
	ck_assert_str_eq(values(dyn_answer_get(t0, LAST, H_EUROPE)), "192.0.2.10 192.0.2.11 198.51.100.10");
	/* ... and a fail-open answer is not a good one to keep */
	struct dyn_table *t1 = compute_states(all_down, spare, t0);
	ck_assert(dyn_answer_get(t1, LAST, H_EUROPE)->flags & DYN_FLAG_FAIL_OPEN);
	struct dyn_table *t2 = compute_states(ams_down, spare, t1);
	ck_assert_str_eq(values(dyn_answer_get(t2, LAST, H_EUROPE)), "198.51.100.10");
	struct dyn_table *t3 = compute_states(all_down, spare, t2);
	const struct dyn_answer *a = dyn_answer_get(t3, LAST, H_EUROPE);
	ck_assert_str_eq(values(a), "198.51.100.10");
	ck_assert_uint_eq(a->flags, DYN_FLAG_DEGRADED | DYN_FLAG_LAST_GOOD);
	ck_assert_uint_eq(a->ttl, 5);
	/* still all down: the copy carries forward */
	struct dyn_table *t4 = compute_states(all_down, spare, t3);
	ck_assert_str_eq(values(dyn_answer_get(t4, LAST, H_EUROPE)), "198.51.100.10");
	/* serve_all records are not affected */
	ck_assert(dyn_answer_get(t4, OPEN, H_EUROPE)->flags & DYN_FLAG_FAIL_OPEN);
	dyn_table_free(t0);
	dyn_table_free(t1);
	dyn_table_free(t2);
	dyn_table_free(t3);
	dyn_table_free(t4);
}
END_TEST

START_TEST(all_down_fallback_pool_includes_its_standby)
{
	const uint8_t all_down[] = {O, O, O, O}, spare[] = {S, S}, spare_down[] = {O, O};
	struct dyn_table *t = compute_states(all_down, spare, NULL);
	const struct dyn_answer *a = dyn_answer_get(t, FALL, H_EUROPE);
	ck_assert_str_eq(values(a), "203.0.113.1 203.0.113.2");
	ck_assert_uint_eq(a->flags, DYN_FLAG_DEGRADED | DYN_FLAG_FALLBACK_POOL);
	dyn_table_free(t);
	/* the fallback pool down too: fail open to the record's own pool, never empty */
	t = compute_states(all_down, spare_down, NULL);
	ck_assert_str_eq(values(dyn_answer_get(t, FALL, H_EUROPE)), "192.0.2.10 192.0.2.11 198.51.100.10");
	dyn_table_free(t);
}
END_TEST

/* ---- Lua records: tests/unit/data/policy/lua.conf ---- */

enum { FLAKY, STUCK1 };

static struct dyn_table *compute_lua(const struct conf *c, const struct geo_map *g,
				     struct lua_policy_set *lua, const uint8_t web[2],
				     const struct dyn_table *previous, struct policy_report *report)
{
	const uint8_t *serving[] = {web};
	struct policy_inputs in = {.serving = serving,
				   .previous = previous,
				   .previous_conf = previous ? c : NULL,
				   .lua = lua,
				   .now = 1700000000,
				   .report = report};
	struct diag d;
	diag_init(&d);
	struct dyn_table *t = policy_compute(c, g, &in, &d);
	ck_assert_ptr_nonnull(t);
	diag_free(&d);
	return t;
}

START_TEST(a_failing_lua_policy_keeps_the_last_good_answer)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load("tests/unit/data/policy/lua.conf", &d);
	ck_assert_ptr_nonnull(c);
	struct geo_map *g = geo_map_build(&c->geo, &d);
	struct lua_policy_set *lua = lua_policy_load(c, &d);
	ck_assert_ptr_nonnull(lua);
	const uint8_t up[] = {S, S}, iad_down[] = {S, O};
	struct policy_report r0 = {0}, r1 = {0}, r2 = {0};
	struct dyn_table *t0 = compute_lua(c, g, lua, up, NULL, &r0);
	ck_assert_uint_eq(r0.lua_errors, 0);
	ck_assert_str_eq(values(dyn_answer_get(t0, FLAKY, H_EUROPE)), "192.0.2.10 198.51.100.10");
	/* iad-1 down: flaky.lua errors; the answer from before keeps serving, marked */
	struct dyn_table *t1 = compute_lua(c, g, lua, iad_down, t0, &r1);
	const struct dyn_answer *a = dyn_answer_get(t1, FLAKY, H_EUROPE);
	ck_assert_str_eq(values(a), "192.0.2.10 198.51.100.10");
	ck_assert(a->flags & DYN_FLAG_POLICY_ERROR);
	ck_assert_uint_eq(a->ttl, 30);
	ck_assert_ptr_nonnull(
	    strstr(r1.last_error, "not run: it exceeded its limits 3 times")); /* the last */
	/* the stuck file: 3 budget hits, then not run again in this computation (3 records x 2 regions) */
	ck_assert_uint_eq(r1.lua_errors, 2 + 6);
	ck_assert_uint_eq(r1.lua_runs, 2 + 3);
	ck_assert_str_eq(values(dyn_answer_get(t1, STUCK1 + 2, H_AMERICAS)), "192.0.2.10 198.51.100.10");
	/* no answer from before: every member that is up (fail open), marked */
	struct dyn_table *t2 = compute_lua(c, g, lua, iad_down, NULL, &r2);
	a = dyn_answer_get(t2, FLAKY, H_EUROPE);
	ck_assert_str_eq(values(a), "192.0.2.10");
	ck_assert(a->flags & DYN_FLAG_POLICY_ERROR);
	dyn_table_free(t0);
	dyn_table_free(t1);
	dyn_table_free(t2);
	lua_policy_free(lua);
	geo_map_free(g);
	conf_free(c);
	diag_free(&d);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("builtin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failover_follows_each_regions_order);
	tcase_add_test(tc, failover_moves_on_when_members_are_down);
	tcase_add_test(tc, nearest_orders_by_distance_and_spills_over);
	tcase_add_test(tc, types_take_their_own_members);
	tcase_add_test(tc, weighted_draws_follow_weights);
	tcase_add_test(tc, all_with_a_cap_rotates);
	tcase_add_test(tc, shuffle_and_hash_select);
	suite_add_tcase(s, tc);
	TCase *health = tcase_create("health");
	tcase_add_checked_fixture(health, health_setup, health_teardown);
	tcase_add_test(health, standby_members_serve_only_through_a_fallback);
	tcase_add_test(health, a_degraded_answer_takes_ttl_degraded);
	tcase_add_test(health, a_draining_member_stays_with_the_degraded_ttl);
	tcase_add_test(health, all_down_serve_all_fails_open_without_standby);
	tcase_add_test(health, all_down_last_good_keeps_the_answer_from_before);
	tcase_add_test(health, all_down_fallback_pool_includes_its_standby);
	tcase_add_test(health, a_failing_lua_policy_keeps_the_last_good_answer);
	suite_add_tcase(s, health);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
