/* split.c -- finding where a master file can be cut into chunks that parse on their own.
 *
 * ldns reads a master file one call at a time (see reader.c), and every call starts afresh: nothing
 * but the loader's state (origin, default TTL, previous owner, line counter) links it to the ones
 * before. So a chunk that starts where a call starts, with that state, reads exactly what the whole
 * file would. A cut is a call that starts a line with an owner name (not a blank, ';', '$', '(' or
 * ')'), about every chunk bytes, after a $TTL (before one, a record's default TTL is the previous
 * record's). The state there is found by replaying every directive before it through the parser
 * itself (parse.c), output dropped; the line counter is the newlines before it; the previous owner
 * is left unknown (see parse.c). A call reader.c does not follow (a stray ')', a NUL) or that a
 * chunk cannot do on its own ($INCLUDE) makes the file load sequentially (but for the last call: the
 * main thread parses the last chunk again). */
#include "build.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Each directive before the last cut is replayed once; past this many, reading the file in one go
 * is about as fast. */
#define ZB_MAX_REPLAYS 100000

static bool zb_owner_start(int c)
{
	return c > ' ' && c != 0x7f && !strchr(";$()", c);
}

static void zb_plan_add(struct zb_plan *plan, off_t offset, const struct zb_parser *p)
{
	plan->cuts = realloc(plan->cuts, (plan->count + 1) * sizeof(*plan->cuts));
	if (!plan->cuts)
		abort();
	struct zb_cut *c = &plan->cuts[plan->count++];
	*c = (struct zb_cut){offset, p->line,	     ldns_rdf_clone(p->origin), ldns_rdf_clone(p->saved),
			     p->ttl, p->explicit_ttl};
	if (!c->origin || !c->saved)
		abort();
}

/* Reads the file call by call, taking a cut about every chunk bytes; p replays the directives. */
static bool zb_plan_scan(struct zb_plan *plan, struct zb_parser *p, int fd, size_t chunk)
{
	struct zb_input in;
	zone_build_input_init(&in, fd, NULL, 0);
	struct zb_call c;
	off_t next = (off_t)chunk;
	size_t replays = 0;
	bool ok = true;
	zb_plan_add(plan, 0, p);
	while (ok && zone_build_input_next(&in, &c, false)) {
		if (c.odd && !c.at_end) { /* ldns goes on from inside the call: cuts after it unknown */
			ok = false;
			break;
		}
		if (c.offset >= next && c.line_start && zb_owner_start((unsigned char)c.text[0]) &&
		    p->explicit_ttl) {
			zb_plan_add(plan, c.offset, p);
			next = c.offset + (off_t)chunk;
		}
		if (c.first == '$') {
			p->errors = 0;
			zone_build_parse_call(p, &c);
			ok = !p->redo && ++replays <= ZB_MAX_REPLAYS; /* redo: $INCLUDE */
		} else {
			p->line += c.newlines;
		}
	}
	ok = ok && !in.failed;
	plan->size = in.offset;
	zone_build_input_free(&in);
	return ok;
}

bool zone_build_plan(struct zb_plan *plan, int fd, const struct zone *z, size_t chunk)
{
	*plan = (struct zb_plan){0};
	struct zb_parser p = {.zone = z, .path = z->file, .ttl = ZB_DEFAULT_TTL};
	p.origin = ldns_dname_new_frm_data(z->apex.len, z->apex.data);
	p.saved = ldns_rdf_clone(p.origin);
	if (!p.origin || !p.saved)
		abort();
	bool ok = zb_plan_scan(plan, &p, fd, chunk) && plan->count > 1;
	ldns_rdf_deep_free(p.origin);
	ldns_rdf_deep_free(p.saved);
	ldns_rdf_deep_free(p.prev);
	if (!ok)
		zone_build_plan_free(plan);
	return ok;
}

void zone_build_plan_free(struct zb_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		ldns_rdf_deep_free(plan->cuts[i].origin);
		ldns_rdf_deep_free(plan->cuts[i].saved);
	}
	free(plan->cuts);
	*plan = (struct zb_plan){0};
}

static bool zb_token_edge(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '(' ||
	       c == ')' || c == ';' || c == '\0';
}

/* "TYPE<n>" names the type atoi(n) for ldns (ldns_get_rr_type_by_name). */
static bool zb_type11(const char *p, const char *end)
{
	char num[24];
	size_t n = 0;
	while (p + n < end && n + 1 < sizeof(num) && !zb_token_edge((unsigned char)p[n])) {
		num[n] = p[n];
		n++;
	}
	num[n] = '\0';
	return n > 0 && (uint16_t)atoi(num) == LDNS_RR_TYPE_WKS;
}

bool zone_build_may_have_wks(const char *text, size_t len)
{
	const char *end = text + len;
	for (const char *p = text; p < end; p++) {
		if ((*p | 0x20) != 'w' && (*p | 0x20) != 't')
			continue;
		if (p > text && !zb_token_edge((unsigned char)p[-1]))
			continue;
		if (end - p >= 3 && strncasecmp(p, "wks", 3) == 0 &&
		    (end - p == 3 || zb_token_edge((unsigned char)p[3])))
			return true;
		if (end - p > 4 && strncasecmp(p, "type", 4) == 0 && zb_type11(p + 4, end))
			return true;
	}
	return false;
}
