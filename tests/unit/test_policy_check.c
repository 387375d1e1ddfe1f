/* test_policy_check.c -- unit tests for testing Lua policies before they serve: the --check scenarios
 * (policy_check_scenarios), the operator's test files (policy_test_file), and the shipped
 * zones/policies/failover.lua against the built-in failover.
 *
 * Fixtures live in tests/unit/data/policy_check/ (paths relative to the repo root, where tests run):
 * bad.conf holds policies that fail in some scenarios beside a correct one, check.conf the shipped
 * failover.lua beside the built-in failover. Test files that must not load are written to a
 * temporary folder. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meridian/loader.h"
#include "meridian/policy.h"
#include "meridian/policy_check.h"
#include "meridian/wire.h"

#include "support.h"

#define DATA "tests/unit/data/policy_check/"

/* Asserts that d holds exactly the entry text. */
static void expect_entry(const struct diag *d, const char *text)
{
	bool found = false;
	for (size_t i = 0; i < d->count; i++)
		found |= strcmp(d->entries[i].text, text) == 0;
	ck_assert_msg(found, "missing \"%s\" in:%s", text, unit_diag_text(d));
}

/* How many entries of d contain part. */
static size_t count_entries(const struct diag *d, const char *part)
{
	size_t n = 0;
	for (size_t i = 0; i < d->count; i++)
		n += strstr(d->entries[i].text, part) != NULL;
	return n;
}

/* Builds the snapshot of a config as --check does; it must load. */
static struct snapshot *load(const char *path)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(path, &d);
	struct snapshot *s = conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, &d) : NULL;
	ck_assert_msg(s != NULL, "%s did not load:%s", path, unit_diag_text(&d));
	diag_free(&d);
	return s;
}

