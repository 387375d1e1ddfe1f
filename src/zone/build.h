/* build.h -- the zone loader's build-time representation, shared by load.c, validate.c and compile.c.
 *
 * Loading happens in four steps over one struct zb ("zb_" names are this header's types and static
 * helpers; the functions shared between the zone files are zone_build_*):
 *   1. load.c streams the master file with ldns; every RR becomes a compact zb_rec at once (its
 *      ldns_rr is freed) and its owner is interned as a zb_name, ancestors first, so empty
 *      non-terminals exist and a parent's id is always lower than its children's.
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

#include "meridian/zone.h"

#define ZB_NONE		 UINT32_MAX
#define ZB_MAX_ERRORS	 100
#define ZB_INCLUDE_DEPTH 8

/* Summary bits of a name, set by zone_build_group. */
enum zb_name_flags {
	ZB_HAS_SOA = 1u << 0,
	ZB_HAS_NS = 1u << 1,
	ZB_HAS_CNAME = 1u << 2,
	ZB_HAS_ADDR = 1u << 3,	       /* A or AAAA */
	ZB_HAS_DATA = 1u << 4,	       /* any record at all */
	ZB_HAS_NOT_CNAME_OK = 1u << 5, /* a type that may not sit beside a CNAME */
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
	size_t rrset_count; /* distinct (name, type) pairs */
	size_t rr_count;    /* records after dropping duplicates */

	char **files; /* file paths, for messages */
	size_t file_count, file_cap;

	uint8_t *bump; /* unaligned byte allocator carved from the zone's arena */
	size_t bump_left;
};

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

void zone_build_group(struct zb *b);
void zone_build_validate(struct zb *b);
void zone_build_compile(struct zb *b);

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

/* The mnemonic of a type for messages ("A", "TYPE65280"); buf holds at least 16 bytes. */
const char *zone_build_type_name(uint16_t type, char *buf, size_t size);
/* Presentation form of a wire name for messages. */
const char *zone_build_name_text(const uint8_t *name, size_t len, char *buf, size_t size);

#endif
