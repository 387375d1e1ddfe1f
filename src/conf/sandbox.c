/* sandbox.c -- the Lua sandbox: safe libraries, instruction budget, memory cap, recorded globals.
 *
 * Layout of the state. The real global table is replaced by `lib`, which holds only the safe base
 * functions and the string, table and math libraries, so nothing reachable from Lua holds load or
 * dofile. A chunk runs with _ENV set to an empty proxy table whose metatable sends reads to `values`
 * (and from there to `lib`) and assignments to a C function that stores them in `values` and records
 * the line in `lines`. Keeping the proxy empty makes every assignment, not only the first, go through
 * __newindex, so the recorded line is that of the last assignment: the one whose value is used.
 *
 * Limits. The allocator enforces the memory cap while Lua code is loaded or run; outside those
 * windows (validation reading the results) it does not, so a state close to its cap can still be
 * inspected. A count hook every SANDBOX_HOOK_STEP instructions enforces the budget. The chunk's own
 * pcall is wrapped so that once a limit is hit the error cannot be caught and the run ends. */
#include "meridian/conf_sandbox.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/file.h"

#define SANDBOX_HOOK_STEP 1000

struct conf_sandbox {
	lua_State *L;
	struct conf_sandbox_limits limits;
	size_t used;	      /* bytes currently allocated by the state */
	bool enforce;	      /* Lua code is being loaded or run: the cap applies */
	bool cap_hit;	      /* the allocator refused a request because of the cap */
	bool mem_error;	      /* a memory error was raised in this run, even if pcall caught it */
	bool budget_hit;      /* the instruction budget ran out in this run */
	unsigned budget_line; /* where it ran out */
	uint64_t steps;	      /* instructions run in this run, counted in hook steps */
	int env_ref, values_ref, lines_ref; /* registry references */
	char short_src[LUA_IDSIZE];	    /* how Lua's messages name the current chunk */
	char *text;			    /* the current chunk's text, for locating values */
	size_t *line_starts;		    /* offset of each line's first byte in text */
	struct conf_source src;
};

static const char *const sandbox_base[] = {
    "assert", "error",	  "ipairs", "next",   "pairs",	"select",	"tonumber", "tostring",
    "type",   "rawequal", "rawget", "rawlen", "rawset", "getmetatable", "_VERSION", NULL,
};

static struct conf_sandbox *sandbox_of(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ud;
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct conf_sandbox *sb = ud;
	size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
	if (nsize == 0) {
		free(ptr);
		sb->used -= old;
		return NULL;
	}
	if (sb->enforce && nsize > old &&
	    (sb->used > sb->limits.memory || nsize - old > sb->limits.memory - sb->used)) {
		sb->cap_hit = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		sb->used = sb->used - old + nsize;
	return p;
}

/* Out of memory outside a protected call: the same policy as arena_alloc. */
static int sandbox_panic(lua_State *L)
{
	(void)L;
	abort();
}

/* Line of the innermost Lua function on the stack, from level up; 0 when none. */
static unsigned sandbox_lua_line(lua_State *L, int level)
{
	lua_Debug ar;
	for (; lua_getstack(L, level, &ar); level++) {
		if (lua_getinfo(L, "l", &ar) && ar.currentline > 0)
			return (unsigned)ar.currentline;
	}
	return 0;
}

static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
	struct conf_sandbox *sb = sandbox_of(L);
	sb->steps += SANDBOX_HOOK_STEP;
	if (sb->steps < sb->limits.instructions && !sb->budget_hit)
		return;
	if (!sb->budget_hit) {
		sb->budget_hit = true;
		sb->budget_line =
		    lua_getinfo(L, "l", ar) && ar->currentline > 0 ? (unsigned)ar->currentline : 0;
	}
	/* Keeps raising on every step so that no handler can keep the chunk running. */
	lua_pushliteral(L, "instruction budget exceeded");
	lua_error(L);
}

