/* diag.c -- error and warning lists (see diag.h). */
#include "meridian/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->entries[i].text);
	free(d->entries);
	diag_init(d);
}

static void diag_push(struct diag *d, enum diag_level level, char *text)
{
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag_entry *e = realloc(d->entries, cap * sizeof(*e));
		if (!e)
			abort();
		d->entries = e;
		d->cap = cap;
	}
	d->entries[d->count++] = (struct diag_entry){level, text};
	if (level == DIAG_ERROR)
		d->errors++;
}

void diag_add(struct diag *d, enum diag_level level, const char *file, unsigned long line, const char *fmt,
	      ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	char *text = NULL;
	int n;
	if (file && line)
		n = asprintf(&text, "%s:%lu: %s", file, line, msg);
	else if (file)
		n = asprintf(&text, "%s: %s", file, msg);
	else
		n = asprintf(&text, "%s", msg);
	if (n < 0)
		abort();
	diag_push(d, level, text);
}

void diag_move(struct diag *dst, struct diag *src)
{
	for (size_t i = 0; i < src->count; i++)
		diag_push(dst, src->entries[i].level, src->entries[i].text);
	free(src->entries);
	diag_init(src);
}

/* Where an entry's "file:line: " prefix ends: the file's length, and the line (0 when none). */
static size_t entry_place(const char *text, unsigned long *line)
{
	const char *end = strstr(text, ": ");
	*line = 0;
	if (!end)
		return 0;
	const char *digits = end;
	while (digits > text && digits[-1] >= '0' && digits[-1] <= '9')
		digits--;
	if (digits < end && digits > text && digits[-1] == ':') {
		*line = strtoul(digits, NULL, 10);
		return (size_t)(digits - 1 - text);
	}
	return (size_t)(end - text);
}

static int entry_cmp(const void *a, const void *b)
{
	const char *x = ((const struct diag_entry *)a)->text, *y = ((const struct diag_entry *)b)->text;
	unsigned long lx, ly;
	size_t fx = entry_place(x, &lx), fy = entry_place(y, &ly);
	int c = memcmp(x, y, fx < fy ? fx : fy);
	if (c || fx != fy)
		return c ? c : fx < fy ? -1 : 1;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

void diag_sort(struct diag *d, size_t from)
{
	if (d->count > from + 1)
		qsort(d->entries + from, d->count - from, sizeof(*d->entries), entry_cmp);
}
