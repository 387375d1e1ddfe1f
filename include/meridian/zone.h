/* zone.h -- authoritative zones: loading RFC 1035 master files with ldns, validation, the compiled
 * zone database, and lookup (RFC 1034 4.3.2, RFC 4592 wildcards).
 *
 * A struct zone is immutable once zone_load returns it and is shared by every snapshot that holds a
 * reference (zone_ref/zone_unref; the last unref frees it). All its memory lives in one arena.
 * Lookup never allocates and never writes: it is on the query path.
 *
 * Names in the database are lowercased uncompressed wire names. Every ancestor of every owner name up
 * to the apex exists as a node (those without data are empty non-terminals), so the closest encloser
 * of any name is found by hashing its suffixes. */
#ifndef MERIDIAN_ZONE_H
#define MERIDIAN_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "meridian/arena.h"
#include "meridian/diag.h"
#include "meridian/wire.h"

/* An RRset: every RR of one type at one node, sharing one TTL (RFC 2181 5.2: when a zone file gives
 * different TTLs the loader uses the lowest and warns). */
struct zone_rrset {
	uint16_t type;
	uint16_t count; /* RRs in the set, >= 1; 0 marks a dynamic RRset (a record of the config whose
			 * values the snapshot's dyn_table holds per region), whose index is in ttl */
	uint32_t ttl;
	/* count records back to back, each a 2-byte rdlength (network order) followed by the rdata in
	 * uncompressed wire form; iterate with zone_rdata_next. */
	const uint8_t *rdata;
};

enum zone_node_flags {
	ZONE_NODE_APEX = 1u << 0,
	ZONE_NODE_DELEGATION = 1u << 1, /* has NS and is not the apex: a zone cut */
	ZONE_NODE_OCCLUDED = 1u << 2,	/* strictly below a zone cut: glue or occluded data */
	ZONE_NODE_WILDCARD = 1u << 3,	/* first label is "*" */
	ZONE_NODE_CNAME = 1u << 4,	/* holds a CNAME (and nothing else but DNSSEC types) */
	ZONE_NODE_DNAME = 1u << 5,	/* holds a DNAME: names below it are rewritten (RFC 6672) */
	/* holds NSEC3 records and nothing else but their RRSIGs: a hashed owner name, which lookup
	 * does not see (RFC 5155 7.2.8: it is answered as a name that does not exist) */
	ZONE_NODE_NSEC3 = 1u << 6,
};

struct zone_node {
	const uint8_t *name; /* lowercased wire name */
	uint8_t name_len;
	uint8_t label_count;
	uint16_t flags;			  /* zone_node_flags */
	uint16_t rrset_count;		  /* 0 for an empty non-terminal */
	const struct zone_rrset *rrsets;  /* sorted by type */
	const struct zone_node *cut;	  /* the delegation at or above this node, NULL when none */
	const struct zone_node *wildcard; /* the node "*.<this name>" when it exists */
	struct zone_node *hash_next;	  /* chain in the zone's name table */
	uint32_t hash;
};

/* How a zone proves that names and types do not exist (RFC 4035 3.1.3, RFC 5155 7.2). */
enum zone_denial {
	ZONE_DENIAL_NONE, /* unsigned: answers carry no RRSIG and no proofs, whatever the DO bit says */
	ZONE_DENIAL_NSEC, /* signed, NSEC at the apex */
	ZONE_DENIAL_NSEC3 /* signed, NSEC3PARAM at the apex */
};

#define ZONE_NSEC3_HASH_LEN 20 /* SHA-1, the one NSEC3 hash algorithm (RFC 5155 11) */

struct zone_nsec3 {
	uint8_t hash[ZONE_NSEC3_HASH_LEN]; /* the owner's first label, base32hex-decoded */
	const struct zone_node *node;	   /* the hashed owner's node (ZONE_NODE_NSEC3) */
};

/* A presigned zone's DNSSEC data, found when it loads: signed when the apex holds an RRSIG over the
 * SOA and an NSEC or NSEC3PARAM. */
struct zone_dnssec {
	enum zone_denial denial;
	/* NSEC: the nodes holding an NSEC, in canonical order (RFC 4034 6.1) */
	const struct zone_node **nsec;
	size_t nsec_count;
	/* NSEC3: the NSEC3PARAM's parameters, and the NSEC3 records made with them, by hash */
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
	const struct zone_nsec3 *nsec3;
	size_t nsec3_count;
	/* when the first of its RRSIGs expires (Unix time; 0: none): the zone must be signed again and
	 * reloaded before then, or validating resolvers reject its answers */
	int64_t expires;
};

struct zone_journal;

/* A file a zone was read from, as it was just before it was read: a reload compares these with the
 * files as they are now (zone_files_unchanged) and keeps the zone when none changed. */
