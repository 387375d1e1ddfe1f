/* region_counts.h -- dynamic answers counted by the region of the client they were given to, for
 * status and metrics: where the traffic is being sent, and how a failover or a new region moved it.
 *
 * The table belongs to a config load (the snapshot base, shared by the snapshots a health change
 * derives from it) and is indexed by that config's regions, one row per query thread. On the query
 * path a thread adds one to a cell of its own row: no lock, no atomic (one writer per row, rows
 * cache lines apart), no allocation. When a published load is freed, after every worker has moved
 * past it (snapshot_publish), its rows are folded into running totals by region name, so a reload
 * that adds, drops, renames or reorders regions keeps each region's count. The totals, like
 * publication, belong to the control thread.
 *
 * Counted: answers built from a dynamic record's values for the client's region (A, AAAA or CNAME,
 * prepared or general path). Not counted: queries that end in no such answer (NODATA, NXDOMAIN,
 * REFUSED), and truncated replies, whose client asks again over TCP and is counted then. */
#ifndef MERIDIAN_REGION_COUNTS_H
#define MERIDIAN_REGION_COUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "meridian/conf.h"

struct region_counts {
	uint64_t *cells;  /* rows x stride */
	unsigned rows;	  /* the query threads: region_counts_rows */
	unsigned stride;  /* regions rounded up to a cache line of counters */
	unsigned regions; /* conf->geo.region_count */
};

/* The query threads a server started with conf runs (server.c): per worker its TCP thread and one
 * UDP thread per listen address. Thread slots run from 1 to this; 0 is "no thread" (tools, tests). */
unsigned region_counts_rows(const struct conf *conf);
/* The slot of a worker's TCP thread (udp: false) or of its UDP thread for listen address k. */
unsigned region_counts_slot(const struct conf *conf, unsigned worker, bool udp, unsigned k);

/* A zeroed table for conf's regions and threads; NULL when conf has no regions. */
struct region_counts *region_counts_new(const struct conf *conf);
void region_counts_free(struct region_counts *t);

/* Query path: one more answer for region from the thread in slot (0, or beyond the table: none). */
static inline void region_counts_add(struct region_counts *t, unsigned slot, unsigned region)
{
	if (t && slot - 1u < t->rows && region < t->regions)
		t->cells[(size_t)(slot - 1u) * t->stride + region]++;
}

/* What region i of t holds, summed over the threads (a racy read of single-writer counters, as
 * server_stats reads the query counters). */
uint64_t region_counts_sum(const struct region_counts *t, unsigned region);

/* Control thread: adds t's counts, region i of t being conf's region i, to the totals. */
void region_counts_retire(const struct region_counts *t, const struct conf *conf);

/* Control thread: every region counted since the start, with its answers (the totals plus what
 * live, the running config's table, holds): first conf's regions in its order (current: true), then
 * regions only earlier configs had, in the order they were first retired. */
typedef void region_counts_fn(const char *region, uint64_t answers, bool current, void *arg);
void region_counts_each(const struct region_counts *live, const struct conf *conf, region_counts_fn *fn,
			void *arg);

/* Forgets the totals (tests). */
void region_counts_reset(void);

#endif
