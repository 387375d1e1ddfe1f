/* test_fuzz_corpus.c -- replays the fuzz targets' corpora with the normal build (`make fuzz` searches
 * for new inputs): tests/fuzz/corpus/ through the query path target, where every input is answered
 * every way the server answers and all must agree and be well-formed (tests/fuzz/answer.h), and
 * tests/fuzz/corpus-zone/ through the zone loader target, where sequential and chunked loading must
 * agree (tests/fuzz/zone.h), tests/fuzz/corpus-conf/ through the config loader target
 * (tests/fuzz/conf.h), and tests/fuzz/corpus-tcp/ through the TCP target, where a real worker
 * serves each stream and its replies must be query_answer's, in order (tests/fuzz/tcp.h). Each corpus holds
 * the seeds its make-corpus script writes and every input a fuzzing run found wrong, kept as a regression. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "../fuzz/answer.h"
#include "../fuzz/conf.h"
#include "../fuzz/tcp.h"
#include "../fuzz/zone.h"
#include "support.h"

/* Runs every file of folder through one; returns how many there were. */
static size_t replay(const char *folder, const char *(*one)(const uint8_t *, size_t))
{
	DIR *dir = opendir(folder);
	ck_assert_msg(dir != NULL, "%s exists", folder);
	static uint8_t data[70000];
	size_t inputs = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", folder, e->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "cannot read %s", path);
		size_t size = fread(data, 1, sizeof(data), f);
		fclose(f);
		const char *bad = one(data, size);
		ck_assert_msg(bad == NULL, "%s: %s", path, bad);
		inputs++;
	}
	closedir(dir);
	return inputs;
}

START_TEST(query_path_corpus)
{
	ck_assert_msg(fuzz_answer_setup("tests/fuzz/fuzz.conf"), "tests/fuzz/fuzz.conf loads");
	/* make-corpus.py writes 319 seeds; fewer means the folder was not read */
	ck_assert_uint_ge(replay("tests/fuzz/corpus", fuzz_answer_one), 319);
}
END_TEST

START_TEST(zone_loader_corpus)
{
	ck_assert(fuzz_zone_setup());
	/* make-corpus-zone.py writes 35 seeds */
	ck_assert_uint_ge(replay("tests/fuzz/corpus-zone", fuzz_zone_one), 35);
}
END_TEST

START_TEST(config_loader_corpus)
{
	ck_assert(fuzz_conf_setup());
	/* make-corpus-conf.py writes 18 seeds */
	ck_assert_uint_ge(replay("tests/fuzz/corpus-conf", fuzz_conf_one), 18);
}
END_TEST

START_TEST(tcp_corpus)
{
	ck_assert_msg(fuzz_tcp_setup("tests/fuzz/fuzz.conf"), "tests/fuzz/fuzz.conf loads");
	/* make-corpus-tcp.py writes 40 seeds */
	ck_assert_uint_ge(replay("tests/fuzz/corpus-tcp", fuzz_tcp_one), 40);
}
END_TEST

static Suite *fuzz_corpus_suite(void)
{
	Suite *s = suite_create("fuzz_corpus");
	TCase *tc = tcase_create("fuzz_corpus");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, query_path_corpus);
	tcase_add_test(tc, zone_loader_corpus);
	tcase_add_test(tc, config_loader_corpus);
	tcase_add_test(tc, tcp_corpus);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(fuzz_corpus_suite(), "fuzz_corpus");
}
