/* test_background.c -- unit tests of background jobs (background.h): work on its own thread with the
 * signals blocked while the loop goes on, done on the loop's thread afterwards, one job at a time,
 * a job started from done, and abandoning a job at stop, whether it still runs or has just ended.
 *
 * background.c is compiled into this test so that it can wait for a job's state to change. */
#include "../../src/daemon/background.c"

#include <check.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

#define WAIT_MAX 5.0 /* seconds any wait may take before it counts as a failure */

struct probe {
	int gate[2];		/* work blocks reading gate[0] until the loop writes to gate[1] */
	pthread_t loop_thread;	/* the thread running ev_run */
	pthread_t work_thread;	/* where work ran */
	pthread_t done_thread;	/* where done ran */
	bool sighup_blocked;	/* in work */
	_Atomic int work_ended; /* work returned */
	int done_calls;
	int ticks_during_work; /* the loop's timer ran while work was blocked */
	_Atomic bool working;
	struct background *b;
	int chain; /* done starts this many more jobs */
};

static void work_blocking(void *arg)
{
	struct probe *p = arg;
	p->work_thread = pthread_self();
	sigset_t mask;
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	p->sighup_blocked = sigismember(&mask, SIGHUP) == 1;
	atomic_store(&p->working, true);
	char c;
	ck_assert_int_eq(read(p->gate[0], &c, 1), 1);
	atomic_store(&p->working, false);
	atomic_fetch_add(&p->work_ended, 1);
}

static void work_quick(void *arg)
{
	struct probe *p = arg;
	p->work_thread = pthread_self();
	atomic_fetch_add(&p->work_ended, 1);
}

static void done_cb(void *arg)
{
	struct probe *p = arg;
	p->done_thread = pthread_self();
	p->done_calls++;
	ck_assert(!background_busy(p->b));
	if (p->chain > 0) {
		p->chain--;
		ck_assert(background_start(p->b, work_quick, done_cb, p));
		ck_assert(background_busy(p->b));
	}
}

/* The loop's timer: counts its ticks while work is blocked and opens the gate after three. */
static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct probe *p = w->data;
	if (!atomic_load(&p->working))
		return;
	if (++p->ticks_during_work == 3)
		ck_assert_int_eq(write(p->gate[1], "x", 1), 1);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Each test's loop and probe (a checked fixture: made and freed in the test's own process). */
static struct ev_loop *loop;
static struct probe p;

static void setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pipe(p.gate), 0);
	p.loop_thread = pthread_self();
	p.b = background_new(loop);
	ck_assert_ptr_nonnull(p.b);
}

static void teardown(void)
{
	background_free(p.b);
	close(p.gate[0]);
	close(p.gate[1]);
	ev_loop_destroy(loop);
}

static void wait_for(_Atomic int *v, int want)
{
	for (int i = 0; atomic_load(v) != want; i++) {
		ck_assert_msg(i < WAIT_MAX * 1000, "waited %.0f s", WAIT_MAX);
		usleep(1000);
	}
}

/* Starts work_blocking and waits until it blocks. */
static void start_blocked(void)
{
	ck_assert(background_start(p.b, work_blocking, done_cb, &p));
	while (!atomic_load(&p.working))
		usleep(1000);
}

/* Opens the gate of an abandoned job and lets its thread end (it frees its job). */
static void release_abandoned(void)
{
	ck_assert_int_eq(write(p.gate[1], "x", 1), 1);
	wait_for(&p.work_ended, 1);
	usleep(20000);
}

/* Runs loop until nothing keeps it alive but the deadline (a failure if that fires). */
static void run_until_idle(ev_timer *extra)
{
	ev_timer deadline;
	ev_timer_init(&deadline, deadline_cb, WAIT_MAX, 0);
	ev_timer_start(loop, &deadline);
	ev_unref(loop); /* the deadline alone does not keep the loop running */
	if (extra) {
		ev_timer_start(loop, extra);
		ev_unref(loop);
	}
	ev_run(loop, 0);
	ck_assert_msg(ev_is_active(&deadline), "the job did not end within %.0f s", WAIT_MAX);
	ev_ref(loop);
	ev_timer_stop(loop, &deadline);
	if (extra) {
		ev_ref(loop);
		ev_timer_stop(loop, extra);
	}
}

