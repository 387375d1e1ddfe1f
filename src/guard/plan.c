/* plan.c -- what publishing a candidate snapshot would change: zones, static RRsets, dynamic answers
 * per region and intent, compared by name (see plan.h).
 *
 * Everything is matched through hash tables (a zone's own name table, and small open-addressing maps
 * built here for apexes, records and regions), so a comparison costs time linear in the data: a zone
 * of a million records is walked once per side. Zones shared by both snapshots (a derived snapshot,
 * or a reload that kept them) are skipped whole. Value sets are compared in canonical form (RFC 4034
 * 6.2), so a name in rdata written in another case is not a change; their text is built only for the
 * changes found. Changes are collected with the keys they sort by (owner wire name, type, region)
 * and sorted once at the end. */
#include "meridian/plan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/wire.h"
#include "meridian/json.h"

#define NAME_TEXT_MAX 1100 /* a wire name in presentation form: 255 octets, \ddd escapes at most */

/* What a change is about; its subject reads "owner[ TYPE][ region NAME]". Zones (and a zone's intent
 * file) have type 0 and no region. The pointers live in the compared snapshots. */
struct plan_key {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;
	const char *region;
};

/* A change and what it sorts by: the owner as a canonical order key (plan_order_key), type and
 * region. */
struct plan_entry {
	struct plan_change change;
	size_t order, order_len; /* the key's place in plan_builder.order */
	uint16_t type;
	const char *region;
};

/* One value of a set: canonical rdata, pointing into its set's buffer. */
struct plan_value {
	const uint8_t *data;
	size_t len;
};

/* The values of one side of a comparison, sorted and unique; present is false when the side lacks
 * the RRset (or answer) altogether. The buffers are reused from one comparison to the next. */
struct plan_set {
	bool present;
	uint32_t ttl;
	uint16_t type;
	uint8_t *buf;
	size_t buf_len, buf_cap;
	struct plan_value *values;
	size_t count, cap;
};

/* A growing string. */
struct plan_str {
	char *s;
	size_t len, cap;
};

struct plan_builder {
	struct plan_entry *entries;
	size_t count, cap;
	uint8_t *order; /* the entries' order keys, back to back */
	size_t order_len, order_cap;
	size_t counts[PLAN_AREA_COUNT][PLAN_KIND_COUNT];
	struct plan_set before, after;
};

/* Maps (bytes, type) to an index; keys point into the snapshots. */
struct plan_slot {
	const uint8_t *key;
	size_t len;
	uint16_t type;
	bool used;
	size_t value;
};

struct plan_map {
	struct plan_slot *slots;
	size_t mask;
};

