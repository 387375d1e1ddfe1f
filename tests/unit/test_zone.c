/* test_zone.c -- unit tests of the zone module: loading with ldns (sequential and parallel), validation,
 * lookup, zone sets.
 *
 * Fixtures live in tests/unit/data/zone/ (the tests run from the repository root); generated zones
 * go to /tmp. Query names are built the way the wire parser hands them over: lowercased. */
#include <check.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/zone.h"

#include "../../src/zone/build.h" /* the loader's tuning, to compare sequential and parallel loading */

#define DATA "tests/unit/data/zone/"

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  diag: %s\n", d->entries[i].text);
}

static struct zone *load(const char *origin, const char *file, struct diag *d)
{
	diag_init(d);
	return zone_load(origin, file, d);
}

/* Whether d holds an entry of level that starts with "file:line: " (line 0: "file: ") and contains
 * what. */
static bool diag_has(const struct diag *d, enum diag_level level, const char *file, unsigned line,
		     const char *what)
{
	char prefix[512];
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", file, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", file);
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].level == level &&
		    strncmp(d->entries[i].text, prefix, strlen(prefix)) == 0 &&
		    strstr(d->entries[i].text, what))
			return true;
	return false;
}

/* A query name as the wire parser gives it: uncompressed, lowercased, labels indexed. */
static void qname(struct wire_name *n, const char *text)
{
	ldns_rdf *r = ldns_dname_new_frm_str(text);
	ck_assert_ptr_nonnull(r);
	n->len = (uint8_t)ldns_rdf_size(r);
	for (size_t i = 0; i < n->len; i++)
		n->data[i] = (uint8_t)tolower(ldns_rdf_data(r)[i]);
	ldns_rdf_deep_free(r);
	n->label_count = 0;
	for (size_t o = 0;; o += 1u + n->data[o]) {
		n->labels[n->label_count++] = (uint8_t)o;
		if (n->data[o] == 0)
			break;
	}
}

static bool name_is(const struct zone_node *node, const char *text)
{
	struct wire_name n;
	qname(&n, text);
	return node && node->name_len == n.len && memcmp(node->name, n.data, n.len) == 0;
}

static const struct zone_node *find(const struct zone *z, const char *text)
{
	struct wire_name n;
	qname(&n, text);
	return zone_node_find(z, n.data, n.len);
}

static void lookup(const struct zone *z, const char *name, uint16_t qtype, struct zone_result *r)
{
	struct wire_name n;
	qname(&n, name);
	memset(r, 0xa5, sizeof(*r)); /* every field must be written */
	zone_lookup(z, &n, qtype, r);
}

/* The single RR of an RRset. */
static void only_rdata(const struct zone_rrset *s, const uint8_t **rd, uint16_t *len)
{
	size_t pos = 0;
	ck_assert_ptr_nonnull(s);
	ck_assert(zone_rdata_next(s, &pos, rd, len));
	const uint8_t *x;
	uint16_t xl;
	ck_assert(!zone_rdata_next(s, &pos, &x, &xl));
}

static void assert_rdata(const struct zone_rrset *s, const void *want, size_t want_len)
{
	const uint8_t *rd;
	uint16_t len;
	only_rdata(s, &rd, &len);
	ck_assert_uint_eq(len, want_len);
	ck_assert_mem_eq(rd, want, want_len);
}

/* ---- loading ---- */

static struct zone *ex;
static struct diag exd;

static void ex_setup(void)
{
	ex = load("example.com", DATA "example.zone", &exd);
	if (!ex)
		dump(&exd);
	ck_assert_ptr_nonnull(ex);
}

static void ex_teardown(void)
{
	zone_unref(ex);
	diag_free(&exd);
}

START_TEST(test_load_counts)
{
	ck_assert_uint_eq(exd.count, 0);
	ck_assert_uint_eq(ex->rr_count, 33);
	ck_assert_uint_eq(ex->node_count, 28); /* 23 owners, 4 empty non-terminals, the apex's 1 */
	ck_assert_uint_eq(ex->serial, 2024010101u);
	ck_assert_uint_eq(ex->neg_ttl, 300); /* min(SOA TTL 3600, MINIMUM 300) */
	ck_assert_uint_eq(ex->soa->ttl, 3600);
	ck_assert_uint_eq(ex->soa->count, 1);
	ck_assert_int_eq(ex->refs, 1);
	ck_assert_str_eq(ex->name_text, "example.com");
	ck_assert_str_eq(ex->file, DATA "example.zone");
	ck_assert(name_is(ex->apex_node, "example.com."));
	ck_assert_uint_eq(ex->apex.label_count, 3);
	ck_assert_uint_eq(ex->table_mask + 1 >= ex->node_count, 1); /* load factor <= 1 */
	ck_assert_ptr_eq(ex->soa, zone_node_rrset(ex->apex_node, WIRE_TYPE_SOA));
}
END_TEST

START_TEST(test_load_origin_ttl_include)
{
	/* $TTL 3600 applies; an explicit TTL wins. */
	ck_assert_uint_eq(zone_node_rrset(find(ex, "web.example.com"), WIRE_TYPE_A)->ttl, 3600);
	ck_assert_uint_eq(zone_node_rrset(find(ex, "short.example.com"), WIRE_TYPE_A)->ttl, 60);
	/* Owners are lowercased. */
	ck_assert_ptr_nonnull(find(ex, "ns1.example.com"));
	/* inc/hosts.inc: the zone's origin, then a relative $ORIGIN that must not leak back. */
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "host1.example.com"), WIRE_TYPE_A));
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "host2.hosts.example.com"), WIRE_TYPE_A));
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "after.example.com"), WIRE_TYPE_A));
	ck_assert_ptr_null(find(ex, "after.hosts.example.com"));
	/* inc/other.inc with the relative origin "other". */
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "other.example.com"), WIRE_TYPE_TXT));
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "x.other.example.com"), WIRE_TYPE_A));
}
END_TEST

