/* lua.c -- Lua failover policies: the sandbox, loading each file once, running a policy under its
 * limits, and turning its answer into pool member indexes (see lua_policy.h).
 *
 * One lua_State per distinct policy file. Its allocator counts the bytes the state holds and refuses
 * any growth past LUA_POLICY_MEMORY, so Lua raises "not enough memory" inside the policy; a count
 * hook enforces LUA_POLICY_BUDGET, which starts afresh for every call. All limit errors are made
 * uncatchable: pcall and xpcall are wrapped to re-raise them, and the hook keeps raising once a limit
 * is hit, so no handler can keep a policy running. The flags they set, not the error text, decide
 * how the failure is reported.
 *
 * Instructions are not all equal: comparing or concatenating two 4 MB strings is one instruction
 * that takes a millisecond, so a million of them would stall the control thread for minutes. The
 * hook therefore also checks a clock against LUA_POLICY_TIME, and runs more often when the state
 * holds a lot of memory (one instruction can touch at most the bytes there are); and since memory
 * can grow between two hooks, the allocator calls for the next hook at once after each MiB of
 * growth. So a call ends within about LUA_POLICY_TIME plus a few milliseconds whatever it does.
 * The instruction budget stays the limit a sane policy meets first, and the deterministic one (an
 * early hook counts its whole step, so a call that allocates many MiB is charged up to HOOK_STEP
 * instructions more per MiB).
 *
 * The hook cannot interrupt C code, so the library functions that can loop in C without running Lua
 * code or allocating are bounded instead: pattern matching (string.find, match, gmatch, gsub) by the
 * length of subject and pattern and by the worst case of the pattern's repetitions, string.rep by the
 * memory cap (string.rep("", 2^50) would otherwise spin), and the table functions that walk a length
 * by the most elements a table under the cap can hold (a __len metamethod could claim 2^50).
 * Finalizers run with hooks off, so __gc is refused.
 *
 * Every call into the state is protected: a policy can fail, never crash the process or longjmp out. */
#include "meridian/lua_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "meridian/wire.h"

#define HOOK_STEP	 1000			  /* instructions between budget checks */
#define HOOK_STEP_MIN	 16			  /* ... at least, when the state holds a lot of memory */
#define HOOK_GROWTH	 (1u << 20)		  /* bytes allocated that call for the next hook at once */
#define SUBJECT_MAX	 4096			  /* bytes a pattern function may search */
#define PATTERN_MAX	 128			  /* bytes of a pattern */
#define PATTERN_WORK_MAX 2e7			  /* worst-case matcher steps allowed per call */
#define TABLE_SPAN_MAX	 (LUA_POLICY_MEMORY / 16) /* elements of the largest table under the cap */
#define ANSWER_LIST_MAX	 4096			  /* entries of an answer's members or addrs list */
#define NAME_TEXT_MAX	 (WIRE_NAME_MAX * 4 + 1)  /* presentation form, every octet escaped */
#define MEMORY_MIB	 ((int)(LUA_POLICY_MEMORY >> 20))

/* One compiled policy file and the state it runs in. */
struct policy_file {
	lua_State *L;
	char *path;		    /* as the records name it: how messages name the file */
	char *source;		    /* "@path": the chunk name, to find the file's frames on the stack */
	char short_src[LUA_IDSIZE]; /* how Lua's own messages abbreviate the chunk name */
	size_t used;		    /* bytes the state holds */
	bool cap_hit;		    /* the allocator refused a request in this call */
	bool mem_error;		    /* a memory error was raised in this call, even if pcall caught it */
	bool budget_hit;	    /* the instruction budget ran out in this call */
	bool time_hit;		    /* the call ran past its deadline */
	uint64_t steps;		    /* instructions run in this call (counted at each hook) */
	int step;		    /* instructions between hooks now */
	bool hooked;		    /* a call runs under the hook */
	bool hurried;		    /* the allocator asked for the next hook at once */
	size_t grown;		    /* bytes allocated since the last hook */
	double deadline;	    /* CLOCK_MONOTONIC seconds: when the call must end */
	uint64_t seed;		    /* this call's seed: math.randomseed() returns to it */
	uint64_t rng[4];	    /* xoshiro256** state behind math.random */
};

struct lua_policy_set {
	struct policy_file *files; /* never moved: each state's allocator points at its entry */
	size_t file_count;
	size_t *record_file; /* per conf record: index into files, SIZE_MAX for built-in policies */
	size_t record_count;
};

/* The registry key of the policy function (the address is the key). */
static const char policy_key = 0;

static const char *const safe_base[] = {
    "assert", "error",	  "ipairs", "next",   "pairs",	"select",	"tonumber", "tostring",
    "type",   "rawequal", "rawget", "rawlen", "rawset", "getmetatable", "_VERSION", NULL,
};

static struct policy_file *file_of(lua_State *L)
{
	void *ud;
	lua_getallocf(L, &ud);
	return ud;
}

static void file_hook(lua_State *L, lua_Debug *ar);

static void *file_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct policy_file *f = ud;
	size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
	if (nsize == 0) {
		free(ptr);
		f->used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > LUA_POLICY_MEMORY - f->used) {
		f->cap_hit = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	f->used = f->used - old + nsize;
	if (nsize > old && f->hooked && (f->grown += nsize - old) >= HOOK_GROWTH) {
		f->grown = 0;
		f->hurried = true;
		lua_sethook(f->L, file_hook, LUA_MASKCOUNT, 1); /* safe anywhere, as from a signal */
	}
	return p;
}

