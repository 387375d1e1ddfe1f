/* parallel.c -- loading a big master file with threads: ldns parses chunks at once, the build
 * takes their records in file order.
 *
 * split.c cuts the file where a chunk parses exactly like the whole file would. Each chunk is parsed
 * by whichever parser is free (the helper threads and the main thread) into its own item list, with
 * ldns state of its own; no parser touches the build. The main thread feeds the chunks' items to the
 * build strictly in file order (interning owners, copying rdata into the zone's arena, reporting the
 * chunk's messages), so the records, their order, every message and the error cap are those of
 * sequential loading. Between feeding, the main thread parses too; parsers stay at most a window of
 * chunks ahead of the feed, which bounds the memory held by parsed but unfed chunks.
 *
 * Two things a chunk cannot know make the main thread parse it again, sequentially, with the right
 * state: a record that takes its owner from the line before the chunk (the previous owner is only
 * known once the chunks before are done), and a WKS record (ldns parses those with getservbyname,
 * which is not thread-safe, so only the main thread may).
 *
 * Memory: glibc gives each thread an arena of its own, so the parsers do not contend on malloc;
 * reader.c keeps ldns's per-record buffers from being trimmed and faulted in again (in every arena:
 * the trim threshold is shared). */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZB_MAX_THREADS 8

/* A macro, not a const object: C only allows constant expressions as a static's initializer. */
#define ZB_DEFAULTS                                                                                          \
	{                                                                                                    \
		.threads = 0, .min_size = 4u << 20, .chunk_size = 1u << 20                                   \
	}
static const struct zone_build_tuning zb_defaults = ZB_DEFAULTS;
static struct zone_build_tuning zb_tuning = ZB_DEFAULTS;
static _Thread_local struct zone_build_stats zb_stats;

void zone_build_tune(const struct zone_build_tuning *t)
{
	zb_tuning = t ? *t : zb_defaults;
}

void zone_build_last_stats(struct zone_build_stats *s)
{
	*s = zb_stats;
}

struct zb_chunk {
	off_t start, end;
	const struct zb_cut *cut;
	struct zb_parser p; /* the state at the cut; at the end of the chunk once parsed */
	struct zb_items items;
	bool done;
	bool failed; /* could not be read */
};

struct zb_job {
	int fd;
	struct zb_chunk *chunks;
	size_t count;
	size_t next;   /* the next chunk to parse */
	size_t fed;    /* chunks the build has taken */
	size_t window; /* chunks parsed ahead of the feed, at most */
	atomic_bool cancel;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a chunk is done, or the feed moved */
};

static unsigned zb_threads(void)
{
	unsigned n = zb_tuning.threads;
	const char *env = getenv("MERIDIAN_ZONE_THREADS");
	if (env && *env)
		n = (unsigned)strtoul(env, NULL, 10);
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus < 1 ? 1 : (unsigned)cpus;
	}
	return n > ZB_MAX_THREADS ? ZB_MAX_THREADS : n;
}

static bool zb_pread(int fd, char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return true;
}

