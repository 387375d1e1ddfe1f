/* test_conf.c -- unit tests for the config module: sandbox, limits, schema, line numbers, geo and health
 * keys.
 *
 * Fixtures live in tests/unit/data/conf/ (paths relative to the repo root, where tests run); configs
 * that are only a few lines, or must be binary, are written to a temporary folder by the test. Geo
 * fixtures are staged into that folder beside an empty geo/demo-city.mmdb: the config module only
 * checks that database files can be read (the geo module parses them). */
#include <arpa/inet.h>
#include <check.h>
#include <lauxlib.h>
#include <netinet/in.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meridian/conf.h"
#include "meridian/conf_sandbox.h"
#include "meridian/wire.h"

#include "support.h"

#define DATA "tests/unit/data/conf/"

/* Writes text to unit_tmpdir/name and returns the path (static buffer: use before the next call). */
static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Asserts that d holds exactly "path:line: msg" ("path: msg" for line 0). */
#define expect_error(d, path, line, msg)                                                                     \
	do {                                                                                                 \
		char want_[1024];                                                                            \
		if (line)                                                                                    \
			snprintf(want_, sizeof(want_), "%s:%u: %s", (path), (unsigned)(line), (msg));        \
		else                                                                                         \
			snprintf(want_, sizeof(want_), "%s: %s", (path), (msg));                             \
		bool found_ = false;                                                                         \
		for (size_t i_ = 0; i_ < (d)->count; i_++)                                                   \
			found_ |= strcmp((d)->entries[i_].text, want_) == 0;                                 \
		ck_assert_msg(found_, "missing \"%s\" in:%s", want_, unit_diag_text(d));                     \
	} while (0)

/* Loads a config that must fail; returns its diag (caller frees). */
static struct diag load_fail(const char *path)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load(path, &d);
	ck_assert_msg(c == NULL, "%s loaded but should not", path);
	ck_assert_msg(d.errors > 0, "%s failed without an error", path);
	return d;
}

/* Loads a config that must succeed. */
static struct conf *load_ok(const char *path)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load(path, &d);
	ck_assert_msg(c != NULL, "%s failed:%s", path, unit_diag_text(&d));
	ck_assert_uint_eq(d.count, 0);
	diag_free(&d);
	return c;
}

static void expect_v4(const struct conf_listen *l, const char *addr, unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->addr;
	char text[INET_ADDRSTRLEN];
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(l->addr_len, sizeof(*sin));
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
	ck_assert_str_eq(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text)), addr);
}

static void expect_v6(const struct conf_listen *l, const char *addr, unsigned port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->addr;
	char text[INET6_ADDRSTRLEN];
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(l->addr_len, sizeof(*sin6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
	ck_assert_str_eq(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text)), addr);
}

START_TEST(test_minimal)
{
	struct conf *c = load_ok(DATA "minimal.lua");
	ck_assert_str_eq(c->path, DATA "minimal.lua");
	ck_assert_str_eq(c->dir, "tests/unit/data/conf");
	ck_assert_uint_eq(c->serial, 1);
	ck_assert_uint_eq(c->listen_count, 2);
	expect_v4(&c->listen[0], "127.0.0.1", 5353);
	expect_v6(&c->listen[1], "::1", 5353);
	ck_assert_str_eq(c->listen[0].text, "127.0.0.1:5353");
	ck_assert_str_eq(c->listen[1].text, "[::1]:5353");
	ck_assert_uint_eq(c->zone_count, 1);
	ck_assert_str_eq(c->zones[0].name, "example.com");
	ck_assert_str_eq(c->zones[0].file, DATA "example.com.zone");
	ck_assert_uint_eq(c->zones[0].line, 4);
	conf_free(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct conf *c = load_ok(DATA "minimal.lua");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ck_assert_uint_eq(c->workers, cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus);
	ck_assert_uint_eq(c->udp_payload, 1232);
	ck_assert_uint_eq(c->tcp_idle_timeout, 10);
	ck_assert_uint_eq(c->tcp_clients, 256);
	ck_assert_ptr_null(c->nsid);
	ck_assert_uint_eq(c->nsid_len, 0);
	ck_assert_ptr_null(c->identity);
	ck_assert_ptr_null(c->version);
	conf_free(c);
}
END_TEST

START_TEST(test_full)
{
	struct conf *c = load_ok(DATA "full.lua");
	ck_assert_uint_eq(c->serial, 2024010100);
	ck_assert_uint_eq(c->listen_count, 4);
	expect_v4(&c->listen[2], "0.0.0.0", 5353);
	expect_v6(&c->listen[3], "2001:db8::1", 8053);
	ck_assert_uint_eq(c->zone_count, 3);
	ck_assert_str_eq(c->zones[0].name, "example.com.");
	ck_assert_str_eq(c->zones[1].name, "Example.NET");
	ck_assert_str_eq(c->zones[2].name, "0/25.2.0.192.in-addr.arpa");
	ck_assert_uint_eq(c->zones[0].line, 5);
	ck_assert_uint_eq(c->zones[2].line, 7);
	ck_assert_uint_eq(c->workers, 3);
	ck_assert_uint_eq(c->nsid_len, 12);
	ck_assert_int_eq(memcmp(c->nsid, "meridian-1\0x", 12), 0);
	ck_assert_str_eq(c->identity, "ns1.example.com");
	ck_assert_str_eq(c->version, "");
	ck_assert_uint_eq(c->udp_payload, 4096);
	ck_assert_uint_eq(c->tcp_idle_timeout, 3600);
	ck_assert_uint_eq(c->tcp_clients, 65536);
	conf_free(c);
}
END_TEST

START_TEST(test_wrong_types)
{
	const char *p = DATA "wrong_types.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 2, "serial: expected an integer, got string");
	expect_error(&d, p, 3, "listen: expected a list of \"address:port\" strings, got string");
	expect_error(&d, p, 4, "zones: expected a list of { name = ..., file = ... } tables, got number");
	expect_error(&d, p, 5, "workers: expected an integer, got float 2.5");
	expect_error(&d, p, 6, "nsid: expected a string, got number");
	expect_error(&d, p, 7, "identity: expected a string, got boolean");
	expect_error(&d, p, 8, "version: expected a string, got table");
	expect_error(&d, p, 9, "udp_payload: expected an integer, got string");
	expect_error(&d, p, 10, "tcp_idle_timeout: expected an integer, got float 1.5");
	expect_error(&d, p, 11, "tcp_clients: expected an integer, got boolean");
	ck_assert_uint_eq(d.errors, 10);
	/* in file order */
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, ":2: serial"));
	ck_assert_ptr_nonnull(strstr(d.entries[9].text, ":11: tcp_clients"));
	diag_free(&d);
}
END_TEST

START_TEST(test_wrong_nested)
{
	const char *p = DATA "wrong_nested.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 2, "serial: expected an integer >= 0, got -1");
	expect_error(&d, p, 3, "listen[2]: expected a string, got number");
	expect_error(&d, p, 10, "zones[2].file: expected a string, got number");
	expect_error(&d, p, 11, "zones[3].name: expected a string, got number");
	expect_error(&d, p, 12, "zones[4]: expected a table { name = ..., file = ... }, got string");
	expect_error(&d, p, 7, "zones[5].name: missing (expected a domain name)");
	expect_error(&d, p, 14, "zones[6].file: missing (expected a zone file name)");
	expect_error(&d, p, 15, "zones[7].name: \"bad name.example\": invalid character ' '");
	expect_error(&d, p, 16, "zones[8].name: \"x..example\": empty label");
	expect_error(&d, p, 18, "workers: expected an integer in 1..64, got 0");
	expect_error(&d, p, 19, "nsid: expected a non-empty string");
	expect_error(&d, p, 20, "identity: expected at most 255 bytes, got 256");
	expect_error(&d, p, 21, "udp_payload: expected an integer in 512..4096, got 511");
	expect_error(&d, p, 22, "tcp_idle_timeout: expected an integer in 1..3600, got 3601");
	expect_error(&d, p, 23, "tcp_clients: expected an integer in 1..65536, got 65537");
	ck_assert_uint_eq(d.errors, 15);
	diag_free(&d);
}
END_TEST

START_TEST(test_domain_names)
{
	char long_label[80], long_name[300];
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	for (int i = 0; i < 64; i++)
		memcpy(long_name + 4 * i, "abc.", 4);
	long_name[254] = '\0'; /* 254 characters: too long even without a trailing dot */
	char text[1024], *data = realpath(DATA, NULL);
	snprintf(text, sizeof(text),
		 "serial = 1\nlisten = { \"127.0.0.1:53\" }\nlocal z = \"%s/example.com.zone\"\nzones = {\n"
		 "\t{ name = \"%s.example\", file = z },\n\t{ name = \"%s\", file = z },\n"
		 "\t{ name = \"\", file = z },\n\t{ name = \".\", file = z },\n\t{ name = \"a.b.\", file = z "
		 "},\n}\n",
		 data, long_label, long_name);
	free(data);
	const char *p = write_tmp("names.lua", text);
	struct diag d = load_fail(p);
	char msg[512];
	snprintf(msg, sizeof(msg), "zones[1].name: \"%s.example\": a label is longer than 63 characters",
		 long_label);
	expect_error(&d, p, 5, msg);
	snprintf(msg, sizeof(msg), "zones[2].name: \"%s\": longer than 253 characters", long_name);
	expect_error(&d, p, 6, msg);
	expect_error(&d, p, 7, "zones[3].name: expected a non-empty string");
	ck_assert_uint_eq(d.errors, 3); /* "." (the root) and "a.b." are fine */
	diag_free(&d);
}
END_TEST

START_TEST(test_unknown_keys)
{
	const char *p = DATA "unknown.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 5, "unknown key 'serail' (did you mean 'serial'?)");
	expect_error(&d, p, 6, "unknown key 'helper' (helper variables and functions must be local)");
	expect_error(&d, p, 9, "zones[1]: unknown key 'fiel' (did you mean 'file'?)");
	expect_error(&d, p, 11, "unknown key 'udp_paylod' (did you mean 'udp_payload'?)");
	ck_assert_uint_eq(d.errors, 4);
	diag_free(&d);
}
END_TEST

START_TEST(test_duplicate_zone)
{
	const char *p = DATA "dup_zone.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 7, "zones[3].name: duplicate zone \"EXAMPLE.com.\" (already in zones[1])");
	ck_assert_uint_eq(d.errors, 1);
	diag_free(&d);
}
END_TEST

START_TEST(test_missing_zone_file)
{
	const char *p = DATA "missing_zone.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 11,
		     "zones[2].file: cannot read \"" DATA "missing.zone\": No such file or directory");
	expect_error(&d, p, 13, "zones[3].file: cannot read \"" DATA ".\": not a regular file");
	ck_assert_uint_eq(d.errors, 2);
	diag_free(&d);
}
END_TEST

START_TEST(test_unreadable_zone_file)
{
	if (geteuid() == 0)
		return; /* root reads anything: the missing and folder cases above cover the error path */
	write_tmp("secret.zone", "");
	char path[300];
	snprintf(path, sizeof(path), "%s/secret.zone", unit_tmpdir);
	ck_assert_int_eq(chmod(path, 0), 0);
	const char *p = write_tmp("secret.lua", "serial = 1\nlisten = { \"127.0.0.1:53\" }\nzones = {\n"
						"\t{ name = \"a.example\", file = \"secret.zone\" },\n}\n");
	struct diag d = load_fail(p);
	char msg[512];
	snprintf(msg, sizeof(msg), "zones[1].file: cannot read \"%s\": Permission denied", path);
	expect_error(&d, p, 4, msg);
	diag_free(&d);
}
END_TEST

START_TEST(test_zone_paths)
{
	/* relative to the config's folder, absolute as given */
	char *data = realpath(DATA, NULL);
	char text[1024], zone[600];
	snprintf(zone, sizeof(zone), "%s/example.com.zone", data);
	write_tmp("rel.zone", "");
	snprintf(text, sizeof(text),
		 "serial = 1\nlisten = { \"127.0.0.1:53\" }\n"
		 "zones = { { name = \"a.example\", file = \"rel.zone\" }, { name = \"b.example\", file = "
		 "\"%s\" } }\n",
		 zone);
	struct conf *c = load_ok(write_tmp("paths.lua", text));
	char rel[300];
	snprintf(rel, sizeof(rel), "%s/rel.zone", unit_tmpdir);
	ck_assert_str_eq(c->dir, unit_tmpdir);
	ck_assert_str_eq(c->zones[0].file, rel);
	ck_assert_str_eq(c->zones[1].file, zone);
	conf_free(c);
	free(data);

	/* a config named without a folder: dir "." and zone files as written */
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(DATA), 0);
	c = load_ok("minimal.lua");
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(c->dir, ".");
	ck_assert_str_eq(c->zones[0].file, "example.com.zone");
	conf_free(c);
}
END_TEST

