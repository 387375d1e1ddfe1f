/* probe_http.c -- http and https checks (and tcp checks of CNAME members) on libcurl's multi
 * interface, driven by the engine's libev loop.
 *
 * The wiring follows curl's evhiperfifo example: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION, one ev_io each) and when its next deadline is (CURLMOPT_TIMERFUNCTION,
 * one ev_timer per engine); the loop calls curl_multi_socket_action back, and finished transfers are
 * collected with curl_multi_info_read. Nothing here waits.
 *
 * Pinning: with check->host set, the URL names that host (so the Host header, TLS SNI and the name
 * the certificate is verified against are the host) and CURLOPT_CONNECT_TO sends the connection to
 * the member. CONNECT_TO belongs to the one transfer, whereas CURLOPT_RESOLVE entries go into the DNS
 * cache that every transfer of the multi handle shares and stay there: with two members behind one
 * host name, each pin would overwrite the other's, and correctness would rest on curl resolving right
 * after loading it. Connections are never reused either (a pooled connection to "www.example.com"
 * may lead to another member), and proxies from the environment are ignored: a check measures the
 * path from us to the member. */
#include "probe_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_AGENT "meridian-health/0.1"

/* One socket curl asked us to watch. */
struct curl_sock {
	ev_io io;
	struct probe_engine *e;
};

static void http_done(struct probe *p, CURLcode rc);

static void collect_done(struct probe_engine *e)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(e->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURLcode rc = msg->data.result;
		char *priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			http_done((struct probe *)priv, rc);
	}
}

static void on_curl_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct curl_sock *cs = (struct curl_sock *)w;
	struct probe_engine *e = cs->e; /* cs may be gone once curl has run */
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;
	(void)loop;
	curl_multi_socket_action(e->multi, w->fd, action, &running);
	collect_done(e);
}

static void on_curl_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe_engine *e =
	    (struct probe_engine *)((char *)w - offsetof(struct probe_engine, curl_timer));
	int running;
	(void)loop;
	(void)revents;
	curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_done(e);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct probe_engine *e = userp;
	struct curl_sock *cs = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs) {
			ev_io_stop(e->loop, &cs->io);
			free(cs);
		}
		return 0;
	}
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return -1;
		cs->e = e;
		ev_io_init(&cs->io, on_curl_io, s, events);
		curl_multi_assign(e->multi, s, cs);
	} else {
		ev_io_stop(e->loop, &cs->io);
		ev_io_set(&cs->io, s, events);
	}
	ev_io_start(e->loop, &cs->io);
	return 0;
}

/* curl's next deadline; curl must not be called back from here, so even 0 ms goes through the loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct probe_engine *e = userp;
	(void)multi;
	ev_timer_stop(e->loop, &e->curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&e->curl_timer, (double)timeout_ms / 1000., 0.);
		ev_timer_start(e->loop, &e->curl_timer);
	}
	return 0;
}

bool probe_http_engine_init(struct probe_engine *e, struct diag *d)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		diag_error(d, NULL, 0, "probe engine: curl_global_init failed");
		return false;
	}
	e->multi = curl_multi_init();
	if (!e->multi) {
		curl_global_cleanup();
		diag_error(d, NULL, 0, "probe engine: curl_multi_init failed");
		return false;
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	ev_init(&e->curl_timer, on_curl_deadline);
	return true;
}

void probe_http_engine_fini(struct probe_engine *e)
{
	if (!e->multi)
		return;
	curl_multi_cleanup(e->multi); /* may still call on_curl_socket / on_curl_timer */
	e->multi = NULL;
	ev_timer_stop(e->loop, &e->curl_timer);
	curl_global_cleanup();
}

