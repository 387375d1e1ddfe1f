/* test_intent.c -- unit tests of intent files: parsing with ldns, RRsets, canonical values, errors.
 *
 * Each test writes its intent files to a fresh folder under /tmp. Values are built the way a zone
 * loader hands them over: the rdata ldns parses from text, in the case it was written. */
#include <check.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/intent.h"

static char dir[64];
static char paths[8][128];
static int npaths;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_intent.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	npaths = 0;
}

static void teardown(void)
{
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* Writes text to dir/name and returns the path. */
static const char *write_file(const char *name, const char *text)
{
	ck_assert_int_lt(npaths, 8);
	char *p = paths[npaths++];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  diag: %s\n", d->entries[i].text);
}

/* Loads text as the intent of example.com.; the diag is left in d. */
static struct intent *load(const char *text, struct diag *d)
{
	diag_init(d);
	return intent_load("example.com.", write_file("example.com.intent", text), d);
}

static struct intent *load_ok(const char *text, struct diag *d)
{
	struct intent *in = load(text, d);
	if (!in || d->errors)
		dump(d);
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(d->errors, 0);
	return in;
}

/* Whether d holds exactly the entry "path:line: " (line 0: "path: ") followed by text containing what. */
static bool diag_has(const struct diag *d, enum diag_level level, const char *path, unsigned line,
		     const char *what)
{
	char prefix[512];
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].level == level &&
		    strncmp(d->entries[i].text, prefix, strlen(prefix)) == 0 &&
		    strstr(d->entries[i].text + strlen(prefix), what))
			return true;
	return false;
}

/* A name in uncompressed wire form, lowercased (as the wire parser gives it). */
static size_t wire(const char *text, uint8_t *out)
{
	ldns_rdf *r = ldns_dname_new_frm_str(text);
	ck_assert_ptr_nonnull(r);
	size_t n = ldns_rdf_size(r);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)tolower(ldns_rdf_data(r)[i]);
	ldns_rdf_deep_free(r);
	return n;
}

/* The rdata of the record text, as written (not canonical), and its type. */
static size_t rdata(const char *rr_text, uint8_t *out, uint16_t *type)
{
	ldns_rr *rr = NULL;
	ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rr_text, 3600, NULL, NULL), LDNS_STATUS_OK);
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		memcpy(out + n, ldns_rdf_data(f), ldns_rdf_size(f));
		n += ldns_rdf_size(f);
	}
	if (type)
		*type = (uint16_t)ldns_rr_get_type(rr);
	ldns_rr_free(rr);
	return n;
}

static const struct intent_rrset *find(const struct intent *in, const char *name, uint16_t type)
{
	uint8_t w[256];
	size_t n = wire(name, w);
	return intent_find(in, w, n, type);
}

/* Whether the guarded RRset of the record's owner and type allows the record's value, as a zone
 * would hold it: the rdata is put in canonical form first. */
static bool allows(const struct intent *in, const char *owner, const char *rr_text)
{
	uint8_t rd[1024], canon[1024];
	uint16_t type;
	size_t n = rdata(rr_text, rd, &type);
	intent_canonical_rdata(type, rd, n, canon);
	return intent_allows(find(in, owner, type), canon, n);
}

