/* test_monitor.c -- unit tests of the health monitor on a real libev loop with real exec probes:
 * each member's check is `test -e DIR/up-NAME`, and the tests flip those files. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/monitor.h"
#include "support.h"

#define INTERVAL 0.1

static struct ev_loop *loop;
static char dir[64], command[160], state_path[128];
static struct conf_check chk;
static struct conf_member web[4], statics[1];
static struct conf_pool pools[2];
static struct conf cf;
static struct monitor *m;
static unsigned changed_calls;
static char logbuf[16384];

static void on_changed(void *arg)
{
	(void)arg;
	changed_calls++;
}

static void on_log(void *arg, const char *line)
{
	(void)arg;
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%.3f %s\n", ev_now(loop), line);
	size_t used = strlen(logbuf);
	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", line);
}

static const struct monitor_hooks hooks = {on_changed, on_log, NULL};

static void member(struct conf_member *cm, const char *name, unsigned last_octet, const struct conf_check *c)
{
	memset(cm, 0, sizeof(*cm));
	cm->name = name;
	cm->family = AF_INET;
	cm->addr[0] = 127;
	cm->addr[3] = (uint8_t)last_octet;
	cm->weight = 1;
	cm->check = c;
}

/* web = { a, b, c } monitored; static = { u } not monitored. */
static void setup(void)
{
	loop = EV_DEFAULT;
	snprintf(dir, sizeof(dir), "/tmp/meridian-test-monitor-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(command, sizeof(command), "test -e %s/up-{name}", dir);
	snprintf(state_path, sizeof(state_path), "%s/health.state", dir);
	memset(&chk, 0, sizeof(chk));
	chk.type = CONF_CHECK_EXEC;
	chk.command = command;
	chk.interval = INTERVAL;
	/* as long as the interval allows: forking `sh -c test ...` can take tens of milliseconds on a
	 * busy machine, and a check that times out would read as a failure */
	chk.timeout = INTERVAL * 0.9;
	chk.rise = 2;
	chk.fall = 2;
	chk.flap_window = 60;
	chk.hold = 120;
	member(&web[0], "a", 1, &chk);
	member(&web[1], "b", 2, &chk);
	member(&web[2], "c", 3, &chk);
	member(&statics[0], "u", 9, NULL);
	pools[0] = (struct conf_pool){.name = "web", .members = web, .member_count = 3};
	pools[1] = (struct conf_pool){.name = "static", .members = statics, .member_count = 1};
	memset(&cf, 0, sizeof(cf));
	cf.pools = pools;
	cf.pool_count = 2;
	m = NULL;
	changed_calls = 0;
	logbuf[0] = 0;
}

static void teardown(void)
{
	monitor_free(m);
	DIR *dp = opendir(dir);
	if (dp) {
		struct dirent *de;
		char p[384];
		while ((de = readdir(dp)))
			if (de->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
				unlink(p);
			}
		closedir(dp);
	}
	rmdir(dir);
}

static void set_up(const char *name, bool up)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/up-%s", dir, name);
	if (up) {
		FILE *f = fopen(p, "w");
		ck_assert_ptr_nonnull(f);
		fclose(f);
	} else {
		unlink(p);
	}
}

