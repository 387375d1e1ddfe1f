/* testfile.c -- the operator's policy tests (`meridianctl test-policy`): a Lua file of cases, each a
 * member state, region and time with the answer it expects (format in policy_check.h).
 *
 * The file is evaluated in the config sandbox, then read field by field with raw access only (no
 * metamethod of the returned table runs outside the sandbox's budget), and checked against the
 * config before any case runs: a case that names a record, region or member the config does not
 * have is a mistake in the file, not a failing policy. Each case then runs the real path,
 * policy_compute over the snapshot loader_build made, so what passes here is what would serve. */
#include "meridian/policy_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "meridian/conf_sandbox.h"
#include "meridian/file.h"
#include "meridian/loader.h"
#include "meridian/wire.h"

#define TF_FILE_MAX	((size_t)4 << 20)
#define TF_RESULT	"__meridian_test_file"
#define TF_VALUE_TEXT	(WIRE_NAME_MAX * 4 + 8) /* a value in presentation form */
#define TF_SELECT_UNSET (-1)

static const char *const tf_select_names[] = {"all", "first", "weighted", "shuffle", "hash", NULL};

struct tf_state {
	const char *key; /* "pool/member" or "member" (the record's pool), as written */
	enum health_serving state;
	bool forced;	       /* ctx.members[i].forced: an operator set this state */
	double since;	       /* ctx.members[i].since: seconds in this state (0 when not given) */
	unsigned pool, member; /* resolved */
};

struct tf_case {
	const char *name;
	unsigned line;			    /* of its name in the file, 0 when not found */
	const char *record, *type, *region; /* as written; the file's defaults filled in; region NULL */
	struct tf_state *states;
	size_t state_count;
	bool has_now;
	double now;
	/* expect */
	const char **values; /* addrs or targets as written, then in canonical form */
	size_t value_count;
	const char *values_key; /* "addrs", "targets", or NULL when not given */
	bool ordered, error;
	bool has_ttl, has_answers, has_recheck;
	uint32_t ttl;
	unsigned answers;
	double recheck; /* seconds; Lua records only */
	int select;	/* enum dyn_select, or TF_SELECT_UNSET */
	/* resolved against the config */
	size_t rec;
	unsigned region_index;
};

struct tf_file {
	const char *path;
	const char *config; /* resolved against the test file's folder */
	struct tf_case *cases;
	size_t case_count;
	struct arena arena;
};

/* Reading the returned table: errors name the file, the line when known, and the field. */
struct tf_reader {
	lua_State *L;
	const char *path;
	const struct conf_source *src;
	struct diag *d;
	struct tf_file *f;
	size_t cursor; /* where the next case's name is searched in the text: cases are written in order */
	bool ok;
};

static void tf_error(struct tf_reader *rd, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tf_error(struct tf_reader *rd, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(rd->d, rd->path, line, "%s", msg);
	rd->ok = false;
}

static int state_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tf_state *)a)->key, ((const struct tf_state *)b)->key);
}

/* Compiles the file's text alone first, so a syntax error is reported as in the file (the wrapper
 * tf_evaluate adds would otherwise show up in the message: "near 'end'"). Nothing runs. */
static bool tf_syntax_ok(struct conf_sandbox *sb, const char *path, const char *text, size_t len,
			 struct diag *d)
{
	lua_State *L = conf_sandbox_lua(sb);
	int status = luaL_loadbufferx(L, text, len, "=", "t"); /* messages start ":LINE: " */
	const char *msg = lua_tostring(L, -1), *rest = msg;
	unsigned long line = 0;
	if (status != LUA_OK && msg && msg[0] == ':') {
		char *end;
		line = strtoul(msg + 1, &end, 10);
		rest = *end == ':' ? end + 1 + (end[1] == ' ') : msg;
	}
	if (status != LUA_OK)
		diag_error(d, path, line, "%s", rest ? rest : "cannot compile");
	lua_pop(L, 1);
	return status == LUA_OK;
}

/* Runs the file in the sandbox and leaves the table it returns on top. The chunk is wrapped in a
 * function whose result is assigned to a global; the wrapper adds no line, so lines stay the file's. */