static void *plan_alloc(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

static char *plan_strdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

/* ---- maps ---- */

static uint64_t plan_hash(const uint8_t *key, size_t len, uint16_t type)
{
	uint64_t h = 0xcbf29ce484222325u ^ type; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	return h ^ (h >> 29);
}

static void plan_map_init(struct plan_map *m, size_t n)
{
	size_t slots = 8;
	while (slots < n * 2)
		slots *= 2;
	m->slots = calloc(slots, sizeof(*m->slots));
	if (!m->slots)
		abort();
	m->mask = slots - 1;
}

static struct plan_slot *plan_map_slot(const struct plan_map *m, const uint8_t *key, size_t len,
				       uint16_t type)
{
	for (size_t i = plan_hash(key, len, type) & m->mask;; i = (i + 1) & m->mask) {
		struct plan_slot *s = &m->slots[i];
		if (!s->used || (s->len == len && s->type == type && memcmp(s->key, key, len) == 0))
			return s;
	}
}

/* Keeps the first value put for a key (a config never holds two records of one name and type). */
static void plan_map_put(struct plan_map *m, const uint8_t *key, size_t len, uint16_t type, size_t value)
{
	struct plan_slot *s = plan_map_slot(m, key, len, type);
	if (!s->used)
		*s = (struct plan_slot){.key = key, .len = len, .type = type, .used = true, .value = value};
}

static bool plan_map_get(const struct plan_map *m, const uint8_t *key, size_t len, uint16_t type,
			 size_t *value)
{
	if (!m->slots)
		return false;
	const struct plan_slot *s = plan_map_slot(m, key, len, type);
	if (s->used)
		*value = s->value;
	return s->used;
}

static void plan_map_free(struct plan_map *m)
{
	free(m->slots);
	m->slots = NULL;
}

/* ---- strings ---- */

static void plan_str_add(struct plan_str *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = plan_alloc(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void plan_str_addf(struct plan_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plan_str_addf(struct plan_str *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	plan_str_add(b, tmp, n < 0 ? 0 : (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void plan_str_name(struct plan_str *b, const uint8_t *name, size_t len)
{
	char text[NAME_TEXT_MAX];
	plan_str_add(b, text, wire_name_to_text(name, len, text, sizeof(text)));
}

/* ---- value sets ---- */

static void plan_set_reset(struct plan_set *s, bool present, uint16_t type, uint32_t ttl)
{
	s->present = present;
	s->type = type;
	s->ttl = ttl;
	s->buf_len = 0;
	s->count = 0;
}

/* Makes room for values of len octets in all (before any value points into the buffer). */
static void plan_set_reserve(struct plan_set *s, size_t count, size_t octets)
{
	if (octets > s->buf_cap || !s->buf) {
		s->buf_cap = octets * 2;
		s->buf = plan_alloc(s->buf, s->buf_cap, 1);
	}
	if (count > s->cap || !s->values) {
		s->cap = count * 2;
		s->values = plan_alloc(s->values, s->cap, sizeof(*s->values));
	}
}

/* Types without names in their rdata are their own canonical form (RFC 4034 6.2): the common ones
 * are copied rather than parsed. */
static bool plan_no_names(uint16_t type)
{
	return type == WIRE_TYPE_A || type == WIRE_TYPE_AAAA || type == WIRE_TYPE_TXT;
}

static void plan_set_add(struct plan_set *s, const uint8_t *rdata, size_t len)
{
	uint8_t *out = s->buf + s->buf_len;
	if (plan_no_names(s->type))
		memcpy(out, rdata, len);
	else
		intent_canonical_rdata(s->type, rdata, len, out);
	s->values[s->count++] = (struct plan_value){.data = out, .len = len};
	s->buf_len += len;
}

/* RFC 4034 6.3: rdata as a left-justified octet string, a prefix first. */
static int plan_value_cmp(const void *pa, const void *pb)
{
	const struct plan_value *a = pa, *b = pb;
	int c = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void plan_set_sort(struct plan_set *s)
{
	if (s->count < 2)
		return;
	qsort(s->values, s->count, sizeof(*s->values), plan_value_cmp);
	size_t n = 1;
	for (size_t i = 1; i < s->count; i++)
		if (plan_value_cmp(&s->values[i], &s->values[n - 1]) != 0)
			s->values[n++] = s->values[i];
	s->count = n;
}

/* Both sets sorted and unique. */
static bool plan_set_same_values(const struct plan_set *a, const struct plan_set *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (plan_value_cmp(&a->values[i], &b->values[i]) != 0)
			return false;
	return true;
}

/* The values of a static RRset (rrset NULL: not present). */
static void plan_set_rrset(struct plan_set *s, const struct zone_rrset *rrset)
{
	plan_set_reset(s, rrset != NULL, rrset ? rrset->type : 0, rrset ? rrset->ttl : 0);
	if (!rrset)
		return;
	size_t pos = 0, octets = 0;
	const uint8_t *rd;
	uint16_t len;
	while (zone_rdata_next(rrset, &pos, &rd, &len))
		octets += len;
	plan_set_reserve(s, rrset->count, octets);
	pos = 0;
	while (zone_rdata_next(rrset, &pos, &rd, &len))
		plan_set_add(s, rd, len);
	plan_set_sort(s);
}

/* The values of one dynamic answer (a NULL: not present; count 0: present, no values). */
static void plan_set_answer(struct plan_set *s, const struct dyn_answer *a)
{
	plan_set_reset(s, a != NULL, a ? a->type : 0, a ? a->ttl : 0);
	if (!a)
		return;
	size_t octets = 0, off = 0;
	for (size_t i = 0; i < a->count; i++, off += 2 + (size_t)(a->rdata[off] << 8 | a->rdata[off + 1]))
		octets += (size_t)(a->rdata[off] << 8 | a->rdata[off + 1]);
	plan_set_reserve(s, a->count, octets);
	off = 0;
	for (size_t i = 0; i < a->count; i++) {
		size_t len = (size_t)(a->rdata[off] << 8 | a->rdata[off + 1]);
		plan_set_add(s, a->rdata + off + 2, len);
		off += 2 + len;
	}
	plan_set_sort(s);
}

/* The values of an intent RRset (NULL: not present); intent has no TTL. */
static void plan_set_intent(struct plan_set *s, const struct intent_rrset *r)
{
	plan_set_reset(s, r != NULL, r ? r->type : 0, 0);
	if (!r)
		return;
	size_t octets = 0;
	for (size_t i = 0; i < r->count; i++)
		octets += r->lengths[i];
	plan_set_reserve(s, r->count, octets);
	for (size_t i = 0; i < r->count; i++)
		plan_set_add(s, r->values[i], r->lengths[i]);
	plan_set_sort(s);
}

/* One value in presentation form: addresses by inet_ntop, the CNAME targets of answers as names,
 * everything else as intent_rdata_text writes it. */
static void plan_value_text(struct plan_str *b, uint16_t type, const struct plan_value *v, bool answer)
{
	char small[NAME_TEXT_MAX];
	int af = type == WIRE_TYPE_A && v->len == 4	  ? AF_INET
		 : type == WIRE_TYPE_AAAA && v->len == 16 ? AF_INET6
							  : 0;
	if (af) {
		plan_str_add(b, small, strlen(inet_ntop(af, v->data, small, sizeof(small))));
	} else if (answer && type == WIRE_TYPE_CNAME && wire_name_length(v->data, v->len) == v->len) {
		plan_str_name(b, v->data, v->len);
	} else {
		size_t size = v->len * 5 + 256; /* \ddd escapes, quotes and spaces of TXT */
		char *text = size <= sizeof(small) ? small : plan_alloc(NULL, size, 1);
		intent_rdata_text(type, v->data, v->len, text, size);
		plan_str_add(b, text, strlen(text));
		if (text != small)
			free(text);
	}
}

/* "v1, v2 (ttl N)": values sorted as in the set; an answer without values is "no answer". */
static char *plan_set_text(const struct plan_set *s, bool answer, bool with_ttl)
{
	struct plan_str b = {0};
	if (answer && s->count == 0)
		return plan_strdup("no answer");
	for (size_t i = 0; i < s->count; i++) {
		if (i)
			plan_str_add(&b, ", ", 2);
		plan_value_text(&b, s->type, &s->values[i], answer);
	}
	if (with_ttl)
		plan_str_addf(&b, "%s(ttl %u)", s->count ? " " : "", (unsigned)s->ttl);
	if (!b.s)
		plan_str_add(&b, "", 0);
	return b.s;
}

static void plan_set_free(struct plan_set *s)
{
	free(s->buf);
	free(s->values);
}

/* ---- collecting changes ---- */

static char *plan_subject(const struct plan_key *k)
{
	struct plan_str b = {0};
	plan_str_name(&b, k->owner, k->owner_len);
	if (k->type) {
		char type[32];
		plan_str_add(&b, " ", 1);
		const char *t = intent_type_name(k->type, type, sizeof(type));
		plan_str_add(&b, t, strlen(t));
	}
	if (k->region) {
		plan_str_add(&b, " region ", 8);
		plan_str_add(&b, k->region, strlen(k->region));
	}
	return b.s;
}

/* Appends the owner's canonical order key (RFC 4034 6.1) to b->order: its labels from the root down,
 * lowercased, each followed by a 0 octet, with the octets 0 and 1 escaped as 1 1 and 1 2. memcmp of
 * two keys then orders the names canonically: label by label, a label that is a prefix of another
 * first (its 0 sorts below every escaped octet), a name with fewer labels first. Computed once per
 * change, so sorting compares flat octets instead of walking labels. */
static void plan_order_key(struct plan_builder *b, const uint8_t *name, size_t len)
{
	if (b->order_len + 2 * len > b->order_cap) {
		b->order_cap = (b->order_len + 2 * len) * 2;
		b->order = plan_alloc(b->order, b->order_cap, 1);
	}
	uint8_t at[WIRE_LABELS_MAX], *out = b->order + b->order_len;
	size_t n = 0;
	for (size_t i = 0; i < len && name[i] && n < WIRE_LABELS_MAX; i += 1u + name[i])
		at[n++] = (uint8_t)i;
	while (n--) {
		const uint8_t *label = name + at[n];
		for (size_t i = 1; i <= label[0] && at[n] + i < len; i++) {
			uint8_t c = label[i] >= 'A' && label[i] <= 'Z' ? label[i] + 32 : label[i];
			if (c <= 1)
				*out++ = 1;
			*out++ = c <= 1 ? c + 1 : c;
		}
		*out++ = 0;
	}
	b->order_len = (size_t)(out - b->order);
}

/* Records a change; takes before and after (malloc'ed or NULL). */
static void plan_emit(struct plan_builder *b, enum plan_area area, enum plan_kind kind,
		      const struct plan_key *k, char *before, char *after)
{
	if (b->count == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->entries = plan_alloc(b->entries, b->cap, sizeof(*b->entries));
	}
	size_t order = b->order_len;
	plan_order_key(b, k->owner, k->owner_len);
	b->entries[b->count++] = (struct plan_entry){.change = {.area = area,
								.kind = kind,
								.subject = plan_subject(k),
								.before = before,
								.after = after},
						     .order = order,
						     .order_len = b->order_len - order,
						     .type = k->type,
						     .region = k->region};
	b->counts[area][kind]++;
}

/* Compares b->before with b->after (both filled) and records what differs. */
static void plan_compare_sets(struct plan_builder *b, enum plan_area area, const struct plan_key *k,
			      bool answer, bool with_ttl)
{
	const struct plan_set *x = &b->before, *y = &b->after;
	if (!x->present && !y->present)
		return;
	if (x->present && y->present) {
		bool same_ttl = !with_ttl || x->ttl == y->ttl || (answer && x->count == 0);
		if (same_ttl && plan_set_same_values(x, y))
			return;
	}
	enum plan_kind kind = !x->present ? PLAN_ADDED : !y->present ? PLAN_REMOVED : PLAN_CHANGED;
	plan_emit(b, area, kind, k, x->present ? plan_set_text(x, answer, with_ttl) : NULL,
		  y->present ? plan_set_text(y, answer, with_ttl) : NULL);
}

/* ---- zones and their static RRsets ---- */

static const struct zone_rrset *plan_static_rrset(const struct zone_node *n, uint16_t type)
{
	const struct zone_rrset *s = n ? zone_node_rrset(n, type) : NULL;
	return s && s->count ? s : NULL;
}

/* The RRset run of octets, to tell identical RRsets apart without canonicalizing them. */
static size_t plan_rrset_octets(const struct zone_rrset *s)
{
	size_t off = 0;
	for (size_t i = 0; i < s->count; i++)
		off += 2 + (size_t)(s->rdata[off] << 8 | s->rdata[off + 1]);
	return off;
}

static bool plan_rrset_identical(const struct zone_rrset *a, const struct zone_rrset *b)
{
	if (!a || !b || a->ttl != b->ttl || a->count != b->count)
		return false;
	size_t n = plan_rrset_octets(a);
	return n == plan_rrset_octets(b) && memcmp(a->rdata, b->rdata, n) == 0;
}

/* removed true: from is the running zone, and each of its static RRsets is compared with to's
 * (removed or changed). removed false: from is the candidate, and only the static RRsets to lacks
 * are listed (added): the others were compared in the first walk. */
static void plan_zone_walk(struct plan_builder *b, const struct zone *from, const struct zone *to,
			   bool removed)
{
	for (size_t h = 0; h <= from->table_mask; h++)
		for (const struct zone_node *n = from->table[h]; n; n = n->hash_next) {
			if (!n->rrset_count)
				continue;
			const struct zone_node *m = zone_node_find_hashed(to, n->name, n->name_len, n->hash);
			for (size_t i = 0; i < n->rrset_count; i++) {
				const struct zone_rrset *s = &n->rrsets[i],
							*t = plan_static_rrset(m, s->type);
				if (!s->count || (!removed && t) || plan_rrset_identical(s, t))
					continue;
				struct plan_key k = {
				    .owner = n->name, .owner_len = n->name_len, .type = s->type};
				plan_set_rrset(removed ? &b->before : &b->after, s);
				plan_set_rrset(removed ? &b->after : &b->before, t);
				plan_compare_sets(b, PLAN_RRSET, &k, false, true);
			}
		}
}

static char *plan_zone_text(const struct zone *z)
{
	char text[96];
	snprintf(text, sizeof(text), "serial %u, %zu records", (unsigned)z->serial, z->rr_count);
	return plan_strdup(text);
}

/* ---- intent ---- */

static char *plan_intent_text(const struct intent *in)
{
	if (!in)
		return plan_strdup("no intent");
	struct plan_str b = {0};
	plan_str_add(&b, "intent ", 7);
	plan_str_add(&b, in->file, strlen(in->file));
	return b.s;
}

/* The intent of one zone present in both snapshots. An intent file that appeared or disappeared is
 * a change of the zone's subject ("intent FILE" / "no intent"); its RRsets follow one by one. */
static void plan_intents(struct plan_builder *b, const struct zone *z, const struct intent *ri,
			 const struct intent *ci)
{
	if (ri == ci)
		return;
	struct plan_key zk = {.owner = z->apex.data, .owner_len = z->apex.len};
	if (!ri || !ci)
		plan_emit(b, PLAN_INTENT, ri ? PLAN_REMOVED : PLAN_ADDED, &zk, plan_intent_text(ri),
			  plan_intent_text(ci));
	for (size_t i = 0; ri && i < ri->count; i++) {
		const struct intent_rrset *r = &ri->rrsets[i];
		const struct intent_rrset *c = ci ? intent_find(ci, r->owner, r->owner_len, r->type) : NULL;
		if (c && intent_same_values(r, c))
			continue;
		struct plan_key k = {.owner = r->owner, .owner_len = r->owner_len, .type = r->type};
		plan_set_intent(&b->before, r);
		plan_set_intent(&b->after, c);
		plan_compare_sets(b, PLAN_INTENT, &k, false, false);
	}
	for (size_t i = 0; ci && i < ci->count; i++) {
		const struct intent_rrset *c = &ci->rrsets[i];
		if (ri && intent_find(ri, c->owner, c->owner_len, c->type))
			continue;
		struct plan_key k = {.owner = c->owner, .owner_len = c->owner_len, .type = c->type};
		plan_set_intent(&b->before, NULL);
		plan_set_intent(&b->after, c);
		plan_compare_sets(b, PLAN_INTENT, &k, false, false);
	}
}

/* ---- the zone area: apexes matched through maps ---- */

static size_t plan_zone_count(const struct snapshot *s)
{
	return s && s->zones ? s->zones->count : 0;
}

static const struct intent *plan_zone_intent(const struct snapshot *s, size_t i)
{
	return s->intents ? s->intents[i] : NULL;
}

static void plan_zone_map(struct plan_map *m, const struct snapshot *s)
{
	plan_map_init(m, plan_zone_count(s));
	for (size_t i = 0; i < plan_zone_count(s); i++) {
		const struct zone *z = s->zones->zones[i];
		plan_map_put(m, z->apex.data, z->apex.len, 0, i);
	}
}

/* A zone in both snapshots: its SOA serial and size, its RRsets, its intent. */
static void plan_zone_pair(struct plan_builder *b, const struct snapshot *run, size_t ri,
			   const struct snapshot *cand, size_t ci)
{
	const struct zone *rz = run->zones->zones[ri], *cz = cand->zones->zones[ci];
	struct plan_key k = {.owner = rz->apex.data, .owner_len = rz->apex.len};
	if (rz->serial != cz->serial || rz->rr_count != cz->rr_count)
		plan_emit(b, PLAN_ZONE, PLAN_CHANGED, &k, plan_zone_text(rz), plan_zone_text(cz));
	if (rz != cz) {
		plan_zone_walk(b, rz, cz, true);
		plan_zone_walk(b, cz, rz, false);
	}
	plan_intents(b, rz, plan_zone_intent(run, ri), plan_zone_intent(cand, ci));
}

static void plan_zones(struct plan_builder *b, const struct snapshot *run, const struct snapshot *cand)
{
	struct plan_map rmap, cmap;
	plan_zone_map(&rmap, run);
	plan_zone_map(&cmap, cand);
	for (size_t i = 0; i < plan_zone_count(run); i++) {
		const struct zone *z = run->zones->zones[i];
		struct plan_key k = {.owner = z->apex.data, .owner_len = z->apex.len};
		size_t j;
		if (plan_map_get(&cmap, z->apex.data, z->apex.len, 0, &j))
			plan_zone_pair(b, run, i, cand, j);
		else
			plan_emit(b, PLAN_ZONE, PLAN_REMOVED, &k, plan_zone_text(z), NULL);
	}
	for (size_t j = 0; j < plan_zone_count(cand); j++) {
		const struct zone *z = cand->zones->zones[j];
		struct plan_key k = {.owner = z->apex.data, .owner_len = z->apex.len};
		size_t i;
		if (!plan_map_get(&rmap, z->apex.data, z->apex.len, 0, &i))
			plan_emit(b, PLAN_ZONE, PLAN_ADDED, &k, NULL, plan_zone_text(z));
	}
	plan_map_free(&rmap);
	plan_map_free(&cmap);
}

/* ---- dynamic answers: (record owner and type, region name) ---- */

/* A snapshot's answers seen by name: its records and regions in maps. */
struct plan_dyn {
	const struct snapshot *s;
	size_t records, regions;
	struct plan_map by_record, by_region;
};

static const char *plan_region_name(const struct plan_dyn *d, size_t g)
{
	const struct geo_spec *geo = &d->s->conf->geo;
	return g < geo->region_count ? geo->regions[g].name : "-";
}

static void plan_dyn_init(struct plan_dyn *d, const struct snapshot *s)
{
	*d = (struct plan_dyn){.s = s};
	if (!s || !s->dyn || !s->conf)
		return;
	d->records =
	    s->dyn->record_count < s->conf->record_count ? s->dyn->record_count : s->conf->record_count;
	d->regions = s->dyn->region_count;
	plan_map_init(&d->by_record, d->records);
	for (size_t r = 0; r < d->records; r++)
		plan_map_put(&d->by_record, s->conf->records[r].owner, s->conf->records[r].owner_len,
			     s->conf->records[r].type, r);
	plan_map_init(&d->by_region, d->regions);
	for (size_t g = 0; g < d->regions; g++) {
		const char *name = plan_region_name(d, g);
		plan_map_put(&d->by_region, (const uint8_t *)name, strlen(name), 0, g);
	}
}

/* The answer of from's record r in region g found in to by name, or NULL. */
static const struct dyn_answer *plan_dyn_match(const struct plan_dyn *from, size_t r, size_t g,
					       const struct plan_dyn *to)
{
	const struct conf_record *rec = &from->s->conf->records[r];
	const char *region = plan_region_name(from, g);
	size_t tr, tg;
	if (!plan_map_get(&to->by_record, rec->owner, rec->owner_len, rec->type, &tr) ||
	    !plan_map_get(&to->by_region, (const uint8_t *)region, strlen(region), 0, &tg))
		return NULL;
	return dyn_answer_get(to->s->dyn, tr, tg);
}

/* As plan_zone_walk, for the answers of every record in every region. */
static void plan_dyn_walk(struct plan_builder *b, const struct plan_dyn *from, const struct plan_dyn *to,
			  bool removed)
{
	for (size_t r = 0; r < from->records; r++)
		for (size_t g = 0; g < from->regions; g++) {
			const struct dyn_answer *a = dyn_answer_get(from->s->dyn, r, g);
			const struct dyn_answer *o = plan_dyn_match(from, r, g, to);
			if (!removed && o)
				continue;
			const struct conf_record *rec = &from->s->conf->records[r];
			struct plan_key k = {.owner = rec->owner,
					     .owner_len = rec->owner_len,
					     .type = rec->type,
					     .region = plan_region_name(from, g)};
			plan_set_answer(removed ? &b->before : &b->after, a);
			plan_set_answer(removed ? &b->after : &b->before, o);
			plan_compare_sets(b, PLAN_ANSWER, &k, true, true);
		}
}

static void plan_answers(struct plan_builder *b, const struct snapshot *run, const struct snapshot *cand)
{
	struct plan_dyn rd, cd;
	plan_dyn_init(&rd, run);
	plan_dyn_init(&cd, cand);
	plan_dyn_walk(b, &rd, &cd, true);
	plan_dyn_walk(b, &cd, &rd, false);
	plan_map_free(&rd.by_record);
	plan_map_free(&rd.by_region);
	plan_map_free(&cd.by_record);
	plan_map_free(&cd.by_region);
}

/* ---- order ---- */

/* Area, owner (canonical order), type, region, kind; arg is the order keys. */
static int plan_entry_cmp(const void *pa, const void *pb, void *arg)
{
	const struct plan_entry *a = pa, *b = pb;
	const uint8_t *order = arg;
	if (a->change.area != b->change.area)
		return a->change.area < b->change.area ? -1 : 1;
	size_t n = a->order_len < b->order_len ? a->order_len : b->order_len;
	int c = memcmp(order + a->order, order + b->order, n);
	if (c || a->order_len != b->order_len)
		return c ? c : a->order_len < b->order_len ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->region != b->region) {
		if (!a->region || !b->region)
			return a->region ? 1 : -1;
		if ((c = strcmp(a->region, b->region)) != 0)
			return c;
	}
	return (a->change.kind > b->change.kind) - (a->change.kind < b->change.kind);
}

/* ---- public ---- */

struct plan *plan_compare(const struct snapshot *running, const struct snapshot *candidate)
{
	struct plan_builder b = {0};
	plan_zones(&b, running, candidate);
	plan_answers(&b, running, candidate);
	plan_set_free(&b.before);
	plan_set_free(&b.after);
	if (b.count > 1)
		qsort_r(b.entries, b.count, sizeof(*b.entries), plan_entry_cmp, b.order);

	struct plan *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->changes = plan_alloc(NULL, b.count, sizeof(*p->changes));
	for (size_t i = 0; i < b.count; i++)
		p->changes[i] = b.entries[i].change;
	p->count = p->cap = b.count;
	memcpy(p->counts, b.counts, sizeof(p->counts));
	free(b.entries);
	free(b.order);
	return p;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		free(p->changes[i].subject);
		free(p->changes[i].before);
		free(p->changes[i].after);
	}
	free(p->changes);
	free(p);
}

const char *plan_area_name(enum plan_area a)
{
	static const char *const names[PLAN_AREA_COUNT] = {"zone", "rrset", "answer", "intent"};
	return (unsigned)a < PLAN_AREA_COUNT ? names[a] : "?";
}

const char *plan_kind_name(enum plan_kind k)
{
	static const char *const names[PLAN_KIND_COUNT] = {"added", "removed", "changed"};
	return (unsigned)k < PLAN_KIND_COUNT ? names[k] : "?";
}

/* ---- output ---- */

static size_t plan_area_total(const struct plan *p, enum plan_area a)
{
	return p->counts[a][PLAN_ADDED] + p->counts[a][PLAN_REMOVED] + p->counts[a][PLAN_CHANGED];
}

static void plan_text_change(const struct plan_change *c, FILE *out)
{
	if (c->kind == PLAN_ADDED)
		fprintf(out, "  + %s: %s\n", c->subject, c->after ? c->after : "");
	else if (c->kind == PLAN_REMOVED)
		fprintf(out, "  - %s: %s\n", c->subject, c->before ? c->before : "");
	else
		fprintf(out, "  ~ %s: %s -> %s\n", c->subject, c->before ? c->before : "",
			c->after ? c->after : "");
}

/* "rrsets: 2 added, 1 removed, 3 changed" (kinds without changes left out). */
static void plan_text_summary(const struct plan *p, enum plan_area a, FILE *out)
{
	static const char *const plural[PLAN_AREA_COUNT] = {"zones", "rrsets", "answers", "intent"};
	fprintf(out, "%s:", plural[a]);
	const char *sep = " ";
	for (int k = 0; k < PLAN_KIND_COUNT; k++)
		if (p->counts[a][k]) {
			fprintf(out, "%s%zu %s", sep, p->counts[a][k], plan_kind_name((enum plan_kind)k));
			sep = ", ";
		}
	fputc('\n', out);
}

void plan_write_text(const struct plan *p, FILE *out, size_t limit)
{
	if (p->count == 0) {
		fputs("no changes\n", out);
		return;
	}
	size_t at = 0; /* changes are sorted by area: each area is one run */
	for (int a = 0; a < PLAN_AREA_COUNT; a++) {
		size_t total = plan_area_total(p, (enum plan_area)a);
		if (!total)
			continue;
		plan_text_summary(p, (enum plan_area)a, out);
		for (size_t i = 0; i < total && i < limit; i++)
			plan_text_change(&p->changes[at + i], out);
		if (total > limit)
			fprintf(out, "  ... and %zu more\n", total - limit);
		at += total;
	}
}

static void plan_json_counts(const struct plan *p, FILE *out)
{
	fputs("\"counts\":{", out);
	for (int a = 0; a < PLAN_AREA_COUNT; a++) {
		fprintf(out, "%s\"%s\":{", a ? "," : "", plan_area_name((enum plan_area)a));
		for (int k = 0; k < PLAN_KIND_COUNT; k++)
			fprintf(out, "%s\"%s\":%zu", k ? "," : "", plan_kind_name((enum plan_kind)k),
				p->counts[a][k]);
		fputc('}', out);
	}
	fputc('}', out);
}

static void plan_json_change(const struct plan_change *c, FILE *out)
{
	fprintf(out, "{\"area\":\"%s\",\"kind\":\"%s\",\"subject\":", plan_area_name(c->area),
		plan_kind_name(c->kind));
	json_write_string(out, c->subject);
	fputs(",\"before\":", out);
	json_write_string(out, c->before);
	fputs(",\"after\":", out);
	json_write_string(out, c->after);
	fputc('}', out);
}

void plan_write_json(const struct plan *p, FILE *out, size_t limit)
{
	fputc('{', out);
	plan_json_counts(p, out);
	fputs(",\"changes\":[", out);
	size_t at = 0, omitted = 0;
	bool first = true;
	for (int a = 0; a < PLAN_AREA_COUNT; a++) {
		size_t total = plan_area_total(p, (enum plan_area)a);
		for (size_t i = 0; i < total && i < limit; i++) {
			if (!first)
				fputc(',', out);
			first = false;
			plan_json_change(&p->changes[at + i], out);
		}
		omitted += total > limit ? total - limit : 0;
		at += total;
	}
	fprintf(out, "],\"omitted\":%zu}", omitted);
}
