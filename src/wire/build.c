/* build.c -- response building: header, question echo, RRs with name compression, the OPT record.
 *
 * Compression: every suffix of a name that is written out as labels (not as a pointer) is remembered
 * in b->compress with its offset, as a tree read from the root: an entry's parent is its suffix one
 * label shorter. To compress a name we match it from its last label up: first against the qname
 * (whose suffixes are the first entries, and which nearly every name in an answer shares: the zone's
 * apex), then down the child lists of the entries written since; labels compare case-insensitively.
 * A name costs one step per label and a look at the few siblings there, not a walk over the table.
 * Suffixes are added shortest first, so each entry's parent is in the table; the table is bounded
 * (WIRE_COMPRESS_MAX), and when it is full, or for names past the 14-bit pointer range, names are
 * still written correctly, only less compressed.
 *
 * Every writer works on a local cursor and commits (b->len, counts) only when the whole item fit, so
 * a failed call leaves the message (bytes 0..len), the counts and the table as they were; it may have
 * scribbled on free bytes past len, never on the space kept by wire_build_reserve. */
#include <arpa/inet.h>
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

/* Case-insensitive equality of two labels (length octet first): zone data and most queries are
 * lowercase, so the exact compare of each byte decides and the lowercasing rarely runs. */
static inline bool label_equal(const uint8_t *a, const uint8_t *b)
{
	unsigned n = a[0];
	if (n != b[0])
		return false;
	for (unsigned i = 1; i <= n; i++) {
		if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* memcpy for the short runs a message is made of (names, addresses): no call, and from 4 octets on
 * two or more fixed-size moves, the last one overlapping. src and dst do not overlap. */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 <= n; i += 8)
			memcpy(dst + i, src + i, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		memcpy(dst, src, 4);
		memcpy(dst + n - 4, src + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* Exact equality of n octets, a word at a time (the last word overlapping). */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n < 8)
		return memcmp(a, b, n) == 0;
	uint64_t diff = 0;
	for (size_t i = 0; i + 8 <= n; i += 8)
		diff |= load64(a + i) ^ load64(b + i);
	return (diff | (load64(a + n - 8) ^ load64(b + n - 8))) == 0;
}

/* Equal octets at the end of the word x = a ^ b: its high octets (little endian). */
static inline size_t equal_tail_octets(uint64_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_clzll(x) / 8;
#else
	return (size_t)__builtin_ctzll(x) / 8;
#endif
}

/* How many octets at the ends of a (na octets) and b (nb) are equal, ignoring case: a word at a time
 * from the end while the words are equal (they usually are: names in an answer share the apex; the
 * last word overlaps octets already compared), then octet by octet, which steps over differences of
 * case only. */
static size_t common_tail(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	size_t n = na < nb ? na : nb, t = 0;
	while (t < n && n >= 8) {
		size_t end =
		    n - t >= 8 ? t + 8 : n; /* the word covers the octets end-8 .. end-1 from the end */
		uint64_t x = load64(a + na - end) ^ load64(b + nb - end);
		if (x) {
			t = end - 8 + equal_tail_octets(x);
			break;
		}
		t = end;
	}
	while (t < n && lower(a[na - t - 1]) == lower(b[nb - t - 1]))
		t++;
	return t;
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
		if (c > 63) /* within 255 octets there are at most 127 labels before the root */
			return 0;
		n->offs[k++] = (uint8_t)i;
		i += 1u + c;
	}
	n->data = p;
	n->len = i + 1;
	n->labels = k;
	return n->len;
}

/* The head of the child list of entry e (the root's for WIRE_COMPRESS_NONE). */
static inline uint8_t *children(struct wire_builder *b, unsigned e)
{
	return e == WIRE_COMPRESS_NONE ? &b->root_child : &b->compress[e].child;
}

/* The longest suffix of n already in the message, matched from the root label by label: first along
 * the qname (the suffix every answer shares with the question), then down the child lists of the
 * entries written since. Returns the index in n of the first label not matched (n->labels when none
 * matched); *node is the entry of the suffix that did match (WIRE_COMPRESS_NONE: none). Every entry's
 * parent is an entry too (they are added parent first), so stopping at the first miss loses nothing. */
