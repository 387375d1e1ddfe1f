/* records.c -- dynamic records: a name and type answered per region from a pool by a policy.
 *
 * Beyond the form of each field, a record must be answerable by its pool (an A record needs an IPv4
 * member, AAAA an IPv6 one, CNAME only targets) and must not collide with another dynamic record at its
 * name (the same type twice, or a CNAME beside anything). Whether the name lies in a loaded zone, and
 * collisions with the zone's own data, are checked by the caller, which has the zones. Standby members
 * answer only through a fallback pool (when_all_down = "pool:NAME"), so a record's own pool needs a
 * member of its type that is not standby, and a fallback pool must be able to answer the type too.
 * A policy that names a file ("policies/api.lua") is an operator's Lua policy (lua_policy.h): the file
 * must be readable when the config loads (it is compiled by the loader), and the fields that the
 * policy's answer decides (order, answers, when_all_down) are refused beside it rather than ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meridian/wire.h"
#include "schema.h"

static const char *const record_fields[] = {
    "name", "type", "pool", "ttl", "ttl_degraded", "policy", "answers", "order", "when_all_down", NULL,
};
/* In the order of enum conf_policy (CONF_POLICY_LUA is a file name instead). */
static const char *const record_policies[] = {
    "failover", "nearest", "weighted", "all", NULL,
};
#define RECORD_POLICY_WANT "\"failover\", \"nearest\", \"weighted\", \"all\" or a policy file \"NAME.lua\""

static const struct {
	const char *name;
	uint16_t type;
} record_types[] = {{"A", WIRE_TYPE_A}, {"AAAA", WIRE_TYPE_AAAA}, {"CNAME", WIRE_TYPE_CNAME}};
#define RECORD_TYPES (sizeof(record_types) / sizeof(record_types[0]))

static const char *record_type_name(uint16_t type)
{
	for (size_t i = 0; i < RECORD_TYPES; i++) {
		if (record_types[i].type == type)
			return record_types[i].name;
	}
	return "?";
}

/* What was read of a record so far: which fields can be relied on by the checks across fields. */
struct record_state {
	lua_Integer index;
	char label[40]; /* "records[i]" */
	bool name_ok, type_ok, pool_ok, ttl_ok, policy_ok;
	unsigned pool_line;
};

/* Pushes field key of the record on top and labels it; returns its line. */
static unsigned record_field(struct loader *ld, const struct record_state *st, const struct conf_loc *t,
			     const char *key, char *label, size_t size)
{
	snprintf(label, size, "%s.%s", st->label, key);
	return conf_push_field(ld, t, key).line;
}

static bool record_type(struct loader *ld, const char *label, unsigned line, struct conf_record *r)
{
	size_t len;
	const char *s = conf_required_string(ld, label, line, "\"A\", \"AAAA\" or \"CNAME\"");
	if (!s)
		return false;
	for (size_t i = 0; i < RECORD_TYPES; i++) {
		if (strcasecmp(s, record_types[i].name) == 0) {
			r->type = record_types[i].type;
			return true;
		}
	}
	len = strlen(s);
	conf_error(ld, line, "%s: expected \"A\", \"AAAA\" or \"CNAME\", got \"%.*s\"", label,
		   (int)(len > 64 ? 64 : len), s);
	return false;
}

static bool record_pool(struct loader *ld, const char *label, unsigned line, struct conf_record *r)
{
	const struct conf *c = ld->c;
	const char *s = conf_required_string(ld, label, line, "the name of a pool");
	if (!s)
		return false;
	size_t i = c->pool_count ? conf_find(s, &c->pools[0].name, c->pool_count, sizeof(c->pools[0])) : 0;
	if (i < c->pool_count) {
		r->pool = (unsigned)i;
		return true;
	}
	if (!ld->pools_failed)
		conf_dangling(ld, line, label, "pool", s, c->pool_count ? &c->pools[0].name : NULL,
			      c->pool_count, sizeof(c->pools[0]));
	return false;
}

/* A Lua policy file: resolved like zone files, and readable now so a typo fails at this line. */
static bool record_policy_file(struct loader *ld, const char *label, unsigned line, const char *s,
			       struct conf_record *r)
{
	r->policy = CONF_POLICY_LUA;
	r->policy_file = conf_resolve(ld->c, s);
	const char *why = conf_unreadable(r->policy_file);
	if (why)
		conf_error(ld, line, "%s: cannot read \"%s\": %s", label, r->policy_file, why);
	return !why;
}

