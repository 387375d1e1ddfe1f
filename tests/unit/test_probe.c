/* test_probe.c -- unit tests of the health probes (probe.h) against loopback servers the test runs
 * itself: TCP listeners, an HTTP server and a DNS responder on threads, `openssl s_server` for HTTPS
 * (with a self-signed certificate made by the openssl CLI), and /bin/sh for exec. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>
#include <ldns/ldns.h>

#include "meridian/probe.h"

/* ---- the engine under test ----------------------------------------------------------------------- */

static struct ev_loop *loop;
static struct probe_engine *engine;

struct outcome {
	int calls;
	struct probe_result r;
};

static void on_done(void *arg, const struct probe_result *r)
{
	struct outcome *o = arg;
	o->calls++;
	o->r = *r;
}

static void open_engine(struct ev_loop *l)
{
	struct diag d;
	diag_init(&d);
	loop = l;
	engine = probe_engine_new(loop, &d);
	ck_assert_ptr_nonnull(engine);
	diag_free(&d);
}

static void setup_own_loop(void)
{
	signal(SIGPIPE, SIG_IGN);
	open_engine(ev_loop_new(EVFLAG_AUTO));
}

static void setup_default_loop(void)
{
	signal(SIGPIPE, SIG_IGN);
	open_engine(EV_DEFAULT);
}

static void teardown(void)
{
	probe_engine_free(engine);
	engine = NULL;
	if (!ev_is_default_loop(loop))
		ev_loop_destroy(loop);
	loop = NULL;
}

/* Starts a probe; its callback must not run from inside probe_start. */
static struct probe *start(const struct conf_check *c, const struct conf_member *m, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct probe *p = probe_start(engine, c, m, on_done, o);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(o->calls, 0);
	return p;
}

static void wait_for(const struct outcome *o)
{
	while (o->calls == 0)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(o->calls, 1);
}

static struct probe_result run(const struct conf_check *c, const struct conf_member *m)
{
	struct outcome o;
	start(c, m, &o);
	wait_for(&o);
	return o.r;
}

static void on_spin_end(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ONE);
}

/* Runs the loop for about `seconds`. */
static void spin(double seconds)
{
	ev_timer t;
	ev_timer_init(&t, on_spin_end, seconds, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

static struct conf_check make_check(enum conf_check_type type, uint16_t port)
{
	struct conf_check c;
	memset(&c, 0, sizeof(c));
	c.type = type;
	c.port = port;
	c.path = "/";
	c.expect[0] = 200;
	c.expect_count = 1;
	c.verify = true;
	c.qname = ".";
	c.qtype = LDNS_RR_TYPE_SOA;
	c.interval = 5;
	c.timeout = 1;
	c.rise = 2;
	c.fall = 3;
	return c;
}

static struct conf_member make_member(const char *name, const char *addr)
{
	struct conf_member m;
	memset(&m, 0, sizeof(m));
	m.name = name;
	m.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(m.family, addr, m.addr), 1);
	m.weight = 1;
	return m;
}

/* A CNAME member; wire is the target as a wire name. */
static struct conf_member make_cname_member(const char *name, const uint8_t *wire, size_t len)
{
	struct conf_member m;
	memset(&m, 0, sizeof(m));
	m.name = name;
	m.target = wire;
	m.target_len = len;
	m.weight = 1;
	return m;
}

#define ck_assert_reason(r, text) ck_assert_str_eq((r).reason, (text))
#define ck_assert_reason_has(r, text)                                                                        \
	ck_assert_msg(strstr((r).reason, (text)) != NULL, "reason \"%s\" lacks \"%s\"", (r).reason, (text))

/* ---- sockets ------------------------------------------------------------------------------------- */

/* A socket bound to addr:port (0: any free port), listening when it is a stream; *bound gets the port. */
static int bound_socket(const char *addr, uint16_t port, int type, int backlog, uint16_t *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	}
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	if (type == SOCK_STREAM)
		ck_assert_int_eq(listen(fd, backlog), 0);
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						: ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A port on 127.0.0.1 where nothing listens (bound, read back, closed). */
static uint16_t closed_port(void)
{
	uint16_t port;
	int fd = bound_socket("127.0.0.1", 0, SOCK_STREAM, 1, &port);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return port;
}

/* ---- an HTTP server on a thread ------------------------------------------------------------------ */

/* Serves each request by a mode: the server's own when set, otherwise the request path without its
 * slash. ok: 200 "OK"; 502; wrongbody: 200 "NOPE"; big: 200 with "OK" after 100 KB; redirect: 302 to
 * /ok; hang: keeps the connection, never answers; close: closes without answering. */
struct http_server {
	int fd;
	uint16_t port;
	const char *mode;
	pthread_t thread;
	int stop[2];
	pthread_mutex_t lock;
	int requests;
	char host[256];	 /* Host header of the last request */
	char agent[256]; /* User-Agent of the last request */
	int held[32];
	int nheld;
};

static void header_value(const char *req, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *line = strstr(req, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
			const char *v = line + 3 + n;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r\n");
			snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), v);
			return;
		}
	}
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *extra, const char *body, size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
			 body_len, extra);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, body_len);
}