/* An error outside any protected call: every call here is protected, so this is a bug. */
static int file_panic(lua_State *L)
{
	(void)L;
	abort();
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A limit was hit in this call: nothing may catch the error or run on. */
static bool limit_hit(const struct policy_file *f)
{
	return f->budget_hit || f->time_hit || f->mem_error;
}

/* (Re)starts the count hook with a step that fits the memory the state holds: HOOK_STEP halved for
 * every doubling past 1 MiB, so about a million bytes touched between two checks at most. Lua
 * restarts the count after each hook by itself; lua_sethook walks every call frame, so it is called
 * only when the step changes (powers of two: a few times per call at most) or was hurried. */
static void hook_arm(lua_State *L, struct policy_file *f, bool always)
{
	int step = HOOK_STEP;
	for (size_t mib = f->used >> 20; mib && step > HOOK_STEP_MIN; mib >>= 1)
		step /= 2;
	if (!always && !f->hurried && step == f->step)
		return;
	f->step = step;
	f->hurried = false;
	lua_sethook(L, file_hook, LUA_MASKCOUNT, step);
}

static void file_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct policy_file *f = file_of(L);
	f->steps += (uint64_t)f->step;
	f->grown = 0;
	if (f->steps >= LUA_POLICY_BUDGET)
		f->budget_hit = true;
	else if (monotonic() > f->deadline)
		f->time_hit = true;
	if (!f->budget_hit && !f->time_hit) {
		hook_arm(L, f, false);
		return;
	}
	/* Raised again every step after: no handler or __close can keep the policy running. */
	lua_pushliteral(L, "limit exceeded");
	lua_error(L);
}

/* ---- error messages ------------------------------------------------------------------------- */

/* If msg starts with the chunk's "short_src:line:", returns what follows and sets *line. */
static const char *strip_position(const struct policy_file *f, const char *msg, unsigned long *line)
{
	size_t n = strlen(f->short_src);
	if (!n || strncmp(msg, f->short_src, n) != 0 || msg[n] != ':' || msg[n + 1] < '0' || msg[n + 1] > '9')
		return msg;
	char *end;
	unsigned long l = strtoul(msg + n + 1, &end, 10);
	if (*end != ':')
		return msg;
	*line = l;
	return end[1] == ' ' ? end + 2 : end + 1;
}

/* The current line of the innermost frame running the policy file's code; 0 when none. */
static unsigned long policy_line(lua_State *L, const struct policy_file *f)
{
	lua_Debug ar;
	for (int level = 0; lua_getstack(L, level, &ar); level++) {
		if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && !strcmp(ar.source, f->source))
			return (unsigned long)ar.currentline;
	}
	return 0;
}

/* Message handler: "path:line: message" with the path as the records give it (Lua abbreviates long
 * ones) and the policy's own line even when the error came from a helper or a library function. */
static int file_msgh(lua_State *L)
{
	struct policy_file *f = file_of(L);
	if (limit_hit(f))
		return 1; /* reported from the flags */
	int t = lua_type(L, 1);
	const char *msg = t == LUA_TSTRING || t == LUA_TNUMBER
			      ? lua_tostring(L, 1)
			      : lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	unsigned long line = 0;
	const char *rest = strip_position(f, msg, &line);
	if (rest == msg)
		line = policy_line(L, f);
	if (line)
		lua_pushfstring(L, "%s:%I: %s", f->path, (lua_Integer)line, rest);
	else
		lua_pushfstring(L, "%s: %s", f->path, rest);
	return 1;
}

/* Calls the function below nargs arguments with the budget reset, the message handler, and the
 * limit flags cleared. */
static int file_pcall(struct policy_file *f, int nargs, int nresults)
{
	lua_State *L = f->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, file_msgh);
	lua_insert(L, base);
	f->steps = 0;
	f->budget_hit = f->time_hit = f->mem_error = f->cap_hit = false;
	f->deadline = monotonic() + LUA_POLICY_TIME;
	f->grown = 0;
	f->hooked = true;
	hook_arm(L, f, true); /* also restarts the hook's count */
	int status = lua_pcall(L, nargs, nresults, base);
	f->hooked = false;
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	if (status == LUA_OK && limit_hit(f))
		status = LUA_ERRRUN; /* cannot happen with the wrapped pcall; be safe anyway */
	return status;
}

/* Why a file_pcall failed. Limits read the same for every file ("budget of ... exceeded"); with
 * name set they are prefixed "name: ". Other errors carry their own "path:line:". */
static void file_failure(struct policy_file *f, int status, const char *name, char *err, size_t size)
{
	lua_State *L = f->L;
	const char *pre = name ? name : "", *sep = name ? ": " : "";
	/* An error in the message handler with the cap hit is the handler running out of memory. */
	bool mem = status == LUA_ERRMEM || f->mem_error || (status == LUA_ERRERR && f->cap_hit);
	if (f->budget_hit)
		snprintf(err, size, "%s%sbudget of %d instructions exceeded", pre, sep, LUA_POLICY_BUDGET);
	else if (f->time_hit)
		snprintf(err, size, "%s%stime limit of %g s exceeded", pre, sep, (double)LUA_POLICY_TIME);
	else if (mem && f->cap_hit)
		snprintf(err, size, "%s%smemory cap of %d MiB exceeded", pre, sep, MEMORY_MIB);
	else if (mem)
		snprintf(err, size, "%s%sout of memory", pre, sep);
	else if (status == LUA_ERRERR || lua_type(L, -1) != LUA_TSTRING)
		snprintf(err, size, "%s: %s", f->path,
			 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error in error handling");
	else
		snprintf(err, size, "%s", lua_tostring(L, -1));
}

/* ---- the base library: pcall, xpcall and setmetatable that keep the limits ----------------- */

static int limit_reraise(lua_State *L, int status)
{
	struct policy_file *f = file_of(L);
	if (status == LUA_ERRMEM)
		f->mem_error = true;
	if (limit_hit(f))
		return lua_error(L);
	return 0;
}

static int safe_pcall(lua_State *L)
{
	luaL_checkany(L, 1);
	lua_pushboolean(L, 1);
	lua_insert(L, 1);
	int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
	limit_reraise(L, status);
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_replace(L, 1);
		return 2;
	}
	return lua_gettop(L);
}

