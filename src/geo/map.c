/* map.c -- the compiled map: lookup on the query path, explain and statistics off it.
 *
 * Layout: the entries tile the whole 128-bit space in address order (build.c), so the entry of
 * an address is the last one starting at or before it, and its prefix length is the ECS scope.
 * Entry starts are an array of {hi, lo} keys (a 128-bit compare is two uint64 compares), region
 * and prefix a parallel uint32 array. Over the keys sits a level-compressed trie: roots for
 * ::ffff:0:0/96 (IPv4) and 2000::/3 (global IPv6), nodes whose stride follows the number of
 * entries below, leaves naming at most 8 consecutive entries that are scanned. Anything else
 * (ULA, link-local: not real ECS clients) is a binary search over the whole array.
 *
 * Why (measured with `test_geo --bench`, 2-core VM, noisy; 300k-network synthetic City databases
 * from scripts/gen-geo-db.pl, the five regions): a plain binary search touches ~log2(n)
 * - 2 dependent cache lines (16 for 180k entries); a direct index on the top 16 to 20 bits with
 * a binary search inside the bucket was as fast on uniform traffic (~20-25 ns) but degraded to
 * 70-90 ns for clients in dense parts of the space (IPv6 allocations cluster, so one /20 bucket
 * held 45k entries). The level-compressed index keeps every lookup at about 3 cache lines (root
 * slot, leaf keys, value; 3.9 in the densest part), 40-55 ns there, for ~1.4 slots per entry.
 * A poptrie or DIR-24-8 table would save one line more but costs 16M slots for IPv4 alone or a
 * far more intricate build; the sorted tiling also keeps the scope trivially correct.
 *
 * Aliases of the IPv4 data (6to4 2002::/16, Teredo 2001::/32, IPv4-compatible ::/96: build.c) are
 * entries whose region value is above every real region. A lookup landing on one reads the IPv4
 * address out of the client's bits and looks that up under ::ffff:0:0/96: one compare on the value
 * the common path reads anyway, and a second index walk for those clients only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool le(uint64_t h1, uint64_t l1, uint64_t h2, uint64_t l2)
{
	return h1 < h2 || (h1 == h2 && l1 <= l2);
}

/* The index of the last entry starting at or before hi:lo, searching from i. */
static size_t seek(const struct geo_entry *e, size_t count, size_t i, uint64_t hi, uint64_t lo)
{
	while (i + 1 < count && le(e[i + 1].hi, e[i + 1].lo, hi, lo))
		i++;
	return i;
}

/* ---- the index ----
 *
 * A level-compressed trie over the sorted entries. A slot covers an aligned block of addresses;
 * a leaf slot names the (at most LEAF_MAX) entries overlapping its block, an inner slot a node
 * of 2^stride slots splitting the block by its next stride bits. Strides are chosen per node
 * from the number of entries below (about two per slot, at most 2^16 slots), so dense parts of
 * the space get deep, fine nodes and empty parts stay one leaf. */

#define LEAF_MAX	 8  /* entries in a leaf: 128 bytes of keys, two cache lines */
#define PER_SLOT	 2  /* entries per slot a node's stride aims at */
#define ROOT_STRIDE_MAX	 20 /* the two roots: at most 2^20 slots (4 MiB) */
#define INNER_STRIDE_MAX 16
#define INNER		 (1u << 31) /* inner slot: stride in bits 26..30, node offset in 0..25 */
#define OFFSET_MAX	 (1u << 26)
#define FIRST_MAX	 (1u << 28) /* leaf slot: entry count - 1 in bits 28..30, first entry in 0..27 */

struct ix_build {
	struct geo_map *m;
	const struct geo_entry *e;
	size_t count;
	uint32_t *slots;
	size_t used, cap;
	bool too_big;
};

static unsigned stride_for(size_t entries, unsigned pos, unsigned max)
{
	unsigned s = 1;
	while (s < max && ((size_t)PER_SLOT << s) < entries)
		s++;
	return s < 128 - pos ? s : 128 - pos;
}

