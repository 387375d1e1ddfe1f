/* test_wire.c -- unit tests of the wire module: names, query parsing, response building, OPT. */
#include <check.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/wire.h"

/* ---- helpers: messages assembled by hand ---- */

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void m_u8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void m_u16(struct msg *m, unsigned v)
{
	m_u8(m, v >> 8);
	m_u8(m, v & 0xFF);
}

static void m_u32(struct msg *m, uint32_t v)
{
	m_u16(m, v >> 16);
	m_u16(m, v & 0xFFFF);
}

static void m_bytes(struct msg *m, const void *p, size_t n)
{
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* "www.example.com." (or ".") to uncompressed wire form; no escapes. */
static size_t wire(const char *text, uint8_t *out)
{
	size_t n = 0;

	while (*text && strcmp(text, ".") != 0) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);
		out[n++] = (uint8_t)l;
		memcpy(out + n, text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static void m_name(struct msg *m, const char *text)
{
	m->n += wire(text, m->b + m->n);
}

static void m_header(struct msg *m, uint16_t id, uint16_t flags, unsigned qd, unsigned an, unsigned ns,
		     unsigned ar)
{
	m->n = 0;
	m_u16(m, id);
	m_u16(m, flags);
	m_u16(m, qd);
	m_u16(m, an);
	m_u16(m, ns);
	m_u16(m, ar);
}

/* A query for name/type IN with ar additional records still to append. */
static void m_query(struct msg *m, const char *name, uint16_t type, unsigned ar)
{
	m_header(m, 0x1234, WIRE_FLAG_RD, 1, 0, 0, ar);
	m_name(m, name);
	m_u16(m, type);
	m_u16(m, WIRE_CLASS_IN);
}

static void m_opt(struct msg *m, uint16_t payload, uint8_t version, uint16_t flags, const uint8_t *rd,
		  uint16_t rdlen)
{
	m_u8(m, 0);
	m_u16(m, WIRE_TYPE_OPT);
	m_u16(m, payload);
	m_u8(m, 0);
	m_u8(m, version);
	m_u16(m, flags);
	m_u16(m, rdlen);
	m_bytes(m, rd, rdlen);
}

/* An OPT whose only option is ECS with the given fields and address bytes. */
static void m_opt_ecs(struct msg *m, uint16_t family, uint8_t source, uint8_t scope, const uint8_t *addr,
		      size_t addr_len)
{
	uint8_t rd[64];
	size_t n = 0;
	rd[n++] = 0;
	rd[n++] = WIRE_EDNS_ECS;
	rd[n++] = 0;
	rd[n++] = (uint8_t)(4 + addr_len);
	rd[n++] = (uint8_t)(family >> 8);
	rd[n++] = (uint8_t)family;
	rd[n++] = source;
	rd[n++] = scope;
	if (addr_len)
		memcpy(rd + n, addr, addr_len);
	n += addr_len;
	m_opt(m, 1232, 0, 0, rd, (uint16_t)n);
}

static enum wire_parse_status parse(const struct msg *m, struct wire_query *q)
{
	return wire_parse_query(m->b, m->n, q);
}

/* ---- names ---- */

START_TEST(name_within_apex_at_label_boundaries)
{
	static const uint8_t apex[] = "\7example\3com";
	static const uint8_t www[] = "\3WWW\7Example\3COM";
	static const uint8_t other[] = "\7example\3net";
	/* a label that merely ends with the apex's bytes is not below it */
	static const uint8_t inside[] = "\11x\7example\3com";
	static const uint8_t root[] = "";
	ck_assert(wire_name_within(apex, sizeof(apex), apex, sizeof(apex)));
	ck_assert(wire_name_within(www, sizeof(www), apex, sizeof(apex)));
	ck_assert(!wire_name_within(other, sizeof(other), apex, sizeof(apex)));
	ck_assert(!wire_name_within(inside, sizeof(inside), apex, sizeof(apex)));
	ck_assert(!wire_name_within(apex, sizeof(apex), www, sizeof(www)));
	ck_assert(wire_name_within(www, sizeof(www), root, sizeof(root)));
}
END_TEST

START_TEST(name_from_wire_lowercases_and_indexes)
{
	uint8_t src[] = "\3WwW\7ExAmPlE\3COM";
	struct wire_name n;
	ck_assert(wire_name_from_wire(&n, src, sizeof(src)));
	ck_assert_uint_eq(n.len, 17);
	ck_assert_uint_eq(n.label_count, 4);
	ck_assert_mem_eq(n.data, "\3www\7example\3com", 17);
	ck_assert_uint_eq(n.labels[0], 0);
	ck_assert_uint_eq(n.labels[1], 4);
	ck_assert_uint_eq(n.labels[2], 12);
	ck_assert_uint_eq(n.labels[3], 16);

	uint8_t root = 0;
	ck_assert(wire_name_from_wire(&n, &root, 1));
	ck_assert_uint_eq(n.len, 1);
	ck_assert_uint_eq(n.label_count, 1);
}
END_TEST

START_TEST(name_from_wire_rejects)
{
	struct wire_name n;
	uint8_t big[300];
	memset(big, 0, sizeof(big));
	big[0] = 64; /* label too long */
	ck_assert(!wire_name_from_wire(&n, big, sizeof(big)));
	ck_assert(!wire_name_from_wire(&n, (const uint8_t *)"\3www\3com", 8)); /* no root */
	ck_assert(!wire_name_from_wire(&n, (const uint8_t *)"\3ww", 3));       /* label cut */
	ck_assert(!wire_name_from_wire(&n, (const uint8_t *)"\300\14", 2));    /* pointer */
	ck_assert(!wire_name_from_wire(&n, (const uint8_t *)"", 0));
	/* 4 labels of 63 + root = 257 octets */
	for (int i = 0; i < 4; i++) {
		big[i * 64] = 63;
		memset(big + i * 64 + 1, 'a', 63);
	}
	big[256] = 0;
	ck_assert(!wire_name_from_wire(&n, big, 257));
	ck_assert_uint_eq(wire_name_length(big, 300), 0);
}
END_TEST

/* 127 one-octet labels and the root: 255 octets, 128 labels, both limits exactly. */
static size_t max_name(uint8_t *p)
{
	for (int i = 0; i < 127; i++) {
		p[2 * i] = 1;
		p[2 * i + 1] = (uint8_t)('a' + i % 26);
	}
	p[254] = 0;
	return 255;
}

START_TEST(name_exactly_255)
{
	uint8_t p[300];
	struct wire_name n;
	size_t len = max_name(p);
	ck_assert_uint_eq(wire_name_length(p, sizeof(p)), 255);
	ck_assert(wire_name_from_wire(&n, p, len));
	ck_assert_uint_eq(n.len, 255);
	ck_assert_uint_eq(n.label_count, 128);
	size_t pos = 0;
	ck_assert(wire_name_read(p, len, &pos, &n));
	ck_assert_uint_eq(pos, 255);
	ck_assert_uint_eq(n.label_count, 128);

	/* one more octet in the first label: 256 */
	uint8_t q[300];
	q[0] = 2;
	q[1] = 'x';
	q[2] = 'y';
	memcpy(q + 3, p + 2, 253);
	ck_assert_uint_eq(wire_name_length(q, sizeof(q)), 0);
	ck_assert(!wire_name_from_wire(&n, q, 256));
	pos = 0;
	ck_assert(!wire_name_read(q, 256, &pos, &n));
}
END_TEST

START_TEST(name_length_and_equal)
{
	ck_assert_uint_eq(wire_name_length((const uint8_t *)"\3www\3com", 9), 9);
	ck_assert_uint_eq(wire_name_length((const uint8_t *)"\3www\3com", 8), 0);
	ck_assert_uint_eq(wire_name_length((const uint8_t *)"\3www\300\14", 6), 0);
	ck_assert_uint_eq(wire_name_length((const uint8_t *)"\0", 1), 1);
	ck_assert_uint_eq(wire_name_length((const uint8_t *)"\0", 0), 0);
	ck_assert(wire_name_equal((const uint8_t *)"\3WWW\3cOm", (const uint8_t *)"\3www\3CoM", 9));
	ck_assert(!wire_name_equal((const uint8_t *)"\3www\3com", (const uint8_t *)"\3wwx\3com", 9));
	/* '@' and '`' differ from each other by 0x20 but are not letters */
	ck_assert(!wire_name_equal((const uint8_t *)"\1@", (const uint8_t *)"\1`", 2));
}
END_TEST

START_TEST(name_read_plain_and_compressed)
{
	struct msg m;
	struct wire_name n;
	m.n = 0;
	m_bytes(&m, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	m_name(&m, "www.Example.com.");	 /* 12..28 */
	m_bytes(&m, "\4mail\300\20", 7); /* 29: mail + ptr to example.com (16) */
	m_bytes(&m, "\1x\300\35", 4);	 /* 36: x + ptr to mail.example.com (29) */
	m_bytes(&m, "\300\14", 2);	 /* 40: ptr to www.example.com */

	size_t pos = 12;
	ck_assert(wire_name_read(m.b, m.n, &pos, &n));
	ck_assert_uint_eq(pos, 29);
	ck_assert_mem_eq(n.data, "\3www\7example\3com", 17);

	pos = 29;
	ck_assert(wire_name_read(m.b, m.n, &pos, &n));
	ck_assert_uint_eq(pos, 36);
	ck_assert_uint_eq(n.len, 18);
	ck_assert_mem_eq(n.data, "\4mail\7example\3com", 18);
	ck_assert_uint_eq(n.label_count, 4);
	ck_assert_uint_eq(n.labels[1], 5);

	pos = 36;
	ck_assert(wire_name_read(m.b, m.n, &pos, &n));
	ck_assert_uint_eq(pos, 40);
	ck_assert_mem_eq(n.data, "\1x\4mail\7example\3com", 20);
	ck_assert_uint_eq(n.label_count, 5);

	pos = 40;
	ck_assert(wire_name_read(m.b, m.n, &pos, NULL));
	ck_assert_uint_eq(pos, 42);
}
END_TEST

START_TEST(name_read_rejects_bad_pointers)
{
	struct wire_name n;
	size_t pos;
	uint8_t self[] = {0, 0, 0xC0, 2};	     /* pointer to itself */
	uint8_t fwd[] = {0xC0, 2, 0};		     /* forward pointer */
	uint8_t loop[] = {1, 'a', 0xC0, 0};	     /* label then pointer back to the label */
	uint8_t loop2[] = {0xC0, 2, 0xC0, 0};	     /* two pointers to each other */
	uint8_t deep[] = {1, 'a', 0xC0, 0, 0xC0, 2}; /* read from 4: ptr to 2 -> ptr to 0 -> loop */
	uint8_t ext[] = {0x41, 'a', 0};		     /* 0x40 label type */
	uint8_t rsv[] = {0x81, 'a', 0};		     /* 0x80 label type */

	pos = 2;
	ck_assert(!wire_name_read(self, sizeof(self), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(fwd, sizeof(fwd), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(loop, sizeof(loop), &pos, &n));
	pos = 2;
	ck_assert(!wire_name_read(loop2, sizeof(loop2), &pos, &n));
	pos = 4;
	ck_assert(!wire_name_read(deep, sizeof(deep), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(ext, sizeof(ext), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(rsv, sizeof(rsv), &pos, &n));
	ck_assert_uint_eq(pos, 0); /* not advanced on failure */
}
END_TEST

START_TEST(name_read_rejects_truncation_and_length)
{
	struct wire_name n;
	size_t pos;
	uint8_t cut_label[] = {3, 'w', 'w'};
	uint8_t no_root[] = {3, 'w', 'w', 'w'};
	uint8_t half_ptr[] = {0, 1, 'a', 0xC0};
	pos = 0;
	ck_assert(!wire_name_read(cut_label, sizeof(cut_label), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(no_root, sizeof(no_root), &pos, &n));
	pos = 1;
	ck_assert(!wire_name_read(half_ptr, sizeof(half_ptr), &pos, &n));
	pos = 0;
	ck_assert(!wire_name_read(cut_label, 0, &pos, &n));

	/* 4 x 63-octet labels through pointers: each stretch is short but the name is 257 octets */
	uint8_t p[400];
	size_t at = 0;
	p[at++] = 0; /* root at 0 */
	size_t prev = 0;
	for (int i = 0; i < 4; i++) {
		size_t start = at;
		p[at++] = 63;
		memset(p + at, 'a' + i, 63);
		at += 63;
		p[at++] = 0xC0;
		p[at++] = (uint8_t)prev;
		prev = start;
		ck_assert(prev < 256);
	}
	pos = prev;
	ck_assert(!wire_name_read(p, at, &pos, &n));
	/* three of them (193 octets) are fine */
	pos = 1 + 2 * 66;
	ck_assert(wire_name_read(p, at, &pos, &n));
	ck_assert_uint_eq(n.len, 193);
}
END_TEST

START_TEST(name_to_text)
{
	char out[1100];
	uint8_t w[300];
	size_t n = wire("www.Example.com.", w);
	ck_assert_uint_eq(wire_name_to_text(w, n, out, sizeof(out)), 16);
	ck_assert_str_eq(out, "www.Example.com.");
	ck_assert_uint_eq(wire_name_to_text((const uint8_t *)"", 1, out, sizeof(out)), 1);
	ck_assert_str_eq(out, ".");

	const uint8_t odd[] = "\3a.b\4\0 \\\"\3com";
	ck_assert_uint_eq(wire_name_to_text(odd, sizeof(odd), out, sizeof(out)),
			  strlen("a\\.b.\\000\\032\\\\\\\".com."));
	ck_assert_str_eq(out, "a\\.b.\\000\\032\\\\\\\".com.");
	const uint8_t hi[] = "\2\177\377";
	wire_name_to_text(hi, sizeof(hi), out, sizeof(out));
	ck_assert_str_eq(out, "\\127\\255.");

	/* too small: nothing but an empty string */
	ck_assert_uint_eq(wire_name_to_text(w, n, out, 16), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(wire_name_to_text(w, n, out, 17), 16);
	ck_assert_uint_eq(wire_name_to_text((const uint8_t *)"\3www", 4, out, sizeof(out)), 0);

	/* the longest presentation form fits the documented bound */
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 4; i++)
		w[i * 64] = (i < 3) ? 63 : 61;
	ck_assert_uint_eq(wire_name_length(w, 255), 255);
	ck_assert_uint_eq(wire_name_to_text(w, 255, out, sizeof(out)), 250 * 4 + 4);
}
END_TEST

/* ---- query parsing ---- */

START_TEST(parse_good_query)
{
	struct msg m;
	struct wire_query q;
	m_header(&m, 0xBEEF, WIRE_FLAG_RD | WIRE_FLAG_CD, 1, 0, 0, 0);
	m_name(&m, "WWW.Example.COM.");
	m_u16(&m, WIRE_TYPE_AAAA);
	m_u16(&m, WIRE_CLASS_IN);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.id, 0xBEEF);
	ck_assert_uint_eq(q.flags, WIRE_FLAG_RD | WIRE_FLAG_CD);
	ck_assert_mem_eq(q.qname.data, "\3www\7example\3com", 17);
	ck_assert_uint_eq(q.qname.len, 17);
	ck_assert_uint_eq(q.qname.label_count, 4);
	ck_assert_uint_eq(q.qtype, WIRE_TYPE_AAAA);
	ck_assert_uint_eq(q.qclass, WIRE_CLASS_IN);
	ck_assert(q.has_question);
	ck_assert_ptr_eq(q.question_wire, m.b + 12);
	ck_assert_uint_eq(q.question_len, 21);
	ck_assert_mem_eq(q.question_wire, "\3WWW\7Example\3COM", 17);
	ck_assert(!q.has_edns);
	ck_assert(!q.has_ecs);
	ck_assert(!q.edns_nsid);

	/* the root as qname */
	m_query(&m, ".", WIRE_TYPE_NS, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.qname.len, 1);
	ck_assert_uint_eq(q.question_len, 5);
}
END_TEST

START_TEST(parse_drop)
{
	struct msg m;
	struct wire_query q;
	m_query(&m, "example.com.", WIRE_TYPE_A, 0);
	ck_assert_int_eq(wire_parse_query(m.b, 11, &q), WIRE_PARSE_DROP);
	ck_assert_int_eq(wire_parse_query(m.b, 0, &q), WIRE_PARSE_DROP);
	m.b[2] |= 0x80; /* QR */
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_DROP);
	/* a QR=1 header with a bad opcode is still dropped (QR is checked first) */
	m.b[2] = 0x80 | (5 << 3);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_DROP);
}
END_TEST

START_TEST(parse_notimp)
{
	struct msg m;
	struct wire_query q;
	unsigned opcodes[] = {1, 2, 4, 5, 15};
	for (size_t i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		m_query(&m, "example.com.", WIRE_TYPE_SOA, 0);
		m.b[2] = (uint8_t)(opcodes[i] << 3);
		ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
		ck_assert_uint_eq(WIRE_OPCODE_OF(q.flags), opcodes[i]);
	}
	/* opcode is checked before QDCOUNT */
	m_header(&m, 1, 4u << 11, 0, 0, 0, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
	ck_assert(!q.has_edns);

	/* an OPT is still found, so the NOTIMP carries one (RFC 6891 7); question kept for the echo */
	m_query(&m, "example.com.", WIRE_TYPE_SOA, 1);
	m.b[2] = (uint8_t)(15u << 3);
	m_opt(&m, 1232, 0, 0x8000, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
	ck_assert(q.has_question);
	ck_assert(q.has_edns);
	ck_assert(q.edns_do);
	/* even with an EDNS version we do not know: the opcode comes first */
	m_query(&m, "example.com.", WIRE_TYPE_SOA, 1);
	m.b[2] = (uint8_t)(5u << 3);
	m_opt(&m, 1232, 1, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
	ck_assert(q.has_edns);
	/* a broken OPT after a NOTIMP question: no OPT in the reply */
	m_query(&m, "example.com.", WIRE_TYPE_SOA, 2);
	m.b[2] = (uint8_t)(15u << 3);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
	ck_assert(!q.has_edns);
}
END_TEST

START_TEST(parse_qdcount)
{
	struct msg m;
	struct wire_query q;
	m_header(&m, 1, 0, 0, 0, 0, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_question);
	ck_assert(!q.has_edns);
	ck_assert_uint_eq(q.id, 1);

	/* no question but an OPT (a header-only EDNS query): FORMERR that carries an OPT */
	m_header(&m, 3, 0, 0, 0, 0, 1);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_question);
	ck_assert(q.has_edns);

	m_header(&m, 2, 0, 2, 0, 0, 0);
	m_name(&m, "a.example.");
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_name(&m, "b.example.");
	m_u16(&m, 1);
	m_u16(&m, 1);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_question);
}
END_TEST

START_TEST(parse_bad_question)
{
	struct msg m;
	struct wire_query q;
	/* pointer into the header (offset 4 holds 0x00 0x01: a root label): a valid read, still refused */
	m_header(&m, 1, 0, 1, 0, 0, 0);
	m_bytes(&m, "\300\4", 2);
	m_u16(&m, 1);
	m_u16(&m, 1);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_question);
	/* label then a pointer to the qname itself */
	m_header(&m, 1, 0, 1, 0, 0, 0);
	m_bytes(&m, "\3www\300\14", 6);
	m_u16(&m, 1);
	m_u16(&m, 1);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	/* type and class missing */
	m_query(&m, "example.com.", 1, 0);
	ck_assert_int_eq(wire_parse_query(m.b, m.n - 1, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_question);
	/* name cut */
	ck_assert_int_eq(wire_parse_query(m.b, 16, &q), WIRE_PARSE_FORMERR);
	/* 0x40 label */
	m_query(&m, "example.com.", 1, 0);
	m.b[12] = 0x47;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
}
END_TEST

/* Policy: bytes after the last counted RR are ignored (NSD and BIND do the same; Knot says FORMERR). */
START_TEST(parse_trailing_garbage_accepted)
{
	struct msg m;
	struct wire_query q;
	m_query(&m, "example.com.", WIRE_TYPE_A, 0);
	m_bytes(&m, "\xde\xad\xbe\xef\0\0\0", 7);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.question_len, 17);
	ck_assert(!q.has_edns);
}
END_TEST

/* An RR (compressed owner pointing at the qname) in answer, authority and additional. */
static void m_rr_a(struct msg *m)
{
	m_bytes(m, "\300\14", 2);
	m_u16(m, WIRE_TYPE_A);
	m_u16(m, WIRE_CLASS_IN);
	m_u32(m, 300);
	m_u16(m, 4);
	m_bytes(m, "\1\2\3\4", 4);
}

START_TEST(parse_walks_sections)
{
	struct msg m;
	struct wire_query q;
	m_header(&m, 1, 0, 1, 1, 1, 2);
	m_name(&m, "example.com.");
	m_u16(&m, WIRE_TYPE_A);
	m_u16(&m, WIRE_CLASS_IN);
	m_rr_a(&m);
	m_rr_a(&m);
	m_rr_a(&m);
	m_opt(&m, 4096, 0, 0x8000, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_edns);
	ck_assert(q.edns_do);
	ck_assert_uint_eq(q.edns_payload, 4096);

	/* one RR less than counted */
	ck_assert_int_eq(wire_parse_query(m.b, m.n - 11, &q), WIRE_PARSE_FORMERR);
	ck_assert(q.has_question); /* errors echo the question */
	/* rdata cut */
	ck_assert_int_eq(wire_parse_query(m.b, m.n - 12, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_edns);
	/* fixed part cut */
	ck_assert_int_eq(wire_parse_query(m.b, m.n - 11 - 14 + 5, &q), WIRE_PARSE_FORMERR);

	/* an owner with a forward pointer in the answer section */
	m_header(&m, 1, 0, 1, 1, 0, 0);
	m_name(&m, "example.com.");
	m_u16(&m, WIRE_TYPE_A);
	m_u16(&m, WIRE_CLASS_IN);
	m_bytes(&m, "\300\100", 2);
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_u32(&m, 0);
	m_u16(&m, 0);
	while (m.n < 0x50)
		m_u8(&m, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(q.has_question);
}
END_TEST

START_TEST(parse_opt_placement)
{
	struct msg m;
	struct wire_query q;
	/* OPT in the answer section */
	m_header(&m, 1, 0, 1, 1, 0, 0);
	m_name(&m, "example.com.");
	m_u16(&m, 1);
	m_u16(&m, 1);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_edns);
	ck_assert(q.has_question);
	/* OPT in the authority section */
	m.b[7] = 0;
	m.b[9] = 1;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_edns);
	/* two OPTs: the first one parsed, so an OPT goes into the FORMERR reply */
	m_query(&m, "example.com.", 1, 2);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(q.has_edns);
	/* OPT owned by a non-root name */
	m_query(&m, "example.com.", 1, 1);
	m_bytes(&m, "\300\14", 2);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	memmove(m.b + m.n - 13, m.b + m.n - 12, 12); /* drop the OPT's root octet after the pointer */
	m.n--;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_edns);
	/* OPT owned by a pointer to a root label (offset 4 holds 0x00 0x01) */
	m_query(&m, "example.com.", 1, 1);
	m_bytes(&m, "\300\4", 2);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	memmove(m.b + m.n - 13, m.b + m.n - 12, 12);
	m.n--;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	/* OPT after another additional RR is fine */
	m_query(&m, "example.com.", 1, 2);
	m_rr_a(&m);
	m_opt(&m, 1232, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_edns);
}
END_TEST

START_TEST(parse_edns_fields)
{
	struct msg m;
	struct wire_query q;
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 100, 0, 0x7FFF, NULL, 0); /* every Z bit but DO */
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_edns);
	ck_assert_uint_eq(q.edns_payload, 512);
	ck_assert(!q.edns_do);
	ck_assert_uint_eq(q.edns_version, 0);

	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0x8000, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.edns_payload, 1232);
	ck_assert(q.edns_do);

	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 4096, 1, 0x8000, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_BADVERS);
	ck_assert(q.has_edns);
	ck_assert(q.has_question);
	ck_assert_uint_eq(q.edns_version, 1);
	ck_assert(q.edns_do);

	/* the options of a version above 0 are not read: a malformed ECS or COOKIE there is no FORMERR,
	 * and nothing of them is kept (the BADVERS reply echoes none) */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 4096, 1, 0, (const uint8_t *)"\0\10\0\2\0\1", 6);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_BADVERS);
	ck_assert(!q.has_ecs);
	const uint8_t v1_options[] = {0, 3, 0, 0, 0, 10, 0, 1, 0xAA, 0, 8, 0, 4, 0, 1, 0, 0, 0, 8};
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 4096, 2, 0, v1_options, sizeof(v1_options));
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_BADVERS);
	ck_assert(!q.has_ecs && !q.edns_nsid && !q.cookie && !q.cookie_malformed);
	/* structural FORMERR checks still come first: a truncated OPT record, a second OPT */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 4096, 1, 0, NULL, 0);
	m.n -= 1;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	m_query(&m, "example.com.", 1, 2);
	m_opt(&m, 4096, 1, 0, NULL, 0);
	m_opt(&m, 4096, 1, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
}
END_TEST

