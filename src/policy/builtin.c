/* builtin.c -- the built-in policies (failover, nearest, weighted, all): for every dynamic record and
 * every region, which members answer and how a worker picks among them per query.
 *
 * Everything here runs on the control thread. A region whose preferred members are all unavailable
 * falls back to every member of the record's type that is up; when none is up, the record's
 * when_all_down decides, and whatever it finds nothing fails open to every member of the record's
 * type (an empty answer is never served by accident). */
#include "meridian/policy.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/wire.h"

/* Whether member m can be a value of a record of type. */
bool policy_member_fits(const struct conf_member *m, uint16_t type)
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

static int by_distance(const void *a, const void *b)
{
	const struct dc_distance *x = a, *y = b;
	if (x->km != y->km)
		return x->km < y->km ? -1 : 1;
	return x->dc < y->dc ? -1 : x->dc > y->dc;
}

size_t policy_dc_distances(const struct conf *conf, const struct geo_map *geo, unsigned region,
			   struct dc_distance *d)
{
	double lat = 0, lon = 0;
	bool known = geo && geo_map_region_location(geo, region, &lat, &lon);
	for (size_t i = 0; i < conf->datacenter_count; i++) {
		const struct conf_datacenter *dc = &conf->datacenters[i];
		d[i].dc = (unsigned)i;
		d[i].km = known && dc->has_location ? geo_distance_km(lat, lon, dc->lat, dc->lon) : INFINITY;
	}
	qsort(d, conf->datacenter_count, sizeof(*d), by_distance);
	return conf->datacenter_count;
}