/* pcall for chunks: like the base one, but a limit hit inside stays fatal. */
static int sandbox_pcall_fn(lua_State *L)
{
	struct conf_sandbox *sb = sandbox_of(L);
	luaL_checkany(L, 1);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
	if (status == LUA_ERRMEM)
		sb->mem_error = true;
	if (sb->budget_hit || sb->mem_error)
		return lua_error(L);
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_replace(L, 1);
		return 2;
	}
	return lua_gettop(L);
}

/* setmetatable without __gc: finalizers run with hooks off, outside the budget. */
static int sandbox_setmetatable(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed in the sandbox");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/* __newindex of the environment proxy: (proxy, key, value), upvalues values and lines. */
static int sandbox_newindex(lua_State *L)
{
	lua_settop(L, 3);
	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_pushvalue(L, 2);
		lua_pushinteger(L, sandbox_lua_line(L, 1));
		lua_rawset(L, lua_upvalueindex(2));
	}
	lua_rawset(L, lua_upvalueindex(1));
	return 0;
}

static void sandbox_open(lua_State *L, int lib, const char *name, lua_CFunction open)
{
	lua_pushcfunction(L, open);
	lua_call(L, 0, 1);
	lua_setfield(L, lib, name);
}

/* Gives the table at t a protected metatable with __index and, when not 0, __newindex. */
static void sandbox_set_meta(lua_State *L, int t, int index, int newindex)
{
	lua_newtable(L);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pushvalue(L, index);
	lua_setfield(L, -2, "__index");
	if (newindex) {
		lua_pushvalue(L, newindex);
		lua_setfield(L, -2, "__newindex");
	}
	lua_setmetatable(L, t);
}

/* Builds lib, values, lines and the proxy (run protected: any step can fail for memory). */
static int sandbox_setup(lua_State *L)
{
	struct conf_sandbox *sb = lua_touserdata(L, 1);
	lua_settop(L, 0);
	lua_pushcfunction(L, luaopen_base);
	lua_call(L, 0, 1); /* 1: the original global table */
	lua_newtable(L);   /* 2: lib */
	for (const char *const *n = sandbox_base; *n; n++) {
		lua_getfield(L, 1, *n);
		lua_setfield(L, 2, *n);
	}
	lua_pushcfunction(L, sandbox_pcall_fn);
	lua_setfield(L, 2, "pcall");
	lua_getfield(L, 1, "setmetatable");
	lua_pushcclosure(L, sandbox_setmetatable, 1);
	lua_setfield(L, 2, "setmetatable");
	sandbox_open(L, 2, "string", luaopen_string);
	sandbox_open(L, 2, "table", luaopen_table);
	sandbox_open(L, 2, "math", luaopen_math);
	lua_getfield(L, 2, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* also gone from ("").dump: strings index this table */
	lua_pop(L, 1);
	lua_pushvalue(L, 2);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);

	lua_newtable(L); /* 3: values */
	sandbox_set_meta(L, 3, 2, 0);
	lua_newtable(L); /* 4: lines */
	lua_pushvalue(L, 3);
	lua_pushvalue(L, 4);
	lua_pushcclosure(L, sandbox_newindex, 2); /* 5 */
	lua_newtable(L);			  /* 6: env */
	sandbox_set_meta(L, 6, 3, 5);
	sb->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);
	sb->lines_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	sb->values_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

struct conf_sandbox *conf_sandbox_new(const struct conf_sandbox_limits *limits)
{
	struct conf_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	sb->limits =
	    limits ? *limits : (struct conf_sandbox_limits){CONF_SANDBOX_MEMORY, CONF_SANDBOX_INSTRUCTIONS};
	sb->L = lua_newstate(sandbox_alloc, sb);
	if (!sb->L) {
		free(sb);
		return NULL;
	}
	lua_atpanic(sb->L, sandbox_panic);
	lua_pushcfunction(sb->L, sandbox_setup);
	lua_pushlightuserdata(sb->L, sb);
	if (lua_pcall(sb->L, 1, 0, 0) != LUA_OK) {
		conf_sandbox_free(sb);
		return NULL;
	}
	lua_sethook(sb->L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_STEP);
	return sb;
}

