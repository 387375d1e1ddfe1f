/* test_control.c -- unit tests of the control socket: protocol round trips, limits, stale and live
 * sockets, stuck and vanishing clients, and the client's errors.
 *
 * socket.c is compiled into this test with a short client timeout, so that dropping a stuck client
 * takes a fraction of a second instead of the real five; everything else is the library's code. */
#define CONTROL_CLIENT_TIMEOUT 0.4
#include "../../src/control/socket.c"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#define WAIT_MAX 5.0 /* seconds any wait in these tests may take before it counts as a failure */

static char dir[64];
static char path[128];
static atomic_int handler_calls;

static struct control *serving;		 /* the server's control, for control_defer */
static struct control_later *waiting[4]; /* deferred requests; touched only by the handler */
static int waiting_count;

/* "later" defers its answer; "release STATUS TEXT" answers every deferred request with STATUS (ok,
 * refused, error) and TEXT, and itself with how many it released; "lie" returns CONTROL_LATER without
 * deferring; "now" defers and answers before returning (a load that could not get its thread). */
static enum control_status later_handler(int argc, char **argv, FILE *out)
{
	if (!strcmp(argv[0], "later")) {
		struct control_later *l = control_defer(serving);
		ck_assert_ptr_nonnull(l);
		ck_assert_int_lt(waiting_count, 4);
		waiting[waiting_count++] = l;
		fputs("dropped: deferred answers are given by control_later_answer\n", out);
		return CONTROL_LATER;
	}
	if (!strcmp(argv[0], "lie"))
		return CONTROL_LATER;
	if (!strcmp(argv[0], "now")) { /* deferred, then answered before the handler returns */
		struct control_later *l = control_defer(serving);
		ck_assert_ptr_nonnull(l);
		control_later_answer(l, CONTROL_REFUSED, strdup("at once\n"), 8);
		return CONTROL_LATER;
	}
	ck_assert_int_eq(argc, 3);
	enum control_status st = !strcmp(argv[1], "ok")	       ? CONTROL_OK
				 : !strcmp(argv[1], "refused") ? CONTROL_REFUSED
							       : CONTROL_ERROR;
	fprintf(out, "released %d\n", waiting_count);
	for (int i = 0; i < waiting_count; i++) {
		char *body = NULL;
		int n = asprintf(&body, "%s\n", argv[2]);
		ck_assert_int_gt(n, 0);
		control_later_answer(waiting[i], st, body, (size_t)n);
	}
	waiting_count = 0;
	return CONTROL_OK;
}

/* Echoes argv one per line; "no" is refused, "err" an error, "big N" answers N bytes, "quiet" nothing;
 * "later", "release" and "lie" as later_handler says. */
static enum control_status echo_handler(void *arg, int argc, char **argv, FILE *out)
{
	(void)arg;
	atomic_fetch_add(&handler_calls, 1);
	if (!strcmp(argv[0], "later") || !strcmp(argv[0], "release") || !strcmp(argv[0], "lie") ||
	    !strcmp(argv[0], "now"))
		return later_handler(argc, argv, out);
	if (strcmp(argv[0], "big") == 0 && argc == 2) {
		unsigned long n = strtoul(argv[1], NULL, 10);
		for (unsigned long i = 0; i < n; i++)
			fputc('a' + (int)(i % 26), out);
		return CONTROL_OK;
	}
	if (strcmp(argv[0], "quiet") == 0)
		return CONTROL_OK;
	for (int i = 0; i < argc; i++)
		fprintf(out, "%s\n", argv[i]);
	if (strcmp(argv[0], "no") == 0)
		return CONTROL_REFUSED;
	return strcmp(argv[0], "err") == 0 ? CONTROL_ERROR : CONTROL_OK;
}

/* A control socket served by a loop in its own thread, as on the daemon's control thread. */
struct server {
	struct ev_loop *loop;
	struct control *ctl;
	ev_async stop;
	pthread_t thread;
};

