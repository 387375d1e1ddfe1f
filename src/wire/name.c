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

/* Eight bytes at a time: names are mostly 10 to 30 octets, and a byte loop costs a table load, a
 * store and a branch per octet. */
#define ONES 0x0101010101010101ull

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

/* Lowercases eight bytes at once: a byte gets 0x20 when it is in 'A'..'Z'. The sums on the low seven
 * bits cannot carry into the next byte, and ~w keeps bytes of 0x80 and above unchanged. */
static inline uint64_t lower64(uint64_t w)
{
	uint64_t low7 = w & (0x7Fu * ONES);
	uint64_t ge_a = low7 + (0x80u - 'A') * ONES;
	uint64_t gt_z = low7 + (0x80u - 'Z' - 1u) * ONES;
	return w | ((ge_a & ~gt_z & ~w & (0x80u * ONES)) >> 2);
}

/* Copies n bytes lowercased. From 8 bytes on, the last word is the one ending at n: it overlaps words
 * already written with the same values, and nothing outside dst[0..n) or src[0..n) is touched. */
static void copy_lower(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n < 8) {
		for (size_t i = 0; i < n; i++)
			dst[i] = lower[src[i]];
		return;
	}
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = lower64(load64(src + i));
		memcpy(dst + i, &w, 8);
	}
	if (i < n) {
		uint64_t w = lower64(load64(src + n - 8));
		memcpy(dst + n - 8, &w, 8);
	}
}

static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static inline uint32_t hash_final(uint64_t h)
{
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* Words as in copy_lower (the last one overlapping), the length mixed in first so that the overlap
 * cannot make two names of different lengths collide systematically. */
uint32_t wire_name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len;
	if (len >= 8) {
		size_t i = 0;
		for (; i + 8 <= len; i += 8)
			h = hash_mix(h, load64(name + i));
		if (i < len)
			h = hash_mix(h, load64(name + len - 8));
	} else if (len >= 4) {
		h = hash_mix(h, load32(name) | (uint64_t)load32(name + len - 4) << 32);
	} else if (len > 0) {
		h = hash_mix(h, name[0] | (uint64_t)name[len / 2] << 8 | (uint64_t)name[len - 1] << 16);
	}
	return hash_final(h);
}

bool wire_name_same(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len < 8)
		return memcmp(a, b, len) == 0;
	uint64_t diff = 0;
	for (size_t i = 0; i + 8 <= len; i += 8)
		diff |= load64(a + i) ^ load64(b + i);
	return (diff | (load64(a + len - 8) ^ load64(b + len - 8))) == 0;
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
		i += 1u + c;
		if (c == 0)
			break;
	}
	copy_lower(out->data, src, i);
	out->len = (uint8_t)i;
	out->label_count = (uint8_t)n;
	return true;
}

/* One pass per label to check and index, then one pass per word that lowercases, stores and hashes
 * (the words and their order are wire_name_hash's, so the hash is the same). Within 255 octets a
 * name cannot have more than 128 labels, so the label count needs no check of its own. */
bool wire_name_read_hashed(const uint8_t *pkt, size_t pkt_len, size_t *pos, struct wire_name *out,
			   uint32_t *hash)
{
	const size_t start = *pos;
	const uint8_t *src = pkt + start;
	size_t max = pkt_len - start, i = 0;
	unsigned labels = 0;

	if (start >= pkt_len)
		return false;
	if (max > WIRE_NAME_MAX)
		max = WIRE_NAME_MAX;
	for (;;) {
		if (i >= max)
			return false;
		uint8_t c = src[i];
		if (c > LABEL_MAX)
			return false; /* a pointer too */
		out->labels[labels++] = (uint8_t)i;
		i += 1u + c;
		if (c == 0)
			break;
	}
	out->len = (uint8_t)i;
	out->label_count = (uint8_t)labels;
	*pos = start + i;
	if (i < 8) {
		copy_lower(out->data, src, i);
		*hash = wire_name_hash(out->data, i);
		return true;
	}
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)i, w;
	size_t k = 0;
	for (; k + 8 <= i; k += 8) {
		w = lower64(load64(src + k));
		memcpy(out->data + k, &w, 8);
		h = hash_mix(h, w);
	}
	if (k < i) {
		w = lower64(load64(src + i - 8));
		memcpy(out->data + i - 8, &w, 8);
		h = hash_mix(h, w);
	}
	*hash = hash_final(h);
	return true;
}

/* Pointer rule: a pointer may only target an offset before the start of the stretch of bytes being
 * read (the name's first byte, then each earlier pointer's target). Stretch starts strictly decrease,
 * so forward pointers, self pointers and loops are all impossible, and every name a real compressor
 * writes passes (a pointer always targets a name written before the one that contains it).
 * The walk only checks and indexes labels; each stretch is copied (lowercased) in one go when the walk
 * leaves it. */
bool wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, struct wire_name *out)
{
	size_t p = *pos, floor = *pos, after = 0, stretch = *pos;
	unsigned n = 0, labels = 0, stretch_at = 0;

	for (;;) {
		if (p >= pkt_len)
			return false;
		uint8_t c = pkt[p];
		if (c <= LABEL_MAX) {
			if (p + 1u + c > pkt_len || n + 1u + c > WIRE_NAME_MAX || labels >= WIRE_LABELS_MAX)
				return false;
			if (out)
				out->labels[labels] = (uint8_t)n;
			labels++;
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
			if (out)
				copy_lower(out->data + stretch_at, pkt + stretch, p - stretch);
			if (after == 0)
				after = p + 2;
			floor = p = stretch = target;
			stretch_at = n;
		} else {
			return false; /* 0x40 (extended) and 0x80 (reserved) label types */
		}
	}
	if (out) {
		copy_lower(out->data + stretch_at, pkt + stretch, p - stretch);
		out->len = (uint8_t)n;
		out->label_count = (uint8_t)labels;
	}
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