static unsigned find_suffix(struct wire_builder *b, const struct name_ref *n, unsigned *node)
{
	int j = (int)n->labels - 1;
	unsigned cur = WIRE_COMPRESS_NONE;
	const struct wire_name *q = b->qname;

	if (q) {
		/* A suffix of n matches when it starts at a label of the qname too (same length from
		 * the end as one of the qname's) and lies within the octets the two names end with. */
		size_t tail = common_tail(n->data, n->len, q->data, q->len);
		int shift = (int)q->len - (int)n->len, first = (int)n->len - (int)tail;
		int k = (int)q->label_count - 2;
		while (j >= 0 && k >= 0 && n->offs[j] >= first && n->offs[j] + shift == q->labels[k]) {
			j--;
			k--;
		}
		/* A question suffix beyond the table is not in the message as far as compression knows:
		 * match from the root instead (the table holds every suffix of a parsed qname, so this
		 * only guards a qname that did not come from wire_parse_query). */
		if (k + 1 < (int)b->question_entries)
			cur = (unsigned)(k + 1);
		else
			j = (int)n->labels - 1;
	}
	for (; j >= 0; j--) {
		const uint8_t *label = n->data + n->offs[j];
		unsigned e = *children(b, cur), left = b->sibling_scan;
		while (e != WIRE_COMPRESS_NONE && !label_equal(b->buf + b->compress[e].offset, label))
			e = --left ? b->compress[e].sibling : WIRE_COMPRESS_NONE;
		if (e == WIRE_COMPRESS_NONE)
			break;
		cur = e;
	}
	*node = cur;
	return (unsigned)(j + 1);
}

/* Adds the suffixes n wrote as labels at at (labels 0 .. upto-1), shortest first so that each one's
 * parent is already an entry. Offsets past the pointer range and a full table end the adding. */
static void remember_suffixes(struct wire_builder *b, const struct name_ref *n, size_t at, unsigned upto,
			      unsigned parent)
{
	for (unsigned k = upto; k-- > 0 && b->compress_count < WIRE_COMPRESS_MAX;) {
		size_t off = at + n->offs[k];
		if (off >= PTR_MAX)
			return;
		unsigned e = b->compress_count++;
		uint8_t *head = children(b, parent);
		struct wire_compress_entry *ce = &b->compress[e];
		ce->offset = (uint16_t)off;
		ce->parent = (uint8_t)parent;
		ce->child = WIRE_COMPRESS_NONE;
		ce->sibling = *head;
		*head = (uint8_t)e;
		parent = e;
	}
}

/* Drops the entries from count on, newest first: each was the head of its parent's list when added,
 * and is again once every later one is gone. The recent names may refer to them: forgotten too. */
static void forget_suffixes(struct wire_builder *b, unsigned count)
{
	if (b->compress_count > count)
		b->recent_count = 0;
	while (b->compress_count > count) {
		const struct wire_compress_entry *ce = &b->compress[--b->compress_count];
		*children(b, ce->parent) = ce->sibling;
	}
}

/* The entry holding all of the name (len octets), when it was written recently, or WIRE_COMPRESS_NONE.
 * Names match exactly: a name that differs in case only is found by find_suffix instead, with the
 * same result. */
static unsigned recent_find(const struct wire_builder *b, const uint8_t *name, size_t len)
{
	unsigned n = b->recent_count < WIRE_RECENT_MAX ? b->recent_count : WIRE_RECENT_MAX;
	for (unsigned i = 0; i < n; i++) {
		const struct wire_recent *r = &b->recent[i];
		if (r->len == len && same_bytes(r->name, name, len))
			return r->entry;
	}
	return WIRE_COMPRESS_NONE;
}

static void recent_add(struct wire_builder *b, const uint8_t *name, size_t len, unsigned entry)
{
	struct wire_recent *r = &b->recent[b->recent_count++ % WIRE_RECENT_MAX];
	r->len = (uint8_t)len;
	r->entry = (uint8_t)entry;
	copy_bytes(r->name, name, len);
}

/* A pointer to entry e at *at (not past end). */
static bool put_pointer(struct wire_builder *b, size_t *at, size_t end, unsigned e)
{
	if (end - *at < 2)
		return false;
	put16(b->buf + *at, 0xC000u | b->compress[e].offset);
	*at += 2;
	return true;
}

/* Writes n compressed at *at (not past end), remembers its new suffixes, and with record, records it
 * as recent when an entry holds all of it (entries are unique, so find_suffix would find that one). */
static bool put_name(struct wire_builder *b, size_t *at, size_t end, const struct name_ref *n, bool record)
{
	unsigned node;
	unsigned k = find_suffix(b, n, &node);
	size_t head = k < n->labels ? n->offs[k] : n->len;
	size_t need = head + (k < n->labels ? 2 : 0);

	if (end - *at < need)
		return false;
	copy_bytes(b->buf + *at, n->data, head);
	if (k < n->labels)
		put16(b->buf + *at + head, 0xC000u | b->compress[node].offset);
	unsigned before = b->compress_count;
	remember_suffixes(b, n, *at, k, node);
	if (record && n->labels > 0) { /* the root is one octet: nothing to record */
		if (k == 0)
			recent_add(b, n->data, n->len, node);
		else if (b->compress_count - before == k)
			recent_add(b, n->data, n->len, b->compress_count - 1);
	}
	*at += need;
	return true;
}

