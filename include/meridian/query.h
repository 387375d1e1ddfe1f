/* query.h -- answering one query: parse, pick the zone, look up, build the response.
 *
 * query_answer is the whole query path between receive and send. It reads only the snapshot and the
 * caller's buffers: it never allocates, locks, blocks or logs. */
#ifndef MERIDIAN_QUERY_H
#define MERIDIAN_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "meridian/snapshot.h"
#include "meridian/wire.h"

enum query_transport { QUERY_UDP, QUERY_TCP };

/* Queries by how they came (query_stats.transports): UDP or TCP, from an IPv4 or an IPv6 client (an
 * IPv4-mapped IPv6 address is an IPv4 client). Named "udp4", "udp6", "tcp4", "tcp6". */
enum query_transport_kind { QUERY_UDP4, QUERY_UDP6, QUERY_TCP4, QUERY_TCP6, QUERY_TRANSPORT_KINDS };
extern const char *const query_transport_names[QUERY_TRANSPORT_KINDS];

/* Queries by type (query_stats.qtypes): types 0 to 257 (CAA) count at their number, every higher
 * one at QUERY_QTYPE_OTHER. Only queries whose question was read count: a malformed one has none. */
#define QUERY_QTYPE_OTHER 258
/* The name of query_stats.qtypes[slot]: its type's mnemonic ("A", "TYPE65280") or "other"; buf holds
 * at least 16 bytes. */
const char *query_qtype_name(unsigned slot, char *buf, size_t size);

/* Counters kept by each worker (single writer); the control thread sums them for status. */
/* The names of query_stats.rcode's entries, in order. */
extern const char *const query_rcode_names[6];

struct query_stats {
	uint64_t queries;
	uint64_t dropped;
	uint64_t truncated;
	uint64_t rcode[6]; /* NOERROR .. REFUSED */
	uint64_t badvers;
	uint64_t edns;
	uint64_t rate_limited;	/* UDP queries over their client's rate limit left unanswered */
	uint64_t slipped;	/* and those answered with a bare truncated reply */
	uint64_t dry_limited;	/* under a dry run: those that would have gone unanswered */
	uint64_t dry_slipped;	/* and those that would have been truncated */
	uint64_t tsig_verified; /* TSIG-signed queries that verified (answered, signed) */
	uint64_t tsig_failed;	/* and those that did not: NOTAUTH with BADKEY, BADSIG, BADTIME or BADTRUNC */
	uint64_t transports[QUERY_TRANSPORT_KINDS]; /* every query counted in queries, by transport */
	uint64_t qtypes[QUERY_QTYPE_OTHER + 1];	    /* queries with a question, by its type */
	/* Not a counter: the thread's row in the snapshot's region_counts (region_counts_slot), 0 for
	 * answers given outside the server's threads (tools, tests), which are not counted there. */
	unsigned thread_slot;
};

/* Counts one more query from peer (NULL: none, not counted by transport) over transport. */
static inline void query_count_transport(struct query_stats *stats, enum query_transport transport,
					 const struct sockaddr_storage *peer)
{
	if (!peer)
		return;
	bool v6 = peer->ss_family == AF_INET6 &&
		  !IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr);
	stats->transports[(transport == QUERY_TCP ? QUERY_TCP4 : QUERY_UDP4) + v6]++;
}

/* Counts one more query asking for qtype. */
static inline void query_count_qtype(struct query_stats *stats, uint16_t qtype)
{
	stats->qtypes[qtype < QUERY_QTYPE_OTHER ? qtype : QUERY_QTYPE_OTHER]++;
}

/* Answers the query in pkt (len bytes) from client peer (its source address as the transport saw it;
 * NULL puts it in the default region) into out (out_cap bytes, at least WIRE_MSG_MAX for TCP and the
 * configured UDP payload for UDP). Returns the response length, or 0 when nothing is to be sent.
 * scratch holds the parsed query (kept per worker so nothing large lives on the stack). A query the
 * snapshot has a prepared answer for is answered from it (prepared.h), any other by the general
 * path; both give the same bytes. */
size_t query_answer(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
		    enum query_transport transport, struct wire_query *scratch, struct query_stats *stats);

/* Answering a batch (a UDP thread's recvmmsg): query_read reads each query as the prepared table needs
 * it and starts loading its table slot into the cache; query_prefetch, on each query once all were
 * read, starts loading the answer its slot holds; query_answer_read then answers each as
 * query_answer would, without reading it again. The cache misses of a batch's queries then overlap
 * instead of following one another. q must have been read from pkt under the same snapshot. */
struct prepared_query;
void query_read(const struct snapshot *snap, const uint8_t *pkt, size_t len, struct prepared_query *q);
void query_prefetch(const struct snapshot *snap, const struct prepared_query *q);
size_t query_answer_read(const struct snapshot *snap, const struct prepared_query *q, const uint8_t *pkt,
			 size_t len, const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
			 enum query_transport transport, struct wire_query *scratch,
			 struct query_stats *stats);

/* For prepared.c: the answer the general path gives to the query in pkt from no particular client,
 * over TCP (no size limit but 65535), computed without reading dynamic data. *complete is true when
 * that answer is the whole truth for every client and transport that gets it within its size limit:
 * nothing dynamic was needed and nothing was truncated. *signed_zone is true when a DNSSEC-signed
 * zone gave it: a query with the DO bit gets another answer, RRSIGs and proofs added (proofs.h). */
size_t query_answer_static(const struct snapshot *snap, const uint8_t *pkt, size_t len, uint8_t *out,
			   size_t out_cap, struct wire_query *scratch, bool *complete, bool *signed_zone);

#endif