/* start | b << shift over 128 bits (shift from the least significant end). */
static struct geo_key key_or(struct geo_key k, uint64_t b, unsigned shift)
{
	if (shift >= 64)
		k.hi |= b << (shift - 64);
	else {
		k.lo |= b << shift;
		if (shift)
			k.hi |= b >> (64 - shift);
	}
	return k;
}

/* The last address of the block start/pos. */
static struct geo_key block_end(struct geo_key start, unsigned pos)
{
	if (pos < 64) {
		start.hi |= pos ? ~(uint64_t)0 >> pos : ~(uint64_t)0;
		start.lo = ~(uint64_t)0;
	} else if (pos < 128) {
		start.lo |= ~(uint64_t)0 >> (pos - 64);
	}
	return start;
}

/* The slot for the block start/pos, whose entries are lo .. hi. */
static uint32_t index_block(struct ix_build *x, size_t lo, size_t hi, struct geo_key start, unsigned pos,
			    unsigned max)
{
	if (hi - lo < LEAF_MAX)
		return (uint32_t)((hi - lo) << 28 | lo);
	unsigned s = stride_for(hi - lo + 1, pos, max);
	size_t n = (size_t)1 << s, node = x->used;
	if (node + n > OFFSET_MAX) {
		x->too_big = true;
		return 0;
	}
	if (node + n > x->cap) {
		x->cap = (node + n) * 2;
		x->slots = realloc(x->slots, x->cap * sizeof(*x->slots));
		if (!x->slots)
			abort(); /* load time only, like arena_alloc */
	}
	x->used += n;
	size_t first = lo;
	for (size_t b = 0; b < n && !x->too_big; b++) {
		struct geo_key sub = key_or(start, b, 128 - pos - s), end = block_end(sub, pos + s);
		first = seek(x->e, x->count, first, sub.hi, sub.lo);
		size_t last = seek(x->e, x->count, first, end.hi, end.lo);
		uint32_t slot = index_block(x, first, last, sub, pos + s, INNER_STRIDE_MAX);
		x->slots[node + b] = slot;
	}
	return INNER | s << 26 | (uint32_t)node;
}

static uint32_t index_root(struct ix_build *x, struct geo_key start, unsigned pos)
{
	struct geo_key end = block_end(start, pos);
	size_t first = seek(x->e, x->count, 0, start.hi, start.lo);
	return index_block(x, first, seek(x->e, x->count, first, end.hi, end.lo), start, pos,
			   ROOT_STRIDE_MAX);
}

bool geo_map_index(struct geo_map *m, const struct geo_entry *e, size_t count)
{
	if (count >= FIRST_MAX)
		return false;
	/* Aligned to cache lines, so a leaf's keys are one line. */
	uintptr_t raw = (uintptr_t)arena_alloc(&m->arena, count * sizeof(struct geo_key) + 64);
	struct geo_key *keys = (struct geo_key *)((raw + 63) & ~(uintptr_t)63);
	uint32_t *value = arena_alloc(&m->arena, count * sizeof(*value));
	for (size_t i = 0; i < count; i++) {
		keys[i] = (struct geo_key){e[i].hi, e[i].lo};
		value[i] = e[i].region << 8 | e[i].prefix;
	}
	struct ix_build x = {.m = m, .e = e, .count = count};
	m->root_v4 = index_root(&x, (struct geo_key){0, UINT64_C(0xFFFF00000000)}, 96);
	m->root_v6 = index_root(&x, (struct geo_key){UINT64_C(1) << 61, 0}, 3);
	if (!x.too_big && x.used)
		m->slots = arena_memdup(&m->arena, x.slots, x.used * sizeof(*x.slots));
	free(x.slots);
	m->count = count;
	m->keys = keys;
	m->value = value;
	return !x.too_big;
}

