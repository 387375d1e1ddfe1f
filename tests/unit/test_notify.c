/* test_notify.c -- unit tests of NOTIFY (transfer.h, RFC 1996) on a real libev loop: the test acts as
 * the secondary, a UDP socket on the loopback read inside the same loop, and answers, ignores or
 * answers wrongly; the messages are parsed with ldns, their arrival times give the retry schedule.
 * The full schedule (abandonment after NOTIFY_TRIES sends) takes half a minute and is not run here:
 * the first retries and their doubling are. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "meridian/transfer.h"
#include "support.h"

#define NOTIFY_OPCODE 4
#define ANSWER_FLAGS  (WIRE_FLAG_QR | NOTIFY_OPCODE << 11 | WIRE_FLAG_AA)
#define RECEIVED_MAX  32

/* A message the secondary read. */
struct received {
	double at; /* ev_time() on arrival */
	uint16_t id;
	uint32_t serial; /* of the SOA in the answer section */
	char zone[64];	 /* the question's name, "example.com." */
	struct sockaddr_storage from;
	socklen_t from_len;
	size_t len;
	uint8_t pkt[1500];
};

static struct ev_loop *loop;
static struct notifier *n;
static char logbuf[8192];
static int sec_fd = -1; /* the secondary */
static ev_io sec_io;
static char sec_text[64]; /* its address as a config writes it */
static struct conf_listen sec_listen;
static struct received got[RECEIVED_MAX];
static size_t got_count;
/* what the secondary does with each message it reads; NULL: ignores it */
static void (*policy)(const struct received *r);

static void on_log(void *arg, const char *line)
{
	(void)arg;
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%.3f %s\n", ev_time(), line);
	size_t used = strlen(logbuf);
	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", line);
}

static struct notify_counts counts(void)
{
	struct notify_counts c;
	notifier_counts(n, &c);
	return c;
}

/* ---- the secondary ---- */

/* Fills r's id, zone and serial from its packet (the test fails when ldns cannot parse it). */
static void parse(struct received *r)
{
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, r->pkt, r->len), LDNS_STATUS_OK);
	r->id = ldns_pkt_id(p);
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	const ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(soa);
	char *name = ldns_rdf2str(ldns_rr_owner(q));
	snprintf(r->zone, sizeof(r->zone), "%s", name);
	free(name);
	r->serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
	ldns_pkt_free(p);
}

static void on_secondary(struct ev_loop *l, ev_io *w, int revents)
{
	(void)l;
	(void)revents;
	for (;;) {
		struct received *r = &got[got_count < RECEIVED_MAX ? got_count : RECEIVED_MAX - 1];
		r->from_len = sizeof(r->from);
		ssize_t len =
		    recvfrom(w->fd, r->pkt, sizeof(r->pkt), 0, (struct sockaddr *)&r->from, &r->from_len);
		if (len < 0)
			return;
		r->at = ev_time();
		r->len = (size_t)len;
		parse(r);
		if (got_count < RECEIVED_MAX)
			got_count++;
		if (policy)
			policy(r);
	}
}

/* A UDP socket on address (port 0), read by the loop; sec_listen names it as a config would. */
static void secondary_open(const char *address)
{
	struct sockaddr_storage ss = unit_address(address);
	socklen_t len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	sec_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(sec_fd, 0);
	ck_assert_int_eq(bind(sec_fd, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(sec_fd, (struct sockaddr *)&ss, &len), 0);
	unsigned port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(sec_text, sizeof(sec_text), ss.ss_family == AF_INET ? "%s:%u" : "[%s]:%u", address, port);
	sec_listen = (struct conf_listen){.addr = ss, .addr_len = len, .text = sec_text};
	ev_io_init(&sec_io, on_secondary, sec_fd, EV_READ);
	ev_io_start(loop, &sec_io);
}

/* Sends, from fd, r's header and question back with id and flags (rcode included) and no answer. */
static void reply_from(int fd, const struct received *r, uint16_t id, unsigned flags)
{
	uint8_t out[600];
	size_t qend =
	    WIRE_HEADER_SIZE + wire_name_length(r->pkt + WIRE_HEADER_SIZE, r->len - WIRE_HEADER_SIZE) + 4;
	ck_assert_uint_le(qend, sizeof(out));
	memcpy(out, r->pkt, qend);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)(flags >> 8);
	out[3] = (uint8_t)flags;
	out[6] = out[7] = 0; /* ANCOUNT */
	ck_assert_int_eq(sendto(fd, out, qend, 0, (const struct sockaddr *)&r->from, r->from_len),
			 (ssize_t)qend);
}