START_TEST(test_rrsets)
{
	struct diag d;
	struct intent *in = load_ok("; guarded names\n"
				    "api    IN A     192.0.2.10     ; primary datacenter\n"
				    "api    IN A     198.51.100.10  ; secondary\n"
				    "www.example.com.  300 IN AAAA 2001:db8::1\n"
				    "@      IN MX    10 mail\n"
				    "txt    TXT \"hello world\" \"two\"\n"
				    "       A 192.0.2.99\n",
				    &d);
	ck_assert_uint_eq(in->count, 5);
	ck_assert_str_eq(in->file, paths[0]);
	/* canonical name order, then type */
	ck_assert_str_eq(in->rrsets[0].name, "example.com.");
	ck_assert_str_eq(in->rrsets[1].name, "api.example.com.");
	ck_assert_str_eq(in->rrsets[2].name, "txt.example.com.");
	ck_assert_uint_eq(in->rrsets[2].type, LDNS_RR_TYPE_A);
	ck_assert_str_eq(in->rrsets[3].name, "txt.example.com.");
	ck_assert_uint_eq(in->rrsets[3].type, LDNS_RR_TYPE_TXT);
	ck_assert_str_eq(in->rrsets[4].name, "www.example.com.");

	const struct intent_rrset *s = find(in, "api.example.com.", LDNS_RR_TYPE_A);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->count, 2);
	ck_assert_uint_eq(s->line, 2);
	ck_assert_uint_eq(s->owner_len, 17);
	ck_assert_mem_eq(s->owner, "\3api\7example\3com", 17);
	ck_assert(allows(in, "api.example.com.", "api.example.com. A 192.0.2.10"));
	ck_assert(allows(in, "api.example.com.", "api.example.com. A 198.51.100.10"));
	ck_assert(!allows(in, "api.example.com.", "api.example.com. A 192.0.2.11"));
	ck_assert(allows(in, "www.example.com.", "x. AAAA 2001:db8:0::1"));
	ck_assert(!allows(in, "www.example.com.", "x. AAAA 2001:db8::2"));
	ck_assert(allows(in, "example.com.", "x. MX 10 mail.example.com."));
	ck_assert(!allows(in, "example.com.", "x. MX 20 mail.example.com."));
	ck_assert(!allows(in, "example.com.", "x. MX 10 mail.example.net."));
	ck_assert(allows(in, "txt.example.com.", "x. TXT \"hello world\" \"two\""));
	ck_assert(!allows(in, "txt.example.com.", "x. TXT \"hello world\""));
	ck_assert(allows(in, "txt.example.com.", "x. A 192.0.2.99")); /* owner-less: the previous owner */
	ck_assert_uint_eq(find(in, "txt.example.com.", LDNS_RR_TYPE_A)->line, 7);

	/* misses: other type, other name, a name above and below */
	ck_assert_ptr_null(find(in, "api.example.com.", LDNS_RR_TYPE_AAAA));
	ck_assert_ptr_null(find(in, "other.example.com.", LDNS_RR_TYPE_A));
	ck_assert_ptr_null(find(in, "com.", LDNS_RR_TYPE_MX));
	ck_assert_ptr_null(find(in, "x.api.example.com.", LDNS_RR_TYPE_A));
	ck_assert_ptr_null(find(NULL, "api.example.com.", LDNS_RR_TYPE_A));
	ck_assert(!intent_allows(NULL, (const uint8_t *)"\xc0\0\2\n", 4));
	intent_free(in);
	diag_free(&d);
}
END_TEST

/* Many owners in an order unlike the file's: intent_find finds each one by binary search. */
START_TEST(test_find_many)
{
	char text[64 * 1024];
	size_t at = 0;
	for (int i = 199; i >= 0; i--)
		at += (size_t)snprintf(text + at, sizeof(text) - at, "h%d A 192.0.2.%d\nh%d.sub TXT \"%d\"\n",
				       i, i % 250, i, i);
	struct diag d;
	struct intent *in = load_ok(text, &d);
	ck_assert_uint_eq(in->count, 400);
	for (int i = 0; i < 200; i++) {
		char name[64];
		snprintf(name, sizeof(name), "H%d.example.com.", i);
		const struct intent_rrset *s = find(in, name, LDNS_RR_TYPE_A);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->line, (unsigned)(2 * (199 - i) + 1));
		ck_assert_ptr_null(find(in, name, LDNS_RR_TYPE_TXT));
		snprintf(name, sizeof(name), "h%d.sub.example.com.", i);
		ck_assert_ptr_nonnull(find(in, name, LDNS_RR_TYPE_TXT));
	}
	/* label by label from the root: every h<i>.example.com. before the names below sub */
	for (size_t i = 0; i < in->count; i++)
		ck_assert_uint_eq(in->rrsets[i].type, i < 200 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_TXT);
	ck_assert_str_eq(in->rrsets[0].name, "h0.example.com.");
	ck_assert_str_eq(in->rrsets[1].name, "h1.example.com.");
	ck_assert_str_eq(in->rrsets[2].name, "h10.example.com.");
	ck_assert_str_eq(in->rrsets[3].name, "h100.example.com.");
	ck_assert_str_eq(in->rrsets[200].name, "h0.sub.example.com.");
	intent_free(in);
	diag_free(&d);
}
END_TEST

