/* loader.c -- building a candidate snapshot from a config (see loader.h). */
#include "meridian/loader.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meridian/policy.h"
#include "meridian/wire.h"

/* Index of the configured zone with the longest apex at or above the wire name, or -1. */
static long zone_of(const struct conf *conf, const uint8_t *name, size_t len)
{
	long best = -1;
	for (size_t i = 0; i < conf->zone_count; i++) {
		const struct conf_zone *z = &conf->zones[i];
		if ((best < 0 || z->apex_len > conf->zones[best].apex_len) &&
		    wire_name_within(name, len, z->apex, z->apex_len))
			best = (long)i;
	}
	return best;
}

/* The dynamic records that live in each zone; records outside every zone are errors. */
static struct zone_dynamic **place_records(const struct conf *conf, size_t *counts, struct diag *d)
{
	struct zone_dynamic **per_zone = calloc(conf->zone_count + 1, sizeof(*per_zone));
	if (!per_zone)
		abort();
	for (size_t r = 0; r < conf->record_count; r++) {
		const struct conf_record *rec = &conf->records[r];
		long z = zone_of(conf, rec->owner, rec->owner_len);
		if (z < 0) {
			diag_error(d, conf->path, rec->line, "record %s is not inside any configured zone",
				   rec->name);
			continue;
		}
		const struct conf_zone *cz = &conf->zones[z];
		if (cz->transfer_count || cz->notify_count) {
			/* a secondary would serve the zone without the record: refuse rather than lose it */
			diag_error(
			    d, conf->path, rec->line,
			    "record %s: zone %s has secondaries (transfer or notify, line %u), which would "
			    "serve it without this dynamic record; keep dynamic records in zones that are "
			    "not transferred",
			    rec->name, cz->name, cz->line);
			continue;
		}
		struct zone_dynamic *list = realloc(per_zone[z], (counts[z] + 1) * sizeof(*list));
		if (!list)
			abort();
		list[counts[z]++] = (struct zone_dynamic){.owner = rec->owner,
							  .owner_len = rec->owner_len,
							  .type = rec->type,
							  .index = (uint32_t)r,
							  .file = conf->path,
							  .line = rec->line};
		per_zone[z] = list;
	}
	return per_zone;
}

/* The intent of conf zone i, when it has one; false when it has one that fails to load. */
static bool load_intent(const struct conf *conf, size_t i, struct intent **out, struct diag *d)
{
	*out = NULL;
	if (!conf->zones[i].intent)
		return true;
	*out = intent_load(conf->zones[i].name, conf->zones[i].intent, d);
	return *out != NULL;
}

/* Zone i of conf as previous holds it, when reading its files again would give the same zone: same
 * name and file, no dynamic records placed in it (the config's records may have changed), and every
 * file it was read from unchanged. A signed zone kept this way is still checked for signatures that
 * have expired since it was read. */
static struct zone *unchanged_zone(const struct conf *conf, size_t i, size_t dynamic,
				   const struct zone_set *previous, struct diag *d)
{
	const struct conf_zone *cz = &conf->zones[i];
	struct zone *z = previous ? (struct zone *)zone_set_get(previous, cz->apex, cz->apex_len) : NULL;
	if (!z || dynamic || z->dynamic_count || !zone_read_from(z, cz->file) ||
	    strcmp(z->name_text, cz->name) != 0 || !zone_files_unchanged(z))
		return NULL;
	zone_ref(z);
	if (z->dnssec.expires && z->dnssec.expires <= (int64_t)time(NULL)) {
		char when[40] = "";
		time_t t = (time_t)z->dnssec.expires;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		diag_warn(d, z->file, 0,
			  "zone %s: its first RRSIG expired on %s: validating resolvers reject its answers; "
			  "sign it again and reload",
			  z->name_text, when);
	}
	return z;
}

/* Loads every zone with its intent (intents[k] for the k-th zone of the set), keeping the zones of
 * previous (may be NULL) whose files did not change. A zone with an intent that fails to load, or
 * whose intent fails to load, fails the load in every mode: its names would not resolve, which is
 * what the intent forbids. */
