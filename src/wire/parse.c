/* parse.c -- query parsing: header, question, the RR sections and the EDNS OPT record (RFC 6891, 7871).
 *
 * Policy decisions (see also wire.h):
 * - Bytes after the last RR the header counts are ignored, as NSD and BIND do (Knot answers FORMERR):
 *   they cannot change the meaning of the query and some middleboxes pad packets.
 * - The OPT owner must be the literal root octet (RFC 6891 6.1.2); a pointer to a root is refused.
 * - ECS (RFC 7871 6, 7.2.1): a wrongly formatted option MUST get FORMERR. We count as wrongly formatted
 *   an unknown FAMILY, a SOURCE PREFIX-LENGTH longer than the family's address, an ADDRESS that is not
 *   exactly ceil(SOURCE/8) octets, ADDRESS bits set beyond SOURCE, a nonzero SCOPE PREFIX-LENGTH (it
 *   "MUST be set to 0" in queries; gdnsd rejects it too) and a second ECS option (which subnet?).
 * - NSID (RFC 5001): the option is honoured whatever its payload (requesters MUST send it empty).
 * - Every FORMERR check of the message's structure runs before the EDNS version check, in the order
 *   wire.h states; the options of an OPT record whose version is above 0 are not read at all: their
 *   meaning is that version's, so BADVERS is the whole answer (as BIND does; gdnsd reads options only
 *   for version 0). A malformed ECS or COOKIE option in such a record is therefore no FORMERR. */
#include <string.h>

#include "meridian/wire.h"

#define RR_FIXED    10 /* type, class, TTL, rdlength */
#define OPT_HEADER  4  /* option code, option length */
#define ECS_FIXED   4  /* family, source prefix, scope prefix */
#define EDNS_DO_BIT 0x8000u

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Start of the parse: everything the caller may read is defined whatever the outcome. */
static void query_reset(struct wire_query *q)
{
	q->id = 0;
	q->flags = 0;
	q->qname.len = 0;
	q->qname.label_count = 0;
	q->qname_hash = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->has_question = false;
	q->question_wire = NULL;
	q->question_len = 0;
	q->has_edns = false;
	q->edns_payload = 0;
	q->edns_version = 0;
	q->edns_do = false;
	q->edns_nsid = false;
	q->edns_keepalive = false;
	q->has_ecs = false;
	q->ecs_family = 0;
	q->ecs_source_prefix = 0;
	q->ecs_scope_prefix = 0;
	q->cookie = NULL;
	q->cookie_len = 0;
	q->tsig_at = 0;
	q->cookie_malformed = false;
	q->empty_question = false;
}

bool wire_ecs_well_formed(const uint8_t *p, size_t len)
{
	if (len < ECS_FIXED)
		return false;
	uint16_t family = get16(p);
	unsigned source = p[2], scope = p[3];
	unsigned max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
	if (max_bits == 0 || source > max_bits || scope != 0)
		return false;
	unsigned addr_len = (source + 7) / 8;
	if (len - ECS_FIXED != addr_len)
		return false;
	const uint8_t *addr = p + ECS_FIXED;
	return !(source & 7) || !(addr[addr_len - 1] & (0xFFu >> (source & 7)));
}

static bool parse_ecs(const uint8_t *p, uint16_t len, struct wire_query *q)
{
	if (q->has_ecs || !wire_ecs_well_formed(p, len))
		return false;
	unsigned source = p[2];
	memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
	memcpy(q->ecs_addr, p + ECS_FIXED, (source + 7) / 8);
	q->has_ecs = true;
	q->ecs_family = get16(p);
	q->ecs_source_prefix = (uint8_t)source;
	q->ecs_scope_prefix = 0;
	return true;
}

bool wire_cookie_well_formed(size_t len)
{
	return len == 8 || (len >= 16 && len <= 40);
}

/* Walks the options of the OPT rdata; false on a truncated or malformed option. */
static bool parse_options(const uint8_t *p, size_t len, struct wire_query *q)
{
	const uint8_t *end = p + len;

	while (p < end) {
		if ((size_t)(end - p) < OPT_HEADER)
			return false;
		uint16_t code = get16(p), olen = get16(p + 2);
		p += OPT_HEADER;
		if (olen > (size_t)(end - p))
			return false;
		if (code == WIRE_EDNS_NSID)
			q->edns_nsid = true;
		else if (code == WIRE_EDNS_TCP_KEEPALIVE)
			q->edns_keepalive = true; /* a query's carries no timeout; one that does is ignored */
		else if (code == WIRE_EDNS_ECS && !parse_ecs(p, olen, q))
			return false;
		else if (code == WIRE_EDNS_COOKIE) {
			/* kept for the answer to judge: with cookies off it is ignored, malformed or not */
			q->cookie_malformed |= q->cookie != NULL || !wire_cookie_well_formed(olen);
			q->cookie = p;
			q->cookie_len = (uint8_t)(olen > 40 ? 40 : olen);
		}
		/* Unknown options are ignored (RFC 6891 6.1.2). */
		p += olen;
	}
	return true;
}

