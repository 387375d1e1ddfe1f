/* validate.c -- the checks a zone must pass before it is compiled (RFC 1034, 1035, 2181, 4592).
 *
 * Runs over the grouped records (zone_build_group): every error names the file and line of the record at
 * fault. One error per record at most, so one mistake does not bury the others. */
#include "build.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Rdata the server reads or rewrites (names it compresses, the SOA it parses) must be well formed;
 * ldns guarantees it for the text form, not for the RFC 3597 "\#" form. */
static bool zb_rdata_ok(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t n, m;
	switch (type) {
	case WIRE_TYPE_A:
		return len == 4;
	case WIRE_TYPE_AAAA:
		return len == 16;
	case WIRE_TYPE_NS:
	case WIRE_TYPE_MD:
	case WIRE_TYPE_MF:
	case WIRE_TYPE_CNAME:
	case WIRE_TYPE_DNAME:
	case WIRE_TYPE_MB:
	case WIRE_TYPE_MG:
	case WIRE_TYPE_MR:
	case WIRE_TYPE_PTR:
		return zb_name_length(rd, len) == len;
	case WIRE_TYPE_MX:
		return len > 2 && zb_name_length(rd + 2, len - 2) == len - 2;
	case WIRE_TYPE_MINFO:
		n = zb_name_length(rd, len);
		return n && zb_name_length(rd + n, len - n) == len - n;
	case WIRE_TYPE_SOA:
		n = zb_name_length(rd, len);
		m = n ? zb_name_length(rd + n, len - n) : 0;
		return m && len - n - m == 20;
	default:
		return true;
	}
}

static bool zb_is_wildcard(const struct zb_name *n)
{
	return n->name[0] == 1 && n->name[1] == '*';
}

/* RFC 2181 5.2: one TTL per RRset. The compiled set uses the lowest; say so once per RRset. */
static void zb_check_ttl(struct zb *b, const struct zb_name *n, const uint32_t *o, size_t m)
{
	const struct zb_rec *first = &b->recs[o[0]], *odd = NULL;
	uint32_t min = first->ttl;
	for (size_t i = 1; i < m; i++) {
		const struct zb_rec *r = &b->recs[o[i]];
		if (!odd && r->ttl != first->ttl)
			odd = r;
		if (r->ttl < min)
			min = r->ttl;
	}
	if (odd) {
		char tb[16], nb[1024];
		zone_build_warn(b, odd->file, odd->line,
				"TTL %u differs from %u of the other %s records at %s; using the lowest, %u",
				odd->ttl, first->ttl, zone_type_name(odd->type, tb, sizeof(tb)),
				zone_build_name_text(n->name, n->len, nb, sizeof(nb)), min);
	}
}

/* An RRset that cannot fit a 65535-octet message can never be sent. */
static void zb_check_size(struct zb *b, const struct zb_name *n, const uint32_t *o, size_t m)
{
	const struct zb_rec *first = &b->recs[o[0]];
	size_t total = 0;
	for (size_t i = 0; i < m; i++)
		total += 2 + (size_t)zb_get16(b->recs[o[i]].rd);
	if (total > UINT16_MAX) {
		char tb[16], nb[1024];
		zone_build_error(b, first->file, first->line,
				 "the %s RRset at %s is too large (%zu octets of rdata)",
				 zone_type_name(first->type, tb, sizeof(tb)),
				 zone_build_name_text(n->name, n->len, nb, sizeof(nb)), total);
	}
}

/* An NS target at or below any zone cut of this zone is only reachable through glue. */
static void zb_check_glue(struct zb *b, uint32_t cut, const struct zb_rec *r)
{
	size_t len = zb_get16(r->rd);
	uint8_t target[WIRE_NAME_MAX];
	for (size_t i = 0; i < len; i++)
		target[i] = (uint8_t)tolower(r->rd[2 + i]);
	if (!zone_build_in_zone(b, target, len))
		return;
	uint32_t ce = zone_build_closest(b, target, len);
	if (ce == ZB_NONE || b->cut[ce] == ZB_NONE)
		return; /* authoritative data of this zone, not glue */
	if (b->names[ce].len == len && (b->names[ce].flags & ZB_HAS_ADDR))
		return;
	char tb[1024], cb[1024];
	const struct zb_name *c = &b->names[cut];
	zone_build_error(b, r->file, r->line,
			 "missing glue: NS target %s of the delegation %s has no A or AAAA record",
			 zone_build_name_text(target, len, tb, sizeof(tb)),
			 zone_build_name_text(c->name, c->len, cb, sizeof(cb)));
}

