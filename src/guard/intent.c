/* intent.c -- intent files: what must always resolve, read with ldns (see intent.h).
 *
 * The file is read whole, then parsed from a memory stream with ldns_rr_new_frm_fp_l, one call per
 * record or directive: ldns applies $ORIGIN and $TTL and signals $INCLUDE. ldns only tells where a
 * call stopped (its line counter includes the blank and comment lines it skipped first), so the line
 * of each record is found in the text itself: the first line at or after the call's start that holds
 * something besides blanks and comments. Records are collected in file order, then sorted by owner
 * (RFC 4034 6.1), type and value (RFC 4034 6.3) to group RRsets and drop values listed twice.
 *
 * Values are compared in canonical form. ldns decides which rdata fields are names and which types
 * lowercase them (ldns_rr2canonical), both for the text of the file and for the wire rdata callers
 * hand over, so the two always agree. */
#include "meridian/intent.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/file.h"
#include "meridian/wire.h"

#define INTENT_FILE_MAX (64u << 20)
#define INTENT_TEXT_MAX 80 /* characters of a line quoted in a message */

/* One record as read, before grouping. Owner and rdata live in the intent's arena. */
struct intent_rec {
	const uint8_t *owner;
	size_t owner_len;
	const uint8_t *rdata;
	uint16_t rdlen;
	uint16_t type;
	unsigned line;
	unsigned dup_of; /* the line of the same value listed earlier, 0 when it is the first */
};

struct intent_reader {
	struct intent *in;
	struct diag *d;
	const char *path;
	const char *text; /* the whole file */
	size_t len;
	FILE *fp;			 /* a stream over text, for ldns */
	ldns_rdf *origin, *saved, *prev; /* saved: the origin before a directive, to restore or extend */
	uint32_t ttl;
	int ldns_line;
	size_t scan;	    /* text[scan] starts line scan_line */
	unsigned scan_line; /* (lines are counted forward only, as the calls advance) */
	struct intent_rec *recs;
	size_t count, cap;
	size_t errors;
};

static int intent_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Offsets of the labels of name (the root label left out); returns how many. */
static size_t intent_labels(const uint8_t *name, size_t len, uint8_t *at)
{
	size_t n = 0;
	for (size_t i = 0; i < len && name[i] != 0 && n < WIRE_LABELS_MAX; i += 1u + name[i])
		at[n++] = (uint8_t)i;
	return n;
}

/* RFC 4034 6.1: names compare label by label from the root, each label as a lowercase octet string
 * where a label that is a prefix of the other sorts first; a name sorts before the names below it. */
static int intent_name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t la[WIRE_LABELS_MAX], lb[WIRE_LABELS_MAX];
	size_t na = intent_labels(a, alen, la), nb = intent_labels(b, blen, lb);
	while (na > 0 && nb > 0) {
		const uint8_t *x = a + la[--na], *y = b + lb[--nb];
		size_t n = x[0] < y[0] ? x[0] : y[0];
		for (size_t i = 1; i <= n; i++) {
			int c = intent_lower(x[i]) - intent_lower(y[i]);
			if (c)
				return c;
		}
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na == nb ? 0 : na < nb ? -1 : 1;
}

/* RFC 4034 6.3: rdata as left-justified octet strings, a missing octet before any octet. */
static int intent_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c || alen == blen)
		return c;
	return alen < blen ? -1 : 1;
}

/* The rdata of rr in wire form, without the length, in a buffer the caller frees (NULL: no memory). */
static ldns_buffer *intent_rr_wire(const ldns_rr *rr)
{
	ldns_buffer *b = ldns_buffer_new(256);
	if (b && ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK) {
		ldns_buffer_free(b);
		return NULL;
	}
	return b;
}

/* --- loading ------------------------------------------------------------------------------------ */

/* The start of the first line at or after p that holds more than blanks and a comment. */
static size_t intent_content(const struct intent_reader *r, size_t p)
{
	while (p < r->len) {
		size_t e = p;
		while (e < r->len && r->text[e] != '\n' && isspace((unsigned char)r->text[e]))
			e++;
		if (e < r->len && r->text[e] != '\n' && r->text[e] != ';')
			return p;
		const char *nl = memchr(r->text + e, '\n', r->len - e);
		if (!nl)
			return r->len;
		p = (size_t)(nl - r->text) + 1;
	}
	return r->len;
}

/* The line number of text[p] (p never goes back between calls). */
static unsigned intent_line_at(struct intent_reader *r, size_t p)
{
	for (; r->scan < p; r->scan++)
		r->scan_line += r->text[r->scan] == '\n';
	return r->scan_line;
}

