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
	bool web[] = {false, false, true, true, true}, edge[] = {true, true};
	const bool *up[] = {web, edge};
	struct policy_inputs in = {.up = up};
	struct dyn_table *t = compute(&in);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, EUROPE)), "198.51.100.10");
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, ASIA)), "203.0.113.10");
	dyn_table_free(t);

	/* every member down: fail open with every member of the type, never an empty answer */
	bool none[] = {false, false, false, false, false};
	const bool *down[] = {none, edge};
	in.up = down;
	t = compute(&in);
	ck_assert_str_eq(values(dyn_answer_get(t, WWW, EUROPE)), "192.0.2.10 192.0.2.11 198.51.100.10 203.0.113.10");
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
	ck_assert_uint_eq(dyn_select(dyn_answer_get(t, CDN, ASIA), 7, picked), 2);
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
		ck_assert_uint_eq(dyn_select(a, seed, picked), 1);
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
		ck_assert_uint_eq(dyn_select(a, seed, picked), 2);
		ck_assert_uint_ne(picked[0], picked[1]);
		seen[picked[0]] = true;
	}
	for (int i = 0; i < 4; i++)
		ck_assert(seen[i]);
	dyn_table_free(t);
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
	suite_add_tcase(s, tc);
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
