/* walk.c -- every RR of a zone, for the work that reads a whole zone off the query path: IXFR
 * differences (journal.c) and ZONEMD digests (zonemd.c). */
#include <string.h>

#include "meridian/zone.h"

bool zone_each_rr(const struct zone *z, zone_rr_fn *fn, void *arg)
{
	for (size_t n = 0; n < z->node_count; n++) {
		const struct zone_node *node = &z->apex_node[n];
		for (size_t s = 0; s < node->rrset_count; s++) {
			const struct zone_rrset *set = &node->rrsets[s];
			struct zone_rr rr = {.node = node, .set = set};
			size_t pos = 0;
			while (set->count && zone_rdata_next(set, &pos, &rr.rdata, &rr.rdlen)) {
				rr.ttl = set->type == WIRE_TYPE_RRSIG
					     ? zone_rrsig_ttl(node, set, rr.rdata, rr.rdlen)
					     : set->ttl;
				if (!fn(arg, &rr))
					return false;
			}
		}
	}
	return true;
}

size_t zone_rr_wire_size(const struct zone_rr *rr)
{
	return rr->node->name_len + 10u + rr->rdlen;
}

size_t zone_rr_wire(const struct zone_rr *rr, uint8_t *out)
{
	uint16_t type = rr->set->type;
	memcpy(out, rr->node->name, rr->node->name_len);
	uint8_t *f = out + rr->node->name_len;
	const uint8_t fixed[10] = {(uint8_t)(type >> 8),
				   (uint8_t)type,
				   0,
				   WIRE_CLASS_IN,
				   (uint8_t)(rr->ttl >> 24),
				   (uint8_t)(rr->ttl >> 16),
				   (uint8_t)(rr->ttl >> 8),
				   (uint8_t)rr->ttl,
				   (uint8_t)(rr->rdlen >> 8),
				   (uint8_t)rr->rdlen};
	memcpy(f, fixed, sizeof(fixed));
	memcpy(f + sizeof(fixed), rr->rdata, rr->rdlen);
	return zone_rr_wire_size(rr);
}
