/* notify.c -- NOTIFY (RFC 1996) of transfer.h: tells a zone's secondaries of its serial over UDP, on
 * the control thread's loop.
 *
 * Each (zone, server) being told is one pending notify with its own timer: the message goes out at
 * once, then again after 1, 2, 4 and 8 seconds while no answer came, NOTIFY_TRIES sends in all; the
 * wait after the last is 16 seconds, then the server counts as abandoned. Retries repeat the same
 * message and ID, so a late answer to an earlier send still ends them. A newer serial for the same
 * zone and server replaces the pending notify (new ID, tries from the start): the secondary only
 * needs to hear of the newest.
 *
 * The message (the wire builder's): opcode NOTIFY, AA, the apex SOA as question and, as RFC 1996 3.7
 * allows, the SOA itself as answer. It goes out
 * from one unbound socket per address family, made when first needed. A datagram read there ends a
 * pending notify when it comes from that server's address and port, is a response (QR) with opcode
 * NOTIFY and the pending ID, and its question, when it has one, names the zone. Any rcode ends the
 * retries: a server that says REFUSED or NOTIMP will say so again; the log line names the rcode.
 *
 * A zone with a transfer_key gets its NOTIFY signed with that key (RFC 8945), and only an answer
 * signed with it after our MAC, in time, counts; any other is ignored (the first logged), so a
 * forged answer cannot stop the retries.
 *
 * Pending notifies are few (zones with secondaries times their servers) and a list suffices. Each
 * holds a reference to its zone and copies of the server's address and text: the config may be
 * freed by a reload while a notify is still retried. */
#include "meridian/transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "meridian/query.h"

#define NOTIFY_OPCODE	   4
#define NOTIFY_FIRST_WAIT  1.0 /* seconds after the first send; doubles after each */
#define NOTIFY_MESSAGE_MAX 1280
#define NOTIFY_REPLY_MAX   4096
#define NOTIFY_READS_MAX   64 /* datagrams read per readable event */

struct notify_pending {
	struct notifier *n;
	struct notify_pending *next;
	struct zone *zone; /* referenced: its apex, serial and SOA are in msg */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char *target; /* the server as written in the config, for the log */
	uint16_t id;
	unsigned tries; /* sends attempted, failed ones included */
	double wait;	/* seconds to wait after the next send */
	int last_errno; /* of the last send that failed, 0: none failed */
	ev_timer timer; /* the next retry, or the end of the wait after the last send */
	/* The zone's transfer_key (copied: a reload may free the config): the message is signed with
	 * it, and only an answer signed with it counts (RFC 8945 5.3). */
	bool signing;
	struct tsig_key key;
	struct tsig_signer signer;
	bool bad_answer_noted; /* a badly signed answer was logged (once per notify) */
	size_t msg_len;
	uint8_t msg[NOTIFY_MESSAGE_MAX];
};

/* The socket of one address family; fd -1 until a notify to that family is sent. */
struct notify_socket {
	int fd;
	ev_io io;
};

struct notifier {
	struct ev_loop *loop;
	void (*log)(void *arg, const char *line);
	void *log_arg;
	struct notify_socket v4, v6;
	struct sockaddr_storage source[2]; /* notify_source: [0] IPv4, [1] IPv6 */
	socklen_t source_len[2];	   /* 0: none */
	struct notify_pending *pending;
	struct notify_counts counts;
};

/* ---- the message ---- */

/* The NOTIFY for z with id into out (NOTIFY_MESSAGE_MAX bytes), written by the wire builder as a
 * response is, then turned into a request; its length, 0 when it does not fit (an SOA with names of
 * 255 octets still does). */
