/* locate.c -- finding where a value was written in a chunk's source text.
 *
 * Lua tables carry no line information, and the line Lua records for an assignment is that of the
 * statement's last token (the closing brace of a multi-line table). So we look at the text itself:
 * - conf_source_assignment searches backward from the end of the recorded line for `name =`, the
 *   start of the statement;
 * - conf_source_find searches forward for `key = "value"`, a quoted value alone, or `key =` alone.
 *   Callers start at the top-level assignment and move a cursor past each value they find, so
 *   entries written in order map to their own lines even when the same literal repeats.
 * This is deliberately small and knows nothing of comments, long strings or escapes: a value computed
 * at run time or spelled differently is not found (callers then fall back to a less precise line),
 * and a matching text inside a comment can be taken for the value. */
#include "meridian/conf_sandbox.h"

#include <string.h>

static bool locate_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

unsigned conf_source_line(const struct conf_source *s, size_t pos)
{
	size_t lo = 0, hi = s->lines; /* the last line starting at or before pos */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->line_starts[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return (unsigned)lo + 1;
}

size_t conf_source_line_start(const struct conf_source *s, unsigned line)
{
	if (line == 0 || !s->lines)
		return 0;
	return line <= s->lines ? s->line_starts[line - 1] : s->len;
}

/* Length of `key` + blanks + `=` (not `==`) at pos, 0 when that is not there. */
static size_t locate_key(const struct conf_source *s, size_t pos, const char *key, size_t klen)
{
	const char *t = s->text;
	if (klen > s->len - pos || memcmp(t + pos, key, klen) != 0)
		return 0;
	if ((pos > 0 && locate_ident(t[pos - 1])) || (pos + klen < s->len && locate_ident(t[pos + klen])))
		return 0;
	size_t i = pos + klen;
	while (i < s->len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (i >= s->len || t[i] != '=' || (i + 1 < s->len && t[i + 1] == '='))
		return 0;
	return i + 1 - pos;
}

/* Whether "value" or 'value' is at pos. */
static bool locate_quoted(const struct conf_source *s, size_t pos, const char *v, size_t vlen)
{
	const char *t = s->text;
	if (pos >= s->len || (t[pos] != '"' && t[pos] != '\'') || vlen + 2 > s->len - pos)
		return false;
	return memcmp(t + pos + 1, v, vlen) == 0 && t[pos + 1 + vlen] == t[pos];
}

size_t conf_source_assignment(const struct conf_source *s, unsigned line, const char *name)
{
	size_t end = line < s->lines ? s->line_starts[line] : s->len;
	size_t klen = strlen(name);
	for (size_t pos = end; pos-- > 0;) {
		if (locate_key(s, pos, name, klen))
			return pos;
	}
	return conf_source_line_start(s, line);
}

size_t conf_source_find(const struct conf_source *s, size_t from, const char *key, const char *value,
			size_t value_len)
{
	size_t klen = key ? strlen(key) : 0;
	for (size_t pos = from; pos < s->len; pos++) {
		if (!key) {
			if (locate_quoted(s, pos, value, value_len))
				return pos;
			continue;
		}
		size_t n = locate_key(s, pos, key, klen);
		if (!n)
			continue;
		if (!value)
			return pos;
		size_t i = pos + n;
		while (i < s->len &&
		       (s->text[i] == ' ' || s->text[i] == '\t' || s->text[i] == '\r' || s->text[i] == '\n'))
			i++;
		if (locate_quoted(s, i, value, value_len))
			return pos;
	}
	return CONF_SOURCE_NONE;
}