static void stop_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void *server_run(void *arg)
{
	struct server *s = arg;
	ev_run(s->loop, 0);
	return NULL;
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s\n", d->entries[i].text);
}

static void server_start(struct server *s)
{
	struct diag d;
	diag_init(&d);
	s->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(s->loop);
	s->ctl = control_open(s->loop, path, echo_handler, NULL, &d);
	print_diag(&d);
	ck_assert_ptr_nonnull(s->ctl);
	serving = s->ctl;
	waiting_count = 0;
	ck_assert_ptr_null(control_defer(s->ctl)); /* only during a handler call */
	diag_free(&d);
	ev_async_init(&s->stop, stop_cb);
	ev_async_start(s->loop, &s->stop);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_run, s), 0);
}

static void server_stop(struct server *s)
{
	ev_async_send(s->loop, &s->stop);
	pthread_join(s->thread, NULL);
	control_close(s->ctl);
	ev_loop_destroy(s->loop);
}

/* The folder is made once, in the parent process, so it is removed even when a test fails (a failed
 * test's process exits before its own teardown runs). */
static void make_dir(void)
{
	strcpy(dir, "/tmp/meridian-ctl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
}

static void remove_files(void)
{
	char moved[160];
	snprintf(moved, sizeof(moved), "%s/moved.sock", dir);
	unlink(path);
	unlink(moved);
}

static void remove_dir(void)
{
	remove_files();
	rmdir(dir);
}

static void setup(void)
{
	remove_files();
	atomic_store(&handler_calls, 0);
}

/* control_request with a 2 s timeout; a diag is returned in *why, or printed when why is NULL. */
static int ask(char **body, char **why, int argc, char *const *argv)
{
	struct diag d;
	diag_init(&d);
	int status = control_request(path, argc, argv, 2.0, body, &d);
	if (why)
		*why = d.count ? strdup(d.entries[0].text) : NULL;
	else
		print_diag(&d);
	diag_free(&d);
	return status;
}

static int raw_connect(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, p);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const char *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Waits until the server has closed its end of fd; returns the seconds it took. */
static double wait_closed(int fd)
{
	double start = now_mono();
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};
	int n = poll(&p, 1, (int)(WAIT_MAX * 1000));
	ck_assert_msg(n == 1, "the server did not close the connection within %g s", WAIT_MAX);
	return now_mono() - start;
}

/* Everything the server sends until it closes (a reset after some data counts as the end). */
static char *raw_read_all(int fd, size_t *len)
{
	char *buf = NULL;
	int err = recv_all(fd, now_mono() + WAIT_MAX, &buf, len);
	ck_assert_int_eq(err, 0);
	buf[*len] = '\0';
	return buf;
}

START_TEST(test_round_trip)
{
	struct server s;
	server_start(&s);
	char *argv[] = {"echo", "a b", "c/d"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 3, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\na b\nc/d\n");
	free(body);

	char *quiet[] = {"quiet"};
	ck_assert_int_eq(ask(&body, NULL, 1, quiet), CONTROL_OK);
	ck_assert_str_eq(body, "");
	free(body);
	server_stop(&s);
}
END_TEST

START_TEST(test_statuses)
{
	struct server s;
	server_start(&s);
	char *no[] = {"no", "x"}, *err[] = {"err"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 2, no), CONTROL_REFUSED);
	ck_assert_str_eq(body, "no\nx\n");
	free(body);
	ck_assert_int_eq(ask(&body, NULL, 1, err), CONTROL_ERROR);
	ck_assert_str_eq(body, "err\n");
	free(body);
	server_stop(&s);
}
END_TEST