static bool record_policy(struct loader *ld, const char *label, unsigned line, struct conf_record *r)
{
	const char *s = conf_required_string(ld, label, line, RECORD_POLICY_WANT);
	if (!s)
		return false;
	for (size_t i = 0; record_policies[i]; i++) {
		if (strcmp(s, record_policies[i]) == 0) {
			r->policy = (enum conf_policy)i;
			return true;
		}
	}
	size_t len = strlen(s);
	if (len > 4 && strcmp(s + len - 4, ".lua") == 0)
		return record_policy_file(ld, label, line, s, r);
	conf_error(ld, line, "%s: expected " RECORD_POLICY_WANT ", got \"%.64s\"", label, s);
	return false;
}

/* A field a Lua policy decides itself (on top): an error naming it when it is given anyway. */
static bool record_not_lua(struct loader *ld, const char *label, unsigned line, const struct record_state *st,
			   const struct conf_record *r, const char *what)
{
	if (lua_isnil(ld->L, -1) || !st->policy_ok || r->policy != CONF_POLICY_LUA)
		return true;
	conf_error(ld, line, "%s: not with a Lua policy: %s decides %s", label, r->policy_file, what);
	return false;
}

/* ttl (on top): required. */
static bool record_ttl(struct loader *ld, const char *label, unsigned line, struct conf_record *r)
{
	int64_t v;
	if (lua_isnil(ld->L, -1)) {
		conf_error(ld, line, "%s: missing (expected a TTL in seconds)", label);
		return false;
	}
	if (!conf_int(ld, label, line, 0, INT32_MAX, &v))
		return false;
	r->ttl = (uint32_t)v;
	return true;
}

/* answers (on top): optional cap; a CNAME answer holds one target whatever the cap. */
static bool record_answers(struct loader *ld, const char *label, unsigned line, const struct record_state *st,
			   struct conf_record *r)
{
	int64_t v;
	if (lua_isnil(ld->L, -1))
		return true;
	if (!record_not_lua(ld, label, line, st, r, "the cap (return { answers = N })"))
		return false;
	if (!conf_int(ld, label, line, 1, 65535, &v))
		return false;
	if (st->type_ok && r->type == WIRE_TYPE_CNAME && v != 1) {
		conf_error(ld, line, "%s: a CNAME answer holds one target (expected 1 or nothing, got %lld)",
			   label, (long long)v);
		return false;
	}
	r->answers = (unsigned)v;
	return true;
}

/* The datacenter list (on top) of one failover order entry. */
static bool order_dcs(struct loader *ld, const char *label, const struct conf_loc *t, struct conf_order *o)
{
	lua_State *L = ld->L;
	char ilabel[224];
	struct conf_items items;
	lua_Integer n = conf_list(ld, label, t->line, "a list of datacenter names");
	if (n == 0)
		conf_error(ld, t->line, "%s: expected at least one datacenter", label);
	if (n <= 0)
		return false;
	unsigned *dcs = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*dcs));
	bool ok = true;
	conf_items_begin(ld, t, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		unsigned line = conf_items_next(ld, &items).line;
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", label, (long long)i);
		unsigned dc;
		bool dc_ok = conf_datacenter_ref(ld, ilabel, line, &dc);
		for (size_t j = 0; dc_ok && j < o->dc_count; j++) {
			if (dcs[j] == dc) {
				conf_error(ld, line, "%s: \"%s\" is already in this list", ilabel,
					   ld->c->datacenters[dc].name);
				dc_ok = false;
			}
		}
		if (dc_ok)
			dcs[o->dc_count++] = dc;
		ok &= dc_ok;
		lua_pop(L, 1);
	}
	o->dcs = dcs;
	return ok;
}

static int order_cmp(const void *a, const void *b)
{
	const struct conf_order *x = a, *y = b;
	return x->region < y->region ? -1 : x->region > y->region;
}