/* The line starting at text[p], without its end, for messages: a pointer and a length. */
static int intent_line_text(const struct intent_reader *r, size_t p, const char **s)
{
	size_t e = p;
	while (e < r->len && r->text[e] != '\n' && r->text[e] != '\r' && e - p < INTENT_TEXT_MAX)
		e++;
	*s = r->text + p;
	return (int)(e - p);
}

static void intent_error(struct intent_reader *r, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void intent_error(struct intent_reader *r, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(r->d, r->path, line, "%s", msg);
	r->errors++;
}

static const char *intent_name_text(const uint8_t *name, size_t len, char *buf, size_t size)
{
	if (!wire_name_to_text(name, len, buf, size))
		snprintf(buf, size, "(bad name)");
	return buf;
}

static bool intent_meta_type(uint16_t type)
{
	return type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255);
}

/* Why a parsed record cannot be part of an intent (written to why), or NULL when it can. */
static const char *intent_refuse(const struct intent_reader *r, const ldns_rr *rr, char *why, size_t size)
{
	char tb[32], nb[1024], ab[1024];
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	const ldns_rdf *owner = ldns_rr_owner(rr);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		char *cls = ldns_rr_class2str(ldns_rr_get_class(rr));
		snprintf(why, size, "class %s is not allowed (only IN)", cls ? cls : "?");
		free(cls);
	} else if (type == LDNS_RR_TYPE_SOA) {
		snprintf(why, size, "SOA cannot be an intent (its serial changes with every edit)");
	} else if (intent_meta_type(type)) {
		snprintf(why, size, "type %s cannot be guarded", intent_type_name(type, tb, sizeof(tb)));
	} else if (!wire_name_within(ldns_rdf_data(owner), ldns_rdf_size(owner), r->in->apex,
				     r->in->apex_len)) {
		snprintf(why, size, "%s is outside the zone %s",
			 intent_name_text(ldns_rdf_data(owner), ldns_rdf_size(owner), nb, sizeof(nb)),
			 intent_name_text(r->in->apex, r->in->apex_len, ab, sizeof(ab)));
	} else {
		return NULL;
	}
	return why;
}

static void intent_push(struct intent_reader *r, struct intent_rec rec)
{
	if (r->count == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->recs = realloc(r->recs, r->cap * sizeof(*r->recs));
		if (!r->recs)
			abort();
	}
	r->recs[r->count++] = rec;
}

/* Checks a parsed record and keeps it, owner and rdata in canonical form. */
static void intent_add_rr(struct intent_reader *r, ldns_rr *rr, unsigned line)
{
	char why[2200];
	ldns_rr2canonical(rr); /* the owner and, for the types that list names, the names in the rdata */
	if (intent_refuse(r, rr, why, sizeof(why))) {
		intent_error(r, line, "%s", why);
		return;
	}
	ldns_buffer *b = intent_rr_wire(rr);
	if (!b) {
		intent_error(r, line, "out of memory");
		return;
	}
	if (ldns_buffer_position(b) > UINT16_MAX) {
		intent_error(r, line, "rdata longer than 65535 octets");
	} else {
		const ldns_rdf *owner = ldns_rr_owner(rr);
		struct arena *a = &r->in->arena;
		intent_push(r, (struct intent_rec){
				   .owner = arena_memdup(a, ldns_rdf_data(owner), ldns_rdf_size(owner)),
				   .owner_len = ldns_rdf_size(owner),
				   .rdata = arena_memdup(a, ldns_buffer_begin(b), ldns_buffer_position(b)),
				   .rdlen = (uint16_t)ldns_buffer_position(b),
				   .type = (uint16_t)ldns_rr_get_type(rr),
				   .line = line,
			       });
	}
	ldns_buffer_free(b);
}