/* Reads chunk c; NULL when it cannot be read. */
static char *zb_chunk_read(const struct zb_job *j, const struct zb_chunk *c)
{
	size_t len = (size_t)(c->end - c->start);
	char *buf = malloc(len);
	if (!buf)
		abort();
	if (!zb_pread(j->fd, buf, len, c->start)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void zb_chunk_run(struct zb_chunk *c, const char *buf)
{
	struct zb_input in;
	zone_build_input_init(&in, -1, buf, (size_t)(c->end - c->start));
	c->p.in = &in;
	zone_build_parse(&c->p);
	c->p.in = NULL;
	zone_build_input_free(&in);
}

/* Parses chunk c into its items (any thread). */
static void zb_chunk_parse(struct zb_job *j, struct zb_chunk *c)
{
	char *buf = zb_chunk_read(j, c);
	if (!buf) {
		c->failed = true;
	} else if (zone_build_may_have_wks(buf, (size_t)(c->end - c->start))) {
		c->p.redo = true;
	} else {
		c->p.items = &c->items;
		c->p.cancel = &j->cancel;
		zb_chunk_run(c, buf);
	}
	free(buf);
	if (c->p.redo) {
		free(c->items.data);
		c->items = (struct zb_items){0};
	}
}

/* Claims the next chunk within the window and parses it; false when there is none. Called locked. */
static bool zb_claim_and_parse(struct zb_job *j)
{
	if (j->next >= j->count || j->next >= j->fed + j->window)
		return false;
	struct zb_chunk *c = &j->chunks[j->next++];
	pthread_mutex_unlock(&j->lock);
	zb_chunk_parse(j, c);
	pthread_mutex_lock(&j->lock);
	c->done = true;
	pthread_cond_broadcast(&j->cond);
	return true;
}

/* A helper thread parses chunks until there are none left or the load is cancelled. */
static void *zb_worker(void *arg)
{
	struct zb_job *j = arg;
	pthread_mutex_lock(&j->lock);
	while (!atomic_load(&j->cancel) && j->next < j->count)
		if (!zb_claim_and_parse(j))
			pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Waits for chunk k, parsing others meanwhile. */
static void zb_wait_chunk(struct zb_job *j, size_t k)
{
	pthread_mutex_lock(&j->lock);
	while (!j->chunks[k].done)
		if (!zb_claim_and_parse(j))
			pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

static void zb_feed(struct zb *b, const struct zb_items *it)
{
	if (it->len == 0)
		return; /* a chunk with nothing in it: data is NULL, and NULL + 0 is undefined */
	const uint8_t *p = it->data, *end = it->data + it->len;
	while (p < end && !b->gave_up) {
		struct zb_item h;
		memcpy(&h, p, sizeof(h));
		p += sizeof(h);
		if (h.kind == ZB_ITEM_ERROR) {
			zone_build_error(b, 0, h.line, "%s", (const char *)p);
			p += h.len;
			continue;
		}
		uint8_t *rd = zone_build_record(b, p, h.owner_len, h.type, h.ttl, h.len, 0, h.line);
		memcpy(rd, p + h.owner_len, h.len);
		p += h.owner_len + h.len;
	}
}

static void zb_chunk_release(struct zb_chunk *c)
{
	free(c->items.data);
	c->items = (struct zb_items){0};
	ldns_rdf_deep_free(c->p.origin);
	ldns_rdf_deep_free(c->p.saved);
	ldns_rdf_deep_free(c->p.prev);
	c->p.origin = c->p.saved = c->p.prev = NULL;
}

/* Sets c's parser to the state at its cut, prev being the owner before it. */
static void zb_chunk_reset(struct zb_chunk *c, const struct zone *z, const char *path, ldns_rdf *prev)
{
	zb_chunk_release(c);
	const struct zb_cut *cut = c->cut;
	c->p = (struct zb_parser){.zone = z,
				  .path = path,
				  .idx = 0,
				  .origin = ldns_rdf_clone(cut->origin),
				  .saved = ldns_rdf_clone(cut->saved),
				  .prev = prev,
				  .ttl = cut->ttl,
				  .explicit_ttl = cut->explicit_ttl,
				  .line = cut->line};
	if (!c->p.origin || !c->p.saved)
		abort();
}

/* Parses chunk c again in the main thread, straight into the build, knowing the owner before it. */
static void zb_redo(struct zb_job *j, struct zb *b, struct zb_chunk *c, const ldns_rdf *prev)
{
	zb_chunk_reset(c, b->zone, c->p.path, prev ? ldns_rdf_clone(prev) : NULL);
	c->p.b = b;
	char *buf = zb_chunk_read(j, c);
	if (buf)
		zb_chunk_run(c, buf);
	else
		c->failed = true;
	free(buf);
}

/* Feeds every chunk in file order; prev follows the owner of the last record fed. */
static void zb_feed_all(struct zb_job *j, struct zb *b)
{
	ldns_rdf *prev = NULL;
	for (size_t k = 0; k < j->count && !b->gave_up; k++) {
		struct zb_chunk *c = &j->chunks[k];
		zb_wait_chunk(j, k);
		if (!c->failed && c->p.redo) {
			zb_redo(j, b, c, prev);
			zb_stats.redone++;
		} else if (!c->failed) {
			zb_feed(b, &c->items);
		}
		if (c->failed) {
			zone_build_error(b, 0, 0, "read error");
			break;
		}
		if (c->p.prev && !zone_build_is_unknown_prev(c->p.prev)) {
			ldns_rdf_deep_free(prev);
			prev = ldns_rdf_clone(c->p.prev);
		}
		zb_chunk_release(c);
		pthread_mutex_lock(&j->lock);
		j->fed = k + 1;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	ldns_rdf_deep_free(prev);
}

static void zb_job_init(struct zb_job *j, const struct zb_plan *plan, struct zb *b, const char *path,
			unsigned threads)
{
	j->count = plan->count;
	j->chunks = calloc(plan->count, sizeof(*j->chunks));
	if (!j->chunks)
		abort();
	for (size_t i = 0; i < plan->count; i++) {
		const struct zb_cut *cut = &plan->cuts[i];
		struct zb_chunk *c = &j->chunks[i];
		c->start = cut->offset;
		c->end = i + 1 < plan->count ? plan->cuts[i + 1].offset : plan->size;
		c->cut = cut;
		zb_chunk_reset(c, b->zone, path, i ? zone_build_unknown_prev() : NULL);
	}
	j->window = 2 * (size_t)threads + 1; /* a chunk in hand for every parser, and as many ready */
	atomic_init(&j->cancel, false);
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
}

/* Starts up to n helpers with every signal blocked (the process's handlers run elsewhere). */
static size_t zb_start(pthread_t *tid, size_t n, struct zb_job *j)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	size_t started = 0;
	while (started < n && pthread_create(&tid[started], NULL, zb_worker, j) == 0)
		started++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

static void zb_run(struct zb *b, const char *path, int fd, const struct zb_plan *plan, unsigned threads)
{
	struct zb_job j = {.fd = fd};
	zb_job_init(&j, plan, b, path, threads);
	pthread_t tid[ZB_MAX_THREADS];
	size_t helpers = zb_start(tid, threads - 1, &j);
	zb_stats = (struct zone_build_stats){(unsigned)helpers + 1, plan->count, 0};

	zone_build_add_file(b, path);
	zb_feed_all(&j, b);

	pthread_mutex_lock(&j.lock);
	atomic_store(&j.cancel, true);
	pthread_cond_broadcast(&j.cond);
	pthread_mutex_unlock(&j.lock);
	for (size_t i = 0; i < helpers; i++)
		pthread_join(tid[i], NULL);
	for (size_t i = 0; i < j.count; i++)
		zb_chunk_release(&j.chunks[i]);
	free(j.chunks);
	pthread_mutex_destroy(&j.lock);
	pthread_cond_destroy(&j.cond);
}

bool zone_build_parallel(struct zb *b, const char *path)
{
	zb_stats = (struct zone_build_stats){0};
	unsigned threads = zb_threads();
	if (threads < 2)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	struct zb_plan plan;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size >= zb_tuning.min_size &&
		  zone_build_plan(&plan, fd, b->zone, zb_tuning.chunk_size ? zb_tuning.chunk_size : 1);
	if (ok) {
		zb_run(b, path, fd, &plan, threads);
		zone_build_plan_free(&plan);
	}
	close(fd);
	return ok;
}
