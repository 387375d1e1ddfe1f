/* test_lua_policy.c -- unit tests of Lua failover policies: loading, the sandbox (forbidden
 * facilities, instruction budget, memory cap, bounded library functions, deterministic random), the
 * context, the answer conversion, the meridian helpers, and a Lua copy of the built-in failover.
 *
 * The records of data/lua_policy/lua.conf use built-in policies; each test points the records it
 * needs at a policy file of that folder (the parser's policy = "x.lua" belongs to test_conf). Most
 * policy files hold several cases and pick one by ctx.region, which the caller passes as a string. */
#include <check.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "meridian/lua_policy.h"

#define DATA "tests/unit/data/lua_policy/"

enum { WWW, WWW6, EDGE, API, BIG }; /* the records of lua.conf, in order */

static struct conf *conf;
static struct lua_policy_set *set;
static struct lua_policy_dc dcs[3]; /* ctx.dcs of every run */
static size_t dc_count;

static unsigned dc_index(const char *name)
{
	for (unsigned i = 0; i < conf->datacenter_count; i++)
		if (!strcmp(conf->datacenters[i].name, name))
			return i;
	ck_abort_msg("no datacenter %s", name);
	return 0;
}

/* ctx.dcs for the next runs: up to three names, nearest first, at 100, 1000 and unknown km. */
static void set_dcs(const char *a, const char *b, const char *c)
{
	const char *names[] = {a, b, c};
	const double km[] = {100, 1000, INFINITY};
	dc_count = 0;
	for (size_t i = 0; i < 3 && names[i]; i++)
		dcs[dc_count++] = (struct lua_policy_dc){dc_index(names[i]), km[i]};
}

