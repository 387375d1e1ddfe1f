/* test_health.c -- unit tests of the health state machine (hysteresis, damping, forced states) and
 * of its persistence (health_save / health_load). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/health.h"

static const struct health_params plain = {
    .rise = 2, .fall = 3, .flap_limit = 0, .flap_window = 60, .hold = 120};
static const struct health_params damped = {
    .rise = 1, .fall = 1, .flap_limit = 2, .flap_window = 60, .hold = 120};

/* Feeds n identical results one second apart from *t; returns how many of them changed `up`. */
static unsigned feed(struct health_state *s, const struct health_params *p, bool ok, unsigned n, double *t)
{
	unsigned flips = 0;
	for (unsigned i = 0; i < n; i++, *t += 1)
		flips += health_result(s, p, ok, ok ? "HTTP 200" : "HTTP 502", *t);
	return flips;
}

START_TEST(init_is_up_without_result)
{
	struct health_state s;
	memset(&s, 0x5a, sizeof(s));
	health_init(&s, 1000);
	ck_assert(s.up);
	ck_assert(!s.has_result);
	ck_assert_uint_eq(s.streak, 0);
	ck_assert(s.since == 1000);
	ck_assert_int_eq(s.forced, HEALTH_AUTO);
	ck_assert(s.held_until == 0);
	ck_assert_uint_eq(s.flap_count, 0);
	ck_assert_str_eq(s.reason, "");
	ck_assert_int_eq(health_serving(&s, 1000), HEALTH_SERVING);
}
END_TEST

START_TEST(fall_failures_take_it_down)
{
	struct health_state s;
	double t = 100;
	health_init(&s, 0);
	ck_assert_uint_eq(feed(&s, &plain, false, 2, &t), 0);
	ck_assert(s.up);
	ck_assert_uint_eq(s.streak, 2);
	ck_assert(s.fail_since == 100);
	/* a success in between starts the count again */
	ck_assert_uint_eq(feed(&s, &plain, true, 1, &t), 0);
	ck_assert(s.fail_since == 0);
	ck_assert_uint_eq(feed(&s, &plain, false, 2, &t), 0);
	ck_assert(s.up);
	ck_assert(s.fail_since == 103);
	ck_assert(health_result(&s, &plain, false, "HTTP 502", t));
	ck_assert(!s.up);
	ck_assert(s.since == t);
	ck_assert(s.last_time == t);
	ck_assert(s.fail_since == 103);
	ck_assert_uint_eq(s.streak, 3);
	ck_assert_str_eq(s.reason, "HTTP 502");
	ck_assert_int_eq(health_serving(&s, t), HEALTH_OUT);
	/* more failures change nothing */
	t++;
	ck_assert_uint_eq(feed(&s, &plain, false, 5, &t), 0);
	ck_assert(s.since == t - 6);
}
END_TEST

START_TEST(rise_successes_bring_it_back)
{
	struct health_state s;
	double t = 0;
	health_init(&s, 0);
	ck_assert_uint_eq(feed(&s, &plain, false, 3, &t), 1);
	ck_assert(!s.up);
	ck_assert_uint_eq(feed(&s, &plain, true, 1, &t), 0);
	ck_assert_uint_eq(feed(&s, &plain, false, 1, &t), 0);
	ck_assert_uint_eq(feed(&s, &plain, true, 1, &t), 0);
	ck_assert(!s.up);
	ck_assert(health_result(&s, &plain, true, "HTTP 200", t));
	ck_assert(s.up);
	ck_assert(s.since == t);
	ck_assert_str_eq(s.reason, "HTTP 200");
}
END_TEST

START_TEST(new_member_needs_fall_failures)
{
	struct health_state s;
	double t = 10;
	health_init(&s, 0);
	ck_assert(!health_result(&s, &plain, false, "connect: Connection refused", t++));
	ck_assert(s.has_result);
	ck_assert(s.up);
	ck_assert_uint_eq(feed(&s, &plain, false, 1, &t), 0);
	ck_assert(s.up);
	ck_assert_uint_eq(feed(&s, &plain, false, 1, &t), 1);
	ck_assert(!s.up);

	/* fall = 1 judges at once */
	struct health_params one = plain;
	one.fall = 1;
	health_init(&s, 0);
	ck_assert(health_result(&s, &one, false, "exit 1", 1));
	ck_assert(!s.up);
}
END_TEST

