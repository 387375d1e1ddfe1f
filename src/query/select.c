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

/* k of the n values in a random order (a partial Fisher-Yates shuffle). */
static unsigned pick_shuffled(unsigned n, unsigned k, uint32_t seed, uint8_t *picked)
{
	uint8_t order[DYN_VALUES_MAX];
	for (unsigned i = 0; i < n; i++)
		order[i] = (uint8_t)i;
	uint64_t r = mix(seed);
	for (unsigned i = 0; i < k; i++) {
		unsigned j = i + (unsigned)((r >> 16) % (n - i));
		r = mix(r);
		uint8_t t = order[i];
		order[i] = order[j];
		order[j] = t;
		picked[i] = order[i];
	}
	return k;
}

/* FNV-1a over one value's rdata. */
static uint64_t value_hash(const struct dyn_answer *a, unsigned i)
{
	const uint8_t *v = a->rdata + a->offsets[i];
	size_t len = (size_t)(v[0] << 8 | v[1]);
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t j = 0; j < len; j++)
		h = (h ^ v[2 + j]) * 0x100000001b3ull;
	return h;
}

/* The k values with the highest score for this client (rendezvous hashing): a client keeps its
 * values, and when a value leaves only the clients that had it move. */
static unsigned pick_hashed(const struct dyn_answer *a, unsigned k, uint32_t client, uint8_t *picked)
{
	uint64_t score[DYN_VALUES_MAX];
	bool taken[DYN_VALUES_MAX] = {false};
	for (unsigned i = 0; i < a->count; i++)
		score[i] = mix(value_hash(a, i) ^ client);
	for (unsigned j = 0; j < k; j++) {
		unsigned best = a->count;
		for (unsigned i = 0; i < a->count; i++)
			if (!taken[i] && (best == a->count || score[i] > score[best]))
				best = i;
		taken[best] = true;
		picked[j] = (uint8_t)best;
	}
	return k;
}

unsigned dyn_select(const struct dyn_answer *a, uint32_t seed, uint32_t client, uint8_t *picked)
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
	case DYN_SELECT_SHUFFLE:
		return pick_shuffled(n, k, seed, picked);
	case DYN_SELECT_HASH:
		return pick_hashed(a, a->cap ? k : (n ? 1 : 0), client, picked);
	case DYN_SELECT_ALL:
		break;
	}
	/* A window that moves one value per query spreads clients that take the first address. */
	unsigned start = n ? seed % n : 0;
	for (unsigned i = 0; i < k; i++)
		picked[i] = (uint8_t)((start + i) % n);
	return k;
}
