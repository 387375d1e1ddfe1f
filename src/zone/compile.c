/* compile.c -- grouping the parsed records into RRsets and writing the compiled zone into its arena.
 *
 * Records are ordered by owner with a counting sort over name ids (linear, and stable, so file order
 * survives), then by type within each owner. Names were interned parents first, so one pass in id
 * order sees every parent before its children: that is how the zone cut of each name is known
 * without a tree. The compiled nodes sit in one array in id order, the RRsets in another. */
#include "build.h"

#include <stdlib.h>
#include <string.h>

static void *zb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

static uint16_t zb_rdlen(const struct zb_rec *r)
{
	return zb_get16(r->rd);
}

static bool zb_same_rdata(const struct zb_rec *a, const struct zb_rec *b)
{
	return zb_rdlen(a) == zb_rdlen(b) && memcmp(a->rd + 2, b->rd + 2, zb_rdlen(a)) == 0;
}

static int zb_cmp_type(const void *x, const void *y, void *ctx)
{
	const struct zb_rec *recs = ctx;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	if (recs[a].type != recs[b].type)
		return recs[a].type < recs[b].type ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Sorts a name's records by type; ties keep file order (record ids grow with it). */
static void zb_sort_types(const struct zb *b, uint32_t *o, size_t k)
{
	if (k > 16) {
		qsort_r(o, k, sizeof(*o), zb_cmp_type, b->recs);
		return;
	}
	for (size_t i = 1; i < k; i++) {
		uint32_t v = o[i];
		size_t j = i;
		for (; j > 0 && b->recs[o[j - 1]].type > b->recs[v].type; j--)
			o[j] = o[j - 1];
		o[j] = v;
	}
}

struct zb_dup_ctx {
	const struct zb_rec *recs;
	const uint32_t *o;
};

static int zb_cmp_rdata(const void *x, const void *y, void *ctx)
{
	const struct zb_dup_ctx *c = ctx;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct zb_rec *a = &c->recs[c->o[i]], *b = &c->recs[c->o[j]];
	if (zb_rdlen(a) != zb_rdlen(b))
		return zb_rdlen(a) < zb_rdlen(b) ? -1 : 1;
	int r = memcmp(a->rd + 2, b->rd + 2, zb_rdlen(a));
	return r ? r : (i < j ? -1 : i > j);
}

/* Marks identical copies of earlier records in o[0..m) (one type) as ZB_NONE. Returns the records
 * left. Large RRsets are sorted by content to stay O(m log m). */
static size_t zb_dedupe(const struct zb *b, uint32_t *o, size_t m)
{
	size_t left = m;
	if (m <= 16) {
		for (size_t j = 1; j < m; j++)
			for (size_t i = 0; i < j; i++)
				if (o[i] != ZB_NONE && zb_same_rdata(&b->recs[o[i]], &b->recs[o[j]])) {
					o[j] = ZB_NONE;
					left--;
					break;
				}
		return left;
	}
	size_t *pos = zb_xmalloc(m * sizeof(*pos));
	for (size_t i = 0; i < m; i++)
		pos[i] = i;
	struct zb_dup_ctx ctx = {b->recs, o};
	qsort_r(pos, m, sizeof(*pos), zb_cmp_rdata, &ctx);
	size_t keep = pos[0];
	for (size_t i = 1; i < m; i++) {
		if (zb_same_rdata(&b->recs[o[keep]], &b->recs[o[pos[i]]])) {
			o[pos[i]] = ZB_NONE; /* keep is the earliest copy: positions break ties */
			left--;
		} else {
			keep = pos[i];
		}
	}
	free(pos);
	return left;
}

static uint16_t zb_type_flags(uint16_t type)
{
	uint16_t f = ZB_HAS_DATA;
	switch (type) {
	case WIRE_TYPE_SOA:
		f |= ZB_HAS_SOA;
		break;
	case WIRE_TYPE_NS:
		f |= ZB_HAS_NS;
		break;
	case WIRE_TYPE_CNAME:
		return f | ZB_HAS_CNAME | ZB_HAS_NOT_NSEC3;
	case WIRE_TYPE_A:
	case WIRE_TYPE_AAAA:
		f |= ZB_HAS_ADDR;
		break;
	case WIRE_TYPE_DNAME:
		f |= ZB_HAS_DNAME;
		break;
	case WIRE_TYPE_RRSIG:
		return f;
	case WIRE_TYPE_NSEC:
		return f | ZB_HAS_NOT_NSEC3;
	case WIRE_TYPE_NSEC3:
		return f | ZB_HAS_NSEC3 | ZB_HAS_NOT_CNAME_OK;
	}
	return f | ZB_HAS_NOT_CNAME_OK | ZB_HAS_NOT_NSEC3;
}

static void zb_group_name(struct zb *b, uint32_t id)
{
	uint32_t *o = b->order + b->first[id];
	size_t k = b->first[id + 1] - b->first[id];
	struct zb_name *n = &b->names[id];
	zb_sort_types(b, o, k);
	for (size_t s = 0, e; s < k; s = e) {
		uint16_t type = b->recs[o[s]].type;
		for (e = s + 1; e < k && b->recs[o[e]].type == type; e++)
			;
		b->rr_count += zb_dedupe(b, o + s, e - s);
		b->rrset_count++;
		n->flags |= zb_type_flags(type);
	}
	/* The cut of a name: its parent's, else itself when it has NS below the apex. */
	uint32_t above = n->parent == ZB_NONE ? ZB_NONE : b->cut[n->parent];
	b->cut[id] = above != ZB_NONE ? above : (id != 0 && (n->flags & ZB_HAS_NS)) ? id : ZB_NONE;
	/* Likewise the DNAME that rewrites this name (RFC 6672): the highest one on the way down. */
	above = n->parent == ZB_NONE ? ZB_NONE : b->dname[n->parent];
	b->dname[id] = above != ZB_NONE ? above : (n->flags & ZB_HAS_DNAME) ? id : ZB_NONE;
}

void zone_build_group(struct zb *b)
{
	size_t n = b->name_count;
	b->first = zb_xmalloc((n + 1) * sizeof(*b->first));
	b->order = zb_xmalloc(b->rec_count * sizeof(*b->order));
	b->cut = zb_xmalloc(n * sizeof(*b->cut));
	b->dname = zb_xmalloc(n * sizeof(*b->dname));
	uint32_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		b->first[i] = sum;
		sum += b->names[i].nrec;
		b->names[i].nrec = 0; /* reused as the fill cursor below; ends as the count again */
	}
	b->first[n] = sum;
	for (size_t r = 0; r < b->rec_count; r++) {
		struct zb_name *nm = &b->names[b->recs[r].name];
		b->order[b->first[b->recs[r].name] + nm->nrec++] = (uint32_t)r;
	}
	/* Group each name, then squeeze the duplicates out of order (first[i + 1] is still the old
	 * end of name i's slice when name i is compacted). */
	uint32_t w = 0;
	for (size_t i = 0; i < n; i++) {
		zb_group_name(b, (uint32_t)i);
		uint32_t start = b->first[i], end = b->first[i + 1];
		b->first[i] = w;
		for (uint32_t j = start; j < end; j++)
			if (b->order[j] != ZB_NONE)
				b->order[w++] = b->order[j];
	}
	b->first[n] = w;
}

