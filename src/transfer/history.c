/* history.c -- a reload's journals: each zone with secondaries gets the differences from the version
 * it replaces (journal.h), so that the secondaries' next IXFR carries only what changed. */
#include <inttypes.h>
#include <stdio.h>

#include "meridian/transfer.h"

static void note(FILE *out, const struct zone *z, const struct zone *old, const struct journal_report *r)
{
	if (!out)
		return;
	switch (r->outcome) {
	case JOURNAL_EXTENDED:
		fprintf(out,
			"zone %s: serial %" PRIu32 " -> %" PRIu32 ": IXFR difference kept (%" PRIu32
			" RRs deleted, %" PRIu32 " added; history of %u step%s)\n",
			z->name_text, old->serial, z->serial, r->deleted, r->added, r->steps,
			r->steps == 1 ? "" : "s");
		break;
	case JOURNAL_RESTARTED:
		fprintf(out,
			"zone %s: serial %" PRIu32 " -> %" PRIu32 ": %s; its IXFR history starts again "
			"(secondaries behind it get the whole zone)\n",
			z->name_text, old->serial, z->serial,
			z->serial == old->serial ? "content changed without a new serial"
			: zone_serial_compare(z->serial, old->serial) > 0
			    ? "the difference is larger than the zone"
			    : "the serial did not move forward");
		break;
	case JOURNAL_OFF:
	case JOURNAL_CARRIED:
		break;
	}
}

void transfer_keep_journals(const struct zone_set *old, const struct snapshot *next, FILE *notes)
{
	for (size_t i = 0; i < next->zones->count; i++) {
		struct zone *z = next->zones->zones[i];
		const struct conf_zone *cz = transfer_zone_conf(next->conf, z);
		if (!cz || !cz->transfer_count || !cz->ixfr_versions)
			continue;
		const struct zone *was = old ? zone_set_get(old, z->apex.data, z->apex.len) : NULL;
		if (!was || was == z)
			continue; /* new, or kept as it was (loader_build_from): its journal with it */
		struct journal_report r;
		journal_unref(z->journal);
		z->journal = journal_next(was, z, cz->ixfr_versions, &r);
		note(notes, z, was, &r);
	}
}
