/* regions.c -- the geo keys: geoip databases, regions with their rules, default_region.
 *
 * A region is made of rules of four kinds (continents, countries, subdivisions, nets). The first three
 * are lists of codes checked by form here and matched against the databases by the geo module, which
 * ranks the kinds (nets over subdivisions over countries over continents). Within one kind a value may
 * belong to one region only, or a client would have two: every value claims its kind's slot in a
 * scratch table and a second claim is reported with both regions named. Regions keep the order they
 * were written in (walk.c), so region indexes follow the file. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

static const char *const region_fields[] = {
    "continents", "countries", "subdivisions", "nets", "lat", "lon", NULL,
};

static bool region_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool region_continent(const char *s, size_t len)
{
	static const char codes[] = "AF AN AS EU NA OC SA";
	for (size_t i = 0; i < sizeof(codes) - 1; i += 3) {
		if (len == 2 && memcmp(codes + i, s, 2) == 0)
			return true;
	}
	return false;
}

static bool region_country(const char *s, size_t len)
{
	return len == 2 && region_upper(s[0]) && region_upper(s[1]);
}

static bool region_subdivision(const char *s, size_t len)
{
	if (len < 4 || len > 6 || !region_country(s, 2) || s[2] != '-')
		return false;
	for (size_t i = 3; i < len; i++) {
		if (!region_upper(s[i]) && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	return true;
}

/* A kind of code rule: where it lives in the region and how a code looks. */
struct region_rule {
	const char *field;
	const char *list_what; /* what the field was expected to be */
	const char *what;      /* what a code was expected to be */
	char tag;	       /* prefix of its claims, so a country and a continent never collide */
	bool (*valid)(const char *s, size_t len);
	size_t list, count; /* offsetof in struct geo_region_spec */
};

#define R(f) offsetof(struct geo_region_spec, f)
static const struct region_rule region_rules[] = {
    {"continents", "a list of continent codes", "a continent code (AF, AN, AS, EU, NA, OC or SA)", 'c',
     region_continent, R(continents), R(continent_count)},
    {"countries", "a list of country codes", "a country code of two uppercase letters (ISO 3166-1 alpha-2)",
     'k', region_country, R(countries), R(country_count)},
    {"subdivisions", "a list of subdivision codes",
     "a subdivision code \"CC-XXX\" (ISO 3166-2: country code, '-', 1..3 uppercase letters or digits)", 's',
     region_subdivision, R(subdivisions), R(subdivision_count)},
};
#undef R

/* While the regions are read: the table being filled and the claims made so far. */
struct region_walk {
	struct geo_region_spec *regions;
	unsigned index; /* of the region being read */
	int claims;	/* stack index: tag + value -> region index */
};

/* Claims key (len bytes) for the current region; false (reported) when some region has it already. */
static bool region_claim(struct loader *ld, struct region_walk *w, const char *label, unsigned line,
			 const char *key, size_t len, const char *text)
{
	lua_State *L = ld->L;
	lua_pushlstring(L, key, len);
	if (lua_rawget(L, w->claims) == LUA_TNUMBER) {
		unsigned other = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (other == w->index)
			conf_error(ld, line, "%s: \"%s\" is listed twice in region '%s'", label, text,
				   w->regions[other].name);
		else
			conf_error(ld, line,
				   "%s: \"%s\" is also in region '%s' (a client must belong to one region)",
				   label, text, w->regions[other].name);
		return false;
	}
	lua_pop(L, 1);
	lua_pushlstring(L, key, len);
	lua_pushinteger(L, w->index);
	lua_rawset(L, w->claims);
	return true;
}

/* The list field of the region on top; returns its length (0 when absent, -1 when not a list), with
 * *loc where it was written and the list pushed (nil when absent). */
static lua_Integer region_list(struct loader *ld, const char *label, const struct conf_loc *t,
			       const char *field, const char *what, struct conf_loc *loc)
{
	*loc = conf_push_field(ld, t, field);
	if (lua_isnil(ld->L, -1))
		return 0;
	return conf_list(ld, label, loc->line, what);
}

