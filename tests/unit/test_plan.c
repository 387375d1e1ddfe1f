/* test_plan.c -- unit tests for plan_compare and its text and JSON output: snapshots are built by the
 * loader from configs, zone files and intent files written to a temporary folder, two at a time (the
 * running one and the candidate), and compared. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/loader.h"
#include "meridian/plan.h"

#include "support.h"

/* Builds the snapshot of config text (written as unit_tmpdir/name) as a reload does; it must load. */
static struct snapshot *load(const char *name, const char *config)
{
	char path[256];
	unit_write_file(name, config);
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	struct diag d;
	diag_init(&d);
	struct conf *conf = conf_load(path, &d);
	struct snapshot *s = conf ? loader_build(conf, LOADER_ALL_OR_NOTHING, &d) : NULL;
	ck_assert_msg(s != NULL, "%s did not load:%s", path, unit_diag_text(&d));
	diag_free(&d);
	return s;
}

/* A config serving the zones "name=file" listed (space-separated), then extra. */
static struct snapshot *load_zones(const char *name, const char *zones, const char *extra)
{
	char config[8192], list[2048] = "";
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", zones);
	size_t n = 0;
	for (char *save, *z = strtok_r(copy, " ", &save); z; z = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(z, '=');
		*eq = '\0';
		n += (size_t)snprintf(list + n, sizeof(list) - n, "{ name = \"%s\", file = \"%s\" }, ", z,
				      eq + 1);
	}
	snprintf(config, sizeof(config), "serial = 1\nlisten = { \"127.0.0.1:5353\" }\nzones = { %s}\n%s",
		 list, extra ? extra : "");
	return load(name, config);
}

/* Gives s the intent file (in unit_tmpdir) of its zone apex. */
static void set_intent(struct snapshot *s, const char *apex, const char *file)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, file);
	struct intent **intents = calloc(s->zones->count, sizeof(*intents));
	ck_assert_ptr_nonnull(intents);
	struct diag d;
	diag_init(&d);
	for (size_t i = 0; i < s->zones->count; i++)
		if (strcmp(s->zones->zones[i]->name_text, apex) == 0) {
			intents[i] = intent_load(apex, path, &d);
			ck_assert_msg(intents[i] != NULL, "%s did not load:%s", path, unit_diag_text(&d));
		}
	diag_free(&d);
	snapshot_set_intents(s, intents);
}

/* The change with this area and subject, or NULL. */
static const struct plan_change *find(const struct plan *p, enum plan_area area, const char *subject)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->changes[i].area == area && strcmp(p->changes[i].subject, subject) == 0)
			return &p->changes[i];
	return NULL;
}

static void expect(const struct plan *p, enum plan_area area, enum plan_kind kind, const char *subject,
		   const char *before, const char *after)
{
	const struct plan_change *c = find(p, area, subject);
	ck_assert_msg(c != NULL, "no %s change for %s", plan_area_name(area), subject);
	ck_assert_msg(c->kind == kind, "%s: %s, not %s", subject, plan_kind_name(c->kind),
		      plan_kind_name(kind));
	if (before)
		ck_assert_str_eq(c->before, before);
	else
		ck_assert_ptr_null(c->before);
	if (after)
		ck_assert_str_eq(c->after, after);
	else
		ck_assert_ptr_null(c->after);
}

static void expect_counts(const struct plan *p, enum plan_area area, size_t added, size_t removed,
			  size_t changed)
{
	ck_assert_uint_eq(p->counts[area][PLAN_ADDED], added);
	ck_assert_uint_eq(p->counts[area][PLAN_REMOVED], removed);
	ck_assert_uint_eq(p->counts[area][PLAN_CHANGED], changed);
	size_t n = 0;
	for (size_t i = 0; i < p->count; i++)
		n += p->changes[i].area == area;
	ck_assert_uint_eq(n, added + removed + changed);
}

/* What plan_write_text or plan_write_json prints (malloc'ed). */
static char *output(const struct plan *p, size_t limit, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	if (json)
		plan_write_json(p, f, limit);
	else
		plan_write_text(p, f, limit);
	fclose(f);
	return buf;
}