START_TEST(parse_edns_options)
{
	struct msg m;
	struct wire_query q;
	/* NSID (empty), a cookie and an unknown option: NSID noted, the rest ignored */
	const uint8_t opts[] = {0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0xFD, 0xE9, 0, 1, 0xAA};
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, opts, sizeof(opts));
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.edns_nsid);
	ck_assert(!q.has_ecs);

	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, opts + 4, sizeof(opts) - 4);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(!q.edns_nsid);

	/* truncated option header */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, opts, 7);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(q.has_edns);
	/* option longer than the rdata */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, opts + 4, 10);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	/* rdlength beyond the packet */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, opts, 4);
	m.b[m.n - 5] = 5;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(!q.has_edns);
}
END_TEST

START_TEST(parse_ecs_good)
{
	struct msg m;
	struct wire_query q;
	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 1, 24, 0, (const uint8_t *)"\xC0\x00\x02", 3);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_ecs);
	ck_assert_uint_eq(q.ecs_family, 1);
	ck_assert_uint_eq(q.ecs_source_prefix, 24);
	ck_assert_uint_eq(q.ecs_scope_prefix, 0);
	ck_assert_mem_eq(q.ecs_addr, "\xC0\x00\x02\x00\0\0\0\0\0\0\0\0\0\0\0\0", 16);

	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 1, 20, 0, (const uint8_t *)"\x0A\x01\x10", 3);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.ecs_source_prefix, 20);

	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 1, 32, 0, (const uint8_t *)"\x0A\x01\x02\x03", 4);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_mem_eq(q.ecs_addr, "\x0A\x01\x02\x03", 4);

	/* source 0: no address octets (a client asking for no tailoring) */
	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 1, 0, 0, NULL, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_ecs);
	ck_assert_uint_eq(q.ecs_source_prefix, 0);

	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 2, 56, 0, (const uint8_t *)"\x20\x01\x0d\xb8\x12\x34\x56", 7);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.ecs_family, 2);
	ck_assert_uint_eq(q.ecs_source_prefix, 56);
	ck_assert_mem_eq(q.ecs_addr, "\x20\x01\x0d\xb8\x12\x34\x56\0\0\0\0\0\0\0\0\0", 16);

	uint8_t full[16];
	memset(full, 0xAB, 16);
	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, 2, 128, 0, full, 16);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert_mem_eq(q.ecs_addr, full, 16);

	/* ECS together with NSID */
	const uint8_t both[] = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100, 0, 3, 0, 0};
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, both, sizeof(both));
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(q.has_ecs && q.edns_nsid);
	ck_assert_mem_eq(q.ecs_addr, "\xC6\x33\x64", 3);
}
END_TEST

