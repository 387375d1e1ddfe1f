/* lookup.c -- the query path of a compiled zone: name hashing, node and RRset access, RFC 1034 4.3.2
 * lookup with RFC 4592 wildcards. Nothing here allocates or writes. */
#include "meridian/zone.h"

#include <string.h>

/* The parser hashes the qname with the same function, so the exact-match lookup reuses its hash. */
uint32_t zone_name_hash(const uint8_t *name, size_t len)
{
	return wire_name_hash(name, len);
}

static const struct zone_node *node_find(const struct zone *z, const uint8_t *name, size_t len, uint32_t h)
{
	for (const struct zone_node *n = z->table[h & z->table_mask]; n; n = n->hash_next)
		if (n->hash == h && n->name_len == len && wire_name_same(n->name, name, len))
			return n;
	return NULL;
}

const struct zone_node *zone_node_find_hashed(const struct zone *z, const uint8_t *name, size_t len,
					      uint32_t hash)
{
	return node_find(z, name, len, hash);
}

const struct zone_node *zone_node_find(const struct zone *z, const uint8_t *name, size_t len)
{
	return node_find(z, name, len, wire_name_hash(name, len));
}

const struct zone_rrset *zone_node_rrset(const struct zone_node *node, uint16_t type)
{
	for (uint16_t i = 0; i < node->rrset_count && node->rrsets[i].type <= type; i++)
		if (node->rrsets[i].type == type)
			return &node->rrsets[i];
	return NULL;
}

/* *pos holds the index of the next record above bit 16 and its offset in the run below: an RRset's
 * run is at most 65535 octets (the loader refuses larger ones, which no message could carry). */
bool zone_rdata_next(const struct zone_rrset *rrset, size_t *pos, const uint8_t **rdata, uint16_t *rdlen)
{
	size_t index = *pos >> 16, off = *pos & 0xffff;
	if (index >= rrset->count)
		return false;
	const uint8_t *p = rrset->rdata + off;
	*rdlen = (uint16_t)(p[0] << 8 | p[1]);
	*rdata = p + 2;
	*pos = (index + 1) << 16 | (off + 2 + *rdlen);
	return true;
}

/* The answer at a node that stands for the qname (the node itself or a wildcard). */
static void zone_answer(const struct zone_node *node, uint16_t qtype, bool wildcard, struct zone_result *r)
{
	r->node = node;
	r->wildcard = wildcard;
	r->rrset = NULL;
	if (qtype == WIRE_TYPE_ANY) {
		r->kind = node->rrset_count ? ZONE_FOUND : ZONE_NODATA;
		return;
	}
	/* The exact type first: an RRSIG or NSEC query at a CNAME is answered with that type. */
	r->rrset = zone_node_rrset(node, qtype);
	if (r->rrset) {
		r->kind = ZONE_FOUND;
	} else if (node->flags & ZONE_NODE_CNAME) {
		r->kind = ZONE_CNAME;
		r->rrset = zone_node_rrset(node, WIRE_TYPE_CNAME);
	} else {
		r->kind = ZONE_NODATA;
	}
}

static void zone_referral(const struct zone_node *cut, struct zone_result *r)
{
	r->kind = ZONE_DELEGATION;
	r->node = cut;
	r->rrset = zone_node_rrset(cut, WIRE_TYPE_NS);
	r->wildcard = false;
}

/* Every ancestor of every owner is a node, so the closest encloser is the longest suffix of qname
 * that is in the table, and the walk ends at the apex at the latest. A cut above qname is an
 * ancestor of it, hence at or above the closest encloser, whose cut link therefore finds it. Nothing
 * exists below a DNAME (the loader refuses it), so a DNAME above qname is the closest encloser. */
void zone_lookup_hashed(const struct zone *z, const struct wire_name *qname, uint32_t hash, uint16_t qtype,
			struct zone_result *r)
{
	const struct zone_node *node = node_find(z, qname->data, qname->len, hash);
	if (node) {
		if (node->cut && !(node == node->cut && qtype == WIRE_TYPE_DS))
			zone_referral(node->cut, r);
		else
			zone_answer(node, qtype, false, r);
		return;
	}
	int top = (int)qname->label_count - (int)z->apex.label_count;
	for (int i = 1; i < top && !node; i++)
		node = zone_node_find(z, qname->data + qname->labels[i], qname->len - qname->labels[i]);
	if (!node)
		node = z->apex_node;
	if (node->cut) {
		zone_referral(node->cut, r);
	} else if (node->flags & ZONE_NODE_DNAME) {
		r->kind = ZONE_DNAME;
		r->node = node;
		r->rrset = zone_node_rrset(node, WIRE_TYPE_DNAME);
		r->wildcard = false;
	} else if (node->wildcard) {
		zone_answer(node->wildcard, qtype, true, r);
	} else {
		r->kind = ZONE_NXDOMAIN;
		r->node = node;
		r->rrset = NULL;
		r->wildcard = false;
	}
}

void zone_lookup(const struct zone *z, const struct wire_name *qname, uint16_t qtype, struct zone_result *r)
{
	zone_lookup_hashed(z, qname, wire_name_hash(qname->data, qname->len), qtype, r);
}
