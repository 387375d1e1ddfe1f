/* probe.c -- the probe engine: starts a check of the right type, bounds it by the check's timeout and
 * delivers its single result from the loop (see probe.h and probe_internal.h). */
#include "probe_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/wire.h"

static void kind_none_start(struct probe *p)
{
	probe_decide_soon(p, false, "unknown check type %d", (int)p->check->type);
}

static void kind_none_stop(struct probe *p)
{
	(void)p;
}

static const struct probe_kind probe_kind_none = {kind_none_start, kind_none_stop};

struct probe_engine *probe_engine_new(struct ev_loop *loop, struct diag *d)
{
	struct probe_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		diag_error(d, NULL, 0, "probe engine: out of memory");
		return NULL;
	}
	e->loop = loop;
	if (!probe_http_engine_init(e, d)) {
		free(e);
		return NULL;
	}
	return e;
}

void probe_engine_free(struct probe_engine *e)
{
	if (!e)
		return;
	while (e->running)
		probe_cancel(e->running);
	probe_http_engine_fini(e);
	probe_exec_engine_fini(e);
	free(e);
}

static void unlink_probe(struct probe *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->e->running = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

static void release(struct probe *p)
{
	p->kind->stop(p);
	ev_timer_stop(p->e->loop, &p->timer);
	unlink_probe(p);
}

static void deliver(struct probe *p)
{
	release(p);
	p->result.elapsed = ev_time() - p->started;
	p->done(p->arg, &p->result);
	free(p);
}

static void set_result(struct probe *p, bool ok, const char *fmt, va_list ap)
{
	p->result.ok = ok;
	vsnprintf(p->result.reason, sizeof(p->result.reason), fmt, ap);
}

void probe_finish(struct probe *p, bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(p, ok, fmt, ap);
	va_end(ap);
	deliver(p);
}

void probe_decide_soon(struct probe *p, bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(p, ok, fmt, ap);
	va_end(ap);
	p->decided = true;
	ev_timer_stop(p->e->loop, &p->timer);
	ev_timer_set(&p->timer, 0., 0.);
	ev_timer_start(p->e->loop, &p->timer);
}

void probe_timeout_reason(const struct probe *p, char *out, size_t size)
{
	snprintf(out, size, "timeout after %.1f s", p->check->timeout);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, timer));
	(void)loop;
	(void)revents;
	if (!p->decided) {
		p->result.ok = false;
		probe_timeout_reason(p, p->result.reason, sizeof(p->result.reason));
	}
	deliver(p);
}

static const struct probe_kind *kind_of(const struct conf_check *c, const struct conf_member *m)
{
	switch (c->type) {
	case CONF_CHECK_TCP:
		/* A CNAME member has a name, not an address: curl resolves it without blocking. */
		return m->family ? &probe_kind_tcp : &probe_kind_http;
	case CONF_CHECK_HTTP:
	case CONF_CHECK_HTTPS:
		return &probe_kind_http;
	case CONF_CHECK_DNS:
		return &probe_kind_dns;
	case CONF_CHECK_EXEC:
		return &probe_kind_exec;
	}
	return &probe_kind_none;
}

struct probe *probe_start(struct probe_engine *e, const struct conf_check *check, const struct conf_member *m,
			  probe_done_fn done, void *arg)
{
	struct probe *p = calloc(1, sizeof(*p));
	if (!p)
		abort(); /* the contract is a running probe; like diag, we do not limp on without memory */
	p->e = e;
	p->check = check;
	p->m = m;
	p->kind = kind_of(check, m);
	p->done = done;
	p->arg = arg;
	p->next = e->running;
	if (e->running)
		e->running->prev = p;
	e->running = p;
	/* The loop's cached time may be a whole callback old: the timeout counts from now. */
	ev_now_update(e->loop);
	p->started = ev_time();
	ev_timer_init(&p->timer, on_timer, check->timeout > 0 ? check->timeout : 0., 0.);
	ev_timer_start(e->loop, &p->timer);
	p->kind->start(p);
	return p;
}

void probe_cancel(struct probe *p)
{
	if (!p)
		return;
	release(p);
	free(p);
}

bool probe_member_sockaddr(const struct conf_member *m, uint16_t port, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (m->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, m->addr, 4);
		*len = sizeof(*sin);
		return true;
	}
	if (m->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, m->addr, 16);
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

void probe_member_text(const struct conf_member *m, char *out, size_t size)
{
	out[0] = '\0';
	if (m->family == AF_INET || m->family == AF_INET6) {
		if (!inet_ntop(m->family, m->addr, out, (socklen_t)size))
			out[0] = '\0';
		return;
	}
	if (!m->target)
		return;
	size_t n = wire_name_to_text(m->target, m->target_len, out, size);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0'; /* a host name, as curl and a shell command expect it */
}