static struct conf_sandbox *tf_evaluate(const char *path, struct diag *d)
{
	static const char head[] = TF_RESULT " = (function(...) ", tail[] = "\nend)(...)";
	size_t len;
	char *text = file_read_all(path, TF_FILE_MAX, &len, d);
	if (!text)
		return NULL;
	size_t total = sizeof(head) - 1 + len + sizeof(tail) - 1;
	char *chunk = malloc(total + 1);
	struct conf_sandbox *sb = chunk ? conf_sandbox_new(NULL) : NULL;
	if (!sb)
		diag_error(d, path, 0, "out of memory");
	bool ok = sb && tf_syntax_ok(sb, path, text, len, d);
	if (ok) {
		memcpy(chunk, head, sizeof(head) - 1);
		memcpy(chunk + sizeof(head) - 1, text, len);
		memcpy(chunk + sizeof(head) - 1 + len, tail, sizeof(tail));
		ok = conf_sandbox_run_string(sb, path, chunk, total, d);
	}
	free(chunk);
	free(text);
	if (ok) {
		lua_State *L = conf_sandbox_lua(sb);
		conf_sandbox_push_globals(sb);
		lua_pushliteral(L, TF_RESULT);
		lua_rawget(L, -2);
		lua_remove(L, -2);
		if (lua_type(L, -1) == LUA_TTABLE)
			return sb;
		diag_error(d, path, 0,
			   "expected the file to return a table { config = ..., cases = ... }, got %s",
			   lua_typename(L, lua_type(L, -1)));
	}
	conf_sandbox_free(sb);
	return NULL;
}

/* Every key of the table on top is in known (NULL-ended); label names the table ("": the file's). */
static void tf_known_keys(struct tf_reader *rd, unsigned line, const char *label, const char *const *known)
{
	lua_State *L = rd->L;
	label = *label ? label : "the file's table";
	size_t from = rd->d->count;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		bool found = false;
		if (lua_type(L, -2) == LUA_TSTRING)
			for (const char *const *k = known; *k && !found; k++)
				found = strcmp(lua_tostring(L, -2), *k) == 0;
		if (!found && lua_type(L, -2) == LUA_TSTRING)
			tf_error(rd, line, "%s: unknown key '%.64s'", label, lua_tostring(L, -2));
		else if (!found)
			tf_error(rd, line, "%s: unexpected %s key", label, lua_typename(L, lua_type(L, -2)));
		lua_pop(L, 1);
	}
	diag_sort(rd->d, from); /* in the same order whatever order Lua walked in */
}

/* "label.key", or "key" for the file's own table (label ""). */
static const char *tf_key(char *buf, size_t size, const char *label, const char *key)
{
	snprintf(buf, size, "%s%s%s", label, *label ? "." : "", key);
	return buf;
}

/* Pushes field key of the table on top (raw). */
static int tf_field(struct tf_reader *rd, const char *key)
{
	lua_pushstring(rd->L, key);
	return lua_rawget(rd->L, -2);
}

/* Field key of the table on top as a string copied into the arena; NULL when absent (or wrong, then
 * reported). */
static const char *tf_string(struct tf_reader *rd, unsigned line, const char *label, const char *key)
{
	const char *s = NULL;
	char k[128];
	int t = tf_field(rd, key);
	if (t == LUA_TSTRING)
		s = arena_strdup(&rd->f->arena, lua_tostring(rd->L, -1));
	else if (t != LUA_TNIL)
		tf_error(rd, line, "%s: expected a string, got %s", tf_key(k, sizeof(k), label, key),
			 lua_typename(rd->L, t));
	lua_pop(rd->L, 1);
	return s;
}

/* Field key as a boolean (false when absent). */
static bool tf_bool(struct tf_reader *rd, unsigned line, const char *label, const char *key)
{
	char k[128];
	int t = tf_field(rd, key);
	bool v = t == LUA_TBOOLEAN && lua_toboolean(rd->L, -1);
	if (t != LUA_TNIL && t != LUA_TBOOLEAN)
		tf_error(rd, line, "%s: expected true or false, got %s", tf_key(k, sizeof(k), label, key),
			 lua_typename(rd->L, t));
	lua_pop(rd->L, 1);
	return v;
}

/* Field key as an integer in 0..max; false when absent (or wrong, then reported). */
static bool tf_uint(struct tf_reader *rd, unsigned line, const char *label, const char *key, lua_Integer max,
		    lua_Integer *out)
{
	char k[128];
	int t = tf_field(rd, key);
	bool ok = lua_isinteger(rd->L, -1) && (*out = lua_tointeger(rd->L, -1)) >= 0 && *out <= max;
	if (t != LUA_TNIL && !ok)
		tf_error(rd, line, "%s: expected an integer in 0..%lld", tf_key(k, sizeof(k), label, key),
			 (long long)max);
	lua_pop(rd->L, 1);
	return ok;
}

