/* tcp.c -- the fuzz target for DNS over TCP (see tcp.h). */
#include "tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "../../src/server/worker.h"
#include "answer.h"
#include "meridian/conf.h"
#include "meridian/snapshot.h"

#define STEPS_MAX 200000 /* loop turns for one input: far more than any input needs */

static struct snapshot *snap;
static struct worker worker;
static struct listener listener;
static struct sockaddr_un address;
static socklen_t address_len;
static char failure[512];

/* The replies the client is owed: the answers to the complete frames of the stream, in order. */
struct expected {
	const uint8_t *stream;
	size_t len, pos;		 /* frames start at pos */
	bool closed;			 /* a zero-length frame: the server closes there */
	struct query_stats stats;	 /* the worker's counters as it will have them (they seed choices) */
	uint8_t reply[2 + WIRE_MSG_MAX]; /* the next owed reply, framed */
	size_t reply_len, matched;	 /* its length (0: none owed) and how much of it came */
};

bool fuzz_tcp_setup(const char *conf_path)
{
	if (!(snap = fuzz_load_deployment(conf_path)))
		return false;
	snap->conf->cookies = false; /* a server cookie holds the time: replies would depend on it */
	snapshot_publish(snap);
	rcu_register_thread(); /* this thread is the worker's TCP thread */
	worker.loop = ev_loop_new(EVFLAG_AUTO);
	if (!worker.loop || !tcp_init(&worker, 2, 3600))
		return false;
	/* an abstract UNIX socket: nothing in the file system to clean up */
	address.sun_family = AF_UNIX;
	int n = snprintf(address.sun_path + 1, sizeof(address.sun_path) - 1, "meridian-fuzz-tcp-%d",
			 (int)getpid());
	address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	listener.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listener.fd < 0 || bind(listener.fd, (struct sockaddr *)&address, address_len) != 0 ||
	    listen(listener.fd, 4) != 0) {
		perror("fuzz tcp: listening socket");
		return false;
	}
	listener.worker = &worker;
	ev_io_init(&listener.io, tcp_acceptable, listener.fd, EV_READ);
	listener.io.data = &listener;
	return true;
}

static const char *fail(const char *fmt, size_t a, size_t b)
{
	snprintf(failure, sizeof(failure), fmt, a, b);
	return failure;
}

/* Moves e to the next reply owed (reply_len 0: none is, any more). */
static void next_expected(struct expected *e)
{
	e->reply_len = e->matched = 0;
	while (!e->closed && e->len - e->pos >= 2) {
		size_t len = (size_t)e->stream[e->pos] << 8 | e->stream[e->pos + 1];
		if (len == 0) {
			e->closed = true;
			return;
		}
		if (e->len - e->pos - 2 < len)
			return; /* incomplete: never answered */
		const uint8_t *msg = e->stream + e->pos + 2;
		e->pos += 2 + len;
		struct sockaddr_storage peer = {.ss_family = AF_UNIX};
		size_t n = query_answer(snap, msg, len, &peer, e->reply + 2, WIRE_MSG_MAX, QUERY_TCP,
					&worker.query, &e->stats);
		if (n) {
			e->reply[0] = (uint8_t)(n >> 8);
			e->reply[1] = (uint8_t)n;
			e->reply_len = n + 2;
			return;
		}
	}
}

/* Checks what the client read (got octets) against the replies owed. */
static const char *check_read(struct expected *e, const uint8_t *got, size_t n)
{
	while (n) {
		if (!e->reply_len)
			return fail("%zu octets more than the replies owed (%zu)", n, 0);
		size_t take = e->reply_len - e->matched < n ? e->reply_len - e->matched : n;
		if (memcmp(e->reply + e->matched, got, take) != 0)
			return fail("a reply differs from query_answer's within its first %zu of %zu octets",
				    e->matched + take, e->reply_len);
		e->matched += take;
		got += take;
		n -= take;
		if (e->matched == e->reply_len)
			next_expected(e);
	}
	return NULL;
}

/* The size of the client's next write: 1 to 64 octets (1 to 4096 with the plan's bit 7). */
static size_t next_write(uint32_t *rng, bool big)
{
	*rng = *rng * 1103515245u + 12345u;
	return 1 + ((*rng >> 16) % (big ? 4096u : 64u));
}

const char *fuzz_tcp_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return NULL;
	bool slow = data[0] & 1, big = data[0] & 0x80;
	uint32_t rng = data[0] >> 1;
	static struct expected e;
	e.stream = data + 1;
	e.len = size - 1;
	e.pos = 0;
	e.closed = false;
	e.stats = worker.stats;
	next_expected(&e);

	int client = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (client < 0 || connect(client, (struct sockaddr *)&address, address_len) != 0)
		return fail("cannot connect (%zu, %zu)", (size_t)errno, 0);
	tcp_acceptable(worker.loop, &listener.io, EV_READ);
	if (!worker.lru_head)
		return fail("the connection was not accepted (%zu, %zu)", 0, 0);

	const char *bad = NULL;
	size_t sent = 0;
	bool shut = false, eof = false;
	static uint8_t buf[65536];
	for (unsigned step = 0; !eof && !bad; step++) {
		if (step == STEPS_MAX) {
			bad = fail("no end after %zu loop turns (%zu octets sent)", STEPS_MAX, sent);
			break;
		}
		bool wrote = false;
		if (sent < e.len) {
			size_t want = next_write(&rng, big);
			ssize_t w = send(client, e.stream + sent, want < e.len - sent ? want : e.len - sent,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				sent += (size_t)w;
				wrote = true;
			} else if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
				sent = e.len; /* the server closed (a zero-length frame) */
			}
		} else if (!shut) {
			shutdown(client, SHUT_WR);
			shut = wrote = true;
		}
		ev_run(worker.loop, EVRUN_NOWAIT);
		if (slow && wrote)
			continue; /* a slow reader reads only when it cannot write */
		ssize_t r = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			bad = check_read(&e, buf, (size_t)r);
		else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			eof = true; /* the server closed */
	}
	close(client);
	if (!bad && e.reply_len)
		bad = fail("the server closed with replies owed (%zu of %zu octets of the next came)",
			   e.matched, e.reply_len);
	/* the server's side is closed too: its one connection slot is free again */
	for (int i = 0; i < 4 && worker.lru_head; i++)
		ev_run(worker.loop, EVRUN_NOWAIT);
	if (!bad && worker.lru_head)
		bad = fail("the server kept the connection open (%zu, %zu)", 0, 0);
	worker.stats = e.stats; /* already so when every reply matched; resynchronized when not */
	return bad;
}
