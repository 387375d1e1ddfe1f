/* client.c -- the client's network, region and hash (see client.h). */
#include "meridian/client.h"

#include <netinet/in.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool client_net_of(struct client_net *n, unsigned ecs_family, unsigned ecs_source, const uint8_t *ecs_addr,
		   const struct sockaddr_storage *peer)
{
	if (ecs_family && ecs_source > 0) {
		n->v4 = ecs_family == 1;
		size_t at = n->v4 ? 12 : 0;
		memset(n->addr, 0, sizeof(n->addr));
		if (n->v4)
			memcpy(n->addr, v4_mapped, 12);
		memcpy(n->addr + at, ecs_addr, (ecs_source + 7) / 8);
		n->prefix = (n->v4 ? 96u : 0u) + ecs_source;
		return true;
	}
	if (!peer)
		return false;
	n->v4 = peer->ss_family == AF_INET;
	if (n->v4) {
		memcpy(n->addr, v4_mapped, 12);
		memcpy(n->addr + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		memcpy(n->addr, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	} else {
		return false;
	}
	n->prefix = 128;
	return true;
}

unsigned client_region(const struct snapshot *snap, const struct client_net *n, unsigned *scope)
{
	*scope = 0;
	unsigned region = snap->conf->geo.region_count ? snap->conf->geo.default_region : 0;
	if (snap->geo && n) {
		unsigned s;
		region = geo_map_lookup(snap->geo, n->addr, n->prefix, &s);
		*scope = !n->v4 ? s : s > 96 ? s - 96 : 0; /* the map's scope is 128-bit */
	}
	return region;
}

/* Whether n lies in the IPv4 part of the 128-bit space (an IPv4 client, or an IPv6 one whose network
 * holds an IPv4-mapped address). */
static bool v4_space(const struct client_net *n)
{
	return n->prefix >= 96 && memcmp(n->addr, v4_mapped, 12) == 0;
}

uint32_t client_hash(const struct client_net *n, unsigned *scope)
{
	if (!n)
		return 0;
	unsigned cut = v4_space(n) ? 96 + 24 : 56;
	unsigned prefix = n->prefix > cut ? cut : n->prefix;
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		uint8_t byte = bits >= 8 ? n->addr[i] : (uint8_t)(n->addr[i] & (0xff00 >> bits));
		h = (h ^ byte) * 16777619u;
	}
	unsigned s = prefix - (n->v4 ? 96 : 0);
	if (*scope < s)
		*scope = s;
	return h;
}