static size_t notify_message(uint8_t *out, const struct zone *z, uint16_t id)
{
	const uint8_t *rdata;
	uint16_t rdlen;
	size_t pos = 0;
	uint8_t question[WIRE_NAME_MAX + 4];
	memcpy(question, z->apex.data, z->apex.len);
	memcpy(question + z->apex.len, "\0\6\0\1", 4); /* SOA, IN */
	struct wire_query q = {.id = id,
			       .flags = NOTIFY_OPCODE << 11,
			       .qname = z->apex,
			       .qtype = WIRE_TYPE_SOA,
			       .qclass = WIRE_CLASS_IN,
			       .has_question = true,
			       .question_wire = question,
			       .question_len = (uint16_t)(z->apex.len + 4)};
	struct wire_builder b;
	if (!zone_rdata_next(z->soa, &pos, &rdata, &rdlen) ||
	    !wire_build_start(&b, out, NOTIFY_MESSAGE_MAX, &q) ||
	    !wire_build_rr(&b, WIRE_SECTION_ANSWER, z->apex.data, z->apex.len, WIRE_TYPE_SOA, WIRE_CLASS_IN,
			   z->soa->ttl, rdata, rdlen))
		return 0;
	wire_build_clear_flags(&b, WIRE_FLAG_QR);
	wire_build_set_flags(&b, WIRE_FLAG_AA);
	return wire_build_finish(&b);
}

/* ---- the log ---- */

/* One line: "notify ZONE serial N to SERVER: " and what fmt says. */
static void note(const struct notify_pending *p, const char *fmt, ...)
{
	struct notifier *n = p->n;
	char what[256], line[768];
	va_list ap;
	if (!n->log)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "notify %s serial %u to %s: %s", p->zone->name_text,
		 (unsigned)p->zone->serial, p->target, what);
	n->log(n->log_arg, line);
}

/* ---- pending notifies ---- */

static void pending_free(struct notify_pending *p)
{
	ev_timer_stop(p->n->loop, &p->timer);
	zone_unref(p->zone);
	free(p->target);
	free(p);
}

