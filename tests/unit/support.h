/* support.h -- what several unit tests share: a private temporary folder for the files a test writes,
 * and running a suite in it. Linked into every test binary (tests/unit/support.c). */
#ifndef MERIDIAN_TESTS_UNIT_SUPPORT_H
#define MERIDIAN_TESTS_UNIT_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <sys/socket.h>

/* The folder unit_run_in_tmpdir made; empty outside it. */
extern char unit_tmpdir[64];

/* Writes text to unit_tmpdir/name (the test fails when it cannot). */
void unit_write_file(const char *name, const char *text);

struct diag;
/* The diagnostics in d, one per line, for a failing assertion's message (a static buffer). */
const char *unit_diag_text(const struct diag *d);

struct conf;
/* Writes config as unit_tmpdir/name and loads it with conf_load; the test fails, showing the
 * diagnostics, when it does not load. */
struct conf *unit_load_conf(const char *name, const char *config);
struct snapshot;
/* unit_load_conf, then the snapshot a reload would build from it (loader_build, all or nothing); the
 * test fails, showing the diagnostics, when it cannot be built. */
struct snapshot *unit_load_snapshot(const char *name, const char *config);
/* Writes head followed by hosts A records (host-N, in 198.51.0.0/16) as unit_tmpdir/name. */
void unit_write_hosts_zone(const char *name, const char *head, unsigned hosts);
/* Writes config as unit_tmpdir/name and loads it with conf_load; the test fails when it loads.
 * Returns the first diagnostic (a static buffer). */
const char *unit_conf_error(const char *name, const char *config);

/* A socket address for an IPv4 or IPv6 address in text (port 0); the test fails on anything else. */
struct sockaddr_storage unit_address(const char *text);

struct snapshot;
/* A snapshot of the query fixture (tests/unit/data/query: example.com and its child zone
 * sub.example.com), without dynamic records or prepared answers. */
struct snapshot *unit_query_fixture(void);

struct ev_loop;
/* Runs loop until pred holds (checked every 5 ms) or seconds pass; returns pred's last verdict
 * (false for a NULL pred, which just runs the loop that long). */
bool unit_run_until(struct ev_loop *loop, bool (*pred)(void), double seconds);

/* Makes /tmp/meridian-test-NAME-XXXXXX as unit_tmpdir, runs s (CK_NORMAL output), removes the folder
 * with everything in it. Returns main's exit status: 0 when every test passed. */
int unit_run_in_tmpdir(Suite *s, const char *name);

#endif