/* One code rule of the region on top; returns how many values were written (-1: not a list). */
static lua_Integer region_codes(struct loader *ld, struct region_walk *w, const char *rlabel,
				const struct conf_loc *t, const struct region_rule *rule)
{
	lua_State *L = ld->L;
	char label[128], ilabel[160], key[16];
	struct conf_loc loc;
	struct conf_items items;
	snprintf(label, sizeof(label), "%s.%s", rlabel, rule->field);
	lua_Integer n = region_list(ld, label, t, rule->field, rule->list_what, &loc);
	const char **out = arena_alloc(&ld->c->arena, (size_t)(n > 0 ? n : 0) * sizeof(*out));
	size_t count = 0, len;
	conf_items_begin(ld, &loc, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		unsigned line = conf_items_next(ld, &items).line;
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", label, (long long)i);
		const char *s = conf_string(ld, ilabel, line, 0, 64, false, &len);
		if (s && !rule->valid(s, len)) {
			conf_error(ld, line, "%s: expected %s, got \"%s\"", ilabel, rule->what, s);
		} else if (s) {
			key[0] = rule->tag;
			memcpy(key + 1, s, len);
			if (region_claim(ld, w, ilabel, line, key, len + 1, s))
				out[count++] = arena_memdup(&ld->c->arena, s, len + 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	struct geo_region_spec *r = &w->regions[w->index];
	*(const char *const **)((char *)r + rule->list) = out;
	*(size_t *)((char *)r + rule->count) = count;
	return n;
}

void conf_net_error(struct loader *ld, const char *label, unsigned line, const char *s)
{
	char text[INET6_ADDRSTRLEN], fixed[INET6_ADDRSTRLEN];
	uint8_t addr[16] = {0};
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : 0;
	int family = 0;
	if (slash && n < sizeof(text) && slash[1] >= '0' && slash[1] <= '9' && strlen(slash + 1) <= 3) {
		memcpy(text, s, n);
		text[n] = '\0';
		family = inet_pton(AF_INET, text, addr) == 1	? AF_INET
			 : inet_pton(AF_INET6, text, addr) == 1 ? AF_INET6
								: 0;
	}
	unsigned long prefix = family ? strtoul(slash + 1, NULL, 10) : 0, bits = family == AF_INET ? 32 : 128;
	uint8_t masked[16];
	memcpy(masked, addr, sizeof(addr));
	for (unsigned long i = prefix; i < bits; i++)
		masked[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	/* Only when the address and prefix are fine on their own is it the host bits that are wrong. */
	if (!family || prefix > bits || memcmp(masked, addr, bits / 8) == 0) {
		conf_error(ld, line,
			   "%s: expected a network like \"203.0.113.0/24\" or \"2001:db8::/32\", got \"%s\"",
			   label, s);
		return;
	}
	inet_ntop(family, masked, fixed, sizeof(fixed));
	conf_error(ld, line, "%s: \"%s\" has bits set beyond the /%lu prefix (did you mean \"%s/%lu\"?)",
		   label, s, prefix, fixed, prefix);
}

/* The nets of the region on top; returns how many were written (-1: not a list). */
static lua_Integer region_nets(struct loader *ld, struct region_walk *w, const char *rlabel,
			       const struct conf_loc *t)
{
	lua_State *L = ld->L;
	char label[128], ilabel[160], key[1 + sizeof(struct geo_net)];
	struct conf_loc loc;
	struct conf_items items;
	snprintf(label, sizeof(label), "%s.nets", rlabel);
	lua_Integer n = region_list(ld, label, t, "nets", "a list of networks \"address/prefix\"", &loc);
	struct geo_net *out = arena_alloc(&ld->c->arena, (size_t)(n > 0 ? n : 0) * sizeof(*out));
	size_t count = 0, len;
	conf_items_begin(ld, &loc, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		unsigned line = conf_items_next(ld, &items).line;
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", label, (long long)i);
		const char *s = conf_string(ld, ilabel, line, 0, 64, false, &len);
		if (s && !geo_net_parse(s, &out[count])) {
			conf_net_error(ld, ilabel, line, s);
		} else if (s) {
			/* The same net however it is spelt ("192.0.2.0/24" or "::ffff:192.0.2.0/120"). */
			key[0] = 'n';
			memcpy(key + 1, out[count].addr, sizeof(out[count].addr));
			key[1 + sizeof(out[count].addr)] = (char)out[count].prefix;
			count += region_claim(ld, w, ilabel, line, key, 2 + sizeof(out[count].addr), s);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	w->regions[w->index].nets = out;
	w->regions[w->index].net_count = count;
	return n;
}

/* The region named e->name, its table on top. */
static void region_one(struct loader *ld, struct region_walk *w, const struct conf_named *e)
{
	struct geo_region_spec *r = &w->regions[w->index];
	char label[96];
	snprintf(label, sizeof(label), "regions.%.64s", e->name);
	r->name = arena_strdup(&ld->c->arena, e->name);
	if (!conf_name_ok(e->name, strlen(e->name)))
		conf_error(ld, e->loc.line,
			   "regions: expected a region name of " CONF_NAME_RULE ", got '%.64s'", e->name);
	if (lua_type(ld->L, -1) != LUA_TTABLE) {
		conf_expected(
		    ld, e->loc.line, label,
		    "a table { continents = ..., countries = ..., subdivisions = ..., nets = ... }");
		return;
	}
	conf_check_fields(ld, label, region_fields, &e->loc);
	/* Counts rules written, even wrongly (those are reported already), so as not to pile on. */
	unsigned rules = 0;
	for (size_t i = 0; i < sizeof(region_rules) / sizeof(region_rules[0]); i++)
		rules += region_codes(ld, w, label, &e->loc, &region_rules[i]) != 0;
	rules += region_nets(ld, w, label, &e->loc) != 0;
	conf_lat_lon(ld, label, &e->loc, &r->has_location, &r->lat, &r->lon);
	if (!rules)
		conf_error(ld, e->loc.line,
			   "%s: expected at least one rule (continents, countries, subdivisions or nets)",
			   label);
}

void conf_key_regions(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	size_t n;
	struct conf_named *e =
	    conf_keyed(ld, k->name, "a table of regions keyed by name", &t, &n, &ld->regions_failed);
	struct region_walk w = {arena_alloc(&ld->c->arena, n * sizeof(*w.regions)), 0, 0};
	memset(w.regions, 0, n * sizeof(*w.regions));
	ld->regions_line = at->line;
	lua_newtable(L);
	w.claims = lua_gettop(L);
	for (; w.index < n; w.index++) {
		lua_pushstring(L, e[w.index].name);
		lua_rawget(L, w.claims - 1);
		region_one(ld, &w, &e[w.index]);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	free(e);
	ld->c->geo.regions = w.regions;
	ld->c->geo.region_count = n;
}

bool conf_region_ref(struct loader *ld, const char *label, unsigned line, const char *name, unsigned *index)
{
	const struct geo_spec *g = &ld->c->geo;
	size_t i = g->region_count
		       ? conf_find(name, &g->regions[0].name, g->region_count, sizeof(g->regions[0]))
		       : 0;
	if (i < g->region_count) {
		*index = (unsigned)i;
		return true;
	}
	if (!ld->regions_failed)
		conf_dangling(ld, line, label, "region", name, g->region_count ? &g->regions[0].name : NULL,
			      g->region_count, sizeof(g->regions[0]));
	return false;
}

void conf_key_default_region(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	size_t len;
	const char *s;
	if (lua_isnil(ld->L, -1)) {
		if (ld->c->geo.region_count)
			conf_error(ld, ld->regions_line, "%s: missing (required when regions are defined)",
				   k->name);
		return;
	}
	if ((s = conf_string(ld, k->name, at->line, 0, 255, false, &len)))
		conf_region_ref(ld, k->name, at->line, s, &ld->c->geo.default_region);
}

/* One database file name (on top): must be a readable regular file. */
static bool geoip_one(struct loader *ld, lua_Integer i, unsigned line, const char **out)
{
	char label[40];
	size_t len;
	snprintf(label, sizeof(label), "geoip[%lld]", (long long)i);
	const char *s = conf_string(ld, label, line, 1, PATH_MAX, false, &len);
	if (!s)
		return false;
	*out = conf_resolve(ld->c, s);
	const char *why = conf_unreadable(*out);
	if (why)
		conf_error(ld, line, "%s: cannot read \"%s\": %s", label, *out, why);
	return !why;
}

void conf_key_geoip(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	struct conf_items items;
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of database file names");
	if (n < 0)
		return;
	if (n == 0) {
		conf_error(ld, at->line, "%s: expected at least one database file", k->name);
		return;
	}
	const char **out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	unsigned *lines = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*lines));
	size_t count = 0;
	conf_items_begin(ld, &t, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		lines[count] = conf_items_next(ld, &items).line;
		count += geoip_one(ld, i, lines[count], &out[count]);
		lua_pop(L, 1);
	}
	ld->c->geo.databases = out;
	ld->c->geo.database_count = count;
	/* a database that turns out corrupt when the map is built is reported at its line here */
	ld->c->geo.config_file = ld->c->path;
	ld->c->geo.database_lines = lines;
}