static enum wire_parse_status ecs_status(uint16_t family, uint8_t source, uint8_t scope, const char *addr,
					 size_t len)
{
	struct msg m;
	struct wire_query q;
	m_query(&m, "example.com.", 1, 1);
	m_opt_ecs(&m, family, source, scope, (const uint8_t *)addr, len);
	return parse(&m, &q);
}

START_TEST(parse_ecs_malformed)
{
	struct msg m;
	struct wire_query q;
	ck_assert_int_eq(ecs_status(0, 0, 0, "", 0), WIRE_PARSE_FORMERR);		      /* family 0 */
	ck_assert_int_eq(ecs_status(3, 8, 0, "\1", 1), WIRE_PARSE_FORMERR);		      /* family 3 */
	ck_assert_int_eq(ecs_status(1, 33, 0, "\1\2\3\4\5", 5), WIRE_PARSE_FORMERR);	      /* > 32 */
	ck_assert_int_eq(ecs_status(2, 129, 0, "0123456789abcdefg", 17), WIRE_PARSE_FORMERR); /* > 128 */
	ck_assert_int_eq(ecs_status(1, 24, 0, "\xC0\0\2\0", 4), WIRE_PARSE_FORMERR);	      /* too long */
	ck_assert_int_eq(ecs_status(1, 24, 0, "\xC0\0", 2), WIRE_PARSE_FORMERR);	      /* too short */
	ck_assert_int_eq(ecs_status(1, 0, 0, "\0", 1), WIRE_PARSE_FORMERR);	       /* /0 with octet */
	ck_assert_int_eq(ecs_status(1, 20, 0, "\x0A\x01\x11", 3), WIRE_PARSE_FORMERR); /* bits past /20 */
	ck_assert_int_eq(ecs_status(1, 23, 0, "\x0A\x01\x03", 3), WIRE_PARSE_FORMERR); /* bit past /23 */
	ck_assert_int_eq(ecs_status(2, 1, 0, "\xC0", 1), WIRE_PARSE_FORMERR);	       /* bit past /1 */
	ck_assert_int_eq(ecs_status(1, 24, 16, "\xC0\0\2", 3), WIRE_PARSE_FORMERR);    /* scope != 0 */
	ck_assert_int_eq(ecs_status(1, 23, 0, "\x0A\x01\x02", 3), WIRE_PARSE_OK);      /* control */

	/* option shorter than family + prefixes */
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, (const uint8_t *)"\0\10\0\3\0\1\30", 7);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	/* two ECS options */
	const uint8_t two[] = {0, 8, 0, 5, 0, 1, 8, 0, 10, 0, 8, 0, 5, 0, 1, 8, 0, 11};
	m_query(&m, "example.com.", 1, 1);
	m_opt(&m, 1232, 0, 0, two, sizeof(two));
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(q.has_edns);
	ck_assert(q.has_question);
}
END_TEST

