/* probe_exec.c -- exec checks: /bin/sh -c COMMAND ({addr}, {name}, {port} substituted) in a process
 * group of its own, stdio on /dev/null; exit 0 is up. At the timeout (or a cancel) the whole group
 * gets SIGKILL and the shell is still reaped: no zombie outlives its probe.
 *
 * How the exit is seen depends on the loop. libev's default loop reaps every child itself
 * (waitpid(-1) on SIGCHLD), so there only ev_child learns the status, and a killed child needs nothing
 * more from us. On any other loop a pidfd becomes readable when the child exits and waitpid(pid)
 * collects it; children killed before that are kept as orphans of the engine until they are reaped.
 * The values substituted are inert to the shell by construction, so they need no quoting: addresses
 * as inet_ntop writes them, member names of letters, digits, '_' and '-' (conf_name_ok), CNAME
 * targets of letters, digits, '-', '_', '/' and dots (conf_domain_check), ports as digits.
 * The child is started with posix_spawn (vfork semantics: no copy of a large daemon's page tables),
 * default signal dispositions, an empty signal mask, and no descriptor of ours beyond stdio. */
#include "probe_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A killed child not reaped yet (pidfd loops only). */
struct probe_orphan {
	struct probe_orphan *prev, *next;
	struct probe_engine *e;
	pid_t pid;
	int pidfd;
	ev_io io;
};

static void drop_orphan(struct probe_orphan *o)
{
	ev_io_stop(o->e->loop, &o->io);
	close(o->pidfd);
	if (o->prev)
		o->prev->next = o->next;
	else
		o->e->orphans = o->next;
	if (o->next)
		o->next->prev = o->prev;
	free(o);
}

static void on_orphan_exit(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe_orphan *o = (struct probe_orphan *)((char *)w - offsetof(struct probe_orphan, io));
	(void)loop;
	(void)revents;
	if (waitpid(o->pid, NULL, WNOHANG) != 0)
		drop_orphan(o);
}

/* Takes over a killed child and its pidfd; reaps at once (blocking) if it cannot keep them. */
static void adopt(struct probe_engine *e, pid_t pid, int pidfd)
{
	struct probe_orphan *o = calloc(1, sizeof(*o));
	if (!o) {
		waitpid(pid, NULL, 0); /* SIGKILL was sent: this is short */
		close(pidfd);
		return;
	}
	o->e = e;
	o->pid = pid;
	o->pidfd = pidfd;
	o->next = e->orphans;
	if (e->orphans)
		e->orphans->prev = o;
	e->orphans = o;
	ev_io_init(&o->io, on_orphan_exit, pidfd, EV_READ);
	ev_io_start(e->loop, &o->io);
}

void probe_exec_engine_fini(struct probe_engine *e)
{
	while (e->orphans) {
		waitpid(e->orphans->pid, NULL, 0); /* killed already */
		drop_orphan(e->orphans);
	}
}

/* check->command with {addr}, {name} and {port} replaced; malloc'd, NULL when out of memory. */
static char *expand(const char *command, const char *addr, const char *name, unsigned port)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (const char *s = command; *s;) {
		if (strncmp(s, "{addr}", 6) == 0) {
			fputs(addr, f);
			s += 6;
		} else if (strncmp(s, "{name}", 6) == 0) {
			fputs(name ? name : "", f);
			s += 6;
		} else if (strncmp(s, "{port}", 6) == 0) {
			fprintf(f, "%u", port);
			s += 6;
		} else {
			fputc(*s++, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int spawn(const char *command, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	char *argv[] = {"sh", "-c", (char *)command, NULL};

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	int err = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return err;
}

static void finish_status(struct probe *p, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		probe_finish(p, true, "exit 0");
	else if (WIFEXITED(status))
		probe_finish(p, false, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		probe_finish(p, false, "killed by signal %d", WTERMSIG(status));
	else
		probe_finish(p, false, "wait status %#x", (unsigned)status);
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, u.exec.child));
	(void)loop;
	(void)revents;
	p->u.exec.pid = 0; /* libev has reaped it */
	finish_status(p, w->rstatus);
}

static void on_pidfd(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, u.exec.io));
	int status = 0;
	(void)loop;
	(void)revents;
	pid_t r = waitpid(p->u.exec.pid, &status, WNOHANG);
	if (r == 0)
		return;
	p->u.exec.pid = 0;
	if (r < 0) /* someone else reaped it (a SIGCHLD handler calling waitpid(-1)) */
		probe_finish(p, false, "exec: exit status lost: %s", strerror(errno));
	else
		finish_status(p, status);
}

static void exec_start(struct probe *p)
{
	struct probe_exec *x = &p->u.exec;
	struct ev_loop *loop = p->e->loop;
	char addr[300];

	x->pid = 0;
	x->pidfd = -1;
	if (!p->check->command || !p->check->command[0]) {
		probe_decide_soon(p, false, "exec: no command");
		return;
	}
	probe_member_text(p->m, addr, sizeof(addr));
	char *command = expand(p->check->command, addr, p->m->name, p->check->port);
	if (!command) {
		probe_decide_soon(p, false, "exec: out of memory");
		return;
	}
	int err = spawn(command, &x->pid);
	free(command);
	if (err) {
		x->pid = 0;
		probe_decide_soon(p, false, "exec: /bin/sh: %s", strerror(err));
		return;
	}
	if (ev_is_default_loop(loop)) {
		ev_child_init(&x->child, on_child, x->pid, 0);
		ev_child_start(loop, &x->child);
		return;
	}
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd < 0) {
		probe_decide_soon(p, false, "exec: pidfd_open: %s", strerror(errno));
		return; /* exec_stop kills and reaps it */
	}
	ev_io_init(&x->io, on_pidfd, x->pidfd, EV_READ);
	ev_io_start(loop, &x->io);
}

static void exec_stop(struct probe *p)
{
	struct probe_exec *x = &p->u.exec;
	struct ev_loop *loop = p->e->loop;

	if (ev_is_default_loop(loop))
		ev_child_stop(loop, &x->child);
	ev_io_stop(loop, &x->io);
	if (x->pid > 0) {
		kill(-x->pid, SIGKILL);
		if (x->pidfd >= 0) {
			adopt(p->e, x->pid, x->pidfd);
			x->pidfd = -1;
		} else if (!ev_is_default_loop(loop)) {
			waitpid(x->pid, NULL, 0); /* no pidfd to wait on; SIGKILL makes this short */
		}
		/* On the default loop libev reaps it when its SIGCHLD arrives. */
		x->pid = 0;
	}
	if (x->pidfd >= 0)
		close(x->pidfd);
	x->pidfd = -1;
}

const struct probe_kind probe_kind_exec = {exec_start, exec_stop};
