/* walk.c -- nested config values: where they were written, tables keyed by name, shared field checks.
 *
 * Locations follow the value down from the top-level assignment through literal table constructors
 * (locate.c). When a level cannot be found (a value computed at run time, a table built in a loop),
 * everything below it reports the line of the nearest level that was found, at worst the top-level
 * assignment's line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/grow.h"
#include "schema.h"

static struct conf_loc walk_at(struct loader *ld, size_t pos)
{
	return (struct conf_loc){pos, conf_source_line(ld->src, pos)};
}

struct conf_loc conf_loc_top(struct loader *ld, const char *name, const struct site *at)
{
	size_t pos = at->line ? conf_source_value(ld->src, at->pos, name) : CONF_SOURCE_NONE;
	return (struct conf_loc){pos, at->line};
}

struct conf_loc conf_loc_field(struct loader *ld, const struct conf_loc *t, const char *key)
{
	struct conf_loc found = {CONF_SOURCE_NONE, t->line};
	struct conf_source_field f;
	size_t it, klen = strlen(key);
	if (!conf_source_table(ld->src, t->pos, &it))
		return found;
	while (conf_source_next_field(ld->src, &it, &f)) {
		if (f.kind == CONF_FIELD_NAME && f.key_len == klen && memcmp(f.key, key, klen) == 0)
			found = (struct conf_loc){f.value_pos, conf_source_line(ld->src, f.key_pos)};
	}
	return found;
}

void conf_items_begin(struct loader *ld, const struct conf_loc *list, struct conf_items *items)
{
	items->ok = conf_source_table(ld->src, list->pos, &items->it);
	items->line = list->line;
}

struct conf_loc conf_items_next(struct loader *ld, struct conf_items *items)
{
	struct conf_source_field f;
	while (items->ok && (items->ok = conf_source_next_field(ld->src, &items->it, &f))) {
		if (f.kind == CONF_FIELD_ITEM)
			return walk_at(ld, f.value_pos);
	}
	return (struct conf_loc){CONF_SOURCE_NONE, items->line};
}

struct conf_loc conf_push_field(struct loader *ld, const struct conf_loc *t, const char *key)
{
	lua_pushstring(ld->L, key);
	lua_rawget(ld->L, -2);
	if (lua_isnil(ld->L, -1)) /* not there: a `key =` in the text would be a nil or another's */
		return (struct conf_loc){CONF_SOURCE_NONE, t->line};
	return conf_loc_field(ld, t, key);
}

bool conf_check_fields(struct loader *ld, const char *label, const char *const *known,
		       const struct conf_loc *t)
{
	size_t from = ld->d->count;
	lua_State *L = ld->L;
	bool ok = true;
	size_t count = 0;
	while (known[count])
		count++;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		char buf[64], hint[64] = "";
		if (lua_type(L, -1) != LUA_TSTRING) {
			conf_error(ld, t->line, "%s: unexpected key %s", label,
				   conf_key_text(L, -1, buf, sizeof(buf)));
			ok = false;
			continue;
		}
		const char *key = lua_tostring(L, -1), *best;
		size_t i = 0;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (known[i])
			continue;
		if ((best = conf_closest(key, known, count, sizeof(*known))))
			snprintf(hint, sizeof(hint), " (did you mean '%s'?)", best);
		conf_error(ld, conf_loc_field(ld, t, key).line, "%s: unknown key '%.64s'%s", label, key,
			   hint);
		ok = false;
	}
	diag_sort(ld->d, from);
	return ok;
}

bool conf_number(struct loader *ld, const char *label, unsigned line, double min, double max, double *out)
{
	if (lua_type(ld->L, -1) != LUA_TNUMBER) {
		conf_expected(ld, line, label, "a number");
		return false;
	}
	double v = (double)lua_tonumber(ld->L, -1);
	if (!(v >= min && v <= max)) { /* also NaN */
		conf_error(ld, line, "%s: expected a number in %g..%g, got %.14g", label, min, max, v);
		return false;
	}
	*out = v;
	return true;
}

/* One coordinate field of the table on top; *given when it is there. */
static bool walk_coordinate(struct loader *ld, const char *label, const struct conf_loc *t, const char *key,
			    double limit, bool *given, double *out, unsigned *line)
{
	char flabel[160];
	snprintf(flabel, sizeof(flabel), "%s.%s", label, key);
	*line = conf_push_field(ld, t, key).line;
	*given = !lua_isnil(ld->L, -1);
	bool ok = !*given || conf_number(ld, flabel, *line, -limit, limit, out);
	lua_pop(ld->L, 1);
	return ok;
}

bool conf_lat_lon(struct loader *ld, const char *label, const struct conf_loc *t, bool *has, double *lat,
		  double *lon)
{
	bool has_lat, has_lon;
	unsigned lat_line, lon_line;
	bool ok = walk_coordinate(ld, label, t, "lat", 90, &has_lat, lat, &lat_line);
	ok &= walk_coordinate(ld, label, t, "lon", 180, &has_lon, lon, &lon_line);
	if (has_lat != has_lon) {
		conf_error(ld, has_lat ? lat_line : lon_line,
			   "%s: expected both lat and lon, or neither (%s is missing)", label,
			   has_lat ? "lon" : "lat");
		ok = false;
	}
	*has = ok && has_lat;
	return ok;
}

bool conf_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '_' &&
		    c != '-')
			return false;
	}
	return true;
}

