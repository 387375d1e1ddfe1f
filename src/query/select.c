/* select.c -- picking the values of one dynamic answer per query (see dynamic.h). */
#include "meridian/dynamic.h"

/* splitmix64's finaliser: a well-spread number from a counter. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Draws k values by weight without replacement: each draw walks the values not yet taken. */
static unsigned pick_weighted(const struct dyn_answer *a, unsigned k, uint32_t seed, uint8_t *picked)
{
	bool taken[DYN_VALUES_MAX] = {false};
	uint64_t left = a->weight_total;
	uint64_t r = mix(seed);
	for (unsigned j = 0; j < k && left > 0; j++) {
		uint64_t target = (r >> 16) % left;
		r = mix(r);
		for (unsigned i = 0; i < a->count; i++) {
			if (taken[i])
				continue;
			if (target < a->weights[i]) {
				taken[i] = true;
				picked[j] = (uint8_t)i;
				left -= a->weights[i];
				break;
			}
			target -= a->weights[i];
		}
	}
	unsigned n = 0;
	for (unsigned i = 0; i < a->count; i++)
		n += taken[i];
	return n;
}

unsigned dyn_select(const struct dyn_answer *a, uint32_t seed, uint8_t *picked)
{
	unsigned n = a->count;
	unsigned k = a->cap && a->cap < n ? a->cap : n;
	switch ((enum dyn_select)a->select) {
	case DYN_SELECT_FIRST:
		for (unsigned i = 0; i < k; i++)
			picked[i] = (uint8_t)i;
		return k;
	case DYN_SELECT_WEIGHTED:
		return pick_weighted(a, a->cap ? k : 1, seed, picked);
	case DYN_SELECT_ALL:
		break;
	}
	/* A window that moves one value per query spreads clients that take the first address. */
	unsigned start = n ? seed % n : 0;
	for (unsigned i = 0; i < k; i++)
		picked[i] = (uint8_t)((start + i) % n);
	return k;
}
