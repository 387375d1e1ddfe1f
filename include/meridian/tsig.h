/* tsig.h -- transaction signatures (TSIG, RFC 8945): shared-secret keys, verifying a signed message
 * and signing one, including the messages of a zone transfer.
 *
 * The HMACs come from nettle: each key is hashed into its inner and outer states once, when the
 * config is loaded, and every signature starts from a copy of them, so verifying and signing never
 * allocate, lock or block; the query path uses them directly. Algorithms: hmac-md5 (for old peers),
 * hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512. MACs are sent whole; a request's
 * truncated MAC (RFC 8945 5.2.2.1) is refused with BADTRUNC.
 *
 * A message's TSIG record is found by wire_parse_query (wire_query.tsig_at): the last record of the
 * additional section, class ANY, TTL 0; anywhere else it is a format error. */
#ifndef MERIDIAN_TSIG_H
#define MERIDIAN_TSIG_H

#include <nettle/md5.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/wire.h"

#define TSIG_MAC_MAX	64  /* octets of the longest MAC (hmac-sha512) */
#define TSIG_FUDGE	300 /* seconds of clock difference we allow, and ask peers to allow */
#define TSIG_SECRET_MAX 512 /* octets of a secret */

enum tsig_algorithm {
	TSIG_HMAC_MD5,
	TSIG_HMAC_SHA1,
	TSIG_HMAC_SHA224,
	TSIG_HMAC_SHA256,
	TSIG_HMAC_SHA384,
	TSIG_HMAC_SHA512,
	TSIG_ALGORITHMS
};

/* TSIG's error field (RFC 8945 3, 5.2); a response carrying one has rcode NOTAUTH. */
enum tsig_error {
	TSIG_NOERROR = 0,
	TSIG_BADSIG = 16,
	TSIG_BADKEY = 17,
	TSIG_BADTIME = 18,
	TSIG_BADTRUNC = 22,
};

/* A hash state of any of the algorithms above, aligned for all. */
union tsig_hash_state {
	struct md5_ctx md5;
	struct sha1_ctx sha1;
	struct sha256_ctx sha256;
	struct sha512_ctx sha512;
};

/* HMAC state: the key hashed into outer and inner once; state is a working copy of inner. */
struct tsig_hmac {
	union tsig_hash_state outer, inner, state;
};

struct tsig_key {
	const char *name_text; /* as configured */
	struct wire_name name; /* lowercased wire form */
	enum tsig_algorithm algorithm;
	const struct nettle_hash *hash;
	unsigned mac_len; /* the algorithm's digest size */
	struct tsig_hmac keyed;
	unsigned line; /* where the config defines it, for messages */
};

/* The algorithm named s ("hmac-sha256", case-insensitive; a trailing dot allowed), or false. */
bool tsig_algorithm_parse(const char *s, enum tsig_algorithm *out);
/* The algorithm's name as TSIG writes it ("hmac-sha256."). */
const char *tsig_algorithm_name(enum tsig_algorithm a);
/* Sets up k: name (its text, and wire form: wire_len octets), algorithm and secret (base64, as
 * tsig-keygen, ldns-keygen and keymgr print it). On failure writes why to err and returns false. */
bool tsig_key_init(struct tsig_key *k, const char *name, const uint8_t *wire, size_t wire_len,
		   enum tsig_algorithm algorithm, const char *secret_base64, char *err, size_t err_size);

/* What verifying a message's TSIG found. */
struct tsig_check {
	enum tsig_error error;	    /* TSIG_NOERROR: signed by key, in time */
	const struct tsig_key *key; /* the key the message names, NULL when we have none of that name and
				     * algorithm (BADKEY) */
	/* From the message's TSIG record: */
	struct wire_name key_name;
	struct wire_name algorithm_name;
	uint64_t time_signed;
	uint16_t original_id;
	uint8_t mac[TSIG_MAC_MAX]; /* its MAC (a response's signature starts from it) */
	uint16_t mac_len;
};

/* Where the TSIG record of a message that is not a query (a response) starts: the last record of its
 * additional section, when that is one; 0 otherwise. Queries have wire_parse_query find it. */
size_t tsig_find(const uint8_t *pkt, size_t len);
/* Verifies the TSIG record at pkt[tsig_at] (as wire_query.tsig_at found it) of the message pkt (len
 * octets), against keys (count of them) at time now (seconds since the epoch). prior (prior_len
 * octets) is the request's MAC when the message is a response, else NULL. The checks come in RFC 8945
 * 5.2's order: key, MAC, time, truncation. Returns false when the record is malformed (the sender
 * gets FORMERR); otherwise true with the outcome in out. */
bool tsig_verify(const struct tsig_key *keys, size_t count, const uint8_t *prior, size_t prior_len,
		 const uint8_t *pkt, size_t len, size_t tsig_at, uint64_t now, struct tsig_check *out);

/* Signing a message, or the messages of a transfer one after another. */
struct tsig_signer {
	const struct tsig_key *key;
	uint8_t prior[TSIG_MAC_MAX]; /* the request's MAC, then each message's own (RFC 8945 5.3.1) */
	uint16_t prior_len;
	unsigned signed_count; /* messages signed so far: the second and later sign the timers only */
	uint64_t request_time; /* the request's time signed: a BADTIME reply echoes it (5.2.3) */
};

/* For a request we send (NOTIFY): nothing precedes it. */
void tsig_signer_request(struct tsig_signer *s, const struct tsig_key *key);
/* For the response(s) to a request that verified (or failed only on time or truncation) as c. */
void tsig_signer_response(struct tsig_signer *s, const struct tsig_check *c);

/* Octets the TSIG record of key's signature takes (what an answer must leave free for it), with
 * BADTIME's six octets of other data. */
size_t tsig_record_size(const struct tsig_key *key);
/* Signs msg (len octets; cap the room there is) with error (TSIG_NOERROR but for BADTIME/BADTRUNC
 * replies) at time now (a BADTIME reply: at the request's time, with now as other data, as BIND and
 * Knot do, so the client's own time check passes and it learns our time): appends the TSIG record
 * and counts it in ARCOUNT. Returns the new length, or
 * 0 when the record does not fit (msg unchanged). The MAC is then s->prior (for the next message, or
 * for verifying the response to a request). */
size_t tsig_sign(struct tsig_signer *s, uint8_t *msg, size_t len, size_t cap, uint64_t now,
		 enum tsig_error error);
/* The unsigned TSIG record of a BADKEY or BADSIG reply to the request c was found in: its key and
 * algorithm names and time signed, an empty MAC. Returns the new length, or 0 when it does not fit. */
size_t tsig_append_unsigned(const struct tsig_check *c, uint8_t *msg, size_t len, size_t cap);
/* Octets tsig_append_unsigned will add for c. */
size_t tsig_unsigned_size(const struct tsig_check *c);

/* The current time for TSIG: seconds since the epoch (a vDSO call, no system call). */
uint64_t tsig_now(void);

#endif
