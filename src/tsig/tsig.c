/* tsig.c -- TSIG (RFC 8945): keys, verifying a message's signature, signing messages.
 *
 * What a MAC covers (RFC 8945 4.3): the prior MAC (a request's, for its response; the previous
 * message's, for a transfer's later messages) with its length, the message as it was before its TSIG
 * record was added (ARCOUNT one less, the ID the record names), then the TSIG variables: key name,
 * class ANY, TTL 0, algorithm name (both names lowercased and uncompressed), time signed, fudge,
 * error and other data; a transfer's later messages cover the timers (time signed, fudge) only. No
 * copy of the message is made: the header is hashed from a 12-octet copy, the rest in place. */
#include "meridian/tsig.h"

#include <nettle/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RR_FIXED 10 /* type, class, TTL, rdlength */

static const struct {
	const char *text;    /* as configured */
	const uint8_t *wire; /* as TSIG writes it */
	uint8_t wire_len;
	const struct nettle_hash *hash;
} algorithms[TSIG_ALGORITHMS] = {
    [TSIG_HMAC_MD5] = {"hmac-md5.sig-alg.reg.int", (const uint8_t *)"\x08hmac-md5\x07sig-alg\x03reg\x03int",
		       26, &nettle_md5},
    [TSIG_HMAC_SHA1] = {"hmac-sha1", (const uint8_t *)"\x09hmac-sha1", 11, &nettle_sha1},
    [TSIG_HMAC_SHA224] = {"hmac-sha224", (const uint8_t *)"\x0bhmac-sha224", 13, &nettle_sha224},
    [TSIG_HMAC_SHA256] = {"hmac-sha256", (const uint8_t *)"\x0bhmac-sha256", 13, &nettle_sha256},
    [TSIG_HMAC_SHA384] = {"hmac-sha384", (const uint8_t *)"\x0bhmac-sha384", 13, &nettle_sha384},
    [TSIG_HMAC_SHA512] = {"hmac-sha512", (const uint8_t *)"\x0bhmac-sha512", 13, &nettle_sha512},
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint64_t get48(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

bool tsig_algorithm_parse(const char *s, enum tsig_algorithm *out)
{
	size_t len = strlen(s);
	if (len && s[len - 1] == '.')
		len--;
	for (int a = 0; a < TSIG_ALGORITHMS; a++) {
		const char *t = algorithms[a].text;
		if ((strlen(t) == len && strncasecmp(s, t, len) == 0) ||
		    (a == TSIG_HMAC_MD5 && len == 8 && strncasecmp(s, "hmac-md5", 8) == 0)) {
			*out = (enum tsig_algorithm)a;
			return true;
		}
	}
	return false;
}

const char *tsig_algorithm_name(enum tsig_algorithm a)
{
	return algorithms[a].text;
}

bool tsig_key_init(struct tsig_key *k, const char *name, const uint8_t *wire, size_t wire_len,
		   enum tsig_algorithm algorithm, const char *secret_base64, char *err, size_t err_size)
{
	memset(k, 0, sizeof(*k));
	if (!wire_name_from_wire(&k->name, wire, wire_len) || k->name.len == 1) {
		snprintf(err, err_size, "\"%s\" is not a domain name below the root", name);
		return false;
	}
	uint8_t secret[TSIG_SECRET_MAX];
	size_t secret_len = 0;
	const char *end;
	if (sodium_base642bin(secret, sizeof(secret), secret_base64, strlen(secret_base64), " \t\r\n",
			      &secret_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    *end != '\0') {
		snprintf(err, err_size, "the secret is not base64 (of at most %d octets)", TSIG_SECRET_MAX);
		return false;
	}
	if (secret_len == 0) {
		snprintf(err, err_size, "the secret is empty");
		return false;
	}
	k->name_text = name;
	k->algorithm = algorithm;
	k->hash = algorithms[algorithm].hash;
	k->mac_len = k->hash->digest_size;
	hmac_set_key(&k->keyed.outer, &k->keyed.inner, &k->keyed.state, k->hash, secret_len, secret);
	sodium_memzero(secret, sizeof(secret));
	return true;
}

uint64_t tsig_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec;
}

/* ---- MAC computation ---- */

/* The TSIG variables (RFC 8945 4.3.3) up to other data's length into out; returns their length.
 * timers_only: time signed and fudge alone (a transfer's later messages, 5.3.1). */
static size_t vars_write(uint8_t *out, const struct wire_name *key_name, const struct wire_name *alg,
			 uint64_t time_signed, uint16_t fudge, uint16_t error, uint16_t other_len,
			 bool timers_only)
{
	size_t n = 0;
	if (!timers_only) {
		memcpy(out, key_name->data, key_name->len);
		n = key_name->len;
		put16(out + n, WIRE_CLASS_ANY);
		memset(out + n + 2, 0, 4); /* TTL */
		n += 6;
		memcpy(out + n, alg->data, alg->len);
		n += alg->len;
	}
	put48(out + n, time_signed);
	put16(out + n + 6, fudge);
	n += 8;
	if (!timers_only) {
		put16(out + n, error);
		put16(out + n + 2, other_len);
		n += 4;
	}
	return n;
}

#define VARS_MAX (2 * WIRE_NAME_MAX + 6 + 8 + 4)

/* What one MAC covers (see the top of this file). */
struct mac_input {
	const uint8_t *prior; /* NULL: nothing precedes the message */
	size_t prior_len;
	const uint8_t *msg; /* the message, its TSIG record excluded */
	size_t msg_len;
	uint16_t id;	  /* the ID to hash in place of the header's */
	uint16_t arcount; /* the ARCOUNT to hash */
	const uint8_t *vars;
	size_t vars_len;
	const uint8_t *other; /* other data, after vars */
	size_t other_len;
};

static void mac_compute(const struct tsig_key *k, const struct mac_input *in, uint8_t *mac)
{
	struct tsig_hmac h = k->keyed;
	if (in->prior) {
		uint8_t n[2];
		put16(n, (unsigned)in->prior_len);
		hmac_update(&h.state, k->hash, 2, n);
		hmac_update(&h.state, k->hash, in->prior_len, in->prior);
	}
	uint8_t header[WIRE_HEADER_SIZE];
	memcpy(header, in->msg, WIRE_HEADER_SIZE);
	put16(header, in->id);
	put16(header + 10, in->arcount);
	hmac_update(&h.state, k->hash, WIRE_HEADER_SIZE, header);
	hmac_update(&h.state, k->hash, in->msg_len - WIRE_HEADER_SIZE, in->msg + WIRE_HEADER_SIZE);
	hmac_update(&h.state, k->hash, in->vars_len, in->vars);
	if (in->other_len)
		hmac_update(&h.state, k->hash, in->other_len, in->other);
	hmac_digest(&h.outer, &h.inner, &h.state, k->hash, k->mac_len, mac);
}

/* ---- verifying ---- */

size_t tsig_find(const uint8_t *pkt, size_t len)
{
	if (len < WIRE_HEADER_SIZE)
		return 0;
	unsigned qd = get16(pkt + 4), rrs = (unsigned)get16(pkt + 6) + get16(pkt + 8) + get16(pkt + 10);
	size_t pos = WIRE_HEADER_SIZE, last = 0;
	for (unsigned i = 0; i < qd; i++) {
		if (!wire_name_read(pkt, len, &pos, NULL) || len - pos < 4)
			return 0;
		pos += 4;
	}
	uint16_t type = 0;
	for (unsigned i = 0; i < rrs; i++) {
		last = pos;
		if (!wire_name_read(pkt, len, &pos, NULL) || len - pos < RR_FIXED ||
		    len - pos - RR_FIXED < get16(pkt + pos + 8))
			return 0;
		type = get16(pkt + pos);
		pos += RR_FIXED + get16(pkt + pos + 8);
	}
	return get16(pkt + 10) && type == WIRE_TYPE_TSIG ? last : 0;
}

static const struct tsig_key *key_find(const struct tsig_key *keys, size_t count,
				       const struct wire_name *name, const struct wire_name *alg)
{
	for (size_t i = 0; i < count; i++) {
		const struct tsig_key *k = &keys[i];
		if (k->name.len == name->len && wire_name_same(k->name.data, name->data, name->len) &&
		    algorithms[k->algorithm].wire_len == alg->len &&
		    wire_name_equal(algorithms[k->algorithm].wire, alg->data, alg->len))
			return k;
	}
	return NULL;
}

bool tsig_verify(const struct tsig_key *keys, size_t count, const uint8_t *prior, size_t prior_len,
		 const uint8_t *pkt, size_t len, size_t tsig_at, uint64_t now, struct tsig_check *out)
{
	out->error = TSIG_NOERROR;
	out->key = NULL;
	out->mac_len = 0;
	size_t pos = tsig_at;
	if (tsig_at < WIRE_HEADER_SIZE || tsig_at >= len || get16(pkt + 10) == 0 ||
	    !wire_name_read(pkt, len, &pos, &out->key_name) || len - pos < RR_FIXED)
		return false;
	size_t rdlen = get16(pkt + pos + 8);
	pos += RR_FIXED;
	if (len - pos < rdlen)
		return false;
	size_t end = pos + rdlen;
	/* The algorithm name is not compressed (RFC 8945 4.2): read it within the rdata alone. */
	size_t alg_len = wire_name_length(pkt + pos, rdlen);
	if (!alg_len || !wire_name_from_wire(&out->algorithm_name, pkt + pos, alg_len))
		return false;
	pos += alg_len;
	if (end - pos < 10)
		return false;
	out->time_signed = get48(pkt + pos);
	uint16_t fudge = get16(pkt + pos + 6);
	size_t mac_len = get16(pkt + pos + 8);
	pos += 10;
	if (end - pos < mac_len + 6)
		return false;
	const uint8_t *mac = pkt + pos;
	pos += mac_len;
	out->original_id = get16(pkt + pos);
	uint16_t error = get16(pkt + pos + 2);
	uint16_t other_len = get16(pkt + pos + 4);
	pos += 6;
	if (end - pos != other_len)
		return false;

	const struct tsig_key *k = key_find(keys, count, &out->key_name, &out->algorithm_name);
	if (!k) {
		out->error = TSIG_BADKEY;
		return true;
	}
	out->key = k;
	/* RFC 8945 5.2.2.1: a MAC longer than the digest, or shorter than 10 octets or half of it, is a
	 * format error; an empty one (an unsigned error reply) verifies nothing */
	if (mac_len == 0) {
		out->error = TSIG_BADSIG;
		return true;
	}
	if (mac_len > k->mac_len || mac_len < 10 || mac_len < k->mac_len / 2)
		return false;
	uint8_t vars[VARS_MAX], computed[TSIG_MAC_MAX];
	struct mac_input in = {
	    .prior = prior,
	    .prior_len = prior_len,
	    .msg = pkt,
	    .msg_len = tsig_at,
	    .id = out->original_id,
	    .arcount = (uint16_t)(get16(pkt + 10) - 1),
	    .vars = vars,
	    .vars_len = vars_write(vars, &out->key_name, &out->algorithm_name, out->time_signed, fudge, error,
				   other_len, false),
	    .other = pkt + end - other_len,
	    .other_len = other_len,
	};
	mac_compute(k, &in, computed);
	if (sodium_memcmp(computed, mac, mac_len) != 0) {
		out->error = TSIG_BADSIG;
		return true;
	}
	memcpy(out->mac, mac, mac_len);
	out->mac_len = (uint16_t)mac_len;
	uint64_t skew = now > out->time_signed ? now - out->time_signed : out->time_signed - now;
	if (skew > fudge)
		out->error = TSIG_BADTIME;
	else if (mac_len < k->mac_len)
		out->error = TSIG_BADTRUNC; /* we sign whole MACs and ask the same */
	return true;
}

/* ---- signing ---- */

void tsig_signer_request(struct tsig_signer *s, const struct tsig_key *key)
{
	s->key = key;
	s->prior_len = 0;
	s->signed_count = 0;
	s->request_time = 0;
}

void tsig_signer_response(struct tsig_signer *s, const struct tsig_check *c)
{
	s->key = c->key;
	memcpy(s->prior, c->mac, c->mac_len);
	s->prior_len = c->mac_len;
	s->signed_count = 0;
	s->request_time = c->time_signed;
}

/* A TSIG record: owner, type, class, TTL, rdlength, then the rdata up to the MAC, the MAC, original
 * ID, error, other length and other data. */
static size_t record_size(size_t key_len, size_t alg_len, size_t mac_len, size_t other_len)
{
	return key_len + RR_FIXED + alg_len + 10 + mac_len + 6 + other_len;
}

size_t tsig_record_size(const struct tsig_key *key)
{
	return record_size(key->name.len, algorithms[key->algorithm].wire_len, key->mac_len, 6);
}

size_t tsig_unsigned_size(const struct tsig_check *c)
{
	return record_size(c->key_name.len, c->algorithm_name.len, 0, 0);
}

/* Writes a TSIG record at out: returns its length. */
static size_t record_write(uint8_t *out, const struct wire_name *key_name, const struct wire_name *alg,
			   uint64_t time_signed, const uint8_t *mac, size_t mac_len, uint16_t original_id,
			   uint16_t error, const uint8_t *other, size_t other_len)
{
	size_t n = key_name->len;
	memcpy(out, key_name->data, n);
	put16(out + n, WIRE_TYPE_TSIG);
	put16(out + n + 2, WIRE_CLASS_ANY);
	memset(out + n + 4, 0, 4);
	put16(out + n + 8, (unsigned)(alg->len + 10 + mac_len + 6 + other_len));
	n += RR_FIXED;
	memcpy(out + n, alg->data, alg->len);
	n += alg->len;
	put48(out + n, time_signed);
	put16(out + n + 6, TSIG_FUDGE);
	put16(out + n + 8, (unsigned)mac_len);
	n += 10;
	if (mac_len)
		memcpy(out + n, mac, mac_len);
	n += mac_len;
	put16(out + n, original_id);
	put16(out + n + 2, error);
	put16(out + n + 4, (unsigned)other_len);
	n += 6;
	if (other_len)
		memcpy(out + n, other, other_len);
	return n + other_len;
}

size_t tsig_sign(struct tsig_signer *s, uint8_t *msg, size_t len, size_t cap, uint64_t now,
		 enum tsig_error error)
{
	const struct tsig_key *k = s->key;
	struct wire_name alg;
	wire_name_from_wire(&alg, algorithms[k->algorithm].wire, algorithms[k->algorithm].wire_len);
	uint8_t other[6];
	size_t other_len = 0;
	uint64_t time_signed = now;
	if (error == TSIG_BADTIME) { /* our time, for the client to see the difference (5.2.3) */
		put48(other, now);
		other_len = 6;
		time_signed = s->request_time;
	}
	if (len < WIRE_HEADER_SIZE || cap < len ||
	    cap - len < record_size(k->name.len, alg.len, k->mac_len, other_len))
		return 0;
	bool timers_only = s->signed_count > 0;
	uint8_t vars[VARS_MAX], mac[TSIG_MAC_MAX];
	struct mac_input in = {
	    .prior = s->prior_len ? s->prior : NULL,
	    .prior_len = s->prior_len,
	    .msg = msg,
	    .msg_len = len,
	    .id = get16(msg),
	    .arcount = get16(msg + 10),
	    .vars = vars,
	    .vars_len = vars_write(vars, &k->name, &alg, time_signed, TSIG_FUDGE, error, (uint16_t)other_len,
				   timers_only),
	    .other = other,
	    .other_len = timers_only ? 0 : other_len,
	};
	mac_compute(k, &in, mac);
	size_t n = record_write(msg + len, &k->name, &alg, time_signed, mac, k->mac_len, get16(msg), error,
				other, other_len);
	put16(msg + 10, get16(msg + 10) + 1u);
	memcpy(s->prior, mac, k->mac_len);
	s->prior_len = (uint16_t)k->mac_len;
	s->signed_count++;
	return len + n;
}

size_t tsig_append_unsigned(const struct tsig_check *c, uint8_t *msg, size_t len, size_t cap)
{
	if (len < WIRE_HEADER_SIZE || cap < len || cap - len < tsig_unsigned_size(c))
		return 0;
	size_t n = record_write(msg + len, &c->key_name, &c->algorithm_name, c->time_signed, NULL, 0,
				c->original_id, (uint16_t)c->error, NULL, 0);
	put16(msg + 10, get16(msg + 10) + 1u);
	return len + n;
}
