/* answer.c -- the query path's fuzz target (see answer.h). */
#include "answer.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/conf.h"
#include "meridian/cookie.h"
#include "meridian/diag.h"
#include "meridian/loader.h"
#include "meridian/prepared.h"
#include "meridian/query.h"
#include "meridian/snapshot.h"
#include "meridian/wire.h"

static struct snapshot *snap;
/* Heap buffers of exactly WIRE_MSG_MAX octets, so that AddressSanitizer sees a write past one. */
static uint8_t *out_general, *out_table;
static char failure[512];

struct snapshot *fuzz_load_deployment(const char *conf_path)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(conf_path, &d);
	struct snapshot *s = conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, &d) : NULL;
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	diag_free(&d);
	if (s)
		snapshot_set_prepared(s, prepared_build(s, 1000000));
	return s;
}

bool fuzz_answer_setup(const char *conf_path)
{
	if (!(snap = fuzz_load_deployment(conf_path)))
		return false;
	cookie_now_fix(1559731985); /* every way answers at one moment: the same server cookies */
	out_general = malloc(WIRE_MSG_MAX);
	out_table = malloc(WIRE_MSG_MAX);
	return out_general && out_table;
}

static const char *failed(const char *what, size_t n_general, size_t n_other)
{
	snprintf(failure, sizeof(failure), "%s (%zu octets from the general path, %zu this way)", what,
		 n_general, n_other);
	return failure;
}

/* The client octet 0 names, read from the octets after it; returns how many octets it took. */
static size_t read_client(const uint8_t *data, size_t size, struct sockaddr_storage *peer, bool *known)
{
	unsigned kind = (data[0] >> 1) & 3;
	memset(peer, 0, sizeof(*peer));
	*known = false;
	size_t need = kind == 2 ? 16 : kind ? 4 : 0;
	if (size < 1 + need)
		return 0;
	if (kind == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)peer;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, data + 1, 4);
	} else if (kind) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)peer;
		sin6->sin6_family = AF_INET6;
		if (kind == 2) {
			memcpy(&sin6->sin6_addr, data + 1, 16);
		} else {
			sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xFF;
			memcpy(&sin6->sin6_addr.s6_addr[12], data + 1, 4);
		}
	}
	*known = kind != 0;
	return need;
}

/* What any reply to pkt must be: a whole DNS message with the query's ID and QR set, within the
 * transport's size (512 octets for a UDP query without EDNS). */
static const char *check_reply(const uint8_t *pkt, size_t len, const uint8_t *reply, size_t n,
			       enum query_transport transport)
{
	if (n == 0)
		return NULL; /* dropped */
	if (n < WIRE_HEADER_SIZE)
		return failed("a reply shorter than a header", n, n);
	if (len >= 2 && memcmp(pkt, reply, 2) != 0)
		return failed("the reply's ID is not the query's", n, n);
	if (!(reply[2] & 0x80))
		return failed("the reply has QR clear", n, n);
	ldns_pkt *answer = NULL;
	if (ldns_wire2pkt(&answer, reply, n) != LDNS_STATUS_OK)
		return failed("the reply is not a well-formed DNS message (ldns cannot read it)", n, n);
	ldns_pkt_free(answer);
	if (transport == QUERY_UDP) {
		/* The client's payload, read with our parser: ldns leaks the first TSIG record of a message
		 * that has two (ldns_pkt_set_tsig replaces it without freeing it), and random queries do. A
		 * query the parser refuses gets a header and question at most, well under 512 octets. */
		struct wire_query q;
		enum wire_parse_status st = wire_parse_query(pkt, len, &q);
		size_t limit = WIRE_UDP_MIN;
		if ((st == WIRE_PARSE_OK || st == WIRE_PARSE_BADVERS) && q.has_edns &&
		    q.edns_payload > WIRE_UDP_MIN)
			limit = q.edns_payload;
		if (n > limit)
			return failed("a UDP reply larger than the client accepts", n, n);
	}
	return NULL;
}

const char *fuzz_answer_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return NULL;
	enum query_transport transport = (data[0] & 1) ? QUERY_TCP : QUERY_UDP;
	struct sockaddr_storage peer;
	bool known;
	size_t skip = read_client(data, size, &peer, &known);
	if ((data[0] >> 1) & 3 && skip == 0)
		return NULL; /* too short for its client */
	const uint8_t *pkt = data + 1 + skip;
	size_t len = size - 1 - skip;
	const struct sockaddr_storage *asker = known ? &peer : NULL;
	uint64_t before = data[0] >> 3;

	struct wire_query scratch;
	struct query_stats general = {.queries = before}, table = {.queries = before};
	const struct prepared *p = snap->prepared;
	snap->prepared = NULL;
	size_t n_general =
	    query_answer(snap, pkt, len, asker, out_general, WIRE_MSG_MAX, transport, &scratch, &general);
	snap->prepared = p;
	const char *bad = check_reply(pkt, len, out_general, n_general, transport);
	if (bad)
		return bad;

	size_t n_table =
	    query_answer(snap, pkt, len, asker, out_table, WIRE_MSG_MAX, transport, &scratch, &table);
	if (n_table != n_general || memcmp(out_general, out_table, n_general) != 0)
		return failed("the answer with the prepared table differs", n_general, n_table);
	if (memcmp(&general, &table, sizeof(general)) != 0)
		return failed("the counters with the prepared table differ", n_general, n_table);

	struct query_stats ahead = {.queries = before};
	struct prepared_query read;
	query_read(snap, pkt, len, &read);
	query_prefetch(snap, &read);
	size_t n_ahead = query_answer_read(snap, &read, pkt, len, asker, out_table, WIRE_MSG_MAX, transport,
					   &scratch, &ahead);
	if (n_ahead != n_general || memcmp(out_general, out_table, n_general) != 0)
		return failed("the answer read ahead differs", n_general, n_ahead);
	if (memcmp(&general, &ahead, sizeof(general)) != 0)
		return failed("the counters read ahead differ", n_general, n_ahead);

	struct query_stats direct = {.queries = before};
	size_t n_direct = prepared_answer(snap, pkt, len, asker, out_table, WIRE_MSG_MAX, transport, &direct);
	if (n_direct && (n_direct != n_general || memcmp(out_general, out_table, n_general) != 0))
		return failed("the prepared table's own answer differs", n_general, n_direct);
	return NULL;
}
