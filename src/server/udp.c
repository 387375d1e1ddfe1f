/* udp.c -- a UDP thread: blocking recvmmsg, query_answer for each datagram, sendmmsg. */
#include <errno.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "worker.h"

/* Points every header at its buffers, once per thread: the kernel never writes the iovecs or the
 * pointers, only the lengths and flags, so a batch only has to reset those (prepare_receive) and
 * fill in what differs per reply (answer_batch). */
static void prepare_batch(struct udp_batch *b)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		b->in_iov[i] = (struct iovec){b->in_buf[i], UDP_RECV_SIZE};
		b->in[i].msg_hdr = (struct msghdr){
		    .msg_name = &b->peer[i],
		    .msg_namelen = sizeof(b->peer[i]),
		    .msg_iov = &b->in_iov[i],
		    .msg_iovlen = 1,
		    .msg_control = b->in_control[i].buf,
		    .msg_controllen = sizeof(b->in_control[i].buf),
		};
		b->out_iov[i] = (struct iovec){b->out_buf[i], 0};
		b->out[i].msg_hdr = (struct msghdr){.msg_iov = &b->out_iov[i], .msg_iovlen = 1};
	}
}

/* Gives the first n receive headers their full address and control lengths again (recvmmsg
 * shortened them to what each datagram carried). */
static void prepare_receive(struct udp_batch *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		b->in[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		b->in[i].msg_hdr.msg_controllen = sizeof(b->in_control[i].buf);
	}
}

/* For a socket bound to a wildcard address, the reply must leave from the address the query was sent
 * to: copy the received packet-info record into the reply (interface index cleared for IPv4 so the
 * routing table picks the interface). */
static void copy_destination(struct msghdr *in, struct msghdr *out, union udp_control *control)
{
	out->msg_control = NULL;
	out->msg_controllen = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
		bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO;
		bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO;
		if (!v4 && !v6)
			continue;
		memset(control, 0, sizeof(*control));
		out->msg_control = control->buf;
		out->msg_controllen = CMSG_SPACE(v4 ? sizeof(struct in_pktinfo) : sizeof(struct in6_pktinfo));
		struct cmsghdr *o = CMSG_FIRSTHDR(out);
		o->cmsg_level = c->cmsg_level;
		o->cmsg_type = c->cmsg_type;
		o->cmsg_len = c->cmsg_len;
		memcpy(CMSG_DATA(o), CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
		if (v4) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(o);
			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		}
		return;
	}
}

/* Sends count replies; a full socket buffer drops the rest (as a router would), a per-destination
 * error skips that one datagram. */
static void send_replies(struct udp_thread *w, int fd, struct mmsghdr *out, unsigned count)
{
	unsigned done = 0;
	/* One reply without control data (the usual case below saturation): sendto spares the kernel
	 * copying and walking a message header. */
	if (count == 1 && !out->msg_hdr.msg_controllen) {
		const struct msghdr *m = &out->msg_hdr;
		while (sendto(fd, m->msg_iov->iov_base, m->msg_iov->iov_len, MSG_DONTWAIT, m->msg_name,
			      m->msg_namelen) < 0)
			if (errno != EINTR) {
				w->stats.dropped++;
				return;
			}
		return;
	}
	while (done < count) {
		int sent = sendmmsg(fd, out + done, count - done, MSG_DONTWAIT);
		if (sent > 0) {
			done += (unsigned)sent;
		} else if (sent < 0 && errno == EINTR) {
			continue;
		} else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			w->stats.dropped += count - done;
			return;
		} else {
			w->stats.dropped++;
			done++;
		}
	}
}

/* The rate limit's verdict on one more response to peer (ratelimit.h). Under a dry run a limited
 * response is counted as what it would have been, and answered. */
static enum ratelimit_verdict limit_verdict(struct udp_thread *u, const struct ratelimit_spec *limit,
					    const struct sockaddr_storage *peer, uint64_t now)
{
	if (!limit->rate)
		return RATELIMIT_PASS;
	enum ratelimit_verdict v = ratelimit_check(u->limiter, limit, peer, now, &u->slip_count);
	if (v == RATELIMIT_PASS || !limit->dry_run)
		return v;
	if (v == RATELIMIT_TRUNCATE)
		u->stats.dry_slipped++;
	else
		u->stats.dry_limited++;
	return RATELIMIT_PASS;
}