START_TEST(test_bad_listen)
{
	const char *p = DATA "bad_listen.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 4, "listen[1]: \"127.0.0.1\": missing port (expected \"address:port\")");
	expect_error(&d, p, 5, "listen[2]: \"127.0.0.1:0\": port 0 out of range 1..65535");
	expect_error(&d, p, 6, "listen[3]: \"127.0.0.1:65536\": port 65536 out of range 1..65535");
	expect_error(&d, p, 7, "listen[4]: \"300.0.0.1:53\": not an IPv4 address");
	expect_error(&d, p, 8, "listen[5]: \"localhost:53\": not an IPv4 address");
	expect_error(
	    &d, p, 9,
	    "listen[6]: \"::1:53\": an IPv6 address must be written in brackets: \"[address]:port\"");
	expect_error(&d, p, 10, "listen[7]: \"[::1]\": missing port (expected \"address:port\")");
	expect_error(&d, p, 11, "listen[8]: \"[::1:53\": missing ']' after the IPv6 address");
	expect_error(&d, p, 12, "listen[9]: \"[127.0.0.1]:53\": not an IPv6 address");
	expect_error(&d, p, 13, "listen[10]: \"127.0.0.1:5x\": port must be a number in 1..65535");
	expect_error(&d, p, 16, "listen[13]: \"[0:0::1]:53\" duplicates listen[12]");
	expect_error(&d, p, 17, "listen[14]: \"127.0.0.1:53\" duplicates listen[11]");
	ck_assert_uint_eq(d.errors, 12);
	diag_free(&d);
}
END_TEST

START_TEST(test_missing_keys)
{
	const char *p = DATA "empty_listen.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 2, "listen: expected at least one \"address:port\"");
	expect_error(&d, p, 0, "missing required key 'serial'");
	ck_assert_uint_eq(d.errors, 2);
	diag_free(&d);

	p = write_tmp("nothing.lua", "-- nothing\n");
	d = load_fail(p);
	expect_error(&d, p, 0, "missing required key 'serial'");
	expect_error(&d, p, 0, "missing required key 'listen'");
	ck_assert_uint_eq(d.errors, 2);
	diag_free(&d);

	d = load_fail("tests/unit/data/conf/does-not-exist.lua");
	expect_error(&d, "tests/unit/data/conf/does-not-exist.lua", 0,
		     "cannot read: No such file or directory");
	diag_free(&d);
}
END_TEST