START_TEST(scenarios_catch_failing_policies)
{
	struct snapshot *s = load(DATA "bad.conf");
	struct diag d;
	diag_init(&d);
	ck_assert(!policy_check_scenarios(s, &d));
	/* errors only with a datacenter down: once per region, naming record, region and scenario */
	const char *dc =
	    DATA "dc_down_errors.lua: record dc.example.com A, region %s, scenario dc iad down: " DATA
		 "dc_down_errors.lua:5: iad is gone";
	char want[512];
	snprintf(want, sizeof(want), dc, "europe");
	expect_entry(&d, want);
	snprintf(want, sizeof(want), dc, "americas");
	expect_entry(&d, want);
	ck_assert_uint_eq(count_entries(&d, "record dc.example.com"), 2);
	/* outside its pool whenever ams-1 is down: dc ams down, member web/ams-1 down, all down */
	const char *out =
	    DATA "outside_pool.lua: record out.example.com A, region %s, scenario %s: addrs[1]: "
		 "192.0.2.99 is not a member of pool web";
	const char *regions[] = {"europe", "americas"};
	const char *out_scenarios[] = {"dc ams down", "member web/ams-1 down", "all down"};
	for (size_t g = 0; g < 2; g++)
		for (size_t i = 0; i < 3; i++) {
			snprintf(want, sizeof(want), out, regions[g], out_scenarios[i]);
			expect_entry(&d, want);
		}
	ck_assert_uint_eq(count_entries(&d, "record out.example.com"), 6);
	/* empty when all are down */
	const char *empty =
	    DATA "empty_all_down.lua: record empty.example.com A, region %s, scenario all down: "
		 "empty answer";
	for (size_t g = 0; g < 2; g++) {
		snprintf(want, sizeof(want), empty, regions[g]);
		expect_entry(&d, want);
	}
	ck_assert_uint_eq(count_entries(&d, "record empty.example.com"), 2);
	/* the correct policy beside them passes every scenario */
	ck_assert_uint_eq(count_entries(&d, "good"), 0);
	ck_assert_uint_eq(d.errors, 10);
	ck_assert_uint_eq(d.count, 10);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(scenarios_without_regions)
{
	struct snapshot *s = load(DATA "noregions.conf");
	struct diag d;
	diag_init(&d);
	ck_assert(!policy_check_scenarios(s, &d));
	expect_entry(&d,
		     DATA "empty_all_down.lua: record empty.example.com A, region (none), scenario all down: "
			  "empty answer");
	ck_assert_uint_eq(d.count, 1);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(scenarios_pass_correct_policies)
{
	/* the shipped failover.lua, for A and AAAA, in five regions */
	struct snapshot *s = load(DATA "check.conf");
	struct diag d;
	diag_init(&d);
	ck_assert_msg(policy_check_scenarios(s, &d), "check.conf:%s", unit_diag_text(&d));
	ck_assert_uint_eq(d.count, 0);
	snapshot_free(s);
	/* every example policy on the example deployment */
	s = load("zones/meridian.conf");
	ck_assert_msg(policy_check_scenarios(s, &d), "zones/meridian.conf:%s", unit_diag_text(&d));
	ck_assert_uint_eq(d.count, 0);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* Runs a test file; its output in *text (caller frees). */
static bool run_file(const char *path, struct policy_test_counts *counts, struct diag *d, char **text)
{
	size_t len;
	FILE *out = open_memstream(text, &len);
	ck_assert_ptr_nonnull(out);
	bool ok = policy_test_file(path, out, counts, d);
	fclose(out);
	return ok;
}

static void expect_output(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part) != NULL, "missing \"%s\" in the output:\n%s", part, text);
}

/* Runs test file path, whose passed cases must all pass; returns its output (free it). */
static char *expect_all_pass(const char *path, size_t passed)
{
	struct policy_test_counts counts = {0, 0};
	struct diag d;
	diag_init(&d);
	char *text;
	ck_assert_msg(run_file(path, &counts, &d, &text), "%s", unit_diag_text(&d));
	ck_assert_msg(counts.passed == passed && counts.failed == 0, "%zu passed, %zu failed:\n%s",
		      counts.passed, counts.failed, text);
	ck_assert_ptr_null(strstr(text, "not ok"));
	diag_free(&d);
	return text;
}

START_TEST(test_file_passes)
{
	char *text = expect_all_pass(DATA "good.test.lua", 7);
	expect_output(text, "ok - europe: ams\n");
	expect_output(text, "ok - a failed policy serves the members up (no last good answer offline)\n");
	free(text);
}
END_TEST

/* Cases may say how long a member has been in its state and whether an operator forced it: the
 * policy sees both as ctx.members[i].since and .forced, in its own run and in the published answer. */
START_TEST(test_file_sets_since_and_forced)
{
	char *text = expect_all_pass(DATA "warm.test.lua", 5);
	expect_output(text, "ok - iad-1 up for two minutes: only it is warm\n");
	expect_output(text, "ok - forced up beats warm\n");
	free(text);
}
END_TEST

START_TEST(test_file_reports_wrong_expectations)
{
	struct policy_test_counts counts = {1, 2}; /* added to */
	struct diag d;
	diag_init(&d);
	char *text;
	ck_assert_msg(run_file(DATA "wrong.test.lua", &counts, &d, &text), "%s", unit_diag_text(&d));
	ck_assert_msg(counts.passed == 2 && counts.failed == 9, "%zu passed, %zu failed:\n%s", counts.passed,
		      counts.failed, text);
	expect_output(text, "ok - right\n");
	expect_output(text, "not ok - wrong addrs\n#   at " DATA "wrong.test.lua:9\n"
			    "#   expected addrs: 198.51.100.10\n#   got      addrs: 192.0.2.10\n");
	expect_output(text, "not ok - wrong order\n#   at " DATA "wrong.test.lua:10\n"
			    "#   expected addrs: 198.51.100.11, 198.51.100.10\n"
			    "#   got      addrs: 198.51.100.10, 198.51.100.11\n");
	expect_output(text, "not ok - wrong ttl\n#   at " DATA "wrong.test.lua:11\n"
			    "#   expected ttl: 60\n#   got      ttl: 30\n");
	expect_output(text, "not ok - wrong select\n#   at " DATA "wrong.test.lua:12\n"
			    "#   expected select: all\n#   got      select: first\n");
	expect_output(text, "not ok - wrong answers\n#   at " DATA "wrong.test.lua:13\n"
			    "#   expected answers: 2\n#   got      answers: 1\n");
	/* the fallback happens to match addrs: still a failure, with the policy's reason */
	expect_output(text, "not ok - the policy fails\n#   at " DATA "wrong.test.lua:14\n"
			    "#   the policy failed: " DATA "dc_down_errors.lua:5: iad is gone\n");
	expect_output(text, "not ok - the policy does not fail\n#   at " DATA "wrong.test.lua:17\n"
			    "#   expected the policy to fail, it answered\n");
	ck_assert_uint_eq(d.errors, 0);
	free(text);
	diag_free(&d);
}
END_TEST

/* Writes a test file into unit_tmpdir whose config is bad.conf (absolute); returns its path. */
static const char *write_test(const char *name, const char *body)
{
	static char path[256];
	char cwd[512];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "local config = '%s/" DATA "bad.conf'\n%s", cwd, body);
	fclose(f);
	return path;
}