static void answer(const struct received *r)
{
	reply_from(sec_fd, r, r->id, ANSWER_FLAGS);
}

static void answer_serial_2(const struct received *r)
{
	if (r->serial == 2)
		answer(r);
}

static void refuse(const struct received *r)
{
	reply_from(sec_fd, r, r->id, ANSWER_FLAGS | WIRE_RCODE_REFUSED);
}

/* Signed NOTIFY: the key both sides hold, and whether the last NOTIFY read verified with it. */
#define TSIG_SECRET "bWVyaWRpYW4tdHNpZy10ZXN0LXNlY3JldC0wMTIzNDU="
static struct tsig_key notify_key;
static bool notify_verified;

/* Verifies the NOTIFY r with ldns, then answers it twice: unsigned (to be ignored), then signed
 * after its MAC (RFC 8945 5.3) as a secondary holding the key would. */
static void answer_signed(const struct received *r)
{
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, r->pkt, r->len), LDNS_STATUS_OK);
	notify_verified =
	    ldns_pkt_tsig(p) && ldns_pkt_tsig_verify(p, r->pkt, r->len, "xfr.key.", TSIG_SECRET, NULL);
	ldns_rdf *mac = ldns_pkt_tsig(p) ? ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3)) : NULL;
	ldns_pkt_free(p);
	answer(r);
	ck_assert_int_eq(ldns_wire2pkt(&p, r->pkt, r->len), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_rr_free(ldns_pkt_tsig(p));
	ldns_pkt_set_tsig(p, NULL);
	ldns_rr_list_deep_free(ldns_pkt_answer(p));
	ldns_pkt_set_answer(p, ldns_rr_list_new());
	ldns_pkt_set_ancount(p, 0);
	ck_assert_int_eq(ldns_pkt_tsig_sign(p, "xfr.key.", TSIG_SECRET, 300, "hmac-sha256.", mac),
			 LDNS_STATUS_OK);
	uint8_t *wire = NULL;
	size_t len = 0;
	ck_assert_int_eq(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	ck_assert_int_eq(sendto(sec_fd, wire, len, 0, (const struct sockaddr *)&r->from, r->from_len),
			 (ssize_t)len);
	free(wire);
	ldns_rdf_deep_free(mac);
	ldns_pkt_free(p);
}

/* ---- running the loop ---- */

typedef bool (*pred_fn)(void);
static size_t want_received;
static uint64_t want_answered;

/* Runs the loop until pred holds or `seconds` pass; returns pred. */
static bool run_until(pred_fn pred, double seconds)
{
	return unit_run_until(loop, pred, seconds);
}

static bool have_received(void)
{
	return got_count >= want_received;
}

static bool have_answered(void)
{
	return counts().answered >= want_answered;
}

static void run_for(double seconds)
{
	unit_run_until(loop, NULL, seconds);
}

/* Runs until the secondary has read k messages in all; fails after `seconds`. */
static void wait_received(size_t k, double seconds)
{
	want_received = k;
	ck_assert_msg(run_until(have_received, seconds), "%zu messages after %.1f s, expected %zu", got_count,
		      seconds, k);
}

static void wait_answered(uint64_t k)
{
	want_answered = k;
	ck_assert_msg(run_until(have_answered, 2), "answered %llu, expected %llu",
		      (unsigned long long)counts().answered, (unsigned long long)k);
}

/* ---- zones ---- */

/* Loads origin from a file written with this serial. */
static struct zone *load_zone(const char *origin, unsigned serial)
{
	char name[64], path[256], text[512];
	snprintf(name, sizeof(name), "%s-%u.zone", origin, serial);
	snprintf(text, sizeof(text),
		 "$TTL 300\n"
		 "@ 3600 IN SOA ns1.example.info. hostmaster.example.info. %u 3600 600 86400 60\n"
		 "@ IN NS ns1.example.info.\n"
		 "www IN A 192.0.2.1\n",
		 serial);
	unit_write_file(name, text);
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	struct diag d;
	diag_init(&d);
	struct zone *z = zone_load(origin, path, &d);
	ck_assert_msg(z != NULL, "%s:%s", path, unit_diag_text(&d));
	diag_free(&d);
	return z;
}

static int zone_refs(struct zone *z)
{
	return __atomic_load_n(&z->refs, __ATOMIC_SEQ_CST);
}

/* example.com's config entry: its notify server is the secondary. */
static struct conf_zone example_com(void)
{
	static const uint8_t apex[] = "\7example\3com";
	return (struct conf_zone){.name = "example.com",
				  .apex = apex,
				  .apex_len = sizeof(apex),
				  .notify = &sec_listen,
				  .notify_count = 1};
}

static void setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	n = notifier_new(loop, on_log, NULL);
	logbuf[0] = '\0';
	got_count = 0;
	policy = NULL;
	secondary_open("127.0.0.1");
}