/* The question entry of the qname's suffix that p (len octets) is exactly, or WIRE_COMPRESS_NONE:
 * the owner of a negative answer's SOA (the apex) and of a referral (the cut) is one. */
static unsigned question_suffix(const struct wire_builder *b, const uint8_t *p, size_t len)
{
	const struct wire_name *q = b->qname;
	if (!q || len >= q->len)
		return WIRE_COMPRESS_NONE;
	size_t from = q->len - len;
	unsigned k = q->label_count - 1u;
	while (k > 0 && q->labels[k] > from)
		k--;
	if (q->labels[k] != from || k >= b->question_entries || !same_bytes(q->data + from, p, len))
		return WIRE_COMPRESS_NONE;
	return k;
}

/* An uncompressed name of exactly len octets at p (an owner, or the one name of an NS, CNAME or PTR:
 * the names that come back as the next owners), compressed, and recorded as recent. */
static bool put_name_at(struct wire_builder *b, size_t *at, size_t end, const uint8_t *p, size_t len)
{
	struct name_ref n;
	unsigned e = question_suffix(b, p, len);
	if (e != WIRE_COMPRESS_NONE)
		return put_pointer(b, at, end, e);
	e = recent_find(b, p, len);
	if (e != WIRE_COMPRESS_NONE)
		return put_pointer(b, at, end, e);
	return name_index(&n, p, len) == len && put_name(b, at, end, &n, true);
}

static bool put_bytes(struct wire_builder *b, size_t *at, size_t end, const uint8_t *p, size_t len)
{
	if (end - *at < len)
		return false;
	if (len > 64)
		memcpy(b->buf + *at, p, len);
	else if (len) /* rdata may be NULL when empty */
		copy_bytes(b->buf + *at, p, len);
	*at += len;
	return true;
}

/* The types of put_rdata's switch, as a bit set (all are below 16). */
#define NAME_TYPES                                                                                           \
	(1u << WIRE_TYPE_NS | 1u << WIRE_TYPE_MD | 1u << WIRE_TYPE_MF | 1u << WIRE_TYPE_CNAME |              \
	 1u << WIRE_TYPE_SOA | 1u << WIRE_TYPE_MB | 1u << WIRE_TYPE_MG | 1u << WIRE_TYPE_MR |                \
	 1u << WIRE_TYPE_PTR | 1u << WIRE_TYPE_MINFO | 1u << WIRE_TYPE_MX)

static inline bool has_names(uint16_t type)
{
	return type < 16 && (NAME_TYPES >> type & 1u);
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
		if (len > 0 && (a = recent_find(b, rd, len)) != WIRE_COMPRESS_NONE)
			return put_pointer(b, at, end, (unsigned)a);
		if (len > 0 && name_index(&n[0], rd, len) == len)
			return put_name(b, at, end, &n[0], true);
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
		if (!put_name(b, at, end, &n[i], false))
			return false;
	}
	return put_bytes(b, at, end, rd + len - tail, tail);
}

static size_t write_end(const struct wire_builder *b)
{
	return b->reserved > b->limit - b->len ? b->len : b->limit - b->reserved;
}

