/* dnssec_build.c -- a presigned zone while it loads: whether it is signed and how it denies
 * existence (NSEC or NSEC3), the checks an operator needs before serving it (RRsets no signature
 * covers, signatures expired or not yet valid, NSEC3 parameters), and the indexes the query path
 * searches for proofs (dnssec.c). meridian serves signatures made ahead; it does not sign. */
#include "build.h"

#include <stdlib.h>
#include <time.h>

#define ZB_DNSSEC_WARNINGS   10	 /* of each kind, before the rest are summed up */
#define ZB_NSEC3_MAX_ITER    150 /* RFC 9276 3.2: validators treat more as insecure */
#define ZB_NSEC3_LABEL	     32	 /* base32hex of a 20-octet SHA-1 hash */
#define RRSIG_EXPIRATION     8	 /* offsets in RRSIG rdata (RFC 4034 3.1) */
#define RRSIG_INCEPTION	     12
#define RRSIG_FIXED	     18 /* type covered .. key tag */
#define NSEC3PARAM_FIXED     5	/* algorithm, flags, iterations, salt length */
#define NSEC3_HASH_ALGO_SHA1 1

static const uint8_t *zb_rdata(const struct zb_rec *r)
{
	return r->rd + 2;
}

static uint16_t zb_covered(const struct zb_rec *r)
{
	return zb_get16(r->rd) >= 2 ? zb_get16(zb_rdata(r)) : 0;
}

/* Reads an NSEC3PARAM (or the same fields at the start of an NSEC3) into the zone's parameters;
 * false when its rdata is too short for them. */
static bool zb_nsec3_params(const uint8_t *rd, size_t len, struct zone_dnssec *d)
{
	if (len < NSEC3PARAM_FIXED || len < NSEC3PARAM_FIXED + (size_t)rd[4])
		return false;
	d->iterations = zb_get16(rd + 2);
	d->salt_len = rd[4];
	memcpy(d->salt, rd + NSEC3PARAM_FIXED, d->salt_len);
	return true;
}

void zone_build_dnssec_mode(struct zb *b)
{
	struct zone_dnssec *d = &b->zone->dnssec;
	const uint32_t *o = b->order + b->first[0];
	size_t k = b->first[1] - b->first[0];
	const struct zb_rec *soa_sig = NULL, *nsec = NULL, *param = NULL, *dnskey = NULL;
	for (size_t i = 0; i < k; i++) {
		const struct zb_rec *r = &b->recs[o[i]];
		if (zb_is_dynamic(r))
			continue;
		if (r->type == WIRE_TYPE_RRSIG && zb_covered(r) == WIRE_TYPE_SOA && !soa_sig)
			soa_sig = r;
		else if (r->type == WIRE_TYPE_NSEC && !nsec)
			nsec = r;
		else if (r->type == WIRE_TYPE_NSEC3PARAM && !param)
			param = r;
		else if (r->type == WIRE_TYPE_DNSKEY && !dnskey)
			dnskey = r;
	}
	d->denial = ZONE_DENIAL_NONE;
	if (!soa_sig) {
		if (dnskey)
			zone_build_warn(b, dnskey->file, dnskey->line,
					"the zone has a DNSKEY at its apex but no RRSIG over its SOA: it is "
					"served unsigned, and while the parent zone holds a DS record for it "
					"validating resolvers will reject its answers");
		return;
	}
	if (!param && !nsec) {
		zone_build_warn(b, soa_sig->file, soa_sig->line,
				"the apex has an RRSIG over its SOA but neither an NSEC nor an NSEC3PARAM "
				"record: the zone cannot prove a name absent, so it is served unsigned");
		return;
	}
	if (!param) {
		d->denial = ZONE_DENIAL_NSEC;
		return;
	}
	const uint8_t *rd = zb_rdata(param);
	if (!zb_nsec3_params(rd, zb_get16(param->rd), d) ||
	    zb_get16(param->rd) != NSEC3PARAM_FIXED + (size_t)rd[4]) {
		zone_build_error(b, param->file, param->line, "malformed NSEC3PARAM record");
	} else if (rd[0] != NSEC3_HASH_ALGO_SHA1) {
		zone_build_error(b, param->file, param->line,
				 "NSEC3PARAM hash algorithm %u: only 1 (SHA-1) is defined (RFC 5155 11)",
				 rd[0]);
	} else if (d->iterations > ZB_NSEC3_MAX_ITER) {
		zone_build_error(b, param->file, param->line,
				 "NSEC3PARAM with %u iterations: validators treat more than %u as insecure "
				 "(RFC 9276 3.2), and every negative answer would hash names %u times over; "
				 "sign with 0 iterations",
				 d->iterations, ZB_NSEC3_MAX_ITER, d->iterations + 1u);
	} else {
		if (d->iterations > 0)
			zone_build_warn(b, param->file, param->line,
					"NSEC3PARAM with %u iterations: RFC 9276 3.1 asks for 0 (more add no "
					"strength and cost validators and this server time)",
					d->iterations);
		d->denial = ZONE_DENIAL_NSEC3;
	}
}