static struct monitor *start(const char *path)
{
	struct diag d;
	diag_init(&d);
	struct monitor *mon = monitor_new(loop, &cf, path, &hooks, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(mon);
	diag_free(&d);
	return mon;
}

/* ---- running the loop until something holds ---- */

typedef bool (*pred_fn)(void);

/* Runs the loop until pred holds or `seconds` pass; returns pred. */
static bool run_until(pred_fn pred, double seconds)
{
	return unit_run_until(loop, pred, seconds);
}

static void run_for(double seconds)
{
	unit_run_until(loop, NULL, seconds);
}

static const struct health_state *st(unsigned i)
{
	return monitor_state(m, 0, i);
}

static enum health_serving serving(unsigned pool, unsigned i)
{
	return monitor_serving(m, pool, i, ev_now(loop));
}

static bool all_have_results(void)
{
	return st(0)->has_result && st(1)->has_result && st(2)->has_result;
}
static bool a_down(void)
{
	return !st(0)->up;
}
static bool a_up(void)
{
	return st(0)->up;
}
static bool a_failed_4(void)
{
	return !st(0)->last_ok && st(0)->streak >= 4;
}
static bool b_failed_4(void)
{
	return !st(1)->last_ok && st(1)->streak >= 4;
}
static bool c_down(void)
{
	return !st(2)->up;
}
static bool all_down(void)
{
	return !st(0)->up && !st(1)->up && !st(2)->up;
}
static bool frozen(void)
{
	return monitor_frozen(m);
}
static bool thawed(void)
{
	return !monitor_frozen(m);
}
static bool changed_once(void)
{
	return changed_calls > 0;
}

static void all_up_and_checked(void)
{
	set_up("a", true);
	set_up("b", true);
	set_up("c", true);
	double t0 = ev_time();
	ck_assert(run_until(all_have_results, 1));
	/* the first round is staggered over min(1 s, interval), plus the time a check takes: well
	 * under the second a round staggered over a whole second would take, even under a sanitizer
	 * on a busy machine (0.49 s seen with ASan, where 0.35 was once allowed) */
	ck_assert_double_lt(ev_time() - t0, INTERVAL + 0.75);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(st(i)->up);
		ck_assert(st(i)->last_ok);
	}
}

START_TEST(down_after_fall_and_back_after_rise)
{
	m = start(NULL);
	all_up_and_checked();
	ck_assert_uint_eq(changed_calls, 0);
	ck_assert(monitor_monitored(m, 0, 0));
	ck_assert(!monitor_monitored(m, 1, 0));
	ck_assert_int_eq(serving(1, 0), HEALTH_SERVING);

	set_up("a", false);
	double t0 = ev_time();
	ck_assert(run_until(a_down, 2));
	/* two failures: two jittered intervals and the checks' own time (room for a sanitizer on a busy
	 * machine; the streak below says it took exactly two) */
	ck_assert_double_lt(ev_time() - t0, 2 * 1.1 * INTERVAL + 0.5);
	ck_assert_uint_eq(st(0)->streak, 2);
	ck_assert_int_eq(serving(0, 0), HEALTH_OUT);
	ck_assert_int_eq(serving(0, 1), HEALTH_SERVING);
	ck_assert(run_until(changed_once, 0.5));
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/a down: exit 1 (2 consecutive failures)"));
	ck_assert(!monitor_frozen(m));

	unsigned calls = changed_calls;
	set_up("a", true);
	ck_assert(run_until(a_up, 2));
	ck_assert_int_eq(serving(0, 0), HEALTH_SERVING);
	run_for(0.02);
	ck_assert_uint_eq(changed_calls, calls + 1);
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/a up: exit 0 (2 consecutive successes)"));

	struct monitor_stats s;
	monitor_stats(m, &s);
	ck_assert_uint_eq(s.transitions, 2);
	ck_assert_uint_ge(s.failures, 2);
	ck_assert_uint_ge(s.checks, s.failures + 5);
	ck_assert_uint_eq(s.freezes, 0);
	ck_assert_uint_eq(monitor_generation(m), 1);
}
END_TEST

START_TEST(sudden_loss_freezes_and_success_thaws)
{
	chk.fall = 3;
	m = start(NULL);
	all_up_and_checked();
	set_up("a", false);
	set_up("b", false);
	set_up("c", false);
	ck_assert(run_until(frozen, 1));
	ck_assert_ptr_nonnull(strstr(logbuf, "health: FROZEN: all 3 monitored members failed within"));
	ck_assert(run_until(all_down, 2));
	/* observed down, published as before the collapse */
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(serving(0, i), HEALTH_SERVING);
	run_for(0.05);
	ck_assert_uint_eq(changed_calls, 0);
	ck_assert(monitor_frozen(m));
	struct monitor_stats s;
	monitor_stats(m, &s);
	ck_assert_uint_eq(s.freezes, 1);
	ck_assert_uint_eq(s.transitions, 3);

	/* the first success thaws: published = observed, as the state machines stand */
	set_up("b", true);
	ck_assert(run_until(thawed, 1));
	ck_assert_ptr_nonnull(strstr(logbuf, "health: thawed: web/b answered"));
	ck_assert_int_eq(serving(0, 0), HEALTH_OUT);
	ck_assert_int_eq(serving(0, 2), HEALTH_OUT);
	ck_assert(run_until(changed_once, 0.5));
	ck_assert(!run_until(frozen, 0.3)); /* a and c keep failing, but b succeeds: no new freeze */
	ck_assert(st(1)->up);
	ck_assert_int_eq(serving(0, 1), HEALTH_SERVING);
}
END_TEST

