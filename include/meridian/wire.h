/* wire.h -- DNS wire format: names, query parsing and response building.
 *
 * This module knows the protocol (RFC 1035, 2181, 6891, 7871) and nothing of zones or servers.
 * Invariants: nothing here allocates, locks or logs; every parser bounds-checks against the packet
 * length and never reads past it; every builder call either writes a complete item or leaves the
 * message unchanged and returns false. */
#ifndef MERIDIAN_WIRE_H
#define MERIDIAN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_HEADER_SIZE 12
#define WIRE_NAME_MAX	 255   /* octets of a wire name, root label included */
#define WIRE_LABELS_MAX	 128   /* labels of a wire name, root label included */
#define WIRE_UDP_MIN	 512   /* payload every client accepts */
#define WIRE_MSG_MAX	 65535 /* largest DNS message (TCP) */

enum wire_type {
	WIRE_TYPE_A = 1,
	WIRE_TYPE_NS = 2,
	WIRE_TYPE_MD = 3,
	WIRE_TYPE_MF = 4,
	WIRE_TYPE_CNAME = 5,
	WIRE_TYPE_SOA = 6,
	WIRE_TYPE_MB = 7,
	WIRE_TYPE_MG = 8,
	WIRE_TYPE_MR = 9,
	WIRE_TYPE_PTR = 12,
	WIRE_TYPE_HINFO = 13,
	WIRE_TYPE_MINFO = 14,
	WIRE_TYPE_MX = 15,
	WIRE_TYPE_TXT = 16,
	WIRE_TYPE_AAAA = 28,
	WIRE_TYPE_SRV = 33,
	WIRE_TYPE_DNAME = 39,
	WIRE_TYPE_OPT = 41,
	WIRE_TYPE_DS = 43,
	WIRE_TYPE_RRSIG = 46,
	WIRE_TYPE_NSEC = 47,
	WIRE_TYPE_DNSKEY = 48,
	WIRE_TYPE_NSEC3 = 50,
	WIRE_TYPE_NSEC3PARAM = 51,
	WIRE_TYPE_ZONEMD = 63,
	WIRE_TYPE_TKEY = 249,
	WIRE_TYPE_TSIG = 250,
	WIRE_TYPE_IXFR = 251,
	WIRE_TYPE_AXFR = 252,
	WIRE_TYPE_MAILB = 253,
	WIRE_TYPE_MAILA = 254,
	WIRE_TYPE_ANY = 255,
};

enum wire_class { WIRE_CLASS_IN = 1, WIRE_CLASS_CH = 3, WIRE_CLASS_NONE = 254, WIRE_CLASS_ANY = 255 };

enum wire_rcode {
	WIRE_RCODE_NOERROR = 0,
	WIRE_RCODE_FORMERR = 1,
	WIRE_RCODE_SERVFAIL = 2,
	WIRE_RCODE_NXDOMAIN = 3,
	WIRE_RCODE_NOTIMP = 4,
	WIRE_RCODE_REFUSED = 5,
	WIRE_RCODE_YXDOMAIN = 6,   /* a DNAME substitution would make a name over 255 octets */
	WIRE_RCODE_NOTAUTH = 9,	   /* a TSIG that does not verify (RFC 8945 5.2) */
	WIRE_RCODE_BADVERS = 16,   /* extended: upper 8 bits go in the OPT record */
	WIRE_RCODE_BADCOOKIE = 23, /* extended (RFC 7873) */
};

enum wire_opcode { WIRE_OPCODE_QUERY = 0 };

/* Header flag bits, as they sit in the 16-bit flags word (host order). */
#define WIRE_FLAG_QR	      0x8000u
#define WIRE_FLAG_AA	      0x0400u
#define WIRE_FLAG_TC	      0x0200u
#define WIRE_FLAG_RD	      0x0100u
#define WIRE_FLAG_RA	      0x0080u
#define WIRE_FLAG_AD	      0x0020u
#define WIRE_FLAG_CD	      0x0010u
#define WIRE_OPCODE_OF(flags) (((flags) >> 11) & 0xfu)

enum wire_edns_option {
	WIRE_EDNS_NSID = 3,
	WIRE_EDNS_ECS = 8,
	WIRE_EDNS_COOKIE = 10,
	WIRE_EDNS_TCP_KEEPALIVE = 11,
	WIRE_EDNS_EDE = 15
};

