/* guard.h -- the record guard: what the zones' intents (intent.h) promise, checked against every
 * candidate snapshot before it may be published (start-up, reload, apply, plan).
 *
 * For every intended RRset of every zone with an intent, the candidate is refused whole when:
 *   - the name does not resolve as data of that type: it is NXDOMAIN, NODATA, at or below a
 *     delegation, or a CNAME where the intent lists another type;
 *   - a static RRset holds a value the intent does not list (a subset of the intent is fine);
 *   - a dynamic record answers empty, or with a value the intent does not list, in some region under
 *     some health scenario: every member up; each datacenter down; each pool the record uses down;
 *     each of those pools' members down; a pool down together with each datacenter and member of
 *     the pool its records fall back to; every member down.
 * Each violation names the zone, the name and type, the region and the scenario, and what would have
 * been served. At run time the policy module guards each answer as it is computed (policy.h:
 * policy_inputs.intent), which guard_record_intents provides. Off the query path: a candidate is
 * checked on the loading thread (its policies are its own until it is handed over). */
#ifndef MERIDIAN_GUARD_H
#define MERIDIAN_GUARD_H

#include <stddef.h>

#include "meridian/diag.h"
#include "meridian/intent.h"
#include "meridian/snapshot.h"

#define GUARD_REPORT_MAX 20 /* violations described one by one; the rest are counted */

/* Checks candidate s (its Lua policies run at time now). Returns the number of violations found;
 * the first GUARD_REPORT_MAX are appended to d as errors, then one error counting the rest. */
size_t guard_check_snapshot(const struct snapshot *s, double now, struct diag *d);

/* The intent of each of s's dynamic records (NULL entries: not guarded), for policy_inputs.intent:
 * malloc'd, s->conf->record_count entries; NULL when no record is guarded. The pointers live as long
 * as s's base. */
const struct intent_rrset **guard_record_intents(const struct snapshot *s);

#endif
