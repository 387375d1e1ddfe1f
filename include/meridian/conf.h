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
#include "meridian/cookie.h"
#include "meridian/ratelimit.h"
#include "meridian/diag.h"
#include "meridian/geo.h"
#include "meridian/tsig.h"

struct conf_listen {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
	socklen_t addr_len;
	const char *text; /* as written: "127.0.0.1:5353", "[::1]:5353" */
};

/* The account meridiand runs as (key "user": "NAME" or "NAME:GROUP"), resolved when loaded. */
struct conf_user {
	const char *text; /* as written; NULL: not set (meridiand keeps the account it started with) */
	uid_t uid;
	gid_t gid; /* GROUP's, or NAME's primary group */
};

struct conf_zone {
	const char *name;    /* apex in presentation form, as written */
	const uint8_t *apex; /* the apex as an uncompressed lowercased wire name */
	size_t apex_len;
	const char
	    *file; /* absolute or relative to the process cwd: already resolved against the config folder */
	/* the zone's intent file (intent.h), resolved like file; NULL: the zone is not guarded */
	const char *intent;
	unsigned line; /* line of the zone's entry in the config, for messages */
	/* Secondaries (transfer.h): the nets allowed to transfer the zone over TCP (AXFR and IXFR), and the
	 * servers sent a NOTIFY when the zone's serial changes. Both empty by default: no transfers, no
	 * notifies. */
	const struct geo_net *transfer;
	size_t transfer_count;
	const struct conf_listen *notify;
	size_t notify_count;
	/* A key of conf.tsig_keys: transfers then need a request signed with it (from a transfer net),
	 * and the NOTIFY messages are signed with it. NULL: transfers by address alone. */
	const struct tsig_key *transfer_key;
	const char *transfer_key_name; /* as written (NULL: none), and where */
	unsigned transfer_key_line;
	/* How many versions' differences a reload keeps for IXFR (journal.h) when the zone has
	 * secondaries ("transfer"); 0: none, every IXFR gets the whole zone. */
	unsigned ixfr_versions;
};
#define CONF_IXFR_DEFAULT 10
#define CONF_IXFR_MAX	  1000

/* A datacenter: where pool members live; coordinates feed the "nearest" policy. */
struct conf_datacenter {
	const char *name;
	bool has_location;
	double lat, lon;
	unsigned line;
};

/* A health check (pool-level defaults merged with a member's overrides). Times in seconds; below one
 * second is allowed (tests). */
enum conf_check_type { CONF_CHECK_TCP, CONF_CHECK_HTTP, CONF_CHECK_HTTPS, CONF_CHECK_DNS, CONF_CHECK_EXEC };

#define CONF_CHECK_EXPECT_MAX 16

struct conf_check {
	enum conf_check_type type;
	uint16_t port;	  /* tcp: required; http 80, https 443, dns 53 by default; exec: {port}, or 0 */
	const char *path; /* http(s): request path, default "/" */
	const char *host; /* http(s): Host header and TLS SNI; NULL: the member's address */
	uint16_t expect[CONF_CHECK_EXPECT_MAX]; /* http(s): accepted status codes, default { 200 } */
	size_t expect_count;
	const char *body;    /* http(s): a substring the body must contain; NULL: any body */
	bool verify;	     /* https: verify the certificate and host name (default true) */
	const char *qname;   /* dns: the name to ask, presentation form (default ".") */
	uint16_t qtype;	     /* dns: default SOA */
	uint8_t rcode;	     /* dns: the rcode that means up (default 0, NOERROR) */
	const char *answer;  /* dns: rdata (presentation form, e.g. "192.0.2.1") that must be in the answer
			      * section; NULL: any answer */
	const char *command; /* exec: run by /bin/sh -c with {addr}, {name} and {port} substituted */
	double interval;     /* default 5 */
	double timeout;	     /* default 2 (interval / 2 when only an interval <= 2 is given), < interval */
	unsigned rise;	     /* consecutive successes to come back up, default 2 */
	unsigned fall;	     /* consecutive failures to go down, default 3 */
	unsigned flap_limit; /* more transitions than this within flap_window hold the member down;
			      * default 4, 0 = no damping */
	double flap_window;  /* default 60 */
	double hold;	     /* default 120 */
	unsigned line;	     /* where the check (or the member's override) was written */
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
	bool standby;	 /* serves only through an explicit fallback (when_all_down = "pool:NAME") */
	const struct conf_check *check; /* NULL: not monitored (always counts as up) */
	unsigned line;
};