/* The wire format itself, with the request arriving in pieces that split an argument. */
START_TEST(test_raw_protocol)
{
	struct server s;
	server_start(&s);
	int fd = raw_connect(path);
	raw_send(fd, "ech", 3);
	usleep(20000);
	raw_send(fd, "o\nx\n", 4);
	usleep(20000);
	raw_send(fd, "\n", 1);
	size_t len;
	char *answer = raw_read_all(fd, &len);
	ck_assert_str_eq(answer, "ok\necho\nx\n");
	free(answer);
	close(fd);

	fd = raw_connect(path);
	raw_send(fd, "\n", 1);
	answer = raw_read_all(fd, &len);
	ck_assert_str_eq(answer, "error\nempty request: no command\n");
	free(answer);
	close(fd);

	fd = raw_connect(path);
	raw_send(fd, "ec\0ho\n\n", 7);
	answer = raw_read_all(fd, &len);
	ck_assert_str_eq(answer, "error\nthe request contains a NUL byte\n");
	free(answer);
	close(fd);

	fd = raw_connect(path); /* the end of the request never comes: the client stops writing */
	raw_send(fd, "echo\n", 5);
	shutdown(fd, SHUT_WR);
	answer = raw_read_all(fd, &len);
	ck_assert_ptr_nonnull(strstr(answer, "error\nincomplete request"));
	free(answer);
	close(fd);
	ck_assert_int_eq(atomic_load(&handler_calls), 1);
	server_stop(&s);
}
END_TEST

/* One argument of n bytes makes a request of n + 2. */
static int ask_sized(size_t n, char **body)
{
	char *arg = malloc(n + 1);
	memset(arg, 'x', n);
	arg[n] = '\0';
	char *argv[] = {arg};
	int status = ask(body, NULL, 1, argv);
	free(arg);
	return status;
}

START_TEST(test_request_size)
{
	struct server s;
	server_start(&s);
	char *body;
	ck_assert_int_eq(ask_sized(CONTROL_REQUEST_MAX - 2, &body), CONTROL_OK);
	ck_assert_uint_eq(strlen(body), CONTROL_REQUEST_MAX - 1);
	free(body);
	ck_assert_int_eq(ask_sized(CONTROL_REQUEST_MAX - 1, &body), CONTROL_ERROR);
	ck_assert_str_eq(body, "the request is larger than 8192 bytes\n");
	free(body);
	ck_assert_int_eq(ask_sized(1 << 20, &body), CONTROL_ERROR); /* the server stops reading early */
	ck_assert_str_eq(body, "the request is larger than 8192 bytes\n");
	free(body);
	server_stop(&s);
}
END_TEST

START_TEST(test_argument_count)
{
	struct server s;
	server_start(&s);
	char *argv[CONTROL_ARGS_MAX + 1], *body;
	for (int i = 0; i <= CONTROL_ARGS_MAX; i++)
		argv[i] = "a";
	ck_assert_int_eq(ask(&body, NULL, CONTROL_ARGS_MAX, argv), CONTROL_OK);
	ck_assert_uint_eq(strlen(body), 2 * CONTROL_ARGS_MAX);
	free(body);
	ck_assert_int_eq(ask(&body, NULL, CONTROL_ARGS_MAX + 1, argv), CONTROL_ERROR);
	ck_assert_str_eq(body, "the request has more than 64 arguments\n");
	free(body);
	server_stop(&s);
}
END_TEST

/* Arguments the framing cannot carry are refused before connecting. */
START_TEST(test_unsendable_arguments)
{
	char *newline[] = {"set", "a\nb"}, *empty[] = {"set", ""}, *body = (char *)1, *why;
	ck_assert_int_eq(ask(&body, &why, 2, newline), -1);
	ck_assert_ptr_null(body);
	ck_assert_str_eq(why, "argument 2 contains a newline: the control protocol cannot carry it");
	free(why);
	ck_assert_int_eq(ask(&body, &why, 2, empty), -1);
	ck_assert_str_eq(why, "argument 2 is empty: the control protocol cannot carry it");
	free(why);
}
END_TEST