START_TEST(test_canonical_order)
{
	/* RFC 4034 6.1's example, below example.com. */
	struct diag d;
	struct intent *in = load_ok("\\200.z A 192.0.2.1\n"
				    "*.z A 192.0.2.1\n"
				    "Z.a A 192.0.2.1\n"
				    "zABC.a A 192.0.2.1\n"
				    "z A 192.0.2.1\n"
				    "yljkjljk.a A 192.0.2.1\n"
				    "a A 192.0.2.1\n"
				    "@ A 192.0.2.1\n"
				    "\\001.z A 192.0.2.1\n",
				    &d);
	static const char *const want[] = {
	    "example.com.",	    "a.example.com.",	   "yljkjljk.a.example.com.",
	    "z.a.example.com.",	    "zabc.a.example.com.", "z.example.com.",
	    "\\001.z.example.com.", "*.z.example.com.",	   "\\200.z.example.com."};
	ck_assert_uint_eq(in->count, 9);
	for (size_t i = 0; i < 9; i++)
		ck_assert_str_eq(in->rrsets[i].name, want[i]);
	intent_free(in);
	diag_free(&d);
}
END_TEST

START_TEST(test_origin_and_ttl)
{
	struct diag d;
	diag_init(&d);
	const char *p = write_file("o.intent", "$TTL 60\n"
					       "a A 192.0.2.1\n"
					       "$ORIGIN sub.Example.com.\n"
					       "www 30 IN A 192.0.2.2\n"
					       "@ MX 10 mail\n"
					       "$ORIGIN deeper\n"
					       "x A 192.0.2.3\n"
					       "$ORIGIN example.com.\n"
					       "b CNAME a\n"
					       "$ORIGIN @\n"
					       "c A 192.0.2.5\n");
	struct intent *in = intent_load("Example.COM", p, &d); /* no final dot, any case */
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(in->apex_len, 13);
	ck_assert_mem_eq(in->apex, "\7example\3com", 13);
	ck_assert_ptr_nonnull(find(in, "a.example.com.", LDNS_RR_TYPE_A));
	ck_assert_ptr_nonnull(find(in, "www.sub.example.com.", LDNS_RR_TYPE_A));
	ck_assert(allows(in, "sub.example.com.", "x. MX 10 mail.sub.example.com."));
	const struct intent_rrset *s = find(in, "x.deeper.sub.example.com.", LDNS_RR_TYPE_A);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->line, 7);
	ck_assert(allows(in, "b.example.com.", "x. CNAME a.example.com."));
	ck_assert_ptr_nonnull(find(in, "c.example.com.", LDNS_RR_TYPE_A));
	ck_assert_uint_eq(in->count, 6);
	intent_free(in);
	diag_free(&d);
}
END_TEST

/* Names in the owner and in the rdata match however their case was written, on either side; other
 * rdata (TXT) keeps its case. */
