/* privileges.c -- switching to the configured account with libcap (see privileges.h). */
#include "meridian/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Sets the process's capabilities to exactly text ("cap_net_bind_service=ep", or "" for none). */
static bool caps_set(const char *text)
{
	cap_t caps = *text ? cap_from_text(text) : cap_init();
	if (!caps)
		return false;
	int rc = cap_set_proc(caps);
	int err = errno;
	cap_free(caps);
	errno = err;
	return rc == 0;
}

bool privileges_drop(const struct conf_user *u, const char *file, struct diag *d)
{
	if (!u->text)
		return true;
	uid_t euid = geteuid();
	if (euid != 0) {
		if (euid == u->uid && getegid() == u->gid)
			return true;
		diag_error(d, file, 0,
			   "user = \"%s\": meridiand runs as uid %u, not root, and cannot become uid %u "
			   "(start it as root, or as that account)",
			   u->text, (unsigned)euid, (unsigned)u->uid);
		return false;
	}
	if (u->uid == 0)
		return true; /* root stays root: nothing to give up */
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	getpwuid_r(u->uid, &pw, buf, sizeof(buf), &pwp);
	const char *what = NULL;
	/* KEEPCAPS: the permitted set survives setuid; the effective set is restored from it below. */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0)
		what = "prctl(PR_SET_KEEPCAPS)";
	else if ((pwp ? initgroups(pw.pw_name, u->gid) : setgroups(0, NULL)) != 0)
		what = "initgroups";
	else if (setgid(u->gid) != 0)
		what = "setgid";
	else if (setuid(u->uid) != 0)
		what = "setuid";
	else if (!caps_set("cap_net_bind_service=ep"))
		what = "cap_set_proc";
	else if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0)
		what = "prctl(PR_SET_KEEPCAPS)";
	/* setuid made the process undumpable: no core file, and sanitizers' leak checks cannot stop its
	 * threads. Only the config was read as root, and the account owns everything else it holds. */
	else if (prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L) != 0)
		what = "prctl(PR_SET_DUMPABLE)";
	if (what) {
		diag_error(d, file, 0, "user = \"%s\": %s: %s", u->text, what, strerror(errno));
		return false;
	}
	return true;
}

bool privileges_bound(struct diag *d)
{
	cap_t now = cap_get_proc();
	cap_t none = cap_init();
	bool held = now && none && cap_compare(now, none) != 0;
	cap_free(now);
	cap_free(none);
	if (!held || geteuid() == 0)
		return true; /* nothing to drop, or root by choice (no user, or user = "root") */
	if (!caps_set("")) {
		diag_error(d, NULL, 0, "cannot give up CAP_NET_BIND_SERVICE: %s", strerror(errno));
		return false;
	}
	return true;
}
