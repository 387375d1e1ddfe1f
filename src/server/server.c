/* server.c -- starting and stopping the worker threads and their sockets (see server.h). */
#include "meridian/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "meridian/region_counts.h"
#include "worker.h"

struct server {
	struct worker *workers;
	unsigned worker_count;
	bool stopping;		   /* set once by server_stop; UDP threads read it after every wake-up */
	struct ratelimit *limiter; /* shared by the UDP threads; its spec comes with each snapshot */
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

/* Replies leave without the don't-fragment bit and at the interface's MTU, whatever path MTU the
 * kernel has learnt for the client: an ICMP "fragmentation needed" is easily forged, and a resolver
 * made to receive our answers in fragments can have a forged second fragment spliced into them
 * (fragment-based cache poisoning). NSD, Knot and gdnsd do the same. Our answers stay within the
 * payload size the client asked for (1232 octets by default), so a real small path MTU rarely
 * matters; where it does, the client falls back to TCP as it would after any loss. Kernels before
 * 3.15 lack OMIT: DONT (DF clear, PMTU still learnt) is the closest. */
static void ignore_path_mtu(int fd, sa_family_t family)
{
	if (family == AF_INET) {
#ifdef IP_PMTUDISC_OMIT
		if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &(int){IP_PMTUDISC_OMIT}, sizeof(int)) == 0)
			return;
#endif
		set_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT);
	} else {
#ifdef IPV6_PMTUDISC_OMIT
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &(int){IPV6_PMTUDISC_OMIT},
			       sizeof(int)) == 0)
			return;
#endif
		set_option(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT);
	}
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
	/* UDP sockets block: their thread waits in recvmmsg itself. TCP sockets live in an event loop. */
	int fd =
	    socket(l->addr.ss_family, type | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC, 0);
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
		ignore_path_mtu(fd, l->addr.ss_family);
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

/* QSBR: the TCP thread blocked in its event loop holds no snapshot, so it goes offline and does not
 * delay a publication; it comes back online before running any callback. */
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

static void *tcp_thread_main(void *arg)
{
	struct worker *w = arg;
	rcu_register_thread();
	ev_set_loop_release_cb(w->loop, worker_offline, worker_online);
	ev_run(w->loop, 0);
	rcu_unregister_thread();
	return NULL;
}

static bool worker_open(struct server *s, struct worker *w, const struct conf *conf, struct diag *d)
{
	w->loop = ev_loop_new(EVFLAG_AUTO);
	w->udp = calloc(conf->listen_count, sizeof(*w->udp));
	w->tcp = calloc(conf->listen_count, sizeof(*w->tcp));
	if (!w->loop || !w->udp || !w->tcp || !tcp_init(w, conf->tcp_clients, conf->tcp_idle_timeout)) {
		diag_error(d, NULL, 0, "worker %u: out of memory", w->index);
		return false;
	}
	for (size_t i = 0; i < conf->listen_count; i++) {
		struct udp_thread *u = &w->udp[i];
		struct listener *t = &w->tcp[i];
		const struct conf_listen *l = &conf->listen[i];
		u->fd = open_socket(l, SOCK_DGRAM, d);
		t->fd = open_socket(l, SOCK_STREAM, d);
		w->listener_count = i + 1;
		u->batch = calloc(1, sizeof(*u->batch));
		if (u->fd < 0 || t->fd < 0 || !u->batch)
			return false;
		u->wildcard = is_wildcard(&l->addr);
		u->stats.thread_slot = region_counts_slot(conf, w->index, true, (unsigned)i);
		u->stopping = &s->stopping;
		u->limiter = s->limiter;
		t->worker = w;
		ev_io_init(&t->io, tcp_acceptable, t->fd, EV_READ);
		t->io.data = t;
		ev_io_start(w->loop, &t->io);
	}
	w->stats.thread_slot = region_counts_slot(conf, w->index, false, 0);
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
		free(w->udp[i].batch);
	}
	if (w->loop)
		ev_loop_destroy(w->loop);
	free(w->udp);
	free(w->tcp);
}

