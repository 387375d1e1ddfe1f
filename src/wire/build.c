/* build.c -- response building: header, question echo, RRs with name compression, the OPT record.
 *
 * Compression: every suffix of a name that is written out as labels (not as a pointer) is remembered
 * in b->compress with its offset and uncompressed length. To compress a name we look for the longest
 * of its suffixes that is already in the message: an entry only matches a suffix of the same length,
 * and then the message is walked from the entry's offset (following our own pointers) and compared
 * label by label, case-insensitively. The table is bounded (WIRE_COMPRESS_MAX); when it is full names
 * are still written correctly, only less compressed. Only offsets below 0x4000 can be pointed to.
 *
 * Every writer works on a local cursor and commits (b->len, counts) only when the whole item fit, so
 * a failed call leaves the message (bytes 0..len), the counts and the table as they were; it may have
 * scribbled on free bytes past len, never on the space kept by wire_build_reserve. */
#include <string.h>

#include "meridian/wire.h"

#define PTR_MAX	     0x4000u /* pointers have 14 bits of offset */
#define QNAME_OFFSET WIRE_HEADER_SIZE
#define RR_FIXED     10
#define OPT_FIXED    11 /* root owner + RR_FIXED */
#define SOA_TAIL     20 /* serial, refresh, retry, expire, minimum */

static inline void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xFFFFu);
}

static inline uint8_t lower(uint8_t c)
{
	return (uint8_t)(c | ((unsigned)(c - 'A') < 26u ? 0x20u : 0u));
}

/* Case-insensitive equality; names usually match exactly (zone data and most queries are lowercase),
 * so the exact compare runs first. */