static void teardown(void)
{
	notifier_free(n);
	ev_io_stop(loop, &sec_io);
	close(sec_fd);
	ev_loop_destroy(loop);
}

/* ---- tests ---- */

START_TEST(one_notify_is_answered)
{
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	policy = answer;
	notifier_zone(n, &cz, z);
	ck_assert_int_eq(zone_refs(z), 2); /* held while pending */
	wait_answered(1);

	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, got[0].pkt, got[0].len), LDNS_STATUS_OK);
	ck_assert_int_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	ck_assert(ldns_pkt_aa(p));
	ck_assert(!ldns_pkt_qr(p));
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(q), LDNS_RR_TYPE_SOA);
	ck_assert_int_eq(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
	ck_assert_str_eq(got[0].zone, "example.com.");
	const ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	ck_assert_int_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	ck_assert_uint_eq(ldns_rr_ttl(soa), 3600);
	char *owner = ldns_rdf2str(ldns_rr_owner(soa));
	ck_assert_str_eq(owner, "example.com.");
	free(owner);
	ck_assert_uint_eq(got[0].serial, 7);
	ldns_pkt_free(p);

	run_for(1.5);
	ck_assert_uint_eq(got_count, 1); /* answered: no retry */
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent, 1);
	ck_assert_uint_eq(c.answered, 1);
	ck_assert_uint_eq(c.abandoned, 0);
	char line[128];
	snprintf(line, sizeof(line), "notify example.com serial 7 to %s: answered\n", sec_text);
	ck_assert_str_eq(logbuf, line);
	ck_assert_int_eq(zone_refs(z), 1); /* released when answered */
	zone_unref(z);
}
END_TEST

START_TEST(retries_double_without_answer)
{
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	notifier_zone(n, &cz, z);
	wait_received(3, 4.5);
	double first = got[1].at - got[0].at, second = got[2].at - got[1].at;
	ck_assert_msg(first >= 0.9 && first < 1.6, "second send after %.3f s", first);
	ck_assert_msg(second >= 1.9 && second < 2.8, "third send after %.3f s more", second);
	/* a retry repeats the message, ID included: a late answer to any send ends them */
	for (size_t i = 1; i < 3; i++) {
		ck_assert_uint_eq(got[i].len, got[0].len);
		ck_assert_mem_eq(got[i].pkt, got[0].pkt, got[0].len);
	}
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent, 3);
	ck_assert_uint_eq(c.answered, 0);
	ck_assert_uint_eq(c.abandoned, 0);
	ck_assert_str_eq(logbuf, "");
	notifier_free(n); /* with the notify pending: its timer stops, its zone is released */
	n = NULL;
	ck_assert_int_eq(zone_refs(z), 1);
	run_for(0.2);
	ck_assert_uint_eq(got_count, 3);
	zone_unref(z);
}
END_TEST

