/* server.c -- the transfer server (transfer.h): connections the workers hand over, each streaming
 * one zone on the control thread's loop.
 *
 * A worker writes a handoff record (the connection, its client, the request) to a pipe; a record is
 * smaller than PIPE_BUF, so the write is whole or fails, and a full pipe only costs that one
 * transfer. Here the request is checked again against the config published now (a reload may have
 * come in between), the zone is referenced, and a message is built each time the last one has been
 * written: a transfer's memory is one message, whatever the zone's size. After the last message the
 * connection is half-closed and read until the client closes, so data it sent meanwhile cannot turn
 * our close into a reset that would cut the end of the transfer off. */
#include "meridian/transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STALL_TIMEOUT  30.0 /* seconds a client may leave a message unread before it is dropped */
#define LINGER_TIMEOUT 5.0  /* seconds to wait for the client's close after the last message */

struct handoff {
	int fd;
	uint16_t len;
	struct sockaddr_storage peer;
	uint8_t pkt[TRANSFER_QUERY_MAX];
};

_Static_assert(sizeof(struct handoff) <= PIPE_BUF, "a handoff record must be written whole");

struct session {
	struct transfer_server *ts;
	struct session *prev, *next;
	int fd;
	struct sockaddr_storage peer;
	struct zone *zone;
	uint8_t pkt[TRANSFER_QUERY_MAX];
	struct transfer_stream stream;
	/* A signed request gets signed messages (RFC 8945 5.3.1); the key is copied, since a reload
	 * may free the config it came from. */
	bool signing;
	struct tsig_key key;
	struct tsig_signer signer;
	bool lingering; /* everything is sent: waiting for the client to close */
	ev_io io;
	ev_timer timer;
	size_t out_len, out_sent;
	uint8_t out[2 + TRANSFER_MESSAGE_MAX];
};