/* The reply to a query from peer over its limit (RATELIMIT_DROP or RATELIMIT_TRUNCATE, as v says): a
 * bare truncated one when it slips and is a query with a question, else none (0). */
static size_t limited_reply(struct udp_thread *u, enum ratelimit_verdict v, const struct prepared_query *q,
			    const uint8_t *pkt, size_t len, const struct sockaddr_storage *peer, uint8_t *out)
{
	u->stats.queries++;
	query_count_transport(&u->stats, QUERY_UDP, peer);
	if (q->plain)
		query_count_qtype(&u->stats, q->qtype);
	size_t n = v == RATELIMIT_TRUNCATE ? ratelimit_truncated(pkt, len, out, UDP_SEND_SIZE) : 0;
	if (n)
		u->stats.slipped++;
	else
		u->stats.rate_limited++;
	return n;
}

/* Answers one received batch of n datagrams: reads them all first, so that the table entries their
 * answers need load into the cache together (query_read, query.h), then answers each in turn. */
static void answer_batch(struct udp_thread *u, unsigned n)
{
	struct udp_batch *b = u->batch;
	const struct snapshot *snap = snapshot_current();
	for (unsigned i = 0; i < n; i++)
		query_read(snap, b->in_buf[i], b->in[i].msg_len, &b->read[i]);
	if (n > 1)
		for (unsigned i = 0; i < n; i++)
			query_prefetch(snap, &b->read[i]);
	const struct ratelimit_spec *limit = &snap->conf->rate_limit;
	uint64_t now = limit->rate ? ratelimit_now() : 0;
	unsigned m = 0;
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *in = &b->in[i].msg_hdr;
		if (in->msg_flags & MSG_TRUNC) {
			u->stats.queries++;
			query_count_transport(&u->stats, QUERY_UDP, &b->peer[i]);
			u->stats.dropped++;
			continue;
		}
		enum ratelimit_verdict v = limit_verdict(u, limit, &b->peer[i], now);
		size_t len =
		    v == RATELIMIT_PASS
			? query_answer_read(snap, &b->read[i], b->in_buf[i], b->in[i].msg_len, &b->peer[i],
					    b->out_buf[m], UDP_SEND_SIZE, QUERY_UDP, &u->query, &u->stats)
			: limited_reply(u, v, &b->read[i], b->in_buf[i], b->in[i].msg_len, &b->peer[i],
					b->out_buf[m]);
		if (!len)
			continue;
		b->out_iov[m].iov_len = len;
		struct msghdr *out = &b->out[m].msg_hdr;
		out->msg_name = &b->peer[i];
		out->msg_namelen = in->msg_namelen;
		if (u->wildcard)
			copy_destination(in, out, &b->out_control[m]);
		m++;
	}
	send_replies(u, u->fd, b->out, m);
}

void *udp_thread_main(void *arg)
{
	struct udp_thread *u = arg;
	rcu_register_thread();
	prepare_batch(u->batch);
	unsigned used = 0; /* headers recvmmsg may have changed since they were prepared */
	for (;;) {
		prepare_receive(u->batch, used);
		/* Blocked in the kernel we hold no snapshot: offline, a publication need not wait for us.
		 * server_stop wakes us with shutdown(), so the wait needs no timeout (and no timer). */
		rcu_thread_offline();
		int n = recvmmsg(u->fd, u->batch->in, UDP_BATCH, MSG_WAITFORONE, NULL);
		rcu_thread_online();
		used = n > 0 ? (unsigned)n : UDP_BATCH;
		/* A socket shut down by server_stop reads as one empty datagram: not a query. */
		if (__atomic_load_n(u->stopping, __ATOMIC_ACQUIRE))
			break;
		/* No quiescent state after the batch: going offline before the next wait is one. */
		if (n > 0)
			answer_batch(u, (unsigned)n);
	}
	rcu_unregister_thread();
	return NULL;
}