START_TEST(newer_serial_replaces_pending)
{
	struct zone *z1 = load_zone("example.com", 1), *z2 = load_zone("example.com", 2);
	struct conf_zone cz = example_com();
	policy = answer_serial_2;
	notifier_zone(n, &cz, z1);
	wait_received(1, 1);
	ck_assert_uint_eq(got[0].serial, 1);
	notifier_zone(n, &cz, z2);
	ck_assert_int_eq(zone_refs(z1), 1); /* the replaced notify let go of it */
	ck_assert_int_eq(zone_refs(z2), 2);
	wait_answered(1);
	ck_assert_uint_eq(got_count, 2);
	ck_assert_uint_eq(got[1].serial, 2);
	ck_assert_uint_ne(got[1].id, got[0].id);
	run_for(2.5); /* past the first retry of either */
	ck_assert_uint_eq(got_count, 2);
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent, 2);
	ck_assert_uint_eq(c.answered, 1);
	ck_assert_uint_eq(c.abandoned, 0);
	char line[128];
	snprintf(line, sizeof(line), "notify example.com serial 2 to %s: answered\n", sec_text);
	ck_assert_str_eq(logbuf, line);
	ck_assert_int_eq(zone_refs(z2), 1);
	zone_unref(z1);
	zone_unref(z2);
}
END_TEST

/* Replies the notifier must not take for an answer to r: each differs in one respect. */
static void reply_wrongly(const struct received *r)
{
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(other, (struct sockaddr *)&any, sizeof(any)), 0);
	reply_from(other, r, r->id, ANSWER_FLAGS); /* from another port */
	close(other);
	reply_from(sec_fd, r, (uint16_t)(r->id ^ 1), ANSWER_FLAGS);	  /* another ID */
	reply_from(sec_fd, r, r->id, WIRE_FLAG_QR | WIRE_FLAG_AA);	  /* opcode QUERY */
	reply_from(sec_fd, r, r->id, NOTIFY_OPCODE << 11 | WIRE_FLAG_AA); /* not a response */
	struct received other_zone = *r;				  /* another question */
	memcpy(other_zone.pkt + WIRE_HEADER_SIZE + 9, "org", 3);
	reply_from(sec_fd, &other_zone, r->id, ANSWER_FLAGS);
	uint8_t runt[4] = {(uint8_t)(r->id >> 8), (uint8_t)r->id, ANSWER_FLAGS >> 8, 0};
	ck_assert_int_eq(
	    sendto(sec_fd, runt, sizeof(runt), 0, (const struct sockaddr *)&r->from, r->from_len), 4);
}

START_TEST(wrong_replies_do_not_stop_retries)
{
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	notifier_zone(n, &cz, z);
	wait_received(1, 1);
	reply_wrongly(&got[0]);
	wait_received(2, 2);
	double after = got[1].at - got[0].at;
	ck_assert_msg(after >= 0.9, "retried after %.3f s", after);
	ck_assert_uint_eq(counts().answered, 0);
	answer(&got[1]);
	wait_answered(1);
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent, 2);
	ck_assert_uint_eq(c.answered, 1);
	zone_unref(z);
}
END_TEST

START_TEST(error_rcode_ends_retries)
{
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	policy = refuse;
	notifier_zone(n, &cz, z);
	wait_answered(1);
	run_for(1.3);
	ck_assert_uint_eq(got_count, 1);
	ck_assert_msg(strstr(logbuf, "notify example.com serial 7 to ") && strstr(logbuf, "REFUSED"), "%s",
		      logbuf);
	ck_assert_uint_eq(counts().abandoned, 0);
	zone_unref(z);
}
END_TEST