START_TEST(flapping_is_held_down)
{
	struct health_state s;
	health_init(&s, 0);
	ck_assert(health_result(&s, &damped, false, "HTTP 502", 10));
	ck_assert(health_result(&s, &damped, true, "HTTP 200", 11));
	ck_assert(s.held_until == 0);
	/* the third transition within 60 s is one more than flap_limit = 2 */
	ck_assert(health_result(&s, &damped, false, "HTTP 502", 12));
	ck_assert(!s.up);
	ck_assert(s.held_until == 12 + 120);
	ck_assert_ptr_nonnull(strstr(s.reason, "HTTP 502"));
	ck_assert_ptr_nonnull(strstr(s.reason, "flapping"));
	ck_assert_ptr_nonnull(strstr(s.reason, "3 transitions in 60 s"));
	ck_assert_ptr_nonnull(strstr(s.reason, "held down for 120 s"));
	/* while held, results count but the member stays down */
	ck_assert(!health_result(&s, &damped, true, "HTTP 200", 13));
	ck_assert(!health_result(&s, &damped, true, "HTTP 200", 14));
	ck_assert(!s.up);
	ck_assert_uint_eq(s.streak, 2);
	ck_assert(s.last_ok);
	ck_assert_ptr_nonnull(strstr(s.reason, "HTTP 200"));
	ck_assert_ptr_nonnull(strstr(s.reason, "held down until"));
	ck_assert_int_eq(health_serving(&s, 14), HEALTH_OUT);
}
END_TEST

START_TEST(hold_engaged_by_an_up_transition_keeps_since)
{
	struct health_params p = damped;
	p.flap_limit = 1;
	struct health_state s;
	health_init(&s, 0);
	ck_assert(health_result(&s, &p, false, "exit 1", 5));
	/* coming back up would be the second transition: held instead, `up` does not change */
	ck_assert(!health_result(&s, &p, true, "exit 0", 6));
	ck_assert(!s.up);
	ck_assert(s.since == 5);
	ck_assert(s.held_until == 126);
}
END_TEST

START_TEST(transitions_spread_out_are_not_damped)
{
	struct health_state s;
	health_init(&s, 0);
	for (unsigned i = 0; i < 10; i++) {
		ck_assert(health_result(&s, &damped, i % 2 == 1, "x", 40.0 * i));
		ck_assert(s.held_until == 0);
		ck_assert(s.up == (i % 2 == 1));
		ck_assert_uint_le(s.flap_count, 2);
	}
}
END_TEST

START_TEST(hold_ends_up_after_a_success_streak)
{
	struct health_params p = damped;
	p.rise = 2;
	struct health_state s;
	health_init(&s, 0);
	health_result(&s, &p, false, "HTTP 502", 0);
	health_result(&s, &p, true, "HTTP 200", 1);
	health_result(&s, &p, true, "HTTP 200", 2);  /* up again: second transition */
	health_result(&s, &p, false, "HTTP 502", 3); /* third: held until 123 */
	ck_assert(s.held_until == 123);
	health_result(&s, &p, true, "HTTP 200", 50);
	health_result(&s, &p, true, "HTTP 200", 60);
	ck_assert(!health_tick(&s, &p, 122.9));
	ck_assert(!s.up);
	ck_assert(s.held_until == 123);
	ck_assert(health_tick(&s, &p, 123));
	ck_assert(s.up);
	ck_assert(s.held_until == 0);
	ck_assert(s.since == 123);
	ck_assert_str_eq(s.reason, "HTTP 200");
	ck_assert(!health_tick(&s, &p, 200));
}
END_TEST

