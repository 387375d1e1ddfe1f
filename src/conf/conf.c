/* conf.c -- the config schema: checks the globals a config chunk assigned and builds struct conf.
 *
 * Each top-level key is one entry of conf_keys: its name, whether it is required, a parser and the
 * field it fills (with a range and a default for integers). Keys are checked in the order they were
 * assigned, so messages come out in file order, within phases: a key that refers to names defined by
 * other keys (default_region to regions, pools to datacenters, records to pools) is parsed in a later
 * phase, so the order of assignments in the file does not matter. After each phase, missing required
 * keys are reported and defaults applied. Values are read with raw access only (no metamethods), so no
 * config code runs once the chunk has finished. Every problem is reported; nothing stops at the first. */
#include "meridian/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <lauxlib.h>
#include <ldns/sha2.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "meridian/conf_sandbox.h"
#include "schema.h"

static conf_parse_fn key_u64, key_uint, key_workers, key_text, key_bytes, key_bool, key_listen, key_zones,
    key_state_dir, key_control, key_cookie_secrets, key_metrics, key_user;

/* The schema. A new key is a field in struct conf plus one entry here, with a parser from below (or a
 * new one for a new kind of value). */
/* clang-format off */
#define F(f) offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{"serial",           key_u64,     .required = true, .field = F(serial), .min = 0, .max = INT64_MAX},
	{"listen",           key_listen,  .required = true, .min = 1},
	{"zones",            key_zones,   .required = false},
	{"tsig_keys",        conf_key_tsig_keys, .phase = 1},
	{"notify_source",    conf_key_notify_source, .phase = 0},
	{"workers",          key_workers, .field = F(workers), .min = 1, .max = 64},
	{"nsid",             key_bytes,   .field = F(nsid), .len_field = F(nsid_len), .min = 1, .max = 128},
	{"identity",         key_text,    .field = F(identity), .min = 0, .max = 255},
	{"version",          key_text,    .field = F(version), .min = 0, .max = 255},
	{"udp_payload",      key_uint,    .field = F(udp_payload), .min = 512, .max = 4096, .def = 1232},
	{"tcp_idle_timeout", key_uint,    .field = F(tcp_idle_timeout), .min = 1, .max = 3600, .def = 10},
	{"tcp_clients",      key_uint,    .field = F(tcp_clients), .min = 1, .max = 65536, .def = 256},
	{"prepared_answers", key_uint,    .field = F(prepared_answers), .min = 0, .max = 100000000, .def = 250000},
	{"state_dir",        key_state_dir, .field = F(state_dir), .phase = 0},
	{"control",          key_control, .field = F(control), .phase = 1},
	{"geoip",            conf_key_geoip, .phase = 0},
	{"regions",          conf_key_regions, .phase = 0},
	{"default_region",   conf_key_default_region, .phase = 1},
	{"ecs",              key_bool,    .field = F(ecs), .def = true},
	{"cookies",          key_bool,    .field = F(cookies), .def = true},
	{"cookie_secrets",   key_cookie_secrets, .field = F(cookie_secrets)},
	{"rate_limit",       conf_key_rate_limit, .phase = 0},
	{"metrics",          key_metrics, .field = F(metrics)},
	{"user",             key_user,    .field = F(user)},
	{"datacenters",      conf_key_datacenters, .phase = 0},
	{"pools",            conf_key_pools, .phase = 1},
	{"records",          conf_key_records, .phase = 2},
	{NULL,               NULL,        .required = false},
};
#undef F
/* clang-format on */
#define CONF_KEY_COUNT (sizeof(conf_keys) / sizeof(conf_keys[0]) - 1)
#define CONF_PHASES    3

static const char *const zone_fields[] = {"name",	  "file",   "intent", "transfer",
					  "transfer_key", "notify", "ixfr",   NULL};

static void *conf_field(struct loader *ld, size_t off)
{
	return (char *)ld->c + off;
}

/* What the value at idx is, for "expected ..., got <what>". */
const char *conf_what(lua_State *L, int idx, char *buf, size_t n)
{
	if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx)) {
		snprintf(buf, n, "float %.14g", (double)lua_tonumber(L, idx));
		return buf;
	}
	return luaL_typename(L, idx);
}

