/* test_diag.c -- unit tests of the error lists (diag.h): adding, moving, and the sort that makes
 * messages found while walking Lua tables come out in one order. */
#include <check.h>

#include "meridian/diag.h"
#include "support.h"

START_TEST(sorted_by_file_line_then_text)
{
	struct diag d;
	diag_init(&d);
	diag_error(&d, NULL, 0, "kept first: before the sorted part");
	diag_error(&d, "b.conf", 10, "x");
	diag_error(&d, "a.conf", 10, "a");
	diag_warn(&d, "a.conf", 9, "z");
	diag_error(&d, "a.conf", 9, "y");
	diag_error(&d, "a.conf", 0, "the whole file");
	diag_error(&d, NULL, 0, "listen 127.0.0.1:53 (udp): in use");
	diag_sort(&d, 1);
	static const char *const want[] = {
	    "kept first: before the sorted part",
	    "a.conf: the whole file",
	    "a.conf:9: y",
	    "a.conf:9: z",
	    "a.conf:10: a", /* 10 after 9: lines compare as numbers */
	    "b.conf:10: x",
	    "listen 127.0.0.1:53 (udp): in use",
	};
	ck_assert_uint_eq(d.count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.count; i++)
		ck_assert_str_eq(d.entries[i].text, want[i]);
	/* levels travel with their texts; the error count is unchanged */
	ck_assert_int_eq(d.entries[3].level, DIAG_WARNING);
	ck_assert_uint_eq(d.errors, 6);
	diag_sort(&d, d.count); /* nothing to sort: harmless */
	diag_free(&d);
}
END_TEST

START_TEST(moved_entries_keep_their_levels)
{
	struct diag a, b;
	diag_init(&a);
	diag_init(&b);
	diag_error(&a, "x.zone", 3, "bad");
	diag_warn(&b, "y.zone", 4, "odd");
	diag_error(&b, "y.zone", 5, "worse");
	diag_move(&a, &b);
	ck_assert_uint_eq(a.count, 3);
	ck_assert_uint_eq(a.errors, 2);
	ck_assert_uint_eq(b.count, 0);
	ck_assert_str_eq(a.entries[1].text, "y.zone:4: odd");
	ck_assert_int_eq(a.entries[1].level, DIAG_WARNING);
	diag_free(&a);
	diag_free(&b);
}
END_TEST

static Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("diag");
	tcase_add_test(tc, sorted_by_file_line_then_text);
	tcase_add_test(tc, moved_entries_keep_their_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(diag_suite(), "diag");
}
