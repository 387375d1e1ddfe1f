/* test_audit.c -- unit tests of the audit log: exact lines, JSON escaping, appending, failures.
 *
 * Logs go to a fresh folder under /tmp. Besides the exact expected text, every line written is
 * parsed by python3's json module (reading the file as strict UTF-8), which is what a log reader
 * would do. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "meridian/audit.h"

#define T0 1795255200.0 /* 2026-11-21T10:00:00Z */

static char dir[64];
static char log_path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_audit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/audit.log", dir);
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The file's content (malloc'd, NUL-terminated). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

/* Runs python3 on the log with script (which sees the parsed lines as `lines`); its exit status. */
static int python_check(const char *path, const char *script)
{
	char py[160], cmd[512];
	snprintf(py, sizeof(py), "%s/check.py", dir);
	FILE *f = fopen(py, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"import json, sys\n"
		"lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8', errors='strict')]\n"
		"%s\n",
		script);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", py, path);
	return system(cmd);
}

static void assert_line(struct audit_event *e, const char *want)
{
	ck_assert_str_eq(audit_line(e), want);
}

START_TEST(test_exact_line)
{
	struct audit_event e;
	audit_begin_at(&e, "reload", T0 + 0.123);
	audit_add_string(&e, "zone", "example.com.");
	audit_add_uint(&e, "serial", 2026112101);
	audit_add_uint(&e, "max", UINT64_MAX);
	audit_add_int(&e, "delta", -5);
	audit_add_int(&e, "min", INT64_MIN);
	audit_add_bool(&e, "accepted", true);
	audit_add_bool(&e, "forced", false);
	audit_add_string(&e, "reason", NULL);
	assert_line(&e,
		    "{\"time\":\"2026-11-21T10:00:00.123Z\",\"event\":\"reload\",\"zone\":\"example.com.\","
		    "\"serial\":2026112101,\"max\":18446744073709551615,\"delta\":-5,"
		    "\"min\":-9223372036854775808,\"accepted\":true,\"forced\":false,\"reason\":null}");
	/* more fields after a look at the line */
	audit_add_uint(&e, "n", 1);
	ck_assert_ptr_nonnull(strstr(audit_line(&e), "\"reason\":null,\"n\":1}"));
	audit_discard(&e);
	ck_assert_ptr_null(e.buf);

	audit_begin_at(&e, "set", T0 + 86399.9996); /* rounds to the next second */
	assert_line(&e, "{\"time\":\"2026-11-22T10:00:00.000Z\",\"event\":\"set\"}");
	audit_discard(&e);
	audit_begin_at(&e, "set", 0.5);
	assert_line(&e, "{\"time\":\"1970-01-01T00:00:00.500Z\",\"event\":\"set\"}");
	audit_discard(&e);
	audit_begin_at(&e, "set", T0 + 0.007);
	assert_line(&e, "{\"time\":\"2026-11-21T10:00:00.007Z\",\"event\":\"set\"}");
	audit_discard(&e);
}
END_TEST

START_TEST(test_begin_now)
{
	struct audit_event e;
	time_t before = time(NULL);
	audit_begin(&e, "guard");
	time_t after = time(NULL);
	const char *l = audit_line(&e);
	/* {"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","event":"guard"} */
	ck_assert_int_eq(strncmp(l, "{\"time\":\"", 9), 0);
	ck_assert_str_eq(l + 9 + 24, "\",\"event\":\"guard\"}");
	struct tm tm = {0};
	const char *rest = strptime(l + 9, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_ptr_nonnull(rest);
	ck_assert(rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
		  rest[3] >= '0' && rest[3] <= '9' && rest[4] == 'Z');
	time_t t = timegm(&tm);
	ck_assert(t >= before && t <= after);
	audit_discard(&e);
}
END_TEST

START_TEST(test_escaping)
{
	struct audit_event e;
	audit_begin_at(&e, "e\"v", T0);
	audit_add_string(&e, "quote\"key", "say \"hi\" \\ there");
	audit_add_string(&e, "ctl", "a\nb\tc\rd\001e\037f\177g");
	audit_add_string(&e, "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf");
	audit_add_string(&e, "empty", "");
	assert_line(&e, "{\"time\":\"2026-11-21T10:00:00.000Z\",\"event\":\"e\\\"v\","
			"\"quote\\\"key\":\"say \\\"hi\\\" \\\\ there\","
			"\"ctl\":\"a\\nb\\tc\\u000dd\\u0001e\\u001ff\177g\","
			"\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf\","
			"\"empty\":\"\"}");
	audit_discard(&e);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"\xff", "\\u00ff"},
	    {"a\xc3", "a\\u00c3"},				  /* cut short at the end */
	    {"\xc3(", "\\u00c3("},				  /* a bad continuation */
	    {"\xc0\xaf", "\\u00c0\\u00af"},			  /* overlong */
	    {"\xe0\x80\xaf", "\\u00e0\\u0080\\u00af"},		  /* overlong, 3 bytes */
	    {"\xed\xa0\x80", "\\u00ed\\u00a0\\u0080"},		  /* a surrogate */
	    {"\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"}, /* above U+10FFFF */
	    {"\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080"},
	    {"\xe2\x82"
	     "A",
	     "\\u00e2\\u0082A"},
	    {"\x80\xc3\xa9", "\\u0080\xc3\xa9"}, /* a stray continuation, then a valid character */
	    {"\xed\x9f\xbf\xf4\x8f\xbf\xbf", "\xed\x9f\xbf\xf4\x8f\xbf\xbf"}, /* U+D7FF, U+10FFFF */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_event e;
		char want[256];
		audit_begin_at(&e, "x", T0);
		audit_add_string(&e, "s", cases[i].in);
		snprintf(want, sizeof(want),
			 "{\"time\":\"2026-11-21T10:00:00.000Z\",\"event\":\"x\",\"s\":\"%s\"}",
			 cases[i].out);
		assert_line(&e, want);
		audit_discard(&e);
	}
}
END_TEST