/* A table key for messages: 'name', 3, or its type. Never converts the key in place. */
const char *conf_key_text(lua_State *L, int idx, char *buf, size_t n)
{
	if (lua_type(L, idx) == LUA_TSTRING)
		snprintf(buf, n, "'%.40s'", lua_tostring(L, idx));
	else if (lua_isinteger(L, idx))
		snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
	else
		return conf_what(L, idx, buf, n);
	return buf;
}

void conf_expected(struct loader *ld, unsigned line, const char *label, const char *what)
{
	char buf[64];
	conf_error(ld, line, "%s: expected %s, got %s", label, what, conf_what(ld->L, -1, buf, sizeof(buf)));
}

/* Optimal string alignment distance (edits, including swapping two neighbours), case-insensitive. */
static unsigned conf_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned dp[33][33];
	if (n > 32 || m > 32)
		return UINT_MAX;
	for (size_t i = 0; i <= n; i++)
		dp[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		dp[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned best = dp[i - 1][j - 1] + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
			if (dp[i - 1][j] + 1 < best)
				best = dp[i - 1][j] + 1;
			if (dp[i][j - 1] + 1 < best)
				best = dp[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    dp[i - 2][j - 2] + 1 < best)
				best = dp[i - 2][j - 2] + 1;
			dp[i][j] = best;
		}
	}
	return dp[n][m];
}

const char *conf_closest(const char *key, const char *const *names, size_t count, size_t stride)
{
	const char *best = NULL;
	unsigned best_dist = 3;
	for (size_t i = 0; i < count; i++) {
		const char *n = *(const char *const *)((const char *)names + i * stride);
		unsigned dist = conf_distance(key, n);
		size_t longest = strlen(key) > strlen(n) ? strlen(key) : strlen(n);
		/* within 2 edits, and not most of the name: "lax" is no typo of "iad" */
		if (dist < best_dist && 2 * dist <= longest) {
			best = n;
			best_dist = dist;
		}
	}
	return best;
}

/* Reports an unknown key, suggesting the closest known name (conf_closest). names is a NULL-ended
 * array of strings spaced stride bytes apart (plain arrays, or the name field of conf_keys). */
static void conf_unknown(struct loader *ld, unsigned line, const char *label, const char *key,
			 const char *const *names, size_t stride)
{
	size_t count = 0;
	while (*(const char *const *)((const char *)names + count * stride))
		count++;
	const char *best = conf_closest(key, names, count, stride);
	char hint[64] = "";
	if (best)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", best);
	else if (!label)
		snprintf(hint, sizeof(hint), " (helper variables and functions must be local)");
	if (label)
		conf_error(ld, line, "%s: unknown key '%.64s'%s", label, key, hint);
	else
		conf_error(ld, line, "unknown key '%.64s'%s", key, hint);
}

/* Line of a nested value: the value at idx is looked for as `key = "value"` when it is a string, then
 * as `key =` alone (unless it is nil), from *cursor (see locate.c). Only a match on the value moves *cursor
 * past it: a bare key may be a loop body shared by many entries. fallback when nothing is found. */
static unsigned conf_locate(struct loader *ld, size_t *cursor, unsigned fallback, const char *key, int idx)
{
	size_t at = CONF_SOURCE_NONE, vlen;
	if (lua_isnil(ld->L, idx)) /* not written at all: any `key =` found would be someone else's */
		return fallback;
	if (lua_type(ld->L, idx) == LUA_TSTRING) {
		const char *v = lua_tolstring(ld->L, idx, &vlen);
		at = conf_source_find(ld->src, *cursor, key, v, vlen);
		if (at != CONF_SOURCE_NONE)
			*cursor = at + 1;
	}
	if (at == CONF_SOURCE_NONE && key)
		at = conf_source_find(ld->src, *cursor, key, NULL, 0);
	return at == CONF_SOURCE_NONE ? fallback : conf_source_line(ld->src, at);
}

/* The integer on top of the stack if it is one in min..max; false (reported) otherwise. */
bool conf_int(struct loader *ld, const char *label, unsigned line, int64_t min, int64_t max, int64_t *out)
{
	lua_State *L = ld->L;
	if (lua_type(L, -1) != LUA_TNUMBER || !lua_isinteger(L, -1)) {
		conf_expected(ld, line, label, "an integer");
		return false;
	}
	int64_t v = lua_tointeger(L, -1);
	if (v >= min && v <= max) {
		*out = v;
		return true;
	}
	if (max == INT64_MAX)
		conf_error(ld, line, "%s: expected an integer >= %" PRId64 ", got %" PRId64, label, min, v);
	else
		conf_error(ld, line, "%s: expected an integer in %" PRId64 "..%" PRId64 ", got %" PRId64,
			   label, min, max, v);
	return false;
}

