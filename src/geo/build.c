/* build.c -- compiling databases and nets into the map: a binary trie over the 128-bit space
 * (built here, freed before returning), flattened into merged CIDR entries.
 *
 * 1. Each database is walked depth-first from the root of its search tree, in lockstep with the
 *    trie, so a network costs one trie step per tree node, not one descent from the root. A data
 *    record fills the trie only where no earlier database has data: the first database that has
 *    data for an address decides it (a record that places its network nowhere, traits only, is no
 *    data: geo_record_places). The IPv4 subtree (::/96 of an IPv6 database, or the whole
 *    tree of an IPv4 one) is grafted at ::ffff:0:0/96. Any other record pointing back at that
 *    subtree (6to4 2002::/16, Teredo 2001::/32) makes its network an alias: it fills the trie like
 *    a data record (first database decides) whose region is the alias's own (GEO_ALIAS_FIRST + k),
 *    and the lookup reads the IPv4 address out of the client's address (map.c). The IPv4 data is
 *    not copied there: 2^32 networks per alias would not fit, and the scope would be dishonest
 *    where nets or other databases decide an IPv4 address differently from this one. The
 *    IPv4-compatible block ::/96 (RFC 4291 2.5.5.1, deprecated) is such an alias whatever the
 *    databases: ::a.b.c.d stands for a.b.c.d, as in the databases themselves (their ::/96 subtree
 *    is the IPv4 data) and in gdnsd.
 *    Database records are interned by data-section offset (networks share few distinct records)
 *    and classified once each.
 * 2. Config nets are set on trie nodes (created below database leaves where needed); the deepest
 *    net on a path decides everything below it, database data, alias or not.
 * 3. A post-order pass computes each subtree's region: a subtree whose two halves have the same
 *    region is that region (CIDR-aligned merging, so every entry stays a prefix and its length is
 *    an honest ECS scope); where halves differ, each uniform half becomes one entry. Holes (no
 *    database data, no net) have the default region and merge like anything else. The same pass
 *    accumulates each region's location from the database coordinates of its networks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/grow.h"

#define MIXED (GEO_NONE - 1) /* a subtree holding more than one region */

struct tnode {
	uint32_t child[2]; /* 0: none (the root is never a child) */
	uint32_t rec;	   /* database record covering this whole subtree, GEO_NONE if none */
	uint32_t net;	   /* configured net set exactly here, GEO_NONE if none */
};

/* A distinct database record, classified. */
struct rec {
	uint32_t region;
	bool has_location;
	double lat, lon;
};

/* An alias of the IPv4 data and the record id standing for it in the trie. */
struct build_alias {
	struct geo_alias a;
	uint32_t rec;
};

/* Offset -> record id, open addressing; one per database (offsets are per file). */
struct offset_map {
	uint32_t *key; /* offset + 1; 0 is empty */
	uint32_t *val;
	size_t cap, used;
};

/* Location sums per region and family (see account()). */
struct loc_sum {
	double v4[3], w4, v6[3], w6;
};

struct build {
	const struct geo_rules *rules;
	struct diag *d;
	struct tnode *nodes;
	size_t node_count, node_cap;
	struct rec *recs;
	size_t rec_count, rec_cap;
	struct offset_map offsets;
	struct geo_db *db; /* the database being walked */
	uint8_t addr[16];  /* the network of the walk's current record (bits beyond its depth: stale) */
	bool grafting;	   /* walking the IPv4 subtree at ::ffff:0:0/96 */
	struct build_alias *aliases;
	size_t alias_count, alias_cap;
	bool warned_no_subdivision_codes;
	uint64_t budget; /* search-tree nodes the walk may still read (cycles in corrupt files) */
	bool failed;
	struct geo_entry *out;
	size_t out_count, out_cap;
	struct loc_sum *loc;
	const bool *fixed_location; /* per region: the config gives lat/lon */
};