START_TEST(test_case)
{
	struct diag d;
	struct intent *in = load_ok("API.Example.COM. A 192.0.2.1\n"
				    "@ MX 10 MAIL.Example.com.\n"
				    "@ NS Ns1.EXAMPLE.net.\n"
				    "Www CNAME Target.Example.NET.\n"
				    "t TXT \"Hello\"\n"
				    "_sip._tcp SRV 0 5 5060 SIP.Example.com.\n",
				    &d);
	ck_assert_ptr_nonnull(find(in, "api.example.com.", LDNS_RR_TYPE_A));
	ck_assert_str_eq(find(in, "api.example.com.", LDNS_RR_TYPE_A)->name, "api.example.com.");
	ck_assert(allows(in, "example.com.", "x. MX 10 mail.example.com."));
	ck_assert(allows(in, "example.com.", "x. MX 10 MAIL.EXAMPLE.COM."));
	ck_assert(allows(in, "example.com.", "x. NS ns1.example.NET."));
	ck_assert(allows(in, "www.example.com.", "x. CNAME tArGeT.example.net."));
	ck_assert(!allows(in, "www.example.com.", "x. CNAME target2.example.net."));
	ck_assert(allows(in, "_sip._tcp.example.com.", "x. SRV 0 5 5060 sip.example.com."));
	ck_assert(allows(in, "t.example.com.", "x. TXT \"Hello\""));
	ck_assert(!allows(in, "t.example.com.", "x. TXT \"hello\""));

	/* the stored value is the canonical one */
	const struct intent_rrset *s = find(in, "www.example.com.", LDNS_RR_TYPE_CNAME);
	ck_assert_uint_eq(s->lengths[0], 20);
	ck_assert_mem_eq(s->values[0], "\6target\7example\3net", 20);
	intent_free(in);
	diag_free(&d);
}
END_TEST

START_TEST(test_canonical_rdata)
{
	uint8_t rd[512], out[512];
	uint16_t type;
	size_t n = rdata("x. MX 10 MaIl.ExAmple.COM.", rd, &type);
	intent_canonical_rdata(type, rd, n, out);
	ck_assert_mem_eq(out, "\0\12\4mail\7example\3com", n);
	n = rdata("x. SOA NS1.Example.com. Host.Example.com. 1 2 3 4 5", rd, &type);
	intent_canonical_rdata(type, rd, n, out);
	ck_assert_mem_eq(out, "\3ns1\7example\3com\0\4host\7example\3com", 32);
	/* a type whose names are not lowercased (RFC 4034 6.2 does not list it) and plain data */
	n = rdata("x. TXT \"MiXed\"", rd, &type);
	intent_canonical_rdata(type, rd, n, out);
	ck_assert_mem_eq(out, "\5MiXed", 6);
	n = rdata("x. A 192.0.2.1", rd, &type);
	intent_canonical_rdata(type, rd, n, out);
	ck_assert_mem_eq(out, "\300\0\2\1", 4);
	/* in place */
	n = rdata("x. CNAME ABC.", rd, &type);
	intent_canonical_rdata(type, rd, n, rd);
	ck_assert_mem_eq(rd, "\3abc", 5);

	/* rdata that does not parse as its type is copied as it is */
	static const uint8_t compressed[] = {0, 10, 3, 'M', 'X', 'A', 0xc0, 2}; /* a pointer */
	intent_canonical_rdata(LDNS_RR_TYPE_MX, compressed, sizeof(compressed), out);
	ck_assert_mem_eq(out, compressed, sizeof(compressed));
	static const uint8_t truncated[] = {0, 10, 4, 'M', 'A', 'I'}; /* the label runs past the end */
	intent_canonical_rdata(LDNS_RR_TYPE_MX, truncated, sizeof(truncated), out);
	ck_assert_mem_eq(out, truncated, sizeof(truncated));
	static const uint8_t extra[] = {3, 'A', 'B', 'C', 0, 'X'}; /* a byte after the name */
	intent_canonical_rdata(LDNS_RR_TYPE_CNAME, extra, sizeof(extra), out);
	ck_assert_mem_eq(out, extra, sizeof(extra));
	static const uint8_t unknown[] = {3, 'A', 'B', 'C', 0};
	intent_canonical_rdata(65534, unknown, sizeof(unknown), out);
	ck_assert_mem_eq(out, unknown, sizeof(unknown));
	intent_canonical_rdata(LDNS_RR_TYPE_A, unknown, 0, out); /* empty */
}
END_TEST

