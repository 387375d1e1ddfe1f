/* control.h -- the control socket: a Unix stream socket served on the control thread's libev loop.
 *
 * Protocol (one request per connection): the client sends its arguments, each followed by '\n', then
 * an empty line ("set\nweb/ams-1\ndown\n\n"); an argument is therefore never empty and holds no
 * newline. The server answers with a status line, "ok", "refused" or "error", then the body, and
 * closes. Reading and writing never block the loop: a request is at most 8 KiB (empty line included)
 * and 64 arguments, at most 32 clients are served at once (more get "error" and are closed), and a
 * client gets 5 s to send its request and 5 s more to read its answer before it is dropped. Anything
 * malformed is answered "error" with the reason, without calling the handler. */
#ifndef MERIDIAN_CONTROL_H
#define MERIDIAN_CONTROL_H

#include <stdio.h>

#include <ev.h>

#include "meridian/diag.h"

/* CONTROL_LATER is only returned by a handler that deferred its answer (control_defer); it is never
 * sent. */
enum control_status { CONTROL_OK, CONTROL_REFUSED, CONTROL_ERROR, CONTROL_LATER };

/* Handles one request: argc >= 1, argv[0] is the command, argv[argc] is NULL; the strings live only
 * during the call. Writes the body to out (a memory stream; do not close it). Runs on the loop's
 * thread and holds it up while it runs; it must not call control_close. A request whose answer takes
 * long (it waits for a reload) is deferred instead: control_defer, then return CONTROL_LATER. */
typedef enum control_status (*control_handler_fn)(void *arg, int argc, char **argv, FILE *out);

struct control;
/* A request whose answer was deferred. */
struct control_later;

/* Binds path (mode 0660; a stale socket file left by a dead server is replaced; a live one, or a file
 * that is not a socket, is an error; the folder must exist) and serves it on loop. Call it on the
 * loop's thread, or before the loop runs. Returns NULL with the reason in d. */
struct control *control_open(struct ev_loop *loop, const char *path, control_handler_fn handler, void *arg,
			     struct diag *d);
/* Closes every connection and the socket and unlinks the path (unless it is no longer our socket).
 * NULL is a no-op. On the loop's thread, or after the loop stopped. Deferred requests are closed
 * unanswered: answer them first. */
void control_close(struct control *c);

/* Called by the handler: the request it is handling will be answered later, with
 * control_later_answer, and the handler returns CONTROL_LATER (what it wrote to out is dropped).
 * NULL outside a handler call. A deferred client has no timeout: it waits as long as the work does
 * (meridianctl has its own); one that leaves meanwhile still holds its place until answered. */
struct control_later *control_defer(struct control *c);
/* Answers a deferred request (once; l is gone afterwards), later or still within the handler that
 * deferred it (the answer is then sent when it returns CONTROL_LATER). body: malloc'd, taken over;
 * NULL when len is 0. Status CONTROL_OK, CONTROL_REFUSED or CONTROL_ERROR. */
void control_later_answer(struct control_later *l, enum control_status status, char *body, size_t len);

/* The client side, for meridianctl (blocking): sends argv, reads the whole answer into a malloc'd,
 * NUL-terminated *body (the status line removed). Returns the status, or -1 with *body NULL and the
 * reason in d ("cannot reach meridiand at PATH: No such file or directory", a timeout, a malformed
 * answer, an argument the protocol cannot carry). timeout: seconds for the whole exchange; <= 0
 * waits without limit. */
int control_request(const char *path, int argc, char *const *argv, double timeout, char **body,
		    struct diag *d);

#endif
