/* test_tsig.c -- TSIG (tsig.h): signed queries answered and signed, each verified by ldns (an
 * independent implementation of RFC 8945); the errors BADKEY, BADSIG, BADTIME and BADTRUNC; where a
 * TSIG record may stand; transfers that need the zone's key, signed message by message; the config. */
#include <check.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/conf.h"
#include "meridian/loader.h"
#include "meridian/query.h"
#include "meridian/transfer.h"
#include "meridian/tsig.h"
#include "support.h"

/* 32 octets; OTHER is another secret */
#define SECRET "bWVyaWRpYW4tdHNpZy10ZXN0LXNlY3JldC0wMTIzNDU="
#define OTHER  "b3RoZXItc2VjcmV0LWZvci10aGUtdHNpZy10ZXN0cyE="

static const struct {
	const char *config; /* as the config names it */
	const char *ldns;   /* as ldns names it; NULL: Debian's ldns cannot (dig checks it, test_tsig.sh) */
	unsigned mac_len;
} algs[] = {
    {"hmac-md5", "hmac-md5.sig-alg.reg.int.", 16},
    {"hmac-sha1", "hmac-sha1.", 20},
    {"hmac-sha224", NULL, 28},
    {"hmac-sha256", "hmac-sha256.", 32},
    {"hmac-sha384", NULL, 48},
    {"hmac-sha512", "hmac-sha512.", 64},
};
#define ALGS (sizeof(algs) / sizeof(algs[0]))

#define ZONE_HEAD                                                                                            \
	"$ORIGIN example.com.\n$TTL 300\n"                                                                   \
	"@ SOA ns1 hostmaster 2024010107 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n"                 \
	"www A 192.0.2.80\n"

/* A config with a key k-ALG per algorithm (all with SECRET) serving example.com with zone_extra in
 * its entry, the zone having hosts more A records. */
static struct snapshot *load(unsigned hosts, const char *zone_extra)
{
	unit_write_hosts_zone("t.zone", ZONE_HEAD, hosts);
	char config[4096];
	size_t len = (size_t)snprintf(config, sizeof(config),
				      "serial = 1\nlisten = { \"127.0.0.1:5353\" }\ntsig_keys = {\n");
	for (size_t i = 0; i < ALGS; i++)
		len += (size_t)snprintf(config + len, sizeof(config) - len,
					"  { name = \"k-%s\", algorithm = \"%s\", secret = \"%s\" },\n",
					algs[i].config, algs[i].config, SECRET);
	snprintf(config + len, sizeof(config) - len,
		 "}\nzones = { { name = \"example.com\", file = \"t.zone\", %s } }\n", zone_extra);
	return unit_load_snapshot("t.conf", config);
}

static const struct tsig_key *key_named(const struct snapshot *s, const char *alg)
{
	for (size_t i = 0; i < s->conf->tsig_key_count; i++)
		if (strcmp(s->conf->tsig_keys[i].name_text + 2, alg) == 0)
			return &s->conf->tsig_keys[i];
	ck_abort_msg("no key k-%s", alg);
	return NULL;
}

/* A query (id 0x4242, with EDNS when edns) in wire form into out, signed by ldns with key name and
 * secret under algorithm alg (ldns's name) unless key is NULL; *mac gets the request's MAC rdf. */
static size_t query(uint8_t *out, const char *qname, ldns_rr_type type, bool edns, const char *key,
		    const char *secret, const char *alg, ldns_rdf **mac)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), type, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(p, 0x4242);
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, 1232);
		ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_HEX, ""));
	}
	if (key) {
		ck_assert_int_eq(ldns_pkt_tsig_sign(p, key, secret, 300, alg, NULL), LDNS_STATUS_OK);
		if (mac)
			*mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static struct query_stats last_stats; /* of the last answer() */

/* The query path's answer to q from 127.0.0.1, into out (*len), read back with ldns. */
static ldns_pkt *answer(const struct snapshot *s, const uint8_t *q, size_t qlen, enum query_transport t,
			uint8_t *out, size_t *len)
{
	struct sockaddr_storage peer = unit_address("127.0.0.1");
	struct wire_query scratch;
	last_stats = (struct query_stats){0};
	*len = query_answer(s, q, qlen, &peer, out, 65535, t, &scratch, &last_stats);
	ck_assert_uint_gt(*len, 0);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, *len), LDNS_STATUS_OK);
	return p;
}