START_TEST(work_off_the_loop_done_on_it)
{
	ev_timer tick;
	ev_timer_init(&tick, tick_cb, 0.01, 0.01);
	tick.data = &p;
	ck_assert(!background_busy(p.b));
	ck_assert(background_start(p.b, work_blocking, done_cb, &p));
	ck_assert(background_busy(p.b));
	/* one job at a time: a second start is refused and changes nothing */
	ck_assert(!background_start(p.b, work_quick, done_cb, &p));
	run_until_idle(&tick);
	ck_assert_int_eq(p.ticks_during_work, 3); /* the loop went on while work waited */
	ck_assert_int_eq(atomic_load(&p.work_ended), 1);
	ck_assert_int_eq(p.done_calls, 1);
	ck_assert(!pthread_equal(p.work_thread, p.loop_thread));
	ck_assert(pthread_equal(p.done_thread, p.loop_thread));
	ck_assert(p.sighup_blocked);
	ck_assert(!background_busy(p.b));
}
END_TEST

START_TEST(done_starts_the_next_job)
{
	p.chain = 4;
	ck_assert(background_start(p.b, work_quick, done_cb, &p));
	run_until_idle(NULL);
	ck_assert_int_eq(atomic_load(&p.work_ended), 5);
	ck_assert_int_eq(p.done_calls, 5);
	ck_assert(!background_busy(p.b));
}
END_TEST

START_TEST(abandon_a_running_job)
{
	start_blocked();
	ck_assert(background_abandon(p.b));
	ck_assert(!background_busy(p.b));
	ck_assert(!background_abandon(p.b)); /* nothing left to abandon */
	/* the loop no longer waits for it, and done never runs, even once work returns */
	ev_run(loop, EVRUN_NOWAIT);
	release_abandoned();
	ev_run(loop, EVRUN_NOWAIT);
	ck_assert_int_eq(p.done_calls, 0);
	/* the next job starts as usual */
	ck_assert(background_start(p.b, work_quick, done_cb, &p));
	run_until_idle(NULL);
	ck_assert_int_eq(p.done_calls, 1);
}
END_TEST

START_TEST(abandon_a_finished_job_runs_done)
{
	ck_assert(background_start(p.b, work_quick, done_cb, &p));
	struct job *j = p.b->job;
	wait_for(&j->state, JOB_FINISHED); /* ended, not yet handed back: the loop has not run */
	ck_assert_int_eq(p.done_calls, 0);
	ck_assert(!background_abandon(p.b));
	ck_assert_int_eq(p.done_calls, 1);
	ck_assert(pthread_equal(p.done_thread, p.loop_thread));
	ck_assert(!background_busy(p.b));
	ev_run(loop, EVRUN_NOWAIT); /* the async it sent is gone with the job */
	ck_assert_int_eq(p.done_calls, 1);
}
END_TEST

START_TEST(free_abandons)
{
	start_blocked();
	background_free(p.b);
	p.b = NULL;
	release_abandoned();
	ck_assert_int_eq(p.done_calls, 0);
	background_free(NULL); /* a no-op; teardown frees NULL too */
}
END_TEST

static Suite *background_suite(void)
{
	Suite *s = suite_create("background");
	TCase *tc = tcase_create("background");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, work_off_the_loop_done_on_it);
	tcase_add_test(tc, done_starts_the_next_job);
	tcase_add_test(tc, abandon_a_running_job);
	tcase_add_test(tc, abandon_a_finished_job_runs_done);
	tcase_add_test(tc, free_abandons);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(background_suite(), "background");
}