START_TEST(test_stale_socket_replaced)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	close(fd); /* a server that died: the file stays, nobody listens */
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));

	struct server s;
	server_start(&s);
	char *argv[] = {"echo"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\n");
	free(body);
	server_stop(&s);
}
END_TEST

START_TEST(test_live_socket_refused)
{
	struct server s;
	server_start(&s);
	struct ev_loop *other = ev_loop_new(EVFLAG_AUTO);
	struct diag d;
	diag_init(&d);
	ck_assert_ptr_null(control_open(other, path, echo_handler, NULL, &d));
	ck_assert_uint_eq(d.count, 1);
	char want[200];
	snprintf(want, sizeof(want), "%s: another meridiand is listening", path);
	ck_assert_str_eq(d.entries[0].text, want);
	diag_free(&d);
	ev_loop_destroy(other);

	char *argv[] = {"echo"}, *body; /* the first server still owns and serves its socket */
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	free(body);
	server_stop(&s);
}
END_TEST

START_TEST(test_bad_paths)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct diag d;
	diag_init(&d);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_ptr_null(control_open(loop, path, echo_handler, NULL, &d));
	ck_assert_ptr_nonnull(strstr(d.entries[0].text, ": exists and is not a socket"));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode) && st.st_size == 4);

	char missing[200];
	snprintf(missing, sizeof(missing), "%s/no/such/ctl.sock", dir);
	ck_assert_ptr_null(control_open(loop, missing, echo_handler, NULL, &d));
	ck_assert_ptr_nonnull(strstr(d.entries[1].text, "No such file or directory"));

	char longer[200];
	memset(longer, 'l', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_ptr_null(control_open(loop, longer, echo_handler, NULL, &d));
	ck_assert_ptr_nonnull(strstr(d.entries[2].text, "longer than 107 bytes"));
	ck_assert_uint_eq(d.errors, 3);
	diag_free(&d);
	ev_loop_destroy(loop);
}
END_TEST

