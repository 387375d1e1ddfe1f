/* pools.c -- datacenters and pools: where members live and what they answer with.
 *
 * A member is an address (IPv4 or IPv6, for A and AAAA records) or a CNAME target, in one datacenter.
 * Datacenters and pools keep the order they were written in (walk.c). A pool whose members did not
 * all parse is marked unusable, so records are not also told it lacks members of their type. A pool's
 * check and members' overrides of it are read by checks.c; a standby member answers only through
 * another record's fallback (records.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

static const char *const datacenter_fields[] = {"lat", "lon", NULL};
static const char *const pool_fields[] = {"members", "check", NULL};
static const char *const member_fields[] = {"name",   "addr",	 "target", "dc",
					    "weight", "standby", "check",  NULL};

/* Reports a name key that is not CONF_NAME_RULE; what is "region", "datacenter", ... */
static void pool_check_name(struct loader *ld, const char *label, const char *what,
			    const struct conf_named *e)
{
	if (!conf_name_ok(e->name, strlen(e->name)))
		conf_error(ld, e->loc.line, "%s: expected a %s name of " CONF_NAME_RULE ", got '%.64s'",
			   label, what, e->name);
}

static void datacenter_one(struct loader *ld, const struct conf_named *e, struct conf_datacenter *dc)
{
	char label[96];
	snprintf(label, sizeof(label), "datacenters.%.64s", e->name);
	dc->name = arena_strdup(&ld->c->arena, e->name);
	dc->line = e->loc.line;
	pool_check_name(ld, "datacenters", "datacenter", e);
	if (lua_type(ld->L, -1) != LUA_TTABLE) {
		conf_expected(ld, e->loc.line, label, "a table { lat = ..., lon = ... }");
		return;
	}
	conf_check_fields(ld, label, datacenter_fields, &e->loc);
	conf_lat_lon(ld, label, &e->loc, &dc->has_location, &dc->lat, &dc->lon);
}

void conf_key_datacenters(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	size_t n;
	struct conf_named *e =
	    conf_keyed(ld, k->name, "a table of datacenters keyed by name", &t, &n, &ld->datacenters_failed);
	struct conf_datacenter *dcs = arena_alloc(&ld->c->arena, n * sizeof(*dcs));
	memset(dcs, 0, n * sizeof(*dcs));
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, e[i].name);
		lua_rawget(L, -2);
		datacenter_one(ld, &e[i], &dcs[i]);
		lua_pop(L, 1);
	}
	free(e);
	ld->c->datacenters = dcs;
	ld->c->datacenter_count = n;
}

/* The member's name (on top): unique within the pool (seen: name -> index). */
static bool member_name(struct loader *ld, const char *label, unsigned line, int seen, lua_Integer i,
			struct conf_member *m)
{
	lua_State *L = ld->L;
	size_t len;
	const char *s = conf_required_string(ld, label, line, "a member name");
	if (!s)
		return false;
	len = strlen(s);
	if (!conf_name_ok(s, len)) {
		conf_error(ld, line, "%s: expected a member name of " CONF_NAME_RULE ", got \"%.64s\"", label,
			   s);
		return false;
	}
	m->name = arena_memdup(&ld->c->arena, s, len + 1);
	lua_pushstring(L, s);
	if (lua_rawget(L, seen) == LUA_TNUMBER) {
		conf_error(ld, line, "%s: \"%s\" is already the name of members[%lld]", label, s,
			   (long long)lua_tointeger(L, -1));
		lua_pop(L, 1);
		return false;
	}
	lua_pop(L, 1);
	lua_pushstring(L, s);
	lua_pushinteger(L, i);
	lua_rawset(L, seen);
	return true;
}

