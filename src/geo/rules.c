/* rules.c -- regions as the config declares them, validated and turned into lookup tables, and
 * the classification of one database record: subdivision over country over continent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char continents[GEO_CONTINENTS][3] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};

static int continent_index(const char *code)
{
	for (int i = 0; i < GEO_CONTINENTS; i++)
		if (strcmp(continents[i], code) == 0)
			return i;
	return -1;
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* "us" -> "US"; false unless exactly two ASCII letters. */
static bool country_code(const char *s, char out[3])
{
	if (!s || !is_alpha(s[0]) || !is_alpha(s[1]) || s[2])
		return false;
	out[0] = upper(s[0]);
	out[1] = upper(s[1]);
	out[2] = '\0';
	return true;
}

static unsigned country_slot(const char cc[3])
{
	return (unsigned)(cc[0] - 'A') * 26 + (unsigned)(cc[1] - 'A');
}

/* "us-ca" -> "US-CA"; false unless two letters, '-', one to three letters or digits (ISO 3166-2). */
static bool subdivision_key(const char *s, char out[GEO_CODE_MAX])
{
	if (!s || !is_alpha(s[0]) || !is_alpha(s[1]) || s[2] != '-')
		return false;
	size_t n = strlen(s + 3);
	if (n < 1 || n > 3)
		return false;
	for (size_t i = 0; i < 3 + n; i++) {
		if (i != 2 && !is_alnum(s[i]))
			return false;
		out[i] = upper(s[i]);
	}
	out[3 + n] = '\0';
	return true;
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp(((const struct geo_sub_rule *)a)->key, ((const struct geo_sub_rule *)b)->key);
}

static int cmp_net(const void *a, const void *b)
{
	const struct geo_net_rule *x = a, *y = b;
	int c = memcmp(x->net.addr, y->net.addr, 16);
	if (c)
		return c;
	return (int)x->net.prefix - (int)y->net.prefix;
}

/* Claims a table slot for region r; an error when another region holds it already. */
static bool claim(struct geo_rules *rl, uint32_t *slot, uint32_t r, const char *what, const char *code,
		  struct diag *d)
{
	if (*slot != GEO_NONE && *slot != r) {
		diag_error(d, NULL, 0, "region '%s': %s '%s' is already in region '%s' (ambiguous)",
			   rl->names[r], what, code, rl->names[*slot]);
		return false;
	}
	*slot = r;
	return true;
}

static bool add_codes(struct geo_rules *rl, const struct geo_region_spec *rs, uint32_t r, struct diag *d)
{
	bool ok = true;
	for (size_t i = 0; i < rs->continent_count; i++) {
		char cc[3];
		int ci = country_code(rs->continents[i], cc) ? continent_index(cc) : -1;
		if (ci < 0) {
			diag_error(d, NULL, 0,
				   "region '%s': unknown continent code '%s' (valid: AF AN AS EU NA OC SA)",
				   rl->names[r], rs->continents[i] ? rs->continents[i] : "");
			ok = false;
			continue;
		}
		ok &= claim(rl, &rl->continent[ci], r, "continent", cc, d);
	}
	for (size_t i = 0; i < rs->country_count; i++) {
		char cc[3];
		if (!country_code(rs->countries[i], cc)) {
			diag_error(
			    d, NULL, 0,
			    "region '%s': malformed country code '%s' (want ISO 3166-1 alpha-2, e.g. \"US\")",
			    rl->names[r], rs->countries[i] ? rs->countries[i] : "");
			ok = false;
			continue;
		}
		ok &= claim(rl, &rl->country[country_slot(cc)], r, "country", cc, d);
	}
	for (size_t i = 0; i < rs->subdivision_count; i++) {
		struct geo_sub_rule *s = &rl->subs[rl->sub_count];
		if (!subdivision_key(rs->subdivisions[i], s->key)) {
			diag_error(d, NULL, 0,
				   "region '%s': malformed subdivision '%s' (want \"CC-XXX\": ISO 3166-1 "
				   "country, '-', "
				   "ISO 3166-2 subdivision code, e.g. \"US-CA\")",
				   rl->names[r], rs->subdivisions[i] ? rs->subdivisions[i] : "");
			ok = false;
			continue;
		}
		s->region = r;
		rl->sub_count++;
	}
	return ok;
}