/* order (on top): region name -> datacenter list, for failover only. */
static bool record_order(struct loader *ld, const char *label, const struct conf_loc *t,
			 const struct record_state *st, struct conf_record *r)
{
	lua_State *L = ld->L;
	char olabel[192];
	size_t n;
	bool failed, ok = true;
	if (lua_isnil(L, -1))
		return true;
	if (!record_not_lua(ld, label, t->line, st, r, "the order of datacenters"))
		return false;
	if (st->policy_ok && r->policy != CONF_POLICY_FAILOVER) {
		conf_error(ld, t->line, "%s: only for policy \"failover\" (this record's policy is \"%s\")",
			   label, record_policies[r->policy]);
		return false;
	}
	struct conf_named *e =
	    conf_keyed(ld, label, "a table of datacenter lists keyed by region name", t, &n, &failed);
	r->order = arena_alloc(&ld->c->arena, n * sizeof(*r->order));
	for (size_t i = 0; i < n; i++) {
		snprintf(olabel, sizeof(olabel), "%s.%.64s", label, e[i].name);
		unsigned region;
		if (!conf_region_ref(ld, label, e[i].loc.line, e[i].name, &region)) {
			ok = false;
			continue;
		}
		struct conf_order *o = &r->order[r->order_count];
		*o = (struct conf_order){region, NULL, 0};
		lua_pushstring(L, e[i].name);
		lua_rawget(L, -2);
		r->order_count += order_dcs(ld, olabel, &e[i].loc, o);
		lua_pop(L, 1);
	}
	free(e);
	if (r->order_count)
		qsort(r->order, r->order_count, sizeof(*r->order), order_cmp);
	return ok && !failed && r->order_count == n;
}

/* Whether pool can answer the record's type; reported under label (its pool or fallback) at line. */
static bool record_fits(struct loader *ld, const char *label, unsigned line, unsigned pool,
			const struct conf_record *r)
{
	const struct conf_pool *p = &ld->c->pools[pool];
	const struct conf_member *addr = NULL, *target = NULL;
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < p->member_count; i++) {
		const struct conf_member *m = &p->members[i];
		v4 |= m->family == AF_INET;
		v6 |= m->family == AF_INET6;
		if (!m->family && !target)
			target = m;
		if (m->family && !addr)
			addr = m;
	}
	const char *type = record_type_name(r->type);
	if (r->type == WIRE_TYPE_CNAME && addr)
		conf_error(ld, line,
			   "%s: pool '%s' has address members ('%s'); a CNAME record needs targets only",
			   label, p->name, addr->name);
	else if (r->type != WIRE_TYPE_CNAME && target)
		conf_error(ld, line,
			   "%s: pool '%s' has CNAME target members ('%s'), which cannot answer an %s record",
			   label, p->name, target->name, type);
	else if ((r->type == WIRE_TYPE_A && !v4) || (r->type == WIRE_TYPE_AAAA && !v6))
		conf_error(ld, line, "%s: pool '%s' has no %s member for an %s record", label, p->name,
			   r->type == WIRE_TYPE_A ? "IPv4" : "IPv6", type);
	else
		return true;
	return false;
}

static bool record_member_fits(const struct conf_member *m, uint16_t type)
{
	if (type == WIRE_TYPE_A)
		return m->family == AF_INET;
	if (type == WIRE_TYPE_AAAA)
		return m->family == AF_INET6;
	return m->target != NULL;
}

/* Whether the record's own pool has a member of its type that is not standby. */
static bool record_active(struct loader *ld, const struct record_state *st, const struct conf_record *r)
{
	const struct conf_pool *p = &ld->c->pools[r->pool];
	for (size_t i = 0; i < p->member_count; i++) {
		if (!p->members[i].standby && record_member_fits(&p->members[i], r->type))
			return true;
	}
	conf_error(ld, st->pool_line,
		   "%s.pool: every member of pool '%s' for type %s is standby; standby members serve only "
		   "through when_all_down = \"pool:...\"",
		   st->label, p->name, record_type_name(r->type));
	return false;
}

/* ttl_degraded (on top): 0..ttl, by default a quarter of the ttl but at least 1 (0 for ttl 0). */
static bool record_ttl_degraded(struct loader *ld, const char *label, unsigned line,
				const struct record_state *st, struct conf_record *r)
{
	int64_t v;
	if (lua_isnil(ld->L, -1)) {
		r->ttl_degraded = r->ttl / 4 ? r->ttl / 4 : r->ttl != 0;
		return true;
	}
	if (!conf_int(ld, label, line, 0, INT32_MAX, &v))
		return false;
	if (st->ttl_ok && v > r->ttl) {
		conf_error(ld, line, "%s: expected at most ttl (%u), got %lld", label, (unsigned)r->ttl,
			   (long long)v);
		return false;
	}
	r->ttl_degraded = (uint32_t)v;
	return true;
}

