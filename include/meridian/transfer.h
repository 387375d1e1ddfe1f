/* transfer.h -- zones sent to secondaries: AXFR (RFC 5936), IXFR (RFC 1995) answered with the
 * differences the zone's journal holds (journal.h), the SOA alone when the secondary is current, or
 * else the whole zone, and NOTIFY when a serial changes (RFC 1996).
 *
 * A zone is transferred to the clients its config lists ("transfer" nets), over TCP; an IXFR over
 * UDP gets one message (transfer_udp_ixfr). The query path decides and refuses; it never streams.
 * A TCP worker that reads a transfer request the snapshot allows (transfer_wanted) hands the
 * connection over (transfer_handoff: one write to a pipe, no allocation, no lock) to the transfer
 * server, which streams the zone from the control thread's loop, one message whenever the client
 * has read the last. A large zone or a slow secondary thus never holds a worker. Everything else (a
 * client not listed, a zone without a list, AXFR over UDP) is refused by query_answer with an
 * Extended DNS Error.
 *
 * With a transfer_key (conf.h), a transfer also needs a request signed with that key (tsig.h); a
 * signed request gets every message signed (RFC 8945 5.3.1), and the zone's NOTIFY is signed too.
 *
 * Zones with dynamic records cannot have secondaries (the loader refuses such a config): a copy of
 * the zone file would serve the zone without them. */
#ifndef MERIDIAN_TRANSFER_H
#define MERIDIAN_TRANSFER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "meridian/conf.h"
#include "meridian/journal.h"
#include "meridian/snapshot.h"
#include "meridian/tsig.h"
#include "meridian/wire.h"
#include "meridian/zone.h"

/* The config entry of zone z in c (matched by apex), or NULL. */
const struct conf_zone *transfer_zone_conf(const struct conf *c, const struct zone *z);
/* Whether the client at peer may transfer the zone of cz (its address lies in a "transfer" net). */
bool transfer_allowed(const struct conf_zone *cz, const struct sockaddr_storage *peer);
/* Whether a request signed with key signed_with (NULL: unsigned, or not verified) satisfies cz's
 * transfer_key: any will do when the zone has none. */
bool transfer_key_satisfied(const struct conf_zone *cz, const struct tsig_key *signed_with);
/* For a TCP worker (query-path safe): whether the query in pkt (len bytes) from peer is an AXFR or
 * IXFR for a zone of snap that peer may transfer: from a transfer net, with a TSIG that verifies at
 * time now when it has one, signed with the zone's transfer_key when it has one. */
bool transfer_check(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *peer, uint64_t now, struct tsig_check *tsig);
/* transfer_check at the current time, without the signature. */
bool transfer_wanted(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *peer);

/* For a reload, on the loading thread before next is published: gives each zone of next that has
 * secondaries and keeps IXFR history (conf_zone.ixfr_versions) the journal from its version in old
 * (journal_next), and writes a line to notes (may be NULL) for each new difference kept or history
 * restarted. */
void transfer_keep_journals(const struct zone_set *old, const struct snapshot *next, FILE *notes);

/* The messages of one transfer, produced one at a time. */
enum transfer_stage { TRANSFER_FIRST_SOA, TRANSFER_NODES, TRANSFER_STEPS, TRANSFER_LAST_SOA, TRANSFER_DONE };

/* The parts of one journal step in an incremental transfer (RFC 1995 4). */
enum transfer_step_part { STEP_FROM_SOA, STEP_DELETED, STEP_TO_SOA, STEP_ADDED };

struct transfer_stream {
	const struct zone *zone;
	struct wire_query q;  /* the request; its question_wire points into the caller's copy */
	uint16_t payload;     /* our EDNS payload size for the OPT record; 0: the request had no EDNS */
	bool soa_only;	      /* IXFR from a secondary already at our serial: the SOA alone */
	bool incremental;     /* IXFR from a serial the zone's journal (journal.h) leads on from */
	uint32_t from_serial; /* incremental: the secondary's serial */
	enum transfer_stage stage;
	size_t node;		      /* TRANSFER_NODES: the node being sent (apex_node[node]) */
	uint16_t rrset;		      /* its RRset being sent */
	size_t rdata_pos;	      /* zone_rdata_next's position in it */
	unsigned step;		      /* TRANSFER_STEPS: the journal step being sent */
	enum transfer_step_part part; /* its part */
	size_t run_pos;		      /* journal_rr_next's position in that part */
	unsigned messages, records;   /* sent so far */
};

#define TRANSFER_MESSAGE_MAX 16384 /* bytes per message: each write event builds at most one */

