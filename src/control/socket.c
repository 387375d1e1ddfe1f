/* socket.c -- the control socket: a non-blocking Unix stream server on a libev loop, and its blocking
 * client for meridianctl (see control.h). */
#include "meridian/control.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_REQUEST_MAX 8192 /* bytes of one request, its empty line included */
#define CONTROL_ARGS_MAX    64
#define CONTROL_CLIENTS_MAX 32
#ifndef CONTROL_CLIENT_TIMEOUT
#define CONTROL_CLIENT_TIMEOUT 5.0 /* seconds for each phase: reading the request, writing the answer */
#endif
#define CONTROL_ACCEPT_PAUSE 0.1	 /* seconds without accepting after running out of descriptors */
#define CONTROL_ANSWER_MAX   (64u << 20) /* client side: a longer answer is not from meridiand */

static const char *const status_line[] = {
    [CONTROL_OK] = "ok\n",
    [CONTROL_REFUSED] = "refused\n",
    [CONTROL_ERROR] = "error\n",
};

/* One connection. It lives from accept until its answer is written, it fails, or its timer fires;
 * whichever comes first frees it, so every path out goes through client_free. */
struct control_client {
	struct control *control;
	int fd;
	ev_io io;	/* readable while reading the request, then writable while writing the answer */
	ev_timer timer; /* drops a client stuck in either phase */
	char *out;	/* the answer (status line and body), NULL while reading */
	bool deferred;	/* the handler will answer later (control_defer) */
	bool answered;	/* ... and did so before it returned: the answer waits in early */
	enum control_status early_status;
	char *early;
	size_t early_len;
	size_t out_len, out_done;
	struct control_client *prev, *next;
	size_t len;		       /* request bytes in buf */
	char buf[CONTROL_REQUEST_MAX]; /* the request; argv points into it during the handler call */
};

struct control {
	struct ev_loop *loop;
	int fd;
	char *path;
	dev_t dev; /* the socket file we bound: close unlinks the path only while it is still ours */
	ino_t ino;
	ev_io accept_io;
	ev_timer pause; /* restarts accept_io after accept ran out of file descriptors */
	control_handler_fn handler;
	void *arg;
	struct control_client *clients;
	size_t client_count;
	struct control_client *dispatching; /* whose handler call is running */
};

static bool socket_address(struct sockaddr_un *sa, const char *path, struct diag *d)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len == 0) {
		diag_error(d, NULL, 0, "the control socket path is empty");
		return false;
	}
	if (len >= sizeof(sa->sun_path)) {
		diag_error(d, NULL, 0, "%s: longer than %zu bytes, the limit for a Unix socket path", path,
			   sizeof(sa->sun_path) - 1);
		return false;
	}
	memcpy(sa->sun_path, path, len + 1);
	return true;
}

/* ---- server: one client ---- */

static void client_free(struct control_client *c)
{
	struct control *ctl = c->control;
	ev_io_stop(ctl->loop, &c->io);
	ev_timer_stop(ctl->loop, &c->timer);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->client_count--;
	free(c->out);
	free(c->early);
	free(c);
}

/* Sends what is left of the answer. Returns true when the client is finished with (all sent, or the
 * peer went away), false when the socket is full and the rest waits for writability. */
static bool client_flush(struct control_client *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_done, c->out_len - c->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			c->out_done += (size_t)n;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;
		else if (errno != EINTR)
			return true; /* EPIPE, ECONNRESET: the client left early; nothing to tell it */
	}
	return true;
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct control_client *c = w->data;
	if (client_flush(c))
		client_free(c);
}

/* Switches c to writing `status` and body (len bytes, taken over, may be NULL). The timer restarts:
 * the handler may have taken a while, and a slow reader gets the full timeout to read. */