START_TEST(test_syntax_error)
{
	const char *p = DATA "syntax.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 4, "'}' expected near 'file'");
	ck_assert_uint_eq(d.count, 1);
	diag_free(&d);

	/* a path longer than Lua's chunk ids (it abbreviates them) still reads naturally, once */
	char dir[200], path[300];
	snprintf(dir, sizeof(dir), "%s/a-folder-name-long-enough-that-lua-would-abbreviate-it", unit_tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/conf.lua", dir + strlen(unit_tmpdir) + 1);
	p = write_tmp(path, "serial = 1\n\nx = = 2\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "unexpected symbol near '='");
	diag_free(&d);
}
END_TEST

START_TEST(test_runtime_error)
{
	const char *p = DATA "runtime.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 5, "attempt to index a nil value (local 't')");
	ck_assert_uint_eq(d.count, 1);
	diag_free(&d);

	p = write_tmp("error.lua", "serial = 1\n\nerror(\"no position\", 0)\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "no position");
	diag_free(&d);

	p = write_tmp("errtab.lua", "serial = 1\nerror({})\n");
	d = load_fail(p);
	expect_error(&d, p, 2, "(error object is a table value)");
	diag_free(&d);

	p = write_tmp("assert.lua", "serial = 1\nassert(serial == 2, \"serial must be 2\")\n");
	d = load_fail(p);
	expect_error(&d, p, 2, "serial must be 2");
	diag_free(&d);
}
END_TEST

/* Each snippet must fail at its line with the message given; none may have its side effect. */
START_TEST(test_sandbox_refuses)
{
	static const struct {
		const char *code, *msg;
	} cases[] = {
	    {"io.open(TMP .. '/made-by-io', 'w')", "attempt to index a nil value (global 'io')"},
	    {"os.execute('touch ' .. TMP .. '/made-by-os')", "attempt to index a nil value (global 'os')"},
	    {"require('os')", "attempt to call a nil value (global 'require')"},
	    {"load('x = 1')()", "attempt to call a nil value (global 'load')"},
	    {"loadstring('x = 1')()", "attempt to call a nil value (global 'loadstring')"},
	    {"loadfile('/etc/hostname')", "attempt to call a nil value (global 'loadfile')"},
	    {"dofile('/etc/hostname')", "attempt to call a nil value (global 'dofile')"},
	    {"debug.getinfo(1)", "attempt to index a nil value (global 'debug')"},
	    {"string.dump(print)", "attempt to call a nil value (field 'dump')"},
	    {"local s = ('').dump(function() end)", "attempt to call a nil value (field 'dump')"},
	    {"collectgarbage()", "attempt to call a nil value (global 'collectgarbage')"},
	    {"print('hello')", "attempt to call a nil value (global 'print')"},
	    {"package.loaded.os.exit()", "attempt to index a nil value (global 'package')"},
	    {"coroutine.wrap(print)", "attempt to index a nil value (global 'coroutine')"},
	    {"_G.os.exit()", "attempt to index a nil value (global '_G')"},
	    {"setmetatable({}, { __gc = function() end })",
	     "__gc metamethods are not allowed in the sandbox"},
	    {"setmetatable(_ENV, {})", "cannot change a protected metatable"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "local TMP = '%s'\n%s\n", unit_tmpdir, cases[i].code);
		const char *p = write_tmp("refuse.lua", text);
		struct diag d = load_fail(p);
		expect_error(&d, p, 2, cases[i].msg);
		diag_free(&d);
	}
	char made[300];
	snprintf(made, sizeof(made), "%s/made-by-io", unit_tmpdir);
	ck_assert_int_ne(access(made, F_OK), 0);
	snprintf(made, sizeof(made), "%s/made-by-os", unit_tmpdir);
	ck_assert_int_ne(access(made, F_OK), 0);
}
END_TEST

static int dump_writer(lua_State *L, const void *p, size_t n, void *f)
{
	(void)L;
	return fwrite(p, 1, n, f) == n ? 0 : 1;
}

START_TEST(test_bytecode_refused)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/bytecode.lua", unit_tmpdir);
	lua_State *L = luaL_newstate();
	ck_assert_int_eq(luaL_loadstring(L, "serial = 1 listen = { '127.0.0.1:53' }"), LUA_OK);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(lua_dump(L, dump_writer, f, 0), 0);
	fclose(f);
	lua_close(L);
	struct diag d = load_fail(path);
	expect_error(&d, path, 0, "attempt to load a binary chunk (mode is 't')");
	diag_free(&d);
}
END_TEST

START_TEST(test_instruction_budget)
{
	const char *p = write_tmp("loop.lua", "serial = 1\nwhile true do end\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 2, "instruction budget of 10000000 exceeded (endless loop?)");
	diag_free(&d);

	/* pcall cannot catch the budget error and carry on */
	p = write_tmp("loop_pcall.lua",
		      "serial = 1\nwhile true do\n\tpcall(function() while true do end end)\nend\n");
	d = load_fail(p);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, "instruction budget of 10000000 exceeded"));
	diag_free(&d);

	/* nor can a to-be-closed variable's handler */
	p = write_tmp("loop_close.lua", "serial = 1\ndo\n\tlocal x <close> = setmetatable({}, { __close = "
					"function() while true do end end })\nend\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "instruction budget of 10000000 exceeded (endless loop?)");
	diag_free(&d);
}
END_TEST

START_TEST(test_memory_cap)
{
	const char *p = write_tmp("bomb.lua", "serial = 1\nlocal s = 'x'\nwhile true do s = s .. s end\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 0, "memory limit of 16 MiB exceeded");
	ck_assert_uint_eq(d.count, 1);
	diag_free(&d);

	p = write_tmp("bomb_table.lua", "local t = {}\nfor i = 1, 1e9 do t[i] = { i } end\n");
	d = load_fail(p);
	expect_error(&d, p, 0, "memory limit of 16 MiB exceeded");
	diag_free(&d);

	/* caught by pcall, the cap still ends the run */
	p = write_tmp("bomb_pcall.lua", "local ok = pcall(string.rep, 'x', 1 << 30)\nserial = 1\n"
					"listen = { '127.0.0.1:53' }\n");
	d = load_fail(p);
	expect_error(&d, p, 0, "memory limit of 16 MiB exceeded");
	diag_free(&d);
}
END_TEST

START_TEST(test_computed_values)
{
	struct conf *c = load_ok(DATA "computed.lua");
	ck_assert_uint_eq(c->serial, 6);
	ck_assert_uint_eq(c->listen_count, 3);
	expect_v4(&c->listen[0], "127.0.0.1", 5301);
	expect_v4(&c->listen[2], "127.0.0.3", 5303);
	ck_assert_str_eq(c->listen[1].text, "127.0.0.2:5302");
	ck_assert_uint_eq(c->zone_count, 4);
	ck_assert_str_eq(c->zones[0].name, "a.example");
	ck_assert_str_eq(c->zones[2].name, "c.example");
	ck_assert_str_eq(c->zones[3].name, "d.example");
	ck_assert_uint_eq(c->zones[0].line, 12); /* the loop body that built it */
	ck_assert_uint_eq(c->workers, 2);
	ck_assert_str_eq(c->identity, "ns1");
	ck_assert_uint_eq(c->udp_payload, 1240); /* the last assignment counts */
	conf_free(c);

	const char *p = DATA "computed_bad.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 6, "zones[1].file: cannot read \"" DATA "z1.zone\": No such file or directory");
	expect_error(&d, p, 6, "zones[2].file: cannot read \"" DATA "z2.zone\": No such file or directory");
	diag_free(&d);
}
END_TEST

START_TEST(test_assignment_lines)
{
	/* Lua records a multi-line assignment at its last line; we report where it starts */
	const char *p = write_tmp("multiline.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\n\nzones = {\n"
						   "\tname = 'example.com',\n}\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 4,
		     "zones: expected a list of { name = ..., file = ... } tables, found key 'name'");
	diag_free(&d);

	/* the line of the last assignment, whose value is the one checked */
	p = write_tmp("reassign.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\nserial = 'two'\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "serial: expected an integer, got string");
	diag_free(&d);

	/* globals set with rawset bypass the line recording: still checked, without a line */
	p = write_tmp("rawset.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\nrawset(_ENV, 'bogus', 1)\n");
	d = load_fail(p);
	expect_error(&d, p, 0, "unknown key 'bogus' (helper variables and functions must be local)");
	diag_free(&d);
}
END_TEST

START_TEST(test_sandbox_reuse)
{
	/* the interface later used for policies: define functions, call them under a fresh budget */
	struct conf_sandbox *sb = conf_sandbox_new(&(struct conf_sandbox_limits){1 << 20, 100000});
	ck_assert_ptr_nonnull(sb);
	struct diag d;
	diag_init(&d);
	const char *chunk = "function double(n) return 2 * n end\nfunction spin() while true do end end\n";
	ck_assert(conf_sandbox_run_string(sb, "policy.lua", chunk, strlen(chunk), &d));
	ck_assert_uint_eq(conf_sandbox_global_line(sb, "spin", &(size_t){0}), 2);
	lua_State *L = conf_sandbox_lua(sb);
	for (int round = 0; round < 2; round++) {
		conf_sandbox_push_globals(sb);
		lua_getfield(L, -1, "spin");
		ck_assert(!conf_sandbox_pcall(sb, "policy.lua", 0, 0, &d));
		lua_getfield(L, -1, "double");
		lua_pushinteger(L, 21);
		ck_assert(conf_sandbox_pcall(sb, "policy.lua", 1, 1, &d));
		ck_assert_int_eq(lua_tointeger(L, -1), 42);
		lua_pop(L, 2);
	}
	ck_assert_uint_eq(d.count, 2);
	expect_error(&d, "policy.lua", 2, "instruction budget of 100000 exceeded (endless loop?)");
	diag_free(&d);
	conf_sandbox_free(sb);
}
END_TEST

/* Copies fixture into unit_tmpdir beside an empty geo/demo-city.mmdb; returns the copy's path. */
static const char *stage(const char *fixture)
{
	char path[300], text[8192];
	snprintf(path, sizeof(path), "%s/geo", unit_tmpdir);
	ck_assert(mkdir(path, 0700) == 0 || access(path, F_OK) == 0);
	write_tmp("geo/demo-city.mmdb", "");
	snprintf(path, sizeof(path), DATA "%s", fixture);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	ck_assert(feof(f));
	fclose(f);
	text[n] = '\0';
	return write_tmp(fixture, text);
}

/* Asserts that the config at path fails with exactly count errors. */
#define expect_errors(d, count)                                                                              \
	ck_assert_msg((d)->errors == (count), "%zu errors:%s", (d)->errors, unit_diag_text(d))

static void expect_codes(const char *const *got, size_t n, const char *const *want, size_t want_n)
{
	ck_assert_uint_eq(n, want_n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(got[i], want[i]);
}
#define CODES(...)                                                                                           \
	(const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)

static void expect_net(const struct geo_net *n, const char *text, int family, unsigned prefix)
{
	uint8_t want[16] = {0};
	if (family == AF_INET) {
		want[10] = want[11] = 0xff;
		ck_assert_int_eq(inet_pton(AF_INET, text, want + 12), 1);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, want), 1);
	}
	ck_assert_int_eq(memcmp(n->addr, want, 16), 0);
	ck_assert_uint_eq(n->prefix, prefix);
}

static void expect_member(const struct conf_member *m, const char *name, const char *addr, unsigned dc,
			  unsigned weight)
{
	uint8_t want[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	ck_assert_str_eq(m->name, name);
	ck_assert_int_eq(m->family, family);
	ck_assert_int_eq(inet_pton(family, addr, want), 1);
	ck_assert_int_eq(memcmp(m->addr, want, family == AF_INET ? 4 : 16), 0);
	ck_assert_ptr_null(m->target);
	ck_assert_uint_eq(m->dc, dc);
	ck_assert_uint_eq(m->weight, weight);
}

static void expect_wire(const uint8_t *got, size_t len, const char *want, size_t want_len)
{
	ck_assert_uint_eq(len, want_len);
	ck_assert_int_eq(memcmp(got, want, len), 0);
}
#define WIRE(s) s, sizeof(s) /* a string literal's bytes with its NUL: the root label */

static void expect_order(const struct conf_order *o, unsigned region, const unsigned *dcs, size_t n)
{
	ck_assert_uint_eq(o->region, region);
	ck_assert_uint_eq(o->dc_count, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(o->dcs[i], dcs[i]);
}
#define DCS(...) (const unsigned[]){__VA_ARGS__}, sizeof((const unsigned[]){__VA_ARGS__}) / sizeof(unsigned)

START_TEST(test_geo_example)
{
	struct conf *c = load_ok(stage("geo_full.lua"));
	char db[300];
	snprintf(db, sizeof(db), "%s/geo/demo-city.mmdb", unit_tmpdir);
	ck_assert_uint_eq(c->geo.database_count, 1);
	ck_assert_str_eq(c->geo.databases[0], db);
	ck_assert(c->ecs);

	/* regions in the order written, not by name */
	const struct geo_region_spec *r = c->geo.regions;
	ck_assert_uint_eq(c->geo.region_count, 5);
	ck_assert_str_eq(r[0].name, "europe");
	ck_assert_str_eq(r[1].name, "americas");
	ck_assert_str_eq(r[2].name, "asia");
	ck_assert_str_eq(r[3].name, "us_west");
	ck_assert_str_eq(r[4].name, "office");
	ck_assert_uint_eq(c->geo.default_region, 1);
	expect_codes(r[0].continents, r[0].continent_count, CODES("EU", "AF"));
	expect_codes(r[2].continents, r[2].continent_count, CODES("AS", "OC"));
	expect_codes(r[3].subdivisions, r[3].subdivision_count, CODES("US-CA", "US-OR", "US-WA"));
	ck_assert_uint_eq(r[3].continent_count + r[3].country_count + r[3].net_count, 0);
	ck_assert_uint_eq(r[4].net_count, 2);
	expect_net(&r[4].nets[0], "203.0.113.0", AF_INET, 96 + 24);
	expect_net(&r[4].nets[1], "2001:db8:42::", AF_INET6, 48);
	for (size_t i = 0; i < 5; i++)
		ck_assert(!r[i].has_location);

	ck_assert_uint_eq(c->datacenter_count, 3);
	ck_assert_str_eq(c->datacenters[0].name, "ams");
	ck_assert_str_eq(c->datacenters[2].name, "sin");
	ck_assert(c->datacenters[1].has_location);
	ck_assert_double_eq_tol(c->datacenters[1].lat, 38.95, 1e-9);
	ck_assert_double_eq_tol(c->datacenters[1].lon, -77.45, 1e-9);
	ck_assert_double_eq_tol(c->datacenters[2].lon, 103.99, 1e-9);
	ck_assert_uint_eq(c->datacenters[2].line, 14);

	ck_assert_uint_eq(c->pool_count, 1);
	const struct conf_pool *p = &c->pools[0];
	ck_assert_str_eq(p->name, "web");
	ck_assert_uint_eq(p->line, 16);
	ck_assert_uint_eq(p->member_count, 3);
	expect_member(&p->members[0], "ams-1", "192.0.2.10", 0, 1);
	expect_member(&p->members[1], "iad-1", "198.51.100.10", 1, 2);
	expect_member(&p->members[2], "sin-1", "203.0.113.10", 2, 1);
	ck_assert_uint_eq(p->members[1].line, 18);

	ck_assert_uint_eq(c->record_count, 3);
	const struct conf_record *rec = c->records;
	ck_assert_str_eq(rec[0].name, "www.example.com");
	expect_wire(rec[0].owner, rec[0].owner_len, WIRE("\3www\7example\3com"));
	ck_assert_uint_eq(rec[0].type, WIRE_TYPE_A);
	ck_assert_uint_eq(rec[0].pool, 0);
	ck_assert_uint_eq(rec[0].ttl, 30);
	ck_assert_int_eq(rec[0].policy, CONF_POLICY_FAILOVER);
	ck_assert_uint_eq(rec[0].answers, 0);
	ck_assert_uint_eq(rec[0].line, 23);
	ck_assert_uint_eq(rec[0].order_count, 3);
	expect_order(&rec[0].order[0], 0, DCS(0, 1)); /* europe: ams, iad */
	expect_order(&rec[0].order[1], 1, DCS(1, 0)); /* americas: iad, ams */
	expect_order(&rec[0].order[2], 2, DCS(2, 0)); /* asia: sin, ams */
	ck_assert_int_eq(rec[1].policy, CONF_POLICY_NEAREST);
	ck_assert_uint_eq(rec[1].answers, 2);
	ck_assert_uint_eq(rec[1].order_count, 0);
	ck_assert_int_eq(rec[2].policy, CONF_POLICY_WEIGHTED);
	ck_assert_uint_eq(rec[2].ttl, 60);
	ck_assert_uint_eq(rec[2].line, 26);
	conf_free(c);
}
END_TEST

START_TEST(test_geo_shapes)
{
	struct conf *c = load_ok(stage("geo_more.lua"));
	ck_assert(!c->ecs);
	ck_assert_uint_eq(c->geo.database_count, 0);

	/* written ones in order (comments skipped, ["keys"] read), then computed ones by name */
	const struct geo_region_spec *r = c->geo.regions;
	ck_assert_uint_eq(c->geo.region_count, 5);
	ck_assert_str_eq(r[0].name, "north");
	ck_assert_str_eq(r[1].name, "eu-west");
	ck_assert_str_eq(r[2].name, "south");
	ck_assert_str_eq(r[3].name, "a_late");
	ck_assert_str_eq(r[4].name, "b_late");
	ck_assert_uint_eq(c->geo.default_region, 2);
	expect_codes(r[0].countries, r[0].country_count, CODES("NO", "SE"));
	ck_assert(r[0].has_location);
	ck_assert_double_eq_tol(r[0].lat, 60, 1e-9);
	ck_assert_double_eq_tol(r[0].lon, 15.5, 1e-9);
	expect_codes(r[1].subdivisions, r[1].subdivision_count, CODES("GB-ENG", "FR-75"));
	expect_codes(r[2].continents, r[2].continent_count, CODES("AF"));
	ck_assert_uint_eq(r[2].net_count, 3);
	expect_net(&r[2].nets[0], "192.0.2.0", AF_INET, 96 + 25);
	expect_net(&r[2].nets[1], "2001:db8::", AF_INET6, 32);
	expect_net(&r[2].nets[2], "198.51.100.7", AF_INET, 128);
	ck_assert(!r[2].has_location);
	expect_codes(r[4].countries, r[4].country_count, CODES("BR"));

	ck_assert_uint_eq(c->datacenter_count, 2);
	ck_assert_str_eq(c->datacenters[0].name, "sin");
	ck_assert(!c->datacenters[0].has_location);
	ck_assert_str_eq(c->datacenters[1].name, "ams");

	ck_assert_uint_eq(c->pool_count, 2);
	const struct conf_pool *dual = &c->pools[0], *cdn = &c->pools[1];
	ck_assert_str_eq(dual->name, "dual");
	expect_member(&dual->members[0], "v6", "2001:db8::53", 1, 65535);
	expect_member(&dual->members[1], "v4", "192.0.2.53", 0, 1);
	ck_assert_str_eq(cdn->name, "cdn");
	ck_assert_uint_eq(cdn->member_count, 1);
	ck_assert_int_eq(cdn->members[0].family, 0);
	expect_wire(cdn->members[0].target, cdn->members[0].target_len, WIRE("\4edge\3cdn\7example\3net"));
	ck_assert_uint_eq(cdn->members[0].dc, 0);

	const struct conf_record *rec = c->records;
	ck_assert_uint_eq(c->record_count, 3);
	ck_assert_uint_eq(rec[0].type, WIRE_TYPE_AAAA);
	ck_assert_int_eq(rec[0].policy, CONF_POLICY_ALL);
	ck_assert_uint_eq(rec[0].ttl, 0);
	ck_assert_str_eq(rec[1].name, "Dual.Example.COM.");
	expect_wire(rec[1].owner, rec[1].owner_len, WIRE("\4dual\7example\3com"));
	ck_assert_uint_eq(rec[1].type, WIRE_TYPE_A);
	ck_assert_uint_eq(rec[1].ttl, 2147483647);
	ck_assert_uint_eq(rec[1].line, 7);
	ck_assert_uint_eq(rec[1].order_count, 2); /* by region index */
	expect_order(&rec[1].order[0], 0, DCS(1, 0));
	expect_order(&rec[1].order[1], 2, DCS(0));
	ck_assert_uint_eq(rec[2].type, WIRE_TYPE_CNAME);
	ck_assert_uint_eq(rec[2].pool, 1);
	ck_assert_uint_eq(rec[2].answers, 1);
	conf_free(c);
}
END_TEST

START_TEST(test_geo_defaults)
{
	struct conf *c = load_ok(DATA "minimal.lua");
	ck_assert(c->ecs);
	ck_assert_uint_eq(c->geo.database_count, 0);
	ck_assert_uint_eq(c->geo.region_count, 0);
	ck_assert_uint_eq(c->geo.default_region, 0);
	ck_assert_uint_eq(c->datacenter_count, 0);
	ck_assert_uint_eq(c->pool_count, 0);
	ck_assert_uint_eq(c->record_count, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_geo_bad_regions)
{
	const char *p = stage("geo_bad_regions.lua");
	char msg[512];
	struct diag d = load_fail(p);
	snprintf(msg, sizeof(msg), "geoip[2]: cannot read \"%s/geo/missing.mmdb\": No such file or directory",
		 unit_tmpdir);
	expect_error(&d, p, 4, msg);
	snprintf(msg, sizeof(msg), "geoip[3]: cannot read \"%s/geo\": not a regular file", unit_tmpdir);
	expect_error(&d, p, 4, msg);
	expect_error(
	    &d, p, 6,
	    "regions.europe.continents[2]: expected a continent code (AF, AN, AS, EU, NA, OC or SA), got "
	    "\"Europe\"");
	expect_error(
	    &d, p, 7,
	    "regions.emea.continents[2]: \"EU\" is also in region 'europe' (a client must belong to one "
	    "region)");
	expect_error(
	    &d, p, 7,
	    "regions.emea.countries[1]: expected a country code of two uppercase letters (ISO 3166-1 "
	    "alpha-2), got \"de\"");
	const char *sub =
	    "expected a subdivision code \"CC-XXX\" (ISO 3166-2: country code, '-', 1..3 uppercase "
	    "letters or digits)";
	snprintf(msg, sizeof(msg), "regions.us.subdivisions[2]: %s, got \"US_OR\"", sub);
	expect_error(&d, p, 8, msg);
	snprintf(msg, sizeof(msg), "regions.us.subdivisions[3]: %s, got \"US-CAL1\"", sub);
	expect_error(&d, p, 8, msg);
	expect_error(
	    &d, p, 9,
	    "regions.office.nets[1]: \"203.0.113.1/24\" has bits set beyond the /24 prefix (did you mean "
	    "\"203.0.113.0/24\"?)");
	expect_error(
	    &d, p, 9,
	    "regions.office.nets[3]: expected a network like \"203.0.113.0/24\" or \"2001:db8::/32\", got "
	    "\"bogus\"");
	expect_error(
	    &d, p, 9,
	    "regions.office.nets[4]: expected a network like \"203.0.113.0/24\" or \"2001:db8::/32\", got "
	    "\"10.0.0.0/33\"");
	expect_error(
	    &d, p, 10,
	    "regions.lab.nets[1]: \"2001:db8:42:0::/48\" is also in region 'office' (a client must belong "
	    "to one region)");
	expect_error(
	    &d, p, 10,
	    "regions.lab.nets[2]: expected a network like \"203.0.113.0/24\" or \"2001:db8::/32\", got "
	    "\"10.1.0.0/016\"");
	expect_error(&d, p, 11,
		     "regions: expected a region name of 1..63 letters, digits, '_' or '-', got 'bad name'");
	expect_error(
	    &d, p, 12,
	    "regions.empty: expected at least one rule (continents, countries, subdivisions or nets)");
	expect_error(&d, p, 13, "regions.located.lat: expected a number in -90..90, got 91");
	expect_error(&d, p, 14, "regions.half: expected both lat and lon, or neither (lat is missing)");
	expect_error(&d, p, 15, "regions.typo: unknown key 'contries' (did you mean 'countries'?)");
	expect_error(&d, p, 16, "regions.twice.countries[2]: \"CA\" is listed twice in region 'twice'");
	expect_error(&d, p, 16, "regions.twice.continents: expected a list of continent codes, got string");
	expect_error(
	    &d, p, 17,
	    "regions.notatable: expected a table { continents = ..., countries = ..., subdivisions = ..., "
	    "nets = ... }, got string");
	expect_error(&d, p, 19, "default_region: no region named 'eruope' (did you mean 'europe'?)");
	expect_errors(&d, 21);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_bad_pools)
{
	const char *p = DATA "geo_bad_pools.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 5, "datacenters.ams: expected both lat and lon, or neither (lon is missing)");
	expect_error(&d, p, 6, "datacenters.iad.lon: expected a number in -180..180, got -181");
	expect_error(&d, p, 7, "datacenters.fra: unknown key 'city'");
	expect_error(&d, p, 8, "datacenters.sin: expected a table { lat = ..., lon = ... }, got string");
	expect_error(&d, p, 12,
		     "pools.web.members[1].addr: expected an IPv4 or IPv6 address, got \"192.0.2.300\"");
	expect_error(&d, p, 13, "pools.web.members[2].name: \"ams-1\" is already the name of members[1]");
	expect_error(&d, p, 13, "pools.web.members[2].weight: expected an integer in 1..65535, got 0");
	expect_error(&d, p, 14, "pools.web.members[3]: expected either addr or target, not both");
	expect_error(&d, p, 15, "pools.web.members[4]: expected either addr or target");
	expect_error(&d, p, 15, "pools.web.members[4].dc: no datacenter named 'amz' (did you mean 'ams'?)");
	expect_error(&d, p, 16, "pools.web.members[5].target: \"bad..example\": empty label");
	expect_error(&d, p, 16, "pools.web.members[5].weight: expected an integer in 1..65535, got 65536");
	expect_error(&d, p, 17, "pools.web.members[6].name: missing (expected a member name)");
	expect_error(&d, p, 18, "pools.web.members[7].check: a tcp check needs port");
	expect_error(
	    &d, p, 19,
	    "pools.web.members[8]: expected a table { name = ..., addr = ... or target = ..., dc = ... }, "
	    "got string");
	expect_error(
	    &d, p, 20,
	    "pools.web.members[9].name: expected a member name of 1..63 letters, digits, '_' or '-', got "
	    "\"n o\"");
	expect_error(&d, p, 20, "pools.web.members[9].dc: missing (expected the name of a datacenter)");
	expect_error(&d, p, 22, "pools.empty.members: expected at least one member");
	expect_error(&d, p, 23, "pools.none.members: expected at least one member");
	expect_error(&d, p, 24, "pools.health: unknown key 'standby'");
	expect_error(&d, p, 25,
		     "pools: expected a pool name of 1..63 letters, digits, '_' or '-', got 'b@d'");
	expect_errors(&d, 21);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_bad_records)
{
	const char *p = DATA "geo_bad_records.lua";
	struct diag d = load_fail(p);
	expect_error(&d, p, 6, "records[1].order.europe[2]: \"ams\" is already in this list");
	expect_error(&d, p, 6, "records[1].order: no region named 'mars'");
	expect_error(&d, p, 6, "records[1].order.asia: expected at least one datacenter");
	expect_error(&d, p, 7,
		     "records[2].name: \"www.example.com\" already has a dynamic A record (records[1])");
	expect_error(&d, p, 8, "records[2].order.asia[2]: no datacenter named 'lax'");
	expect_error(
	    &d, p, 9,
	    "records[3].name: \"WWW.example.com.\": a CNAME cannot share its name with another record "
	    "(records[1] is A)");
	expect_error(&d, p, 10, "records[4].pool: pool 'web' has no IPv6 member for an AAAA record");
	expect_error(
	    &d, p, 11,
	    "records[5].pool: pool 'web' has address members ('a'); a CNAME record needs targets only");
	expect_error(
	    &d, p, 12,
	    "records[6].pool: pool 'cdn' has CNAME target members ('c'), which cannot answer an A record");
	expect_error(&d, p, 13, "records[7].type: expected \"A\", \"AAAA\" or \"CNAME\", got \"MX\"");
	expect_error(&d, p, 13, "records[7].pool: no pool named 'wbe' (did you mean 'web'?)");
	expect_error(&d, p, 13, "records[7].ttl: expected an integer in 0..2147483647, got -1");
	expect_error(
	    &d, p, 13,
	    "records[7].policy: expected \"failover\", \"nearest\", \"weighted\", \"all\" or a policy file "
	    "\"NAME.lua\", got \"random\"");
	expect_error(&d, p, 14, "records[8].ttl: missing (expected a TTL in seconds)");
	expect_error(&d, p, 14, "records[8].answers: expected an integer in 1..65535, got 0");
	expect_error(&d, p, 15,
		     "records[8].order: only for policy \"failover\" (this record's policy is \"nearest\")");
	expect_error(&d, p, 16, "records[9].name: \"z example.com\": invalid character ' '");
	expect_error(&d, p, 16, "records[9].ttl: expected an integer in 0..2147483647, got 2147483648");
	expect_error(&d, p, 16,
		     "records[9].policy: missing (expected \"failover\", \"nearest\", \"weighted\", \"all\" "
		     "or a policy "
		     "file \"NAME.lua\")");
	expect_error(&d, p, 17, "records[10]: unknown key 'weight'");
	expect_error(&d, p, 17,
		     "records[10].answers: a CNAME answer holds one target (expected 1 or nothing, got 2)");
	expect_error(
	    &d, p, 18,
	    "records[11]: expected a table { name = ..., type = ..., pool = ..., ttl = ..., policy = ... }, "
	    "got number");
	expect_errors(&d, 22);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_references)
{
	/* default_region is required with regions, and must name one */
	const char *p = write_tmp("nodefault.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\n\nregions = {\n"
						   "\tr = { countries = { 'NL' } },\n}\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 4, "default_region: missing (required when regions are defined)");
	expect_errors(&d, 1);
	diag_free(&d);

	/* a rule written wrongly is reported once, not also as a region without rules */
	p = write_tmp("notalist.lua",
		      "serial = 1\nlisten = { '127.0.0.1:53' }\nregions = { r = { continents = 'EU' } }\n"
		      "default_region = 'r'\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "regions.r.continents: expected a list of continent codes, got string");
	expect_errors(&d, 1);
	diag_free(&d);

	p = write_tmp("noregions.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\ndefault_region = 'eu'\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "default_region: no region named 'eu' (no regions are defined)");
	expect_errors(&d, 1);
	diag_free(&d);

	/* nothing defined to refer to, and records built in a loop: the top-level line */
	p = write_tmp("nothing.lua",
		      "serial = 1\nlisten = { '127.0.0.1:53' }\n"
		      "pools = { web = { members = { { name = 'a', addr = '::1', dc = 'ams' } } } }\n"
		      "records = {}\nfor i = 1, 2 do\n\trecords[i] = { name = 'r' .. i .. '.example', type "
		      "= 'A', pool = 'nope', ttl = 1, policy = 'all' }\nend\n");
	d = load_fail(p);
	expect_error(&d, p, 3,
		     "pools.web.members[1].dc: no datacenter named 'ams' (no datacenters are defined)");
	expect_error(&d, p, 4, "records[1].pool: no pool named 'nope'");
	expect_error(&d, p, 4, "records[2].pool: no pool named 'nope'");
	expect_errors(&d, 3);
	diag_free(&d);

	p = write_tmp(
	    "nopools.lua",
	    "serial = 1\nlisten = { '127.0.0.1:53' }\n"
	    "records = { { name = 'a.example', type = 'A', pool = 'web', ttl = 1, policy = 'all' } }\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "records[1].pool: no pool named 'web' (no pools are defined)");
	expect_errors(&d, 1);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_wrong_types)
{
	/* a section that is unusable as a whole is reported once, not again by everything naming into it */
	const char *p =
	    write_tmp("geotypes.lua",
		      "serial = 1\nlisten = { '127.0.0.1:53' }\ngeoip = 'a.mmdb'\nregions = 5\necs = 'yes'\n"
		      "datacenters = { 'ams' }\npools = 'web'\ndefault_region = 1\nrecords = {\n"
		      "\t{ name = 'a.example', type = 'A', pool = 'web', ttl = 1, policy = 'failover',\n"
		      "\t  order = { europe = { 'ams' } } },\n}\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 3, "geoip: expected a list of database file names, got string");
	expect_error(&d, p, 4, "regions: expected a table of regions keyed by name, got number");
	expect_error(&d, p, 5, "ecs: expected true or false, got string");
	expect_error(&d, p, 6, "datacenters: expected a table of datacenters keyed by name, found key 1");
	expect_error(&d, p, 7, "pools: expected a table of pools keyed by name, got string");
	expect_error(&d, p, 8, "default_region: expected a string, got number");
	expect_errors(&d, 6);
	diag_free(&d);

	p = write_tmp("nodb.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\ngeoip = {}\nrecords = 'x'\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "geoip: expected at least one database file");
	expect_error(&d, p, 4, "records: expected a list of record tables, got string");
	expect_errors(&d, 2);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_written_twice)
{
	/* Lua keeps one of two equal keys in a constructor without a word: we say it */
	const char *p =
	    write_tmp("twice.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\nregions = {\n"
				   "\ta = { countries = { 'NL' } },\n\tb = { countries = { 'BE' } },\n"
				   "\ta = { countries = { 'lu' } },\n}\ndefault_region = 'a'\n"
				   "datacenters = { x = {}, [\"x\"] = {} }\n");
	struct diag d = load_fail(p);
	expect_error(&d, p, 6, "regions: 'a' is defined twice (also at line 4)");
	expect_error(&d, p, 9, "datacenters: 'x' is defined twice (also at line 9)");
	/* the value checked is the one Lua kept, the last, and so is the line */
	expect_error(&d, p, 6,
		     "regions.a.countries[1]: expected a country code of two uppercase letters (ISO 3166-1 "
		     "alpha-2), got \"lu\"");
	expect_errors(&d, 3);
	diag_free(&d);

	/* the same net spelt two ways is the same net */
	/* each kind of rule claims its values for one region; the same net spelt two ways is one net;
	 * the same code in two kinds (country US, subdivision US-US is no clash) is fine */
	p = write_tmp(
	    "samenet.lua",
	    "serial = 1\nlisten = { '127.0.0.1:53' }\nregions = {\n"
	    "\ta = { nets = { '192.0.2.0/24' }, countries = { 'US' }, subdivisions = { 'US-CA' } },\n"
	    "\tb = { nets = { '::ffff:192.0.2.0/120' }, continents = { 'NA' } },\n"
	    "\tc = { countries = { 'CA', 'US' }, subdivisions = { 'US-US' } },\n"
	    "\td = { subdivisions = { 'US-CA' }, continents = { 'NA' } },\n"
	    "}\ndefault_region = 'a'\n");
	d = load_fail(p);
	expect_error(
	    &d, p, 5,
	    "regions.b.nets[1]: \"::ffff:192.0.2.0/120\" is also in region 'a' (a client must belong to one "
	    "region)");
	expect_error(
	    &d, p, 6,
	    "regions.c.countries[2]: \"US\" is also in region 'a' (a client must belong to one region)");
	expect_error(
	    &d, p, 7,
	    "regions.d.subdivisions[1]: \"US-CA\" is also in region 'a' (a client must belong to one "
	    "region)");
	expect_error(
	    &d, p, 7,
	    "regions.d.continents[1]: \"NA\" is also in region 'b' (a client must belong to one region)");
	expect_errors(&d, 4);
	diag_free(&d);

	/* a region listed twice in a failover order */
	p = write_tmp(
	    "twiceorder.lua",
	    "serial = 1\nlisten = { '127.0.0.1:53' }\nregions = { a = { countries = { 'NL' } } }\n"
	    "default_region = 'a'\ndatacenters = { x = {} }\n"
	    "pools = { p = { members = { { name = 'm', addr = '192.0.2.1', dc = 'x' } } } }\n"
	    "records = {\n\t{ name = 'a.example', type = 'A', pool = 'p', ttl = 1, policy = 'failover',\n"
	    "\t  order = { a = { 'x' },\n\t\t  a = { 'x' } } },\n}\n");
	d = load_fail(p);
	expect_error(&d, p, 10, "records[1].order: 'a' is defined twice (also at line 9)");
	expect_errors(&d, 1);
	diag_free(&d);
}
END_TEST

START_TEST(test_geo_unreadable_db)
{
	if (geteuid() == 0)
		return; /* root reads anything: the missing and folder cases cover the error path */
	write_tmp("secret.mmdb", "");
	char path[300], msg[512];
	snprintf(path, sizeof(path), "%s/secret.mmdb", unit_tmpdir);
	ck_assert_int_eq(chmod(path, 0), 0);
	const char *p =
	    write_tmp("secretdb.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\ngeoip = { 'secret.mmdb' }\n");
	struct diag d = load_fail(p);
	snprintf(msg, sizeof(msg), "geoip[1]: cannot read \"%s\": Permission denied", path);
	expect_error(&d, p, 3, msg);
	diag_free(&d);
}
END_TEST

/* Writes a config of the common head (3 lines: serial, listen, datacenters ams and iad) and body. */
static const char *health_cfg(const char *name, const char *body)
{
	static char text[8192];
	snprintf(text, sizeof(text),
		 "serial = 1\nlisten = { '127.0.0.1:53' }\ndatacenters = { ams = {}, iad = {} }\n%s", body);
	return write_tmp(name, text);
}

/* A pool's members: one address in ams. */
#define ONE_MEMBER "members = { { name = 'm', addr = '192.0.2.1', dc = 'ams' } }"

static void expect_timing(const struct conf_check *k, double interval, double timeout, unsigned rise,
			  unsigned fall, unsigned flap_limit, double flap_window, double hold)
{
	ck_assert_double_eq_tol(k->interval, interval, 1e-12);
	ck_assert_double_eq_tol(k->timeout, timeout, 1e-12);
	ck_assert_uint_eq(k->rise, rise);
	ck_assert_uint_eq(k->fall, fall);
	ck_assert_uint_eq(k->flap_limit, flap_limit);
	ck_assert_double_eq_tol(k->flap_window, flap_window, 1e-12);
	ck_assert_double_eq_tol(k->hold, hold, 1e-12);
}

START_TEST(test_health_defaults)
{
	/* no health keys at all: state in "run" beside the config, nothing monitored, fail open */
	struct conf *c = load_ok(stage("geo_full.lua"));
	char want[300];
	snprintf(want, sizeof(want), "%s/run", unit_tmpdir);
	ck_assert_str_eq(c->state_dir, want);
	snprintf(want, sizeof(want), "%s/run/meridian.sock", unit_tmpdir);
	ck_assert_str_eq(c->control, want);
	ck_assert_ptr_null(c->pools[0].check);
	for (size_t i = 0; i < c->pools[0].member_count; i++) {
		ck_assert_ptr_null(c->pools[0].members[i].check);
		ck_assert(!c->pools[0].members[i].standby);
	}
	ck_assert_uint_eq(c->records[0].ttl_degraded, 7);  /* ttl 30 */
	ck_assert_uint_eq(c->records[2].ttl_degraded, 15); /* ttl 60 */
	for (size_t i = 0; i < c->record_count; i++)
		ck_assert_int_eq(c->records[i].when_all_down, CONF_ALL_DOWN_SERVE_ALL);
	conf_free(c);

	c = load_ok(DATA "minimal.lua");
	ck_assert_str_eq(c->state_dir, DATA "run");
	ck_assert_str_eq(c->control, DATA "run/meridian.sock");
	conf_free(c);

	/* a check of each type with only its type: every default */
	/* clang-format off */
	const char *p = health_cfg("checkdefaults.lua",
		"pools = {\n"
		"\th = { check = { type = 'http' }, " ONE_MEMBER " },\n"                     /* 5 */
		"\ts = { check = { type = 'https' }, " ONE_MEMBER " },\n"
		"\td = { check = { type = 'dns' }, " ONE_MEMBER " },\n"
		"\tt = { check = { type = 'tcp', port = 22 }, " ONE_MEMBER " },\n"
		"\te = { check = { type = 'exec', command = 'true' }, " ONE_MEMBER " },\n"
		"}\n");
	/* clang-format on */
	c = load_ok(p);
	const struct conf_check *k = c->pools[0].check;
	ck_assert_int_eq(k->type, CONF_CHECK_HTTP);
	ck_assert_uint_eq(k->port, 80);
	ck_assert_str_eq(k->path, "/");
	ck_assert_ptr_null(k->host);
	ck_assert_uint_eq(k->expect_count, 1);
	ck_assert_uint_eq(k->expect[0], 200);
	ck_assert_ptr_null(k->body);
	ck_assert_ptr_null(k->qname);
	ck_assert_ptr_null(k->command);
	ck_assert_uint_eq(k->line, 5);
	expect_timing(k, 5, 2, 2, 3, 4, 60, 120);
	ck_assert_ptr_eq(c->pools[0].members[0].check, k); /* inherited unchanged */
	k = c->pools[1].check;
	ck_assert_int_eq(k->type, CONF_CHECK_HTTPS);
	ck_assert_uint_eq(k->port, 443);
	ck_assert(k->verify);
	k = c->pools[2].check;
	ck_assert_int_eq(k->type, CONF_CHECK_DNS);
	ck_assert_uint_eq(k->port, 53);
	ck_assert_str_eq(k->qname, ".");
	ck_assert_uint_eq(k->qtype, 6); /* SOA */
	ck_assert_uint_eq(k->rcode, 0);
	ck_assert_ptr_null(k->answer);
	ck_assert_ptr_null(k->path);
	ck_assert_uint_eq(k->expect_count, 0);
	ck_assert_int_eq(c->pools[3].check->type, CONF_CHECK_TCP);
	ck_assert_uint_eq(c->pools[3].check->port, 22);
	ck_assert_int_eq(c->pools[4].check->type, CONF_CHECK_EXEC);
	ck_assert_uint_eq(c->pools[4].check->port, 0);
	ck_assert_str_eq(c->pools[4].check->command, "true");
	conf_free(c);

	/* the timeout follows a short interval given alone: half of it (2 s when the interval is longer) */
	/* clang-format off */
	p = health_cfg("checktimeout.lua",
		"pools = {\n"
		"\ta = { check = { type = 'http', interval = 0.1 }, " ONE_MEMBER " },\n"
		"\tb = { check = { type = 'http', interval = 2 }, " ONE_MEMBER " },\n"
		"\tc = { check = { type = 'http', interval = 2.5 }, " ONE_MEMBER " },\n"
		"\td = { check = { type = 'http', timeout = 4 }, " ONE_MEMBER " },\n"
		"}\n");
	/* clang-format on */
	c = load_ok(p);
	ck_assert_double_eq_tol(c->pools[0].check->timeout, 0.05, 1e-12);
	ck_assert_double_eq_tol(c->pools[1].check->timeout, 1, 1e-12);
	ck_assert_double_eq_tol(c->pools[2].check->timeout, 2, 1e-12);
	ck_assert_double_eq_tol(c->pools[3].check->interval, 5, 1e-12);
	ck_assert_double_eq_tol(c->pools[3].check->timeout, 4, 1e-12);
	conf_free(c);
}
END_TEST

START_TEST(test_health_fields)
{
	/* clang-format off */
	const char *p = health_cfg("checkfields.lua",
		"pools = {\n"
		"\th = { check = { type = 'https', port = 8443, path = '/health?full=1',\n"   /* 5 */
		"\t\thost = 'www.Example.com', expect = { 200, 204 }, body = 'OK', verify = false,\n"
		"\t\tinterval = 0.1, timeout = 0.05, rise = 1, fall = 100, flap_limit = 0,\n"
		"\t\tflap_window = 10.5, hold = 0 }, " ONE_MEMBER " },\n"
		"\td = { check = { type = 'dns', port = 5353, qname = 'www.example.com.',\n" /* 9 */
		"\t\tqtype = 'aaaa', rcode = 'nxdomain', answer = '2001:db8::1', flap_limit = 31,\n"
		"\t\thold = 3.5 }, " ONE_MEMBER " },\n"
		"\te = { check = { type = 'exec', command = 'check {addr}:{port}', port = 9,\n"
		"\t\ttimeout = 1 }, " ONE_MEMBER " },\n"
		"}\n");
	/* clang-format on */
	struct conf *c = load_ok(p);
	const struct conf_check *k = c->pools[0].check;
	ck_assert_int_eq(k->type, CONF_CHECK_HTTPS);
	ck_assert_uint_eq(k->port, 8443);
	ck_assert_str_eq(k->path, "/health?full=1");
	ck_assert_str_eq(k->host, "www.Example.com");
	ck_assert_uint_eq(k->expect_count, 2);
	ck_assert_uint_eq(k->expect[0], 200);
	ck_assert_uint_eq(k->expect[1], 204);
	ck_assert_str_eq(k->body, "OK");
	ck_assert(!k->verify);
	expect_timing(k, 0.1, 0.05, 1, 100, 0, 10.5, 0);
	ck_assert_uint_eq(k->line, 5);
	k = c->pools[1].check;
	ck_assert_int_eq(k->type, CONF_CHECK_DNS);
	ck_assert_uint_eq(k->port, 5353);
	ck_assert_str_eq(k->qname, "www.example.com.");
	ck_assert_uint_eq(k->qtype, 28); /* AAAA */
	ck_assert_uint_eq(k->rcode, 3);	 /* NXDOMAIN */
	ck_assert_str_eq(k->answer, "2001:db8::1");
	expect_timing(k, 5, 2, 2, 3, 31, 60, 3.5);
	ck_assert_uint_eq(k->line, 9);
	k = c->pools[2].check;
	ck_assert_str_eq(k->command, "check {addr}:{port}");
	ck_assert_uint_eq(k->port, 9);
	ck_assert_double_eq_tol(k->timeout, 1, 1e-12);
	conf_free(c);
}
END_TEST

START_TEST(test_health_merge)
{
	/* clang-format off */
	const char *p = health_cfg("checkmerge.lua",
		"pools = {\n"
		"\tweb = {\n"
		"\t\tcheck = { type = 'http', path = '/health', host = 'www.example.com',\n" /* 6 */
		"\t\t\tinterval = 1, fall = 5 },\n"
		"\t\tmembers = {\n"
		"\t\t\t{ name = 'a', addr = '192.0.2.1', dc = 'ams' },\n"
		"\t\t\t{ name = 'b', addr = '192.0.2.2', dc = 'ams',\n"
		"\t\t\t  check = { port = 8080, interval = 0.2 } },\n"                      /* 11 */
		"\t\t\t{ name = 'c', addr = '192.0.2.3', dc = 'iad',\n"
		"\t\t\t  check = { type = 'https', expect = { 301 } } },\n"                 /* 13 */
		"\t\t\t{ name = 'd', addr = '192.0.2.4', dc = 'iad', check = false, standby = true },\n"
		"\t\t\t{ name = 'e', target = 'e.example', dc = 'iad', standby = false },\n"
		"\t\t\t{ name = 'f', addr = '192.0.2.6', dc = 'iad', check = {} },\n"        /* 16 */
		"\t\t} },\n"
		"\tplain = { members = {\n"
		"\t\t{ name = 'a', addr = '192.0.2.1', dc = 'ams', check = { type = 'tcp', port = 22 } },\n"
		"\t\t{ name = 'b', addr = '192.0.2.2', dc = 'ams', check = false },\n"
		"\t\t{ name = 'c', addr = '192.0.2.3', dc = 'ams' },\n"
		"\t} },\n"
		"}\n");
	/* clang-format on */
	struct conf *c = load_ok(p);
	const struct conf_pool *web = &c->pools[0];
	const struct conf_check *pool = web->check;
	ck_assert_uint_eq(pool->line, 6);
	ck_assert_ptr_eq(web->members[0].check, pool);
	ck_assert_ptr_eq(web->members[4].check, pool); /* http probes a CNAME target by name */

	const struct conf_check *b = web->members[1].check;
	ck_assert_ptr_ne(b, pool);
	ck_assert_int_eq(b->type, CONF_CHECK_HTTP);
	ck_assert_uint_eq(b->port, 8080);
	ck_assert_str_eq(b->path, "/health");
	ck_assert_str_eq(b->host, "www.example.com");
	/* the timeout defaults from the merged interval, not the pool's */
	expect_timing(b, 0.2, 0.1, 2, 5, 4, 60, 120);
	ck_assert_uint_eq(b->line, 11);

	const struct conf_check *cc = web->members[2].check;
	ck_assert_int_eq(cc->type, CONF_CHECK_HTTPS);
	ck_assert_uint_eq(cc->port, 443); /* https's default: the pool wrote none */
	ck_assert_str_eq(cc->path, "/health");
	ck_assert_uint_eq(cc->expect_count, 1);
	ck_assert_uint_eq(cc->expect[0], 301);
	ck_assert(cc->verify);
	ck_assert_uint_eq(cc->line, 13);

	ck_assert_ptr_null(web->members[3].check);
	ck_assert(web->members[3].standby);
	ck_assert(!web->members[4].standby);
	ck_assert(!web->members[0].standby);
	/* an empty override is the pool's check written at the member */
	const struct conf_check *f = web->members[5].check;
	ck_assert_int_eq(f->type, CONF_CHECK_HTTP);
	ck_assert_str_eq(f->path, "/health");
	ck_assert_uint_eq(f->line, 16);

	const struct conf_pool *plain = &c->pools[1];
	ck_assert_ptr_null(plain->check);
	ck_assert_int_eq(plain->members[0].check->type, CONF_CHECK_TCP);
	ck_assert_uint_eq(plain->members[0].check->port, 22);
	ck_assert_uint_eq(plain->members[0].check->line, 19);
	ck_assert_ptr_null(plain->members[1].check);
	ck_assert_ptr_null(plain->members[2].check);
	conf_free(c);

	/* a tcp check's port may come from each member alone: the pool's check is then only defaults */
	/* clang-format off */
	p = health_cfg("checkports.lua",
		       "pools = { p = { check = { type = 'tcp', fall = 1 }, members = {\n"
		       "\t{ name = 'a', addr = '192.0.2.1', dc = 'ams', check = { port = 22 } },\n"
		       "\t{ name = 'b', addr = '192.0.2.2', dc = 'ams', check = { port = 2222 } },\n"
		       "\t{ name = 'c', addr = '192.0.2.3', dc = 'ams', check = false },\n"
		       "} } }\n");
	/* clang-format on */
	c = load_ok(p);
	ck_assert_uint_eq(c->pools[0].check->port, 0);
	ck_assert_uint_eq(c->pools[0].members[0].check->port, 22);
	ck_assert_uint_eq(c->pools[0].members[0].check->fall, 1);
	ck_assert_uint_eq(c->pools[0].members[1].check->port, 2222);
	ck_assert_ptr_null(c->pools[0].members[2].check);
	conf_free(c);
}
END_TEST

START_TEST(test_health_bad_checks)
{
	/* clang-format off */
	const char *p = health_cfg("badchecks.lua",
		"pools = {\n"
		"\ta = { check = { port = 80 }, " ONE_MEMBER " },\n"                           /* 5 */
		"\tb = { check = { type = 'ftp' }, " ONE_MEMBER " },\n"
		"\tc = { check = { type = 'tcp' }, members = {\n"                              /* 7 */
		"\t\t{ name = 'm', addr = '192.0.2.1', dc = 'ams' },\n"
		"\t\t{ name = 'n', addr = '192.0.2.2', dc = 'ams' } } },\n"
		"\td = { check = { type = 'exec' }, " ONE_MEMBER " },\n"                       /* 10 */
		"\te = { check = { type = 'http',\n"
		"\t\tport = 0,\n"                                                             /* 12 */
		"\t\tpath = 'health',\n"
		"\t\thost = 'bad host',\n"
		"\t\texpect = {},\n"                                                          /* 15 */
		"\t\tbody = '',\n"
		"\t\tverify = false,\n"
		"\t\tqname = 'x',\n"
		"\t\tinterval = 0,\n"
		"\t\ttimeout = -1,\n"                                                         /* 20 */
		"\t\trise = 0,\n"
		"\t\tfall = 101,\n"
		"\t\tflap_limit = 32,\n"
		"\t\tflap_window = 0,\n"
		"\t\thold = -1,\n"                                                            /* 25 */
		"\t\tcommand = 'true' },\n"
		"\t\t" ONE_MEMBER " },\n"
		"\tf = { check = { type = 'dns', qname = 'a..b', qtype = 'BOGUS', rcode = 'OK',\n"
		"\t\tanswer = 5, expect = { 200 }, verify = 'yes' }, " ONE_MEMBER " },\n"    /* 29 */
		"\tg = { check = { type = 'https', expect = { 200, 99, 200, '204' }, timeout = 5 },\n"
		"\t\t" ONE_MEMBER " },\n"
		"\th = { check = { type = 'http', interval = 1, timeout = 1, unknown = 1 },\n" /* 32 */
		"\t\t" ONE_MEMBER " },\n"
		"\ti = { check = 'tcp', members = { { name = 'm', addr = '192.0.2.1', dc = 'ams',\n"
		"\t\tcheck = { port = 1 } } } },\n"                                          /* 35 */
		"\tj = { check = { type = 'http', expect = { 100, 101, 102, 103, 104, 105, 106, 107,\n"
		"\t\t108, 109, 110, 111, 112, 113, 114, 115, 116 }, interval = 3601, path = '/a b' },\n"
		"\t\t" ONE_MEMBER " },\n"
		"\tk = { check = { type = 'dns', qtype = 'AXFR', interval = 'fast' }, " ONE_MEMBER " },\n"
		"\tl = { check = { type = 'exec', command = 'true', path = '/' }, " ONE_MEMBER " },\n"
		"}\n");
	/* clang-format on */
	struct diag d = load_fail(p);
	expect_error(
	    &d, p, 5,
	    "pools.a.check.type: missing (expected \"tcp\", \"http\", \"https\", \"dns\" or \"exec\")");
	expect_error(
	    &d, p, 6,
	    "pools.b.check.type: expected \"tcp\", \"http\", \"https\", \"dns\" or \"exec\", got \"ftp\"");
	expect_error(&d, p, 7, "pools.c.check: a tcp check needs port"); /* once, not per member */
	expect_error(&d, p, 10, "pools.d.check: an exec check needs command");
	expect_error(&d, p, 12, "pools.e.check.port: expected an integer in 1..65535, got 0");
	expect_error(&d, p, 13, "pools.e.check.path: expected a path starting with \"/\", got \"health\"");
	expect_error(
	    &d, p, 14,
	    "pools.e.check.host: expected a host name (letters, digits, '-' and dots), got \"bad host\"");
	expect_error(&d, p, 15, "pools.e.check.expect: expected at least one status code");
	expect_error(&d, p, 16, "pools.e.check.body: expected a non-empty string");
	expect_error(&d, p, 17, "pools.e.check.verify: not used by an http check");
	expect_error(&d, p, 18, "pools.e.check.qname: not used by an http check");
	expect_error(&d, p, 19,
		     "pools.e.check.interval: expected a number of seconds > 0 and at most 3600, got 0");
	expect_error(&d, p, 20,
		     "pools.e.check.timeout: expected a number of seconds > 0 and at most 3600, got -1");
	expect_error(&d, p, 21, "pools.e.check.rise: expected an integer in 1..100, got 0");
	expect_error(&d, p, 22, "pools.e.check.fall: expected an integer in 1..100, got 101");
	expect_error(&d, p, 23, "pools.e.check.flap_limit: expected an integer in 0..31, got 32");
	expect_error(&d, p, 24,
		     "pools.e.check.flap_window: expected a number of seconds > 0 and at most 86400, got 0");
	expect_error(&d, p, 25,
		     "pools.e.check.hold: expected a number of seconds >= 0 and at most 86400, got -1");
	expect_error(&d, p, 26, "pools.e.check.command: not used by an http check");
	expect_error(&d, p, 28, "pools.f.check.qname: \"a..b\": empty label");
	expect_error(
	    &d, p, 28,
	    "pools.f.check.qtype: expected a query type such as \"A\", \"AAAA\" or \"SOA\", got \"BOGUS\"");
	expect_error(&d, p, 28,
		     "pools.f.check.rcode: expected \"NOERROR\", \"NXDOMAIN\", \"SERVFAIL\", \"REFUSED\", "
		     "\"NOTIMP\" or \"FORMERR\", got \"OK\"");
	expect_error(&d, p, 29, "pools.f.check.answer: expected a string, got number");
	expect_error(&d, p, 29, "pools.f.check.expect: not used by a dns check");
	expect_error(&d, p, 29, "pools.f.check.verify: expected true or false, got string");
	expect_error(&d, p, 29, "pools.f.check.verify: not used by a dns check");
	expect_error(&d, p, 30, "pools.g.check.expect[2]: expected an integer in 100..599, got 99");
	expect_error(&d, p, 30, "pools.g.check.expect[3]: 200 is already in this list");
	expect_error(&d, p, 30, "pools.g.check.expect[4]: expected an integer, got string");
	expect_error(&d, p, 30, "pools.g.check.timeout: expected less than interval (5, the default), got 5");
	expect_error(&d, p, 32, "pools.h.check: unknown key 'unknown'");
	expect_error(&d, p, 32, "pools.h.check.timeout: expected less than interval (1), got 1");
	expect_error(&d, p, 34, "pools.i.check: expected a table { type = ..., ... }, got string");
	expect_error(&d, p, 36, "pools.j.check.expect: expected at most 16 status codes, got 17");
	expect_error(&d, p, 37,
		     "pools.j.check.interval: expected a number of seconds > 0 and at most 3600, got 3601");
	expect_error(&d, p, 37,
		     "pools.j.check.path: \"/a b\": spaces and control characters must be percent-encoded");
	expect_error(
	    &d, p, 39,
	    "pools.k.check.qtype: expected a query type such as \"A\", \"AAAA\" or \"SOA\", got \"AXFR\"");
	expect_error(&d, p, 39, "pools.k.check.interval: expected a number of seconds, got string");
	expect_error(&d, p, 40, "pools.l.check.path: not used by an exec check");
	expect_errors(&d, 39);
	diag_free(&d);
}
END_TEST

START_TEST(test_health_bad_members)
{
	/* clang-format off */
	const char *p = health_cfg("badmembers.lua",
		"pools = {\n"
		"\ti = { members = {\n"                                                        /* 5 */
		"\t\t{ name = 'a', addr = '::1', dc = 'ams', check = { port = 80 } },\n"
		"\t\t{ name = 'b', addr = '::2', dc = 'ams', check = true },\n"
		"\t\t{ name = 'c', addr = '::3', dc = 'ams', standby = 'yes' },\n"
		"\t\t{ name = 'd', target = 'x.example', dc = 'ams', check = { type = 'dns' } },\n"
		"\t\t{ name = 'e', addr = '::4', dc = 'ams', check = { type = 'tcp', port = 0 } },\n" /* 10 */
		"\t} },\n"
		"\tj = { check = { type = 'http', path = '/h', interval = 10, timeout = 4 }, members = {\n"
		"\t\t{ name = 'a', addr = '::1', dc = 'ams', check = { type = 'tcp' } },\n"   /* 13 */
		"\t\t{ name = 'b', addr = '::2', dc = 'ams', check = { body = 'x', command = 'true',\n"
		"\t\t\tinterval = 3 } },\n"                                                   /* 15 */
		"\t\t{ name = 'c', target = 'y.example', dc = 'ams' },\n"
		"\t\t{ name = 'd', addr = '::4', dc = 'ams', check = { timeout = 11 } },\n"
		"\t} },\n"
		"\tk = { check = { type = 'tcp', port = 80 }, members = {\n"
		"\t\t{ name = 'a', target = 'z.example', dc = 'ams' },\n"                     /* 20 */
		"\t\t{ name = 'b', addr = '::1', dc = 'ams', check = { type = 'exec', command = 'ping' } },\n"
		"\t\t{ name = 'c', addr = '::2', dc = 'ams', check = { type = 'exec' } },\n"
		"\t} },\n"
		"\tl = { check = { type = 'exec', command = 'check {addr}:{port}' }, members = {\n"
		"\t\t{ name = 'a', addr = '::1', dc = 'ams', check = { port = 8080 } },\n"    /* 25 */
		"\t\t{ name = 'b', addr = '::2', dc = 'ams' },\n"
		"\t\t{ name = 'c', addr = '::3', dc = 'ams' },\n"
		"\t} },\n"
		"\tm = { check = { type = 'tcp', body = 'x' }, members = {\n"
		"\t\t{ name = 'a', addr = '::1', dc = 'ams', check = { port = 1, fall = 0 } },\n" /* 30 */
		"\t} },\n"
		"}\n");
	/* clang-format on */
	struct diag d = load_fail(p);
	expect_error(
	    &d, p, 6,
	    "pools.i.members[1].check.type: missing (a member's check needs a type when its pool has no "
	    "check)");
	expect_error(
	    &d, p, 7,
	    "pools.i.members[2].check: expected a table of check fields, or false (not monitored), got "
	    "boolean");
	expect_error(&d, p, 8, "pools.i.members[3].standby: expected true or false, got string");
	expect_error(
	    &d, p, 9,
	    "pools.i.members[4]: a dns check needs an address, and this member is a CNAME target (use "
	    "http, https or exec)");
	expect_error(&d, p, 10, "pools.i.members[5].check.port: expected an integer in 1..65535, got 0");
	/* a problem between the pool's fields and the member's is the member's */
	expect_error(
	    &d, p, 13,
	    "pools.j.members[1].check.type: a tcp check does not use path (set by the pool's check at line "
	    "12)");
	expect_error(&d, p, 14, "pools.j.members[2].check.command: not used by an http check");
	expect_error(
	    &d, p, 15,
	    "pools.j.members[2].check.interval: expected more than timeout (4, set by the pool's check at "
	    "line 12), got 3");
	expect_error(&d, p, 17, "pools.j.members[4].check.timeout: expected less than interval (10), got 11");
	expect_error(
	    &d, p, 20,
	    "pools.k.members[1]: a tcp check needs an address, and this member is a CNAME target (use "
	    "http, https or exec)");
	expect_error(&d, p, 22, "pools.k.members[3].check: an exec check needs command");
	expect_error(&d, p, 24, "pools.l.check.command: says {port}, but the check has no port");
	/* the pool's own problem once; the member's own field still judged */
	expect_error(&d, p, 29, "pools.m.check.body: not used by a tcp check");
	expect_error(&d, p, 30, "pools.m.members[1].check.fall: expected an integer in 1..100, got 0");
	expect_errors(&d, 14);
	diag_free(&d);
}
END_TEST

START_TEST(test_health_state_dir)
{
	char want[300], msg[512];
	const char *p =
	    write_tmp("statedir.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\nstate_dir = 'state'\n");
	struct conf *c = load_ok(p);
	snprintf(want, sizeof(want), "%s/state", unit_tmpdir);
	ck_assert_str_eq(c->state_dir, want);
	snprintf(want, sizeof(want), "%s/state/meridian.sock", unit_tmpdir);
	ck_assert_str_eq(c->control, want);
	conf_free(c);

	/* control before state_dir in the file: still resolved, and absolute paths stay as they are */
	p = write_tmp(
	    "control.lua",
	    "serial = 1\nlisten = { '127.0.0.1:53' }\ncontrol = 'ctl/m.sock'\nstate_dir = '/var/lib/m'\n");
	c = load_ok(p);
	ck_assert_str_eq(c->state_dir, "/var/lib/m");
	snprintf(want, sizeof(want), "%s/ctl/m.sock", unit_tmpdir);
	ck_assert_str_eq(c->control, want);
	conf_free(c);
	p = write_tmp("controlabs.lua", "serial = 1\nlisten = { '127.0.0.1:53' }\ncontrol = '/run/m.sock'\n");
	c = load_ok(p);
	ck_assert_str_eq(c->control, "/run/m.sock");
	conf_free(c);

	/* sun_path holds 107 bytes and a NUL */
	char dir[128], text[512];
	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	dir[107 - strlen("/meridian.sock")] = '\0'; /* the default control path is exactly 107 bytes */
	snprintf(text, sizeof(text), "serial = 1\nlisten = { '127.0.0.1:53' }\nstate_dir = '%s'\n", dir);
	c = load_ok(write_tmp("longok.lua", text));
	ck_assert_uint_eq(strlen(c->control), 107);
	conf_free(c);
	dir[107 - strlen("/meridian.sock")] = 'd';
	dir[108 - strlen("/meridian.sock")] = '\0';
	snprintf(text, sizeof(text), "serial = 1\nlisten = { '127.0.0.1:53' }\n\nstate_dir = '%s'\n", dir);
	p = write_tmp("longdefault.lua", text);
	struct diag d = load_fail(p);
	snprintf(
	    msg, sizeof(msg),
	    "control: the default \"%s/meridian.sock\" (state_dir/meridian.sock) is 108 bytes, longer than a "
	    "Unix socket path may be (107); set control to a shorter path",
	    dir);
	expect_error(&d, p, 4, msg);
	expect_errors(&d, 1);
	diag_free(&d);

	snprintf(text, sizeof(text),
		 "serial = 1\nlisten = { '127.0.0.1:53' }\ncontrol = '%s/meridian.sock'\n", dir);
	p = write_tmp("longcontrol.lua", text);
	d = load_fail(p);
	snprintf(msg, sizeof(msg),
		 "control: \"%s/meridian.sock\" is 108 bytes, longer than a Unix socket path may be (107)",
		 dir);
	expect_error(&d, p, 3, msg);
	expect_errors(&d, 1);
	diag_free(&d);

	p = write_tmp("badstate.lua",
		      "serial = 1\nlisten = { '127.0.0.1:53' }\nstate_dir = 5\ncontrol = ''\n");
	d = load_fail(p);
	expect_error(&d, p, 3, "state_dir: expected a string, got number");
	expect_error(&d, p, 4, "control: expected a non-empty string");
	expect_errors(&d, 2);
	diag_free(&d);
}
END_TEST

/* Pools for the record tests, lines 4..11 after health_cfg's head. */
/* clang-format off */
#define RECORD_POOLS                                                                                         \
	"pools = {\n"                                                                                        \
	"\tweb = { members = { { name = 'a', addr = '192.0.2.1', dc = 'ams' },\n"                            \
	"\t\t{ name = 'b', addr = '2001:db8::1', dc = 'ams', standby = true } } },\n"                       \
	"\tspare = { members = { { name = 's', addr = '192.0.2.9', dc = 'iad', standby = true } } },\n"     \
	"\tnames = { members = { { name = 'c', target = 'c.example', dc = 'iad' } } },\n"                   \
	"\tsix = { members = { { name = 'v', addr = '2001:db8::2', dc = 'iad' } } },\n"                     \
	"}\n"                                                                                                \
	"records = {\n"
/* The start of an A record from pool web with policy all: name n.example and ttl t. */
#define WEB_A(n, t) "\t{ name = '" n ".example', type = 'A', pool = 'web', policy = 'all', ttl = " t
/* clang-format on */

START_TEST(test_health_records)
{
	/* clang-format off */
	const char *p = health_cfg("recordhealth.lua",
		RECORD_POOLS
		WEB_A("a", "30") " },\n"
		WEB_A("b", "3") ", when_all_down = 'last_good' },\n"
		WEB_A("c", "0") ", when_all_down = 'serve_all' },\n"
		WEB_A("d", "1") ", when_all_down = 'pool:spare' },\n"
		WEB_A("e", "30") ", ttl_degraded = 0 },\n"
		WEB_A("f", "30") ", ttl_degraded = 30 },\n"
		"\t{ name = 'g.example', type = 'CNAME', pool = 'names', ttl = 30, policy = 'all' },\n"
		"}\n");
	/* clang-format on */
	struct conf *c = load_ok(p);
	const struct conf_record *r = c->records;
	ck_assert_uint_eq(c->record_count, 7);
	ck_assert_uint_eq(r[0].ttl_degraded, 7);
	ck_assert_int_eq(r[0].when_all_down, CONF_ALL_DOWN_SERVE_ALL);
	ck_assert_uint_eq(r[1].ttl_degraded, 1); /* 3 / 4, but at least 1 */
	ck_assert_int_eq(r[1].when_all_down, CONF_ALL_DOWN_LAST_GOOD);
	ck_assert_uint_eq(r[2].ttl_degraded, 0);
	ck_assert_int_eq(r[2].when_all_down, CONF_ALL_DOWN_SERVE_ALL);
	ck_assert_uint_eq(r[3].ttl_degraded, 1);
	ck_assert_int_eq(r[3].when_all_down, CONF_ALL_DOWN_POOL);
	ck_assert_uint_eq(r[3].fallback_pool, 1);
	ck_assert_uint_eq(r[4].ttl_degraded, 0);
	ck_assert_uint_eq(r[5].ttl_degraded, 30);
	ck_assert(c->pools[0].members[1].standby);
	conf_free(c);
}
END_TEST

START_TEST(test_health_bad_records)
{
	/* clang-format off */
	const char *p = health_cfg("badrecordhealth.lua",
		RECORD_POOLS
		WEB_A("a", "30") ", ttl_degraded = 31 },\n"                  /* 12 */
		WEB_A("b", "30") ", ttl_degraded = -1 },\n"
		WEB_A("c", "30") ", ttl_degraded = 1.5 },\n"
		WEB_A("d", "30") ",\n"
		"\t\twhen_all_down = 'pool:spar' },\n"                        /* 16 */
		WEB_A("e", "30") ", when_all_down = 'pool:web' },\n"
		WEB_A("f", "30") ", when_all_down = 'pool:names' },\n"
		WEB_A("g", "30") ", when_all_down = 'pool:six' },\n"
		WEB_A("h", "30") ", when_all_down = 'pool:' },\n"             /* 20 */
		WEB_A("i", "30") ", when_all_down = 'fail' },\n"
		WEB_A("j", "30") ", when_all_down = 1 },\n"
		"\t{ name = 'k.example', type = 'A', pool = 'spare', ttl = 30, policy = 'all' },\n"
		"\t{ name = 'l.example', type = 'AAAA', pool = 'web', ttl = 30, policy = 'all',\n"
		"\t\twhen_all_down = 'pool:six' },\n"                         /* 25 */
		"}\n");
	/* clang-format on */
	struct diag d = load_fail(p);
	expect_error(&d, p, 12, "records[1].ttl_degraded: expected at most ttl (30), got 31");
	expect_error(&d, p, 13, "records[2].ttl_degraded: expected an integer in 0..2147483647, got -1");
	expect_error(&d, p, 14, "records[3].ttl_degraded: expected an integer, got float 1.5");
	expect_error(&d, p, 16, "records[4].when_all_down: no pool named 'spar' (did you mean 'spare'?)");
	expect_error(
	    &d, p, 17,
	    "records[5].when_all_down: pool 'web' is the record's own pool; the fallback must be another "
	    "one");
	expect_error(
	    &d, p, 18,
	    "records[6].when_all_down: pool 'names' has CNAME target members ('c'), which cannot answer an A "
	    "record");
	expect_error(&d, p, 19, "records[7].when_all_down: pool 'six' has no IPv4 member for an A record");
	expect_error(&d, p, 20,
		     "records[8].when_all_down: expected \"serve_all\", \"last_good\" or \"pool:NAME\", got "
		     "\"pool:\"");
	expect_error(&d, p, 21,
		     "records[9].when_all_down: expected \"serve_all\", \"last_good\" or \"pool:NAME\", got "
		     "\"fail\"");
	expect_error(&d, p, 22, "records[10].when_all_down: expected a string, got number");
	expect_error(
	    &d, p, 23,
	    "records[11].pool: every member of pool 'spare' for type A is standby; standby members serve "
	    "only through when_all_down = \"pool:...\"");
	/* web's only IPv6 member is standby, even with a fallback */
	expect_error(
	    &d, p, 24,
	    "records[12].pool: every member of pool 'web' for type AAAA is standby; standby members serve "
	    "only through when_all_down = \"pool:...\"");
	expect_errors(&d, 12);
	diag_free(&d);
}
END_TEST

/* A Lua policy file in unit_tmpdir/sub (records refer to it as "sub/NAME"). */
static void write_policy(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/sub", unit_tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "sub/%s", name);
	write_tmp(path, "return function(ctx) return { members = ctx.members } end\n");
}

START_TEST(test_lua_policy_records)
{
	write_policy("api.lua");
	write_policy("other.lua");
	/* clang-format off */
	const char *p = health_cfg("luarecords.lua",
		RECORD_POOLS
		"\t{ name = 'a.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/api.lua' },\n"
		"\t{ name = 'b.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/api.lua',\n"
		"\t\tttl_degraded = 5 },\n"
		"\t{ name = 'c.example', type = 'CNAME', pool = 'names', ttl = 60, policy = 'sub/other.lua' },\n"
		"\t{ name = 'd.example', type = 'A', pool = 'web', ttl = 30, policy = 'all' },\n"
		"}\n");
	/* clang-format on */
	char want[256];
	struct conf *c = load_ok(p);
	ck_assert_uint_eq(c->record_count, 4);
	snprintf(want, sizeof(want), "%s/sub/api.lua", unit_tmpdir);
	ck_assert_int_eq(c->records[0].policy, CONF_POLICY_LUA);
	ck_assert_str_eq(c->records[0].policy_file, want); /* resolved against the config's folder */
	ck_assert_uint_eq(c->records[0].ttl_degraded, 7);
	ck_assert_uint_eq(c->records[0].answers, 0);
	ck_assert_int_eq(c->records[0].when_all_down, CONF_ALL_DOWN_SERVE_ALL);
	ck_assert_int_eq(c->records[1].policy, CONF_POLICY_LUA);
	ck_assert_str_eq(c->records[1].policy_file, want);
	ck_assert_uint_eq(c->records[1].ttl_degraded, 5);
	snprintf(want, sizeof(want), "%s/sub/other.lua", unit_tmpdir);
	ck_assert_int_eq(c->records[2].policy, CONF_POLICY_LUA);
	ck_assert_str_eq(c->records[2].policy_file, want);
	ck_assert_int_eq(c->records[3].policy, CONF_POLICY_ALL);
	ck_assert_ptr_null(c->records[3].policy_file);
	conf_free(c);
}
END_TEST

START_TEST(test_lua_policy_bad_records)
{
	write_policy("api.lua");
	char dir[128], missing[160];
	snprintf(dir, sizeof(dir), "%s/sub/dir.lua", unit_tmpdir);
	mkdir(dir, 0700);
	snprintf(missing, sizeof(missing), "%s/sub/nope.lua", unit_tmpdir);
	/* clang-format off */
	const char *p = health_cfg("badluarecords.lua",
		RECORD_POOLS
		"\t{ name = 'a.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/nope.lua' },\n" /* 12 */
		"\t{ name = 'b.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/dir.lua' },\n"
		"\t{ name = 'c.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/api.lua',\n"
		"\t\tanswers = 2 },\n"                                                                       /* 15 */
		"\t{ name = 'd.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/api.lua',\n"
		"\t\torder = { r = { 'ams' } } },\n"
		"\t{ name = 'e.example', type = 'A', pool = 'web', ttl = 30, policy = 'sub/api.lua',\n"
		"\t\twhen_all_down = 'last_good' },\n"
		"\t{ name = 'f.example', type = 'A', pool = 'web', ttl = 30, policy = '.lua' },\n"             /* 20 */
		"\t{ name = 'g.example', type = 'A', pool = 'web', ttl = 30, policy = 'api.LUA' },\n"
		"\t{ name = 'h.example', type = 'A', pool = 'names', ttl = 30, policy = 'sub/api.lua' },\n"
		"}\n");
	/* clang-format on */
	char msg[512], file[160];
	snprintf(file, sizeof(file), "%s/sub/api.lua", unit_tmpdir);
	struct diag d = load_fail(p);
	snprintf(msg, sizeof(msg), "records[1].policy: cannot read \"%s\": No such file or directory",
		 missing);
	expect_error(&d, p, 12, msg);
	snprintf(msg, sizeof(msg), "records[2].policy: cannot read \"%s\": not a regular file", dir);
	expect_error(&d, p, 13, msg);
	snprintf(msg, sizeof(msg),
		 "records[3].answers: not with a Lua policy: %s decides the cap (return { answers = N })",
		 file);
	expect_error(&d, p, 15, msg);
	snprintf(msg, sizeof(msg),
		 "records[4].order: not with a Lua policy: %s decides the order of datacenters", file);
	expect_error(&d, p, 17, msg);
	snprintf(
	    msg, sizeof(msg),
	    "records[5].when_all_down: not with a Lua policy: %s decides what answers when members are down",
	    file);
	expect_error(&d, p, 19, msg);
	expect_error(
	    &d, p, 20,
	    "records[6].policy: expected \"failover\", \"nearest\", \"weighted\", \"all\" or a policy file "
	    "\"NAME.lua\", got \".lua\"");
	expect_error(
	    &d, p, 21,
	    "records[7].policy: expected \"failover\", \"nearest\", \"weighted\", \"all\" or a policy file "
	    "\"NAME.lua\", got \"api.LUA\"");
	/* a Lua policy still needs a pool that can answer the record's type */
	expect_error(&d, p, 22,
		     "records[8].pool: pool 'names' has CNAME target members ('c'), which cannot answer an A "
		     "record");
	expect_errors(&d, 8);
	diag_free(&d);
}
END_TEST

/* Tables are walked in Lua's order, which differs from one state to the next: a config with several
 * bad keys in one table must still give the same messages in the same order (by line, then text)
 * every time it is loaded. */
START_TEST(test_messages_in_a_fixed_order)
{
	static const char text[] = "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
				   "zones = { { name = \"example.com\", fiel = 1, nmae = 2, intnet = 3,\n"
				   "  zzz = 4 } }\n"
				   "pools = { web = { members = {}, chekc = 1, memebrs = 2, wieght = 3 } }\n"
				   "regions = { a = { 1, 2 }, [7] = 1, [false] = 2 }\n";
	char first[4096] = "";
	for (int i = 0; i < 20; i++) {
		unit_write_file("order.conf", text);
		struct diag d;
		diag_init(&d);
		char path[512];
		snprintf(path, sizeof(path), "%s/order.conf", unit_tmpdir);
		ck_assert_ptr_null(conf_load(path, &d));
		char all[4096] = "";
		for (size_t j = 0; j < d.count; j++) {
			strncat(all, d.entries[j].text, sizeof(all) - strlen(all) - 2);
			strcat(all, "\n");
		}
		diag_free(&d);
		if (i == 0)
			memcpy(first, all, sizeof(all));
		else
			ck_assert_str_eq(all, first);
	}
	/* within one line, by text */
	ck_assert_ptr_nonnull(strstr(first, "zones[1]: unknown key 'fiel'"));
	ck_assert(strstr(first, "'fiel'") < strstr(first, "'intnet'"));
	ck_assert(strstr(first, "'intnet'") < strstr(first, "'nmae'"));
	ck_assert(strstr(first, "'nmae'") < strstr(first, "'zzz'")); /* line 4 after line 3 */
}
END_TEST

/* user: names resolved to ids when loaded (the account of uid 0 exists on every machine), the
 * user's own group by default; unknown names and malformed values are errors at file:line. */
START_TEST(test_user)
{
	static const char head[] = "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n";
	char text[256];
	struct passwd *root = getpwuid(0);
	ck_assert_ptr_nonnull(root);
	snprintf(text, sizeof(text), "%suser = \"%s\"\n", head, root->pw_name);
	struct conf *c = unit_load_conf("user.conf", text);
	ck_assert_str_eq(c->user.text, root->pw_name);
	ck_assert_int_eq(c->user.uid, 0);
	ck_assert_int_eq(c->user.gid, root->pw_gid);
	conf_free(c);
	snprintf(text, sizeof(text), "%suser = \"%s:%s\"\n", head, root->pw_name, root->pw_name);
	if (getgrnam(root->pw_name)) { /* a group named like the user, as Debian's root */
		c = unit_load_conf("user.conf", text);
		ck_assert_int_eq(c->user.gid, getgrnam(root->pw_name)->gr_gid);
		conf_free(c);
	}
	c = unit_load_conf("user.conf", head);
	ck_assert_ptr_null(c->user.text); /* not set: the account meridiand started as */
	conf_free(c);
	static const struct {
		const char *text, *message;
	} bad[] = {
	    {"user = \"no-such-user-9x\"", "user: no user \"no-such-user-9x\" on this system"},
	    {"user = \"root:no-such-group-9x\"", "user: no group \"no-such-group-9x\" on this system"},
	    {"user = \":root\"", "user: \":root\": expected \"NAME\" or \"NAME:GROUP\""},
	    {"user = \"root:\"", "user: \"root:\": expected \"NAME\" or \"NAME:GROUP\""},
	    {"user = \"\"", "user:"},
	    {"user = 0", "user:"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad[i].text);
		const char *error = unit_conf_error("bad.conf", text);
		ck_assert_msg(strstr(error, "bad.conf:3: ") && strstr(error, bad[i].message), "%s: %s",
			      bad[i].text, error);
	}
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_wrong_nested);
	tcase_add_test(tc, test_domain_names);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_duplicate_zone);
	tcase_add_test(tc, test_missing_zone_file);
	tcase_add_test(tc, test_unreadable_zone_file);
	tcase_add_test(tc, test_zone_paths);
	tcase_add_test(tc, test_bad_listen);
	tcase_add_test(tc, test_missing_keys);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_runtime_error);
	tcase_add_test(tc, test_sandbox_refuses);
	tcase_add_test(tc, test_bytecode_refused);
	tcase_add_test(tc, test_instruction_budget);
	tcase_add_test(tc, test_memory_cap);
	tcase_add_test(tc, test_computed_values);
	tcase_add_test(tc, test_assignment_lines);
	tcase_add_test(tc, test_sandbox_reuse);
	tcase_add_test(tc, test_geo_example);
	tcase_add_test(tc, test_geo_shapes);
	tcase_add_test(tc, test_geo_defaults);
	tcase_add_test(tc, test_geo_bad_regions);
	tcase_add_test(tc, test_geo_bad_pools);
	tcase_add_test(tc, test_geo_bad_records);
	tcase_add_test(tc, test_geo_references);
	tcase_add_test(tc, test_geo_wrong_types);
	tcase_add_test(tc, test_geo_written_twice);
	tcase_add_test(tc, test_geo_unreadable_db);
	tcase_add_test(tc, test_health_defaults);
	tcase_add_test(tc, test_health_fields);
	tcase_add_test(tc, test_health_merge);
	tcase_add_test(tc, test_health_bad_checks);
	tcase_add_test(tc, test_health_bad_members);
	tcase_add_test(tc, test_health_state_dir);
	tcase_add_test(tc, test_health_records);
	tcase_add_test(tc, test_health_bad_records);
	tcase_add_test(tc, test_lua_policy_records);
	tcase_add_test(tc, test_lua_policy_bad_records);
	tcase_add_test(tc, test_user);
	tcase_add_test(tc, test_messages_in_a_fixed_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(conf_suite(), "conf");
}