START_TEST(hold_ends_down_after_a_failure_streak)
{
	struct health_state s;
	health_init(&s, 0);
	health_result(&s, &damped, false, "HTTP 502", 0);
	health_result(&s, &damped, true, "HTTP 200", 1);
	health_result(&s, &damped, false, "timeout after 2.0 s", 2);
	ck_assert(s.held_until == 122);
	health_result(&s, &damped, true, "HTTP 200", 100);
	health_result(&s, &damped, false, "timeout after 2.0 s", 110);
	ck_assert(!health_tick(&s, &damped, 122));
	ck_assert(!s.up);
	ck_assert(s.held_until == 0);
	ck_assert(s.since == 2);
	ck_assert_str_eq(s.reason, "timeout after 2.0 s");
	/* no longer held: rise successes bring it back, and it is not held again at once */
	ck_assert(health_result(&s, &damped, true, "HTTP 200", 130));
	ck_assert(s.up);
	ck_assert(s.held_until == 0);
}
END_TEST

START_TEST(result_after_an_unticked_hold_ends_it)
{
	struct health_state s;
	health_init(&s, 0);
	health_result(&s, &damped, false, "a", 0);
	health_result(&s, &damped, true, "b", 1);
	health_result(&s, &damped, false, "c", 2);
	ck_assert(s.held_until == 122);
	ck_assert(health_result(&s, &damped, true, "HTTP 200", 130));
	ck_assert(s.up);
	ck_assert(s.held_until == 0);
	ck_assert_str_eq(s.reason, "HTTP 200");
}
END_TEST

START_TEST(forced_states_and_serving)
{
	struct health_state s;
	health_init(&s, 0);
	health_force(&s, HEALTH_FORCE_DOWN, 0, 5);
	ck_assert_int_eq(s.forced, HEALTH_FORCE_DOWN);
	ck_assert(s.forced_since == 5);
	ck_assert(s.up); /* observed state is kept apart */
	ck_assert_int_eq(health_serving(&s, 6), HEALTH_OUT);

	double t = 10;
	feed(&s, &plain, false, 3, &t);
	ck_assert(!s.up);
	health_force(&s, HEALTH_FORCE_UP, 0, 20);
	ck_assert_int_eq(health_serving(&s, 21), HEALTH_SERVING);
	health_force(&s, HEALTH_AUTO, 0, 22);
	ck_assert_int_eq(health_serving(&s, 23), HEALTH_OUT);
	ck_assert(s.drain_until == 0);

	/* drain: degraded until the deadline, then out */
	feed(&s, &plain, true, 2, &t);
	ck_assert(s.up);
	health_force(&s, HEALTH_FORCE_DRAIN, 30, 100);
	ck_assert(s.drain_until == 130);
	ck_assert_int_eq(health_serving(&s, 100), HEALTH_DRAINING);
	ck_assert_int_eq(health_serving(&s, 129.9), HEALTH_DRAINING);
	ck_assert_int_eq(health_serving(&s, 130), HEALTH_OUT);
	ck_assert_int_eq(health_serving(&s, 1e9), HEALTH_OUT);
	/* a drained member the checks find down leaves at once */
	t = 101;
	feed(&s, &plain, false, 3, &t);
	ck_assert_int_eq(health_serving(&s, 105), HEALTH_OUT);
	/* back to auto: the drain deadline is gone */
	health_force(&s, HEALTH_AUTO, 0, 200);
	ck_assert(s.drain_until == 0);
}
END_TEST

START_TEST(forced_names)
{
	enum health_forced f;
	const enum health_forced all[] = {HEALTH_AUTO, HEALTH_FORCE_UP, HEALTH_FORCE_DOWN,
					  HEALTH_FORCE_DRAIN};
	const char *names[] = {"auto", "up", "down", "drain"};
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_str_eq(health_forced_name(all[i]), names[i]);
		ck_assert(health_forced_parse(names[i], &f));
		ck_assert_int_eq(f, all[i]);
	}
	f = HEALTH_FORCE_UP;
	ck_assert(!health_forced_parse("sideways", &f));
	ck_assert(!health_forced_parse("", &f));
	ck_assert(!health_forced_parse("UP", &f));
	ck_assert(!health_forced_parse(NULL, &f));
	ck_assert_int_eq(f, HEALTH_FORCE_UP);
}
END_TEST

