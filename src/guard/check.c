/* check.c -- the guard's verdict on a candidate snapshot (see guard.h): intended RRsets must resolve
 * as data, static data must stay within the intent, and every guarded dynamic record must answer
 * within its intent in every region under every health scenario (scenario.c lists them). */
#include "meridian/guard.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "meridian/policy.h"
#include "meridian/wire.h"

/* Counts violations and describes the first GUARD_REPORT_MAX. */
struct verdict {
	struct diag *d;
	size_t violations;
};

static bool describe(struct verdict *v)
{
	return ++v->violations <= GUARD_REPORT_MAX;
}

const struct intent_rrset **guard_record_intents(const struct snapshot *s)
{
	const struct conf *conf = s->conf;
	if (!s->intents || !conf->record_count)
		return NULL;
	const struct intent_rrset **out = calloc(conf->record_count, sizeof(*out));
	if (!out)
		abort();
	bool any = false;
	for (size_t r = 0; r < conf->record_count; r++) {
		const struct conf_record *rec = &conf->records[r];
		struct wire_name name;
		if (!wire_name_from_wire(&name, rec->owner, rec->owner_len))
			continue;
		const struct zone *z = zone_set_find(s->zones, &name);
		const struct intent *in = z ? snapshot_zone_intent(s, z) : NULL;
		out[r] = in ? intent_find(in, rec->owner, rec->owner_len, rec->type) : NULL;
		any |= out[r] != NULL;
	}
	if (!any) {
		free(out);
		return NULL;
	}
	return out;
}

/* The values of a static RRset that the intent does not list, as text; false when there are any. */
static bool static_within(const struct zone_rrset *rrset, const struct intent_rrset *want, char *bad,
			  size_t size)
{
	size_t pos = 0, at = 0;
	const uint8_t *rd;
	uint16_t len;
	bool ok = true;
	bad[0] = '\0';
	while (zone_rdata_next(rrset, &pos, &rd, &len)) {
		uint8_t *canon = malloc(len ? len : 1);
		if (!canon)
			abort();
		intent_canonical_rdata(rrset->type, rd, len, canon);
		if (!intent_allows(want, canon, len)) {
			char text[256];
			intent_rdata_text(rrset->type, rd, len, text, sizeof(text));
			int n = at < size ? snprintf(bad + at, size - at, "%s%s", ok ? "" : ", ", text) : 0;
			at += n > 0 ? (size_t)n : 0;
			ok = false;
		}
		free(canon);
	}
	return ok;
}

/* One intended RRset against the candidate zone. */
static void check_rrset(struct verdict *v, const struct zone *z, const struct intent *in,
			const struct intent_rrset *want)
{
	struct wire_name name;
	struct zone_result res;
	char type[16], cut[1024], bad[1100];
	intent_type_name(want->type, type, sizeof(type));
	if (!wire_name_from_wire(&name, want->owner, want->owner_len))
		return;
	zone_lookup(z, &name, want->type, &res);
	/* The NS RRset of a delegation the intent guards is at the cut itself. */
	if (res.kind == ZONE_DELEGATION && want->type == WIRE_TYPE_NS &&
	    res.node->name_len == want->owner_len &&
	    wire_name_same(res.node->name, want->owner, want->owner_len))
		res.kind = ZONE_FOUND;
	const char *what = NULL;
	switch (res.kind) {
	case ZONE_FOUND:
		if (res.rrset && res.rrset->count && !static_within(res.rrset, want, bad, sizeof(bad)) &&
		    describe(v))
			diag_error(v->d, in->file, want->line,
				   "zone %s: %s %s: the zone file holds %s, which the intent does not list",
				   z->name_text, want->name, type, bad);
		return; /* dynamic records are checked under every scenario */
	case ZONE_CNAME:
		what = "is a CNAME";
		break;
	case ZONE_DNAME:
		wire_name_to_text(res.node->name, res.node->name_len, cut, sizeof(cut));
		snprintf(bad, sizeof(bad), "is rewritten by the DNAME at %s", cut);
		what = bad;
		break;
	case ZONE_NODATA:
		what = "has no data of that type (NODATA)";
		break;
	case ZONE_NXDOMAIN:
		what = "does not exist (NXDOMAIN)";
		break;
	case ZONE_DELEGATION:
		wire_name_to_text(res.node->name, res.node->name_len, cut, sizeof(cut));
		snprintf(bad, sizeof(bad), "is delegated (at %s)", cut);
		what = bad;
		break;
	}
	if (describe(v))
		diag_error(v->d, in->file, want->line,
			   "zone %s: %s %s %s: the intent says it must always resolve", z->name_text,
			   want->name, type, what);
}

static void check_static(struct verdict *v, const struct snapshot *s)
{
	for (size_t i = 0; i < s->zones->count; i++) {
		const struct intent *in = s->intents[i];
		for (size_t k = 0; in && k < in->count; k++)
			check_rrset(v, s->zones->zones[i], in, &in->rrsets[k]);
	}
}

size_t guard_check_snapshot(const struct snapshot *s, double now, struct diag *d)
{
	struct verdict v = {.d = d};
	if (!s->intents)
		return 0;
	check_static(&v, s);
	const struct intent_rrset **intent = guard_record_intents(s);
	if (intent)
		v.violations += guard_check_scenarios(
		    s, intent, now, d, v.violations < GUARD_REPORT_MAX ? GUARD_REPORT_MAX - v.violations : 0);
	free(intent);
	if (v.violations > GUARD_REPORT_MAX)
		diag_error(d, NULL, 0, "%zu more violations of the intent", v.violations - GUARD_REPORT_MAX);
	return v.violations;
}
