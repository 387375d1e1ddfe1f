/* arena.c -- region allocator (see arena.h).
 *
 * Blocks are chained newest first. A request larger than a quarter of the block size gets a block of
 * its own, inserted behind the head so the head's free tail keeps being used. */
#include "meridian/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes in data */
	size_t used;
	uint8_t data[];
};

void arena_init(struct arena *a, size_t block_size)
{
	a->head = NULL;
	a->block_size = block_size ? block_size : 64 * 1024;
	a->total = 0;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

static struct arena_block *arena_block_new(size_t size)
{
	struct arena_block *b = malloc(sizeof(*b) + size);
	if (!b)
		abort();
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	if (size == 0)
		size = 8;
	a->total += size;
	if (size > a->block_size / 4) {
		struct arena_block *b = arena_block_new(size);
		b->used = size;
		if (a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			a->head = b;
		}
		return b->data;
	}
	if (!a->head || a->head->size - a->head->used < size) {
		struct arena_block *b = arena_block_new(a->block_size);
		b->next = a->head;
		a->head = b;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += size;
	return p;
}

void *arena_memdup(struct arena *a, const void *src, size_t size)
{
	void *p = arena_alloc(a, size);
	memcpy(p, src, size);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s) + 1);
}