/* ---- persistence ---- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/meridian-test-health-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/health.state", dir);
}

static void remove_dir(void)
{
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

static unsigned dir_files(void)
{
	unsigned n = 0;
	DIR *dp = opendir(dir);
	struct dirent *de;
	ck_assert_ptr_nonnull(dp);
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			ck_assert_ptr_null(strstr(de->d_name, ".tmp"));
			n++;
		}
	closedir(dp);
	return n;
}

static void assert_same(const struct health_state *a, const struct health_state *b)
{
	ck_assert_int_eq(a->up, b->up);
	ck_assert_int_eq(a->has_result, b->has_result);
	ck_assert_int_eq(a->last_ok, b->last_ok);
	ck_assert_uint_eq(a->streak, b->streak);
	ck_assert(a->since == b->since);
	ck_assert(a->fail_since == b->fail_since);
	ck_assert(a->last_time == b->last_time);
	ck_assert(a->held_until == b->held_until);
	ck_assert_uint_eq(a->flap_count, b->flap_count);
	for (unsigned i = 0; i < a->flap_count; i++)
		ck_assert(a->flaps[i] == b->flaps[i]);
	ck_assert_str_eq(a->reason, b->reason);
	ck_assert_int_eq(a->forced, b->forced);
	ck_assert(a->forced_since == b->forced_since);
	ck_assert(a->drain_until == b->drain_until);
}

/* Three members in assorted states, with times that do not print exactly in few digits. */
static void sample(struct health_state st[3])
{
	double t = 1716200000.123456;
	health_init(&st[0], t);
	health_init(&st[1], t);
	health_init(&st[2], t);
	feed(&st[0], &plain, false, 4, &t);
	snprintf(st[0].reason, sizeof(st[0].reason), "body lacks \"OK\" \\ tab\there\nnewline \xc3\xa9");
	health_result(&st[1], &damped, false, "HTTP 502", t + 0.1);
	health_result(&st[1], &damped, true, "HTTP 200", t + 0.2);
	health_result(&st[1], &damped, false, "HTTP 502", t + 0.3);
	ck_assert(st[1].held_until > 0);
	health_force(&st[1], HEALTH_FORCE_DRAIN, 45.5, t + 1.0 / 3);
	health_result(&st[2], &damped, false, "exit 1", t + 7);
	health_result(&st[2], &damped, true, "", t + 8);
	ck_assert_uint_eq(st[2].flap_count, 2);
	health_force(&st[2], HEALTH_FORCE_UP, 0, t + 9);
}

START_TEST(save_and_load_round_trip)
{
	struct health_state st[3], back[3];
	sample(st);
	const char *members[] = {"ams-1", "iad-2", "we b"};
	struct health_entry e[3], f[3];
	for (unsigned i = 0; i < 3; i++) {
		e[i] = (struct health_entry){"web", members[i], &st[i]};
		health_init(&back[i], 5);
		f[i] = (struct health_entry){"web", members[i], &back[i]};
	}
	struct diag d;
	diag_init(&d);
	make_dir();
	ck_assert(health_save(path, 42, e, 3, &d));
	ck_assert_uint_eq(dir_files(), 1);
	uint64_t gen = 0;
	ck_assert(health_load(path, &gen, f, 3, &d));
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(gen, 42);
	for (unsigned i = 0; i < 3; i++)
		assert_same(&back[i], &st[i]);
	/* saving again replaces the file and leaves no temporary behind */
	ck_assert(health_save(path, 43, e, 1, &d));
	ck_assert_uint_eq(dir_files(), 1);
	ck_assert(health_load(path, &gen, f, 3, &d));
	ck_assert_uint_eq(gen, 43);
	remove_dir();
	diag_free(&d);
}
END_TEST