static struct zone_set *load_zones(const struct conf *conf, enum loader_mode mode,
				   const struct zone_set *previous, struct intent **intents, struct diag *d)
{
	size_t *counts = calloc(conf->zone_count + 1, sizeof(*counts));
	struct zone **zones = calloc(conf->zone_count + 1, sizeof(*zones));
	if (!counts || !zones)
		abort();
	size_t errors = d->errors;
	struct zone_dynamic **dyn = place_records(conf, counts, d);
	size_t loaded = 0;
	/* A record outside every zone is a config error: fatal whatever the mode. */
	bool failed = d->errors > errors, config_error = failed;
	for (size_t i = 0; i < conf->zone_count; i++) {
		struct zone *z = unchanged_zone(conf, i, counts[i], previous, d);
		if (!z)
			z = zone_load_dynamic(conf->zones[i].name, conf->zones[i].file, dyn[i], counts[i], d);
		if (z && !load_intent(conf, i, &intents[loaded], d)) {
			zone_unref(z);
			z = NULL;
			config_error = true;
		} else if (!z && conf->zones[i].intent) {
			diag_error(d, conf->path, conf->zones[i].line,
				   "zone %s has an intent: it cannot be left out while its zone file fails",
				   conf->zones[i].name);
			config_error = true;
		}
		if (z)
			zones[loaded++] = z;
		else
			failed = true;
		/* At start-up a bad zone file only takes its zone out, but a dynamic record the zone cannot
		 * hold is a config error: tell them apart by loading the file alone (errors only). */
		if (!z && counts[i] && mode == LOADER_SKIP_BAD_ZONES) {
			struct diag quiet;
			diag_init(&quiet);
			struct zone *plain = zone_load(conf->zones[i].name, conf->zones[i].file, &quiet);
			config_error |= plain != NULL;
			zone_unref(plain);
			diag_free(&quiet);
		}
		free(dyn[i]);
	}
	bool fatal = config_error || (failed && mode == LOADER_ALL_OR_NOTHING);
	struct zone_set *set = fatal ? NULL : zone_set_new(zones, loaded);
	if (!set)
		for (size_t i = 0; i < loaded; i++)
			intent_free(intents[i]), intents[i] = NULL;
	for (size_t i = 0; i < loaded; i++)
		zone_unref(zones[i]);
	free(zones);
	free(dyn);
	free(counts);
	return set;
}

static bool has_lua_records(const struct conf *conf)
{
	for (size_t i = 0; i < conf->record_count; i++)
		if (conf->records[i].policy == CONF_POLICY_LUA)
			return true;
	return false;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool has_intents(const struct conf *conf)
{
	for (size_t i = 0; i < conf->zone_count; i++)
		if (conf->zones[i].intent)
			return true;
	return false;
}

struct snapshot *loader_build(struct conf *conf, enum loader_mode mode, struct diag *d)
{
	return loader_build_from(conf, mode, NULL, d);
}

struct snapshot *loader_build_from(struct conf *conf, enum loader_mode mode, const struct zone_set *previous,
				   struct diag *d)
{
	struct intent **intents = calloc(conf->zone_count + 1, sizeof(*intents));
	if (!intents)
		abort();
	struct zone_set *zones = load_zones(conf, mode, previous, intents, d);
	struct geo_map *geo = NULL;
	struct lua_policy_set *lua = NULL;
	struct dyn_table *dyn = NULL;
	bool ok = zones != NULL;
	if (ok && conf->geo.region_count) {
		geo = geo_map_build(&conf->geo, d);
		ok = geo != NULL;
	}
	if (ok && has_lua_records(conf)) {
		lua = lua_policy_load(conf, d);
		ok = lua != NULL;
	}
	if (ok && conf->record_count) {
		/* every member up: the daemon recomputes with live health before publishing */
		struct policy_inputs in = {.lua = lua, .now = wall_now()};
		dyn = policy_compute(conf, geo, &in, d);
		ok = dyn != NULL;
	}
	if (!ok) {
		for (size_t i = 0; zones && i < zones->count; i++)
			intent_free(intents[i]);
		free(intents);
		zone_set_free(zones);
		geo_map_free(geo);
		lua_policy_free(lua);
		conf_free(conf);
		return NULL;
	}
	struct snapshot *s = snapshot_new(conf, zones, geo, lua);
	s->dyn = dyn;
	if (has_intents(conf))
		snapshot_set_intents(s, intents);
	else
		free(intents);
	return s;
}