static void setup(void)
{
	struct diag d;
	diag_init(&d);
	conf = conf_load(DATA "lua.conf", &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	diag_free(&d);
	ck_assert_ptr_nonnull(conf);
	set = NULL;
	set_dcs("ams", "iad", "sin");
}

static void teardown(void)
{
	lua_policy_free(set);
	conf_free(conf);
}

/* Points record r at a Lua policy file, as policy = "file" would. */
static void use_lua(size_t r, const char *file)
{
	conf->records[r].policy = CONF_POLICY_LUA;
	conf->records[r].policy_file = file;
}

/* Loads the policies and expects success. */
static void load(void)
{
	struct diag d;
	diag_init(&d);
	set = lua_policy_load(conf, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_uint_eq(d.count, 0);
	diag_free(&d);
	ck_assert_ptr_nonnull(set);
}

/* Loads the policies and expects failure; returns the errors joined by " | ". */
static const char *load_fails(void)
{
	static char all[2048];
	struct diag d;
	diag_init(&d);
	set = lua_policy_load(conf, &d);
	ck_assert_ptr_null(set);
	ck_assert_uint_gt(d.errors, 0);
	all[0] = '\0';
	for (size_t i = 0; i < d.count; i++)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? " | " : "",
			 d.entries[i].text);
	diag_free(&d);
	return all;
}

static enum health_serving state_of(char c)
{
	return c == 'o' ? HEALTH_OUT : c == 'd' ? HEALTH_DRAINING : HEALTH_SERVING;
}

/* Runs record r's policy for region. states: one letter per pool member (u up, d drain, o out,
 * U up and forced), NULL for all up. Member i has been in its state for 10 * i seconds. */
static bool run_seed(size_t r, const char *region, const char *states, uint64_t seed,
		     struct lua_policy_output *answer, char *why, size_t why_size)
{
	struct lua_policy_member members[128];
	const struct conf_pool *pool = &conf->pools[conf->records[r].pool];
	ck_assert_uint_le(pool->member_count, 128);
	ck_assert(!states || strlen(states) == pool->member_count);
	for (size_t i = 0; states && i < pool->member_count; i++)
		members[i] =
		    (struct lua_policy_member){state_of(states[i]), states[i] == 'U', 10.0 * (double)i};
	struct lua_policy_input in = {r, region, states ? members : NULL, dcs, dc_count, 1700000000.5, seed};
	return lua_policy_run(set, conf, &in, answer, why, why_size);
}

static char err[1024];
static struct lua_policy_output out;

static bool run(size_t r, const char *region, const char *states)
{
	return run_seed(r, region, states, 1, &out, err, sizeof(err));
}

/* The answer's members by name, joined by spaces. */
static const char *names(size_t r)
{
	static char buf[1024];
	const struct conf_pool *pool = &conf->pools[conf->records[r].pool];
	buf[0] = '\0';
	for (unsigned i = 0; i < out.count; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 pool->members[out.member[i]].name);
	return buf;
}

/* Expects the run to succeed with these members. */
#define ck_run_ok(r, region, states, expected)                                                               \
	do {                                                                                                 \
		bool ok_ = run((r), (region), (states));                                                     \
		ck_assert_msg(ok_, "%s: %s", (region), err);                                                 \
		ck_assert_str_eq(names(r), (expected));                                                      \
	} while (0)

/* Expects the run to fail with exactly this message. */
#define ck_run_fails(r, region, states, expected)                                                            \
	do {                                                                                                 \
		ck_assert_msg(!run((r), (region), (states)), "%s: unexpected success", (region));            \
		ck_assert_str_eq(err, (expected));                                                           \
		ck_assert_uint_eq(out.count, 0);                                                             \
	} while (0)

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- loading ------------------------------------------------------------------------------------- */

START_TEST(a_file_named_twice_is_compiled_once)
{
	use_lua(WWW, DATA "counter.lua");
	use_lua(API, DATA "counter.lua");
	load();
	/* one state: the two records share the file's call counter */
	ck_run_ok(WWW, "", NULL, "ams-1");
	ck_assert_uint_eq(out.ttl, 1);
	ck_run_ok(API, "", NULL, "ams-1");
	ck_assert_uint_eq(out.ttl, 2);
	ck_run_ok(WWW, "", NULL, "ams-1");
	ck_assert_uint_eq(out.ttl, 3);
	/* a record with a built-in policy has no Lua policy to run */
	ck_assert(!run(EDGE, "", NULL));
	ck_assert_str_eq(err, "record 2: no Lua policy loaded for it");
}
END_TEST

START_TEST(a_file_that_does_not_compile_names_its_line)
{
	use_lua(WWW, DATA "syntax.lua");
	ck_assert_str_eq(load_fails(), DATA "syntax.lua:3: unexpected symbol near '='");
}
END_TEST

START_TEST(a_file_must_return_a_function)
{
	use_lua(WWW, DATA "not_function.lua");
	ck_assert_str_eq(load_fails(),
			 DATA "not_function.lua: expected the file to return a function(ctx), got number");
}
END_TEST

START_TEST(every_load_error_is_reported)
{
	use_lua(WWW, DATA "top_error.lua");
	use_lua(WWW6, DATA "top_loop.lua");
	use_lua(EDGE, DATA "missing.lua");
	use_lua(API, DATA "syntax.lua");
	ck_assert_str_eq(load_fails(), DATA "top_error.lua:3: attempt to index a nil value (local 't')"
					    " | " DATA "top_loop.lua: budget of 1000000 instructions exceeded"
					    " | " DATA "missing.lua: cannot read: No such file or directory"
					    " | " DATA "syntax.lua:3: unexpected symbol near '='");
}
END_TEST

static int write_chunk(lua_State *L, const void *p, size_t size, void *ud)
{
	(void)L;
	return fwrite(p, 1, size, ud) != size;
}

START_TEST(bytecode_is_refused)
{
	char dir[] = "/tmp/test_lua_policy-XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/compiled.lua", dir);
	lua_State *L = luaL_newstate();
	ck_assert_int_eq(luaL_loadstring(L, "return function(ctx) return { members = ctx.members } end"),
			 LUA_OK);
	FILE *fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(lua_dump(L, write_chunk, fp, 0), 0);
	fclose(fp);
	lua_close(L);

	use_lua(WWW, path);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s: attempt to load a binary chunk (mode is 't')", path);
	char got[2048];
	snprintf(got, sizeof(got), "%s", load_fails());
	unlink(path);
	rmdir(dir);
	ck_assert_str_eq(got, expected);
}
END_TEST

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
	ck_assert(in && o);
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, o), n);
	fclose(in);
	fclose(o);
}

