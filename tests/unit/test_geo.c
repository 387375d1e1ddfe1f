/* test_geo.c -- unit tests of the geo module: nets, region rules, the compiled prefix map
 * (merging, scopes, IPv4-mapped IPv6, the 6to4 and Teredo aliases of the IPv4 data), several
 * databases, database schemas, errors, locations.
 *
 * Fixtures are the .mmdb files in tests/unit/data/geo/, written by scripts/gen-geo-db.pl (its header lists
 * every network); the tests run from the repository root. `test_geo --bench [DB...]` measures
 * the build and geo_map_lookup instead of testing (the demo database by default). */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "meridian/diag.h"
#include "meridian/geo.h"

#define DATA "tests/unit/data/geo/"
#define MAXL 8
#define MAXR 16

/* ---- fixtures: regions written as tables ---- */

struct rdef {
	const char *name;
	const char *continents[MAXL];
	const char *countries[MAXL];
	const char *subdivisions[MAXL];
	const char *nets[MAXL];
	bool has_location;
	double lat, lon;
};

struct fixture {
	struct geo_region_spec regions[MAXR];
	struct geo_net nets[MAXR][MAXL];
	const char *dbs[4];
	struct geo_spec spec;
	struct diag d;
	struct geo_map *m;
};

/* The example regions. */
static const struct rdef STD[] = {
    {"europe", {"EU", "AF"}, {0}, {0}, {0}, false, 0, 0},
    {"americas", {"NA", "SA"}, {0}, {0}, {0}, false, 0, 0},
    {"asia", {"AS", "OC"}, {0}, {0}, {0}, false, 0, 0},
    {"us_west", {0}, {0}, {"US-CA", "US-OR", "US-WA"}, {0}, false, 0, 0},
    {"office", {0}, {0}, {0}, {"203.0.113.0/24", "2001:db8:42::/48"}, false, 0, 0},
};
#define NSTD (sizeof(STD) / sizeof(STD[0]))

static size_t list_len(const char *const *l)
{
	size_t n = 0;
	while (n < MAXL && l[n])
		n++;
	return n;
}

/* A broken fixture is a bug in this file (plain abort: the bench runs outside Check too). */
static void fixture_bug(const char *what)
{
	fprintf(stderr, "test_geo: bad fixture: %s\n", what);
	abort();
}

/* Fills f->spec from defs; dbs is NULL-terminated. */
static void make_spec(struct fixture *f, const struct rdef *defs, size_t n, const char *default_name,
		      const char *const *dbs)
{
	memset(f, 0, sizeof(*f));
	diag_init(&f->d);
	if (n > MAXR)
		fixture_bug("too many regions");
	for (size_t i = 0; i < n; i++) {
		struct geo_region_spec *r = &f->regions[i];
		r->name = defs[i].name;
		r->continents = defs[i].continents;
		r->continent_count = list_len(defs[i].continents);
		r->countries = defs[i].countries;
		r->country_count = list_len(defs[i].countries);
		r->subdivisions = defs[i].subdivisions;
		r->subdivision_count = list_len(defs[i].subdivisions);
		r->net_count = list_len(defs[i].nets);
		for (size_t j = 0; j < r->net_count; j++)
			if (!geo_net_parse(defs[i].nets[j], &f->nets[i][j]))
				fixture_bug(defs[i].nets[j]);
		r->nets = f->nets[i];
		r->has_location = defs[i].has_location;
		r->lat = defs[i].lat;
		r->lon = defs[i].lon;
		if (strcmp(defs[i].name, default_name) == 0)
			f->spec.default_region = (unsigned)i;
	}
	size_t k = 0;
	while (dbs && dbs[k] && k < 4) {
		f->dbs[k] = dbs[k];
		k++;
	}
	f->spec.databases = f->dbs;
	f->spec.database_count = k;
	f->spec.regions = f->regions;
	f->spec.region_count = n;
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  diag: %s\n", d->entries[i].text);
}

static void build_ok(struct fixture *f, const struct rdef *defs, size_t n, const char *def,
		     const char *const *dbs)
{
	make_spec(f, defs, n, def, dbs);
	f->m = geo_map_build(&f->spec, &f->d);
	if (!f->m)
		print_diag(&f->d);
	ck_assert_ptr_nonnull(f->m);
	ck_assert_uint_eq(f->d.errors, 0);
}

static void done(struct fixture *f)
{
	geo_map_free(f->m);
	diag_free(&f->d);
}

/* Builds expecting failure; true when some error contains every needle (NULL-terminated). */
static bool fails_with(struct fixture *f, const struct rdef *defs, size_t n, const char *def,
		       const char *const *dbs, const char *const *needles)
{
	make_spec(f, defs, n, def, dbs);
	f->m = geo_map_build(&f->spec, &f->d);
	ck_assert_ptr_null(f->m);
	ck_assert_uint_gt(f->d.errors, 0);
	for (size_t i = 0; i < f->d.count; i++) {
		bool all = f->d.entries[i].level == DIAG_ERROR;
		for (size_t j = 0; all && needles[j]; j++)
			all = strstr(f->d.entries[i].text, needles[j]) != NULL;
		if (all)
			return true;
	}
	print_diag(&f->d);
	return false;
}

static unsigned region_index(const struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->spec.region_count; i++)
		if (strcmp(f->regions[i].name, name) == 0)
			return (unsigned)i;
	ck_abort_msg("no region %s", name);
	return 0;
}

static const char *kind_name(enum geo_match_kind k)
{
	static const char *const names[] = {"net", "subdivision", "country", "continent", "default"};
	return names[k];
}

/* The map's scope (128-bit space) in CLIENT's family, as the answer code counts it. */
static unsigned family_scope(const char *client, unsigned s)
{
	return strchr(client, ':') ? s : s > 96 ? s - 96 : 0;
}

/* Looks up CLIENT ("192.0.2.1", "198.51.100.0/24", "2001:db8::1") and checks region, scope (in the
 * client's family) and, through explain, the kind of rule and its value. */
static void expect(const struct fixture *f, const char *client, const char *region, unsigned scope,
		   enum geo_match_kind kind, const char *what)
{
	struct geo_net n;
	ck_assert_msg(geo_net_parse(client, &n), "bad client %s", client);
	unsigned s = 999, s2 = 999;
	unsigned r = geo_map_lookup(f->m, n.addr, n.prefix, &s);
	ck_assert_msg(r == region_index(f, region), "%s: region %s, want %s", client, f->regions[r].name,
		      region);
	s = family_scope(client, s);
	ck_assert_msg(s == scope, "%s: scope %u, want %u", client, s, scope);
	enum geo_match_kind k;
	char w[GEO_NET_TEXT_MAX];
	unsigned r2 = geo_map_explain(f->m, n.addr, n.prefix, &s2, &k, w, sizeof(w));
	ck_assert_uint_eq(r2, r);
	ck_assert_uint_eq(family_scope(client, s2), s);
	ck_assert_msg(k == kind, "%s: matched by %s, want %s", client, kind_name(k), kind_name(kind));
	ck_assert_msg(strcmp(w, what) == 0, "%s: matched '%s', want '%s'", client, w, what);
}

static const char *const CITY[] = {DATA "city.mmdb", NULL};

/* ---- nets ---- */