void conf_sandbox_free(struct conf_sandbox *sb)
{
	if (!sb)
		return;
	lua_close(sb->L);
	free(sb->text);
	free(sb->line_starts);
	free(sb);
}

lua_State *conf_sandbox_lua(struct conf_sandbox *sb)
{
	return sb->L;
}

const struct conf_source *conf_sandbox_source(const struct conf_sandbox *sb)
{
	return &sb->src;
}

void conf_sandbox_push_globals(struct conf_sandbox *sb)
{
	lua_rawgeti(sb->L, LUA_REGISTRYINDEX, sb->values_ref);
}

unsigned conf_sandbox_global_line(struct conf_sandbox *sb, const char *name, size_t *pos)
{
	lua_rawgeti(sb->L, LUA_REGISTRYINDEX, sb->lines_ref);
	lua_pushstring(sb->L, name);
	lua_rawget(sb->L, -2);
	lua_Integer line = lua_tointeger(sb->L, -1);
	lua_pop(sb->L, 2);
	*pos = 0;
	if (line <= 0 || line > UINT32_MAX || !sb->text)
		return 0;
	*pos = conf_source_assignment(&sb->src, (unsigned)line, name);
	return conf_source_line(&sb->src, *pos);
}

/* If msg starts with the chunk's "short_src:line:", returns what follows and sets *line. */
static const char *sandbox_strip_position(const struct conf_sandbox *sb, const char *msg, unsigned long *line)
{
	size_t n = strlen(sb->short_src);
	if (!n || strncmp(msg, sb->short_src, n) != 0 || msg[n] != ':' || msg[n + 1] < '0' ||
	    msg[n + 1] > '9')
		return msg;
	char *end;
	unsigned long l = strtoul(msg + n + 1, &end, 10);
	if (*end != ':')
		return msg;
	*line = l;
	return end[1] == ' ' ? end + 2 : end + 1;
}

/* Message handler: makes sure the error is a string that starts with "short_src:line:". */
static int sandbox_msgh(lua_State *L)
{
	struct conf_sandbox *sb = sandbox_of(L);
	int t = lua_type(L, 1);
	const char *msg = t == LUA_TSTRING || t == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	unsigned long line = 0;
	if (sandbox_strip_position(sb, msg, &line) == msg)
		lua_pushfstring(L, "%s:%d: %s", sb->short_src, (int)sandbox_lua_line(L, 1), msg);
	return 1;
}

/* Pops the error object of a failed load or run and reports it. */
static void sandbox_report(struct conf_sandbox *sb, const char *file, int status, struct diag *d)
{
	lua_State *L = sb->L;
	size_t mib = sb->limits.memory >> 20;
	/* An error in the message handler with the cap hit is the handler running out of memory. */
	bool mem = status == LUA_ERRMEM || sb->mem_error || (status == LUA_ERRERR && sb->cap_hit);
	if (sb->budget_hit) {
		diag_error(d, file, sb->budget_line,
			   "instruction budget of %" PRIu64 " exceeded (endless loop?)",
			   sb->limits.instructions);
	} else if (mem && sb->cap_hit) {
		if (mib << 20 == sb->limits.memory)
			diag_error(d, file, 0, "memory limit of %zu MiB exceeded", mib);
		else
			diag_error(d, file, 0, "memory limit of %zu bytes exceeded", sb->limits.memory);
	} else if (mem) {
		diag_error(d, file, 0, "out of memory");
	} else {
		const char *msg =
		    lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(error object is not a string)";
		unsigned long line = 0;
		msg = sandbox_strip_position(sb, msg, &line);
		diag_error(d, file, line, "%s", msg);
	}
	lua_pop(L, 1);
}

static void sandbox_begin(struct conf_sandbox *sb)
{
	sb->steps = 0;
	sb->budget_hit = sb->mem_error = sb->cap_hit = false;
	sb->budget_line = 0;
	sb->enforce = true;
}

