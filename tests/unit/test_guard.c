/* test_guard.c -- unit tests of the record guard: RFC 1982 serial comparison, the verdict on candidate
 * snapshots (guard_check_snapshot: static data, dynamic records under every health scenario, the
 * report cap), guard_record_intents, and the guard at run time (policy_compute with an intent).
 *
 * Each test writes a config, the zone, its intent and the Lua policies it needs into a folder of its
 * own under one temporary folder, and builds the snapshot as a reload does (conf_load, loader_build
 * with LOADER_ALL_OR_NOTHING; the loader itself does not run the guard). Expected messages are built
 * from those paths and the lines the files hold, found by searching the files. */
#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "meridian/guard.h"
#include "meridian/loader.h"
#include "meridian/policy.h"
#include "meridian/wire.h"
#include "meridian/zone.h"

#include "support.h"

static char dir[256]; /* the running test's folder */

/* ---- files --------------------------------------------------------------------------------------- */

static const char *path_of(const char *name)
{
	static char paths[4][512];
	static unsigned next;
	char *p = paths[next++ % 4];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

/* Gives the running test its own folder (tests run in forked children, one after the other). */
static void use_dir(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s", unit_tmpdir, name);
	ck_assert_msg(mkdir(dir, 0700) == 0, "mkdir %s", dir);
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The 1-based line of file name whose text starts with prefix (after leading blanks). */
static unsigned line_of(const char *name, const char *prefix)
{
	FILE *f = fopen(path_of(name), "r");
	ck_assert_ptr_nonnull(f);
	char line[1024];
	unsigned n = 0, found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		n++;
		const char *p = line + strspn(line, " \t");
		if (!strncmp(p, prefix, strlen(prefix)))
			found = n;
	}
	fclose(f);
	ck_assert_msg(found, "no line starting with \"%s\" in %s", prefix, name);
	return found;
}

/* The line of a record in meridian.conf: where its name is written. */
static unsigned record_line(const char *owner)
{
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "{ name = \"%s\"", owner);
	return line_of("meridian.conf", prefix);
}

/* The zone every test serves: the apex, a CNAME, a delegation, a wildcard, an empty non-terminal
 * (ent) and a few RRsets. */
static const char ZONE[] = "$ORIGIN example.com.\n"
			   "$TTL 3600\n"
			   "@      SOA   ns1 hostmaster 1 7200 3600 1209600 300\n"
			   "@      NS    ns1\n"
			   "@      NS    ns2\n"
			   "@      MX    10 Mail.Example.COM.\n"
			   "ns1    A     192.0.2.53\n"
			   "ns2    A     198.51.100.53\n"
			   "www    A     192.0.2.1\n"
			   "www    A     192.0.2.2\n"
			   "alias  CNAME WWW\n"
			   "multi  A     192.0.2.31\n"
			   "multi  A     192.0.2.32\n"
			   "multi  A     192.0.2.33\n"
			   "sub    NS    ns.other.net.\n"
			   "*.wild A     192.0.2.77\n"
			   "deep.ent A   192.0.2.60\n";

#define CONF_HEAD                                                                                            \
	"serial = 1\n"                                                                                       \
	"listen = { \"127.0.0.1:5353\" }\n"                                                                  \
	"zones = { { name = \"example.com\", file = \"example.com.zone\",\n"                                 \
	"            intent = \"example.com.intent\" } }\n"                                                  \
	"datacenters = { ams = {}, iad = {}, sin = {}, spare = {} }\n"

#define REGIONS                                                                                              \
	"regions = { europe = { nets = { \"10.1.0.0/16\" } }, americas = { nets = { \"10.2.0.0/16\" } } }\n" \
	"default_region = \"americas\"\n"

/* Up members, every member when none is up; the member named "odd" never. */
static const char UP_LUA[] = "return function(ctx)\n"
			     "  local up, all = {}, {}\n"
			     "  for _, m in ipairs(ctx.members) do\n"
			     "    if m.name ~= \"odd\" then\n"
			     "      all[#all + 1] = m\n"
			     "      if m.state ~= \"down\" then up[#up + 1] = m end\n"
			     "    end\n"
			     "  end\n"
			     "  if #up == 0 then return { members = all } end\n"
			     "  return { members = up }\n"
			     "end\n";

/* As UP_LUA, but the odd member alone while exactly one member is down. */
static const char ONCE_LUA[] = "return function(ctx)\n"
			       "  local down, up, all = 0, {}, {}\n"
			       "  for _, m in ipairs(ctx.members) do\n"
			       "    if m.state == \"down\" then down = down + 1 end\n"
			       "    if m.name ~= \"odd\" then\n"
			       "      all[#all + 1] = m\n"
			       "      if m.state ~= \"down\" then up[#up + 1] = m end\n"
			       "    end\n"
			       "  end\n"
			       "  if down == 1 then return { addrs = { \"198.51.100.99\" } } end\n"
			       "  if #up == 0 then return { members = all } end\n"
			       "  return { members = up }\n"
			       "end\n";

/* As UP_LUA, but ams-1 and the odd member whenever the odd one is up and another member is down. */
static const char GRAB_LUA[] =
    "return function(ctx)\n"
    "  local odd_up, other_down, up = false, false, {}\n"
    "  for _, m in ipairs(ctx.members) do\n"
    "    if m.name == \"odd\" then odd_up = m.state ~= \"down\"\n"
    "    elseif m.state == \"down\" then other_down = true\n"
    "    else up[#up + 1] = m end\n"
    "  end\n"
    "  if odd_up and other_down then return { addrs = { \"192.0.2.20\", \"198.51.100.99\" } } end\n"
    "  if #up == 0 then return { members = ctx.members } end\n"
    "  return { members = up }\n"
    "end\n";

/* As UP_LUA, but an empty answer whenever a member is down. */
static const char EMPTY_LUA[] = "return function(ctx)\n"
				"  local up = {}\n"
				"  for _, m in ipairs(ctx.members) do\n"
				"    if m.state == \"down\" then return { members = {} } end\n"
				"    if m.name ~= \"odd\" then up[#up + 1] = m end\n"
				"  end\n"
				"  return { members = up }\n"
				"end\n";

/* ---- snapshots and messages ---------------------------------------------------------------------- */

/* Builds the snapshot of dir/meridian.conf as a reload does; it must load. */
static struct snapshot *build(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(path_of("meridian.conf"), &d);
	struct snapshot *s = conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, &d) : NULL;
	ck_assert_msg(s != NULL, "%s did not load:%s", dir, unit_diag_text(&d));
	ck_assert_msg(d.errors == 0, "%s:%s", dir, unit_diag_text(&d));
	diag_free(&d);
	return s;
}

/* Writes the config (CONF_HEAD, then rest), the zone and the intent, and builds the snapshot. */
static struct snapshot *build_with(const char *rest, const char *intent)
{
	char conf[8192];
	snprintf(conf, sizeof(conf), "%s%s", CONF_HEAD, rest);
	put("meridian.conf", conf);
	put("example.com.zone", ZONE);
	put("example.com.intent", intent);
	return build();
}