/* The TSIG record's error field and MAC size. */
static unsigned tsig_error_of(const ldns_pkt *p)
{
	ck_assert_ptr_nonnull(ldns_pkt_tsig(p));
	return ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p), 5));
}

static size_t tsig_mac_size(const ldns_pkt *p)
{
	return ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(p), 3)) - 2;
}

static size_t sign_at(uint8_t *q, size_t len, const struct tsig_key *key, uint64_t when, ldns_rdf **mac);

/* Whether the response out (len octets) verifies with key after the request MAC mac, by our own
 * tsig_verify (for the algorithms ldns lacks). */
static bool self_verified(const struct tsig_key *key, const ldns_rdf *mac, const uint8_t *out, size_t len)
{
	struct tsig_check c;
	size_t at = tsig_find(out, len);
	return at &&
	       tsig_verify(key, 1, ldns_rdf_data(mac) + 2, ldns_rdf_size(mac) - 2, out, len, at, tsig_now(),
			   &c) &&
	       c.error == TSIG_NOERROR;
}

/* ---- answers ---- */

START_TEST(signed_answers)
{
	struct snapshot *s = load(0, "");
	static uint8_t q[1024], out[65535];
	size_t len;
	for (size_t i = 0; i < ALGS; i++) {
		char key[32];
		snprintf(key, sizeof(key), "k-%s.", algs[i].config);
		for (int t = 0; t < 2; t++) {
			ldns_rdf *mac = NULL;
			size_t qlen;
			if (algs[i].ldns) {
				qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, t == 0, key, SECRET,
					     algs[i].ldns, &mac);
			} else {
				qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, t == 0, NULL, NULL, NULL,
					     NULL);
				qlen = sign_at(q, qlen, key_named(s, algs[i].config), tsig_now(), &mac);
			}
			ldns_pkt *p = answer(s, q, qlen, t == 0 ? QUERY_UDP : QUERY_TCP, out, &len);
			ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
			ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
			ck_assert_uint_eq(tsig_error_of(p), 0);
			ck_assert_uint_eq(tsig_mac_size(p), algs[i].mac_len);
			ck_assert_uint_eq(last_stats.tsig_verified, 1);
			ck_assert_uint_eq(last_stats.tsig_failed, 0);
			if (algs[i].ldns) {
				ck_assert_msg(ldns_pkt_tsig_verify(p, out, len, key, SECRET, mac),
					      "%s: ldns rejects our signature", algs[i].config);
				ck_assert(
				    !ldns_pkt_tsig_verify(p, out, len, key, OTHER, mac)); /* it can fail */
			}
			ck_assert(self_verified(key_named(s, algs[i].config), mac, out, len));
			out[len - 10] ^= 1; /* a bit of the MAC */
			ck_assert(!self_verified(key_named(s, algs[i].config), mac, out, len));
			ldns_pkt_free(p);
			ldns_rdf_deep_free(mac);
		}
	}
	/* an unsigned query still gets an unsigned answer */
	size_t qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, true, NULL, NULL, NULL, NULL);
	ldns_pkt *p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_ptr_null(ldns_pkt_tsig(p));
	ldns_pkt_free(p);
	snapshot_free(s);
}
END_TEST

START_TEST(unknown_key_and_bad_signature)
{
	struct snapshot *s = load(0, "");
	static uint8_t q[1024], out[65535];
	size_t len;
	/* a key we do not have: NOTAUTH, BADKEY, unsigned (RFC 8945 5.2.1) */
	size_t qlen =
	    query(q, "www.example.com.", LDNS_RR_TYPE_A, true, "nokey.", SECRET, "hmac-sha256.", NULL);
	ldns_pkt *p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), 9);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADKEY);
	ck_assert_uint_eq(tsig_mac_size(p), 0);
	ck_assert_uint_eq(last_stats.tsig_failed, 1);
	ck_assert_uint_eq(last_stats.tsig_verified, 0);
	char *owner = ldns_rdf2str(ldns_rr_owner(ldns_pkt_tsig(p)));
	ck_assert_str_eq(owner, "nokey.");
	free(owner);
	ldns_pkt_free(p);
	/* our key's name under another algorithm: BADKEY too */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, true, "k-hmac-sha256.", SECRET, "hmac-sha512.",
		     NULL);
	p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADKEY);
	ldns_pkt_free(p);
	/* the wrong secret: BADSIG, unsigned (5.2.2) */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, "k-hmac-sha256.", OTHER, "hmac-sha256.",
		     NULL);
	p = answer(s, q, qlen, QUERY_TCP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), 9);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADSIG);
	ck_assert_uint_eq(tsig_mac_size(p), 0);
	ldns_pkt_free(p);
	/* the ID changed on the way (a forwarder): the MAC covers the original ID the record names */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, "k-hmac-sha256.", SECRET, "hmac-sha256.",
		     NULL);
	q[0] ^= 0x5a;
	p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_NOERROR);
	ldns_pkt_free(p);
	/* a signed query whose bytes changed after signing */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, "k-hmac-sha256.", SECRET, "hmac-sha256.",
		     NULL);
	q[12 + 1] = 'W'; /* www -> Www: the same question, other bytes */
	p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADSIG);
	ldns_pkt_free(p);
	snapshot_free(s);
}
END_TEST