/* The last entry in [lo, hi] starting at or before key (entry lo always does). */
static size_t search(const struct geo_key *keys, size_t lo, size_t hi, uint64_t khi, uint64_t klo)
{
	while (hi - lo > 3) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (le(keys[mid].hi, keys[mid].lo, khi, klo))
			lo = mid;
		else
			hi = mid - 1;
	}
	while (lo < hi && le(keys[lo + 1].hi, keys[lo + 1].lo, khi, klo))
		lo++;
	return lo;
}

/* Bits pos .. pos + s - 1 (from the most significant end) of hi:lo; 1 <= s <= 16. */
static size_t bits_at(uint64_t hi, uint64_t lo, unsigned pos, unsigned s)
{
	if (pos + s <= 64)
		return (size_t)((hi << pos) >> (64 - s));
	if (pos >= 64)
		return (size_t)((lo << (pos - 64)) >> (64 - s));
	return (size_t)(((hi << pos) >> (64 - s)) | (lo >> (128 - pos - s)));
}

/* Follows the index from a root slot down to a leaf, then scans its entries. Inlined: as a call,
 * geo_map_lookup had to keep the client's address across it for the alias check (register
 * spills, 3 ns of 20 in `test_geo --bench`); inlined, the lookup is as fast as without aliases. */
__attribute__((always_inline)) static inline size_t find(const struct geo_map *m, uint32_t slot, unsigned pos,
							 uint64_t hi, uint64_t lo)
{
	while (slot & INNER) {
		unsigned s = slot >> 26 & 31;
		slot = m->slots[(slot & (OFFSET_MAX - 1)) + bits_at(hi, lo, pos, s)];
		pos += s;
	}
	size_t first = slot & (FIRST_MAX - 1);
	return search(m->keys, first, first + (slot >> 28), hi, lo);
}

#define ALIAS_VALUE (GEO_ALIAS_FIRST << 8) /* entry values from here up are aliases */

/* The client network addr/prefix (prefix <= 128) as two 64-bit halves cut to the prefix. */
static inline void load_cut(const uint8_t addr[16], unsigned prefix, uint64_t *hi, uint64_t *lo)
{
	*hi = geo_load64(addr);
	*lo = geo_load64(addr + 8);
	if (prefix < 64) {
		*hi = prefix ? *hi & ~(uint64_t)0 << (64 - prefix) : 0;
		*lo = 0;
	} else if (prefix < 128) {
		*lo = prefix > 64 ? *lo & ~(uint64_t)0 << (128 - prefix) : 0;
	}
}

/* The IPv4 client an aliased client network hi:lo/prefix (6to4, Teredo) stands for: the 32 bits
 * after the alias prefix d, as ::ffff:a.b.c.d with the client's bits beyond d as its prefix. */
static void alias_client(const struct geo_alias *a, uint64_t hi, uint64_t lo, unsigned prefix, uint64_t *lo4,
			 unsigned *prefix4)
{
	unsigned d = a->prefix;
	*lo4 = UINT64_C(0xFFFF00000000) | geo_alias_v4(a, hi, lo);
	*prefix4 = 96 + (prefix >= d + 32 ? 32 : prefix > d ? prefix - d : 0);
}

/* An alias entry of value v holds the client network addr/prefix: the region of the IPv4 client
 * it stands for. Scope: the client's first d bits pick the alias and the next (IPv4 scope) bits
 * the IPv4 entry, so every address within d + IPv4 scope bits gets this answer; at least the alias
 * entry's own prefix, which is longer than d where configured nets split the alias. Off the hot
 * path (a 6to4 or Teredo client only), so kept out of geo_map_lookup, whose common path would
 * otherwise carry the alias's state across its index walk. */
