/* test_fuzz_corpus.c -- replays the query path fuzz target's corpus (tests/fuzz/corpus/: the seeds
 * tests/fuzz/make-corpus.py writes and every input a fuzzing run found wrong, kept as regressions)
 * with the normal build: each input is answered every way the server answers, and all must agree
 * and be well-formed (tests/fuzz/answer.h). `make fuzz` searches for new inputs. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "../fuzz/answer.h"
#include "support.h"

#define CORPUS "tests/fuzz/corpus"

START_TEST(corpus_answers_agree)
{
	ck_assert_msg(fuzz_answer_setup("tests/fuzz/fuzz.conf"), "tests/fuzz/fuzz.conf loads");
	DIR *dir = opendir(CORPUS);
	ck_assert_msg(dir != NULL, "%s exists", CORPUS);
	static uint8_t data[70000];
	size_t inputs = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", CORPUS, e->d_name);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "cannot read %s", path);
		size_t size = fread(data, 1, sizeof(data), f);
		fclose(f);
		const char *bad = fuzz_answer_one(data, size);
		ck_assert_msg(bad == NULL, "%s: %s", path, bad);
		inputs++;
	}
	closedir(dir);
	/* make-corpus.py writes 314 seeds; fewer means the folder was not read */
	ck_assert_uint_ge(inputs, 314);
}
END_TEST

static Suite *fuzz_corpus_suite(void)
{
	Suite *s = suite_create("fuzz_corpus");
	TCase *tc = tcase_create("fuzz_corpus");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, corpus_answers_agree);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(fuzz_corpus_suite(), "fuzz_corpus");
}
