/* worker.h -- inside the server module: one worker, its UDP threads, its TCP thread and connections.
 * Only src/server/ includes this; the rest of the program sees server.h.
 *
 * A worker is one UDP thread per listen address plus one TCP thread. A UDP thread blocks in
 * recvmmsg itself (no event loop): at moderate rates each wake-up carries one query, and not paying
 * an epoll_wait per wake-up is a third fewer system calls per query. TCP needs readiness for many
 * connections, so the TCP thread runs a libev loop over every TCP listener and connection. */
#ifndef MERIDIAN_SERVER_WORKER_H
#define MERIDIAN_SERVER_WORKER_H

#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "meridian/prepared.h"
#include "meridian/query.h"
#include "meridian/ratelimit.h"
#include "meridian/wire.h"

#define UDP_BATCH     64   /* datagrams per recvmmsg/sendmmsg */
#define UDP_RECV_SIZE 4096 /* a larger query datagram is dropped (MSG_TRUNC) */
#define UDP_SEND_SIZE 4096 /* the largest udp_payload the config allows */

struct worker;

/* A bound TCP listening socket of one worker. */
struct listener {
	int fd;
	ev_io io;
	struct worker *worker;
};

/* Control-message room for one IPv4 or IPv6 packet-info record. */
union udp_control {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

/* Everything one recvmmsg/sendmmsg round needs, allocated once per worker. */
struct udp_batch {
	struct mmsghdr in[UDP_BATCH];
	struct mmsghdr out[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH];
	struct iovec out_iov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	union udp_control in_control[UDP_BATCH];
	union udp_control out_control[UDP_BATCH];
	struct prepared_query read[UDP_BATCH]; /* each datagram as query_read left it */
	uint8_t in_buf[UDP_BATCH][UDP_RECV_SIZE];
	uint8_t out_buf[UDP_BATCH][UDP_SEND_SIZE];
};

/* One TCP client (RFC 7766). Queries are answered one at a time in arrival order; while an answer
 * is still being written the connection is not read, so a client that does not read cannot make the
 * worker buffer without bound. */
struct tcp_conn {
	int fd;			      /* -1 when the slot is free */
	struct sockaddr_storage peer; /* the client, for geo routing without client subnet */
	ev_io io;
	struct worker *worker;
	struct tcp_conn *prev, *next; /* LRU list of open connections (oldest activity first), or free list */
	ev_tstamp last_active;
	size_t in_start, in_len;  /* unprocessed bytes: in[in_start .. in_start + in_len) */
	size_t out_len, out_sent; /* answer being written: out[out_sent .. out_len) */
	uint8_t in[2 + WIRE_MSG_MAX];
	uint8_t out[2 + WIRE_MSG_MAX];
};

/* One UDP socket and the thread that answers it. */
struct udp_thread {
	int fd;
	bool wildcard; /* bound to 0.0.0.0 or ::: replies must carry the query's destination address */
	pthread_t thread;
	bool started;
	bool *stopping;		   /* the server's stop flag, read atomically */
	struct ratelimit *limiter; /* the server's, shared */
	unsigned slip_count;	   /* responses this thread limited (ratelimit_check) */
	struct udp_batch *batch;
	struct wire_query query; /* scratch for the query being answered */
	struct query_stats stats;
};

struct worker {
	unsigned index;
	pthread_t thread; /* the TCP thread */
	bool started;
	struct ev_loop *loop;
	ev_async stop;
	struct udp_thread *udp;
	struct listener *tcp;
	size_t listener_count;	/* per protocol: one per listen address */
	struct tcp_conn *conns; /* tcp_clients slots, allocated once */
	unsigned conn_count;
	struct tcp_conn *free_conns;
	struct tcp_conn *lru_head, *lru_tail;
	ev_timer idle_timer;
	double idle_timeout;
	int transfer_fd; /* the transfer server's handoff pipe (transfer.h), -1: transfers are refused */
	struct wire_query query; /* scratch for the query being answered */
	struct query_stats stats;
};

/* The body of a UDP thread (arg: its struct udp_thread); returns when *stopping is set and the
 * socket was shut down. */
void *udp_thread_main(void *arg);
void tcp_acceptable(struct ev_loop *loop, ev_io *io, int revents);
/* Sets up the connection slots and the idle timer; false when memory is short. */
bool tcp_init(struct worker *w, unsigned clients, unsigned idle_timeout);
/* Closes every connection and frees the slots. */
void tcp_shutdown(struct worker *w);

#endif