START_TEST(test_net_parse)
{
	struct geo_net n;
	static const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 0};
	ck_assert(geo_net_parse("203.0.113.0/24", &n));
	ck_assert_mem_eq(n.addr, v4, 16);
	ck_assert_uint_eq(n.prefix, 120);
	ck_assert(geo_net_parse("203.0.113.0", &n));
	ck_assert_uint_eq(n.prefix, 128);
	ck_assert(geo_net_parse("0.0.0.0/0", &n));
	ck_assert_uint_eq(n.prefix, 96);
	ck_assert(geo_net_parse("2001:db8::/32", &n));
	ck_assert_uint_eq(n.prefix, 32);
	ck_assert_uint_eq(n.addr[0], 0x20);
	ck_assert_uint_eq(n.addr[3], 0xb8);
	ck_assert(geo_net_parse("2001:db8::1", &n));
	ck_assert_uint_eq(n.prefix, 128);
	ck_assert(geo_net_parse("::/0", &n));
	ck_assert_uint_eq(n.prefix, 0);
	ck_assert(geo_net_parse("::ffff:192.0.2.0/120", &n));
	ck_assert_uint_eq(n.prefix, 120);

	static const char *const bad[] = {
	    "203.0.113.1/24", "2001:db8::1/32", "1.2.3.0/33",	 "2001:db8::/129", "1.2.3.0/", "1.2.3.0/024",
	    "1.2.3.0/-1",     "1.2.3.0/+8",	"1.2.3",	 "example",	   "",	       "1.2.3.0/24 ",
	    " 1.2.3.0/24",    "1.2.3.0/24/8",	"2001:db8::/3a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!geo_net_parse(bad[i], &n), "accepted '%s'", bad[i]);
	ck_assert(!geo_net_parse(NULL, &n));

	/* masked: bits beyond the prefix are cleared and said, anything malformed is still refused */
	char text[GEO_NET_TEXT_MAX];
	bool host_bits = false;
	ck_assert(geo_net_parse_masked("203.0.113.77/24", &n, &host_bits));
	ck_assert(host_bits);
	geo_net_format(&n, text, sizeof(text));
	ck_assert_str_eq(text, "203.0.113.0/24");
	ck_assert(geo_net_parse_masked("2001:db8:42:7::1/45", &n, &host_bits));
	ck_assert(host_bits);
	geo_net_format(&n, text, sizeof(text));
	ck_assert_str_eq(text, "2001:db8:40::/45");
	ck_assert(geo_net_parse_masked("203.0.113.0/24", &n, &host_bits));
	ck_assert(!host_bits);
	ck_assert(!geo_net_parse_masked("1.2.3.4/33", &n, &host_bits));
	ck_assert(!geo_net_parse_masked("example", &n, &host_bits));

	static const char *const round[] = {"203.0.113.0/24", "10.0.0.0/8",   "2001:db8:42::/48",
					    "::/0",	      "192.0.2.1/32", "0.0.0.0/0"};
	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		ck_assert(geo_net_parse(round[i], &n));
		geo_net_format(&n, text, sizeof(text));
		ck_assert_str_eq(text, round[i]);
	}
}
END_TEST

/* ---- rules ---- */

START_TEST(test_rule_kinds)
{
	const struct rdef defs[] = {
	    STD[0],
	    STD[1],
	    STD[2],
	    STD[3],
	    STD[4],
	    {"japan", {0}, {"JP"}, {0}, {0}, false, 0, 0},
	    {"england", {0}, {0}, {"GB-ENG"}, {0}, false, 0, 0},
	    {"london", {0}, {0}, {"gb-lnd"}, {0}, false, 0, 0},
	};
	struct fixture f;
	build_ok(&f, defs, 8, "americas", CITY);
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "EU");
	expect(&f, "10.2.0.1", "europe", 16, GEO_MATCH_CONTINENT, "AF");
	expect(&f, "198.51.100.1", "us_west", 25, GEO_MATCH_SUBDIVISION, "US-CA");
	expect(&f, "10.3.0.1", "us_west", 16, GEO_MATCH_SUBDIVISION, "US-OR");
	expect(&f, "10.4.255.255", "us_west", 16, GEO_MATCH_SUBDIVISION, "US-WA");
	expect(&f, "198.51.100.130", "americas", 25, GEO_MATCH_CONTINENT, "NA");
	expect(&f, "198.51.100.200", "americas", 25, GEO_MATCH_CONTINENT, "SA");
	expect(&f, "10.1.0.1", "asia", 16, GEO_MATCH_CONTINENT, "OC");
	expect(&f, "2001:db8:3::1", "japan", 48, GEO_MATCH_COUNTRY, "JP");
	/* A record that knows only its continent. */
	expect(&f, "10.5.1.1", "europe", 16, GEO_MATCH_CONTINENT, "EU");
	/* Two subdivision levels, both with rules: the smaller one wins. */
	expect(&f, "10.6.0.1", "london", 16, GEO_MATCH_SUBDIVISION, "GB-LND");
	done(&f);

	/* Without the London rule, the larger subdivision decides. */
	build_ok(&f, defs, 7, "americas", CITY);
	expect(&f, "10.6.0.1", "england", 16, GEO_MATCH_SUBDIVISION, "GB-ENG");
	done(&f);
}
END_TEST

START_TEST(test_nets_override)
{
	struct fixture f;
	build_ok(&f, STD, NSTD, "americas", CITY);
	/* The database says JP and DE; the office nets win. */
	expect(&f, "203.0.113.5", "office", 24, GEO_MATCH_NET, "203.0.113.0/24");
	expect(&f, "203.0.113.0/24", "office", 24, GEO_MATCH_NET, "203.0.113.0/24");
	expect(&f, "2001:db8:42:1::1", "office", 48, GEO_MATCH_NET, "2001:db8:42::/48");
	expect(&f, "2001:db8:43::1", "americas", 48, GEO_MATCH_DEFAULT, "");
	done(&f);

	/* A net shorter than the database's networks overrides every one of them. */
	const struct rdef wide[] = {
	    STD[0], STD[1], STD[2], STD[3], {"lab", {0}, {0}, {0}, {"10.0.0.0/8"}, false, 0, 0}};
	build_ok(&f, wide, 5, "americas", CITY);
	expect(&f, "10.3.0.1", "lab", 8, GEO_MATCH_NET, "10.0.0.0/8");
	expect(&f, "10.1.0.0/16", "lab", 8, GEO_MATCH_NET, "10.0.0.0/8");
	expect(&f, "11.0.0.1", "americas", 8, GEO_MATCH_DEFAULT, "");
	done(&f);
}
END_TEST

START_TEST(test_longest_net)
{
	const struct rdef defs[] = {
	    STD[0],
	    STD[1],
	    STD[2],
	    {"a", {0}, {0}, {0}, {"10.1.0.0/16", "2001:db8::/32"}, false, 0, 0},
	    {"b", {0}, {0}, {0}, {"10.1.2.0/24", "2001:db8:1::/48"}, false, 0, 0},
	    {"c", {0}, {0}, {0}, {"10.1.2.128/25", "2001:db8:1:2::/64"}, false, 0, 0},
	};
	struct fixture f;
	build_ok(&f, defs, 6, "americas", CITY);
	expect(&f, "10.1.1.1", "a", 23, GEO_MATCH_NET, "10.1.0.0/16");
	expect(&f, "10.1.3.1", "a", 24, GEO_MATCH_NET, "10.1.0.0/16");
	expect(&f, "10.1.128.1", "a", 17, GEO_MATCH_NET, "10.1.0.0/16");
	expect(&f, "10.1.2.1", "b", 25, GEO_MATCH_NET, "10.1.2.0/24");
	expect(&f, "10.1.2.200", "c", 25, GEO_MATCH_NET, "10.1.2.128/25");
	expect(&f, "2001:db8:1:2::1", "c", 64, GEO_MATCH_NET, "2001:db8:1:2::/64");
	expect(&f, "2001:db8:1:3::1", "b", 64, GEO_MATCH_NET, "2001:db8:1::/48");
	expect(&f, "2001:db8:2::1", "a", 47, GEO_MATCH_NET, "2001:db8::/32");
	done(&f);
}
END_TEST