/* Datacenters by great-circle distance from the region; unknown locations last, in config order. */
static size_t nearest_order(const struct conf *conf, const struct geo_map *geo, unsigned region,
			    unsigned *dcs)
{
	struct dc_distance *d = calloc(conf->datacenter_count ? conf->datacenter_count : 1, sizeof(*d));
	if (!d)
		abort();
	policy_dc_distances(conf, geo, region, d);
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

enum health_serving policy_member_serving(const struct policy_inputs *in, unsigned pool, unsigned member)
{
	return in && in->serving ? (enum health_serving)in->serving[pool][member] : HEALTH_SERVING;
}

static bool member_eligible(const struct conf *conf, const struct conf_record *rec, const struct eligible *e,
			    unsigned pool, unsigned m)
{
	const struct conf_member *cm = &conf->pools[pool].members[m];
	if (!policy_member_fits(cm, rec->type) || (cm->standby && !e->standby))
		return false;
	return e->any_state || policy_member_serving(e->in, pool, m) != HEALTH_OUT;
}

static void add_member(struct choice *c, const struct eligible *e, unsigned m)
{
	for (unsigned i = 0; i < c->count; i++)
		if (c->member[i] == m)
			return;
	if (c->count < DYN_VALUES_MAX) {
		c->member[c->count++] = m;
		c->draining |= policy_member_serving(e->in, c->pool, m) == HEALTH_DRAINING;
	}
}

/* Eligible members of the choice's pool, in datacenter dc (or every datacenter when dc < 0), in
 * config order. */
void policy_add_members(struct choice *c, const struct conf *conf, const struct conf_record *rec, long dc,
			const struct eligible *e)
{
	const struct conf_pool *pool = &conf->pools[c->pool];
	for (unsigned m = 0; m < pool->member_count; m++)
		if ((dc < 0 || pool->members[m].dc == (unsigned)dc) &&
		    member_eligible(conf, rec, e, c->pool, m))
			add_member(c, e, m);
}

/* The record's policy over one pool; a region whose preferred datacenters have nothing eligible
 * takes every eligible member. */
static void choose(struct choice *c, const struct conf *conf, const struct geo_map *geo,
		   const struct conf_record *rec, unsigned region, unsigned pool, const struct eligible *e,
		   unsigned *dcs)
{
	memset(c, 0, sizeof(*c));
	c->pool = pool;
	size_t n = 0;
	switch (rec->policy) {
	case CONF_POLICY_FAILOVER:
		/* The first datacenter in the region's order with a member up wins, whole. */
		n = policy_dc_order(conf, geo, rec, region, dcs);
		for (size_t i = 0; i < n && c->count == 0; i++)
			policy_add_members(c, conf, rec, dcs[i], e);
		break;
	case CONF_POLICY_NEAREST:
		/* The nearest datacenter with a member up; with a cap, spill over to the next nearest
		 * until the cap is filled. */
		n = policy_dc_order(conf, geo, rec, region, dcs);
		for (size_t i = 0; i < n && (c->count == 0 || c->count < rec->answers); i++)
			policy_add_members(c, conf, rec, dcs[i], e);
		break;
	case CONF_POLICY_WEIGHTED:
	case CONF_POLICY_ALL:
	case CONF_POLICY_LUA: /* not chosen here (lua_record.c) */
		break;
	}
	if (c->count == 0)
		policy_add_members(c, conf, rec, -1, e);
}

static bool same_choice(const struct choice *a, const struct choice *b)
{
	return a->pool == b->pool && a->count == b->count &&
	       !memcmp(a->member, b->member, a->count * sizeof(a->member[0]));
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

static void answer_shape(struct dyn_answer *a, const struct conf_record *rec, uint8_t flags)
{
	a->type = rec->type;
	a->select = (uint8_t)select_rule(rec->policy);
	/* A CNAME has exactly one value per response (RFC 1034 3.6.2). */
	a->cap = rec->type == WIRE_TYPE_CNAME ? 1 : (uint16_t)rec->answers;
	a->flags = flags;
	a->ttl = flags ? rec->ttl_degraded : rec->ttl;
}

/* Encodes the chosen members as values in the zone RRset layout. */
void policy_fill_answer(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct conf_record *rec, const struct choice *c, uint8_t flags)
{
	const struct conf_pool *pool = &conf->pools[c->pool];
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
	answer_shape(a, rec, flags);
	a->count = (uint8_t)c->count;
	a->rdata = rd;
	a->offsets = offsets;
	a->weights = weights;
}

/* Copies a previous answer's values (their memory goes with the previous table). */
void policy_copy_answer(struct dyn_answer *a, struct arena *ar, const struct conf_record *rec,
			const struct dyn_answer *from, uint8_t flags)
{
	size_t size = from->count ? from->offsets[from->count - 1] : 0;
	if (from->count)
		size += 2 + (size_t)(from->rdata[size] << 8 | from->rdata[size + 1]);
	a->rdata = arena_memdup(ar, from->rdata, size);
	a->offsets = arena_memdup(ar, from->offsets, from->count * sizeof(*from->offsets));
	a->weights = arena_memdup(ar, from->weights, from->count * sizeof(*from->weights));
	a->weight_total = from->weight_total;
	a->count = from->count;
	answer_shape(a, rec, flags);
}

const char *policy_region_name(const struct conf *c, unsigned region)
{
	return c->geo.region_count ? c->geo.regions[region].name : "";
}

const struct dyn_answer *policy_previous_answer(const struct conf *conf, const struct policy_inputs *in,
						size_t r, unsigned g, bool any)
{
	const struct conf *pc = in ? in->previous_conf : NULL;
	if (!pc || !in->previous)
		return NULL;
	size_t pr = r, pg = g;
	if (pc != conf) {
		const struct conf_record *rec = &conf->records[r];
		for (pr = 0; pr < pc->record_count; pr++)
			if (pc->records[pr].type == rec->type &&
			    pc->records[pr].owner_len == rec->owner_len &&
			    !memcmp(pc->records[pr].owner, rec->owner, rec->owner_len))
				break;
		const char *name = policy_region_name(conf, g);
		size_t regions = pc->geo.region_count ? pc->geo.region_count : 1;
		for (pg = 0; pg < regions && strcmp(policy_region_name(pc, (unsigned)pg), name); pg++)
			;
		if (pr == pc->record_count || pg == regions)
			return NULL;
	}
	if (pr >= in->previous->record_count || pg >= in->previous->region_count)
		return NULL;
	const struct dyn_answer *a = dyn_answer_get(in->previous, pr, pg);
	return a->count && (any || !(a->flags & DYN_FLAG_FAIL_OPEN)) ? a : NULL;
}

void policy_fail_open(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
		      const struct conf_record *rec, const struct policy_inputs *in)
{
	/* every member of the record's type that serves, else every member of the type */
	struct choice c = {.pool = rec->pool};
	const struct eligible serving = {.in = in}, open = {.in = in, .any_state = true};
	policy_add_members(&c, conf, rec, -1, &serving);
	if (!c.count)
		policy_add_members(&c, conf, rec, -1, &open);
	policy_fill_answer(a, ar, conf, rec, &c, c.count ? DYN_FLAG_DEGRADED | DYN_FLAG_FAIL_OPEN : 0);
}

/* One (record, region): the policy over the members that serve, else when_all_down. */
static void compute_one(struct dyn_answer *a, struct arena *ar, const struct conf *conf,
			const struct geo_map *geo, size_t r, unsigned g, const struct policy_inputs *in,
			unsigned *dcs, struct diag *d, char *failure, size_t failure_size)
{
	const struct conf_record *rec = &conf->records[r];
	if (rec->policy == CONF_POLICY_LUA) {
		policy_compute_lua(a, ar, conf, geo, r, g, in, d, failure, failure_size);
		return;
	}
	struct choice live, all_up;
	const struct eligible serving = {.in = in}, everyone = {.in = NULL};
	choose(&live, conf, geo, rec, g, rec->pool, &serving, dcs);
	if (live.count) {
		choose(&all_up, conf, geo, rec, g, rec->pool, &everyone, dcs);
		bool degraded = live.draining || !same_choice(&live, &all_up);
		policy_fill_answer(a, ar, conf, rec, &live, degraded ? DYN_FLAG_DEGRADED : 0);
		return;
	}
	const struct dyn_answer *last;
	if (rec->when_all_down == CONF_ALL_DOWN_LAST_GOOD &&
	    (last = policy_previous_answer(conf, in, r, g, false))) {
		policy_copy_answer(a, ar, rec, last, DYN_FLAG_DEGRADED | DYN_FLAG_LAST_GOOD);
		return;
	}
	if (rec->when_all_down == CONF_ALL_DOWN_POOL) {
		const struct eligible fallback = {.in = in, .standby = true};
		choose(&live, conf, geo, rec, g, rec->fallback_pool, &fallback, dcs);
		if (live.count) {
			policy_fill_answer(a, ar, conf, rec, &live,
					   DYN_FLAG_DEGRADED | DYN_FLAG_FALLBACK_POOL);
			return;
		}
	}
	policy_fail_open(a, ar, conf, rec, in);
}

static const char *type_name(uint16_t type)
{
	return type == WIRE_TYPE_A ? "A" : type == WIRE_TYPE_AAAA ? "AAAA" : "CNAME";
}

void policy_member_states_init(struct policy_member_states *v, const struct conf *conf)
{
	v->pools = conf->pool_count;
	v->serving = calloc(v->pools + 1, sizeof(*v->serving));
	v->forced = calloc(v->pools + 1, sizeof(*v->forced));
	v->since = calloc(v->pools + 1, sizeof(*v->since));
	if (!v->serving || !v->forced || !v->since)
		abort();
	for (size_t p = 0; p < v->pools; p++) {
		size_t n = conf->pools[p].member_count + 1;
		v->serving[p] = calloc(n, sizeof(**v->serving));
		v->forced[p] = calloc(n, sizeof(**v->forced));
		v->since[p] = calloc(n, sizeof(**v->since));
		if (!v->serving[p] || !v->forced[p] || !v->since[p])
			abort();
	}
}

void policy_member_states_free(struct policy_member_states *v)
{
	for (size_t p = 0; p < v->pools; p++) {
		free(v->serving[p]);
		free(v->forced[p]);
		free(v->since[p]);
	}
	free(v->serving);
	free(v->forced);
	free(v->since);
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
	memset(t->answers, 0, (t->record_count * t->region_count + 1) * sizeof(*t->answers));
	bool ok = true;
	for (size_t r = 0; r < conf->record_count && ok; r++) {
		const struct conf_record *rec = &conf->records[r];
		if (in && in->only && !in->only[r])
			continue;
		bool guarded = in && in->intent && in->intent[r];
		for (unsigned g = 0; g < t->region_count && ok; g++) {
			struct dyn_answer *a = &t->answers[r * t->region_count + g];
			char failure[256] = "";
			compute_one(a, &t->arena, conf, geo, r, g, in, dcs, d, failure, sizeof(failure));
			if (guarded)
				policy_guard_answer(a, &t->arena, conf, r, g, in, failure);
			if (a->count == 0) {
				diag_error(d, conf->path, rec->line,
					   "record %s: pool %s has no member for type %s", rec->name,
					   conf->pools[rec->pool].name, type_name(rec->type));
				ok = false;
			}
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