static void client_answer(struct control_client *c, enum control_status status, char *body, size_t len)
{
	struct control *ctl = c->control;
	const char *line = status_line[status];
	size_t line_len = strlen(line);
	ev_io_stop(ctl->loop, &c->io);
	c->out = malloc(line_len + len);
	if (!c->out) {
		free(body);
		client_free(c);
		return;
	}
	memcpy(c->out, line, line_len);
	if (len)
		memcpy(c->out + line_len, body, len);
	free(body);
	c->out_len = line_len + len;
	if (client_flush(c)) {
		client_free(c);
		return;
	}
	ev_io_init(&c->io, client_write_cb, c->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(ctl->loop, &c->io);
	ev_now_update(ctl->loop);
	ev_timer_stop(ctl->loop, &c->timer);
	ev_timer_set(&c->timer, CONTROL_CLIENT_TIMEOUT, 0.);
	ev_timer_start(ctl->loop, &c->timer);
}

static void client_error(struct control_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void client_error(struct control_client *c, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		body = NULL;
		n = 0;
	}
	client_answer(c, CONTROL_ERROR, body, (size_t)n);
}

/* Splits the complete request buf[0..end) (every argument followed by '\n') into argv, in place. */
static int request_split(struct control_client *c, size_t end, char **argv)
{
	int argc = 0;
	char *arg = c->buf;
	for (char *p = c->buf; p < c->buf + end; p++) {
		if (*p != '\n')
			continue;
		if (argc == CONTROL_ARGS_MAX)
			return -1;
		*p = '\0';
		argv[argc++] = arg;
		arg = p + 1;
	}
	argv[argc] = NULL;
	return argc;
}

/* The request is complete: its arguments are buf[0..end), the empty line follows. */
static void client_dispatch(struct control_client *c, size_t end)
{
	char *argv[CONTROL_ARGS_MAX + 1];
	if (memchr(c->buf, '\0', end)) {
		client_error(c, "the request contains a NUL byte\n");
		return;
	}
	int argc = request_split(c, end, argv);
	if (argc < 0) {
		client_error(c, "the request has more than %d arguments\n", CONTROL_ARGS_MAX);
		return;
	}
	if (argc == 0) {
		client_error(c, "empty request: no command\n");
		return;
	}
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	if (!out) {
		client_error(c, "out of memory\n");
		return;
	}
	struct control *ctl = c->control;
	ctl->dispatching = c;
	enum control_status status = ctl->handler(ctl->arg, argc, argv, out);
	ctl->dispatching = NULL;
	bool closed = fclose(out) == 0;
	if (status == CONTROL_LATER && c->answered) { /* deferred, and answered at once after all */
		free(body);
		char *early = c->early;
		c->early = NULL;
		c->answered = false;
		client_answer(c, c->early_status, early, c->early_len);
		return;
	}
	if (status == CONTROL_LATER && c->deferred) {
		free(body);
		ev_io_stop(ctl->loop, &c->io);
		ev_timer_stop(ctl->loop, &c->timer);
		return;
	}
	c->deferred = c->answered = false; /* a handler that answered early must return CONTROL_LATER */
	free(c->early);
	c->early = NULL;
	if (!closed || status > CONTROL_ERROR) {
		free(body);
		client_error(c, status > CONTROL_ERROR ? "internal error: bad handler status\n"
						       : "out of memory\n");
		return;
	}
	client_answer(c, status, body, len);
}

struct control_later *control_defer(struct control *ctl)
{
	struct control_client *c = ctl->dispatching;
	if (!c)
		return NULL;
	c->deferred = true;
	return (struct control_later *)c;
}

void control_later_answer(struct control_later *l, enum control_status status, char *body, size_t len)
{
	struct control_client *c = (struct control_client *)l;
	c->deferred = false;
	if (c->control->dispatching == c) { /* still inside the handler: sent once it has returned */
		c->answered = true;
		c->early_status = status > CONTROL_ERROR ? CONTROL_ERROR : status;
		c->early = body;
		c->early_len = len;
		return;
	}
	if (status > CONTROL_ERROR) {
		free(body);
		client_error(c, "internal error: bad handler status\n");
		return;
	}
	client_answer(c, status, body, len);
}

/* Where the request's arguments end (the offset of the empty line), or -1 while it is incomplete. */
static long request_end(const struct control_client *c)
{
	if (c->len >= 1 && c->buf[0] == '\n')
		return 0;
	const char *p = memmem(c->buf, c->len, "\n\n", 2);
	return p ? p - c->buf + 1 : -1;
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct control_client *c = w->data;
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			client_free(c);
			return;
		}
		if (n == 0) {
			client_error(c, "incomplete request: it must end with an empty line\n");
			return;
		}
		c->len += (size_t)n;
		long end = request_end(c);
		if (end >= 0) {
			client_dispatch(c, (size_t)end);
			return;
		}
		if (c->len == sizeof(c->buf)) {
			client_error(c, "the request is larger than %d bytes\n", CONTROL_REQUEST_MAX);
			return;
		}
	}
}

static void client_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	client_free(w->data);
}

static void client_new(struct control *ctl, int fd)
{
	struct control_client *c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->control = ctl;
	c->fd = fd;
	c->out = NULL;
	c->out_len = c->out_done = 0;
	c->deferred = c->answered = false;
	c->early = NULL;
	c->len = 0;
	c->prev = NULL;
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	ctl->client_count++;
	ev_io_init(&c->io, client_read_cb, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->timer, client_timeout_cb, CONTROL_CLIENT_TIMEOUT, 0.);
	c->timer.data = c;
	ev_io_start(ctl->loop, &c->io);
	ev_timer_start(ctl->loop, &c->timer);
}

