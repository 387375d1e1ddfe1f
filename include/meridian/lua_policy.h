/* lua_policy.h -- operators' failover policies in Lua: compiled once per load, run on the control
 * thread once per (record, region) when an input changes, never per query.
 *
 * A policy file returns a function called with a context and returning an answer:
 *   ctx.region   the client region's name ("" when no regions are configured)
 *   ctx.record   { name = "www.example.com.", type = "A"|"AAAA"|"CNAME", ttl = 30, pool = "web" }
 *   ctx.members  the members of the record's pool that fit its type (A: IPv4 addresses, AAAA: IPv6,
 *                CNAME: targets), in config order: { name, addr = "192.0.2.1" (A/AAAA) or
 *                target = "a.example.net." (CNAME), dc = "ams", weight, state = "up"|"down"|"drain",
 *                forced = bool, since = seconds in this state, standby = bool }
 *   ctx.dcs      datacenters ordered by preference (for a region: by distance), as the caller gives
 *                them: { name, km } (km = math.huge when unknown)
 *   ctx.now      seconds since the epoch: the policy's only clock
 * The answer: { members = {...} (tables from ctx.members, matched by name) or addrs = { "192.0.2.1",
 * ... } (values of pool members: addresses compared as addresses, targets case-insensitively with or
 * without the final dot), ttl = N (optional, 0..2^31-1), select = "all"|"first"|"weighted"|"shuffle"|
 * "hash" (default "all"), answers = N (cap, optional; 0 = none), recheck = seconds (optional: run
 * again then even when nothing changed) }. Any other field is an error (it is most likely a typo). A
 * value listed twice is kept once, at its first place (lists built by concatenating filters overlap,
 * as the built-in nearest's spill-over does). Helpers live in the global table `meridian` (up,
 * in_dc, nearest, weighted, first_up, and PowerDNS's pickclosest, pickwrandom, pickrandom, pickhashed,
 * all); see src/policy/lua_helpers.c.
 *
 * Sandbox: each file gets its own lua_State with only string (pattern functions bounded: subject
 * 4096 bytes, pattern 128 bytes, nested repetitions by their worst case), table (loops bounded),
 * math (math.random deterministic per call: seeded from the input's seed) and safe base functions;
 * no io, os, debug, coroutine, utf8, require, load, dofile, print, collectgarbage, string.dump,
 * bytecode or __gc; an instruction budget and a time limit per call (and for the file's top level at
 * load) and a memory cap per file, which pcall cannot catch. Globals a policy sets persist between
 * its calls (one state per file): keep state there at your own risk. A set is used by one thread at
 * a time. */
#ifndef MERIDIAN_LUA_POLICY_H
#define MERIDIAN_LUA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/dynamic.h"
#include "meridian/health.h"

#define LUA_POLICY_BUDGET 1000000	      /* VM instructions per call */
#define LUA_POLICY_MEMORY (16u * 1024 * 1024) /* bytes per policy file */
/* Seconds per call: a backstop for instructions that cost O(bytes), such as comparing or
 * concatenating long strings, which a budget of instructions does not bound. */
#define LUA_POLICY_TIME 0.5

struct lua_policy_set;

/* Compiles every distinct policy file the config's records name (each once). Returns NULL with every
 * error as "file:line: message" in d (a file that does not compile, or does not return a function). */
struct lua_policy_set *lua_policy_load(const struct conf *conf, struct diag *d);
void lua_policy_free(struct lua_policy_set *set);

/* One member as the policy sees it. */
struct lua_policy_member {
	enum health_serving state; /* SERVING -> "up", DRAINING -> "drain", OUT -> "down" */
	bool forced;		   /* an operator forced the state */
	double since;		   /* seconds in this state */
};

/* One datacenter in ctx.dcs. */
struct lua_policy_dc {
	unsigned dc; /* index into conf.datacenters */
	double km;   /* INFINITY when unknown */
};

struct lua_policy_input {
	size_t record;	    /* index into conf.records (a CONF_POLICY_LUA record) */
	const char *region; /* name, "" (or NULL) when no regions */
	/* One per member of the record's pool (also those ctx.members leaves out, in pool order);
	 * NULL: every member up, not forced, since 0 (for --check's "all up" scenario). */
	const struct lua_policy_member *members;
	const struct lua_policy_dc *dcs; /* ctx.dcs in this order */
	size_t dc_count;
	double now;
	uint64_t seed; /* seeds math.random for this call (deterministic per record and region) */
};

struct lua_policy_output {
	unsigned member[DYN_VALUES_MAX]; /* indexes into the record's pool, in answer order */
	unsigned count;			 /* >= 1 */
	bool has_ttl;
	uint32_t ttl;
	enum dyn_select select;
	unsigned answers; /* cap, 0 = none (a cap above DYN_VALUES_MAX is stored as DYN_VALUES_MAX) */
	double recheck;	  /* seconds, 0 = none */
};

/* Runs the record's policy with fresh limits and math.random seeded from in->seed. Returns true with
 * the answer in out; false with out zeroed and the reason in err ("policies/api.lua:12: attempt to
 * index a nil value", "budget of 1000000 instructions exceeded", "time limit of 0.5 s exceeded",
 * "memory cap of 16 MiB exceeded", "empty answer", "addrs[2]: 192.0.2.99 is not a member of pool
 * web", "members[1]: ams-6 has no A address", "select: expected all, first, weighted, shuffle or
 * hash"). Never longjmps out, never aborts: a policy cannot crash the server. */
bool lua_policy_run(struct lua_policy_set *set, const struct conf *conf, const struct lua_policy_input *in,
		    struct lua_policy_output *out, char *err, size_t err_size);

/* Internal to src/policy/lua*.c: pushes the `meridian` helper table (a lua_CFunction; raises on
 * failure, so call it protected). */
struct lua_State;
int lua_policy_open_helpers(struct lua_State *L);

#endif