START_TEST(test_arrays)
{
	struct audit_event e;
	static const char *const values[] = {"a", "b\"c", NULL, "\xff"};
	audit_begin_at(&e, "guard", T0);
	audit_add_strings(&e, "values", values, 4);
	audit_add_strings(&e, "none", NULL, 0);
	struct diag d;
	diag_init(&d);
	diag_error(&d, "x.intent", 3, "SOA cannot be an intent");
	diag_warn(&d, "x.intent", 5, "api A 192.0.2.1 is listed twice");
	diag_error(&d, "conf.lua", 0, "serial 4 is not newer than 5");
	audit_add_diag(&e, "reasons", &d);
	diag_free(&d);
	audit_add_diag(&e, "empty", &d);
	assert_line(&e, "{\"time\":\"2026-11-21T10:00:00.000Z\",\"event\":\"guard\","
			"\"values\":[\"a\",\"b\\\"c\",null,\"\\u00ff\"],\"none\":[],"
			"\"reasons\":[\"x.intent:3: SOA cannot be an intent\","
			"\"warning: x.intent:5: api A 192.0.2.1 is listed twice\","
			"\"conf.lua: serial 4 is not newer than 5\"],\"empty\":[]}");
	audit_discard(&e);
}
END_TEST

/* Writes the events of test_file to a; each line it expects goes to want. */
static void write_events(struct audit *a, char *want, size_t size, int from, int to)
{
	for (int i = from; i < to; i++) {
		struct audit_event e;
		audit_begin_at(&e, i % 2 ? "reload" : "set", T0 + i);
		audit_add_int(&e, "i", i);
		audit_add_string(&e, "text", "line\nbreak \"q\" \xe2\x82\xac \xfe");
		size_t at = strlen(want);
		snprintf(want + at, size - at, "%s\n", audit_line(&e));
		ck_assert(audit_write(a, &e));
		ck_assert_ptr_null(e.buf);
		ck_assert_uint_eq(e.len, 0);
	}
}

START_TEST(test_file)
{
	char want[8192] = "";
	struct diag d;
	diag_init(&d);
	umask(022);
	struct audit *a = audit_open(log_path, &d);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_str_eq(audit_path(a), log_path);
	struct stat st;
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	write_events(a, want, sizeof(want), 0, 3);
	char *got = slurp(log_path);
	ck_assert_str_eq(got, want);
	free(got);
	audit_close(a);

	/* reopened: appended, never rewritten */
	a = audit_open(log_path, &d);
	ck_assert_ptr_nonnull(a);
	write_events(a, want, sizeof(want), 3, 5);
	audit_close(a);
	audit_close(NULL);
	got = slurp(log_path);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_int_eq(python_check(log_path,
				      "assert len(lines) == 5\n"
				      "assert [l['i'] for l in lines] == list(range(5))\n"
				      "assert list(lines[0])[:2] == ['time', 'event']\n"
				      "assert lines[1]['event'] == 'reload'\n"
				      "assert lines[4]['time'] == '2026-11-21T10:00:04.000Z'\n"
				      "assert lines[0]['text'] == 'line\\nbreak \"q\" \\u20ac \\u00fe'\n"),
			 0);
	diag_free(&d);
}
END_TEST