/* addr (on top): an IPv4 or IPv6 address. */
static bool member_addr(struct loader *ld, const char *label, unsigned line, struct conf_member *m)
{
	size_t len;
	const char *s = conf_string(ld, label, line, 0, 64, false, &len);
	if (!s)
		return false;
	if (inet_pton(AF_INET, s, m->addr) == 1)
		m->family = AF_INET;
	else if (inet_pton(AF_INET6, s, m->addr) == 1)
		m->family = AF_INET6;
	else
		conf_error(ld, line, "%s: expected an IPv4 or IPv6 address, got \"%s\"", label, s);
	return m->family != 0;
}

bool conf_datacenter_ref(struct loader *ld, const char *label, unsigned line, unsigned *index)
{
	const struct conf *c = ld->c;
	const char *s = conf_required_string(ld, label, line, "the name of a datacenter");
	if (!s)
		return false;
	size_t i = c->datacenter_count
		       ? conf_find(s, &c->datacenters[0].name, c->datacenter_count, sizeof(c->datacenters[0]))
		       : 0;
	if (i < c->datacenter_count) {
		*index = (unsigned)i;
		return true;
	}
	if (!ld->datacenters_failed)
		conf_dangling(ld, line, label, "datacenter", s,
			      c->datacenter_count ? &c->datacenters[0].name : NULL, c->datacenter_count,
			      sizeof(c->datacenters[0]));
	return false;
}

/* Pushes field key of the member on top and labels it; returns its line. */
static unsigned member_field(struct loader *ld, const char *mlabel, const struct conf_loc *t, const char *key,
			     char *label, size_t size)
{
	snprintf(label, size, "%s.%s", mlabel, key);
	return conf_push_field(ld, t, key).line;
}

/* addr xor target of the member on top. */
static bool member_answer(struct loader *ld, const char *mlabel, const struct conf_loc *t,
			  struct conf_member *m)
{
	lua_State *L = ld->L;
	char label[192];
	const char *text;
	unsigned target_line = member_field(ld, mlabel, t, "target", label, sizeof(label));
	bool has_target = !lua_isnil(L, -1);
	lua_pop(L, 1);
	unsigned line = member_field(ld, mlabel, t, "addr", label, sizeof(label));
	bool ok, has_addr = !lua_isnil(L, -1);
	if (has_addr == has_target) {
		conf_error(ld, has_addr ? target_line : line, "%s: expected either addr or target%s", mlabel,
			   has_addr ? ", not both" : "");
		ok = false;
	} else if (has_addr) {
		ok = member_addr(ld, label, line, m);
	} else {
		lua_pop(L, 1);
		line = member_field(ld, mlabel, t, "target", label, sizeof(label));
		ok = (m->target = conf_domain_value(ld, label, line, &m->target_len, &text)) != NULL;
	}
	lua_pop(L, 1);
	return ok;
}

/* standby and check of the member on top (addr or target parsed already). */
static bool member_health(struct loader *ld, const char *mlabel, const struct conf_loc *t,
			  struct conf_check_spec *check, const struct conf_pool *p, struct conf_member *m)
{
	lua_State *L = ld->L;
	char label[192];
	unsigned line = member_field(ld, mlabel, t, "standby", label, sizeof(label));
	bool ok = lua_isnil(L, -1) || lua_type(L, -1) == LUA_TBOOLEAN;
	if (ok)
		m->standby = lua_toboolean(L, -1);
	else
		conf_expected(ld, line, label, "true or false");
	lua_pop(L, 1);
	return conf_member_check(ld, mlabel, t, check, p, m) && ok;
}