/* The string on top of the stack if it is one of min..max bytes (and, unless bytes, without NUL);
 * NULL (reported) otherwise. */
const char *conf_string(struct loader *ld, const char *label, unsigned line, size_t min, size_t max,
			bool bytes, size_t *len)
{
	if (lua_type(ld->L, -1) != LUA_TSTRING) {
		conf_expected(ld, line, label, "a string");
		return NULL;
	}
	const char *s = lua_tolstring(ld->L, -1, len);
	if (*len < min || *len > max) {
		if (min == 0)
			conf_error(ld, line, "%s: expected at most %zu bytes, got %zu", label, max, *len);
		else if (min == 1 && *len == 0)
			conf_error(ld, line, "%s: expected a non-empty string", label);
		else
			conf_error(ld, line, "%s: expected %zu..%zu bytes, got %zu", label, min, max, *len);
		return NULL;
	}
	if (!bytes && memchr(s, '\0', *len)) {
		conf_error(ld, line, "%s: must not contain NUL bytes", label);
		return NULL;
	}
	return s;
}

/* Checks that the value on top is a list (a table whose keys are exactly 1..n); n, or -1 (reported). */
lua_Integer conf_list(struct loader *ld, const char *label, unsigned line, const char *what)
{
	lua_State *L = ld->L;
	if (lua_type(L, -1) != LUA_TTABLE) {
		conf_expected(ld, line, label, what);
		return -1;
	}
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	/* Lua's iteration order is not fixed: the key named is the first in text order, so that the
	 * same config always gives the same message. */
	char first[64] = "";
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
			char buf[64];
			conf_key_text(L, -1, buf, sizeof(buf));
			if (!*first || strcmp(buf, first) < 0)
				snprintf(first, sizeof(first), "%s", buf);
		}
	}
	if (*first) {
		conf_error(ld, line, "%s: expected %s, found key %s", label, what, first);
		return -1;
	}
	return n;
}

/* Reports each key of the table on top that is not in known, at the line of `key =` after from. */
static bool conf_check_keys(struct loader *ld, const char *label, const char *const *known, size_t from,
			    unsigned line)
{
	lua_State *L = ld->L;
	bool ok = true;
	size_t start = ld->d->count;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			char buf[64];
			conf_error(ld, line, "%s: unexpected key %s", label,
				   conf_key_text(L, -1, buf, sizeof(buf)));
			ok = false;
			continue;
		}
		const char *key = lua_tostring(L, -1);
		const char *const *k = known;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (*k)
			continue;
		size_t at = conf_source_find(ld->src, from, key, NULL, 0);
		conf_unknown(ld, at == CONF_SOURCE_NONE ? line : conf_source_line(ld->src, at), label, key,
			     known, sizeof(*known));
		ok = false;
	}
	diag_sort(ld->d, start); /* in line order, whatever order Lua walked the table in */
	return ok;
}

static void key_u64(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	int64_t v = k->def;
	if (lua_isnil(ld->L, -1) || conf_int(ld, k->name, at->line, k->min, k->max, &v))
		*(uint64_t *)conf_field(ld, k->field) = (uint64_t)v;
}

static void key_uint(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	int64_t v = k->def;
	if (lua_isnil(ld->L, -1) || conf_int(ld, k->name, at->line, k->min, k->max, &v))
		*(unsigned *)conf_field(ld, k->field) = (unsigned)v;
}

