/* support.c -- the unit tests' shared temporary folder and suite runner (support.h). */
#include "support.h"

#include <arpa/inet.h>
#include <ev.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/loader.h"
#include "meridian/snapshot.h"

char unit_tmpdir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct snapshot *unit_query_fixture(void)
{
	struct diag d;
	diag_init(&d);
	struct conf *c = conf_load("tests/unit/data/query/meridian.conf", &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(c);
	struct zone *zones[2];
	for (size_t i = 0; i < 2; i++) {
		zones[i] = zone_load(c->zones[i].name, c->zones[i].file, &d);
		ck_assert_ptr_nonnull(zones[i]);
	}
	struct snapshot *s = snapshot_new(c, zone_set_new(zones, 2), NULL, NULL);
	zone_unref(zones[0]);
	zone_unref(zones[1]);
	diag_free(&d);
	return s;
}

void unit_write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

const char *unit_diag_text(const struct diag *d)
{
	static char buf[32768];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->count && n < sizeof(buf) - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n  %s", d->entries[i].text);
	return buf;
}

/* Writes config as unit_tmpdir/name and loads it, the diagnostics into d; *path gets its path. */
static struct conf *write_and_load(const char *name, const char *config, struct diag *d, char *path, size_t n)
{
	unit_write_file(name, config);
	snprintf(path, n, "%s/%s", unit_tmpdir, name);
	diag_init(d);
	return conf_load(path, d);
}

struct conf *unit_load_conf(const char *name, const char *config)
{
	char path[256];
	struct diag d;
	struct conf *c = write_and_load(name, config, &d, path, sizeof(path));
	ck_assert_msg(c != NULL, "%s did not load:%s", path, unit_diag_text(&d));
	diag_free(&d);
	return c;
}

struct snapshot *unit_load_snapshot(const char *name, const char *config)
{
	struct conf *conf = unit_load_conf(name, config);
	struct diag d;
	diag_init(&d);
	struct snapshot *s = loader_build(conf, LOADER_ALL_OR_NOTHING, &d);
	ck_assert_msg(s != NULL, "%s", unit_diag_text(&d));
	diag_free(&d);
	return s;
}

void unit_write_hosts_zone(const char *name, const char *head, unsigned hosts)
{
	size_t cap = strlen(head) + hosts * 48 + 1;
	char *zone = malloc(cap);
	ck_assert_ptr_nonnull(zone);
	size_t len = (size_t)snprintf(zone, cap, "%s", head);
	for (unsigned i = 0; i < hosts; i++)
		len += (size_t)snprintf(zone + len, cap - len, "host-%u A 198.51.%u.%u\n", i, i / 256 % 256,
					i % 256);
	unit_write_file(name, zone);
	free(zone);
}

const char *unit_conf_error(const char *name, const char *config)
{
	static char first[1024];
	char path[256];
	struct diag d;
	struct conf *c = write_and_load(name, config, &d, path, sizeof(path));
	ck_assert_msg(c == NULL && d.count > 0, "%s loads:\n%s", path, config);
	snprintf(first, sizeof(first), "%s", d.entries[0].text);
	diag_free(&d);
	return first;
}

int unit_run_in_tmpdir(Suite *s, const char *name)
{
	snprintf(unit_tmpdir, sizeof(unit_tmpdir), "/tmp/meridian-test-%s-XXXXXX", name);
	if (!mkdtemp(unit_tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(unit_tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? 1 : 0;
}

struct sockaddr_storage unit_address(const char *text)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		ck_assert_msg(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1, "%s is not an address", text);
		in6->sin6_family = AF_INET6;
	}
	return ss;
}

static bool (*waiting_for)(void);

static bool waited_enough(void)
{
	return waiting_for && waiting_for();
}

static void poll_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	if (waited_enough())
		ev_break(l, EVBREAK_ONE);
}

static void deadline_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ONE);
}

bool unit_run_until(struct ev_loop *loop, bool (*pred)(void), double seconds)
{
	ev_timer poll, deadline;
	waiting_for = pred;
	ev_now_update(loop);
	if (waited_enough())
		return true;
	ev_timer_init(&poll, poll_cb, 0.005, 0.005);
	ev_timer_init(&deadline, deadline_cb, seconds, 0);
	ev_timer_start(loop, &poll);
	ev_timer_start(loop, &deadline);
	ev_run(loop, 0);
	ev_timer_stop(loop, &poll);
	ev_timer_stop(loop, &deadline);
	return waited_enough();
}
