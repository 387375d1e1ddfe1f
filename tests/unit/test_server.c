/* test_server.c -- the sockets server_start opens: options every UDP socket must carry. */
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "meridian/conf.h"
#include "meridian/diag.h"
#include "meridian/server.h"
#include "support.h"

/* A loopback port free for UDP and TCP now (the kernel's pick for an ephemeral bind). */
static unsigned free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Whether ::1 can be bound here (some containers have no IPv6 loopback). */
static bool have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

struct udp_seen {
	unsigned v4, v6;       /* our UDP sockets found, per family */
	unsigned v4_ok, v6_ok; /* of them, those that ignore the path MTU */
};

/* Looks at every open descriptor: a UDP socket bound to port is one of the server's. */
static void inspect_sockets(unsigned port, struct udp_seen *seen)
{
	DIR *dir = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(dir);
	for (struct dirent *e; (e = readdir(dir));) {
		int fd = atoi(e->d_name);
		int type = 0;
		socklen_t len = sizeof(type);
		if (e->d_name[0] == '.' || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_DGRAM)
			continue;
		struct sockaddr_storage ss;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
			continue;
		int mode = -1;
		len = sizeof(mode);
		if (ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) == port) {
			seen->v4++;
			if (getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, &len) == 0 &&
			    mode == IP_PMTUDISC_OMIT)
				seen->v4_ok++;
		} else if (ss.ss_family == AF_INET6 &&
			   ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port) {
			seen->v6++;
			if (getsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode, &len) == 0 &&
			    mode == IPV6_PMTUDISC_OMIT)
				seen->v6_ok++;
		}
	}
	closedir(dir);
}

/* Replies must not follow a forged "fragmentation needed": every UDP socket, IPv4 and IPv6, of every
 * worker ignores the path MTU (and so sends without DF). */
START_TEST(udp_sockets_ignore_path_mtu)
{
	unsigned port = free_port();
	bool v6 = have_ipv6_loopback();
	char listen6[32] = "";
	if (v6)
		snprintf(listen6, sizeof(listen6), ", \"[::1]:%u\"", port);
	char conf_text[512];
	snprintf(conf_text, sizeof(conf_text),
		 "serial = 1\nworkers = 2\nlisten = { \"127.0.0.1:%u\"%s }\n"
		 "zones = { { name = \"example.com\", file = \"example.com.zone\" } }\n",
		 port, listen6);
	unit_write_file("example.com.zone",
			"$ORIGIN example.com.\n$TTL 300\n"
			"@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n");
	struct conf *c = unit_load_conf("meridian.conf", conf_text);
	struct diag d;
	diag_init(&d);
	struct server *s = server_start(c, -1, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s\n", d.entries[i].text);
	ck_assert_ptr_nonnull(s);

	struct udp_seen seen = {0};
	inspect_sockets(port, &seen);
	server_stop(s);
	conf_free(c);
	diag_free(&d);

	ck_assert_uint_eq(seen.v4, 2); /* one per worker */
	ck_assert_uint_eq(seen.v4_ok, seen.v4);
	ck_assert_uint_eq(seen.v6, v6 ? 2u : 0u);
	ck_assert_uint_eq(seen.v6_ok, seen.v6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("sockets");
	tcase_add_test(tc, udp_sockets_ignore_path_mtu);
	suite_add_tcase(s, tc);
	return unit_run_in_tmpdir(s, "server");
}