START_TEST(test_load_rdata)
{
	static const uint8_t mx[] = "\x00\x0a\x04Mail\x07"
				    "Example\x03"
				    "COM"; /* case kept */
	assert_rdata(zone_node_rrset(ex->apex_node, WIRE_TYPE_MX), mx, sizeof(mx));
	static const uint8_t txt[] = "\x0bhello world\x0dsecond string\x05third";
	assert_rdata(zone_node_rrset(find(ex, "text.example.com"), WIRE_TYPE_TXT), txt, sizeof(txt) - 1);
	static const uint8_t srv[] = "\x00\x0a\x00\x14\x13\xc4\x03sip\x07"
				     "example\x03"
				     "com";
	assert_rdata(zone_node_rrset(find(ex, "_sip._tcp.example.com"), WIRE_TYPE_SRV), srv, sizeof(srv));
	static const uint8_t unknown[] = {0xab, 0xcd};
	assert_rdata(zone_node_rrset(find(ex, "unknown.example.com"), 65280), unknown, 2);
	static const uint8_t a[] = {192, 0, 2, 80};
	assert_rdata(zone_node_rrset(find(ex, "web.example.com"), WIRE_TYPE_A), a, 4);
	static const uint8_t aaaa[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
	assert_rdata(zone_node_rrset(find(ex, "web.example.com"), WIRE_TYPE_AAAA), aaaa, 16);

	/* Two NS RRs, in file order, then the end. */
	const struct zone_rrset *ns = zone_node_rrset(ex->apex_node, WIRE_TYPE_NS);
	ck_assert_uint_eq(ns->count, 2);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	ck_assert(zone_rdata_next(ns, &pos, &rd, &len));
	ck_assert_uint_eq(len, 17);
	ck_assert_mem_eq(rd,
			 "\x03ns1\x07"
			 "example\x03"
			 "com",
			 17);
	ck_assert(zone_rdata_next(ns, &pos, &rd, &len));
	ck_assert_mem_eq(rd,
			 "\x03ns2\x07"
			 "example\x03"
			 "net",
			 17);
	ck_assert(!zone_rdata_next(ns, &pos, &rd, &len));

	/* RRsets sorted by type. */
	const struct zone_node *apex = ex->apex_node;
	ck_assert_uint_eq(apex->rrset_count, 4);
	for (uint16_t i = 1; i < apex->rrset_count; i++)
		ck_assert_uint_lt(apex->rrsets[i - 1].type, apex->rrsets[i].type);
	ck_assert_ptr_null(zone_node_rrset(apex, WIRE_TYPE_AAAA));
}
END_TEST

START_TEST(test_load_flags_links)
{
	const struct zone_node *apex = ex->apex_node, *deleg = find(ex, "deleg.example.com");
	const struct zone_node *glue = find(ex, "ns.deleg.example.com"), *star = find(ex, "*.example.com");
	ck_assert_uint_eq(apex->flags, ZONE_NODE_APEX);
	ck_assert_ptr_null(apex->cut);
	ck_assert_ptr_eq(apex->wildcard, star);
	ck_assert_uint_eq(deleg->flags, ZONE_NODE_DELEGATION);
	ck_assert_ptr_eq(deleg->cut, deleg);
	ck_assert_uint_eq(glue->flags, ZONE_NODE_OCCLUDED);
	ck_assert_ptr_eq(glue->cut, deleg);
	ck_assert_uint_eq(star->flags, ZONE_NODE_WILDCARD);
	ck_assert_uint_eq(find(ex, "*.sub.example.com")->flags, ZONE_NODE_WILDCARD | ZONE_NODE_CNAME);
	ck_assert_ptr_eq(find(ex, "sub.example.com")->wildcard, find(ex, "*.sub.example.com"));
	ck_assert_uint_eq(find(ex, "www.example.com")->flags, ZONE_NODE_CNAME);
	const struct zone_node *ent = find(ex, "b.c.example.com");
	ck_assert_ptr_nonnull(ent);
	ck_assert_uint_eq(ent->rrset_count, 0);
	ck_assert_uint_eq(ent->label_count, 5);
	ck_assert_ptr_nonnull(find(ex, "_tcp.example.com"));
	ck_assert_ptr_null(find(ex, "nothere.example.com"));
}
END_TEST

START_TEST(test_refcount)
{
	zone_ref(ex);
	ck_assert_int_eq(ex->refs, 2);
	zone_unref(ex);
	ck_assert_int_eq(ex->refs, 1);
	zone_unref(NULL);
}
END_TEST

/* ---- validation: every error names the file and the line of the record at fault ---- */

struct want {
	unsigned line; /* 0: the zone's file without a line */
	const char *what;
};

struct bad_zone {
	const char *file; /* under DATA */
	const char *inc;  /* the file the second error is in, when not the zone file */
	size_t errors;	  /* exactly this many */
	struct want want[5];
};

static const struct bad_zone bad[] = {
    {"err_nosoa.zone", NULL, 1, {{3, "no SOA record at the zone apex"}}},
    {"err_nons.zone", NULL, 1, {{3, "no NS records at the zone apex"}}},
    {"err_two_soa.zone", NULL, 2, {{6, "more than one SOA record"}, {7, "not at the zone apex"}}},
    {"err_outside.zone", NULL, 1, {{7, "www.example.org. is outside the zone"}}},
    {"err_cname_other.zone", NULL, 1, {{8, "CNAME and other data (TXT) at alias.example.com."}}},
    {"err_two_cname.zone", NULL, 1, {{8, "more than one CNAME record"}}},
    {"err_cname_apex.zone", NULL, 2, {{6, "CNAME at the zone apex"}, {6, "CNAME and other data"}}},
    {"err_occluded.zone", NULL, 1, {{8, "TXT record at ns.deleg.example.com.: below the zone cut at deleg"}}},
    {"err_glue.zone",
     NULL,
     2,
     {{6, "missing glue: NS target ns.d1.example.com. of the delegation d1.example.com."},
      {9, "missing glue: NS target ns.d3.example.com. of the delegation d2.example.com."}}},
    {"err_wild_ns.zone", NULL, 1, {{6, "wildcard delegation is not supported"}}},
    {"err_deleg_other.zone", NULL, 1, {{8, "A record at d.example.com.: at a delegation point"}}},
    {"err_class.zone", NULL, 2, {{6, "class CH is not supported"}, {7, "type TYPE255 cannot appear"}}},
    {"err_bad_rdata.zone", NULL, 2, {{6, "a IN A"}, {7, "c IN CNAME"}}},
    {"err_syntax.zone", NULL, 5, {{6, "bad1"}, {8, "bad2"}, {9, "bad3"}, {10, "bad4"}, {15, "bad5"}}},
    {"err_include.zone",
     "inc/bad.inc",
     2,
     {{6, "cannot open $INCLUDE file " DATA "inc/missing.inc"}, {3, "broken"}}},
    {"err_loop.zone", NULL, 1, {{6, "$INCLUDE nested more than 8 deep"}}},
    {"err_ttl.zone",
     NULL,
     2,
     {{6, "TTL 4294967295 is above 2147483647 (RFC 2181 8"}, {9, "TTL 2147483648 is above 2147483647"}}},
    {"err_dname.zone",
     NULL,
     3,
     {{8, "A record at www.deeper.old.example.com.: below the DNAME at old.example.com."},
      {10, "more than one DNAME record at one name"},
      {12, "DNAME record at deleg.example.com.: at a delegation point"}}},
};

START_TEST(test_validation_errors)
{
	const struct bad_zone *t = &bad[_i];
	char path[256], inc[256];
	snprintf(path, sizeof(path), DATA "%s", t->file);
	snprintf(inc, sizeof(inc), DATA "%s", t->inc ? t->inc : t->file);
	struct diag d;
	struct zone *z = load("example.com", path, &d);
	ck_assert_msg(!z, "%s loaded", t->file);
	for (size_t i = 0; i < 5 && t->want[i].what; i++) {
		bool found = diag_has(&d, DIAG_ERROR, i == 1 ? inc : path, t->want[i].line, t->want[i].what);
		if (!found)
			dump(&d);
		ck_assert_msg(found, "%s: no error at line %u with \"%s\"", t->file, t->want[i].line,
			      t->want[i].what);
	}
	if (d.errors != t->errors)
		dump(&d);
	ck_assert_uint_eq(d.errors, t->errors);
	diag_free(&d);
}
END_TEST

START_TEST(test_signed_zone_warns)
{
	struct diag d;
	struct zone *z = load("example.com", DATA "warn_signed.zone", &d);
	ck_assert_ptr_nonnull(z); /* it loads and serves, unsigned; the warning says so */
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.count, 1);
	ck_assert(diag_has(&d, DIAG_WARNING, DATA "warn_signed.zone", 7,
			   "the zone has a DNSKEY at its apex but no RRSIG over its SOA: it is served unsigned"));
	ck_assert_int_eq(z->dnssec.denial, ZONE_DENIAL_NONE);
	ck_assert_uint_eq(zone_node_rrset(find(z, "example.com"), WIRE_TYPE_DNSKEY)->count, 2);
	zone_unref(z);
	diag_free(&d);
}
END_TEST