/* xpcall's message handler around the policy's own (upvalue 1). Lua calls a handler before it
 * unwinds, so for an error raised by the hook the handler would run while the hook is still marked
 * as running, that is with hooks off: an endless handler would never be stopped. Once a limit is hit
 * the error passes through untouched instead. */
static int safe_handler(lua_State *L)
{
	if (limit_hit(file_of(L)))
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int safe_xpcall(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, safe_handler, 1);
	lua_replace(L, 2);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2); /* f, handler, true, f, args... */
	int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
	limit_reraise(L, status);
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L) - 2;
}

/* setmetatable without __gc: finalizers run with hooks off, outside the budget. Any non-nil __gc
 * counts, since a placeholder marks the object and a function put there later would then run. */
static int safe_setmetatable(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "setmetatable: __gc metamethods are not allowed in a policy");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/* ---- the string library: bounded pattern matching and rep -------------------------------------- */

enum { STR_FIND, STR_MATCH, STR_GMATCH, STR_GSUB };
static const char *const str_names[] = {"find", "match", "gmatch", "gsub"};

/* Where the single-character class at p[i] ends (Lua's classEnd, without its errors: a malformed
 * pattern is left for the matcher to refuse). */
static size_t class_end(const char *p, size_t lp, size_t i)
{
	if (p[i] == '%')
		return i + 2 <= lp ? i + 2 : lp;
	if (p[i] != '[')
		return i + 1;
	if (++i < lp && p[i] == '^')
		i++;
	do { /* a ']' right after '[' or '[^' is a literal */
		if (i >= lp)
			return lp;
		if (p[i] == '%')
			i++;
		i++;
	} while (i < lp && p[i] != ']');
	return i < lp ? i + 1 : lp;
}

/* An upper bound of the steps Lua's backtracking matcher may take on a subject of ls bytes: every
 * start position (one when anchored) times, for each repetition (*, +, -), every length it can try,
 * times 2 for each '?', times the subject again for %b and back-references, which scan. Nested
 * repetitions are what make the matcher exponential ("(.*)-(.*)-(.*)" on a long subject); this
 * bound is crude (it ignores that most classes stop early) but never too low. */
static double pattern_work(const char *p, size_t lp, size_t ls, bool anchor_ok)
{
	double n = (double)ls + 1, work = n;
	size_t i = 0;
	if (anchor_ok && lp && p[0] == '^') {
		work = 1;
		i = 1;
	}
	while (i < lp) {
		char c = p[i], next = i + 1 < lp ? p[i + 1] : '\0';
		if (c == '(' || c == ')' || (c == '$' && i + 1 == lp)) {
			i++;
		} else if (c == '%' && next == 'b') {
			work *= n;
			i += 4;
		} else if (c == '%' && next == 'f') {
			i = i + 2 < lp ? class_end(p, lp, i + 2) : lp;
		} else if (c == '%' && next >= '0' && next <= '9') {
			work *= n;
			i += 2;
		} else {
			i = class_end(p, lp, i);
			char q = i < lp ? p[i] : '\0';
			if (q == '*' || q == '+' || q == '-')
				work *= n;
			else if (q == '?')
				work *= 2;
			i += q == '*' || q == '+' || q == '-' || q == '?';
		}
	}
	return work;
}