START_TEST(load_matches_by_pool_and_member)
{
	struct health_state st[3], b, other, fresh;
	sample(st);
	struct health_entry e[3] = {
	    {"web", "ams-1", &st[0]}, {"web", "iad-2", &st[1]}, {"api", "ams-1", &st[2]}};
	struct diag d;
	diag_init(&d);
	make_dir();
	ck_assert(health_save(path, 7, e, 3, &d));
	health_init(&b, 1);
	health_init(&other, 1);
	fresh = other;
	/* a new order, a member that is gone (web/iad-2) and one never saved (web/sin-1) */
	struct health_entry f[2] = {{"api", "ams-1", &b}, {"web", "sin-1", &other}};
	uint64_t gen = 3;
	ck_assert(health_load(path, &gen, f, 2, &d));
	ck_assert_uint_eq(gen, 7);
	assert_same(&b, &st[2]);
	assert_same(&other, &fresh);
	remove_dir();
	diag_free(&d);
}
END_TEST

START_TEST(missing_file_restores_nothing)
{
	struct health_state s, fresh;
	health_init(&s, 3);
	fresh = s;
	struct health_entry e = {"web", "ams-1", &s};
	struct diag d;
	diag_init(&d);
	make_dir();
	uint64_t gen = 99;
	ck_assert(health_load(path, &gen, &e, 1, &d));
	ck_assert_uint_eq(gen, 99);
	ck_assert_uint_eq(d.count, 0);
	assert_same(&s, &fresh);
	remove_dir();
	diag_free(&d);
}
END_TEST

START_TEST(an_empty_state_round_trips)
{
	/* a server without members saves an empty state; loading it restores the generation only */
	struct diag d;
	diag_init(&d);
	make_dir();
	ck_assert(health_save(path, 5, NULL, 0, &d));
	struct health_state s;
	health_init(&s, 3);
	struct health_entry e = {"web", "ams-1", &s};
	uint64_t gen = 0;
	ck_assert(health_load(path, &gen, &e, 1, &d));
	ck_assert_uint_eq(gen, 5);
	ck_assert(s.up && !s.has_result);
	gen = 0;
	ck_assert(health_load(path, &gen, NULL, 0, &d));
	ck_assert_uint_eq(gen, 5);
	ck_assert_uint_eq(d.count, 0);
	remove_dir();
	diag_free(&d);
}
END_TEST

START_TEST(save_into_a_missing_folder_fails)
{
	struct health_state s;
	health_init(&s, 3);
	struct health_entry e = {"web", "ams-1", &s};
	struct diag d;
	diag_init(&d);
	make_dir();
	char bad[192];
	snprintf(bad, sizeof(bad), "%s/nope/health.state", dir);
	ck_assert(!health_save(bad, 1, &e, 1, &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, "nope"));
	ck_assert_uint_eq(dir_files(), 0);
	remove_dir();
	diag_free(&d);
}
END_TEST

#define GOOD                                                                                                 \
	"member pool=web name=ams-1 up=0 result=1 ok=0 streak=3 since=10 fail_since=8 last_time=10 "         \
	"held_until=0 flaps=10 reason=\"HTTP 502\" forced=auto forced_since=0 drain_until=0\n"
#define GOOD2                                                                                                \
	"member pool=web name=iad-2 up=1 result=0 ok=0 streak=0 since=1 fail_since=0 last_time=0 "           \
	"held_until=0 flaps=- reason=\"\" forced=down forced_since=4 drain_until=0\n"

static const struct {
	const char *text;
	unsigned line;
	const char *says;
} broken[] = {
    {"meridian-health 2\ngeneration 1\nend 0\n", 1, "expected 'meridian-health 1'"},
    {"", 0, "truncated"},
    {"meridian-health 1\ngeneration 1\n" GOOD GOOD2, 4, "no 'end' line"},
    {"meridian-health 1\n" GOOD GOOD2 "end 2\n", 4, "no 'generation' line"},
    {"meridian-health 1\ngeneration 1\n" GOOD GOOD2 "end 3\n", 5, "member count 2"},
    {"meridian-health 1\ngeneration x1\n" GOOD "end 1\n", 2, "generation"},
    {"meridian-health 1\ngeneration 1\ngeneration 2\n" GOOD "end 1\n", 3, "second generation"},
    {"meridian-health 1\ngeneration 1\n" GOOD "end 1\n" GOOD2, 5, "after the 'end'"},
    {"meridian-health 1\ngeneration 1\n" GOOD "bogus\nend 1\n", 4, "expected 'generation', 'member'"},
    {"meridian-health 1\ngeneration 1\n" GOOD GOOD "end 2\n", 4, "saved twice"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x up=2\nend 2\n", 4,
     "up: expected 0 or 1"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x up=1\nend 2\n", 4, "missing key"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x colour=red\nend 2\n", 4, "unknown key"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web pool=api\nend 2\n", 4, "twice"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x reason=\"open\nend 2\n", 4,
     "key=value"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x reason=\"bad \\q\"\nend 2\n", 4,
     "key=value"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x since=-5\nend 2\n", 4, "since"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x since=nan\nend 2\n", 4, "since"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x flaps=1,,2\nend 2\n", 4, "flaps"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool=web name=x forced=maybe\nend 2\n", 4, "forced"},
    {"meridian-health 1\ngeneration 1\n" GOOD "member pool= name=x\nend 2\n", 4, "pool"},
};