/* A query made by ldns parses to the same fields. */
START_TEST(parse_ldns_query)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;
	size_t wlen = 0;
	struct wire_query q;
	ck_assert_int_eq(ldns_pkt_query_new_frm_str(&p, "Mixed.Case.example.", LDNS_RR_TYPE_MX,
						    LDNS_RR_CLASS_CH, LDNS_RD | LDNS_CD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 4242);
	ldns_pkt_set_edns_udp_size(p, 1400);
	ldns_pkt_set_edns_do(p, true);
	ck_assert_int_eq(ldns_pkt2wire(&w, p, &wlen), LDNS_STATUS_OK);
	ck_assert_int_eq(wire_parse_query(w, wlen, &q), WIRE_PARSE_OK);
	ck_assert_uint_eq(q.id, 4242);
	ck_assert_uint_eq(q.qtype, WIRE_TYPE_MX);
	ck_assert_uint_eq(q.qclass, WIRE_CLASS_CH);
	ck_assert(q.flags & WIRE_FLAG_RD);
	ck_assert(q.flags & WIRE_FLAG_CD);
	ck_assert_mem_eq(q.qname.data, "\5mixed\4case\7example", 20);
	ck_assert(q.has_edns && q.edns_do);
	ck_assert_uint_eq(q.edns_payload, 1400);
	free(w);
	ldns_pkt_free(p);
}
END_TEST

/* Whatever question parsed can be answered: echo it, then a CNAME from the qname to itself. */
static void fuzz_build(const struct wire_query *q)
{
	struct wire_builder b;
	struct wire_name n;
	uint8_t out[600];
	ck_assert(wire_build_start(&b, out, sizeof(out), q));
	ck_assert(wire_build_rr(&b, WIRE_SECTION_ANSWER, q->qname.data, q->qname.len, WIRE_TYPE_CNAME, 1, 0,
				q->qname.data, q->qname.len));
	size_t len = wire_build_finish(&b), pos = 12;
	for (int i = 0; i < 3; i++) {
		ck_assert(wire_name_read(out, len, &pos, &n));
		ck_assert_uint_eq(n.len, q->qname.len);
		ck_assert_mem_eq(n.data, q->qname.data, n.len);
		pos += i == 0 ? 4 : 10;
	}
	ck_assert_uint_eq(pos, len + 10);
}

/* Random and mutated packets: every outcome is fine, reading out of bounds is not (run under ASan). */
START_TEST(parse_fuzz)
{
	uint32_t seed = 12345;
	struct wire_query q;
	struct msg base;
	m_query(&base, "www.example.com.", 1, 1);
	m_opt_ecs(&base, 1, 24, 0, (const uint8_t *)"\xC0\0\2", 3);
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t *b = malloc(base.n);
		size_t len;
		seed = seed * 1103515245u + 12345u;
		if (iter & 1) {
			len = (seed >> 8) % (base.n + 1);
			memcpy(b, base.b, len);
			for (int k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				if (len)
					b[(seed >> 8) % len] = (uint8_t)(seed >> 20);
			}
		} else {
			len = (seed >> 8) % (base.n + 1);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				b[i] = (uint8_t)(seed >> 16);
			}
			if (len > 12)
				b[2] &= 0x07; /* QR=0, opcode QUERY: get past the header checks */
		}
		enum wire_parse_status st = wire_parse_query(b, len, &q);
		ck_assert_int_le(st, WIRE_PARSE_BADVERS);
		if (q.has_question) {
			ck_assert(q.question_wire >= b && q.question_wire + q.question_len <= b + len);
			ck_assert_uint_eq(q.question_len, q.qname.len + 4);
		}
		if (q.has_question)
			fuzz_build(&q);
		struct wire_name n;
		size_t pos = len ? (seed >> 4) % len : 0;
		if (wire_name_read(b, len, &pos, &n)) {
			char text[1100];
			ck_assert(pos <= len && n.len <= WIRE_NAME_MAX);
			ck_assert_uint_gt(wire_name_to_text(n.data, n.len, text, sizeof(text)), 0);
		}
		free(b);
	}
}
END_TEST

/* ---- building ---- */

struct fixture {
	struct msg query;
	struct wire_query q;
	struct wire_builder b;
	uint8_t buf[WIRE_MSG_MAX];
};

static struct fixture fx;