/* A time in RRSIG form (RFC 4034 3.1.5: seconds since 1970 modulo 2^32) read as the one nearest to
 * now, for messages. */
static const char *zb_sig_time(uint32_t t, time_t now, char *buf, size_t size)
{
	time_t when = (time_t)((int64_t)now + (int32_t)(t - (uint32_t)now));
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* Whether one of the RRSIGs among the name's records covers type. */
static bool zb_signed(const struct zb *b, const uint32_t *o, size_t k, uint16_t type)
{
	for (size_t i = 0; i < k; i++)
		if (b->recs[o[i]].type == WIRE_TYPE_RRSIG && zb_covered(&b->recs[o[i]]) == type)
			return true;
	return false;
}

/* Checks an RRSIG's validity period against now, and keeps the earliest expiration. */
static void zb_check_sig_time(struct zb *b, const struct zb_name *n, const struct zb_rec *r, time_t now)
{
	if (zb_get16(r->rd) < RRSIG_FIXED)
		return;
	const uint8_t *rd = zb_rdata(r);
	uint32_t expiration = zb_get32(rd + RRSIG_EXPIRATION), inception = zb_get32(rd + RRSIG_INCEPTION);
	int64_t expires = (int64_t)now + (int32_t)(expiration - (uint32_t)now);
	struct zone_dnssec *d = &b->zone->dnssec;
	if (!d->expires || expires < d->expires)
		d->expires = expires;
	bool expired = (int32_t)(expiration - (uint32_t)now) < 0;
	bool early = (int32_t)(inception - (uint32_t)now) > 0;
	if (!expired && !early)
		return;
	if (b->stale_sigs++ >= ZB_DNSSEC_WARNINGS)
		return;
	char tb[16], nb[1024], when[64];
	zone_build_warn(b, r->file, r->line,
			expired ? "the RRSIG over %s at %s expired on %s: validating resolvers will reject "
				  "the answer until the zone is signed again"
				: "the RRSIG over %s at %s is not valid before %s: validating resolvers will "
				  "reject the answer until then",
			zone_type_name(zb_covered(r), tb, sizeof(tb)),
			zone_build_name_text(n->name, n->len, nb, sizeof(nb)),
			zb_sig_time(expired ? expiration : inception, now, when, sizeof(when)));
}

void zone_build_dnssec_name(struct zb *b, uint32_t id, const uint32_t *o, size_t k)
{
	if (b->zone->dnssec.denial == ZONE_DENIAL_NONE)
		return;
	const struct zb_name *n = &b->names[id];
	if (n->parent != ZB_NONE && b->cut[n->parent] != ZB_NONE)
		return; /* glue: not the zone's data, never signed */
	bool cut = b->cut[id] == id;
	time_t now = time(NULL);
	for (size_t s = 0, e; s < k; s = e) {
		const struct zb_rec *first = &b->recs[o[s]];
		uint16_t type = first->type;
		for (e = s + 1; e < k && b->recs[o[e]].type == type; e++)
			;
		if (type == WIRE_TYPE_RRSIG) {
			for (size_t i = s; i < e; i++)
				zb_check_sig_time(b, n, &b->recs[o[i]], now);
			continue;
		}
		/* at a cut only DS and NSEC belong to this zone (RFC 4035 2.2) */
		if (zb_is_dynamic(first) || (cut && type != WIRE_TYPE_DS && type != WIRE_TYPE_NSEC) ||
		    zb_signed(b, o, k, type) || b->unsigned_rrsets++ >= ZB_DNSSEC_WARNINGS)
			continue;
		char tb[16], nb[1024];
		zone_build_warn(b, first->file, first->line,
				"no RRSIG covers the %s RRset at %s: validating resolvers will reject it",
				zone_type_name(type, tb, sizeof(tb)),
				zone_build_name_text(n->name, n->len, nb, sizeof(nb)));
	}
}

void zone_build_dnssec_summary(struct zb *b)
{
	if (b->unsigned_rrsets > ZB_DNSSEC_WARNINGS)
		zone_build_warn(b, ZB_NONE, 0, "and %zu more RRsets no RRSIG covers",
				b->unsigned_rrsets - ZB_DNSSEC_WARNINGS);
	if (b->stale_sigs > ZB_DNSSEC_WARNINGS)
		zone_build_warn(b, ZB_NONE, 0, "and %zu more RRSIGs expired or not yet valid",
				b->stale_sigs - ZB_DNSSEC_WARNINGS);
}

static int zb_cmp_canonical(const void *x, const void *y)
{
	const struct zone_node *a = *(const struct zone_node *const *)x,
			       *c = *(const struct zone_node *const *)y;
	return zone_name_canonical_compare(a->name, a->name_len, c->name, c->name_len);
}

static int zb_cmp_hash(const void *x, const void *y)
{
	return memcmp(((const struct zone_nsec3 *)x)->hash, ((const struct zone_nsec3 *)y)->hash,
		      ZONE_NSEC3_HASH_LEN);
}

/* Decodes a base32hex label (RFC 4648 7, either case) of ZB_NSEC3_LABEL characters into a hash. */
static bool zb_base32hex(const uint8_t *label, uint8_t out[ZONE_NSEC3_HASH_LEN])
{
	uint64_t acc = 0;
	unsigned bits = 0, n = 0;
	for (unsigned i = 0; i < ZB_NSEC3_LABEL; i++) {
		unsigned c = label[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'v')
			v = (c | 0x20) - 'a' + 10;
		else
			return false;
		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == ZONE_NSEC3_HASH_LEN;
}

/* Whether an NSEC3 record (its rdata) was made with the zone's parameters: SHA-1, the iterations and
 * salt of the NSEC3PARAM. Records of another chain are not used for proofs. */
static bool zb_nsec3_ours(const struct zone_dnssec *d, const uint8_t *rd, uint16_t len)
{
	struct zone_dnssec theirs;
	return zb_nsec3_params(rd, len, &theirs) && rd[0] == NSEC3_HASH_ALGO_SHA1 &&
	       theirs.iterations == d->iterations && theirs.salt_len == d->salt_len &&
	       memcmp(theirs.salt, d->salt, d->salt_len) == 0;
}

static bool zb_nsec3_entry(const struct zone *z, const struct zone_node *node, struct zone_nsec3 *e)
{
	const struct zone_rrset *set = zone_node_rrset(node, WIRE_TYPE_NSEC3);
	if (!set || node->label_count != z->apex.label_count + 1 || node->name[0] != ZB_NSEC3_LABEL ||
	    !zb_base32hex(node->name + 1, e->hash))
		return false;
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	while (zone_rdata_next(set, &pos, &rd, &len))
		if (zb_nsec3_ours(&z->dnssec, rd, len)) {
			e->node = node;
			return true;
		}
	return false;
}

void zone_build_dnssec_index(struct zb *b)
{
	struct zone *z = b->zone;
	struct zone_dnssec *d = &z->dnssec;
	const struct zone_node *nodes = z->apex_node;
	size_t count = 0;
	if (d->denial == ZONE_DENIAL_NSEC) {
		for (size_t i = 0; i < z->node_count; i++)
			count += zone_node_rrset(&nodes[i], WIRE_TYPE_NSEC) != NULL;
		const struct zone_node **list = arena_alloc(&z->arena, (count ? count : 1) * sizeof(*list));
		count = 0;
		for (size_t i = 0; i < z->node_count; i++)
			if (zone_node_rrset(&nodes[i], WIRE_TYPE_NSEC))
				list[count++] = &nodes[i];
		qsort(list, count, sizeof(*list), zb_cmp_canonical);
		d->nsec = list;
		d->nsec_count = count;
	} else if (d->denial == ZONE_DENIAL_NSEC3) {
		for (size_t i = 0; i < z->node_count; i++)
			count += zone_node_rrset(&nodes[i], WIRE_TYPE_NSEC3) != NULL;
		struct zone_nsec3 *list = arena_alloc(&z->arena, (count ? count : 1) * sizeof(*list));
		count = 0;
		for (size_t i = 0; i < z->node_count; i++)
			count += zb_nsec3_entry(z, &nodes[i], &list[count]);
		qsort(list, count, sizeof(*list), zb_cmp_hash);
		d->nsec3 = list;
		d->nsec3_count = count;
	}
}