struct transfer_server {
	struct ev_loop *loop;
	int pipe[2];
	ev_io pipe_io;
	struct session *sessions;
	struct transfer_counts counts;
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

static void say(struct transfer_server *ts, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct transfer_server *ts, const char *fmt, ...)
{
	if (!ts->log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ts->log(ts->log_arg, line);
}

static const char *peer_text(const struct sockaddr_storage *peer, char *buf, size_t n)
{
	const void *addr = peer->ss_family == AF_INET6
			       ? (const void *)&((const struct sockaddr_in6 *)peer)->sin6_addr
			       : (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
	if (!inet_ntop(peer->ss_family, addr, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

static void session_end(struct session *s, const char *why)
{
	struct transfer_server *ts = s->ts;
	char peer[INET6_ADDRSTRLEN];
	if (why) {
		ts->counts.aborted++;
		say(ts, "transfer of %s to %s stopped after %u messages: %s", s->zone->name_text,
		    peer_text(&s->peer, peer, sizeof(peer)), s->stream.messages, why);
	}
	ev_io_stop(ts->loop, &s->io);
	ev_timer_stop(ts->loop, &s->timer);
	close(s->fd);
	zone_unref(s->zone);
	if (s->prev)
		s->prev->next = s->next;
	else
		ts->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ts->counts.active--;
	free(s);
}

/* Everything is out: say so, half-close, and wait for the client to close. */
static void session_finish(struct session *s)
{
	struct transfer_server *ts = s->ts;
	char peer[INET6_ADDRSTRLEN], key[WIRE_NAME_MAX * 4 + 32] = "";
	ts->counts.served++;
	ts->counts.soa_only += s->stream.soa_only;
	ts->counts.incremental += s->stream.incremental;
	if (s->signing) {
		size_t n = (size_t)snprintf(key, sizeof(key), ", signed with TSIG key ");
		wire_name_to_text(s->key.name.data, s->key.name.len, key + n, sizeof(key) - n);
	}
	char kind[64];
	if (s->stream.incremental) {
		unsigned steps =
		    s->zone->journal->count - (unsigned)journal_find(s->zone->journal, s->stream.from_serial);
		snprintf(kind, sizeof(kind), "IXFR from serial %u, %u step%s", s->stream.from_serial, steps,
			 steps == 1 ? "" : "s");
	} else
		snprintf(kind, sizeof(kind), "%s",
			 s->stream.soa_only		       ? "IXFR, secondary current (SOA only)"
			 : s->stream.q.qtype == WIRE_TYPE_IXFR ? "IXFR answered with the whole zone"
							       : "AXFR");
	say(ts, "transfer of %s serial %u to %s: %s, %u records in %u messages%s", s->zone->name_text,
	    s->zone->serial, peer_text(&s->peer, peer, sizeof(peer)), kind, s->stream.records,
	    s->stream.messages, key);
	shutdown(s->fd, SHUT_WR);
	s->lingering = true;
	ev_io_stop(ts->loop, &s->io);
	ev_io_set(&s->io, s->fd, EV_READ);
	ev_io_start(ts->loop, &s->io);
	ev_timer_stop(ts->loop, &s->timer);
	ev_timer_set(&s->timer, LINGER_TIMEOUT, 0);
	ev_timer_start(ts->loop, &s->timer);
}

/* Writes until the socket is full or the stream has ended. */
static void session_write(struct session *s)
{
	for (;;) {
		if (s->out_sent == s->out_len) {
			size_t room = TRANSFER_MESSAGE_MAX - (s->signing ? tsig_record_size(&s->key) : 0);
			size_t len = transfer_stream_next(&s->stream, s->out + 2, room);
			if (!len) {
				session_finish(s);
				return;
			}
			if (s->signing)
				len = tsig_sign(&s->signer, s->out + 2, len, TRANSFER_MESSAGE_MAX, tsig_now(),
						TSIG_NOERROR);
			s->out[0] = (uint8_t)(len >> 8);
			s->out[1] = (uint8_t)len;
			s->out_len = len + 2;
			s->out_sent = 0;
		}
		ssize_t n =
		    send(s->fd, s->out + s->out_sent, s->out_len - s->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			s->out_sent += (size_t)n;
			ev_timer_again(s->ts->loop, &s->timer);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		session_end(s, n < 0 ? strerror(errno) : "the connection closed");
		return;
	}
}

static void session_event(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	struct session *s = io->data;
	if (!s->lingering) {
		session_write(s);
		return;
	}
	char buf[4096];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		session_end(s, NULL);
}

static void session_timeout(struct ev_loop *loop, ev_timer *timer, int revents)
{
	(void)loop;
	(void)revents;
	struct session *s = timer->data;
	session_end(s, s->lingering ? NULL : "the client read nothing for 30 seconds");
}

/* Starts serving a handed-over request, or closes it when the config published now refuses it. */
static void session_start(struct transfer_server *ts, const struct handoff *h)
{
	const struct snapshot *snap = snapshot_latest();
	struct tsig_check tsig;
	const char *refusal = ts->counts.active >= TRANSFER_SESSIONS_MAX ? "too many transfers at once"
			      : !transfer_check(snap, h->pkt, h->len, &h->peer, tsig_now(), &tsig)
				  ? "no longer allowed by the running config"
				  : NULL;
	if (refusal) {
		char peer[INET6_ADDRSTRLEN];
		say(ts, "transfer request from %s closed: %s", peer_text(&h->peer, peer, sizeof(peer)),
		    refusal);
		ts->counts.aborted++;
		close(h->fd);
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->ts = ts;
	s->fd = h->fd;
	s->peer = h->peer;
	memcpy(s->pkt, h->pkt, h->len);
	/* transfer_wanted found it well-formed, for a zone of snap; parsed from the session's copy,
	 * question_wire points there */
	struct wire_query q;
	wire_parse_query(s->pkt, h->len, &q);
	s->zone = (struct zone *)zone_set_get(snap->zones, q.qname.data, q.qname.len);
	zone_ref(s->zone);
	if (tsig.key) {
		s->signing = true;
		s->key = *tsig.key;
		s->key.name_text = NULL;
		tsig_signer_response(&s->signer, &tsig);
		s->signer.key = &s->key;
	}
	transfer_stream_start(&s->stream, s->zone, &q, s->pkt, h->len, (uint16_t)snap->conf->udp_payload);
	transfer_stream_limit_steps(&s->stream, transfer_zone_conf(snap->conf, s->zone)->ixfr_versions);
	s->next = ts->sessions;
	if (s->next)
		s->next->prev = s;
	ts->sessions = s;
	ts->counts.active++;
	ev_io_init(&s->io, session_event, s->fd, EV_WRITE);
	s->io.data = s;
	ev_init(&s->timer, session_timeout);
	s->timer.repeat = STALL_TIMEOUT;
	s->timer.data = s;
	ev_timer_again(ts->loop, &s->timer);
	ev_io_start(ts->loop, &s->io);
}

static void pipe_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	struct transfer_server *ts = io->data;
	struct handoff h;
	while (read(ts->pipe[0], &h, sizeof(h)) == (ssize_t)sizeof(h))
		session_start(ts, &h);
}

struct transfer_server *transfer_server_new(struct ev_loop *loop, void (*log)(void *arg, const char *line),
					    void *log_arg)
{
	struct transfer_server *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	if (pipe2(ts->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		free(ts);
		return NULL;
	}
	ts->loop = loop;
	ts->log = log;
	ts->log_arg = log_arg;
	ev_io_init(&ts->pipe_io, pipe_readable, ts->pipe[0], EV_READ);
	ts->pipe_io.data = ts;
	ev_io_start(loop, &ts->pipe_io);
	return ts;
}

int transfer_server_handoff_fd(const struct transfer_server *ts)
{
	return ts->pipe[1];
}

void transfer_server_counts(const struct transfer_server *ts, struct transfer_counts *out)
{
	*out = ts->counts;
}

void transfer_server_free(struct transfer_server *ts)
{
	if (!ts)
		return;
	while (ts->sessions)
		session_end(ts->sessions, NULL);
	ev_io_stop(ts->loop, &ts->pipe_io);
	struct handoff h;
	while (read(ts->pipe[0], &h, sizeof(h)) == (ssize_t)sizeof(h))
		close(h.fd);
	close(ts->pipe[0]);
	close(ts->pipe[1]);
	free(ts);
}

bool transfer_handoff(int handoff_fd, int fd, const struct sockaddr_storage *peer, const uint8_t *pkt,
		      size_t len)
{
	if (len > TRANSFER_QUERY_MAX)
		return false;
	struct handoff h = {.fd = fd, .len = (uint16_t)len, .peer = *peer};
	memcpy(h.pkt, pkt, len);
	return write(handoff_fd, &h, sizeof(h)) == (ssize_t)sizeof(h);
}