static uint32_t node_new(struct build *b)
{
	b->nodes = grow_array(b->nodes, &b->node_cap, b->node_count + 1, sizeof(*b->nodes));
	b->nodes[b->node_count] = (struct tnode){{0, 0}, GEO_NONE, GEO_NONE};
	return (uint32_t)b->node_count++;
}

/* The child of t on side s, created when missing. Indexes, not pointers: nodes move on growth. */
static uint32_t child(struct build *b, uint32_t t, unsigned s)
{
	if (!b->nodes[t].child[s]) {
		uint32_t c = node_new(b);
		b->nodes[t].child[s] = c;
	}
	return b->nodes[t].child[s];
}

/* Gives rec to every part of t's subtree that no earlier database covers. */
static void fill(struct build *b, uint32_t t, uint32_t rec)
{
	if (b->nodes[t].rec != GEO_NONE)
		return;
	if (!b->nodes[t].child[0] && !b->nodes[t].child[1]) {
		b->nodes[t].rec = rec;
		return;
	}
	for (unsigned s = 0; s < 2; s++)
		fill(b, child(b, t, s), rec);
}

static void offsets_free(struct offset_map *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

static uint32_t *offsets_slot(struct offset_map *m, uint32_t offset)
{
	size_t i = (offset * 2654435761u) & (m->cap - 1);
	while (m->key[i] && m->key[i] != offset + 1)
		i = (i + 1) & (m->cap - 1);
	return &m->key[i];
}

static void offsets_grow(struct offset_map *m)
{
	struct offset_map old = *m;
	m->cap = old.cap ? old.cap * 2 : 4096;
	m->key = calloc(m->cap, sizeof(*m->key));
	m->val = calloc(m->cap, sizeof(*m->val));
	if (!m->key || !m->val)
		abort();
	m->used = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.key[i])
			continue;
		uint32_t *k = offsets_slot(m, old.key[i] - 1);
		*k = old.key[i];
		m->val[k - m->key] = old.val[i];
		m->used++;
	}
	offsets_free(&old);
}

/* The record id of a data entry: read and classified on first sight. */
static uint32_t intern(struct build *b, MMDB_entry_s *entry)
{
	if ((b->offsets.used + 1) * 2 > b->offsets.cap)
		offsets_grow(&b->offsets);
	uint32_t *k = offsets_slot(&b->offsets, entry->offset);
	if (*k)
		return b->offsets.val[k - b->offsets.key];

	struct geo_record r;
	int st = geo_db_read_record(entry, &r);
	if (st != MMDB_SUCCESS) {
		geo_db_report(b->db, b->d, DIAG_ERROR, "corrupt GeoIP database: data record at offset %u: %s",
			      entry->offset, MMDB_strerror(st));
		b->failed = true;
		return GEO_NONE;
	}
	if (r.sub_without_code && b->rules->sub_count && !b->warned_no_subdivision_codes) {
		geo_db_report(b->db, b->d, DIAG_WARNING,
			      "subdivisions in this database have names but no iso_code (DB-IP Lite): "
			      "subdivision rules "
			      "cannot match its networks, which fall back to country and continent rules");
		b->warned_no_subdivision_codes = true;
	}
	*k = entry->offset + 1;
	b->offsets.used++;
	if (!geo_record_places(&r)) {
		b->offsets.val[k - b->offsets.key] = GEO_NONE;
		return GEO_NONE;
	}
	struct geo_class c;
	geo_rules_classify(b->rules, &r, &c);
	b->recs = grow_array(b->recs, &b->rec_cap, b->rec_count + 1, sizeof(*b->recs));
	b->recs[b->rec_count] = (struct rec){c.region, r.has_location, r.lat, r.lon};
	b->offsets.val[k - b->offsets.key] = (uint32_t)b->rec_count;
	return (uint32_t)b->rec_count++;
}