START_TEST(test_default_region)
{
	struct fixture f;
	build_ok(&f, STD, NSTD, "asia", CITY);
	/* 0.0.0.0/5 holds no data; 8.0.0.0/5 holds 10.x. */
	expect(&f, "0.0.0.1", "asia", 5, GEO_MATCH_DEFAULT, "");
	expect(&f, "100.64.0.1", "asia", 2, GEO_MATCH_DEFAULT, "");
	expect(&f, "2400::1", "asia", 6, GEO_MATCH_DEFAULT, ""); /* 2000::/6 holds 2001:db8:: */
	done(&f);

	/* No database, no nets: one entry, and every answer has scope 0. */
	static const struct rdef one[] = {{"only", {"EU"}, {0}, {0}, {0}, false, 0, 0}};
	build_ok(&f, one, 1, "only", NULL);
	ck_assert_uint_eq(geo_map_entries(f.m), 1);
	expect(&f, "192.0.2.1", "only", 0, GEO_MATCH_DEFAULT, "");
	expect(&f, "2001:db8::1", "only", 0, GEO_MATCH_DEFAULT, "");
	done(&f);
}
END_TEST

START_TEST(test_ipv4_mapped_and_ipv6)
{
	struct fixture f;
	build_ok(&f, STD, NSTD, "americas", CITY);
	/* An IPv4 client is ::ffff:a.b.c.d with prefix 96 + n; scopes come back in the same space. */
	struct geo_net n;
	ck_assert(geo_net_parse("::ffff:192.0.2.77", &n));
	unsigned scope;
	ck_assert_uint_eq(geo_map_lookup(f.m, n.addr, 128, &scope), region_index(&f, "europe"));
	ck_assert_uint_eq(scope, 96 + 24);
	/* As a /16 it is looked up by 192.0.0.0, whose entry 192.0.0.0/23 (default region) is longer. */
	ck_assert_uint_eq(geo_map_lookup(f.m, n.addr, 96 + 16, &scope), region_index(&f, "americas"));
	ck_assert_uint_eq(scope, 96 + 23);
	expect(&f, "2001:db8:1::1", "europe", 48, GEO_MATCH_CONTINENT, "EU");
	expect(&f, "2001:db8:1::/48", "europe", 48, GEO_MATCH_CONTINENT, "EU");
	expect(&f, "2001:db8:2:ff00::/56", "us_west", 48, GEO_MATCH_SUBDIVISION, "US-CA");
	/* An IPv4-compatible address (deprecated, RFC 4291) stands for its IPv4 address, as in the
	 * database, whose ::/96 subtree is the IPv4 data: an alias like 6to4 and Teredo (test_aliases),
	 * the scope 96 + the IPv4 entry's. */
	expect(&f, "::192.0.2.1", "europe", 120, GEO_MATCH_CONTINENT, "EU via IPv4-compatible 192.0.2.1/32");
	expect(&f, "2002:c000:0201::1", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.1/32");
	expect(&f, "2001:0:c000:201::1", "europe", 56, GEO_MATCH_CONTINENT, "EU via Teredo 192.0.2.1/32");
	/* Prefix longer than 128 is clamped. */
	ck_assert(geo_net_parse("2001:db8:1::1", &n));
	ck_assert_uint_eq(geo_map_lookup(f.m, n.addr, 200, &scope), region_index(&f, "europe"));
	ck_assert_uint_eq(scope, 48);
	done(&f);
}
END_TEST

/* ---- aliases of the IPv4 data: 6to4 (2002::/16), Teredo (2001::/32) ---- */

START_TEST(test_aliases)
{
	struct fixture f;
	build_ok(&f, STD, NSTD, "americas", CITY);
	/* 6to4: the IPv4 address is bits 16..47; the scope counts the client's IPv6 bits, 16 + the
	 * scope of the IPv4 entry (192.0.2.0/24: the NL and DE /25s merged). */
	expect(&f, "2002:c000:201::1", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.1/32");
	expect(&f, "2002:c000:200::/48", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.0/32");
	expect(&f, "2002:c000:2ff:ffff:ffff::/80", "europe", 40, GEO_MATCH_CONTINENT,
	       "EU via 6to4 192.0.2.255/32");
	/* A client network shorter than 16 + 32 bits is an IPv4 network: 198.51.100.0/24 spans two
	 * regions, so the scope (16 + 25) is longer than the client's /40, as for IPv4. */
	expect(&f, "2002:c633:6400::/40", "us_west", 41, GEO_MATCH_SUBDIVISION,
	       "US-CA via 6to4 198.51.100.0/24");
	expect(&f, "2002:c633:64c0::/42", "americas", 41, GEO_MATCH_CONTINENT,
	       "SA via 6to4 198.51.100.192/26");
	expect(&f, "2002:c000::/24", "americas", 39, GEO_MATCH_DEFAULT, "via 6to4 192.0.0.0/8");
	/* Wider than the alias: the client starts at 2002::, IPv4 0.0.0.0/0, whose entry 0.0.0.0/5
	 * holds no data; the scope is never shorter than the alias. */
	expect(&f, "2002::/16", "americas", 21, GEO_MATCH_DEFAULT, "via 6to4 0.0.0.0/0");
	expect(&f, "2002::/15", "americas", 21, GEO_MATCH_DEFAULT, "via 6to4 0.0.0.0/0");
	/* Teredo: the IPv4 address is bits 32..63 (the Teredo server, as libmaxminddb reads it). */
	expect(&f, "2001:0:c000:280::/64", "europe", 56, GEO_MATCH_CONTINENT, "EU via Teredo 192.0.2.128/32");
	expect(&f, "2001:0:c633:6400::/56", "us_west", 57, GEO_MATCH_SUBDIVISION,
	       "US-CA via Teredo 198.51.100.0/24");
	/* 10.9.0.0/16 (TO) merges with 10.8.0.0/16 (NZ): 32 + 15. */
	expect(&f, "2001:0:a09:1::1", "asia", 47, GEO_MATCH_CONTINENT, "OC via Teredo 10.9.0.1/32");
	/* The IPv4 address is looked up with everything that decides IPv4 clients: the office net
	 * 203.0.113.0/24 wins over the database's JP there too. */
	expect(&f, "2002:cb00:7105::1", "office", 40, GEO_MATCH_NET,
	       "203.0.113.0/24 via 6to4 203.0.113.5/32");
	expect(&f, "2001:0:cb00:71ff::/64", "office", 56, GEO_MATCH_NET,
	       "203.0.113.0/24 via Teredo 203.0.113.255/32");
	/* NAT64's well-known prefix is no MaxMind alias: nothing there, the default region. */
	expect(&f, "64:ff9b::c000:201", "americas", 10, GEO_MATCH_DEFAULT, "");
	expect(&f, "64:ff9b::/96", "americas", 10, GEO_MATCH_DEFAULT, "");
	/* Beside the aliases, 2001:db8::/32 is native IPv6 data. */
	expect(&f, "2001:db8:1::1", "europe", 48, GEO_MATCH_CONTINENT, "EU");
	done(&f);
}
END_TEST

START_TEST(test_alias_nets)
{
	/* A configured net inside 2002::/16 wins over the alias, as nets win over database data; the
	 * rest of the alias is split around it, and the scope is never shorter than the alias entry
	 * the client is in (39 below, where 16 + the IPv4 scope would say 32). */
	const struct rdef defs[] = {
	    STD[0], STD[1], STD[2],
	    STD[3], STD[4], {"tunnel", {0}, {0}, {0}, {"2002:a01:100::/40"}, false, 0, 0},
	};
	struct fixture f;
	build_ok(&f, defs, 6, "americas", CITY);
	expect(&f, "2002:a01:100::1", "tunnel", 40, GEO_MATCH_NET, "2002:a01:100::/40");
	expect(&f, "2002:a01:1ff::/48", "tunnel", 40, GEO_MATCH_NET, "2002:a01:100::/40");
	expect(&f, "2002:a01:200::/48", "asia", 39, GEO_MATCH_CONTINENT, "OC via 6to4 10.1.2.0/32");
	expect(&f, "2002:a01::/48", "asia", 40, GEO_MATCH_CONTINENT, "OC via 6to4 10.1.0.0/32");
	expect(&f, "2002:a02::/48", "europe", 32, GEO_MATCH_CONTINENT, "AF via 6to4 10.2.0.0/32");
	expect(&f, "2002:c000:201::1", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.1/32");
	/* The IPv4 network itself is not the net: 10.1.1.0/24 stays asia. */
	expect(&f, "10.1.1.1", "asia", 16, GEO_MATCH_CONTINENT, "OC");
	done(&f);

	/* A net covering the whole alias replaces it. */
	const struct rdef whole[] = {
	    STD[0], STD[1], STD[2], STD[3], STD[4], {"sixtofour", {0}, {0}, {0}, {"2002::/16"}, false, 0, 0},
	};
	build_ok(&f, whole, 6, "americas", CITY);
	expect(&f, "2002:c000:201::1", "sixtofour", 16, GEO_MATCH_NET, "2002::/16");
	expect(&f, "2001:0:c000:201::1", "europe", 56, GEO_MATCH_CONTINENT, "EU via Teredo 192.0.2.1/32");
	done(&f);
}
END_TEST

START_TEST(test_alias_databases)
{
	const struct rdef defs[] = {STD[0],
				    STD[1],
				    STD[2],
				    STD[3],
				    STD[4],
				    {"korea", {0}, {"KR"}, {0}, {0}, false, 0, 0},
				    {"france", {0}, {"FR"}, {0}, {0}, false, 0, 0},
				    {"germany", {0}, {"DE"}, {0}, {0}, false, 0, 0}};
	static const char *const city_first[] = {DATA "city.mmdb", DATA "country.mmdb", NULL};
	static const char *const country_first[] = {DATA "country.mmdb", DATA "city.mmdb", NULL};
	static const char *const dbip_first[] = {DATA "dbip-city-lite.mmdb", DATA "city.mmdb", NULL};
	static const char *const dbip[] = {DATA "dbip-city-lite.mmdb", NULL};
	struct fixture f;
	/* Both have aliases: an aliased client is decided like its IPv4 address, by the first
	 * database with data for that, here the second one (10.0.0.0/15 and 198.18.0.0/15 are only
	 * in country.mmdb). */
	build_ok(&f, defs, 7, "americas", city_first);
	expect(&f, "2002:a00:1::1", "korea", 32, GEO_MATCH_COUNTRY, "KR via 6to4 10.0.0.1/32");
	expect(&f, "2002:c000:201::1", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.1/32");
	expect(&f, "2001:0:c612:1::", "americas", 43, GEO_MATCH_CONTINENT, "NA via Teredo 198.18.0.1/32");
	done(&f);
	build_ok(&f, defs, 7, "americas", country_first);
	expect(&f, "2002:c000:201::1", "france", 40, GEO_MATCH_COUNTRY, "FR via 6to4 192.0.2.1/32");
	expect(&f, "2002:a03:1::1", "us_west", 32, GEO_MATCH_SUBDIVISION, "US-OR via 6to4 10.3.0.1/32");
	done(&f);

	/* DB-IP Lite has no aliases: alone, 6to4 and Teredo clients get the default region, as
	 * before aliases were followed ... */
	build_ok(&f, defs, 8, "asia", dbip);
	expect(&f, "2002:c000:201::1", "asia", 15, GEO_MATCH_DEFAULT, "");
	expect(&f, "2001:0:c000:201::1", "asia", 21, GEO_MATCH_DEFAULT, "");
	expect(&f, "192.0.2.1", "germany", 24, GEO_MATCH_COUNTRY, "DE");
	done(&f);
	/* ... and before city.mmdb, city.mmdb's aliases decide the alias ranges. The IPv4 address is
	 * then decided by the whole map, DB-IP Lite first: DE, where libmaxminddb asked database by
	 * database would answer city.mmdb's NL. A 6to4 client gets its IPv4 address's answer. */
	build_ok(&f, defs, 8, "asia", dbip_first);
	expect(&f, "2002:c000:201::1", "germany", 40, GEO_MATCH_COUNTRY, "DE via 6to4 192.0.2.1/32");
	expect(&f, "192.0.2.1", "germany", 24, GEO_MATCH_COUNTRY, "DE");
	/* 10.1.0.0/16 (AU) merges with 10.0.0.0/16 (no data, the default region asia): 16 + 15. */
	expect(&f, "2002:a01::1", "asia", 31, GEO_MATCH_CONTINENT, "OC via 6to4 10.1.0.0/32");
	done(&f);
}
END_TEST

START_TEST(test_merging)
{
	struct fixture f;
	build_ok(&f, STD, NSTD, "americas", CITY);
	/* 192.0.2.0/25 (NL) and 192.0.2.128/25 (DE) are siblings of one region: one /24. */
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "EU");
	expect(&f, "192.0.2.200", "europe", 24, GEO_MATCH_CONTINENT, "EU");
	/* 198.51.100.0/24 is split between us_west and americas: a /24 client network gets the
	 * entry holding its start, with scope 25 > 24 (RFC 7871 7.2.1). */
	expect(&f, "198.51.100.0/24", "us_west", 25, GEO_MATCH_SUBDIVISION, "US-CA");
	/* US-NY (NA) and BR (SA) are both americas: the two /26s merge into one /25 ... */
	expect(&f, "198.51.100.128/26", "americas", 25, GEO_MATCH_CONTINENT, "NA");
	expect(&f, "198.51.100.192/26", "americas", 25, GEO_MATCH_CONTINENT, "SA");
	/* ... and a client network wider than the data is decided by the entry holding its start. */
	expect(&f, "198.51.0.0/16", "americas", 18, GEO_MATCH_DEFAULT, "");
	done(&f);

	/* Two sibling nets of one region merge, and so do the default entries beside them: one entry
	 * per level on the path to 10.0.0.0/8 plus the net itself; and, the net being another region
	 * than the default, the IPv4-compatible alias ::/96 splits ::/81 into 15 entries and itself. */
	static const struct rdef halves[] = {
	    {"x", {0}, {0}, {0}, {"10.0.0.0/9", "10.128.0.0/9"}, false, 0, 0},
	    {"dflt", {0}, {0}, {0}, {0}, false, 0, 0}};
	build_ok(&f, halves, 2, "dflt", NULL);
	expect(&f, "10.200.0.1", "x", 8, GEO_MATCH_NET, "10.128.0.0/9");
	expect(&f, "11.0.0.1", "dflt", 8, GEO_MATCH_DEFAULT, "");
	ck_assert_uint_eq(geo_map_entries(f.m), 96 + 8 + 1 + 15);
	expect(&f, "::10.200.0.1", "x", 96 + 8, GEO_MATCH_NET,
	       "10.128.0.0/9 via IPv4-compatible 10.200.0.1/32");
	expect(&f, "::11.0.0.0/104", "dflt", 96 + 8, GEO_MATCH_DEFAULT, "via IPv4-compatible 11.0.0.0/8");
	expect(&f, "::1", "dflt", 96 + 5, GEO_MATCH_DEFAULT, "via IPv4-compatible 0.0.0.1/32");
	done(&f);

	/* Nets of the default region's own kind merge away entirely. */
	static const struct rdef same[] = {
	    {"dflt", {0}, {0}, {0}, {"10.0.0.0/8", "2001:db8::/32"}, false, 0, 0}};
	build_ok(&f, same, 1, "dflt", NULL);
	ck_assert_uint_eq(geo_map_entries(f.m), 1);
	done(&f);
}
END_TEST

START_TEST(test_several_databases)
{
	const struct rdef defs[] = {STD[0],
				    STD[1],
				    STD[2],
				    STD[3],
				    STD[4],
				    {"korea", {0}, {"KR"}, {0}, {0}, false, 0, 0},
				    {"france", {0}, {"FR"}, {0}, {0}, false, 0, 0}};
	static const char *const city_first[] = {DATA "city.mmdb", DATA "country.mmdb", NULL};
	static const char *const country_first[] = {DATA "country.mmdb", DATA "city.mmdb", NULL};
	struct fixture f;
	build_ok(&f, defs, 7, "americas", city_first);
	expect(&f, "10.0.0.1", "korea", 16, GEO_MATCH_COUNTRY, "KR");	  /* only in country.mmdb */
	expect(&f, "10.1.0.1", "asia", 16, GEO_MATCH_CONTINENT, "OC");	  /* city.mmdb first: AU */
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "EU"); /* NL, not FR */
	expect(&f, "10.7.0.1", "asia", 16, GEO_MATCH_CONTINENT, "AS");
	/* 198.18.0.0/15 is CA, americas like the default around it: merged up to a /11. */
	expect(&f, "198.18.0.1", "americas", 11, GEO_MATCH_CONTINENT, "NA");
	expect(&f, "2001:db8:4::1", "asia", 48, GEO_MATCH_CONTINENT, "OC");
	expect(&f, "2001:db8:1::1", "europe", 48, GEO_MATCH_CONTINENT, "EU");
	done(&f);

	build_ok(&f, defs, 7, "americas", country_first);
	expect(&f, "10.1.0.1", "korea", 15, GEO_MATCH_COUNTRY, "KR");
	expect(&f, "192.0.2.1", "france", 24, GEO_MATCH_COUNTRY, "FR");
	expect(&f, "10.3.0.1", "us_west", 16, GEO_MATCH_SUBDIVISION, "US-OR"); /* not in country.mmdb */
	/* country.mmdb's 10.9.0.0/16 carries traits only: it places the network nowhere, so it is no
	 * data, and city.mmdb's TO decides (merged with NZ: /15) */
	expect(&f, "10.9.0.1", "asia", 15, GEO_MATCH_CONTINENT, "OC");
	done(&f);
}
END_TEST

/* ---- schemas ---- */

START_TEST(test_country_schema)
{
	const struct rdef defs[] = {STD[0],
				    STD[1],
				    STD[2],
				    STD[3],
				    {"france", {0}, {"FR"}, {0}, {0}, false, 0, 0},
				    {"korea", {0}, {"KR"}, {0}, {0}, false, 0, 0}};
	static const char *const dbs[] = {DATA "country.mmdb", NULL};
	struct fixture f;
	build_ok(&f, defs, 6, "americas", dbs);
	expect(&f, "192.0.2.1", "france", 24, GEO_MATCH_COUNTRY, "FR");
	expect(&f, "10.1.2.3", "korea", 15, GEO_MATCH_COUNTRY, "KR");
	/* a traits-only record, alone: the default region, like no data */
	expect(&f, "10.9.0.1", "americas", 13, GEO_MATCH_DEFAULT, "");
	/* host-sized networks nested in a /48 (IN): KR at ::1/128, JP at ::2/127; IN and JP are both
	 * asia, KR is korea, so each piece keeps its own prefix and no scope spans ::1 */
	expect(&f, "2001:db8:9::1", "korea", 128, GEO_MATCH_COUNTRY, "KR");
	expect(&f, "2001:db8:9::", "asia", 128, GEO_MATCH_CONTINENT, "AS");
	expect(&f, "2001:db8:9::3", "asia", 127, GEO_MATCH_CONTINENT, "AS");
	expect(&f, "2001:db8:9::4", "asia", 126, GEO_MATCH_CONTINENT, "AS");
	expect(&f, "2001:db8:9::/127", "asia", 128, GEO_MATCH_CONTINENT, "AS");
	expect(&f, "2001:db8:9:8000::/49", "asia", 49, GEO_MATCH_CONTINENT, "AS");
	/* A Country database has no coordinates. */
	double lat, lon;
	ck_assert(!geo_map_region_location(f.m, region_index(&f, "france"), &lat, &lon));
	ck_assert(!geo_map_region_location(f.m, region_index(&f, "asia"), &lat, &lon));
	done(&f);
}
END_TEST

START_TEST(test_dbip_schema)
{
	const struct rdef defs[] = {STD[0],
				    STD[1],
				    STD[2],
				    STD[3],
				    {"japan", {0}, {"JP"}, {0}, {0}, false, 0, 0},
				    {"australia", {0}, {"AU"}, {0}, {0}, false, 0, 0}};
	static const char *const dbs[] = {DATA "dbip-city-lite.mmdb", NULL};
	struct fixture f;
	build_ok(&f, defs, 6, "asia", dbs);
	/* Subdivisions without iso_code cannot match "US-CA": the continent decides, with a warning. */
	expect(&f, "198.51.100.1", "americas", 24, GEO_MATCH_CONTINENT, "NA");
	bool warned = false;
	for (size_t i = 0; i < f.d.count; i++)
		warned |= f.d.entries[i].level == DIAG_WARNING && strstr(f.d.entries[i].text, "iso_code") &&
			  strstr(f.d.entries[i].text, "dbip-city-lite.mmdb");
	ck_assert(warned);
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "EU");
	/* The network stored natively at ::ffff:203.0.113.0/120 wins over its ::/96 copy. */
	expect(&f, "203.0.113.9", "australia", 24, GEO_MATCH_COUNTRY, "AU");
	expect(&f, "2001:db8:5::1", "americas", 48, GEO_MATCH_CONTINENT, "SA");
	double lat, lon;
	ck_assert(geo_map_region_location(f.m, region_index(&f, "australia"), &lat, &lon));
	ck_assert_double_eq_tol(lat, -33.87, 1e-6);
	done(&f);

	/* No subdivision rules: no warning. */
	build_ok(&f, defs, 3, "asia", dbs);
	ck_assert_uint_eq(f.d.count, 0);
	done(&f);
}
END_TEST

START_TEST(test_ipv4_only_database)
{
	static const char *const dbs[] = {DATA "city-v4.mmdb", NULL};
	struct fixture f;
	build_ok(&f, STD, NSTD, "asia", dbs);
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "AF");
	expect(&f, "198.51.100.255", "us_west", 24, GEO_MATCH_SUBDIVISION, "US-CA");
	/* an IPv4-only database has no ::/96 subtree: the IPv4-compatible alias reads its IPv4 data */
	expect(&f, "::192.0.2.1", "europe", 120, GEO_MATCH_CONTINENT, "AF via IPv4-compatible 192.0.2.1/32");
	expect(&f, "2001:db8::1", "asia", 42, GEO_MATCH_DEFAULT, ""); /* beside office's 2001:db8:42::/48 */
	done(&f);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_database_errors)
{
	struct fixture f;
	static const char *const missing[] = {DATA "no-such.mmdb", NULL};
	static const char *const n1[] = {DATA "no-such.mmdb", "cannot open", NULL};
	ck_assert(fails_with(&f, STD, NSTD, "americas", missing, n1));
	done(&f);

	static const char *const corrupt[] = {DATA "corrupt.mmdb", NULL};
	static const char *const n2[] = {DATA "corrupt.mmdb", "corrupt", NULL};
	ck_assert(fails_with(&f, STD, NSTD, "americas", corrupt, n2));
	done(&f);

	static const char *const tree[] = {DATA "city.mmdb", DATA "corrupt-tree.mmdb", NULL};
	static const char *const n3[] = {DATA "corrupt-tree.mmdb", "corrupt", NULL};
	ck_assert(fails_with(&f, STD, NSTD, "americas", tree, n3));
	done(&f);

	/* Every bad database is reported, not just the first. */
	static const char *const both[] = {DATA "no-such.mmdb", DATA "corrupt.mmdb", NULL};
	ck_assert(fails_with(&f, STD, NSTD, "americas", both, n1));
	ck_assert_uint_eq(f.d.errors, 2);
	done(&f);
}
END_TEST

static void rule_error(const struct rdef *defs, size_t n, const char *const *needles)
{
	struct fixture f;
	ck_assert(fails_with(&f, defs, n, defs[0].name, NULL, needles));
	done(&f);
}

START_TEST(test_rule_errors)
{
	static const struct rdef cont[] = {{"one", {"EU"}, {0}, {0}, {0}, false, 0, 0},
					   {"two", {"NA", "EU"}, {0}, {0}, {0}, false, 0, 0}};
	static const char *const c1[] = {"region 'two'", "continent 'EU'", "'one'", NULL};
	rule_error(cont, 2, c1);

	static const struct rdef country[] = {{"one", {0}, {"us"}, {0}, {0}, false, 0, 0},
					      {"two", {0}, {"US"}, {0}, {0}, false, 0, 0}};
	static const char *const c2[] = {"region 'two'", "country 'US'", NULL};
	rule_error(country, 2, c2);

	static const struct rdef sub[] = {{"one", {0}, {0}, {"US-CA"}, {0}, false, 0, 0},
					  {"two", {0}, {0}, {"US-ca"}, {0}, false, 0, 0}};
	static const char *const c3[] = {"region 'two'", "subdivision 'US-CA'", "'one'", NULL};
	rule_error(sub, 2, c3);

	static const struct rdef net[] = {{"one", {0}, {0}, {0}, {"10.0.0.0/8"}, false, 0, 0},
					  {"two", {0}, {0}, {0}, {"10.1.0.0/16", "10.0.0.0/8"}, false, 0, 0}};
	static const char *const c4[] = {"region 'two'", "10.0.0.0/8", "'one'", NULL};
	rule_error(net, 2, c4);

	static const struct rdef unknown[] = {{"odd", {"EU", "XX"}, {0}, {0}, {0}, false, 0, 0}};
	static const char *const c5[] = {"region 'odd'", "unknown continent code 'XX'", NULL};
	rule_error(unknown, 1, c5);

	static const char *const bad_countries[] = {"USA", "U1", "U", ""};
	for (size_t i = 0; i < 4; i++) {
		struct rdef d[1] = {{"odd", {0}, {bad_countries[i]}, {0}, {0}, false, 0, 0}};
		static const char *const c6[] = {"region 'odd'", "malformed country code", NULL};
		rule_error(d, 1, c6);
	}
	static const char *const bad_subs[] = {"CA", "US_CA", "US-CALI", "US-", "USA-CA", "U1-CA", "US-C!"};
	for (size_t i = 0; i < 7; i++) {
		struct rdef d[1] = {{"odd", {0}, {0}, {bad_subs[i]}, {0}, false, 0, 0}};
		static const char *const c7[] = {"region 'odd'", "malformed subdivision", NULL};
		rule_error(d, 1, c7);
	}
	static const struct rdef far[] = {{"far", {"EU"}, {0}, {0}, {0}, true, 91.0, 0}};
	static const char *const c8[] = {"region 'far'", "location", NULL};
	rule_error(far, 1, c8);

	/* A net with bits beyond its prefix (built by hand: geo_net_parse refuses it). */
	struct fixture f;
	static const struct rdef ok[] = {{"lab", {0}, {0}, {0}, {"10.0.0.0/8"}, false, 0, 0}};
	make_spec(&f, ok, 1, "lab", NULL);
	f.nets[0][0].prefix = 104 - 8;
	ck_assert_ptr_null(geo_map_build(&f.spec, &f.d));
	ck_assert_ptr_nonnull(strstr(f.d.entries[0].text, "region 'lab'"));
	done(&f);

	make_spec(&f, ok, 1, "lab", NULL);
	f.spec.default_region = 1;
	ck_assert_ptr_null(geo_map_build(&f.spec, &f.d));
	ck_assert_ptr_nonnull(strstr(f.d.entries[0].text, "default region"));
	done(&f);

	make_spec(&f, ok, 0, "lab", NULL);
	ck_assert_ptr_null(geo_map_build(&f.spec, &f.d));
	ck_assert_ptr_nonnull(strstr(f.d.entries[0].text, "0 regions"));
	done(&f);

	/* Overlapping nets (not identical) and duplicates within one region are fine. */
	static const struct rdef fine[] = {
	    {"one", {"EU", "EU"}, {0}, {0}, {"10.0.0.0/8", "10.0.0.0/8"}, false, 0, 0},
	    {"two", {0}, {0}, {0}, {"10.0.0.0/9"}, false, 0, 0}};
	build_ok(&f, fine, 2, "one", NULL);
	done(&f);
}
END_TEST

/* ---- locations ---- */

static void near(const struct fixture *f, const char *region, double lat, double lon, double km)
{
	double a, b;
	ck_assert_msg(geo_map_region_location(f->m, region_index(f, region), &a, &b), "%s: no location",
		      region);
	double d = geo_distance_km(a, b, lat, lon);
	ck_assert_msg(d <= km, "%s: at %.4f,%.4f, %.1f km from %.4f,%.4f", region, a, b, d, lat, lon);
}

/* The weighted mean of points as the test sees it (written apart from the module's). */
static void mean_point(const double (*p)[3], size_t n, double *lat, double *lon)
{
	double x = 0, y = 0, z = 0, r = M_PI / 180;
	for (size_t i = 0; i < n; i++) {
		x += p[i][2] * cos(p[i][0] * r) * cos(p[i][1] * r);
		y += p[i][2] * cos(p[i][0] * r) * sin(p[i][1] * r);
		z += p[i][2] * sin(p[i][0] * r);
	}
	*lat = atan2(z, sqrt(x * x + y * y)) / r;
	*lon = atan2(y, x) / r;
}

START_TEST(test_locations)
{
	const struct rdef defs[] = {
	    {"europe", {"EU", "AF"}, {0}, {0}, {0}, true, 50.0, 10.0},
	    STD[1],
	    {"pacific", {0}, {"NZ", "TO"}, {0}, {0}, false, 0, 0},
	    {"us_west", {0}, {0}, {"US-CA", "US-WA"}, {0}, false, 0, 0},
	    STD[4],
	    {"japan", {0}, {"JP"}, {0}, {0}, false, 0, 0},
	    {"oregon", {0}, {0}, {"US-OR"}, {0}, false, 0, 0},
	    {"nowhere", {0}, {"KR"}, {0}, {0}, false, 0, 0},
	};
	struct fixture f;
	build_ok(&f, defs, 8, "americas", CITY);
	near(&f, "europe", 50.0, 10.0, 1e-6); /* config wins over the database */
	near(&f, "oregon", 45.52, -122.68, 1e-6);
	/* Auckland (174.76) and Nuku'alofa (-175.20), equal sizes: the mean is near the
	 * antimeridian, not near Greenwich as an average of longitudes would be. */
	double lat, lon;
	ck_assert(geo_map_region_location(f.m, region_index(&f, "pacific"), &lat, &lon));
	ck_assert_msg(fabs(lon) > 175.0 && lat < -20 && lat > -37, "pacific at %f,%f", lat, lon);
	/* us_west: San Francisco /25 (128 addresses) and Seattle /16 (65536) over IPv4; the IPv6
	 * /48 in San Francisco does not count because the region has IPv4 coordinates. */
	static const double west[][3] = {{37.77, -122.42, 128}, {47.61, -122.33, 65536}};
	mean_point(west, 2, &lat, &lon);
	near(&f, "us_west", lat, lon, 0.01);
	ck_assert_double_gt(geo_distance_km(lat, lon, 47.61, -122.33), 1.0); /* weighted, not just Seattle */
	/* office is made of nets only: the database coordinates under them (Tokyo under
	 * 203.0.113.0/24) give its location, IPv4 again preferred over the Berlin IPv6 net. */
	near(&f, "office", 35.68, 139.69, 1e-6);
	/* japan has only IPv6 left (203.0.113.0/24 belongs to office): the IPv6 mean is used. */
	near(&f, "japan", 35.68, 139.69, 1e-6);
	ck_assert(!geo_map_region_location(f.m, region_index(&f, "nowhere"), &lat, &lon));
	ck_assert(!geo_map_region_location(f.m, 99, &lat, &lon));
	done(&f);
}
END_TEST

START_TEST(test_distance)
{
	double ams_iad = geo_distance_km(52.37, 4.90, 38.95, -77.45);
	ck_assert_msg(ams_iad > 6150 && ams_iad < 6250, "AMS-IAD %f km", ams_iad);
	ck_assert_double_eq_tol(geo_distance_km(38.95, -77.45, 52.37, 4.90), ams_iad, 1e-9);
	ck_assert_double_eq_tol(geo_distance_km(1.35, 103.99, 1.35, 103.99), 0.0, 1e-9);
	ck_assert_double_eq_tol(geo_distance_km(0, 0, 0, 180), M_PI * 6371.0088, 0.01);
	/* Across the antimeridian: 2 degrees of longitude at the equator, not 358. */
	ck_assert_double_eq_tol(geo_distance_km(0, 179, 0, -179), 2 * M_PI * 6371.0088 / 180, 0.01);
	double sin_ams = geo_distance_km(1.35, 103.99, 52.37, 4.90);
	ck_assert_msg(sin_ams > 10400 && sin_ams < 10600, "SIN-AMS %f km", sin_ams);
}
END_TEST

/* ---- the map against libmaxminddb's own lookups ---- */

/* The region of an address computed the slow way: configured nets by hand, then MMDB_lookup_sockaddr
 * on each database in order, then the rules of STD + korea applied by hand. */
struct oracle {
	MMDB_s db[2];
	struct geo_net office[2];
};

static unsigned oracle_rules(MMDB_entry_s *e)
{
	MMDB_entry_data_s v;
	char cc[3] = "", code[8];
	if (MMDB_get_value(e, &v, "country", "iso_code", NULL) == MMDB_SUCCESS && v.has_data &&
	    v.data_size == 2)
		memcpy(cc, v.utf8_string, 2), cc[2] = '\0';
	for (int i = 7; i >= 0; i--) {
		char idx[2] = {(char)('0' + i), 0};
		if (MMDB_get_value(e, &v, "subdivisions", idx, "iso_code", NULL) != MMDB_SUCCESS ||
		    !v.has_data)
			continue;
		snprintf(code, sizeof(code), "%s-%.*s", cc, (int)v.data_size, v.utf8_string);
		if (!strcmp(code, "US-CA") || !strcmp(code, "US-OR") || !strcmp(code, "US-WA"))
			return 3;
	}
	if (!strcmp(cc, "KR"))
		return 5;
	if (MMDB_get_value(e, &v, "continent", "code", NULL) != MMDB_SUCCESS || !v.has_data)
		return 1;
	static const char *const cont[] = {"EU", "AF", "NA", "SA", "AS", "OC"};
	static const unsigned reg[] = {0, 0, 1, 1, 2, 2};
	for (int i = 0; i < 6; i++)
		if (!strncmp(v.utf8_string, cont[i], 2))
			return reg[i];
	return 1;
}

/* The address configured nets see: a 6to4 (2002::/16) or Teredo (2001::/32) address, which both
 * test databases alias to their IPv4 data, stands for ::ffff: and the IPv4 address in its bits
 * 16..47 or 32..63 (what libmaxminddb reads there); any other address for itself. */
static void oracle_net_view(const uint8_t a[16], uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memcpy(out, a, 16);
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(out, mapped, 12);
		memcpy(out + 12, a + 2, 4);
	} else if (a[0] == 0x20 && a[1] == 0x01 && !a[2] && !a[3]) {
		memcpy(out, mapped, 12);
		memcpy(out + 12, a + 4, 4);
	}
}