START_TEST(test_duplicates)
{
	struct diag d;
	struct intent *in = load("api A 192.0.2.1\n"
				 "api A 192.0.2.2\n"
				 "API.example.com. 60 A 192.0.2.1\n"
				 "@ MX 10 mail\n"
				 "@ MX 10 MAIL.example.com.\n"
				 "api A 192.0.2.1\n",
				 &d);
	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.count, 3);
	ck_assert(diag_has(&d, DIAG_WARNING, paths[0], 3,
			   "api.example.com. A 192.0.2.1 is listed twice (first on line 1)"));
	ck_assert(diag_has(&d, DIAG_WARNING, paths[0], 5,
			   "example.com. MX 10 mail.example.com. is listed twice (first on line 4)"));
	ck_assert(diag_has(&d, DIAG_WARNING, paths[0], 6, "(first on line 1)"));
	/* in file order */
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, ":3: "));
	ck_assert_ptr_nonnull(strstr(d.entries[2].text, ":6: "));
	ck_assert_uint_eq(find(in, "api.example.com.", LDNS_RR_TYPE_A)->count, 2);
	ck_assert_uint_eq(find(in, "example.com.", LDNS_RR_TYPE_MX)->count, 1);
	intent_free(in);
	diag_free(&d);
}
END_TEST

START_TEST(test_same_values)
{
	struct diag d;
	struct intent *in = load_ok("a A 192.0.2.1\n"
				    "a A 192.0.2.2\n"
				    "b A 192.0.2.2\n"
				    "b A 192.0.2.1\n"
				    "c A 192.0.2.1\n"
				    "c A 192.0.2.2\n"
				    "c A 192.0.2.3\n"
				    "e A 192.0.2.1\n"
				    "e A 192.0.2.3\n"
				    "f AAAA ::1\n",
				    &d);
	const struct intent_rrset *a = find(in, "a.example.com.", 1), *b = find(in, "b.example.com.", 1);
	const struct intent_rrset *c = find(in, "c.example.com.", 1), *e = find(in, "e.example.com.", 1);
	ck_assert(intent_same_values(a, a));
	ck_assert(intent_same_values(a, b));
	ck_assert(intent_same_values(b, a));
	ck_assert(!intent_same_values(a, c)); /* different counts */
	ck_assert(!intent_same_values(c, a));
	ck_assert(!intent_same_values(a, e)); /* same count, other values */
	ck_assert(!intent_same_values(a, find(in, "f.example.com.", LDNS_RR_TYPE_AAAA)));

	/* across two intents, written in another order and case */
	struct diag d2;
	diag_init(&d2);
	struct intent *other =
	    intent_load("example.com.", write_file("b.intent", "B A 192.0.2.1\nb A 192.0.2.2\n"), &d2);
	ck_assert_ptr_nonnull(other);
	ck_assert(intent_same_values(a, find(other, "b.example.com.", 1)));
	intent_free(other);
	intent_free(in);
	diag_free(&d);
	diag_free(&d2);
}
END_TEST

START_TEST(test_errors)
{
	struct diag d;
	struct intent *in = load("ok A 192.0.2.1\n"		   /* 1 */
				 "bad A 999.1.1.1\n"		   /* 2 */
				 "ch CH A 192.0.2.1\n"		   /* 3 */
				 "@ SOA ns1 host 1 2 3 4 5\n"	   /* 4 */
				 "$INCLUDE other.intent\n"	   /* 5 */
				 "www.example.org. A 192.0.2.1\n"  /* 6 */
				 "\n"				   /* 7 */
				 "; a comment\n"		   /* 8 */
				 "multi ( MX 10\n"		   /* 9 */
				 "   mail )\n"			   /* 10 */
				 "\n"				   /* 11 */
				 "  ; indented comment\n"	   /* 12 */
				 "bad2 MX x y\n"		   /* 13 */
				 "notexample.com. A 192.0.2.1\n"   /* 14 */
				 "$ORIGIN bad..name.\n"		   /* 15 */
				 "after A 192.0.2.1\n"		   /* 16 */
				 "example.com.evil. A 192.0.2.1\n" /* 17 */
				 "any ANY A 192.0.2.1\n"	   /* 18 */
				 "last A 192.0.2.1 extra\n",	   /* 19 */
				 &d);
	if (in)
		dump(&d);
	ck_assert_ptr_null(in);
	const char *p = paths[0];
	ck_assert(diag_has(&d, DIAG_ERROR, p, 2, "bad A 999.1.1.1"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 3, "class CH is not allowed (only IN)"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 4, "SOA cannot be an intent"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 5, "$INCLUDE is not allowed"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 6, "www.example.org. is outside the zone example.com."));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 13, "bad2 MX x y"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 14, "notexample.com. is outside the zone example.com."));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 15, "bad $ORIGIN: $ORIGIN bad..name."));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 17, "example.com.evil. is outside the zone"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 18, "class ANY is not allowed"));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 19, "last A 192.0.2.1 extra"));
	if (d.errors != 11)
		dump(&d);
	ck_assert_uint_eq(d.errors, 11); /* and nothing about lines 1, 9-10 or 16 */
	diag_free(&d);
}
END_TEST

