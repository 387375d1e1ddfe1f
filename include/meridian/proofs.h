/* proofs.h -- the DNSSEC records a presigned zone's answers carry for a query with the DO bit
 * (RFC 4035 3.1, RFC 5155 7.2): the RRSIGs over each authoritative RRset, and the NSEC or NSEC3
 * records (with their RRSIGs) that prove a name or type absent, a wildcard's use, or a delegation
 * unsigned. The zone holds them all, signed ahead (zone.h, struct zone_dnssec); nothing is signed
 * here.
 *
 * Each function writes into the builder's section and returns false when a record did not fit (the
 * caller truncates the whole answer). On the query path: no allocation, no locks; NSEC3 hashes are
 * computed on the stack. */
#ifndef MERIDIAN_PROOFS_H
#define MERIDIAN_PROOFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/wire.h"
#include "meridian/zone.h"

#define PROOFS_MAX 8 /* NSEC or NSEC3 records one answer can need: a chain's last name needs three */

/* The NSEC and NSEC3 nodes an answer holds already: a record that proves two things is written once. */
struct proofs {
	const struct zone_node *written[PROOFS_MAX];
	unsigned count;
};

/* The RRSIGs at node covering type, owned by owner (the query name for a wildcard's answer), at ttl:
 * the TTL their RRset is served with (RFC 4034 3). */
bool proofs_signatures(struct wire_builder *b, enum wire_section section, const uint8_t *owner,
		       size_t owner_len, const struct zone_node *node, uint16_t type, uint32_t ttl);
/* NXDOMAIN for name, whose closest encloser is ce: name does not exist, nor does the wildcard that
 * would have answered it (RFC 4035 3.1.3.2; RFC 5155 7.2.2). */
bool proofs_nxdomain(struct wire_builder *b, struct proofs *p, const struct zone *z,
		     const struct wire_name *name, const struct zone_node *ce);
/* NODATA for name: the name exists without the type (RFC 4035 3.1.3.1; RFC 5155 7.2.3, and 7.2.4 for
 * a DS at an opt-out delegation), or with wildcard set its wildcard node does (3.1.3.4; 7.2.5). */
bool proofs_nodata(struct wire_builder *b, struct proofs *p, const struct zone *z,
		   const struct wire_name *name, const struct zone_node *node, bool wildcard);
/* An answer synthesized for name from wildcard: no closer name exists (RFC 4035 3.1.3.3; 5155 7.2.6). */
bool proofs_wildcard(struct wire_builder *b, struct proofs *p, const struct zone *z,
		     const struct wire_name *name, const struct zone_node *wildcard);
/* A referral to cut: its DS RRset and their RRSIGs, or the proof that it has none, the delegation
 * being unsigned (RFC 4035 3.1.4; RFC 5155 7.2.7). */
bool proofs_delegation(struct wire_builder *b, struct proofs *p, const struct zone *z,
		       const struct zone_node *cut);

#endif