static unsigned oracle_region(struct oracle *o, const uint8_t a[16])
{
	uint8_t view[16];
	oracle_net_view(a, view);
	for (int i = 0; i < 2; i++) {
		uint8_t m[16];
		memcpy(m, view, 16);
		for (unsigned b = o->office[i].prefix; b < 128; b++)
			m[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
		if (!memcmp(m, o->office[i].addr, 16))
			return 4;
	}
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool v4 = !memcmp(a, mapped, 12);
	memcpy(&s4.sin_addr, a + 12, 4);
	memcpy(&s6.sin6_addr, a, 16);
	for (int i = 0; i < 2; i++) {
		int err;
		MMDB_lookup_result_s r = MMDB_lookup_sockaddr(
		    &o->db[i], v4 ? (struct sockaddr *)&s4 : (struct sockaddr *)&s6, &err);
		ck_assert_int_eq(err, MMDB_SUCCESS);
		if (r.found_entry)
			return oracle_rules(&r.entry);
	}
	return 1;
}

static uint64_t rnd_state = 88172645463325252u;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A random address near the test data: inside or beside its networks (IPv4 ones also through the
 * 6to4 and Teredo aliases), or anywhere. */
static void random_addr(uint8_t a[16])
{
	if (rnd() % 5 == 0) { /* an IPv4 address as below, moved into 6to4 or Teredo */
		uint8_t v4[16];
		do
			random_addr(v4);
		while (v4[10] != 0xff || v4[0]);
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)(rnd() >> 24);
		bool teredo = rnd() & 1;
		a[0] = 0x20;
		a[1] = teredo ? 0x01 : 0x02;
		if (teredo)
			a[2] = a[3] = 0;
		memcpy(a + (teredo ? 4 : 2), v4 + 12, 4);
		return;
	}
	static const char *const near_v4[] = {"192.0.2.0", "198.51.100.0", "203.0.113.0", "10.0.0.0",
					      "10.6.0.0",  "198.18.0.0",   "192.0.3.0",	  "9.255.0.0"};
	uint64_t r = rnd();
	memset(a, 0, 16);
	if (r % 3 == 0) {
		a[10] = a[11] = 0xff;
		inet_pton(AF_INET, near_v4[(r >> 8) % 8], a + 12);
		a[13] ^= (uint8_t)((r >> 16) % 4 == 0 ? (r >> 24) : 0);
		a[14] ^= (uint8_t)(r >> 32);
		a[15] = (uint8_t)(r >> 40);
	} else if (r % 3 == 1) {
		inet_pton(AF_INET6, "2001:db8::", a);
		a[5] = (uint8_t)((r >> 8) % 0x50);
		for (int i = 6; i < 16; i++)
			a[i] = (uint8_t)(rnd() >> 20);
	} else {
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)(rnd() >> 24);
		if ((r >> 8) % 2) {
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
		}
	}
}