static void start(const char *qname, uint16_t qtype, size_t limit)
{
	m_query(&fx.query, qname, qtype, 0);
	ck_assert_int_eq(parse(&fx.query, &fx.q), WIRE_PARSE_OK);
	memset(fx.buf, 0xEE, sizeof(fx.buf));
	ck_assert(wire_build_start(&fx.b, fx.buf, limit, &fx.q));
}

static bool add(enum wire_section s, const char *owner, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	uint8_t o[256];
	size_t olen = wire(owner, o);
	return wire_build_rr(&fx.b, s, o, olen, type, WIRE_CLASS_IN, 3600, rd, (uint16_t)rdlen);
}

static bool add_name_rr(enum wire_section s, const char *owner, uint16_t type, const char *target)
{
	uint8_t rd[256];
	return add(s, owner, type, rd, wire(target, rd));
}

static bool add_a(enum wire_section s, const char *owner)
{
	return add(s, owner, WIRE_TYPE_A, (const uint8_t *)"\xC0\0\2\1", 4);
}

static ldns_pkt *to_ldns(void)
{
	size_t len = wire_build_finish(&fx.b);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, fx.buf, len), LDNS_STATUS_OK);
	return p;
}

static void ck_rr(ldns_rr_list *l, size_t i, const char *expect)
{
	ck_assert_uint_gt(ldns_rr_list_rr_count(l), i);
	char *s = ldns_rr2str(ldns_rr_list_rr(l, i));
	s[strcspn(s, "\n")] = 0;
	ck_assert_str_eq(s, expect);
	free(s);
}

/* A limited search looks at the newest entries of a parent only: an older suffix it misses is
 * written again, longer but still right. */
static size_t build_siblings(unsigned limit, ldns_pkt **out)
{
	start("q.test.", WIRE_TYPE_A, WIRE_MSG_MAX);
	if (limit)
		wire_build_limit_search(&fx.b, limit);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "a.x.test."));
	ck_assert(add_a(WIRE_SECTION_ANSWER, "b.x.test."));
	ck_assert(add_a(WIRE_SECTION_ANSWER, "c.x.test."));
	ck_assert(add_a(WIRE_SECTION_ANSWER, "w.a.x.test.")); /* a is x's third newest child */
	ck_assert(add_a(WIRE_SECTION_ANSWER, "v.c.x.test.")); /* c is the newest */
	size_t len = fx.b.len;
	*out = to_ldns();
	return len;
}

START_TEST(build_limited_search)
{
	ldns_pkt *all, *two;
	size_t full = build_siblings(0, &all), limited = build_siblings(2, &two);
	/* default: w.a.x.test is "w" + a pointer to a.x.test; limited: "w" "a" + a pointer to x.test */
	ck_assert_uint_eq(limited, full + 2);
	const char *names[] = {"a.x.test.", "b.x.test.", "c.x.test.", "w.a.x.test.", "v.c.x.test."};
	for (size_t i = 0; i < 5; i++) {
		char expect[64];
		snprintf(expect, sizeof(expect), "%s\t3600\tIN\tA\t192.0.2.1", names[i]);
		ck_rr(ldns_pkt_answer(all), i, expect);
		ck_rr(ldns_pkt_answer(two), i, expect);
	}
	ldns_pkt_free(all);
	ldns_pkt_free(two);
}
END_TEST

START_TEST(build_header_and_question)
{
	struct msg m;
	struct wire_query q;
	struct wire_builder b;
	uint8_t buf[512];
	m_header(&m, 0xABCD, WIRE_FLAG_RD | WIRE_FLAG_CD | WIRE_FLAG_AD | WIRE_FLAG_AA | WIRE_FLAG_TC | 0x0F,
		 1, 0, 0, 0);
	m_name(&m, "WwW.ExAmple.CoM.");
	m_u16(&m, WIRE_TYPE_A);
	m_u16(&m, WIRE_CLASS_IN);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(wire_build_start(&b, buf, sizeof(buf), &q));
	ck_assert_uint_eq(b.len, 12 + 21);
	ck_assert_uint_eq(wire_build_finish(&b), 33);
	ck_assert_mem_eq(buf, "\xAB\xCD\x81\x00\0\1\0\0\0\0\0\0", 12); /* RD kept, CD cleared */
	ck_assert_mem_eq(buf + 12, m.b + 12, 21);		       /* original case */
	ck_assert_uint_eq(b.compress_count, 3);			       /* www.example.com, example.com, com */

	wire_build_set_flags(&b, WIRE_FLAG_AA);
	wire_build_set_rcode(&b, WIRE_RCODE_NXDOMAIN);
	ck_assert_mem_eq(buf + 2, "\x85\x03", 2);
	wire_build_set_rcode(&b, WIRE_RCODE_BADVERS); /* low 4 bits of 16 are 0 */
	ck_assert_mem_eq(buf + 2, "\x85\x00", 2);

	/* a question that does not fit */
	ck_assert(!wire_build_start(&b, buf, 32, &q));
	ck_assert(wire_build_start(&b, buf, 33, &q));

	/* no question (QDCOUNT was 0): header only */
	m_header(&m, 7, WIRE_FLAG_RD, 0, 0, 0, 0);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_FORMERR);
	ck_assert(wire_build_start(&b, buf, sizeof(buf), &q));
	wire_build_set_rcode(&b, WIRE_RCODE_FORMERR);
	ck_assert_uint_eq(wire_build_finish(&b), 12);
	ck_assert_mem_eq(buf, "\0\7\x81\1\0\0\0\0\0\0\0\0", 12);
	ck_assert_uint_eq(b.compress_count, 0);
	ck_assert(!wire_build_start(&b, buf, 11, &q));

	/* the opcode is copied */
	m_query(&m, "example.", 1, 0);
	m.b[2] |= 4 << 3;
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_NOTIMP);
	q.has_question = false;
	ck_assert(wire_build_start(&b, buf, sizeof(buf), &q));
	ck_assert_uint_eq(buf[2], 0x80 | 0x20 | 0x01);
}
END_TEST

/* A 128-label qname (127 labels and the root) has an entry for each suffix, and answers compress
 * against any of them, however deep; WIRE_COMPRESS_ANSWER entries are left for the rest. */
