/* conf.c -- the config loader's fuzz target (see conf.h). */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meridian/conf.h"
#include "meridian/diag.h"

static char dir[64];
static char path[96];
static char failure[1024];

static bool write_file(const char *name, const void *data, size_t size)
{
	FILE *f = fopen(name, "wb");
	if (!f)
		return false;
	bool ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok;
}

static char zone_path[128];

static void cleanup(void)
{
	unlink(path);
	unlink(zone_path);
	rmdir(dir);
}

bool fuzz_conf_setup(void)
{
	static const char zone[] =
	    "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	    "@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\n";
	snprintf(dir, sizeof(dir), "/tmp/meridian-fuzz-conf-%ld", (long)getpid());
	snprintf(path, sizeof(path), "%s/meridian.conf", dir);
	snprintf(zone_path, sizeof(zone_path), "%s/example.com.zone", dir);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || !write_file(zone_path, zone, sizeof(zone) - 1)) {
		fprintf(stderr, "fuzz: %s: %s\n", dir, strerror(errno));
		return false;
	}
	atexit(cleanup);
	return true;
}

static const char *fail(const char *what, const struct diag *d, size_t i)
{
	snprintf(failure, sizeof(failure), "%s%s%s", what, d && i < d->count ? ": " : "",
		 d && i < d->count ? d->entries[i].text : "");
	return failure;
}

/* The properties of one load (see conf.h). */
static const char *check(const struct conf *c, const struct diag *d)
{
	if (!c && d->errors == 0)
		return fail("the load failed without an error", d, 0);
	if (c && d->errors > 0)
		return fail("the load succeeded with an error", d, 0);
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].text[0] != '/' || !strchr(d->entries[i].text, ':'))
			return fail("a message names no file", d, i);
	return NULL;
}

const char *fuzz_conf_one(const uint8_t *data, size_t size)
{
	if (!write_file(path, data, size))
		return fail("cannot write the input", NULL, 0);
	struct diag a, b;
	diag_init(&a);
	diag_init(&b);
	struct conf *ca = conf_load(path, &a);
	struct conf *cb = conf_load(path, &b);
	const char *bad = check(ca, &a);
	if (!bad && (ca != NULL) != (cb != NULL))
		bad = fail("a second load of the same input ended otherwise", &a, 0);
	for (size_t i = 0; !bad && i < a.count; i++)
		if (i >= b.count || strcmp(a.entries[i].text, b.entries[i].text) != 0)
			bad = fail("a second load of the same input said something else", &a, i);
	if (!bad && b.count != a.count)
		bad = fail("a second load of the same input said more", &b, a.count);
	conf_free(ca);
	conf_free(cb);
	diag_free(&a);
	diag_free(&b);
	return bad;
}