static void serve_request(struct http_server *s, int fd)
{
	char req[8192], path[256], mode[64];
	size_t len = 0;
	struct pollfd pfd = {fd, POLLIN, 0};
	while (len + 1 < sizeof(req) && poll(&pfd, 1, 2000) == 1) {
		ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
	if (sscanf(req, "GET %255s", path) != 1)
		snprintf(path, sizeof(path), "/");
	snprintf(mode, sizeof(mode), "%.63s", s->mode ? s->mode : path + 1);
	pthread_mutex_lock(&s->lock);
	s->requests++;
	header_value(req, "Host", s->host, sizeof(s->host));
	header_value(req, "User-Agent", s->agent, sizeof(s->agent));
	pthread_mutex_unlock(&s->lock);

	if (strcmp(mode, "hang") == 0 && s->nheld < 32) {
		s->held[s->nheld++] = fd;
		return;
	}
	if (strcmp(mode, "ok") == 0) {
		respond(fd, 200, "", "OK", 2);
	} else if (strcmp(mode, "502") == 0) {
		respond(fd, 502, "", "bad gateway", 11);
	} else if (strcmp(mode, "wrongbody") == 0) {
		respond(fd, 200, "", "NOPE", 4);
	} else if (strcmp(mode, "redirect") == 0) {
		respond(fd, 302, "Location: /ok\r\n", "OK", 2);
	} else if (strcmp(mode, "big") == 0) {
		size_t n = 100 * 1024;
		char *body = malloc(n + 2);
		memset(body, 'x', n);
		memcpy(body + n, "OK", 2);
		respond(fd, 200, "", body, n + 2);
		free(body);
	}
	close(fd); /* "close", and the end of every answer */
}

static void *http_thread(void *arg)
{
	struct http_server *s = arg;
	for (;;) {
		struct pollfd pfd[2] = {{s->fd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
		if (poll(pfd, 2, -1) < 0 || pfd[1].revents)
			return NULL;
		int fd = accept(s->fd, NULL, NULL);
		if (fd >= 0)
			serve_request(s, fd);
	}
}

static void http_begin(struct http_server *s, int fd, uint16_t port, const char *mode)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->port = port;
	s->mode = mode;
	pthread_mutex_init(&s->lock, NULL);
	ck_assert_int_eq(pipe2(s->stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, http_thread, s), 0);
}

static void http_start_on(struct http_server *s, const char *addr, const char *mode)
{
	uint16_t port;
	int fd = bound_socket(addr, 0, SOCK_STREAM, 16, &port);
	ck_assert_int_ge(fd, 0);
	http_begin(s, fd, port, mode);
}

static void http_stop(struct http_server *s)
{
	ck_assert_int_eq(write(s->stop[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < s->nheld; i++)
		close(s->held[i]);
	close(s->fd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

static void http_last(struct http_server *s, char *host, char *agent, int *requests)
{
	pthread_mutex_lock(&s->lock);
	strcpy(host, s->host);
	strcpy(agent, s->agent);
	*requests = s->requests;
	pthread_mutex_unlock(&s->lock);
}

/* ---- a DNS responder on a thread ----------------------------------------------------------------- */

/* noerror: the records below for the asked type; servfail; empty: NOERROR without answers; silent:
 * never answers; wrongid / wrongname: first a SERVFAIL with another id / question, then noerror. */
struct dns_server {
	int fd;
	uint16_t port;
	const char *mode;
	pthread_t thread;
	int stop[2];
	int queries;
	bool rd_seen; /* some query had RD=1 */
};

static const char *const dns_data[] = {
    "A 192.0.2.1",
    "A 192.0.2.2",
    "AAAA 2001:db8::1",
    "NS ns1.example.com.",
    "MX 10 mail.example.com.",
    "TXT \"hello world\"",
};

static void dns_send(int fd, const struct sockaddr_storage *peer, socklen_t plen, ldns_pkt *r)
{
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(ldns_pkt2wire(&wire, r, &len), LDNS_STATUS_OK);
	sendto(fd, wire, len, 0, (const struct sockaddr *)peer, plen);
	free(wire);
}

static ldns_pkt *dns_reply(const ldns_pkt *q, ldns_pkt_rcode rcode, bool with_answers,
			   const char *qname_override)
{
	ldns_pkt *r = ldns_pkt_new();
	const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_rr *echo = ldns_rr_clone(question);
	if (qname_override) {
		ldns_rdf_deep_free(ldns_rr_owner(echo));
		ldns_rr_set_owner(echo, ldns_dname_new_frm_str(qname_override));
	}
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_rcode(r, rcode);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, echo);
	char *owner = ldns_rdf2str(ldns_rr_owner(question));
	char *type = ldns_rr_type2str(ldns_rr_get_type(question));
	for (size_t i = 0; with_answers && i < sizeof(dns_data) / sizeof(dns_data[0]); i++) {
		size_t tl = strlen(type);
		if (strncmp(dns_data[i], type, tl) != 0 || dns_data[i][tl] != ' ')
			continue;
		char line[256];
		ldns_rr *rr = NULL;
		snprintf(line, sizeof(line), "%s 300 IN %s", owner, dns_data[i]);
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
	}
	free(owner);
	free(type);
	return r;
}

static void dns_answer(struct dns_server *s, const uint8_t *buf, size_t n,
		       const struct sockaddr_storage *peer, socklen_t plen)
{
	ldns_pkt *q = NULL;
	if (ldns_wire2pkt(&q, buf, n) != LDNS_STATUS_OK || ldns_pkt_qdcount(q) != 1) {
		ldns_pkt_free(q);
		return;
	}
	__atomic_add_fetch(&s->queries, 1, __ATOMIC_SEQ_CST);
	if (ldns_pkt_rd(q))
		__atomic_store_n(&s->rd_seen, true, __ATOMIC_SEQ_CST);
	ldns_pkt *r = NULL;
	if (strcmp(s->mode, "wrongid") == 0 || strcmp(s->mode, "wrongname") == 0) {
		bool id = strcmp(s->mode, "wrongid") == 0;
		ldns_pkt *decoy = dns_reply(q, LDNS_RCODE_SERVFAIL, false, id ? NULL : "decoy.example.");
		if (id)
			ldns_pkt_set_id(decoy, (uint16_t)(ldns_pkt_id(q) + 1));
		dns_send(s->fd, peer, plen, decoy);
		ldns_pkt_free(decoy);
		r = dns_reply(q, LDNS_RCODE_NOERROR, true, NULL);
	} else if (strcmp(s->mode, "noerror") == 0) {
		r = dns_reply(q, LDNS_RCODE_NOERROR, true, NULL);
	} else if (strcmp(s->mode, "empty") == 0) {
		r = dns_reply(q, LDNS_RCODE_NOERROR, false, NULL);
	} else if (strcmp(s->mode, "servfail") == 0) {
		r = dns_reply(q, LDNS_RCODE_SERVFAIL, false, NULL);
	}
	if (r)
		dns_send(s->fd, peer, plen, r);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}

static void *dns_thread(void *arg)
{
	struct dns_server *s = arg;
	for (;;) {
		struct pollfd pfd[2] = {{s->fd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
		if (poll(pfd, 2, -1) < 0 || pfd[1].revents)
			return NULL;
		uint8_t buf[4096];
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		if (n > 0)
			dns_answer(s, buf, (size_t)n, &peer, plen);
	}
}

static void dns_start(struct dns_server *s, const char *mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->fd = bound_socket("127.0.0.1", 0, SOCK_DGRAM, 0, &s->port);
	ck_assert_int_ge(s->fd, 0);
	ck_assert_int_eq(pipe2(s->stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, dns_thread, s), 0);
}

static void dns_stop(struct dns_server *s)
{
	ck_assert_int_eq(write(s->stop[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->stop[0]);
	close(s->stop[1]);
}

/* ---- an HTTPS server: openssl s_server -www ----------------------------------------------------- */

/* Its certificate (self-signed, made here) names www.example.test; a client whose SNI names anything
 * else gets a fatal alert (-servername_fatal), one without SNI the same certificate. */
struct tls_server {
	char dir[64];
	pid_t pid;
	uint16_t port;
};

static bool can_connect(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void tls_start(struct tls_server *t)
{
	char cmd[512], cert[96], key[96], accept[32];
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_probe.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", t->dir);
	snprintf(key, sizeof(key), "%s/key.pem", t->dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
		 "-subj /CN=www.example.test -addext subjectAltName=DNS:www.example.test "
		 "-keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	ck_assert_int_eq(system(cmd), 0);
	t->port = closed_port();
	snprintf(accept, sizeof(accept), "127.0.0.1:%u", t->port);
	char *argv[] = {"openssl",
			"s_server",
			"-quiet",
			"-www",
			"-accept",
			accept,
			"-cert",
			cert,
			"-key",
			key,
			"-cert2",
			cert,
			"-key2",
			key,
			"-servername",
			"www.example.test",
			"-servername_fatal",
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	ck_assert_int_eq(posix_spawnp(&t->pid, "openssl", &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 300 && !can_connect(t->port); i++)
		usleep(10000);
	ck_assert_msg(can_connect(t->port), "openssl s_server did not start on port %u", t->port);
}

static void tls_stop(struct tls_server *t)
{
	char cmd[128];
	kill(t->pid, SIGTERM);
	waitpid(t->pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- tcp ----------------------------------------------------------------------------------------- */

START_TEST(tcp_up)
{
	uint16_t port;
	int fd = bound_socket("127.0.0.1", 0, SOCK_STREAM, 16, &port);
	struct conf_check c = make_check(CONF_CHECK_TCP, port);
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert(r.ok);
	ck_assert_reason(r, "TCP connect ok");
	ck_assert(r.elapsed >= 0 && r.elapsed < 0.5);
	close(fd);
}
END_TEST

START_TEST(tcp_up_ipv6)
{
	uint16_t port;
	int fd = bound_socket("::1", 0, SOCK_STREAM, 16, &port);
	ck_assert_int_ge(fd, 0);
	struct conf_check c = make_check(CONF_CHECK_TCP, port);
	struct conf_member m = make_member("web-6", "::1");
	struct probe_result r = run(&c, &m);
	ck_assert(r.ok);
	ck_assert_reason(r, "TCP connect ok");
	close(fd);
}
END_TEST

START_TEST(tcp_refused)
{
	struct conf_check c = make_check(CONF_CHECK_TCP, closed_port());
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason(r, "connect: Connection refused");
}
END_TEST

/* A listener whose accept queue is full drops further SYNs: the connect neither succeeds nor fails. */
START_TEST(tcp_timeout)
{
	uint16_t port;
	int fd = bound_socket("127.0.0.1", 0, SOCK_STREAM, 0, &port);
	int fillers[4];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < 4; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000);
	struct conf_check c = make_check(CONF_CHECK_TCP, port);
	c.timeout = 0.3;
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason(r, "timeout after 0.3 s");
	ck_assert_msg(r.elapsed >= 0.29 && r.elapsed < 0.6, "elapsed %f", r.elapsed);
	for (int i = 0; i < 4; i++)
		close(fillers[i]);
	close(fd);
}
END_TEST

/* A CNAME member: curl resolves the target ("localhost") and connects. */
static const uint8_t localhost_wire[] = "\x09localhost";

START_TEST(tcp_cname_member)
{
	uint16_t port;
	int fd = bound_socket("127.0.0.1", 0, SOCK_STREAM, 16, &port);
	struct conf_check c = make_check(CONF_CHECK_TCP, port);
	struct conf_member m = make_cname_member("edge", localhost_wire, sizeof(localhost_wire));
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_reason(r, "TCP connect ok");
	close(fd);

	c.port = closed_port();
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "onnect");
}
END_TEST

/* ---- http ---------------------------------------------------------------------------------------- */

static struct probe_result http_get(struct http_server *s, const char *path, const char *body)
{
	struct conf_check c = make_check(CONF_CHECK_HTTP, s->port);
	c.path = path;
	c.body = body;
	struct conf_member m = make_member("web-1", "127.0.0.1");
	return run(&c, &m);
}

START_TEST(http_ok)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/ok", "OK");
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_reason(r, "HTTP 200");
	char host[256], agent[256];
	int requests;
	http_last(&s, host, agent, &requests);
	ck_assert_int_eq(requests, 1);
	ck_assert_str_eq(agent, "meridian-health/0.1");
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%u", s.port);
	ck_assert_str_eq(host, want);
	/* a path without its slash, and no body check */
	r = http_get(&s, "ok", NULL);
	ck_assert(r.ok);
	http_stop(&s);
}
END_TEST

START_TEST(http_502)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/502", "OK");
	ck_assert(!r.ok);
	ck_assert_reason(r, "HTTP 502, expected 200");

	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	struct conf_member m = make_member("web-1", "127.0.0.1");
	c.path = "/502";
	c.expect[0] = 200;
	c.expect[1] = 204;
	c.expect[2] = 301;
	c.expect_count = 3;
	r = run(&c, &m);
	ck_assert_reason(r, "HTTP 502, expected 200, 204 or 301");
	c.expect[1] = 502;
	c.expect_count = 2;
	r = run(&c, &m);
	ck_assert(r.ok);
	ck_assert_reason(r, "HTTP 502");
	http_stop(&s);
}
END_TEST

START_TEST(http_wrong_body)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/wrongbody", "OK");
	ck_assert(!r.ok);
	ck_assert_reason(r, "HTTP 200 but body lacks \"OK\"");
	r = http_get(&s, "/wrongbody", "NOPE");
	ck_assert(r.ok);
	http_stop(&s);
}
END_TEST

/* Only the first 64 KiB of a body count: "OK" after 100 KiB is not seen. */
START_TEST(http_body_window)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/big", "OK");
	ck_assert(!r.ok);
	ck_assert_reason(r, "HTTP 200 but body lacks \"OK\"");
	r = http_get(&s, "/big", "xxxx");
	ck_assert_msg(r.ok, "%s", r.reason);
	r = http_get(&s, "/big", NULL);
	ck_assert_msg(r.ok, "%s", r.reason);
	http_stop(&s);
}
END_TEST

START_TEST(http_no_redirects)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/redirect", "OK");
	ck_assert(!r.ok);
	ck_assert_reason(r, "HTTP 302, expected 200");
	char host[256], agent[256];
	int requests;
	http_last(&s, host, agent, &requests);
	ck_assert_int_eq(requests, 1);
	http_stop(&s);
}
END_TEST

START_TEST(http_hang)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	c.path = "/hang";
	c.timeout = 0.3;
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason(r, "timeout after 0.3 s");
	ck_assert_msg(r.elapsed >= 0.29 && r.elapsed < 0.6, "elapsed %f", r.elapsed);
	http_stop(&s);
}
END_TEST

START_TEST(http_close_and_no_listener)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", NULL);
	struct probe_result r = http_get(&s, "/close", NULL);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "Empty reply");
	http_stop(&s);

	struct conf_check c = make_check(CONF_CHECK_HTTP, closed_port());
	struct conf_member m = make_member("web-1", "127.0.0.1");
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "onnect");
	ck_assert(r.elapsed < 0.5);
}
END_TEST

/* check->host names the site; the request still goes to the member's address. */
START_TEST(http_host_pinned)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", "ok");
	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	c.host = "www.example.test";
	c.body = "OK";
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	char host[256], agent[256], want[64];
	int requests;
	http_last(&s, host, agent, &requests);
	snprintf(want, sizeof(want), "www.example.test:%u", s.port);
	ck_assert_str_eq(host, want);
	http_stop(&s);
}
END_TEST

START_TEST(http_ipv6_member)
{
	struct http_server s;
	http_start_on(&s, "::1", "ok");
	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	struct conf_member m = make_member("web-6", "::1");
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	char host[256], agent[256], want[64];
	int requests;
	http_last(&s, host, agent, &requests);
	snprintf(want, sizeof(want), "[::1]:%u", s.port);
	ck_assert_str_eq(host, want);
	c.host = "www.example.test";
	r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	http_last(&s, host, agent, &requests);
	snprintf(want, sizeof(want), "www.example.test:%u", s.port);
	ck_assert_str_eq(host, want);
	ck_assert_int_eq(requests, 2);
	http_stop(&s);
}
END_TEST

/* Two members behind one host name on the same port, probed at once: each probe reaches its own. */
START_TEST(http_two_members_one_host)
{
	struct http_server a, b;
	uint16_t port = 0, port_b = 0;
	int fd_a = -1, fd_b = -1;
	for (int i = 0; i < 50 && fd_b < 0; i++) {
		if (fd_a >= 0)
			close(fd_a);
		fd_a = bound_socket("127.0.0.1", 0, SOCK_STREAM, 16, &port);
		fd_b = bound_socket("127.0.0.2", port, SOCK_STREAM, 16, &port_b);
	}
	ck_assert_int_ge(fd_b, 0);
	http_begin(&a, fd_a, port, "ok");
	http_begin(&b, fd_b, port, "502");
	struct conf_check c = make_check(CONF_CHECK_HTTP, port);
	c.host = "www.example.test";
	struct conf_member ma = make_member("a", "127.0.0.1"), mb = make_member("b", "127.0.0.2");
	for (int round = 0; round < 3; round++) {
		struct outcome oa, ob;
		if (round % 2) {
			start(&c, &mb, &ob);
			start(&c, &ma, &oa);
		} else {
			start(&c, &ma, &oa);
			start(&c, &mb, &ob);
		}
		wait_for(&oa);
		wait_for(&ob);
		ck_assert_reason(oa.r, "HTTP 200");
		ck_assert_reason(ob.r, "HTTP 502, expected 200");
	}
	http_stop(&a);
	http_stop(&b);
}
END_TEST

static const uint8_t example_test_wire[] = "\x03www\x07"
					   "example\x04test";

START_TEST(http_cname_member)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", "ok");
	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	struct conf_member m = make_cname_member("edge", localhost_wire, sizeof(localhost_wire));
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	char host[256], agent[256], want[64];
	int requests;
	http_last(&s, host, agent, &requests);
	snprintf(want, sizeof(want), "localhost:%u", s.port);
	ck_assert_str_eq(host, want);
	http_stop(&s);

	/* A name nobody can resolve (.test is reserved): curl says so, or the resolver is slow here. */
	m = make_cname_member("edge", example_test_wire, sizeof(example_test_wire));
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_msg(strstr(r.reason, "resolve") || strcmp(r.reason, "timeout after 1.0 s") == 0, "%s",
		      r.reason);
}
END_TEST

/* A callback may start the next probe at once (from inside curl's completion handling). */
struct chain {
	struct conf_check *c;
	struct conf_member *m;
	int left;
	int calls;
	bool all_ok;
};

static void on_chain(void *arg, const struct probe_result *r)
{
	struct chain *ch = arg;
	ch->calls++;
	ch->all_ok = ch->all_ok && r->ok;
	if (--ch->left > 0)
		probe_start(engine, ch->c, ch->m, on_chain, ch);
}

START_TEST(http_chained)
{
	struct http_server s;
	http_start_on(&s, "127.0.0.1", "ok");
	struct conf_check c = make_check(CONF_CHECK_HTTP, s.port);
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct chain ch = {&c, &m, 5, 0, true};
	probe_start(engine, &c, &m, on_chain, &ch);
	while (ch.left > 0)
		ev_run(loop, EVRUN_ONCE);
	ck_assert_int_eq(ch.calls, 5);
	ck_assert(ch.all_ok);
	http_stop(&s);
}
END_TEST

/* ---- https --------------------------------------------------------------------------------------- */

START_TEST(https_verify)
{
	struct tls_server t;
	tls_start(&t);
	struct conf_check c = make_check(CONF_CHECK_HTTPS, t.port);
	struct conf_member m = make_member("web-1", "127.0.0.1");
	c.verify = false;
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_reason(r, "HTTP 200");

	c.verify = true;
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "certificate");

	/* The right name does not make a self-signed certificate trusted. */
	c.host = "www.example.test";
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "certificate");
	tls_stop(&t);
}
END_TEST

