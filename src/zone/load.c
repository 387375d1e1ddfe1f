/* load.c -- zone_load: streams RFC 1035 master files through ldns into the build representation.
 *
 * ldns parses one RR at a time (ldns_rr_new_frm_fp_l); each is turned into a compact zb_rec at once
 * and freed, so memory follows the zone's size, not ldns's object overhead. ldns reports $TTL and
 * $ORIGIN as statuses and applies them itself; $INCLUDE it only signals, and it reports neither the
 * directive's text nor the line a record starts on (it counts lines up to where it stopped reading,
 * skipped comments and multi-line records included). For those few cases we reread the text ldns
 * consumed from the offset it started at, then seek back: cheap, because a plain one-line record
 * (the common case) needs no reread. */
#include "build.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ldns/ldns.h>

#define ZB_DEFAULT_TTL	3600
#define ZB_MAX_WARNINGS 100
#define ZB_TEXT_MAX	4096

/* One master file being read; an $INCLUDE reads the included file with a new one. */
struct zb_file {
	struct zb *b;
	FILE *fp;
	const char *path;
	uint32_t idx; /* in b->files */
	int depth;
	ldns_rdf *origin;  /* handed to ldns, which replaces it on $ORIGIN */
	ldns_rdf *saved;   /* the origin in force: ldns frees its own before parsing a new $ORIGIN */
	ldns_rdf *prev;	   /* owner of the previous record, for lines starting with a blank */
	uint32_t ttl;	   /* default TTL */
	bool explicit_ttl; /* $TTL seen (RFC 2308); before that, the last TTL stated (RFC 1035 5.1) */
	int line;
};

static void *zb_grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t cap2 = *cap ? *cap * 2 : 64;
	while (cap2 < need)
		cap2 *= 2;
	p = realloc(p, cap2 * elem);
	if (!p)
		abort();
	*cap = cap2;
	return p;
}

static void zb_vadd(struct zb *b, enum diag_level level, uint32_t file, unsigned long line, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	const char *path = file == ZB_NONE ? b->zone->file : b->files[file];
	diag_add(b->d, level, path, line, "%s", msg);
}