static void set_bit(uint8_t a[16], unsigned i, unsigned v)
{
	if (v)
		a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	else
		a[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* The record id of the alias net/prefix, made on first sight (one per alias, not per database:
 * the alias means the same in every database). GEO_NONE after an error. */
static uint32_t alias_rec(struct build *b, const uint8_t net[16], unsigned prefix)
{
	struct geo_alias a = {{geo_load64(net), geo_load64(net + 8)}, (uint8_t)prefix};
	for (size_t i = 0; i < b->alias_count; i++)
		if (b->aliases[i].a.net.hi == a.net.hi && b->aliases[i].a.net.lo == a.net.lo &&
		    b->aliases[i].a.prefix == a.prefix)
			return b->aliases[i].rec;
	if (b->alias_count == GEO_ALIAS_MAX) {
		geo_db_report(b->db, b->d, DIAG_ERROR,
			      "unsupported GeoIP database: more than %u networks alias the IPv4 data "
			      "(MaxMind's: 6to4 and Teredo)",
			      GEO_ALIAS_MAX);
		b->failed = true;
		return GEO_NONE;
	}
	b->recs = grow_array(b->recs, &b->rec_cap, b->rec_count + 1, sizeof(*b->recs));
	b->recs[b->rec_count] = (struct rec){GEO_ALIAS_FIRST + (uint32_t)b->alias_count, false, 0, 0};
	b->aliases = grow_array(b->aliases, &b->alias_cap, b->alias_count + 1, sizeof(*b->aliases));
	b->aliases[b->alias_count++] = (struct build_alias){a, (uint32_t)b->rec_count};
	return (uint32_t)b->rec_count++;
}

/* A record (side s of parent_t) pointing back at the IPv4 subtree: its network, b->addr/depth, is
 * an alias when geo_alias_ok says so. ::ffff:0:0/96 is grafted instead, and a pointer from inside
 * the IPv4 subtree is a cycle: both are skipped, as before aliases were followed. */
static void alias(struct build *b, uint32_t parent_t, unsigned s, unsigned depth)
{
	uint8_t net[16];
	memcpy(net, b->addr, 16);
	geo_mask(net, depth);
	if (b->grafting || !geo_alias_ok(net, depth))
		return;
	uint32_t rec = alias_rec(b, net, depth);
	if (rec != GEO_NONE)
		fill(b, child(b, parent_t, s), rec);
}

/* Walks the subtree of search node `node`, whose network (depth bits) is trie node t; zero: that
 * network's bits are all zero so far (the path to ::/96). */
static void walk(struct build *b, uint32_t node, uint32_t t, unsigned depth, bool zero, unsigned max_depth);

/* One record (side s) of a search node at trie node parent_t; its network is depth bits long. */
static void visit(struct build *b, uint8_t type, uint64_t value, MMDB_entry_s *entry, uint32_t parent_t,
		  unsigned s, unsigned depth, bool zero, unsigned max_depth)
{
	/* depth: of the record's network. ::/96 of an IPv6 tree is grafted at ::ffff:0:0/96 later. */
	if (zero && depth == 96 && max_depth == 128)
		return;
	if (b->nodes[parent_t].child[s] && b->nodes[b->nodes[parent_t].child[s]].rec != GEO_NONE)
		return; /* an earlier database decided this whole network */
	switch (type) {
	case MMDB_RECORD_TYPE_SEARCH_NODE:
		if (value == b->db->v4_node) { /* ::ffff:0:0/96, 2001::/32, 2002::/16 */
			alias(b, parent_t, s, depth);
			return;
		}
		if (depth < max_depth) {
			walk(b, (uint32_t)value, child(b, parent_t, s), depth, zero, max_depth);
			return;
		}
		break;
	case MMDB_RECORD_TYPE_DATA: {
		uint32_t rec = intern(b, entry);
		if (rec != GEO_NONE)
			fill(b, child(b, parent_t, s), rec);
		return;
	}
	case MMDB_RECORD_TYPE_EMPTY:
		return;
	default:
		break;
	}
	geo_db_report(b->db, b->d, DIAG_ERROR, "corrupt GeoIP database: invalid record at depth %u", depth);
	b->failed = true;
}

static void walk(struct build *b, uint32_t node, uint32_t t, unsigned depth, bool zero, unsigned max_depth)
{
	if (b->failed)
		return;
	if (b->budget-- == 0) {
		geo_db_report(b->db, b->d, DIAG_ERROR, "corrupt GeoIP database: search tree has cycles");
		b->failed = true;
		return;
	}
	MMDB_search_node_s sn;
	int st = MMDB_read_node(&b->db->mmdb, node, &sn);
	if (st != MMDB_SUCCESS) {
		geo_db_report(b->db, b->d, DIAG_ERROR, "corrupt GeoIP database: node %u: %s", node,
			      MMDB_strerror(st));
		b->failed = true;
		return;
	}
	set_bit(b->addr, depth, 0);
	visit(b, sn.left_record_type, sn.left_record, &sn.left_record_entry, t, 0, depth + 1, zero,
	      max_depth);
	set_bit(b->addr, depth, 1);
	if (!b->failed)
		visit(b, sn.right_record_type, sn.right_record, &sn.right_record_entry, t, 1, depth + 1,
		      false, max_depth);
}

/* The trie node of ::ffff:0:0/96, or 0 when an earlier database covers it whole. */
static uint32_t v4_root(struct build *b)
{
	uint32_t t = 0;
	for (unsigned i = 0; i < 96; i++) {
		if (b->nodes[t].rec != GEO_NONE)
			return 0;
		t = child(b, t, i >= 80);
	}
	return b->nodes[t].rec != GEO_NONE ? 0 : t;
}

static bool walk_db(struct build *b, struct geo_db *db)
{
	b->db = db;
	b->grafting = false;
	b->warned_no_subdivision_codes = false;
	b->budget = 2 * (uint64_t)db->mmdb.metadata.node_count + 16;
	offsets_free(&b->offsets);
	if (!db->is_v4)
		walk(b, 0, 0, 0, true, 128);
	/* IPv4 after the native tree: data stored natively at ::ffff:0:0/96 wins over ::/96. */
	uint32_t t = b->failed ? 0 : v4_root(b);
	if (t && db->v4_has_data) {
		uint32_t rec = intern(b, &db->v4_data);
		if (rec != GEO_NONE)
			fill(b, t, rec);
	} else if (t && db->v4_node != GEO_NONE) {
		b->grafting = true;
		walk(b, db->v4_node, t, 96, false, 128);
	}
	return !b->failed;
}

/* Whether anything may decide an IPv4 client other than the default region does: a database, or
 * a net of another region in the IPv4 space. Otherwise ::/96 is the default region like all of
 * IPv4 already, and an alias entry would only split the map (and shorten IPv6 scopes). */
static bool ipv4_decided(const struct build *b, size_t db_count)
{
	if (db_count)
		return true;
	for (size_t i = 0; i < b->rules->net_count; i++) {
		const struct geo_net_rule *n = &b->rules->nets[i];
		if (n->net.prefix >= 96 && geo_is_v4mapped(n->net.addr) &&
		    n->region != b->rules->default_region)
			return true;
	}
	return false;
}

/* Makes ::/96 the IPv4-compatible alias (see the top): before the databases, so that no record
 * of a wider network covering it takes it (fill keeps what is set), and it is always alias 0. */
static void compatible_alias(struct build *b)
{
	static const uint8_t none[16];
	uint32_t t = 0;
	for (unsigned i = 0; i < 96; i++)
		t = child(b, t, 0);
	uint32_t rec = alias_rec(b, none, 96);
	if (rec != GEO_NONE)
		fill(b, t, rec);
}

static void add_nets(struct build *b)
{
	for (size_t i = 0; i < b->rules->net_count; i++) {
		const struct geo_net *n = &b->rules->nets[i].net;
		uint32_t t = 0;
		for (unsigned depth = 0; depth < n->prefix; depth++)
			t = child(b, t, (n->addr[depth / 8] >> (7 - depth % 8)) & 1);
		b->nodes[t].net = (uint32_t)i;
	}
}

static uint32_t region_of(const struct build *b, uint32_t rec, uint32_t net)
{
	if (net != GEO_NONE)
		return b->rules->nets[net].region;
	if (rec != GEO_NONE)
		return b->recs[rec].region;
	return b->rules->default_region;
}

/* Adds a network's database location to its region. Weight: the number of addresses, per family,
 * because that approximates how many clients a network holds; IPv4 and IPv6 are summed apart
 * (one IPv6 /32 has 2^64 times the addresses of all of IPv4, and IPv6 allocations are sized by
 * policy, not by users), and the IPv4 mean is used when a region has IPv4 networks with
 * coordinates, the IPv6 mean (weighted by /64s) otherwise. The mean is taken over 3D unit
 * vectors, so networks on both sides of the antimeridian average to a point between them. */
static void account(struct build *b, const uint8_t addr[16], unsigned prefix, uint32_t rec, uint32_t region)
{
	if (rec == GEO_NONE || !b->recs[rec].has_location || b->fixed_location[region])
		return;
	double v[3];
	geo_to_vector(b->recs[rec].lat, b->recs[rec].lon, v);
	struct loc_sum *l = &b->loc[region];
	if (prefix >= 96 && geo_is_v4mapped(addr)) {
		double w = ldexp(1.0, 128 - (int)prefix);
		for (int i = 0; i < 3; i++)
			l->v4[i] += w * v[i];
		l->w4 += w;
	} else {
		double w = ldexp(1.0, 64 - (int)prefix);
		for (int i = 0; i < 3; i++)
			l->v6[i] += w * v[i];
		l->w6 += w;
	}
}

static void emit(struct build *b, const uint8_t addr[16], unsigned prefix, uint32_t region)
{
	b->out = grow_array(b->out, &b->out_cap, b->out_count + 1, sizeof(*b->out));
	b->out[b->out_count++] =
	    (struct geo_entry){geo_load64(addr), geo_load64(addr + 8), region, (uint8_t)prefix};
}

/* Region of the subtree at t (addr/depth), or MIXED after emitting its entries in address order.
 * A uniform left half is emitted at once, and taken back when the right half turns out to have
 * the same region: it is then the last entry, since a uniform right half emits nothing. */
static uint32_t flatten(struct build *b, uint32_t t, uint8_t addr[16], unsigned depth, uint32_t rec,
			uint32_t net)
{
	const struct tnode *n = &b->nodes[t];
	if (n->rec != GEO_NONE)
		rec = n->rec;
	if (n->net != GEO_NONE)
		net = n->net;
	if (!n->child[0] && !n->child[1]) {
		uint32_t r = region_of(b, rec, net);
		account(b, addr, depth, rec, r);
		return r;
	}
	uint32_t kids[2] = {n->child[0], n->child[1]}, region[2];
	size_t mark = b->out_count;
	for (unsigned s = 0; s < 2; s++) {
		set_bit(addr, depth, s);
		if (kids[s]) {
			region[s] = flatten(b, kids[s], addr, depth + 1, rec, net);
		} else {
			region[s] = region_of(b, rec, net);
			account(b, addr, depth + 1, rec, region[s]);
		}
		if (s == 1 && region[0] != MIXED && region[0] == region[1]) {
			b->out_count = mark;
			set_bit(addr, depth, 0);
			return region[0];
		}
		if (region[s] != MIXED)
			emit(b, addr, depth + 1, region[s]);
	}
	set_bit(addr, depth, 0);
	return MIXED;
}

static void locations(struct build *b, struct geo_map *m, const struct geo_spec *spec)
{
	for (size_t r = 0; r < spec->region_count; r++) {
		struct geo_location *loc = &m->locations[r];
		const struct loc_sum *l = &b->loc[r];
		if (spec->regions[r].has_location) {
			*loc = (struct geo_location){true, spec->regions[r].lat, spec->regions[r].lon};
			continue;
		}
		const double *v = l->w4 > 0 ? l->v4 : l->v6;
		double w = l->w4 > 0 ? l->w4 : l->w6, mean[3] = {0, 0, 0};
		if (w > 0)
			for (int i = 0; i < 3; i++)
				mean[i] = v[i] / w;
		loc->known = w > 0 && geo_from_vector(mean, &loc->lat, &loc->lon);
	}
}

static void build_free(struct build *b)
{
	free(b->nodes);
	free(b->recs);
	free(b->out);
	free(b->loc);
	free(b->aliases);
	free((void *)b->fixed_location);
	offsets_free(&b->offsets);
}

static bool open_dbs(struct geo_map *m, const struct geo_spec *spec, struct diag *d)
{
	bool ok = true;
	m->dbs = arena_alloc(&m->arena, (spec->database_count ? spec->database_count : 1) * sizeof(*m->dbs));
	for (size_t i = 0; i < spec->database_count; i++) {
		const char *path = arena_strdup(&m->arena, spec->databases[i] ? spec->databases[i] : "");
		unsigned line = spec->database_lines ? spec->database_lines[i] : 0;
		if (geo_db_open(&m->dbs[m->db_count], path, spec->config_file, line, d))
			m->db_count++;
		else
			ok = false; /* go on: report every database that is missing or corrupt */
	}
	return ok;
}

static bool compile(struct build *b, struct geo_map *m, const struct geo_spec *spec)
{
	bool *fixed = calloc(spec->region_count, sizeof(*fixed));
	b->loc = calloc(spec->region_count, sizeof(*b->loc));
	if (!fixed || !b->loc)
		abort();
	for (size_t r = 0; r < spec->region_count; r++)
		fixed[r] = spec->regions[r].has_location;
	b->fixed_location = fixed;
	node_new(b);
	if (ipv4_decided(b, m->db_count))
		compatible_alias(b);
	for (size_t i = 0; i < m->db_count; i++)
		if (!walk_db(b, &m->dbs[i]))
			return false;
	add_nets(b);
	uint8_t addr[16] = {0};
	uint32_t r = flatten(b, 0, addr, 0, GEO_NONE, GEO_NONE);
	if (r != MIXED)
		emit(b, addr, 0, r);
	struct geo_alias *aliases =
	    arena_alloc(&m->arena, (b->alias_count ? b->alias_count : 1) * sizeof(*aliases));
	for (size_t i = 0; i < b->alias_count; i++)
		aliases[i] = b->aliases[i].a;
	m->aliases = aliases;
	m->alias_count = b->alias_count;
	m->locations = arena_alloc(&m->arena, spec->region_count * sizeof(*m->locations));
	locations(b, m, spec);
	if (!geo_map_index(m, b->out, b->out_count)) {
		diag_error(b->d, NULL, 0, "geo: the map has %zu entries, more than its index can hold",
			   b->out_count);
		return false;
	}
	return true;
}

struct geo_map *geo_map_build(const struct geo_spec *spec, struct diag *d)
{
	struct geo_map *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	arena_init(&m->arena, 64 * 1024);
	size_t errors = d->errors;
	bool ok = geo_rules_init(&m->rules, spec, &m->arena, d);
	ok = open_dbs(m, spec, d) && ok;
	struct build b = {.rules = &m->rules, .d = d};
	ok = ok && compile(&b, m, spec);
	build_free(&b);
	if (!ok || d->errors != errors) {
		geo_map_free(m);
		return NULL;
	}
	return m;
}