/* Lua abbreviates chunk names longer than 60 bytes ("...tail"); messages keep the whole path. */
START_TEST(long_paths_are_named_in_full)
{
	char dir[] = "/tmp/test_lua_policy-XXXXXX", sub[256], runtime[300], syntax[300];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a-folder-with-a-name-long-enough-for-lua-to-abbreviate-it", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(runtime, sizeof(runtime), "%s/runtime.lua", sub);
	snprintf(syntax, sizeof(syntax), "%s/syntax.lua", sub);
	copy_file(DATA "runtime.lua", runtime);
	copy_file(DATA "syntax.lua", syntax);

	char got_syntax[2048], want_syntax[512], want_runtime[512];
	use_lua(WWW, syntax);
	snprintf(got_syntax, sizeof(got_syntax), "%s", load_fails());
	use_lua(WWW, runtime);
	load();
	bool ok = run(WWW, "index", NULL);
	unlink(runtime);
	unlink(syntax);
	rmdir(sub);
	rmdir(dir);
	snprintf(want_syntax, sizeof(want_syntax), "%s:3: unexpected symbol near '='", syntax);
	snprintf(want_runtime, sizeof(want_runtime), "%s:4: attempt to index a nil value (local 't')",
		 runtime);
	ck_assert_str_eq(got_syntax, want_syntax);
	ck_assert(!ok);
	ck_assert_str_eq(err, want_runtime);
}
END_TEST

START_TEST(run_time_errors_name_the_line)
{
	use_lua(WWW, DATA "runtime.lua");
	load();
	ck_run_fails(WWW, "index", NULL, DATA "runtime.lua:4: attempt to index a nil value (local 't')");
	ck_run_fails(WWW, "error0", NULL, DATA "runtime.lua:6: plain");
	ck_run_fails(WWW, "table", NULL, DATA "runtime.lua:7: (error object is a table value)");
	/* a failed call leaves the policy working */
	ck_run_ok(WWW, "fine", NULL, "ams-1");
}
END_TEST

/* ---- the sandbox ----------------------------------------------------------------------------------- */

static const struct {
	const char *probe, *message; /* the error must contain message */
} forbidden[] = {
    {"io", "attempt to index a nil value (global 'io')"},
    {"os", "attempt to index a nil value (global 'os')"},
    {"debug", "attempt to index a nil value (global 'debug')"},
    {"require", "attempt to call a nil value (global 'require')"},
    {"load", "attempt to call a nil value (global 'load')"},
    {"loadstring", "attempt to call a nil value (global 'loadstring')"},
    {"dofile", "attempt to call a nil value (global 'dofile')"},
    {"loadfile", "attempt to call a nil value (global 'loadfile')"},
    {"print", "attempt to call a nil value (global 'print')"},
    {"collectgarbage", "attempt to call a nil value (global 'collectgarbage')"},
    {"dump", "attempt to call a nil value (field 'dump')"},
    {"dump_method", "attempt to call a nil value (method 'dump')"},
    {"package", "attempt to index a nil value (global 'package')"},
    {"coroutine", "attempt to index a nil value (global 'coroutine')"},
    {"_G", "attempt to index a nil value (global '_G')"},
    {"raw_load", "attempt to call a nil value"},
    {"gc", "setmetatable: __gc metamethods are not allowed in a policy"},
    {"gc_placeholder", "setmetatable: __gc metamethods are not allowed in a policy"},
};

START_TEST(forbidden_facilities_are_refused)
{
	use_lua(WWW, DATA "forbidden.lua");
	load();
	const char *probe = forbidden[_i].probe;
	ck_assert_msg(!run(WWW, probe, NULL), "%s: allowed", probe);
	ck_assert_msg(!strncmp(err, DATA "forbidden.lua:", strlen(DATA "forbidden.lua:")), "%s: %s", probe,
		      err);
	ck_assert_msg(strstr(err, forbidden[_i].message), "%s: %s", probe, err);
	/* what the sandbox keeps works */
	ck_run_ok(WWW, "allowed", NULL, "ams-1");
}
END_TEST

/* The message a policy raised with error(text, 0): what follows "file:line: ". */
static const char *raised(void)
{
	const char *p = strstr(err, ".lua:");
	ck_assert_ptr_nonnull(p);
	p = strchr(p + 5, ' ');
	ck_assert_ptr_nonnull(p);
	return p + 1;
}

START_TEST(only_safe_globals_exist)
{
	use_lua(WWW, DATA "forbidden.lua");
	load();
	ck_assert(!run(WWW, "globals", NULL));
	ck_assert_str_eq(
	    raised(), "_VERSION,assert,error,getmetatable,ipairs,math,meridian,next,pairs,pcall,rawequal,"
		      "rawget,rawlen,rawset,select,setmetatable,string,table,tonumber,tostring,type,xpcall");
	ck_assert(!run(WWW, "string", NULL));
	ck_assert_str_eq(
	    raised(),
	    "byte,char,find,format,gmatch,gsub,len,lower,match,pack,packsize,rep,reverse,sub,unpack,upper");
	ck_assert(!run(WWW, "table", NULL));
	ck_assert_str_eq(raised(), "concat,insert,move,pack,remove,sort,unpack");
	ck_assert(!run(WWW, "math", NULL));
	ck_assert_ptr_nonnull(strstr(raised(), ",random,randomseed,"));
}
END_TEST