void zone_build_error(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
{
	if (b->gave_up)
		return;
	va_list ap;
	va_start(ap, fmt);
	zb_vadd(b, DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
	if (++b->errors >= ZB_MAX_ERRORS) {
		diag_error(b->d, b->zone->file, 0, "too many errors (%d), giving up", ZB_MAX_ERRORS);
		b->gave_up = true;
	}
}

void zone_build_warn(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
{
	static const char more[] = "more warnings not shown";
	if (b->warnings > ZB_MAX_WARNINGS)
		return;
	if (++b->warnings > ZB_MAX_WARNINGS) {
		diag_warn(b->d, b->zone->file, 0, "%s", more);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	zb_vadd(b, DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

const char *zone_build_type_name(uint16_t type, char *buf, size_t size)
{
	const ldns_rr_descriptor *desc = ldns_rr_descript(type);
	if (type != 0 && desc && desc->_name && desc->_type == type)
		return desc->_name;
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}

const char *zone_build_name_text(const uint8_t *name, size_t len, char *buf, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && name[i] && n + 6 < size; i += 1 + name[i]) {
		for (size_t j = 1; j <= name[i] && i + j < len && n + 6 < size; j++) {
			uint8_t c = name[i + j];
			if (c <= ' ' || c >= 0x7f)
				n += (size_t)snprintf(buf + n, size - n, "\\%03u", c);
			else if (strchr(".\\\"();@$", c))
				n += (size_t)snprintf(buf + n, size - n, "\\%c", c);
			else
				buf[n++] = (char)c;
		}
		buf[n++] = '.';
	}
	if (n == 0 && size > 1)
		buf[n++] = '.';
	buf[n < size ? n : size - 1] = '\0';
	return buf;
}

uint8_t *zone_build_bytes(struct zb *b, size_t n)
{
	if (n > b->bump_left) {
		/* Slabs grow with the zone: a small zone stays small, a big one makes few blocks. */
		size_t slab = b->zone->arena.total / 8;
		slab = slab < 4096 ? 4096 : slab > (1u << 20) ? (1u << 20) : slab;
		if (slab < n)
			slab = n;
		b->bump = arena_alloc(&b->zone->arena, slab);
		b->bump_left = slab;
	}
	uint8_t *p = b->bump;
	b->bump += n;
	b->bump_left -= n;
	return p;
}

/* Slots hold the hash above bit 32 and id + 1 below, so probing rarely touches the names. */
static uint32_t zb_find_hashed(const struct zb *b, const uint8_t *name, size_t len, uint32_t h)
{
	for (uint32_t i = h & b->index_mask;; i = (i + 1) & b->index_mask) {
		uint64_t v = b->index[i];
		if (v == 0)
			return ZB_NONE;
		if ((uint32_t)(v >> 32) != h)
			continue;
		const struct zb_name *n = &b->names[(uint32_t)v - 1];
		if (n->len == len && memcmp(n->name, name, len) == 0)
			return (uint32_t)v - 1;
	}
}

uint32_t zone_build_find(const struct zb *b, const uint8_t *name, size_t len)
{
	return zb_find_hashed(b, name, len, zone_name_hash(name, len));
}

uint32_t zone_build_closest(const struct zb *b, const uint8_t *name, size_t len)
{
	for (size_t off = 0; off < len; off += 1 + (size_t)name[off]) {
		uint32_t id = zone_build_find(b, name + off, len - off);
		if (id != ZB_NONE || name[off] == 0)
			return id;
	}
	return ZB_NONE;
}

bool zone_build_in_zone(const struct zb *b, const uint8_t *name, size_t len)
{
	const struct wire_name *apex = &b->zone->apex;
	if (len < apex->len)
		return false;
	size_t off = 0;
	while (off < len - apex->len && name[off])
		off += 1 + (size_t)name[off];
	return off == len - apex->len && memcmp(name + off, apex->data, apex->len) == 0;
}

static void zb_index_put(struct zb *b, uint32_t id)
{
	uint32_t i = b->names[id].hash & b->index_mask;
	while (b->index[i])
		i = (i + 1) & b->index_mask;
	b->index[i] = (uint64_t)b->names[id].hash << 32 | (id + 1);
}

/* Keeps the intern table at most half full. */
static void zb_index_reserve(struct zb *b, size_t count)
{
	size_t slots = (size_t)b->index_mask + 1;
	if (b->index && count * 2 <= slots)
		return;
	while (slots < count * 2)
		slots *= 2;
	free(b->index);
	b->index = calloc(slots, sizeof(*b->index));
	if (!b->index)
		abort();
	b->index_mask = (uint32_t)(slots - 1);
	for (size_t id = 0; id < b->name_count; id++)
		zb_index_put(b, (uint32_t)id);
}

static uint32_t zb_add_name(struct zb *b, const uint8_t *name, size_t len, size_t labels, uint32_t parent,
			    uint32_t h)
{
	b->names = zb_grow(b->names, &b->name_cap, b->name_count + 1, sizeof(*b->names));
	zb_index_reserve(b, b->name_count + 1);
	uint32_t id = (uint32_t)b->name_count++;
	b->names[id] = (struct zb_name){name, h, parent, 0, (uint8_t)len, (uint8_t)labels, 0};
	zb_index_put(b, id);
	return id;
}

/* Adds a new owner name, creating its missing ancestors (empty non-terminals) first, so every parent
 * has a lower id than its children. The ancestors' names point into the new name's bytes. */
static uint32_t zb_insert(struct zb *b, const uint8_t *name, size_t len, uint32_t h)
{
	size_t offs[WIRE_LABELS_MAX + 1], n = 0;
	for (size_t o = 0; name[o]; o += 1 + (size_t)name[o])
		offs[n++] = o;
	offs[n] = len - 1;
	uint8_t *copy = zone_build_bytes(b, len);
	memcpy(copy, name, len);

	/* The owner is inside the zone, so the walk stops at the apex at the latest. */
	size_t k = 1;
	uint32_t parent;
	while ((parent = zone_build_find(b, copy + offs[k], len - offs[k])) == ZB_NONE)
		k++;
	while (--k > 0) {
		const uint8_t *s = copy + offs[k];
		parent =
		    zb_add_name(b, s, len - offs[k], n + 1 - k, parent, zone_name_hash(s, len - offs[k]));
	}
	return zb_add_name(b, copy, len, n + 1, parent, h);
}

static uint32_t zb_intern(struct zb *b, const uint8_t *name, size_t len)
{
	const struct zb_name *last = &b->names[b->last_name];
	if (last->len == len && memcmp(last->name, name, len) == 0)
		return b->last_name;
	uint32_t h = zone_name_hash(name, len);
	uint32_t id = zb_find_hashed(b, name, len, h);
	if (id == ZB_NONE)
		id = zb_insert(b, name, len, h);
	b->last_name = id;
	return id;
}

/* Rereads what ldns consumed from pos: skips blank and comment lines (returning how many) and copies
 * the first line with content into buf. The stream is left where ldns left it. */
static unsigned zb_reread(struct zb_file *f, off_t pos, char *buf, size_t size)
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

static void zb_add_file(struct zb_file *f, const char *path)
{
	struct zb *b = f->b;
	b->files = zb_grow(b->files, &b->file_cap, b->file_count + 1, sizeof(*b->files));
	b->files[b->file_count] = strdup(path);
	if (!b->files[b->file_count])
		abort();
	f->idx = (uint32_t)b->file_count++;
}

static void zb_parse_file(struct zb_file *f);

static bool zb_meta_type(uint16_t type)
{
	return type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255);
}

/* Turns one parsed RR into a zb_rec, the owner interned and the rdata copied into the arena. */
static void zb_add_rr(struct zb_file *f, const ldns_rr *rr, unsigned long line)
{
	struct zb *b = f->b;
	char tb[16], nb[1024];
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		char *cls = ldns_rr_class2str(ldns_rr_get_class(rr));
		zone_build_error(b, f->idx, line, "class %s is not supported (only IN)", cls ? cls : "?");
		free(cls);
		return;
	}
	if (zb_meta_type(type)) {
		zone_build_error(b, f->idx, line, "type %s cannot appear in a zone",
				 zone_build_type_name(type, tb, sizeof(tb)));
		return;
	}
	const ldns_rdf *owner = ldns_rr_owner(rr);
	size_t len = ldns_rdf_size(owner);
	uint8_t name[WIRE_NAME_MAX];
	if (len > WIRE_NAME_MAX || zb_name_length(ldns_rdf_data(owner), len) != len) {
		zone_build_error(b, f->idx, line, "bad owner name");
		return;
	}
	for (size_t i = 0; i < len; i++) /* length octets are below 'A': lowering them is harmless */
		name[i] = (uint8_t)tolower(ldns_rdf_data(owner)[i]);
	if (!zone_build_in_zone(b, name, len)) {
		zone_build_error(b, f->idx, line, "%s is outside the zone %s",
				 zone_build_name_text(name, len, nb, sizeof(nb)), b->zone->name_text);
		return;
	}
	size_t rdlen = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		rdlen += ldns_rdf_size(ldns_rr_rdf(rr, i));
	if (rdlen > UINT16_MAX) {
		zone_build_error(b, f->idx, line, "rdata longer than 65535 octets");
		return;
	}
	uint32_t id = zb_intern(b, name, len);
	uint8_t *p = zone_build_bytes(b, 2 + rdlen), *q = p + 2;
	p[0] = (uint8_t)(rdlen >> 8);
	p[1] = (uint8_t)rdlen;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		memcpy(q, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		q += ldns_rdf_size(rdf);
	}
	b->recs = zb_grow(b->recs, &b->rec_cap, b->rec_count + 1, sizeof(*b->recs));
	b->recs[b->rec_count++] =
	    (struct zb_rec){p, id, ldns_rr_ttl(rr), (uint32_t)line, type, (uint16_t)f->idx};
	b->names[id].nrec++;
}

static void zb_directive_origin(struct zb_file *f, char *text, unsigned long line)
{
	char *argv[1];
	ldns_rdf *o = zb_args(text, argv, 1) == 1 ? zb_dname_arg(argv[0], f->saved) : NULL;
	ldns_rdf_deep_free(f->origin);
	if (!o) {
		zone_build_error(f->b, f->idx, line, "bad $ORIGIN");
		f->origin = ldns_rdf_clone(f->saved);
		return;
	}
	f->origin = o;
	ldns_rdf_deep_free(f->saved);
	f->saved = ldns_rdf_clone(o);
}

static void zb_directive_ttl(struct zb_file *f, char *text, unsigned long line)
{
	char *argv[1];
	if (zb_args(text, argv, 1) != 1 || !isdigit((unsigned char)argv[0][0]))
		zone_build_error(f->b, f->idx, line, "bad $TTL");
	f->explicit_ttl = true;
}

/* $INCLUDE file [origin]: the file is relative to the including file's folder; the origin defaults
 * to the current one; neither $ORIGIN nor $TTL in the included file leak back (RFC 1035 5.1). */
static void zb_directive_include(struct zb_file *f, char *text, unsigned long line)
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
	struct zb_file inc = {.b = b,
			      .path = path,
			      .depth = f->depth + 1,
			      .origin = origin,
			      .ttl = f->ttl,
			      .explicit_ttl = f->explicit_ttl};
	inc.fp = fopen(path, "r");
	if (!inc.fp) {
		zone_build_error(b, f->idx, line, "cannot open $INCLUDE file %s: %s", path, strerror(errno));
		ldns_rdf_deep_free(origin);
	} else {
		__fsetlocking(inc.fp, FSETLOCKING_BYCALLER);
		zb_parse_file(&inc);
	}
	free(path);
}

/* The line a record or directive starts on: ldns only tells where it stopped. */
static unsigned long zb_start_line(struct zb_file *f, off_t pos, int before, char *text, size_t size)
{
	if (f->line - before == 1 && !feof(f->fp) && !text)
		return (unsigned long)f->line;
	char buf[256];
	unsigned skipped = text ? zb_reread(f, pos, text, size) : zb_reread(f, pos, buf, sizeof(buf));
	return (unsigned long)before + 1 + skipped;
}

static void zb_parse_step(struct zb_file *f)
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
		zb_directive_include(f, text, line);
		break;
	default:
		zone_build_error(f->b, f->idx, line, "%s: %.80s", ldns_get_errorstr_by_id(s), text);
		break;
	}
}