/* Default: one worker per online CPU, within the key's range. */
static void key_workers(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	if (!lua_isnil(ld->L, -1)) {
		key_uint(ld, k, at);
		return;
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*(unsigned *)conf_field(ld, k->field) = (unsigned)(cpus < k->min   ? k->min
							   : cpus > k->max ? k->max
									   : cpus);
}

static void key_bool(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	bool *out = conf_field(ld, k->field);
	if (lua_isnil(ld->L, -1))
		*out = k->def != 0;
	else if (lua_type(ld->L, -1) == LUA_TBOOLEAN)
		*out = lua_toboolean(ld->L, -1);
	else
		conf_expected(ld, at->line, k->name, "true or false");
}

/* A string without NUL bytes; NULL when absent. */
static void key_text(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	size_t len;
	const char *s;
	if (!lua_isnil(ld->L, -1) &&
	    (s = conf_string(ld, k->name, at->line, (size_t)k->min, (size_t)k->max, false, &len)))
		*(const char **)conf_field(ld, k->field) = arena_memdup(&ld->c->arena, s, len + 1);
}

/* Bytes as given (NUL allowed), with their length; NULL and 0 when absent. */
static void key_bytes(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	size_t len;
	const char *s;
	if (lua_isnil(ld->L, -1) ||
	    !(s = conf_string(ld, k->name, at->line, (size_t)k->min, (size_t)k->max, true, &len)))
		return;
	*(const uint8_t **)conf_field(ld, k->field) = arena_memdup(&ld->c->arena, s, len);
	*(size_t *)conf_field(ld, k->len_field) = len;
}

/* A list of 1 to COOKIE_SECRETS_MAX secrets, 32 hex digits each (the first makes cookies); when
 * absent, the process's random secret, so cookies stay valid across reloads of one process. */
static void key_cookie_secrets(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	struct cookie_secrets *out = conf_field(ld, k->field);
	out->count = 0;
	if (lua_isnil(L, -1)) {
		if (cookie_process_secret(out->key[0]))
			out->count = 1;
		else
			conf_error(ld, at->line, "no random secret for DNS cookies could be drawn");
		return;
	}
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of secrets (32 hex digits each)");
	if (n < 0)
		return;
	if (n < 1 || n > COOKIE_SECRETS_MAX) {
		conf_error(ld, at->line, "%s: expected 1 to %d secrets, got %lld", k->name,
			   COOKIE_SECRETS_MAX, (long long)n);
		return;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		char label[64];
		size_t len;
		snprintf(label, sizeof(label), "%s[%lld]", k->name, (long long)i);
		lua_rawgeti(L, -1, i);
		const char *hex = conf_string(ld, label, at->line, 1, 256, false, &len);
		if (hex && !cookie_secret_parse(hex, len, out->key[out->count]))
			conf_error(ld, at->line,
				   "%s: expected %d hex digits (a 128-bit secret, RFC 9018), got %zu "
				   "characters",
				   label, COOKIE_HEX_LEN, len);
		else if (hex)
			out->count++;
		lua_pop(L, 1);
	}
}

/* The folder for health state: a path resolved like zone files, "run" by default. It need not exist yet
 * (the daemon creates it). */
static void key_state_dir(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	size_t len;
	const char *s = "run";
	ld->state_dir_line = at->line;
	if (!lua_isnil(ld->L, -1) && !(s = conf_string(ld, k->name, at->line, 1, PATH_MAX, false, &len)))
		return;
	*(const char **)conf_field(ld, k->field) = conf_resolve(ld->c, s);
}

/* The control socket's path, resolved; by default meridian.sock in state_dir. A Unix socket's path
 * must fit in sun_path, so a long one is refused here rather than when the daemon binds it. */
static void key_control(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	size_t len;
	const char *s, *path;
	if (!lua_isnil(ld->L, -1)) {
		if (!(s = conf_string(ld, k->name, at->line, 1, PATH_MAX, false, &len)))
			return;
		path = conf_resolve(ld->c, s);
	} else if (ld->c->state_dir) {
		char *p = arena_alloc(&ld->c->arena, strlen(ld->c->state_dir) + sizeof("/meridian.sock"));
		path = strcat(strcpy(p, ld->c->state_dir), "/meridian.sock");
	} else {
		return; /* state_dir was wrong (reported) */
	}
	if (strlen(path) > max) {
		if (lua_isnil(ld->L, -1))
			conf_error(
			    ld, ld->state_dir_line,
			    "control: the default \"%s\" (state_dir/meridian.sock) is %zu bytes, longer "
			    "than a Unix socket path may be (%zu); set control to a shorter path",
			    path, strlen(path), max);
		else
			conf_error(
			    ld, at->line,
			    "control: \"%s\" is %zu bytes, longer than a Unix socket path may be (%zu)", path,
			    strlen(path), max);
		return;
	}
	*(const char **)conf_field(ld, k->field) = path;
}

bool conf_parse_addr(const char *s, struct conf_listen *out, char *why, size_t n)
{
	const char *host = s, *host_end, *port;
	int family = AF_INET;
	if (s[0] == '[') {
		family = AF_INET6;
		host = s + 1;
		if (!(host_end = strchr(host, ']'))) {
			snprintf(why, n, "missing ']' after the IPv6 address");
			return false;
		}
		port = host_end[1] == ':' ? host_end + 2 : NULL;
	} else {
		host_end = strrchr(s, ':');
		port = host_end ? host_end + 1 : NULL;
		if (host_end && memchr(s, ':', (size_t)(host_end - s))) {
			snprintf(why, n, "an IPv6 address must be written in brackets: \"[address]:port\"");
			return false;
		}
	}
	if (!port || !*port) {
		snprintf(why, n, "missing port (expected \"address:port\")");
		return false;
	}
	unsigned long p = 0;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9' || c - port >= 5) {
			snprintf(why, n, "port must be a number in 1..65535");
			return false;
		}
		p = p * 10 + (unsigned long)(*c - '0');
	}
	if (p < 1 || p > 65535) {
		snprintf(why, n, "port %lu out of range 1..65535", p);
		return false;
	}
	char text[INET6_ADDRSTRLEN] = ""; /* left empty when too long: inet_pton rejects it */
	size_t len = (size_t)(host_end - host);
	if (len < sizeof(text)) {
		memcpy(text, host, len);
		text[len] = '\0';
	}
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		out->addr_len = sizeof(*sin);
		if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
			return true;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		out->addr_len = sizeof(*sin6);
		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
			return true;
	}
	snprintf(why, n, "not an %s address", family == AF_INET ? "IPv4" : "IPv6");
	return false;
}