/* The rdata run of an RRset: in place when its records sit back to back in the arena already (an
 * RRset written on consecutive lines), otherwise copied into a new run. */
static const uint8_t *zb_place(struct zb *b, const uint32_t *o, size_t k)
{
	const uint8_t *start = NULL, *next = NULL;
	size_t total = 0;
	bool adjacent = true;
	for (size_t i = 0; i < k; i++) {
		const struct zb_rec *r = &b->recs[o[i]];
		if (!start)
			start = r->rd;
		else if (r->rd != next)
			adjacent = false;
		next = r->rd + 2 + zb_rdlen(r);
		total += 2 + (size_t)zb_rdlen(r);
	}
	if (adjacent)
		return start;
	uint8_t *run = zone_build_bytes(b, total), *p = run;
	for (size_t i = 0; i < k; i++) {
		size_t len = 2 + (size_t)zb_rdlen(&b->recs[o[i]]);
		memcpy(p, b->recs[o[i]].rd, len);
		p += len;
	}
	return run;
}

/* Writes the RRsets of name id into out; returns how many. */
static uint16_t zb_compile_rrsets(struct zb *b, uint32_t id, struct zone_rrset *out)
{
	const uint32_t *o = b->order + b->first[id];
	size_t k = b->first[id + 1] - b->first[id];
	uint16_t n = 0;
	for (size_t s = 0, e; s < k; s = e) {
		uint16_t type = b->recs[o[s]].type;
		uint32_t ttl = UINT32_MAX;
		for (e = s; e < k && b->recs[o[e]].type == type; e++)
			if (b->recs[o[e]].ttl < ttl)
				ttl = b->recs[o[e]].ttl;
		/* A dynamic RRset (validation made it the only record of its type here): count 0, and
		 * the record's index where the TTL would be (zone.h). */
		if (zb_is_dynamic(&b->recs[o[s]]))
			out[n++] = (struct zone_rrset){type, 0, b->recs[o[s]].ttl, NULL};
		else
			out[n++] =
			    (struct zone_rrset){type, (uint16_t)(e - s), ttl, zb_place(b, o + s, e - s)};
	}
	return n;
}