START_TEST(test_map_agrees_with_libmaxminddb)
{
	const struct rdef defs[] = {STD[0], STD[1], STD[2],
				    STD[3], STD[4], {"korea", {0}, {"KR"}, {0}, {0}, false, 0, 0}};
	static const char *const dbs[] = {DATA "city.mmdb", DATA "country.mmdb", NULL};
	struct fixture f;
	build_ok(&f, defs, 6, "americas", dbs);
	struct oracle o;
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(MMDB_open(dbs[i], MMDB_MODE_MMAP, &o.db[i]), MMDB_SUCCESS);
	ck_assert(geo_net_parse(STD[4].nets[0], &o.office[0]));
	ck_assert(geo_net_parse(STD[4].nets[1], &o.office[1]));

	unsigned seen[6] = {0};
	for (int n = 0; n < 20000; n++) {
		uint8_t a[16], b[16];
		random_addr(a);
		unsigned scope;
		unsigned r = geo_map_lookup(f.m, a, 128, &scope);
		seen[r]++;
		char text[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, a, text, sizeof(text));
		ck_assert_msg(r == oracle_region(&o, a), "%s: map says %s, libmaxminddb %s", text,
			      f.regions[r].name, f.regions[oracle_region(&o, a)].name);
		/* The scope is honest: any address inside addr/scope has the same region and scope. */
		unsigned s128 = scope + (a[10] == 0xff && a[11] == 0xff && !a[0] && !a[9] ? 96 : 0);
		memcpy(b, a, 16);
		for (unsigned bit = s128; bit < 128; bit++)
			if (rnd() & 1)
				b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		unsigned scope_b;
		ck_assert_msg(geo_map_lookup(f.m, b, 128, &scope_b) == r && scope_b == scope,
			      "%s/%u not uniform", text, scope);
		ck_assert_uint_eq(oracle_region(&o, b), r);
	}
	for (int i = 0; i < 6; i++) /* the sample reached every region */
		ck_assert_uint_gt(seen[i], 20);
	for (int i = 0; i < 2; i++)
		MMDB_close(&o.db[i]);
	done(&f);
}
END_TEST