/* The server refuses any SNI but www.example.test: reaching it proves SNI and address are right. */
START_TEST(https_sni_pinned)
{
	struct tls_server t;
	tls_start(&t);
	struct conf_check c = make_check(CONF_CHECK_HTTPS, t.port);
	struct conf_member m = make_member("web-1", "127.0.0.1");
	c.verify = false;
	c.host = "www.example.test";
	c.body = "s_server";
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);

	c.host = "other.example.test";
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "unrecognized name");
	tls_stop(&t);
}
END_TEST

/* ---- dns ----------------------------------------------------------------------------------------- */

static struct probe_result dns_ask(struct dns_server *s, const char *qname, uint16_t qtype, uint8_t rcode,
				   const char *answer, double timeout)
{
	struct conf_check c = make_check(CONF_CHECK_DNS, s->port);
	c.qname = qname;
	c.qtype = qtype;
	c.rcode = rcode;
	c.answer = answer;
	c.timeout = timeout;
	struct conf_member m = make_member("ns-1", "127.0.0.1");
	return run(&c, &m);
}

START_TEST(dns_rcode)
{
	struct dns_server s;
	dns_start(&s, "noerror");
	struct probe_result r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, NULL, 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_reason(r, "rcode NOERROR");
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, NULL, 1);
	ck_assert(!r.ok);
	ck_assert_reason(r, "rcode NOERROR, expected NXDOMAIN");
	ck_assert(!__atomic_load_n(&s.rd_seen, __ATOMIC_SEQ_CST));
	ck_assert_int_eq(__atomic_load_n(&s.queries, __ATOMIC_SEQ_CST), 2);
	dns_stop(&s);

	dns_start(&s, "servfail");
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, NULL, 1);
	ck_assert(!r.ok);
	ck_assert_reason(r, "rcode SERVFAIL, expected NOERROR");
	dns_stop(&s);
}
END_TEST

