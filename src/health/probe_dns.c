/* probe_dns.c -- dns checks: one query (RD=0) over UDP to the member, built and parsed with ldns; up
 * when the rcode is the expected one and, if the check names an answer, an answer record of the
 * asked type carries that rdata.
 *
 * Rdata is compared in ldns's presentation form, rdata fields joined by single spaces, without regard
 * to case. The expected answer goes through the same printer (parsed as the rdata of a record of the
 * asked type), so "2001:DB8::1" matches 2001:db8::1 and "ns1.example.com" matches ns1.example.com.
 * The socket is connected: replies from elsewhere never reach us, and an ICMP port unreachable ends
 * the check at once instead of at its timeout. Replies whose id or question differ are ignored. */
#include "probe_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define DNS_REPLY_MAX 4096 /* the query has no EDNS: a compliant reply fits in 512 */

/* The rdata of rr in presentation form, fields joined by spaces; malloc'd, NULL on failure. */
static char *rdata_text(const ldns_rr *rr)
{
	ldns_buffer *b = ldns_buffer_new(256);
	char *text = NULL;
	if (!b)
		return NULL;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_printf(b, " ");
		if (ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK)
			goto out;
	}
	text = ldns_buffer2str(b);
out:
	ldns_buffer_free(b);
	return text;
}

/* check->answer printed the way rdata_text prints a record of type qtype; the answer as written when
 * ldns cannot parse it (then only an identical printing can match). */
static char *normalise_answer(uint16_t qtype, const char *answer)
{
	char *type = ldns_rr_type2str((ldns_rr_type)qtype);
	ldns_rdf *origin = ldns_dname_new_frm_str(".");
	char *line = NULL, *text = NULL;
	ldns_rr *rr = NULL;

	if (type && origin && asprintf(&line, ". 0 IN %s %s", type, answer) >= 0) {
		if (ldns_rr_new_frm_str(&rr, line, 0, origin, NULL) == LDNS_STATUS_OK &&
		    ldns_rr_rd_count(rr) > 0)
			text = rdata_text(rr);
		free(line);
	}
	ldns_rr_free(rr);
	ldns_rdf_deep_free(origin);
	free(type);
	return text ? text : strdup(answer);
}

static const char *rcode_name(unsigned rcode, char *buf, size_t size)
{
	const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)rcode);
	if (t)
		return t->name;
	snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

static bool is_our_reply(const struct probe *p, const ldns_pkt *r)
{
	const struct probe_dns *q = &p->u.dns;
	if (ldns_pkt_id(r) != q->id || !ldns_pkt_qr(r) || ldns_pkt_qdcount(r) != 1)
		return false;
	const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(r), 0);
	return question && ldns_rr_get_type(question) == (ldns_rr_type)p->check->qtype &&
	       ldns_rr_get_class(question) == LDNS_RR_CLASS_IN &&
	       ldns_dname_compare(ldns_rr_owner(question), q->qname) == 0;
}

static bool has_answer(const struct probe *p, const ldns_pkt *r)
{
	const ldns_rr_list *answers = ldns_pkt_answer(r);
	for (size_t i = 0; i < ldns_rr_list_rr_count(answers); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answers, i);
		if (ldns_rr_get_type(rr) != (ldns_rr_type)p->check->qtype)
			continue;
		char *text = rdata_text(rr);
		bool same = text && strcasecmp(text, p->u.dns.want) == 0;
		free(text);
		if (same)
			return true;
	}
	return false;
}

/* Judges our reply r (and frees it): ends the probe. */
static void judge(struct probe *p, ldns_pkt *r)
{
	const struct conf_check *c = p->check;
	unsigned rcode = ldns_pkt_get_rcode(r);
	char got_buf[16], want_buf[16];
	const char *got = rcode_name(rcode, got_buf, sizeof(got_buf));
	bool answered = p->u.dns.want && rcode == c->rcode && has_answer(p, r);
	ldns_pkt_free(r);

	if (rcode != c->rcode)
		probe_finish(p, false, "rcode %s, expected %s", got,
			     rcode_name(c->rcode, want_buf, sizeof(want_buf)));
	else if (!p->u.dns.want)
		probe_finish(p, true, "rcode %s", got);
	else if (answered)
		probe_finish(p, true, "rcode %s with %s", got, c->answer);
	else
		probe_finish(p, false, "answer lacks %s", c->answer);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = (struct probe *)((char *)w - offsetof(struct probe, u.dns.io));
	uint8_t buf[DNS_REPLY_MAX];
	(void)loop;
	(void)revents;
	for (;;) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			probe_finish(p, false, "dns: %s", strerror(errno));
			return;
		}
		ldns_pkt *r = NULL;
		if (ldns_wire2pkt(&r, buf, (size_t)n) != LDNS_STATUS_OK)
			continue;
		if (is_our_reply(p, r)) {
			judge(p, r);
			return;
		}
		ldns_pkt_free(r);
	}
}

/* Builds the query into *wire (malloc'd). */
static bool build_query(struct probe *p, uint8_t **wire, size_t *len)
{
	struct probe_dns *q = &p->u.dns;
	ldns_rdf *name = ldns_rdf_clone(q->qname);
	if (!name)
		return false;
	ldns_pkt *pkt = ldns_pkt_query_new(name, (ldns_rr_type)p->check->qtype, LDNS_RR_CLASS_IN, 0);
	if (!pkt)
		return false;
	q->id = (uint16_t)arc4random(); /* unpredictable, so a spoofed reply cannot fake health */
	ldns_pkt_set_id(pkt, q->id);
	bool ok = ldns_pkt2wire(wire, pkt, len) == LDNS_STATUS_OK;
	ldns_pkt_free(pkt);
	return ok;
}

static void dns_start(struct probe *p)
{
	struct probe_dns *q = &p->u.dns;
	const struct conf_check *c = p->check;
	const char *qname = c->qname && c->qname[0] ? c->qname : ".";
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint8_t *wire = NULL;
	size_t len = 0;

	q->fd = -1;
	if (!probe_member_sockaddr(p->m, c->port, &ss, &sslen)) {
		probe_decide_soon(p, false, "dns: the member has no address to query");
		return;
	}
	if (!(q->qname = ldns_dname_new_frm_str(qname))) {
		probe_decide_soon(p, false, "dns: bad query name \"%s\"", qname);
		return;
	}
	if (c->answer && c->answer[0] && !(q->want = normalise_answer(c->qtype, c->answer))) {
		probe_decide_soon(p, false, "dns: out of memory");
		return;
	}
	if (!build_query(p, &wire, &len)) {
		probe_decide_soon(p, false, "dns: cannot build the query");
		return;
	}
	q->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&ss, sslen) < 0 || send(q->fd, wire, len, 0) < 0) {
		probe_decide_soon(p, false, "dns: %s", strerror(errno));
		free(wire);
		return;
	}
	free(wire);
	ev_io_init(&q->io, on_readable, q->fd, EV_READ);
	ev_io_start(p->e->loop, &q->io);
}

static void dns_stop(struct probe *p)
{
	struct probe_dns *q = &p->u.dns;
	ev_io_stop(p->e->loop, &q->io);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	ldns_rdf_deep_free(q->qname);
	q->qname = NULL;
	free(q->want);
	q->want = NULL;
}

const struct probe_kind probe_kind_dns = {dns_start, dns_stop};