/* The address the Prometheus metrics endpoint listens on, "address:port"; none when absent. */
static void key_metrics(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	struct conf_listen *out = conf_field(ld, k->field);
	char why[96];
	size_t len;
	const char *s;
	memset(out, 0, sizeof(*out));
	if (lua_isnil(ld->L, -1) || !(s = conf_string(ld, k->name, at->line, 1, 255, false, &len)))
		return;
	if (!conf_parse_addr(s, out, why, sizeof(why))) {
		conf_error(ld, at->line, "%s: \"%s\": %s", k->name, s, why);
		memset(out, 0, sizeof(*out));
		return;
	}
	out->text = arena_memdup(&ld->c->arena, s, len + 1);
}

/* "NAME" or "NAME:GROUP": the account meridiand runs as once started (privileges.h). Both must exist
 * here, on the machine that loads the config. */
static void key_user(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	struct conf_user *out = conf_field(ld, k->field);
	size_t len;
	const char *s;
	memset(out, 0, sizeof(*out));
	if (lua_isnil(ld->L, -1) || !(s = conf_string(ld, k->name, at->line, 1, 255, false, &len)))
		return;
	const char *colon = strchr(s, ':');
	char name[256], group[256] = "";
	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - s) : (int)len, s);
	if (colon)
		snprintf(group, sizeof(group), "%s", colon + 1);
	if (!*name || (colon && !*group)) {
		conf_error(ld, at->line, "%s: \"%s\": expected \"NAME\" or \"NAME:GROUP\"", k->name, s);
		return;
	}
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	int err = getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
	if (!pwp) {
		conf_error(ld, at->line, "%s: no user \"%s\" on this system%s%s", k->name, name,
			   err ? ": " : "", err ? strerror(err) : "");
		return;
	}
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	if (colon) {
		struct group gr, *grp = NULL;
		err = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
		if (!grp) {
			conf_error(ld, at->line, "%s: no group \"%s\" on this system%s%s", k->name, group,
				   err ? ": " : "", err ? strerror(err) : "");
			return;
		}
		out->gid = gr.gr_gid;
	}
	out->text = arena_memdup(&ld->c->arena, s, len + 1);
}