/* A client that sends nothing and one that stops halfway hold no one up and are dropped. */
START_TEST(test_stuck_clients)
{
	struct server s;
	server_start(&s);
	int silent = raw_connect(path);
	int partial = raw_connect(path);
	raw_send(partial, "echo\npart", 9);

	double start = now_mono();
	char *argv[] = {"echo", "meanwhile"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 2, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\nmeanwhile\n");
	free(body);
	ck_assert_double_lt(now_mono() - start, CONTROL_CLIENT_TIMEOUT);

	double waited = wait_closed(silent);
	ck_assert_double_gt(now_mono() - start, CONTROL_CLIENT_TIMEOUT * 0.9);
	ck_assert_double_lt(waited, CONTROL_CLIENT_TIMEOUT + 1.0);
	wait_closed(partial);
	size_t len;
	char *rest = raw_read_all(partial, &len);
	ck_assert_uint_eq(len, 0); /* dropped without an answer */
	free(rest);
	close(silent);
	close(partial);
	server_stop(&s);
}
END_TEST

/* A client that never reads its (large) answer is dropped after the timeout; others go on. */
START_TEST(test_slow_reader)
{
	struct server s;
	server_start(&s);
	int fd = raw_connect(path);
	raw_send(fd, "big\n4000000\n\n", 13);
	while (atomic_load(&handler_calls) == 0)
		usleep(1000);

	char *argv[] = {"echo"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	free(body);

	wait_closed(fd);
	size_t len;
	char *answer = raw_read_all(fd, &len);
	ck_assert_uint_gt(len, 3);
	ck_assert_uint_lt(len, 3 + 4000000);
	ck_assert(memcmp(answer, "ok\nabc", 6) == 0);
	free(answer);
	close(fd);
	server_stop(&s);
}
END_TEST

/* Clients that leave before or while their answer is written: no SIGPIPE (the test does not ignore
 * it, so one would kill it), no stall. An answer received after each proves the server went past
 * the failed write: the closed client's event is pending before the next connection exists. */
START_TEST(test_early_disconnect)
{
	struct server s;
	server_start(&s);
	char *argv[] = {"echo"}, *body;

	int fd = raw_connect(path);
	raw_send(fd, "big\n4000000\n\n", 13);
	close(fd);
	while (atomic_load(&handler_calls) < 1)
		usleep(1000);
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	free(body);

	fd = raw_connect(path);
	raw_send(fd, "big\n4000000\n\n", 13);
	char head[16];
	ck_assert_int_eq(recv(fd, head, sizeof(head), MSG_WAITALL), (ssize_t)sizeof(head));
	ck_assert(memcmp(head, "ok\nabc", 6) == 0);
	close(fd);
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\n");
	free(body);
	server_stop(&s);
}
END_TEST

/* Deferred answers: the client waits past the client timeout without being dropped, gets the answer
 * given later with its status, a client that left meanwhile costs nothing, other requests are served
 * while one waits, and one still waiting when the socket closes is closed with it. */
START_TEST(test_deferred_answers)
{
	struct server s;
	server_start(&s);
	int a = raw_connect(path), b = raw_connect(path), gone = raw_connect(path);
	raw_send(a, "later\n\n", 7);
	raw_send(b, "later\n\n", 7);
	raw_send(gone, "later\n\n", 7);
	while (atomic_load(&handler_calls) < 3)
		usleep(1000);
	close(gone);
	usleep((useconds_t)(CONTROL_CLIENT_TIMEOUT * 1.5e6)); /* past the timeout of a request */
	struct pollfd p[2] = {{.fd = a, .events = POLLIN | POLLRDHUP},
			      {.fd = b, .events = POLLIN | POLLRDHUP}};
	ck_assert_int_eq(poll(p, 2, 0), 0); /* neither answered nor dropped */
	char *argv[] = {"echo", "meanwhile"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 2, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\nmeanwhile\n");
	free(body);
	char *release[] = {"release", "refused", "reload refused"};
	ck_assert_int_eq(ask(&body, NULL, 3, release), CONTROL_OK);
	ck_assert_str_eq(body, "released 3\n");
	free(body);
	size_t len;
	char *answer = raw_read_all(a, &len);
	ck_assert_str_eq(answer, "refused\nreload refused\n");
	free(answer);
	answer = raw_read_all(b, &len);
	ck_assert_str_eq(answer, "refused\nreload refused\n");
	free(answer);
	close(a);
	close(b);

	char *lie[] = {"lie"};
	char *why = NULL;
	ck_assert_int_eq(ask(&body, &why, 1, lie), CONTROL_ERROR);
	ck_assert_str_eq(body, "internal error: bad handler status\n");
	free(body);
	free(why);

	char *now[] = {"now"}; /* answered within the handler that deferred it */
	ck_assert_int_eq(ask(&body, NULL, 1, now), CONTROL_REFUSED);
	ck_assert_str_eq(body, "at once\n");
	free(body);

	int left = raw_connect(path); /* still waiting when the server stops: closed, not leaked */
	raw_send(left, "later\n\n", 7);
	while (atomic_load(&handler_calls) < 8)
		usleep(1000);
	server_stop(&s);
	ck_assert_double_lt(wait_closed(left), WAIT_MAX);
	close(left);
}
END_TEST

START_TEST(test_too_many_clients)
{
	struct server s;
	server_start(&s);
	int fds[CONTROL_CLIENTS_MAX];
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		fds[i] = raw_connect(path);
	/* The server accepts in connection order, so these 32 hold every slot before the next arrives. */
	char *argv[] = {"echo"}, *body;
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_ERROR);
	ck_assert_str_eq(body, "too many control clients at once, try again\n");
	free(body);

	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		wait_closed(fds[i]);
		close(fds[i]);
	}
	ck_assert_int_eq(ask(&body, NULL, 1, argv), CONTROL_OK);
	ck_assert_str_eq(body, "echo\n");
	free(body);
	server_stop(&s);
}
END_TEST

START_TEST(test_mode_and_unlink)
{
	mode_t old = umask(077); /* the mode must not depend on the umask */
	struct server s;
	server_start(&s);
	umask(old);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	server_stop(&s);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* A path that is no longer our socket (moved away, something else in its place) is left alone. */
	server_start(&s);
	char moved[160];
	snprintf(moved, sizeof(moved), "%s/moved.sock", dir);
	ck_assert_int_eq(rename(path, moved), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	server_stop(&s);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

/* A stand-in server that reads the request to its end, then answers `reply` and closes. */
struct fake {
	int fd;
	const char *reply;
	pthread_t thread;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->fd, NULL, NULL);
	char buf[256];
	while (c >= 0 && recv(c, buf, sizeof(buf), 0) > 0)
		;
	if (c >= 0) {
		ssize_t ignored = send(c, f->reply, strlen(f->reply), MSG_NOSIGNAL);
		(void)ignored;
		close(c);
	}
	return NULL;
}

static int fake_listen(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static void expect_malformed(const char *reply, const char *why_part)
{
	struct fake f = {.fd = fake_listen(), .reply = reply};
	ck_assert_int_eq(pthread_create(&f.thread, NULL, fake_run, &f), 0);
	char *argv[] = {"status"}, *body, *why;
	ck_assert_int_eq(ask(&body, &why, 1, argv), -1);
	ck_assert_msg(strstr(why, why_part), "'%s' does not say '%s'", why, why_part);
	free(why);
	pthread_join(f.thread, NULL);
	close(f.fd);
	unlink(path);
}

START_TEST(test_client_errors)
{
	char *argv[] = {"status"}, *body, *why, want[200];
	ck_assert_int_eq(ask(&body, &why, 1, argv), -1);
	snprintf(want, sizeof(want), "cannot reach meridiand at %s: No such file or directory", path);
	ck_assert_str_eq(why, want);
	free(why);

	int fd = fake_listen();
	close(fd); /* stale */
	ck_assert_int_eq(ask(&body, &why, 1, argv), -1);
	snprintf(want, sizeof(want), "cannot reach meridiand at %s: Connection refused", path);
	ck_assert_str_eq(why, want);
	free(why);
	unlink(path);

	fd = fake_listen(); /* listens, never accepts or answers */
	struct diag d;
	diag_init(&d);
	double start = now_mono();
	ck_assert_int_eq(control_request(path, 1, argv, 0.2, &body, &d), -1);
	ck_assert_double_ge(now_mono() - start, 0.19);
	ck_assert_double_lt(now_mono() - start, 1.5);
	snprintf(want, sizeof(want), "meridiand at %s did not answer within 0.2 s", path);
	ck_assert_str_eq(d.entries[0].text, want);
	diag_free(&d);
	close(fd);
	unlink(path);

	expect_malformed("bogus\nbody\n", "no ok/refused/error status line");
	expect_malformed("ok", "no ok/refused/error status line");
	expect_malformed("okay\n", "no ok/refused/error status line");
	expect_malformed("", "closed the connection without answering");
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("socket");
	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, remove_files);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_statuses);
	tcase_add_test(tc, test_raw_protocol);
	tcase_add_test(tc, test_request_size);
	tcase_add_test(tc, test_argument_count);
	tcase_add_test(tc, test_unsendable_arguments);
	tcase_add_test(tc, test_stale_socket_replaced);
	tcase_add_test(tc, test_live_socket_refused);
	tcase_add_test(tc, test_bad_paths);
	tcase_add_test(tc, test_stuck_clients);
	tcase_add_test(tc, test_slow_reader);
	tcase_add_test(tc, test_early_disconnect);
	tcase_add_test(tc, test_deferred_answers);
	tcase_add_test(tc, test_too_many_clients);
	tcase_add_test(tc, test_mode_and_unlink);
	tcase_add_test(tc, test_client_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(control_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