/* The fallback pool of when_all_down = "pool:NAME": another pool that can answer the record's type. */
static bool record_fallback(struct loader *ld, const char *label, unsigned line, const char *name,
			    const struct record_state *st, struct conf_record *r)
{
	const struct conf *c = ld->c;
	size_t i = c->pool_count ? conf_find(name, &c->pools[0].name, c->pool_count, sizeof(c->pools[0])) : 0;
	if (i == c->pool_count) {
		if (!ld->pools_failed)
			conf_dangling(ld, line, label, "pool", name, c->pool_count ? &c->pools[0].name : NULL,
				      c->pool_count, sizeof(c->pools[0]));
		return false;
	}
	if (st->pool_ok && i == r->pool) {
		conf_error(ld, line,
			   "%s: pool '%s' is the record's own pool; the fallback must be another one", label,
			   name);
		return false;
	}
	r->when_all_down = CONF_ALL_DOWN_POOL;
	r->fallback_pool = (unsigned)i;
	return !st->type_ok || !ld->pool_usable[i] || record_fits(ld, label, line, (unsigned)i, r);
}

/* when_all_down (on top): "serve_all" (the default), "last_good" or "pool:NAME". */
static bool record_all_down(struct loader *ld, const char *label, unsigned line,
			    const struct record_state *st, struct conf_record *r)
{
	size_t len;
	const char *s;
	r->when_all_down = CONF_ALL_DOWN_SERVE_ALL;
	if (lua_isnil(ld->L, -1))
		return true;
	if (!record_not_lua(ld, label, line, st, r, "what answers when members are down"))
		return false;
	if (!(s = conf_string(ld, label, line, 0, 255, false, &len)))
		return false;
	if (strcmp(s, "serve_all") == 0)
		return true;
	if (strcmp(s, "last_good") == 0) {
		r->when_all_down = CONF_ALL_DOWN_LAST_GOOD;
		return true;
	}
	if (strncmp(s, "pool:", 5) == 0 && s[5])
		return record_fallback(ld, label, line, s + 5, st, r);
	conf_error(ld, line, "%s: expected \"serve_all\", \"last_good\" or \"pool:NAME\", got \"%.64s\"",
		   label, s);
	return false;
}

/* ttl_degraded and when_all_down of the record on top (its other fields read already). */
static bool record_health(struct loader *ld, const struct record_state *st, const struct conf_loc *t,
			  struct conf_record *r)
{
	char label[64];
	unsigned line = record_field(ld, st, t, "ttl_degraded", label, sizeof(label));
	bool ok = record_ttl_degraded(ld, label, line, st, r);
	lua_pop(ld->L, 1);
	line = record_field(ld, st, t, "when_all_down", label, sizeof(label));
	ok &= record_all_down(ld, label, line, st, r);
	lua_pop(ld->L, 1);
	return ok;
}

/* Looks up (owner, type) in seen; the index of the record that has it, 0 when none. */
static lua_Integer record_seen(lua_State *L, int seen, const struct conf_record *r, uint16_t type, bool set,
			       lua_Integer index)
{
	uint8_t key[WIRE_NAME_MAX + 2];
	memcpy(key, r->owner, r->owner_len);
	key[r->owner_len] = (uint8_t)(type >> 8);
	key[r->owner_len + 1] = (uint8_t)type;
	lua_pushlstring(L, (const char *)key, r->owner_len + 2);
	if (set) {
		lua_pushinteger(L, index);
		lua_rawset(L, seen);
		return index;
	}
	lua_rawget(L, seen);
	lua_Integer i = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return i;
}

