/* probe.h -- running one health check of one member, asynchronously on a libev loop.
 *
 * tcp: a non-blocking connect. http/https: libcurl's multi interface driven by the loop (status in
 * expect, optional body substring, Host header and SNI, certificate verification). dns: one query
 * over UDP built and parsed with ldns (rcode, optionally an answer). exec: /bin/sh -c COMMAND with
 * {addr}, {name}, {port} substituted, exit 0 is up, killed (process group) at the timeout.
 * Every probe ends by its check's timeout. Nothing here blocks the loop. */
#ifndef MERIDIAN_PROBE_H
#define MERIDIAN_PROBE_H

#include <stdbool.h>

#include <ev.h>

#include "meridian/conf.h"
#include "meridian/diag.h"

struct probe_engine;
struct probe;

struct probe_result {
	bool ok;
	char reason[128]; /* "HTTP 200", "HTTP 502, expected 200", "HTTP 200 but body lacks \"OK\"",
			   * "TCP connect ok", "connect: Connection refused", "timeout after 2.0 s",
			   * "exit 0", "exit 1", "killed by signal 9", "rcode NOERROR",
			   * "rcode SERVFAIL, expected NOERROR", "answer lacks 192.0.2.1", or curl's
			   * error text ("SSL certificate problem: ...") */
	double elapsed;	  /* seconds */
};

/* Called exactly once per started probe, from the loop (never from inside probe_start), unless the
 * probe was cancelled. The probe is freed after the callback returns. The callback may start and
 * cancel other probes; it must not cancel its own probe nor free the engine. */
typedef void (*probe_done_fn)(void *arg, const struct probe_result *r);

/* One engine per loop; it owns the curl multi handle. Returns NULL with the reason in d. */
struct probe_engine *probe_engine_new(struct ev_loop *loop, struct diag *d);
/* Cancels every running probe (no callbacks) and frees the engine. Exec children killed earlier are
 * reaped here on loops other than the default one (libev's default loop reaps every child itself). */
void probe_engine_free(struct probe_engine *e);

/* Starts check against member m (its addr, or its CNAME target as the host for http(s), tcp and
 * exec; a dns check needs an address). check and m must stay valid until done runs or the probe is
 * cancelled. Always returns a running probe: a check that cannot even start (no socket, say) reports
 * its failure through done from the loop, so the caller has one path for every outcome. */
struct probe *probe_start(struct probe_engine *e, const struct conf_check *check, const struct conf_member *m,
			  probe_done_fn done, void *arg);
/* Stops a running probe without calling its callback. */
void probe_cancel(struct probe *p);

#endif
