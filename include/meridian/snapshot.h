/* snapshot.h -- the immutable state every worker answers from, and its lock-free publication.
 *
 * A snapshot is built and validated off the query path, then published with one atomic pointer swap
 * (liburcu QSBR). Workers read the current snapshot with snapshot_current() between quiescent
 * states; the old snapshot is freed only after every worker has passed a quiescent state
 * (synchronize_rcu), so a reader never sees freed memory and never takes a lock. */
#ifndef MERIDIAN_SNAPSHOT_H
#define MERIDIAN_SNAPSHOT_H

#include <stdint.h>

#include "meridian/conf.h"
#include "meridian/dynamic.h"
#include "meridian/geo.h"
#include "meridian/intent.h"
#include "meridian/lua_policy.h"
#include "meridian/zone.h"

/* What a config load produced: shared by every snapshot derived from it (a health change publishes
 * new answers over the same zones). Counted only by the control thread, which alone creates and
 * frees snapshots, so the count needs no atomics. */
struct snapshot_base;
struct prepared;
struct region_counts;

struct snapshot {
	uint64_t generation;	/* increases with every publication */
	struct conf *conf;	/* from the base */
	struct zone_set *zones; /* from the base */
	struct geo_map *geo;	/* from the base; NULL when no regions are configured */
	struct dyn_table *dyn;	/* owned; NULL when no dynamic records are configured */
	/* from the base; NULL without Lua records. Control thread only: workers never touch it. */
	struct lua_policy_set *lua;
	/* from the base: intents[i] guards zones->zones[i] (NULL: that zone has no intent file); the
	 * array is NULL when no zone has one. Control thread only. */
	struct intent *const *intents;
	/* from the base: answers prepared from zones and conf (prepared.h), NULL when none are */
	const struct prepared *prepared;
	/* from the base: dynamic answers by client region, counted by the query threads (region_counts.h);
	 * NULL when the config has no regions */
	struct region_counts *region_counts;
	struct snapshot_base *base;
};

/* Creates a snapshot taking ownership of conf, zones, geo and lua (both may be NULL); dyn is set by
 * the caller. */
struct snapshot *snapshot_new(struct conf *conf, struct zone_set *zones, struct geo_map *geo,
			      struct lua_policy_set *lua);
/* Gives a snapshot made by snapshot_new (and the snapshots derived from it) the zones' intents:
 * an array of zones->count entries, owned (freed with the base). */
void snapshot_set_intents(struct snapshot *s, struct intent **intents);
/* Gives a snapshot made by snapshot_new (and the snapshots derived from it) its prepared answers
 * (owned; freed with the base). Before publication only: published snapshots are immutable. */
void snapshot_set_prepared(struct snapshot *s, struct prepared *p);
/* The intent of zone z of s (the same pointer as in s->zones), or NULL. */
const struct intent *snapshot_zone_intent(const struct snapshot *s, const struct zone *z);
/* A snapshot sharing from's conf, zones and geo, with new answers (owned; may be NULL). */
struct snapshot *snapshot_derive(const struct snapshot *from, struct dyn_table *dyn);
void snapshot_free(struct snapshot *s);

/* The published snapshot. Workers must be registered RCU reader threads (rcu_register_thread) and
 * call it only while online; the pointer stays valid until the thread's next quiescent state. */
const struct snapshot *snapshot_current(void);
/* Publishes s (its generation is set here), waits for every reader to move past the old snapshot,
 * and frees the old one. Called only from the control thread. */
void snapshot_publish(struct snapshot *s);
/* For the control thread: the snapshot it published last (no RCU read side needed). */
struct snapshot *snapshot_latest(void);

#endif