/* ---- server: the listening socket ---- */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct control *ctl = w->data;
	for (;;) {
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* The pending connection stays readable: without a pause the loop would spin.
				 */
				ev_io_stop(loop, &ctl->accept_io);
				ev_timer_start(loop, &ctl->pause);
			}
			return;
		}
		if (ctl->client_count >= CONTROL_CLIENTS_MAX) {
			static const char busy[] = "error\ntoo many control clients at once, try again\n";
			ssize_t ignored = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)ignored; /* best effort: the client learns at least that it was closed */
			close(fd);
			continue;
		}
		client_new(ctl, fd);
	}
}

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct control *ctl = w->data;
	ev_io_start(loop, &ctl->accept_io);
}

/* An existing path: a stale socket (its server died) is removed; a live one or any other file stays
 * and is an error. A live server is recognised by a connect that succeeds. */
static bool clear_stale(const char *path, const struct sockaddr_un *sa, struct diag *d)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return true;
		diag_error(d, NULL, 0, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		diag_error(d, NULL, 0, "%s: exists and is not a socket", path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "%s: socket: %s", path, strerror(errno));
		return false;
	}
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN) { /* EAGAIN: alive, its backlog is full */
		diag_error(d, NULL, 0, "%s: another meridiand is listening", path);
		return false;
	}
	if (err != ECONNREFUSED) {
		diag_error(d, NULL, 0, "%s: cannot tell whether a server is listening: %s", path,
			   strerror(err));
		return false;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		diag_error(d, NULL, 0, "%s: cannot remove the stale socket: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/* Binds and listens. The mode is set between bind and listen: no one can connect before listen, so
 * there is no window with the umask's mode, and umask (process-wide, racy with threads) stays as is. */
static int bind_listen(const char *path, const struct sockaddr_un *sa, struct stat *st, struct diag *d)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		diag_error(d, NULL, 0, "%s: cannot bind the control socket: %s%s", path, strerror(errno),
			   errno == ENOENT ? " (its folder does not exist)" : "");
		close(fd);
		return -1;
	}
	const char *what = NULL;
	if (chmod(path, 0660) != 0)
		what = "chmod";
	else if (stat(path, st) != 0)
		what = "stat";
	else if (listen(fd, SOMAXCONN) != 0)
		what = "listen";
	if (what) {
		diag_error(d, NULL, 0, "%s: %s: %s", path, what, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

struct control *control_open(struct ev_loop *loop, const char *path, control_handler_fn handler, void *arg,
			     struct diag *d)
{
	struct sockaddr_un sa;
	if (!socket_address(&sa, path, d) || !clear_stale(path, &sa, d))
		return NULL;
	struct control *ctl = calloc(1, sizeof(*ctl));
	char *copy = strdup(path);
	if (!ctl || !copy) {
		diag_error(d, NULL, 0, "%s: out of memory", path);
		free(ctl);
		free(copy);
		return NULL;
	}
	struct stat st;
	ctl->fd = bind_listen(path, &sa, &st, d);
	if (ctl->fd < 0) {
		free(ctl);
		free(copy);
		return NULL;
	}
	ctl->loop = loop;
	ctl->path = copy;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->handler = handler;
	ctl->arg = arg;
	ev_io_init(&ctl->accept_io, accept_cb, ctl->fd, EV_READ);
	ctl->accept_io.data = ctl;
	ev_timer_init(&ctl->pause, pause_cb, CONTROL_ACCEPT_PAUSE, 0.);
	ctl->pause.data = ctl;
	ev_io_start(loop, &ctl->accept_io);
	return ctl;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	ev_io_stop(ctl->loop, &ctl->accept_io);
	ev_timer_stop(ctl->loop, &ctl->pause);
	while (ctl->clients)
		client_free(ctl->clients);
	close(ctl->fd);
	struct stat st;
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* ---- client ---- */

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until fd is ready for events or the deadline (0: none) passes. Returns false on timeout. */
static bool wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		int ms = -1;
		if (deadline > 0) {
			double left = deadline - now_mono();
			if (left <= 0)
				return false;
			ms = (int)(left * 1000.) + 1;
		}
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, ms);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return true; /* let the send or recv that follows report the error */
	}
}

/* The request: every argument followed by '\n', then an empty line. Arguments that would break that
 * framing (empty, or holding a newline) cannot be sent. */
static char *request_build(int argc, char *const *argv, size_t *len, struct diag *d)
{
	size_t total = 1;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n == 0 || memchr(argv[i], '\n', n)) {
			diag_error(d, NULL, 0, "argument %d %s: the control protocol cannot carry it", i + 1,
				   n ? "contains a newline" : "is empty");
			return NULL;
		}
		total += n + 1;
	}
	char *req = malloc(total);
	if (!req) {
		diag_error(d, NULL, 0, "out of memory");
		return NULL;
	}
	char *p = req;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		memcpy(p, argv[i], n);
		p[n] = '\n';
		p += n + 1;
	}
	*p = '\n';
	*len = total;
	return req;
}