/* Reads f->fp to the end, then closes it and frees f's ldns state. */
static void zb_parse_file(struct zb_file *f)
{
	zb_add_file(f, f->path);
	f->saved = ldns_rdf_clone(f->origin);
	if (!f->saved)
		abort();
	while (!feof(f->fp) && !ferror(f->fp) && !f->b->gave_up)
		zb_parse_step(f);
	if (ferror(f->fp))
		zone_build_error(f->b, f->idx, 0, "read error");
	fclose(f->fp);
	ldns_rdf_deep_free(f->origin);
	ldns_rdf_deep_free(f->saved);
	ldns_rdf_deep_free(f->prev);
}

/* The zone's apex from its configured name: z->apex and name 0. */
static bool zb_set_apex(struct zb *b, const char *origin)
{
	ldns_rdf *r = ldns_dname_new_frm_str(origin);
	struct wire_name *apex = &b->zone->apex;
	if (!r || ldns_rdf_size(r) > WIRE_NAME_MAX) {
		ldns_rdf_deep_free(r);
		return false;
	}
	apex->len = (uint8_t)ldns_rdf_size(r);
	for (size_t i = 0; i < apex->len; i++)
		apex->data[i] = (uint8_t)tolower(ldns_rdf_data(r)[i]);
	ldns_rdf_deep_free(r);
	apex->label_count = 0;
	for (size_t o = 0;; o += 1 + (size_t)apex->data[o]) {
		apex->labels[apex->label_count++] = (uint8_t)o;
		if (apex->data[o] == 0)
			break;
	}
	uint8_t *copy = zone_build_bytes(b, apex->len);
	memcpy(copy, apex->data, apex->len);
	zb_add_name(b, copy, apex->len, apex->label_count, ZB_NONE, zone_name_hash(copy, apex->len));
	return true;
}

