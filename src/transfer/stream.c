/* stream.c -- who may transfer which zone, and the messages of one transfer (transfer.h).
 *
 * The stream walks the zone as zone.h holds it: the apex SOA, then the zone's node array in order
 * (the apex first; glue and empty non-terminals included, the latter having nothing to send), the
 * SOA again. Reading the nodes in memory order rather than by the name table's chains keeps the
 * walk sequential. Its position is a few indexes, so a transfer holds no memory of its own and
 * resumes wherever the last message ended. */
#include "meridian/transfer.h"

#include <netinet/in.h>
#include <string.h>

#include "meridian/client.h"

const struct conf_zone *transfer_zone_conf(const struct conf *c, const struct zone *z)
{
	for (size_t i = 0; i < c->zone_count; i++)
		if (c->zones[i].apex_len == z->apex.len &&
		    memcmp(c->zones[i].apex, z->apex.data, z->apex.len) == 0)
			return &c->zones[i];
	return NULL;
}

bool transfer_allowed(const struct conf_zone *cz, const struct sockaddr_storage *peer)
{
	struct client_net client;
	return cz->transfer_count && client_net_of(&client, 0, 0, NULL, peer) &&
	       geo_nets_contain(cz->transfer, cz->transfer_count, client.addr);
}

/* The question's type, read straight from the packet (a query that is not one gets 0): the worker
 * asks this of every TCP query, so it must cost next to nothing when the answer is no. */
static uint16_t request_type(const uint8_t *pkt, size_t len)
{
	if (len < 12 + 5 || (pkt[2] & 0xF8) != 0 || pkt[4] != 0 || pkt[5] != 1)
		return 0; /* a response, an opcode other than QUERY, or not one question */
	size_t pos = 12;
	while (pos < len && pkt[pos] != 0) {
		if (pkt[pos] & 0xC0)
			return 0; /* a question name does not start with a pointer in any sane request */
		pos += 1u + pkt[pos];
	}
	if (pos + 5 > len)
		return 0;
	return (uint16_t)(pkt[pos + 1] << 8 | pkt[pos + 2]);
}

bool transfer_check(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *peer, uint64_t now, struct tsig_check *tsig)
{
	tsig->key = NULL;
	if (!snap->conf->transfer_zones || len > TRANSFER_QUERY_MAX)
		return false;
	uint16_t type = request_type(pkt, len);
	if (type != WIRE_TYPE_AXFR && type != WIRE_TYPE_IXFR)
		return false;
	struct wire_query q;
	if (wire_parse_query(pkt, len, &q) != WIRE_PARSE_OK || q.qclass != WIRE_CLASS_IN)
		return false;
	const struct conf *c = snap->conf;
	const struct zone *z = zone_set_get(snap->zones, q.qname.data, q.qname.len);
	const struct conf_zone *cz = z ? transfer_zone_conf(c, z) : NULL;
	if (!cz || !transfer_allowed(cz, peer))
		return false;
	if (q.tsig_at &&
	    (!tsig_verify(c->tsig_keys, c->tsig_key_count, NULL, 0, pkt, len, q.tsig_at, now, tsig) ||
	     tsig->error != TSIG_NOERROR)) {
		tsig->key = NULL;
		return false; /* the query path answers FORMERR or NOTAUTH */
	}
	return transfer_key_satisfied(cz, q.tsig_at ? tsig->key : NULL);
}

bool transfer_key_satisfied(const struct conf_zone *cz, const struct tsig_key *signed_with)
{
	return !cz->transfer_key || cz->transfer_key == signed_with;
}

bool transfer_wanted(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *peer)
{
	/* the type first: every TCP query comes here, and only a transfer request needs the clock */
	if (!snap->conf->transfer_zones || len > TRANSFER_QUERY_MAX)
		return false;
	uint16_t type = request_type(pkt, len);
	if (type != WIRE_TYPE_AXFR && type != WIRE_TYPE_IXFR)
		return false;
	struct tsig_check tsig;
	return transfer_check(snap, pkt, len, peer, tsig_now(), &tsig);
}

/* The serial of the SOA in the authority section of an IXFR request (RFC 1995 3); false when there
 * is none to read. */