__attribute__((noinline, cold)) static unsigned
via_alias(const struct geo_map *m, uint32_t v, const uint8_t addr[16], unsigned prefix, unsigned *scope)
{
	const struct geo_alias *a = &m->aliases[(v >> 8) - GEO_ALIAS_FIRST];
	uint64_t hi, lo, lo4;
	unsigned prefix4;
	load_cut(addr, prefix, &hi, &lo);
	alias_client(a, hi, lo, prefix, &lo4, &prefix4);
	/* ::ffff:0:0/96 is never an alias (geo_alias_ok): one more lookup at most */
	uint32_t w = m->value[find(m, m->root_v4, 96, 0, lo4)];
	unsigned s4 = (w & 0xFF) > 96 ? (w & 0xFF) - 96 : 0, s = a->prefix + s4;
	*scope = s > (v & 0xFF) ? s : (v & 0xFF);
	return w >> 8;
}

unsigned geo_map_lookup(const struct geo_map *m, const uint8_t addr[16], unsigned prefix, unsigned *scope)
{
	if (prefix > 128)
		prefix = 128;
	/* The client network addr/prefix is looked up by its first address: when it lies within one
	 * entry that entry decides; when it spans several, the one holding its start decides and
	 * its longer prefix tells the resolver so (RFC 7871 7.2.1). */
	uint64_t hi, lo;
	load_cut(addr, prefix, &hi, &lo);
	if (hi == 0 && lo >> 32 == 0xFFFF) { /* IPv4: no alias holds ::ffff:0:0/96 (geo_alias_ok) */
		uint32_t v = m->value[find(m, m->root_v4, 96, hi, lo)];
		*scope = v & 0xFF;
		return v >> 8;
	}
	size_t i;
	if (hi >> 61 == 1)
		i = find(m, m->root_v6, 3, hi, lo);
	else /* outside 2000::/3 (ULA, link-local, ...): rare, so no index */
		i = search(m->keys, 0, m->count - 1, hi, lo);
	uint32_t v = m->value[i];
	if (v >= ALIAS_VALUE) /* 6to4, Teredo: one compare on the value read anyway */
		return via_alias(m, v, addr, prefix, scope);
	*scope = v & 0xFF;
	return v >> 8;
}

bool geo_map_region_location(const struct geo_map *m, unsigned region, double *lat, double *lon)
{
	if (region >= m->rules.region_count || !m->locations[region].known)
		return false;
	*lat = m->locations[region].lat;
	*lon = m->locations[region].lon;
	return true;
}

static void put(char *what, size_t size, const char *s)
{
	if (what && size) {
		strncpy(what, s, size - 1);
		what[size - 1] = '\0';
	}
}

static void explain_alias(const struct geo_map *m, const struct geo_alias *a, const uint8_t addr[16],
			  unsigned prefix, enum geo_match_kind *kind, char *what, size_t what_size);

/* Whether a is the IPv4-compatible alias ::/96 (build.c: alias 0 when the map has it). */
static bool compatible(const struct geo_alias *a)
{
	return a->prefix == 96 && a->net.hi == 0 && a->net.lo == 0;
}

/* How the client network a/prefix (a cut to prefix) was decided, by the build's rules: the
 * longest configured net, else the first database with data or an alias there, else none. */
static void explain_source(const struct geo_map *m, const uint8_t a[16], unsigned prefix,
			   enum geo_match_kind *kind, char *what, size_t what_size)
{
	put(what, what_size, "");
	*kind = GEO_MATCH_DEFAULT;
	const struct geo_net_rule *net = geo_rules_net(&m->rules, a);
	if (net) {
		char text[GEO_NET_TEXT_MAX];
		geo_net_format(&net->net, text, sizeof(text));
		put(what, what_size, text);
		*kind = GEO_MATCH_NET;
		return;
	}
	static const uint8_t zero[12];
	if (m->alias_count && compatible(&m->aliases[0]) && memcmp(a, zero, sizeof(zero)) == 0) {
		explain_alias(m, &m->aliases[0], a, prefix, kind, what, what_size);
		return;
	}
	for (size_t i = 0; i < m->db_count; i++) {
		MMDB_entry_s e;
		struct geo_alias via;
		struct geo_record rec;
		int found = geo_db_find(&m->dbs[i], a, &e, &via);
		if (found == 2) {
			explain_alias(m, &via, a, prefix, kind, what, what_size);
			return;
		}
		if (found != 1)
			continue;
		bool read = geo_db_read_record(&e, &rec) == MMDB_SUCCESS;
		if (read && !geo_record_places(&rec))
			continue; /* no data: the next database decides, as in the build */
		if (read) {
			struct geo_class c;
			geo_rules_classify(&m->rules, &rec, &c);
			*kind = c.kind;
			put(what, what_size, c.what);
		}
		return;
	}
}