void wire_build_limit_search(struct wire_builder *b, unsigned n)
{
	b->sibling_scan = n ? n : 1;
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
	b->question_entries = 0;
	b->root_child = WIRE_COMPRESS_NONE;
	b->qname = NULL;
	b->recent_count = 0;
	b->sibling_scan = WIRE_COMPRESS_MAX + 1u; /* more than a list can hold: no limit */
	if (b->limit < WIRE_HEADER_SIZE + qlen)
		return false;

	/* RD and the opcode are copied (RFC 1035 4.1.1); CD is cleared, as an authoritative response
	 * should (RFC 4035 3.1.6), and so are AD, Z and the rest. */
	unsigned keep = WIRE_FLAG_RD | (0xFu << 11);
	put16(buf, q->id);
	put16(buf + 2, WIRE_FLAG_QR | (q->flags & keep));
	put16(buf + 4, q->has_question ? 1 : 0);
	memset(buf + 6, 0, 6);
	b->len = WIRE_HEADER_SIZE;
	if (q->has_question) {
		copy_bytes(buf + QNAME_OFFSET, q->question_wire, qlen);
		b->len += qlen;
		/* The entries point at the echoed bytes (original case); the matching reads the
		 * lowercased qname instead, and walks their chain itself (see find_suffix), so only
		 * offset and child are used. */
		unsigned n = q->qname.label_count - 1u;
		if (n > WIRE_COMPRESS_MAX)
			n = WIRE_COMPRESS_MAX;
		for (unsigned k = 0; k < n; k++) {
			b->compress[k].offset = (uint16_t)(QNAME_OFFSET + q->qname.labels[k]);
			b->compress[k].child = WIRE_COMPRESS_NONE;
		}
		b->compress_count = b->question_entries = n;
		b->qname = &q->qname;
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

void wire_build_clear_flags(struct wire_builder *b, uint16_t clear_bits)
{
	put16(b->buf + 2, (unsigned)(b->buf[2] << 8 | b->buf[3]) & ~(unsigned)clear_bits);
}

void wire_build_set_rcode(struct wire_builder *b, unsigned rcode)
{
	b->buf[3] = (uint8_t)((b->buf[3] & 0xF0u) | (rcode & 0xFu));
}

/* Owner equal to the question name (the usual answer): pointer 0xC00C without a table search. The
 * qname is lowercased, so only the owner's bytes may need lowercasing. */
static bool owner_is_qname(const struct wire_builder *b, const uint8_t *owner, size_t owner_len)
{
	const struct wire_name *q = b->qname;

	if (!q || b->question_entries == 0 || owner_len != q->len)
		return false;
	if (owner == q->data)
		return true;
	for (size_t i = 0; i < owner_len; i++) {
		if (owner[i] != q->data[i] && lower(owner[i]) != q->data[i])
			return false;
	}
	return true;
}

/* Type, class, TTL and a zero rdlength (filled in once the rdata is written). */
static inline void put_rr_fixed(uint8_t *p, uint16_t type, uint16_t rclass, uint32_t ttl)
{
	uint32_t tc = htonl((uint32_t)type << 16 | rclass), t = htonl(ttl);
	memcpy(p, &tc, 4);
	memcpy(p + 4, &t, 4);
}

bool wire_build_rr(struct wire_builder *b, enum wire_section section, const uint8_t *owner, size_t owner_len,
		   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t end = write_end(b), at = b->len, rd_at;
	unsigned saved = b->compress_count;

	if ((int)section < b->section || (int)section > WIRE_SECTION_ADDITIONAL ||
	    b->count[section] == 0xFFFFu)
		return false;
	if (owner_is_qname(b, owner, owner_len)) {
		if (end - at < 2)
			return false;
		put16(b->buf + at, 0xC000u | QNAME_OFFSET);
		at += 2;
	} else if (!put_name_at(b, &at, end, owner, owner_len)) {
		goto fail;
	}
	if (end - at < RR_FIXED)
		goto fail;
	put_rr_fixed(b->buf + at, type, rclass, ttl);
	at += RR_FIXED;
	rd_at = at;
	if (has_names(type) ? !put_rdata(b, &at, end, type, rdata, rdlen)
			    : !put_bytes(b, &at, end, rdata, rdlen))
		goto fail;
	put16(b->buf + rd_at - 2, (unsigned)(at - rd_at));
	b->len = at;
	b->count[section]++;
	b->section = (int)section;
	return true;
fail:
	forget_suffixes(b, saved);
	return false;
}

bool wire_type_compresses(uint16_t type)
{
	return has_names(type);
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
	forget_suffixes(b, m->compress_count);
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
	if (r->cookie)
		n += 4u + r->cookie_len;
	if (r->keepalive)
		n += 6u;
	if (r->ede)
		n += 6u + (r->ede_text ? strlen(r->ede_text) : 0u);
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
		p += 8u + alen;
	}
	if (r->cookie) {
		put16(p, WIRE_EDNS_COOKIE);
		put16(p + 2, r->cookie_len);
		memcpy(p + 4, r->cookie, r->cookie_len);
		p += 4u + r->cookie_len;
	}
	if (r->keepalive) {
		put16(p, WIRE_EDNS_TCP_KEEPALIVE);
		put16(p + 2, 2);
		put16(p + 4, r->keepalive_timeout);
		p += 6;
	}
	if (r->ede) {
		size_t text = r->ede_text ? strlen(r->ede_text) : 0;
		put16(p, WIRE_EDNS_EDE);
		put16(p + 2, (unsigned)(2 + text));
		put16(p + 4, r->ede_code);
		if (text)
			memcpy(p + 6, r->ede_text, text);
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