START_TEST(malformed_file_restores_nothing)
{
	struct health_state a, b, fa, fb;
	health_init(&a, 1);
	health_init(&b, 1);
	fa = a;
	fb = b;
	struct health_entry e[2] = {{"web", "ams-1", &a}, {"web", "iad-2", &b}};
	make_dir();
	for (unsigned i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(broken[i].text, f);
		fclose(f);
		struct diag d;
		diag_init(&d);
		uint64_t gen = 77;
		ck_assert_msg(!health_load(path, &gen, e, 2, &d), "case %u loaded", i);
		ck_assert_uint_eq(gen, 77);
		assert_same(&a, &fa);
		assert_same(&b, &fb);
		ck_assert_uint_eq(d.errors, 1);
		char want[256];
		if (broken[i].line)
			snprintf(want, sizeof(want), "%s:%u: ", path, broken[i].line);
		else
			snprintf(want, sizeof(want), "%s: ", path);
		ck_assert_msg(strncmp(d.entries[0].text, want, strlen(want)) == 0, "case %u: '%s' lacks '%s'",
			      i, d.entries[0].text, want);
		ck_assert_msg(strstr(d.entries[0].text, broken[i].says), "case %u: '%s' lacks '%s'", i,
			      d.entries[0].text, broken[i].says);
		diag_free(&d);
	}
	/* the same lines, well-formed, do load */
	FILE *f = fopen(path, "w");
	fputs("meridian-health 1\ngeneration 5\n" GOOD GOOD2 "end 2\n", f);
	fclose(f);
	struct diag d;
	diag_init(&d);
	uint64_t gen = 77;
	ck_assert(health_load(path, &gen, e, 2, &d));
	ck_assert_uint_eq(gen, 5);
	ck_assert(!a.up);
	ck_assert_uint_eq(a.streak, 3);
	ck_assert_str_eq(a.reason, "HTTP 502");
	ck_assert_int_eq(b.forced, HEALTH_FORCE_DOWN);
	ck_assert(b.forced_since == 4);
	diag_free(&d);
	remove_dir();
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("state");
	tcase_add_test(tc, init_is_up_without_result);
	tcase_add_test(tc, fall_failures_take_it_down);
	tcase_add_test(tc, rise_successes_bring_it_back);
	tcase_add_test(tc, new_member_needs_fall_failures);
	tcase_add_test(tc, flapping_is_held_down);
	tcase_add_test(tc, hold_engaged_by_an_up_transition_keeps_since);
	tcase_add_test(tc, transitions_spread_out_are_not_damped);
	tcase_add_test(tc, hold_ends_up_after_a_success_streak);
	tcase_add_test(tc, hold_ends_down_after_a_failure_streak);
	tcase_add_test(tc, result_after_an_unticked_hold_ends_it);
	tcase_add_test(tc, forced_states_and_serving);
	tcase_add_test(tc, forced_names);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("persist");
	tcase_add_test(tp, save_and_load_round_trip);
	tcase_add_test(tp, load_matches_by_pool_and_member);
	tcase_add_test(tp, missing_file_restores_nothing);
	tcase_add_test(tp, an_empty_state_round_trips);
	tcase_add_test(tp, save_into_a_missing_folder_fails);
	tcase_add_test(tp, malformed_file_restores_nothing);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(health_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