START_TEST(ipv6_server)
{
	ev_io_stop(loop, &sec_io);
	close(sec_fd);
	secondary_open("::1");
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	policy = answer;
	notifier_zone(n, &cz, z);
	wait_answered(1);
	ck_assert_uint_eq(got[0].serial, 7);
	ck_assert_uint_eq(got[0].from.ss_family, AF_INET6);
	char line[128];
	snprintf(line, sizeof(line), "notify example.com serial 7 to [::1]:%u: answered\n",
		 ntohs(((struct sockaddr_in6 *)&sec_listen.addr)->sin6_port));
	ck_assert_str_eq(logbuf, line);
	zone_unref(z);
}
END_TEST

/* notify_source: the NOTIFY leaves from the address set; a change of it takes effect at the next one. */
START_TEST(source_address)
{
	struct conf_listen source[2];
	memset(source, 0, sizeof(source));
	source[0].addr_len = sizeof(struct sockaddr_in);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&source[0].addr;
	v4->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &v4->sin_addr);
	notifier_set_source(n, source);
	struct zone *z = load_zone("example.com", 7);
	struct conf_zone cz = example_com();
	policy = answer;
	notifier_zone(n, &cz, z);
	wait_answered(1);
	char from[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &((struct sockaddr_in *)&got[0].from)->sin_addr, from, sizeof(from));
	ck_assert_str_eq(from, "127.0.0.2");

	inet_pton(AF_INET, "127.0.0.3", &v4->sin_addr);
	notifier_set_source(n, source);
	struct zone *z8 = load_zone("example.com", 8);
	notifier_zone(n, &cz, z8);
	wait_answered(2);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&got[1].from)->sin_addr, from, sizeof(from));
	ck_assert_str_eq(from, "127.0.0.3");

	memset(source, 0, sizeof(source)); /* none: the kernel picks, 127.0.0.1 to a loopback server */
	notifier_set_source(n, source);
	struct zone *z9 = load_zone("example.com", 9);
	notifier_zone(n, &cz, z9);
	wait_answered(3);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&got[2].from)->sin_addr, from, sizeof(from));
	ck_assert_str_eq(from, "127.0.0.1");
	zone_unref(z);
	zone_unref(z8);
	zone_unref(z9);
}
END_TEST

/* ---- notifier_changes over real snapshots ---- */

static void write_zone_file(const char *origin, unsigned serial)
{
	char name[64], text[512];
	snprintf(name, sizeof(name), "%s.zone", origin);
	snprintf(text, sizeof(text),
		 "$TTL 300\n"
		 "@ IN SOA ns1.example.info. hostmaster.example.info. %u 3600 600 86400 60\n"
		 "@ IN NS ns1.example.info.\n",
		 serial);
	unit_write_file(name, text);
}

/* A snapshot of example.com and example.org (both notify the secondary) and example.net (notifies
 * no one), from the zone files as they are now; without example.org's zone when org_fails (it
 * failed to load). */
static struct snapshot *snapshot_of_files(bool org_fails)
{
	char config[1024];
	snprintf(config, sizeof(config),
		 "serial = 1\n"
		 "listen = { \"127.0.0.1:5353\" }\n"
		 "zones = {\n"
		 "  { name = \"example.com\", file = \"example.com.zone\", notify = { \"%s\" } },\n"
		 "  { name = \"example.org\", file = \"example.org.zone\", notify = { \"%s\" } },\n"
		 "  { name = \"example.net\", file = \"example.net.zone\" },\n"
		 "}\n",
		 sec_text, sec_text);
	struct conf *c = unit_load_conf("meridian.conf", config);
	ck_assert_uint_eq(c->zone_count, 3);
	struct zone *zones[3];
	size_t count = 0;
	struct diag d;
	diag_init(&d);
	for (size_t i = 0; i < c->zone_count; i++) {
		if (org_fails && strcmp(c->zones[i].name, "example.org") == 0)
			continue;
		zones[count] = zone_load(c->zones[i].name, c->zones[i].file, &d);
		ck_assert_msg(zones[count] != NULL, "%s", unit_diag_text(&d));
		count++;
	}
	diag_free(&d);
	struct snapshot *s = snapshot_new(c, zone_set_new(zones, count), NULL, NULL);
	for (size_t i = 0; i < count; i++)
		zone_unref(zones[i]);
	return s;
}

