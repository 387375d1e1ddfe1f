/* test_privileges.c -- unit tests of privileges.h, each in its own forked process (Check's default),
 * so that the identity the test gives up is only the child's: as root, becoming nobody keeps exactly
 * CAP_NET_BIND_SERVICE (port 53 can be bound, a file only root may read cannot be opened), and
 * privileges_bound leaves nothing (port 53 no longer binds); once not root, becoming another account
 * is refused with the reason, and the same account is fine; no user is a no-op. Needs root, as CI
 * runs; otherwise the tests say they skipped. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "meridian/privileges.h"
#include "support.h"

static bool skip_unless_root(void)
{
	if (geteuid() == 0)
		return false;
	fprintf(stderr, "# skip: switching accounts needs root\n");
	return true;
}

static struct conf_user nobody(void)
{
	struct passwd *pw = getpwnam("nobody");
	ck_assert_ptr_nonnull(pw);
	return (struct conf_user){.text = "nobody", .uid = pw->pw_uid, .gid = pw->pw_gid};
}

/* Binds a UDP socket to port 53 of some address in 127.0.53.0/24: 0, or the errno of the first
 * failure that is not EADDRINUSE. */
static int bind_53(void)
{
	for (int i = 1; i < 255; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		ck_assert_int_ge(fd, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
		sa.sin_addr.s_addr = htonl(0x7f003500u | (unsigned)i);
		int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		int err = errno;
		close(fd);
		if (rc == 0)
			return 0;
		if (err != EADDRINUSE)
			return err;
	}
	ck_abort_msg("port 53 is taken on every address of 127.0.53.0/24");
	return -1;
}

static bool has_cap(cap_flag_t set, cap_value_t cap)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	ck_assert_int_eq(cap_get_flag(now, cap, set, &v), 0);
	cap_free(now);
	return v == CAP_SET;
}

START_TEST(drop_keeps_only_binding)
{
	if (skip_unless_root())
		return;
	struct conf_user u = nobody();
	char secret[512]; /* root's, mode 0600, in the test's folder (removed by the parent) */
	snprintf(secret, sizeof(secret), "%s/secret", unit_tmpdir);
	int fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct diag d;
	diag_init(&d);
	ck_assert(privileges_drop(&u, "test.conf", &d));
	ck_assert_int_eq(d.count, 0);
	ck_assert_int_eq(getuid(), u.uid);
	ck_assert_int_eq(geteuid(), u.uid);
	ck_assert_int_eq(getgid(), u.gid);
	ck_assert_int_eq(getegid(), u.gid);
	ck_assert(has_cap(CAP_PERMITTED, CAP_NET_BIND_SERVICE));
	ck_assert(has_cap(CAP_EFFECTIVE, CAP_NET_BIND_SERVICE));
	ck_assert(!has_cap(CAP_PERMITTED, CAP_DAC_OVERRIDE));
	ck_assert(!has_cap(CAP_PERMITTED, CAP_SETUID));
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L), 1); /* core files, leak checks */
	ck_assert_int_eq(bind_53(), 0);				     /* still allowed to bind port 53 */
	ck_assert_int_lt(open(secret, O_RDONLY), 0);		     /* but no longer root's files */
	ck_assert_int_eq(errno, EACCES);

	ck_assert(privileges_bound(&d));
	ck_assert(!has_cap(CAP_PERMITTED, CAP_NET_BIND_SERVICE));
	ck_assert(!has_cap(CAP_EFFECTIVE, CAP_NET_BIND_SERVICE));
	ck_assert_int_eq(bind_53(), EACCES);
	ck_assert(privileges_bound(&d)); /* nothing left: a no-op */
	ck_assert_int_eq(d.count, 0);
	diag_free(&d);
}
END_TEST

START_TEST(not_root_cannot_switch)
{
	if (skip_unless_root())
		return;
	struct conf_user u = nobody();
	struct diag d;
	diag_init(&d);
	ck_assert(privileges_drop(&u, "test.conf", &d));
	ck_assert(privileges_drop(&u, "test.conf", &d)); /* already that account: fine */
	ck_assert_int_eq(d.count, 0);
	struct conf_user root = {.text = "root", .uid = 0, .gid = 0};
	ck_assert(!privileges_drop(&root, "test.conf", &d));
	ck_assert_int_eq(d.count, 1);
	char want[160];
	snprintf(want, sizeof(want),
		 "test.conf: user = \"root\": meridiand runs as uid %u, not root, and cannot become uid 0",
		 (unsigned)u.uid);
	ck_assert_msg(strstr(d.entries[0].text, want), "%s", d.entries[0].text);
	ck_assert_int_eq(geteuid(), u.uid);
	diag_free(&d);
}
END_TEST

START_TEST(no_user_changes_nothing)
{
	uid_t before = geteuid();
	struct conf_user none = {0};
	struct diag d;
	diag_init(&d);
	ck_assert(privileges_drop(&none, "test.conf", &d));
	ck_assert_int_eq(geteuid(), before);
	ck_assert(privileges_bound(&d)); /* root stays root */
	ck_assert_int_eq(geteuid(), before);
	if (before == 0)
		ck_assert(has_cap(CAP_EFFECTIVE, CAP_NET_BIND_SERVICE));
	ck_assert_int_eq(d.count, 0);
	diag_free(&d);
}
END_TEST

static Suite *privileges_suite(void)
{
	Suite *s = suite_create("privileges");
	TCase *tc = tcase_create("privileges");
	tcase_add_test(tc, drop_keeps_only_binding);
	tcase_add_test(tc, not_root_cannot_switch);
	tcase_add_test(tc, no_user_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(privileges_suite(), "privileges");
}
