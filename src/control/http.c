/* http.c -- the metrics endpoint of http.h: libmicrohttpd driven from a libev loop. */
#include "meridian/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_CONNECTIONS 16 /* at once; more wait in the listen queue */
#define HTTP_TIMEOUT	 5  /* seconds a connection may stay silent */

struct http_endpoint {
	struct MHD_Daemon *mhd;
	struct ev_loop *loop;
	ev_io io;	/* libmicrohttpd's epoll descriptor: readable when anything is to be done */
	ev_timer timer; /* its next timeout */
	http_render_fn *render;
	void *arg;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text, char *owned,
			     size_t len)
{
	struct MHD_Response *r =
	    owned ? MHD_create_response_from_buffer(len, owned, MHD_RESPMEM_MUST_FREE)
		  : MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(owned);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				owned ? "text/plain; version=0.0.4; charset=utf-8"
				      : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	struct http_endpoint *h = cls;
	/* The first call only announces the request; answering on the second lets a body, if any, be
	 * read and thrown away first. */
	if (!*state) {
		*state = h;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", NULL, 0);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL, 0);
	size_t len = 0;
	char *body = h->render(h->arg, &len);
	if (!body)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "the metrics could not be rendered\n", NULL,
			     0);
	return reply(c, MHD_HTTP_OK, NULL, body, len);
}

/* Runs libmicrohttpd and arms the timer for what it waits for next. */
static void run(struct http_endpoint *h)
{
	MHD_run(h->mhd);
	MHD_UNSIGNED_LONG_LONG ms;
	ev_timer_stop(h->loop, &h->timer);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0);
		ev_timer_start(h->loop, &h->timer);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

/* The listening socket, made here so that a bind failure is reported with its reason. */
static int listen_on(const struct sockaddr_storage *addr, socklen_t addr_len, const char *text,
		     struct diag *d)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "metrics %s: socket: %s", text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (bind(fd, (const struct sockaddr *)addr, addr_len) != 0 || listen(fd, 64) != 0) {
		diag_error(d, NULL, 0, "metrics %s: %s", text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct http_endpoint *http_start(struct ev_loop *loop, const struct sockaddr_storage *addr,
				 socklen_t addr_len, const char *text, http_render_fn *render, void *arg,
				 struct diag *d)
{
	int fd = listen_on(addr, addr_len, text, d);
	if (fd < 0)
		return NULL;
	struct http_endpoint *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->loop = loop;
	h->render = render;
	h->arg = arg;
	unsigned flags = MHD_USE_EPOLL | (addr->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
	    h->mhd ? MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		diag_error(d, NULL, 0, "metrics %s: libmicrohttpd did not start", text);
		if (h->mhd)
			MHD_stop_daemon(h->mhd);
		else
			close(fd);
		free(h);
		return NULL;
	}
	ev_io_init(&h->io, on_io, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_io_start(loop, &h->io);
	ev_timer_init(&h->timer, on_timer, 0, 0);
	h->timer.data = h;
	run(h);
	return h;
}

void http_stop(struct http_endpoint *h)
{
	if (!h)
		return;
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	MHD_stop_daemon(h->mhd); /* closes the listening socket it was given, and every connection */
	free(h);
}