START_TEST(test_demo_database)
{
	/* The example deployment's database with the regions. */
	static const char *const dbs[] = {"zones/geo/demo-city.mmdb", NULL};
	struct fixture f;
	build_ok(&f, STD, NSTD, "americas", dbs);
	expect(&f, "192.0.2.1", "europe", 24, GEO_MATCH_CONTINENT, "EU");
	expect(&f, "198.51.100.1", "us_west", 25, GEO_MATCH_SUBDIVISION, "US-CA");
	expect(&f, "198.51.100.129", "americas", 25, GEO_MATCH_CONTINENT, "NA");
	expect(&f, "203.0.113.1", "office", 24, GEO_MATCH_NET, "203.0.113.0/24");
	expect(&f, "10.10.0.1", "europe", 16, GEO_MATCH_CONTINENT, "AF");
	expect(&f, "10.9.0.1", "asia", 15, GEO_MATCH_CONTINENT, "OC");	       /* 10.8/16 JP: merged */
	expect(&f, "10.5.0.1", "us_west", 15, GEO_MATCH_SUBDIVISION, "US-WA"); /* with 10.4/16 US-OR */
	expect(&f, "2001:db8:6::1", "asia", 47, GEO_MATCH_CONTINENT, "AS");    /* with 2001:db8:7::/48 AU */
	expect(&f, "2001:db8:42::1", "office", 48, GEO_MATCH_NET, "2001:db8:42::/48");
	/* The 6to4 client of the issue: mmdblookup says NL, and so does the map. */
	expect(&f, "2002:c000:200::/48", "europe", 40, GEO_MATCH_CONTINENT, "EU via 6to4 192.0.2.0/32");
	expect(&f, "2002:c633:6480::/48", "americas", 41, GEO_MATCH_CONTINENT,
	       "NA via 6to4 198.51.100.128/32");
	done(&f);
}
END_TEST

