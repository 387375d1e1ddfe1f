/* probe_internal.h -- what the probe engine (probe.c) shares with its check types (probe_*.c).
 *
 * A probe lives in its engine's list of running probes from probe_start until it is finished or
 * cancelled. Every check type provides a start and a stop: start acquires what the check needs and
 * arms its watchers; stop releases all of it without reporting anything and must be safe on a probe
 * whose start failed halfway (fds are -1, pointers NULL). A type reports its outcome through
 * probe_finish from a loop callback, or through probe_decide_soon while still inside its start, so
 * that the caller's callback never runs from inside probe_start. */
#ifndef MERIDIAN_PROBE_INTERNAL_H
#define MERIDIAN_PROBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "meridian/probe.h"

struct ldns_struct_rdf;
struct probe_orphan;

struct probe_engine {
	struct ev_loop *loop;
	struct probe *running; /* every started probe not yet finished or cancelled (for engine_free) */
	CURLM *multi;	       /* every http(s) probe, and tcp probes of CNAME members, share it */
	ev_timer curl_timer;   /* the multi's next deadline (CURLMOPT_TIMERFUNCTION) */
	struct probe_orphan *orphans; /* exec children killed at their timeout, not reaped yet */
};

struct probe_kind {
	void (*start)(struct probe *p);
	void (*stop)(struct probe *p);
};

/* tcp: one non-blocking connect. */
struct probe_tcp {
	int fd;
	ev_io io; /* writability ends the connect */
};

/* http, https, and tcp of a CNAME member (connect_only: curl resolves the name and connects). */
struct probe_http {
	CURL *easy;
	struct curl_slist *connect_to; /* "host:port:member:port" when check->host pins the member */
	char *body;		       /* the first PROBE_HTTP_BODY_MAX bytes, when check->body is set */
	size_t body_len;
	bool stopped_reading; /* we ended the transfer on purpose (enough body): not an error */
	bool connect_only;
	char error[CURL_ERROR_SIZE];
};

#define PROBE_HTTP_BODY_MAX (64 * 1024)

/* dns: one query over a connected UDP socket. */
struct probe_dns {
	int fd;
	ev_io io;
	uint16_t id;
	struct ldns_struct_rdf *qname;
	char *want; /* check->answer normalised to ldns's presentation of the rdata, or NULL */
};

/* exec: /bin/sh -c in its own process group. Its exit is seen through a pidfd on any loop but the
 * default one, where libev reaps every child itself (waitpid(-1) on SIGCHLD) and ev_child is the
 * only way to learn the status. */
struct probe_exec {
	pid_t pid;	/* 0 when not running */
	int pidfd;	/* -1 on the default loop */
	ev_io io;	/* on pidfd */
	ev_child child; /* on the default loop */
};

struct probe {
	struct probe_engine *e;
	struct probe *prev, *next; /* e->running */
	const struct conf_check *check;
	const struct conf_member *m;
	const struct probe_kind *kind;
	probe_done_fn done;
	void *arg;
	ev_tstamp started; /* ev_time() at probe_start */
	ev_timer timer;	   /* the check's timeout, or 0 s when decided inside start */
	bool decided;	   /* result holds the outcome; the timer delivers it */
	struct probe_result result;
	union {
		struct probe_tcp tcp;
		struct probe_http http;
		struct probe_dns dns;
		struct probe_exec exec;
	} u;
};

/* Ends p with this outcome: stops its kind, calls done, frees p. Only from a loop callback. */
void probe_finish(struct probe *p, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Inside a kind's start: records the outcome and delivers it from the loop at once. */
void probe_decide_soon(struct probe *p, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "timeout after 2.0 s" into out: one wording for every way a check can run out of time. */
void probe_timeout_reason(const struct probe *p, char *out, size_t size);

/* The member's address as a socket address with port; false for a CNAME member. */
bool probe_member_sockaddr(const struct conf_member *m, uint16_t port, struct sockaddr_storage *ss,
			   socklen_t *len);
/* The member's address ("192.0.2.1", "2001:db8::1") or CNAME target without its final dot. */
void probe_member_text(const struct conf_member *m, char *out, size_t size);

extern const struct probe_kind probe_kind_tcp, probe_kind_http, probe_kind_dns, probe_kind_exec;

/* The curl multi handle of an engine, and the orphanage of killed exec children. */
bool probe_http_engine_init(struct probe_engine *e, struct diag *d);
void probe_http_engine_fini(struct probe_engine *e);
void probe_exec_engine_fini(struct probe_engine *e);

#endif
