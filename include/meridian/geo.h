/* geo.h -- where a client is: regions from GeoIP databases and configured nets, compiled at load
 * time into one immutable prefix map, so the query path does a single lookup and never calls
 * libmaxminddb.
 *
 * Addresses are 16 bytes: IPv6 as is, IPv4 as the IPv4-mapped address ::ffff:a.b.c.d, and prefix
 * lengths are in that 128-bit space (an IPv4 /24 is 96 + 24), scopes handed back too: only the
 * caller knows whether ::ffff:192.0.2.0/120 came from an IPv4 client (scope 24 in its ECS) or an
 * IPv6 one (scope 120), so it converts.
 *
 * Region of a client: the most specific rule wins: configured nets (longest prefix) over
 * subdivisions over countries over continents; otherwise the default region. The map stores CIDR
 * entries; sibling entries of the same region are merged into their parent, so the scope returned
 * is as wide as it can honestly be (RFC 7871 7.2.1).
 *
 * Aliases: MaxMind-format IPv6 databases point 6to4 (2002::/16) and Teredo (2001::/32) back at their
 * IPv4 data, so libmaxminddb reads the IPv4 address from bits 16..47 or 32..63. The map follows
 * every such alias a database has: a client there gets the region of that IPv4 address (configured
 * IPv4 nets included), with a scope in IPv6 bits (the alias prefix + the IPv4 scope, or
 * longer). Configured nets inside an alias win, as over database data. NAT64's 64:ff9b::/96 and
 * IPv4-compatible ::/96 are not aliases. */
#ifndef MERIDIAN_GEO_H
#define MERIDIAN_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/diag.h"

#define GEO_CODE_MAX 8 /* "EU", "US", "US-CA" (ISO 3166-2 codes are at most 6 characters) */

/* What a region is made of, as the config declares it. */
struct geo_region_spec {
	const char *name;
	const char *const *continents; /* "EU", "NA", ... (MaxMind continent codes) */
	size_t continent_count;
	const char *const *countries; /* ISO 3166-1 alpha-2: "US", "NL" */
	size_t country_count;
	const char *const *subdivisions; /* "US-CA": country code, '-', subdivision iso_code */
	size_t subdivision_count;
	const struct geo_net *nets;
	size_t net_count;
	bool has_location; /* lat/lon given in the config: used instead of the database's */
	double lat, lon;
};

/* A CIDR net in the 128-bit space (address bits beyond prefix are zero). */
struct geo_net {
	uint8_t addr[16];
	uint8_t prefix;
};

/* Parses "203.0.113.0/24" or "2001:db8::/32" (or a bare address: /32, /128) into the 128-bit
 * space. False when malformed or when bits beyond the prefix are set. */
bool geo_net_parse(const char *text, struct geo_net *out);
/* geo_net_parse, with bits beyond the prefix cleared instead of refused ("203.0.113.7/24" is
 * 203.0.113.0/24); *had_host_bits says whether there were any. False only when malformed. */
bool geo_net_parse_masked(const char *text, struct geo_net *out, bool *had_host_bits);
/* Whether addr (an address in the 128-bit space: IPv4 as ::ffff:a.b.c.d) lies in one of the count nets. */
bool geo_nets_contain(const struct geo_net *nets, size_t count, const uint8_t addr[16]);

#define GEO_NET_TEXT_MAX 52 /* "ffff:...:ffff/128" with its NUL, rounded up */

/* Writes net as "203.0.113.0/24" (IPv4-mapped nets of prefix >= 96 in IPv4 notation) or
 * "2001:db8::/32", truncated to size bytes (GEO_NET_TEXT_MAX always fits). */
void geo_net_format(const struct geo_net *net, char *out, size_t size);

struct geo_spec {
	const char *const *databases; /* MaxMind-format files (GeoIP2/GeoLite2 City or Country, DB-IP lite) */
	size_t database_count;	      /* first match wins */
	const struct geo_region_spec *regions;
	size_t region_count;
	unsigned default_region; /* index into regions */
	/* For messages: the config that lists the databases and the line of each (NULL: a database's
	 * errors name its file alone). */
	const char *config_file;
	const unsigned *database_lines;
};

/* How a region was decided, for --explain and `meridianctl explain`. */
enum geo_match_kind {
	GEO_MATCH_NET,
	GEO_MATCH_SUBDIVISION,
	GEO_MATCH_COUNTRY,
	GEO_MATCH_CONTINENT,
	GEO_MATCH_DEFAULT
};

struct geo_map;

/* Opens every database, walks its whole search tree (libmaxminddb has no iterator: MMDB_read_node
 * from the root), assigns each network its region by the rule above, overlays the nets, merges, and
 * computes each region's location (the config's lat/lon, else the mean of the database's
 * coordinates of its networks weighted by size). A missing or corrupt database, or ambiguous
 * regions (the same continent, country, subdivision or net in two regions) are errors in d
 * (file names included). Returns NULL on error. */
struct geo_map *geo_map_build(const struct geo_spec *spec, struct diag *d);
void geo_map_free(struct geo_map *m);

/* Query path (no allocation, no locks): the region of the client network addr/prefix (prefix in the
 * 128-bit space: 128 for a plain IPv6 source address, 96 + n for an IPv4 /n). *scope receives the
 * prefix length, in the 128-bit space, of the map entry that decided (may be longer than the
 * given prefix when the client network spans entries of different regions; for a 6to4, Teredo or
 * IPv4-compatible (::a.b.c.d) client, the alias prefix + the scope of its IPv4 address, at least
 * the alias entry's). */
unsigned geo_map_lookup(const struct geo_map *m, const uint8_t addr[16], unsigned prefix, unsigned *scope);

/* The region's location; false when neither the config nor the database gives one. */
bool geo_map_region_location(const struct geo_map *m, unsigned region, double *lat, double *lon);

/* Great-circle distance in km. */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

/* Off the query path: how the region of addr/prefix was decided, with the matching value
 * ("203.0.113.0/24", "US-CA", "US", "NA" or "") in what (what_size bytes). A client decided through
 * an alias is explained as the IPv4 client it stands for, with "via 6to4 192.0.2.1/32" (or Teredo)
 * added to what ("EU via 6to4 192.0.2.1/32"; kind GEO_MATCH_DEFAULT when only that). */
unsigned geo_map_explain(const struct geo_map *m, const uint8_t addr[16], unsigned prefix, unsigned *scope,
			 enum geo_match_kind *kind, char *what, size_t what_size);

/* Statistics for logs: map entries after merging, and bytes the map holds (without the mmap'ed
 * databases kept open for explain). */
size_t geo_map_entries(const struct geo_map *m);
size_t geo_map_bytes(const struct geo_map *m);

#endif
