/* internal.h -- geo module internals shared by its files: region rules, MaxMind database access,
 * the compiled map. Nothing here is part of the module's contract (include/meridian/geo.h). */
#ifndef MERIDIAN_GEO_INTERNAL_H
#define MERIDIAN_GEO_INTERNAL_H

#include <maxminddb.h>
#include <stdbool.h>
#include <stdint.h>

#include "meridian/arena.h"
#include "meridian/diag.h"
#include "meridian/geo.h"

#define GEO_NONE       UINT32_MAX
#define GEO_CONTINENTS 7 /* AF AN AS EU NA OC SA */
#define GEO_SUBS_MAX   8 /* subdivision levels read from one record (GeoIP2 has at most 2) */

/* ---- region rules (rules.c) ---- */

/* A subdivision rule, keyed "US-CA" (country, '-', subdivision code; upper case). */
struct geo_sub_rule {
	char key[GEO_CODE_MAX];
	uint32_t region;
};

/* A configured net with the region it belongs to; the map keeps them for explain. */
struct geo_net_rule {
	struct geo_net net;
	uint32_t region;
};

/* The config's regions turned into tables: a database record is classified with a few array
 * reads and one binary search, so walking millions of networks stays cheap. */
struct geo_rules {
	uint32_t continent[GEO_CONTINENTS]; /* region of each continent, GEO_NONE when none */
	uint32_t country[26 * 26];	    /* region of each ISO 3166-1 alpha-2 code */
	struct geo_sub_rule *subs;	    /* sorted by key */
	size_t sub_count;
	struct geo_net_rule *nets; /* every region's nets, sorted by address then prefix */
	size_t net_count;
	uint32_t default_region;
	unsigned region_count;
	const char **names; /* region names, for messages */
};

/* What a database record says about a network, reduced to what the rules need. */
struct geo_record {
	char continent[3]; /* "" when absent */
	char country[3];
	char subs[GEO_SUBS_MAX][4]; /* subdivision iso_codes, largest first */
	unsigned sub_count;
	bool sub_without_code; /* a subdivision with a name but no iso_code (DB-IP Lite) */
	bool has_location;
	double lat, lon;
};

/* Whether a record places its network anywhere: a continent, country, subdivision or location.
 * One that does not (MaxMind's anycast networks carry only traits) is no data: the next database,
 * or the default region, decides its addresses. */
static inline bool geo_record_places(const struct geo_record *r)
{
	return r->continent[0] || r->country[0] || r->sub_count || r->sub_without_code || r->has_location;
}

/* How a record is classified: region, rule kind and the matching value ("US-CA", "US", "NA"). */
struct geo_class {
	uint32_t region;
	enum geo_match_kind kind;
	char what[GEO_CODE_MAX];
};

/* Validates the spec (codes, ambiguity, nets, default region) and fills r from arena memory.
 * False with errors in d naming the region. */
bool geo_rules_init(struct geo_rules *r, const struct geo_spec *spec, struct arena *a, struct diag *d);
void geo_rules_classify(const struct geo_rules *r, const struct geo_record *rec, struct geo_class *out);
/* The longest configured net containing addr, or NULL. */
const struct geo_net_rule *geo_rules_net(const struct geo_rules *r, const uint8_t addr[16]);

/* ---- MaxMind databases (mmdb.c) ---- */

/* The start of a map entry or an alias: the high and low 64 bits of its first address. */
struct geo_key {
	uint64_t hi, lo;
};

/* An open database and where its IPv4 data lives. IPv6 databases keep IPv4 under ::/96, and
 * writers alias ::ffff:0:0/96, 2001::/32 (Teredo) and 2002::/16 (6to4) to that subtree: a record
 * at network N/d pointing back at the ::/96 node, so libmaxminddb reads bits [d, d + 32) of an
 * address there as the IPv4 address. The walk and geo_db_find move the subtree to ::ffff:0:0/96
 * (each IPv4 network is seen once, where IPv4 clients are looked up) and keep every other alias
 * as an alias (struct geo_alias), resolved against the whole map at lookup time. */
struct geo_db {
	MMDB_s mmdb;
	const char *path;
	const char *conf_file; /* where the database is listed, for messages (NULL: none) */
	unsigned conf_line;
	bool is_v4;	      /* ip_version 4: the whole tree is IPv4 (32 bits deep) */
	uint32_t v4_node;     /* node at ::/96 (the root for IPv4 databases), GEO_NONE if none */
	bool v4_has_data;     /* the path to ::/96 ends in a data record covering all of it */
	MMDB_entry_s v4_data; /* that record */
};

