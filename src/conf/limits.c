/* limits.c -- the rate_limit table of the config (ratelimit.h): the numbers and the exempt nets. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"

#define TABLE_SIZE_DEFAULT 65536
#define TABLE_SIZE_MIN	   1024
#define TABLE_SIZE_MAX	   (1u << 24)

static const char *const rate_limit_fields[] = {
    "rate", "burst", "slip", "ipv4_prefix", "ipv6_prefix", "table_size", "exempt", "dry_run", NULL};

/* An integer field of the table on top (written at t): def when absent; false when reported. */
static bool limit_int(struct loader *ld, const struct conf_loc *t, const char *key, int64_t min, int64_t max,
		      int64_t def, unsigned *out, unsigned *line)
{
	char label[64];
	int64_t v = def;
	snprintf(label, sizeof(label), "rate_limit.%s", key);
	struct conf_loc loc = conf_push_field(ld, t, key);
	bool ok = lua_isnil(ld->L, -1) || conf_int(ld, label, loc.line, min, max, &v);
	lua_pop(ld->L, 1);
	*out = (unsigned)v;
	if (line)
		*line = loc.line;
	return ok;
}

/* The exempt nets of the table on top (written at t). */
static void limit_exempt(struct loader *ld, const struct conf_loc *t, struct ratelimit_spec *r)
{
	lua_State *L = ld->L;
	char label[64];
	size_t len;
	struct conf_loc loc = conf_push_field(ld, t, "exempt");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	lua_Integer n = conf_list(ld, "rate_limit.exempt", loc.line, "a list of networks \"address/prefix\"");
	if (n > RATELIMIT_EXEMPT_MAX) {
		conf_error(ld, loc.line, "rate_limit.exempt: at most %d networks, got %lld",
			   RATELIMIT_EXEMPT_MAX, (long long)n);
		n = -1;
	}
	struct geo_net *out = arena_alloc(&ld->c->arena, (size_t)(n > 0 ? n : 1) * sizeof(*out));
	struct conf_items items;
	conf_items_begin(ld, &loc, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		unsigned line = conf_items_next(ld, &items).line;
		snprintf(label, sizeof(label), "rate_limit.exempt[%lld]", (long long)i);
		const char *s = conf_string(ld, label, line, 0, 64, false, &len);
		if (s && geo_net_parse(s, &out[r->exempt_count]))
			r->exempt_count++;
		else if (s)
			conf_net_error(ld, label, line, s);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	r->exempt = out;
}

void conf_key_rate_limit(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	struct ratelimit_spec *r = &ld->c->rate_limit;
	*r = (struct ratelimit_spec){.table_size = TABLE_SIZE_DEFAULT};
	if (lua_isnil(ld->L, -1))
		return;
	if (lua_type(ld->L, -1) != LUA_TTABLE) {
		conf_expected(ld, at->line, k->name, "a table { rate = ..., ... }");
		return;
	}
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	conf_check_fields(ld, k->name, rate_limit_fields, &t);
	unsigned line;
	struct conf_loc loc = conf_push_field(ld, &t, "rate");
	bool has_rate = !lua_isnil(ld->L, -1);
	lua_pop(ld->L, 1);
	if (!has_rate)
		conf_error(ld, loc.line,
			   "rate_limit.rate: required (responses per second per client network)");
	else
		limit_int(ld, &t, "rate", 1, RATELIMIT_RATE_MAX, 0, &r->rate, NULL);
	int64_t burst_def = r->rate < RATELIMIT_BURST_MAX ? r->rate : RATELIMIT_BURST_MAX;
	limit_int(ld, &t, "burst", 1, RATELIMIT_BURST_MAX, burst_def ? burst_def : 1, &r->burst, NULL);
	limit_int(ld, &t, "slip", 0, 10, 2, &r->slip, NULL);
	limit_int(ld, &t, "ipv4_prefix", 8, 32, 24, &r->ipv4_prefix, NULL);
	limit_int(ld, &t, "ipv6_prefix", 16, 128, 56, &r->ipv6_prefix, NULL);
	if (limit_int(ld, &t, "table_size", TABLE_SIZE_MIN, TABLE_SIZE_MAX, TABLE_SIZE_DEFAULT,
		      &r->table_size, &line) &&
	    (r->table_size & (r->table_size - 1))) {
		conf_error(ld, line, "rate_limit.table_size: expected a power of two, got %u", r->table_size);
		r->table_size = TABLE_SIZE_DEFAULT;
	}
	limit_exempt(ld, &t, r);
	struct conf_loc loc_dry = conf_push_field(ld, &t, "dry_run");
	if (lua_type(ld->L, -1) == LUA_TBOOLEAN)
		r->dry_run = lua_toboolean(ld->L, -1);
	else if (!lua_isnil(ld->L, -1))
		conf_expected(ld, loc_dry.line, "rate_limit.dry_run", "true or false");
	lua_pop(ld->L, 1);
}
