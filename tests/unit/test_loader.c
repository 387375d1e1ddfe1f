/* test_loader.c -- what a reload keeps (loader_build_from): a zone whose files have not changed since
 * they were read is kept as it was, the very same zone; a changed master file or $INCLUDE file, a
 * file replaced, moved or touched, another file named for the zone, or dynamic records placed in it
 * make the reload read it again; a kept signed zone whose signatures have expired since is still
 * warned about. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "meridian/conf.h"
#include "meridian/loader.h"
#include "meridian/snapshot.h"
#include "support.h"

#define CONF_HEAD "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
#define ZONE(extra)                                                                                          \
	"$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n"            \
	"ns1 A 192.0.2.53\n" extra

/* The snapshot a reload of config (written as r.conf) builds with previous serving; the test fails,
 * showing why, when it does not build. d (may be NULL) gets its messages. */
static struct snapshot *reload(const char *config, const struct snapshot *previous, struct diag *d)
{
	struct diag own;
	diag_init(&own);
	struct conf *c = unit_load_conf("r.conf", config);
	struct snapshot *s =
	    loader_build_from(c, LOADER_ALL_OR_NOTHING, previous ? previous->zones : NULL, d ? d : &own);
	ck_assert_msg(s != NULL, "%s", unit_diag_text(d ? d : &own));
	diag_free(&own);
	return s;
}

static const struct zone *zone0(const struct snapshot *s)
{
	return s->zones->zones[0];
}

/* Sets path's modification time to now, its content untouched (touch(1)). */
static void touch(const char *name)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, NULL, 0), 0);
}

#define ONE_ZONE CONF_HEAD "zones = { { name = \"example.com\", file = \"a.zone\" } }\n"

START_TEST(unchanged_zone_is_kept)
{
	unit_write_file("a.zone", ZONE("www A 192.0.2.1\n"));
	struct snapshot *s1 = reload(ONE_ZONE, NULL, NULL);
	ck_assert_uint_eq(zone0(s1)->stamp_count, 1);
	/* nothing changed: the same zone */
	struct snapshot *s2 = reload(ONE_ZONE, s1, NULL);
	ck_assert_ptr_eq(zone0(s2), zone0(s1));
	/* the same file by another path (start-up reads the config's relative paths, a reload the
	 * config by its absolute name): still the same zone */
	char config[512];
	snprintf(config, sizeof(config),
		 CONF_HEAD "zones = { { name = \"example.com\", file = \"%s/./a.zone\" } }\n", unit_tmpdir);
	struct snapshot *s2b = reload(config, s2, NULL);
	ck_assert_ptr_eq(zone0(s2b), zone0(s1));
	snapshot_free(s2b);
	/* the file rewritten (same size, another address): read again */
	unit_write_file("a.zone", ZONE("www A 192.0.2.2\n"));
	struct snapshot *s3 = reload(ONE_ZONE, s2, NULL);
	ck_assert_ptr_ne(zone0(s3), zone0(s2));
	ck_assert_uint_eq(zone0(s3)->rr_count, zone0(s2)->rr_count);
	/* touched only: read again (the times say it may have changed) */
	touch("a.zone");
	struct snapshot *s4 = reload(ONE_ZONE, s3, NULL);
	ck_assert_ptr_ne(zone0(s4), zone0(s3));
	/* replaced by another file (an editor's rename): read again */
	unit_write_file("b.zone", ZONE("www A 192.0.2.2\n"));
	char from[160], to[160];
	snprintf(from, sizeof(from), "%s/b.zone", unit_tmpdir);
	snprintf(to, sizeof(to), "%s/a.zone", unit_tmpdir);
	ck_assert_int_eq(rename(from, to), 0);
	struct snapshot *s5 = reload(ONE_ZONE, s4, NULL);
	ck_assert_ptr_ne(zone0(s5), zone0(s4));
	/* another file named for the zone: read */
	unit_write_file("c.zone", ZONE("www A 192.0.2.2\n"));
	struct snapshot *s6 =
	    reload(CONF_HEAD "zones = { { name = \"example.com\", file = \"c.zone\" } }\n", s5, NULL);
	ck_assert_ptr_ne(zone0(s6), zone0(s5));
	struct snapshot *all[] = {s1, s2, s3, s4, s5, s6};
	for (size_t i = 0; i < 6; i++)
		snapshot_free(all[i]);
}
END_TEST

