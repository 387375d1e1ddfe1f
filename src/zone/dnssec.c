/* dnssec.c -- a presigned zone's DNSSEC data on the query path: the RRSIGs covering a type, the NSEC
 * or NSEC3 record that proves a name or type absent (RFC 4035 3.1.3, RFC 5155 7.2). The indexes
 * these search are built when the zone loads (dnssec_build.c). Nothing here allocates or writes. */
#include "meridian/zone.h"

#include <string.h>

#include <nettle/sha1.h>

const char *zone_denial_name(enum zone_denial denial)
{
	return denial == ZONE_DENIAL_NSEC ? "NSEC" : denial == ZONE_DENIAL_NSEC3 ? "NSEC3" : NULL;
}

bool zone_rrsig_next(const struct zone_node *node, uint16_t type, size_t *pos, const uint8_t **rdata,
		     uint16_t *rdlen)
{
	const struct zone_rrset *sigs = zone_node_rrset(node, WIRE_TYPE_RRSIG);
	if (!sigs)
		return false;
	/* RRSIG rdata starts with the type covered (RFC 4034 3.1) */
	while (zone_rdata_next(sigs, pos, rdata, rdlen))
		if (*rdlen >= 2 && ((*rdata)[0] << 8 | (*rdata)[1]) == type)
			return true;
	return false;
}

uint32_t zone_rrsig_ttl(const struct zone_node *node, const struct zone_rrset *sigs, const uint8_t *rdata,
			uint16_t rdlen)
{
	if (rdlen < 2)
		return sigs->ttl;
	const struct zone_rrset *covered = zone_node_rrset(node, (uint16_t)(rdata[0] << 8 | rdata[1]));
	return covered && covered->count ? covered->ttl : sigs->ttl; /* count 0: dynamic, no TTL there */
}

/* The offsets of a name's labels, root excluded; returns how many. */
static unsigned label_offsets(const uint8_t *name, size_t len, uint8_t *at)
{
	unsigned n = 0;
	for (size_t o = 0; o < len && name[o]; o += 1u + name[o])
		at[n++] = (uint8_t)o;
	return n;
}

/* Labels compared from the root down, each as a string of octets, a shorter one first when it is a
 * prefix of the other; a name sorts after its ancestors. Both names are lowercased already. */
int zone_name_canonical_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t la[WIRE_NAME_MAX / 2 + 1], lb[WIRE_NAME_MAX / 2 + 1];
	unsigned na = label_offsets(a, alen, la), nb = label_offsets(b, blen, lb);
	while (na && nb) {
		const uint8_t *x = a + la[--na], *y = b + lb[--nb];
		int c = memcmp(x + 1, y + 1, x[0] < y[0] ? x[0] : y[0]);
		if (c)
			return c;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na ? 1 : nb ? -1 : 0;
}

const struct zone_node *zone_nsec_for(const struct zone *z, const uint8_t *name, size_t len)
{
	const struct zone_dnssec *d = &z->dnssec;
	if (!d->nsec_count)
		return NULL;
	/* the last owner <= name; every name in the zone sorts at or after the apex, the first */
	size_t lo = 0, hi = d->nsec_count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zone_node *n = d->nsec[mid];
		if (zone_name_canonical_compare(n->name, n->name_len, name, len) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return d->nsec[lo];
}

void zone_nsec3_hash(const struct zone *z, const uint8_t *name, size_t len, uint8_t out[ZONE_NSEC3_HASH_LEN])
{
	const struct zone_dnssec *d = &z->dnssec;
	struct sha1_ctx c;
	sha1_init(&c);
	sha1_update(&c, len, name);
	sha1_update(&c, d->salt_len, d->salt);
	sha1_digest(&c, ZONE_NSEC3_HASH_LEN, out);
	for (unsigned i = 0; i < d->iterations; i++) {
		sha1_update(&c, ZONE_NSEC3_HASH_LEN, out);
		sha1_update(&c, d->salt_len, d->salt);
		sha1_digest(&c, ZONE_NSEC3_HASH_LEN, out); /* digest also resets the context */
	}
}

const struct zone_nsec3 *zone_nsec3_for(const struct zone *z, const uint8_t hash[ZONE_NSEC3_HASH_LEN],
					bool *match)
{
	const struct zone_dnssec *d = &z->dnssec;
	*match = false;
	if (!d->nsec3_count)
		return NULL;
	/* the first entry above hash: the one before it matches or covers; none before wraps round */
	size_t lo = 0, hi = d->nsec3_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(d->nsec3[mid].hash, hash, ZONE_NSEC3_HASH_LEN) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct zone_nsec3 *e = &d->nsec3[lo ? lo - 1 : d->nsec3_count - 1];
	*match = memcmp(e->hash, hash, ZONE_NSEC3_HASH_LEN) == 0;
	return e;
}
