/* net.c -- geo helpers: CIDR nets in the 128-bit space (parsing, formatting, masking, which
 * aliases of the IPv4 data are followed) and positions on the sphere (great-circle distance, unit
 * vectors for averaging). */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void geo_mask(uint8_t a[16], unsigned prefix)
{
	if (prefix >= 128)
		return;
	unsigned byte = prefix / 8;
	a[byte] &= (uint8_t)(0xFF00u >> (prefix % 8));
	memset(a + byte + 1, 0, 15 - byte);
}

bool geo_alias_ok(const uint8_t net[16], unsigned prefix)
{
	static const uint8_t v4[2][16] = {{0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}};
	if (prefix == 0 || prefix > 96)
		return false;
	for (int i = 0; i < 2; i++) {
		uint8_t m[16];
		memcpy(m, v4[i], 16);
		geo_mask(m, prefix);
		if (memcmp(m, net, 16) == 0)
			return false; /* net/prefix holds ::/96 or ::ffff:0:0/96 */
	}
	return true;
}

bool geo_nets_contain(const struct geo_net *nets, size_t count, const uint8_t addr[16])
{
	for (size_t n = 0; n < count; n++) {
		unsigned full = nets[n].prefix / 8, rest = nets[n].prefix % 8;
		if (memcmp(addr, nets[n].addr, full) == 0 &&
		    (!rest || ((addr[full] ^ nets[n].addr[full]) & (uint8_t)(0xff00u >> rest)) == 0))
			return true;
	}
	return false;
}

/* Digits only, no sign, no leading zeros (so "24" and "0" but not "024"), at most max. */
static bool parse_prefix(const char *s, unsigned max, unsigned *out)
{
	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
		return false;
	unsigned v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool geo_net_parse(const char *text, struct geo_net *out)
{
	bool host_bits;
	return geo_net_parse_masked(text, out, &host_bits) && !host_bits;
}

bool geo_net_parse_masked(const char *text, struct geo_net *out, bool *had_host_bits)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (!text || strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';

	struct geo_net n;
	memset(&n, 0, sizeof(n));
	unsigned prefix;
	uint8_t v4[4];
	if (inet_pton(AF_INET, buf, v4) == 1) {
		if (slash && !parse_prefix(slash + 1, 32, &prefix))
			return false;
		n.addr[10] = n.addr[11] = 0xFF;
		memcpy(n.addr + 12, v4, 4);
		n.prefix = (uint8_t)(96 + (slash ? prefix : 32));
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		if (slash && !parse_prefix(slash + 1, 128, &prefix))
			return false;
		n.prefix = (uint8_t)(slash ? prefix : 128);
	} else {
		return false;
	}
	uint8_t masked[16];
	memcpy(masked, n.addr, 16);
	geo_mask(masked, n.prefix);
	*had_host_bits = memcmp(masked, n.addr, 16) != 0;
	memcpy(n.addr, masked, 16);
	*out = n;
	return true;
}

void geo_net_format(const struct geo_net *net, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned prefix = net->prefix;
	if (prefix >= 96 && geo_is_v4mapped(net->addr)) {
		inet_ntop(AF_INET, net->addr + 12, addr, sizeof(addr));
		prefix -= 96;
	} else {
		inet_ntop(AF_INET6, net->addr, addr, sizeof(addr));
	}
	snprintf(out, size, "%s/%u", addr, prefix);
}

#define EARTH_RADIUS_KM 6371.0088 /* IUGG mean radius */
#define DEG		(M_PI / 180.0)

double geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	/* Haversine: well conditioned for small distances, where the spherical law of cosines
	 * loses precision to acos near 1. */
	double dlat = (lat2 - lat1) * DEG, dlon = (lon2 - lon1) * DEG;
	double h =
	    sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * DEG) * cos(lat2 * DEG) * sin(dlon / 2) * sin(dlon / 2);
	if (h > 1.0)
		h = 1.0;
	return 2.0 * EARTH_RADIUS_KM * asin(sqrt(h));
}

void geo_to_vector(double lat, double lon, double v[3])
{
	v[0] = cos(lat * DEG) * cos(lon * DEG);
	v[1] = cos(lat * DEG) * sin(lon * DEG);
	v[2] = sin(lat * DEG);
}

/* False when v is (nearly) zero: points that cancel out (antipodes) have no meaningful mean. */
bool geo_from_vector(const double v[3], double *lat, double *lon)
{
	double xy = hypot(v[0], v[1]);
	if (hypot(xy, v[2]) < 1e-9)
		return false;
	*lat = atan2(v[2], xy) / DEG;
	*lon = xy < 1e-12 ? 0.0 : atan2(v[1], v[0]) / DEG;
	return true;
}