START_TEST(include_files_count)
{
	unit_write_file("inc.zone", "www A 192.0.2.1\n");
	unit_write_file("a.zone", ZONE("$INCLUDE inc.zone\n"));
	struct snapshot *s1 = reload(ONE_ZONE, NULL, NULL);
	ck_assert_uint_eq(zone0(s1)->stamp_count, 2);
	struct snapshot *s2 = reload(ONE_ZONE, s1, NULL);
	ck_assert_ptr_eq(zone0(s2), zone0(s1));
	/* the included file changes, the master file does not: read again */
	unit_write_file("inc.zone", "www A 192.0.2.9\nnew A 192.0.2.10\n");
	struct snapshot *s3 = reload(ONE_ZONE, s2, NULL);
	ck_assert_ptr_ne(zone0(s3), zone0(s2));
	ck_assert_uint_eq(zone0(s3)->rr_count, zone0(s2)->rr_count + 1);
	/* the included file removed: read again, and the reload fails on it */
	char path[160];
	snprintf(path, sizeof(path), "%s/inc.zone", unit_tmpdir);
	ck_assert_int_eq(remove(path), 0);
	struct diag d;
	diag_init(&d);
	struct conf *c = unit_load_conf("r.conf", ONE_ZONE);
	ck_assert_ptr_null(loader_build_from(c, LOADER_ALL_OR_NOTHING, s3->zones, &d));
	ck_assert_msg(strstr(unit_diag_text(&d), "cannot open $INCLUDE file") != NULL, "%s",
		      unit_diag_text(&d));
	diag_free(&d);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
}
END_TEST

START_TEST(zones_with_dynamic_records_are_read_again)
{
	unit_write_file("a.zone", ZONE("www A 192.0.2.1\n"));
	static const char config[] = CONF_HEAD
	    "zones = { { name = \"example.com\", file = \"a.zone\" } }\n"
	    "regions = { all = { nets = { \"0.0.0.0/0\" } } }\ndefault_region = \"all\"\n"
	    "datacenters = { dc = {} }\n"
	    "pools = { web = { members = { { name = \"a\", addr = \"192.0.2.10\", dc = \"dc\" } } } }\n"
	    "records = { { name = \"api.example.com\", type = \"A\", pool = \"web\", ttl = 30, "
	    "policy = \"all\" } }\n";
	struct snapshot *s1 = reload(config, NULL, NULL);
	ck_assert_uint_eq(zone0(s1)->dynamic_count, 1);
	/* the config's records may have changed: the zone holding them is built again */
	struct snapshot *s2 = reload(config, s1, NULL);
	ck_assert_ptr_ne(zone0(s2), zone0(s1));
	snapshot_free(s1);
	snapshot_free(s2);
}
END_TEST

START_TEST(kept_signed_zone_warns_once_expired)
{
	unit_write_file("a.zone", ZONE("www A 192.0.2.1\n"));
	struct snapshot *s1 = reload(ONE_ZONE, NULL, NULL);
	/* as if its first signature had expired since it was read (a zone kept for weeks) */
	struct zone *z = s1->zones->zones[0];
	z->dnssec.denial = ZONE_DENIAL_NSEC;
	z->dnssec.expires = (int64_t)time(NULL) - 60;
	struct diag d;
	diag_init(&d);
	struct snapshot *s2 = reload(ONE_ZONE, s1, &d);
	ck_assert_ptr_eq(zone0(s2), z);
	ck_assert_msg(strstr(unit_diag_text(&d), "zone example.com: its first RRSIG expired on ") != NULL,
		      "%s", unit_diag_text(&d));
	diag_free(&d);
	z->dnssec.denial = ZONE_DENIAL_NONE;
	z->dnssec.expires = 0;
	snapshot_free(s1);
	snapshot_free(s2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("reload");
	tcase_add_test(tc, unchanged_zone_is_kept);
	tcase_add_test(tc, include_files_count);
	tcase_add_test(tc, zones_with_dynamic_records_are_read_again);
	tcase_add_test(tc, kept_signed_zone_warns_once_expired);
	suite_add_tcase(s, tc);
	return unit_run_in_tmpdir(s, "loader");
}