static void zb_free(struct zb *b)
{
	for (size_t i = 0; i < b->file_count; i++)
		free(b->files[i]);
	free(b->files);
	free(b->names);
	free(b->index);
	free(b->recs);
	free(b->order);
	free(b->first);
	free(b->cut);
}

static void zb_read(struct zb *b, const char *path)
{
	struct zb_file top = {.b = b, .path = path, .ttl = ZB_DEFAULT_TTL};
	top.origin = ldns_dname_new_frm_data(b->zone->apex.len, b->zone->apex.data);
	top.fp = fopen(path, "r");
	if (!top.fp) {
		zone_build_error(b, ZB_NONE, 0, "cannot open: %s", strerror(errno));
		ldns_rdf_deep_free(top.origin);
		return;
	}
	__fsetlocking(top.fp, FSETLOCKING_BYCALLER); /* ours alone: skip a lock per character */
	zb_parse_file(&top);
}

struct zone *zone_load(const char *origin, const char *path, struct diag *d)
{
	struct zone *z = calloc(1, sizeof(*z));
	if (!z)
		abort();
	arena_init(&z->arena, 16 * 1024);
	z->refs = 1;
	z->name_text = arena_strdup(&z->arena, origin);
	z->file = arena_strdup(&z->arena, path);
	struct zb b = {.zone = z, .d = d};
	if (!zb_set_apex(&b, origin)) {
		zone_build_error(&b, ZB_NONE, 0, "invalid zone name '%s'", origin);
	} else {
		zb_read(&b, path);
		if (!b.gave_up) {
			zone_build_group(&b);
			zone_build_validate(&b);
		}
		free(b.index); /* names are all known: the compiled table replaces it */
		b.index = NULL;
		if (b.errors == 0)
			zone_build_compile(&b);
	}
	size_t errors = b.errors;
	zb_free(&b);
	if (errors) {
		arena_free(&z->arena);
		free(z);
		return NULL;
	}
	return z;
}

void zone_ref(struct zone *z)
{
	__atomic_fetch_add(&z->refs, 1, __ATOMIC_RELAXED);
}

void zone_unref(struct zone *z)
{
	if (z && __atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		arena_free(&z->arena);
		free(z);
	}
}