/* Asserts that d holds exactly the error entry formatted from fmt. */
__attribute__((format(printf, 2, 3))) static void expect_entry(const struct diag *d, const char *fmt, ...)
{
	char want[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	bool found = false;
	for (size_t i = 0; i < d->count; i++)
		found |= d->entries[i].level == DIAG_ERROR && strcmp(d->entries[i].text, want) == 0;
	ck_assert_msg(found, "missing \"%s\" in:%s", want, unit_diag_text(d));
}

/* How many entries of d contain part. */
static size_t count_entries(const struct diag *d, const char *part)
{
	size_t n = 0;
	for (size_t i = 0; i < d->count; i++)
		n += strstr(d->entries[i].text, part) != NULL;
	return n;
}

/* Runs the guard on s; returns the violations, d keeps the messages. */
static size_t check(const struct snapshot *s, struct diag *d)
{
	diag_init(d);
	return guard_check_snapshot(s, 1700000000.0, d);
}

static size_t record_index(const struct conf *c, const char *name, uint16_t type)
{
	for (size_t r = 0; r < c->record_count; r++)
		if (!strcmp(c->records[r].name, name) && c->records[r].type == type)
			return r;
	ck_abort_msg("no record %s", name);
	return 0;
}

static unsigned region_index(const struct conf *c, const char *name)
{
	for (unsigned g = 0; g < c->geo.region_count; g++)
		if (!strcmp(c->geo.regions[g].name, name))
			return g;
	ck_abort_msg("no region %s", name);
	return 0;
}

/* The values of an A answer as text, space-separated, in the answer's order. */
static const char *answer_text(const struct dyn_answer *a)
{
	static char bufs[4][512];
	static unsigned next;
	char *buf = bufs[next++ % 4];
	buf[0] = '\0';
	for (unsigned i = 0; i < a->count; i++) {
		const uint8_t *p = a->rdata + a->offsets[i];
		char one[INET_ADDRSTRLEN];
		ck_assert_uint_eq(p[0] << 8 | p[1], 4);
		inet_ntop(AF_INET, p + 2, one, sizeof(one));
		snprintf(buf + strlen(buf), sizeof(bufs[0]) - strlen(buf), "%s%s", i ? " " : "", one);
	}
	return buf;
}

/* ---- zone_serial_compare ------------------------------------------------------------------------- */

START_TEST(serial_compare_follows_rfc1982)
{
	ck_assert_int_eq(zone_serial_compare(7, 7), 0);
	ck_assert_int_eq(zone_serial_compare(0, 0), 0);
	ck_assert_int_eq(zone_serial_compare(0xFFFFFFFFu, 0xFFFFFFFFu), 0);
	ck_assert_int_lt(zone_serial_compare(1, 2), 0);
	ck_assert_int_gt(zone_serial_compare(2, 1), 0);
	ck_assert_int_ne(zone_serial_compare(2, 1), ZONE_SERIAL_UNDEFINED);
	ck_assert_int_lt(zone_serial_compare(2024010100u, 2024010101u), 0);
	/* wraparound: 1 comes after 0xFFFFFFFF (2 steps on), and 0 right after it */
	ck_assert_int_lt(zone_serial_compare(0xFFFFFFFFu, 1), 0);
	ck_assert_int_gt(zone_serial_compare(1, 0xFFFFFFFFu), 0);
	ck_assert_int_ne(zone_serial_compare(1, 0xFFFFFFFFu), ZONE_SERIAL_UNDEFINED);
	ck_assert_int_lt(zone_serial_compare(0xFFFFFFFFu, 0), 0);
	/* the largest step forward that is still newer: 2^31 - 1 */
	ck_assert_int_lt(zone_serial_compare(0, 0x7FFFFFFFu), 0);
	ck_assert_int_gt(zone_serial_compare(0x7FFFFFFFu, 0), 0);
	/* 2^31 + 1 forward is 2^31 - 1 backward: older */
	ck_assert_int_gt(zone_serial_compare(0, 0x80000001u), 0);
	ck_assert_int_lt(zone_serial_compare(0x80000001u, 0), 0);
	/* exactly 2^31 apart: undefined, both ways */
	ck_assert_int_eq(zone_serial_compare(0, 0x80000000u), ZONE_SERIAL_UNDEFINED);
	ck_assert_int_eq(zone_serial_compare(0x80000000u, 0), ZONE_SERIAL_UNDEFINED);
	ck_assert_int_eq(zone_serial_compare(5, 0x80000005u), ZONE_SERIAL_UNDEFINED);
	ck_assert_int_eq(zone_serial_compare(0xFFFFFFFFu, 0x7FFFFFFFu), ZONE_SERIAL_UNDEFINED);
}
END_TEST

/* ---- the verdict: a candidate that agrees with its intent ---------------------------------------- */

/* A static A (a subset of the intent), NS, MX and CNAME with targets in another case, the NS of a
 * delegation, a dynamic A with failover over two datacenters, a dynamic CNAME, a Lua record. */
START_TEST(agreeing_snapshot_passes)
{
	use_dir("agree");
	put("up.lua", UP_LUA);
	struct snapshot *s = build_with(
	    REGIONS
	    "pools = {\n"
	    "  web = { members = {\n"
	    "    { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
	    "    { name = \"iad-1\", addr = \"198.51.100.10\", dc = \"iad\" },\n"
	    "  } },\n"
	    "  api = { members = {\n"
	    "    { name = \"ams-1\", addr = \"192.0.2.20\", dc = \"ams\" },\n"
	    "    { name = \"iad-1\", addr = \"198.51.100.20\", dc = \"iad\" },\n"
	    "  } },\n"
	    "  cdn = { members = {\n"
	    "    { name = \"e1\", target = \"Edge-1.CDN.example.NET.\", dc = \"ams\" },\n"
	    "    { name = \"e2\", target = \"edge-2.cdn.example.net\", dc = \"iad\" },\n"
	    "  } },\n"
	    "}\n"
	    "records = {\n"
	    "  { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\",\n"
	    "    order = { europe = { \"ams\", \"iad\" }, americas = { \"iad\", \"ams\" } } },\n"
	    "  { name = \"api.example.com\", type = \"A\", pool = \"api\", ttl = 30, policy = \"up.lua\" },\n"
	    "  { name = \"cdn.example.com\", type = \"CNAME\", pool = \"cdn\", ttl = 30, policy = "
	    "\"failover\" },\n"
	    "}\n",
	    "$ORIGIN example.com.\n"
	    "@      NS    ns1\n"
	    "@      NS    NS2.example.com.\n"
	    "@      MX    10 mail\n"
	    "ns1    A     192.0.2.53\n"
	    "www    A     192.0.2.1\n"
	    "www    A     192.0.2.2\n"
	    "www    A     192.0.2.3\n" /* not in the zone: a subset of the intent is fine */
	    "alias  CNAME www.example.com.\n"
	    "sub    NS    NS.Other.NET.\n"
	    "app    A     192.0.2.10\n"
	    "app    A     198.51.100.10\n"
	    "api    A     192.0.2.20\n"
	    "api    A     198.51.100.20\n"
	    "cdn    CNAME EDGE-1.cdn.example.net.\n"
	    "cdn    CNAME edge-2.cdn.example.net.\n");
	ck_assert_ptr_nonnull(s->intents);
	ck_assert_uint_eq(s->conf->geo.region_count, 2);
	/* the three dynamic records are guarded: the scenarios run for each */
	const struct intent_rrset **guarded = guard_record_intents(s);
	ck_assert_ptr_nonnull(guarded);
	for (size_t r = 0; r < s->conf->record_count; r++)
		ck_assert_ptr_nonnull(guarded[r]);
	free(guarded);
	struct diag d;
	ck_assert_uint_eq(check(s, &d), 0);
	ck_assert_msg(d.count == 0, "%s", unit_diag_text(&d));
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* No zone has an intent: nothing is guarded, nothing is refused. */
START_TEST(snapshot_without_intent_passes)
{
	use_dir("nointent");
	put("meridian.conf",
	    "serial = 1\n"
	    "listen = { \"127.0.0.1:5353\" }\n"
	    "zones = { { name = \"example.com\", file = \"example.com.zone\" } }\n"
	    "datacenters = { ams = {} }\n"
	    "pools = { web = { members = { { name = \"x\", addr = \"203.0.113.1\", dc = \"ams\" } } } }\n"
	    "records = { { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
	    "policy = \"all\" } }\n");
	put("example.com.zone", ZONE);
	struct snapshot *s = build();
	ck_assert_ptr_null(s->intents);
	struct diag d;
	ck_assert_uint_eq(check(s, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_ptr_null(guard_record_intents(s));
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* ---- static violations --------------------------------------------------------------------------- */

static const char STATIC_INTENT[] = "$ORIGIN example.com.\n"
				    "missing   A     192.0.2.7\n"
				    "www       AAAA  2001:db8::1\n"
				    "alias     A     192.0.2.1\n"
				    "host.sub  A     192.0.2.8\n"
				    "sub       A     192.0.2.9\n"
				    "www       A     192.0.2.1\n"
				    "multi     A     192.0.2.31\n"
				    "@         NS    ns1\n"
				    "@         NS    ns2\n"
				    "ent       A     192.0.2.60\n"
				    "x.wild    A     192.0.2.77\n"
				    "y.wild    A     192.0.2.78\n"
				    "ns1       A     192.0.2.53\n"
				    "ns1       A     192.0.2.54\n"
				    "@         MX    10 MAIL\n"
				    "sub       NS    ns.other.net.\n"
				    "alias     CNAME www\n";

/* "dir/example.com.intent:LINE: zone example.com: " for the intent line starting with prefix. */
static const char *static_prefix(const char *line_prefix)
{
	static char buf[4][600];
	static unsigned next;
	char *b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "%s:%u: zone example.com: ", path_of("example.com.intent"),
		 line_of("example.com.intent", line_prefix));
	return b;
}

START_TEST(static_violations_are_named)
{
	use_dir("static");
	struct snapshot *s = build_with("", STATIC_INTENT);
	struct diag d;
	size_t n = check(s, &d);
	const char *must = "the intent says it must always resolve";
	expect_entry(&d, "%smissing.example.com. A does not exist (NXDOMAIN): %s", static_prefix("missing "),
		     must);
	expect_entry(&d, "%swww.example.com. AAAA has no data of that type (NODATA): %s",
		     static_prefix("www       AAAA"), must);
	expect_entry(&d, "%salias.example.com. A is a CNAME: %s", static_prefix("alias     A"), must);
	expect_entry(&d, "%shost.sub.example.com. A is delegated (at sub.example.com.): %s",
		     static_prefix("host.sub "), must);
	/* at the cut itself, a type other than NS is the child's: delegated too */
	expect_entry(&d, "%ssub.example.com. A is delegated (at sub.example.com.): %s",
		     static_prefix("sub       A"), must);
	expect_entry(&d,
		     "%swww.example.com. A: the zone file holds 192.0.2.2, which the intent does not list",
		     static_prefix("www       A "));
	/* every value the intent does not list is named */
	expect_entry(
	    &d,
	    "%smulti.example.com. A: the zone file holds 192.0.2.32, 192.0.2.33, which the intent does "
	    "not list",
	    static_prefix("multi "));
	/* an empty non-terminal has no data */
	expect_entry(&d, "%sent.example.com. A has no data of that type (NODATA): %s", static_prefix("ent "),
		     must);
	/* a name a wildcard answers for holds the wildcard's data */
	expect_entry(
	    &d, "%sy.wild.example.com. A: the zone file holds 192.0.2.77, which the intent does not list",
	    static_prefix("y.wild "));
	/* ns1 (a subset), the MX and NS in other cases, the cut's NS, the CNAME and x.wild pass */
	ck_assert_msg(n == 9 && d.count == 9 && d.errors == 9, "%zu:%s", n, unit_diag_text(&d));
	ck_assert_uint_eq(count_entries(&d, "x.wild"), 0);
	ck_assert_uint_eq(count_entries(&d, "ns1.example.com."), 0);
	ck_assert_uint_eq(count_entries(&d, " MX"), 0);
	ck_assert_uint_eq(count_entries(&d, ". NS"), 0);
	ck_assert_uint_eq(count_entries(&d, "alias.example.com. CNAME"), 0);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* An intended apex RRset that the zone holds more of: the extra value is named. */
START_TEST(static_superset_of_intent_fails)
{
	use_dir("superset");
	struct snapshot *s = build_with("", "@ NS ns1.example.com.\n");
	struct diag d;
	ck_assert_uint_eq(check(s, &d), 1);
	ck_assert_uint_eq(d.count, 1);
	expect_entry(
	    &d,
	    "%s:1: zone example.com: example.com. NS: the zone file holds ns2.example.com., which the "
	    "intent does not list",
	    path_of("example.com.intent"));
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* ---- dynamic violations -------------------------------------------------------------------------- */

/* Four guarded records, each breaking its intent in its own scenario:
 *   app: failover; europe prefers ams, then sin (not in the intent): "datacenter ams down"; americas
 *        prefers iad, ams, sin, so only with the pool down does fail-open serve sin-1
 *   every: "all" over a pool with a member not in the intent: "every member up"
 *   fb: its fallback pool's standby member is not in the intent: "pool main down"
 *   lua: ONCE_LUA answers the odd member while exactly one member is down: "member api/ams-1 down"
 *        (with a datacenter or the whole pool down, more than one member is) */
static const char DYN_CONF[] = REGIONS
    "pools = {\n"
    "  web = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
    "    { name = \"iad-1\", addr = \"198.51.100.10\", dc = \"iad\" },\n"
    "    { name = \"sin-1\", addr = \"203.0.113.10\", dc = \"sin\" },\n"
    "  } },\n"
    "  extra = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.40\", dc = \"ams\" },\n"
    "    { name = \"ams-2\", addr = \"192.0.2.41\", dc = \"ams\" },\n"
    "  } },\n"
    "  main = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.50\", dc = \"ams\" },\n"
    "    { name = \"iad-1\", addr = \"198.51.100.50\", dc = \"iad\" },\n"
    "  } },\n"
    "  spare = { members = {\n"
    "    { name = \"spare-1\", addr = \"203.0.113.50\", dc = \"spare\", standby = true },\n"
    "  } },\n"
    "  api = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.20\", dc = \"ams\" },\n"
    "    { name = \"ams-2\", addr = \"192.0.2.21\", dc = \"ams\" },\n"
    "    { name = \"iad-1\", addr = \"198.51.100.20\", dc = \"iad\" },\n"
    "    { name = \"iad-2\", addr = \"198.51.100.21\", dc = \"iad\" },\n"
    "    { name = \"odd\", addr = \"198.51.100.99\", dc = \"iad\" },\n"
    "  } },\n"
    "}\n"
    "records = {\n"
    "  { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\",\n"
    "    order = { europe = { \"ams\", \"sin\", \"iad\" }, americas = { \"iad\", \"ams\", \"sin\" } } },\n"
    "  { name = \"every.example.com\", type = \"A\", pool = \"extra\", ttl = 30, policy = \"all\" },\n"
    "  { name = \"fb.example.com\", type = \"A\", pool = \"main\", ttl = 30, policy = \"all\",\n"
    "    when_all_down = \"pool:spare\" },\n"
    "  { name = \"lua.example.com\", type = \"A\", pool = \"api\", ttl = 30, policy = \"once.lua\" },\n"
    "}\n";

static const char DYN_INTENT[] = "$ORIGIN example.com.\n"
				 "app    A 192.0.2.10\n"
				 "app    A 198.51.100.10\n"
				 "every  A 192.0.2.40\n"
				 "fb     A 192.0.2.50\n"
				 "fb     A 198.51.100.50\n"
				 "lua    A 192.0.2.20\n"
				 "lua    A 192.0.2.21\n"
				 "lua    A 198.51.100.20\n"
				 "lua    A 198.51.100.21\n";

static struct snapshot *build_dynamic(const char *name)
{
	use_dir(name);
	put("once.lua", ONCE_LUA);
	return build_with(DYN_CONF, DYN_INTENT);
}

/* Expects the scenario violation of record owner in region: "what" is "would serve ...; V", V the
 * value that is not in the intent. */
static void expect_scenario(const struct diag *d, const char *owner, const char *region, const char *scenario,
			    const char *what)
{
	char intent_prefix[64];
	snprintf(intent_prefix, sizeof(intent_prefix), "%.*s ", (int)strcspn(owner, "."), owner);
	expect_entry(d,
		     "%s:%u: zone example.com: %s. A, region %s, scenario \"%s\": %s is not in the intent "
		     "(intent line %u)",
		     path_of("meridian.conf"), record_line(owner), owner, region, scenario, what,
		     line_of("example.com.intent", intent_prefix));
}

START_TEST(dynamic_violations_name_the_scenario)
{
	struct snapshot *s = build_dynamic("dynamic");
	struct diag d;
	size_t n = check(s, &d);
	/* one violation per record and region: its first failing scenario */
	ck_assert_msg(n == 8 && d.count == 8, "%zu:%s", n, unit_diag_text(&d));
	for (size_t i = 0; i < d.count; i++)
		ck_assert_int_eq(d.entries[i].level, DIAG_ERROR);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(member_out_of_intent_fails_with_every_member_up)
{
	struct snapshot *s = build_dynamic("every");
	struct diag d;
	check(s, &d);
	const char *what = "would serve 192.0.2.40, 192.0.2.41; 192.0.2.41";
	expect_scenario(&d, "every.example.com", "europe", "every member up", what);
	expect_scenario(&d, "every.example.com", "americas", "every member up", what);
	ck_assert_uint_eq(count_entries(&d, "every.example.com."), 2);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(standby_fallback_out_of_intent_fails_with_pool_down)
{
	struct snapshot *s = build_dynamic("fallback");
	struct diag d;
	check(s, &d);
	expect_scenario(&d, "fb.example.com", "europe", "pool main down",
			"would serve 203.0.113.50; 203.0.113.50");
	expect_scenario(&d, "fb.example.com", "americas", "pool main down",
			"would serve 203.0.113.50; 203.0.113.50");
	ck_assert_uint_eq(count_entries(&d, "fb.example.com."), 2);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* Two failures behind a fallback at once: with pool main down the fallback answers s1 (sin, first in
 * datacenter order); with sin down as well it would answer s2, which the intent does not list. */
static const char PAIR_CONF[] = REGIONS
    "pools = {\n"
    "  main = { members = { { name = \"m1\", addr = \"192.0.2.60\", dc = \"ams\" },\n"
    "                       { name = \"m2\", addr = \"198.51.100.60\", dc = \"iad\" } } },\n"
    "  spare = { members = { { name = \"s1\", addr = \"203.0.113.61\", dc = \"sin\", standby = true },\n"
    "                        { name = \"s2\", addr = \"203.0.113.62\", dc = \"spare\", standby = true } } "
    "},\n"
    "}\n"
    "records = {\n"
    "  { name = \"pair.example.com\", type = \"A\", pool = \"main\", ttl = 30,\n"
    "    policy = \"failover\", when_all_down = \"pool:spare\" } }\n";

START_TEST(fallback_pool_failures_combine_with_its_pool_down)
{
	use_dir("pair");
	struct snapshot *s = build_with(PAIR_CONF, "$ORIGIN example.com.\n"
						   "pair A 192.0.2.60\n"
						   "pair A 198.51.100.60\n"
						   "pair A 203.0.113.61\n");
	struct diag d;
	size_t n = check(s, &d);
	ck_assert_msg(n == 2, "%zu:%s", n, unit_diag_text(&d));
	expect_scenario(&d, "pair.example.com", "europe", "pool main down, datacenter sin down",
			"would serve 203.0.113.62; 203.0.113.62");
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(failover_out_of_intent_fails_with_datacenter_down)
{
	struct snapshot *s = build_dynamic("failover");
	struct diag d;
	check(s, &d);
	expect_scenario(&d, "app.example.com", "europe", "datacenter ams down",
			"would serve 203.0.113.10; 203.0.113.10");
	/* americas reaches sin only when every member is out: fail open serves the whole pool */
	expect_scenario(&d, "app.example.com", "americas", "pool web down",
			"would serve 192.0.2.10, 198.51.100.10, 203.0.113.10; 203.0.113.10");
	ck_assert_uint_eq(count_entries(&d, "app.example.com."), 2);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(lua_out_of_intent_fails_with_member_down)
{
	struct snapshot *s = build_dynamic("lua");
	struct diag d;
	check(s, &d);
	const char *what = "would serve 198.51.100.99; 198.51.100.99";
	expect_scenario(&d, "lua.example.com", "europe", "member api/ams-1 down", what);
	expect_scenario(&d, "lua.example.com", "americas", "member api/ams-1 down", what);
	ck_assert_uint_eq(count_entries(&d, "lua.example.com."), 2);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* ---- the report cap ------------------------------------------------------------------------------ */

/* An intent of `missing` names that do not exist, with `every.example.com` (two members, one
 * intended) and `more.example.com` (the same) guarded in a config without regions. */
static struct snapshot *build_many(const char *name, unsigned missing)
{
	use_dir(name);
	char intent[8192] = "$ORIGIN example.com.\n";
	for (unsigned i = 0; i < missing; i++)
		snprintf(intent + strlen(intent), sizeof(intent) - strlen(intent), "m%02u A 192.0.2.%u\n", i,
			 100 + i);
	strcat(intent, "every A 192.0.2.40\nmore A 192.0.2.40\n");
	return build_with(
	    "pools = { extra = { members = {\n"
	    "  { name = \"ams-1\", addr = \"192.0.2.40\", dc = \"ams\" },\n"
	    "  { name = \"ams-2\", addr = \"192.0.2.41\", dc = \"ams\" } } } }\n"
	    "records = {\n"
	    "  { name = \"every.example.com\", type = \"A\", pool = \"extra\", ttl = 30, policy = \"all\" "
	    "},\n"
	    "  { name = \"more.example.com\", type = \"A\", pool = \"extra\", ttl = 30, policy = \"all\" },\n"
	    "}\n",
	    intent);
}

START_TEST(report_is_capped_and_counts_the_rest)
{
	/* 19 static violations leave room for one dynamic description; the second is only counted */
	struct snapshot *s = build_many("cap", GUARD_REPORT_MAX - 1);
	struct diag d;
	size_t n = check(s, &d);
	ck_assert_uint_eq(n, GUARD_REPORT_MAX + 1);
	ck_assert_msg(d.count == GUARD_REPORT_MAX + 1, "%s", unit_diag_text(&d));
	ck_assert_uint_eq(d.errors, GUARD_REPORT_MAX + 1);
	ck_assert_uint_eq(count_entries(&d, "(NXDOMAIN)"), GUARD_REPORT_MAX - 1);
	ck_assert_uint_eq(count_entries(&d, "scenario \"every member up\""), 1);
	ck_assert_uint_eq(count_entries(&d, "region (none)"), 1);
	ck_assert_str_eq(d.entries[d.count - 1].text, "1 more violations of the intent");
	diag_free(&d);
	snapshot_free(s);

	/* far past the cap: every violation counted, GUARD_REPORT_MAX described */
	s = build_many("cap2", 30);
	n = check(s, &d);
	ck_assert_uint_eq(n, 32);
	ck_assert_uint_eq(d.count, GUARD_REPORT_MAX + 1);
	ck_assert_uint_eq(count_entries(&d, "(NXDOMAIN)"), GUARD_REPORT_MAX);
	ck_assert_uint_eq(count_entries(&d, "scenario"), 0);
	ck_assert_str_eq(d.entries[d.count - 1].text, "12 more violations of the intent");
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

START_TEST(report_at_the_cap_has_no_count_line)
{
	struct snapshot *s = build_many("atcap", GUARD_REPORT_MAX - 2);
	struct diag d;
	ck_assert_uint_eq(check(s, &d), GUARD_REPORT_MAX);
	ck_assert_msg(d.count == GUARD_REPORT_MAX, "%s", unit_diag_text(&d));
	ck_assert_uint_eq(count_entries(&d, "more violations"), 0);
	ck_assert_uint_eq(count_entries(&d, "scenario \"every member up\""), 2);
	diag_free(&d);
	snapshot_free(s);
}
END_TEST

/* ---- guard_record_intents ------------------------------------------------------------------------ */

START_TEST(record_intents_only_for_guarded_records)
{
	use_dir("intents");
	struct snapshot *s =
	    build_with("pools = { web = { members = {\n"
		       "  { name = \"a\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
		       "  { name = \"b\", addr = \"2001:db8::10\", dc = \"ams\" } } } }\n"
		       "records = {\n"
		       "  { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
		       "policy = \"all\" },\n"
		       "  { name = \"App.Example.COM\", type = \"AAAA\", pool = \"web\", ttl = 30, "
		       "policy = \"all\" },\n"
		       "  { name = \"other.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
		       "policy = \"all\" },\n"
		       "  { name = \"Guarded.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
		       "policy = \"all\" },\n"
		       "}\n",
		       "app     A 192.0.2.10\n"
		       "guarded A 192.0.2.10\n"
		       "www     A 192.0.2.1\n");
	const struct intent_rrset **in = guard_record_intents(s);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(s->intents[0]);
	const struct intent *zi = s->intents[0];
	ck_assert_uint_eq(zi->count, 3);
	/* app A and Guarded A are guarded, by the intent's own RRsets; app AAAA (another type) and
	 * other (not listed) are not */
	size_t app = record_index(s->conf, "app.example.com", WIRE_TYPE_A);
	size_t app6 = record_index(s->conf, "App.Example.COM", WIRE_TYPE_AAAA);
	size_t other = record_index(s->conf, "other.example.com", WIRE_TYPE_A);
	size_t guarded = record_index(s->conf, "Guarded.example.com", WIRE_TYPE_A);
	ck_assert_ptr_nonnull(in[app]);
	ck_assert_str_eq(in[app]->name, "app.example.com.");
	ck_assert_uint_eq(in[app]->type, WIRE_TYPE_A);
	ck_assert(in[app] >= zi->rrsets && in[app] < zi->rrsets + zi->count);
	ck_assert_ptr_null(in[app6]);
	ck_assert_ptr_null(in[other]);
	ck_assert_ptr_nonnull(in[guarded]);
	ck_assert_str_eq(in[guarded]->name, "guarded.example.com.");
	ck_assert(in[guarded] != in[app]);
	free(in);
	snapshot_free(s);
}
END_TEST

START_TEST(record_intents_null_when_nothing_is_guarded)
{
	/* the zone has an intent, but it lists none of the dynamic records */
	use_dir("unguarded");
	struct snapshot *s =
	    build_with("pools = { web = { members = {\n"
		       "  { name = \"a\", addr = \"203.0.113.1\", dc = \"ams\" } } } }\n"
		       "records = { { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
		       "policy = \"all\" } }\n",
		       "www A 192.0.2.1\nwww A 192.0.2.2\n");
	ck_assert_ptr_nonnull(s->intents);
	ck_assert_ptr_null(guard_record_intents(s));
	struct diag d;
	ck_assert_uint_eq(check(s, &d), 0);
	diag_free(&d);
	snapshot_free(s);
	/* an intent and no dynamic record at all */
	use_dir("norecords");
	s = build_with("", "www A 192.0.2.1\n");
	ck_assert_ptr_null(guard_record_intents(s));
	snapshot_free(s);
}
END_TEST

/* ---- the guard at run time ----------------------------------------------------------------------- */

/* Records over the api pool (ams-1, ams-2, iad-1, iad-2, and odd, not in the intent), two regions:
 *   guarded  ONCE_LUA, guarded      loose  ONCE_LUA, not guarded
 *   grab     GRAB_LUA, guarded      empty  EMPTY_LUA, guarded
 *   app      built-in failover over web (sin-1 not in the intent), guarded */
static const char RUN_CONF[] = REGIONS
    "pools = {\n"
    "  api = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.20\", dc = \"ams\" },\n"
    "    { name = \"ams-2\", addr = \"192.0.2.21\", dc = \"ams\" },\n"
    "    { name = \"iad-1\", addr = \"198.51.100.20\", dc = \"iad\" },\n"
    "    { name = \"iad-2\", addr = \"198.51.100.21\", dc = \"iad\" },\n"
    "    { name = \"odd\", addr = \"198.51.100.99\", dc = \"iad\" },\n"
    "  } },\n"
    "  web = { members = {\n"
    "    { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
    "    { name = \"iad-1\", addr = \"198.51.100.10\", dc = \"iad\" },\n"
    "    { name = \"sin-1\", addr = \"203.0.113.10\", dc = \"sin\" },\n"
    "  } },\n"
    "}\n"
    "records = {\n"
    "  { name = \"guarded.example.com\", type = \"A\", pool = \"api\", ttl = 30, ttl_degraded = 7,\n"
    "    policy = \"once.lua\" },\n"
    "  { name = \"loose.example.com\", type = \"A\", pool = \"api\", ttl = 30, policy = \"once.lua\" },\n"
    "  { name = \"grab.example.com\", type = \"A\", pool = \"api\", ttl = 30, policy = \"grab.lua\" },\n"
    "  { name = \"empty.example.com\", type = \"A\", pool = \"api\", ttl = 30, policy = \"empty.lua\" },\n"
    "  { name = \"app.example.com\", type = \"A\", pool = \"web\", ttl = 30, policy = \"failover\",\n"
    "    order = { europe = { \"ams\", \"iad\", \"sin\" }, americas = { \"iad\", \"ams\", \"sin\" } } },\n"
    "}\n";

static const char RUN_INTENT[] = "$ORIGIN example.com.\n"
				 "guarded A 192.0.2.20\n"
				 "guarded A 192.0.2.21\n"
				 "guarded A 198.51.100.20\n"
				 "guarded A 198.51.100.21\n"
				 "grab    A 192.0.2.20\n"
				 "grab    A 192.0.2.21\n"
				 "grab    A 198.51.100.20\n"
				 "grab    A 198.51.100.21\n"
				 "empty   A 192.0.2.20\n"
				 "empty   A 192.0.2.21\n"
				 "empty   A 198.51.100.20\n"
				 "empty   A 198.51.100.21\n"
				 "app     A 192.0.2.10\n"
				 "app     A 198.51.100.10\n";

#define ALL_API "192.0.2.20 192.0.2.21 198.51.100.20 198.51.100.21"

/* A snapshot of RUN_CONF with its members' health, and what the guard needs at run time. */
struct runtime {
	struct snapshot *s;
	uint8_t **serving; /* [pool][member] */
	const struct intent_rrset **intent;
	uint8_t *only;
};

static void runtime_open(struct runtime *rt, const char *name)
{
	use_dir(name);
	put("once.lua", ONCE_LUA);
	put("grab.lua", GRAB_LUA);
	put("empty.lua", EMPTY_LUA);
	rt->s = build_with(RUN_CONF, RUN_INTENT);
	const struct conf *c = rt->s->conf;
	ck_assert_uint_eq(c->geo.region_count, 2);
	rt->serving = calloc(c->pool_count, sizeof(*rt->serving));
	ck_assert_ptr_nonnull(rt->serving);
	for (size_t p = 0; p < c->pool_count; p++) {
		rt->serving[p] = calloc(c->pools[p].member_count, 1);
		ck_assert_ptr_nonnull(rt->serving[p]);
		memset(rt->serving[p], HEALTH_SERVING, c->pools[p].member_count);
	}
	rt->intent = guard_record_intents(rt->s);
	ck_assert_ptr_nonnull(rt->intent);
	rt->only = calloc(c->record_count, 1);
	ck_assert_ptr_nonnull(rt->only);
}

static void runtime_close(struct runtime *rt)
{
	for (size_t p = 0; p < rt->s->conf->pool_count; p++)
		free(rt->serving[p]);
	free(rt->serving);
	free(rt->intent);
	free(rt->only);
	snapshot_free(rt->s);
}

/* Sets a member's health: "pool/member". */
static void set_health(struct runtime *rt, const char *which, enum health_serving state)
{
	const struct conf *c = rt->s->conf;
	size_t split = strcspn(which, "/");
	for (size_t p = 0; p < c->pool_count; p++) {
		if (strlen(c->pools[p].name) != split || strncmp(c->pools[p].name, which, split))
			continue;
		for (size_t m = 0; m < c->pools[p].member_count; m++)
			if (!strcmp(c->pools[p].members[m].name, which + split + 1)) {
				rt->serving[p][m] = (uint8_t)state;
				return;
			}
	}
	ck_abort_msg("no member %s", which);
}

/* Computes the records named (NULL-terminated list; none: all) under the current health. guard:
 * with the intents. previous may be NULL. */
static struct dyn_table *compute(struct runtime *rt, bool guard, const struct dyn_table *previous,
				 struct policy_report *report, struct diag *d, const char *const *names)
{
	const struct conf *c = rt->s->conf;
	memset(rt->only, 0, c->record_count);
	for (size_t i = 0; names && names[i]; i++)
		rt->only[record_index(c, names[i], WIRE_TYPE_A)] = 1;
	struct policy_inputs in = {.serving = (const uint8_t *const *)rt->serving,
				   .previous = previous,
				   .previous_conf = previous ? c : NULL,
				   .lua = rt->s->lua,
				   .now = 1700000000.0,
				   .report = report,
				   .intent = guard ? rt->intent : NULL,
				   .only = names ? rt->only : NULL};
	diag_init(d);
	struct dyn_table *t = policy_compute(c, rt->s->geo, &in, d);
	ck_assert_msg(t != NULL, "%s", unit_diag_text(d));
	return t;
}

/* Every member up, every record, no guard: the "previous" table. */
static struct dyn_table *compute_all_up(struct runtime *rt)
{
	uint8_t **saved = rt->serving;
	const struct conf *c = rt->s->conf;
	rt->serving = calloc(c->pool_count, sizeof(*rt->serving));
	for (size_t p = 0; p < c->pool_count; p++)
		rt->serving[p] = calloc(c->pools[p].member_count, 1); /* HEALTH_SERVING is 0 */
	struct diag d;
	struct dyn_table *t = compute(rt, false, NULL, NULL, &d, NULL);
	ck_assert_uint_eq(d.count, 0);
	diag_free(&d);
	for (size_t p = 0; p < c->pool_count; p++)
		free(rt->serving[p]);
	free(rt->serving);
	rt->serving = saved;
	return t;
}

static const struct dyn_answer *answer(const struct runtime *rt, const struct dyn_table *t, const char *name,
				       const char *region)
{
	return dyn_answer_get(t, record_index(rt->s->conf, name, WIRE_TYPE_A),
			      region_index(rt->s->conf, region));
}

/* The guard event of record name in region, which must exist. */
static const struct policy_guard_event *event_of(const struct runtime *rt, const struct policy_report *report,
						 const char *name, const char *region)
{
	size_t r = record_index(rt->s->conf, name, WIRE_TYPE_A);
	unsigned g = region_index(rt->s->conf, region);
	for (size_t i = 0; i < report->guard_event_count; i++)
		if (report->guard_events[i].record == r && report->guard_events[i].region == g)
			return &report->guard_events[i];
	ck_abort_msg("no guard event for %s in %s", name, region);
	return NULL;
}

static const char *const REGION_NAMES[] = {"europe", "americas"};

START_TEST(runtime_out_of_intent_answer_gets_last_good)
{
	struct runtime rt;
	runtime_open(&rt, "rt_last_good");
	struct dyn_table *prev = compute_all_up(&rt);
	ck_assert_str_eq(answer_text(answer(&rt, prev, "guarded.example.com", "europe")), ALL_API);
	set_health(&rt, "api/ams-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"guarded.example.com", NULL};
	struct dyn_table *t = compute(&rt, true, prev, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2); /* one per region */
	ck_assert_uint_eq(report.guard_event_count, 2);
	for (size_t i = 0; i < 2; i++) {
		const char *region = REGION_NAMES[i];
		const struct dyn_answer *a = answer(&rt, t, "guarded.example.com", region);
		const struct dyn_answer *p = answer(&rt, prev, "guarded.example.com", region);
		/* the answer with everything up serves again (ams-1 with it: the last good answer as it was)
		 */
		ck_assert_str_eq(answer_text(a), answer_text(p));
		ck_assert(a->flags & DYN_FLAG_GUARD);
		ck_assert(a->flags & DYN_FLAG_LAST_GOOD);
		ck_assert(a->flags & DYN_FLAG_DEGRADED);
		ck_assert_uint_eq(a->ttl, 7); /* min(last good's 30, ttl_degraded) */
		const struct policy_guard_event *e = event_of(&rt, &report, "guarded.example.com", region);
		ck_assert_str_eq(e->reason,
				 "198.51.100.99 is not in the intent (the policy answered 198.51.100.99)");
		ck_assert_str_eq(
		    e->served, "the last good answer: 192.0.2.20, 192.0.2.21, 198.51.100.20, 198.51.100.21");
	}
	/* the records left out of only are not computed */
	ck_assert_uint_eq(answer(&rt, t, "loose.example.com", "europe")->count, 0);
	ck_assert_uint_eq(report.lua_errors, 0);
	diag_free(&d);
	dyn_table_free(t);
	dyn_table_free(prev);
	runtime_close(&rt);
}
END_TEST

START_TEST(runtime_without_last_good_serves_intended_members_not_out)
{
	struct runtime rt;
	runtime_open(&rt, "rt_not_out");
	set_health(&rt, "api/ams-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"guarded.example.com", NULL};
	struct dyn_table *t = compute(&rt, true, NULL, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct dyn_answer *a = answer(&rt, t, "guarded.example.com", REGION_NAMES[i]);
		ck_assert_str_eq(answer_text(a), "192.0.2.21 198.51.100.20 198.51.100.21");
		ck_assert(a->flags & DYN_FLAG_GUARD);
		ck_assert(!(a->flags & DYN_FLAG_LAST_GOOD));
		ck_assert_uint_eq(a->ttl, 7);
		const struct policy_guard_event *e =
		    event_of(&rt, &report, "guarded.example.com", REGION_NAMES[i]);
		ck_assert_str_eq(e->reason,
				 "198.51.100.99 is not in the intent (the policy answered 198.51.100.99)");
		ck_assert_str_eq(e->served,
				 "the intended values whose members are not out: 192.0.2.21, 198.51.100.20, "
				 "198.51.100.21");
	}
	diag_free(&d);
	dyn_table_free(t);
	runtime_close(&rt);
}
END_TEST

/* A last good answer that is itself outside the intent is not served again. */
START_TEST(runtime_skips_last_good_outside_intent)
{
	struct runtime rt;
	runtime_open(&rt, "rt_bad_last");
	set_health(&rt, "api/ams-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"guarded.example.com", NULL};
	/* what an unguarded computation served: the odd member */
	struct dyn_table *prev = compute(&rt, false, NULL, NULL, &d, names);
	diag_free(&d);
	ck_assert_str_eq(answer_text(answer(&rt, prev, "guarded.example.com", "europe")), "198.51.100.99");
	set_health(&rt, "api/ams-1", HEALTH_SERVING);
	set_health(&rt, "api/iad-2", HEALTH_OUT);
	struct dyn_table *t = compute(&rt, true, prev, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	const struct dyn_answer *a = answer(&rt, t, "guarded.example.com", "americas");
	ck_assert_str_eq(answer_text(a), "192.0.2.20 192.0.2.21 198.51.100.20");
	ck_assert(!(a->flags & DYN_FLAG_LAST_GOOD));
	diag_free(&d);
	dyn_table_free(t);
	dyn_table_free(prev);
	runtime_close(&rt);
}
END_TEST

START_TEST(runtime_every_intended_value_when_all_are_out)
{
	struct runtime rt;
	runtime_open(&rt, "rt_all_out");
	const char *const out[] = {"api/ams-1", "api/ams-2", "api/iad-1", "api/iad-2"};
	for (size_t i = 0; i < 4; i++)
		set_health(&rt, out[i], HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"grab.example.com", NULL};
	struct dyn_table *t = compute(&rt, true, NULL, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct dyn_answer *a = answer(&rt, t, "grab.example.com", REGION_NAMES[i]);
		ck_assert_str_eq(answer_text(a), ALL_API);
		ck_assert(a->flags & DYN_FLAG_GUARD);
		const struct policy_guard_event *e =
		    event_of(&rt, &report, "grab.example.com", REGION_NAMES[i]);
		/* one value outside the intent is enough */
		ck_assert_str_eq(e->reason,
				 "198.51.100.99 is not in the intent (the policy answered 192.0.2.20, "
				 "198.51.100.99)");
		ck_assert_str_eq(
		    e->served, "every intended value: 192.0.2.20, 192.0.2.21, 198.51.100.20, 198.51.100.21");
	}
	diag_free(&d);
	dyn_table_free(t);
	runtime_close(&rt);
}
END_TEST

START_TEST(runtime_empty_answer_is_a_failed_policy)
{
	struct runtime rt;
	runtime_open(&rt, "rt_empty");
	struct dyn_table *prev = compute_all_up(&rt);
	set_health(&rt, "api/iad-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"empty.example.com", NULL};
	/* with a last good answer */
	struct dyn_table *t = compute(&rt, true, prev, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	ck_assert_uint_eq(report.lua_errors, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct dyn_answer *a = answer(&rt, t, "empty.example.com", REGION_NAMES[i]);
		ck_assert_str_eq(answer_text(a), ALL_API);
		ck_assert(a->flags & DYN_FLAG_GUARD);
		const struct policy_guard_event *e =
		    event_of(&rt, &report, "empty.example.com", REGION_NAMES[i]);
		ck_assert_str_eq(e->reason, "the policy failed: empty answer");
		ck_assert_str_eq(
		    e->served, "the last good answer: 192.0.2.20, 192.0.2.21, 198.51.100.20, 198.51.100.21");
	}
	/* the failures are reported as warnings, not errors */
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(count_entries(&d, "the guard picks the answer"), 2);
	diag_free(&d);
	dyn_table_free(t);
	/* without one: the intended members not out */
	memset(&report, 0, sizeof(report));
	t = compute(&rt, true, NULL, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	const struct dyn_answer *a = answer(&rt, t, "empty.example.com", "europe");
	ck_assert_str_eq(answer_text(a), "192.0.2.20 192.0.2.21 198.51.100.21");
	const struct policy_guard_event *e = event_of(&rt, &report, "empty.example.com", "europe");
	ck_assert_str_eq(e->reason, "the policy failed: empty answer");
	diag_free(&d);
	dyn_table_free(t);
	dyn_table_free(prev);
	runtime_close(&rt);
}
END_TEST

START_TEST(runtime_unguarded_record_is_unchanged)
{
	struct runtime rt;
	runtime_open(&rt, "rt_loose");
	struct dyn_table *prev = compute_all_up(&rt);
	set_health(&rt, "api/ams-1", HEALTH_OUT);
	struct policy_report report = {0}, plain_report = {0};
	struct diag d, plain_d;
	const char *names[] = {"loose.example.com", NULL};
	struct dyn_table *t = compute(&rt, true, prev, &report, &d, names);
	struct dyn_table *plain = compute(&rt, false, prev, &plain_report, &plain_d, names);
	ck_assert_uint_eq(report.guard_interventions, 0);
	ck_assert_uint_eq(report.guard_event_count, 0);
	for (size_t i = 0; i < 2; i++) {
		const struct dyn_answer *a = answer(&rt, t, "loose.example.com", REGION_NAMES[i]);
		const struct dyn_answer *b = answer(&rt, plain, "loose.example.com", REGION_NAMES[i]);
		/* the odd member, as the policy said, exactly as without a guard */
		ck_assert_str_eq(answer_text(a), "198.51.100.99");
		ck_assert_str_eq(answer_text(a), answer_text(b));
		ck_assert_uint_eq(a->flags, b->flags);
		ck_assert(!(a->flags & DYN_FLAG_GUARD));
		ck_assert_uint_eq(a->ttl, b->ttl);
		ck_assert_uint_eq(a->select, b->select);
		ck_assert_uint_eq(a->cap, b->cap);
	}
	diag_free(&d);
	diag_free(&plain_d);
	dyn_table_free(t);
	dyn_table_free(plain);
	/* the whole table: only the guarded records' answers change */
	memset(&report, 0, sizeof(report));
	t = compute(&rt, true, prev, &report, &d, NULL);
	plain = compute(&rt, false, prev, NULL, &plain_d, NULL);
	/* guarded, grab (the odd member: ams-1 is down) and empty (a member is down), in both regions */
	ck_assert_uint_eq(report.guard_interventions, 6);
	ck_assert_str_eq(answer_text(answer(&rt, t, "loose.example.com", "europe")), "198.51.100.99");
	ck_assert_str_eq(answer_text(answer(&rt, t, "guarded.example.com", "europe")), ALL_API);
	ck_assert_str_eq(answer_text(answer(&rt, plain, "guarded.example.com", "europe")), "198.51.100.99");
	diag_free(&d);
	diag_free(&plain_d);
	dyn_table_free(t);
	dyn_table_free(plain);
	dyn_table_free(prev);
	runtime_close(&rt);
}
END_TEST

/* A built-in failover onto a member outside the intent (the outage: the primary and secondary
 * datacenters down, only sin left) serves every intended value instead. */
START_TEST(runtime_builtin_fail_open_is_guarded)
{
	struct runtime rt;
	runtime_open(&rt, "rt_builtin");
	set_health(&rt, "web/ams-1", HEALTH_OUT);
	set_health(&rt, "web/iad-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	const char *names[] = {"app.example.com", NULL};
	struct dyn_table *t = compute(&rt, true, NULL, &report, &d, names);
	ck_assert_uint_eq(report.guard_interventions, 2);
	const struct dyn_answer *a = answer(&rt, t, "app.example.com", "americas");
	ck_assert_str_eq(answer_text(a), "192.0.2.10 198.51.100.10");
	ck_assert(a->flags & DYN_FLAG_GUARD);
	const struct policy_guard_event *e = event_of(&rt, &report, "app.example.com", "americas");
	ck_assert_str_eq(e->reason, "203.0.113.10 is not in the intent (the policy answered 203.0.113.10)");
	ck_assert_str_eq(e->served, "every intended value: 192.0.2.10, 198.51.100.10");
	/* unguarded, the same health serves sin-1 */
	dyn_table_free(t);
	diag_free(&d);
	t = compute(&rt, false, NULL, NULL, &d, names);
	ck_assert_str_eq(answer_text(answer(&rt, t, "app.example.com", "americas")), "203.0.113.10");
	diag_free(&d);
	dyn_table_free(t);
	runtime_close(&rt);
}
END_TEST

/* Every guarded record in every region is guarded in one computation, each intervention described. */
START_TEST(runtime_interventions_across_records)
{
	struct runtime rt;
	runtime_open(&rt, "rt_cap");
	set_health(&rt, "api/ams-1", HEALTH_OUT);
	set_health(&rt, "web/ams-1", HEALTH_OUT);
	set_health(&rt, "web/iad-1", HEALTH_OUT);
	struct policy_report report = {0};
	struct diag d;
	/* guarded, grab, empty and app in two regions: 8 interventions */
	struct dyn_table *t = compute(&rt, true, NULL, &report, &d, NULL);
	ck_assert_uint_eq(report.guard_interventions, 8);
	ck_assert_uint_eq(report.guard_event_count, 8);
	const char *const guarded[] = {"guarded.example.com", "grab.example.com", "empty.example.com",
				       "app.example.com"};
	for (size_t r = 0; r < 4; r++)
		for (size_t g = 0; g < 2; g++) {
			event_of(&rt, &report, guarded[r], REGION_NAMES[g]);
			ck_assert(answer(&rt, t, guarded[r], REGION_NAMES[g])->flags & DYN_FLAG_GUARD);
		}
	ck_assert(!(answer(&rt, t, "loose.example.com", "europe")->flags & DYN_FLAG_GUARD));
	diag_free(&d);
	dyn_table_free(t);
	runtime_close(&rt);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, serial_compare_follows_rfc1982);
	tcase_add_test(tc, agreeing_snapshot_passes);
	tcase_add_test(tc, snapshot_without_intent_passes);
	tcase_add_test(tc, static_violations_are_named);
	tcase_add_test(tc, static_superset_of_intent_fails);
	tcase_add_test(tc, dynamic_violations_name_the_scenario);
	tcase_add_test(tc, member_out_of_intent_fails_with_every_member_up);
	tcase_add_test(tc, standby_fallback_out_of_intent_fails_with_pool_down);
	tcase_add_test(tc, fallback_pool_failures_combine_with_its_pool_down);
	tcase_add_test(tc, failover_out_of_intent_fails_with_datacenter_down);
	tcase_add_test(tc, lua_out_of_intent_fails_with_member_down);
	tcase_add_test(tc, report_is_capped_and_counts_the_rest);
	tcase_add_test(tc, report_at_the_cap_has_no_count_line);
	tcase_add_test(tc, record_intents_only_for_guarded_records);
	tcase_add_test(tc, record_intents_null_when_nothing_is_guarded);
	tcase_add_test(tc, runtime_out_of_intent_answer_gets_last_good);
	tcase_add_test(tc, runtime_without_last_good_serves_intended_members_not_out);
	tcase_add_test(tc, runtime_skips_last_good_outside_intent);
	tcase_add_test(tc, runtime_every_intended_value_when_all_are_out);
	tcase_add_test(tc, runtime_empty_answer_is_a_failed_policy);
	tcase_add_test(tc, runtime_unguarded_record_is_unchanged);
	tcase_add_test(tc, runtime_builtin_fail_open_is_guarded);
	tcase_add_test(tc, runtime_interventions_across_records);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(guard_suite(), "guard");
}