START_TEST(the_budget_stops_endless_loops)
{
	static const char *const loops[] = {"loop", "loop_pcall", "loop_xpcall", "loop_handler"};
	use_lua(WWW, DATA "limits.lua");
	load();
	for (size_t i = 0; i < 4; i++) {
		double start = now_seconds();
		ck_assert_msg(!run(WWW, loops[i], NULL), "%s", loops[i]);
		double took = now_seconds() - start;
		ck_assert_str_eq(err, "budget of 1000000 instructions exceeded");
		ck_assert_msg(took < 1.0, "%s took %.3f s", loops[i], took);
		/* the budget is per call: the next one runs */
		ck_run_ok(WWW, "ok", NULL, "ams-1");
	}
}
END_TEST

/* One instruction can take a millisecond (comparing two 4 MB strings): the clock stops such loops. */
START_TEST(the_time_limit_stops_slow_instructions)
{
	static const char *const slow[] = {"compare", "rep_loop"};
	use_lua(WWW, DATA "limits.lua");
	load();
	for (size_t i = 0; i < 2; i++) {
		double start = now_seconds();
		ck_assert_msg(!run(WWW, slow[i], NULL), "%s", slow[i]);
		double took = now_seconds() - start;
		ck_assert_str_eq(err, "time limit of 0.5 s exceeded");
		ck_assert_msg(took < 1.5, "%s took %.3f s", slow[i], took);
		ck_run_ok(WWW, "ok", NULL, "ams-1");
	}
}
END_TEST

START_TEST(the_memory_cap_holds)
{
	use_lua(WWW, DATA "limits.lua");
	load();
	ck_run_fails(WWW, "memory", NULL, "memory cap of 16 MiB exceeded");
	ck_run_ok(WWW, "ok", NULL, "ams-1");
	/* pcall cannot swallow it */
	ck_run_fails(WWW, "memory_pcall", NULL, "memory cap of 16 MiB exceeded");
	ck_run_ok(WWW, "ok", NULL, "ams-1");
	/* endless recursion ends on whichever limit comes first */
	ck_assert(!run(WWW, "deep", NULL));
	ck_assert_msg(strstr(err, "stack overflow") || strstr(err, "exceeded"), "%s", err);
	ck_run_ok(WWW, "ok", NULL, "ams-1");
	/* garbage is collected: 8 MB of it per call, many calls */
	for (int i = 0; i < 20; i++) {
		ck_run_ok(WWW, "garbage", NULL, "ams-1");
		ck_assert_uint_ge(out.ttl, 8192);
	}
}
END_TEST

static const struct {
	const char *name, *message; /* NULL: the case must succeed */
} bounded[] = {
    {"rep_huge", "string.rep: the result would exceed the memory cap of 16 MiB"},
    {"rep_empty", NULL},
    {"find_subject", "string.find: subject of 4097 bytes, more than 4096"},
    {"match_subject", "string.match: subject of 4097 bytes, more than 4096"},
    {"gmatch_subject", "string.gmatch: subject of 4097 bytes, more than 4096"},
    {"gsub_subject", "string.gsub: subject of 4097 bytes, more than 4096"},
    {"pattern", "string.find: pattern of 129 bytes, more than 128"},
    {"complex", "string.match: pattern too complex for a subject of 4000 bytes (nested repetitions)"},
    {"patterns_ok", NULL},
    {"move", "table.move: more than 1048576 elements"},
    {"insert", "table.insert: more than 1048576 elements"},
    {"remove", "table.remove: more than 1048576 elements"},
    {"concat", "table.concat: more than 1048576 elements"},
};

START_TEST(library_loops_are_bounded)
{
	use_lua(WWW, DATA "limits.lua");
	load();
	const char *name = bounded[_i].name;
	double start = now_seconds();
	bool ok = run(WWW, name, NULL);
	double took = now_seconds() - start;
	ck_assert_msg(took < 1.0, "%s took %.3f s", name, took);
	if (!bounded[_i].message) {
		ck_assert_msg(ok, "%s: %s", name, err);
		return;
	}
	ck_assert_msg(!ok, "%s: allowed", name);
	ck_assert_msg(!strncmp(err, DATA "limits.lua:", strlen(DATA "limits.lua:")), "%s: %s", name, err);
	ck_assert_str_eq(raised(), bounded[_i].message);
}
END_TEST

