/* arena.h -- region allocator: memory grouped by lifetime and freed all at once.
 *
 * A compiled zone or a config lives in one arena; nothing in it is freed object by object. Allocations
 * are 8-byte aligned. arena_alloc never returns NULL: it aborts on out-of-memory, which only happens
 * while loading (never on the query path). */
#ifndef MERIDIAN_ARENA_H
#define MERIDIAN_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* newest block first */
	size_t block_size;	  /* size of the next ordinary block (doubles, up to 8 MiB) */
	size_t total;		  /* bytes handed out, for statistics */
};

void arena_init(struct arena *a, size_t block_size);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t size);
void *arena_memdup(struct arena *a, const void *src, size_t size);
char *arena_strdup(struct arena *a, const char *s);

#endif
