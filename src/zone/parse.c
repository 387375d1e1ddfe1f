/* parse.c -- reading RFC 1035 master files with ldns into records and messages.
 *
 * ldns parses one RR at a time; each is turned into a compact record at once and freed, so memory
 * follows the zone's size, not ldns's object overhead. reader.c cuts the text into the calls
 * ldns_rr_new_frm_fp_l would make and hands each record's line token to ldns_rr_new_frm_str, which
 * is what ldns_rr_new_frm_fp_l does after its own (much slower) reading. Directives ('$' lines) and
 * the odd call reader.c does not follow go to ldns_rr_new_frm_fp_l itself, on a stream over the same
 * bytes. ldns reports $TTL and $ORIGIN as statuses and applies them itself; $INCLUDE it only
 * signals, and it reports neither the directive's text nor the line a record starts on (it counts
 * lines up to where it stopped reading, skipped comments and multi-line records included). For those
 * few cases we reread the text ldns consumed from where it started: cheap, because a plain one-line
 * record (the common case) needs no reread.
 *
 * The same parser serves sequential loading (records go straight into the build), the chunk threads
 * of parallel.c (records and messages go into the chunk's own item list, to be fed to the build in
 * file order by the main thread) and split.c's replay of directives (output dropped, state kept). */
#include "build.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#define ZB_TEXT_MAX 4096

/* A label no zone file is expected to hold: the owner of owner-less records until a chunk has seen
 * its first owner (a false match only costs a sequential reparse of the chunk). */
static const uint8_t zb_unknown_prev[] = "\x16\x00meridian-unknown-prev\x07invalid";

ldns_rdf *zone_build_unknown_prev(void)
{
	ldns_rdf *r = ldns_dname_new_frm_data(sizeof(zb_unknown_prev), zb_unknown_prev);
	if (!r)
		abort();
	return r;
}

bool zone_build_is_unknown_prev(const ldns_rdf *owner)
{
	return owner && ldns_rdf_size(owner) == sizeof(zb_unknown_prev) &&
	       memcmp(ldns_rdf_data(owner), zb_unknown_prev, sizeof(zb_unknown_prev)) == 0;
}

static void *zb_items_add(struct zb_items *it, size_t n)
{
	if (it->len + n > it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64 * 1024;
		while (cap < it->len + n)
			cap *= 2;
		it->data = realloc(it->data, cap);
		if (!it->data)
			abort();
		it->cap = cap;
	}
	void *p = it->data + it->len;
	it->len += n;
	return p;
}

/* Reports an error at line of the file being parsed, wherever the parser's output goes. The text is
 * formatted as zone_build_error would, so a chunk's messages read the same when fed later. */
static void zb_parse_error(struct zb_parser *p, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void zb_parse_error(struct zb_parser *p, unsigned long line, const char *fmt, ...)
{
	p->errors++;
	if (!p->b && !p->items)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->b) {
		zone_build_error(p->b, p->idx, line, "%s", msg);
		return;
	}
	size_t n = strlen(msg) + 1;
	struct zb_item h = {.line = (uint32_t)line, .len = (uint16_t)n, .kind = ZB_ITEM_ERROR};
	uint8_t *q = zb_items_add(p->items, sizeof(h) + n);
	memcpy(q, &h, sizeof(h));
	memcpy(q + sizeof(h), msg, n);
}

/* Rereads what ldns consumed from pos: skips blank and comment lines (returning how many) and copies
 * the first line with content into buf. The stream is left where ldns left it. */
static unsigned zb_reread(struct zb_parser *f, off_t pos, char *buf, size_t size)
{
	off_t end = ftello(f->fp);
	bool eof = feof(f->fp);
	unsigned skipped = 0;
	buf[0] = '\0';
	if (end >= 0 && fseeko(f->fp, pos, SEEK_SET) == 0) {
		for (;;) {
			size_t n = 0;
			int c;
			bool content = false, comment = false;
			while ((c = getc(f->fp)) != EOF && c != '\n') {
				if (!content && !comment && c == ';')
					comment = true;
				else if (!content && !comment && !isspace(c))
					content = true;
				if (n + 1 < size)
					buf[n++] = (char)c;
			}
			buf[n] = '\0';
			if (content || c == EOF)
				break;
			skipped++;
		}
		fseeko(f->fp, end, SEEK_SET);
		if (eof)
			(void)getc(f->fp); /* fseeko cleared the end-of-file flag */
	}
	return skipped;
}

/* Splits a directive line into the arguments after the directive itself, at most max (quotes group
 * a file name with blanks; ';' starts a comment). Returns how many were found. */