static bool add_nets(struct geo_rules *rl, const struct geo_region_spec *rs, uint32_t r, struct diag *d)
{
	bool ok = true;
	for (size_t i = 0; i < rs->net_count; i++) {
		struct geo_net n = rs->nets[i];
		uint8_t masked[16];
		memcpy(masked, n.addr, 16);
		geo_mask(masked, n.prefix);
		if (n.prefix > 128 || memcmp(masked, n.addr, 16) != 0) {
			diag_error(d, NULL, 0,
				   "region '%s': net %zu is not a CIDR net (prefix %u, bits beyond it)",
				   rl->names[r], i + 1, n.prefix);
			ok = false;
			continue;
		}
		rl->nets[rl->net_count++] = (struct geo_net_rule){n, r};
	}
	return ok;
}

/* After sorting: the same key in two regions is ambiguous; the same key twice in one region is
 * harmless and kept once. */
static bool dedup_subs(struct geo_rules *rl, struct diag *d)
{
	bool ok = true;
	size_t out = 0;
	for (size_t i = 0; i < rl->sub_count; i++) {
		if (out && strcmp(rl->subs[out - 1].key, rl->subs[i].key) == 0) {
			if (rl->subs[out - 1].region != rl->subs[i].region) {
				uint32_t a = rl->subs[out - 1].region, b = rl->subs[i].region;
				diag_error(
				    d, NULL, 0,
				    "region '%s': subdivision '%s' is already in region '%s' (ambiguous)",
				    rl->names[a > b ? a : b], rl->subs[i].key, rl->names[a > b ? b : a]);
				ok = false;
			}
			continue;
		}
		rl->subs[out++] = rl->subs[i];
	}
	rl->sub_count = out;
	return ok;
}

static bool dedup_nets(struct geo_rules *rl, struct diag *d)
{
	bool ok = true;
	size_t out = 0;
	for (size_t i = 0; i < rl->net_count; i++) {
		if (out && cmp_net(&rl->nets[out - 1], &rl->nets[i]) == 0) {
			if (rl->nets[out - 1].region != rl->nets[i].region) {
				uint32_t a = rl->nets[out - 1].region, b = rl->nets[i].region;
				char text[GEO_NET_TEXT_MAX];
				geo_net_format(&rl->nets[i].net, text, sizeof(text));
				diag_error(d, NULL, 0,
					   "region '%s': net %s is already in region '%s' (ambiguous)",
					   rl->names[a > b ? a : b], text, rl->names[a > b ? b : a]);
				ok = false;
			}
			continue;
		}
		rl->nets[out++] = rl->nets[i];
	}
	rl->net_count = out;
	return ok;
}

static bool check_location(const struct geo_region_spec *rs, const char *name, struct diag *d)
{
	if (!rs->has_location)
		return true;
	if (rs->lat >= -90.0 && rs->lat <= 90.0 && rs->lon >= -180.0 && rs->lon <= 180.0)
		return true;
	diag_error(d, NULL, 0, "region '%s': location %g,%g is outside lat -90..90, lon -180..180", name,
		   rs->lat, rs->lon);
	return false;
}

static void alloc_tables(struct geo_rules *rl, const struct geo_spec *spec, struct arena *a)
{
	size_t subs = 0, nets = 0;
	for (size_t i = 0; i < spec->region_count; i++) {
		subs += spec->regions[i].subdivision_count;
		nets += spec->regions[i].net_count;
	}
	memset(rl, 0, sizeof(*rl));
	for (int i = 0; i < GEO_CONTINENTS; i++)
		rl->continent[i] = GEO_NONE;
	for (size_t i = 0; i < 26 * 26; i++)
		rl->country[i] = GEO_NONE;
	rl->subs = arena_alloc(a, (subs ? subs : 1) * sizeof(*rl->subs));
	rl->nets = arena_alloc(a, (nets ? nets : 1) * sizeof(*rl->nets));
	rl->region_count = (unsigned)spec->region_count;
	rl->names = arena_alloc(a, (spec->region_count ? spec->region_count : 1) * sizeof(*rl->names));
	for (size_t i = 0; i < spec->region_count; i++) {
		char num[32];
		snprintf(num, sizeof(num), "#%zu", i + 1);
		const char *n = spec->regions[i].name;
		rl->names[i] = arena_strdup(a, n && *n ? n : num);
	}
}

