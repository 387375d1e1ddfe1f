/* test_region_counts.c -- unit tests of the dynamic answers counted by client region
 * (region_counts.h): a row per query thread, each on its own cache lines; totals by region name
 * that survive a reload adding, dropping and reordering regions. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "meridian/region_counts.h"
#include "support.h"

/* A config with these regions (Lua table fields: name = { nets = {...} }), two workers and two listen
 * addresses. */
static struct conf *config(const char *name, const char *regions, const char *default_region)
{
	char text[1024];
	unit_write_file("r.zone", "$ORIGIN example.com.\n$TTL 300\n"
				  "@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n");
	snprintf(text, sizeof(text),
		 "serial = 1\nlisten = { \"127.0.0.1:5353\", \"[::1]:5353\" }\nworkers = 2\n"
		 "zones = { { name = \"example.com\", file = \"r.zone\" } }\n%s%s%s%s",
		 regions ? "regions = " : "", regions ? regions : "",
		 default_region ? "\ndefault_region = " : "", default_region ? default_region : "");
	return unit_load_conf(name, text);
}

static unsigned region_index(const struct conf *c, const char *name)
{
	for (unsigned i = 0; i < c->geo.region_count; i++)
		if (strcmp(c->geo.regions[i].name, name) == 0)
			return i;
	ck_abort_msg("no region %s", name);
	return 0;
}

START_TEST(a_row_per_query_thread)
{
	struct conf *c = config("a.conf",
				"{ eu = { nets = { \"192.0.2.0/24\" } }, us = { nets = { \"10.0.0.0/8\" } } }",
				"\"us\"");
	/* per worker its TCP thread, then a UDP thread per listen address */
	ck_assert_uint_eq(region_counts_rows(c), 6);
	ck_assert_uint_eq(region_counts_slot(c, 0, false, 0), 1);
	ck_assert_uint_eq(region_counts_slot(c, 0, true, 0), 2);
	ck_assert_uint_eq(region_counts_slot(c, 0, true, 1), 3);
	ck_assert_uint_eq(region_counts_slot(c, 1, false, 0), 4);
	ck_assert_uint_eq(region_counts_slot(c, 1, true, 1), 6);
	struct region_counts *t = region_counts_new(c);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->regions, 2);
	/* rows start cache lines apart, so threads never share one */
	ck_assert_uint_eq(t->stride * sizeof(uint64_t) % 64, 0);
	ck_assert_uint_eq((uintptr_t)t->cells % 64, 0);
	unsigned eu = region_index(c, "eu"), us = region_index(c, "us");
	for (unsigned slot = 1; slot <= 6; slot++)
		region_counts_add(t, slot, eu);
	region_counts_add(t, 4, us);
	region_counts_add(t, 4, us);
	/* no thread, a slot or region beyond the table: nothing */
	region_counts_add(t, 0, eu);
	region_counts_add(t, 7, eu);
	region_counts_add(t, 3, 2);
	ck_assert_uint_eq(region_counts_sum(t, eu), 6);
	ck_assert_uint_eq(region_counts_sum(t, us), 2);
	ck_assert_uint_eq(region_counts_sum(t, 2), 0);
	region_counts_free(t);
	conf_free(c);
	/* no regions: no table, and adding to none is harmless */
	c = config("none.conf", NULL, NULL);
	ck_assert_ptr_null(region_counts_new(c));
	region_counts_add(NULL, 1, 0);
	ck_assert_uint_eq(region_counts_sum(NULL, 0), 0);
	conf_free(c);
}
END_TEST

/* What region_counts_each reports, as "name=answers" or "name=answers(earlier)", comma-separated. */
struct listing {
	char text[512];
};

static void list_one(const char *region, uint64_t answers, bool current, void *arg)
{
	struct listing *l = arg;
	size_t at = strlen(l->text);
	snprintf(l->text + at, sizeof(l->text) - at, "%s%s=%llu%s", at ? "," : "", region,
		 (unsigned long long)answers, current ? "" : "(earlier)");
}

static const char *listing(const struct region_counts *live, const struct conf *c)
{
	static struct listing l;
	l.text[0] = '\0';
	region_counts_each(live, c, list_one, &l);
	return l.text;
}

START_TEST(totals_survive_reloads_by_name)
{
	region_counts_reset();
	struct conf *one =
	    config("one.conf",
		   "{ eu = { nets = { \"192.0.2.0/24\" } }, us = { nets = { \"10.0.0.0/8\" } },"
		   " apac = { nets = { \"198.51.100.0/24\" } } }",
		   "\"us\"");
	struct region_counts *t1 = region_counts_new(one);
	region_counts_add(t1, 2, region_index(one, "eu"));
	region_counts_add(t1, 5, region_index(one, "eu"));
	region_counts_add(t1, 1, region_index(one, "us"));
	region_counts_add(t1, 3, region_index(one, "apac"));
	/* the running config's regions in its order, its table added */
	char want[512];
	snprintf(want, sizeof(want), "%s", listing(t1, one));
	ck_assert_msg(strstr(want, "eu=2") && strstr(want, "us=1") && strstr(want, "apac=1") &&
			  !strstr(want, "earlier"),
		      "%s", want);
	/* a reload: apac goes, asia comes, the order changes; the old table is retired by name */
	struct conf *two = config("two.conf",
				  "{ asia = { nets = { \"198.51.100.0/24\" } }, us = { nets = { \"10.0.0.0/8\" } },"
				  " eu = { nets = { \"192.0.2.0/24\" } } }",
				  "\"us\"");
	struct region_counts *t2 = region_counts_new(two);
	region_counts_retire(t1, one);
	region_counts_free(t1);
	region_counts_add(t2, 6, region_index(two, "eu"));
	region_counts_add(t2, 1, region_index(two, "asia"));
	const char *got = listing(t2, two);
	ck_assert_msg(strstr(got, "eu=3") && strstr(got, "us=1") && strstr(got, "asia=1") &&
			  strstr(got, "apac=1(earlier)"),
		      "%s", got);
	/* current regions come first, in the config's order; earlier ones after them */
	char order[512] = "";
	for (unsigned i = 0; i < two->geo.region_count; i++) {
		strcat(order, i ? "," : "");
		strcat(order, two->geo.regions[i].name);
	}
	char names[512] = "";
	for (const char *p = got; *p;) {
		size_t n = strcspn(p, "=");
		strncat(names, p, n);
		p += n;
		p += strcspn(p, ",");
		if (*p == ',') {
			strcat(names, ",");
			p++;
		}
	}
	strcat(order, ",apac");
	ck_assert_str_eq(names, order);
	/* apac comes back: its earlier count carries on */
	struct conf *three = config("three.conf", "{ apac = { nets = { \"198.51.100.0/24\" } } }", "\"apac\"");
	region_counts_retire(t2, two);
	region_counts_free(t2);
	struct region_counts *t3 = region_counts_new(three);
	region_counts_add(t3, 1, 0);
	ck_assert_str_eq(listing(t3, three), "apac=2,eu=3(earlier),us=1(earlier),asia=1(earlier)");
	region_counts_free(t3);
	region_counts_reset();
	ck_assert_str_eq(listing(NULL, three), "apac=0");
	conf_free(one);
	conf_free(two);
	conf_free(three);
}
END_TEST

static Suite *region_counts_suite(void)
{
	Suite *s = suite_create("region_counts");
	TCase *tc = tcase_create("region_counts");
	tcase_add_test(tc, a_row_per_query_thread);
	tcase_add_test(tc, totals_survive_reloads_by_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(region_counts_suite(), "region_counts");
}