static bool zb_type_in(uint16_t t, uint16_t a, uint16_t b, uint16_t c, uint16_t d)
{
	return t == a || t == b || t == c || t == d;
}

static const char zb_occluded[] = "below the zone cut at %s (occluded: only A and AAAA glue may be there)";
static const char zb_below_dname[] = "below the DNAME at %s (occluded: RFC 6672 rewrites every name there)";

/* The per-record rule r breaks (nth counts the records of its type at this name before it), or NULL. */
static const char *zb_record_rule(const struct zb *b, uint32_t id, const struct zb_rec *r, size_t nth)
{
	const struct zb_name *n = &b->names[id];
	uint16_t t = r->type;
	if (zb_is_dynamic(r)) {
		if (b->zone->dnssec.denial != ZONE_DENIAL_NONE)
			return "dynamic record in a DNSSEC-signed zone: its answers change with health and "
			       "region, so no signature made ahead could cover them (meridian does not sign "
			       "online); put it in an unsigned zone, or under an unsigned delegation";
		if (nth > 0)
			return "dynamic record where the zone has records of the same type";
		if (b->cut[id] != ZB_NONE)
			return "dynamic record at or below a zone cut";
	} else if (!zb_rdata_ok(t, r->rd + 2, zb_get16(r->rd))) {
		return "malformed rdata";
	}
	if (t == WIRE_TYPE_SOA && id != 0)
		return "not at the zone apex, the only place for an SOA record";
	if (t == WIRE_TYPE_SOA && nth > 0)
		return "more than one SOA record";
	if (t == WIRE_TYPE_CNAME && id == 0)
		return "CNAME at the zone apex";
	if (t == WIRE_TYPE_CNAME && nth > 0)
		return "more than one CNAME record at one name";
	if (t == WIRE_TYPE_DNAME && nth > 0)
		return "more than one DNAME record at one name";
	if (t == WIRE_TYPE_NS && id != 0 && zb_is_wildcard(n))
		return "NS at a wildcard name: wildcard delegation is not supported";
	if (n->parent != ZB_NONE && b->cut[n->parent] != ZB_NONE &&
	    !zb_type_in(t, WIRE_TYPE_A, WIRE_TYPE_AAAA, WIRE_TYPE_NSEC, WIRE_TYPE_RRSIG))
		return zb_occluded;
	if (b->cut[id] == id && !zb_type_in(t, WIRE_TYPE_NS, WIRE_TYPE_DS, WIRE_TYPE_NSEC, WIRE_TYPE_RRSIG))
		return "at a delegation point, where only NS, DS, NSEC and RRSIG may be";
	if (n->parent != ZB_NONE && b->dname[n->parent] != ZB_NONE)
		return zb_below_dname;
	return NULL;
}

/* Messages are only formatted for records at fault: validation runs over every record. */
static void zb_check_record(struct zb *b, uint32_t id, const struct zb_rec *r, size_t nth)
{
	const char *rule = zb_record_rule(b, id, r, nth);
	if (!rule) {
		if (b->cut[id] == id && r->type == WIRE_TYPE_NS)
			zb_check_glue(b, id, r);
		return;
	}
	const struct zb_name *n = &b->names[id];
	char tb[16], nb[1024], what[1200];
	if (rule == zb_occluded || rule == zb_below_dname) {
		const struct zb_name *c = &b->names[rule == zb_occluded ? b->cut[id] : b->dname[n->parent]];
		snprintf(what, sizeof(what), rule, zone_build_name_text(c->name, c->len, nb, sizeof(nb)));
		rule = what;
	}
	zone_build_error(b, r->file, r->line, "%s record at %s: %s", zone_type_name(r->type, tb, sizeof(tb)),
			 zone_build_name_text(n->name, n->len, nb, sizeof(nb)), rule);
}