static inline bool same_text(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (memcmp(a, b, n) == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

/* A name to write: its bytes and the offset of each non-root label. */
struct name_ref {
	const uint8_t *data;
	size_t len;
	unsigned labels; /* non-root labels */
	uint8_t offs[WIRE_LABELS_MAX];
};

/* Indexes the uncompressed name at p (at most max octets); returns its length, 0 when invalid. */
static size_t name_index(struct name_ref *n, const uint8_t *p, size_t max)
{
	size_t i = 0;
	unsigned k = 0;

	if (max > WIRE_NAME_MAX)
		max = WIRE_NAME_MAX;
	for (;;) {
		if (i >= max)
			return 0;
		uint8_t c = p[i];
		if (c == 0)
			break;
		if (c > 63 || k >= WIRE_LABELS_MAX - 1)
			return 0;
		n->offs[k++] = (uint8_t)i;
		i += 1u + c;
	}
	n->data = p;
	n->len = i + 1;
	n->labels = k;
	return n->len;
}

/* Does the name in our message at off equal the uncompressed name s? (Same length is known.) */
static bool message_name_equal(const uint8_t *msg, size_t off, const uint8_t *s)
{
	for (;;) {
		uint8_t c = msg[off];
		if (c >= 0xC0) {
			off = ((size_t)(c & 0x3Fu) << 8) | msg[off + 1];
			continue;
		}
		if (c != *s)
			return false;
		if (c == 0)
			return true;
		if (!same_text(msg + off + 1, s + 1, c))
			return false;
		off += 1u + c;
		s += 1u + c;
	}
}

/* Index of the longest suffix of n already in the message (n->labels when none), its offset in *ptr. */
static unsigned find_suffix(const struct wire_builder *b, const struct name_ref *n, uint16_t *ptr)
{
	unsigned best = n->labels;

	for (unsigned e = 0; e < b->compress_count && best > 0; e++) {
		const struct wire_compress_entry *ce = &b->compress[e];
		/* suffix lengths fall as k grows: stop at the first not longer than the entry */
		for (unsigned k = 0; k < best; k++) {
			size_t slen = n->len - n->offs[k];
			if (slen > ce->len)
				continue;
			if (slen == ce->len && message_name_equal(b->buf, ce->offset, n->data + n->offs[k])) {
				best = k;
				*ptr = ce->offset;
			}
			break;
		}
	}
	return best;
}

static void remember_suffixes(struct wire_builder *b, const struct name_ref *n, size_t at, unsigned upto)
{
	for (unsigned k = 0; k < upto && b->compress_count < WIRE_COMPRESS_MAX; k++) {
		size_t off = at + n->offs[k];
		if (off >= PTR_MAX)
			return;
		struct wire_compress_entry *ce = &b->compress[b->compress_count++];
		ce->offset = (uint16_t)off;
		ce->len = (uint8_t)(n->len - n->offs[k]);
		ce->name = b->buf + off;
	}
}

/* Writes n compressed at *at (not past end) and remembers its new suffixes. */
static bool put_name(struct wire_builder *b, size_t *at, size_t end, const struct name_ref *n)
{
	uint16_t ptr = 0;
	unsigned k = find_suffix(b, n, &ptr);
	size_t head = k < n->labels ? n->offs[k] : n->len;
	size_t need = head + (k < n->labels ? 2 : 0);

	if (end - *at < need)
		return false;
	memcpy(b->buf + *at, n->data, head);
	if (k < n->labels)
		put16(b->buf + *at + head, 0xC000u | ptr);
	remember_suffixes(b, n, *at, k);
	*at += need;
	return true;
}

static bool put_bytes(struct wire_builder *b, size_t *at, size_t end, const uint8_t *p, size_t len)
{
	if (end - *at < len)
		return false;
	if (len) /* rdata may be NULL when empty */
		memcpy(b->buf + *at, p, len);
	*at += len;
	return true;
}

/* Writes rdata at *at. The names in the rdata of the RFC 1035 types that allow it are compressed;
 * rdata that does not have its type's layout, and every other type, is copied as it is (RFC 3597). */
static bool put_rdata(struct wire_builder *b, size_t *at, size_t end, uint16_t type, const uint8_t *rd,
		      uint16_t len)
{
	struct name_ref n[2];
	size_t skip = 0, tail = 0, a, c;
	unsigned names = 0;

	switch (type) {
	case WIRE_TYPE_NS:
	case WIRE_TYPE_MD:
	case WIRE_TYPE_MF:
	case WIRE_TYPE_CNAME:
	case WIRE_TYPE_MB:
	case WIRE_TYPE_MG:
	case WIRE_TYPE_MR:
	case WIRE_TYPE_PTR:
		names = len > 0 && name_index(&n[0], rd, len) == len;
		break;
	case WIRE_TYPE_MX:
		skip = 2;
		names = len > 2 && name_index(&n[0], rd + 2, len - 2u) == len - 2u;
		break;
	case WIRE_TYPE_SOA:
		tail = SOA_TAIL;
		/* fall through */
	case WIRE_TYPE_MINFO:
		a = name_index(&n[0], rd, len);
		c = a ? name_index(&n[1], rd + a, len - a) : 0;
		names = a && c && a + c + tail == len ? 2 : 0;
		break;
	default:
		break;
	}
	if (names == 0)
		return put_bytes(b, at, end, rd, len);
	if (!put_bytes(b, at, end, rd, skip))
		return false;
	for (unsigned i = 0; i < names; i++) {
		if (!put_name(b, at, end, &n[i]))
			return false;
	}
	return put_bytes(b, at, end, rd + len - tail, tail);
}

static size_t write_end(const struct wire_builder *b)
{
	return b->reserved > b->limit - b->len ? b->len : b->limit - b->reserved;
}

bool wire_build_start(struct wire_builder *b, uint8_t *buf, size_t limit, const struct wire_query *q)
{
	size_t qlen = q->has_question ? q->question_len : 0;

	b->buf = buf;
	b->limit = limit > WIRE_MSG_MAX ? WIRE_MSG_MAX : limit;
	b->reserved = 0;
	b->len = 0;
	b->count[0] = b->count[1] = b->count[2] = 0;
	b->section = WIRE_SECTION_ANSWER;
	b->compress_count = 0;
	if (b->limit < WIRE_HEADER_SIZE + qlen)
		return false;

	unsigned keep = WIRE_FLAG_RD | WIRE_FLAG_CD | (0xFu << 11);
	put16(buf, q->id);
	put16(buf + 2, WIRE_FLAG_QR | (q->flags & keep));
	put16(buf + 4, q->has_question ? 1 : 0);
	memset(buf + 6, 0, 6);
	b->len = WIRE_HEADER_SIZE;
	if (q->has_question) {
		memcpy(buf + QNAME_OFFSET, q->question_wire, qlen);
		b->len += qlen;
		/* the entries point at the echoed bytes (original case); matching ignores case */
		for (unsigned k = 0; k + 1 < q->qname.label_count; k++) {
			struct wire_compress_entry *ce = &b->compress[b->compress_count++];
			ce->offset = (uint16_t)(QNAME_OFFSET + q->qname.labels[k]);
			ce->len = (uint8_t)(q->qname.len - q->qname.labels[k]);
			ce->name = buf + ce->offset;
			if (b->compress_count == WIRE_COMPRESS_MAX)
				break;
		}
	}
	return true;
}

void wire_build_reserve(struct wire_builder *b, size_t n)
{
	b->reserved = n;
}

void wire_build_set_flags(struct wire_builder *b, uint16_t set_bits)
{
	put16(b->buf + 2, (unsigned)(b->buf[2] << 8 | b->buf[3]) | set_bits);
}

void wire_build_set_rcode(struct wire_builder *b, unsigned rcode)
{
	b->buf[3] = (uint8_t)((b->buf[3] & 0xF0u) | (rcode & 0xFu));
}

/* Owner equal to the question name (the usual answer): pointer 0xC00C without a table search. */
static bool owner_is_qname(const struct wire_builder *b, const uint8_t *owner, size_t owner_len)
{
	const struct wire_compress_entry *ce = &b->compress[0];

	return b->compress_count > 0 && ce->offset == QNAME_OFFSET && ce->len == owner_len &&
	       same_text(ce->name, owner, owner_len);
}

bool wire_build_rr(struct wire_builder *b, enum wire_section section, const uint8_t *owner, size_t owner_len,
		   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t end = write_end(b), at = b->len, rd_at;
	unsigned saved = b->compress_count;
	struct name_ref n;

	if ((int)section < b->section || (int)section > WIRE_SECTION_ADDITIONAL ||
	    b->count[section] == 0xFFFFu)
		return false;
	if (owner_is_qname(b, owner, owner_len)) {
		if (end - at < 2)
			return false;
		put16(b->buf + at, 0xC000u | QNAME_OFFSET);
		at += 2;
	} else if (name_index(&n, owner, owner_len) != owner_len || !put_name(b, &at, end, &n)) {
		goto fail;
	}
	if (end - at < RR_FIXED)
		goto fail;
	put16(b->buf + at, type);
	put16(b->buf + at + 2, rclass);
	put32(b->buf + at + 4, ttl);
	at += RR_FIXED;
	rd_at = at;
	if (!put_rdata(b, &at, end, type, rdata, rdlen))
		goto fail;
	put16(b->buf + rd_at - 2, (unsigned)(at - rd_at));
	b->len = at;
	b->count[section]++;
	b->section = (int)section;
	return true;
fail:
	b->compress_count = saved;
	return false;
}

void wire_build_mark(const struct wire_builder *b, struct wire_mark *m)
{
	m->len = b->len;
	memcpy(m->count, b->count, sizeof(m->count));
	m->compress_count = b->compress_count;
}

/* The section becomes the last one that still holds RRs: the message stays well formed and writing
 * resumes where the kept part ends. */
void wire_build_rollback(struct wire_builder *b, const struct wire_mark *m)
{
	b->len = m->len;
	memcpy(b->count, m->count, sizeof(b->count));
	b->compress_count = m->compress_count;
	b->section = b->count[2]   ? WIRE_SECTION_ADDITIONAL
		     : b->count[1] ? WIRE_SECTION_AUTHORITY
				   : WIRE_SECTION_ANSWER;
}

static unsigned ecs_addr_len(const struct wire_edns_reply *r)
{
	unsigned n = (r->ecs_source_prefix + 7u) / 8u;
	return n > 16 ? 16 : n;
}

size_t wire_edns_size(const struct wire_edns_reply *r)
{
	size_t n = OPT_FIXED;

	if (r->nsid)
		n += 4u + r->nsid_len;
	if (r->ecs)
		n += 4u + 4u + ecs_addr_len(r);
	return n;
}

/* Option data of the OPT rdata at p (wire_edns_size(r) - OPT_FIXED bytes). */
static void put_options(uint8_t *p, const struct wire_edns_reply *r)
{
	if (r->nsid) {
		put16(p, WIRE_EDNS_NSID);
		put16(p + 2, r->nsid_len);
		memcpy(p + 4, r->nsid, r->nsid_len);
		p += 4u + r->nsid_len;
	}
	if (r->ecs) {
		unsigned alen = ecs_addr_len(r);
		put16(p, WIRE_EDNS_ECS);
		put16(p + 2, 4u + alen);
		put16(p + 4, r->ecs_family);
		p[6] = r->ecs_source_prefix;
		p[7] = r->ecs_scope_prefix;
		if (alen)
			memcpy(p + 8, r->ecs_addr, alen);
		if (r->ecs_source_prefix & 7) /* address bits beyond the source prefix MUST be zero */
			p[8 + alen - 1] &= (uint8_t)(0xFFu << (8 - (r->ecs_source_prefix & 7)));
	}
}

bool wire_build_opt(struct wire_builder *b, const struct wire_edns_reply *r)
{
	size_t need = wire_edns_size(r), saved = b->reserved;

	if (r->ecs && r->ecs_source_prefix > 128)
		return false;
	if (b->count[WIRE_SECTION_ADDITIONAL] == 0xFFFFu || need - OPT_FIXED > 0xFFFFu)
		return false;
	b->reserved = 0;
	if (b->limit - b->len < need) {
		b->reserved = saved;
		return false;
	}
	uint8_t *p = b->buf + b->len;
	p[0] = 0;
	put16(p + 1, WIRE_TYPE_OPT);
	put16(p + 3, r->payload);
	put32(p + 5, (uint32_t)r->ext_rcode << 24 | (r->do_bit ? 0x8000u : 0u));
	put16(p + 9, (unsigned)(need - OPT_FIXED));
	put_options(p + OPT_FIXED, r);
	b->len += need;
	b->count[WIRE_SECTION_ADDITIONAL]++;
	b->section = WIRE_SECTION_ADDITIONAL;
	return true;
}

size_t wire_build_finish(struct wire_builder *b)
{
	put16(b->buf + 6, b->count[0]);
	put16(b->buf + 8, b->count[1]);
	put16(b->buf + 10, b->count[2]);
	return b->len;
}