/* The json module sees the strings test_escaping writes as the text that went in. */
START_TEST(test_json_decodes)
{
	struct diag d;
	diag_init(&d);
	struct audit *a = audit_open(log_path, &d);
	ck_assert_ptr_nonnull(a);
	struct audit_event e;
	audit_begin_at(&e, "x", T0);
	audit_add_string(&e, "s", "q\" b\\ n\n t\t r\r c\001 d\177 \xc3\xa9\xf0\x9f\x98\x80");
	audit_add_string(&e, "bad", "\xff\xc3(\xed\xa0\x80");
	ck_assert(audit_write(a, &e));
	audit_close(a);
	ck_assert_int_eq(
	    python_check(log_path,
			 "s = lines[0]['s']\n"
			 "assert s == 'q\" b\\\\ n\\n t\\t r\\r c\\x01 d\\x7f \\u00e9\\U0001F600', s\n"
			 "assert lines[0]['bad'] == '\\xff\\xc3(\\xed\\xa0\\x80'\n"),
	    0);
	diag_free(&d);
}
END_TEST

/* Several processes appending at once: every line whole (one write(2) each with O_APPEND). */
START_TEST(test_no_interleaving)
{
	enum { WRITERS = 4, EVENTS = 100 };
	static char big[4000];
	memset(big, 'x', sizeof(big) - 1);
	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct diag d;
			diag_init(&d);
			struct audit *a = audit_open(log_path, &d);
			for (int i = 0; a && i < EVENTS; i++) {
				struct audit_event e;
				audit_begin(&e, "set");
				audit_add_int(&e, "writer", w);
				audit_add_int(&e, "i", i);
				audit_add_string(&e, "pad", big);
				if (!audit_write(a, &e))
					_exit(2);
			}
			_exit(a ? 0 : 1);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(
	    python_check(log_path,
			 "assert len(lines) == 400\n"
			 "for w in range(4):\n"
			 "    assert [l['i'] for l in lines if l['writer'] == w] == list(range(100))\n"
			 "assert all(len(l['pad']) == 3999 for l in lines)\n"),
	    0);
}
END_TEST

START_TEST(test_write_null_releases)
{
	struct audit_event e;
	audit_begin_at(&e, "reload", T0);
	audit_add_string(&e, "a", "b");
	ck_assert_ptr_nonnull(e.buf);
	ck_assert(audit_write(NULL, &e)); /* LeakSanitizer checks that the buffer was freed */
	ck_assert_ptr_null(e.buf);
	ck_assert_uint_eq(e.len, 0);
	ck_assert_uint_eq(e.cap, 0);
}
END_TEST

START_TEST(test_open_fails)
{
	struct diag d;
	diag_init(&d);
	char path[192], want[256];
	snprintf(path, sizeof(path), "%s/missing/audit.log", dir);
	ck_assert_ptr_null(audit_open(path, &d));
	ck_assert_uint_eq(d.errors, 1);
	snprintf(want, sizeof(want), "%s: cannot open the audit log: No such file or directory", path);
	ck_assert_str_eq(d.entries[0].text, want);
	diag_free(&d);
}
END_TEST

START_TEST(test_write_fails)
{
	struct diag d;
	diag_init(&d);
	struct audit *a = audit_open("/dev/full", &d); /* every write: ENOSPC */
	if (!a)
		return; /* no /dev/full here */
	struct audit_event e;
	audit_begin_at(&e, "reload", T0);
	errno = 0;
	ck_assert(!audit_write(a, &e));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_null(e.buf); /* released all the same */
	audit_close(a);
	diag_free(&d);
}
END_TEST

START_TEST(test_large_event)
{
	struct diag d;
	diag_init(&d);
	struct audit *a = audit_open(log_path, &d);
	ck_assert_ptr_nonnull(a);
	size_t n = 200000;
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 100 == 99 ? '\n' : 'a' + (char)(i % 26);
	s[n] = '\0';
	struct audit_event e;
	audit_begin_at(&e, "guard", T0);
	audit_add_string(&e, "s", s);
	ck_assert(audit_write(a, &e));
	audit_close(a);
	free(s);
	ck_assert_int_eq(python_check(log_path, "assert len(lines) == 1\n"
						"assert len(lines[0]['s']) == 200000\n"
						"assert lines[0]['s'].count('\\n') == 2000\n"),
			 0);
	diag_free(&d);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tl = tcase_create("line");
	tcase_add_test(tl, test_exact_line);
	tcase_add_test(tl, test_begin_now);
	tcase_add_test(tl, test_escaping);
	tcase_add_test(tl, test_invalid_utf8);
	tcase_add_test(tl, test_arrays);
	tcase_add_test(tl, test_write_null_releases);
	suite_add_tcase(s, tl);
	TCase *tf = tcase_create("file");
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_set_timeout(tf, 30);
	tcase_add_test(tf, test_file);
	tcase_add_test(tf, test_json_decodes);
	tcase_add_test(tf, test_no_interleaving);
	tcase_add_test(tf, test_open_fails);
	tcase_add_test(tf, test_write_fails);
	tcase_add_test(tf, test_large_event);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
