/* loader.h -- building a complete candidate snapshot from a config: zones (with the names of dynamic
 * records placed in them), the geo map and the policies' answers.
 *
 * Runs off the query path (start-up, reload, --check). The candidate is only returned when every
 * part loaded; it is then published by the caller. */
#ifndef MERIDIAN_LOADER_H
#define MERIDIAN_LOADER_H

#include <stdbool.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/snapshot.h"

enum loader_mode {
	LOADER_ALL_OR_NOTHING, /* reload and --check: any error fails the whole load */
	LOADER_SKIP_BAD_ZONES, /* start-up: a zone that fails is reported and left out */
};

/* Builds a snapshot that owns conf (freed on failure too). Returns NULL with every reason in d. */
struct snapshot *loader_build(struct conf *conf, enum loader_mode mode, struct diag *d);
/* loader_build for a reload: the zones of previous (the set serving; NULL: none) whose files have not
 * changed since they were read, and that hold none of the config's dynamic records, are kept as they
 * are (zone_files_unchanged) instead of read again. */
struct snapshot *loader_build_from(struct conf *conf, enum loader_mode mode, const struct zone_set *previous,
				   struct diag *d);

#endif