START_TEST(freeze_restores_members_that_fell_in_the_collapse)
{
	/* fall = 1: members go down at their first failure, before the freeze is known */
	chk.fall = 1;
	chk.rise = 1000;
	m = start(NULL);
	all_up_and_checked();
	/* c went down earlier; it answers again but has not risen (rise 1000) when the collapse comes */
	set_up("c", false);
	ck_assert(run_until(c_down, 1));
	set_up("c", true);
	run_for(2 * INTERVAL);
	ck_assert(st(2)->last_ok);
	ck_assert(!st(2)->up);
	ck_assert(!monitor_frozen(m));

	set_up("a", false);
	set_up("b", false);
	set_up("c", false);
	ck_assert(run_until(frozen, 1));
	ck_assert(run_until(all_down, 1));
	ck_assert_int_eq(serving(0, 0), HEALTH_SERVING);
	ck_assert_int_eq(serving(0, 1), HEALTH_SERVING);
	ck_assert_int_eq(serving(0, 2), HEALTH_OUT); /* down before the collapse: stays down */
	run_for(0.02);
	ck_assert(monitor_frozen(m));
	ck_assert_int_eq(serving(0, 0), HEALTH_SERVING);
}
END_TEST

START_TEST(gradual_loss_is_not_a_freeze)
{
	m = start(NULL);
	all_up_and_checked();
	set_up("a", false);
	ck_assert(run_until(a_failed_4, 2));
	set_up("b", false);
	ck_assert(run_until(b_failed_4, 2));
	set_up("c", false);
	ck_assert(run_until(c_down, 2));
	run_for(2 * INTERVAL);
	ck_assert(!monitor_frozen(m));
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(serving(0, i), HEALTH_OUT);
	ck_assert_ptr_null(strstr(logbuf, "FROZEN"));
	struct monitor_stats s;
	monitor_stats(m, &s);
	ck_assert_uint_eq(s.freezes, 0);
}
END_TEST

static bool drained(void)
{
	return serving(0, 1) == HEALTH_OUT;
}

