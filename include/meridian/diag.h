/* diag.h -- error and warning lists that library code returns instead of printing or exiting.
 *
 * Every module that can fail on user input (config, zones) appends "file:line: what was expected"
 * messages to a diag list and returns a failure value; the program decides where they go (stderr,
 * control socket, audit log). A list owns its strings. */
#ifndef MERIDIAN_DIAG_H
#define MERIDIAN_DIAG_H

#include <stddef.h>

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag_entry {
	enum diag_level level;
	char *text; /* "file:line: message", NUL-terminated, owned */
};

struct diag {
	struct diag_entry *entries;
	size_t count;
	size_t cap;
	size_t errors; /* entries with level DIAG_ERROR */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* Appends "file:line: message" (file NULL or line 0 leave out those parts). */
void diag_add(struct diag *d, enum diag_level level, const char *file, unsigned long line, const char *fmt,
	      ...) __attribute__((format(printf, 5, 6)));
#define diag_error(d, file, line, ...) diag_add((d), DIAG_ERROR, (file), (line), __VA_ARGS__)
#define diag_warn(d, file, line, ...)  diag_add((d), DIAG_WARNING, (file), (line), __VA_ARGS__)
/* Moves every entry of src to the end of dst; src is left empty. */
void diag_move(struct diag *dst, struct diag *src);
/* Sorts the entries from index from on by file, line (as a number), then text: for messages found
 * while walking a Lua table, whose order changes from one Lua state to the next, so that the same
 * input always gives the same messages in the same order. */
void diag_sort(struct diag *d, size_t from);

#endif