/* Field key as a number of seconds (since the epoch, for now); false when absent. */
static bool tf_time(struct tf_reader *rd, unsigned line, const char *label, const char *key, double *out)
{
	char k[128];
	int t = tf_field(rd, key);
	bool ok = t == LUA_TNUMBER && (*out = lua_tonumber(rd->L, -1)) >= 0 && *out < 1e12;
	if (t != LUA_TNIL && !ok)
		tf_error(rd, line, "%s: expected a number of seconds >= 0", tf_key(k, sizeof(k), label, key));
	lua_pop(rd->L, 1);
	return ok;
}

/* The list of strings on top into c->values. */
static void tf_values(struct tf_reader *rd, unsigned line, const char *label, struct tf_case *c)
{
	lua_State *L = rd->L;
	size_t n = lua_rawlen(L, -1);
	if (lua_type(L, -1) != LUA_TTABLE || n == 0) {
		tf_error(rd, line, "%s: expected a list of at least one string", label);
		return;
	}
	c->values = arena_alloc(&rd->f->arena, n * sizeof(*c->values));
	for (size_t i = 1; i <= n; i++) {
		if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING)
			c->values[c->value_count++] = arena_strdup(&rd->f->arena, lua_tostring(L, -1));
		else
			tf_error(rd, line, "%s[%zu]: expected a string", label, i);
		lua_pop(L, 1);
	}
}

/* The expect table (on top) of case c. */
static void tf_expect(struct tf_reader *rd, const char *label, struct tf_case *c)
{
	static const char *const known[] = {"addrs",   "targets", "ordered", "ttl", "select",
					    "answers", "error",	  "recheck", NULL};
	char elabel[96];
	lua_Integer v;
	snprintf(elabel, sizeof(elabel), "%s.expect", label);
	tf_known_keys(rd, c->line, elabel, known);
	for (const char *const *k = known; k < known + 2; k++) {
		if (tf_field(rd, *k) != LUA_TNIL) {
			char vlabel[112];
			snprintf(vlabel, sizeof(vlabel), "%s.%s", elabel, *k);
			if (c->values_key)
				tf_error(rd, c->line, "%s: give addrs or targets, not both", elabel);
			c->values_key = *k;
			tf_values(rd, c->line, vlabel, c);
		}
		lua_pop(rd->L, 1);
	}
	c->ordered = tf_bool(rd, c->line, elabel, "ordered");
	c->error = tf_bool(rd, c->line, elabel, "error");
	if ((c->has_ttl = tf_uint(rd, c->line, elabel, "ttl", INT32_MAX, &v)))
		c->ttl = (uint32_t)v;
	if ((c->has_answers = tf_uint(rd, c->line, elabel, "answers", 65535, &v)))
		c->answers = (unsigned)v;
	c->has_recheck = tf_time(rd, c->line, elabel, "recheck", &c->recheck);
	const char *sel = tf_string(rd, c->line, elabel, "select");
	c->select = TF_SELECT_UNSET;
	for (int i = 0; sel && tf_select_names[i]; i++)
		if (strcmp(sel, tf_select_names[i]) == 0)
			c->select = i;
	if (sel && c->select == TF_SELECT_UNSET)
		tf_error(rd, c->line,
			 "%s.select: expected all, first, weighted, shuffle or hash, got \"%.64s\"", elabel,
			 sel);
	if (!c->values_key && !c->error)
		tf_error(rd, c->line, "%s: addrs (or targets for a CNAME) is required", elabel);
}