START_TEST(build_long_qname)
{
	struct msg m;
	struct wire_query q;
	struct wire_builder b;
	uint8_t buf[1232];
	m_header(&m, 9, 0, 1, 0, 0, 0);
	m.n += max_name(m.b + m.n);
	m_u16(&m, WIRE_TYPE_A);
	m_u16(&m, WIRE_CLASS_IN);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(wire_build_start(&b, buf, sizeof(buf), &q));
	ck_assert_uint_eq(b.compress_count, WIRE_LABELS_MAX - 1);
	ck_assert_uint_eq(WIRE_COMPRESS_MAX - b.compress_count, WIRE_COMPRESS_ANSWER);
	ck_assert(wire_build_rr(&b, WIRE_SECTION_ANSWER, q.qname.data, q.qname.len, 1, 1, 0,
				(const uint8_t *)"abcd", 4));
	ck_assert_mem_eq(buf + 12 + 259, "\300\14", 2);
	/* a suffix 100 labels deep: a pointer to it in the question */
	const uint8_t *deep = q.qname.data + q.qname.labels[100];
	size_t deep_len = q.qname.len - q.qname.labels[100];
	size_t at = b.len;
	ck_assert(
	    wire_build_rr(&b, WIRE_SECTION_ANSWER, deep, deep_len, 1, 1, 0, (const uint8_t *)"abcd", 4));
	unsigned deep_at = 12 + q.qname.labels[100];
	ck_assert_uint_eq(buf[at], 0xC0 | (deep_at >> 8));
	ck_assert_uint_eq(buf[at + 1], deep_at & 0xFF);
	/* one in the table: a pointer */
	at = b.len;
	ck_assert(wire_build_rr(&b, WIRE_SECTION_ANSWER, q.qname.data + 2, q.qname.len - 2, 1, 1, 0,
				(const uint8_t *)"abcd", 4));
	ck_assert_mem_eq(buf + at, "\300\16", 2);
	size_t len = wire_build_finish(&b);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 3);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_owner_compression)
{
	start("www.example.com.", WIRE_TYPE_A, 512);
	size_t at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "WWW.EXAMPLE.COM."));
	ck_assert_mem_eq(fx.buf + at, "\300\14\0\1\0\1\0\0\16\20\0\4\xC0\0\2\1", 16);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert_mem_eq(fx.buf + at, "\300\20", 2);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "a.www.example.com."));
	ck_assert_mem_eq(fx.buf + at, "\1a\300\14", 4);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "b.a.www.example.com."));
	ck_assert_mem_eq(fx.buf + at, "\1b\300", 3);
	ck_assert_uint_eq(fx.buf[at + 3], at - 18); /* the a.www.example.com written above */
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "other.org."));
	ck_assert_mem_eq(fx.buf + at, "\5other\3org\0", 11);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "x.other.org."));
	ck_assert_mem_eq(fx.buf + at, "\1x\300", 3);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "."));
	ck_assert_uint_eq(fx.buf[at], 0);
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ANSWER, "com."));
	ck_assert_mem_eq(fx.buf + at, "\300\30", 2);

	ldns_pkt *p = to_ldns();
	ldns_rr_list *an = ldns_pkt_answer(p);
	ck_assert_uint_eq(ldns_rr_list_rr_count(an), 8);
	ck_rr(an, 0, "www.example.com.\t3600\tIN\tA\t192.0.2.1");
	ck_rr(an, 3, "b.a.www.example.com.\t3600\tIN\tA\t192.0.2.1");
	ck_rr(an, 5, "x.other.org.\t3600\tIN\tA\t192.0.2.1");
	ck_rr(an, 7, "com.\t3600\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_rdata_compression)
{
	start("Example.COM.", WIRE_TYPE_NS, 1232);
	size_t at = fx.b.len;
	ck_assert(add_name_rr(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_NS, "ns1.example.com."));
	ck_assert_mem_eq(fx.buf + at, "\300\14\0\2\0\1\0\0\16\20\0\6\3ns1\300\14", 18);
	size_t ns1 = at + 12;
	at = fx.b.len;
	ck_assert(add_name_rr(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_NS, "ns2.EXAMPLE.com."));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\6\3ns2\300\14", 8);
	/* glue owner points at the name inside the NS rdata */
	at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_ADDITIONAL, "ns1.example.com."));
	ck_assert_uint_eq(fx.buf[at], 0xC0);
	ck_assert_uint_eq(fx.buf[at + 1], ns1);

	ldns_pkt *p = to_ldns();
	ck_rr(ldns_pkt_answer(p), 0, "Example.COM.\t3600\tIN\tNS\tns1.Example.COM.");
	ck_rr(ldns_pkt_answer(p), 1, "Example.COM.\t3600\tIN\tNS\tns2.Example.COM.");
	ck_rr(ldns_pkt_additional(p), 0, "ns1.Example.COM.\t3600\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_mx_soa_cname_minfo)
{
	uint8_t rd[600];
	size_t n;
	start("example.com.", WIRE_TYPE_ANY, 4096);

	n = 0;
	rd[n++] = 0;
	rd[n++] = 10;
	n += wire("mail.example.com.", rd + n);
	size_t at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_MX, rd, n));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\011\0\12\4mail\300\14", 11);

	n = wire("ns1.example.com.", rd);
	n += wire("hostmaster.example.com.", rd + n);
	memcpy(rd + n, "\0\0\0\1\0\0\16\20\0\0\7\10\0\22\165\0\0\0\1\54", 20);
	n += 20;
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_SOA, rd, n));
	ck_assert_uint_eq(fx.buf[at + 10], 0);
	ck_assert_uint_eq(fx.buf[at + 11], 6 + 13 + 20);
	ck_assert_mem_eq(fx.buf + at + 12, "\3ns1\300\14\12hostmaster\300\14", 19);
	ck_assert_mem_eq(fx.buf + at + 31, rd + n - 20, 20);

	ck_assert(add_name_rr(WIRE_SECTION_ANSWER, "www.example.com.", WIRE_TYPE_CNAME, "mail.example.com."));
	ck_assert_mem_eq(fx.buf + fx.b.len - 4, "\0\2\300", 3); /* rdata is one pointer to mail.example.com */

	n = wire("hostmaster.example.com.", rd);
	n += wire("errors.example.com.", rd + n);
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_MINFO, rd, n));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\013\300", 3);
	ck_assert_mem_eq(fx.buf + at + 14, "\6errors\300\14", 9);

	ck_assert(add_name_rr(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_PTR, "host.example.com."));
	ck_assert_mem_eq(fx.buf + fx.b.len - 9, "\0\7\4host\300\14", 9);

	ldns_pkt *p = to_ldns();
	ldns_rr_list *an = ldns_pkt_answer(p);
	ck_rr(an, 0, "example.com.\t3600\tIN\tMX\t10 mail.example.com.");
	ck_rr(
	    an, 1,
	    "example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 3600 1800 1209600 300");
	ck_rr(an, 2, "www.example.com.\t3600\tIN\tCNAME\tmail.example.com.");
	ck_rr(an, 3, "example.com.\t3600\tIN\tMINFO\thostmaster.example.com. errors.example.com.");
	ck_rr(an, 4, "example.com.\t3600\tIN\tPTR\thost.example.com.");
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_no_rdata_compression)
{
	uint8_t rd[300];
	size_t n;
	start("example.com.", WIRE_TYPE_SRV, 1232);

	memcpy(rd, "\0\1\0\2\0\x35", 6);
	n = 6 + wire("ns.example.com.", rd + 6);
	size_t at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "_dns._udp.example.com.", WIRE_TYPE_SRV, rd, n));
	ck_assert_mem_eq(fx.buf + at, "\4_dns\4_udp\300\14", 12);
	ck_assert_uint_eq(fx.buf[at + 12 + 9], n);
	ck_assert_mem_eq(fx.buf + at + 12 + 10, rd, n);

	n = wire("example.com.", rd);
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", 65280, rd, n));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\15\7example\3com", 15);
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_DNAME, rd, n));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\15\7example\3com", 15);
	uint8_t sig[64] = {0, 1, 8, 2, 0, 0, 14, 16, 0x60, 0, 0, 0, 0x5F, 0, 0, 0, 0x12, 0x34};
	size_t siglen = 18 + wire("example.com.", sig + 18);
	memcpy(sig + siglen, "\1\2\3\4", 4);
	siglen += 4;
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_RRSIG, sig, siglen));
	ck_assert_uint_eq(fx.buf[at + 11], siglen);
	ck_assert_mem_eq(fx.buf + at + 12, sig, siglen);

	ldns_pkt *p = to_ldns();
	ck_rr(ldns_pkt_answer(p), 0, "_dns._udp.example.com.\t3600\tIN\tSRV\t1 2 53 ns.example.com.");
	ck_rr(ldns_pkt_answer(p), 2, "example.com.\t3600\tIN\tDNAME\texample.com.");
	ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 4);
	ldns_pkt_free(p);

	/* rdata without its type's layout is copied as it is */
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_NS,
		      (const uint8_t *)"\7example\3com\0\1", 14));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\16\7example\3com\0\1", 16);
	at = fx.b.len;
	ck_assert(
	    wire_build_rr(&fx.b, WIRE_SECTION_ANSWER, (const uint8_t *)"", 1, WIRE_TYPE_NS, 1, 0, NULL, 0));
	ck_assert_mem_eq(fx.buf + at, "\0\0\2\0\1\0\0\0\0\0\0", 11);
	ck_assert_uint_eq(fx.b.len, at + 11);
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_MX, (const uint8_t *)"\0\1", 2));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\2\0\1", 4);
	at = fx.b.len;
	ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", WIRE_TYPE_SOA, rd, n));
	ck_assert_mem_eq(fx.buf + at + 10, "\0\15\7example", 10);

	/* a bad owner writes nothing */
	size_t len = fx.b.len;
	ck_assert(
	    !wire_build_rr(&fx.b, WIRE_SECTION_ADDITIONAL, (const uint8_t *)"\3www", 4, 1, 1, 0, rd, 0));
	ck_assert(
	    !wire_build_rr(&fx.b, WIRE_SECTION_ADDITIONAL, (const uint8_t *)"\3www\0", 4, 1, 1, 0, rd, 0));
	ck_assert(!wire_build_rr(&fx.b, WIRE_SECTION_ADDITIONAL, (const uint8_t *)"\0\0", 2, 1, 1, 0, rd, 0));
	ck_assert_uint_eq(fx.b.len, len);
}
END_TEST

