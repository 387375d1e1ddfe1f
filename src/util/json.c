/* json.c -- JSON string literals (see json.h). */
#include "meridian/json.h"

#include <stdbool.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* overlong below U+0800 */
		hi = s[0] == 0xed ? 0x9f : 0xbf; /* surrogates U+D800..U+DFFF */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80; /* overlong below U+10000 */
		hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
	} else {
		return 0; /* a continuation byte, C0, C1 (always overlong), F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void json_string_to(json_sink_fn sink, void *arg, const char *s)
{
	if (!s) {
		sink(arg, "null", 4);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	sink(arg, "\"", 1);
	for (size_t i = 0; i < n;) {
		size_t run = i; /* the common case: characters copied as they are */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		sink(arg, p + i, run - i);
		if ((i = run) == n)
			break;
		size_t u = p[i] >= 0x80 ? utf8_length(p + i, n - i) : 0;
		char esc[8];
		if (u) {
			sink(arg, p + i, u);
		} else if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\', esc[1] = (char)p[i];
			sink(arg, esc, 2);
		} else if (p[i] == '\n' || p[i] == '\t') {
			sink(arg, p[i] == '\n' ? "\\n" : "\\t", 2);
		} else { /* other control characters, and bytes that are not UTF-8 */
			static const char hex[] = "0123456789abcdef";
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			sink(arg, esc, 6);
		}
		i += u ? u : 1;
	}
	sink(arg, "\"", 1);
}

static void to_file(void *arg, const void *bytes, size_t n)
{
	fwrite(bytes, 1, n, arg);
}

void json_write_string(FILE *out, const char *s)
{
	json_string_to(to_file, out, s);
}
