/* builtin.c -- the built-in policies (failover, nearest, weighted, all): for every dynamic record and
 * every region, which members answer and how a worker picks among them per query.
 *
 * Everything here runs on the control thread. A region whose preferred members are all unavailable
 * falls back to every member of the record's type that is up, and when none is up to every member
 * of its type (fail open: an empty answer is never served by accident). */
#include "meridian/policy.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/wire.h"

/* Whether member m can be a value of a record of type. */
static bool member_fits(const struct conf_member *m, uint16_t type)
{
	switch (type) {
	case WIRE_TYPE_A:
		return m->family == AF_INET;
	case WIRE_TYPE_AAAA:
		return m->family == AF_INET6;
	case WIRE_TYPE_CNAME:
		return m->target != NULL;
	default:
		return false;
	}
}

static bool member_up(const struct policy_inputs *in, unsigned pool, unsigned member)
{
	return !in || !in->up || in->up[pool][member];
}

struct dc_distance {
	unsigned dc;
	double km; /* INFINITY when unknown */
};

static int by_distance(const void *a, const void *b)
{
	const struct dc_distance *x = a, *y = b;
	if (x->km != y->km)
		return x->km < y->km ? -1 : 1;
	return x->dc < y->dc ? -1 : x->dc > y->dc;
}

/* Datacenters by great-circle distance from the region; unknown locations last, in config order. */
static size_t nearest_order(const struct conf *conf, const struct geo_map *geo, unsigned region,
			    unsigned *dcs)
{
	struct dc_distance *d = calloc(conf->datacenter_count ? conf->datacenter_count : 1, sizeof(*d));
	if (!d)
		abort();
	double lat = 0, lon = 0;
	bool known = geo && geo_map_region_location(geo, region, &lat, &lon);
	for (size_t i = 0; i < conf->datacenter_count; i++) {
		const struct conf_datacenter *dc = &conf->datacenters[i];
		d[i].dc = (unsigned)i;
		d[i].km = known && dc->has_location ? geo_distance_km(lat, lon, dc->lat, dc->lon) : INFINITY;
	}
	qsort(d, conf->datacenter_count, sizeof(*d), by_distance);
	for (size_t i = 0; i < conf->datacenter_count; i++)
		dcs[i] = d[i].dc;
	free(d);
	return conf->datacenter_count;
}

static const struct conf_order *find_order(const struct conf_record *rec, unsigned region)
{
	for (size_t i = 0; i < rec->order_count; i++)
		if (rec->order[i].region == region)
			return &rec->order[i];
	return NULL;
}

size_t policy_dc_order(const struct conf *conf, const struct geo_map *geo, const struct conf_record *rec,
		       unsigned region, unsigned *dcs)
{
	if (rec->policy == CONF_POLICY_NEAREST)
		return nearest_order(conf, geo, region, dcs);
	const struct conf_order *o = find_order(rec, region);
	if (!o && conf->geo.region_count)
		o = find_order(rec, conf->geo.default_region);
	if (o) {
		memcpy(dcs, o->dcs, o->dc_count * sizeof(*dcs));
		return o->dc_count;
	}
	for (size_t i = 0; i < conf->datacenter_count; i++)
		dcs[i] = (unsigned)i;
	return conf->datacenter_count;
}

/* The members chosen for one (record, region), in answer order. */
struct choice {
	unsigned member[DYN_VALUES_MAX];
	unsigned count;
};

static void add_member(struct choice *c, unsigned m)
{
	for (unsigned i = 0; i < c->count; i++)
		if (c->member[i] == m)
			return;
	if (c->count < DYN_VALUES_MAX)
		c->member[c->count++] = m;
}

/* Members of the record's type in datacenter dc that are up, in config order. */
static void add_dc_members(struct choice *c, const struct conf *conf, const struct conf_record *rec,
			   unsigned dc, const struct policy_inputs *in)
{
	const struct conf_pool *pool = &conf->pools[rec->pool];
	for (unsigned m = 0; m < pool->member_count; m++)
		if (pool->members[m].dc == dc && member_fits(&pool->members[m], rec->type) &&
		    member_up(in, rec->pool, m))
			add_member(c, m);
}

/* Every member of the record's type; only those up unless all_states. */
static void add_all_members(struct choice *c, const struct conf *conf, const struct conf_record *rec,
			    const struct policy_inputs *in, bool all_states)
{
	const struct conf_pool *pool = &conf->pools[rec->pool];
	for (unsigned m = 0; m < pool->member_count; m++)
		if (member_fits(&pool->members[m], rec->type) && (all_states || member_up(in, rec->pool, m)))
			add_member(c, m);
}

