/* snapshot.c -- the published snapshot and its lock-free swap (liburcu QSBR, see snapshot.h). */
#include "meridian/snapshot.h"

#include <stdlib.h>
#include <urcu-qsbr.h>

#include "meridian/prepared.h"
#include "meridian/region_counts.h"

static struct snapshot *current; /* read by workers through rcu_dereference */
static uint64_t last_generation; /* written only by the control thread */

struct snapshot_base {
	struct conf *conf;
	struct zone_set *zones;
	struct geo_map *geo;
	struct lua_policy_set *lua;
	struct intent **intents; /* zones->count entries, or NULL */
	struct prepared *prepared;
	struct region_counts *region_counts;
	unsigned refs;
	bool published; /* its counts are folded into the totals when it goes */
};

static struct snapshot *snapshot_with(struct snapshot_base *b, struct dyn_table *dyn)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	b->refs++;
	s->base = b;
	s->conf = b->conf;
	s->zones = b->zones;
	s->geo = b->geo;
	s->lua = b->lua;
	s->intents = b->intents;
	s->prepared = b->prepared;
	s->region_counts = b->region_counts;
	s->dyn = dyn;
	return s;
}

struct snapshot *snapshot_new(struct conf *conf, struct zone_set *zones, struct geo_map *geo,
			      struct lua_policy_set *lua)
{
	struct snapshot_base *b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->conf = conf;
	b->zones = zones;
	b->geo = geo;
	b->lua = lua;
	b->region_counts = region_counts_new(conf);
	return snapshot_with(b, NULL);
}

void snapshot_set_intents(struct snapshot *s, struct intent **intents)
{
	s->base->intents = intents;
	s->intents = intents;
}

void snapshot_set_prepared(struct snapshot *s, struct prepared *p)
{
	s->base->prepared = p;
	s->prepared = p;
}

const struct intent *snapshot_zone_intent(const struct snapshot *s, const struct zone *z)
{
	if (!s->intents)
		return NULL;
	for (size_t i = 0; i < s->zones->count; i++)
		if (s->zones->zones[i] == z)
			return s->intents[i];
	return NULL;
}

struct snapshot *snapshot_derive(const struct snapshot *from, struct dyn_table *dyn)
{
	return snapshot_with(from->base, dyn);
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	dyn_table_free(s->dyn);
	struct snapshot_base *b = s->base;
	if (--b->refs == 0) {
		for (size_t i = 0; b->intents && i < b->zones->count; i++)
			intent_free(b->intents[i]);
		free(b->intents);
		if (b->published)
			region_counts_retire(b->region_counts, b->conf);
		region_counts_free(b->region_counts);
		prepared_free(b->prepared);
		zone_set_free(b->zones);
		geo_map_free(b->geo);
		lua_policy_free(b->lua);
		conf_free(b->conf);
		free(b);
	}
	free(s);
}

const struct snapshot *snapshot_current(void)
{
	return rcu_dereference(current);
}

struct snapshot *snapshot_latest(void)
{
	return current;
}

void snapshot_publish(struct snapshot *s)
{
	s->generation = ++last_generation;
	s->base->published = true;
	struct snapshot *old = rcu_xchg_pointer(&current, s);
	/* Every worker goes offline (itself a quiescent state) after each batch and stays offline while it
	 * waits for packets, so this returns within one batch's time. */
	synchronize_rcu();
	snapshot_free(old);
}
