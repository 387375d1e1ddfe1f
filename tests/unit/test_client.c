/* test_client.c -- unit tests of the client a query is answered for (client.h): its network from a
 * client subnet option or the source address, its region and scope, and the hash DYN_SELECT_HASH
 * picks by. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "meridian/client.h"
#include "meridian/loader.h"
#include "support.h"

/* n's address as text (IPv6 notation, so IPv4 shows as ::ffff:a.b.c.d). */
static const char *text_of(const struct client_net *n)
{
	static char buf[INET6_ADDRSTRLEN];
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, n->addr, buf, sizeof(buf)));
	return buf;
}

START_TEST(network_from_a_client_subnet)
{
	struct client_net n;
	struct sockaddr_storage peer = unit_address("192.0.2.1");
	static const uint8_t v4[] = {198, 51, 100};
	ck_assert(client_net_of(&n, 1, 24, v4, &peer));
	ck_assert_str_eq(text_of(&n), "::ffff:198.51.100.0");
	ck_assert_uint_eq(n.prefix, 96 + 24);
	ck_assert(n.v4);
	/* the option carries only the prefix's octets; the rest of the address is zero */
	static const uint8_t v6[] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xa8};
	ck_assert(client_net_of(&n, 2, 45, v6, &peer));
	ck_assert_str_eq(text_of(&n), "2001:db8:a8::");
	ck_assert_uint_eq(n.prefix, 45);
	ck_assert(!n.v4);
	/* an IPv6 option holding an IPv4-mapped address stays IPv6: its scope counts IPv6 bits */
	static const uint8_t mapped[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113};
	ck_assert(client_net_of(&n, 2, 120, mapped, &peer));
	ck_assert_str_eq(text_of(&n), "::ffff:203.0.113.0");
	ck_assert_uint_eq(n.prefix, 120);
	ck_assert(!n.v4);
}
END_TEST

START_TEST(network_from_the_source_address)
{
	struct client_net n;
	struct sockaddr_storage peer = unit_address("192.0.2.1");
	/* no option, or one with source prefix 0: the source address decides, whole */
	ck_assert(client_net_of(&n, 0, 0, NULL, &peer));
	ck_assert_str_eq(text_of(&n), "::ffff:192.0.2.1");
	ck_assert_uint_eq(n.prefix, 128);
	ck_assert(n.v4);
	ck_assert(client_net_of(&n, 1, 0, NULL, &peer));
	ck_assert_str_eq(text_of(&n), "::ffff:192.0.2.1");
	peer = unit_address("2001:db8::7");
	ck_assert(client_net_of(&n, 2, 0, NULL, &peer));
	ck_assert_str_eq(text_of(&n), "2001:db8::7");
	ck_assert_uint_eq(n.prefix, 128);
	ck_assert(!n.v4);
	/* nothing to go by */
	ck_assert(!client_net_of(&n, 0, 0, NULL, NULL));
	struct sockaddr_storage unix_peer = {.ss_family = AF_UNIX};
	ck_assert(!client_net_of(&n, 0, 0, NULL, &unix_peer));
}
END_TEST