static int zb_args(char *text, char **argv, int max)
{
	int n = -1; /* the directive is token -1 */
	char *p = text;
	while (n < max) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == ';')
			break;
		char *start = p;
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			while (*p && !isspace((unsigned char)*p) && *p != ';')
				p++;
		}
		char c = *p;
		*p = '\0';
		if (n >= 0)
			argv[n] = start;
		n++;
		if (c == '\0' || c == ';')
			break;
		p++;
	}
	return n < 0 ? 0 : n;
}

static bool zb_text_absolute(const char *s)
{
	size_t n = strlen(s), bs = 0;
	if (n == 0 || s[n - 1] != '.')
		return false;
	while (bs + 1 < n && s[n - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

/* Parses a domain name argument of a directive: relative names are relative to base. */
static ldns_rdf *zb_dname_arg(const char *text, const ldns_rdf *base)
{
	if (strcmp(text, "@") == 0)
		return ldns_rdf_clone(base);
	ldns_rdf *r = ldns_dname_new_frm_str(text);
	if (!r || zb_text_absolute(text))
		return r;
	/* ldns made it absolute: drop its root label and append base. */
	uint8_t buf[512];
	size_t n = ldns_rdf_size(r) - 1, m = ldns_rdf_size(base);
	memcpy(buf, ldns_rdf_data(r), n);
	memcpy(buf + n, ldns_rdf_data(base), m);
	ldns_rdf_deep_free(r);
	return n + m > WIRE_NAME_MAX ? NULL : ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, n + m, buf);
}

static bool zb_meta_type(uint16_t type)
{
	return type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255);
}

static void zb_copy_rdata(uint8_t *q, const ldns_rr *rr)
{
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		memcpy(q, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		q += ldns_rdf_size(rdf);
	}
}

static void zb_emit_record(struct zb_parser *f, const ldns_rr *rr, const uint8_t *name, size_t len,
			   size_t rdlen, unsigned long line)
{
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	if (f->b) {
		zb_copy_rdata(zone_build_record(f->b, name, len, type, ldns_rr_ttl(rr), rdlen, f->idx, line),
			      rr);
	} else if (f->items) {
		struct zb_item h = {(uint32_t)line,  ldns_rr_ttl(rr), type,
				    (uint16_t)rdlen, ZB_ITEM_RECORD,  (uint8_t)len};
		uint8_t *q = zb_items_add(f->items, sizeof(h) + len + rdlen);
		memcpy(q, &h, sizeof(h));
		memcpy(q + sizeof(h), name, len);
		zb_copy_rdata(q + sizeof(h) + len, rr);
	}
}

/* Checks one parsed RR and hands it on, the owner lowercased. */
static void zb_add_rr(struct zb_parser *f, const ldns_rr *rr, unsigned long line)
{
	char tb[16], nb[1024];
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		char *cls = ldns_rr_class2str(ldns_rr_get_class(rr));
		zb_parse_error(f, line, "class %s is not supported (only IN)", cls ? cls : "?");
		free(cls);
		return;
	}
	if (zb_meta_type(type)) {
		zb_parse_error(f, line, "type %s cannot appear in a zone",
			       zone_type_name(type, tb, sizeof(tb)));
		return;
	}
	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t len = ldns_rdf_size(owner);
	uint8_t name[WIRE_NAME_MAX];
	if (len > WIRE_NAME_MAX || zb_name_length(ldns_rdf_data(owner), len) != len) {
		zb_parse_error(f, line, "bad owner name");
		return;
	}
	for (size_t i = 0; i < len; i++) /* length octets are below 'A': lowering them is harmless */
		name[i] = (uint8_t)tolower(ldns_rdf_data(owner)[i]);
	if (!zb_in_apex(&f->zone->apex, name, len)) {
		zb_parse_error(f, line, "%s is outside the zone %s",
			       zone_build_name_text(name, len, nb, sizeof(nb)), f->zone->name_text);
		return;
	}
	if (ldns_rr_ttl(rr) > INT32_MAX) {
		zb_parse_error(f, line,
			       "TTL %u is above 2147483647 (RFC 2181 8: resolvers would take it for 0)",
			       (unsigned)ldns_rr_ttl(rr));
		return;
	}
	size_t rdlen = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		rdlen += ldns_rdf_size(ldns_rr_rdf(rr, i));
	if (rdlen > UINT16_MAX) {
		zb_parse_error(f, line, "rdata longer than 65535 octets");
		return;
	}
	zb_emit_record(f, rr, name, len, rdlen, line);
}

