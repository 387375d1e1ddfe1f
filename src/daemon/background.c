/* background.c -- one job at a time on its own thread, handed back through an ev_async (see
 * background.h). */
#include "meridian/background.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

enum job_state { JOB_RUNNING, JOB_FINISHED, JOB_ABANDONED };

/* Shared by the loop and the job's thread. Whichever of "finished" and "abandoned" is decided first
 * wins (one compare-and-swap): a finished job is joined and handed back by the loop; an abandoned
 * one is freed by its own thread, which then touches nothing else. */
struct job {
	_Atomic int state;
	background_fn work;
	void *arg;
	struct background *owner; /* read by the thread only while the job can still finish */
};

struct background {
	struct ev_loop *loop;
	ev_async async; /* active only while a job runs */
	pthread_t thread;
	struct job *job; /* NULL when idle */
	background_fn done;
};

static void *job_main(void *p)
{
	struct job *j = p;
	j->work(j->arg);
	int running = JOB_RUNNING;
	if (atomic_compare_exchange_strong(&j->state, &running, JOB_FINISHED)) {
		struct background *b = j->owner;
		ev_async_send(b->loop, &b->async);
	} else {
		free(j); /* abandoned: nobody waits for us */
	}
	return NULL;
}

/* The job's thread has finished (or is finishing): join it and run done. */
static void hand_back(struct background *b)
{
	pthread_join(b->thread, NULL);
	ev_async_stop(b->loop, &b->async);
	struct job *j = b->job;
	background_fn done = b->done;
	b->job = NULL;
	b->done = NULL;
	void *arg = j->arg;
	free(j);
	done(arg); /* last: done may start the next job */
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	struct background *b = w->data;
	if (b->job && atomic_load(&b->job->state) == JOB_FINISHED)
		hand_back(b);
}

struct background *background_new(struct ev_loop *loop)
{
	struct background *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->loop = loop;
	ev_async_init(&b->async, async_cb);
	b->async.data = b;
	return b;
}

bool background_busy(const struct background *b)
{
	return b->job != NULL;
}

bool background_start(struct background *b, background_fn work, background_fn done, void *arg)
{
	if (b->job)
		return false;
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return false;
	atomic_init(&j->state, JOB_RUNNING);
	j->work = work;
	j->arg = arg;
	j->owner = b;
	b->job = j;
	b->done = done;
	ev_async_start(b->loop, &b->async); /* before the thread can send it */
	/* The thread inherits the mask: with every signal blocked, the process's signals keep going to
	 * the threads that handle them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&b->thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		ev_async_stop(b->loop, &b->async);
		b->job = NULL;
		b->done = NULL;
		free(j);
		errno = err;
		return false;
	}
	return true;
}

bool background_abandon(struct background *b)
{
	if (!b || !b->job)
		return false;
	int running = JOB_RUNNING;
	if (atomic_compare_exchange_strong(&b->job->state, &running, JOB_ABANDONED)) {
		pthread_detach(b->thread);
		ev_async_stop(b->loop, &b->async);
		b->job = NULL; /* the thread frees it */
		b->done = NULL;
		return true;
	}
	hand_back(b); /* it finished before we asked */
	return false;
}

void background_free(struct background *b)
{
	if (!b)
		return;
	background_abandon(b);
	free(b);
}
