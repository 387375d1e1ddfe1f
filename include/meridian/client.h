/* client.h -- who a query is answered for: the client's network, its region and its hash.
 *
 * The network is the query's client subnet option when it has one with a source prefix and the
 * config heeds it (RFC 7871), else the source address. Its region comes from one lookup in the
 * snapshot's compiled geo map; DYN_SELECT_HASH picks by a hash of it. The general path (answer.c)
 * and the prepared answers of dynamic records (prepared.c) both use these, so a client gets the
 * same answer, with the same scope, from either. Query path: no allocation, no locks. */
#ifndef MERIDIAN_CLIENT_H
#define MERIDIAN_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "meridian/snapshot.h"

/* A client network in the geo map's 128-bit space (an IPv4 /n is ::ffff:a.b.c.d/96+n). */
struct client_net {
	uint8_t addr[16];
	unsigned prefix;
	bool v4; /* the family the client used, which the scope is counted in: an IPv6 network that
		  * holds an IPv4-mapped address (::ffff:a.b.c.d/120) is still IPv6 */
};

/* The client network of a query: its client subnet option (family 1 or 2, source prefix, and the
 * address octets the option carries, (source + 7) / 8 of them, bits beyond the prefix zero) when
 * ecs_family is not 0 and the source prefix is, else peer (NULL: none). False when neither gives
 * one. */
bool client_net_of(struct client_net *n, unsigned ecs_family, unsigned ecs_source, const uint8_t *ecs_addr,
		   const struct sockaddr_storage *peer);

/* The region of client network n (NULL: unknown, the default region) under snap's config and geo
 * map; *scope receives the RFC 7871 scope prefix, in n's family, of the map entry that decided (0
 * when nothing did). */
unsigned client_region(const struct snapshot *snap, const struct client_net *n, unsigned *scope);

/* For DYN_SELECT_HASH: a hash of n cut to /24 (IPv4, mapped or not) or /56 (IPv6), so a resolver's
 * clients behind one network share the answer; *scope is raised to that cut, to say so. 0 for an
 * unknown network (NULL), scope unchanged. */
uint32_t client_hash(const struct client_net *n, unsigned *scope);

#endif