START_TEST(math_random_is_deterministic)
{
	use_lua(WWW, DATA "random.lua");
	load();
	struct lua_policy_output a, b, c;
	ck_assert(run_seed(WWW, "", NULL, 7, &a, err, sizeof(err)));
	ck_assert(run_seed(WWW, "", NULL, 8, &c, err, sizeof(err)));
	ck_assert(run_seed(WWW, "", NULL, 7, &b, err, sizeof(err)));
	/* the same seed gives the same draws, whatever ran in between */
	ck_assert_uint_eq(a.ttl, b.ttl);
	ck_assert(a.recheck == b.recheck);
	ck_assert_uint_eq(a.member[0], b.member[0]);
	ck_assert(a.ttl != c.ttl || a.recheck != c.recheck);
	/* the draws vary with the seed */
	unsigned distinct_ttl = 0, picks[8] = {0};
	for (uint64_t seed = 0; seed < 64; seed++) {
		ck_assert(run_seed(WWW, "", NULL, seed, &c, err, sizeof(err)));
		distinct_ttl += c.ttl != a.ttl;
		picks[c.member[0] & 7]++;
	}
	ck_assert_uint_ge(distinct_ttl, 60);
	unsigned used = 0;
	for (int i = 0; i < 8; i++)
		used += picks[i] > 0;
	ck_assert_uint_eq(used, 5); /* every member of ctx.members was drawn */
	/* math.randomseed(n) inside the policy: the same draws whatever the call's seed */
	ck_assert(run_seed(WWW, "reseed", NULL, 1, &a, err, sizeof(err)));
	ck_assert(run_seed(WWW, "reseed", NULL, 2, &b, err, sizeof(err)));
	ck_assert_uint_eq(a.ttl, b.ttl);
	ck_assert(a.recheck == b.recheck);
	ck_assert(!run(WWW, "empty", NULL));
	ck_assert_ptr_nonnull(strstr(err, "interval is empty"));
}
END_TEST

/* ---- the context ----------------------------------------------------------------------------------- */

START_TEST(the_context_describes_record_members_and_dcs)
{
	use_lua(WWW, DATA "ctx.lua");
	use_lua(EDGE, DATA "ctx.lua");
	load();
	set_dcs("iad", "sin", "ams");
	ck_assert(!run(WWW, "europe", "odUuuu"));
	/* ams-6 (IPv6) is not a value of an A record: left out, its "since" (40) with it */
	ck_assert_str_eq(raised(), "europe www.example.com. A 30 web 1700000000.5 "
				   "ams-1=192.0.2.10/ams/1/down/false/0.0/false "
				   "ams-2=192.0.2.11/ams/3/drain/false/10.0/false "
				   "iad-1=198.51.100.10/iad/2/up/true/20.0/false "
				   "sin-1=203.0.113.10/sin/1/up/false/30.0/false "
				   "ams-9=192.0.2.12/ams/1/up/false/50.0/true "
				   "iad:100.0 sin:1000.0 ams:inf");
	set_dcs("ams", NULL, NULL);
	ck_assert(!run(EDGE, "", NULL));
	ck_assert_str_eq(raised(), " edge.example.com. CNAME 60 edge 1700000000.5 "
				   "edge-ams=ams.edge.example.net./ams/1/up/false/0.0/false "
				   "edge-iad=iad.edge.example.net./iad/1/up/false/0.0/false "
				   "ams:100.0");
}
END_TEST

/* ---- the answer -------------------------------------------------------------------------------------- */