/* Signs the unsigned query q (len octets) ourselves with key at time when; returns the new length
 * and the request's MAC as an ldns rdf (length first, as ldns keeps a MAC). */
static size_t sign_at(uint8_t *q, size_t len, const struct tsig_key *key, uint64_t when, ldns_rdf **mac)
{
	struct tsig_signer signer;
	tsig_signer_request(&signer, key);
	len = tsig_sign(&signer, q, len, 1024, when, TSIG_NOERROR);
	ck_assert_uint_gt(len, 0);
	uint8_t m[2 + TSIG_MAC_MAX];
	m[0] = 0;
	m[1] = (uint8_t)signer.prior_len;
	memcpy(m + 2, signer.prior, signer.prior_len);
	*mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2u + signer.prior_len, m);
	return len;
}

START_TEST(bad_time)
{
	struct snapshot *s = load(0, "");
	const struct tsig_key *key = key_named(s, "hmac-sha256");
	static uint8_t q[1024], out[65535];
	size_t len;
	ldns_rdf *mac;
	/* within the fudge: answered */
	size_t qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, true, NULL, NULL, NULL, NULL);
	qlen = sign_at(q, qlen, key, tsig_now() - 200, &mac);
	ldns_pkt *p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ck_assert(ldns_pkt_tsig_verify(p, out, len, "k-hmac-sha256.", SECRET, mac));
	ldns_pkt_free(p);
	ldns_rdf_deep_free(mac);
	/* 1000 s late: NOTAUTH, BADTIME, signed, with our time as other data (5.2.3) */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, true, NULL, NULL, NULL, NULL);
	qlen = sign_at(q, qlen, key, tsig_now() - 1000, &mac);
	uint64_t before = tsig_now();
	p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), 9);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADTIME);
	ck_assert_uint_eq(tsig_mac_size(p), 32);
	const ldns_rdf *other = ldns_rr_rdf(ldns_pkt_tsig(p), 6);
	ck_assert_uint_eq(ldns_rdf_size(other), 2 + 6);
	uint64_t theirs = 0;
	for (int i = 0; i < 6; i++)
		theirs = theirs << 8 | ldns_rdf_data(other)[2 + i];
	ck_assert(theirs >= before && theirs <= before + 2);
	/* and time signed is the request's (as BIND and Knot do), so the client's time check passes */
	const ldns_rdf *signed_at = ldns_rr_rdf(ldns_pkt_tsig(p), 1);
	uint64_t echoed = 0;
	for (int i = 0; i < 6; i++)
		echoed = echoed << 8 | ldns_rdf_data(signed_at)[i];
	ck_assert(echoed + 1000 + 1 >= before && echoed + 1000 <= before);
	ck_assert(ldns_pkt_tsig_verify(p, out, len, "k-hmac-sha256.", SECRET, mac));
	ldns_pkt_free(p);
	ldns_rdf_deep_free(mac);
	/* 1000 s early, the same */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, NULL, NULL, NULL, NULL);
	qlen = sign_at(q, qlen, key, tsig_now() + 1000, &mac);
	p = answer(s, q, qlen, QUERY_TCP, out, &len);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADTIME);
	ldns_pkt_free(p);
	ldns_rdf_deep_free(mac);
	snapshot_free(s);
}
END_TEST

/* Cuts the MAC of the TSIG record at q[at] (the last record of q, len octets) to keep octets;
 * returns the new length. */