/* A blocking connect bounded by SO_SNDTIMEO (which a Unix connect honours when the backlog is full). */
static int connect_to(const char *path, const struct sockaddr_un *sa, double timeout, struct diag *d)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		diag_error(d, NULL, 0, "cannot reach meridiand at %s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (timeout > 0) {
		struct timeval tv = {.tv_sec = (time_t)timeout,
				     .tv_usec = (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6)};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		if (errno == EINTR)
			continue;
		diag_error(d, NULL, 0, "cannot reach meridiand at %s: %s", path,
			   errno == EAGAIN ? "timed out (it accepts no connections)" : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the request. A server that refuses it early (too large, too many clients) closes before
 * reading it all: EPIPE then is not an error, its answer is waiting to be read. */
static bool send_all(int fd, const char *buf, size_t len, double deadline)
{
	size_t done = 0;
	while (done < len) {
		if (!wait_fd(fd, POLLOUT, deadline))
			return false;
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			done += (size_t)n;
		else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
	}
	shutdown(fd, SHUT_WR);
	return true;
}

/* Reads until end of file. Returns 0, -1 on timeout, or an errno. */
static int recv_all(int fd, double deadline, char **buf, size_t *len)
{
	size_t cap = 0;
	*buf = NULL;
	*len = 0;
	for (;;) {
		if (cap - *len < 4096) {
			cap = cap ? cap * 2 : 16384;
			char *b = cap <= CONTROL_ANSWER_MAX ? realloc(*buf, cap + 1) : NULL;
			if (!b)
				return cap <= CONTROL_ANSWER_MAX ? ENOMEM : EMSGSIZE;
			*buf = b;
		}
		if (!wait_fd(fd, POLLIN, deadline))
			return -1;
		ssize_t n = recv(fd, *buf + *len, cap - *len, MSG_DONTWAIT);
		if (n > 0)
			*len += (size_t)n;
		else if (n == 0 ||
			 (errno == ECONNRESET && *len > 0)) /* reset: it closed with our request unread */
			return 0;
		else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno;
	}
}

/* Splits the answer into its status and a NUL-terminated body (buf has room for the NUL). */
static int answer_parse(const char *path, char *buf, size_t len, char **body, struct diag *d)
{
	if (len == 0) {
		diag_error(d, NULL, 0, "meridiand at %s closed the connection without answering", path);
		return -1;
	}
	buf[len] = '\0';
	char *nl = memchr(buf, '\n', len);
	size_t line = nl ? (size_t)(nl - buf) + 1 : 0;
	int status = -1;
	for (int s = CONTROL_OK; s <= CONTROL_ERROR && nl; s++)
		if (strlen(status_line[s]) == line && memcmp(buf, status_line[s], line) == 0)
			status = s;
	if (status < 0 || memchr(buf, '\0', len)) {
		diag_error(d, NULL, 0, "malformed answer from %s: %s", path,
			   status < 0 ? "no ok/refused/error status line" : "NUL byte in the body");
		return -1;
	}
	memmove(buf, buf + line, len - line + 1);
	*body = buf;
	return status;
}

int control_request(const char *path, int argc, char *const *argv, double timeout, char **body,
		    struct diag *d)
{
	*body = NULL;
	struct sockaddr_un sa;
	size_t req_len;
	if (!socket_address(&sa, path, d))
		return -1;
	char *req = request_build(argc, argv, &req_len, d);
	if (!req)
		return -1;
	double deadline = timeout > 0 ? now_mono() + timeout : 0;
	int fd = connect_to(path, &sa, timeout, d);
	if (fd < 0) {
		free(req);
		return -1;
	}
	char *buf = NULL;
	size_t len = 0;
	int err = send_all(fd, req, req_len, deadline) ? recv_all(fd, deadline, &buf, &len) : -1;
	free(req);
	close(fd);
	int status = -1;
	if (err < 0)
		diag_error(d, NULL, 0, "meridiand at %s did not answer within %g s", path, timeout);
	else if (err > 0)
		diag_error(d, NULL, 0, "cannot read from meridiand at %s: %s", path, strerror(err));
	else
		status = answer_parse(path, buf, len, body, d);
	if (status < 0)
		free(buf);
	return status;
}
