/* arena.c -- region allocator (see arena.h).
 *
 * Blocks are chained newest first. A request larger than a quarter of the block size gets a block of
 * its own, inserted behind the head so the head's free tail keeps being used. Each new ordinary block
 * is twice the size of the one before, up to BLOCK_MAX, so a small arena stays small and a large one
 * (a zone of a million records, a geo map) lives in few large blocks; those get huge pages where the
 * kernel offers them (transparent huge pages on madvise), since lookups land anywhere in them and on
 * 4 KiB pages most would miss the TLB. */
#include "meridian/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define BLOCK_MAX ((size_t)8 << 20)

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

/* Asks for huge pages over the whole 2 MiB pages inside [p, p + len), before anything touches them. */
static void advise_huge(void *p, size_t len)
{
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE); /* advice only */
}

static struct arena_block *arena_block_new(size_t size)
{
	struct arena_block *b = malloc(sizeof(*b) + size);
	if (!b)
		abort();
	if (size >= 2 * HUGE_PAGE)
		advise_huge(b, sizeof(*b) + size);
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
		if (a->block_size < BLOCK_MAX)
			a->block_size *= 2;
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
