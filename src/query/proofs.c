/* proofs.c -- the DNSSEC records of a presigned zone's answers (see proofs.h). */
#include "meridian/proofs.h"

#include <string.h>

bool proofs_signatures(struct wire_builder *b, enum wire_section section, const uint8_t *owner,
		       size_t owner_len, const struct zone_node *node, uint16_t type, uint32_t ttl)
{
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	while (zone_rrsig_next(node, type, &pos, &rdata, &rdlen))
		if (!wire_build_rr(b, section, owner, owner_len, WIRE_TYPE_RRSIG, WIRE_CLASS_IN, ttl, rdata,
				   rdlen))
			return false;
	return true;
}

/* Writes the RRset of type at node into authority with its RRSIGs, at the given TTL. */
static bool put_set(struct wire_builder *b, const struct zone_node *node, const struct zone_rrset *set,
		    uint32_t ttl)
{
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	while (zone_rdata_next(set, &pos, &rdata, &rdlen))
		if (!wire_build_rr(b, WIRE_SECTION_AUTHORITY, node->name, node->name_len, set->type,
				   WIRE_CLASS_IN, ttl, rdata, rdlen))
			return false;
	return proofs_signatures(b, WIRE_SECTION_AUTHORITY, node->name, node->name_len, node, set->type, ttl);
}

/* The NSEC or NSEC3 (type) at node, once per answer, at the negative TTL when that is lower than its
 * own (RFC 9077: a proof lives no longer than the negative answer it makes). NULL node: the zone has
 * no such record, nothing to write. */
static bool put_denial(struct wire_builder *b, struct proofs *p, const struct zone *z,
		       const struct zone_node *node, uint16_t type)
{
	if (!node)
		return true;
	for (unsigned i = 0; i < p->count; i++)
		if (p->written[i] == node)
			return true;
	const struct zone_rrset *set = zone_node_rrset(node, type);
	if (!set)
		return true;
	if (p->count < PROOFS_MAX)
		p->written[p->count++] = node;
	return put_set(b, node, set, set->ttl < z->neg_ttl ? set->ttl : z->neg_ttl);
}

/* NSEC: the record whose owner is name or, name being absent, the one that covers it. */
static bool put_nsec(struct wire_builder *b, struct proofs *p, const struct zone *z, const uint8_t *name,
		     size_t len)
{
	return put_denial(b, p, z, zone_nsec_for(z, name, len), WIRE_TYPE_NSEC);
}

/* NSEC3: the record whose hash matches name's or, name being absent, the one that covers it. */
static bool put_nsec3(struct wire_builder *b, struct proofs *p, const struct zone *z, const uint8_t *name,
		      size_t len)
{
	uint8_t hash[ZONE_NSEC3_HASH_LEN];
	bool match;
	zone_nsec3_hash(z, name, len, hash);
	const struct zone_nsec3 *e = zone_nsec3_for(z, hash, &match);
	return put_denial(b, p, z, e ? e->node : NULL, WIRE_TYPE_NSEC3);
}

/* NSEC3: the record whose hash matches name's, if there is one (*match). */
static bool put_nsec3_match(struct wire_builder *b, struct proofs *p, const struct zone *z,
			    const uint8_t *name, size_t len, bool *match)
{
	uint8_t hash[ZONE_NSEC3_HASH_LEN];
	zone_nsec3_hash(z, name, len, hash);
	const struct zone_nsec3 *e = zone_nsec3_for(z, hash, match);
	return !*match || put_denial(b, p, z, e->node, WIRE_TYPE_NSEC3);
}

/* The suffix of name starting at its label i, and its length. */
static const uint8_t *suffix(const struct wire_name *name, unsigned i)
{
	return name->data + name->labels[i];
}

static size_t suffix_len(const struct wire_name *name, unsigned i)
{
	return name->len - name->labels[i];
}

/* "*." and the name at enc (len octets) into out; false when that is longer than a name can be. */
static bool wildcard_of(const uint8_t *enc, size_t len, uint8_t *out, size_t *out_len)
{
	if (len + 2 > WIRE_NAME_MAX)
		return false;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, enc, len);
	*out_len = len + 2;
	return true;
}