/* "6to4", "Teredo", "IPv4-compatible", or "the IPv4 alias N/d" for any other alias a database has. */
static void alias_name(const struct geo_alias *a, char *out, size_t size)
{
	if (compatible(a))
		snprintf(out, size, "IPv4-compatible");
	else if (a->prefix == 16 && a->net.hi == UINT64_C(0x2002) << 48)
		snprintf(out, size, "6to4");
	else if (a->prefix == 32 && a->net.hi == UINT64_C(0x20010000) << 32)
		snprintf(out, size, "Teredo");
	else {
		struct geo_net n = {.prefix = a->prefix};
		for (int i = 0; i < 8; i++) {
			n.addr[i] = (uint8_t)(a->net.hi >> (56 - 8 * i));
			n.addr[8 + i] = (uint8_t)(a->net.lo >> (56 - 8 * i));
		}
		char text[GEO_NET_TEXT_MAX];
		geo_net_format(&n, text, sizeof(text));
		snprintf(out, size, "the IPv4 alias %s", text);
	}
}

/* The client lies in alias a: explained as the IPv4 client it stands for, whose explanation gets
 * " via 6to4 192.0.2.0/32" added (or "via ..." alone when there is none: the default region). */
static void explain_alias(const struct geo_map *m, const struct geo_alias *a, const uint8_t addr[16],
			  unsigned prefix, enum geo_match_kind *kind, char *what, size_t what_size)
{
	uint64_t lo4;
	unsigned prefix4;
	alias_client(a, geo_load64(addr), geo_load64(addr + 8), prefix, &lo4, &prefix4);
	struct geo_net n4 = {.addr = {[10] = 0xff, [11] = 0xff}, .prefix = (uint8_t)prefix4};
	for (int i = 0; i < 4; i++)
		n4.addr[12 + i] = (uint8_t)(lo4 >> (24 - 8 * i));
	explain_source(m, n4.addr, prefix4, kind, what, what_size);
	char name[GEO_NET_TEXT_MAX + 20], text[GEO_NET_TEXT_MAX], note[2 * GEO_NET_TEXT_MAX + 32];
	alias_name(a, name, sizeof(name));
	geo_net_format(&n4, text, sizeof(text));
	snprintf(note, sizeof(note), "%s%svia %s %s", what && what_size ? what : "",
		 what && what_size && *what ? " " : "", name, text);
	put(what, what_size, note);
}

unsigned geo_map_explain(const struct geo_map *m, const uint8_t addr[16], unsigned prefix, unsigned *scope,
			 enum geo_match_kind *kind, char *what, size_t what_size)
{
	unsigned region = geo_map_lookup(m, addr, prefix, scope);
	uint8_t a[16];
	prefix = prefix > 128 ? 128 : prefix;
	memcpy(a, addr, 16);
	geo_mask(a, prefix);
	explain_source(m, a, prefix, kind, what, what_size);
	return region;
}

size_t geo_map_entries(const struct geo_map *m)
{
	return m->count;
}

size_t geo_map_bytes(const struct geo_map *m)
{
	return sizeof(*m) + m->arena.total;
}

void geo_map_free(struct geo_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->db_count; i++)
		geo_db_close(&m->dbs[i]);
	arena_free(&m->arena);
	free(m);
}
