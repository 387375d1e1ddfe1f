/* cookie.c -- DNS Cookies (see cookie.h). */
#include "meridian/cookie.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#define VERSION	    1
#define STAMP_AT    4 /* a server cookie: version, 3 reserved octets, timestamp, hash */
#define HASH_AT	    8
#define PAST_MAX    3600 /* seconds a server cookie holds (RFC 9018 4.3) */
#define FUTURE_MAX  300	 /* seconds of clock skew allowed */
#define RENEW_AFTER 1800 /* seconds after which a valid server cookie is replaced */

/* The hash of client cookie | version, reserved, timestamp (head: 8 octets) | address. */
static void hash(uint8_t out[8], const uint8_t client[COOKIE_CLIENT_LEN], const uint8_t head[8],
		 const struct sockaddr_storage *peer, const uint8_t key[COOKIE_SECRET_LEN])
{
	uint8_t in[COOKIE_CLIENT_LEN + 8 + 16];
	size_t n = COOKIE_CLIENT_LEN + 8;
	memcpy(in, client, COOKIE_CLIENT_LEN);
	memcpy(in + COOKIE_CLIENT_LEN, head, 8);
	if (peer && peer->ss_family == AF_INET) {
		memcpy(in + n, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		n += 4;
	} else if (peer && peer->ss_family == AF_INET6) {
		memcpy(in + n, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
		n += 16;
	}
	crypto_shorthash_siphash24(out, in, n, key);
}

void cookie_make(uint8_t server[COOKIE_SERVER_LEN], const uint8_t client[COOKIE_CLIENT_LEN], uint32_t now,
		 const struct sockaddr_storage *peer, const uint8_t key[COOKIE_SECRET_LEN])
{
	server[0] = VERSION;
	server[1] = server[2] = server[3] = 0;
	server[STAMP_AT] = (uint8_t)(now >> 24);
	server[STAMP_AT + 1] = (uint8_t)(now >> 16);
	server[STAMP_AT + 2] = (uint8_t)(now >> 8);
	server[STAMP_AT + 3] = (uint8_t)now;
	hash(server + HASH_AT, client, server, peer, key);
}

enum cookie_verdict cookie_answer(const struct cookie_secrets *s, const uint8_t *cookie, size_t len,
				  const struct sockaddr_storage *peer, uint32_t now,
				  uint8_t reply[COOKIE_REPLY_LEN])
{
	enum cookie_verdict verdict = len == COOKIE_CLIENT_LEN ? COOKIE_CLIENT_ONLY : COOKIE_INVALID;
	bool keep = false;
	const uint8_t *server = cookie + COOKIE_CLIENT_LEN;
	if (len == COOKIE_REPLY_LEN && server[0] == VERSION) {
		uint32_t stamp = (uint32_t)server[STAMP_AT] << 24 | (uint32_t)server[STAMP_AT + 1] << 16 |
				 (uint32_t)server[STAMP_AT + 2] << 8 | server[STAMP_AT + 3];
		int32_t age = (int32_t)(now - stamp); /* serial arithmetic: the timestamp wraps */
		if (age >= -FUTURE_MAX && age <= PAST_MAX) {
			uint8_t expect[8];
			for (unsigned k = 0; k < s->count && verdict != COOKIE_VALID; k++) {
				hash(expect, cookie, server, peer, s->key[k]);
				if (sodium_memcmp(expect, server + HASH_AT, 8) == 0) {
					verdict = COOKIE_VALID;
					/* reserved octets the client set are hashed as sent, and
					 * replaced by a cookie of our own */
					keep = k == 0 && age < RENEW_AFTER && !server[1] && !server[2] &&
					       !server[3];
				}
			}
		}
	}
	memcpy(reply, cookie, COOKIE_CLIENT_LEN);
	if (keep)
		memcpy(reply + COOKIE_CLIENT_LEN, server, COOKIE_SERVER_LEN);
	else
		cookie_make(reply + COOKIE_CLIENT_LEN, cookie, now, peer, s->key[0]);
	return verdict;
}

static uint32_t fixed_now;

void cookie_now_fix(uint32_t t)
{
	fixed_now = t;
}

uint32_t cookie_now(void)
{
	if (fixed_now)
		return fixed_now;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

bool cookie_secret_parse(const char *hex, size_t len, uint8_t key[COOKIE_SECRET_LEN])
{
	size_t bin_len = 0;
	return len == COOKIE_HEX_LEN &&
	       sodium_hex2bin(key, COOKIE_SECRET_LEN, hex, len, NULL, &bin_len, NULL) == 0 &&
	       bin_len == COOKIE_SECRET_LEN;
}

static uint8_t process_key[COOKIE_SECRET_LEN];
static bool process_key_ok;
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void draw_process_key(void)
{
	if (sodium_init() >= 0) {
		randombytes_buf(process_key, sizeof(process_key));
		process_key_ok = true;
	}
}

bool cookie_process_secret(uint8_t key[COOKIE_SECRET_LEN])
{
	pthread_once(&process_key_once, draw_process_key);
	memcpy(key, process_key, COOKIE_SECRET_LEN);
	return process_key_ok;
}