/* string.find, match, gmatch and gsub: the original (upvalue 1) once the inputs are bounded. */
static int str_bounded(lua_State *L)
{
	int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
	size_t ls, lp;
	luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	if (ls > SUBJECT_MAX)
		return luaL_error(L, "string.%s: subject of %I bytes, more than %d", str_names[kind],
				  (lua_Integer)ls, SUBJECT_MAX);
	if (lp > PATTERN_MAX)
		return luaL_error(L, "string.%s: pattern of %I bytes, more than %d", str_names[kind],
				  (lua_Integer)lp, PATTERN_MAX);
	bool plain = kind == STR_FIND && lua_toboolean(L, 4);
	if (!plain && pattern_work(p, lp, ls, kind != STR_GMATCH) > PATTERN_WORK_MAX)
		return luaL_error(
		    L, "string.%s: pattern too complex for a subject of %I bytes (nested repetitions)",
		    str_names[kind], (lua_Integer)ls);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* string.rep: refuses results past the memory cap up front, and answers "" itself when nothing is
 * repeated (the original would loop n times copying nothing). */
static int str_rep(lua_State *L)
{
	size_t l, lsep;
	luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);
	if (n <= 0 || l + lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	if ((lua_Unsigned)n > LUA_POLICY_MEMORY / (l + lsep))
		return luaL_error(L, "string.rep: the result would exceed the memory cap of %d MiB",
				  MEMORY_MIB);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* ---- the table library: loops bounded ---------------------------------------------------------- */

enum { TAB_INSERT, TAB_REMOVE, TAB_SORT, TAB_CONCAT, TAB_MOVE };
static const char *const tab_names[] = {"insert", "remove", "sort", "concat", "move"};

static bool span_too_long(lua_Integer first, lua_Integer last)
{
	return last >= first && (lua_Unsigned)last - (lua_Unsigned)first >= TABLE_SPAN_MAX;
}

/* table.insert, remove, sort, concat and move: the original (upvalue 1) once the elements it will
 * walk are no more than a table under the memory cap can hold. */
static int tab_bounded(lua_State *L)
{
	int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
	bool too_long = false;
	if (kind == TAB_MOVE) {
		too_long = span_too_long(luaL_checkinteger(L, 2), luaL_checkinteger(L, 3));
	} else if (lua_type(L, 1) == LUA_TTABLE) { /* anything else: the original refuses it */
		lua_Integer first = kind == TAB_CONCAT ? luaL_optinteger(L, 3, 1) : 1;
		lua_Integer last =
		    kind == TAB_CONCAT && !lua_isnoneornil(L, 4) ? luaL_checkinteger(L, 4) : luaL_len(L, 1);
		too_long = span_too_long(first, last);
	}
	if (too_long)
		return luaL_error(L, "table.%s: more than %d elements", tab_names[kind], (int)TABLE_SPAN_MAX);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* ---- the math library: a deterministic random source ------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void rng_fill(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna), the generator Lua 5.4 itself uses. */
static uint64_t rng_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* A uniform value in [0, n] from ran, drawing again while ran falls outside (as Lua does). */
static uint64_t rng_project(uint64_t ran, uint64_t n, uint64_t s[4])
{
	if ((n & (n + 1)) == 0)
		return ran & n;
	uint64_t lim = n;
	for (int shift = 1; shift < 64; shift <<= 1)
		lim |= lim >> shift;
	while ((ran &= lim) > n)
		ran = rng_next(s);
	return ran;
}

/* math.random with Lua's interface: () a float in [0, 1), (m) an integer in [1, m], (m, n) one in
 * [m, n], (0) an integer with all bits random. */
static int math_random(lua_State *L)
{
	struct policy_file *f = file_of(L);
	uint64_t rv = rng_next(f->rng);
	lua_Integer low, up;
	switch (lua_gettop(L)) {
	case 0:
		lua_pushnumber(L, (lua_Number)(rv >> 11) * 0x1.0p-53);
		return 1;
	case 1:
		low = 1;
		up = luaL_checkinteger(L, 1);
		if (up == 0) {
			lua_pushinteger(L, (lua_Integer)rv);
			return 1;
		}
		break;
	case 2:
		low = luaL_checkinteger(L, 1);
		up = luaL_checkinteger(L, 2);
		break;
	default:
		return luaL_error(L, "wrong number of arguments");
	}
	luaL_argcheck(L, low <= up, 1, "interval is empty");
	uint64_t v = rng_project(rv, (uint64_t)up - (uint64_t)low, f->rng) + (uint64_t)low;
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

/* math.randomseed(n [, m]) reseeds; with no argument it returns to the call's own seed. */
static int math_randomseed(lua_State *L)
{
	struct policy_file *f = file_of(L);
	if (lua_isnone(L, 1)) {
		rng_fill(f->rng, f->seed);
		return 0;
	}
	uint64_t n1 = (uint64_t)luaL_checkinteger(L, 1), n2 = (uint64_t)luaL_optinteger(L, 2, 0);
	rng_fill(f->rng, n1 ^ rotl(n2, 32));
	return 0;
}

/* ---- building the sandbox ---------------------------------------------------------------------- */

static void open_lib(lua_State *L, int env, const char *name, lua_CFunction open)
{
	lua_pushcfunction(L, open);
	lua_call(L, 0, 1);
	lua_setfield(L, env, name);
}

/* Replaces lib[name] (lib on top) by fn with the original and kind as upvalues. */
static void wrap(lua_State *L, const char *name, lua_CFunction fn, int kind)
{
	lua_getfield(L, -1, name);
	lua_pushinteger(L, kind);
	lua_pushcclosure(L, fn, 2);
	lua_setfield(L, -2, name);
}

static void setup_string(lua_State *L, int env)
{
	/* The strings' metatable indexes this same table, so ("").dump and (s):find see the changes. */
	lua_getfield(L, env, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	for (int k = STR_FIND; k <= STR_GSUB; k++)
		wrap(L, str_names[k], str_bounded, k);
	wrap(L, "rep", str_rep, 0);
	lua_pop(L, 1);
}

static void setup_table_math(lua_State *L, int env)
{
	lua_getfield(L, env, "table");
	for (int k = TAB_INSERT; k <= TAB_MOVE; k++)
		wrap(L, tab_names[k], tab_bounded, k);
	lua_pop(L, 1);
	lua_getfield(L, env, "math");
	lua_pushcfunction(L, math_random);
	lua_setfield(L, -2, "random");
	lua_pushcfunction(L, math_randomseed);
	lua_setfield(L, -2, "randomseed");
	lua_pop(L, 1);
}

/* Fills a new global table with the safe functions and libraries, makes it the state's globals (the
 * table luaopen_base filled, with load and dofile, becomes unreachable) and adds `meridian`. */
static int sandbox_setup(lua_State *L)
{
	lua_settop(L, 0);
	lua_pushcfunction(L, luaopen_base);
	lua_call(L, 0, 1); /* 1: the original globals */
	lua_newtable(L);   /* 2: the sandbox's */
	for (const char *const *n = safe_base; *n; n++) {
		lua_getfield(L, 1, *n);
		lua_setfield(L, 2, *n);
	}
	lua_pushcfunction(L, safe_pcall);
	lua_setfield(L, 2, "pcall");
	lua_pushcfunction(L, safe_xpcall);
	lua_setfield(L, 2, "xpcall");
	lua_getfield(L, 1, "setmetatable");
	lua_pushcclosure(L, safe_setmetatable, 1);
	lua_setfield(L, 2, "setmetatable");
	open_lib(L, 2, "string", luaopen_string);
	open_lib(L, 2, "table", luaopen_table);
	open_lib(L, 2, "math", luaopen_math);
	setup_string(L, 2);
	setup_table_math(L, 2);
	lua_pushvalue(L, 2);
	lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
	lua_pushcfunction(L, lua_policy_open_helpers); /* its chunk gets the sandbox's globals */
	lua_call(L, 0, 1);
	lua_setfield(L, 2, "meridian");
	return 0;
}

/* ---- loading ----------------------------------------------------------------------------------- */

/* Compiles the file (text only), runs its top level and keeps the function it returns. Returns true,
 * or the reason the file returned something else. */
static int file_load(lua_State *L)
{
	struct policy_file *f = file_of(L);
	lua_Debug ar;
	if (luaL_loadbufferx(L, "", 0, f->source, "t") == LUA_OK && lua_getinfo(L, ">S", &ar))
		memcpy(f->short_src, ar.short_src, sizeof(f->short_src));
	lua_settop(L, 0);
	int status = luaL_loadfilex(L, f->path, "t");
	if (status == LUA_ERRMEM)
		f->mem_error = true;
	if (status != LUA_OK)
		return lua_error(L); /* the message handler gives it the file's full path */
	lua_call(L, 0, 1);
	if (lua_type(L, -1) != LUA_TFUNCTION) {
		lua_pushfstring(L, "%s: expected the file to return a function(ctx), got %s", f->path,
				luaL_typename(L, -1));
		return 1;
	}
	lua_rawsetp(L, LUA_REGISTRYINDEX, &policy_key);
	lua_pushboolean(L, 1);
	return 1;
}

static bool file_open(struct policy_file *f, const char *path, struct diag *d)
{
	struct stat st;
	f->path = strdup(path);
	if (!f->path || asprintf(&f->source, "@%s", path) < 0)
		abort(); /* as arena_alloc: the load cannot go on without memory */
	/* luaL_loadfilex would block on a FIFO and read a folder as an empty chunk. */
	if (stat(path, &st) != 0) {
		diag_error(d, path, 0, "cannot read: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, path, 0, "cannot read: not a regular file");
		return false;
	}
	f->L = lua_newstate(file_alloc, f);
	if (!f->L) {
		diag_error(d, path, 0, "out of memory");
		return false;
	}
	lua_State *L = f->L;
	lua_atpanic(L, file_panic);
	rng_fill(f->rng, 0); /* math.random at the top level: seeded too, with 0 */
	lua_pushcfunction(L, sandbox_setup);
	if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
		diag_error(d, path, 0, "cannot set up the sandbox: %s",
			   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "out of memory");
		return false;
	}
	lua_pushcfunction(L, file_load);
	int status = file_pcall(f, 0, 1);
	char err[1024];
	bool ok = status == LUA_OK && lua_type(L, -1) == LUA_TBOOLEAN;
	if (status != LUA_OK)
		file_failure(f, status, path, err, sizeof(err));
	else if (!ok)
		snprintf(err, sizeof(err), "%s", lua_tostring(L, -1));
	if (!ok)
		diag_error(d, NULL, 0, "%s", err);
	lua_settop(L, 0);
	lua_gc(L, LUA_GCCOLLECT, 0);
	return ok;
}

struct lua_policy_set *lua_policy_load(const struct conf *conf, struct diag *d)
{
	struct lua_policy_set *set = calloc(1, sizeof(*set));
	if (!set)
		abort();
	set->record_count = conf->record_count;
	set->record_file = calloc(conf->record_count + 1, sizeof(*set->record_file));
	set->files = calloc(conf->record_count + 1, sizeof(*set->files));
	if (!set->record_file || !set->files)
		abort();
	bool ok = true;
	for (size_t r = 0; r < conf->record_count; r++) {
		const struct conf_record *rec = &conf->records[r];
		set->record_file[r] = SIZE_MAX;
		if (rec->policy != CONF_POLICY_LUA)
			continue;
		if (!rec->policy_file) {
			diag_error(d, conf->path, rec->line, "record %s: no policy file", rec->name);
			ok = false;
			continue;
		}
		size_t i = 0;
		while (i < set->file_count && strcmp(set->files[i].path, rec->policy_file))
			i++;
		set->record_file[r] = i;
		if (i == set->file_count)
			ok &= file_open(&set->files[set->file_count++], rec->policy_file, d);
	}
	if (!ok) {
		lua_policy_free(set);
		return NULL;
	}
	return set;
}

void lua_policy_free(struct lua_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->file_count; i++) {
		if (set->files[i].L)
			lua_close(set->files[i].L);
		free(set->files[i].path);
		free(set->files[i].source);
	}
	free(set->files);
	free(set->record_file);
	free(set);
}

/* ---- one call: the context ----------------------------------------------------------------------- */

/* Everything one call reads and writes; the protected part gets it as a light userdata. */
struct run {
	struct policy_file *f;
	const struct conf *conf;
	const struct conf_record *rec;
	const struct conf_pool *pool;
	const struct lua_policy_input *in;
	struct lua_policy_output *out;
	char *err;
	size_t err_size;
	bool refused; /* the answer was refused: err says why */
};

static const char *type_name(uint16_t type)
{
	return type == WIRE_TYPE_A ? "A" : type == WIRE_TYPE_AAAA ? "AAAA" : "CNAME";
}

/* Whether member m can be a value of a record of type (as the built-in policies decide). */
static bool member_fits(const struct conf_member *m, uint16_t type)
{
	return type == WIRE_TYPE_A	 ? m->family == AF_INET
	       : type == WIRE_TYPE_AAAA	 ? m->family == AF_INET6
	       : type == WIRE_TYPE_CNAME ? m->target != NULL
					 : false;
}

/* The member's value in presentation form: an address, or a target with its final dot. */
static void member_text(const struct conf_member *m, char *buf, size_t size)
{
	if (m->target)
		wire_name_to_text(m->target, m->target_len, buf, size);
	else if (!inet_ntop(m->family, m->addr, buf, (socklen_t)size))
		buf[0] = '\0';
}

static void set_string(lua_State *L, const char *key, const char *value)
{
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

static void set_number(lua_State *L, const char *key, double value)
{
	lua_pushnumber(L, value);
	lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, key);
}

static void set_boolean(lua_State *L, const char *key, bool value)
{
	lua_pushboolean(L, value);
	lua_setfield(L, -2, key);
}

static void push_record(lua_State *L, const struct run *r)
{
	char name[NAME_TEXT_MAX];
	wire_name_to_text(r->rec->owner, r->rec->owner_len, name, sizeof(name));
	lua_createtable(L, 0, 4);
	set_string(L, "name", name);
	set_string(L, "type", type_name(r->rec->type));
	set_integer(L, "ttl", r->rec->ttl);
	set_string(L, "pool", r->pool->name);
}

static const char *state_name(enum health_serving s)
{
	return s == HEALTH_SERVING ? "up" : s == HEALTH_DRAINING ? "drain" : "down";
}

/* ctx.members: the pool's members that fit the record's type, in config order. */
static void push_members(lua_State *L, const struct run *r)
{
	char text[NAME_TEXT_MAX];
	lua_createtable(L, (int)r->pool->member_count, 0);
	lua_Integer n = 0;
	for (size_t i = 0; i < r->pool->member_count; i++) {
		const struct conf_member *m = &r->pool->members[i];
		const struct lua_policy_member *pm = r->in->members ? &r->in->members[i] : NULL;
		if (!member_fits(m, r->rec->type))
			continue;
		member_text(m, text, sizeof(text));
		lua_createtable(L, 0, 8);
		set_string(L, "name", m->name);
		set_string(L, m->target ? "target" : "addr", text);
		set_string(L, "dc", r->conf->datacenters[m->dc].name);
		set_integer(L, "weight", m->weight);
		set_string(L, "state", state_name(pm ? pm->state : HEALTH_SERVING));
		set_boolean(L, "forced", pm && pm->forced);
		set_number(L, "since", pm ? pm->since : 0);
		set_boolean(L, "standby", m->standby);
		lua_rawseti(L, -2, ++n);
	}
}

static void push_dcs(lua_State *L, const struct run *r)
{
	lua_createtable(L, (int)r->in->dc_count, 0);
	for (size_t i = 0; i < r->in->dc_count; i++) {
		lua_createtable(L, 0, 2);
		set_string(L, "name", r->conf->datacenters[r->in->dcs[i].dc].name);
		set_number(L, "km", r->in->dcs[i].km);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void push_ctx(lua_State *L, const struct run *r)
{
	lua_createtable(L, 0, 5);
	set_string(L, "region", r->in->region ? r->in->region : "");
	push_record(L, r);
	lua_setfield(L, -2, "record");
	push_members(L, r);
	lua_setfield(L, -2, "members");
	push_dcs(L, r);
	lua_setfield(L, -2, "dcs");
	set_number(L, "now", r->in->now);
}

/* ---- one call: the answer ------------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static bool refuse(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->err_size, fmt, ap);
	va_end(ap);
	r->refused = true;
	return false;
}

/* Pushes t[key] without metamethods (the answer's own __index cannot run outside the budget). */
static int raw_field(lua_State *L, int t, const char *key)
{
	lua_pushstring(L, key);
	return lua_rawget(L, t);
}

/* The answer's keys are all known ones: a typo ("member", "TTL") would otherwise go unnoticed. The
 * refusal names the first bad key in text order, not Lua's (which changes from one state to the
 * next), so the same answer is always refused with the same words. */
static bool check_fields(lua_State *L, struct run *r, int a)
{
	static const char *const known[] = {"members", "addrs", "ttl", "select", "answers", "recheck", NULL};
	char unknown[65] = "";
	const char *other = NULL; /* a key that is not a string: its type */
	lua_pushnil(L);
	while (lua_next(L, a)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			const char *t = luaL_typename(L, -1);
			other = !other || strcmp(t, other) < 0 ? t : other;
			continue;
		}
		const char *key = lua_tostring(L, -1);
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(key, *k);
		if (!ok && (!*unknown || strncmp(key, unknown, sizeof(unknown) - 1) < 0))
			snprintf(unknown, sizeof(unknown), "%.64s", key);
	}
	if (*unknown)
		return refuse(r, "answer: unknown field '%s'", unknown);
	if (other)
		return refuse(r, "answer: a %s key; expected a table of fields such as { members = {...} }",
			      other);
	return true;
}

/* Adds pool member m to the answer unless it is there already (duplicates keep their first place). */
static bool add_value(struct run *r, unsigned m, const char *label)
{
	for (unsigned i = 0; i < r->out->count; i++)
		if (r->out->member[i] == m)
			return true;
	if (r->out->count == DYN_VALUES_MAX)
		return refuse(r, "%s: more than %d values", label, DYN_VALUES_MAX);
	r->out->member[r->out->count++] = m;
	return true;
}

static bool type_mismatch(struct run *r, const char *label, size_t i, const char *name)
{
	return refuse(r, "%s[%zu]: %.64s has no %s %s", label, i, name, type_name(r->rec->type),
		      r->rec->type == WIRE_TYPE_CNAME ? "target" : "address");
}

/* members[i] (on top): a table whose name is a pool member's; its index into *m. */
static bool take_member(lua_State *L, struct run *r, size_t i, unsigned *m)
{
	if (lua_type(L, -1) != LUA_TTABLE)
		return refuse(r, "members[%zu]: expected a member (a table from ctx.members), got %s", i,
			      luaL_typename(L, -1));
	if (raw_field(L, lua_gettop(L), "name") != LUA_TSTRING) {
		lua_pop(L, 1);
		return refuse(r, "members[%zu]: expected a member with a name", i);
	}
	size_t len, k = 0, n = r->pool->member_count;
	const char *name = lua_tolstring(L, -1, &len);
	while (k < n &&
	       (strlen(r->pool->members[k].name) != len || memcmp(r->pool->members[k].name, name, len)))
		k++;
	bool ok;
	if (k == n)
		ok = refuse(r, "members[%zu]: %.64s is not a member of pool %s", i, name, r->pool->name);
	else if (!member_fits(&r->pool->members[k], r->rec->type))
		ok = type_mismatch(r, "members", i, name);
	else
		ok = true;
	*m = (unsigned)k;
	lua_pop(L, 1);
	return ok;
}

/* Two names in presentation form are the same: case-insensitively, final dot or not. */
static bool same_name(const char *a, size_t la, const char *b, size_t lb)
{
	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

/* Whether pool member cm has the value text (len bytes; addr holds it parsed for A and AAAA). */
static bool member_has(const struct conf_member *cm, uint16_t type, const uint8_t *addr, const char *text,
		       size_t len)
{
	char target[NAME_TEXT_MAX];
	if (!member_fits(cm, type))
		return false;
	if (type != WIRE_TYPE_CNAME)
		return !memcmp(cm->addr, addr, type == WIRE_TYPE_A ? 4 : 16);
	member_text(cm, target, sizeof(target));
	return same_name(target, strlen(target), text, len);
}

/* addrs[i] (on top): an address (A, AAAA) or a target (CNAME) of a pool member; the index of the
 * first member with that value into *m. */
static bool take_addr(lua_State *L, struct run *r, size_t i, unsigned *m)
{
	if (lua_type(L, -1) != LUA_TSTRING)
		return refuse(r, "addrs[%zu]: expected a string, got %s", i, luaL_typename(L, -1));
	size_t len;
	const char *text = lua_tolstring(L, -1, &len);
	uint16_t type = r->rec->type;
	int family = type == WIRE_TYPE_A ? AF_INET : AF_INET6;
	uint8_t addr[16];
	if (type != WIRE_TYPE_CNAME && (strlen(text) != len || inet_pton(family, text, addr) != 1))
		return refuse(r, "addrs[%zu]: expected an %s address (record type %s), got \"%.64s\"", i,
			      family == AF_INET ? "IPv4" : "IPv6", type_name(type), text);
	for (*m = 0; *m < r->pool->member_count; (*m)++)
		if (member_has(&r->pool->members[*m], type, addr, text, len))
			return true;
	return refuse(r, "addrs[%zu]: %.64s is not a member of pool %s", i, text, r->pool->name);
}

/* The answer's list at index t (members or addrs): every entry a value of the pool. */
static bool take_list(lua_State *L, struct run *r, int t, const char *label,
		      bool (*take)(lua_State *, struct run *, size_t, unsigned *))
{
	if (lua_type(L, t) != LUA_TTABLE)
		return refuse(r, "%s: expected a list, got %s", label, luaL_typename(L, t));
	size_t n = (size_t)lua_rawlen(L, t);
	if (n == 0) {
		lua_pushnil(L);
		if (lua_next(L, t)) {
			lua_pop(L, 2);
			return refuse(r, "%s: expected a list (keys 1, 2, ...), got a table with other keys",
				      label);
		}
		return refuse(r, "empty answer");
	}
	if (n > ANSWER_LIST_MAX)
		return refuse(r, "%s: more than %d entries", label, ANSWER_LIST_MAX);
	for (size_t i = 1; i <= n; i++) {
		unsigned m;
		lua_rawgeti(L, t, (lua_Integer)i);
		bool ok = take(L, r, i, &m);
		lua_pop(L, 1);
		if (!ok || !add_value(r, m, label))
			return false;
	}
	return true;
}

static bool take_values(lua_State *L, struct run *r, int a)
{
	int members = raw_field(L, a, "members"), addrs = raw_field(L, a, "addrs");
	bool ok;
	if (members != LUA_TNIL && addrs != LUA_TNIL)
		ok = refuse(r, "answer: members and addrs exclude each other");
	else if (members != LUA_TNIL)
		ok = take_list(L, r, lua_gettop(L) - 1, "members", take_member);
	else if (addrs != LUA_TNIL)
		ok = take_list(L, r, lua_gettop(L), "addrs", take_addr);
	else
		ok = refuse(r, "empty answer");
	lua_pop(L, 2);
	return ok;
}

/* An integer field in [min, max]: false when present and not one. */
static bool int_field(lua_State *L, int a, const char *key, lua_Integer min, lua_Integer max, bool *has,
		      lua_Integer *v)
{
	int isint = 0;
	*has = raw_field(L, a, key) != LUA_TNIL;
	if (*has && lua_type(L, -1) == LUA_TNUMBER)
		*v = lua_tointegerx(L, -1, &isint);
	lua_pop(L, 1);
	return !*has || (isint && *v >= min && *v <= max);
}

static bool take_select(lua_State *L, struct run *r, int a)
{
	static const char *const names[] = {"all", "first", "weighted", "shuffle", "hash", NULL};
	int t = raw_field(L, a, "select");
	bool ok = t == LUA_TNIL;
	r->out->select = DYN_SELECT_ALL;
	for (int i = 0; t == LUA_TSTRING && names[i] && !ok; i++) {
		if (!strcmp(lua_tostring(L, -1), names[i])) {
			r->out->select = (enum dyn_select)i;
			ok = true;
		}
	}
	lua_pop(L, 1);
	return ok || refuse(r, "select: expected all, first, weighted, shuffle or hash");
}

static bool take_recheck(lua_State *L, struct run *r, int a)
{
	int t = raw_field(L, a, "recheck");
	double v = t == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
	lua_pop(L, 1);
	if (t != LUA_TNIL && (t != LUA_TNUMBER || !isfinite(v) || v < 0))
		return refuse(r, "recheck: expected a number of seconds >= 0");
	r->out->recheck = v;
	return true;
}

/* The answer at index a into r->out; false with r->refused and the reason in r->err. */
static bool convert(lua_State *L, struct run *r, int a)
{
	bool has;
	lua_Integer v = 0;
	if (lua_type(L, a) != LUA_TTABLE)
		return refuse(r, "answer: expected a table, got %s", luaL_typename(L, a));
	if (!check_fields(L, r, a) || !take_values(L, r, a))
		return false;
	if (!int_field(L, a, "ttl", 0, INT32_MAX, &has, &v))
		return refuse(r, "ttl: expected an integer from 0 to %d", INT32_MAX);
	r->out->has_ttl = has;
	r->out->ttl = (uint32_t)v;
	if (!take_select(L, r, a))
		return false;
	v = 0;
	if (!int_field(L, a, "answers", 0, LUA_MAXINTEGER, &has, &v))
		return refuse(r, "answers: expected an integer >= 0");
	r->out->answers = (unsigned)(v > DYN_VALUES_MAX ? DYN_VALUES_MAX : v); /* no answer holds more */
	return take_recheck(L, r, a);
}

/* The protected part of a call: the context, the policy, the answer. */
static int run_policy(lua_State *L)
{
	struct run *r = lua_touserdata(L, 1);
	lua_settop(L, 0);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &policy_key);
	push_ctx(L, r);
	lua_call(L, 1, 1);
	convert(L, r, 1);
	return 0;
}

/* The loaded file of the input's record, or NULL with the reason in err. */
static struct policy_file *run_file(struct lua_policy_set *set, const struct conf *conf,
				    const struct lua_policy_input *in, char *err, size_t err_size)
{
	const struct conf_record *rec = in->record < conf->record_count ? &conf->records[in->record] : NULL;
	struct policy_file *f = NULL;
	if (rec && set && in->record < set->record_count && set->record_file[in->record] != SIZE_MAX)
		f = &set->files[set->record_file[in->record]];
	if (!f || rec->policy != CONF_POLICY_LUA || !rec->policy_file || strcmp(rec->policy_file, f->path)) {
		snprintf(err, err_size, "record %zu: no Lua policy loaded for it", in->record);
		return NULL;
	}
	for (size_t i = 0; i < in->dc_count; i++) {
		if (in->dcs[i].dc >= conf->datacenter_count) {
			snprintf(err, err_size, "dcs[%zu]: no datacenter %u", i + 1, in->dcs[i].dc);
			return NULL;
		}
	}
	return f;
}

bool lua_policy_run(struct lua_policy_set *set, const struct conf *conf, const struct lua_policy_input *in,
		    struct lua_policy_output *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (err_size)
		err[0] = '\0';
	struct policy_file *f = run_file(set, conf, in, err, err_size);
	if (!f)
		return false;
	const struct conf_record *rec = &conf->records[in->record];
	struct run r = {f, conf, rec, &conf->pools[rec->pool], in, out, err, err_size, false};
	lua_State *L = f->L;
	f->seed = in->seed;
	rng_fill(f->rng, in->seed);
	lua_settop(L, 0);
	lua_pushcfunction(L, run_policy);
	lua_pushlightuserdata(L, &r);
	int status = file_pcall(f, 1, 0);
	if (status != LUA_OK)
		file_failure(f, status, NULL, err, err_size);
	bool ok = status == LUA_OK && !r.refused;
	if (!ok)
		memset(out, 0, sizeof(*out));
	lua_settop(L, 0);
	/* A step per call keeps garbage from piling up between calls; after a failure (perhaps at the
	 * memory cap) a full collection gives the next call its room back. */
	lua_gc(L, status == LUA_OK ? LUA_GCSTEP : LUA_GCCOLLECT, 0);
	return ok;
}
