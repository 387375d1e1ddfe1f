/* grow.h -- growing a malloc'd array by doubling, for the load-time code that builds lists of unknown
 * length (the query path never calls it). */
#ifndef MERIDIAN_GROW_H
#define MERIDIAN_GROW_H

#include <stddef.h>

/* p (an array of *cap elements of size bytes; NULL when *cap is 0) with room for at least need
 * elements: returned as is when it has it, else reallocated to the next doubling (at least 16) and
 * *cap updated. Aborts when out of memory, as every load-time allocation does. */
void *grow_array(void *p, size_t *cap, size_t need, size_t size);

#endif