/* Extended DNS Error codes (RFC 8914) that answers carry. */
enum wire_ede {
	WIRE_EDE_PROHIBITED = 18,	 /* refused by the operator's choice */
	WIRE_EDE_NOT_AUTHORITATIVE = 20, /* no zone here holds the name */
	WIRE_EDE_NOT_SUPPORTED = 21,	 /* a kind of query this server does not serve */
};

/* Whether the data of a client subnet option (len octets at p, after the option's code and length)
 * is well formed in a query (RFC 7871 6): a known family, a source prefix within its address
 * length, exactly the address octets the prefix needs with no bit set beyond it, scope 0. A query
 * with any other gets FORMERR (see parse.c). */
bool wire_ecs_well_formed(const uint8_t *p, size_t len);

enum wire_section { WIRE_SECTION_ANSWER = 0, WIRE_SECTION_AUTHORITY = 1, WIRE_SECTION_ADDITIONAL = 2 };

/* A domain name in uncompressed wire form, lowercased, with the offset of every label.
 * labels[0] = 0 is the first label; labels[label_count - 1] is the root label (offset len - 1).
 * The suffix starting at label i is data + labels[i], of length len - labels[i]. */
struct wire_name {
	uint8_t data[WIRE_NAME_MAX];
	uint8_t len;	     /* octets, root label included (1 for the root) */
	uint8_t label_count; /* labels, root label included (1 for the root) */
	uint8_t labels[WIRE_LABELS_MAX];
};

/* Builds a wire_name from an uncompressed wire name (as stored in zones and rdata): lowercases and
 * indexes the labels. Returns false when src is not a valid uncompressed name within src_len. */
bool wire_name_from_wire(struct wire_name *out, const uint8_t *src, size_t src_len);
/* Exact equality of two names of len octets (both lowercased, as in zones): a word at a time, for
 * the lookups that confirm a hash match. */
bool wire_name_same(const uint8_t *a, const uint8_t *b, size_t len);
/* Case-insensitive equality of two uncompressed wire names. */
bool wire_name_equal(const uint8_t *a, const uint8_t *b, size_t len);
/* True when the uncompressed name (len octets) is apex or below it: apex must match, case-insensitively,
 * a suffix of name that starts at one of its labels. */
bool wire_name_within(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len);
/* Length of the uncompressed wire name at p (at most max octets), or 0 when invalid. */
size_t wire_name_length(const uint8_t *p, size_t max);
/* Reads a possibly compressed name at pkt[*pos] (pointers must point strictly backwards to the start
 * of a previous label, which also rules out loops); on success writes it uncompressed and lowercased
 * to out (may be NULL) and advances *pos past the name's bytes in the packet. */
bool wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, struct wire_name *out);
/* An uncompressed name at pkt[*pos] (the question's, where nothing before can be a pointer's target,
 * or one in rdata): like wire_name_read, but a pointer is refused, and *hash receives wire_name_hash
 * of the lowercased name, computed in the same pass. */
bool wire_name_read_hashed(const uint8_t *pkt, size_t pkt_len, size_t *pos, struct wire_name *out,
			   uint32_t *hash);
/* Presentation form ("www.example.com.") of an uncompressed wire name; returns chars written. */
size_t wire_name_to_text(const uint8_t *name, size_t len, char *out, size_t out_size);
/* Hash of len octets (a lowercased name, for zone tables): computed once per query by the parser, so
 * the zone lookup does not hash the qname again. Never leaves the process. */
uint32_t wire_name_hash(const uint8_t *name, size_t len);

/* The outcome of parsing a query: what the server does with it. */
enum wire_parse_status {
	WIRE_PARSE_OK,	    /* a well-formed query: answer it */
	WIRE_PARSE_DROP,    /* shorter than a header, or QR=1: send nothing */
	WIRE_PARSE_FORMERR, /* answer FORMERR (question echoed when it parsed, OPT when has_edns) */
	WIRE_PARSE_NOTIMP,  /* opcode other than QUERY: answer NOTIMP (the same echoes) */
	WIRE_PARSE_BADVERS, /* EDNS version above 0: answer BADVERS with an OPT record */
};

/* Everything the answering code needs from a query. Filled by wire_parse_query; no pointers into
 * the packet except question_wire, which is valid as long as the packet buffer is. */
struct wire_query {
	uint16_t id;
	uint16_t flags;		/* header flags word as received */
	struct wire_name qname; /* lowercased */
	uint32_t qname_hash;	/* wire_name_hash of qname (valid when has_question) */
	uint16_t qtype;
	uint16_t qclass;
	bool has_question;	      /* the question section parsed (for echoing in errors) */
	const uint8_t *question_wire; /* the question as received (case preserved), for echoing */
	uint16_t question_len;	      /* its length: qname + 4 */