START_TEST(force_and_generation)
{
	char err[160] = "";
	m = start(NULL);
	all_up_and_checked();
	uint64_t gen = monitor_generation(m);
	ck_assert_int_eq(monitor_force(m, 0, 0, HEALTH_FORCE_DOWN, 0, gen, err, sizeof(err)), 0);
	ck_assert_uint_eq(monitor_generation(m), gen + 1);
	ck_assert_uint_eq(changed_calls, 0); /* never from inside monitor_force */
	ck_assert_int_eq(serving(0, 0), HEALTH_OUT);
	ck_assert_int_eq(st(0)->forced, HEALTH_FORCE_DOWN);
	ck_assert(st(0)->up);

	/* acting on the old generation is refused, naming both */
	ck_assert_int_eq(monitor_force(m, 0, 1, HEALTH_FORCE_UP, 0, gen, err, sizeof(err)), 1);
	char want[160];
	snprintf(want, sizeof(want),
		 "generation moved: you acted on generation %llu, the current generation is %llu",
		 (unsigned long long)gen, (unsigned long long)gen + 1);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(st(1)->forced, HEALTH_AUTO);
	ck_assert_uint_eq(monitor_generation(m), gen + 1);

	/* two changes in one go: one changed() call */
	ck_assert_int_eq(monitor_force(m, 1, 0, HEALTH_FORCE_DOWN, 0, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(serving(1, 0), HEALTH_OUT);
	run_for(0.03);
	ck_assert_uint_eq(changed_calls, 1);
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/a forced down (generation 2)"));

	/* drain: degraded now, out at the deadline, with a changed() call then */
	ck_assert_int_eq(monitor_force(m, 0, 1, HEALTH_FORCE_DRAIN, 0.2, gen + 2, err, sizeof(err)), 0);
	double t0 = ev_time();
	ck_assert_int_eq(serving(0, 1), HEALTH_DRAINING);
	run_for(0.03);
	ck_assert_uint_eq(changed_calls, 2);
	ck_assert(run_until(drained, 1));
	ck_assert_double_ge(ev_time() - t0, 0.15);
	ck_assert(run_until(changed_once, 0.1));
	run_for(0.03);
	ck_assert_uint_eq(changed_calls, 3);
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/b drained"));

	ck_assert_int_eq(monitor_force(m, 0, 3, HEALTH_FORCE_UP, 0, 0, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "no member"));
	ck_assert_int_eq(monitor_force(m, 2, 0, HEALTH_FORCE_UP, 0, 0, err, sizeof(err)), 1);
	ck_assert_uint_eq(monitor_generation(m), gen + 3);
}
END_TEST

static bool a_held(void)
{
	return st(0)->held_until > 0;
}

START_TEST(hold_ends_by_its_timer)
{
	chk.fall = 1;
	chk.rise = 1;
	chk.flap_limit = 1;
	chk.hold = 0.3;
	m = start(NULL);
	all_up_and_checked();
	set_up("a", false);
	ck_assert(run_until(a_down, 1));
	set_up("a", true);
	ck_assert(run_until(a_held, 1));
	double t0 = ev_time();
	ck_assert(!st(0)->up);
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/a held down: exit 0; flapping: 2 transitions"));
	ck_assert(!run_until(a_up, 0.2)); /* successes do not end a hold */
	ck_assert(run_until(a_up, 1));
	ck_assert_double_ge(ev_time() - t0, 0.25);
	ck_assert_int_eq(serving(0, 0), HEALTH_SERVING);
	/* the hold timer or a check at the deadline ends it, whichever comes first */
	ck_assert_ptr_nonnull(strstr(logbuf, "health: web/a up: exit 0 ("));
	ck_assert_ptr_null(strstr(logbuf, "stays down"));
}
END_TEST

static struct conf_member web2[3];
static struct conf_pool pools2[2];
static struct conf cf2;

static bool d_checked(void)
{
	return monitor_state(m, 1, 1)->has_result;
}
static bool moved_a_up(void)
{
	return monitor_state(m, 1, 2)->up;
}

START_TEST(reconfigure_keeps_state)
{
	m = start(NULL);
	all_up_and_checked();
	set_up("a", false);
	ck_assert(run_until(a_down, 2));
	char err[160];
	ck_assert_int_eq(monitor_force(m, 0, 2, HEALTH_FORCE_DOWN, 0, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(monitor_force(m, 1, 0, HEALTH_FORCE_DOWN, 0, 0, err, sizeof(err)), 0);
	uint64_t gen = monitor_generation(m);

	/* pools = { static, web = { c, d, a } }: b is gone, d is new, every index moved */
	set_up("d", true);
	member(&web2[0], "c", 3, &chk);
	member(&web2[1], "d", 4, &chk);
	member(&web2[2], "a", 1, &chk);
	pools2[0] = (struct conf_pool){.name = "static", .members = statics, .member_count = 1};
	pools2[1] = (struct conf_pool){.name = "web", .members = web2, .member_count = 3};
	cf2 = cf;
	cf2.pools = pools2;
	monitor_reconfigure(m, &cf2);
	double now = ev_now(loop);
	ck_assert_uint_eq(monitor_generation(m), gen);
	ck_assert_int_eq(monitor_serving(m, 0, 0, now), HEALTH_OUT);
	ck_assert(!monitor_monitored(m, 0, 0));
	ck_assert_int_eq(monitor_state(m, 1, 0)->forced, HEALTH_FORCE_DOWN);
	ck_assert(monitor_state(m, 1, 0)->up);
	ck_assert(!monitor_state(m, 1, 1)->has_result);
	ck_assert_int_eq(monitor_serving(m, 1, 1, now), HEALTH_SERVING);
	ck_assert(!monitor_state(m, 1, 2)->up);
	ck_assert(monitor_state(m, 1, 2)->has_result);
	ck_assert_int_eq(monitor_serving(m, 1, 2, now), HEALTH_OUT);
	ck_assert_ptr_null(monitor_state(m, 1, 3));
	ck_assert_ptr_null(monitor_state(m, 2, 0));

	/* the new member is checked within the first round, and a's check runs again */
	ck_assert(run_until(d_checked, 0.5));
	set_up("a", true);
	ck_assert(run_until(moved_a_up, 1));
	ck_assert_int_eq(monitor_serving(m, 1, 2, ev_now(loop)), HEALTH_SERVING);
}
END_TEST

START_TEST(state_restored_by_a_second_monitor)
{
	char err[160];
	m = start(state_path);
	all_up_and_checked();
	set_up("a", false);
	ck_assert(run_until(a_down, 2));
	/* the transition is saved from the loop, right after it */
	run_for(0.02);
	FILE *f = fopen(state_path, "r");
	ck_assert_ptr_nonnull(f);
	char text[4096];
	text[fread(text, 1, sizeof(text) - 1, f)] = 0;
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "member pool=web name=a up=0 result=1 ok=0 streak=2 "));
	ck_assert_ptr_nonnull(strstr(text, "member pool=web name=b up=1 result=1 ok=1 "));
	ck_assert_int_eq(monitor_force(m, 0, 1, HEALTH_FORCE_DRAIN, 1000, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(monitor_force(m, 1, 0, HEALTH_FORCE_DOWN, 0, 0, err, sizeof(err)), 0);
	uint64_t gen = monitor_generation(m);
	ck_assert_uint_eq(gen, 3);
	monitor_free(m);
	m = NULL;

	m = start(state_path);
	ck_assert_uint_eq(monitor_generation(m), gen);
	ck_assert(!st(0)->up);
	ck_assert(st(0)->has_result);
	ck_assert_int_eq(serving(0, 0), HEALTH_OUT);
	ck_assert_int_eq(serving(0, 1), HEALTH_DRAINING);
	ck_assert_int_eq(serving(0, 2), HEALTH_SERVING);
	ck_assert_int_eq(serving(1, 0), HEALTH_OUT);
	/* acting on the restored generation works */
	ck_assert_int_eq(monitor_force(m, 1, 0, HEALTH_AUTO, 0, gen, err, sizeof(err)), 0);
	ck_assert_int_eq(serving(1, 0), HEALTH_SERVING);
	monitor_free(m);
	m = NULL;

	/* a malformed state file stops the monitor from starting */
	f = fopen(state_path, "w");
	fputs("meridian-health 1\ngeneration one\n", f);
	fclose(f);
	struct diag d;
	diag_init(&d);
	ck_assert_ptr_null(monitor_new(loop, &cf, state_path, &hooks, &d));
	ck_assert_uint_eq(d.errors, 1);
	char want[200];
	snprintf(want, sizeof(want), "%s:2: ", state_path);
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, want));
	diag_free(&d);
}
END_TEST

static Suite *monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, down_after_fall_and_back_after_rise);
	tcase_add_test(tc, sudden_loss_freezes_and_success_thaws);
	tcase_add_test(tc, freeze_restores_members_that_fell_in_the_collapse);
	tcase_add_test(tc, gradual_loss_is_not_a_freeze);
	tcase_add_test(tc, force_and_generation);
	tcase_add_test(tc, hold_ends_by_its_timer);
	tcase_add_test(tc, reconfigure_keeps_state);
	tcase_add_test(tc, state_restored_by_a_second_monitor);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(monitor_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