/* A test file that cannot be used: false, no case run, and "path:error" in d, where {conf} in error
 * stands for the absolute path of bad.conf. */
static void expect_unusable(const char *path, const char *error)
{
	char cwd[512], conf[640], msg[1024];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(conf, sizeof(conf), "%s/" DATA "bad.conf", cwd);
	const char *at = strstr(error, "{conf}");
	if (at)
		snprintf(msg, sizeof(msg), "%.*s%s%s", (int)(at - error), error, conf, at + 6);
	else
		snprintf(msg, sizeof(msg), "%s", error);
	error = msg;
	struct policy_test_counts counts = {0, 0};
	struct diag d;
	diag_init(&d);
	char *text;
	ck_assert_msg(!run_file(path, &counts, &d, &text), "%s ran:\n%s", path, text);
	ck_assert_uint_eq(counts.passed + counts.failed, 0);
	ck_assert_msg(text[0] == '\0', "output of %s:\n%s", path, text);
	char want[2048];
	snprintf(want, sizeof(want), "%s:%s", path, error);
	expect_entry(&d, want);
	free(text);
	diag_free(&d);
}

/* One case of good.example.com in bad.conf, with the given fields. */
#define ONE_CASE(fields)                                                                                     \
	"return { config = config, record = 'good.example.com', type = 'A', cases = {\n"                     \
	"  { name = 'c', " fields " } } }\n"

/* Lua walks a table in an order that changes from one state to the next: a test file with several
 * unknown keys in one table, and several bad states, gets the same messages in the same order every
 * time it is read, by text within a line. */
START_TEST(test_file_messages_in_a_fixed_order)
{
	const char *path = write_test(
	    "order.lua",
	    ONE_CASE("expect = { error = true }, zeta = 1, alpha = 2, mid = 3, "
		     "states = { ['web/ams-1'] = 'off', ['web/iad-1'] = 'gone', ['web/ams-2'] = 'x' }"));
	char first[4096] = "";
	for (int i = 0; i < 20; i++) {
		struct policy_test_counts counts = {0, 0};
		struct diag d;
		diag_init(&d);
		char *text;
		ck_assert(!run_file(path, &counts, &d, &text));
		char all[4096] = "";
		for (size_t j = 0; j < d.count; j++)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", d.entries[j].text);
		free(text);
		diag_free(&d);
		if (i == 0)
			memcpy(first, all, sizeof(all));
		else
			ck_assert_str_eq(all, first);
	}
	ck_assert_ptr_nonnull(strstr(first, "unknown key 'alpha'"));
	ck_assert(strstr(first, "'alpha'") < strstr(first, "'mid'"));
	ck_assert(strstr(first, "'mid'") < strstr(first, "'zeta'"));
	ck_assert(strstr(first, "web/ams-1") < strstr(first, "web/ams-2"));
	ck_assert(strstr(first, "web/ams-2") < strstr(first, "web/iad-1"));
}
END_TEST