/* A state's name ("up", "drain" or "down") as an enum health_serving, or -1. */
static int tf_state_name(const char *v)
{
	static const char *const names[] = {"up", "drain", "down"}; /* in the order of enum health_serving */
	for (int i = 0; v && i < 3; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* A member's state written as a table (on top): { state = "up", since = 90, forced = true }. */
static bool tf_state_table(struct tf_reader *rd, unsigned line, const char *slabel, struct tf_state *st)
{
	static const char *const known[] = {"state", "since", "forced", NULL};
	size_t errors = rd->d->errors;
	tf_known_keys(rd, line, slabel, known);
	const char *v = tf_string(rd, line, slabel, "state");
	int state = tf_state_name(v);
	if (state < 0)
		tf_error(rd, line, "%s.state: expected \"up\", \"down\" or \"drain\"", slabel);
	st->state = (enum health_serving)(state < 0 ? 0 : state);
	if (!tf_time(rd, line, slabel, "since", &st->since))
		st->since = 0;
	st->forced = tf_bool(rd, line, slabel, "forced");
	return rd->d->errors == errors;
}

/* The states table (on top) of case c: member -> "up" | "down" | "drain", or a table saying also for
 * how long and whether an operator forced it. */
static void tf_states(struct tf_reader *rd, const char *label, struct tf_case *c)
{
	lua_State *L = rd->L;
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		n++;
		lua_pop(L, 1);
	}
	c->states = arena_alloc(&rd->f->arena, (n + 1) * sizeof(*c->states));
	size_t from = rd->d->count;
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			tf_error(rd, c->line, "%s.states: keys are member names (\"POOL/MEMBER\")", label);
			lua_pop(L, 1);
			continue;
		}
		const char *key = lua_tostring(L, -2);
		char slabel[160];
		snprintf(slabel, sizeof(slabel), "%s.states[\"%.64s\"]", label, key);
		struct tf_state st = {.key = arena_strdup(&rd->f->arena, key)};
		bool ok = true;
		if (lua_type(L, -1) == LUA_TTABLE) {
			ok = tf_state_table(rd, c->line, slabel, &st);
		} else {
			int state =
			    tf_state_name(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL);
			if ((ok = state >= 0))
				st.state = (enum health_serving)state;
			else
				tf_error(rd, c->line,
					 "%s: expected \"up\", \"down\", \"drain\" or a table { state = ..., "
					 "since = SECONDS, forced = BOOL }",
					 slabel);
		}
		if (ok)
			c->states[c->state_count++] = st;
		lua_pop(L, 1);
	}
	diag_sort(rd->d, from); /* in the same order whatever order Lua walked in */
	qsort(c->states, c->state_count, sizeof(*c->states), state_cmp); /* reported in name order */
}

/* Case i (on top) into c, starting from the defaults the file's table gives. */
static void tf_case(struct tf_reader *rd, size_t i, const struct tf_case *defaults, struct tf_case *c)
{
	static const char *const known[] = {"name",   "record", "type",	  "region",
					    "states", "now",	"expect", NULL};
	char label[48];
	snprintf(label, sizeof(label), "cases[%zu]", i);
	*c = *defaults;
	if (lua_type(rd->L, -1) != LUA_TTABLE) {
		tf_error(rd, 0, "%s: expected a table { name = ..., expect = ... }", label);
		return;
	}
	c->name = tf_string(rd, 0, label, "name");
	if (c->name) {
		size_t pos = conf_source_find(rd->src, rd->cursor, "name", c->name, strlen(c->name));
		c->line = pos == CONF_SOURCE_NONE ? 0 : conf_source_line(rd->src, pos);
		rd->cursor = pos == CONF_SOURCE_NONE ? rd->cursor : pos + 1;
	} else {
		tf_error(rd, 0, "%s.name: missing (every case needs a name)", label);
	}
	tf_known_keys(rd, c->line, label, known);
	const char *s;
	if ((s = tf_string(rd, c->line, label, "record")))
		c->record = s;
	if ((s = tf_string(rd, c->line, label, "type")))
		c->type = s;
	if ((s = tf_string(rd, c->line, label, "region")))
		c->region = s;
	double now;
	if (tf_time(rd, c->line, label, "now", &now)) {
		c->has_now = true;
		c->now = now;
	}
	int t = tf_field(rd, "states");
	if (t == LUA_TTABLE)
		tf_states(rd, label, c);
	else if (t != LUA_TNIL)
		tf_error(rd, c->line, "%s.states: expected a table { [\"POOL/MEMBER\"] = \"down\", ... }",
			 label);
	lua_pop(rd->L, 1);
	if (tf_field(rd, "expect") == LUA_TTABLE)
		tf_expect(rd, label, c);
	else
		tf_error(rd, c->line, "%s.expect: expected a table { addrs = { ... }, ... }", label);
	lua_pop(rd->L, 1);
	if (!c->record || !c->type)
		tf_error(rd, c->line, "%s: no %s (give it in the case or at the top of the file)", label,
			 c->record ? "type" : "record");
}

/* The config path: relative to the test file's folder. */
static const char *tf_config_path(struct tf_file *f, const char *config)
{
	const char *slash = strrchr(f->path, '/');
	if (config[0] == '/' || !slash)
		return config;
	size_t dl = (size_t)(slash - f->path) + 1, cl = strlen(config);
	char *p = arena_alloc(&f->arena, dl + cl + 1);
	memcpy(p, f->path, dl);
	memcpy(p + dl, config, cl + 1);
	return p;
}