/* An alias of the IPv4 data: an address of net/prefix stands for the IPv4 address in its bits
 * [prefix, prefix + 32) (6to4: 2002::/16, bits 16..47; Teredo: 2001::/32, bits 32..63, the
 * Teredo server). NAT64 (64:ff9b::/96) is no MaxMind alias and is not one here. */
struct geo_alias {
	struct geo_key net; /* address bits beyond prefix are zero */
	uint8_t prefix;
};

/* True when a record at net/prefix pointing at the IPv4 subtree is an alias the map follows:
 * prefix <= 96 and the network holds neither ::/96 (the subtree itself: IPv4-compatible
 * addresses, deprecated) nor ::ffff:0:0/96 (grafted, looked up directly). */
bool geo_alias_ok(const uint8_t net[16], unsigned prefix); /* net.c */
/* The IPv4 address an address of alias a stands for. */
static inline uint32_t geo_alias_v4(const struct geo_alias *a, uint64_t hi, uint64_t lo)
{
	unsigned d = a->prefix; /* <= 96 (geo_alias_ok) */
	if (d <= 32)
		return (uint32_t)(hi >> (32 - d));
	if (d >= 64)
		return (uint32_t)(lo >> (96 - d));
	return (uint32_t)(hi << (d - 32) | lo >> (96 - d));
}

/* Opens path; its errors are reported at conf_file:conf_line when conf_file is given. */
bool geo_db_open(struct geo_db *db, const char *path, const char *conf_file, unsigned conf_line,
		 struct diag *d);
/* Reports a problem of the database: "conf:line: geoip database PATH: message", or "PATH: message"
 * when the config location is unknown. */
void geo_db_report(const struct geo_db *db, struct diag *d, enum diag_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void geo_db_close(struct geo_db *db);
/* Reads the fields the rules need. MMDB_SUCCESS, or the error of a corrupt record. */
int geo_db_read_record(MMDB_entry_s *entry, struct geo_record *out);
/* Off the query path: what decides addr in this database, by the walk's own rules (IPv4 data moved
 * to ::ffff:0:0/96, geo_alias_ok aliases kept). 1: the record in entry; 2: addr lies in the alias
 * *via (its region is that of the IPv4 address it stands for, in the whole map); 0 none; -1
 * corrupt tree. */
int geo_db_find(const struct geo_db *db, const uint8_t addr[16], MMDB_entry_s *entry, struct geo_alias *via);

/* ---- the compiled map (build.c, map.c) ---- */

struct geo_location {
	bool known;
	double lat, lon;
};

/* Region values of alias entries: alias k of the map is region GEO_ALIAS_FIRST + k, above every
 * real region (geo_rules_init keeps them below), so one compare on an entry's value tells an alias
 * on the query path, and an alias, being its own region, never merges with a neighbour. */
#define GEO_ALIAS_MAX	1024u
#define GEO_ALIAS_FIRST ((1u << 24) - GEO_ALIAS_MAX)

/* The query structure: the whole 128-bit space tiled by disjoint CIDR entries sorted by start,
 * and a level-compressed index over them (see map.c for the layout and why). */
struct geo_map {
	struct arena arena; /* everything below except the database handles */
	size_t count;
	const struct geo_key *keys;	 /* entry starts, 64-byte aligned */
	const uint32_t *value;		 /* region << 8 | prefix (in the 128-bit space) */
	const uint32_t *slots;		 /* index nodes (map.c) */
	uint32_t root_v4;		 /* index slot of ::ffff:0:0/96 */
	uint32_t root_v6;		 /* index slot of 2000::/3 */
	const struct geo_alias *aliases; /* region GEO_ALIAS_FIRST + k is aliases[k] */
	size_t alias_count;
	struct geo_location *locations; /* per region */
	struct geo_rules rules;
	struct geo_db *dbs; /* kept open (mmap) for explain */
	size_t db_count;
};

/* An entry as build.c produces it, in address order. */
struct geo_entry {
	uint64_t hi, lo;
	uint32_t region;
	uint8_t prefix;
};

/* Builds the query structure (arrays and index in m->arena) from entries tiling the space. False
 * when the map is beyond the index's limits (2^27 entries). */
bool geo_map_index(struct geo_map *m, const struct geo_entry *e, size_t count);

/* ---- helpers (net.c) ---- */

static inline uint64_t geo_load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline bool geo_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	for (int i = 0; i < 12; i++)
		if (a[i] != pfx[i])
			return false;
	return true;
}

/* Clears the bits of a beyond prefix. */
void geo_mask(uint8_t a[16], unsigned prefix);
/* Unit vector of a position on the sphere, and back. */
void geo_to_vector(double lat, double lon, double v[3]);
bool geo_from_vector(const double v[3], double *lat, double *lon);

#endif