START_TEST(test_file_unusable)
{
	expect_unusable(write_test("syntax.lua", "return { config = config,\n cases = { { name = 'x' } }\n"),
			"4: '}' expected (to close '{' at line 2) near <eof>");
	expect_unusable(write_test("runtime.lua", "return { config = config, cases = nil .. 1 }\n"),
			"2: attempt to concatenate a nil value");
	expect_unusable(write_test("nothing.lua", "config2 = config\n"),
			" expected the file to return a table { config = ..., cases = ... }, got nil");
	expect_unusable(
	    write_test("noconfig.lua", "return { cases = { { name = 'c', expect = { error = true } } } }\n"),
	    " config: missing (the config file the cases run against)");
	expect_unusable(
	    write_test("nocases.lua", "return { config = config, record = 'x', type = 'A', cases = {} }\n"),
	    " cases: expected a list of at least one case");
	expect_unusable(
	    write_test("unknown.lua", ONE_CASE("expect = { addrs = { '192.0.2.10' } }, stats = {}")),
	    "3: cases[1]: unknown key 'stats'");
	expect_unusable(write_test("expectkey.lua", ONE_CASE("expect = { addr = { '192.0.2.10' } }")),
			"3: cases[1].expect: unknown key 'addr'");
	expect_unusable(write_test("noaddrs.lua", ONE_CASE("expect = { ttl = 30 }")),
			"3: cases[1].expect: addrs (or targets for a CNAME) is required");
	expect_unusable(
	    write_test("record.lua", ONE_CASE("record = 'nope.example.com', expect = { error = true }")),
	    "3: cases[1]: {conf} has no dynamic record nope.example.com A");
	expect_unusable(write_test("region.lua", ONE_CASE("region = 'mars', expect = { error = true }")),
			"3: cases[1].region: {conf} has no region named 'mars'");
	expect_unusable(
	    write_test("member.lua",
		       ONE_CASE("states = { ['web/ams-9'] = 'down' }, expect = { error = true }")),
	    "3: cases[1].states: {conf} has no member 'web/ams-9'");
	expect_unusable(write_test("state.lua",
				   ONE_CASE("states = { ['web/ams-1'] = 'off' }, expect = { error = true }")),
			"3: cases[1].states[\"web/ams-1\"]: expected \"up\", \"down\", \"drain\" or a table "
			"{ state = ..., since = SECONDS, forced = BOOL }");
	expect_unusable(
	    write_test("statetable.lua", ONE_CASE("states = { ['web/ams-1'] = { state = 'off' } }, "
						  "expect = { error = true }")),
	    "3: cases[1].states[\"web/ams-1\"].state: expected \"up\", \"down\" or \"drain\"");
	expect_unusable(write_test("statekey.lua",
				   ONE_CASE("states = { ['web/ams-1'] = { state = 'up', duration = 3 } }, "
					    "expect = { error = true }")),
			"3: cases[1].states[\"web/ams-1\"]: unknown key 'duration'");
	expect_unusable(
	    write_test("since.lua", ONE_CASE("states = { ['web/ams-1'] = { state = 'up', since = -1 } }, "
					     "expect = { error = true }")),
	    "3: cases[1].states[\"web/ams-1\"].since: expected a number of seconds >= 0");
	expect_unusable(
	    write_test("forced.lua", ONE_CASE("states = { ['web/ams-1'] = { state = 'up', forced = 1 } }, "
					      "expect = { error = true }")),
	    "3: cases[1].states[\"web/ams-1\"].forced: expected true or false, got number");
	expect_unusable(write_test("addr.lua", ONE_CASE("expect = { addrs = { '192.0.2.300' } }")),
			"3: cases[1].expect.addrs[1]: \"192.0.2.300\" is not an IPv4 address");
	expect_unusable(write_test("targets.lua", ONE_CASE("expect = { targets = { 'x.example.net' } }")),
			"3: cases[1].expect: an A record expects addrs, not targets");
	expect_unusable(
	    write_test("select.lua", ONE_CASE("expect = { error = true, select = 'random' }")),
	    "3: cases[1].expect.select: expected all, first, weighted, shuffle or hash, got \"random\"");
	expect_unusable(
	    write_test("recheck.lua",
		       "return { config = config, record = 'good.example.com', type = 'A', cases = {\n"
		       "  { name = 'a', expect = { error = true } },\n"
		       "  { name = 'a', expect = { error = true } } } }\n"),
	    "4: cases[2].name: \"a\" is already the name of cases[1]");
}
END_TEST

