/* grow.c -- growing a malloc'd array by doubling (grow.h). */
#include "meridian/grow.h"

#include <stdlib.h>

void *grow_array(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p)
		abort();
	*cap = n;
	return p;
}
