/* transfer.c -- a zone's secondaries in the config: the nets allowed to transfer it ("transfer") and
 * the servers told of its new serials ("notify"). transfer.h serves both. */
#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "schema.h"

#define TRANSFER_NETS_MAX  256
#define NOTIFY_TARGETS_MAX 64
#define NOTIFY_PORT	   "53"

/* The length of the list on top of the stack (what it must be: a list of 1 to max items), or -1
 * when it is not one (reported under flabel). */
static lua_Integer zone_list(struct loader *ld, const char *flabel, unsigned line, const char *what,
			     const char *items, int max)
{
	lua_Integer n = conf_list(ld, flabel, line, what);
	if (n == 0 || n > max) {
		conf_error(ld, line, "%s: expected 1 to %d %s, got %lld", flabel, max, items, (long long)n);
		return -1;
	}
	return n;
}

bool conf_zone_transfer(struct loader *ld, const char *label, unsigned line, struct conf_zone *z)
{
	lua_State *L = ld->L;
	char flabel[64], ilabel[80];
	snprintf(flabel, sizeof(flabel), "%s.transfer", label);
	if (lua_isnil(L, -1))
		return true;
	lua_Integer n =
	    zone_list(ld, flabel, line, "a list of networks \"address/prefix\" allowed to transfer",
		      "networks", TRANSFER_NETS_MAX);
	if (n < 0)
		return false;
	struct geo_net *out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	bool ok = true;
	size_t len;
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", flabel, (long long)i);
		const char *s = conf_string(ld, ilabel, line, 0, 64, false, &len);
		if (!s) {
			ok = false;
		} else if (!geo_net_parse(s, &out[i - 1])) {
			conf_net_error(ld, ilabel, line, s);
			ok = false;
		}
		lua_pop(L, 1);
	}
	z->transfer = out;
	z->transfer_count = ok ? (size_t)n : 0;
	return ok;
}

/* "address" alone means port 53: the text parsed is "address:53" or "[address]:53". */
static bool notify_addr(const char *s, struct conf_listen *out, char *why, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t probe[16];
	if (strlen(s) < INET6_ADDRSTRLEN) {
		if (inet_pton(AF_INET, s, probe) == 1) {
			snprintf(buf, sizeof(buf), "%s:" NOTIFY_PORT, s);
			return conf_parse_addr(buf, out, why, n);
		}
		if (inet_pton(AF_INET6, s, probe) == 1) {
			snprintf(buf, sizeof(buf), "[%s]:" NOTIFY_PORT, s);
			return conf_parse_addr(buf, out, why, n);
		}
	}
	return conf_parse_addr(s, out, why, n);
}

bool conf_zone_notify(struct loader *ld, const char *label, unsigned line, struct conf_zone *z)
{
	lua_State *L = ld->L;
	char flabel[64], ilabel[80], why[96];
	snprintf(flabel, sizeof(flabel), "%s.notify", label);
	if (lua_isnil(L, -1))
		return true;
	lua_Integer n = zone_list(ld, flabel, line, "a list of \"address\" or \"address:port\" strings",
				  "servers", NOTIFY_TARGETS_MAX);
	if (n < 0)
		return false;
	struct conf_listen *out = arena_alloc(&ld->c->arena, (size_t)n * sizeof(*out));
	memset(out, 0, (size_t)n * sizeof(*out));
	bool ok = true;
	size_t len;
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", flabel, (long long)i);
		const char *s = conf_string(ld, ilabel, line, 1, 255, false, &len);
		if (!s)
			ok = false;
		else if (!notify_addr(s, &out[i - 1], why, sizeof(why))) {
			conf_error(ld, line, "%s: \"%s\": %s", ilabel, s, why);
			ok = false;
		} else {
			out[i - 1].text = arena_memdup(&ld->c->arena, s, len + 1);
			for (lua_Integer j = 1; j < i; j++)
				if (out[j - 1].addr_len == out[i - 1].addr_len &&
				    memcmp(&out[j - 1].addr, &out[i - 1].addr, out[i - 1].addr_len) == 0) {
					conf_error(ld, line, "%s: \"%s\" duplicates %s[%lld]", ilabel, s,
						   flabel, (long long)j);
					ok = false;
				}
		}
		lua_pop(L, 1);
	}
	z->notify = out;
	z->notify_count = ok ? (size_t)n : 0;
	return ok;
}

bool conf_zone_ixfr(struct loader *ld, const char *label, unsigned line, struct conf_zone *z)
{
	z->ixfr_versions = CONF_IXFR_DEFAULT;
	if (lua_isnil(ld->L, -1))
		return true;
	char flabel[64];
	snprintf(flabel, sizeof(flabel), "%s.ixfr", label);
	int64_t n;
	if (!conf_int(ld, flabel, line, 0, CONF_IXFR_MAX, &n))
		return false;
	z->ixfr_versions = (unsigned)n;
	return true;
}

/* Whether this host can send from addr (a socket bound to it, port 0), with the reason when not. */
static bool can_send_from(const struct conf_listen *addr, char *why, size_t n)
{
	int fd = socket(addr->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)&addr->addr, addr->addr_len) != 0) {
		snprintf(why, n, "cannot send from it here: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* notify_source = { "192.0.2.1", "2001:db8::1" }: the address each NOTIFY leaves from, at most one
 * per family. It must be an address of this host (checked by binding to it). */
void conf_key_notify_source(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	struct conf_listen *out = ld->c->notify_source;
	memset(out, 0, 2 * sizeof(*out));
	if (lua_isnil(L, -1))
		return;
	lua_Integer n = conf_list(ld, k->name, at->line, "a list of one IPv4 and/or one IPv6 address");
	if (n <= 0)
		return;
	if (n > 2) {
		conf_error(ld, at->line, "%s: expected at most two addresses (one IPv4, one IPv6), got %lld",
			   k->name, (long long)n);
		return;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		char label[64], why[128];
		snprintf(label, sizeof(label), "%s[%lld]", k->name, (long long)i);
		lua_rawgeti(L, -1, i);
		size_t len;
		const char *s = conf_string(ld, label, at->line, 1, INET6_ADDRSTRLEN, false, &len);
		struct conf_listen addr = {0};
		uint8_t probe[16];
		if (!s) {
			lua_pop(L, 1);
			continue;
		}
		if (inet_pton(AF_INET, s, probe) == 1) {
			struct sockaddr_in *v4 = (struct sockaddr_in *)&addr.addr;
			v4->sin_family = AF_INET;
			memcpy(&v4->sin_addr, probe, 4);
			addr.addr_len = sizeof(*v4);
		} else if (inet_pton(AF_INET6, s, probe) == 1) {
			struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr.addr;
			v6->sin6_family = AF_INET6;
			memcpy(&v6->sin6_addr, probe, 16);
			addr.addr_len = sizeof(*v6);
		} else {
			conf_error(ld, at->line, "%s: \"%s\": expected an IPv4 or IPv6 address (no port)",
				   label, s);
			lua_pop(L, 1);
			continue;
		}
		struct conf_listen *slot = &out[addr.addr.ss_family == AF_INET ? 0 : 1];
		if (slot->addr_len)
			conf_error(ld, at->line, "%s: \"%s\": a second %s address (one per family)", label, s,
				   addr.addr.ss_family == AF_INET ? "IPv4" : "IPv6");
		else if (!can_send_from(&addr, why, sizeof(why)))
			conf_error(ld, at->line, "%s: \"%s\": %s", label, s, why);
		else {
			*slot = addr;
			slot->text = arena_memdup(&ld->c->arena, s, len + 1);
		}
		lua_pop(L, 1);
	}
}