/* RFC 1034 3.6.2 / RFC 2181 10.1: a CNAME stands alone (but for DNSSEC records). Reported at the
 * later of the CNAME and the first record beside it. */
static void zb_check_cname(struct zb *b, uint32_t id, const uint32_t *o, size_t k)
{
	uint32_t cname = ZB_NONE, other = ZB_NONE;
	for (size_t i = 0; i < k; i++) {
		uint16_t t = b->recs[o[i]].type;
		if (t == WIRE_TYPE_CNAME && (cname == ZB_NONE || o[i] < cname))
			cname = o[i];
		else if (t != WIRE_TYPE_CNAME && t != WIRE_TYPE_RRSIG && t != WIRE_TYPE_NSEC &&
			 (other == ZB_NONE || o[i] < other))
			other = o[i];
	}
	if (cname == ZB_NONE || other == ZB_NONE)
		return;
	const struct zb_rec *r = &b->recs[cname > other ? cname : other];
	const struct zb_name *n = &b->names[id];
	char tb[16], nb[1024];
	zone_build_error(b, r->file, r->line, "CNAME and other data (%s) at %s",
			 zone_type_name(b->recs[other].type, tb, sizeof(tb)),
			 zone_build_name_text(n->name, n->len, nb, sizeof(nb)));
}

static void zb_check_name(struct zb *b, uint32_t id)
{
	const uint32_t *o = b->order + b->first[id];
	size_t k = b->first[id + 1] - b->first[id];
	const struct zb_name *n = &b->names[id];
	for (size_t s = 0, e; s < k; s = e) {
		uint16_t type = b->recs[o[s]].type;
		for (e = s + 1; e < k && b->recs[o[e]].type == type; e++)
			;
		/* Beside a dynamic record the TTLs mean nothing: the clash itself is reported. */
		bool dynamic = false;
		for (size_t i = s; i < e; i++)
			dynamic |= zb_is_dynamic(&b->recs[o[i]]);
		/* RRSIGs take the TTL of the RRset each covers (RFC 4034 3) */
		if (!dynamic && type != WIRE_TYPE_RRSIG)
			zb_check_ttl(b, n, o + s, e - s);
		zb_check_size(b, n, o + s, e - s);
		for (size_t i = s; i < e; i++)
			zb_check_record(b, id, &b->recs[o[i]], i - s);
	}
	if ((n->flags & ZB_HAS_CNAME) && (n->flags & ZB_HAS_NOT_CNAME_OK))
		zb_check_cname(b, id, o, k);
	zone_build_dnssec_name(b, id, o, k);
}

/* The apex needs exactly one SOA and an NS RRset (RFC 1035 5.2). */
static void zb_check_apex(struct zb *b)
{
	const struct zb_name *apex = &b->names[0];
	if (!(apex->flags & ZB_HAS_SOA)) {
		/* Point at the first record, where the SOA belongs (RFC 1035 5.2). A file that could not be
		 * read has said so already; an empty one has no line to name. */
		if (b->rec_count)
			zone_build_error(
			    b, b->recs[0].file, b->recs[0].line,
			    "no SOA record at the zone apex %s (the first record should be its SOA)",
			    b->zone->name_text);
		else if (!b->errors)
			zone_build_error(b, ZB_NONE, 0,
					 "no records: the zone apex %s needs an SOA and NS records",
					 b->zone->name_text);
		return;
	}
	if (!(apex->flags & ZB_HAS_NS)) {
		const struct zb_rec *soa = NULL;
		for (uint32_t i = b->first[0]; !soa; i++)
			if (b->recs[b->order[i]].type == WIRE_TYPE_SOA)
				soa = &b->recs[b->order[i]];
		zone_build_error(b, soa->file, soa->line, "no NS records at the zone apex %s",
				 b->zone->name_text);
	}
}

void zone_build_validate(struct zb *b)
{
	zone_build_dnssec_mode(b);
	for (size_t i = 0; i < b->name_count && !b->gave_up; i++)
		zb_check_name(b, (uint32_t)i);
	zone_build_dnssec_summary(b);
	zb_check_apex(b);
}