/* Starts the stream answering q (parsed from pkt, len bytes, which must outlive the stream) from z
 * with our EDNS payload size payload. An IXFR whose authority SOA has z's serial or a newer one
 * (RFC 1982) gets the SOA alone. An IXFR from a serial z's journal leads on from gets the
 * differences (RFC 1995 4): the SOA, then per step the old SOA, the RRs deleted, the new SOA, the
 * RRs added, and the SOA again. Any other gets the whole zone: the SOA, every other RR (node by
 * node as the zone stores them, the apex's first; owner names in lower case, as the zone holds
 * them), the SOA again. */
void transfer_stream_start(struct transfer_stream *s, const struct zone *z, const struct wire_query *q,
			   const uint8_t *pkt, size_t len, uint16_t payload);
/* An incremental stream whose differences span more than max_steps versions (the zone's ixfr in the
 * config published now, which may be lower than when the zone was read) sends the whole zone. */
void transfer_stream_limit_steps(struct transfer_stream *s, unsigned max_steps);
/* Writes the next message (at most cap bytes, and TRANSFER_MESSAGE_MAX) into out and returns its
 * length; 0 once the last was written. The first message echoes the question; later ones have none
 * (RFC 5936 2.2). Every message has AA, and an OPT record when the request had one. */
size_t transfer_stream_next(struct transfer_stream *s, uint8_t *out, size_t cap);

/* For the query path (no allocation, no lock): the answer to q, an IXFR over UDP (in pkt, len octets)
 * that z's transfer rules allow, written into b (RFC 1995 2): the differences since the secondary's
 * serial when z's journal has them and they fit the message, else the SOA alone (the secondary is
 * current, or must ask over TCP); no more than ixfr_versions steps (transfer_stream_limit_steps).
 * False when not even the SOA fits. */
bool transfer_udp_ixfr(struct wire_builder *b, const struct zone *z, unsigned ixfr_versions,
		       const struct wire_query *q, const uint8_t *pkt, size_t len);

/* The transfer server: connections handed over by the workers, served on the control thread. */
#define TRANSFER_QUERY_MAX    1024 /* a longer request is not handed over: the query path refuses it */
#define TRANSFER_SESSIONS_MAX 32   /* transfers at once; more are closed (the secondary retries) */

struct transfer_counts {
	uint64_t served; /* transfers sent to their end */
	uint64_t
	    aborted; /* connections closed before the end: the client left, stalled or went over the cap */
	uint64_t soa_only;
	uint64_t incremental; /* IXFRs answered with the differences */
	unsigned active;
};

struct transfer_server;
/* Reads handed-over connections on loop; log (may be NULL) gets a line per transfer. */
struct transfer_server *transfer_server_new(struct ev_loop *loop, void (*log)(void *arg, const char *line),
					    void *log_arg);
/* The pipe's write end, for the workers (server_start). */
int transfer_server_handoff_fd(const struct transfer_server *ts);
void transfer_server_counts(const struct transfer_server *ts, struct transfer_counts *out);
/* Closes every connection and the pipe. */
void transfer_server_free(struct transfer_server *ts);

/* For a worker: hands connection fd from peer, whose request is pkt (len <= TRANSFER_QUERY_MAX), to
 * the server behind handoff_fd. The worker must forget fd when this returns true, and close it
 * when false (the pipe is full: the secondary retries). Never blocks. */
bool transfer_handoff(int handoff_fd, int fd, const struct sockaddr_storage *peer, const uint8_t *pkt,
		      size_t len);

/* NOTIFY (RFC 1996): each zone's "notify" servers are told of its serial at start-up and whenever a
 * publication changes it, over UDP, retried until each answers (at most NOTIFY_TRIES times, the wait
 * doubling from one second). A newer serial replaces the notify still being retried for a server. */
#define NOTIFY_TRIES 5

struct notify_counts {
	uint64_t sent;	    /* NOTIFY messages sent, retries included */
	uint64_t answered;  /* servers that answered */
	uint64_t abandoned; /* servers that never answered */
};

struct notifier;
struct notifier *notifier_new(struct ev_loop *loop, void (*log)(void *arg, const char *line), void *log_arg);
/* Tells cz's notify servers of zone z's serial (z is referenced while needed). */
void notifier_zone(struct notifier *n, const struct conf_zone *cz, struct zone *z);
/* The addresses NOTIFY leaves from (conf.notify_source; addr_len 0: the kernel picks): a change
 * closes that family's socket, and the next NOTIFY opens one bound to the new address. */
void notifier_set_source(struct notifier *n, const struct conf_listen source[2]);
/* Every zone of next with notify servers whose serial differs from its serial in prev (all of them
 * when prev is NULL), after notifier_set_source with next's notify_source. */
void notifier_changes(struct notifier *n, const struct snapshot *prev, const struct snapshot *next);
void notifier_counts(const struct notifier *n, struct notify_counts *out);
void notifier_free(struct notifier *n);

#endif