START_TEST(test_multiline_line)
{
	struct diag d;
	struct intent *in = load_ok("; header\n"
				    "\n"
				    "multi ( MX 10\n"
				    "   mail )\n"
				    "\n"
				    "  ; comment\n"
				    "\t\n"
				    "next A 192.0.2.1",
				    &d); /* no final newline */
	ck_assert_uint_eq(find(in, "multi.example.com.", LDNS_RR_TYPE_MX)->line, 3);
	ck_assert_uint_eq(find(in, "next.example.com.", LDNS_RR_TYPE_A)->line, 8);
	intent_free(in);
	diag_free(&d);
}
END_TEST

START_TEST(test_soa_refused)
{
	struct diag d;
	ck_assert_ptr_null(load("@ IN SOA ns1 host 2026112101 7200 3600 1209600 300\napi A 192.0.2.1\n", &d));
	ck_assert_uint_eq(d.count, 1);
	ck_assert(diag_has(&d, DIAG_ERROR, paths[0], 1, "SOA cannot be an intent"));
	diag_free(&d);
}
END_TEST

START_TEST(test_include_refused)
{
	struct diag d;
	write_file("other.intent", "x A 192.0.2.1\n");
	ck_assert_ptr_null(load("api A 192.0.2.1\n$INCLUDE other.intent\n", &d));
	ck_assert_uint_eq(d.count, 1);
	char want[256];
	snprintf(want, sizeof(want), "%s:2: $INCLUDE is not allowed: an intent is one file", paths[1]);
	ck_assert_str_eq(d.entries[0].text, want);
	diag_free(&d);
}
END_TEST

START_TEST(test_outside_refused)
{
	struct diag d;
	ck_assert_ptr_null(load("api A 192.0.2.1\nexample.net. A 192.0.2.1\ncom. NS a.example.com.\n", &d));
	ck_assert_uint_eq(d.count, 2);
	ck_assert(diag_has(&d, DIAG_ERROR, paths[0], 2, "example.net. is outside the zone example.com."));
	ck_assert(diag_has(&d, DIAG_ERROR, paths[0], 3, "com. is outside the zone example.com."));
	diag_free(&d);
}
END_TEST