static void choose(struct choice *c, const struct conf *conf, const struct geo_map *geo,
		   const struct conf_record *rec, unsigned region, const struct policy_inputs *in,
		   unsigned *dcs)
{
	c->count = 0;
	size_t n = 0;
	switch (rec->policy) {
	case CONF_POLICY_FAILOVER:
		/* The first datacenter in the region's order with a member up wins, whole. */
		n = policy_dc_order(conf, geo, rec, region, dcs);
		for (size_t i = 0; i < n && c->count == 0; i++)
			add_dc_members(c, conf, rec, dcs[i], in);
		break;
	case CONF_POLICY_NEAREST:
		/* The nearest datacenter with a member up; with a cap, spill over to the next nearest
		 * until the cap is filled. */
		n = policy_dc_order(conf, geo, rec, region, dcs);
		for (size_t i = 0; i < n && (c->count == 0 || c->count < rec->answers); i++)
			add_dc_members(c, conf, rec, dcs[i], in);
		break;
	case CONF_POLICY_WEIGHTED:
	case CONF_POLICY_ALL:
		add_all_members(c, conf, rec, in, false);
		break;
	}
	if (c->count == 0)
		add_all_members(c, conf, rec, in, false);
	if (c->count == 0)
		add_all_members(c, conf, rec, in, true);
}

static enum dyn_select select_rule(enum conf_policy p)
{
	switch (p) {
	case CONF_POLICY_NEAREST:
		return DYN_SELECT_FIRST;
	case CONF_POLICY_WEIGHTED:
		return DYN_SELECT_WEIGHTED;
	default:
		return DYN_SELECT_ALL;
	}
}

/* Encodes the chosen members as values in the zone RRset layout. */
static void fill_answer(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct conf_record *rec, const struct choice *c)
{
	const struct conf_pool *pool = &conf->pools[rec->pool];
	size_t size = 0;
	for (unsigned i = 0; i < c->count; i++) {
		const struct conf_member *m = &pool->members[c->member[i]];
		size += 2 + (m->target ? m->target_len : m->family == AF_INET ? 4 : 16);
	}
	uint8_t *rd = arena_alloc(ar, size);
	uint16_t *offsets = arena_alloc(ar, c->count * sizeof(*offsets));
	uint32_t *weights = arena_alloc(ar, c->count * sizeof(*weights));
	size_t at = 0;
	a->weight_total = 0;
	for (unsigned i = 0; i < c->count; i++) {
		const struct conf_member *m = &pool->members[c->member[i]];
		size_t len = m->target ? m->target_len : m->family == AF_INET ? 4 : 16;
		offsets[i] = (uint16_t)at;
		rd[at] = (uint8_t)(len >> 8);
		rd[at + 1] = (uint8_t)len;
		memcpy(rd + at + 2, m->target ? m->target : m->addr, len);
		at += 2 + len;
		weights[i] = m->weight;
		a->weight_total += m->weight;
	}
	a->type = rec->type;
	a->select = (uint8_t)select_rule(rec->policy);
	a->count = (uint8_t)c->count;
	/* A CNAME has exactly one value per response (RFC 1034 3.6.2). */
	a->cap = rec->type == WIRE_TYPE_CNAME ? 1 : (uint16_t)rec->answers;
	a->ttl = rec->ttl;
	a->rdata = rd;
	a->offsets = offsets;
	a->weights = weights;
}

struct dyn_table *policy_compute(const struct conf *conf, const struct geo_map *geo,
				 const struct policy_inputs *in, struct diag *d)
{
	struct dyn_table *t = calloc(1, sizeof(*t));
	unsigned *dcs = calloc(conf->datacenter_count + 1, sizeof(*dcs));
	if (!t || !dcs)
		abort();
	arena_init(&t->arena, 64 * 1024);
	t->record_count = conf->record_count;
	t->region_count = conf->geo.region_count ? conf->geo.region_count : 1;
	t->answers = arena_alloc(&t->arena, (t->record_count * t->region_count + 1) * sizeof(*t->answers));
	bool ok = true;
	for (size_t r = 0; r < conf->record_count; r++) {
		const struct conf_record *rec = &conf->records[r];
		for (unsigned g = 0; g < t->region_count; g++) {
			struct choice c;
			choose(&c, conf, geo, rec, g, in, dcs);
			if (c.count == 0) {
				diag_error(d, conf->path, rec->line,
					   "record %s: pool %s has no member for type %s", rec->name,
					   conf->pools[rec->pool].name,
					   rec->type == WIRE_TYPE_A	 ? "A"
					   : rec->type == WIRE_TYPE_AAAA ? "AAAA"
									 : "CNAME");
				ok = false;
				break;
			}
			fill_answer(&t->answers[r * t->region_count + g], &t->arena, conf, rec, &c);
		}
	}
	free(dcs);
	if (!ok) {
		dyn_table_free(t);
		return NULL;
	}
	return t;
}

void dyn_table_free(struct dyn_table *t)
{
	if (!t)
		return;
	arena_free(&t->arena);
	free(t);
}