static size_t cut_mac(uint8_t *q, size_t len, size_t at, unsigned keep)
{
	size_t pos = at;
	while (q[pos])
		pos += q[pos] + 1u;
	pos++;
	size_t rdlen_at = pos + 8, rdata = pos + 10;
	size_t mac_size_at = rdata + wire_name_length(q + rdata, len - rdata) + 8;
	unsigned mac_len = (unsigned)q[mac_size_at] << 8 | q[mac_size_at + 1];
	unsigned rdlen = (unsigned)q[rdlen_at] << 8 | q[rdlen_at + 1];
	size_t mac = mac_size_at + 2;
	memmove(q + mac + keep, q + mac + mac_len, len - (mac + mac_len));
	q[mac_size_at] = 0;
	q[mac_size_at + 1] = (uint8_t)keep;
	rdlen = rdlen - mac_len + keep;
	q[rdlen_at] = (uint8_t)(rdlen >> 8);
	q[rdlen_at + 1] = (uint8_t)rdlen;
	return len - mac_len + keep;
}

START_TEST(truncated_mac)
{
	struct snapshot *s = load(0, "");
	const struct tsig_key *key = key_named(s, "hmac-sha256");
	static uint8_t q[1024], out[65535];
	size_t len;
	ldns_rdf *mac;
	struct wire_query wq;
	/* half the MAC, a valid truncation (RFC 8945 5.2.2.1): we ask for whole MACs, BADTRUNC, signed */
	size_t qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, NULL, NULL, NULL, NULL);
	qlen = sign_at(q, qlen, key, tsig_now(), &mac);
	ldns_rdf_deep_free(mac);
	ck_assert_int_eq(wire_parse_query(q, qlen, &wq), WIRE_PARSE_OK);
	qlen = cut_mac(q, qlen, wq.tsig_at, 16);
	ldns_pkt *p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), 9);
	ck_assert_uint_eq(tsig_error_of(p), TSIG_BADTRUNC);
	ck_assert_uint_eq(tsig_mac_size(p), 32);
	ldns_pkt_free(p);
	/* shorter than half the digest, or than 10 octets: a format error */
	qlen = query(q, "www.example.com.", LDNS_RR_TYPE_A, false, NULL, NULL, NULL, NULL);
	qlen = sign_at(q, qlen, key, tsig_now(), &mac);
	ldns_rdf_deep_free(mac);
	qlen = cut_mac(q, qlen, wq.tsig_at, 8);
	p = answer(s, q, qlen, QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ck_assert_ptr_null(ldns_pkt_tsig(p));
	ldns_pkt_free(p);
	struct tsig_check c;
	ck_assert(!tsig_verify(s->conf->tsig_keys, s->conf->tsig_key_count, NULL, 0, q, qlen, wq.tsig_at,
			       tsig_now(), &c));
	snapshot_free(s);
}
END_TEST

/* ---- where a TSIG record may stand ---- */

