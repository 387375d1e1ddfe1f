/* journal.h -- what changed between a zone's versions, kept so that a secondary that is a few serials
 * behind gets only the differences (IXFR, RFC 1995) instead of the whole zone.
 *
 * meridian loads zones from files, so a difference is computed, not recorded: when a reload replaces
 * a zone that has secondaries with a version of a newer serial, journal_next compares the two
 * versions RR by RR (every RR of the zone but the SOA, as a transfer sends it) and gives the new
 * version a journal: the old version's differences, the oldest dropped beyond `keep`, plus this one.
 * A journal is immutable once built and shared between versions by reference counts, like the
 * zones themselves; the transfer server reads it while it streams (transfer.h).
 *
 * History is only ever kept when it is certainly right: a reload that changes the zone's content
 * without changing its serial, or moves the serial backwards, starts the history anew (a secondary
 * then gets the whole zone), and a difference larger than the zone itself is not kept (sending the
 * zone costs less). */
#ifndef MERIDIAN_JOURNAL_H
#define MERIDIAN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/zone.h"

/* One step from serial `from` to serial `to`. Each RR list is a run of RRs in uncompressed wire form:
 * owner name (lowercased), type, class, TTL, rdata length, rdata. */
struct journal_delta {
	uint32_t from, to;
	const uint8_t *from_soa, *to_soa; /* each a whole SOA RR in that form */
	size_t from_soa_len, to_soa_len;
	const uint8_t *deleted, *added; /* the RRs of `from` not in `to`, and of `to` not in `from` */
	size_t deleted_len, added_len;
	uint32_t deleted_count, added_count;
	int refs;
	uint8_t data[]; /* everything above points in here */
};

/* A zone version's history, oldest step first; the last step ends at the version's serial. */
struct zone_journal {
	int refs;
	unsigned count;
	struct journal_delta *delta[];
};

/* What journal_next did, for the log line. */
enum journal_outcome {
	JOURNAL_OFF,	   /* keep is 0, or there is no old version: no history */
	JOURNAL_CARRIED,   /* same serial, same content: the old version's history */
	JOURNAL_EXTENDED,  /* newer serial: the old history plus this step */
	JOURNAL_RESTARTED, /* content changed without a newer serial, or the step was larger than the
			    * zone: no history */
};

struct journal_report {
	enum journal_outcome outcome;
	uint32_t deleted, added; /* JOURNAL_EXTENDED: the new step's RRs */
	unsigned steps;		 /* steps now kept */
};

/* The journal of new_zone, replacing old_zone (the same apex; NULL: none), keeping at most keep steps
 * (0: none). NULL when there is no history to keep. report (may be NULL) says what happened. */
struct zone_journal *journal_next(const struct zone *old_zone, const struct zone *new_zone, unsigned keep,
				  struct journal_report *report);
void journal_ref(struct zone_journal *j);
void journal_unref(struct zone_journal *j);

/* The first step of the chain in j from serial `from` to j's last serial, or -1 when j holds no such
 * chain (the secondary is too far behind, or at a serial we never had). */
long journal_find(const struct zone_journal *j, uint32_t from);

/* Reads the RR at *pos of a run (a delta's deleted or added RRs, or a SOA), advancing *pos: its owner
 * name (length in *name_len), type, TTL, rdata. False at the end of the run. */
bool journal_rr_next(const uint8_t *run, size_t len, size_t *pos, const uint8_t **name, size_t *name_len,
		     uint16_t *type, uint32_t *ttl, const uint8_t **rdata, uint16_t *rdlen);

#endif
