/* zonemd.c -- ZONEMD (RFC 8976): a zone that carries a digest of its own contents is loaded only
 * when one of its digests matches what was read. A file cut short by a failed copy, or edited after
 * it was digested (and signed), is then refused at the ZONEMD record's line, and the zone serving
 * keeps serving, instead of going out with records missing or changed.
 *
 * The digest is checked by ldns (ldns_dnssec_zone_verify_zonemd: the SIMPLE scheme with SHA-384 or
 * SHA-512, RFC 8976 3) over the zone as meridian compiled it: every RR, glue and DNSSEC records
 * included, each RRSIG at the TTL of the RRset it covers, duplicates already dropped. Only zones
 * with a ZONEMD at their apex pay for it, once per load. */
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"

#define ZONEMD_SIMPLE 1 /* RFC 8976 5.2 */
#define ZONEMD_SHA384 1
#define ZONEMD_SHA512 2

/* The ZONEMD's record in the file (its first), for messages: file index and line. */
static const struct zb_rec *zonemd_record(const struct zb *b)
{
	for (size_t i = 0; i < b->rec_count; i++)
		if (b->recs[i].type == WIRE_TYPE_ZONEMD && b->recs[i].name == 0)
			return &b->recs[i];
	return NULL;
}

/* The RRs added in one pass: ldns files the NSEC3 chain under the names it hashes, so the NSEC3s go
 * in once every name is there, and their RRSIGs after them. */
enum pass { PASS_NAMES, PASS_NSEC3, PASS_NSEC3_RRSIGS };

static enum pass pass_of(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	if (type == WIRE_TYPE_NSEC3)
		return PASS_NSEC3;
	if (type == WIRE_TYPE_RRSIG && rdlen >= 2 && (rdata[0] << 8 | rdata[1]) == WIRE_TYPE_NSEC3)
		return PASS_NSEC3_RRSIGS;
	return PASS_NAMES;
}

struct adding {
	ldns_dnssec_zone *dz;
	enum pass pass;
	uint8_t wire[WIRE_NAME_MAX + 10 + 65535];
};

static bool add_rr(void *arg, const struct zone_rr *rr)
{
	struct adding *a = arg;
	if (pass_of(rr->set->type, rr->rdata, rr->rdlen) != a->pass)
		return true;
	size_t len = zone_rr_wire(rr, a->wire), at = 0;
	ldns_rr *lr = NULL;
	if (ldns_wire2rr(&lr, a->wire, len, &at, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return false;
	if (ldns_dnssec_zone_add_rr(a->dz, lr) != LDNS_STATUS_OK) {
		ldns_rr_free(lr);
		return false;
	}
	return true;
}

/* Adds the RRs of z that belong to pass p to dz. */
static bool add_rrs(ldns_dnssec_zone *dz, const struct zone *z, enum pass p)
{
	struct adding *a = malloc(sizeof(*a)); /* its RR buffer is 64 KiB */
	if (!a)
		abort();
	a->dz = dz;
	a->pass = p;
	bool ok = zone_each_rr(z, add_rr, a);
	free(a);
	return ok;
}

/* Every RR of z, as ldns holds a zone for DNSSEC work (the NSEC3 chain last, once the names it
 * hashes, empty non-terminals included, are all there); NULL when ldns cannot take one (an NSEC3
 * whose name is none of the zone's). */
static ldns_dnssec_zone *ldns_copy(const struct zone *z)
{
	ldns_dnssec_zone *dz = ldns_dnssec_zone_new();
	if (!dz)
		return NULL;
	bool ok = add_rrs(dz, z, PASS_NAMES);
	if (ok && z->dnssec.denial == ZONE_DENIAL_NSEC3)
		ok = ldns_dnssec_zone_add_empty_nonterminals(dz) == LDNS_STATUS_OK &&
		     add_rrs(dz, z, PASS_NSEC3) && add_rrs(dz, z, PASS_NSEC3_RRSIGS);
	if (!ok) {
		ldns_dnssec_zone_deep_free(dz);
		return NULL;
	}
	return dz;
}

void zone_build_zonemd(struct zb *b)
{
	const struct zone *z = b->zone;
	const struct zone_rrset *zonemd = zone_node_rrset(z->apex_node, WIRE_TYPE_ZONEMD);
	if (!zonemd || !zonemd->count)
		return;
	const struct zb_rec *rec = zonemd_record(b);
	uint32_t file = rec ? rec->file : ZB_NONE;
	unsigned long line = rec ? rec->line : 0;
	/* RFC 8976 4: a ZONEMD whose serial is not the SOA's digests another version; one of a scheme or
	 * hash algorithm we do not know proves nothing either way */
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	uint32_t serial = 0;
	bool current = false, known = false;
	while (zone_rdata_next(zonemd, &pos, &rdata, &rdlen)) {
		if (rdlen < 6)
			continue;
		serial =
		    (uint32_t)rdata[0] << 24 | (uint32_t)rdata[1] << 16 | (uint32_t)rdata[2] << 8 | rdata[3];
		current |= serial == z->serial;
		known |= serial == z->serial && rdata[4] == ZONEMD_SIMPLE &&
			 (rdata[5] == ZONEMD_SHA384 || rdata[5] == ZONEMD_SHA512);
	}
	if (!current) {
		zone_build_error(
		    b, file, line,
		    "ZONEMD: its serial (%u) is not the SOA's (%u): the digest is of another version "
		    "of the zone",
		    serial, z->serial);
		return;
	}
	if (!known) {
		zone_build_warn(b, file, line,
				"ZONEMD: no digest of a scheme and algorithm we know (SIMPLE with SHA-384 or "
				"SHA-512): the zone's contents are not checked");
		return;
	}
	ldns_dnssec_zone *dz = ldns_copy(z);
	if (!dz) {
		zone_build_error(b, file, line, "ZONEMD: the zone could not be copied for its digest check");
		return;
	}
	ldns_status st = ldns_dnssec_zone_verify_zonemd(dz);
	ldns_dnssec_zone_deep_free(dz);
	switch (st) {
	case LDNS_STATUS_OK:
		return;
	case LDNS_STATUS_NO_VALID_ZONEMD:
		zone_build_error(
		    b, file, line,
		    "ZONEMD: no digest matches the zone's contents: the file was changed after it "
		    "was digested, or is incomplete (RFC 8976); the zone is not loaded");
		return;
	default:
		zone_build_error(b, file, line, "ZONEMD: the digest cannot be checked: %s",
				 ldns_get_errorstr_by_id(st));
		return;
	}
}