/* The file's table (on top) into f. */
static void tf_read(struct tf_reader *rd)
{
	static const char *const known[] = {"config", "record", "type", "region", "now", "cases", NULL};
	struct tf_file *f = rd->f;
	struct tf_case defaults = {.select = TF_SELECT_UNSET};
	tf_known_keys(rd, 0, "", known);
	const char *config = tf_string(rd, 0, "", "config");
	bool absent = tf_field(rd, "config") == LUA_TNIL;
	lua_pop(rd->L, 1);
	if (config)
		f->config = tf_config_path(f, config);
	else if (absent)
		tf_error(rd, 0, "config: missing (the config file the cases run against)");
	defaults.record = tf_string(rd, 0, "", "record");
	defaults.type = tf_string(rd, 0, "", "type");
	defaults.region = tf_string(rd, 0, "", "region");
	defaults.has_now = tf_time(rd, 0, "", "now", &defaults.now);
	size_t n = tf_field(rd, "cases") == LUA_TTABLE ? lua_rawlen(rd->L, -1) : 0;
	if (n == 0)
		tf_error(rd, 0, "cases: expected a list of at least one case");
	f->cases = arena_alloc(&f->arena, (n + 1) * sizeof(*f->cases));
	for (size_t i = 1; i <= n; i++) {
		lua_rawgeti(rd->L, -1, (lua_Integer)i);
		tf_case(rd, i, &defaults, &f->cases[f->case_count]);
		lua_pop(rd->L, 1);
		struct tf_case *c = &f->cases[f->case_count++];
		for (size_t j = 0; c->name && j + 1 < f->case_count; j++)
			if (f->cases[j].name && strcmp(f->cases[j].name, c->name) == 0)
				tf_error(rd, c->line,
					 "cases[%zu].name: \"%.64s\" is already the name of cases[%zu]", i,
					 c->name, j + 1);
	}
	lua_pop(rd->L, 1);
}

/* Evaluates and reads the test file; false with the reasons in d. */
static bool tf_load(struct tf_file *f, struct diag *d)
{
	struct conf_sandbox *sb = tf_evaluate(f->path, d);
	if (!sb)
		return false;
	struct tf_reader rd = {.L = conf_sandbox_lua(sb),
			       .path = f->path,
			       .src = conf_sandbox_source(sb),
			       .d = d,
			       .f = f,
			       .ok = true};
	tf_read(&rd);
	conf_sandbox_free(sb);
	return rd.ok;
}

/* Resolving the cases against the config. */

static uint16_t tf_type(const char *s)
{
	return !strcasecmp(s, "A")	 ? WIRE_TYPE_A
	       : !strcasecmp(s, "AAAA")	 ? WIRE_TYPE_AAAA
	       : !strcasecmp(s, "CNAME") ? WIRE_TYPE_CNAME
					 : 0;
}

/* A domain name in the form values are printed in: lowercase, with the final dot. */
static const char *tf_canonical_name(struct arena *ar, const char *s)
{
	size_t n = strlen(s);
	char *p = arena_alloc(ar, n + 2);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)tolower((unsigned char)s[i]);
	if (n == 0 || p[n - 1] != '.')
		p[n++] = '.';
	p[n] = '\0';
	return p;
}

/* The index of the dynamic record (name, type), or record_count. */
static size_t tf_find_record(const struct conf *conf, struct arena *ar, const char *name, uint16_t type)
{
	const char *want = tf_canonical_name(ar, name);
	char text[TF_VALUE_TEXT];
	for (size_t r = 0; r < conf->record_count; r++) {
		const struct conf_record *rec = &conf->records[r];
		wire_name_to_text(rec->owner, rec->owner_len, text, sizeof(text));
		if (rec->type == type && strcmp(text, want) == 0)
			return r;
	}
	return conf->record_count;
}

static bool tf_find_region(const struct conf *conf, const char *name, unsigned *index)
{
	if (!conf->geo.region_count) {
		*index = 0;
		return !name || !*name;
	}
	if (!name) {
		*index = conf->geo.default_region;
		return true;
	}
	for (unsigned g = 0; g < conf->geo.region_count; g++)
		if (strcmp(conf->geo.regions[g].name, name) == 0) {
			*index = g;
			return true;
		}
	return false;
}