/* The closest provable encloser proof (RFC 5155 7.2.1) for name: from its suffix at label `from` (the
 * closest encloser, or the parent of a name whose own NSEC3 an opt-out span leaves out) upward, the
 * first with a matching NSEC3, and the NSEC3 covering the next closer name (one label longer). *at
 * receives the proven encloser's label. */
static bool put_encloser(struct wire_builder *b, struct proofs *p, const struct zone *z,
			 const struct wire_name *name, unsigned from, unsigned *at)
{
	unsigned apex = name->label_count - z->apex.label_count;
	unsigned i = from;
	for (bool match = false; !match && i <= apex; i++)
		if (!put_nsec3_match(b, p, z, suffix(name, i), suffix_len(name, i), &match))
			return false;
	*at = i - 1; /* the apex, when no NSEC3 matched: then it is the encloser as far as can be told */
	return *at == 0 || put_nsec3(b, p, z, suffix(name, *at - 1), suffix_len(name, *at - 1));
}

bool proofs_nxdomain(struct wire_builder *b, struct proofs *p, const struct zone *z,
		     const struct wire_name *name, const struct zone_node *ce)
{
	uint8_t wild[WIRE_NAME_MAX];
	size_t wild_len;
	if (z->dnssec.denial == ZONE_DENIAL_NSEC)
		return put_nsec(b, p, z, name->data, name->len) &&
		       (!wildcard_of(ce->name, ce->name_len, wild, &wild_len) ||
			put_nsec(b, p, z, wild, wild_len));
	unsigned at;
	return put_encloser(b, p, z, name, name->label_count - ce->label_count, &at) &&
	       (!wildcard_of(suffix(name, at), suffix_len(name, at), wild, &wild_len) ||
		put_nsec3(b, p, z, wild, wild_len));
}

bool proofs_nodata(struct wire_builder *b, struct proofs *p, const struct zone *z,
		   const struct wire_name *name, const struct zone_node *node, bool wildcard)
{
	if (z->dnssec.denial == ZONE_DENIAL_NSEC)
		return put_nsec(b, p, z, name->data, name->len) &&
		       (!wildcard || put_nsec(b, p, z, node->name, node->name_len));
	bool match;
	unsigned at;
	if (!wildcard) {
		if (!put_nsec3_match(b, p, z, name->data, name->len, &match))
			return false;
		/* no NSEC3 of its own: in an opt-out span (7.2.4), the closest provable encloser proof */
		return match || name->label_count <= z->apex.label_count ||
		       put_encloser(b, p, z, name, 1, &at);
	}
	return put_encloser(b, p, z, name, name->label_count - (node->label_count - 1u), &at) &&
	       put_nsec3_match(b, p, z, node->name, node->name_len, &match);
}

bool proofs_wildcard(struct wire_builder *b, struct proofs *p, const struct zone *z,
		     const struct wire_name *name, const struct zone_node *wildcard)
{
	if (z->dnssec.denial == ZONE_DENIAL_NSEC)
		return put_nsec(b, p, z, name->data, name->len);
	/* the next closer name: the query name's suffix one label longer than the wildcard's parent */
	unsigned encloser = name->label_count - (wildcard->label_count - 1u);
	return encloser == 0 ||
	       put_nsec3(b, p, z, suffix(name, encloser - 1), suffix_len(name, encloser - 1));
}

bool proofs_delegation(struct wire_builder *b, struct proofs *p, const struct zone *z,
		       const struct zone_node *cut)
{
	const struct zone_rrset *ds = zone_node_rrset(cut, WIRE_TYPE_DS);
	if (ds)
		return put_set(b, cut, ds, ds->ttl);
	if (z->dnssec.denial == ZONE_DENIAL_NSEC)
		return put_nsec(b, p, z, cut->name, cut->name_len);
	struct wire_name name;
	if (!wire_name_from_wire(&name, cut->name, cut->name_len))
		return true;
	return proofs_nodata(b, p, z, &name, cut, false);
}
