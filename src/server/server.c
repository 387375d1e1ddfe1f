/* server.c -- starting and stopping the worker threads and their sockets (see server.h). */
#include "meridian/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "worker.h"

struct server {
	struct worker *workers;
	unsigned worker_count;
};

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void set_option(int fd, int level, int name, int value)
{
	setsockopt(fd, level, name, &value, sizeof(value));
}

/* SO_REUSEPORT lets every worker bind its own socket, but it would also let us silently share a
 * port with another running server. A plain bind first tells whether the address is taken. */
static bool address_free(const struct conf_listen *l, int type, struct diag *d)
{
	int fd = socket(l->addr.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "listen %s: socket: %s", l->text, strerror(errno));
		return false;
	}
	if (type == SOCK_STREAM)
		set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (l->addr.ss_family == AF_INET6)
		set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	bool ok = bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) == 0;
	if (!ok)
		diag_error(d, NULL, 0, "listen %s (%s): %s", l->text, type == SOCK_DGRAM ? "udp" : "tcp",
			   strerror(errno));
	close(fd);
	return ok;
}

static int open_socket(const struct conf_listen *l, int type, struct diag *d)
{
	int fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "listen %s: socket: %s", l->text, strerror(errno));
		return -1;
	}
	set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (type == SOCK_STREAM)
		set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (l->addr.ss_family == AF_INET6)
		set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (type == SOCK_DGRAM) {
		set_option(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
		set_option(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
		if (is_wildcard(&l->addr) && l->addr.ss_family == AF_INET)
			set_option(fd, IPPROTO_IP, IP_PKTINFO, 1);
		else if (is_wildcard(&l->addr))
			set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) != 0)) {
		diag_error(d, NULL, 0, "listen %s (%s): %s", l->text, type == SOCK_DGRAM ? "udp" : "tcp",
			   strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void worker_stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)a;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* QSBR: a worker blocked in the event loop holds no snapshot, so it goes offline and does not delay
 * a publication; it comes back online before running any callback. */
static void worker_offline(struct ev_loop *loop)
{
	(void)loop;
	rcu_thread_offline();
}

static void worker_online(struct ev_loop *loop)
{
	(void)loop;
	rcu_thread_online();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	rcu_register_thread();
	ev_set_loop_release_cb(w->loop, worker_offline, worker_online);
	ev_run(w->loop, 0);
	rcu_unregister_thread();
	return NULL;
}

static bool worker_open(struct worker *w, const struct conf *conf, struct diag *d)
{
	w->loop = ev_loop_new(EVFLAG_AUTO);
	w->batch = calloc(1, sizeof(*w->batch));
	w->udp = calloc(conf->listen_count, sizeof(*w->udp));
	w->tcp = calloc(conf->listen_count, sizeof(*w->tcp));
	if (!w->loop || !w->batch || !w->udp || !w->tcp || !tcp_init(w, conf->tcp_clients, conf->tcp_idle_timeout)) {
		diag_error(d, NULL, 0, "worker %u: out of memory", w->index);
		return false;
	}
	for (size_t i = 0; i < conf->listen_count; i++) {
		struct listener *u = &w->udp[i], *t = &w->tcp[i];
		u->fd = t->fd = -1;
		const struct conf_listen *l = &conf->listen[i];
		u->fd = open_socket(l, SOCK_DGRAM, d);
		t->fd = open_socket(l, SOCK_STREAM, d);
		w->listener_count = i + 1;
		if (u->fd < 0 || t->fd < 0)
			return false;
		u->worker = t->worker = w;
		u->family = t->family = l->addr.ss_family;
		u->wildcard = is_wildcard(&l->addr);
		ev_io_init(&u->io, udp_readable, u->fd, EV_READ);
		ev_io_init(&t->io, tcp_acceptable, t->fd, EV_READ);
		u->io.data = u;
		t->io.data = t;
		ev_io_start(w->loop, &u->io);
		ev_io_start(w->loop, &t->io);
	}
	ev_async_init(&w->stop, worker_stop_cb);
	ev_async_start(w->loop, &w->stop);
	return true;
}

static void worker_close(struct worker *w)
{
	if (w->loop)
		tcp_shutdown(w);
	for (size_t i = 0; i < w->listener_count; i++) {
		if (w->udp[i].fd >= 0)
			close(w->udp[i].fd);
		if (w->tcp[i].fd >= 0)
			close(w->tcp[i].fd);
	}
	if (w->loop)
		ev_loop_destroy(w->loop);
	free(w->udp);
	free(w->tcp);
	free(w->batch);
}

struct server *server_start(const struct conf *conf, struct diag *d)
{
	for (size_t i = 0; i < conf->listen_count; i++)
		if (!address_free(&conf->listen[i], SOCK_DGRAM, d) || !address_free(&conf->listen[i], SOCK_STREAM, d))
			return NULL;
	struct server *s = calloc(1, sizeof(*s));
	if (!s || !(s->workers = calloc(conf->workers, sizeof(*s->workers))))
		abort();
	s->worker_count = conf->workers;
	for (unsigned i = 0; i < s->worker_count; i++) {
		s->workers[i].index = i;
		if (!worker_open(&s->workers[i], conf, d)) {
			server_stop(s);
			return NULL;
		}
	}
	for (unsigned i = 0; i < s->worker_count; i++) {
		struct worker *w = &s->workers[i];
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			diag_error(d, NULL, 0, "worker %u: cannot start thread: %s", i, strerror(errno));
			server_stop(s);
			return NULL;
		}
		w->started = true;
	}
	return s;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->worker_count; i++) {
		struct worker *w = &s->workers[i];
		if (w->started) {
			ev_async_send(w->loop, &w->stop);
			pthread_join(w->thread, NULL);
		}
	}
	for (unsigned i = 0; i < s->worker_count; i++)
		worker_close(&s->workers[i]);
	free(s->workers);
	free(s);
}

void server_stats(const struct server *s, struct query_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < s->worker_count; i++) {
		const struct query_stats *st = &s->workers[i].stats;
		sum->queries += st->queries;
		sum->dropped += st->dropped;
		sum->truncated += st->truncated;
		sum->badvers += st->badvers;
		sum->edns += st->edns;
		for (size_t r = 0; r < sizeof(sum->rcode) / sizeof(sum->rcode[0]); r++)
			sum->rcode[r] += st->rcode[r];
	}
}

bool server_same_sockets(const struct conf *a, const struct conf *b)
{
	if (a->workers != b->workers || a->listen_count != b->listen_count || a->tcp_clients != b->tcp_clients ||
	    a->tcp_idle_timeout != b->tcp_idle_timeout)
		return false;
	for (size_t i = 0; i < a->listen_count; i++)
		if (a->listen[i].addr_len != b->listen[i].addr_len ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].addr_len) != 0)
			return false;
	return true;
}