START_TEST(test_file_errors)
{
	struct diag d;
	diag_init(&d);
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/missing.intent", dir);
	ck_assert_ptr_null(intent_load("example.com.", missing, &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert(diag_has(&d, DIAG_ERROR, missing, 0, "cannot read"));
	ck_assert(diag_has(&d, DIAG_ERROR, missing, 0, "No such file or directory"));
	diag_free(&d);

	diag_init(&d);
	ck_assert_ptr_null(intent_load("example.com.", dir, &d)); /* a folder */
	ck_assert_uint_eq(d.errors, 1);
	ck_assert(diag_has(&d, DIAG_ERROR, dir, 0, "cannot read"));
	diag_free(&d);

	ck_assert_ptr_null(load("", &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert(diag_has(&d, DIAG_ERROR, paths[0], 0, "no records"));
	diag_free(&d);

	diag_init(&d);
	const char *p = write_file("comments.intent", "; nothing guarded yet\n\n$TTL 300\n   \n");
	ck_assert_ptr_null(intent_load("example.com.", p, &d));
	ck_assert_uint_eq(d.errors, 1);
	ck_assert(diag_has(&d, DIAG_ERROR, p, 0, "no records: an empty intent guards nothing"));
	diag_free(&d);

	diag_init(&d);
	ck_assert_ptr_null(intent_load("bad..zone", p, &d));
	ck_assert(diag_has(&d, DIAG_ERROR, p, 0, "bad zone name bad..zone"));
	diag_free(&d);
}
END_TEST

START_TEST(test_rdata_text)
{
	uint8_t rd[512];
	uint16_t type;
	char buf[256];
	size_t n = rdata("x. A 192.0.2.1", rd, &type);
	intent_rdata_text(type, rd, n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1");
	n = rdata("x. AAAA 2001:DB8:0::10", rd, &type);
	intent_rdata_text(type, rd, n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::10");
	n = rdata("x. MX 10 Mail.example.com.", rd, &type);
	intent_rdata_text(type, rd, n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10 Mail.example.com.");
	n = rdata("x. TXT \"hello world\" two", rd, &type);
	intent_rdata_text(type, rd, n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\"hello world\" \"two\"");
	n = rdata("x. SRV 0 5 5060 sip.example.com.", rd, &type);
	intent_rdata_text(type, rd, n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 5 5060 sip.example.com.");

	/* truncated to fit, always terminated */
	n = rdata("x. A 192.0.2.1", rd, &type);
	intent_rdata_text(type, rd, n, buf, 5);
	ck_assert_str_eq(buf, "192.");
	intent_rdata_text(type, rd, n, buf, 1);
	ck_assert_str_eq(buf, "");

	/* what does not parse as its type: RFC 3597's generic form */
	static const uint8_t three[] = {1, 2, 0xab};
	intent_rdata_text(LDNS_RR_TYPE_A, three, sizeof(three), buf, sizeof(buf));
	ck_assert_str_eq(buf, "\\# 3 0102ab");
	intent_rdata_text(LDNS_RR_TYPE_A, three, sizeof(three), buf, 8);
	ck_assert_str_eq(buf, "\\# 3 01");
	intent_rdata_text(LDNS_RR_TYPE_A, three, sizeof(three), buf, 7);
	ck_assert_str_eq(buf, "\\# 3 ");
	intent_rdata_text(LDNS_RR_TYPE_A, three, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\\# 0");
	intent_rdata_text(65534, three, sizeof(three), buf, sizeof(buf));
	ck_assert_str_eq(buf, "\\# 3 0102ab");
}
END_TEST

START_TEST(test_type_name)
{
	char buf[32];
	ck_assert_str_eq(intent_type_name(LDNS_RR_TYPE_A, buf, sizeof(buf)), "A");
	ck_assert_str_eq(intent_type_name(LDNS_RR_TYPE_MX, buf, sizeof(buf)), "MX");
	ck_assert_str_eq(intent_type_name(LDNS_RR_TYPE_AAAA, buf, sizeof(buf)), "AAAA");
	ck_assert_str_eq(intent_type_name(LDNS_RR_TYPE_CNAME, buf, sizeof(buf)), "CNAME");
	ck_assert_str_eq(intent_type_name(65534, buf, sizeof(buf)), "TYPE65534");
	ck_assert_str_eq(intent_type_name(54, buf, sizeof(buf)), "TYPE54");
	ck_assert_ptr_eq(intent_type_name(1, buf, sizeof(buf)), buf);
	ck_assert_str_eq(intent_type_name(65534, buf, 5), "TYPE");
}
END_TEST

static Suite *intent_suite(void)
{
	Suite *s = suite_create("intent");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rrsets);
	tcase_add_test(tc, test_find_many);
	tcase_add_test(tc, test_canonical_order);
	tcase_add_test(tc, test_origin_and_ttl);
	tcase_add_test(tc, test_case);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_same_values);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_multiline_line);
	tcase_add_test(tc, test_soa_refused);
	tcase_add_test(tc, test_include_refused);
	tcase_add_test(tc, test_outside_refused);
	tcase_add_test(tc, test_file_errors);
	suite_add_tcase(s, tc);
	TCase *tr = tcase_create("rdata");
	tcase_add_test(tr, test_canonical_rdata);
	tcase_add_test(tr, test_rdata_text);
	tcase_add_test(tr, test_type_name);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(intent_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