/* Parses the OPT record whose owner octet is at pkt[pos] and fixed part was bounds-checked. */
static bool parse_opt(const uint8_t *pkt, size_t pos, struct wire_query *q)
{
	if (q->has_edns || pkt[pos] != 0)
		return false;
	const uint8_t *rr = pkt + pos + 1;
	uint16_t payload = get16(rr + 2);
	q->has_edns = true;
	q->edns_payload = payload < WIRE_UDP_MIN ? WIRE_UDP_MIN : payload;
	q->edns_version = rr[5];
	q->edns_do = (get16(rr + 6) & EDNS_DO_BIT) != 0;
	return q->edns_version != 0 || parse_options(rr + RR_FIXED, get16(rr + 8), q);
}

/* Steps over count RRs from *pos; OPT is only accepted when allow_opt (the additional section). */
static bool walk_section(const uint8_t *pkt, size_t len, size_t *pos, unsigned count, bool allow_opt,
			 struct wire_query *q)
{
	for (unsigned i = 0; i < count; i++) {
		size_t owner = *pos;
		/* The usual RR here is the OPT record, owned by the root: one octet, no name to read. */
		if (owner < len && pkt[owner] == 0)
			*pos = owner + 1;
		else if (!wire_name_read(pkt, len, pos, NULL))
			return false;
		if (len - *pos < RR_FIXED)
			return false;
		const uint8_t *rr = pkt + *pos;
		size_t rdlen = get16(rr + 8);
		if (len - *pos - RR_FIXED < rdlen)
			return false;
		if (get16(rr) == WIRE_TYPE_OPT) {
			if (!allow_opt || *pos != owner + 1 || !parse_opt(pkt, owner, q))
				return false;
		} else if (get16(rr) == WIRE_TYPE_TSIG) {
			/* RFC 8945 5.1: the last record, class ANY, TTL 0 */
			if (!allow_opt || i + 1 != count || get16(rr + 2) != WIRE_CLASS_ANY ||
			    get16(rr + 4) || get16(rr + 6))
				return false;
			q->tsig_at = (uint16_t)owner;
		}
		*pos += RR_FIXED + rdlen;
	}
	return true;
}

/* The question: an uncompressed name (nothing valid precedes it for a pointer to target), type and
 * class. The name's bytes are echoed verbatim in answers, so a pointer here is refused. */
static bool parse_question(const uint8_t *pkt, size_t len, size_t *pos, struct wire_query *q)
{
	size_t start = *pos;

	if (!wire_name_read_hashed(pkt, len, pos, &q->qname, &q->qname_hash))
		return false;
	if (len - *pos < 4)
		return false;
	q->qtype = get16(pkt + *pos);
	q->qclass = get16(pkt + *pos + 2);
	*pos += 4;
	q->question_wire = pkt + start;
	q->question_len = (uint16_t)(*pos - start);
	q->has_question = true;
	return true;
}

/* The answer, authority and additional sections after the question, which ends at pos. */
static bool walk_rest(const uint8_t *pkt, size_t len, size_t pos, struct wire_query *q)
{
	unsigned an_ns = (unsigned)get16(pkt + 6) + get16(pkt + 8);
	return walk_section(pkt, len, &pos, an_ns, false, q) &&
	       walk_section(pkt, len, &pos, get16(pkt + 10), true, q);
}

/* The outcome when the message is not a plain query (NOTIMP) or has no question (FORMERR): the rest is
 * still walked so that an OPT record there puts one in the reply (RFC 6891 7: a request with OPT gets a
 * response with OPT). A message that cannot be walked keeps its status and gets no OPT. */
static enum wire_parse_status finish_early(const uint8_t *pkt, size_t len, size_t pos, struct wire_query *q,
					   enum wire_parse_status status)
{
	if (!walk_rest(pkt, len, pos, q)) {
		q->has_edns = false;
		q->edns_nsid = false;
		q->edns_keepalive = false;
		q->has_ecs = false;
		q->cookie = NULL;
		q->cookie_malformed = false;
	} else if (status == WIRE_PARSE_FORMERR && get16(pkt + 4) == 0) {
		q->empty_question = true;
	}
	return status;
}

enum wire_parse_status wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	query_reset(q);
	if (len < WIRE_HEADER_SIZE)
		return WIRE_PARSE_DROP;
	q->id = get16(pkt);
	q->flags = get16(pkt + 2);
	if (q->flags & WIRE_FLAG_QR)
		return WIRE_PARSE_DROP;
	bool notimp = WIRE_OPCODE_OF(q->flags) != WIRE_OPCODE_QUERY;
	unsigned qdcount = get16(pkt + 4);
	if (qdcount > 1)
		return notimp ? WIRE_PARSE_NOTIMP : WIRE_PARSE_FORMERR;

	size_t pos = WIRE_HEADER_SIZE;
	if (qdcount == 0)
		return finish_early(pkt, len, pos, q, notimp ? WIRE_PARSE_NOTIMP : WIRE_PARSE_FORMERR);
	if (!parse_question(pkt, len, &pos, q))
		return notimp ? WIRE_PARSE_NOTIMP : WIRE_PARSE_FORMERR;
	if (notimp)
		return finish_early(pkt, len, pos, q, WIRE_PARSE_NOTIMP);
	if (!walk_rest(pkt, len, pos, q))
		return WIRE_PARSE_FORMERR;
	if (q->has_edns && q->edns_version > 0)
		return WIRE_PARSE_BADVERS;
	return WIRE_PARSE_OK;
}