START_TEST(answers_are_converted)
{
	use_lua(WWW, DATA "answers.lua");
	use_lua(WWW6, DATA "answers.lua");
	use_lua(EDGE, DATA "answers.lua");
	use_lua(BIG, DATA "answers.lua");
	load();
	ck_run_ok(WWW, "members", NULL, "iad-1 ams-1");
	ck_assert(!out.has_ttl);
	ck_assert_int_eq(out.select, DYN_SELECT_ALL);
	ck_assert_uint_eq(out.answers, 0);
	ck_assert(out.recheck == 0);
	ck_run_ok(WWW, "built", NULL, "sin-1");
	ck_run_ok(WWW, "addrs", NULL, "iad-1 ams-1");
	ck_run_ok(WWW6, "addrs6", NULL, "ams-6");
	ck_run_ok(WWW6, "wrong_type", NULL, "ams-6");
	ck_run_ok(EDGE, "targets", NULL, "edge-iad edge-ams");
	/* duplicates are dropped, the first place kept */
	ck_run_ok(WWW, "dups", NULL, "ams-1 iad-1");
	ck_run_ok(WWW, "dup_addrs", NULL, "ams-1 iad-1");
	ck_run_ok(BIG, "sixty_four", NULL,
		  "big-1 big-2 big-3 big-4 big-5 big-6 big-7 big-8 big-9 big-10 big-11 "
		  "big-12 big-13 big-14 big-15 big-16 big-17 big-18 big-19 big-20 big-21 "
		  "big-22 big-23 big-24 big-25 big-26 big-27 big-28 big-29 big-30 big-31 "
		  "big-32 big-33 big-34 big-35 big-36 big-37 big-38 big-39 big-40 big-41 "
		  "big-42 big-43 big-44 big-45 big-46 big-47 big-48 big-49 big-50 big-51 "
		  "big-52 big-53 big-54 big-55 big-56 big-57 big-58 big-59 big-60 big-61 "
		  "big-62 big-63 big-64");
	ck_assert_uint_eq(out.count, 64);
}
END_TEST

START_TEST(answer_fields_are_carried_over)
{
	use_lua(WWW, DATA "answers.lua");
	load();
	ck_run_ok(WWW, "fields", NULL, "ams-2");
	ck_assert(out.has_ttl);
	ck_assert_uint_eq(out.ttl, 15);
	ck_assert_int_eq(out.select, DYN_SELECT_WEIGHTED);
	ck_assert_uint_eq(out.answers, 2);
	ck_assert(out.recheck == 2.5);
	ck_run_ok(WWW, "ttl_float", NULL, "ams-2");
	ck_assert(out.has_ttl);
	ck_assert_uint_eq(out.ttl, 30);
	ck_assert_uint_eq(out.answers, 0);
	ck_run_ok(WWW, "ttl_max", NULL, "ams-2");
	ck_assert_uint_eq(out.ttl, 2147483647u);
	ck_run_ok(WWW, "answers_big", NULL, "ams-2");
	ck_assert_uint_eq(out.answers, DYN_VALUES_MAX);
	static const struct {
		const char *word;
		enum dyn_select select;
	} words[] = {{"first", DYN_SELECT_FIRST},
		     {"shuffle", DYN_SELECT_SHUFFLE},
		     {"hash", DYN_SELECT_HASH},
		     {"all", DYN_SELECT_ALL}};
	for (size_t i = 0; i < 4; i++) {
		ck_run_ok(WWW, words[i].word, NULL, "ams-1 ams-2 iad-1 sin-1 ams-9");
		ck_assert_int_eq(out.select, words[i].select);
	}
}
END_TEST

static const struct {
	size_t record;
	const char *name, *message;
} refused[] = {
    {WWW, "nil", "answer: expected a table, got nil"},
    {WWW, "number", "answer: expected a table, got number"},
    {WWW, "nothing", "empty answer"},
    {WWW, "empty", "empty answer"},
    {WWW, "empty_addrs", "empty answer"},
    {WWW, "not_member", "addrs[2]: 192.0.2.99 is not a member of pool web"},
    {WWW, "wrong_type", "members[1]: ams-6 has no A address"},
    {WWW6, "built", "members[1]: sin-1 has no AAAA address"},
    {EDGE, "built", "members[1]: sin-1 is not a member of pool edge"},
    {WWW, "wrong_family", "addrs[1]: expected an IPv4 address (record type A), got \"2001:db8::10\""},
    {WWW6, "addrs", "addrs[1]: expected an IPv6 address (record type AAAA), got \"198.51.100.10\""},
    {WWW, "bad_addr", "addrs[1]: expected an IPv4 address (record type A), got \"192.0.2.300\""},
    {EDGE, "cname_addr", "addrs[1]: 192.0.2.10 is not a member of pool edge"},
    {WWW, "unknown", "members[1]: nope is not a member of pool web"},
    {WWW, "no_name", "members[1]: expected a member with a name"},
    {WWW, "name_string", "members[1]: expected a member (a table from ctx.members), got string"},
    {WWW, "addr_number", "addrs[1]: expected a string, got number"},
    {WWW, "both", "answer: members and addrs exclude each other"},
    {WWW, "typo", "answer: unknown field 'member'"},
    {WWW, "typos", "answer: unknown field 'alpha'"},
    {WWW, "bare_list", "answer: a number key; expected a table of fields such as { members = {...} }"},
    {WWW, "one_member", "members: expected a list (keys 1, 2, ...), got a table with other keys"},
    {WWW, "members_string", "members: expected a list, got string"},
    {WWW, "ttl_negative", "ttl: expected an integer from 0 to 2147483647"},
    {WWW, "ttl_big", "ttl: expected an integer from 0 to 2147483647"},
    {WWW, "ttl_fraction", "ttl: expected an integer from 0 to 2147483647"},
    {WWW, "ttl_string", "ttl: expected an integer from 0 to 2147483647"},
    {WWW, "select_bad", "select: expected all, first, weighted, shuffle or hash"},
    {WWW, "select_number", "select: expected all, first, weighted, shuffle or hash"},
    {WWW, "answers_negative", "answers: expected an integer >= 0"},
    {WWW, "answers_fraction", "answers: expected an integer >= 0"},
    {WWW, "recheck_negative", "recheck: expected a number of seconds >= 0"},
    {WWW, "recheck_nan", "recheck: expected a number of seconds >= 0"},
    {WWW, "recheck_inf", "recheck: expected a number of seconds >= 0"},
    {WWW, "recheck_string", "recheck: expected a number of seconds >= 0"},
    {BIG, "too_many", "members: more than 64 values"},
};

