/* test_http.c -- unit tests of the metrics endpoint (http.h) on a real libev loop: a client thread
 * asks over TCP while the loop serves; the status line, headers and body are checked, and a taken
 * address is reported. */
#include <arpa/inet.h>
#include <check.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/http.h"
#include "support.h"

static struct ev_loop *loop;
static struct sockaddr_storage addr;
static socklen_t addr_len;
static unsigned renders;
static bool render_fails;

static char *render(void *arg, size_t *len)
{
	renders++;
	if (render_fails)
		return NULL;
	char *body = strdup((const char *)arg);
	*len = strlen(body);
	return body;
}

/* A port free now on 127.0.0.1 (bound to port 0 and released). */
static void pick_address(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
	memset(&addr, 0, sizeof(addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr_len = sizeof(*sin);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, addr_len), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
	close(fd);
}

struct exchange {
	const char *request;
	char response[4096];
	bool done;
};

/* The client: sends the request, reads until the server closes ("Connection: close"). */
static void *client(void *arg)
{
	struct exchange *x = arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	if (connect(fd, (struct sockaddr *)&addr, addr_len) == 0 &&
	    write(fd, x->request, strlen(x->request)) == (ssize_t)strlen(x->request)) {
		ssize_t n;
		while (got < sizeof(x->response) - 1 &&
		       (n = read(fd, x->response + got, sizeof(x->response) - 1 - got)) > 0)
			got += (size_t)n;
	}
	x->response[got] = '\0';
	close(fd);
	__atomic_store_n(&x->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)revents;
	if (__atomic_load_n(&((struct exchange *)w->data)->done, __ATOMIC_ACQUIRE))
		ev_break(l, EVBREAK_ONE);
}

/* Sends request from a thread while the loop serves; the whole response. */
static const char *exchange(const char *request)
{
	static struct exchange x;
	memset(&x, 0, sizeof(x));
	x.request = request;
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, client, &x), 0);
	ev_timer tick;
	ev_timer_init(&tick, on_tick, 0.01, 0.01);
	tick.data = &x;
	ev_timer_start(loop, &tick);
	ev_run(loop, 0);
	ev_timer_stop(loop, &tick);
	pthread_join(t, NULL);
	return x.response;
}

START_TEST(serves_metrics)
{
	loop = ev_loop_new(0);
	pick_address();
	struct diag d;
	diag_init(&d);
	renders = 0;
	render_fails = false;
	struct http_endpoint *h =
	    http_start(loop, &addr, addr_len, "test", render, "# TYPE up gauge\nup 1\n", &d);
	ck_assert_msg(h != NULL, "%s", unit_diag_text(&d));
	const char *r = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "Content-Length: 21\r\n"));
	const char *body = strstr(r, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body + 4, "# TYPE up gauge\nup 1\n");
	ck_assert_uint_eq(renders, 1);

	r = exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", r);
	ck_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n"); /* no body */

	r = exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%s", r);
	r = exchange(
	    "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nx=1");
	ck_assert_msg(strncmp(r, "HTTP/1.1 405 ", 13) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "Allow: GET, HEAD\r\n"));
	ck_assert_uint_eq(renders, 2); /* HEAD rendered too; 404 and 405 did not */

	render_fails = true;
	r = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(strncmp(r, "HTTP/1.1 500 ", 13) == 0, "%s", r);

	/* the address is taken while the endpoint runs */
	ck_assert_ptr_null(http_start(loop, &addr, addr_len, "127.0.0.1:taken", render, "", &d));
	ck_assert_uint_eq(d.count, 1);
	ck_assert_msg(strstr(d.entries[0].text, "metrics 127.0.0.1:taken: Address already in use"), "%s",
		      d.entries[0].text);
	diag_free(&d);
	http_stop(h);
	http_stop(NULL);
	ev_loop_destroy(loop);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, serves_metrics);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(http_suite(), "http");
}
