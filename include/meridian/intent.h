/* intent.h -- what must always resolve: a zone's intent file.
 *
 * An intent file is written in zone-file syntax (RFC 1035 master file: $ORIGIN and $TTL work, TTLs
 * and the class may be left out, relative names are relative to the zone's apex) and lists, for
 * every guarded name and type, every value that RRset may ever hold:
 *
 *   api    IN A     192.0.2.10     ; primary datacenter
 *   api    IN A     198.51.100.10  ; secondary
 *   @      IN MX    10 mail
 *
 * Names and types not listed are not guarded. TTLs are ignored (a TTL change deletes nothing). The
 * guard (guard.h) checks candidate snapshots and policy answers against it.
 *
 * Values are kept in canonical form (RFC 4034 6.2: domain names inside the rdata of the types that
 * list lowercased) so that a value matches however its case was written. A struct intent is
 * immutable once intent_load returns it; all its memory is in its arena. */
#ifndef MERIDIAN_INTENT_H
#define MERIDIAN_INTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/arena.h"
#include "meridian/diag.h"

/* One guarded RRset: its owner, type and every value it may hold. */
struct intent_rrset {
	const uint8_t *owner; /* uncompressed lowercased wire name */
	size_t owner_len;
	const char *name; /* owner in presentation form, absolute, lowercased ("api.example.com.") */
	uint16_t type;
	size_t count;		      /* values, >= 1, each listed once */
	const uint8_t *const *values; /* canonical rdata of each value (no length prefix) */
	const uint16_t *lengths;      /* rdata length of each value */
	unsigned line;		      /* the first line of the RRset in the file */
};

struct intent {
	const char *file;    /* the intent file, as given */
	const uint8_t *apex; /* the zone's apex, uncompressed lowercased wire name */
	size_t apex_len;
	struct intent_rrset *rrsets; /* sorted by owner (canonical name order), then type */
	size_t count;
	struct arena arena;
};

/* Loads the intent file at path for the zone whose apex is origin (presentation form). Errors, each
 * "file:line: message", all found in one pass: syntax, a class other than IN, a name outside the
 * zone, SOA (its serial changes with every edit: not an intent), $INCLUDE (an intent is one file),
 * an unreadable or empty file. A value listed twice is a warning and kept once. Returns NULL when
 * any error was found. */
struct intent *intent_load(const char *origin, const char *path, struct diag *d);
void intent_free(struct intent *in);

/* The guarded RRset of owner (uncompressed lowercased wire name) and type, or NULL. */
const struct intent_rrset *intent_find(const struct intent *in, const uint8_t *owner, size_t owner_len,
				       uint16_t type);
/* Whether rdata (canonical form, as intent_canonical_rdata gives it) is one of s's values. */
bool intent_allows(const struct intent_rrset *s, const uint8_t *rdata, size_t len);
/* Whether two guarded RRsets hold the same values (in any order). */
bool intent_same_values(const struct intent_rrset *a, const struct intent_rrset *b);

/* Writes the canonical form of rdata of type (RFC 4034 6.2) to out, len bytes: lowercasing the
 * names inside never changes the length. rdata that does not parse as type is copied as it is (then
 * it compares byte for byte; callers pass rdata that a zone loader already accepted). */
void intent_canonical_rdata(uint16_t type, const uint8_t *rdata, size_t len, uint8_t *out);
/* rdata of type in presentation form ("192.0.2.1", "10 mail.example.com."), for messages; truncated
 * to fit size (always NUL-terminated). */
void intent_rdata_text(uint16_t type, const uint8_t *rdata, size_t len, char *buf, size_t size);
/* The mnemonic of type ("A", "MX", "TYPE65534"). */
const char *intent_type_name(uint16_t type, char *buf, size_t size);

#endif