/* One listen entry (on top of the stack); seen maps address bytes to the first index. */
static bool conf_listen_one(struct loader *ld, lua_Integer i, const struct site *at, size_t *cursor, int seen,
			    struct conf_listen *out)
{
	lua_State *L = ld->L;
	char label[32], why[96];
	snprintf(label, sizeof(label), "listen[%lld]", (long long)i);
	unsigned line = conf_locate(ld, cursor, at->line, NULL, -1);
	size_t len;
	const char *s = conf_string(ld, label, line, 1, 255, false, &len);
	if (!s)
		return false;
	if (!conf_parse_addr(s, out, why, sizeof(why))) {
		conf_error(ld, line, "%s: \"%s\": %s", label, s, why);
		return false;
	}
	out->text = arena_memdup(&ld->c->arena, s, len + 1);
	lua_pushlstring(L, (const char *)&out->addr, out->addr_len);
	if (lua_rawget(L, seen) == LUA_TNUMBER) {
		conf_error(ld, line, "%s: \"%s\" duplicates listen[%lld]", label, s,
			   (long long)lua_tointeger(L, -1));
		lua_pop(L, 1);
		return false;
	}
	lua_pop(L, 1);
	lua_pushlstring(L, (const char *)&out->addr, out->addr_len);
	lua_pushinteger(L, i);
	lua_rawset(L, seen);
	return true;
}

static void key_listen(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of \"address:port\" strings");
	if (n < 0)
		return;
	if (n < k->min) {
		conf_error(ld, at->line, "%s: expected at least one \"address:port\"", k->name);
		return;
	}
	struct conf_listen *out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	size_t count = 0, cursor = at->pos;
	lua_newtable(L);
	int seen = lua_gettop(L);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, seen - 1, i);
		count += conf_listen_one(ld, i, at, &cursor, seen, &out[count]);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	ld->c->listen = out;
	ld->c->listen_count = count;
}

/* Whether s is a domain name we accept: "." (the root), or labels of 1..63 letters, digits, '-', '_'
 * or '/' (RFC 2317 names), at most 253 characters without the optional trailing dot. */
bool conf_domain_check(const char *s, size_t len, char *why, size_t n)
{
	if (len == 1 && s[0] == '.')
		return true;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len > 253) {
		snprintf(why, n, "longer than 253 characters");
		return false;
	}
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char ch = i < len ? (unsigned char)s[i] : '.';
		if (ch == '.') {
			if (label == 0 || label > 63) {
				snprintf(why, n,
					 label ? "a label is longer than 63 characters" : "empty label");
				return false;
			}
			label = 0;
		} else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
			label++;
		} else if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '/') {
			label++;
		} else {
			snprintf(why, n,
				 ch >= ' ' && ch < 0x7f ? "invalid character '%c'"
							: "invalid character \\%03o",
				 ch);
			return false;
		}
	}
	return true;
}

/* The zone name on top of the stack (entry below it, then seen). Two entries are the same zone when
 * their wire forms (lowercased, trailing dot ignored) are equal. */
static bool conf_zone_name(struct loader *ld, const char *label, lua_Integer i, int seen, struct conf_zone *z)
{
	lua_State *L = ld->L;
	char nlabel[48];
	snprintf(nlabel, sizeof(nlabel), "%s.name", label);
	z->apex = conf_domain_value(ld, nlabel, z->line, &z->apex_len, &z->name);
	if (!z->apex)
		return false;
	lua_pushlstring(L, (const char *)z->apex, z->apex_len);
	if (lua_rawget(L, seen) == LUA_TNUMBER) {
		conf_error(ld, z->line, "%s: duplicate zone \"%s\" (already in zones[%lld])", nlabel, z->name,
			   (long long)lua_tointeger(L, -1));
		lua_pop(L, 1);
		return false;
	}
	lua_pop(L, 1);
	lua_pushlstring(L, (const char *)z->apex, z->apex_len);
	lua_pushinteger(L, i);
	lua_rawset(L, seen);
	return true;
}

/* Resolves file against the config's folder unless it is absolute. */
const char *conf_resolve(struct conf *c, const char *file)
{
	if (file[0] == '/' || strcmp(c->dir, ".") == 0)
		return arena_strdup(&c->arena, file);
	size_t dl = strlen(c->dir), fl = strlen(file);
	bool slash = c->dir[dl - 1] == '/';
	char *p = arena_alloc(&c->arena, dl + 1 + fl + 1);
	memcpy(p, c->dir, dl);
	if (!slash)
		p[dl++] = '/';
	memcpy(p + dl, file, fl + 1);
	return p;
}

const char *conf_unreadable(const char *path)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	const char *why = NULL;
	if (fd < 0 || fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	if (fd >= 0)
		close(fd);
	return why;
}

/* The zone's file (field "file") or intent file ("intent") on top of the stack: must name a readable
 * regular file. */
