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
#include "meridian/geo.h"

struct conf_listen {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
	socklen_t addr_len;
	const char *text; /* as written: "127.0.0.1:5353", "[::1]:5353" */
};

struct conf_zone {
	const char *name;    /* apex in presentation form, as written */
	const uint8_t *apex; /* the apex as an uncompressed lowercased wire name */
	size_t apex_len;
	const char
	    *file; /* absolute or relative to the process cwd: already resolved against the config folder */
	unsigned line; /* line of the zone's entry in the config, for messages */
};

/* A datacenter: where pool members live; coordinates feed the "nearest" policy. */
struct conf_datacenter {
	const char *name;
	bool has_location;
	double lat, lon;
	unsigned line;
};

/* A pool member: an address (A or AAAA records) or a CNAME target. */
struct conf_member {
	const char *name;      /* unique within its pool */
	int family;	       /* AF_INET, AF_INET6, or 0 for a CNAME target */
	uint8_t addr[16];      /* 4 bytes for AF_INET, 16 for AF_INET6 */
	const uint8_t *target; /* CNAME target as an uncompressed lowercased wire name, NULL for addresses */
	size_t target_len;
	unsigned dc;	 /* index into conf.datacenters */
	unsigned weight; /* >= 1, default 1 */
	unsigned line;
};

struct conf_pool {
	const char *name;
	struct conf_member *members;
	size_t member_count;
	unsigned line;
};

enum conf_policy { CONF_POLICY_FAILOVER, CONF_POLICY_NEAREST, CONF_POLICY_WEIGHTED, CONF_POLICY_ALL };

/* "failover" order for one region: datacenters in preference order. */
struct conf_order {
	unsigned region; /* index into conf.regions */
	unsigned *dcs;	 /* indexes into conf.datacenters */
	size_t dc_count;
};

/* A dynamic record: a name and type inside a loaded zone, answered per region from a pool. */
struct conf_record {
	const char *name;     /* as written */
	const uint8_t *owner; /* uncompressed lowercased wire name */
	size_t owner_len;
	uint16_t type; /* WIRE_TYPE_A, _AAAA or _CNAME */
	unsigned pool; /* index into conf.pools */
	uint32_t ttl;
	enum conf_policy policy;
	unsigned answers;	  /* cap on addresses per answer; 0 = no cap */
	struct conf_order *order; /* failover: one entry per region listed; regions not listed use the
				   * default region's order, else every datacenter by name */
	size_t order_count;
	unsigned line;
};

struct conf {
	const char *path;	    /* the config file, as given */
	const char *dir;	    /* its folder, for resolving relative paths */
	uint64_t serial;	    /* required, >= 0; must increase on reload (checked by the caller) */
	struct conf_listen *listen; /* required, at least one */
	size_t listen_count;
	struct conf_zone *zones;
	size_t zone_count;
	unsigned workers;    /* default: online CPUs */
	const uint8_t *nsid; /* NSID bytes (the string as given), NULL when not set */
	size_t nsid_len;
	const char *identity;	   /* CHAOS TXT id.server / hostname.bind answer; NULL: REFUSED */
	const char *version;	   /* CHAOS TXT version.server / version.bind answer; NULL: REFUSED */
	unsigned udp_payload;	   /* our EDNS UDP payload size, 512..4096, default 1232 */
	unsigned tcp_idle_timeout; /* seconds a TCP connection may stay idle, default 10 */
	unsigned tcp_clients;	   /* open TCP connections per worker, default 256 */

	/* Geo routing (all optional; records need regions only for "failover" orders). */
	struct geo_spec geo; /* databases (resolved paths), regions, default_region */
	bool ecs;	     /* honour EDNS client subnet (default true) */
	struct conf_datacenter *datacenters;
	size_t datacenter_count;
	struct conf_pool *pools;
	size_t pool_count;
	struct conf_record *records;
	size_t record_count;
	struct arena arena;
};

/* Loads and validates path. On any error returns NULL with every problem found in d. */
struct conf *conf_load(const char *path, struct diag *d);
void conf_free(struct conf *c);

#endif