/* A state's member: "pool/member", or "member" in the record's pool. */
static bool tf_find_member(const struct conf *conf, const struct conf_record *rec, struct tf_state *st)
{
	const char *slash = strchr(st->key, '/'), *member = slash ? slash + 1 : st->key;
	size_t plen = slash ? (size_t)(slash - st->key) : 0;
	for (unsigned p = 0; p < conf->pool_count; p++) {
		const struct conf_pool *pool = &conf->pools[p];
		if (slash ? strlen(pool->name) != plen || strncmp(pool->name, st->key, plen) : p != rec->pool)
			continue;
		for (unsigned m = 0; m < pool->member_count; m++)
			if (strcmp(pool->members[m].name, member) == 0) {
				st->pool = p;
				st->member = m;
				return true;
			}
	}
	return false;
}

/* The expected values of c in the form answers are printed in; false (reported) when one is not a
 * value of the record's type. */
static bool tf_canonical_values(struct tf_file *f, size_t i, struct tf_case *c, uint16_t type, struct diag *d)
{
	const char *want = type == WIRE_TYPE_CNAME ? "targets" : "addrs";
	if (c->values_key && strcmp(c->values_key, want) != 0) {
		diag_error(d, f->path, c->line, "cases[%zu].expect: %s record expects %s, not %s", i + 1,
			   type == WIRE_TYPE_CNAME ? "a CNAME"
			   : type == WIRE_TYPE_A   ? "an A"
						   : "an AAAA",
			   want, c->values_key);
		return false;
	}
	bool ok = true;
	for (size_t j = 0; j < c->value_count; j++) {
		uint8_t addr[16];
		char text[INET6_ADDRSTRLEN];
		int family = type == WIRE_TYPE_A ? AF_INET : AF_INET6;
		if (type == WIRE_TYPE_CNAME) {
			c->values[j] = tf_canonical_name(&f->arena, c->values[j]);
		} else if (inet_pton(family, c->values[j], addr) == 1) {
			c->values[j] = arena_strdup(&f->arena, inet_ntop(family, addr, text, sizeof(text)));
		} else {
			diag_error(d, f->path, c->line,
				   "cases[%zu].expect.addrs[%zu]: \"%.64s\" is not an IPv%c address", i + 1,
				   j + 1, c->values[j], type == WIRE_TYPE_A ? '4' : '6');
			ok = false;
		}
	}
	return ok;
}

/* Case i's record, region and members; false (reported) when the config has no such thing. */
static bool tf_resolve_case(struct tf_file *f, size_t i, const struct conf *conf, struct diag *d)
{
	struct tf_case *c = &f->cases[i];
	uint16_t type = tf_type(c->type);
	if (!type) {
		diag_error(d, f->path, c->line,
			   "cases[%zu].type: expected \"A\", \"AAAA\" or \"CNAME\", got \"%.16s\"", i + 1,
			   c->type);
		return false;
	}
	c->rec = tf_find_record(conf, &f->arena, c->record, type);
	if (c->rec == conf->record_count) {
		diag_error(d, f->path, c->line, "cases[%zu]: %s has no dynamic record %.255s %s", i + 1,
			   f->config, c->record, c->type);
		return false;
	}
	bool ok = tf_canonical_values(f, i, c, type, d);
	if (c->has_recheck && conf->records[c->rec].policy != CONF_POLICY_LUA) {
		diag_error(d, f->path, c->line,
			   "cases[%zu].expect.recheck: only for a record with a Lua policy", i + 1);
		ok = false;
	}
	if (!tf_find_region(conf, c->region, &c->region_index)) {
		diag_error(d, f->path, c->line, "cases[%zu].region: %s has no region named '%.64s'", i + 1,
			   f->config, c->region);
		ok = false;
	}
	for (size_t j = 0; j < c->state_count; j++)
		if (!tf_find_member(conf, &conf->records[c->rec], &c->states[j])) {
			diag_error(d, f->path, c->line, "cases[%zu].states: %s has no member '%.128s'%s",
				   i + 1, f->config, c->states[j].key,
				   strchr(c->states[j].key, '/') ? "" : " in the record's pool");
			ok = false;
		}
	return ok;
}

/* Running a case. */

/* The values of answer a in presentation form ("192.0.2.1", "www.example.net."). */
static size_t tf_answer_values(const struct dyn_answer *a, char (*out)[TF_VALUE_TEXT])
{
	for (unsigned i = 0; i < a->count; i++) {
		const uint8_t *rd = a->rdata + a->offsets[i];
		size_t len = (size_t)rd[0] << 8 | rd[1];
		if (a->type == WIRE_TYPE_CNAME)
			wire_name_to_text(rd + 2, len, out[i], TF_VALUE_TEXT);
		else
			inet_ntop(a->type == WIRE_TYPE_A ? AF_INET : AF_INET6, rd + 2, out[i], TF_VALUE_TEXT);
	}
	return a->count;
}