START_TEST(build_overflow_leaves_message)
{
	start("example.com.", WIRE_TYPE_A, 29 + 16 + 16);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert_uint_eq(fx.b.len, fx.b.limit); /* exactly full */

	start("example.com.", WIRE_TYPE_A, 29 + 16 + 30);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	uint8_t before[WIRE_MSG_MAX];
	size_t len = fx.b.len;
	unsigned cc = fx.b.compress_count;
	memcpy(before, fx.buf, sizeof(before));
	/* the owner fits, the fixed part does not */
	ck_assert(!add_a(WIRE_SECTION_ANSWER, "a.long.owner.name.org."));
	/* the owner fits, rdata names do not */
	ck_assert(
	    !add_name_rr(WIRE_SECTION_AUTHORITY, "x.org.", WIRE_TYPE_NS, "a.very.long.name.server.org."));
	ck_assert(!add_name_rr(WIRE_SECTION_AUTHORITY, "example.com.", WIRE_TYPE_CNAME,
			       "a.very.long.name.server.org."));
	ck_assert_uint_eq(fx.b.len, len);
	ck_assert_uint_eq(fx.b.compress_count, cc);
	ck_assert_uint_eq(fx.b.count[0], 1);
	ck_assert_uint_eq(fx.b.count[1], 0);
	ck_assert_int_eq(fx.b.section, WIRE_SECTION_ANSWER);
	ck_assert_mem_eq(fx.buf, before, len);

	/* a name that fits exactly still does, and its suffixes are usable */
	ck_assert(add_a(WIRE_SECTION_ANSWER, "ab.org."));
	ck_assert_uint_eq(fx.b.len, len + 8 + 14);

	/* reserved space is not used by RRs */
	start("example.com.", WIRE_TYPE_A, 29 + 16 + 16);
	wire_build_reserve(&fx.b, 1);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert(!add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert_uint_eq(fx.buf[fx.b.limit - 1], 0xEE); /* the reserved octet was not touched */
	wire_build_reserve(&fx.b, 0);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	wire_build_reserve(&fx.b, 1000); /* more than is left: nothing fits, nothing breaks */
	ck_assert(!add_a(WIRE_SECTION_ANSWER, "."));
}
END_TEST

START_TEST(build_sections_forward)
{
	start("example.com.", WIRE_TYPE_A, 1232);
	ck_assert(add_a(WIRE_SECTION_AUTHORITY, "example.com."));
	ck_assert(!add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert(add_a(WIRE_SECTION_AUTHORITY, "example.com."));
	ck_assert(add_a(WIRE_SECTION_ADDITIONAL, "example.com."));
	ck_assert(!add_a(WIRE_SECTION_AUTHORITY, "example.com."));
	ck_assert(!add_a((enum wire_section)3, "example.com."));
	ck_assert(add_a(WIRE_SECTION_ADDITIONAL, "example.com."));
	ck_assert_uint_eq(fx.b.count[0], 0);
	ck_assert_uint_eq(fx.b.count[1], 2);
	ck_assert_uint_eq(fx.b.count[2], 2);
	wire_build_finish(&fx.b);
	ck_assert_mem_eq(fx.buf + 4, "\0\1\0\0\0\2\0\2", 8);
	ldns_pkt *p = to_ldns();
	ck_assert_uint_eq(ldns_pkt_nscount(p), 2);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 2);
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_mark_rollback)
{
	struct wire_mark mk;
	start("example.com.", WIRE_TYPE_A, 1232);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	wire_build_mark(&fx.b, &mk);
	size_t len = fx.b.len;
	unsigned cc = fx.b.compress_count;
	ck_assert(add_name_rr(WIRE_SECTION_AUTHORITY, "zone.org.", WIRE_TYPE_NS, "ns.zone.org."));
	ck_assert(add_a(WIRE_SECTION_ADDITIONAL, "ns.zone.org."));
	ck_assert_uint_gt(fx.b.compress_count, cc);
	wire_build_rollback(&fx.b, &mk);
	ck_assert_uint_eq(fx.b.len, len);
	ck_assert_uint_eq(fx.b.compress_count, cc);
	ck_assert_uint_eq(fx.b.count[1], 0);
	ck_assert_uint_eq(fx.b.count[2], 0);
	/* the rolled back names are gone from the table: written in full again */
	size_t at = fx.b.len;
	ck_assert(add_a(WIRE_SECTION_AUTHORITY, "ns.zone.org."));
	ck_assert_mem_eq(fx.buf + at, "\2ns\4zone\3org\0", 13);
	ldns_pkt *p = to_ldns();
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 0);
	ck_rr(ldns_pkt_authority(p), 0, "ns.zone.org.\t3600\tIN\tA\t192.0.2.1");
	ldns_pkt_free(p);

	/* a rollback to before the answers lets answers be written again */
	start("example.com.", WIRE_TYPE_A, 1232);
	wire_build_mark(&fx.b, &mk);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert(add_a(WIRE_SECTION_ADDITIONAL, "example.com."));
	wire_build_rollback(&fx.b, &mk);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert_uint_eq(wire_build_finish(&fx.b), 29 + 16);
}
END_TEST

START_TEST(build_compression_table_full)
{
	char name[64];
	start("q.example.", WIRE_TYPE_A, WIRE_MSG_MAX);
	for (int i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "h%d.z%d.example.", i, i % 7);
		ck_assert(add_a(WIRE_SECTION_ANSWER, name));
		ck_assert_uint_le(fx.b.compress_count, WIRE_COMPRESS_MAX);
	}
	ck_assert_uint_eq(fx.b.compress_count, WIRE_COMPRESS_MAX);
	ldns_pkt *p = to_ldns();
	ldns_rr_list *an = ldns_pkt_answer(p);
	ck_assert_uint_eq(ldns_rr_list_rr_count(an), 250);
	for (int i = 0; i < 250; i++) {
		char expect[128];
		snprintf(expect, sizeof(expect), "h%d.z%d.example.\t3600\tIN\tA\t192.0.2.1", i, i % 7);
		ck_rr(an, (size_t)i, expect);
	}
	ldns_pkt_free(p);
}
END_TEST

/* Names first written past offset 0x4000 are never pointer targets. */
START_TEST(build_pointer_limit)
{
	uint8_t big[1000];
	memset(big, 'x', sizeof(big));
	start("example.com.", WIRE_TYPE_TXT, WIRE_MSG_MAX);
	while (fx.b.len < 0x4000 - 200)
		ck_assert(add(WIRE_SECTION_ANSWER, "example.com.", 65280, big, sizeof(big) / 8));
	for (int i = 0; i < 40; i++) {
		char name[64];
		snprintf(name, sizeof(name), "host%d.sub.example.com.", i);
		ck_assert(add_a(WIRE_SECTION_ANSWER, name));
		ck_assert(add_a(WIRE_SECTION_ANSWER, name));
	}
	ck_assert_uint_gt(fx.b.len, 0x4000 + 200);
	for (unsigned e = 0; e < fx.b.compress_count; e++)
		ck_assert_uint_lt(fx.b.compress[e].offset, 0x4000);
	ldns_pkt *p = to_ldns();
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t base = ldns_rr_list_rr_count(an) - 80;
	for (int i = 0; i < 40; i++) {
		char expect[128];
		snprintf(expect, sizeof(expect), "host%d.sub.example.com.\t3600\tIN\tA\t192.0.2.1", i);
		ck_rr(an, base + 2 * (size_t)i, expect);
		ck_rr(an, base + 2 * (size_t)i + 1, expect);
	}
	ldns_pkt_free(p);
}
END_TEST

START_TEST(build_opt)
{
	const uint8_t addr[16] = {198, 51, 100, 0xFF, 9, 9};
	struct wire_edns_reply r = {
	    .payload = 1232,
	    .do_bit = true,
	    .nsid = (const uint8_t *)"ns-7",
	    .nsid_len = 4,
	    .ecs = true,
	    .ecs_family = 1,
	    .ecs_source_prefix = 26,
	    .ecs_scope_prefix = 24,
	    .ecs_addr = addr,
	};
	size_t need = wire_edns_size(&r);
	ck_assert_uint_eq(need, 11 + 8 + 8 + 4);

	start("example.com.", WIRE_TYPE_A, 29 + 16 + need);
	wire_build_reserve(&fx.b, need);
	ck_assert(add_a(WIRE_SECTION_ANSWER, "example.com."));
	ck_assert(!add_a(WIRE_SECTION_ANSWER, "example.com."));
	size_t at = fx.b.len;
	ck_assert(wire_build_opt(&fx.b, &r));
	ck_assert_uint_eq(fx.b.len, fx.b.limit);
	ck_assert_uint_eq(fx.b.reserved, 0);
	ck_assert_mem_eq(fx.buf + at, "\0\0\51\4\xD0\0\0\x80\0\0\24", 11);
	ck_assert_mem_eq(fx.buf + at + 11, "\0\3\0\4ns-7\0\10\0\10\0\1\32\30\xC6\x33\x64\xC0", 20);

	ldns_pkt *p = to_ldns();
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), 1232);
	ck_assert(ldns_pkt_edns_do(p));
	ck_assert_uint_eq(ldns_pkt_edns_version(p), 0);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 0); /* ldns takes the OPT out of the count */
	ck_assert_mem_eq(fx.buf + 10, "\0\1", 2);
	ldns_edns_option_list *ol = ldns_pkt_edns_get_option_list(p);
	ck_assert_ptr_nonnull(ol);
	ck_assert_uint_eq(ldns_edns_option_list_get_count(ol), 2);
	ldns_edns_option *o = ldns_edns_option_list_get_option(ol, 0);
	ck_assert_int_eq(ldns_edns_get_code(o), 3);
	ck_assert_mem_eq(ldns_edns_get_data(o), "ns-7", 4);
	o = ldns_edns_option_list_get_option(ol, 1);
	ck_assert_int_eq(ldns_edns_get_code(o), 8);
	ck_assert_uint_eq(ldns_edns_get_size(o), 8);
	ldns_pkt_free(p);

	/* BADVERS reply: no options, extended rcode 1, header rcode 0 */
	struct wire_edns_reply bv = {.payload = 1232, .ext_rcode = 1};
	start("example.com.", WIRE_TYPE_A, 512);
	wire_build_set_rcode(&fx.b, WIRE_RCODE_BADVERS);
	wire_build_reserve(&fx.b, wire_edns_size(&bv));
	ck_assert(wire_build_opt(&fx.b, &bv));
	ck_assert_mem_eq(fx.buf + 29, "\0\0\51\4\xD0\1\0\0\0\0\0", 11);
	p = to_ldns();
	ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 1);
	ck_assert_uint_eq(ldns_pkt_get_rcode(p), 0);
	ck_assert(!ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* does not fit: false, reservation kept, message unchanged */
	start("example.com.", WIRE_TYPE_A, 29 + 10);
	wire_build_reserve(&fx.b, 11);
	ck_assert(!wire_build_opt(&fx.b, &bv));
	ck_assert_uint_eq(fx.b.reserved, 11);
	ck_assert_uint_eq(fx.b.len, 29);
	ck_assert_uint_eq(fx.b.count[2], 0);
}
END_TEST

