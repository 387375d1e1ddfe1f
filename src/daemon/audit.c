/* audit.c -- the append-only audit log: one JSON object per line (see audit.h).
 *
 * An event is built in a growing buffer as an object left open ("{...") so that fields can be
 * appended; the closing brace and the newline are added only to show or write it. The whole line
 * then goes out with one write(2) on an O_APPEND descriptor: POSIX makes the seek to the end and the
 * write one step, so lines from several writers never interleave. A short write (a full disk) is
 * continued, which can only split a line when the disk is already failing. */
#include "meridian/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meridian/json.h"

struct audit {
	int fd;
	char *path;
};

struct audit *audit_open(const char *path, struct diag *d)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		diag_error(d, path, 0, "cannot open the audit log: %s", strerror(errno));
		return NULL;
	}
	struct audit *a = malloc(sizeof(*a));
	char *p = strdup(path);
	if (!a || !p)
		abort();
	*a = (struct audit){.fd = fd, .path = p};
	return a;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a->path);
	free(a);
}

const char *audit_path(const struct audit *a)
{
	return a->path;
}

/* --- building a line ------------------------------------------------------------------------------ */

/* Room for n more bytes and the closing "}\n" with a NUL. */
static void audit_reserve(struct audit_event *e, size_t n)
{
	if (e->len + n + 3 <= e->cap)
		return;
	size_t cap = e->cap ? e->cap : 256;
	while (cap < e->len + n + 3)
		cap *= 2;
	e->buf = realloc(e->buf, cap);
	if (!e->buf)
		abort();
	e->cap = cap;
}

static void audit_put(struct audit_event *e, const void *s, size_t n)
{
	audit_reserve(e, n);
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

static void audit_puts(struct audit_event *e, const char *s)
{
	audit_put(e, s, strlen(s));
}

static void audit_printf(struct audit_event *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void audit_printf(struct audit_event *e, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	audit_put(e, tmp, n < 0 ? 0 : (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void audit_sink(void *arg, const void *bytes, size_t n)
{
	audit_put(arg, bytes, n);
}

/* s as a JSON string, quotes included; NULL as null. */
static void audit_string(struct audit_event *e, const char *s)
{
	json_string_to(audit_sink, e, s);
}

static void audit_key(struct audit_event *e, const char *key)
{
	audit_puts(e, ",");
	audit_string(e, key);
	audit_puts(e, ":");
}

/* Starts the object with the time (seconds since the epoch and milliseconds) and the event. */
static void audit_start(struct audit_event *e, const char *event, time_t sec, unsigned ms)
{
	struct tm tm;
	char stamp[64];
	*e = (struct audit_event){0};
	if (!gmtime_r(&sec, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(stamp, sizeof(stamp), "1970-01-01T00:00:00");
	audit_printf(e, "{\"time\":\"%s.%03uZ\",\"event\":", stamp, ms);
	audit_string(e, event);
}

void audit_begin(struct audit_event *e, const char *event)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	audit_start(e, event, ts.tv_sec, (unsigned)(ts.tv_nsec / 1000000));
}

void audit_begin_at(struct audit_event *e, const char *event, double when)
{
	/* to the nearest millisecond: 1.123 is not exact in binary and must not read .122 */
	long long ms = llround(when * 1000.0);
	long long sec = ms / 1000 - (ms % 1000 < 0);
	audit_start(e, event, (time_t)sec, (unsigned)(ms - sec * 1000));
}

void audit_add_string(struct audit_event *e, const char *key, const char *value)
{
	audit_key(e, key);
	audit_string(e, value);
}

void audit_add_uint(struct audit_event *e, const char *key, uint64_t value)
{
	audit_key(e, key);
	audit_printf(e, "%" PRIu64, value);
}

void audit_add_int(struct audit_event *e, const char *key, int64_t value)
{
	audit_key(e, key);
	audit_printf(e, "%" PRId64, value);
}

void audit_add_bool(struct audit_event *e, const char *key, bool value)
{
	audit_key(e, key);
	audit_puts(e, value ? "true" : "false");
}

void audit_add_strings(struct audit_event *e, const char *key, const char *const *values, size_t count)
{
	audit_key(e, key);
	audit_puts(e, "[");
	for (size_t i = 0; i < count; i++) {
		if (i)
			audit_puts(e, ",");
		audit_string(e, values[i]);
	}
	audit_puts(e, "]");
}

void audit_add_diag(struct audit_event *e, const char *key, const struct diag *d)
{
	audit_key(e, key);
	audit_puts(e, "[");
	for (size_t i = 0; d && i < d->count; i++) {
		if (i)
			audit_puts(e, ",");
		if (d->entries[i].level == DIAG_WARNING) {
			char *text = NULL;
			if (asprintf(&text, "warning: %s", d->entries[i].text) < 0)
				abort();
			audit_string(e, text);
			free(text);
		} else {
			audit_string(e, d->entries[i].text);
		}
	}
	audit_puts(e, "]");
}

const char *audit_line(struct audit_event *e)
{
	audit_reserve(e, 0);
	e->buf[e->len] = '}'; /* after the fields, so that more can still be added */
	e->buf[e->len + 1] = '\0';
	return e->buf;
}

void audit_discard(struct audit_event *e)
{
	free(e->buf);
	*e = (struct audit_event){0};
}

/* --- writing -------------------------------------------------------------------------------------- */

static bool audit_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return false;
		}
		s += w;
		n -= (size_t)w;
	}
	return true;
}

bool audit_write(struct audit *a, struct audit_event *e)
{
	bool ok = true;
	if (a && e->buf) {
		audit_reserve(e, 0);
		e->buf[e->len] = '}';
		e->buf[e->len + 1] = '\n';
		ok = audit_write_all(a->fd, e->buf, e->len + 2) && fdatasync(a->fd) == 0;
	}
	int saved = errno;
	audit_discard(e);
	errno = saved;
	return ok;
}