static void zb_directive_origin(struct zb_parser *f, char *text, unsigned long line)
{
	char *argv[1];
	ldns_rdf *o = zb_args(text, argv, 1) == 1 ? zb_dname_arg(argv[0], f->saved) : NULL;
	ldns_rdf_deep_free(f->origin);
	if (!o) {
		zb_parse_error(f, line, "bad $ORIGIN");
		f->origin = ldns_rdf_clone(f->saved);
		return;
	}
	f->origin = o;
	ldns_rdf_deep_free(f->saved);
	f->saved = ldns_rdf_clone(o);
}

static void zb_directive_ttl(struct zb_parser *f, char *text, unsigned long line)
{
	char *argv[1];
	if (zb_args(text, argv, 1) != 1 || !isdigit((unsigned char)argv[0][0]))
		zb_parse_error(f, line, "bad $TTL");
	f->explicit_ttl = true;
}

/* $INCLUDE file [origin]: the file is relative to the including file's folder; the origin defaults
 * to the current one; neither $ORIGIN nor $TTL in the included file leak back (RFC 1035 5.1). */
static void zb_directive_include(struct zb_parser *f, char *text, unsigned long line)
{
	struct zb *b = f->b;
	char *argv[2];
	int argc = zb_args(text, argv, 2);
	if (argc < 1) {
		zone_build_error(b, f->idx, line, "$INCLUDE without a file name");
		return;
	}
	if (f->depth + 1 > ZB_INCLUDE_DEPTH) {
		zone_build_error(b, f->idx, line, "$INCLUDE nested more than %d deep", ZB_INCLUDE_DEPTH);
		return;
	}
	if (b->file_count >= UINT16_MAX) {
		zone_build_error(b, f->idx, line, "too many $INCLUDE files");
		return;
	}
	ldns_rdf *origin = argc > 1 ? zb_dname_arg(argv[1], f->saved) : ldns_rdf_clone(f->saved);
	if (!origin) {
		zone_build_error(b, f->idx, line, "bad origin '%s' in $INCLUDE", argv[1]);
		return;
	}
	char *path = NULL;
	const char *slash = strrchr(f->path, '/');
	int n = argv[0][0] == '/' || !slash
		    ? asprintf(&path, "%s", argv[0])
		    : asprintf(&path, "%.*s/%s", (int)(slash - f->path), f->path, argv[0]);
	if (n < 0)
		abort();
	struct zb_parser inc = {.b = b,
				.zone = f->zone,
				.path = path,
				.depth = f->depth + 1,
				.origin = origin,
				.ttl = f->ttl,
				.explicit_ttl = f->explicit_ttl};
	zone_build_stamp(b, path);
	inc.fp = fopen(path, "r");
	if (!inc.fp) {
		zone_build_error(b, f->idx, line, "cannot open $INCLUDE file %s: %s", path, strerror(errno));
		ldns_rdf_deep_free(origin);
	} else {
		zone_build_parse_file(&inc);
	}
	free(path);
}

/* The line a record or directive starts on: ldns only tells where it stopped. */
static unsigned long zb_start_line(struct zb_parser *f, off_t pos, int before, char *text, size_t size)
{
	if (f->line - before == 1 && !feof(f->fp) && !text)
		return (unsigned long)f->line;
	char buf[256];
	unsigned skipped = text ? zb_reread(f, pos, text, size) : zb_reread(f, pos, buf, sizeof(buf));
	return (unsigned long)before + 1 + skipped;
}

/* A record that took its owner from before the chunk: the chunk must be parsed again, sequentially. */
static bool zb_needs_redo(struct zb_parser *f, const ldns_rr *rr)
{
	if (!f->items || !zone_build_is_unknown_prev(ldns_rr_owner(rr)))
		return false;
	f->redo = true;
	return true;
}

static void zb_parse_step(struct zb_parser *f)
{
	char text[ZB_TEXT_MAX];
	off_t pos = ftello(f->fp);
	int before = f->line;
	ldns_rr *rr = NULL;
	ldns_status s = ldns_rr_new_frm_fp_l(&rr, f->fp, &f->ttl, &f->origin, &f->prev, &f->line);
	if (!f->origin) /* a bad $ORIGIN: ldns freed the old one */
		f->origin = ldns_rdf_clone(f->saved);
	if (s == LDNS_STATUS_SYNTAX_EMPTY)
		return;
	if (s == LDNS_STATUS_OK && zb_needs_redo(f, rr)) {
		ldns_rr_free(rr);
		return;
	}
	/* Directives and errors need their text; a record only its line. */
	unsigned long line = zb_start_line(f, pos, before, s == LDNS_STATUS_OK ? NULL : text, sizeof(text));
	switch (s) {
	case LDNS_STATUS_OK:
		zb_add_rr(f, rr, line);
		if (!f->explicit_ttl)
			f->ttl = ldns_rr_ttl(rr);
		ldns_rr_free(rr);
		break;
	case LDNS_STATUS_SYNTAX_TTL:
		zb_directive_ttl(f, text, line);
		break;
	case LDNS_STATUS_SYNTAX_ORIGIN:
		zb_directive_origin(f, text, line);
		break;
	case LDNS_STATUS_SYNTAX_INCLUDE:
		if (f->b)
			zb_directive_include(f, text, line);
		else
			f->redo = true; /* a chunk thread never opens files; split.c falls back */
		break;
	default:
		zb_parse_error(f, line, "%s: %.80s", ldns_get_errorstr_by_id(s), text);
		break;
	}
}