struct conf_pool {
	const char *name;
	struct conf_member *members;
	size_t member_count;
	const struct conf_check *check; /* the pool's defaults; NULL when the pool has none */
	unsigned line;
};

enum conf_policy {
	CONF_POLICY_FAILOVER,
	CONF_POLICY_NEAREST,
	CONF_POLICY_WEIGHTED,
	CONF_POLICY_ALL,
	CONF_POLICY_LUA, /* policy = "policies/api.lua": conf_record.policy_file */
};

/* What a record answers when its policy finds no member up. */
enum conf_all_down {
	CONF_ALL_DOWN_SERVE_ALL, /* fail open: every member of the record's type (standby excluded) */
	CONF_ALL_DOWN_LAST_GOOD, /* the last answer that had members up (serve_all when there is none) */
	CONF_ALL_DOWN_POOL,	 /* the policy over a fallback pool, standby members included */
};

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
	uint32_t ttl_degraded; /* when the answer differs from the all-up answer; default ttl / 4 */
	enum conf_all_down when_all_down;
	unsigned fallback_pool; /* index into conf.pools, for CONF_ALL_DOWN_POOL */
	enum conf_policy policy;
	const char *policy_file;  /* CONF_POLICY_LUA: the file, resolved against the config folder */
	unsigned answers;	  /* cap on addresses per answer; 0 = no cap */
	struct conf_order *order; /* failover: one entry per region listed; regions not listed use the
				   * default region's order, else every datacenter by name */
	size_t order_count;
	unsigned line;
};

struct conf {
	const char *path;   /* the config file, as given */
	const char *dir;    /* its folder, for resolving relative paths */
	uint64_t serial;    /* required, >= 0; must increase on reload (checked by the caller) */
	uint8_t digest[32]; /* SHA-256 of the file's bytes: an equal serial with the same bytes is the same
			       config */
	struct conf_listen *listen; /* required, at least one */
	size_t listen_count;
	struct conf_zone *zones;
	size_t zone_count;
	size_t transfer_zones; /* zones with a transfer list: when 0, no transfer is ever handed over */
	/* The addresses NOTIFY messages leave from ("notify_source"): [0] IPv4, [1] IPv6, port 0;
	 * addr_len 0 where none is given (the kernel picks, by the route). */
	struct conf_listen notify_source[2];
	/* TSIG keys (tsig.h, key "tsig_keys"): queries signed with one get signed answers; a zone's
	 * transfer_key names one. */
	const struct tsig_key *tsig_keys;
	size_t tsig_key_count;
	unsigned workers;    /* default: online CPUs */
	const uint8_t *nsid; /* NSID bytes (the string as given), NULL when not set */
	size_t nsid_len;
	const char *identity;	   /* CHAOS TXT id.server / hostname.bind answer; NULL: REFUSED */
	const char *version;	   /* CHAOS TXT version.server / version.bind answer; NULL: REFUSED */
	unsigned udp_payload;	   /* our EDNS UDP payload size, 512..4096, default 1232 */
	unsigned tcp_idle_timeout; /* seconds a TCP connection may stay idle, default 10 */
	unsigned tcp_clients;	   /* open TCP connections per worker, default 256 */
	unsigned prepared_answers; /* answers prepared at most (prepared.h), default 250000; 0: none */
	const char *state_dir;	   /* health state and (later) the audit log; default "run" (resolved) */
	const char *control;	   /* the control socket; default state_dir/meridian.sock (resolved) */
	bool cookies;		   /* answer DNS Cookies (RFC 7873), default true */
	/* cookie_secrets as configured, or one random secret per process (cookie_process_secret) */
	struct cookie_secrets cookie_secrets;
	struct ratelimit_spec rate_limit; /* per-client UDP response limit; rate 0 (the default): none */
	struct conf_listen metrics;	  /* the Prometheus endpoint; addr_len 0 (the default): none */
	struct conf_user user;		  /* the account to run as after start-up (privileges.h) */

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
