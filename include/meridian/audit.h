/* audit.h -- the append-only audit log: one JSON object per line (JSON Lines), in the state folder.
 *
 * meridiand records there every reload (accepted or refused, with both serials and the reasons),
 * every forced health state change, and every guard intervention. The file is opened with O_APPEND
 * and each event is written with one write(2) then fdatasync(2): lines never interleave, and an event
 * the server acknowledged is on disk. Nothing is ever rewritten; rotate it with copytruncate or by
 * moving it away and sending SIGHUP (the log is reopened on every reload).
 *
 * Every line starts with "time" (UTC, RFC 3339 with milliseconds) and "event"; the other fields
 * follow in the order they were added. Strings are escaped for JSON; bytes that are not valid UTF-8
 * are written as \u00XX so that every line stays valid JSON. Control thread only. */
#ifndef MERIDIAN_AUDIT_H
#define MERIDIAN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/diag.h"

struct audit;

/* Opens (creating it with mode 0640) the log at path for appending. NULL with the reason in d. */
struct audit *audit_open(const char *path, struct diag *d);
/* NULL is a no-op. */
void audit_close(struct audit *a);
const char *audit_path(const struct audit *a);

/* One event being built: begin, add fields, then audit_write (which also releases it). */
struct audit_event {
	char *buf;
	size_t len, cap;
};

/* Starts an event with its time (now) and name ("reload", "set", "guard", ...). */
void audit_begin(struct audit_event *e, const char *event);
/* The same at a given time (seconds since the epoch), for tests. */
void audit_begin_at(struct audit_event *e, const char *event, double when);
void audit_add_string(struct audit_event *e, const char *key, const char *value); /* NULL: null */
void audit_add_uint(struct audit_event *e, const char *key, uint64_t value);
void audit_add_int(struct audit_event *e, const char *key, int64_t value);
void audit_add_bool(struct audit_event *e, const char *key, bool value);
void audit_add_strings(struct audit_event *e, const char *key, const char *const *values, size_t count);
/* The texts of d's entries as an array of strings (warnings prefixed "warning: "). */
void audit_add_diag(struct audit_event *e, const char *key, const struct diag *d);
/* The finished line, NUL-terminated, without the final newline (valid until audit_write or
 * audit_discard). */
const char *audit_line(struct audit_event *e);
/* Appends the event as one line and releases it. a NULL: only releases it. Returns false when the
 * line could not be written and synced (errno says why). */
bool audit_write(struct audit *a, struct audit_event *e);
void audit_discard(struct audit_event *e);

#endif