static uint16_t zb_node_flags(const struct zb *b, uint32_t id)
{
	const struct zb_name *n = &b->names[id];
	uint16_t f = 0;
	if (id == 0)
		f |= ZONE_NODE_APEX;
	else if (n->flags & ZB_HAS_NS)
		f |= ZONE_NODE_DELEGATION;
	if (n->parent != ZB_NONE && b->cut[n->parent] != ZB_NONE)
		f |= ZONE_NODE_OCCLUDED;
	if (id != 0 && n->name[0] == 1 && n->name[1] == '*')
		f |= ZONE_NODE_WILDCARD;
	if (n->flags & ZB_HAS_CNAME)
		f |= ZONE_NODE_CNAME;
	if (n->flags & ZB_HAS_DNAME)
		f |= ZONE_NODE_DNAME;
	if (id != 0 && (n->flags & ZB_HAS_NSEC3) && !(n->flags & (ZB_HAS_NOT_NSEC3 | ZB_HAS_CHILD)))
		f |= ZONE_NODE_NSEC3;
	return f;
}

static void zb_compile_table(struct zone *z, struct zone_node *nodes, size_t n)
{
	size_t slots = 1;
	while (slots < n)
		slots *= 2;
	z->table = arena_alloc(&z->arena, slots * sizeof(*z->table));
	memset(z->table, 0, slots * sizeof(*z->table));
	z->table_mask = (uint32_t)(slots - 1);
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].flags & ZONE_NODE_NSEC3)
			continue; /* a hashed owner name: lookup must not see it (zone.h) */
		struct zone_node **head = &z->table[nodes[i].hash & z->table_mask];
		nodes[i].hash_next = *head;
		*head = &nodes[i];
	}
}

/* SOA rdata: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM (checked by zone_build_validate). */
static void zb_compile_soa(struct zone *z)
{
	z->soa = zone_node_rrset(z->apex_node, WIRE_TYPE_SOA);
	const uint8_t *rd = z->soa->rdata + 2;
	size_t rdlen = zb_get16(z->soa->rdata);
	const uint8_t *fixed = rd + rdlen - 20;
	uint32_t minimum = zb_get32(fixed + 16);
	z->serial = zb_get32(fixed);
	z->neg_ttl = z->soa->ttl < minimum ? z->soa->ttl : minimum;
}

void zone_build_compile(struct zb *b)
{
	struct zone *z = b->zone;
	size_t n = b->name_count;
	struct zone_node *nodes = arena_alloc(&z->arena, n * sizeof(*nodes));
	struct zone_rrset *sets = arena_alloc(&z->arena, b->rrset_count * sizeof(*sets));
	for (size_t i = 1; i < n; i++)
		b->names[b->names[i].parent].flags |= ZB_HAS_CHILD;
	for (size_t i = 0; i < n; i++) {
		const struct zb_name *nm = &b->names[i];
		struct zone_node *node = &nodes[i];
		node->name = nm->name;
		node->name_len = nm->len;
		node->label_count = nm->labels;
		node->flags = zb_node_flags(b, (uint32_t)i);
		node->rrsets = sets;
		node->rrset_count = zb_compile_rrsets(b, (uint32_t)i, sets);
		sets += node->rrset_count;
		node->cut = b->cut[i] == ZB_NONE ? NULL : &nodes[b->cut[i]];
		node->wildcard = NULL;
		node->hash_next = NULL;
		node->hash = nm->hash;
		if (node->flags & ZONE_NODE_WILDCARD) /* the parent came first: its wildcard is set now */
			nodes[nm->parent].wildcard = node;
	}
	zb_compile_table(z, nodes, n);
	z->apex_node = &nodes[0];
	z->node_count = n;
	z->rr_count = b->rr_count;
	zb_compile_soa(z);
	zone_build_dnssec_index(b);
}