START_TEST(hash_cuts_the_network)
{
	struct client_net a, b;
	struct sockaddr_storage pa = unit_address("198.51.100.1"), pb = unit_address("198.51.100.254");
	ck_assert(client_net_of(&a, 0, 0, NULL, &pa));
	ck_assert(client_net_of(&b, 0, 0, NULL, &pb));
	/* IPv4: cut to /24, and the scope says so */
	unsigned scope = 0;
	uint32_t h = client_hash(&a, &scope);
	ck_assert_uint_eq(scope, 24);
	ck_assert_uint_eq(client_hash(&b, &scope), h);
	pb = unit_address("198.51.101.1");
	ck_assert(client_net_of(&b, 0, 0, NULL, &pb));
	ck_assert_uint_ne(client_hash(&b, &scope), h);
	/* a longer scope already set is kept */
	scope = 28;
	client_hash(&a, &scope);
	ck_assert_uint_eq(scope, 28);
	/* IPv6: cut to /56 */
	pa = unit_address("2001:db8:0:ff::1");
	pb = unit_address("2001:db8:0:1::1");
	ck_assert(client_net_of(&a, 0, 0, NULL, &pa));
	ck_assert(client_net_of(&b, 0, 0, NULL, &pb));
	scope = 0;
	ck_assert_uint_eq(client_hash(&a, &scope), client_hash(&b, &scope));
	ck_assert_uint_eq(scope, 56);
	pb = unit_address("2001:db8:0:100::1");
	ck_assert(client_net_of(&b, 0, 0, NULL, &pb));
	ck_assert_uint_ne(client_hash(&a, &scope), client_hash(&b, &scope));
	/* an IPv6 client holding an IPv4-mapped address: cut at the IPv4 /24, scope in IPv6 bits */
	static const uint8_t mapped[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 9};
	ck_assert(client_net_of(&a, 2, 128, mapped, NULL));
	scope = 0;
	client_hash(&a, &scope);
	ck_assert_uint_eq(scope, 120);
	/* a shorter client network is not cut further */
	static const uint8_t wide[] = {198, 51};
	ck_assert(client_net_of(&a, 1, 16, wide, NULL));
	scope = 0;
	client_hash(&a, &scope);
	ck_assert_uint_eq(scope, 16);
	/* unknown client: 0, scope untouched */
	scope = 7;
	ck_assert_uint_eq(client_hash(NULL, &scope), 0);
	ck_assert_uint_eq(scope, 7);
}
END_TEST

START_TEST(region_and_scope)
{
	unit_write_file("c.zone",
			"$ORIGIN example.com.\n$TTL 300\n"
			"@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n");
	struct snapshot *s = unit_load_snapshot(
	    "c.conf",
	    "serial = 1\nlisten = { \"127.0.0.1:5353\" }\n"
	    "zones = { { name = \"example.com\", file = \"c.zone\" } }\n"
	    "regions = { asia = { nets = { \"198.51.100.0/24\", \"2001:db8:a::/48\" } },\n"
	    "  office = { nets = { \"198.51.100.128/26\" } }, home = { nets = { \"10.0.0.0/8\" } } }\n"
	    "default_region = \"home\"\n");
	ck_assert_ptr_nonnull(s->geo);
	unsigned asia = 0, office = 0, home = 0;
	for (unsigned r = 0; r < s->conf->geo.region_count; r++) {
		const char *name = s->conf->geo.regions[r].name;
		*(strcmp(name, "asia") == 0 ? &asia : strcmp(name, "office") == 0 ? &office : &home) = r;
	}
	struct client_net n;
	unsigned scope;
	/* the IPv4 /24 spans office's /26: the entry holding its start decides, scope /25 */
	static const uint8_t net24[] = {198, 51, 100};
	ck_assert(client_net_of(&n, 1, 24, net24, NULL));
	ck_assert_uint_eq(client_region(s, &n, &scope), asia);
	ck_assert_uint_eq(scope, 25);
	struct sockaddr_storage peer = unit_address("198.51.100.130");
	ck_assert(client_net_of(&n, 0, 0, NULL, &peer));
	ck_assert_uint_eq(client_region(s, &n, &scope), office);
	ck_assert_uint_eq(scope, 26);
	/* IPv6: the scope counts IPv6 bits */
	peer = unit_address("2001:db8:a::1");
	ck_assert(client_net_of(&n, 0, 0, NULL, &peer));
	ck_assert_uint_eq(client_region(s, &n, &scope), asia);
	ck_assert_uint_eq(scope, 48);
	/* unknown client: the default region, scope 0 */
	scope = 9;
	ck_assert_uint_eq(client_region(s, NULL, &scope), home);
	ck_assert_uint_eq(scope, 0);
	snapshot_free(s);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("client");
	tcase_add_test(tc, network_from_a_client_subnet);
	tcase_add_test(tc, network_from_the_source_address);
	tcase_add_test(tc, hash_cuts_the_network);
	tcase_add_test(tc, region_and_scope);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(client_suite(), "client");
}