START_TEST(invalid_answers_are_refused)
{
	use_lua(WWW, DATA "answers.lua");
	use_lua(WWW6, DATA "answers.lua");
	use_lua(EDGE, DATA "answers.lua");
	use_lua(BIG, DATA "answers.lua");
	load();
	ck_run_fails(refused[_i].record, refused[_i].name, NULL, refused[_i].message);
}
END_TEST

/* Lua walks a table in an order that changes from one state to the next (string hashes are seeded
 * with the state's address): an answer with several bad fields must be refused with the same words
 * in every state. */
START_TEST(refusal_words_do_not_depend_on_the_state)
{
	use_lua(WWW, DATA "answers.lua");
	for (int i = 0; i < 30; i++) {
		load();
		ck_run_fails(WWW, "typos", NULL, "answer: unknown field 'alpha'");
		lua_policy_free(set);
		set = NULL;
	}
}
END_TEST

/* ---- helpers --------------------------------------------------------------------------------------- */

/* Pool web: ams-1 ams-2 iad-1 sin-1 ams-6 (IPv6) ams-9 (standby). */
#define STATES "oduuuu" /* ams-1 down, ams-2 draining, the rest up */

START_TEST(helpers_filter_members)
{
	use_lua(WWW, DATA "helpers.lua");
	load();
	ck_run_ok(WWW, "up", STATES, "iad-1 sin-1");
	ck_run_ok(WWW, "up_standby", STATES, "iad-1 sin-1 ams-9");
	ck_run_ok(WWW, "up_drain", STATES, "ams-2 iad-1 sin-1");
	ck_run_ok(WWW, "in_dc", STATES, "iad-1");
	ck_run_ok(WWW, "in_dc_entry", STATES, "ams-1 ams-2 ams-9");
	/* nearest: ams (first in ctx.dcs) has nobody up, iad has */
	ck_run_ok(WWW, "nearest", STATES, "iad-1");
	ck_run_ok(WWW, "nearest_names", STATES, "sin-1");
	ck_run_fails(WWW, "nearest_none", STATES, "empty answer");
	ck_run_ok(WWW, "first_up", STATES, "iad-1");
	ck_run_ok(WWW, "first_up", "uuuuuu", "ams-1");
	ck_run_ok(WWW, "first_up_none", STATES, "ams-1 ams-2 iad-1 sin-1 ams-9");
	ck_assert_uint_eq(out.ttl, 5);
	ck_run_ok(WWW, "all", STATES, "ams-1 ams-2 iad-1 sin-1 ams-9");
	ck_assert_int_eq(out.select, DYN_SELECT_ALL);
	ck_assert_uint_eq(out.answers, 0);
	ck_assert(!run(WWW, "bad_arg", STATES));
	ck_assert_str_eq(err, DATA "helpers.lua:23: meridian.up: expected a list of members, got nil");
}
END_TEST