/* Keeps the first PROBE_HTTP_BODY_MAX bytes when the check looks into the body. Ends the transfer
 * early (returning short, which curl reports as CURLE_WRITE_ERROR) once nothing more can change the
 * outcome: no body wanted, the substring found, or the window full. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;
	struct probe_http *h = &p->u.http;
	const char *want = p->check->body;
	size_t len = size * n;

	h->stopped_reading = true;
	if (!want || !want[0])
		return 0;
	if (!h->body && !(h->body = malloc(PROBE_HTTP_BODY_MAX)))
		return 0;
	size_t take = PROBE_HTTP_BODY_MAX - h->body_len;
	if (take > len)
		take = len;
	memcpy(h->body + h->body_len, data, take);
	h->body_len += take;
	if (h->body_len == PROBE_HTTP_BODY_MAX || memmem(h->body, h->body_len, want, strlen(want)))
		return 0;
	h->stopped_reading = false;
	return len;
}

static bool status_expected(const struct conf_check *c, long status)
{
	for (size_t i = 0; i < c->expect_count; i++)
		if (c->expect[i] == status)
			return true;
	return c->expect_count == 0 && status == 200;
}

/* "200", "200 or 204", "200, 204 or 301". */
static void expect_text(const struct conf_check *c, char *out, size_t size)
{
	size_t at = 0, n = c->expect_count;
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, size, "200");
		return;
	}
	for (size_t i = 0; i < n && at < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(out + at, size - at, "%s%u", sep, (unsigned)c->expect[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

static void http_done(struct probe *p, CURLcode rc)
{
	struct probe_http *h = &p->u.http;
	const struct conf_check *c = p->check;
	char text[128];
	long status = 0;

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		probe_timeout_reason(p, text, sizeof(text));
		probe_finish(p, false, "%s", text);
		return;
	}
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && h->stopped_reading)) {
		probe_finish(p, false, "%s", h->error[0] ? h->error : curl_easy_strerror(rc));
		return;
	}
	if (h->connect_only) {
		probe_finish(p, true, "TCP connect ok");
		return;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!status_expected(c, status)) {
		expect_text(c, text, sizeof(text));
		probe_finish(p, false, "HTTP %ld, expected %s", status, text);
		return;
	}
	if (c->body && c->body[0] && !(h->body && memmem(h->body, h->body_len, c->body, strlen(c->body)))) {
		probe_finish(p, false, "HTTP %ld but body lacks \"%s\"", status, c->body);
		return;
	}
	probe_finish(p, true, "HTTP %ld", status);
}

/* The URL, and the CONNECT_TO pin when the URL names check->host instead of the member. */
static bool build_target(struct probe *p, char **url, char **pin)
{
	const struct conf_check *c = p->check;
	struct probe_http *h = &p->u.http;
	char member[300], bracketed[310];
	const char *scheme = c->type == CONF_CHECK_HTTPS ? "https" : "http";
	const char *path = h->connect_only || !c->path || !c->path[0] ? "/" : c->path;

	probe_member_text(p->m, member, sizeof(member));
	if (!member[0])
		return false;
	bool v6 = p->m->family == AF_INET6;
	snprintf(bracketed, sizeof(bracketed), "%s%s%s", v6 ? "[" : "", member, v6 ? "]" : "");
	const char *host = !h->connect_only && c->host && c->host[0] ? c->host : bracketed;
	if (asprintf(url, "%s://%s:%u%s%s", scheme, host, (unsigned)c->port, path[0] == '/' ? "" : "/",
		     path) < 0) {
		*url = NULL;
		return false;
	}
	if (host != bracketed &&
	    asprintf(pin, "%s:%u:%s:%u", host, (unsigned)c->port, bracketed, (unsigned)c->port) < 0) {
		*pin = NULL;
		return false;
	}
	return true;
}

static void set_options(struct probe *p, const char *url)
{
	struct probe_http *h = &p->u.http;
	const struct conf_check *c = p->check;
	CURL *easy = h->easy;
	long ms = (long)(c->timeout * 1000.);

	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)p);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, h->error);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x075700
	/* Without it, ending a transfer whose name is still being resolved joins curl's resolver thread:
	 * a slow DNS server would block the loop well past the check's timeout. */
	curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, p);
	if (h->connect_to)
		curl_easy_setopt(easy, CURLOPT_CONNECT_TO, h->connect_to);
	if (h->connect_only)
		curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
}

static void http_start(struct probe *p)
{
	struct probe_http *h = &p->u.http;
	char *url = NULL, *pin = NULL;

	h->connect_only = p->check->type == CONF_CHECK_TCP;
	if (!build_target(p, &url, &pin)) {
		free(url);
		probe_decide_soon(p, false, "the member has no address or name to check");
		return;
	}
	if (pin && !(h->connect_to = curl_slist_append(NULL, pin))) {
		free(url);
		free(pin);
		probe_decide_soon(p, false, "curl: out of memory");
		return;
	}
	free(pin);
	if (!(h->easy = curl_easy_init())) {
		free(url);
		probe_decide_soon(p, false, "curl_easy_init failed");
		return;
	}
	set_options(p, url); /* curl copies the URL */
	free(url);
	CURLMcode mc = curl_multi_add_handle(p->e->multi, h->easy);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(h->easy);
		h->easy = NULL;
		probe_decide_soon(p, false, "curl: %s", curl_multi_strerror(mc));
	}
}

static void http_stop(struct probe *p)
{
	struct probe_http *h = &p->u.http;
	if (h->easy) {
		curl_multi_remove_handle(p->e->multi, h->easy);
		curl_easy_cleanup(h->easy);
		h->easy = NULL;
	}
	curl_slist_free_all(h->connect_to);
	h->connect_to = NULL;
	free(h->body);
	h->body = NULL;
}

const struct probe_kind probe_kind_http = {http_start, http_stop};
