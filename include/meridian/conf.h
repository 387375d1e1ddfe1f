/* conf.h -- the config file: Lua evaluated as data in a sandbox, validated against a schema in C.
 *
 * The file is a Lua chunk that assigns globals (serial, listen, zones, ...). It runs in a fresh state
 * with only the string, table and math libraries and a few safe base functions (no io, os, debug,
 * require, load, dofile), under an instruction budget and a memory cap. The resulting globals are then
 * checked in C: unknown keys, wrong types, duplicates and dangling references are errors reported as
 * "file:line: ..." where line is the line that assigned the top-level key (or, when it can be located,
 * the line of the offending nested field or value). Relative paths resolve against the config file's
 * folder. A struct conf is immutable once conf_load returns it; all its memory is in its arena. */
#ifndef MERIDIAN_CONF_H
#define MERIDIAN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "meridian/arena.h"
#include "meridian/diag.h"

struct conf_listen {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
	socklen_t addr_len;
	const char *text; /* as written: "127.0.0.1:5353", "[::1]:5353" */
};

struct conf_zone {
	const char *name; /* apex in presentation form, as written */
	const char *file; /* absolute or relative to the process cwd: already resolved against the config folder */
	unsigned line;    /* line of the zone's entry in the config, for messages */
};

struct conf {
	const char *path; /* the config file, as given */
	const char *dir;  /* its folder, for resolving relative paths */
	uint64_t serial;  /* required, >= 0; must increase on reload (checked by the caller) */
	struct conf_listen *listen; /* required, at least one */
	size_t listen_count;
	struct conf_zone *zones;
	size_t zone_count;
	unsigned workers;  /* default: online CPUs */
	const uint8_t *nsid; /* NSID bytes (the string as given), NULL when not set */
	size_t nsid_len;
	const char *identity; /* CHAOS TXT id.server / hostname.bind answer; NULL: REFUSED */
	const char *version;  /* CHAOS TXT version.server / version.bind answer; NULL: REFUSED */
	unsigned udp_payload;      /* our EDNS UDP payload size, 512..4096, default 1232 */
	unsigned tcp_idle_timeout; /* seconds a TCP connection may stay idle, default 10 */
	unsigned tcp_clients;      /* open TCP connections per worker, default 256 */
	struct arena arena;
};

/* Loads and validates path. On any error returns NULL with every problem found in d. */
struct conf *conf_load(const char *path, struct diag *d);
void conf_free(struct conf *c);

#endif