static bool zb_parse_more(struct zb_parser *f)
{
	if (f->redo)
		return false;
	if (f->b)
		return !f->b->gave_up;
	/* A chunk that reached the cap on its own has said all that will be shown. */
	return f->errors < ZB_MAX_ERRORS &&
	       !(f->cancel && atomic_load_explicit(f->cancel, memory_order_relaxed));
}

/* ldns_rr_new_frm_fp_l itself, on f->fp, to its end. */
static void zb_parse_stream(struct zb_parser *f)
{
	while (!feof(f->fp) && !ferror(f->fp) && zb_parse_more(f))
		zb_parse_step(f);
}

/* A call for ldns_rr_new_frm_fp_l: one step on a stream that starts with the call and holds what
 * follows it in the buffer, so ldns sees what it would see in the file. */
static void zb_parse_ldns_call(struct zb_parser *f, const struct zb_call *c, int before)
{
	FILE *fp = fmemopen((void *)c->text, c->avail, "r");
	if (!fp)
		abort();
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	FILE *file = f->fp;
	f->fp = fp;
	f->line = before;
	zb_parse_step(f);
	f->fp = file;
	fclose(fp);
	f->line = before + c->newlines;
}

void zone_build_parse_call(struct zb_parser *f, const struct zb_call *c)
{
	int before = f->line;
	if (c->first == '$') {
		zb_parse_ldns_call(f, c, before);
		return;
	}
	f->line = before + c->newlines;
	if (!*zone_build_strip(c->token))
		return; /* LDNS_STATUS_SYNTAX_EMPTY */
	ldns_rr *rr = NULL;
	ldns_status s = ldns_rr_new_frm_str(&rr, c->token, f->ttl, f->origin, &f->prev);
	if (s == LDNS_STATUS_OK && zb_needs_redo(f, rr)) {
		ldns_rr_free(rr);
		return;
	}
	if (s == LDNS_STATUS_OK) {
		unsigned long line = c->newlines == 1 && !c->at_end
					 ? (unsigned long)f->line
					 : zone_build_call_line(c, before, NULL, 0);
		zb_add_rr(f, rr, line);
		if (!f->explicit_ttl)
			f->ttl = ldns_rr_ttl(rr);
		ldns_rr_free(rr);
		return;
	}
	char text[ZB_TEXT_MAX];
	unsigned long line = zone_build_call_line(c, before, text, sizeof(text));
	zb_parse_error(f, line, "%s: %.80s", ldns_get_errorstr_by_id(s), text);
}

/* A call the reader does not follow: ldns reads the rest of the input itself, from the call on.
 * Only sequential loading does that; a chunk is parsed again by the main thread. */
static void zb_parse_odd(struct zb_parser *f, const struct zb_call *c)
{
	if (!f->b) {
		f->redo = true;
		return;
	}
	size_t start = f->in->pos - c->len;
	zone_build_input_rest(f->in);
	FILE *fp = fmemopen(f->in->buf + start, f->in->len - start, "r");
	if (!fp)
		abort();
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	FILE *file = f->fp;
	f->fp = fp;
	zb_parse_stream(f);
	f->fp = file;
	fclose(fp);
}

void zone_build_parse(struct zb_parser *f)
{
	struct zb_call c;
	while (zb_parse_more(f) && zone_build_input_next(f->in, &c, true)) {
		if (c.odd) {
			zb_parse_odd(f, &c);
			return;
		}
		zone_build_parse_call(f, &c);
	}
}

void zone_build_parse_file(struct zb_parser *f)
{
	f->idx = zone_build_add_file(f->b, f->path);
	f->saved = ldns_rdf_clone(f->origin);
	if (!f->saved)
		abort();
	struct zb_input in;
	zone_build_input_init(&in, fileno(f->fp), NULL, 0);
	f->in = &in;
	zone_build_parse(f);
	if (in.failed)
		zone_build_error(f->b, f->idx, 0, "read error");
	zone_build_input_free(&in);
	fclose(f->fp);
	ldns_rdf_deep_free(f->origin);
	ldns_rdf_deep_free(f->saved);
	ldns_rdf_deep_free(f->prev);
}
