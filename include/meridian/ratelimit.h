/* ratelimit.h -- per-client response rate limiting over UDP (as BIND's and Knot's RRL).
 *
 * Each client network (an IPv4 /24 and an IPv6 /56 by default) may get `rate` UDP responses per
 * second, with bursts of up to `burst`. Over the limit a response is dropped, except every slip-th,
 * which is sent as a bare truncated reply (TC, the question and nothing else): a real client behind a
 * busy network retries over TCP and gets its answer, while a forged source gets nothing larger than
 * what was sent to us. TCP is not limited (the handshake proves the address; tcp_clients bounds it).
 * Exempt nets (monitoring, your own resolvers) are never limited. A dry run counts what the limit
 * would do and answers everything, so a limit can be tried on live traffic first.
 *
 * The table is one array shared by every UDP thread, allocated once when the server starts:
 * `table_size` slots in sets of four, each slot one 64-bit word (a 24-bit tag of the network's keyed
 * hash and a 40-bit virtual time in microseconds), updated with compare-and-swap. The limiter is
 * GCRA: a network's virtual time runs 1/rate seconds ahead per response and may lead the clock by
 * at most burst/rate seconds. A network missing from its set takes the slot of the set that was idle
 * longest. Query path: no allocation, no locks, no system call (the clock is read once per batch). */
#ifndef MERIDIAN_RATELIMIT_H
#define MERIDIAN_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "meridian/geo.h"

#define RATELIMIT_EXEMPT_MAX 256
#define RATELIMIT_RATE_MAX   1000000 /* responses per second */
#define RATELIMIT_BURST_MAX  100000

/* The rate_limit table of a config (conf.h). rate 0: no limiting. */
struct ratelimit_spec {
	unsigned rate;	      /* responses per second per client network; 0: off */
	unsigned burst;	      /* responses a network may get at once; default: rate */
	unsigned slip;	      /* every slip-th limited response is sent truncated; 0: none; default 2 */
	unsigned ipv4_prefix; /* the client network of an IPv4 address: default /24 */
	unsigned ipv6_prefix; /* of an IPv6 address: default /56 */
	unsigned table_size;  /* slots, a power of two; default 65536; changing it needs a restart */
	bool dry_run;	      /* count what would be limited, answer everything (to try a limit out) */
	const struct geo_net *exempt;
	size_t exempt_count;
};

enum ratelimit_verdict {
	RATELIMIT_PASS,	    /* answer as usual */
	RATELIMIT_DROP,	    /* over the limit: send nothing */
	RATELIMIT_TRUNCATE, /* over the limit, this one slips: send ratelimit_truncated's reply */
};

struct ratelimit;

/* A table of slots slots (a power of two, at least 4) with a random hash key; NULL when memory is
 * short. */
struct ratelimit *ratelimit_new(unsigned slots);
void ratelimit_free(struct ratelimit *t);

/* The clock the limiter runs on, in microseconds (monotonic). */
uint64_t ratelimit_now(void);

/* Query path: the verdict on one more response to peer at now (ratelimit_now) under spec.
 * *slip_count is the caller's count of limited responses (one per thread: no sharing). */
enum ratelimit_verdict ratelimit_check(struct ratelimit *t, const struct ratelimit_spec *spec,
				       const struct sockaddr_storage *peer, uint64_t now,
				       unsigned *slip_count);

/* The reply a slipped query gets: its header (ID, opcode, RD and CD kept) with QR and TC set and its
 * question, nothing else. 0 (send nothing) when pkt is not a query with exactly one question or out
 * is too small. */
size_t ratelimit_truncated(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