const char *conf_required_string(struct loader *ld, const char *label, unsigned line, const char *what)
{
	size_t len;
	if (lua_isnil(ld->L, -1)) {
		conf_error(ld, line, "%s: missing (expected %s)", label, what);
		return NULL;
	}
	return conf_string(ld, label, line, 0, 255, false, &len);
}

void conf_dangling(struct loader *ld, unsigned line, const char *label, const char *what, const char *name,
		   const char *const *names, size_t count, size_t stride)
{
	const char *best = count ? conf_closest(name, names, count, stride) : NULL;
	char hint[96] = "";
	if (best)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", best);
	else if (!count)
		snprintf(hint, sizeof(hint), " (no %ss are defined)", what);
	conf_error(ld, line, "%s: no %s named '%.64s'%s", label, what, name, hint);
}

const uint8_t *conf_domain_value(struct loader *ld, const char *label, unsigned line, size_t *wire_len,
				 const char **text)
{
	char why[64];
	size_t len;
	const char *s;
	if (lua_isnil(ld->L, -1)) {
		conf_error(ld, line, "%s: missing (expected a domain name)", label);
		return NULL;
	}
	if (!(s = conf_string(ld, label, line, 1, 254, false, &len)))
		return NULL;
	if (!conf_domain_check(s, len, why, sizeof(why))) {
		conf_error(ld, line, "%s: \"%s\": %s", label, s, why);
		return NULL;
	}
	if (len > 1 && s[len - 1] == '.')
		len--;
	/* Each dot becomes a length byte; one more for the first label and the root (the root alone: 1). */
	size_t n = len == 1 && s[0] == '.' ? 1 : len + 2;
	uint8_t *w = arena_alloc(&ld->c->arena, n);
	size_t out = 0, label_start = 0;
	for (size_t i = 0; n > 1 && i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		w[out++] = (uint8_t)(i - label_start);
		for (size_t j = label_start; j < i; j++)
			w[out++] = (uint8_t)(s[j] >= 'A' && s[j] <= 'Z' ? s[j] | 0x20 : s[j]);
		label_start = i + 1;
	}
	w[n - 1] = 0;
	*wire_len = n;
	*text = arena_memdup(&ld->c->arena, s, strlen(s) + 1);
	return w;
}

static int walk_named_cmp(const void *a, const void *b)
{
	const struct conf_named *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The names written in the constructor at t, first occurrences in order (malloc'd), and on the stack a
 * table mapping each name to its index there. Lua keeps one value of a name written twice, silently:
 * that is reported here. */
static struct conf_source_field *walk_written(struct loader *ld, const char *label, const struct conf_loc *t)
{
	lua_State *L = ld->L;
	struct conf_source_field f, *v = NULL;
	size_t n = 0, cap = 0, it;
	lua_newtable(L);
	if (!conf_source_table(ld->src, t->pos, &it))
		return NULL;
	while (conf_source_next_field(ld->src, &it, &f)) {
		if (f.kind != CONF_FIELD_NAME)
			continue;
		lua_pushlstring(L, f.key, f.key_len);
		if (lua_rawget(L, -2) == LUA_TNUMBER) {
			/* Keeps the first place for the order, the last value: the one Lua keeps. */
			size_t first = (size_t)lua_tointeger(L, -1);
			conf_error(ld, conf_source_line(ld->src, f.key_pos),
				   "%s: '%.*s' is defined twice (also at line %u)", label,
				   (int)(f.key_len > 64 ? 64 : f.key_len), f.key,
				   conf_source_line(ld->src, v[first].key_pos));
			v[first].key_pos = f.key_pos;
			v[first].value_pos = f.value_pos;
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
		v = grow_array(v, &cap, n + 1, sizeof(*v));
		v[n] = f;
		lua_pushlstring(L, f.key, f.key_len);
		lua_pushinteger(L, (lua_Integer)n++);
		lua_rawset(L, -3);
	}
	return v;
}

struct conf_named *conf_keyed(struct loader *ld, const char *label, const char *what,
			      const struct conf_loc *t, size_t *count, bool *failed)
{
	lua_State *L = ld->L;
	struct conf_named *v = NULL;
	size_t n = 0, cap = 0;
	*count = 0;
	*failed = lua_type(L, -1) != LUA_TTABLE;
	if (*failed) {
		conf_expected(ld, t->line, label, what);
		return NULL;
	}
	struct conf_source_field *w = walk_written(ld, label, t);
	size_t from = ld->d->count;
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			char buf[64];
			conf_error(ld, t->line, "%s: expected %s, found key %s", label, what,
				   conf_key_text(L, -1, buf, sizeof(buf)));
			*failed = true;
			continue;
		}
		v = grow_array(v, &cap, n + 1, sizeof(*v));
		v[n] = (struct conf_named){lua_tostring(L, -1), {CONF_SOURCE_NONE, t->line}, SIZE_MAX};
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) == LUA_TNUMBER) {
			size_t i = (size_t)lua_tointeger(L, -1);
			v[n].order = i;
			v[n].loc = (struct conf_loc){w[i].value_pos, conf_source_line(ld->src, w[i].key_pos)};
		}
		lua_pop(L, 1);
		n++;
	}
	lua_pop(L, 1);
	free(w);
	diag_sort(ld->d, from);
	if (n)
		qsort(v, n, sizeof(*v), walk_named_cmp);
	*count = n;
	return v;
}

size_t conf_find(const char *name, const char *const *names, size_t count, size_t stride)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(*(const char *const *)((const char *)names + i * stride), name) == 0)
			return i;
	}
	return count;
}