	bool has_edns;
	uint16_t edns_payload; /* requester's UDP payload size, raised to 512 when lower */
	uint8_t edns_version;
	bool edns_do;
	bool edns_nsid;	     /* the NSID option was present */
	bool edns_keepalive; /* the edns-tcp-keepalive option was present (RFC 7828) */

	/* EDNS client subnet (RFC 7871); valid when has_ecs. */
	bool has_ecs;
	uint16_t ecs_family; /* 1 = IPv4, 2 = IPv6 */
	uint8_t ecs_source_prefix;
	uint8_t ecs_scope_prefix;
	uint8_t ecs_addr[16]; /* address bits beyond the prefix are zero */

	/* DNS Cookie (RFC 7873): the option's data in the packet (NULL: none). Malformed when a second
	 * one came or its length is not a client cookie with an optional 8 to 32 octet server cookie
	 * (cookie_len is then at most 40). */
	const uint8_t *cookie;
	uint8_t cookie_len;
	bool cookie_malformed;
	/* QDCOUNT 0 in a QUERY whose other sections were walked (FORMERR, but for a cookie query, RFC
	 * 7873 5.4: the client asks for a server cookie). */
	bool empty_question;
	/* TSIG (RFC 8945, tsig.h): where the message's TSIG record starts, 0 when it has none. */
	uint16_t tsig_at;
};

/* Parses a query. Order of checks: length < 12 or QR=1 -> DROP; opcode -> NOTIMP; QDCOUNT != 1,
 * a bad name (label types 0x40/0x80, over 255 octets, forward or looping pointers), a truncated
 * section, an OPT record outside the additional section or more than one, an OPT not owned by the
 * root, a malformed EDNS option (ECS: unknown family, source prefix longer than the address, address
 * bits beyond the prefix, wrong length), a TSIG record that is not the additional section's last or
 * is not class ANY with TTL 0 -> FORMERR; EDNS version > 0 -> BADVERS (the options of such
 * an OPT record are not read: they mean what that version says, so none of them is malformed).
 * The answer, authority and additional sections are walked (to find OPT) but not kept. A NOTIMP
 * query, or one with QDCOUNT 0, is still walked: when that finds a valid OPT, has_edns is set, so the
 * error carries an OPT as RFC 6891 7 asks (the EDNS version is not checked then). */
enum wire_parse_status wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q);

/* Whether a COOKIE option of len octets is well formed: an 8-octet client cookie alone, or with a
 * server cookie of 8 to 32 octets (RFC 7873 5.2.2; the server answers anything else with FORMERR). */
bool wire_cookie_well_formed(size_t len);

/* Name compression: the builder remembers where each suffix of every name it wrote starts, so later
 * names point to the longest suffix already in the message. The entries form a tree of suffixes read
 * from the root: an entry's parent is its suffix one label shorter, so a name is matched label by
 * label from its end. Entries 0 .. n-1 are the question's suffixes (longest first); their chain is
 * implicit (matched against the qname directly), so only their offset and child are set, and only
 * later entries sit in child lists. */
#define WIRE_COMPRESS_ANSWER 64 /* entries for the names written after the question */
/* Every suffix of the longest qname has an entry, whatever its depth (a question's suffixes are what
 * answers share: the zone's apex, a CNAME's parent), and 64 more are left for the rest. */
#define WIRE_COMPRESS_MAX  (WIRE_LABELS_MAX - 1 + WIRE_COMPRESS_ANSWER)
#define WIRE_COMPRESS_NONE 0xFFu /* no entry: the root as a parent, the end of a list */

struct wire_compress_entry {
	uint16_t offset; /* where this suffix starts in the message (< 0x4000) */
	uint8_t parent;	 /* the entry one label shorter, or WIRE_COMPRESS_NONE (the root) */
	uint8_t child;	 /* the last entry added with this one as parent, or WIRE_COMPRESS_NONE */
	uint8_t sibling; /* the entry added before this one with the same parent, or WIRE_COMPRESS_NONE */
};

/* A name written recently and the entry that holds all of it: an RRset repeats its owner, a CNAME's
 * target or an NS name comes back as the next owner, and these then cost one compare. */
#define WIRE_RECENT_MAX 4

struct wire_recent {
	uint8_t len;
	uint8_t entry;		     /* index in compress of the whole name */
	uint8_t name[WIRE_NAME_MAX]; /* a copy: callers may reuse their buffers */
};

