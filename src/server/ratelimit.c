/* ratelimit.c -- the shared GCRA table of ratelimit.h and the truncated reply of a slipped query. */
#include "meridian/ratelimit.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meridian/client.h"
#include "meridian/wire.h"

#define WAYS	  4 /* slots per set: a network may take any slot of its set */
#define TIME_BITS 40
#define TIME_MASK ((UINT64_C(1) << TIME_BITS) - 1)
#define TAG_MASK  UINT64_C(0xffffff)
#define CAS_TRIES 4

struct ratelimit {
	uint64_t *slots;   /* tag << TIME_BITS | virtual time; 0: free */
	uint64_t set_mask; /* sets - 1 */
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct ratelimit *ratelimit_new(unsigned slots)
{
	if (slots < WAYS || (slots & (slots - 1)) || sodium_init() < 0)
		return NULL;
	struct ratelimit *t = calloc(1, sizeof(*t));
	if (!t || !(t->slots = aligned_alloc(64, (size_t)slots * sizeof(uint64_t)))) {
		free(t);
		return NULL;
	}
	memset(t->slots, 0, (size_t)slots * sizeof(uint64_t));
	t->set_mask = slots / WAYS - 1;
	randombytes_buf(t->key, sizeof(t->key));
	return t;
}

void ratelimit_free(struct ratelimit *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

uint64_t ratelimit_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Cuts addr to the client network the spec counts it in: an IPv4 (or IPv4-mapped) address to
 * ipv4_prefix, any other to ipv6_prefix. */
static void cut_to_network(const struct ratelimit_spec *spec, uint8_t addr[16])
{
	unsigned prefix = memcmp(addr, v4_mapped, 12) == 0 ? 96 + spec->ipv4_prefix : spec->ipv6_prefix;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > 8 * i ? prefix - 8 * i : 0;
		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

/* How far virtual time t leads now (both TIME_BITS wide; negative: it lags). */
static int64_t lead(uint64_t t, uint64_t now)
{
	uint64_t d = (t - now) & TIME_MASK;
	return d & (UINT64_C(1) << (TIME_BITS - 1)) ? (int64_t)d - (int64_t)(UINT64_C(1) << TIME_BITS)
						    : (int64_t)d;
}

enum ratelimit_verdict ratelimit_check(struct ratelimit *t, const struct ratelimit_spec *spec,
				       const struct sockaddr_storage *peer, uint64_t now,
				       unsigned *slip_count)
{
	struct client_net client;
	if (!t || !spec->rate || !client_net_of(&client, 0, 0, NULL, peer) ||
	    geo_nets_contain(spec->exempt, spec->exempt_count, client.addr))
		return RATELIMIT_PASS;
	uint8_t *addr = client.addr;
	cut_to_network(spec, addr);
	uint64_t hash;
	crypto_shorthash((uint8_t *)&hash, addr, sizeof(client.addr), t->key);
	uint64_t tag = (hash >> TIME_BITS) & TAG_MASK;
	tag += !tag; /* 0 marks a free slot */
	uint64_t *set = t->slots + (hash & t->set_mask) * WAYS;
	const int64_t step = 1000000 / spec->rate; /* virtual time per response */
	const int64_t limit = (int64_t)spec->burst * step;
	now &= TIME_MASK;

	for (int attempt = 0; attempt < CAS_TRIES; attempt++) {
		/* The network's slot, or the one to take: free, or idle the longest. A lead beyond the
		 * limit cannot be ours: a slot left alone for a wrap of the clock (12.7 days) is idle. */
		uint64_t *slot = NULL, old = 0;
		int64_t idlest = INT64_MAX;
		bool found = false;
		for (int w = 0; w < WAYS; w++) {
			uint64_t v = __atomic_load_n(&set[w], __ATOMIC_RELAXED);
			if (v && v >> TIME_BITS == tag) {
				slot = &set[w], old = v, found = true;
				break;
			}
			int64_t l = v ? lead(v & TIME_MASK, now) : INT64_MIN;
			if (l > limit)
				l = INT64_MIN + 1;
			if (l < idlest)
				slot = &set[w], old = v, idlest = l;
		}
		int64_t ahead = found ? lead(old & TIME_MASK, now) : 0;
		if (ahead < 0 || ahead > limit)
			ahead = 0;
		if (ahead + step > limit) {
			unsigned n = ++*slip_count;
			return spec->slip && n % spec->slip == 0 ? RATELIMIT_TRUNCATE : RATELIMIT_DROP;
		}
		uint64_t next = tag << TIME_BITS | ((now + (uint64_t)(ahead + step)) & TIME_MASK);
		if (__atomic_compare_exchange_n(slot, &old, next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return RATELIMIT_PASS;
	}
	return RATELIMIT_PASS; /* lost every race to other threads: not worth more work */
}

size_t ratelimit_truncated(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	if (len < WIRE_HEADER_SIZE || (pkt[2] & 0x80) || pkt[4] != 0 || pkt[5] != 1)
		return 0;
	size_t name = wire_name_length(pkt + WIRE_HEADER_SIZE, len - WIRE_HEADER_SIZE);
	size_t n = WIRE_HEADER_SIZE + name + 4;
	if (!name || n > len || n > cap)
		return 0;
	memcpy(out, pkt, n);
	out[2] = (uint8_t)(0x80 | (pkt[2] & 0x79) | 0x02); /* QR, opcode and RD kept, TC */
	out[3] = pkt[3] & 0x10;				   /* CD kept; RCODE NOERROR */
	memset(out + 6, 0, 6);				   /* no answer, authority or additional */
	return n;
}
