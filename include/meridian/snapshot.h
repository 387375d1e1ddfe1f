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
#include "meridian/zone.h"

struct snapshot {
	uint64_t generation;     /* increases with every publication */
	struct conf *conf;       /* owned */
	struct zone_set *zones;  /* owned */
	struct geo_map *geo;     /* owned; NULL when no regions are configured */
	struct dyn_table *dyn;   /* owned; NULL when no dynamic records are configured */
};

/* Creates a snapshot taking ownership of conf and zones (geo and dyn are set by the caller). */
struct snapshot *snapshot_new(struct conf *conf, struct zone_set *zones);
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
