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

void diag_add(struct diag *d, enum diag_level level, const char *file, unsigned long line, const char *fmt, ...)
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
