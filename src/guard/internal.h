/* internal.h -- shared by the guard's files: check.c (the verdict) and scenario.c (dynamic records
 * under every health scenario). */
#ifndef MERIDIAN_GUARD_INTERNAL_H
#define MERIDIAN_GUARD_INTERNAL_H

#include "meridian/guard.h"

/* Computes the guarded records (intent[r] != NULL) of s in every region under every scenario and
 * checks each answer against its intent. Returns the violations found (one per record and region:
 * its first failing scenario), describing the first room of them in d. */
size_t guard_check_scenarios(const struct snapshot *s, const struct intent_rrset *const *intent, double now,
			     struct diag *d, size_t room);

#endif