static bool ixfr_serial(const uint8_t *pkt, size_t len, const struct wire_query *q, uint32_t *serial)
{
	unsigned an = (unsigned)pkt[6] << 8 | pkt[7], ns = (unsigned)pkt[8] << 8 | pkt[9];
	size_t pos = 12u + q->question_len;
	struct wire_name name;
	if (an != 0 || ns == 0 || !wire_name_read(pkt, len, &pos, &name) || pos + 10 > len)
		return false;
	uint16_t type = (uint16_t)(pkt[pos] << 8 | pkt[pos + 1]);
	size_t rdlen = (size_t)pkt[pos + 8] << 8 | pkt[pos + 9];
	pos += 10;
	size_t end = pos + rdlen;
	if (type != WIRE_TYPE_SOA || end > len || !wire_name_read(pkt, end, &pos, &name) ||
	    !wire_name_read(pkt, end, &pos, &name) || pos + 20 != end)
		return false;
	*serial = (uint32_t)pkt[pos] << 24 | (uint32_t)pkt[pos + 1] << 16 | (uint32_t)pkt[pos + 2] << 8 |
		  pkt[pos + 3];
	return true;
}

void transfer_stream_start(struct transfer_stream *s, const struct zone *z, const struct wire_query *q,
			   const uint8_t *pkt, size_t len, uint16_t payload)
{
	memset(s, 0, sizeof(*s));
	s->zone = z;
	s->q = *q;
	s->payload = q->has_edns ? payload : 0;
	uint32_t serial;
	bool ixfr = q->qtype == WIRE_TYPE_IXFR && ixfr_serial(pkt, len, q, &serial);
	s->soa_only = ixfr && zone_serial_compare(serial, z->serial) >= 0 &&
		      zone_serial_compare(serial, z->serial) != ZONE_SERIAL_UNDEFINED;
	long step = ixfr && !s->soa_only ? journal_find(z->journal, serial) : -1;
	if (step >= 0) {
		s->incremental = true;
		s->from_serial = serial;
		s->step = (unsigned)step;
	}
	s->stage = TRANSFER_FIRST_SOA;
}

void transfer_stream_limit_steps(struct transfer_stream *s, unsigned max_steps)
{
	if (s->incremental && s->zone->journal->count - s->step > max_steps)
		s->incremental = false; /* more steps than the config keeps now: the whole zone */
}

/* Names compared per level when compressing: the recent ones, which share the most with the next. */
#define TRANSFER_SIBLING_SCAN 2

static bool add_rr(struct transfer_stream *s, struct wire_builder *b, const struct zone_node *node,
		   const struct zone_rrset *set, const uint8_t *rdata, uint16_t rdlen)
{
	if (!wire_build_rr(b, WIRE_SECTION_ANSWER, node->name, node->name_len, set->type, WIRE_CLASS_IN,
			   set->type == WIRE_TYPE_RRSIG ? zone_rrsig_ttl(node, set, rdata, rdlen) : set->ttl,
			   rdata, rdlen))
		return false;
	s->records++;
	return true;
}

static bool add_soa(struct transfer_stream *s, struct wire_builder *b)
{
	const struct zone_rrset *soa = s->zone->soa;
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	zone_rdata_next(soa, &pos, &rdata, &rdlen);
	return add_rr(s, b, s->zone->apex_node, soa, rdata, rdlen);
}

/* Adds the RRs of the current node from the stream's position on; false when the message is full
 * (the position then names the RR that did not fit). */
static bool add_node(struct transfer_stream *s, struct wire_builder *b)
{
	const struct zone_node *node = &s->zone->apex_node[s->node];
	for (; s->rrset < node->rrset_count; s->rrset++, s->rdata_pos = 0) {
		const struct zone_rrset *set = &node->rrsets[s->rrset];
		if (set->count == 0 || set == s->zone->soa)
			continue; /* dynamic (never in a transferred zone: the loader refuses it), or the SOA
				   */
		size_t pos = s->rdata_pos;
		const uint8_t *rdata;
		uint16_t rdlen;
		while (zone_rdata_next(set, &pos, &rdata, &rdlen)) {
			if (!add_rr(s, b, node, set, rdata, rdlen))
				return false;
			s->rdata_pos = pos;
		}
	}
	return true;
}

/* Adds the RRs of a run (journal.h) from *pos on; false when the message is full. */
static bool add_run(struct transfer_stream *s, struct wire_builder *b, const uint8_t *run, size_t len,
		    size_t *pos)
{
	size_t at = *pos, name_len;
	const uint8_t *name, *rdata;
	uint16_t type, rdlen;
	uint32_t ttl;
	while (journal_rr_next(run, len, &at, &name, &name_len, &type, &ttl, &rdata, &rdlen)) {
		if (!wire_build_rr(b, WIRE_SECTION_ANSWER, name, name_len, type, WIRE_CLASS_IN, ttl, rdata,
				   rdlen))
			return false;
		s->records++;
		*pos = at;
	}
	return true;
}

