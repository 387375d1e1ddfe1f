/* name.c -- wire names: validation, lowercasing, compressed reads and presentation form. */
#include <string.h>

#include "meridian/wire.h"

/* ASCII lowercasing by table: one load per byte, no branch, no locale. Label length octets (< 64)
 * map to themselves, so a whole wire name can be lowercased or compared byte by byte. */
#define LC1(c)	((uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define LC4(c)	LC1(c), LC1((c) + 1), LC1((c) + 2), LC1((c) + 3)
#define LC16(c) LC4(c), LC4((c) + 4), LC4((c) + 8), LC4((c) + 12)
#define LC64(c) LC16(c), LC16((c) + 16), LC16((c) + 32), LC16((c) + 48)
static const uint8_t lower[256] = {LC64(0), LC64(64), LC64(128), LC64(192)};

#define LABEL_MAX    63
#define POINTER_BITS 0xC0u

bool wire_name_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (lower[a[i]] != lower[b[i]])
			return false;
	}
	return true;
}

bool wire_name_within(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len)
{
	if (apex_len > len)
		return false;
	size_t start = len - apex_len;
	size_t at = 0;
	while (at < start && name[at] != 0)
		at += 1u + name[at];
	return at == start && wire_name_equal(name + start, apex, apex_len);
}

size_t wire_name_length(const uint8_t *p, size_t max)
{
	size_t i = 0;
	unsigned labels = 0;

	if (max > WIRE_NAME_MAX)
		max = WIRE_NAME_MAX;
	while (i < max) {
		uint8_t c = p[i];
		if (c > LABEL_MAX)
			return 0;
		if (++labels > WIRE_LABELS_MAX)
			return 0;
		i += 1u + c;
		if (c == 0)
			return i;
	}
	return 0;
}

bool wire_name_from_wire(struct wire_name *out, const uint8_t *src, size_t src_len)
{
	size_t i = 0;
	unsigned n = 0;

	if (src_len > WIRE_NAME_MAX)
		src_len = WIRE_NAME_MAX;
	for (;;) {
		if (i >= src_len || n >= WIRE_LABELS_MAX)
			return false;
		uint8_t c = src[i];
		if (c > LABEL_MAX || i + 1u + c > src_len)
			return false;
		out->labels[n++] = (uint8_t)i;
		out->data[i] = c;
		for (size_t j = i + 1, end = i + 1u + c; j < end; j++)
			out->data[j] = lower[src[j]];
		i += 1u + c;
		if (c == 0)
			break;
	}
	out->len = (uint8_t)i;
	out->label_count = (uint8_t)n;
	return true;
}

/* Pointer rule: a pointer may only target an offset before the start of the stretch of bytes being
 * read (the name's first byte, then each earlier pointer's target). Stretch starts strictly decrease,
 * so forward pointers, self pointers and loops are all impossible, and every name a real compressor
 * writes passes (a pointer always targets a name written before the one that contains it). */
bool wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, struct wire_name *out)
{
	struct wire_name scratch;
	struct wire_name *w = out ? out : &scratch;
	size_t p = *pos, floor = *pos, after = 0;
	unsigned n = 0, labels = 0;

	for (;;) {
		if (p >= pkt_len)
			return false;
		uint8_t c = pkt[p];
		if (c <= LABEL_MAX) {
			if (p + 1u + c > pkt_len || n + 1u + c > WIRE_NAME_MAX || labels >= WIRE_LABELS_MAX)
				return false;
			w->labels[labels++] = (uint8_t)n;
			w->data[n] = c;
			if (out) {
				const uint8_t *s = pkt + p + 1;
				uint8_t *d = w->data + n + 1;
				for (unsigned j = 0; j < c; j++)
					d[j] = lower[s[j]];
			}
			n += 1u + c;
			p += 1u + c;
			if (c == 0)
				break;
		} else if ((c & POINTER_BITS) == POINTER_BITS) {
			if (p + 2 > pkt_len)
				return false;
			size_t target = ((size_t)(c & 0x3Fu) << 8) | pkt[p + 1];
			if (target >= floor)
				return false;
			if (after == 0)
				after = p + 2;
			floor = p = target;
		} else {
			return false; /* 0x40 (extended) and 0x80 (reserved) label types */
		}
	}
	w->len = (uint8_t)n;
	w->label_count = (uint8_t)labels;
	*pos = after ? after : p;
	return true;
}

/* Characters dig escapes with a backslash inside a label (BIND's dns_name_totext). */
static bool needs_backslash(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';';
}

/* Appends one presentation character (escaped as needed); false when out is full. */
static bool put_text_char(uint8_t c, char *out, size_t out_size, size_t *at)
{
	size_t need = (c <= 0x20 || c >= 0x7F) ? 4 : needs_backslash(c) ? 2 : 1;

	if (*at + need >= out_size) /* keep room for the terminating NUL */
		return false;
	char *o = out + *at;
	if (need == 4) {
		o[0] = '\\';
		o[1] = (char)('0' + c / 100);
		o[2] = (char)('0' + c / 10 % 10);
		o[3] = (char)('0' + c % 10);
	} else if (need == 2) {
		o[0] = '\\';
		o[1] = (char)c;
	} else {
		o[0] = (char)c;
	}
	*at += need;
	return true;
}

/* Writes the name NUL-terminated; returns the characters written (NUL excluded), or 0 with out set
 * to "" when the name is not a valid uncompressed name within len or out is too small. */
size_t wire_name_to_text(const uint8_t *name, size_t len, char *out, size_t out_size)
{
	size_t i = 0, at = 0;

	if (out_size == 0)
		return 0;
	if (len == 0 || wire_name_length(name, len) == 0)
		goto fail;
	if (name[0] == 0) {
		if (out_size < 2)
			goto fail;
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (name[i] != 0) {
		uint8_t c = name[i];
		for (size_t j = i + 1; j <= i + c; j++) {
			if (!put_text_char(name[j], out, out_size, &at))
				goto fail;
		}
		if (at + 1 >= out_size)
			goto fail;
		out[at++] = '.';
		i += 1u + c;
	}
	out[at] = '\0';
	return at;
fail:
	out[0] = '\0';
	return 0;
}