static bool conf_zone_path(struct loader *ld, const char *label, const char *field, unsigned line,
			   const char **path)
{
	char flabel[48];
	snprintf(flabel, sizeof(flabel), "%s.%s", label, field);
	size_t len;
	const char *s;
	if (lua_isnil(ld->L, -1)) {
		conf_error(ld, line, "%s: missing (expected a zone file name)", flabel);
		return false;
	}
	if (!(s = conf_string(ld, flabel, line, 1, PATH_MAX, false, &len)))
		return false;
	*path = conf_resolve(ld->c, s);
	const char *why = conf_unreadable(*path);
	if (why)
		conf_error(ld, line, "%s: cannot read \"%s\": %s", flabel, *path, why);
	return !why;
}

/* Text positions from which the fields of the next zone entry are searched. */
struct zone_cursors {
	size_t name, file, intent, transfer, transfer_key, notify, ixfr;
};

/* One zones entry (on top of the stack). */
static bool conf_zone_one(struct loader *ld, lua_Integer i, const struct site *at, struct zone_cursors *cur,
			  int seen, struct conf_zone *z)
{
	lua_State *L = ld->L;
	char label[40];
	snprintf(label, sizeof(label), "zones[%lld]", (long long)i);
	if (lua_type(L, -1) != LUA_TTABLE) {
		conf_expected(ld, conf_locate(ld, &cur->name, at->line, NULL, -1), label,
			      "a table { name = ..., file = ... }");
		return false;
	}
	size_t from = cur->name; /* the entry starts after the previous entry's name */
	lua_pushliteral(L, "name");
	lua_rawget(L, -2);
	z->line = conf_locate(ld, &cur->name, at->line, "name", -1);
	bool ok = conf_zone_name(ld, label, i, seen, z);
	lua_pop(L, 1);
	ok &= conf_check_keys(ld, label, zone_fields, from, z->line);
	lua_pushliteral(L, "file");
	lua_rawget(L, -2);
	if (cur->file < from)
		cur->file = from;
	ok &= conf_zone_path(ld, label, "file", conf_locate(ld, &cur->file, z->line, "file", -1), &z->file);
	lua_pop(L, 1);
	lua_pushliteral(L, "intent");
	lua_rawget(L, -2);
	if (cur->intent < from)
		cur->intent = from;
	if (!lua_isnil(L, -1))
		ok &= conf_zone_path(ld, label, "intent",
				     conf_locate(ld, &cur->intent, z->line, "intent", -1), &z->intent);
	lua_pop(L, 1);
	lua_pushliteral(L, "transfer");
	lua_rawget(L, -2);
	if (cur->transfer < from)
		cur->transfer = from;
	ok &= conf_zone_transfer(ld, label, conf_locate(ld, &cur->transfer, z->line, "transfer", -1), z);
	lua_pop(L, 1);
	lua_pushliteral(L, "transfer_key");
	lua_rawget(L, -2);
	if (cur->transfer_key < from)
		cur->transfer_key = from;
	ok &= conf_zone_transfer_key(ld, label,
				     conf_locate(ld, &cur->transfer_key, z->line, "transfer_key", -1), z);
	lua_pop(L, 1);
	lua_pushliteral(L, "notify");
	lua_rawget(L, -2);
	if (cur->notify < from)
		cur->notify = from;
	ok &= conf_zone_notify(ld, label, conf_locate(ld, &cur->notify, z->line, "notify", -1), z);
	lua_pop(L, 1);
	lua_pushliteral(L, "ixfr");
	lua_rawget(L, -2);
	if (cur->ixfr < from)
		cur->ixfr = from;
	ok &= conf_zone_ixfr(ld, label, conf_locate(ld, &cur->ixfr, z->line, "ixfr", -1), z);
	lua_pop(L, 1);
	return ok;
}

static void key_zones(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of { name = ..., file = ... } tables");
	if (n <= 0)
		return;
	struct conf_zone *out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	struct zone_cursors cur = {at->pos, at->pos, at->pos, at->pos, at->pos, at->pos, at->pos};
	size_t count = 0;
	lua_newtable(L); /* seen: normalized name -> index */
	int seen = lua_gettop(L);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, seen - 1, i);
		memset(&out[count], 0, sizeof(out[count]));
		if (conf_zone_one(ld, i, at, &cur, seen, &out[count]))
			ld->c->transfer_zones += out[count++].transfer_count > 0;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	ld->c->zones = out;
	ld->c->zone_count = count;
}