/* Adds the journal's steps from the stream's position on; false when the message is full. */
static bool add_steps(struct transfer_stream *s, struct wire_builder *b)
{
	const struct zone_journal *j = s->zone->journal;
	for (; s->step < j->count; s->step++, s->part = STEP_FROM_SOA, s->run_pos = 0) {
		const struct journal_delta *d = j->delta[s->step];
		for (; s->part <= STEP_ADDED; s->part++, s->run_pos = 0) {
			bool fitted =
			    s->part == STEP_FROM_SOA
				? add_run(s, b, d->from_soa, d->from_soa_len, &s->run_pos)
			    : s->part == STEP_DELETED ? add_run(s, b, d->deleted, d->deleted_len, &s->run_pos)
			    : s->part == STEP_TO_SOA  ? add_run(s, b, d->to_soa, d->to_soa_len, &s->run_pos)
						      : add_run(s, b, d->added, d->added_len, &s->run_pos);
			if (!fitted)
				return false;
		}
	}
	return true;
}

/* Fills the message with what comes next, until it is full or the stream ends. */
static void fill(struct transfer_stream *s, struct wire_builder *b)
{
	switch (s->stage) {
	case TRANSFER_FIRST_SOA:
		if (!add_soa(s, b))
			return;
		s->stage = s->soa_only ? TRANSFER_DONE : s->incremental ? TRANSFER_STEPS : TRANSFER_NODES;
		if (s->soa_only)
			return;
		if (s->incremental)
			goto steps;
		/* fall through */
	case TRANSFER_NODES:
		for (; s->node < s->zone->node_count; s->node++, s->rrset = 0, s->rdata_pos = 0)
			if (!add_node(s, b))
				return;
		s->stage = TRANSFER_LAST_SOA;
		goto last_soa;
	case TRANSFER_STEPS:
	steps:
		if (!add_steps(s, b))
			return;
		s->stage = TRANSFER_LAST_SOA;
		/* fall through */
	case TRANSFER_LAST_SOA:
	last_soa:
		if (!add_soa(s, b))
			return;
		s->stage = TRANSFER_DONE;
		/* fall through */
	case TRANSFER_DONE:
		break;
	}
}

size_t transfer_stream_next(struct transfer_stream *s, uint8_t *out, size_t cap)
{
	if (s->stage == TRANSFER_DONE)
		return 0;
	struct wire_query q = s->q;
	q.has_question = s->messages == 0;
	struct wire_builder b;
	if (!wire_build_start(&b, out, cap < TRANSFER_MESSAGE_MAX ? cap : TRANSFER_MESSAGE_MAX, &q))
		return 0;
	wire_build_set_flags(&b, WIRE_FLAG_AA);
	wire_build_limit_search(&b, TRANSFER_SIBLING_SCAN);
	struct wire_edns_reply edns = {.payload = s->payload};
	if (s->payload)
		wire_build_reserve(&b, wire_edns_size(&edns));
	unsigned before = s->records;
	fill(s, &b);
	if (s->records == before)
		return 0; /* not even one RR fits: cap is too small (never with TRANSFER_MESSAGE_MAX) */
	if (s->payload)
		wire_build_opt(&b, &edns);
	s->messages++;
	return wire_build_finish(&b);
}

bool transfer_udp_ixfr(struct wire_builder *b, const struct zone *z, unsigned ixfr_versions,
		       const struct wire_query *q, const uint8_t *pkt, size_t len)
{
	struct transfer_stream s;
	transfer_stream_start(&s, z, q, pkt, len, 0);
	transfer_stream_limit_steps(&s, ixfr_versions);
	struct wire_mark before;
	wire_build_mark(b, &before);
	if (s.soa_only || s.incremental) {
		fill(&s, b);
		if (s.stage == TRANSFER_DONE)
			return true;
		wire_build_rollback(b, &before);
	}
	s.soa_only = true; /* the differences do not fit, or we have none for that serial */
	s.stage = TRANSFER_FIRST_SOA;
	s.records = 0;
	fill(&s, b);
	return s.records == 1;
}
