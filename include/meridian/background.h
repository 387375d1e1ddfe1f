/* background.h -- one slow job at a time (a reload's loading) on a thread of its own, its result
 * handed back to a libev loop, so that the loop's thread (health checks, the control socket, the
 * metrics endpoint) never waits for it.
 *
 * work(arg) runs on a new thread with every signal blocked; when it returns, done(arg) runs on the
 * loop's thread from within ev_run. The two never run at the same time, and everything work wrote is
 * visible to done (the thread is joined first). While a job runs it keeps the loop alive. All calls
 * but work itself are made on the loop's thread. */
#ifndef MERIDIAN_BACKGROUND_H
#define MERIDIAN_BACKGROUND_H

#include <stdbool.h>

#include <ev.h>

typedef void (*background_fn)(void *arg);

struct background;

/* NULL when out of memory. */
struct background *background_new(struct ev_loop *loop);
/* Starts work on its own thread. false when a job is still running (its done has not run yet) or no
 * thread could be made (errno says why); nothing was started then. */
bool background_start(struct background *b, background_fn work, background_fn done, void *arg);
/* Whether a job was started and its done has not run yet. */
bool background_busy(const struct background *b);
/* For stopping. A job still running is abandoned: its thread is left to end with the process and
 * done never runs, so arg must stay valid (leaked). A job that already ended has its done run now.
 * Returns whether a job was abandoned. */
bool background_abandon(struct background *b);
/* Frees b; a running job is abandoned first. NULL is a no-op. */
void background_free(struct background *b);

#endif