START_TEST(test_file_config_problems)
{
	/* a missing test file, and a config that does not load */
	struct policy_test_counts counts = {0, 0};
	struct diag d;
	diag_init(&d);
	char *text;
	ck_assert(!run_file(DATA "nope.test.lua", &counts, &d, &text));
	expect_entry(&d, DATA "nope.test.lua: cannot read: No such file or directory");
	free(text);
	diag_free(&d);
	diag_init(&d);
	const char *p =
	    write_test("noconf.lua", "return { config = 'missing.conf', record = 'a.example.com', "
				     "type = 'A', cases = { { name = 'c', expect = { error = true } } } }\n");
	ck_assert(!run_file(p, &counts, &d, &text));
	char want[512];
	snprintf(want, sizeof(want), "%s: its config %s/missing.conf does not load", p, unit_tmpdir);
	expect_entry(&d, want);
	snprintf(want, sizeof(want), "%s/missing.conf: cannot read: No such file or directory", unit_tmpdir);
	expect_entry(&d, want);
	ck_assert_uint_eq(counts.passed + counts.failed, 0);
	free(text);
	diag_free(&d);
}
END_TEST

/* ---- failover.lua against the built-in failover -------------------------------------------------- */

/* The states of one scenario; returns its name. kind: 0 all up, 1 dc `which` down, 2 member `which`
 * down, 3 member `which` drains, 4 all down. */
static const char *scenario(const struct conf *conf, unsigned pool, int kind, unsigned which, uint8_t *states)
{
	static char name[128];
	const struct conf_pool *p = &conf->pools[pool];
	for (unsigned m = 0; m < p->member_count; m++) {
		bool out = kind == 4 || (kind == 1 && p->members[m].dc == which) || (kind == 2 && m == which);
		states[m] = out ? HEALTH_OUT : kind == 3 && m == which ? HEALTH_DRAINING : HEALTH_SERVING;
	}
	const char *kinds[] = {"all up", "dc %s down", "member %s down", "member %s drains", "all down"};
	snprintf(name, sizeof(name), kinds[kind],
		 kind == 1		  ? conf->datacenters[which].name
		 : kind == 2 || kind == 3 ? p->members[which].name
					  : "");
	return name;
}

static void expect_same_answer(const struct dyn_answer *builtin, const struct dyn_answer *lua,
			       const char *what)
{
	ck_assert_msg(builtin->count == lua->count, "%s: %u values built-in, %u in Lua", what, builtin->count,
		      lua->count);
	size_t len = builtin->offsets[builtin->count - 1] + 2u +
		     (size_t)(builtin->rdata[builtin->offsets[builtin->count - 1]] << 8 |
			      builtin->rdata[builtin->offsets[builtin->count - 1] + 1]);
	ck_assert_msg(memcmp(builtin->rdata, lua->rdata, len) == 0, "%s: different values", what);
	ck_assert_msg(builtin->select == lua->select, "%s: select %u built-in, %u in Lua", what,
		      builtin->select, lua->select);
	ck_assert_msg(builtin->cap == lua->cap, "%s: cap %u built-in, %u in Lua", what, builtin->cap,
		      lua->cap);
	ck_assert_msg(builtin->ttl == lua->ttl, "%s: ttl %u built-in, %u in Lua", what, builtin->ttl,
		      lua->ttl);
}