START_TEST(placement)
{
	struct snapshot *s = load(0, "");
	static uint8_t q[1024], out[65535];
	size_t len;
	struct wire_query wq;
	size_t qlen =
	    query(q, "www.example.com.", LDNS_RR_TYPE_A, false, "k-hmac-sha1.", SECRET, "hmac-sha1.", NULL);
	ck_assert_int_eq(wire_parse_query(q, qlen, &wq), WIRE_PARSE_OK);
	ck_assert_uint_gt(wq.tsig_at, 12);
	size_t at = wq.tsig_at;
	/* an OPT record after it: no longer the last (RFC 8945 5.1) */
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	uint8_t bad[1024];
	memcpy(bad, q, qlen);
	memcpy(bad + qlen, opt, sizeof(opt));
	bad[11]++;
	ck_assert_int_eq(wire_parse_query(bad, qlen + sizeof(opt), &wq), WIRE_PARSE_FORMERR);
	ldns_pkt *p = answer(s, bad, qlen + sizeof(opt), QUERY_UDP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
	/* class IN instead of ANY; a TTL */
	size_t owner_end = at + wire_name_length(q + at, qlen - at);
	memcpy(bad, q, qlen);
	bad[owner_end + 3] = 1;
	ck_assert_int_eq(wire_parse_query(bad, qlen, &wq), WIRE_PARSE_FORMERR);
	memcpy(bad, q, qlen);
	bad[owner_end + 7] = 1;
	ck_assert_int_eq(wire_parse_query(bad, qlen, &wq), WIRE_PARSE_FORMERR);
	/* in the authority section */
	memcpy(bad, q, qlen);
	bad[9] = 1;
	bad[11] = 0;
	ck_assert_int_eq(wire_parse_query(bad, qlen, &wq), WIRE_PARSE_FORMERR);
	/* and tsig_find, for responses, finds it where the query parser did */
	ck_assert_uint_eq(tsig_find(q, qlen), at);
	ck_assert_uint_eq(tsig_find(bad, qlen), 0);
	snapshot_free(s);
}
END_TEST

/* ---- transfers ---- */

/* The Extended DNS Error text of a refusal (or "" without one). */
static const char *ede_text(const ldns_pkt *p)
{
	static char text[128];
	text[0] = 0;
	const ldns_rdf *data = ldns_pkt_edns_data(p);
	if (!data)
		return text;
	const uint8_t *o = ldns_rdf_data(data);
	size_t olen = ldns_rdf_size(data), pos = 0;
	while (pos + 4 <= olen) {
		unsigned code = (unsigned)o[pos] << 8 | o[pos + 1],
			 l = (unsigned)o[pos + 2] << 8 | o[pos + 3];
		if (code == 15 && l >= 2)
			snprintf(text, sizeof(text), "%.*s", (int)(l - 2), (const char *)o + pos + 6);
		pos += 4 + l;
	}
	return text;
}

START_TEST(transfer_needs_the_zone_key)
{
	struct snapshot *s = load(0, "transfer = { \"127.0.0.0/8\" }, transfer_key = \"k-hmac-sha256\"");
	ck_assert_ptr_eq(s->conf->zones[0].transfer_key, key_named(s, "hmac-sha256"));
	static uint8_t q[1024], out[65535];
	size_t len;
	struct sockaddr_storage local = unit_address("127.0.0.1"), far = unit_address("192.0.2.1");
	struct tsig_check c;
	/* unsigned: refused, saying why */
	size_t qlen = query(q, "example.com.", LDNS_RR_TYPE_AXFR, true, NULL, NULL, NULL, NULL);
	ck_assert(!transfer_check(s, q, qlen, &local, tsig_now(), &c));
	ck_assert(!transfer_wanted(s, q, qlen, &local));
	ldns_pkt *p = answer(s, q, qlen, QUERY_TCP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ck_assert_str_eq(ede_text(p), "zone transfer needs a TSIG signature with the zone's key");
	ldns_pkt_free(p);
	/* signed with another key we have: refused, the refusal signed */
	ldns_rdf *mac = NULL;
	qlen =
	    query(q, "example.com.", LDNS_RR_TYPE_AXFR, true, "k-hmac-sha512.", SECRET, "hmac-sha512.", &mac);
	ck_assert(!transfer_check(s, q, qlen, &local, tsig_now(), &c));
	p = answer(s, q, qlen, QUERY_TCP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ck_assert_str_eq(ede_text(p), "zone transfer needs a TSIG signature with the zone's key");
	ck_assert(ldns_pkt_tsig_verify(p, out, len, "k-hmac-sha512.", SECRET, mac));
	ldns_pkt_free(p);
	ldns_rdf_deep_free(mac);
	/* the zone's key, the wrong secret: not handed over (the query path says BADSIG) */
	qlen =
	    query(q, "example.com.", LDNS_RR_TYPE_AXFR, false, "k-hmac-sha256.", OTHER, "hmac-sha256.", NULL);
	ck_assert(!transfer_check(s, q, qlen, &local, tsig_now(), &c));
	/* the zone's key: wanted from a transfer net only */
	qlen = query(q, "example.com.", LDNS_RR_TYPE_AXFR, false, "k-hmac-sha256.", SECRET, "hmac-sha256.",
		     NULL);
	ck_assert(transfer_check(s, q, qlen, &local, tsig_now(), &c));
	ck_assert_ptr_eq(c.key, key_named(s, "hmac-sha256"));
	ck_assert(transfer_wanted(s, q, qlen, &local));
	ck_assert(!transfer_check(s, q, qlen, &far, tsig_now(), &c));
	p = answer(s, q, qlen, QUERY_TCP, out, &len);
	ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED); /* had it not been handed over */
	ldns_pkt_free(p);
	snapshot_free(s);

	/* a zone without a transfer_key: any key we have will do, and the transfer is signed with it */
	s = load(0, "transfer = { \"127.0.0.0/8\" }");
	qlen = query(q, "example.com.", LDNS_RR_TYPE_AXFR, false, "k-hmac-md5.", SECRET,
		     "hmac-md5.sig-alg.reg.int.", NULL);
	ck_assert(transfer_check(s, q, qlen, &local, tsig_now(), &c));
	ck_assert_ptr_eq(c.key, key_named(s, "hmac-md5"));
	qlen = query(q, "example.com.", LDNS_RR_TYPE_AXFR, false, NULL, NULL, NULL, NULL);
	ck_assert(transfer_check(s, q, qlen, &local, tsig_now(), &c));
	ck_assert_ptr_null(c.key);
	snapshot_free(s);
}
END_TEST

START_TEST(signed_transfer_messages)
{
	struct snapshot *s = load(3000, "transfer = { \"127.0.0.1\" }, transfer_key = \"k-hmac-sha512\"");
	static uint8_t q[1024], msg[TRANSFER_MESSAGE_MAX];
	struct sockaddr_storage local = unit_address("127.0.0.1");
	ldns_rdf *mac = NULL;
	size_t qlen =
	    query(q, "example.com.", LDNS_RR_TYPE_AXFR, true, "k-hmac-sha512.", SECRET, "hmac-sha512.", &mac);
	struct tsig_check c;
	ck_assert(transfer_check(s, q, qlen, &local, tsig_now(), &c));
	/* as the transfer server does it (server.c) */
	struct wire_query wq;
	ck_assert_int_eq(wire_parse_query(q, qlen, &wq), WIRE_PARSE_OK);
	struct transfer_stream st;
	transfer_stream_start(&st, zone_set_get(s->zones, wq.qname.data, wq.qname.len), &wq, q, qlen, 1232);
	struct tsig_signer signer;
	tsig_signer_response(&signer, &c);
	size_t len;
	unsigned messages = 0, records = 0;
	while ((len = transfer_stream_next(&st, msg, TRANSFER_MESSAGE_MAX - tsig_record_size(c.key)))) {
		len = tsig_sign(&signer, msg, len, sizeof(msg), tsig_now(), TSIG_NOERROR);
		ck_assert_uint_gt(len, 0);
		ldns_pkt *p = NULL;
		ck_assert_int_eq(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
		/* RFC 8945 5.3.1: the first after the request's MAC, each later one after the previous
		 * message's MAC, its timers only */
		ck_assert_msg(
		    ldns_pkt_tsig_verify_next(p, msg, len, "k-hmac-sha512.", SECRET, mac, messages > 0),
		    "message %u does not verify", messages);
		ck_assert(
		    !ldns_pkt_tsig_verify_next(p, msg, len, "k-hmac-sha512.", SECRET, mac, messages == 0));
		records += ldns_pkt_ancount(p);
		ldns_rdf_deep_free(mac);
		mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
		ldns_pkt_free(p);
		messages++;
	}
	ldns_rdf_deep_free(mac);
	ck_assert_uint_ge(messages, 4);
	ck_assert_uint_eq(records, 3000 + 4 + 1);
	snapshot_free(s);
}
END_TEST

/* ---- the config ---- */

static const char *config_error(const char *body)
{
	char config[2048];
	unit_write_file("c.zone", ZONE_HEAD);
	snprintf(config, sizeof(config), "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n%s", body);
	const char *e = unit_conf_error("c.conf", config);
	const char *at = strstr(e, "c.conf:");
	return at ? at : e;
}

START_TEST(secret_file)
{
	unit_write_file("t.zone", ZONE_HEAD);
	unit_write_file("xfr.secret", "  " SECRET "\n");
	struct conf *c =
	    unit_load_conf("f.conf", "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
				     "tsig_keys = { { name = \"xfr\", secret_file = \"xfr.secret\" } }\n");
	ck_assert_uint_eq(c->tsig_key_count, 1);
	/* the same key as one given inline: a query signed with SECRET verifies */
	struct snapshot *s = load(0, "");
	ck_assert_mem_eq(&c->tsig_keys[0].keyed, &key_named(s, "hmac-sha256")->keyed,
			 sizeof(struct tsig_hmac));
	snapshot_free(s);
	conf_free(c);
}
END_TEST

START_TEST(config)
{
	ck_assert_str_eq(
	    config_error("tsig_keys = { { name = \"a\", algorithm = \"hmac-sha3\", secret = \"" SECRET
			 "\" } }\n"),
	    "c.conf:3: tsig_keys[1].algorithm: \"hmac-sha3\" is not one of hmac-sha256, hmac-sha512, "
	    "hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5");
	ck_assert_str_eq(config_error("tsig_keys = {\n  { name = \"a\",\n    secret = \"not base64!\" } }\n"),
			 "c.conf:5: tsig_keys[1].secret: the secret is not base64 (of at most 512 octets)");
	ck_assert_str_eq(config_error("tsig_keys = { { name = \"a\", secret = \"\" } }\n"),
			 "c.conf:3: tsig_keys[1].secret: expected a non-empty string");
	ck_assert_str_eq(config_error("tsig_keys = { { name = \"a\" } }\n"),
			 "c.conf:3: tsig_keys[1].secret: missing (expected the key's secret in base64, as "
			 "tsig-keygen prints it, or secret_file)");
	/* the secret from a file (relative to the config's folder) */
	unit_write_file("xfr.secret", SECRET "\n");
	unit_write_file("bad.secret", "not base64\n");
	const char *e =
	    config_error("tsig_keys = { { name = \"a\",\n  secret_file = \"missing.secret\" } }\n");
	ck_assert_msg(strncmp(e, "c.conf:4: tsig_keys[1].secret_file: /", 37) == 0 &&
			  strstr(e, "/missing.secret: cannot read: No such file or directory"),
		      "%s", e);
	ck_assert_str_eq(
	    config_error("tsig_keys = { { name = \"a\",\n  secret_file = \"bad.secret\" } }\n"),
	    "c.conf:4: tsig_keys[1].secret_file: the secret is not base64 (of at most 512 octets)");
	ck_assert_str_eq(config_error("tsig_keys = { { name = \"a\", secret = \"" SECRET
				      "\",\n  secret_file = \"xfr.secret\" } }\n"),
			 "c.conf:3: tsig_keys[1]: give secret or secret_file, not both");
	ck_assert_str_eq(config_error("tsig_keys = { { name = \"a\", secret = \"" SECRET
				      "\" },\n  { name = \"A.\", secret = \"" OTHER "\" } }\n"),
			 "c.conf:4: tsig_keys[2].name: duplicate key \"A.\" (line 3)");
	ck_assert_str_eq(
	    config_error("tsig_keys = { { name = \"a\", secret = \"" SECRET "\", size = 3 } }\n"),
	    "c.conf:3: tsig_keys[1]: unknown key 'size'");
	ck_assert_str_eq(
	    config_error("tsig_keys = { { name = \"xfr-key\", secret = \"" SECRET "\" } }\n"
			 "zones = { { name = \"example.com\", file = \"c.zone\",\n"
			 "  transfer = { \"127.0.0.1\" }, transfer_key = \"xfr-kye\" } }\n"),
	    "c.conf:5: zone example.com: transfer_key: no TSIG key named 'xfr-kye' (did you mean "
	    "'xfr-key'?)");
	ck_assert_str_eq(
	    config_error("zones = { { name = \"example.com\", file = \"c.zone\",\n"
			 "  transfer_key = \"k\" } }\n"),
	    "c.conf:4: zones[1].transfer_key: needs a transfer list (the nets the key may transfer "
	    "from; \"0.0.0.0/0\" and \"::/0\" for any)");
	ck_assert_str_eq(config_error("zones = { { name = \"example.com\", file = \"c.zone\",\n"
				      "  transfer = { \"127.0.0.1\" }, transfer_key = \"k\" } }\n"),
			 "c.conf:4: zone example.com: transfer_key: no TSIG key named 'k' (no TSIG keys are "
			 "defined)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tsig");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signed_answers);
	tcase_add_test(tc, unknown_key_and_bad_signature);
	tcase_add_test(tc, bad_time);
	tcase_add_test(tc, truncated_mac);
	tcase_add_test(tc, placement);
	tcase_add_test(tc, transfer_needs_the_zone_key);
	tcase_add_test(tc, signed_transfer_messages);
	tcase_add_test(tc, secret_file);
	tcase_add_test(tc, config);
	suite_add_tcase(s, tc);
	return unit_run_in_tmpdir(s, "tsig");
}