/* A top-level key as assigned by the chunk. */
struct conf_global {
	const char *name; /* owned by the globals table, which is not modified meanwhile */
	unsigned line;
	size_t pos;
};

static int conf_global_cmp(const void *a, const void *b)
{
	const struct conf_global *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The chunk's top-level keys (the globals table on top of the stack), sorted by line. */
static struct conf_global *conf_globals(struct loader *ld, struct conf_sandbox *sb, size_t *count)
{
	lua_State *L = ld->L;
	struct conf_global *v = NULL;
	size_t n = 0, cap = 0;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			char buf[64];
			conf_error(ld, 0, "unexpected top-level key %s",
				   conf_key_text(L, -1, buf, sizeof(buf)));
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if (!(v = realloc(v, cap * sizeof(*v))))
				abort();
		}
		v[n].name = lua_tostring(L, -1);
		v[n].line = conf_sandbox_global_line(sb, v[n].name, &v[n].pos);
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), conf_global_cmp);
	*count = n;
	return v;
}

static const struct conf_key *conf_key_of(const char *name)
{
	const struct conf_key *k = conf_keys;
	while (k->name && strcmp(k->name, name) != 0)
		k++;
	return k->name ? k : NULL;
}

/* Parses the keys of one phase that were assigned (in file order), then applies the defaults. */
static void conf_phase(struct loader *ld, unsigned phase, const struct conf_global *g, size_t n)
{
	lua_State *L = ld->L;
	bool seen[CONF_KEY_COUNT] = {false};
	for (size_t i = 0; i < n; i++) {
		const struct conf_key *k = conf_key_of(g[i].name);
		if (!k) {
			if (phase == 0)
				conf_unknown(ld, g[i].line, NULL, g[i].name, &conf_keys[0].name,
					     sizeof(conf_keys[0]));
			continue;
		}
		seen[k - conf_keys] = true;
		if (k->phase != phase)
			continue;
		lua_pushstring(L, k->name);
		lua_rawget(L, -2);
		k->parse(ld, k, &(struct site){g[i].line, g[i].pos});
		lua_pop(L, 1);
	}
	for (const struct conf_key *k = conf_keys; k->name; k++) {
		if (seen[k - conf_keys] || k->phase != phase)
			continue;
		if (k->required) {
			conf_error(ld, 0, "missing required key '%s'", k->name);
			continue;
		}
		lua_pushnil(L);
		k->parse(ld, k, &(struct site){0, 0});
		lua_pop(L, 1);
	}
}

static void conf_check(struct loader *ld, struct conf_sandbox *sb)
{
	size_t n;
	conf_sandbox_push_globals(sb);
	struct conf_global *g = conf_globals(ld, sb, &n);
	for (unsigned phase = 0; phase < CONF_PHASES; phase++)
		conf_phase(ld, phase, g, n);
	free(g);
	lua_pop(ld->L, 1);
}

/* The folder of path: "." when it has none, "/" for files at the root. */
static const char *conf_dirname(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return arena_strdup(a, ".");
	size_t n = (size_t)(slash - path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return arena_strdup(a, "/");
	char *dir = arena_alloc(a, n + 1);
	memcpy(dir, path, n);
	dir[n] = '\0';
	return dir;
}

struct conf *conf_load(const char *path, struct diag *d)
{
	size_t errors = d->errors;
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct conf *c = arena_alloc(&a, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->arena = a; /* from here on allocate from c->arena */
	c->path = arena_strdup(&c->arena, path);
	c->dir = conf_dirname(&c->arena, path);

	struct conf_sandbox *sb = conf_sandbox_new(NULL);
	if (!sb)
		diag_error(d, path, 0, "out of memory");
	else if (conf_sandbox_run_file(sb, path, d)) {
		struct loader ld = {
		    .c = c, .d = d, .L = conf_sandbox_lua(sb), .src = conf_sandbox_source(sb)};
		ldns_sha256((unsigned char *)ld.src->text, (unsigned)ld.src->len, c->digest);
		conf_check(&ld, sb);
	}
	conf_sandbox_free(sb);
	if (d->errors > errors) {
		conf_free(c);
		return NULL;
	}
	return c;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	struct arena a = c->arena;
	arena_free(&a);
}