START_TEST(helpers_shape_answers)
{
	use_lua(WWW, DATA "helpers.lua");
	load();
	ck_run_ok(WWW, "weighted", STATES, "iad-1 sin-1");
	ck_assert_int_eq(out.select, DYN_SELECT_WEIGHTED);
	ck_assert_uint_eq(out.answers, 2);
	ck_run_ok(WWW, "pickwrandom", STATES, "ams-1 ams-2 iad-1 sin-1 ams-9");
	ck_assert_int_eq(out.select, DYN_SELECT_WEIGHTED);
	ck_assert_uint_eq(out.answers, 1);
	ck_run_ok(WWW, "pickrandom", STATES, "ams-1 ams-2 iad-1 sin-1 ams-9");
	ck_assert_int_eq(out.select, DYN_SELECT_SHUFFLE);
	ck_assert_uint_eq(out.answers, 1);
	ck_run_ok(WWW, "pickhashed", STATES, "ams-1 ams-2 iad-1 sin-1 ams-9");
	ck_assert_int_eq(out.select, DYN_SELECT_HASH);
	ck_assert_uint_eq(out.answers, 1);
	/* pickclosest: by the datacenter's place in ctx.dcs, unlisted datacenters last */
	set_dcs("sin", "iad", NULL);
	ck_run_ok(WWW, "pickclosest", STATES, "sin-1 iad-1 ams-1 ams-2 ams-9");
	ck_assert_int_eq(out.select, DYN_SELECT_FIRST);
	ck_assert_uint_eq(out.answers, 1);
}
END_TEST

/* The built-in failover (src/policy/builtin.c, tests in test_policy.c) over pool web for region
 * europe (order ams, iad) and americas (iad, ams), worked out by hand: the first datacenter in the
 * order with a member serving wins whole; a draining member still serves; when the order has
 * nobody, every serving member; when nobody serves, every member but the standby (fail open). */
START_TEST(a_lua_failover_matches_the_builtin)
{
	use_lua(WWW, DATA "failover.lua");
	load();
	static const struct {
		const char *region, *states, *expected;
	} cases[] = {
	    {"europe", "uuuuuu", "ams-1 ams-2"},
	    {"americas", "uuuuuu", "iad-1"},
	    {"europe", "oouuuu", "iad-1"},
	    {"europe", "dououu", "ams-1"},
	    {"americas", "uuouuu", "ams-1 ams-2"},
	    {"europe", "ooouuu", "sin-1"},
	    {"americas", "oooouu", "ams-1 ams-2 iad-1 sin-1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(cases[i].region, "europe"))
			set_dcs("ams", "iad", NULL);
		else
			set_dcs("iad", "ams", NULL);
		ck_run_ok(WWW, cases[i].region, cases[i].states, cases[i].expected);
		ck_assert_int_eq(out.select, DYN_SELECT_ALL);
	}
}
END_TEST

static Suite *lua_policy_suite(void)
{
	Suite *s = suite_create("lua_policy");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_file_named_twice_is_compiled_once);
	tcase_add_test(tc, a_file_that_does_not_compile_names_its_line);
	tcase_add_test(tc, a_file_must_return_a_function);
	tcase_add_test(tc, every_load_error_is_reported);
	tcase_add_test(tc, bytecode_is_refused);
	tcase_add_test(tc, long_paths_are_named_in_full);
	tcase_add_test(tc, run_time_errors_name_the_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("sandbox");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, forbidden_facilities_are_refused, 0,
			    sizeof(forbidden) / sizeof(forbidden[0]));
	tcase_add_test(tc, only_safe_globals_exist);
	tcase_add_test(tc, the_budget_stops_endless_loops);
	tcase_add_test(tc, the_time_limit_stops_slow_instructions);
	tcase_add_test(tc, the_memory_cap_holds);
	tcase_add_loop_test(tc, library_loops_are_bounded, 0, sizeof(bounded) / sizeof(bounded[0]));
	tcase_add_test(tc, math_random_is_deterministic);
	suite_add_tcase(s, tc);

	tc = tcase_create("answers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_context_describes_record_members_and_dcs);
	tcase_add_test(tc, answers_are_converted);
	tcase_add_test(tc, answer_fields_are_carried_over);
	tcase_add_test(tc, refusal_words_do_not_depend_on_the_state);
	tcase_add_loop_test(tc, invalid_answers_are_refused, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, helpers_filter_members);
	tcase_add_test(tc, helpers_shape_answers);
	tcase_add_test(tc, a_lua_failover_matches_the_builtin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lua_policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