START_TEST(dns_answer_match)
{
	struct dns_server s;
	dns_start(&s, "noerror");
	struct probe_result r =
	    dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "192.0.2.2", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_reason(r, "rcode NOERROR with 192.0.2.2");
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "192.0.2.9", 1);
	ck_assert(!r.ok);
	ck_assert_reason(r, "answer lacks 192.0.2.9");
	/* Written differently from ldns's printing, same data. */
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, "2001:DB8:0::1", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, "NS1.Example.COM", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, "ns2.example.com.", 1);
	ck_assert_reason(r, "answer lacks ns2.example.com.");
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, "10   mail.example.com", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, "20 mail.example.com", 1);
	ck_assert(!r.ok);
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, "\"hello world\"", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	/* An answer of another type does not count. */
	r = dns_ask(&s, "example.com", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, "192.0.2.1", 1);
	ck_assert(!r.ok);
	dns_stop(&s);

	dns_start(&s, "empty");
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "192.0.2.1", 1);
	ck_assert_reason(r, "answer lacks 192.0.2.1");
	dns_stop(&s);
}
END_TEST

START_TEST(dns_ignores_other_replies)
{
	struct dns_server s;
	dns_start(&s, "wrongid");
	struct probe_result r =
	    dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "192.0.2.1", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	dns_stop(&s);
	dns_start(&s, "wrongname");
	r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "192.0.2.1", 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	dns_stop(&s);
}
END_TEST

