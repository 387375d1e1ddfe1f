/* build.h -- the zone loader's build-time representation, shared by the zone loader's files.
 *
 * Loading happens in four steps over one struct zb ("zb_" names are this header's types and static
 * helpers; the functions shared between the zone files are zone_build_*):
 *   1. parse.c reads the master file with ldns; every RR becomes a compact zb_rec at once (its
 *      ldns_rr is freed) and its owner is interned as a zb_name, ancestors first, so empty
 *      non-terminals exist and a parent's id is always lower than its children's. A big file is cut
 *      into chunks (split.c) that threads parse at once (parallel.c); the main thread then feeds their
 *      records to the build in file order, so the result and every message are those of reading
 *      the file in one go.
 *   2. zone_build_group (compile.c) orders the records by name (counting sort, file order kept),
 *      then by type within a name, drops identical duplicates, and summarises each name (types
 *      present, zone cut).
 *   3. zone_build_validate (validate.c) checks the RFC rules and reports "file:line: message".
 *   4. zone_build_compile (compile.c) writes nodes, RRsets and the hash table into the zone's arena.
 * Owner names and rdata bytes are written straight into the zone's arena while parsing (rdata as the
 * 2-byte length + bytes runs the compiled RRsets use), so the common case of an RRset whose records
 * are adjacent in the file needs no copy at compile time. Everything else here is freed afterwards. */
#ifndef MERIDIAN_ZONE_BUILD_H
#define MERIDIAN_ZONE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <ldns/ldns.h>

#include "meridian/zone.h"

#define ZB_NONE		 UINT32_MAX
#define ZB_MAX_ERRORS	 100
#define ZB_INCLUDE_DEPTH 8
#define ZB_DEFAULT_TTL	 3600

/* Summary bits of a name, set by zone_build_group. */
enum zb_name_flags {
	ZB_HAS_SOA = 1u << 0,
	ZB_HAS_NS = 1u << 1,
	ZB_HAS_CNAME = 1u << 2,
	ZB_HAS_ADDR = 1u << 3,	       /* A or AAAA */
	ZB_HAS_DATA = 1u << 4,	       /* any record at all */
	ZB_HAS_NOT_CNAME_OK = 1u << 5, /* a type that may not sit beside a CNAME */
	ZB_HAS_DNAME = 1u << 6,
	ZB_HAS_NSEC3 = 1u << 7,
	ZB_HAS_NOT_NSEC3 = 1u << 8, /* a type other than NSEC3 and RRSIG */
	ZB_HAS_CHILD = 1u << 9,	    /* set by zone_build_compile */
};

struct zb_name {
	const uint8_t *name; /* lowercased wire name, in the zone's arena */
	uint32_t hash;	     /* zone_name_hash of name */
	uint32_t parent;     /* id of the name one label up; ZB_NONE for the apex */
	uint32_t nrec;	     /* records owned (duplicates included) */
	uint8_t len;
	uint8_t labels;
	uint16_t flags; /* zb_name_flags */
};

struct zb_rec {
	const uint8_t *rd; /* 2-byte rdlength (network order) then the rdata, in the zone's arena */
	uint32_t name;	   /* zb_name id */
	uint32_t ttl;
	uint32_t line; /* first line of the record in its file */
	uint16_t type;
	uint16_t file; /* index in zb.files */
};

struct zb {
	struct zone *zone;
	struct diag *d;
	size_t errors;
	size_t warnings;
	bool gave_up; /* ZB_MAX_ERRORS reached: stop looking */

	struct zb_name *names; /* id 0 is the apex */
	size_t name_count, name_cap;
	uint64_t *index; /* name intern table: open addressing, hash << 32 | (id + 1), 0 = empty */
	uint32_t index_mask;
	uint32_t last_name; /* id of the previous record's owner: the common case is a repeat */

	struct zb_rec *recs; /* in parse order */
	size_t rec_count, rec_cap;