/* A response under construction in a caller-provided buffer. */
struct wire_builder {
	uint8_t *buf;
	size_t limit;	   /* the message may not grow past this (payload size or 65535) */
	size_t reserved;   /* bytes kept free at the end for the OPT record */
	size_t len;	   /* bytes written */
	uint16_t count[3]; /* RRs in answer, authority, additional */
	int section;	   /* section being written; sections only move forward */
	struct wire_compress_entry compress[WIRE_COMPRESS_MAX];
	unsigned compress_count;
	unsigned question_entries;     /* entries 0 .. question_entries - 1 are the qname's suffixes */
	uint8_t root_child;	       /* the last entry added with the root as parent */
	const struct wire_name *qname; /* the query's qname (lowercased), NULL without a question */
	struct wire_recent recent[WIRE_RECENT_MAX];
	unsigned recent_count; /* names recorded so far; slot = count % WIRE_RECENT_MAX */
	unsigned sibling_scan; /* labels compared per level when looking for a suffix (the newest first) */
};

/* Saved position for undoing a partly written section (truncation). */
struct wire_mark {
	size_t len;
	uint16_t count[3];
	unsigned compress_count;
};

/* Starts a response to q in buf (limit bytes): header with q's id, QR=1, q's opcode and RD copied,
 * everything else clear (CD too: RFC 4035 3.1.6); the question is echoed from q->question_wire when
 * has_question (its name registered for compression, so the qname is always at offset 12). q must stay valid
 * until the message is finished: names are compressed against q->qname.
 * Returns false only when limit is too small for header and question. */
bool wire_build_start(struct wire_builder *b, uint8_t *buf, size_t limit, const struct wire_query *q);
/* Looks at most n entries of one parent (the newest first) when looking for a suffix to point to;
 * wire_build_start sets no limit. A zone transfer's messages hold hundreds of names under one
 * parent, each new: scanning them all for every name would cost more than compressing saves. */
void wire_build_limit_search(struct wire_builder *b, unsigned n);
/* Keeps n bytes free at the end (for the OPT record written last). */
void wire_build_reserve(struct wire_builder *b, size_t n);
void wire_build_set_flags(struct wire_builder *b, uint16_t set_bits); /* ORs bits into the flags */
void wire_build_clear_flags(struct wire_builder *b, uint16_t clear_bits);
void wire_build_set_rcode(struct wire_builder *b, unsigned rcode); /* the low 4 bits */
/* Appends one RR. owner is an uncompressed wire name (compressed on output); rdata is uncompressed;
 * names in the rdata of NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO and MX are compressed, all
 * others are copied as they are (RFC 3597). Returns false, writing nothing, when it does not fit. */
bool wire_build_rr(struct wire_builder *b, enum wire_section section, const uint8_t *owner, size_t owner_len,
		   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* Whether wire_build_rr compresses the names in rdata of this type (the RFC 1035 types above). */
bool wire_type_compresses(uint16_t type);
void wire_build_mark(const struct wire_builder *b, struct wire_mark *m);
void wire_build_rollback(struct wire_builder *b, const struct wire_mark *m);

/* The OPT record of a response. */
struct wire_edns_reply {
	uint16_t payload;    /* our UDP payload size */
	uint8_t ext_rcode;   /* upper 8 bits of the extended rcode (1 for BADVERS) */
	bool do_bit;	     /* echo of the query's DO */
	const uint8_t *nsid; /* NSID to send, or NULL */
	uint16_t nsid_len;
	bool ecs; /* echo an ECS option with the query's family, source and address */
	uint16_t ecs_family;
	uint8_t ecs_source_prefix;
	uint8_t ecs_scope_prefix;
	const uint8_t *ecs_addr;
	const uint8_t *cookie; /* COOKIE option data to send (after NSID and ECS), or NULL */
	uint16_t cookie_len;
	bool keepalive;		    /* an edns-tcp-keepalive option (RFC 7828) with keepalive_timeout */
	uint16_t keepalive_timeout; /* the connection's idle timeout in units of 100 ms */
	bool ede; /* an Extended DNS Error (RFC 8914), last: ede_code and ede_text (NULL: no text) */
	uint16_t ede_code;
	const char *ede_text;
};

/* Bytes the OPT record for r will take (to reserve before writing the sections). */
size_t wire_edns_size(const struct wire_edns_reply *r);
/* Writes the OPT record into the additional section, using the reserved space. */
bool wire_build_opt(struct wire_builder *b, const struct wire_edns_reply *r);
/* Writes the section counts into the header; returns the message length. */
size_t wire_build_finish(struct wire_builder *b);

#endif
