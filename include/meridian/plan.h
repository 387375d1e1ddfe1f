/* plan.h -- what publishing a candidate snapshot would change, compared with the running one: zones,
 * static RRsets, dynamic answers per region, and intent. It reads both snapshots and changes
 * nothing; meridianctl plan shows it, and apply shows it again as it publishes. Control thread only.
 *
 * Matching is by name, never by index: zones by apex, RRsets by owner and type, dynamic answers by
 * the record's owner and type and the region's name, intent RRsets by owner and type. Values are
 * compared as sets (order is the policy's business, not a change of data) together with the TTL. */
#ifndef MERIDIAN_PLAN_H
#define MERIDIAN_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "meridian/snapshot.h"

enum plan_area { PLAN_ZONE, PLAN_RRSET, PLAN_ANSWER, PLAN_INTENT, PLAN_AREA_COUNT };
enum plan_kind { PLAN_ADDED, PLAN_REMOVED, PLAN_CHANGED, PLAN_KIND_COUNT };

struct plan_change {
	enum plan_area area;
	enum plan_kind kind;
	/* What changed, in presentation form:
	 *   zone:   "example.com."
	 *   rrset:  "www.example.com. A"            (static data from the zone files)
	 *   answer: "api.example.com. A region eu"  (dynamic records; "region -" without regions)
	 *   intent: "api.example.com. A"            (in example.com.'s intent file) */
	char *subject;
	/* The values before and after, sorted, separated by ", ", then " (ttl N)" where a TTL applies:
	 * "192.0.2.1, 192.0.2.2 (ttl 30)"; a zone: "serial 2026112101, 12 records"; a zone whose intent
	 * file was added or removed: "intent FILE" / "no intent". NULL for the side that does not exist
	 * (before of an addition, after of a removal). */
	char *before;
	char *after;
};

struct plan {
	struct plan_change *changes; /* sorted by area, then subject (canonical DNS name order), then kind */
	size_t count, cap;
	size_t counts[PLAN_AREA_COUNT][PLAN_KIND_COUNT];
};

/* Compares candidate with running (either may have no dynamic records, no regions, no intents). */
struct plan *plan_compare(const struct snapshot *running, const struct snapshot *candidate);
void plan_free(struct plan *p);

const char *plan_area_name(enum plan_area a); /* "zone", "rrset", "answer", "intent" */
const char *plan_kind_name(enum plan_kind k); /* "added", "removed", "changed" */

/* Text: a summary line per area with changes ("rrsets: 2 added, 1 removed, 3 changed"), then each
 * change as "  + subject: after", "  - subject: before", "  ~ subject: before -> after", at most
 * limit changes per area followed by "  ... and N more". "no changes" when there are none. */
void plan_write_text(const struct plan *p, FILE *out, size_t limit);
/* JSON: one object {"counts":{"zone":{"added":0,"removed":0,"changed":1},...},"changes":[{"area":
 * "zone","kind":"changed","subject":...,"before":...,"after":...},...],"omitted":N}, at most limit
 * changes per area listed (omitted counts the rest). No trailing newline, so that it can be embedded
 * in a larger object. */
void plan_write_json(const struct plan *p, FILE *out, size_t limit);

#endif
