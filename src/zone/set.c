/* set.c -- zone sets: picking the zone for a name by longest apex suffix.
 *
 * The apexes sit in an open-addressing table at most half full, so a query costs one probe sequence
 * per label of the qname, longest suffix first; a set of a few zones is scanned instead. Nothing is
 * allocated after zone_set_new. */
#include "meridian/zone.h"

#include <stdlib.h>
#include <string.h>

const struct zone *zone_set_get(const struct zone_set *s, const uint8_t *apex, size_t len)
{
	for (uint32_t i = zone_name_hash(apex, len) & s->table_mask;; i = (i + 1) & s->table_mask) {
		const struct zone *z = s->table[i];
		if (!z)
			return NULL;
		if (z->apex.len == len && memcmp(z->apex.data, apex, len) == 0)
			return z;
	}
}

struct zone_set *zone_set_new(struct zone *const *zones, size_t count)
{
	struct zone_set *s = calloc(1, sizeof(*s));
	size_t slots = 4;
	while (slots < count * 2)
		slots *= 2;
	if (!s || !(s->table = calloc(slots, sizeof(*s->table))) ||
	    !(s->zones = calloc(count + 1, sizeof(*s->zones))))
		abort();
	s->table_mask = (uint32_t)(slots - 1);
	for (size_t i = 0; i < count; i++) {
		struct zone *z = zones[i];
		if (zone_set_get(s, z->apex.data, z->apex.len)) { /* two zones, one apex: refuse the set */
			zone_set_free(s);
			return NULL;
		}
		uint32_t slot = zone_name_hash(z->apex.data, z->apex.len) & s->table_mask;
		while (s->table[slot])
			slot = (slot + 1) & s->table_mask;
		s->table[slot] = z;
		if (z->apex.label_count > s->max_labels)
			s->max_labels = z->apex.label_count;
		zone_ref(z);
		s->zones[s->count++] = z;
	}
	return s;
}

void zone_set_free(struct zone_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		zone_unref(s->zones[i]);
	free(s->zones);
	free(s->table);
	free(s);
}

/* Few zones (the usual deployment): comparing the one suffix of name that could be each apex costs
 * less than hashing even one suffix. */
#define SET_SCAN_MAX 8

static const struct zone *zone_set_scan(const struct zone_set *s, const struct wire_name *name, int from)
{
	const struct zone *best = NULL;
	int best_labels = 0;
	for (size_t i = 0; i < s->count; i++) {
		const struct zone *z = s->zones[i];
		int at = (int)name->label_count - (int)z->apex.label_count;
		if (at < from || z->apex.label_count <= best_labels)
			continue;
		size_t off = name->labels[at];
		if (name->len - off == z->apex.len &&
		    wire_name_same(name->data + off, z->apex.data, z->apex.len)) {
			best = z;
			best_labels = z->apex.label_count;
		}
	}
	return best;
}

static const struct zone *zone_set_longest(const struct zone_set *s, const struct wire_name *name, int from)
{
	if (s->count <= SET_SCAN_MAX)
		return zone_set_scan(s, name, from);
	/* Suffixes with more labels than the longest apex cannot be an apex: start below them. */
	int skip = (int)name->label_count - (int)s->max_labels;
	for (int i = skip > from ? skip : from; i < name->label_count; i++) {
		const struct zone *z =
		    zone_set_get(s, name->data + name->labels[i], name->len - name->labels[i]);
		if (z)
			return z;
	}
	return NULL;
}

const struct zone *zone_set_find(const struct zone_set *s, const struct wire_name *name)
{
	return zone_set_longest(s, name, 0);
}

const struct zone *zone_set_find_parent(const struct zone_set *s, const struct wire_name *name)
{
	return zone_set_longest(s, name, 1);
}