struct zone_stamp {
	const char *path;
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct zone {
	char *name_text; /* apex in presentation form, as configured */
	char *file;	 /* path of the master file */
	struct wire_name apex;
	const struct zone_node *apex_node; /* the first of the zone's node_count nodes, one array */
	const struct zone_rrset *soa;	   /* the apex SOA (exactly one RR) */
	uint32_t serial;		   /* SOA serial */
	uint32_t neg_ttl;		   /* RFC 2308: min(SOA TTL, SOA MINIMUM) */
	size_t node_count;
	size_t rr_count;
	size_t dynamic_count;		 /* the config's dynamic records placed in it */
	const struct zone_stamp *stamps; /* the master file first, then each $INCLUDE */
	size_t stamp_count;
	struct zone_node **table; /* name hash table, table_mask + 1 chains */
	uint32_t table_mask;
	struct zone_dnssec dnssec;
	/* the differences from earlier versions (journal.h), set by a reload before the zone is
	 * published; NULL: none kept */
	struct zone_journal *journal;
	struct arena arena;
	int refs; /* atomic reference count */
};

/* Loads and validates the master file at path for the zone whose apex is origin (presentation form).
 * Handles $ORIGIN, $TTL, $INCLUDE (relative to the including file's folder, depth-limited), every type
 * ldns knows, and RFC 3597 unknown types. Every problem found is appended to d as
 * "file:line: message"; errors: syntax, missing or duplicate SOA, SOA not at the apex, no NS at the
 * apex, CNAME beside other data or more than one CNAME, data outside the origin, non-address data
 * below a zone cut (occluded), in-bailiwick delegation NS targets without address records (missing
 * glue), NS at a wildcard name. Returns NULL when any error was found; otherwise a zone with one
 * reference. */
struct zone *zone_load(const char *origin, const char *path, struct diag *d);
/* A dynamic record to place in a zone: its name gets a node and an RRset marked dynamic (count 0,
 * index in ttl), so NXDOMAIN, NODATA, CNAME and wildcard rules treat it like data. Errors (a name
 * outside the zone or below a cut, a dynamic CNAME beside other data, a dynamic RRset where the file
 * has one of the same type) are reported at file:line, the record's place in the config. */
struct zone_dynamic {
	const uint8_t *owner; /* uncompressed lowercased wire name */
	size_t owner_len;
	uint16_t type;
	uint32_t index; /* the record's index in the config (and the dyn_table) */
	const char *file;
	unsigned line;
};

/* zone_load with dynamic records placed in the zone. */
struct zone *zone_load_dynamic(const char *origin, const char *path, const struct zone_dynamic *dyn,
			       size_t count, struct diag *d);
/* Whether every file z was read from is still as it was then (device, inode, size, modification
 * and change times): reading them again would give the same zone. */
bool zone_files_unchanged(const struct zone *z);
/* Whether path names the master file z was read from (the same file, however the path is written:
 * relative at start-up, absolute in a reload's config). */
bool zone_read_from(const struct zone *z, const char *path);
void zone_ref(struct zone *z);
void zone_unref(struct zone *z);

/* Exact node lookup of an uncompressed lowercased name (no cut or wildcard logic): for glue. */
const struct zone_node *zone_node_find(const struct zone *z, const uint8_t *name, size_t len);
/* zone_node_find with the name's zone_name_hash already known (wire_name_read_hashed gives it). */
const struct zone_node *zone_node_find_hashed(const struct zone *z, const uint8_t *name, size_t len,
					      uint32_t hash);
/* The RRset of type at node, or NULL. */
const struct zone_rrset *zone_node_rrset(const struct zone_node *node, uint16_t type);
/* Iterates the RRs of an RRset: *pos starts at 0; returns false after the last one. */
bool zone_rdata_next(const struct zone_rrset *rrset, size_t *pos, const uint8_t **rdata, uint16_t *rdlen);

/* One RR of a zone, as zone_each_rr gives it. */
struct zone_rr {
	const struct zone_node *node;
	const struct zone_rrset *set;
	uint32_t ttl; /* the RRset's; an RRSIG's is its covered RRset's (zone_rrsig_ttl) */
	const uint8_t *rdata;
	uint16_t rdlen;
};
typedef bool zone_rr_fn(void *arg, const struct zone_rr *rr);
/* Calls fn for every RR of z (the SOA included, dynamic RRsets left out), node by node in the zone's
 * array order; false as soon as fn returns false. Off the query path: for whole-zone work. */
bool zone_each_rr(const struct zone *z, zone_rr_fn *fn, void *arg);
/* rr in uncompressed wire form (owner, type, class IN, TTL, rdata length, rdata) into out, which
 * must hold zone_rr_wire_size(rr) octets; returns that size. */
size_t zone_rr_wire(const struct zone_rr *rr, uint8_t *out);
size_t zone_rr_wire_size(const struct zone_rr *rr);
/* "NSEC", "NSEC3", or NULL for an unsigned zone. */
const char *zone_denial_name(enum zone_denial denial);
/* Iterates the RRSIGs at node covering type: *pos starts at 0; false after the last one. */
bool zone_rrsig_next(const struct zone_node *node, uint16_t type, size_t *pos, const uint8_t **rdata,
		     uint16_t *rdlen);

/* The TTL one RRSIG record of node's RRSIG RRset sigs (its rdata) is served at: that of the RRset it
 * covers (RFC 4035 2.2). The zone keeps a name's RRSIGs as one RRset, at the lowest of their TTLs. */
uint32_t zone_rrsig_ttl(const struct zone_node *node, const struct zone_rrset *sigs, const uint8_t *rdata,
			uint16_t rdlen);
/* Canonical order of two lowercased wire names (RFC 4034 6.1): <0, 0, >0. */
int zone_name_canonical_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* An NSEC zone: the node whose NSEC matches (owner == name) or covers name: the last NSEC owner at
 * or before name in canonical order. NULL in a zone without NSEC records. */
const struct zone_node *zone_nsec_for(const struct zone *z, const uint8_t *name, size_t len);
/* An NSEC3 zone: the hash of a lowercased wire name with the zone's parameters (RFC 5155 5). */
void zone_nsec3_hash(const struct zone *z, const uint8_t *name, size_t len, uint8_t out[ZONE_NSEC3_HASH_LEN]);
/* The NSEC3 record that matches hash (*match set) or covers it (the last hash before it, wrapping
 * round from the first to the last); NULL in a zone without NSEC3 records. */
const struct zone_nsec3 *zone_nsec3_for(const struct zone *z, const uint8_t hash[ZONE_NSEC3_HASH_LEN],
					bool *match);

/* The mnemonic of a type ("A", "TYPE65280"), or buf (at least 16 bytes) holding the generic form. */
const char *zone_type_name(uint16_t type, char *buf, size_t size);

enum zone_result_kind {
	ZONE_FOUND,	 /* rrset answers the question (for ANY: rrset NULL, node holds the data) */
	ZONE_CNAME,	 /* node holds a CNAME and the qtype is not CNAME: rrset is the CNAME */
	ZONE_NODATA,	 /* the name exists, not with this type: NOERROR, SOA in authority */
	ZONE_NXDOMAIN,	 /* the name does not exist and no wildcard covers it */
	ZONE_DELEGATION, /* the name is at or below a zone cut: node is the cut, rrset its NS */
	ZONE_DNAME,	 /* the name is below a DNAME: node holds it, rrset is the DNAME (one RR) */
};

struct zone_result {
	enum zone_result_kind kind;
	const struct zone_node *node; /* the node answering; for a wildcard, the "*" node */
	const struct zone_rrset *rrset;
	bool wildcard; /* synthesized from a wildcard (owner in the answer is the qname) */
};

/* Looks qname (inside z: the caller checked the suffix) up for qtype, following RFC 1034 4.3.2:
 * a zone cut above or at the name gives a delegation, except a DS query at the cut itself, which the
 * parent answers (found or nodata); an exact match gives found / cname / nodata (an empty
 * non-terminal is nodata); otherwise the closest encloser's wildcard child, if any, answers as if
 * it were the name (RFC 4592: an existing name, empty non-terminals included, blocks synthesis);
 * otherwise nxdomain. A name below a DNAME (RFC 6672; the loader lets nothing exist there, so the
 * DNAME's node is the closest encloser) gives dname, before any wildcard; the DNAME's own name is
 * answered as any other. */
void zone_lookup(const struct zone *z, const struct wire_name *qname, uint16_t qtype, struct zone_result *r);
/* zone_lookup with the qname's hash already known (wire_query.qname_hash): the query path hashes the
 * qname once, in the parser. */
void zone_lookup_hashed(const struct zone *z, const struct wire_name *qname, uint32_t hash, uint16_t qtype,
			struct zone_result *r);

/* A set of zones for longest-suffix selection. Immutable once built; owns one reference per zone. */
struct zone_set {
	struct zone **zones;
	size_t count;
	struct zone **table; /* apex hash table, open addressing, table_mask + 1 slots */
	uint32_t table_mask;
	unsigned max_labels; /* labels (root included) of the longest apex: longer suffixes cannot match */
};

/* Builds a set from zones (takes a new reference to each; apexes must be distinct). */
struct zone_set *zone_set_new(struct zone *const *zones, size_t count);
void zone_set_free(struct zone_set *s);
/* The zone with the longest apex that is a suffix of name, or NULL (REFUSED). */
const struct zone *zone_set_find(const struct zone_set *s, const struct wire_name *name);
/* The zone with the longest apex that is a proper suffix of name (the parent side of a cut), or NULL. */
const struct zone *zone_set_find_parent(const struct zone_set *s, const struct wire_name *name);
/* Exact apex lookup, or NULL. */
const struct zone *zone_set_get(const struct zone_set *s, const uint8_t *apex, size_t len);

/* RFC 1982 serial number arithmetic on SOA serials: negative when a precedes b (b is newer), 0 when
 * equal, positive when a follows b, and ZONE_SERIAL_UNDEFINED when they are exactly 2^31 apart, where
 * RFC 1982 leaves the order undefined (neither may be taken as newer). */
#define ZONE_SERIAL_UNDEFINED 2
int zone_serial_compare(uint32_t a, uint32_t b);

/* Hash of an uncompressed lowercased wire name, shared by zone tables and zone sets: wire_name_hash,
 * so that the hash the query parser computes finds the node. */
uint32_t zone_name_hash(const uint8_t *name, size_t len);

#endif
