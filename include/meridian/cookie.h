/* cookie.h -- DNS Cookies (RFC 7873) with interoperable server cookies (RFC 9018).
 *
 * A client sends an 8-octet client cookie, and after its first answer also the server cookie it got.
 * Ours is RFC 9018's: version 1, three reserved octets, a 32-bit timestamp and an 8-octet
 * SipHash-2-4 (libsodium's crypto_shorthash) over client cookie | version | reserved | timestamp |
 * client address, keyed with a 16-octet secret. Servers of one anycast address that share the
 * secret accept each other's cookies. A server cookie holds from an hour in the past to five
 * minutes ahead; one over half an hour old is replaced (RFC 9018 4.3).
 *
 * Several secrets may be configured for a rollover: the first makes cookies, every one is accepted.
 * Nothing here allocates, locks or blocks: it runs on the query path, for queries with a cookie. */
#ifndef MERIDIAN_COOKIE_H
#define MERIDIAN_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define COOKIE_CLIENT_LEN  8
#define COOKIE_SERVER_LEN  16 /* the server cookie we make */
#define COOKIE_REPLY_LEN   (COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN)
#define COOKIE_SECRET_LEN  16
#define COOKIE_SECRETS_MAX 4
#define COOKIE_HEX_LEN	   (2 * COOKIE_SECRET_LEN) /* a secret written in a config */

struct cookie_secrets {
	uint8_t key[COOKIE_SECRETS_MAX][COOKIE_SECRET_LEN]; /* key[0] makes cookies; each one checks */
	unsigned count;
};

enum cookie_verdict {
	COOKIE_CLIENT_ONLY, /* no server cookie */
	COOKIE_INVALID,	    /* a server cookie we did not make, made for another client, or expired */
	COOKIE_VALID,
};

/* The RFC 9018 server cookie for client (8 octets) at timestamp now, for the address in peer (none
 * when NULL or not IPv4/IPv6), keyed with key. */
void cookie_make(uint8_t server[COOKIE_SERVER_LEN], const uint8_t client[COOKIE_CLIENT_LEN], uint32_t now,
		 const struct sockaddr_storage *peer, const uint8_t key[COOKIE_SECRET_LEN]);

/* Judges the well-formed (wire_cookie_well_formed) cookie option data (len octets) of a query from peer at
 * now, and writes the reply's option data to reply: the client cookie and a server cookie, the query's own
 * when it is valid, made with the first secret and under half an hour old, else a new one. */
enum cookie_verdict cookie_answer(const struct cookie_secrets *s, const uint8_t *cookie, size_t len,
				  const struct sockaddr_storage *peer, uint32_t now,
				  uint8_t reply[COOKIE_REPLY_LEN]);

/* The time in seconds as a cookie timestamp (the coarse clock: no system call). */
uint32_t cookie_now(void);
/* For tests that compare answers made at different moments: cookie_now returns t from now on (0:
 * the clock again). */
void cookie_now_fix(uint32_t t);

/* Reads a secret written as 32 hex digits; false when it is not one. */
bool cookie_secret_parse(const char *hex, size_t len, uint8_t key[COOKIE_SECRET_LEN]);

/* A random secret drawn once per process (for configs that set none, so a reload keeps cookies
 * valid); false when no randomness could be had. */
bool cookie_process_secret(uint8_t key[COOKIE_SECRET_LEN]);

#endif