/* Whether the name text (up to n characters) ends with a dot that is not escaped. */
static bool intent_text_absolute(const char *s, size_t n)
{
	size_t bs = 0;
	if (n == 0 || s[n - 1] != '.')
		return false;
	while (bs + 1 < n && s[n - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

/* $ORIGIN at text[p], which ldns has applied: ldns makes a relative name absolute below the root,
 * where RFC 1035 (and the zone loader) put it below the current origin. */
static void intent_origin(struct intent_reader *r, size_t p)
{
	const char *s = r->text + p, *end = r->text + r->len;
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (s < end && !isspace((unsigned char)*s)) /* the directive */
		s++;
	while (s < end && *s != '\n' && isspace((unsigned char)*s))
		s++;
	const char *arg = s;
	while (s < end && !isspace((unsigned char)*s) && *s != ';')
		s++;
	if (s - arg == 1 && *arg == '@') { /* the current origin, as the zone loader reads it */
		ldns_rdf_deep_free(r->origin);
		r->origin = ldns_rdf_clone(r->saved);
	} else if (!intent_text_absolute(arg, (size_t)(s - arg)) &&
		   ldns_dname_cat(r->origin, r->saved) != LDNS_STATUS_OK) {
		intent_error(r, intent_line_at(r, p), "bad $ORIGIN: %.*s", (int)(s - arg), arg);
		ldns_rdf_deep_free(r->origin);
		r->origin = ldns_rdf_clone(r->saved);
		return;
	}
	ldns_rdf_deep_free(r->saved);
	r->saved = ldns_rdf_clone(r->origin);
}

/* One ldns call: a record, a directive, an empty stretch or an error. */
static void intent_step(struct intent_reader *r)
{
	off_t pos = ftello(r->fp);
	ldns_rr *rr = NULL;
	ldns_status s = ldns_rr_new_frm_fp_l(&rr, r->fp, &r->ttl, &r->origin, &r->prev, &r->ldns_line);
	if (s == LDNS_STATUS_SYNTAX_EMPTY || pos < 0) {
		ldns_rr_free(rr);
		return;
	}
	size_t p = intent_content(r, (size_t)pos);
	unsigned line = intent_line_at(r, p);
	const char *text;
	int n = intent_line_text(r, p, &text);
	if (!r->origin) { /* a bad $ORIGIN: ldns freed the origin and reported a syntax error */
		r->origin = ldns_rdf_clone(r->saved);
		intent_error(r, line, "bad $ORIGIN: %.*s", n, text);
	} else if (s == LDNS_STATUS_OK) {
		intent_add_rr(r, rr, line);
	} else if (s == LDNS_STATUS_SYNTAX_ORIGIN) {
		intent_origin(r, p);
	} else if (s == LDNS_STATUS_SYNTAX_INCLUDE) {
		intent_error(r, line, "$INCLUDE is not allowed: an intent is one file");
	} else if (s != LDNS_STATUS_SYNTAX_TTL) {
		intent_error(r, line, "%s: %.*s", ldns_get_errorstr_by_id(s), n, text);
	}
	ldns_rr_free(rr);
}

static void intent_parse(struct intent_reader *r)
{
	r->fp = fmemopen((void *)r->text, r->len, "r");
	if (!r->fp)
		abort();
	r->origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, r->in->apex_len, r->in->apex);
	r->saved = ldns_rdf_clone(r->origin);
	if (!r->origin || !r->saved)
		abort();
	r->ttl = 3600;
	r->scan_line = 1;
	while (!feof(r->fp) && !ferror(r->fp))
		intent_step(r);
	fclose(r->fp);
	ldns_rdf_deep_free(r->origin);
	ldns_rdf_deep_free(r->saved);
	ldns_rdf_deep_free(r->prev);
}

/* --- grouping ----------------------------------------------------------------------------------- */

static int intent_rec_key_cmp(const struct intent_rec *a, const struct intent_rec *b)
{
	int c = intent_name_cmp(a->owner, a->owner_len, b->owner, b->owner_len);
	if (c)
		return c;
	return a->type == b->type ? 0 : a->type < b->type ? -1 : 1;
}

static int intent_rec_cmp(const void *pa, const void *pb)
{
	const struct intent_rec *a = *(const struct intent_rec *const *)pa;
	const struct intent_rec *b = *(const struct intent_rec *const *)pb;
	int c = intent_rec_key_cmp(a, b);
	if (!c)
		c = intent_rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
	if (!c)
		c = a->line == b->line ? 0 : a->line < b->line ? -1 : 1;
	return c;
}

/* Sorts the records (pointers in by), marks values listed twice and returns how many RRsets. */
static size_t intent_sort(struct intent_reader *r, struct intent_rec **by)
{
	size_t sets = 0;
	for (size_t i = 0; i < r->count; i++)
		by[i] = &r->recs[i];
	qsort(by, r->count, sizeof(*by), intent_rec_cmp);
	for (size_t i = 0; i < r->count; i++) {
		if (i == 0 || intent_rec_key_cmp(by[i - 1], by[i]) != 0)
			sets++;
		else if (intent_rdata_cmp(by[i - 1]->rdata, by[i - 1]->rdlen, by[i]->rdata, by[i]->rdlen) ==
			 0)
			by[i]->dup_of = by[i - 1]->dup_of ? by[i - 1]->dup_of : by[i - 1]->line;
	}
	return sets;
}

/* Warnings for the values listed twice, in file order. */
static void intent_warn_duplicates(struct intent_reader *r)
{
	char nb[1024], tb[32], vb[256];
	for (size_t i = 0; i < r->count; i++) {
		const struct intent_rec *rec = &r->recs[i];
		if (!rec->dup_of)
			continue;
		intent_rdata_text(rec->type, rec->rdata, rec->rdlen, vb, sizeof(vb));
		diag_warn(r->d, r->path, rec->line, "%s %s %s is listed twice (first on line %u): kept once",
			  intent_name_text(rec->owner, rec->owner_len, nb, sizeof(nb)),
			  intent_type_name(rec->type, tb, sizeof(tb)), vb, rec->dup_of);
	}
}

/* Fills s from the n sorted records at by (one owner and type), skipping repeated values. */
static void intent_fill_rrset(struct intent *in, struct intent_rrset *s, struct intent_rec *const *by,
			      size_t n)
{
	char nb[1024];
	const uint8_t **values = arena_alloc(&in->arena, n * sizeof(*values));
	uint16_t *lengths = arena_alloc(&in->arena, n * sizeof(*lengths));
	*s = (struct intent_rrset){
	    .owner = by[0]->owner,
	    .owner_len = by[0]->owner_len,
	    .name =
		arena_strdup(&in->arena, intent_name_text(by[0]->owner, by[0]->owner_len, nb, sizeof(nb))),
	    .type = by[0]->type,
	    .values = values,
	    .lengths = lengths,
	    .line = by[0]->line};
	for (size_t i = 0; i < n; i++) {
		if (by[i]->line < s->line)
			s->line = by[i]->line;
		if (by[i]->dup_of)
			continue;
		values[s->count] = by[i]->rdata;
		lengths[s->count] = by[i]->rdlen;
		s->count++;
	}
}

static void intent_group(struct intent_reader *r)
{
	struct intent *in = r->in;
	struct intent_rec **by = malloc((r->count ? r->count : 1) * sizeof(*by));
	if (!by)
		abort();
	in->count = intent_sort(r, by);
	intent_warn_duplicates(r);
	in->rrsets = arena_alloc(&in->arena, (in->count ? in->count : 1) * sizeof(*in->rrsets));
	size_t set = 0;
	for (size_t i = 0, j; i < r->count; i = j) {
		for (j = i + 1; j < r->count && intent_rec_key_cmp(by[i], by[j]) == 0; j++)
			;
		intent_fill_rrset(in, &in->rrsets[set++], by + i, j - i);
	}
	free(by);
}

/* --- the intent ---------------------------------------------------------------------------------- */

/* A new intent for the zone origin (presentation form), in its own arena; NULL when origin is bad. */
static struct intent *intent_new(const char *origin, const char *path)
{
	ldns_rdf *apex = ldns_dname_new_frm_str(origin);
	if (!apex)
		return NULL;
	ldns_dname2canonical(apex);
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct intent *in = arena_alloc(&a, sizeof(*in));
	memset(in, 0, sizeof(*in));
	in->arena = a; /* from here on allocate from in->arena */
	in->file = arena_strdup(&in->arena, path);
	in->apex = arena_memdup(&in->arena, ldns_rdf_data(apex), ldns_rdf_size(apex));
	in->apex_len = ldns_rdf_size(apex);
	ldns_rdf_deep_free(apex);
	return in;
}

struct intent *intent_load(const char *origin, const char *path, struct diag *d)
{
	struct intent *in = intent_new(origin, path);
	if (!in) {
		diag_error(d, path, 0, "bad zone name %s", origin);
		return NULL;
	}
	struct intent_reader r = {.in = in, .d = d, .path = path};
	char *text = file_read_all(path, INTENT_FILE_MAX, &r.len, d);
	r.text = text;
	if (!text)
		r.errors++;
	else if (r.len > 0)
		intent_parse(&r);
	intent_group(&r);
	if (text && !r.errors && in->count == 0)
		intent_error(&r, 0, "no records: an empty intent guards nothing");
	free(text);
	free(r.recs);
	if (r.errors) {
		intent_free(in);
		return NULL;
	}
	return in;
}

void intent_free(struct intent *in)
{
	if (!in)
		return;
	struct arena a = in->arena;
	arena_free(&a);
}

const struct intent_rrset *intent_find(const struct intent *in, const uint8_t *owner, size_t owner_len,
				       uint16_t type)
{
	size_t lo = 0, hi = in ? in->count : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct intent_rrset *s = &in->rrsets[mid];
		int c = intent_name_cmp(s->owner, s->owner_len, owner, owner_len);
		if (!c)
			c = s->type == type ? 0 : s->type < type ? -1 : 1;
		if (!c)
			return s;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool intent_allows(const struct intent_rrset *s, const uint8_t *rdata, size_t len)
{
	for (size_t i = 0; s && i < s->count; i++)
		if (s->lengths[i] == len && memcmp(s->values[i], rdata, len) == 0)
			return true;
	return false;
}

bool intent_same_values(const struct intent_rrset *a, const struct intent_rrset *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) /* values are listed once: a within b and as many is equal */
		if (!intent_allows(b, a->values[i], a->lengths[i]))
			return false;
	return true;
}

/* --- rdata --------------------------------------------------------------------------------------- */

/* rdata of type as an ldns_rr (owner the root), or NULL when it is not exactly len bytes of that
 * type: a field running past the end, bytes left over, fields missing, or a compressed name. */
static ldns_rr *intent_rr_from_wire(uint16_t type, const uint8_t *rdata, size_t len)
{
	if (len > UINT16_MAX)
		return NULL;
	uint8_t *wire = malloc(len + 2); /* ldns_wire2rdf reads the length first */
	ldns_rr *rr = ldns_rr_new();	 /* (ldns_rr_new_frm_type would add empty fields to push after) */
	ldns_rdf *root = ldns_dname_new_frm_str(".");
	if (!wire || !rr || !root)
		abort();
	wire[0] = (uint8_t)(len >> 8);
	wire[1] = (uint8_t)len;
	memcpy(wire + 2, rdata, len);
	ldns_rr_set_owner(rr, root);
	ldns_rr_set_type(rr, type);
	size_t pos = 0, size = 0;
	ldns_status s = ldns_wire2rdf(rr, wire, len + 2, &pos);
	free(wire);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		size += ldns_rdf_size(ldns_rr_rdf(rr, i));
	/* a compression pointer is consumed as 2 bytes but expands: the sizes then differ */
	if (s != LDNS_STATUS_OK || pos != len + 2 || size != len ||
	    ldns_rr_rd_count(rr) < ldns_rr_descriptor_minimum(ldns_rr_descript(type))) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

void intent_canonical_rdata(uint16_t type, const uint8_t *rdata, size_t len, uint8_t *out)
{
	ldns_rr *rr = intent_rr_from_wire(type, rdata, len);
	ldns_buffer *b = NULL;
	if (rr) {
		ldns_rr2canonical(rr);
		b = intent_rr_wire(rr);
	}
	if (b && ldns_buffer_position(b) == len)
		memcpy(out, ldns_buffer_begin(b), len);
	else
		memmove(out, rdata, len);
	ldns_buffer_free(b);
	ldns_rr_free(rr);
}

/* RFC 3597 generic form, for rdata ldns cannot read as its type. */
static void intent_rdata_generic(const uint8_t *rdata, size_t len, char *buf, size_t size)
{
	size_t at = (size_t)snprintf(buf, size, "\\# %zu%s", len, len ? " " : "");
	for (size_t i = 0; i < len && at + 2 < size; i++, at += 2)
		snprintf(buf + at, size - at, "%02x", rdata[i]);
}

void intent_rdata_text(uint16_t type, const uint8_t *rdata, size_t len, char *buf, size_t size)
{
	if (size == 0)
		return;
	ldns_rr *rr = intent_rr_from_wire(type, rdata, len);
	ldns_buffer *b = rr ? ldns_buffer_new(256) : NULL;
	bool ok = b != NULL;
	for (size_t i = 0; ok && i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_printf(b, " ");
		ok = ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i)) == LDNS_STATUS_OK;
	}
	if (ok) {
		size_t n = ldns_buffer_position(b) < size - 1 ? ldns_buffer_position(b) : size - 1;
		memcpy(buf, ldns_buffer_begin(b), n);
		buf[n] = '\0';
	} else {
		intent_rdata_generic(rdata, len, buf, size);
	}
	ldns_buffer_free(b);
	ldns_rr_free(rr);
}

const char *intent_type_name(uint16_t type, char *buf, size_t size)
{
	char *s = ldns_rr_type2str((ldns_rr_type)type); /* "TYPE65534" for the types ldns does not know */
	if (s)
		snprintf(buf, size, "%s", s);
	else
		snprintf(buf, size, "TYPE%u", type);
	free(s);
	return buf;
}
