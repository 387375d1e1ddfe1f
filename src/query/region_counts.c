/* region_counts.c -- dynamic answers by client region: per-thread tables and their totals by name
 * (see region_counts.h). */
#include "meridian/region_counts.h"

#include <stdlib.h>
#include <string.h>

#define CELLS_PER_LINE (64 / sizeof(uint64_t))

/* Regions of loads already freed, by name (control thread only). */
struct total {
	char *name;
	uint64_t answers;
};
static struct total *totals;
static size_t total_count, total_cap;

unsigned region_counts_rows(const struct conf *conf)
{
	return conf->workers * (1u + (unsigned)conf->listen_count);
}

unsigned region_counts_slot(const struct conf *conf, unsigned worker, bool udp, unsigned k)
{
	return worker * (1u + (unsigned)conf->listen_count) + 1u + (udp ? 1u + k : 0u);
}

struct region_counts *region_counts_new(const struct conf *conf)
{
	if (!conf->geo.region_count || !region_counts_rows(conf))
		return NULL;
	struct region_counts *t = calloc(1, sizeof(*t));
	if (!t)
		abort(); /* load time only, like arena_alloc */
	t->regions = (unsigned)conf->geo.region_count;
	t->stride = (t->regions + CELLS_PER_LINE - 1) / CELLS_PER_LINE * CELLS_PER_LINE;
	t->rows = region_counts_rows(conf);
	/* Each row starts a cache line, so two threads never write the same line. */
	if (posix_memalign((void **)&t->cells, 64, (size_t)t->rows * t->stride * sizeof(uint64_t)) != 0)
		abort();
	memset(t->cells, 0, (size_t)t->rows * t->stride * sizeof(uint64_t));
	return t;
}

void region_counts_free(struct region_counts *t)
{
	if (!t)
		return;
	free(t->cells);
	free(t);
}

uint64_t region_counts_sum(const struct region_counts *t, unsigned region)
{
	uint64_t sum = 0;
	if (!t || region >= t->regions)
		return 0;
	for (unsigned r = 0; r < t->rows; r++)
		sum += __atomic_load_n(&t->cells[(size_t)r * t->stride + region], __ATOMIC_RELAXED);
	return sum;
}

static struct total *total_named(const char *name)
{
	for (size_t i = 0; i < total_count; i++)
		if (strcmp(totals[i].name, name) == 0)
			return &totals[i];
	return NULL;
}

void region_counts_retire(const struct region_counts *t, const struct conf *conf)
{
	for (unsigned i = 0; t && i < t->regions && i < conf->geo.region_count; i++) {
		uint64_t n = region_counts_sum(t, i);
		const char *name = conf->geo.regions[i].name;
		struct total *to = total_named(name);
		if (!to && !n)
			continue;
		if (!to) {
			if (total_count == total_cap) {
				total_cap = total_cap ? 2 * total_cap : 8;
				totals = realloc(totals, total_cap * sizeof(*totals));
				if (!totals)
					abort();
			}
			to = &totals[total_count++];
			to->name = strdup(name);
			if (!to->name)
				abort();
			to->answers = 0;
		}
		to->answers += n;
	}
}

void region_counts_each(const struct region_counts *live, const struct conf *conf, region_counts_fn *fn,
			void *arg)
{
	for (size_t i = 0; i < conf->geo.region_count; i++) {
		const char *name = conf->geo.regions[i].name;
		const struct total *to = total_named(name);
		fn(name, (to ? to->answers : 0) + region_counts_sum(live, (unsigned)i), true, arg);
	}
	for (size_t i = 0; i < total_count; i++) {
		bool current = false;
		for (size_t k = 0; k < conf->geo.region_count && !current; k++)
			current = strcmp(conf->geo.regions[k].name, totals[i].name) == 0;
		if (!current)
			fn(totals[i].name, totals[i].answers, false, arg);
	}
}

void region_counts_reset(void)
{
	for (size_t i = 0; i < total_count; i++)
		free(totals[i].name);
	free(totals);
	totals = NULL;
	total_count = total_cap = 0;
}