/* No other dynamic record of the same type at the name, and no CNAME beside anything. */
static bool record_unique(struct loader *ld, const struct record_state *st, unsigned line, int seen,
			  const struct conf_record *r)
{
	for (size_t i = 0; i < RECORD_TYPES; i++) {
		uint16_t type = record_types[i].type;
		if (type != r->type && type != WIRE_TYPE_CNAME && r->type != WIRE_TYPE_CNAME)
			continue;
		lua_Integer other = record_seen(ld->L, seen, r, type, false, 0);
		if (!other)
			continue;
		if (type == r->type)
			conf_error(ld, line,
				   "%s.name: \"%s\" already has a dynamic %s record (records[%lld])",
				   st->label, r->name, record_type_name(type), (long long)other);
		else
			conf_error(ld, line,
				   "%s.name: \"%s\": a CNAME cannot share its name with another record "
				   "(records[%lld] is %s)",
				   st->label, r->name, (long long)other, record_type_name(type));
		return false;
	}
	record_seen(ld->L, seen, r, r->type, true, st->index);
	return true;
}

/* The fields of one record (on top) that stand alone: name, type, pool, ttl, policy, answers. */
static bool record_fields_read(struct loader *ld, struct record_state *st, const struct conf_loc *t,
			       struct conf_record *r)
{
	lua_State *L = ld->L;
	char label[64];
	unsigned line = record_field(ld, st, t, "name", label, sizeof(label));
	r->line = line;
	st->name_ok = (r->owner = conf_domain_value(ld, label, line, &r->owner_len, &r->name)) != NULL;
	lua_pop(L, 1);
	line = record_field(ld, st, t, "type", label, sizeof(label));
	st->type_ok = record_type(ld, label, line, r);
	lua_pop(L, 1);
	st->pool_line = record_field(ld, st, t, "pool", label, sizeof(label));
	st->pool_ok = record_pool(ld, label, st->pool_line, r);
	lua_pop(L, 1);
	line = record_field(ld, st, t, "ttl", label, sizeof(label));
	st->ttl_ok = record_ttl(ld, label, line, r);
	lua_pop(L, 1);
	line = record_field(ld, st, t, "policy", label, sizeof(label));
	st->policy_ok = record_policy(ld, label, line, r);
	lua_pop(L, 1);
	line = record_field(ld, st, t, "answers", label, sizeof(label));
	bool ok = record_answers(ld, label, line, st, r);
	lua_pop(L, 1);
	return ok && st->ttl_ok && st->name_ok && st->type_ok && st->pool_ok && st->policy_ok;
}

/* One record (on top); seen maps (owner, type) to the index of the record that has it. */
static bool record_one(struct loader *ld, lua_Integer i, const struct conf_loc *t, int seen,
		       struct conf_record *r)
{
	lua_State *L = ld->L;
	struct record_state st = {.index = i};
	char label[64];
	snprintf(st.label, sizeof(st.label), "records[%lld]", (long long)i);
	r->line = t->line;
	if (lua_type(L, -1) != LUA_TTABLE) {
		conf_expected(ld, t->line, st.label,
			      "a table { name = ..., type = ..., pool = ..., ttl = ..., policy = ... }");
		return false;
	}
	bool ok = conf_check_fields(ld, st.label, record_fields, t);
	ok &= record_fields_read(ld, &st, t, r);
	struct conf_loc loc = conf_push_field(ld, t, "order");
	snprintf(label, sizeof(label), "%s.order", st.label);
	ok &= record_order(ld, label, &loc, &st, r);
	lua_pop(L, 1);
	ok &= record_health(ld, &st, t, r);
	snprintf(label, sizeof(label), "%s.pool", st.label);
	if (st.type_ok && st.pool_ok && ld->pool_usable[r->pool])
		ok &= record_fits(ld, label, st.pool_line, r->pool, r) && record_active(ld, &st, r);
	if (st.name_ok && st.type_ok)
		ok &= record_unique(ld, &st, r->line, seen, r);
	return ok;
}

void conf_key_records(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	if (lua_isnil(L, -1))
		return;
	struct conf_loc t = conf_loc_top(ld, k->name, at);
	struct conf_items items;
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of record tables");
	if (n <= 0)
		return;
	struct conf_record *out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	size_t count = 0;
	lua_newtable(L); /* (owner, type) -> record index */
	conf_items_begin(ld, &t, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -2, i);
		memset(&out[count], 0, sizeof(out[count]));
		struct conf_loc loc = conf_items_next(ld, &items);
		count += record_one(ld, i, &loc, lua_gettop(L) - 1, &out[count]);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	ld->c->records = out;
	ld->c->record_count = count;
}