bool conf_sandbox_pcall(struct conf_sandbox *sb, const char *file, int nargs, int nresults, struct diag *d)
{
	lua_State *L = sb->L;
	int base = lua_gettop(L) - nargs; /* the function */
	lua_pushcfunction(L, sandbox_msgh);
	lua_insert(L, base);
	sandbox_begin(sb);
	int status = lua_pcall(L, nargs, nresults, base);
	sb->enforce = false;
	lua_remove(L, base);
	if (status == LUA_OK && !sb->budget_hit && !sb->mem_error)
		return true;
	if (status == LUA_OK) { /* cannot happen with the wrapped pcall; be safe anyway */
		lua_settop(L, base - 1);
		lua_pushnil(L);
	}
	sandbox_report(sb, file, status, d);
	return false;
}

/* Keeps a copy of the chunk's text and indexes its lines. */
static bool sandbox_keep_text(struct conf_sandbox *sb, const char *text, size_t len)
{
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	char *copy = malloc(len + 1);
	size_t *starts = malloc(lines * sizeof(*starts));
	if (!copy || !starts) {
		free(copy);
		free(starts);
		return false;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	starts[0] = 0;
	for (size_t i = 0, l = 1; i < len; i++) {
		if (text[i] == '\n')
			starts[l++] = i + 1;
	}
	free(sb->text);
	free(sb->line_starts);
	sb->text = copy;
	sb->line_starts = starts;
	sb->src = (struct conf_source){copy, len, starts, lines};
	return true;
}

/* Learns how Lua abbreviates this chunk name in messages (long paths get a "..." prefix). */
static void sandbox_learn_short_src(struct conf_sandbox *sb, const char *chunkname)
{
	lua_Debug ar;
	sb->short_src[0] = '\0';
	if (luaL_loadbufferx(sb->L, "", 0, chunkname, "t") != LUA_OK) {
		lua_pop(sb->L, 1);
		return;
	}
	if (lua_getinfo(sb->L, ">S", &ar))
		memcpy(sb->short_src, ar.short_src, sizeof(sb->short_src));
}

/* Copies raw keys of the proxy (set with rawset(_ENV, ...)) into values; their lines are unknown. */
static void sandbox_merge_raw(struct conf_sandbox *sb)
{
	lua_State *L = sb->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, sb->values_ref);
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
		lua_pushvalue(L, -1);
		lua_pushnil(L);
		lua_rawset(L, -5); /* clearing a visited field is allowed during lua_next */
	}
	lua_pop(L, 2);
}

bool conf_sandbox_run_string(struct conf_sandbox *sb, const char *file, const char *text, size_t len,
			     struct diag *d)
{
	lua_State *L = sb->L;
	char *chunkname = malloc(strlen(file) + 2);
	if (!chunkname || !sandbox_keep_text(sb, text, len)) {
		free(chunkname);
		diag_error(d, file, 0, "out of memory");
		return false;
	}
	chunkname[0] = '@';
	strcpy(chunkname + 1, file);
	sandbox_learn_short_src(sb, chunkname);
	sandbox_begin(sb);
	int status = luaL_loadbufferx(L, sb->text, len, chunkname, "t");
	sb->enforce = false;
	free(chunkname);
	if (status != LUA_OK) {
		sandbox_report(sb, file, status, d);
		return false;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
	lua_setupvalue(L, -2, 1); /* a main chunk's first upvalue is _ENV */
	bool ok = conf_sandbox_pcall(sb, file, 0, 0, d);
	sandbox_merge_raw(sb);
	return ok;
}


bool conf_sandbox_run_file(struct conf_sandbox *sb, const char *path, struct diag *d)
{
	size_t len = 0;
	char *text = file_read_all(path, sb->limits.memory, &len, d);
	if (!text)
		return false;
	bool ok = conf_sandbox_run_string(sb, path, text, len, d);
	free(text);
	return ok;
}