START_TEST(dns_silent_and_refused)
{
	struct dns_server s;
	dns_start(&s, "silent");
	struct probe_result r = dns_ask(&s, "www.example.com", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, NULL, 0.3);
	ck_assert(!r.ok);
	ck_assert_reason(r, "timeout after 0.3 s");
	ck_assert_msg(r.elapsed >= 0.29 && r.elapsed < 0.6, "elapsed %f", r.elapsed);
	ck_assert_int_eq(__atomic_load_n(&s.queries, __ATOMIC_SEQ_CST), 1);
	dns_stop(&s);

	/* Nothing on the port: the ICMP error ends the check before its timeout. */
	struct conf_check c = make_check(CONF_CHECK_DNS, closed_port());
	struct conf_member m = make_member("ns-1", "127.0.0.1");
	r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason(r, "dns: Connection refused");
	ck_assert(r.elapsed < 0.5);
}
END_TEST

/* A check that cannot even start still reports from the loop, not from probe_start. */
START_TEST(dns_bad_qname)
{
	struct conf_check c = make_check(CONF_CHECK_DNS, 53);
	c.qname = "a-label-that-is-far-too-long-to-be-a-dns-label-because-it-has-more-than-63.example";
	struct conf_member m = make_member("ns-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert(!r.ok);
	ck_assert_reason_has(r, "bad query name");
	ck_assert(r.elapsed < 0.1);

	struct conf_member cname = make_cname_member("edge", localhost_wire, sizeof(localhost_wire));
	c.qname = "example.com";
	r = run(&c, &cname);
	ck_assert(!r.ok);
	ck_assert_reason(r, "dns: the member has no address to query");
}
END_TEST

/* ---- exec ---------------------------------------------------------------------------------------- */

static struct probe_result exec_run(const char *command, double timeout)
{
	struct conf_check c = make_check(CONF_CHECK_EXEC, 8080);
	c.command = command;
	c.timeout = timeout;
	struct conf_member m = make_member("web-1", "127.0.0.1");
	return run(&c, &m);
}

/* The pid a command wrote to path. */
static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int pid = 0;
	ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* Neither running nor a zombie of ours: gone, or (for a grandchild) at most a zombie of init's. */
static char process_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

static void exec_basics(void)
{
	struct probe_result r = exec_run("true", 1);
	ck_assert(r.ok);
	ck_assert_reason(r, "exit 0");
	r = exec_run("false", 1);
	ck_assert(!r.ok);
	ck_assert_reason(r, "exit 1");
	r = exec_run("exit 3", 1);
	ck_assert_reason(r, "exit 3");
	r = exec_run("kill -9 $$", 1);
	ck_assert(!r.ok);
	ck_assert_reason(r, "killed by signal 9");
}

/* sleep 5 killed at 0.3 s, with a grandchild in the same group; nothing is left running and the
 * shell is reaped (kill(pid, 0) fails only once there is not even a zombie). */
static void exec_timeout_reaped(void)
{
	char dir[] = "/tmp/test_probe.XXXXXX", command[512], child[64], grandchild[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(child, sizeof(child), "%s/child", dir);
	snprintf(grandchild, sizeof(grandchild), "%s/grandchild", dir);
	snprintf(command, sizeof(command), "sleep 5 & echo $! >%s; echo $$ >%s.tmp; mv %s.tmp %s; wait",
		 grandchild, child, child, child);
	struct probe_result r = exec_run(command, 0.3);
	ck_assert(!r.ok);
	ck_assert_reason(r, "timeout after 0.3 s");
	ck_assert_msg(r.elapsed >= 0.29 && r.elapsed < 0.6, "elapsed %f", r.elapsed);
	pid_t pid = read_pid(child), gpid = read_pid(grandchild);
	for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
		spin(0.01);
	ck_assert_msg(kill(pid, 0) < 0 && errno == ESRCH, "the shell %d was not reaped", (int)pid);
	char state = process_state(gpid);
	ck_assert_msg(state == 0 || state == 'Z', "the grandchild %d is still in state %c", (int)gpid, state);
	unlink(child);
	unlink(grandchild);
	rmdir(dir);
}

START_TEST(exec_results)
{
	exec_basics();
}
END_TEST

START_TEST(exec_timeout)
{
	exec_timeout_reaped();
}
END_TEST

START_TEST(exec_default_loop)
{
	ck_assert(ev_is_default_loop(loop));
	exec_basics();
	exec_timeout_reaped();
}
END_TEST

START_TEST(exec_substitution)
{
	struct conf_check c = make_check(CONF_CHECK_EXEC, 8080);
	c.command = "test '{addr}' = 127.0.0.1 && test '{name}' = web-1 && test {port} = 8080";
	struct conf_member m = make_member("web-1", "127.0.0.1");
	struct probe_result r = run(&c, &m);
	ck_assert_msg(r.ok, "%s", r.reason);
	c.command = "test '{addr}' = 127.0.0.2";
	r = run(&c, &m);
	ck_assert_reason(r, "exit 1");

	struct conf_member m6 = make_member("web-6", "2001:db8::1");
	c.command = "test '{addr}' = 2001:db8::1 && test {name}{name} = web-6web-6";
	r = run(&c, &m6);
	ck_assert_msg(r.ok, "%s", r.reason);

	struct conf_member cname = make_cname_member("edge", example_test_wire, sizeof(example_test_wire));
	c.command = "test '{addr}' = www.example.test && test '{nope}' = '{nope}'";
	r = run(&c, &cname);
	ck_assert_msg(r.ok, "%s", r.reason);
}
END_TEST

/* The command's stdin is /dev/null (a read ends at once, even when ours would block) and it sees none
 * of our other descriptors. */
START_TEST(exec_stdio)
{
	int never[2];
	ck_assert_int_eq(pipe(never), 0);
	int saved = dup(0);
	ck_assert_int_eq(dup2(never[0], 0), 0);
	struct probe_result r = exec_run("read line", 1);
	dup2(saved, 0);
	close(saved);
	ck_assert_reason(r, "exit 1");

	char command[64];
	snprintf(command, sizeof(command), "test ! -e /proc/$$/fd/%d && test -e /proc/$$/fd/2", never[1]);
	r = exec_run(command, 1);
	ck_assert_msg(r.ok, "%s", r.reason);
	close(never[0]);
	close(never[1]);
}
END_TEST

/* ---- cancelling ---------------------------------------------------------------------------------- */

struct everything {
	struct http_server http;
	struct dns_server dns;
	struct conf_check c_http, c_dns, c_exec, c_tcp;
	struct conf_member m;
	char dir[32], pidfile[64], command[256];
	int listen_fd;
};

/* Starts one probe of every kind that will not finish within a second. */
static void start_everything(struct everything *x, struct probe **probes, struct outcome *o)
{
	http_start_on(&x->http, "127.0.0.1", "hang");
	dns_start(&x->dns, "silent");
	snprintf(x->dir, sizeof(x->dir), "/tmp/test_probe.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(x->dir));
	snprintf(x->pidfile, sizeof(x->pidfile), "%s/pid", x->dir);
	snprintf(x->command, sizeof(x->command), "echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 5", x->pidfile,
		 x->pidfile, x->pidfile);
	x->m = make_member("web-1", "127.0.0.1");
	x->c_http = make_check(CONF_CHECK_HTTP, x->http.port);
	x->c_dns = make_check(CONF_CHECK_DNS, x->dns.port);
	x->c_exec = make_check(CONF_CHECK_EXEC, 0);
	x->c_exec.command = x->command;
	uint16_t port;
	x->listen_fd = bound_socket("127.0.0.1", 0, SOCK_STREAM, 16, &port);
	x->c_tcp = make_check(CONF_CHECK_TCP, port);
	const struct conf_check *checks[] = {&x->c_http, &x->c_dns, &x->c_exec, &x->c_tcp};
	for (int i = 0; i < 4; i++) {
		struct conf_check *c = (struct conf_check *)checks[i];
		c->timeout = 2;
		probes[i] = start(c, &x->m, &o[i]);
	}
	/* The tcp probe is cancelled before the loop ever runs; the others once under way. */
	probe_cancel(probes[3]);
	for (int i = 0; i < 100 && access(x->pidfile, F_OK) != 0; i++)
		spin(0.01);
	spin(0.05);
}

static void stop_everything(struct everything *x, const struct outcome *o)
{
	pid_t pid = read_pid(x->pidfile);
	for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
		spin(0.01);
	ck_assert_msg(kill(pid, 0) < 0 && errno == ESRCH, "the exec child %d was not reaped", (int)pid);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(o[i].calls, 0);
	http_stop(&x->http);
	dns_stop(&x->dns);
	close(x->listen_fd);
	unlink(x->pidfile);
	rmdir(x->dir);
}

START_TEST(cancel_every_kind)
{
	struct everything x;
	struct probe *probes[4];
	struct outcome o[4];
	start_everything(&x, probes, o);
	for (int i = 0; i < 3; i++)
		probe_cancel(probes[i]);
	spin(0.3);
	stop_everything(&x, o);
}
END_TEST

START_TEST(engine_free_running)
{
	struct everything x;
	struct probe *probes[4];
	struct outcome o[4];
	start_everything(&x, probes, o);
	probe_engine_free(engine);
	engine = NULL;
	if (ev_is_default_loop(loop)) {
		spin(0.3); /* libev reaps the killed child */
	}
	stop_everything(&x, o);
	open_engine(loop); /* for teardown */
}
END_TEST

static Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("own loop");
	tcase_add_checked_fixture(tc, setup_own_loop, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, tcp_up);
	tcase_add_test(tc, tcp_up_ipv6);
	tcase_add_test(tc, tcp_refused);
	tcase_add_test(tc, tcp_timeout);
	tcase_add_test(tc, tcp_cname_member);
	tcase_add_test(tc, http_ok);
	tcase_add_test(tc, http_502);
	tcase_add_test(tc, http_wrong_body);
	tcase_add_test(tc, http_body_window);
	tcase_add_test(tc, http_no_redirects);
	tcase_add_test(tc, http_hang);
	tcase_add_test(tc, http_close_and_no_listener);
	tcase_add_test(tc, http_host_pinned);
	tcase_add_test(tc, http_ipv6_member);
	tcase_add_test(tc, http_two_members_one_host);
	tcase_add_test(tc, http_cname_member);
	tcase_add_test(tc, http_chained);
	tcase_add_test(tc, https_verify);
	tcase_add_test(tc, https_sni_pinned);
	tcase_add_test(tc, dns_rcode);
	tcase_add_test(tc, dns_answer_match);
	tcase_add_test(tc, dns_ignores_other_replies);
	tcase_add_test(tc, dns_silent_and_refused);
	tcase_add_test(tc, dns_bad_qname);
	tcase_add_test(tc, exec_results);
	tcase_add_test(tc, exec_timeout);
	tcase_add_test(tc, exec_substitution);
	tcase_add_test(tc, exec_stdio);
	tcase_add_test(tc, cancel_every_kind);
	tcase_add_test(tc, engine_free_running);
	suite_add_tcase(s, tc);

	TCase *def = tcase_create("default loop");
	tcase_add_checked_fixture(def, setup_default_loop, teardown);
	tcase_set_timeout(def, 30);
	tcase_add_test(def, exec_default_loop);
	tcase_add_test(def, cancel_every_kind);
	tcase_add_test(def, engine_free_running);
	suite_add_tcase(s, def);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(probe_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
