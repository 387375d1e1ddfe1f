/* json.h -- JSON string literals, for everything meridian writes as JSON: meridianctl's --json
 * answers, plans and the audit log.
 *
 * Strings are escaped as RFC 8259 says (quote, backslash, control characters; \n and \t in their
 * short forms). Names and messages can hold any byte, so bytes that are not valid UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF) are written as \u00XX: every output
 * stays valid JSON. */
#ifndef MERIDIAN_JSON_H
#define MERIDIAN_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Where escaped bytes go. */
typedef void (*json_sink_fn)(void *arg, const void *bytes, size_t n);

/* Writes s as a JSON string, quotes included (NULL: null), through sink. */
void json_string_to(json_sink_fn sink, void *arg, const char *s);
/* The same to a stdio stream. */
void json_write_string(FILE *out, const char *s);

#endif