static int tf_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether got equals want: in order, or as multisets. */
static bool tf_same_values(const struct tf_case *c, char (*got)[TF_VALUE_TEXT], size_t n)
{
	if (n != c->value_count)
		return false;
	const char **x = calloc(n + 1, sizeof(*x)), **y = calloc(n + 1, sizeof(*y));
	if (!x || !y)
		abort();
	for (size_t i = 0; i < n; i++) {
		x[i] = c->values[i];
		y[i] = got[i];
	}
	if (!c->ordered) {
		qsort(x, n, sizeof(*x), tf_strcmp);
		qsort(y, n, sizeof(*y), tf_strcmp);
	}
	bool same = true;
	for (size_t i = 0; i < n && same; i++)
		same = strcmp(x[i], y[i]) == 0;
	free(x);
	free(y);
	return same;
}

/* The lines that explain a failed case ("#   expected ...", "#   got ..."). */
struct tf_verdict {
	char text[4096];
	size_t len;
};

static void tf_say(struct tf_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tf_say(struct tf_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (v->len < sizeof(v->text))
		v->len += (size_t)vsnprintf(v->text + v->len, sizeof(v->text) - v->len, fmt, ap);
	va_end(ap);
}

static void tf_say_values(struct tf_verdict *v, const char *what, const char *key, const char *const *vals,
			  size_t n)
{
	tf_say(v, "#   %-8s %s:", what, key);
	for (size_t i = 0; i < n; i++)
		tf_say(v, "%s %s", i ? "," : "", vals[i]);
	tf_say(v, "%s\n", n ? "" : " (none)");
}

/* Compares answer a with what case c expects; adds the differences to v. */
static void tf_compare(const struct tf_case *c, const struct dyn_answer *a, bool policy_failed,
		       const char *why, struct tf_verdict *v)
{
	char(*got)[TF_VALUE_TEXT] = calloc(DYN_VALUES_MAX, TF_VALUE_TEXT);
	const char *gotp[DYN_VALUES_MAX];
	if (!got)
		abort();
	size_t n = tf_answer_values(a, got);
	for (size_t i = 0; i < n; i++)
		gotp[i] = got[i];
	if (policy_failed && !c->error)
		tf_say(v, "#   the policy failed: %s\n", why);
	else if (!policy_failed && c->error)
		tf_say(v, "#   expected the policy to fail, it answered\n");
	if (c->values_key && !tf_same_values(c, got, n)) {
		tf_say_values(v, "expected", c->values_key, c->values, c->value_count);
		tf_say_values(v, "got", c->values_key, gotp, n);
		if (!c->ordered)
			tf_say(v, "#   (compared as a set)\n");
	}
	if (c->has_ttl && c->ttl != a->ttl)
		tf_say(v, "#   expected ttl: %u\n#   got      ttl: %u\n", (unsigned)c->ttl, (unsigned)a->ttl);
	if (c->select != TF_SELECT_UNSET && c->select != a->select)
		tf_say(v, "#   expected select: %s\n#   got      select: %s\n", tf_select_names[c->select],
		       a->select < 5 ? tf_select_names[a->select] : "?");
	if (c->has_answers && c->answers != a->cap)
		tf_say(v, "#   expected answers: %u\n#   got      answers: %u\n", c->answers,
		       (unsigned)a->cap);
	free(got);
}

/* What the case says of every member, as the daemon gives it to policy_compute. */
static void tf_member_states(const struct conf *conf, const struct tf_case *c, struct policy_member_states *h)
{
	policy_member_states_init(h, conf);
	for (size_t j = 0; j < c->state_count; j++) {
		const struct tf_state *st = &c->states[j];
		h->serving[st->pool][st->member] = (uint8_t)st->state;
		h->forced[st->pool][st->member] = st->forced;
		h->since[st->pool][st->member] = st->since;
	}
}

/* The case's Lua policy run once more directly, with the input policy_compute gives it: for what the
 * published answer does not keep, the recheck it asks for and why it failed. */
static bool tf_run_policy(const struct snapshot *s, const struct tf_case *c,
			  const struct policy_member_states *h, double now, struct lua_policy_output *out,
			  char *err, size_t size)
{
	const struct conf *conf = s->conf;
	const struct conf_record *rec = &conf->records[c->rec];
	const struct conf_pool *pool = &conf->pools[rec->pool];
	struct lua_policy_member *members = calloc(pool->member_count + 1, sizeof(*members));
	struct dc_distance *dist = calloc(conf->datacenter_count + 1, sizeof(*dist));
	struct lua_policy_dc *dcs = calloc(conf->datacenter_count + 1, sizeof(*dcs));
	if (!members || !dist || !dcs)
		abort();
	for (unsigned m = 0; m < pool->member_count; m++) {
		members[m].state = (enum health_serving)h->serving[rec->pool][m];
		members[m].forced = h->forced[rec->pool][m];
		members[m].since = h->since[rec->pool][m];
	}
	size_t n = policy_dc_distances(conf, s->geo, c->region_index, dist);
	for (size_t i = 0; i < n; i++)
		dcs[i] = (struct lua_policy_dc){.dc = dist[i].dc, .km = dist[i].km};
	struct lua_policy_input in = {.record = c->rec,
				      .region = policy_region_name(conf, c->region_index),
				      .members = members,
				      .dcs = dcs,
				      .dc_count = n,
				      .now = now,
				      .seed = c->rec * 0x9e3779b97f4a7c15ull + c->region_index};
	bool ok = lua_policy_run(s->lua, conf, &in, out, err, size);
	free(members);
	free(dist);
	free(dcs);
	return ok;
}

static double tf_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs case c through policy_compute; true when it passed. Prints its lines to out. */
static bool tf_run_case(const struct snapshot *s, const struct tf_file *f, const struct tf_case *c, FILE *out)
{
	const struct conf *conf = s->conf;
	struct policy_member_states h;
	tf_member_states(conf, c, &h);
	double now = c->has_now ? c->now : tf_wall_now();
	struct policy_inputs in = {.serving = (const uint8_t *const *)h.serving,
				   .forced = (const bool *const *)h.forced,
				   .since = (const double *const *)h.since,
				   .lua = s->lua,
				   .now = now};
	struct diag cd;
	diag_init(&cd);
	struct tf_verdict v = {.len = 0};
	struct lua_policy_output lo = {.recheck = 0};
	char err[512] = "the policy failed";
	bool lua = conf->records[c->rec].policy == CONF_POLICY_LUA;
	bool ran = lua && tf_run_policy(s, c, &h, now, &lo, err, sizeof(err));
	struct dyn_table *t = policy_compute(conf, s->geo, &in, &cd);
	if (!t) {
		tf_say(&v, "#   no answers: %s\n", cd.count ? cd.entries[0].text : "policy_compute failed");
	} else {
		const struct dyn_answer *a = dyn_answer_get(t, c->rec, c->region_index);
		tf_compare(c, a, a->flags & DYN_FLAG_POLICY_ERROR, err, &v);
	}
	if (c->has_recheck && !ran)
		tf_say(&v, "#   expected recheck: %g\n#   got      recheck: none, %s\n", c->recheck, err);
	else if (c->has_recheck && fabs(lo.recheck - c->recheck) > 1e-6)
		tf_say(&v, "#   expected recheck: %g\n#   got      recheck: %g\n", c->recheck, lo.recheck);
	fprintf(out, "%s - %s\n", v.len ? "not ok" : "ok", c->name);
	if (v.len && c->line)
		fprintf(out, "#   at %s:%u\n", f->path, c->line);
	fputs(v.text, out);
	dyn_table_free(t);
	diag_free(&cd);
	policy_member_states_free(&h);
	return v.len == 0;
}

bool policy_test_file(const char *path, FILE *out, struct policy_test_counts *counts, struct diag *d)
{
	struct tf_file f = {.path = path};
	arena_init(&f.arena, 16 * 1024);
	bool ok = tf_load(&f, d);
	struct conf *conf = ok ? conf_load(f.config, d) : NULL;
	struct snapshot *s = conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, d) : NULL;
	if (ok && !s)
		diag_error(d, path, 0, "its config %s does not load", f.config);
	ok = s != NULL;
	for (size_t i = 0; ok && i < f.case_count; i++)
		ok &= tf_resolve_case(&f, i, s->conf, d);
	for (size_t i = 0; i < f.case_count && ok; i++) {
		if (tf_run_case(s, &f, &f.cases[i], out))
			counts->passed++;
		else
			counts->failed++;
	}
	snapshot_free(s);
	arena_free(&f.arena);
	return ok;
}