/* One member (on top) of the pool labelled plabel, whose check is check (NULL: none). */
static bool member_one(struct loader *ld, const char *plabel, lua_Integer i, const struct conf_loc *t,
		       int seen, struct conf_check_spec *check, const struct conf_pool *p,
		       struct conf_member *m)
{
	lua_State *L = ld->L;
	char mlabel[128], label[192];
	int64_t weight = 1;
	snprintf(mlabel, sizeof(mlabel), "%s.members[%lld]", plabel, (long long)i);
	m->line = t->line;
	if (lua_type(L, -1) != LUA_TTABLE) {
		conf_expected(ld, t->line, mlabel,
			      "a table { name = ..., addr = ... or target = ..., dc = ... }");
		return false;
	}
	bool ok = conf_check_fields(ld, mlabel, member_fields, t);
	m->line = member_field(ld, mlabel, t, "name", label, sizeof(label));
	ok &= member_name(ld, label, m->line, seen, i, m);
	lua_pop(L, 1);
	ok &= member_answer(ld, mlabel, t, m);
	unsigned line = member_field(ld, mlabel, t, "dc", label, sizeof(label));
	ok &= conf_datacenter_ref(ld, label, line, &m->dc);
	lua_pop(L, 1);
	line = member_field(ld, mlabel, t, "weight", label, sizeof(label));
	ok &= lua_isnil(L, -1) || conf_int(ld, label, line, 1, 65535, &weight);
	m->weight = (unsigned)weight;
	lua_pop(L, 1);
	return member_health(ld, mlabel, t, check, p, m) && ok;
}

/* The members of the pool on top; true when every one of them parsed. */
static bool pool_members(struct loader *ld, const char *plabel, const struct conf_loc *t,
			 struct conf_check_spec *check, struct conf_pool *p)
{
	lua_State *L = ld->L;
	char label[128];
	struct conf_items items;
	snprintf(label, sizeof(label), "%s.members", plabel);
	struct conf_loc loc = conf_push_field(ld, t, "members");
	lua_Integer n = lua_isnil(L, -1) ? -2 : conf_list(ld, label, loc.line, "a list of member tables");
	if (n == -2 || n == 0)
		conf_error(ld, loc.line, "%s: expected at least one member", label);
	bool ok = n > 0;
	p->members = arena_alloc(&ld->c->arena, (size_t)(n > 0 ? n : 0) * sizeof(*p->members));
	lua_newtable(L); /* member name -> index */
	conf_items_begin(ld, &loc, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		struct conf_member *m = &p->members[p->member_count];
		memset(m, 0, sizeof(*m));
		lua_rawgeti(L, -2, i);
		struct conf_loc mloc = conf_items_next(ld, &items);
		bool member_ok = member_one(ld, plabel, i, &mloc, lua_gettop(L) - 1, check, p, m);
		p->member_count += member_ok;
		ok &= member_ok;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return ok;
}

static bool pool_one(struct loader *ld, const struct conf_named *e, struct conf_pool *p)
{
	char label[96];
	snprintf(label, sizeof(label), "pools.%.64s", e->name);
	p->name = arena_strdup(&ld->c->arena, e->name);
	p->line = e->loc.line;
	pool_check_name(ld, "pools", "pool", e);
	if (lua_type(ld->L, -1) != LUA_TTABLE) {
		conf_expected(ld, e->loc.line, label, "a table { members = { ... } }");
		return false;
	}
	bool ok = conf_check_fields(ld, label, pool_fields, &e->loc);
	struct conf_check_spec *check = conf_pool_check(ld, label, &e->loc, p);
	return pool_members(ld, label, &e->loc, check, p) && ok;
}

void conf_key_pools(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	size_t n;
	struct conf_named *e =
	    conf_keyed(ld, k->name, "a table of pools keyed by name", &t, &n, &ld->pools_failed);
	struct conf_pool *pools = arena_alloc(&ld->c->arena, n * sizeof(*pools));
	memset(pools, 0, n * sizeof(*pools));
	ld->pool_usable = arena_alloc(&ld->c->arena, n * sizeof(*ld->pool_usable));
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, e[i].name);
		lua_rawget(L, -2);
		ld->pool_usable[i] = pool_one(ld, &e[i], &pools[i]);
		lua_pop(L, 1);
	}
	free(e);
	ld->c->pools = pools;
	ld->c->pool_count = n;
}