START_TEST(build_opt_ecs_v6_and_zero)
{
	uint8_t addr[16];
	memset(addr, 0xFF, sizeof(addr));
	struct wire_edns_reply r = {.payload = 4096,
				    .ecs = true,
				    .ecs_family = 2,
				    .ecs_source_prefix = 57,
				    .ecs_scope_prefix = 48,
				    .ecs_addr = addr};
	start("example.com.", WIRE_TYPE_AAAA, 4096);
	ck_assert_uint_eq(wire_edns_size(&r), 11 + 8 + 8);
	ck_assert(wire_build_opt(&fx.b, &r));
	ck_assert_mem_eq(fx.buf + 29 + 11, "\0\10\0\14\0\2\71\60\377\377\377\377\377\377\377\200", 16);
	ck_assert_uint_eq(fx.b.len, 29 + 27);

	/* source 0: family and prefixes only */
	r.ecs_family = 1;
	r.ecs_source_prefix = 0;
	r.ecs_scope_prefix = 0;
	start("example.com.", WIRE_TYPE_A, 4096);
	ck_assert_uint_eq(wire_edns_size(&r), 11 + 8);
	ck_assert(wire_build_opt(&fx.b, &r));
	ck_assert_mem_eq(fx.buf + 29 + 11, "\0\10\0\4\0\1\0\0", 8);
	ldns_pkt *p = to_ldns();
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), 4096);
	ldns_pkt_free(p);

	/* a source prefix no family has */
	r.ecs_source_prefix = 129;
	start("example.com.", WIRE_TYPE_A, 4096);
	ck_assert(!wire_build_opt(&fx.b, &r));
}
END_TEST

/* A full referral-shaped reply round-trips through ldns. */
START_TEST(build_ldns_crosscheck)
{
	struct msg m;
	struct wire_query q;
	struct wire_builder b;
	uint8_t buf[1232], rd[256];
	uint8_t owner[256];
	m_query(&m, "WWW.Sub.Example.COM.", WIRE_TYPE_A, 1);
	m_opt(&m, 1232, 0, 0x8000, (const uint8_t *)"\0\3\0\0", 4);
	ck_assert_int_eq(parse(&m, &q), WIRE_PARSE_OK);
	ck_assert(wire_build_start(&b, buf, q.edns_payload, &q));
	struct wire_edns_reply r = {
	    .payload = 1232, .do_bit = q.edns_do, .nsid = (const uint8_t *)"x", .nsid_len = 1};
	wire_build_reserve(&b, wire_edns_size(&r));
	size_t ol = wire("sub.example.com.", owner);
	for (int i = 1; i <= 3; i++) {
		char ns[64];
		snprintf(ns, sizeof(ns), "ns%d.sub.example.com.", i);
		ck_assert(wire_build_rr(&b, WIRE_SECTION_AUTHORITY, owner, ol, WIRE_TYPE_NS, 1, 86400, rd,
					(uint16_t)wire(ns, rd)));
	}
	for (int i = 1; i <= 3; i++) {
		char ns[64];
		snprintf(ns, sizeof(ns), "ns%d.sub.example.com.", i);
		size_t l = wire(ns, owner);
		ck_assert(wire_build_rr(&b, WIRE_SECTION_ADDITIONAL, owner, l, WIRE_TYPE_A, 1, 86400,
					(const uint8_t *)"\xC0\0\2\x35", 4));
	}
	ck_assert(wire_build_opt(&b, &r));
	size_t len = wire_build_finish(&b);
	ck_assert_uint_eq(len, b.len);

	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_qr(p));
	ck_assert(ldns_pkt_rd(p));
	ck_assert(!ldns_pkt_aa(p));
	ck_assert_uint_eq(ldns_pkt_id(p), 0x1234);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 3);
	ck_assert_uint_eq(ldns_pkt_arcount(p), 3); /* ldns does not count the OPT */
	ck_assert_mem_eq(buf + 10, "\0\4", 2);
	ck_rr(ldns_pkt_authority(p), 2, "Sub.Example.COM.\t86400\tIN\tNS\tns3.Sub.Example.COM.");
	ck_rr(ldns_pkt_additional(p), 1, "ns2.Sub.Example.COM.\t86400\tIN\tA\t192.0.2.53");
	ck_assert(ldns_pkt_edns_do(p));
	char *qs = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	ck_assert_str_eq(qs, "WWW.Sub.Example.COM.");
	free(qs);
	ldns_pkt_free(p);

	/* the response parses as a message with our own reader too: every owner name is readable */
	size_t pos = 12;
	struct wire_name n;
	ck_assert(wire_name_read(buf, len, &pos, &n));
	pos += 4;
	for (int i = 0; i < 7; i++) {
		ck_assert(wire_name_read(buf, len, &pos, &n));
		pos += 8;
		pos += 2 + (size_t)(buf[pos] << 8 | buf[pos + 1]);
	}
	ck_assert_uint_eq(pos, len);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *names = tcase_create("names");
	tcase_add_test(names, name_within_apex_at_label_boundaries);
	tcase_add_test(names, name_from_wire_lowercases_and_indexes);
	tcase_add_test(names, name_from_wire_rejects);
	tcase_add_test(names, name_exactly_255);
	tcase_add_test(names, name_length_and_equal);
	tcase_add_test(names, name_read_plain_and_compressed);
	tcase_add_test(names, name_read_rejects_bad_pointers);
	tcase_add_test(names, name_read_rejects_truncation_and_length);
	tcase_add_test(names, name_to_text);
	suite_add_tcase(s, names);

	TCase *parsing = tcase_create("parse");
	tcase_set_timeout(parsing, 60);
	tcase_add_test(parsing, parse_good_query);
	tcase_add_test(parsing, parse_drop);
	tcase_add_test(parsing, parse_notimp);
	tcase_add_test(parsing, parse_qdcount);
	tcase_add_test(parsing, parse_bad_question);
	tcase_add_test(parsing, parse_trailing_garbage_accepted);
	tcase_add_test(parsing, parse_walks_sections);
	tcase_add_test(parsing, parse_opt_placement);
	tcase_add_test(parsing, parse_edns_fields);
	tcase_add_test(parsing, parse_edns_options);
	tcase_add_test(parsing, parse_ecs_good);
	tcase_add_test(parsing, parse_ecs_malformed);
	tcase_add_test(parsing, parse_ldns_query);
	tcase_add_test(parsing, parse_fuzz);
	suite_add_tcase(s, parsing);

	TCase *build = tcase_create("build");
	tcase_add_test(build, build_header_and_question);
	tcase_add_test(build, build_long_qname);
	tcase_add_test(build, build_owner_compression);
	tcase_add_test(build, build_rdata_compression);
	tcase_add_test(build, build_mx_soa_cname_minfo);
	tcase_add_test(build, build_no_rdata_compression);
	tcase_add_test(build, build_overflow_leaves_message);
	tcase_add_test(build, build_sections_forward);
	tcase_add_test(build, build_mark_rollback);
	tcase_add_test(build, build_compression_table_full);
	tcase_add_test(build, build_pointer_limit);
	tcase_add_test(build, build_opt);
	tcase_add_test(build, build_opt_ecs_v6_and_zero);
	tcase_add_test(build, build_ldns_crosscheck);
	tcase_add_test(build, build_limited_search);
	suite_add_tcase(s, build);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