	/* From zone_build_group: the record ids of name i are order[first[i] .. first[i + 1]), sorted by
	 * type, file order kept within a type, identical duplicates left out. */
	uint32_t *order;
	uint32_t *first;
	uint32_t *cut;	    /* per name: the delegation at or above, or ZB_NONE */
	uint32_t *dname;    /* per name: the nearest name at or above holding a DNAME, or ZB_NONE */
	size_t rrset_count; /* distinct (name, type) pairs */
	size_t rr_count;    /* records after dropping duplicates */

	char **files; /* file paths, for messages */
	size_t file_count, file_cap;
	struct zone_stamp *stamps; /* each file read, as it was just before (zone_build_stamp) */
	size_t stamp_count, stamp_cap;

	uint8_t *bump; /* unaligned byte allocator carved from the zone's arena */
	size_t bump_left;

	/* DNSSEC warnings beyond the first few of each kind, summed up at the end (dnssec_build.c) */
	size_t unsigned_rrsets, stale_sigs;
};

/* The rdata of a dynamic record (zone_load_dynamic): recognised by its address, never read. */
extern const uint8_t zone_build_dynamic_rd[2];

static inline bool zb_is_dynamic(const struct zb_rec *r)
{
	return r->rd == zone_build_dynamic_rd;
}

/* Adds a dynamic record (its ttl field holds the record's index) at a lowercased owner in the zone. */
void zone_build_dynamic(struct zb *b, const uint8_t *owner, size_t len, uint16_t type, uint32_t index,
			uint32_t file, unsigned long line);

/* Reports an error at file:line (file ZB_NONE: the zone's file without a line). Counts towards
 * ZB_MAX_ERRORS; the one that reaches it adds a final "too many errors" and sets gave_up. */
