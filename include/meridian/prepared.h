/* prepared.h -- prepared answers: the complete response, after the question, to the common questions
 * about a snapshot's zones, computed once when the zones are published.
 *
 * For every node of every zone, for each type it holds and for A and AAAA, the general query path
 * (query_answer_static) is run on a plain query; when that answer needs no dynamic data and is not
 * truncated, its sections, counts, flags and rcode are kept. The sections' compression pointers
 * point into the question, whose layout only the name's length decides, so they hold for every query
 * of that name in any case. Each zone also gets its negative answer (the SOA in authority, as the
 * general path writes it for the apex). A plain question the table does not hold is looked up in its
 * zone: NXDOMAIN or NODATA is answered with the negative answer, its pointers moved by the question's
 * extra length, unless the question shares more than the apex with the SOA's MNAME or RNAME (the
 * general path would compress against that); a name below a zone cut gets the cut's prepared
 * referral, its pointers moved likewise, unless the question's label below the cut is a node (an NS
 * target's name lies there, and the general path would compress against it); a name a wildcard
 * synthesizes gets the wildcard node's prepared answer when that answer is the same for any name
 * (answer RRs owned by a pointer to the question, no name compressed in their rdata).
 *
 * A question whose whole answer is the values of one dynamic RRset at the name (a dynamic A or AAAA
 * asked for its own type, or a dynamic CNAME asked for CNAME, A or AAAA; not through a static CNAME
 * or a wildcard) is kept as that record's index: per query, the client's network and region are
 * found as the general path finds them (client.h), the region's values are picked from the
 * snapshot's dyn_table with the seed the general path would use, and each is written as an RR owned
 * by a pointer to the question (a CNAME target compressed against the question as the builder
 * does), the client subnet option echoed with the scope of the map entry that decided. A CNAME
 * asked for another type whose target lies in the zone is left to the general path, which follows
 * the chain. So the answers follow every publication of new dynamic answers (health, policies)
 * without the table being rebuilt.
 *
 * A query is answered here only when it is a plain one: QUERY opcode, one IN question and nothing
 * else, at most an OPT record of version 0 without NSID and with at most one client subnet option,
 * well formed (the general path answers a malformed one with FORMERR); and only when the answer
 * fits the size the query allows. An answer from a DNSSEC-signed zone (query_answer_static says
 * which answers a signed zone gave) is prepared twice: as it is, and as a query with the DO bit gets
 * it, RRSIGs and proofs added (proofs.h); a DO query to a signed zone is answered from the table only
 * by such an answer to its exact question (a proof for a name the zone does not hold, a wildcard's,
 * a referral below the cut, depend on the name asked: the general path writes them). A static table
 * answer is the same for every client, so a client
 * subnet option is echoed with scope 0 (RFC 7871 7.2.1), or not at all when the config sets
 * ecs = false. Anything else (chains through static CNAMEs to dynamic data, ANY, DS outside the
 * table, wildcard answers with names in their rdata, answers that need truncating) goes to the
 * general path, so both give the same bytes.
 *
 * The table is immutable once built and belongs to the snapshot base (zones and config). Answering
 * never allocates, locks or writes anything but the caller's buffer and counters: it is on the query
 * path. */
#ifndef MERIDIAN_PREPARED_H
#define MERIDIAN_PREPARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/query.h"

struct prepared;

/* Prepares the answers of snap's zones (at most max_answers of them, zones in config order) under
 * snap's config. Returns NULL when max_answers is 0. Allocates; off the query path (the loading
 * thread for a reload's candidate). */
struct prepared *prepared_build(const struct snapshot *snap, size_t max_answers);
void prepared_free(struct prepared *p);
/* Answers held, and the bytes they take (table included). */
size_t prepared_count(const struct prepared *p);
/* Of those, the answers of signed zones also prepared for a query with DO (RRSIGs and proofs). */
size_t prepared_dnssec_count(const struct prepared *p);
size_t prepared_bytes(const struct prepared *p);
/* True when max_answers stopped the preparation before every name was done. */
bool prepared_capped(const struct prepared *p);

/* A query as the table reads it. Kept by the caller, so that a batch of queries can be read first,
 * the table entries they need loaded into the cache while the first ones are answered, and each
 * then answered without being read again (prepared_answer_read). */
#define PREPARED_NAME_BUF (WIRE_NAME_MAX + 8)
struct prepared_query {
	bool plain; /* false: not a plain query (see above); the general path answers it */
	bool edns, do_bit;
	uint16_t qtype;
	unsigned payload;
	uint16_t ecs_at, ecs_len; /* a client subnet option: its offset in the query, its length (header
				   * included); ecs_len 0 when there is none */
	uint16_t cookie_at;	  /* a COOKIE option's data: its offset in the query, its length (0: none) */
	uint8_t cookie_len;
	bool cookie_bad; /* a malformed or second COOKIE option (FORMERR when cookies are on) */
	uint32_t hash;
	size_t question_len;
	size_t name_len;
	uint8_t name[PREPARED_NAME_BUF]; /* lowercased, zero-padded to a multiple of eight */
};

/* Reads the query in pkt (len bytes) into q. Needs no table: it reads the query alone. */
void prepared_read(const uint8_t *pkt, size_t len, struct prepared_query *q);
/* Start loading into the cache what answering q reads: its table slot, then (once the slot had time
 * to arrive, e.g. after every query of a batch had its slot prefetched) the answer the slot holds.
 * Hints only: they change nothing but the cache. */
void prepared_prefetch_slot(const struct prepared *p, const struct prepared_query *q);
void prepared_prefetch_answer(const struct prepared *p, const struct prepared_query *q);
/* prepared_answer for a query already read into q from pkt. */
size_t prepared_answer_read(const struct snapshot *snap, const struct prepared_query *q, const uint8_t *pkt,
			    const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
			    enum query_transport transport, struct query_stats *stats);

/* Answers the query in pkt (len bytes) from client peer (NULL: none known) with snap's prepared
 * answers into out (out_cap bytes; the size limit is the one query_answer applies), counting it in
 * stats as query_answer does. Returns the response length, or 0 when the query is not a plain one
 * with a prepared or negative answer that fits: then nothing was written or counted, and the general
 * path answers. */
size_t prepared_answer(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		       const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
		       enum query_transport transport, struct query_stats *stats);

#endif
