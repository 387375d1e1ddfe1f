/* probe_tcp.c -- tcp checks: a non-blocking connect to the member's address; up when it completes. */
#include "probe_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, u.tcp.io));
	int err = 0;
	socklen_t len = sizeof(err);
	(void)loop;
	(void)revents;
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		probe_finish(p, false, "connect: %s", strerror(err));
	else
		probe_finish(p, true, "TCP connect ok");
}

static void tcp_start(struct probe *p)
{
	struct probe_tcp *t = &p->u.tcp;
	struct sockaddr_storage ss;
	socklen_t len;

	t->fd = -1;
	if (!probe_member_sockaddr(p->m, p->check->port, &ss, &len)) {
		probe_decide_soon(p, false, "tcp: the member has no address");
		return;
	}
	t->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		probe_decide_soon(p, false, "socket: %s", strerror(errno));
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&ss, len) == 0) {
		probe_decide_soon(p, true, "TCP connect ok");
		return;
	}
	if (errno != EINPROGRESS) {
		probe_decide_soon(p, false, "connect: %s", strerror(errno));
		return;
	}
	ev_io_init(&t->io, on_writable, t->fd, EV_WRITE);
	ev_io_start(p->e->loop, &t->io);
}

static void tcp_stop(struct probe *p)
{
	struct probe_tcp *t = &p->u.tcp;
	ev_io_stop(p->e->loop, &t->io);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

const struct probe_kind probe_kind_tcp = {tcp_start, tcp_stop};
