/* explain.h -- why a client gets the answer it gets: region, what matched, policy, order, answer,
 * TTL and client-subnet scope, computed by running the real query path on a snapshot.
 * Off the query path (meridiand --explain, later meridianctl explain). */
#ifndef MERIDIAN_EXPLAIN_H
#define MERIDIAN_EXPLAIN_H

#include <stdio.h>

#include "meridian/diag.h"
#include "meridian/snapshot.h"

/* Live member state for `meridianctl explain`: writes a short description of members[member] of
 * pools[pool] ("up, since 2026-11-21T10:00:00Z, last: HTTP 200") into buf. */
struct explain_health {
	void (*member)(void *arg, unsigned pool, unsigned member, char *buf, size_t size);
	void *arg;
};

/* Prints the explanation for a query of name and type (presentation forms, "A", "AAAA", ...) from
 * client ("203.0.113.7", "2001:db8::/48", "198.51.100.0/24") to out: one "key: value" line each.
 * health (NULL offline) adds a line per member of a dynamic record's pool. Returns false with the
 * reason in d when the arguments do not parse. */
bool explain_print(const struct snapshot *s, const char *name, const char *type, const char *client,
		   const struct explain_health *health, FILE *out, struct diag *d);

#endif