/* ---- bench: test_geo --bench [DB...] ---- */

/* CPU time of this thread: other processes on a shared machine do not count. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A random address inside net. */
static void random_in(const struct geo_net *net, uint8_t out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(rnd() >> 24);
	for (unsigned b = 0; b < net->prefix; b++) {
		uint8_t bit = (uint8_t)(0x80 >> (b % 8));
		out[b / 8] = (uint8_t)((out[b / 8] & ~bit) | (net->addr[b / 8] & bit));
	}
}

/* test_geo --bench [--clients V4NET V6NET] [DB...]: builds the regions over DB (the demo
 * database by default) and times lookups of IPv4 clients (plain addresses) and IPv6 clients (as
 * ECS /56) drawn at random from V4NET and V6NET (default 0.0.0.0/0 and 2000::/3). */
static int bench(int argc, char **argv)
{
	static const char *const demo[] = {"zones/geo/demo-city.mmdb", NULL};
	struct geo_net nets[2];
	const char *clients[2] = {"0.0.0.0/0", "2000::/3"};
	if (argc >= 3 && strcmp(argv[0], "--clients") == 0) {
		clients[0] = argv[1];
		clients[1] = argv[2];
		argc -= 3;
		argv += 3;
	}
	for (int i = 0; i < 2; i++)
		if (!geo_net_parse(clients[i], &nets[i])) {
			fprintf(stderr, "test_geo: bad net %s\n", clients[i]);
			return 2;
		}
	const char *dbs[4] = {NULL};
	for (int i = 0; i < argc && i < 3; i++)
		dbs[i] = argv[i];
	struct fixture f;
	make_spec(&f, STD, NSTD, "americas", argc ? dbs : demo);
	long rss0 = max_rss_kb();
	double t0 = now();
	f.m = geo_map_build(&f.spec, &f.d);
	double t1 = now();
	print_diag(&f.d);
	if (!f.m)
		return 1;
	printf("build: %.1f ms, %zu entries, %zu bytes, peak RSS +%ld KiB\n", (t1 - t0) * 1e3,
	       geo_map_entries(f.m), geo_map_bytes(f.m), max_rss_kb() - rss0);

	enum { N = 1 << 16, ROUNDS = 256 }; /* 1 MiB of addresses: the map, not them, is measured */
	uint8_t(*addr)[16] = malloc((size_t)N * 16);
	unsigned *prefix = malloc(N * sizeof(*prefix));
	for (size_t i = 0; i < N; i++) {
		random_in(&nets[i % 2], addr[i]);
		prefix[i] = i % 2 ? 56 : 128;
		if (i % 2)
			memset(addr[i] + 7, 0, 9);
	}
	unsigned sum = 0, scope;
	double t2 = now();
	for (int round = 0; round < ROUNDS; round++)
		for (size_t i = 0; i < N; i++)
			sum += geo_map_lookup(f.m, addr[i], prefix[i], &scope) + scope;
	double t3 = now();
	printf("lookup: %.1f ns (clients from %s and %s, %d lookups, checksum %u)\n",
	       (t3 - t2) * 1e9 / ((double)N * ROUNDS), clients[0], clients[1], N * ROUNDS, sum);
	free(addr);
	free(prefix);
	done(&f);
	return 0;
}

static Suite *geo_suite(void)
{
	Suite *s = suite_create("geo");
	TCase *tc = tcase_create("geo");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_net_parse);
	tcase_add_test(tc, test_rule_kinds);
	tcase_add_test(tc, test_nets_override);
	tcase_add_test(tc, test_longest_net);
	tcase_add_test(tc, test_default_region);
	tcase_add_test(tc, test_ipv4_mapped_and_ipv6);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_alias_nets);
	tcase_add_test(tc, test_alias_databases);
	tcase_add_test(tc, test_merging);
	tcase_add_test(tc, test_several_databases);
	tcase_add_test(tc, test_country_schema);
	tcase_add_test(tc, test_dbip_schema);
	tcase_add_test(tc, test_ipv4_only_database);
	tcase_add_test(tc, test_database_errors);
	tcase_add_test(tc, test_rule_errors);
	tcase_add_test(tc, test_locations);
	tcase_add_test(tc, test_distance);
	tcase_add_test(tc, test_map_agrees_with_libmaxminddb);
	tcase_add_test(tc, test_demo_database);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--bench") == 0)
		return bench(argc - 2, argv + 2);
	SRunner *sr = srunner_create(geo_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