bool geo_rules_init(struct geo_rules *rl, const struct geo_spec *spec, struct arena *a, struct diag *d)
{
	if (spec->region_count == 0 || spec->region_count > GEO_ALIAS_FIRST) {
		diag_error(d, NULL, 0, "geo: %zu regions (want 1 to %u)", spec->region_count,
			   GEO_ALIAS_FIRST);
		return false;
	}
	if (spec->default_region >= spec->region_count) {
		diag_error(d, NULL, 0, "geo: default region %u does not exist (%zu regions)",
			   spec->default_region, spec->region_count);
		return false;
	}
	alloc_tables(rl, spec, a);
	rl->default_region = spec->default_region;
	bool ok = true;
	for (uint32_t r = 0; r < spec->region_count; r++) {
		const struct geo_region_spec *rs = &spec->regions[r];
		ok &= add_codes(rl, rs, r, d);
		ok &= add_nets(rl, rs, r, d);
		ok &= check_location(rs, rl->names[r], d);
	}
	qsort(rl->subs, rl->sub_count, sizeof(*rl->subs), cmp_sub);
	qsort(rl->nets, rl->net_count, sizeof(*rl->nets), cmp_net);
	ok &= dedup_subs(rl, d);
	ok &= dedup_nets(rl, d);
	return ok;
}

void geo_rules_classify(const struct geo_rules *rl, const struct geo_record *rec, struct geo_class *out)
{
	/* Subdivisions from the smallest (last) up: a record in GB-ENG and GB-LND matched by rules
	 * for both goes to the more specific one. */
	if (rec->country[0] && rl->sub_count) {
		for (unsigned i = rec->sub_count; i-- > 0;) {
			struct geo_sub_rule key;
			snprintf(key.key, sizeof(key.key), "%s-%s", rec->country, rec->subs[i]);
			const struct geo_sub_rule *s =
			    bsearch(&key, rl->subs, rl->sub_count, sizeof(key), cmp_sub);
			if (s) {
				*out = (struct geo_class){s->region, GEO_MATCH_SUBDIVISION, ""};
				memcpy(out->what, s->key, sizeof(out->what));
				return;
			}
		}
	}
	if (rec->country[0] && rl->country[country_slot(rec->country)] != GEO_NONE) {
		*out = (struct geo_class){rl->country[country_slot(rec->country)], GEO_MATCH_COUNTRY, ""};
		memcpy(out->what, rec->country, 3);
		return;
	}
	int ci = rec->continent[0] ? continent_index(rec->continent) : -1;
	if (ci >= 0 && rl->continent[ci] != GEO_NONE) {
		*out = (struct geo_class){rl->continent[ci], GEO_MATCH_CONTINENT, ""};
		memcpy(out->what, rec->continent, 3);
		return;
	}
	*out = (struct geo_class){rl->default_region, GEO_MATCH_DEFAULT, ""};
}

static bool net_contains(const struct geo_net *n, const uint8_t addr[16])
{
	uint8_t a[16];
	memcpy(a, addr, 16);
	geo_mask(a, n->prefix);
	return memcmp(a, n->addr, 16) == 0;
}

const struct geo_net_rule *geo_rules_net(const struct geo_rules *rl, const uint8_t addr[16])
{
	const struct geo_net_rule *best = NULL;
	for (size_t i = 0; i < rl->net_count; i++)
		if (net_contains(&rl->nets[i].net, addr) &&
		    (!best || rl->nets[i].net.prefix > best->net.prefix))
			best = &rl->nets[i];
	return best;
}
