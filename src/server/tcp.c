/* tcp.c -- DNS over TCP (RFC 7766): length framing, pipelining, idle timeout, connection cap.
 *
 * Connection slots are allocated once per worker; accepting, reading and answering never allocate.
 * Open connections sit in an LRU list ordered by last activity: the idle timer closes from its head,
 * and when every slot is taken a new connection replaces the head (the one idle the longest). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "meridian/transfer.h"
#include "worker.h"

static void lru_remove(struct worker *w, struct tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w->lru_tail = c->prev;
	c->prev = c->next = NULL;
}

static void lru_append(struct worker *w, struct tcp_conn *c)
{
	c->prev = w->lru_tail;
	c->next = NULL;
	if (w->lru_tail)
		w->lru_tail->next = c;
	else
		w->lru_head = c;
	w->lru_tail = c;
}

static void touch(struct worker *w, struct tcp_conn *c)
{
	c->last_active = ev_now(w->loop);
	if (w->lru_tail != c) {
		lru_remove(w, c);
		lru_append(w, c);
	}
}

/* Frees the connection's slot; its socket is the caller's. */
static void conn_release(struct worker *w, struct tcp_conn *c)
{
	ev_io_stop(w->loop, &c->io);
	c->fd = -1;
	lru_remove(w, c);
	c->next = w->free_conns;
	w->free_conns = c;
}

static void conn_close(struct worker *w, struct tcp_conn *c)
{
	int fd = c->fd;
	conn_release(w, c);
	close(fd);
}

/* Hands the connection, whose next query (pkt) asks for a transfer the snapshot allows, to the
 * transfer server; what else the client sent goes with the connection, unread (transfer.h). */
static void conn_hand_over(struct worker *w, struct tcp_conn *c, const uint8_t *pkt, size_t len)
{
	int fd = c->fd;
	bool handed = transfer_handoff(w->transfer_fd, fd, &c->peer, pkt, len);
	conn_release(w, c);
	if (!handed)
		close(fd);
}

static void watch(struct worker *w, struct tcp_conn *c, int events)
{
	if (c->io.events == events)
		return;
	ev_io_stop(w->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(w->loop, &c->io);
}

/* Writes what is pending; returns true when the answer is out, false when it must wait (or the
 * connection was closed, which sets fd to -1). */
static bool flush(struct worker *w, struct tcp_conn *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			c->out_sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(w, c, EV_WRITE);
			return false;
		}
		conn_close(w, c);
		return false;
	}
	c->out_len = c->out_sent = 0;
	watch(w, c, EV_READ);
	return true;
}

/* Answers every complete query in the input buffer, in order, while answers go out at once. */
static void process(struct worker *w, struct tcp_conn *c)
{
	const struct snapshot *snap = snapshot_current();
	while (c->fd >= 0 && c->out_len == 0 && c->in_len >= 2) {
		const uint8_t *p = c->in + c->in_start;
		size_t msg_len = (size_t)p[0] << 8 | p[1];
		if (msg_len == 0) {
			conn_close(w, c);
			return;
		}
		if (c->in_len < 2 + msg_len)
			break;
		if (w->transfer_fd >= 0 && transfer_wanted(snap, p + 2, msg_len, &c->peer)) {
			conn_hand_over(w, c, p + 2, msg_len);
			return;
		}
		size_t len = query_answer(snap, p + 2, msg_len, &c->peer, c->out + 2, WIRE_MSG_MAX, QUERY_TCP,
					  &w->query, &w->stats);
		c->in_start += 2 + msg_len;
		c->in_len -= 2 + msg_len;
		if (!len)
			continue;
		c->out[0] = (uint8_t)(len >> 8);
		c->out[1] = (uint8_t)len;
		c->out_len = len + 2;
		c->out_sent = 0;
		flush(w, c);
	}
	if (c->fd >= 0 && c->in_len == 0)
		c->in_start = 0;
}

static void conn_event(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	struct tcp_conn *c = io->data;
	struct worker *w = c->worker;
	if ((revents & EV_WRITE) && !flush(w, c))
		return;
	if (revents & EV_READ) {
		if (c->in_start > 0 && c->in_start + c->in_len == sizeof(c->in)) {
			memmove(c->in, c->in + c->in_start, c->in_len);
			c->in_start = 0;
		}
		size_t room = sizeof(c->in) - c->in_start - c->in_len;
		ssize_t n = room ? read(c->fd, c->in + c->in_start + c->in_len, room) : -1;
		if (n == 0 || (n < 0 && room && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(w, c);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
	}
	touch(w, c);
	process(w, c);
	rcu_quiescent_state();
}

void tcp_acceptable(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)revents;
	struct listener *l = io->data;
	struct worker *w = l->worker;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!w->free_conns)
			conn_close(w, w->lru_head);
		struct tcp_conn *c = w->free_conns;
		w->free_conns = c->next;
		c->fd = fd;
		c->peer = peer;
		c->in_start = c->in_len = c->out_len = c->out_sent = 0;
		c->last_active = ev_now(loop);
		lru_append(w, c);
		ev_io_init(&c->io, conn_event, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
	}
}

static void idle_check(struct ev_loop *loop, ev_timer *timer, int revents)
{
	(void)revents;
	struct worker *w = timer->data;
	ev_tstamp now = ev_now(loop);
	while (w->lru_head && now - w->lru_head->last_active >= w->idle_timeout)
		conn_close(w, w->lru_head);
}

bool tcp_init(struct worker *w, unsigned clients, unsigned idle_timeout)
{
	/* calloc of this size is served by mmap: slots cost memory only once a connection touches them. */
	w->conns = calloc(clients, sizeof(*w->conns));
	if (!w->conns)
		return false;
	w->conn_count = clients;
	w->free_conns = NULL;
	for (unsigned i = clients; i-- > 0;) {
		w->conns[i].fd = -1;
		w->conns[i].worker = w;
		w->conns[i].next = w->free_conns;
		w->free_conns = &w->conns[i];
	}
	w->lru_head = w->lru_tail = NULL;
	w->idle_timeout = idle_timeout;
	w->transfer_fd = -1;
	double period = idle_timeout < 4 ? idle_timeout / 4.0 : 1.0;
	ev_timer_init(&w->idle_timer, idle_check, period, period);
	w->idle_timer.data = w;
	ev_timer_start(w->loop, &w->idle_timer);
	return true;
}

void tcp_shutdown(struct worker *w)
{
	while (w->lru_head)
		conn_close(w, w->lru_head);
	free(w->conns);
	w->conns = NULL;
}
