/* policy.h -- computing the answers of dynamic records: the built-in policies.
 *
 * Runs on the control thread whenever an input changes (config, and later health), never per
 * query. Member state is an input from the start: a member that is not up leaves every answer
 * (until the health issue lands, every member is up). */
#ifndef MERIDIAN_POLICY_H
#define MERIDIAN_POLICY_H

#include <stdbool.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/dynamic.h"
#include "meridian/geo.h"

/* The state of every member of every pool: up[pool][member]. NULL means all up. */
struct policy_inputs {
	const bool *const *up;
};

/* The ordered list of datacenters a record prefers in a region (failover: its order for the region,
 * else the default region's, else all datacenters in config order; nearest: by distance from the
 * region's location, unknown locations last). Writes up to conf->datacenter_count indexes, returns
 * the count. */
size_t policy_dc_order(const struct conf *conf, const struct geo_map *geo, const struct conf_record *rec,
		       unsigned region, unsigned *dcs);

/* Computes every (record, region) answer. geo may be NULL when no regions are configured (one
 * region). Returns NULL with reasons in d when a record has no member of its type at all. */
struct dyn_table *policy_compute(const struct conf *conf, const struct geo_map *geo,
				 const struct policy_inputs *in, struct diag *d);

#endif