/* The secondary's messages from index `from` on, as "zone serial" lines sorted by zone. */
static const char *received_since(size_t from)
{
	static const char *const zones[] = {"example.com.", "example.net.", "example.org."};
	static char out[512];
	out[0] = '\0';
	for (size_t z = 0; z < 3; z++)
		for (size_t i = from; i < got_count; i++)
			if (strcmp(got[i].zone, zones[z]) == 0)
				snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s %u\n", zones[z],
					 (unsigned)got[i].serial);
	return out;
}

START_TEST(changes_notify_new_serials)
{
	write_zone_file("example.com", 1);
	write_zone_file("example.org", 1);
	write_zone_file("example.net", 1);
	policy = answer;

	/* at start-up: every zone with servers */
	struct snapshot *s1 = snapshot_of_files(false);
	notifier_changes(n, NULL, s1);
	ck_assert_uint_eq(counts().sent, 2);
	wait_answered(2);
	ck_assert_str_eq(received_since(0), "example.com. 1\nexample.org. 1\n");

	/* example.org failed to load, example.com is unchanged: nothing to tell */
	struct snapshot *s2 = snapshot_of_files(true);
	notifier_changes(n, s1, s2);
	ck_assert_uint_eq(counts().sent, 2);

	/* example.com has a new serial; example.org is back (absent before): both */
	write_zone_file("example.com", 2);
	struct snapshot *s3 = snapshot_of_files(false);
	notifier_changes(n, s2, s3);
	ck_assert_uint_eq(counts().sent, 4);
	wait_answered(4);
	ck_assert_str_eq(received_since(2), "example.com. 2\nexample.org. 1\n");

	/* the same files again: the same serials */
	struct snapshot *s4 = snapshot_of_files(false);
	notifier_changes(n, s3, s4);
	run_for(0.2);
	ck_assert_uint_eq(got_count, 4);
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent, 4);
	ck_assert_uint_eq(c.answered, 4);
	ck_assert_uint_eq(c.abandoned, 0);

	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
}
END_TEST

START_TEST(free_without_notifies)
{
	struct notify_counts c = counts();
	ck_assert_uint_eq(c.sent + c.answered + c.abandoned, 0);
	notifier_free(n);
	n = NULL;
	notifier_free(NULL);
}
END_TEST

START_TEST(signed_notify)
{
	struct zone *z = load_zone("example.com", 9);
	struct conf_zone cz = example_com();
	char err[128];
	static const uint8_t name[] = "\3xfr\3key";
	ck_assert(tsig_key_init(&notify_key, "xfr.key", name, sizeof(name), TSIG_HMAC_SHA256, TSIG_SECRET,
				err, sizeof(err)));
	cz.transfer_key = &notify_key;
	policy = answer_signed;
	notifier_zone(n, &cz, z);
	wait_answered(1);
	ck_assert(notify_verified);
	ck_assert_uint_eq(got_count, 1);
	char want[512];
	snprintf(
	    want, sizeof(want),
	    "notify example.com serial 9 to %s: an unsigned answer ignored: the zone's NOTIFY is signed with "
	    "a TSIG key\nnotify example.com serial 9 to %s: answered\n",
	    sec_text, sec_text);
	ck_assert_str_eq(logbuf, want);
	zone_unref(z);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, one_notify_is_answered);
	tcase_add_test(tc, retries_double_without_answer);
	tcase_add_test(tc, newer_serial_replaces_pending);
	tcase_add_test(tc, wrong_replies_do_not_stop_retries);
	tcase_add_test(tc, error_rcode_ends_retries);
	tcase_add_test(tc, ipv6_server);
	tcase_add_test(tc, source_address);
	tcase_add_test(tc, changes_notify_new_serials);
	tcase_add_test(tc, free_without_notifies);
	tcase_add_test(tc, signed_notify);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run_in_tmpdir(notify_suite(), "notify");
}
