/* http.h -- the metrics endpoint: a small HTTP server on the control thread's libev loop.
 *
 * GET (or HEAD) /metrics answers 200 with what the render callback returns, as Prometheus's text
 * format; any other path gets 404, any other method 405. libmicrohttpd does the HTTP (parsing,
 * keep-alive, timeouts, a connection limit); it runs without threads of its own, driven from the
 * loop through its epoll descriptor, so render runs on the control thread like every control
 * command and may read what only that thread touches. A client that stalls is dropped after 5 s. */
#ifndef MERIDIAN_HTTP_H
#define MERIDIAN_HTTP_H

#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>

#include "meridian/diag.h"

/* The body to send (malloc'd, freed by the endpoint) and its length in *len; NULL: 500. */
typedef char *http_render_fn(void *arg, size_t *len);

struct http_endpoint;

/* Listens on addr (IPv4 or IPv6, port set) and serves from loop; NULL with the reason in d (text:
 * the address as configured, for the message). */
struct http_endpoint *http_start(struct ev_loop *loop, const struct sockaddr_storage *addr,
				 socklen_t addr_len, const char *text, http_render_fn *render, void *arg,
				 struct diag *d);
/* Closes the listener and every connection. NULL: nothing. */
void http_stop(struct http_endpoint *h);

#endif
