/* zone.c -- the zone loader's fuzz target (see zone.h). */
#include "zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/diag.h"
#include "meridian/transfer.h"
#include "meridian/zone.h"

#include "../../src/zone/build.h" /* the loader's tuning: sequential or in chunks */

static char path[64];
static char failure[1024];

bool fuzz_zone_setup(void)
{
	snprintf(path, sizeof(path), "/tmp/meridian-fuzz-zone-%ld", (long)getpid());
	return true;
}

static const char *differ(const char *what, size_t i)
{
	snprintf(failure, sizeof(failure), "sequential and chunked loading differ: %s (item %zu)", what, i);
	return failure;
}

static struct zone *load(struct diag *d, unsigned threads, size_t chunk)
{
	struct zone_build_tuning t = {.threads = threads, .min_size = 0, .chunk_size = chunk};
	zone_build_tune(&t);
	diag_init(d);
	struct zone *z = zone_load("fuzz.test.", path, d);
	zone_build_tune(NULL);
	return z;
}

static const char *rrsets_differ(const struct zone_node *a, const struct zone_node *b, size_t node)
{
	if (a->rrset_count != b->rrset_count)
		return differ("RRset count", node);
	for (uint16_t i = 0; i < a->rrset_count; i++) {
		const struct zone_rrset *x = &a->rrsets[i], *y = &b->rrsets[i];
		if (x->type != y->type || x->count != y->count || x->ttl != y->ttl)
			return differ("an RRset's type, count or TTL", node);
		size_t px = 0, py = 0;
		const uint8_t *rx, *ry;
		uint16_t lx, ly;
		while (zone_rdata_next(x, &px, &rx, &lx)) {
			if (!zone_rdata_next(y, &py, &ry, &ly) || lx != ly || memcmp(rx, ry, lx) != 0)
				return differ("rdata", node);
		}
		if (zone_rdata_next(y, &py, &ry, &ly))
			return differ("rdata count", node);
	}
	return NULL;
}

/* Same nodes in the same order, same flags, links and data (as test_zone.c's assert_zones_same). */
static const char *zones_differ(const struct zone *a, const struct zone *b)
{
	if (a->node_count != b->node_count || a->rr_count != b->rr_count || a->serial != b->serial ||
	    a->neg_ttl != b->neg_ttl || a->table_mask != b->table_mask)
		return differ("node or record count, serial, negative TTL or table size", 0);
	const struct zone_node *na = a->apex_node, *nb = b->apex_node;
	for (size_t i = 0; i < a->node_count; i++) {
		if (na[i].name_len != nb[i].name_len || memcmp(na[i].name, nb[i].name, na[i].name_len) != 0 ||
		    na[i].flags != nb[i].flags || na[i].label_count != nb[i].label_count ||
		    na[i].hash != nb[i].hash)
			return differ("a node's name or flags", i);
		if ((na[i].cut ? na[i].cut - na : -1) != (nb[i].cut ? nb[i].cut - nb : -1) ||
		    (na[i].wildcard ? na[i].wildcard - na : -1) !=
			(nb[i].wildcard ? nb[i].wildcard - nb : -1))
			return differ("a node's cut or wildcard", i);
		const char *bad = rrsets_differ(&na[i], &nb[i], i);
		if (bad)
			return bad;
		if (zone_node_find(b, na[i].name, na[i].name_len) != &nb[i])
			return differ("a node's lookup", i);
	}
	return NULL;
}

/* The AXFR of a loaded zone: it ends; every message is a response of at most TRANSFER_MESSAGE_MAX
 * octets with AA, holding at least one record; the records are the zone's, the SOA once more. */
static const char *transfer_fails(const struct zone *z)
{
	static const uint8_t axfr[] = {0x12, 0x34, 0,	0, 0,	1,   0,	  0,   0, 0, 0,	  0, 4, 'f',
				       'u',  'z',  'z', 4, 't', 'e', 's', 't', 0, 0, 252, 0, 1};
	static uint8_t msg[TRANSFER_MESSAGE_MAX];
	struct wire_query q;
	if (wire_parse_query(axfr, sizeof(axfr), &q) != WIRE_PARSE_OK)
		return "the AXFR request does not parse";
	struct transfer_stream s;
	transfer_stream_start(&s, z, &q, axfr, sizeof(axfr), 1232);
	size_t len, records = 0;
	while ((len = transfer_stream_next(&s, msg, sizeof(msg)))) {
		unsigned an = (unsigned)msg[6] << 8 | msg[7];
		if (len > TRANSFER_MESSAGE_MAX || len < 12 || msg[0] != 0x12 || msg[1] != 0x34 ||
		    !(msg[2] & 0x80) || !(msg[2] & 0x04) || (msg[3] & 0x0f) || an == 0)
			return "a transfer message is not a full NOERROR response with AA and records";
		records += an;
		if (records > z->rr_count + 1)
			return "the transfer sends more records than the zone has";
	}
	if (records != z->rr_count + 1 || s.stage != TRANSFER_DONE)
		return "the transfer does not send every record of the zone, and the SOA twice";
	return NULL;
}

static const char *diags_differ(const struct diag *a, const struct diag *b)
{
	if (a->count != b->count || a->errors != b->errors)
		return differ("message count", a->count);
	for (size_t i = 0; i < a->count; i++)
		if (a->entries[i].level != b->entries[i].level ||
		    strcmp(a->entries[i].text, b->entries[i].text) != 0) {
			snprintf(failure, sizeof(failure),
				 "sequential and chunked loading differ: message %zu: \"%s\" and \"%s\"", i,
				 a->entries[i].text, b->entries[i].text);
			return failure;
		}
	return NULL;
}

const char *fuzz_zone_one(const uint8_t *data, size_t size)
{
	if (memmem(data, size, "$INCLUDE", 8))
		return NULL;
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		return "cannot write the input file";
	struct diag ds, dp;
	struct zone *zs = load(&ds, 1, 64);
	struct zone *zp = load(&dp, 2, 64);
	const char *bad = diags_differ(&ds, &dp);
	if (!bad && (zs != NULL) != (zp != NULL))
		bad = differ("one loaded, the other did not", 0);
	if (!bad && zs)
		bad = zones_differ(zs, zp);
	if (!bad && zs)
		bad = transfer_fails(zs);
	if (!bad && !zs && ds.errors == 0)
		bad = "the zone did not load, and no error says why";
	zone_unref(zs);
	zone_unref(zp);
	diag_free(&ds);
	diag_free(&dp);
	unlink(path);
	return bad;
}