static bool worker_run(struct worker *w, struct diag *d)
{
	for (size_t i = 0; i < w->listener_count; i++) {
		struct udp_thread *u = &w->udp[i];
		if (pthread_create(&u->thread, NULL, udp_thread_main, u) != 0) {
			diag_error(d, NULL, 0, "worker %u: cannot start a UDP thread: %s", w->index,
				   strerror(errno));
			return false;
		}
		u->started = true;
	}
	if (pthread_create(&w->thread, NULL, tcp_thread_main, w) != 0) {
		diag_error(d, NULL, 0, "worker %u: cannot start the TCP thread: %s", w->index,
			   strerror(errno));
		return false;
	}
	w->started = true;
	return true;
}

struct server *server_start(const struct conf *conf, int transfer_fd, struct diag *d)
{
	for (size_t i = 0; i < conf->listen_count; i++)
		if (!address_free(&conf->listen[i], SOCK_DGRAM, d) ||
		    !address_free(&conf->listen[i], SOCK_STREAM, d))
			return NULL;
	struct server *s = calloc(1, sizeof(*s));
	if (!s || !(s->workers = calloc(conf->workers, sizeof(*s->workers))))
		abort();
	s->worker_count = conf->workers;
	if (!(s->limiter = ratelimit_new(conf->rate_limit.table_size))) {
		diag_error(d, NULL, 0, "rate_limit: no memory for a table of %u slots",
			   conf->rate_limit.table_size);
		server_stop(s);
		return NULL;
	}
	for (unsigned i = 0; i < s->worker_count; i++) {
		s->workers[i].index = i;
		if (!worker_open(s, &s->workers[i], conf, d)) {
			server_stop(s);
			return NULL;
		}
		s->workers[i].transfer_fd = transfer_fd;
	}
	for (unsigned i = 0; i < s->worker_count; i++) {
		if (!worker_run(&s->workers[i], d)) {
			server_stop(s);
			return NULL;
		}
	}
	return s;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < s->worker_count; i++) {
		struct worker *w = &s->workers[i];
		/* shutdown() wakes a thread blocked in recvmmsg on Linux, even on an unconnected socket. */
		for (size_t k = 0; k < w->listener_count; k++)
			if (w->udp[k].started)
				shutdown(w->udp[k].fd, SHUT_RDWR);
		if (w->started)
			ev_async_send(w->loop, &w->stop);
	}
	for (unsigned i = 0; i < s->worker_count; i++) {
		struct worker *w = &s->workers[i];
		for (size_t k = 0; k < w->listener_count; k++)
			if (w->udp[k].started)
				pthread_join(w->udp[k].thread, NULL);
		if (w->started)
			pthread_join(w->thread, NULL);
	}
	for (unsigned i = 0; i < s->worker_count; i++)
		worker_close(&s->workers[i]);
	free(s->workers);
	ratelimit_free(s->limiter);
	free(s);
}

static void stats_add(struct query_stats *sum, const struct query_stats *st)
{
	sum->queries += st->queries;
	sum->dropped += st->dropped;
	sum->truncated += st->truncated;
	sum->badvers += st->badvers;
	sum->edns += st->edns;
	sum->rate_limited += st->rate_limited;
	sum->slipped += st->slipped;
	sum->dry_limited += st->dry_limited;
	sum->dry_slipped += st->dry_slipped;
	sum->tsig_verified += st->tsig_verified;
	sum->tsig_failed += st->tsig_failed;
	for (size_t r = 0; r < sizeof(sum->rcode) / sizeof(sum->rcode[0]); r++)
		sum->rcode[r] += st->rcode[r];
	for (size_t t = 0; t < QUERY_TRANSPORT_KINDS; t++)
		sum->transports[t] += st->transports[t];
	for (size_t t = 0; t <= QUERY_QTYPE_OTHER; t++)
		sum->qtypes[t] += st->qtypes[t];
}

void server_stats(const struct server *s, struct query_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < s->worker_count; i++) {
		const struct worker *w = &s->workers[i];
		stats_add(sum, &w->stats);
		for (size_t k = 0; k < w->listener_count; k++)
			stats_add(sum, &w->udp[k].stats);
	}
}

bool server_same_sockets(const struct conf *a, const struct conf *b)
{
	if (a->workers != b->workers || a->listen_count != b->listen_count ||
	    a->tcp_clients != b->tcp_clients || a->tcp_idle_timeout != b->tcp_idle_timeout ||
	    a->rate_limit.table_size != b->rate_limit.table_size)
		return false;
	for (size_t i = 0; i < a->listen_count; i++)
		if (a->listen[i].addr_len != b->listen[i].addr_len ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].addr_len) != 0)
			return false;
	return true;
}
