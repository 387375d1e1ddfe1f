/* snapshot.c -- the published snapshot and its lock-free swap (liburcu QSBR, see snapshot.h). */
#include "meridian/snapshot.h"

#include <stdlib.h>
#include <urcu-qsbr.h>

static struct snapshot *current; /* read by workers through rcu_dereference */
static uint64_t last_generation; /* written only by the control thread */

struct snapshot *snapshot_new(struct conf *conf, struct zone_set *zones)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->conf = conf;
	s->zones = zones;
	return s;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	zone_set_free(s->zones);
	geo_map_free(s->geo);
	dyn_table_free(s->dyn);
	conf_free(s->conf);
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
	struct snapshot *old = rcu_xchg_pointer(&current, s);
	/* Every worker passes a quiescent state after each batch and goes offline while it waits for
	 * packets, so this returns within one batch's time. */
	synchronize_rcu();
	snapshot_free(old);
}