/* Runs python3 on the JSON (in a file) with a script that exits 0 when its checks hold. */
static int python_json(const char *json, const char *script)
{
	char path[256], cmd[4096];
	snprintf(path, sizeof(path), "%s/plan.json", unit_tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(json, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys\nd = json.load(open(\"%s\"))\n%s'", path,
		 script);
	return system(cmd);
}

#define ZONE_HEAD                                                                                            \
	"$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster %s 3600 600 86400 60\n@ NS ns1\n"              \
	"ns1 A 192.0.2.53\n"

/* Writes example.com's zone file name with serial and the records after the SOA, NS and glue. */
static void write_zone(const char *name, const char *serial, const char *records)
{
	size_t size = strlen(ZONE_HEAD) + strlen(serial) + strlen(records) + 1;
	char *text = malloc(size);
	ck_assert_ptr_nonnull(text);
	snprintf(text, size, ZONE_HEAD "%s", serial, records);
	unit_write_file(name, text);
	free(text);
}

static const char *v1_records =
    "www A 192.0.2.1\nwww A 192.0.2.2\nmail A 192.0.2.25\n@ MX 10 Mail.Example.COM.\n"
    "txt 60 TXT \"hello \\\"world\\\"\"\nalias CNAME www\n";
/* v1 with www given a third address in another order, mail gone, new added, the TTL of txt changed,
 * and names inside rdata in another case (not a change). */
static const char *v2_records =
    "www A 192.0.2.2\nwww A 192.0.2.3\nwww A 192.0.2.1\n@ MX 10 mail.example.com.\n"
    "txt 120 TXT \"hello \\\"world\\\"\"\nalias CNAME WWW.Example.com.\nnew A 192.0.2.9\n";

START_TEST(identical_inputs_have_no_changes)
{
	write_zone("same.zone", "1", v1_records);
	struct snapshot *a = load_zones("same1.conf", "example.com=same.zone", NULL);
	struct snapshot *b = load_zones("same2.conf", "example.com=same.zone", NULL);
	struct plan *p = plan_compare(a, b);
	ck_assert_uint_eq(p->count, 0);
	char *text = output(p, 10, false), *json = output(p, 10, true);
	ck_assert_str_eq(text, "no changes\n");
	ck_assert_str_eq(
	    json, "{\"counts\":{\"zone\":{\"added\":0,\"removed\":0,\"changed\":0},"
		  "\"rrset\":{\"added\":0,\"removed\":0,\"changed\":0},"
		  "\"answer\":{\"added\":0,\"removed\":0,\"changed\":0},"
		  "\"intent\":{\"added\":0,\"removed\":0,\"changed\":0}},\"changes\":[],\"omitted\":0}");
	free(text);
	free(json);
	plan_free(p);
	/* a snapshot against itself (zones shared) */
	p = plan_compare(a, a);
	ck_assert_uint_eq(p->count, 0);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

START_TEST(zones_added_removed_changed)
{
	write_zone("z1.zone", "1", v1_records);
	write_zone("z2.zone", "2", v1_records);
	unit_write_file("other.zone",
			"$ORIGIN other.test.\n@ 300 SOA ns hostmaster 7 1 1 1 1\n@ 300 NS ns.example.com.\n");
	unit_write_file("third.zone",
			"$ORIGIN third.test.\n@ 300 SOA ns hostmaster 9 1 1 1 1\n@ 300 NS ns.example.com.\n"
			"a 300 A 192.0.2.1\n");
	struct snapshot *a = load_zones("zr.conf", "example.com=z1.zone other.test=other.zone", NULL);
	struct snapshot *b = load_zones("zc.conf", "third.test=third.zone example.com=z2.zone", NULL);
	struct plan *p = plan_compare(a, b);
	expect_counts(p, PLAN_ZONE, 1, 1, 1);
	expect(p, PLAN_ZONE, PLAN_CHANGED, "example.com.", "serial 1, 9 records", "serial 2, 9 records");
	expect(p, PLAN_ZONE, PLAN_REMOVED, "other.test.", "serial 7, 2 records", NULL);
	expect(p, PLAN_ZONE, PLAN_ADDED, "third.test.", NULL, "serial 9, 3 records");
	/* a new serial changes the SOA RRset; the RRsets of added and removed zones are not listed */
	expect_counts(p, PLAN_RRSET, 0, 0, 1);
	ck_assert_ptr_nonnull(find(p, PLAN_RRSET, "example.com. SOA"));
	ck_assert_str_eq(p->changes[0].subject, "example.com.");
	ck_assert_str_eq(p->changes[1].subject, "other.test.");
	ck_assert_str_eq(p->changes[2].subject, "third.test.");
	plan_free(p);
	/* the other way round */
	p = plan_compare(b, a);
	expect(p, PLAN_ZONE, PLAN_CHANGED, "example.com.", "serial 2, 9 records", "serial 1, 9 records");
	expect(p, PLAN_ZONE, PLAN_ADDED, "other.test.", NULL, "serial 7, 2 records");
	expect(p, PLAN_ZONE, PLAN_REMOVED, "third.test.", "serial 9, 3 records", NULL);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

START_TEST(rrsets_added_removed_changed)
{
	write_zone("r1.zone", "1", v1_records);
	write_zone("r2.zone", "1", v2_records);
	struct snapshot *a = load_zones("r1.conf", "example.com=r1.zone", NULL);
	struct snapshot *b = load_zones("r2.conf", "example.com=r2.zone", NULL);
	struct plan *p = plan_compare(a, b);
	expect(p, PLAN_ZONE, PLAN_CHANGED, "example.com.", "serial 1, 9 records", "serial 1, 10 records");
	expect_counts(p, PLAN_RRSET, 1, 1, 2);
	expect(p, PLAN_RRSET, PLAN_REMOVED, "mail.example.com. A", "192.0.2.25 (ttl 300)", NULL);
	expect(p, PLAN_RRSET, PLAN_ADDED, "new.example.com. A", NULL, "192.0.2.9 (ttl 300)");
	expect(p, PLAN_RRSET, PLAN_CHANGED, "www.example.com. A", "192.0.2.1, 192.0.2.2 (ttl 300)",
	       "192.0.2.1, 192.0.2.2, 192.0.2.3 (ttl 300)");
	const struct plan_change *txt = find(p, PLAN_RRSET, "txt.example.com. TXT");
	ck_assert_ptr_nonnull(txt);
	ck_assert_int_eq(txt->kind, PLAN_CHANGED);
	ck_assert_msg(strstr(txt->before, "world") && strstr(txt->before, " (ttl 60)"), "%s", txt->before);
	ck_assert_msg(strstr(txt->after, "world") && strstr(txt->after, " (ttl 120)"), "%s", txt->after);
	/* names in rdata differing in case only are not changes */
	ck_assert_ptr_null(find(p, PLAN_RRSET, "example.com. MX"));
	ck_assert_ptr_null(find(p, PLAN_RRSET, "alias.example.com. CNAME"));
	ck_assert_uint_eq(p->count, 5);
	char *text = output(p, 10, false);
	char want[1024];
	snprintf(want, sizeof(want),
		 "zones: 1 changed\n"
		 "  ~ example.com.: serial 1, 9 records -> serial 1, 10 records\n"
		 "rrsets: 1 added, 1 removed, 2 changed\n"
		 "  - mail.example.com. A: 192.0.2.25 (ttl 300)\n"
		 "  + new.example.com. A: 192.0.2.9 (ttl 300)\n"
		 "  ~ txt.example.com. TXT: %s -> %s\n"
		 "  ~ www.example.com. A: 192.0.2.1, 192.0.2.2 (ttl 300) -> 192.0.2.1, 192.0.2.2, 192.0.2.3 "
		 "(ttl 300)\n",
		 txt->before, txt->after);
	ck_assert_str_eq(text, want);
	free(text);
	/* at most one change per area, then how many more */
	text = output(p, 1, false);
	ck_assert_str_eq(text, "zones: 1 changed\n"
			       "  ~ example.com.: serial 1, 9 records -> serial 1, 10 records\n"
			       "rrsets: 1 added, 1 removed, 2 changed\n"
			       "  - mail.example.com. A: 192.0.2.25 (ttl 300)\n"
			       "  ... and 3 more\n");
	free(text);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

START_TEST(json_output)
{
	write_zone("j1.zone", "1", v1_records);
	write_zone("j2.zone", "1", v2_records);
	struct snapshot *a = load_zones("j1.conf", "example.com=j1.zone", NULL);
	struct snapshot *b = load_zones("j2.conf", "example.com=j2.zone", NULL);
	struct plan *p = plan_compare(a, b);
	char *json = output(p, 1, true);
	/* the zone change and the first RRset change listed, three omitted */
	const char *head = "{\"counts\":{\"zone\":{\"added\":0,\"removed\":0,\"changed\":1},"
			   "\"rrset\":{\"added\":1,\"removed\":1,\"changed\":2},"
			   "\"answer\":{\"added\":0,\"removed\":0,\"changed\":0},"
			   "\"intent\":{\"added\":0,\"removed\":0,\"changed\":0}},\"changes\":["
			   "{\"area\":\"zone\",\"kind\":\"changed\",\"subject\":\"example.com.\","
			   "\"before\":\"serial 1, 9 records\",\"after\":\"serial 1, 10 records\"},"
			   "{\"area\":\"rrset\",\"kind\":\"removed\",\"subject\":\"mail.example.com. A\","
			   "\"before\":\"192.0.2.25 (ttl 300)\",\"after\":null}],\"omitted\":3}";
	ck_assert_str_eq(json, head);
	free(json);
	/* everything, quotes and backslashes of TXT included, parses back to the same strings */
	json = output(p, 100, true);
	const struct plan_change *txt = find(p, PLAN_RRSET, "txt.example.com. TXT");
	char script[2048];
	snprintf(script, sizeof(script),
		 "c = d[\"changes\"]\n"
		 "assert d[\"omitted\"] == 0 and len(c) == 5, d\n"
		 "t = [x for x in c if x[\"subject\"] == \"txt.example.com. TXT\"][0]\n"
		 "assert t[\"before\"] == sys.argv[1] and t[\"after\"] == sys.argv[2], t\n"
		 "assert [x[\"area\"] for x in c] == [\"zone\"] + [\"rrset\"] * 4\n"
		 "assert c[2][\"before\"] is None and c[2][\"kind\"] == \"added\"' '%s' '%s",
		 txt->before, txt->after);
	ck_assert_int_eq(python_json(json, script), 0);
	ck_assert(json[strlen(json) - 1] == '}');
	free(json);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

/* A plan with strings JSON must escape: control characters, quotes, bytes that are not UTF-8
 * (written as \u00XX, json.h). */
START_TEST(json_escapes)
{
	struct plan_change c = {.area = PLAN_RRSET,
				.kind = PLAN_CHANGED,
				.subject = "a\"b\\c\td\ne\x01.",
				.before = "caf\xc3\xa9 \xff",
				.after = NULL};
	struct plan p = {.changes = &c, .count = 1, .cap = 1};
	p.counts[PLAN_RRSET][PLAN_CHANGED] = 1;
	char *json = output(&p, 5, true);
	ck_assert_msg(strstr(json,
			     "\"subject\":\"a\\\"b\\\\c\\td\\ne\\u0001.\",\"before\":\"caf\xc3\xa9 \\u00ff\","
			     "\"after\":null") != NULL,
		      "%s", json);
	ck_assert_int_eq(python_json(json, "s = d[\"changes\"][0]\n"
					   "assert s[\"subject\"] == \"a\\\"b\\\\c\\td\\ne\\x01.\", s\n"
					   "assert s[\"before\"] == \"caf\\u00e9 \\u00ff\", s"),
			 0);
	free(json);
}
END_TEST

/* RFC 4034 6.1 order, then type, then kind. */
START_TEST(canonical_order)
{
	write_zone("o1.zone", "1", "");
	write_zone("o2.zone", "1",
		   "z.example.com. A 192.0.2.1\nzABC.a.EXAMPLE.com. A 192.0.2.1\n\\200.z A 192.0.2.1\n"
		   "*.z A 192.0.2.1\nyljkjljk.a A 192.0.2.1\n\\001.z A 192.0.2.1\nZ.a A 192.0.2.1\n"
		   "a AAAA 2001:db8::1\na A 192.0.2.1\n@ TXT x\n");
	struct snapshot *a = load_zones("o1.conf", "example.com=o1.zone", NULL);
	struct snapshot *b = load_zones("o2.conf", "example.com=o2.zone", NULL);
	struct plan *p = plan_compare(a, b);
	const char *want[] = {"example.com.",	       "example.com. TXT",	    "a.example.com. A",
			      "a.example.com. AAAA",   "yljkjljk.a.example.com. A", "z.a.example.com. A",
			      "zabc.a.example.com. A", "z.example.com. A",	    "\\001.z.example.com. A",
			      "*.z.example.com. A",    "\\200.z.example.com. A"};
	ck_assert_uint_eq(p->count, sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < p->count; i++)
		ck_assert_str_eq(p->changes[i].subject, want[i]);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

/* Regions europe and americas; api A by failover (europe prefers ams, americas iad). */
#define DYN_CONF                                                                                             \
	"regions = { europe = { nets = { \"10.1.0.0/16\" } }, americas = { nets = { \"10.2.0.0/16\" } }%s "  \
	"}\n"                                                                                                \
	"default_region = \"americas\"\n"                                                                    \
	"datacenters = { ams = {}, iad = {} }\n"                                                             \
	"pools = { web = { members = {\n"                                                                    \
	"  { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"                                     \
	"  { name = \"ams-2\", addr = \"192.0.2.11\", dc = \"ams\" },\n"                                     \
	"  { name = \"iad-1\", addr = \"%s\", dc = \"iad\" },\n"                                             \
	"  { name = \"ams-6\", addr = \"2001:db8::10\", dc = \"ams\" },\n"                                   \
	"} } }\n"                                                                                            \
	"local order = { europe = { \"ams\", \"iad\" }, americas = { \"iad\", \"ams\" } }\n"                 \
	"records = {\n"                                                                                      \
	"  { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = %d, policy = \"failover\", "    \
	"order = order },\n%s}\n"

static struct snapshot *load_dyn(const char *name, const char *zone, const char *regions, const char *iad,
				 int ttl, const char *records)
{
	char extra[4096];
	snprintf(extra, sizeof(extra), DYN_CONF, regions, iad, ttl, records);
	char zones[256];
	snprintf(zones, sizeof(zones), "example.com=%s", zone);
	return load_zones(name, zones, extra);
}

START_TEST(answers_per_region)
{
	write_zone("d.zone", "1", "www A 192.0.2.1\n");
	struct snapshot *a = load_dyn("d1.conf", "d.zone", "", "198.51.100.10", 30, "");
	/* iad-1 moved, a region added, an AAAA record added */
	struct snapshot *b =
	    load_dyn("d2.conf", "d.zone", ", asia = { nets = { \"10.3.0.0/16\" } }", "198.51.100.11", 30,
		     "  { name = \"api.example.com\", type = \"AAAA\", pool = \"web\", ttl = 60, "
		     "policy = \"all\" },\n");
	struct plan *p = plan_compare(a, b);
	/* the zone's record count is the one status shows: dynamic records count once each */
	expect(p, PLAN_ZONE, PLAN_CHANGED, "example.com.", "serial 1, 5 records", "serial 1, 6 records");
	expect_counts(p, PLAN_RRSET, 0, 0, 0);
	expect_counts(p, PLAN_ANSWER, 4, 0, 1);
	ck_assert_ptr_null(find(p, PLAN_ANSWER, "api.example.com. A region europe"));
	expect(p, PLAN_ANSWER, PLAN_CHANGED, "api.example.com. A region americas", "198.51.100.10 (ttl 30)",
	       "198.51.100.11 (ttl 30)");
	expect(p, PLAN_ANSWER, PLAN_ADDED, "api.example.com. A region asia", NULL, "198.51.100.11 (ttl 30)");
	expect(p, PLAN_ANSWER, PLAN_ADDED, "api.example.com. AAAA region europe", NULL,
	       "2001:db8::10 (ttl 60)");
	expect(p, PLAN_ANSWER, PLAN_ADDED, "api.example.com. AAAA region asia", NULL,
	       "2001:db8::10 (ttl 60)");
	const char *order[] = {"api.example.com. A region americas", "api.example.com. A region asia",
			       "api.example.com. AAAA region americas", "api.example.com. AAAA region asia",
			       "api.example.com. AAAA region europe"};
	ck_assert_uint_eq(p->count, 6);
	for (size_t i = 1; i < p->count; i++)
		ck_assert_str_eq(p->changes[i].subject, order[i - 1]);
	plan_free(p);
	/* back: removals; and a TTL change alone is a change in every region */
	p = plan_compare(b, a);
	expect_counts(p, PLAN_ANSWER, 0, 4, 1);
	expect(p, PLAN_ANSWER, PLAN_REMOVED, "api.example.com. AAAA region americas", "2001:db8::10 (ttl 60)",
	       NULL);
	plan_free(p);
	struct snapshot *c = load_dyn("d3.conf", "d.zone", "", "198.51.100.10", 45, "");
	p = plan_compare(a, c);
	expect_counts(p, PLAN_ANSWER, 0, 0, 2);
	expect(p, PLAN_ANSWER, PLAN_CHANGED, "api.example.com. A region europe",
	       "192.0.2.10, 192.0.2.11 (ttl 30)", "192.0.2.10, 192.0.2.11 (ttl 45)");
	plan_free(p);
	/* the same config loaded again: the answers match by name */
	struct snapshot *d = load_dyn("d4.conf", "d.zone", "", "198.51.100.10", 30, "");
	p = plan_compare(a, d);
	ck_assert_uint_eq(p->count, 0);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
	snapshot_free(c);
	snapshot_free(d);
}
END_TEST

/* Without regions the one region has no name; a static RRset that became dynamic is an RRset removed
 * and answers added. */
START_TEST(answers_without_regions_and_static_to_dynamic)
{
	write_zone("s1.zone", "1", "api A 192.0.2.77\ncdn CNAME edge.example.net.\n");
	write_zone("s2.zone", "1", "cdn CNAME edge.example.net.\n");
	struct snapshot *a = load_zones("s1.conf", "example.com=s1.zone", NULL);
	const char *pools =
	    "datacenters = { ams = {} }\n"
	    "pools = { web = { members = { { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" },\n"
	    "  { name = \"ams-2\", addr = \"192.0.2.2\", dc = \"ams\" } } },\n"
	    "  edge = { members = { { name = \"e\", target = \"Edge.Example.NET\", dc = \"ams\" } } } }\n"
	    "records = { { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = 20, policy = "
	    "\"all\" },\n"
	    "  { name = \"www.example.com\", type = \"CNAME\", pool = \"edge\", ttl = 20, policy = "
	    "\"all\" } }\n";
	struct snapshot *b = load_zones("s2.conf", "example.com=s2.zone", pools);
	struct plan *p = plan_compare(a, b);
	expect(p, PLAN_RRSET, PLAN_REMOVED, "api.example.com. A", "192.0.2.77 (ttl 300)", NULL);
	expect(p, PLAN_ANSWER, PLAN_ADDED, "api.example.com. A region -", NULL,
	       "192.0.2.2, 192.0.2.10 (ttl 20)");
	expect(p, PLAN_ANSWER, PLAN_ADDED, "www.example.com. CNAME region -", NULL,
	       "edge.example.net. (ttl 20)");
	expect_counts(p, PLAN_RRSET, 0, 1, 0);
	expect_counts(p, PLAN_ANSWER, 2, 0, 0);
	expect_counts(p, PLAN_ZONE, 0, 0, 1);
	char *text = output(p, 5, false);
	ck_assert_str_eq(text, "zones: 1 changed\n"
			       "  ~ example.com.: serial 1, 5 records -> serial 1, 6 records\n"
			       "rrsets: 1 removed\n"
			       "  - api.example.com. A: 192.0.2.77 (ttl 300)\n"
			       "answers: 2 added\n"
			       "  + api.example.com. A region -: 192.0.2.2, 192.0.2.10 (ttl 20)\n"
			       "  + www.example.com. CNAME region -: edge.example.net. (ttl 20)\n");
	free(text);
	plan_free(p);
	/* and back to static */
	p = plan_compare(b, a);
	expect(p, PLAN_RRSET, PLAN_ADDED, "api.example.com. A", NULL, "192.0.2.77 (ttl 300)");
	expect(p, PLAN_ANSWER, PLAN_REMOVED, "api.example.com. A region -", "192.0.2.2, 192.0.2.10 (ttl 20)",
	       NULL);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

/* s with answers copied from its own, the first one left without values and given ttl. */
static struct snapshot *without_values(const struct snapshot *s, uint32_t ttl)
{
	struct dyn_table *t = calloc(1, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	arena_init(&t->arena, 4096);
	t->record_count = s->dyn->record_count;
	t->region_count = s->dyn->region_count;
	size_t n = t->record_count * t->region_count;
	t->answers = arena_memdup(&t->arena, s->dyn->answers, n * sizeof(*t->answers));
	t->answers[0].count = 0;
	t->answers[0].ttl = ttl;
	return snapshot_derive(s, t);
}

/* A record may have no answer in a region (count 0): it is compared as "no answer". */
START_TEST(answers_without_values)
{
	write_zone("e.zone", "1", "");
	const char *conf =
	    "datacenters = { ams = {} }\n"
	    "pools = { web = { members = { { name = \"ams-1\", addr = \"192.0.2.10\", dc = \"ams\" } } } }\n"
	    "records = { { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = 20, "
	    "policy = \"all\" } }\n";
	struct snapshot *a = load_zones("e.conf", "example.com=e.zone", conf);
	struct snapshot *b = without_values(a, 20), *c = without_values(a, 40);
	struct plan *p = plan_compare(a, b);
	ck_assert_uint_eq(p->count, 1);
	expect(p, PLAN_ANSWER, PLAN_CHANGED, "api.example.com. A region -", "192.0.2.10 (ttl 20)",
	       "no answer");
	plan_free(p);
	p = plan_compare(c, a);
	expect(p, PLAN_ANSWER, PLAN_CHANGED, "api.example.com. A region -", "no answer",
	       "192.0.2.10 (ttl 20)");
	plan_free(p);
	/* no values on either side: the TTL does not matter */
	p = plan_compare(b, c);
	ck_assert_uint_eq(p->count, 0);
	plan_free(p);
	snapshot_free(b);
	snapshot_free(c);
	snapshot_free(a);
}
END_TEST

START_TEST(intent_added_removed_changed)
{
	write_zone("i.zone", "1", v1_records);
	unit_write_file("i1.intent", "www A 192.0.2.1\nwww A 192.0.2.2\napi A 192.0.2.10\n@ MX 10 mail\n");
	unit_write_file("i2.intent",
			"www IN A 192.0.2.2\nwww A 192.0.2.1\napi A 192.0.2.10\napi A 198.51.100.10\n"
			"mail A 192.0.2.25\n");
	struct snapshot *none = load_zones("i0.conf", "example.com=i.zone", NULL);
	struct snapshot *a = load_zones("i1.conf", "example.com=i.zone", NULL);
	struct snapshot *b = load_zones("i2.conf", "example.com=i.zone", NULL);
	set_intent(a, "example.com", "i1.intent");
	set_intent(b, "example.com", "i2.intent");

	struct plan *p = plan_compare(a, b);
	expect_counts(p, PLAN_INTENT, 1, 1, 1);
	ck_assert_uint_eq(p->count, 3);
	expect(p, PLAN_INTENT, PLAN_REMOVED, "example.com. MX", "10 mail.example.com.", NULL);
	expect(p, PLAN_INTENT, PLAN_CHANGED, "api.example.com. A", "192.0.2.10", "192.0.2.10, 198.51.100.10");
	expect(p, PLAN_INTENT, PLAN_ADDED, "mail.example.com. A", NULL, "192.0.2.25");
	ck_assert_str_eq(p->changes[0].subject, "example.com. MX");
	ck_assert_str_eq(p->changes[1].subject, "api.example.com. A");
	ck_assert_str_eq(p->changes[2].subject, "mail.example.com. A");
	char *text = output(p, 10, false);
	ck_assert_str_eq(text, "intent: 1 added, 1 removed, 1 changed\n"
			       "  - example.com. MX: 10 mail.example.com.\n"
			       "  ~ api.example.com. A: 192.0.2.10 -> 192.0.2.10, 198.51.100.10\n"
			       "  + mail.example.com. A: 192.0.2.25\n");
	free(text);
	plan_free(p);

	/* an intent file appearing: the zone's entry, then every RRset */
	char file[256];
	snprintf(file, sizeof(file), "intent %s/i1.intent", unit_tmpdir);
	p = plan_compare(none, a);
	expect_counts(p, PLAN_INTENT, 4, 0, 0);
	expect(p, PLAN_INTENT, PLAN_ADDED, "example.com.", "no intent", file);
	expect(p, PLAN_INTENT, PLAN_ADDED, "www.example.com. A", NULL, "192.0.2.1, 192.0.2.2");
	ck_assert_str_eq(p->changes[0].subject, "example.com.");
	ck_assert_str_eq(p->changes[1].subject, "example.com. MX");
	plan_free(p);
	/* and disappearing */
	p = plan_compare(a, none);
	expect_counts(p, PLAN_INTENT, 0, 4, 0);
	expect(p, PLAN_INTENT, PLAN_REMOVED, "example.com.", file, "no intent");
	expect(p, PLAN_INTENT, PLAN_REMOVED, "api.example.com. A", "192.0.2.10", NULL);
	plan_free(p);
	/* the same intent, loaded twice */
	struct snapshot *a2 = load_zones("i3.conf", "example.com=i.zone", NULL);
	set_intent(a2, "example.com", "i1.intent");
	p = plan_compare(a, a2);
	ck_assert_uint_eq(p->count, 0);
	plan_free(p);
	snapshot_free(none);
	snapshot_free(a);
	snapshot_free(a2);
	snapshot_free(b);
}
END_TEST

/* Every change kept and counted; the listing and the JSON cut per area. */
START_TEST(many_changes)
{
	enum { N = 20000 };
	size_t size = (size_t)N * 2 * 40;
	char *r1 = malloc(size), *r2 = malloc(size);
	ck_assert(r1 && r2);
	size_t n1 = 0, n2 = 0;
	for (int i = 0; i < N; i++) {
		n1 += (size_t)snprintf(r1 + n1, size - n1, "h%d A 10.%d.%d.1\n", i, i >> 8 & 255, i & 255);
		n2 += (size_t)snprintf(r2 + n2, size - n2, "h%d A 10.%d.%d.%d\n", i, i >> 8 & 255, i & 255,
				       i % 2 ? 1 : 2);
		n2 += (size_t)snprintf(r2 + n2, size - n2, "g%d A 10.0.0.1\n", i);
	}
	write_zone("m1.zone", "1", r1);
	write_zone("m2.zone", "1", r2);
	free(r1);
	free(r2);
	struct snapshot *a = load_zones("m1.conf", "example.com=m1.zone", NULL);
	struct snapshot *b = load_zones("m2.conf", "example.com=m2.zone", NULL);
	struct plan *p = plan_compare(a, b);
	expect_counts(p, PLAN_RRSET, N, 0, N / 2);
	expect(p, PLAN_RRSET, PLAN_CHANGED, "h10.example.com. A", "10.0.10.1 (ttl 300)",
	       "10.0.10.2 (ttl 300)");
	for (size_t i = 2; i < p->count; i++) /* single labels below one parent: byte order of the label */
		ck_assert_msg(strcmp(p->changes[i - 1].subject, p->changes[i].subject) < 0, "%s before %s",
			      p->changes[i - 1].subject, p->changes[i].subject);
	char *text = output(p, 2, false);
	char want[512];
	snprintf(want, sizeof(want),
		 "zones: 1 changed\n"
		 "  ~ example.com.: serial 1, %d records -> serial 1, %d records\n"
		 "rrsets: %d added, %d changed\n"
		 "  + g0.example.com. A: 10.0.0.1 (ttl 300)\n"
		 "  + g1.example.com. A: 10.0.0.1 (ttl 300)\n"
		 "  ... and %d more\n",
		 N + 3, 2 * N + 3, N, N / 2, N + N / 2 - 2);
	ck_assert_str_eq(text, want);
	free(text);
	char *json = output(p, 2, true);
	char script[256];
	snprintf(script, sizeof(script),
		 "assert d[\"omitted\"] == %d and len(d[\"changes\"]) == 3, d[\"omitted\"]", N + N / 2 - 2);
	ck_assert_int_eq(python_json(json, script), 0);
	free(json);
	plan_free(p);
	snapshot_free(a);
	snapshot_free(b);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, identical_inputs_have_no_changes);
	tcase_add_test(tc, zones_added_removed_changed);
	tcase_add_test(tc, rrsets_added_removed_changed);
	tcase_add_test(tc, json_output);
	tcase_add_test(tc, json_escapes);
	tcase_add_test(tc, canonical_order);
	tcase_add_test(tc, answers_per_region);
	tcase_add_test(tc, answers_without_regions_and_static_to_dynamic);
	tcase_add_test(tc, answers_without_values);
	tcase_add_test(tc, intent_added_removed_changed);
	tcase_add_test(tc, many_changes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(plan_suite(), "plan");
}