/* Compares records builtin and lua (same pool) in every region and scenario; returns the number of
 * comparisons. */
static size_t compare_failover(const struct snapshot *s, size_t builtin, size_t lua)
{
	const struct conf *conf = s->conf;
	unsigned pool = conf->records[builtin].pool;
	const struct conf_pool *p = &conf->pools[pool];
	uint8_t **serving = calloc(conf->pool_count, sizeof(*serving));
	ck_assert_ptr_nonnull(serving);
	for (size_t i = 0; i < conf->pool_count; i++)
		ck_assert_ptr_nonnull(serving[i] = calloc(conf->pools[i].member_count, 1));
	struct {
		int kind;
		size_t count;
	} kinds[] = {{0, 1}, {1, conf->datacenter_count}, {2, p->member_count}, {3, p->member_count}, {4, 1}};
	size_t compared = 0;
	for (size_t k = 0; k < 5; k++)
		for (unsigned which = 0; which < kinds[k].count; which++) {
			const char *name = scenario(conf, pool, kinds[k].kind, which, serving[pool]);
			struct policy_inputs in = {
			    .serving = (const uint8_t *const *)serving, .lua = s->lua, .now = 1700000000};
			struct diag d;
			diag_init(&d);
			struct dyn_table *t = policy_compute(conf, s->geo, &in, &d);
			ck_assert_msg(t != NULL && d.count == 0, "%s:%s", name, unit_diag_text(&d));
			for (unsigned g = 0; g < t->region_count; g++) {
				char what[256];
				snprintf(what, sizeof(what), "%s, region %s, %s", conf->records[builtin].name,
					 conf->geo.region_count ? conf->geo.regions[g].name : "(none)", name);
				expect_same_answer(dyn_answer_get(t, builtin, g), dyn_answer_get(t, lua, g),
						   what);
				compared++;
			}
			dyn_table_free(t);
			diag_free(&d);
		}
	for (size_t i = 0; i < conf->pool_count; i++)
		free(serving[i]);
	free(serving);
	return compared;
}

START_TEST(failover_lua_matches_builtin)
{
	struct snapshot *s = load(DATA "check.conf");
	/* 5 regions x (all up, 3 dcs down, 8 members down, 8 draining, all down) */
	ck_assert_uint_eq(compare_failover(s, 0, 1), 5 * 21); /* A */
	ck_assert_uint_eq(compare_failover(s, 2, 3), 5 * 21); /* AAAA */
	snapshot_free(s);
	/* the example deployment: app.example.com (built-in) and api.example.com (failover.lua) */
	s = load("zones/meridian.conf");
	ck_assert_str_eq(s->conf->records[0].name, "app.example.com");
	ck_assert_str_eq(s->conf->records[3].name, "api.example.com");
	ck_assert_uint_eq(compare_failover(s, 0, 3), 5 * 11);
	snapshot_free(s);
}
END_TEST

static Suite *policy_check_suite(void)
{
	Suite *s = suite_create("policy_check");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, scenarios_catch_failing_policies);
	tcase_add_test(tc, scenarios_without_regions);
	tcase_add_test(tc, scenarios_pass_correct_policies);
	tcase_add_test(tc, test_file_passes);
	tcase_add_test(tc, test_file_sets_since_and_forced);
	tcase_add_test(tc, test_file_reports_wrong_expectations);
	tcase_add_test(tc, test_file_unusable);
	tcase_add_test(tc, test_file_messages_in_a_fixed_order);
	tcase_add_test(tc, test_file_config_problems);
	tcase_add_test(tc, failover_lua_matches_builtin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(policy_check_suite(), "policy-check");
}