START_TEST(test_ttl_mismatch_warns)
{
	struct diag d;
	struct zone *z = load("example.com", DATA "warn_ttl.zone", &d);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(d.errors, 0);
	ck_assert_uint_eq(d.count, 1);
	ck_assert(diag_has(&d, DIAG_WARNING, DATA "warn_ttl.zone", 7, "TTL 60 differs from 300"));
	const struct zone_rrset *a = zone_node_rrset(find(z, "www.example.com"), WIRE_TYPE_A);
	ck_assert_uint_eq(a->count, 3);
	ck_assert_uint_eq(a->ttl, 60);
	zone_unref(z);
	diag_free(&d);
}
END_TEST

START_TEST(test_duplicates_dropped)
{
	struct diag d;
	struct zone *z = load("example.com", DATA "dup.zone", &d);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(z->rr_count, 6);
	const struct zone_rrset *a = zone_node_rrset(find(z, "www.example.com"), WIRE_TYPE_A);
	ck_assert_uint_eq(a->count, 2);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	ck_assert(zone_rdata_next(a, &pos, &rd, &len));
	ck_assert_mem_eq(rd, "\xc0\x00\x02\x01", 4);
	ck_assert(zone_rdata_next(a, &pos, &rd, &len));
	ck_assert_mem_eq(rd, "\xc0\x00\x02\x02", 4);
	ck_assert(!zone_rdata_next(a, &pos, &rd, &len));
	ck_assert_uint_eq(zone_node_rrset(find(z, "mx.example.com"), WIRE_TYPE_MX)->count, 1);
	zone_unref(z);
	diag_free(&d);
}
END_TEST

START_TEST(test_default_ttl)
{
	struct diag d;
	struct zone *z = load("example.com", DATA "no_ttl.zone", &d);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(z->soa->ttl, 120);
	ck_assert_uint_eq(zone_node_rrset(z->apex_node, WIRE_TYPE_NS)->ttl, 120);
	ck_assert_uint_eq(zone_node_rrset(find(z, "www.example.com"), WIRE_TYPE_A)->ttl, 7200);
	/* Once $TTL is seen it is the default, whatever TTL was stated last. */
	ck_assert_uint_eq(zone_node_rrset(find(z, "late.example.com"), WIRE_TYPE_A)->ttl, 30);
	ck_assert_uint_eq(zone_node_rrset(find(z, "late2.example.com"), WIRE_TYPE_A)->ttl, 90);
	ck_assert_uint_eq(zone_node_rrset(find(z, "late3.example.com"), WIRE_TYPE_A)->ttl, 30);
	zone_unref(z);
	diag_free(&d);
}
END_TEST

static void tmp_path(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "/tmp/meridian-test-zone-%ld-%s.zone", (long)getpid(), what);
}

START_TEST(test_error_cap)
{
	char path[128];
	tmp_path(path, sizeof(path), "cap");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "@ 300 IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ 300 IN NS ns1\n");
	for (int i = 0; i < 500; i++)
		fprintf(f, "bad%d 300 IN A 192.0.2\n", i);
	fclose(f);
	struct diag d;
	struct zone *z = load("example.com", path, &d);
	unlink(path);
	ck_assert_ptr_null(z);
	ck_assert_uint_ge(d.errors, 100);
	ck_assert_uint_le(d.errors, 101);
	ck_assert(diag_has(&d, DIAG_ERROR, path, 3, "bad0"));
	ck_assert_ptr_nonnull(strstr(d.entries[d.count - 1].text, "too many errors"));
	diag_free(&d);
}
END_TEST

START_TEST(test_missing_file)
{
	struct diag d;
	ck_assert_ptr_null(load("example.com", DATA "no-such.zone", &d));
	ck_assert(diag_has(&d, DIAG_ERROR, DATA "no-such.zone", 0, "cannot open"));
	diag_free(&d);
}
END_TEST

START_TEST(test_duplicates_large_rrset)
{
	/* 40 distinct A records, each written twice, interleaved with another type: the large-RRset
	 * path of the de-duplication, and an rdata run that has to be gathered. */
	char path[128];
	tmp_path(path, sizeof(path), "dups");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n");
	for (int i = 0; i < 80; i++) {
		fprintf(f, "www A 10.0.0.%d\n", i < 40 ? i : 79 - i); /* copies in reverse order */
		fprintf(f, "www TXT \"t%d\"\n", i % 3);
	}
	fclose(f);
	struct diag d;
	struct zone *z = load("example.com", path, &d);
	unlink(path);
	ck_assert_ptr_nonnull(z);
	const struct zone_node *www = find(z, "www.example.com");
	const struct zone_rrset *a = zone_node_rrset(www, WIRE_TYPE_A);
	ck_assert_uint_eq(a->count, 40);
	ck_assert_uint_eq(zone_node_rrset(www, WIRE_TYPE_TXT)->count, 3);
	ck_assert_uint_eq(z->rr_count, 3 + 40 + 3);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	for (int i = 0; i < 40; i++) { /* first occurrences, in file order */
		ck_assert(zone_rdata_next(a, &pos, &rd, &len));
		ck_assert_uint_eq(len, 4);
		ck_assert_uint_eq(rd[3], i);
	}
	ck_assert(!zone_rdata_next(a, &pos, &rd, &len));
	zone_unref(z);
	diag_free(&d);
}
END_TEST

/* ---- lookup (RFC 1034 4.3.2, RFC 4592) ---- */

