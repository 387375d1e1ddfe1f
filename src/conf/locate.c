/* locate.c -- finding where a value was written in a chunk's source text.
 *
 * Lua tables carry no line information, and the line Lua records for an assignment is that of the
 * statement's last token (the closing brace of a multi-line table). So we look at the text itself:
 * - conf_source_assignment searches backward from the end of the recorded line for `name =`, the
 *   start of the statement;
 * - conf_source_find searches forward for `key = "value"`, a quoted value alone, or `key =` alone.
 *   Callers start at the top-level assignment and move a cursor past each value they find, so
 *   entries written in order map to their own lines even when the same literal repeats.
 * These two are deliberately small and know nothing of comments, long strings or escapes: a value
 * computed at run time or spelled differently is not found (callers then fall back to a less precise
 * line), and a matching text inside a comment can be taken for the value.
 * - conf_source_table and conf_source_next_field walk the fields of a literal table constructor (see
 *   below), which is exact for values written literally; the newer keys (regions, pools, ...) use it. */
#include "meridian/conf_sandbox.h"

#include <string.h>

#include "schema.h"

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

/* Table constructors.
 *
 * For nested values the key/value search above is too weak (the same key appears in every region,
 * pool and member), so the fields of a literal table constructor are walked with a small scanner
 * that knows Lua's strings, long brackets and comments. The chunk has already been compiled, so the
 * text is known to be valid Lua and the scanner only needs to find where each field begins and ends:
 * an expression ends at a ',' or ';' or a closing bracket that is not nested inside it. A function
 * body written inside a constructor is not understood (a comma in it ends the field early); that only
 * costs precision on the lines of the fields after it, and no config value is a function. */

static bool locate_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Whether a long bracket "[[" or "[==[" opens at pos; *level receives its number of '='. */
static bool locate_long_open(const struct conf_source *s, size_t pos, size_t *level)
{
	size_t i = pos + 1;
	if (pos >= s->len || s->text[pos] != '[')
		return false;
	while (i < s->len && s->text[i] == '=')
		i++;
	*level = i - pos - 1;
	return i < s->len && s->text[i] == '[';
}

/* Offset just past the long bracket of the given level opened at pos. */
static size_t locate_long_skip(const struct conf_source *s, size_t pos, size_t level)
{
	for (size_t i = pos + level + 2; i < s->len; i++) {
		if (s->text[i] != ']' || level + 1 >= s->len - i)
			continue;
		size_t j = i + 1;
		while (j < s->len && s->text[j] == '=')
			j++;
		if (j - i - 1 == level && j < s->len && s->text[j] == ']')
			return j + 1;
	}
	return s->len;
}

/* Offset just past the quoted string opened at pos. */
static size_t locate_string_skip(const struct conf_source *s, size_t pos)
{
	char quote = s->text[pos];
	for (size_t i = pos + 1; i < s->len; i++) {
		if (s->text[i] == '\\')
			i++;
		else if (s->text[i] == quote || s->text[i] == '\n')
			return i + 1;
	}
	return s->len;
}

/* First offset >= pos that is not blank or inside a comment. */
static size_t locate_space(const struct conf_source *s, size_t pos)
{
	const char *t = s->text;
	size_t level;
	while (pos < s->len) {
		if (locate_blank(t[pos])) {
			pos++;
		} else if (t[pos] == '-' && pos + 1 < s->len && t[pos + 1] == '-') {
			pos += 2;
			if (locate_long_open(s, pos, &level)) {
				pos = locate_long_skip(s, pos, level);
				continue;
			}
			while (pos < s->len && t[pos] != '\n')
				pos++;
		} else {
			break;
		}
	}
	return pos;
}

/* Offset of the ',' ';' or unmatched closing bracket that ends the expression starting at pos. */
static size_t locate_expr_end(const struct conf_source *s, size_t pos)
{
	const char *t = s->text;
	size_t depth = 0, level;
	while ((pos = locate_space(s, pos)) < s->len) {
		char c = t[pos];
		if (c == '"' || c == '\'') {
			pos = locate_string_skip(s, pos);
		} else if (c == '[' && locate_long_open(s, pos, &level)) {
			pos = locate_long_skip(s, pos, level);
		} else if (c == '{' || c == '(' || c == '[') {
			depth++;
			pos++;
		} else if (c == '}' || c == ')' || c == ']') {
			if (depth == 0)
				return pos;
			depth--;
			pos++;
		} else if ((c == ',' || c == ';') && depth == 0) {
			return pos;
		} else {
			pos++;
		}
	}
	return s->len;
}

size_t conf_source_value(const struct conf_source *s, size_t pos, const char *name)
{
	size_t n;
	if (pos == CONF_SOURCE_NONE || pos >= s->len || !(n = locate_key(s, pos, name, strlen(name))))
		return CONF_SOURCE_NONE;
	return locate_space(s, pos + n);
}

bool conf_source_table(const struct conf_source *s, size_t pos, size_t *it)
{
	if (pos == CONF_SOURCE_NONE || (pos = locate_space(s, pos)) >= s->len || s->text[pos] != '{')
		return false;
	*it = pos + 1;
	return true;
}

/* The key of a `["key"] = value` field at pos (just past '['): a plain quoted string is a name. */
static void locate_bracket_key(const struct conf_source *s, size_t pos, size_t end,
			       struct conf_source_field *f)
{
	const char *t = s->text;
	f->kind = CONF_FIELD_OTHER;
	if (pos >= end || (t[pos] != '"' && t[pos] != '\''))
		return;
	size_t close = locate_string_skip(s, pos);
	if (close > end || locate_space(s, close) != end || memchr(t + pos, '\\', close - pos))
		return;
	f->kind = CONF_FIELD_NAME;
	f->key = t + pos + 1;
	f->key_len = close - pos - 2;
}

bool conf_source_next_field(const struct conf_source *s, size_t *it, struct conf_source_field *f)
{
	const char *t = s->text;
	size_t pos = locate_space(s, *it), level;
	if (pos >= s->len || t[pos] == '}')
		return false;
	*f = (struct conf_source_field){CONF_FIELD_ITEM, NULL, 0, pos, pos};
	if (locate_ident(t[pos]) && !(t[pos] >= '0' && t[pos] <= '9')) {
		size_t end = pos;
		while (end < s->len && locate_ident(t[end]))
			end++;
		size_t eq = locate_space(s, end);
		if (eq < s->len && t[eq] == '=' && (eq + 1 >= s->len || t[eq + 1] != '=')) {
			f->kind = CONF_FIELD_NAME;
			f->key = t + pos;
			f->key_len = end - pos;
			pos = eq + 1;
		}
	} else if (t[pos] == '[' && !locate_long_open(s, pos, &level)) {
		size_t start = locate_space(s, pos + 1), end = locate_expr_end(s, start);
		locate_bracket_key(s, start, end, f);
		pos = end < s->len ? locate_space(s, end + 1) : s->len;
		pos += pos < s->len && t[pos] == '=';
	}
	f->value_pos = locate_space(s, pos);
	size_t end = locate_expr_end(s, f->value_pos);
	/* After a separator the next field; at '}' the end; anything else (text the scanner misread)
	 * ends the walk rather than risk not moving. */
	if (end < s->len && (t[end] == ',' || t[end] == ';'))
		*it = end + 1;
	else
		*it = end < s->len && t[end] == '}' ? end : s->len;
	return true;
}