void zone_build_error(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void zone_build_warn(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Name id of a lowercased wire name, or ZB_NONE. */
uint32_t zone_build_find(const struct zb *b, const uint8_t *name, size_t len);
/* The deepest existing name at or above a lowercased wire name inside the zone. */
uint32_t zone_build_closest(const struct zb *b, const uint8_t *name, size_t len);
/* Whether a lowercased wire name is at or below the apex. */
bool zone_build_in_zone(const struct zb *b, const uint8_t *name, size_t len);
/* n bytes from the zone's arena without alignment. */
uint8_t *zone_build_bytes(struct zb *b, size_t n);
/* Adds a record whose owner (a lowercased wire name inside the zone) is interned; returns where its
 * rdlen bytes of rdata go (the 2-byte length before them is written). */
uint8_t *zone_build_record(struct zb *b, const uint8_t *owner, size_t len, uint16_t type, uint32_t ttl,
			   size_t rdlen, uint32_t file, unsigned long line);
/* Registers a file path for messages; returns its index in b->files. */
uint32_t zone_build_add_file(struct zb *b, const char *path);
/* zonemd.c: a zone with a ZONEMD at its apex must match one of its digests (RFC 8976): an error
 * at the ZONEMD's line when none does. Runs on the compiled zone, before the build's records go. */
void zone_build_zonemd(struct zb *b);
/* Records the file at path as it is now, before it is read (zone.h, struct zone_stamp). */
void zone_build_stamp(struct zb *b, const char *path);

/* ---- reader.c: a master file one ldns call at a time ---- */

/* Input: a whole buffer (fd < 0: a chunk), or a file read through a window that grows to hold the
 * longest call. */
struct zb_input {
	int fd;
	char *buf;
	size_t len, cap; /* bytes in buf, room */
	size_t pos;	 /* the next call starts at buf[pos] */
	off_t offset;	 /* the file offset of buf[pos] (from where reading started) */
	int last;	 /* the byte before buf[pos] ('\n' at the start) */
	bool eof;	 /* buf holds the end of the input */
	bool failed;	 /* a read error */
	char *tok;	 /* the last call's line token */
	size_t tok_cap;
};

struct zb_call {
	const char *text; /* the call's bytes, then what follows in the buffer */
	size_t len;	  /* the call: its line token's text, then the \f \n \r \v skipped */
	size_t avail;	  /* bytes from text to the end of the buffer */
	off_t offset;	  /* of text in the file */
	char *token;	  /* NUL-terminated line token, as ldns builds it (NULL when not asked for) */
	int first;	  /* its first character, -1 when empty */
	int newlines;	  /* in the call */
	bool line_start;  /* the call starts a line */
	bool at_end;	  /* nothing follows in the input */
	bool odd;	  /* ldns stops inside it (a stray ')', a NUL, open parentheses at the end) */
};

void zone_build_input_init(struct zb_input *in, int fd, const char *buf, size_t len);
void zone_build_input_free(struct zb_input *in);
/* The next call, its token built when token is set; false at the end of the input (or on a read
 * error: in->failed). */
bool zone_build_input_next(struct zb_input *in, struct zb_call *c, bool token);
/* Reads the rest of the input into the buffer (calls already returned stay where they were). */
void zone_build_input_rest(struct zb_input *in);
/* ldns_strip_ws: skips leading blanks, cuts trailing ones (in place). */
char *zone_build_strip(char *line);
/* The line a call starts on, as the first line with content (before holds the line counter before
 * the call); its text goes to text when not NULL. */
unsigned long zone_build_call_line(const struct zb_call *c, int before, char *text, size_t size);

/* ---- parse.c: master files through ldns ---- */

/* A chunk's output, in file order: zb_item headers, each followed by the owner then the rdata (a
 * record) or by the NUL-terminated message (an error). */
struct zb_items {
	uint8_t *data;
	size_t len, cap;
};

enum zb_item_kind { ZB_ITEM_RECORD, ZB_ITEM_ERROR };

struct zb_item {
	uint32_t line;
	uint32_t ttl;
	uint16_t type;
	uint16_t len; /* rdata bytes, or message bytes with the NUL */
	uint8_t kind; /* zb_item_kind */
	uint8_t owner_len;
};

/* The parser of one master file (or of one chunk of it). Its output goes straight into the build
 * (b set: sequential loading), into a chunk's item list (items set: a parser thread, which must not
 * touch the build), or nowhere (neither: replaying directives to learn the state at a cut). */
struct zb_parser {
	struct zb *b;
	struct zb_items *items;
	const struct zone *zone; /* the apex and the name, for checks and messages */
	struct zb_input *in;
	FILE *fp; /* the file (sequential loading), or a stream over the input ldns reads from itself */
	const char *path;
	uint32_t idx; /* in b->files */
	int depth;
	ldns_rdf *origin;  /* handed to ldns, which replaces it on $ORIGIN */
	ldns_rdf *saved;   /* the origin in force: ldns frees its own before parsing a new $ORIGIN */
	ldns_rdf *prev;	   /* owner of the previous record, for lines starting with a blank */
	uint32_t ttl;	   /* default TTL */
	bool explicit_ttl; /* $TTL seen (RFC 2308); before that, the last TTL stated (RFC 1035 5.1) */
	int line;	   /* ldns's line counter: the newlines read so far */
	size_t errors;	   /* reported by this parser */
	/* Items or neither: met what only sequential loading handles ($INCLUDE; a record whose owner
	 * is the previous one from before the chunk started); the parser stopped. */
	bool redo;
	atomic_bool *cancel; /* items: set by the main thread when the rest is not needed */
};

/* Reads p->in to its end (or until an error cap, redo or cancel). */
void zone_build_parse(struct zb_parser *p);
/* Parses one call (p->line is the line counter before it). */
void zone_build_parse_call(struct zb_parser *p, const struct zb_call *c);
/* Sequential loading of a whole file (p->fp open, p->origin set): registers it, reads it, closes it
 * and frees p's ldns state. */
void zone_build_parse_file(struct zb_parser *p);
/* The stand-in for "previous owner" a chunk starts with: a record that takes it needs redoing. */
ldns_rdf *zone_build_unknown_prev(void);
bool zone_build_is_unknown_prev(const ldns_rdf *owner);

/* ---- split.c and parallel.c: cutting a big file into chunks parsed by threads ---- */

/* A cut: a chunk starts at offset with this parser state. Only the starts of ldns calls (see split.c)
 * after a $TTL are cuts: there a chunk parses exactly like the whole file would. */
struct zb_cut {
	off_t offset;
	int line;
	ldns_rdf *origin, *saved;
	uint32_t ttl;
	bool explicit_ttl;
};

struct zb_plan {
	struct zb_cut *cuts; /* cuts[0] is the start of the file */
	size_t count;
	off_t size; /* bytes read: the end of the last chunk */
};

/* Reads the master file open on fd and cuts it about every chunk bytes. False when the file must be
 * read sequentially ($INCLUDE, no $TTL, a call reader.c does not follow) or cannot be cut. */
bool zone_build_plan(struct zb_plan *plan, int fd, const struct zone *z, size_t chunk);
void zone_build_plan_free(struct zb_plan *plan);
/* Whether chunk text may hold a WKS record, whose parsing in ldns is not thread-safe. */
bool zone_build_may_have_wks(const char *text, size_t len);
/* Loads the file with threads when it is big enough and can be cut; false (nothing done, nothing
 * reported) when it must be read sequentially. */
bool zone_build_parallel(struct zb *b, const char *path);

/* How zone_load reads big files, for tests and benchmarks. Not thread-safe: set it before loading.
 * The environment variable MERIDIAN_ZONE_THREADS, when set, overrides threads. */
struct zone_build_tuning {
	unsigned threads;  /* parsers, the main thread included: 0 = online CPUs (at most 8); 1 = none */
	size_t min_size;   /* files smaller than this are read sequentially */
	size_t chunk_size; /* bytes per chunk, about */
};
void zone_build_tune(const struct zone_build_tuning *t); /* NULL restores the defaults */

/* What the last zone_load of the calling thread did. */
struct zone_build_stats {
	unsigned threads; /* parsers used; 0: read sequentially */
	size_t chunks;
	size_t redone; /* chunks the main thread parsed again, sequentially */
};
void zone_build_last_stats(struct zone_build_stats *s);

void zone_build_group(struct zb *b);
void zone_build_validate(struct zb *b);
void zone_build_compile(struct zb *b);

/* ---- dnssec_build.c: a presigned zone's checks and indexes ---- */

/* Whether the zone is signed, from its apex (sets zone->dnssec's mode and NSEC3 parameters); an
 * NSEC3PARAM the server cannot use is an error. Run before the names are checked. */
void zone_build_dnssec_mode(struct zb *b);
/* A signed zone's checks of name id (its records o[0..k), grouped by type): warnings for an
 * authoritative RRset no RRSIG covers and for signatures expired or not yet valid. */
void zone_build_dnssec_name(struct zb *b, uint32_t id, const uint32_t *o, size_t k);
/* The summaries of the warnings zone_build_dnssec_name left out. */
void zone_build_dnssec_summary(struct zb *b);
/* After compiling: the NSEC nodes in canonical order, the NSEC3 records by hash. */
void zone_build_dnssec_index(struct zb *b);

/* Small helpers shared by the zone files. */
static inline uint16_t zb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t zb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Length of the uncompressed wire name at p within max bytes, or 0 when it is not one. */
static inline size_t zb_name_length(const uint8_t *p, size_t max)
{
	size_t n = 0;
	while (n < max && n < 255) {
		uint8_t l = p[n];
		if (l == 0)
			return n + 1;
		if (l > 63)
			return 0;
		n += 1 + (size_t)l;
	}
	return 0;
}

/* Whether a lowercased wire name is at or below apex. */
static inline bool zb_in_apex(const struct wire_name *apex, const uint8_t *name, size_t len)
{
	if (len < apex->len)
		return false;
	size_t off = 0;
	while (off < len - apex->len && name[off])
		off += 1 + (size_t)name[off];
	return off == len - apex->len && memcmp(name + off, apex->data, apex->len) == 0;
}

/* Presentation form of a wire name for messages. */
const char *zone_build_name_text(const uint8_t *name, size_t len, char *buf, size_t size);

#endif