START_TEST(test_lookup_exact)
{
	struct zone_result r;
	lookup(ex, "web.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(name_is(r.node, "web.example.com"));
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_A);
	ck_assert(!r.wildcard);
	lookup(ex, "example.com", WIRE_TYPE_SOA, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert_ptr_eq(r.rrset, ex->soa);
	lookup(ex, "example.com", WIRE_TYPE_NS, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert_uint_eq(r.rrset->count, 2);
}
END_TEST

START_TEST(test_lookup_case_insensitive)
{
	struct zone_result r;
	lookup(ex, "WEB.Example.COM", WIRE_TYPE_AAAA, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(name_is(r.node, "web.example.com"));
	lookup(ex, "Ns1.EXAMPLE.com", WIRE_TYPE_A, &r); /* "NS1" in the file */
	ck_assert_int_eq(r.kind, ZONE_FOUND);
}
END_TEST

START_TEST(test_lookup_cname)
{
	struct zone_result r;
	lookup(ex, "www.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_CNAME);
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_CNAME);
	ck_assert(name_is(r.node, "www.example.com"));
	lookup(ex, "www.example.com", WIRE_TYPE_CNAME, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_CNAME);
}
END_TEST

START_TEST(test_lookup_nodata)
{
	struct zone_result r;
	lookup(ex, "web.example.com", WIRE_TYPE_MX, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(name_is(r.node, "web.example.com"));
	ck_assert_ptr_null(r.rrset);
	ck_assert(!r.wildcard);
}
END_TEST

START_TEST(test_lookup_empty_non_terminal)
{
	struct zone_result r;
	/* b.c and c exist only as ancestors of a.b.c: NODATA, and they block the apex wildcard. */
	lookup(ex, "b.c.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(name_is(r.node, "b.c.example.com"));
	ck_assert(!r.wildcard);
	lookup(ex, "c.example.com", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(!r.wildcard);
	lookup(ex, "c.example.com", WIRE_TYPE_ANY, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	/* Below an ENT without a wildcard child: NXDOMAIN at the ENT. */
	lookup(ex, "z.c.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NXDOMAIN);
	ck_assert(name_is(r.node, "c.example.com"));
}
END_TEST

START_TEST(test_lookup_wildcard)
{
	struct zone_result r;
	static const uint8_t wild[] = {192, 0, 2, 99};
	lookup(ex, "foo.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(r.wildcard);
	ck_assert(name_is(r.node, "*.example.com"));
	assert_rdata(r.rrset, wild, 4);
	/* The closest encloser is the apex, whatever the depth. */
	lookup(ex, "a.b.foo.example.com", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(r.wildcard);
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_TXT);
	/* Wildcard NODATA. */
	lookup(ex, "foo.example.com", WIRE_TYPE_MX, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(r.wildcard);
	ck_assert(name_is(r.node, "*.example.com"));
	/* ANY at a wildcard. */
	lookup(ex, "foo.example.com", WIRE_TYPE_ANY, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(r.wildcard);
	ck_assert_ptr_null(r.rrset);
}
END_TEST

START_TEST(test_lookup_wildcard_blocked)
{
	struct zone_result r;
	/* An existing name is not covered by the wildcard: its own NODATA. */
	lookup(ex, "sibling.example.com", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(!r.wildcard);
	ck_assert(name_is(r.node, "sibling.example.com"));
	/* Below an existing name without a wildcard child: NXDOMAIN, the apex wildcard does not reach. */
	lookup(ex, "x.sibling.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NXDOMAIN);
	ck_assert(name_is(r.node, "sibling.example.com"));
	ck_assert_ptr_null(r.rrset);
	ck_assert(!r.wildcard);
	lookup(ex, "x.a.b.c.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NXDOMAIN);
	ck_assert(name_is(r.node, "a.b.c.example.com"));
}
END_TEST

START_TEST(test_lookup_wildcard_cname)
{
	struct zone_result r;
	lookup(ex, "www.sub.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_CNAME);
	ck_assert(r.wildcard);
	ck_assert(name_is(r.node, "*.sub.example.com"));
	static const uint8_t web[] = "\x03web\x07"
				     "example\x03"
				     "com";
	assert_rdata(r.rrset, web, sizeof(web));
	lookup(ex, "x.y.sub.example.com", WIRE_TYPE_CNAME, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(r.wildcard);
	/* sub itself exists: its own data, no wildcard. */
	lookup(ex, "sub.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(!r.wildcard);
}
END_TEST

START_TEST(test_lookup_star_itself)
{
	struct zone_result r;
	lookup(ex, "*.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(!r.wildcard);
	ck_assert(name_is(r.node, "*.example.com"));
	lookup(ex, "*.example.com", WIRE_TYPE_MX, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(!r.wildcard);
}
END_TEST

START_TEST(test_lookup_delegation)
{
	struct zone_result r;
	const struct zone_node *deleg = find(ex, "deleg.example.com");
	const char *below[] = {"deleg.example.com", "host.deleg.example.com", "a.b.deleg.example.com",
			       "ns.deleg.example.com"}; /* the last is the glue's own name */
	for (size_t i = 0; i < 4; i++) {
		lookup(ex, below[i], WIRE_TYPE_A, &r);
		ck_assert_msg(r.kind == ZONE_DELEGATION, "%s", below[i]);
		ck_assert_ptr_eq(r.node, deleg);
		ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_NS);
		ck_assert_uint_eq(r.rrset->count, 2);
		ck_assert(!r.wildcard);
	}
	lookup(ex, "deleg.example.com", WIRE_TYPE_NS, &r);
	ck_assert_int_eq(r.kind, ZONE_DELEGATION);
	lookup(ex, "deleg.example.com", WIRE_TYPE_ANY, &r);
	ck_assert_int_eq(r.kind, ZONE_DELEGATION);
	lookup(ex, "ns.deleg.example.com", WIRE_TYPE_DS, &r); /* DS below the cut: the child's */
	ck_assert_int_eq(r.kind, ZONE_DELEGATION);
	/* The glue is still there for referrals. */
	ck_assert_ptr_nonnull(zone_node_rrset(find(ex, "ns.deleg.example.com"), WIRE_TYPE_A));
}
END_TEST

START_TEST(test_lookup_ds_at_cut)
{
	struct zone_result r;
	lookup(ex, "deleg.example.com", WIRE_TYPE_DS, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_DS);
	ck_assert(name_is(r.node, "deleg.example.com"));
	lookup(ex, "nods.example.com", WIRE_TYPE_DS, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	ck_assert(name_is(r.node, "nods.example.com"));
}
END_TEST

START_TEST(test_lookup_any_apex)
{
	struct zone_result r;
	lookup(ex, "example.com", WIRE_TYPE_ANY, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert_ptr_null(r.rrset);
	ck_assert_ptr_eq(r.node, ex->apex_node);
	ck_assert(!r.wildcard);
	lookup(ex, "www.example.com", WIRE_TYPE_ANY, &r); /* a CNAME node answers ANY itself */
	ck_assert_int_eq(r.kind, ZONE_FOUND);
}
END_TEST

/* ---- zone sets ---- */

START_TEST(test_lookup_dname)
{
	struct diag d;
	struct zone *z = load("example.com", DATA "dname.zone", &d);
	if (!z)
		dump(&d);
	ck_assert_ptr_nonnull(z);
	struct zone_result r;
	/* below the DNAME, however deep, and before the apex wildcard */
	lookup(z, "www.old.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_DNAME);
	ck_assert(name_is(r.node, "old.example.com"));
	ck_assert_uint_eq(r.rrset->type, WIRE_TYPE_DNAME);
	ck_assert_uint_eq(r.rrset->ttl, 600);
	ck_assert(!r.wildcard);
	assert_rdata(r.rrset, "\3new\7example\3com", 17);
	lookup(z, "a.b.c.OLD.example.com", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_DNAME);
	lookup(z, "x.old.example.com", WIRE_TYPE_DNAME, &r);
	ck_assert_int_eq(r.kind, ZONE_DNAME);
	/* the DNAME's own name holds data as any name does */
	lookup(z, "old.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	lookup(z, "old.example.com", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	lookup(z, "old.example.com", WIRE_TYPE_DNAME, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(find(z, "old.example.com")->flags & ZONE_NODE_DNAME);
	ck_assert(!(find(z, "new.example.com")->flags & ZONE_NODE_DNAME));
	/* elsewhere the apex wildcard still answers */
	lookup(z, "other.example.com", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	ck_assert(r.wildcard);
	zone_unref(z);
	diag_free(&d);
}
END_TEST

START_TEST(test_zone_set)
{
	struct diag d;
	struct zone *child = load("deleg.example.com.", DATA "deleg.example.com.zone", &d);
	ck_assert_ptr_nonnull(child);
	struct zone *zones[] = {ex, child};
	struct zone_set *s = zone_set_new(zones, 2);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->count, 2);
	ck_assert_int_eq(ex->refs, 2);
	ck_assert_int_eq(child->refs, 2);

	struct wire_name n;
	qname(&n, "www.deleg.example.com");
	ck_assert_ptr_eq(zone_set_find(s, &n), child);
	ck_assert_ptr_eq(zone_set_find_parent(s, &n), child);
	qname(&n, "deleg.example.com");
	ck_assert_ptr_eq(zone_set_find(s, &n), child);
	ck_assert_ptr_eq(zone_set_find_parent(s, &n), ex); /* the parent side of the cut */
	qname(&n, "www.example.com");
	ck_assert_ptr_eq(zone_set_find(s, &n), ex);
	qname(&n, "example.com");
	ck_assert_ptr_eq(zone_set_find(s, &n), ex);
	ck_assert_ptr_null(zone_set_find_parent(s, &n));
	qname(&n, "example.org");
	ck_assert_ptr_null(zone_set_find(s, &n));
	qname(&n, "com");
	ck_assert_ptr_null(zone_set_find(s, &n));
	ck_assert_ptr_eq(zone_set_get(s, child->apex.data, child->apex.len), child);
	qname(&n, "www.example.com");
	ck_assert_ptr_null(zone_set_get(s, n.data, n.len));

	/* Two zones with one apex: refused, references untouched. */
	struct zone *twice[] = {ex, child, ex};
	ck_assert_ptr_null(zone_set_new(twice, 3));
	ck_assert_int_eq(ex->refs, 2);
	ck_assert_int_eq(child->refs, 2);

	zone_set_free(s);
	ck_assert_int_eq(ex->refs, 1);
	ck_assert_int_eq(child->refs, 1);
	zone_unref(child);
	diag_free(&d);
}
END_TEST

START_TEST(test_zone_set_nested)
{
	/* One fixture with relative names only, loaded at nested apexes and at the root. */
	const char *apexes[] = {".", "a.test", "b.a.test", "c.b.a.test", "x.test", "example.org"};
	struct zone *zones[6];
	struct diag d;
	for (size_t i = 0; i < 6; i++) {
		zones[i] = load(apexes[i], DATA "deleg.example.com.zone", &d);
		ck_assert_ptr_nonnull(zones[i]);
		diag_free(&d);
	}
	struct zone_set *s = zone_set_new(zones, 6);
	for (size_t i = 0; i < 6; i++)
		zone_unref(zones[i]); /* the set holds them now */
	struct {
		const char *name;
		int find, parent; /* indexes into apexes, -1: NULL */
	} cases[] = {
	    {"www.c.b.a.test", 3, 3}, {"c.b.a.test", 3, 2}, {"x.b.a.test", 2, 2}, {"b.a.test", 2, 1},
	    {"a.test", 1, 0},	      {"test", 0, 0},	    {".", 0, -1},	  {"www.example.org", 5, 5},
	    {"example.net", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_name n;
		qname(&n, cases[i].name);
		const struct zone *f = zone_set_find(s, &n), *p = zone_set_find_parent(s, &n);
		ck_assert_msg(f == (cases[i].find < 0 ? NULL : zones[cases[i].find]), "find %s",
			      cases[i].name);
		ck_assert_msg(p == (cases[i].parent < 0 ? NULL : zones[cases[i].parent]), "parent %s",
			      cases[i].name);
	}
	struct zone_set *empty = zone_set_new(NULL, 0);
	struct wire_name n;
	qname(&n, "www.example.com");
	ck_assert_ptr_null(zone_set_find(empty, &n));
	zone_set_free(empty);
	zone_set_free(s); /* frees the zones: the leak checker sees it */
}
END_TEST

/* ---- scale: a generated zone of 100,000 records ---- */

START_TEST(test_large_zone)
{
	char path[128];
	tmp_path(path, sizeof(path), "large");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "$ORIGIN big.test.\n$TTL 600\n@ SOA ns1 hostmaster 5 7200 900 1209600 60\n");
	fprintf(f, "@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.1\n");
	size_t rrs = 4, names = 2; /* the apex and ns1 */
	for (int i = 0; i < 50000; i++, names++) {
		fprintf(f, "h%d.g%d A 10.%d.%d.%d\n", i, i % 100, i >> 16, (i >> 8) & 255, i & 255);
		rrs++;
		if (i % 2 == 0 && ++rrs)
			fprintf(f, "h%d.g%d AAAA 2001:db8::%x\n", i, i % 100, i);
		if (i % 4 == 1 && ++rrs)
			fprintf(f, "h%d.g%d TXT \"record %d\" \"second\"\n", i, i % 100, i);
		if (i % 8 == 3 && ++rrs)
			fprintf(f, "h%d.g%d MX 10 mx%d.example.net.\n", i, i % 100, i % 7);
	}
	names += 100; /* g0 .. g99, empty non-terminals */
	for (int i = 0; rrs < 100000; i++, rrs++, names++)
		fprintf(f, "c%d CNAME h%d.g%d\n", i, i * 7, (i * 7) % 100);
	fclose(f);

	struct diag d;
	struct zone *z = load("big.test", path, &d);
	unlink(path);
	if (!z)
		dump(&d);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(z->rr_count, 100000);
	ck_assert_uint_eq(z->node_count, names);
	ck_assert_uint_eq(z->neg_ttl, 60);

	struct zone_result r;
	lookup(z, "h12345.g45.big.test", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	static const uint8_t a[] = {10, 0, 48, 57};
	assert_rdata(r.rrset, a, 4);
	lookup(z, "h12345.g45.big.test", WIRE_TYPE_TXT, &r);
	ck_assert_int_eq(r.kind, ZONE_FOUND);
	lookup(z, "g7.big.test", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NODATA);
	lookup(z, "c3.big.test", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_CNAME);
	lookup(z, "h12345.g46.big.test", WIRE_TYPE_A, &r);
	ck_assert_int_eq(r.kind, ZONE_NXDOMAIN);
	ck_assert(name_is(r.node, "g46.big.test"));
	zone_unref(z);
	diag_free(&d);
}
END_TEST

/* ---- parallel loading: a big file cut into chunks must load exactly as it does in one go ---- */

static struct zone *load_tuned(const char *origin, const char *file, struct diag *d, unsigned threads,
			       size_t chunk, struct zone_build_stats *st)
{
	struct zone_build_tuning t = {.threads = threads, .min_size = 0, .chunk_size = chunk};
	zone_build_tune(&t);
	struct zone *z = load(origin, file, d);
	zone_build_last_stats(st);
	zone_build_tune(NULL);
	return z;
}

static void assert_rrsets_same(const struct zone_node *a, const struct zone_node *b)
{
	ck_assert_uint_eq(a->rrset_count, b->rrset_count);
	for (uint16_t i = 0; i < a->rrset_count; i++) {
		const struct zone_rrset *x = &a->rrsets[i], *y = &b->rrsets[i];
		ck_assert_uint_eq(x->type, y->type);
		ck_assert_uint_eq(x->count, y->count);
		ck_assert_uint_eq(x->ttl, y->ttl);
		size_t px = 0, py = 0;
		const uint8_t *rx, *ry;
		uint16_t lx, ly;
		while (zone_rdata_next(x, &px, &rx, &lx)) {
			ck_assert(zone_rdata_next(y, &py, &ry, &ly));
			ck_assert_uint_eq(lx, ly);
			ck_assert_mem_eq(rx, ry, lx);
		}
		ck_assert(!zone_rdata_next(y, &py, &ry, &ly));
	}
}

/* Same nodes in the same order (names are interned in file order), same flags, links and data. */
static void assert_zones_same(const struct zone *a, const struct zone *b)
{
	ck_assert_uint_eq(a->node_count, b->node_count);
	ck_assert_uint_eq(a->rr_count, b->rr_count);
	ck_assert_uint_eq(a->serial, b->serial);
	ck_assert_uint_eq(a->neg_ttl, b->neg_ttl);
	ck_assert_uint_eq(a->table_mask, b->table_mask);
	const struct zone_node *na = a->apex_node, *nb = b->apex_node;
	for (size_t i = 0; i < a->node_count; i++) {
		ck_assert_uint_eq(na[i].name_len, nb[i].name_len);
		ck_assert_mem_eq(na[i].name, nb[i].name, na[i].name_len);
		ck_assert_uint_eq(na[i].flags, nb[i].flags);
		ck_assert_uint_eq(na[i].label_count, nb[i].label_count);
		ck_assert_uint_eq(na[i].hash, nb[i].hash);
		ck_assert_int_eq(na[i].cut ? na[i].cut - na : -1, nb[i].cut ? nb[i].cut - nb : -1);
		ck_assert_int_eq(na[i].wildcard ? na[i].wildcard - na : -1,
				 nb[i].wildcard ? nb[i].wildcard - nb : -1);
		assert_rrsets_same(&na[i], &nb[i]);
		ck_assert_ptr_eq(zone_node_find(b, na[i].name, na[i].name_len), &nb[i]);
	}
}

static void assert_diags_same(const struct diag *a, const struct diag *b)
{
	if (a->count != b->count) {
		fprintf(stderr, "sequential:\n");
		dump(a);
		fprintf(stderr, "parallel:\n");
		dump(b);
	}
	ck_assert_uint_eq(a->count, b->count);
	ck_assert_uint_eq(a->errors, b->errors);
	for (size_t i = 0; i < a->count; i++) {
		ck_assert_int_eq(a->entries[i].level, b->entries[i].level);
		ck_assert_str_eq(a->entries[i].text, b->entries[i].text);
	}
}

/* Loads file sequentially and cut into chunks of about chunk bytes by threads parsers; both must give
 * the same zone (or both none) and the same messages. Returns the parallel load's figures. */
static struct zone_build_stats load_both_ways(const char *origin, const char *file, unsigned threads,
					      size_t chunk, size_t *messages, bool *loaded)
{
	struct diag ds, dp;
	struct zone_build_stats ss, sp;
	struct zone *zs = load_tuned(origin, file, &ds, 1, chunk, &ss);
	struct zone *zp = load_tuned(origin, file, &dp, threads, chunk, &sp);
	ck_assert_uint_eq(ss.threads, 0);
	assert_diags_same(&ds, &dp);
	ck_assert_int_eq(zs != NULL, zp != NULL);
	if (zs)
		assert_zones_same(zs, zp);
	*messages = ds.count;
	*loaded = zs != NULL;
	zone_unref(zs);
	zone_unref(zp);
	diag_free(&ds);
	diag_free(&dp);
	return sp;
}

/* Deterministic pseudo-random numbers for generated zones. */
static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

enum gen_flags {
	GEN_ERRORS = 1 << 0, /* plant a few errors of every kind */
	GEN_WKS = 1 << 1,    /* WKS records (parsed by the main thread only) */
};

/* One record (or a few lines) of a generated zone: every construct that makes cutting a file hard. */
static void gen_record(FILE *f, unsigned i, int *origin_depth)
{
	switch (rnd(16)) {
	case 0:
		fprintf(f, "m%u IN MX ( 10 ; preference\n\t\tmail%u.example.net. ) ; after\n", i, i % 7);
		break;
	case 1: /* quotes hiding ';' '(' ')', a comment hiding '(' and '"', a line break inside parentheses */
		fprintf(f, "t%u TXT ( \"a;b\" ; comment ( \"\n\t\"c(d\" \"e)f\"\n\t)\n", i);
		break;
	case 2:
		fprintf(f, "q%u TXT \"semi;colon\" \"esc\\\"quote\" \"back\\\\slash\" \"paren(\" ; c\n", i);
		fprintf(f, "\tTXT \"owner-less, the same owner\"\n  60 IN A 10.9.%u.%u\n", i >> 8 & 255,
			i & 255);
		break;
	case 3: /* a backslash-newline inside a quoted string continues the line */
		fprintf(f, "e%u TXT \"first\\\nsecond\" third\n", i);
		break;
	case 4:
		fprintf(f, "; a comment line with \"(\" and ( and \\\n\n   \t \n");
		break;
	case 5:
		fprintf(f, "$TTL %u\n", 60 + rnd(7200));
		break;
	case 6:
		if (*origin_depth >= 2 || rnd(2)) {
			fprintf(f, "$ORIGIN %sgen.test.\n", rnd(2) ? "" : "s.");
			*origin_depth = 0;
		} else {
			fprintf(f, "$ORIGIN r%u\n", i); /* relative to the origin in force */
			(*origin_depth)++;
		}
		break;
	case 7:
		fprintf(f, "crlf%u A 10.8.%u.%u\r\n", i, i >> 8 & 255, i & 255);
		break;
	case 8:
		fprintf(f, "paren%u (\n A 10.7.%u.%u )\n", i, i >> 8 & 255, i & 255);
		break;
	case 9: /* an RRset with two TTLs: a warning from validation */
		fprintf(f, "w%u 60 A 10.6.0.1\nw%u 120 A 10.6.0.2\n", i, i);
		break;
	case 10:
		fprintf(f, "%s TXT \"at %u\"\n", rnd(20) ? "at" : "@", i);
		break;
	default:
		fprintf(f, "h%u %sA 10.%u.%u.%u\n", i, rnd(3) ? "" : "300 IN ", i >> 16 & 255, i >> 8 & 255,
			i & 255);
		if (rnd(2))
			fprintf(f, "h%u AAAA 2001:db8::%x:%x\n", i, i >> 16, i & 0xffff);
		break;
	}
}

/* Errors of every kind; some after a long comment, so a cut falls on them. */
static void gen_error(FILE *f, unsigned i)
{
	switch (rnd(10)) {
	case 0:
		fprintf(f, "bad%u A 10.0.0\n", i);
		break;
	case 8: /* a line starting with '(' */
		fprintf(f, "( paren%u A 10.7.%u.%u )\n", i, i >> 8 & 255, i & 255);
		break;
	case 1:
		fprintf(f, "out%u.example.org. A 192.0.2.1\n", i);
		break;
	case 2:
		fprintf(f, "cls%u CH A 192.0.2.1\n", i);
		break;
	case 3: /* the owner-less line takes the owner of the record before the bad one */
		fprintf(f, "long%u TXT \"%01000u\"\nbad..o%u A 192.0.2.1\n\tTXT \"whose owner?\"\n", i, 0, i);
		break;
	case 4:
		fprintf(f, "esc%u A \\\n 10.0.0.1\n", i);
		break;
	case 5:
		fprintf(f, "$TTL abc\n$TTL 300\n");
		break;
	case 6:
		fprintf(f, "$ORIGIN bad..origin.\n");
		break;
	case 7:
		fprintf(f, "alias%u CNAME h1\nalias%u TXT \"beside a CNAME\"\n", i, i);
		break;
	default:
		fprintf(f, "bad%u IN BOGUSTYPE x\n", i);
		break;
	}
}

static void gen_zone(const char *path, unsigned records, unsigned seed, unsigned flags, unsigned errors)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	rnd_state = seed;
	fprintf(f, "$ORIGIN gen.test.\n$TTL 300\n@ SOA ns1 hostmaster ( 7 7200 900\n\t1209600 60 )\n");
	fprintf(f, "@ NS ns1\nns1 A 192.0.2.53\n");
	int depth = 0;
	for (unsigned i = 0; i < records; i++) {
		gen_record(f, i, &depth);
		if (errors && rnd(records / errors + 1) == 0)
			gen_error(f, i);
		if ((flags & GEN_WKS) && rnd(200) == 0)
			fprintf(f, "wks%u WKS 192.0.2.%u tcp 25 80\n", i, i & 255);
	}
	fclose(f);
}

START_TEST(test_parallel_big)
{
	/* 200,000 records, cut about every 16 KiB: hundreds of chunks, four parsers. */
	char path[128];
	tmp_path(path, sizeof(path), "pbig");
	gen_zone(path, 200000, 42, 0, 0);
	size_t messages;
	bool loaded;
	struct zone_build_stats st = load_both_ways("gen.test", path, 4, 16 * 1024, &messages, &loaded);
	unlink(path);
	ck_assert(loaded);
	ck_assert_uint_ge(messages, 1); /* TTL warnings */
	ck_assert_uint_eq(st.threads, 4);
	ck_assert_uint_gt(st.chunks, 300);
}
END_TEST

START_TEST(test_parallel_tiny_chunks)
{
	/* Cuts at nearly every possible place, for several mixes. */
	char path[128];
	tmp_path(path, sizeof(path), "ptiny");
	for (unsigned seed = 1; seed <= 12; seed++) {
		gen_zone(path, 3000, seed, 0, 0);
		size_t messages;
		bool loaded;
		struct zone_build_stats st =
		    load_both_ways("gen.test", path, 2 + seed % 3, 1 + rnd(400), &messages, &loaded);
		ck_assert_msg(loaded, "seed %u", seed);
		ck_assert_uint_gt(st.chunks, 100);
	}
	unlink(path);
}
END_TEST

START_TEST(test_parallel_errors)
{
	/* Errors in many chunks, under the cap: every one reported, in order, at its line. One kind of
	 * error is a bad owner followed by an owner-less line, whose chunk the main thread parses again. */
	char path[128];
	tmp_path(path, sizeof(path), "perr");
	size_t redone = 0;
	for (unsigned seed = 1; seed <= 6; seed++) {
		gen_zone(path, 4000, seed * 7, 0, 25);
		size_t messages;
		bool loaded;
		struct zone_build_stats st =
		    load_both_ways("gen.test", path, 3, 300 + seed * 100, &messages, &loaded);
		ck_assert(!loaded);
		ck_assert_uint_ge(messages, 10);
		ck_assert_uint_gt(st.chunks, 10);
		redone += st.redone;
	}
	unlink(path);
	ck_assert_uint_gt(redone, 0);
}
END_TEST

START_TEST(test_parallel_error_cap)
{
	/* Far more errors than the cap, spread over the chunks: the same first 100, then "too many". */
	char path[128];
	tmp_path(path, sizeof(path), "pcap");
	gen_zone(path, 20000, 5, 0, 2000);
	size_t messages;
	bool loaded;
	struct diag d;
	struct zone_build_stats st = load_both_ways("gen.test", path, 2, 2048, &messages, &loaded);
	ck_assert(!loaded);
	ck_assert_uint_gt(st.chunks, 10);
	ck_assert_ptr_null(load("gen.test", path, &d));
	unlink(path);
	ck_assert_uint_eq(d.errors, 101);
	ck_assert_ptr_nonnull(strstr(d.entries[d.count - 1].text, "too many errors"));
	diag_free(&d);
}
END_TEST

START_TEST(test_parallel_wks)
{
	/* ldns parses WKS with getservbyname (not thread-safe): chunks holding one are parsed again by the
	 * main thread alone. */
	char path[128];
	tmp_path(path, sizeof(path), "pwks");
	gen_zone(path, 4000, 3, GEN_WKS, 0);
	size_t messages;
	bool loaded;
	struct zone_build_stats st = load_both_ways("gen.test", path, 2, 1024, &messages, &loaded);
	unlink(path);
	ck_assert(loaded);
	ck_assert_uint_gt(st.redone, 0);
	ck_assert_uint_lt(st.redone, st.chunks);
}
END_TEST

/* Writes text to a temporary zone file and loads it both ways with small chunks. */
static struct zone_build_stats load_text_both_ways(const char *what, const char *text, size_t chunk)
{
	char path[128];
	tmp_path(path, sizeof(path), what);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	size_t messages;
	bool loaded;
	struct zone_build_stats st = load_both_ways("gen.test", path, 2, chunk, &messages, &loaded);
	unlink(path);
	return st;
}

START_TEST(test_parallel_fallbacks)
{
	static const char head[] = "$ORIGIN gen.test.\n@ 300 SOA ns1 hostmaster 1 7200 900 1209600 60\n"
				   "@ 300 NS ns1\nns1 300 A 192.0.2.53\n";
	char text[8192];
	/* No $TTL: a record without a TTL takes the last one stated, which a chunk cannot know. */
	snprintf(text, sizeof(text), "%s", head);
	for (int i = 0; i < 100; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "h%d %sA 10.0.0.%d\n", i,
			 i % 3 ? "" : "60 ", i);
	ck_assert_uint_eq(load_text_both_ways("pnottl", text, 64).threads, 0);
	/* A $TTL after the start: cut only after it. */
	strcat(text, "$TTL 77\n");
	for (int i = 100; i < 150; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "h%d A 10.0.0.%d\n", i, i);
	struct zone_build_stats st = load_text_both_ways("plate", text, 64);
	ck_assert_uint_eq(st.threads, 2);
	ck_assert_uint_ge(st.chunks, 10);
	ck_assert_uint_le(st.chunks, 30);
	/* $INCLUDE anywhere: sequential. */
	strcat(text, "$INCLUDE /dev/null\n");
	ck_assert_uint_eq(load_text_both_ways("pinc", text, 64).threads, 0);
	/* A stray ')' makes ldns stop mid-line: not followed, sequential. */
	snprintf(text, sizeof(text), "%s$TTL 5\n", head);
	for (int i = 0; i < 100; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "h%d A 10.0.0.%d%s\n", i, i,
			 i == 50 ? " ) x" : "");
	ck_assert_uint_eq(load_text_both_ways("pstray", text, 64).threads, 0);
	/* ... where ldns goes on reading right after it, on the same line: so does the loader. */
	char path[128];
	tmp_path(path, sizeof(path), "pstray2");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	struct diag d;
	ck_assert_ptr_null(load("gen.test", path, &d));
	unlink(path);
	ck_assert(diag_has(&d, DIAG_ERROR, path, 56, "could not parse the RR's TTL: x"));
	ck_assert_uint_eq(d.errors, 1);
	diag_free(&d);
}
END_TEST

START_TEST(test_parallel_random_text)
{
	/* Random text built from the characters that matter to ldns's line reader: wherever the cuts
	 * fall, what ldns makes of it (errors and records) must not change. */
	static const char *const bits[] = {"a",		  "b.",	  " ",	  "\t",	   "\n",      "\n",
					   "(",		  ")",	  ";",	  "\"",	   "\\",      "\r\n",
					   "\f",	  "\v",	  " A ",  " TXT ", "1.2.3.4", "$TTL 9\n",
					   "$ORIGIN x\n", "\n@ ", "\nw ", " 5 ",   "\\\n",    "\"a;(\""};
	char path[128];
	tmp_path(path, sizeof(path), "prand");
	size_t cut = 0;
	for (unsigned seed = 1; seed <= 300; seed++) {
		rnd_state = seed;
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs("$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 60\n", f);
		for (int i = 0, n = 50 + (int)rnd(400), depth = 0; i < n; i++) {
			const char *bit = bits[rnd(sizeof(bits) / sizeof(bits[0]))];
			if (*bit == ')' && depth == 0)
				continue; /* mostly balanced: a stray ')' makes the load sequential */
			depth += *bit == '(' ? 1 : *bit == ')' ? -1 : 0;
			fputs(bit, f);
		}
		fclose(f);
		size_t messages;
		bool loaded;
		struct zone_build_stats st =
		    load_both_ways("gen.test", path, 2, 1 + rnd(64), &messages, &loaded);
		cut += st.chunks > 1;
	}
	unlink(path);
	ck_assert_uint_gt(cut, 100); /* most were really cut */
}
END_TEST

/* ---- reader.c against ldns itself: the same calls, lines, statuses and records ---- */

/* One call as ldns_rr_new_frm_fp_l makes it: where it starts, the line counter after, the status
 * and the record. */
struct ldns_call {
	long start;
	int line;
	ldns_status status;
	ldns_rr *rr;
};

static size_t ldns_calls(const char *text, size_t len, struct ldns_call *calls, size_t max)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	ck_assert_ptr_nonnull(fp);
	uint32_t ttl = 3600;
	ldns_rdf *origin = ldns_dname_new_frm_str("example.com."), *prev = NULL;
	int line = 0;
	size_t n = 0;
	while (!feof(fp) && n < max) {
		calls[n].start = ftell(fp);
		calls[n].rr = NULL;
		calls[n].status = ldns_rr_new_frm_fp_l(&calls[n].rr, fp, &ttl, &origin, &prev, &line);
		if (!origin)
			origin = ldns_dname_new_frm_str("example.com.");
		calls[n++].line = line;
	}
	fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return n;
}

static void assert_same_rr(const ldns_rr *a, const ldns_rr *b)
{
	ck_assert_int_eq(ldns_rdf_compare(ldns_rr_owner(a), ldns_rr_owner(b)), 0);
	ck_assert_uint_eq(ldns_rr_ttl(a), ldns_rr_ttl(b));
	ck_assert_int_eq(ldns_rr_compare(a, b), 0);
}

/* Compares the reader's calls of text with ldns's, up to the first one the reader calls odd. A '$'
 * line goes to ldns_rr_new_frm_fp_l, as the loader does, to keep the state alike. */
static size_t compare_reader(const char *text, size_t len, struct ldns_call *calls, size_t max)
{
	size_t n = ldns_calls(text, len, calls, max), i = 0, checked = 0;
	struct zb_input in;
	zone_build_input_init(&in, -1, text, len);
	struct zb_call c;
	uint32_t ttl = 3600;
	ldns_rdf *origin = ldns_dname_new_frm_str("example.com."), *prev = NULL;
	int line = 0;
	while (zone_build_input_next(&in, &c, true)) {
		if (c.odd)
			break;
		ck_assert_uint_lt(i, n);
		ck_assert_int_eq(c.offset, calls[i].start);
		line += c.newlines;
		ck_assert_int_eq(line, calls[i].line);
		ldns_rr *rr = NULL;
		ldns_status s;
		if (c.first == '$') {
			FILE *fp = fmemopen((void *)c.text, c.avail, "r");
			s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, NULL);
			ck_assert_int_eq(ftell(fp), c.len);
			fclose(fp);
			if (!origin)
				origin = ldns_dname_new_frm_str("example.com.");
		} else {
			s = *zone_build_strip(c.token) ? ldns_rr_new_frm_str(&rr, c.token, ttl, origin, &prev)
						       : LDNS_STATUS_SYNTAX_EMPTY;
		}
		ck_assert_msg(s == calls[i].status, "call %zu of \"%.*s\": %d, ldns %d", i, (int)len, text, s,
			      calls[i].status);
		if (s == LDNS_STATUS_OK)
			assert_same_rr(rr, calls[i].rr);
		ldns_rr_free(rr);
		i++;
		checked++;
	}
	ck_assert(i == n || c.odd);
	zone_build_input_free(&in);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	for (size_t k = 0; k < n; k++)
		ldns_rr_free(calls[k].rr);
	return checked;
}

START_TEST(test_reader_matches_ldns)
{
	static const char *const bits[] = {
	    "www",  " A ",	 " 1.2.3.4", "\n",	    " TXT ",	"\"a b\"", "\"x;y(\"", " MX 10 mail",
	    "\t",   " ",	 " 300 ",    " IN ",	    "@",	" ( ",	   " ) ",      "; c\n",
	    "\\\n", " AAAA ::1", "\r\n",     " NS ns.",	    "\\032",	"\\\"",	   "\n\n",     "a",
	    "(",    ")",	 ";",	     "\"",	    "\\",	"\f",	   "\v",       "\n$TTL 60\n",
	    "\\;",  "\\(",	 " CH ",     "2001:db8::1", " CNAME c", " 1h ",	   "\r",       "  \n"};
	static struct ldns_call calls[2048];
	char text[4096];
	size_t checked = 0;
	for (unsigned seed = 1; seed <= 3000; seed++) {
		rnd_state = seed;
		size_t len = 0, want = 1 + rnd(300);
		for (int depth = 0; len < want;) {
			const char *bit = bits[rnd(sizeof(bits) / sizeof(bits[0]))];
			size_t n = strlen(bit);
			bool open = !strcmp(bit, "(") || !strcmp(bit, " ( "),
			     close = !strcmp(bit, ")") || !strcmp(bit, " ) ");
			if (close && depth == 0 && rnd(16))
				continue; /* mostly balanced: the reader leaves a stray ')' to ldns */
			depth += open - (close && depth > 0);
			memcpy(text + len, bit, n);
			len += n;
		}
		checked += compare_reader(text, len, calls, sizeof(calls) / sizeof(calls[0]));
	}
	ck_assert_uint_gt(checked, 10000);
}
END_TEST

static Suite *zone_suite(void)
{
	Suite *s = suite_create("zone");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, ex_setup, ex_teardown);
	tcase_add_test(tc, test_load_counts);
	tcase_add_test(tc, test_load_origin_ttl_include);
	tcase_add_test(tc, test_load_rdata);
	tcase_add_test(tc, test_load_flags_links);
	tcase_add_test(tc, test_refcount);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_loop_test(tc, test_validation_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_ttl_mismatch_warns);
	tcase_add_test(tc, test_signed_zone_warns);
	tcase_add_test(tc, test_duplicates_dropped);
	tcase_add_test(tc, test_duplicates_large_rrset);
	tcase_add_test(tc, test_default_ttl);
	tcase_add_test(tc, test_error_cap);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, ex_setup, ex_teardown);
	tcase_add_test(tc, test_lookup_exact);
	tcase_add_test(tc, test_lookup_case_insensitive);
	tcase_add_test(tc, test_lookup_cname);
	tcase_add_test(tc, test_lookup_nodata);
	tcase_add_test(tc, test_lookup_empty_non_terminal);
	tcase_add_test(tc, test_lookup_wildcard);
	tcase_add_test(tc, test_lookup_wildcard_blocked);
	tcase_add_test(tc, test_lookup_wildcard_cname);
	tcase_add_test(tc, test_lookup_star_itself);
	tcase_add_test(tc, test_lookup_delegation);
	tcase_add_test(tc, test_lookup_ds_at_cut);
	tcase_add_test(tc, test_lookup_any_apex);
	tcase_add_test(tc, test_lookup_dname);
	tcase_add_test(tc, test_zone_set);
	tcase_add_test(tc, test_zone_set_nested);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_large_zone);
	suite_add_tcase(s, tc);

	tc = tcase_create("parallel");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_parallel_big);
	tcase_add_test(tc, test_parallel_tiny_chunks);
	tcase_add_test(tc, test_parallel_errors);
	tcase_add_test(tc, test_parallel_error_cap);
	tcase_add_test(tc, test_parallel_wks);
	tcase_add_test(tc, test_parallel_fallbacks);
	tcase_add_test(tc, test_parallel_random_text);
	tcase_add_test(tc, test_reader_matches_ldns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(zone_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