/* Takes p off the list and frees it: it was answered, abandoned or the notifier goes. */
static void pending_end(struct notify_pending *p)
{
	struct notify_pending **at = &p->n->pending;
	while (*at != p)
		at = &(*at)->next;
	*at = p->next;
	pending_free(p);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static struct notify_pending *pending_find(struct notifier *n, const struct zone *z,
					   const struct sockaddr_storage *addr)
{
	for (struct notify_pending *p = n->pending; p; p = p->next)
		if (p->zone->apex.len == z->apex.len &&
		    memcmp(p->zone->apex.data, z->apex.data, z->apex.len) == 0 && same_addr(&p->addr, addr))
			return p;
	return NULL;
}

/* ---- sending ---- */

static void on_readable(struct ev_loop *loop, ev_io *w, int revents);

/* The socket for family, made (and watched) when first needed; -1 with errno when it cannot be. */
static int socket_for(struct notifier *n, int family)
{
	struct notify_socket *s = family == AF_INET ? &n->v4 : &n->v6;
	if (s->fd >= 0)
		return s->fd;
	s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	unsigned k = family == AF_INET ? 0 : 1;
	if (n->source_len[k] && bind(s->fd, (const struct sockaddr *)&n->source[k], n->source_len[k]) != 0) {
		int e = errno; /* the address went away since the config was checked */
		close(s->fd);
		s->fd = -1;
		errno = e;
		return -1;
	}
	ev_io_init(&s->io, on_readable, s->fd, EV_READ);
	s->io.data = n;
	ev_io_start(n->loop, &s->io);
	return s->fd;
}

static void socket_close(struct notifier *n, struct notify_socket *s)
{
	if (s->fd < 0)
		return;
	ev_io_stop(n->loop, &s->io);
	close(s->fd);
	s->fd = -1;
}

/* One try: a failure other than a full socket buffer is remembered for the abandonment line. */
static void send_once(struct notify_pending *p)
{
	int fd = socket_for(p->n, p->addr.ss_family);
	p->tries++;
	if (fd >= 0 && sendto(fd, p->msg, p->msg_len, 0, (const struct sockaddr *)&p->addr, p->addr_len) ==
			   (ssize_t)p->msg_len) {
		p->n->counts.sent++;
		return;
	}
	if (fd < 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		p->last_errno = errno;
}

static void send_and_wait(struct notify_pending *p)
{
	send_once(p);
	ev_timer_set(&p->timer, p->wait, 0.);
	ev_timer_start(p->n->loop, &p->timer);
	p->wait *= 2;
}

static void abandon(struct notify_pending *p)
{
	p->n->counts.abandoned++;
	if (p->last_errno)
		note(p, "no answer after %u tries (last send failed: %s)", p->tries, strerror(p->last_errno));
	else
		note(p, "no answer after %u tries", p->tries);
	pending_end(p);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct notify_pending *p = w->data;
	if (p->tries >= NOTIFY_TRIES)
		abandon(p);
	else
		send_and_wait(p);
}

/* (Re)starts p for zone z (referenced by the caller for p): a fresh ID and message, tries from 0. */
static void pending_start(struct notify_pending *p, struct zone *z)
{
	p->zone = z;
	p->id = (uint16_t)randombytes_uniform(65536);
	p->msg_len = notify_message(p->msg, z, p->id);
	if (p->msg_len && p->signing) {
		tsig_signer_request(&p->signer, &p->key);
		p->msg_len =
		    tsig_sign(&p->signer, p->msg, p->msg_len, NOTIFY_MESSAGE_MAX, tsig_now(), TSIG_NOERROR);
	}
	p->bad_answer_noted = false;
	p->tries = 0;
	p->wait = NOTIFY_FIRST_WAIT;
	p->last_errno = 0;
	ev_timer_stop(p->n->loop, &p->timer);
	if (!p->msg_len) {
		p->n->counts.abandoned++;
		note(p, "the SOA does not fit in %d octets; not sent", NOTIFY_MESSAGE_MAX);
		pending_end(p);
		return;
	}
	send_and_wait(p);
}

static struct notify_pending *pending_new(struct notifier *n, const struct conf_listen *server)
{
	struct notify_pending *p = calloc(1, sizeof(*p));
	if (!p || !(p->target = strdup(server->text)))
		abort(); /* like diag: no limping on without memory */
	p->n = n;
	memcpy(&p->addr, &server->addr, sizeof(p->addr));
	p->addr_len = server->addr_len;
	ev_init(&p->timer, on_timeout);
	p->timer.data = p;
	p->next = n->pending;
	n->pending = p;
	return p;
}

/* ---- answers ---- */

/* Whether the question of the response pkt (len bytes), if it has one, names p's zone. */
static bool question_matches(const struct notify_pending *p, const uint8_t *pkt, size_t len)
{
	struct wire_name name;
	size_t pos = WIRE_HEADER_SIZE;
	if ((pkt[4] << 8 | pkt[5]) == 0)
		return true;
	return wire_name_read(pkt, len, &pos, &name) && name.len == p->zone->apex.len &&
	       memcmp(name.data, p->zone->apex.data, name.len) == 0;
}

/* Whether the answer pkt (len bytes) to p's signed NOTIFY is signed with its key, in time; when not,
 * it is ignored (the retries go on), and the first such is logged. */
static bool answer_signed(struct notify_pending *p, const uint8_t *pkt, size_t len)
{
	struct tsig_check check;
	size_t at = tsig_find(pkt, len);
	bool valid = at && tsig_verify(&p->key, 1, p->signer.prior, p->signer.prior_len, pkt, len, at,
				       tsig_now(), &check);
	if (valid && check.error == TSIG_NOERROR)
		return true;
	if (!p->bad_answer_noted) {
		p->bad_answer_noted = true;
		if (!at)
			note(p, "an unsigned answer ignored: the zone's NOTIFY is signed with a TSIG key");
		else if (!valid)
			note(p, "an answer with a malformed TSIG record ignored");
		else
			note(p, "an answer ignored: its TSIG %s",
			     check.error == TSIG_BADKEY	   ? "names another key (BADKEY)"
			     : check.error == TSIG_BADSIG  ? "does not verify (BADSIG)"
			     : check.error == TSIG_BADTIME ? "is out of time (BADTIME); are the clocks apart?"
							   : "has a truncated MAC");
	}
	return false;
}

static void on_reply(struct notifier *n, const uint8_t *pkt, size_t len, const struct sockaddr_storage *from)
{
	if (len < WIRE_HEADER_SIZE)
		return;
	unsigned flags = (unsigned)(pkt[2] << 8 | pkt[3]);
	uint16_t id = (uint16_t)(pkt[0] << 8 | pkt[1]);
	if (!(flags & WIRE_FLAG_QR) || WIRE_OPCODE_OF(flags) != NOTIFY_OPCODE)
		return;
	for (struct notify_pending *p = n->pending; p; p = p->next) {
		if (p->id != id || !same_addr(&p->addr, from) || !question_matches(p, pkt, len))
			continue;
		if (p->signing && !answer_signed(p, pkt, len))
			return;
		unsigned rcode = flags & 0xfu;
		n->counts.answered++;
		if (rcode == WIRE_RCODE_NOERROR)
			note(p, "answered");
		else if (rcode < sizeof(query_rcode_names) / sizeof(query_rcode_names[0]))
			note(p, "answered with rcode %s; not retried", query_rcode_names[rcode]);
		else
			note(p, "answered with rcode %u; not retried", rcode);
		pending_end(p);
		return;
	}
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	uint8_t pkt[NOTIFY_REPLY_MAX];
	/* bounded: a flood at our port must not keep the control thread from its other work */
	for (unsigned i = 0; i < NOTIFY_READS_MAX; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t got = recvfrom(w->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &from_len);
		if (got < 0)
			return; /* EAGAIN, or an error queued for an earlier send: the timers go on */
		on_reply(w->data, pkt, (size_t)got, &from);
	}
}

/* ---- the API ---- */

struct notifier *notifier_new(struct ev_loop *loop, void (*log)(void *arg, const char *line), void *log_arg)
{
	struct notifier *n = calloc(1, sizeof(*n));
	/* IDs must be unpredictable, or anyone could answer for a secondary and stop the retries */
	if (!n || sodium_init() < 0)
		abort();
	n->loop = loop;
	n->log = log;
	n->log_arg = log_arg;
	n->v4.fd = -1;
	n->v6.fd = -1;
	return n;
}

void notifier_zone(struct notifier *n, const struct conf_zone *cz, struct zone *z)
{
	/* the loop's time may be stale (a publication can take a while): waits count from now */
	ev_now_update(n->loop);
	for (size_t i = 0; i < cz->notify_count; i++) {
		const struct conf_listen *server = &cz->notify[i];
		struct notify_pending *p = pending_find(n, z, &server->addr);
		zone_ref(z);
		if (p)
			zone_unref(p->zone); /* replaced: the secondary needs only the newest serial */
		else
			p = pending_new(n, server);
		p->signing = cz->transfer_key != NULL;
		if (p->signing) {
			p->key = *cz->transfer_key;
			p->key.name_text = NULL;
		}
		pending_start(p, z);
	}
}

void notifier_set_source(struct notifier *n, const struct conf_listen source[2])
{
	for (unsigned k = 0; k < 2; k++) {
		if (source[k].addr_len == n->source_len[k] &&
		    memcmp(&source[k].addr, &n->source[k], source[k].addr_len) == 0)
			continue;
		/* another source: the next NOTIFY of that family opens a socket bound to it */
		socket_close(n, k == 0 ? &n->v4 : &n->v6);
		memcpy(&n->source[k], &source[k].addr, sizeof(n->source[k]));
		n->source_len[k] = source[k].addr_len;
	}
}

void notifier_changes(struct notifier *n, const struct snapshot *prev, const struct snapshot *next)
{
	notifier_set_source(n, next->conf->notify_source);
	for (size_t i = 0; i < next->conf->zone_count; i++) {
		const struct conf_zone *cz = &next->conf->zones[i];
		if (!cz->notify_count)
			continue;
		const struct zone *z = zone_set_get(next->zones, cz->apex, cz->apex_len);
		if (!z)
			continue; /* it failed to load: there is nothing to tell */
		const struct zone *old = prev ? zone_set_get(prev->zones, cz->apex, cz->apex_len) : NULL;
		if (old && old->serial == z->serial)
			continue;
		/* the set holds its zones as struct zone *: only the reference count changes */
		notifier_zone(n, cz, (struct zone *)z);
	}
}

void notifier_counts(const struct notifier *n, struct notify_counts *out)
{
	*out = n->counts;
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	while (n->pending) {
		struct notify_pending *p = n->pending;
		n->pending = p->next;
		pending_free(p);
	}
	socket_close(n, &n->v4);
	socket_close(n, &n->v6);
	free(n);
}
