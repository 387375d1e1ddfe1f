/* checks.c -- health checks: a pool's check, members' overrides merged over it, defaults, the rules.
 *
 * A check table is read field by field into a spec that remembers which fields were written, on which
 * line, and whether their value was valid. A member's override is merged over its pool's spec field by
 * field, and the rules across fields (what the type uses, what it needs, timeout below interval) are
 * judged on the result. A problem made entirely of the pool's fields is reported once, with the pool's
 * check; a member's merged check reports only what its own override had a hand in. The fields a type
 * needs (tcp: port, exec: command) are judged on what is actually probed: a member's merged check, or
 * the pool's check when a member inherits it unchanged, since members may each supply them. Defaults
 * are applied last, on the merged spec, so a member that sets interval also gets the timeout that
 * follows from it. */
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "schema.h"

enum check_field {
	CF_TYPE,
	CF_PORT,
	CF_PATH,
	CF_HOST,
	CF_EXPECT,
	CF_BODY,
	CF_VERIFY,
	CF_QNAME,
	CF_QTYPE,
	CF_RCODE,
	CF_ANSWER,
	CF_COMMAND,
	CF_INTERVAL,
	CF_TIMEOUT,
	CF_RISE,
	CF_FALL,
	CF_FLAP_LIMIT,
	CF_FLAP_WINDOW,
	CF_HOLD,
	CF_COUNT
};
#define BIT(f) (1u << (f))

/* A check as written (the pool's, or a member's override merged over it). */
struct conf_check_spec {
	struct conf_check v; /* the values of the fields written with a valid value; the rest zero */
	unsigned given;	     /* fields written with a valid value */
	unsigned bad;	     /* fields written with an invalid value (reported when read) */
	unsigned mine;	     /* merged: the fields that came from the member's override */
	unsigned lines[CF_COUNT];
	unsigned line;	      /* where the check table (or `check =`) was written */
	bool failed;	      /* the pool's check had errors: its members' merges are not judged */
	bool required_judged; /* the pool's needed fields were judged (once, for members inheriting it) */
	bool incomplete;      /* ... and some are missing (reported) */
	const char *label;    /* "pools.web.check", for messages about the pool's check */
};

/* In the order of enum conf_check_type. */
static const char *const check_types[] = {"tcp", "http", "https", "dns", "exec", NULL};
#define CHECK_TYPES_TEXT "\"tcp\", \"http\", \"https\", \"dns\" or \"exec\""

#define T_TCP	(1u << CONF_CHECK_TCP)
#define T_HTTP	(1u << CONF_CHECK_HTTP)
#define T_HTTPS (1u << CONF_CHECK_HTTPS)
#define T_DNS	(1u << CONF_CHECK_DNS)
#define T_EXEC	(1u << CONF_CHECK_EXEC)
#define T_WEB	(T_HTTP | T_HTTPS)
#define T_ALL	(T_TCP | T_WEB | T_DNS | T_EXEC)

struct check_def;
/* Reads the value on top (written at loc) into v; false when it is not valid (reported). */
typedef bool check_read_fn(struct loader *ld, const char *label, const struct conf_loc *loc,
			   const struct check_def *f, struct conf_check *v);

struct check_def {
	check_read_fn *read;
	unsigned types;	  /* the check types that use the field */
	size_t off, size; /* where it lives in struct conf_check */
	double min, max;  /* numbers: the range (seconds: above min unless zero_ok); strings: bytes */
	bool zero_ok;	  /* seconds: 0 is allowed */
};

static check_read_fn read_type, read_port, read_path, read_host, read_expect, read_text, read_bool,
    read_qname, read_qtype, read_rcode, read_seconds, read_count;

/* clang-format off */
static const char *const check_names[CF_COUNT + 1] = {
	[CF_TYPE] = "type", [CF_PORT] = "port", [CF_PATH] = "path", [CF_HOST] = "host",
	[CF_EXPECT] = "expect", [CF_BODY] = "body", [CF_VERIFY] = "verify", [CF_QNAME] = "qname",
	[CF_QTYPE] = "qtype", [CF_RCODE] = "rcode", [CF_ANSWER] = "answer", [CF_COMMAND] = "command",
	[CF_INTERVAL] = "interval", [CF_TIMEOUT] = "timeout", [CF_RISE] = "rise", [CF_FALL] = "fall",
	[CF_FLAP_LIMIT] = "flap_limit", [CF_FLAP_WINDOW] = "flap_window", [CF_HOLD] = "hold",
	[CF_COUNT] = NULL,
};

#define O(f) .off = offsetof(struct conf_check, f), .size = sizeof(((struct conf_check *)0)->f)
/* port is used by exec too: the command may say {port}. */
static const struct check_def check_defs[CF_COUNT] = {
	[CF_TYPE]        = {read_type,    T_ALL,   O(type)},
	[CF_PORT]        = {read_port,    T_ALL,   O(port),        1, 65535},
	[CF_PATH]        = {read_path,    T_WEB,   O(path),        1, 2048},
	[CF_HOST]        = {read_host,    T_WEB,   O(host),        1, 253},
	[CF_EXPECT]      = {read_expect,  T_WEB,   O(expect),      100, 599},
	[CF_BODY]        = {read_text,    T_WEB,   O(body),        1, 4096},
	[CF_VERIFY]      = {read_bool,    T_HTTPS, O(verify)},
	[CF_QNAME]       = {read_qname,   T_DNS,   O(qname)},
	[CF_QTYPE]       = {read_qtype,   T_DNS,   O(qtype)},
	[CF_RCODE]       = {read_rcode,   T_DNS,   O(rcode)},
	[CF_ANSWER]      = {read_text,    T_DNS,   O(answer),      1, 1024},
	[CF_COMMAND]     = {read_text,    T_EXEC,  O(command),     1, 4096},
	[CF_INTERVAL]    = {read_seconds, T_ALL,   O(interval),    0, 3600},
	[CF_TIMEOUT]     = {read_seconds, T_ALL,   O(timeout),     0, 3600},
	[CF_RISE]        = {read_count,   T_ALL,   O(rise),        1, 100},
	[CF_FALL]        = {read_count,   T_ALL,   O(fall),        1, 100},
	[CF_FLAP_LIMIT]  = {read_count,   T_ALL,   O(flap_limit),  0, 31},
	[CF_FLAP_WINDOW] = {read_seconds, T_ALL,   O(flap_window), 0, 86400},
	[CF_HOLD]        = {read_seconds, T_ALL,   O(hold),        0, 86400, .zero_ok = true},
};
#undef O

/* The rcodes a dns check may expect, by value. */
static const char *const check_rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", NULL,
};
/* clang-format on */

/* "a" or "an" before a type's name, as it is read aloud: "an http check", "a tcp check". */
static const char *check_article(enum conf_check_type t)
{
	return t == CONF_CHECK_TCP || t == CONF_CHECK_DNS ? "a" : "an";
}

static void *check_at(struct conf_check *v, const struct check_def *f)
{
	return (char *)v + f->off;
}

static bool read_type(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	size_t len;
	const char *s = conf_string(ld, label, loc->line, 0, 255, false, &len);
	if (!s)
		return false;
	for (size_t i = 0; check_types[i]; i++) {
		if (strcmp(s, check_types[i]) == 0) {
			*(enum conf_check_type *)check_at(v, f) = (enum conf_check_type)i;
			return true;
		}
	}
	conf_error(ld, loc->line, "%s: expected " CHECK_TYPES_TEXT ", got \"%.64s\"", label, s);
	return false;
}

static bool read_port(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	int64_t n;
	if (!conf_int(ld, label, loc->line, (int64_t)f->min, (int64_t)f->max, &n))
		return false;
	*(uint16_t *)check_at(v, f) = (uint16_t)n;
	return true;
}

static bool read_count(struct loader *ld, const char *label, const struct conf_loc *loc,
		       const struct check_def *f, struct conf_check *v)
{
	int64_t n;
	if (!conf_int(ld, label, loc->line, (int64_t)f->min, (int64_t)f->max, &n))
		return false;
	*(unsigned *)check_at(v, f) = (unsigned)n;
	return true;
}

/* Seconds, fractions allowed: above zero (or zero too, for zero_ok) and at most max. */
static bool read_seconds(struct loader *ld, const char *label, const struct conf_loc *loc,
			 const struct check_def *f, struct conf_check *v)
{
	if (lua_type(ld->L, -1) != LUA_TNUMBER) {
		conf_expected(ld, loc->line, label, "a number of seconds");
		return false;
	}
	double n = (double)lua_tonumber(ld->L, -1);
	if (!((f->zero_ok ? n >= 0 : n > 0) && n <= f->max)) { /* also NaN */
		conf_error(ld, loc->line, "%s: expected a number of seconds %s 0 and at most %g, got %.14g",
			   label, f->zero_ok ? ">=" : ">", f->max, n);
		return false;
	}
	*(double *)check_at(v, f) = n;
	return true;
}

static bool read_bool(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	if (lua_type(ld->L, -1) != LUA_TBOOLEAN) {
		conf_expected(ld, loc->line, label, "true or false");
		return false;
	}
	*(bool *)check_at(v, f) = lua_toboolean(ld->L, -1);
	return true;
}

/* A string of f->min..f->max bytes, into the arena. */
static const char *read_string(struct loader *ld, const char *label, const struct conf_loc *loc,
			       const struct check_def *f)
{
	size_t len;
	const char *s = conf_string(ld, label, loc->line, (size_t)f->min, (size_t)f->max, false, &len);
	return s ? arena_memdup(&ld->c->arena, s, len + 1) : NULL;
}

static bool read_text(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	const char *s = read_string(ld, label, loc, f);
	*(const char **)check_at(v, f) = s;
	return s != NULL;
}

/* An HTTP request path: it goes into the request line as it is. */
static bool read_path(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	const char *s = read_string(ld, label, loc, f);
	if (!s)
		return false;
	if (s[0] != '/') {
		conf_error(ld, loc->line, "%s: expected a path starting with \"/\", got \"%.64s\"", label, s);
		return false;
	}
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			conf_error(ld, loc->line,
				   "%s: \"%.64s\": spaces and control characters must be "
				   "percent-encoded",
				   label, s);
			return false;
		}
	}
	v->path = s;
	return true;
}

/* A host name for the Host header and SNI: letters, digits and '-' in dot-separated labels. */
static bool read_host(struct loader *ld, const char *label, const struct conf_loc *loc,
		      const struct check_def *f, struct conf_check *v)
{
	char why[64];
	const char *s = read_string(ld, label, loc, f);
	if (!s)
		return false;
	size_t len = strlen(s);
	bool ok = conf_domain_check(s, len, why, sizeof(why)) && strcmp(s, ".") != 0;
	for (size_t i = 0; ok && i < len; i++)
		ok = s[i] != '_' && s[i] != '/';
	if (!ok) {
		conf_error(ld, loc->line,
			   "%s: expected a host name (letters, digits, '-' and dots), got \"%.64s\"", label,
			   s);
		return false;
	}
	v->host = s;
	return true;
}

/* One status code of an expect list (on top); false when invalid or repeated (reported). */
static bool expect_one(struct loader *ld, const char *label, unsigned line, const struct check_def *f,
		       struct conf_check *v)
{
	int64_t n;
	if (!conf_int(ld, label, line, (int64_t)f->min, (int64_t)f->max, &n))
		return false;
	for (size_t j = 0; j < v->expect_count; j++) {
		if (v->expect[j] == n) {
			conf_error(ld, line, "%s: %lld is already in this list", label, (long long)n);
			return false;
		}
	}
	v->expect[v->expect_count++] = (uint16_t)n;
	return true;
}

static bool read_expect(struct loader *ld, const char *label, const struct conf_loc *loc,
			const struct check_def *f, struct conf_check *v)
{
	char ilabel[240];
	struct conf_items items;
	lua_Integer n = conf_list(ld, label, loc->line, "a list of HTTP status codes");
	if (n == 0)
		conf_error(ld, loc->line, "%s: expected at least one status code", label);
	else if (n > CONF_CHECK_EXPECT_MAX)
		conf_error(ld, loc->line, "%s: expected at most %d status codes, got %lld", label,
			   CONF_CHECK_EXPECT_MAX, (long long)n);
	if (n <= 0 || n > CONF_CHECK_EXPECT_MAX)
		return false;
	bool ok = true;
	v->expect_count = 0;
	conf_items_begin(ld, loc, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(ld->L, -1, i);
		unsigned line = conf_items_next(ld, &items).line;
		snprintf(ilabel, sizeof(ilabel), "%s[%lld]", label, (long long)i);
		ok &= expect_one(ld, ilabel, line, f, v);
		lua_pop(ld->L, 1);
	}
	return ok;
}

static bool read_qname(struct loader *ld, const char *label, const struct conf_loc *loc,
		       const struct check_def *f, struct conf_check *v)
{
	char why[64];
	size_t len;
	(void)f;
	const char *s = conf_string(ld, label, loc->line, 1, 254, false, &len);
	if (!s)
		return false;
	if (!conf_domain_check(s, len, why, sizeof(why))) {
		conf_error(ld, loc->line, "%s: \"%s\": %s", label, s, why);
		return false;
	}
	v->qname = arena_memdup(&ld->c->arena, s, len + 1);
	return true;
}

/* A type to ask for by name ("A", "SOA", "TYPE65"); not the ones a plain query cannot carry. */
static bool read_qtype(struct loader *ld, const char *label, const struct conf_loc *loc,
		       const struct check_def *f, struct conf_check *v)
{
	size_t len;
	(void)f;
	const char *s = conf_string(ld, label, loc->line, 1, 32, false, &len);
	if (!s)
		return false;
	ldns_rr_type t = ldns_get_rr_type_by_name(s);
	if (t == 0 || t == LDNS_RR_TYPE_OPT || t == LDNS_RR_TYPE_TSIG || t == LDNS_RR_TYPE_TKEY ||
	    t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR) {
		conf_error(ld, loc->line,
			   "%s: expected a query type such as \"A\", \"AAAA\" or \"SOA\", got \"%s\"", label,
			   s);
		return false;
	}
	v->qtype = (uint16_t)t;
	return true;
}

static bool read_rcode(struct loader *ld, const char *label, const struct conf_loc *loc,
		       const struct check_def *f, struct conf_check *v)
{
	size_t len;
	(void)f;
	const char *s = conf_string(ld, label, loc->line, 1, 32, false, &len);
	if (!s)
		return false;
	for (size_t i = 0; check_rcodes[i]; i++) {
		if (strcasecmp(s, check_rcodes[i]) == 0) {
			v->rcode = (uint8_t)i;
			return true;
		}
	}
	conf_error(ld, loc->line,
		   "%s: expected \"NOERROR\", \"NXDOMAIN\", \"SERVFAIL\", \"REFUSED\", \"NOTIMP\" or "
		   "\"FORMERR\", got \"%s\"",
		   label, s);
	return false;
}

/* Reads the check table on top (written at t) into s. */
static void check_read(struct loader *ld, const char *label, const struct conf_loc *t,
		       struct conf_check_spec *s)
{
	char flabel[224];
	s->line = t->line;
	conf_check_fields(ld, label, check_names, t);
	for (unsigned f = 0; f < CF_COUNT; f++) {
		struct conf_loc loc = conf_push_field(ld, t, check_names[f]);
		if (!lua_isnil(ld->L, -1)) {
			snprintf(flabel, sizeof(flabel), "%s.%s", label, check_names[f]);
			s->lines[f] = loc.line;
			bool ok = check_defs[f].read(ld, flabel, &loc, &check_defs[f], &s->v);
			s->given |= ok ? BIT(f) : 0;
			s->bad |= ok ? 0 : BIT(f);
		}
		lua_pop(ld->L, 1);
	}
}

/* The member's override mine over the pool's spec (NULL when the pool has no check). */
static void check_merge(struct conf_check_spec *out, const struct conf_check_spec *pool,
			const struct conf_check_spec *mine)
{
	*out = pool ? *pool : (struct conf_check_spec){.line = 0};
	out->line = mine->line;
	out->mine = mine->given | mine->bad;
	for (unsigned f = 0; f < CF_COUNT; f++) {
		if (!(out->mine & BIT(f)))
			continue;
		const struct check_def *d = &check_defs[f];
		memcpy((char *)&out->v + d->off, (const char *)&mine->v + d->off, d->size);
		out->lines[f] = mine->lines[f];
	}
	if (out->mine & BIT(CF_EXPECT))
		out->v.expect_count = mine->v.expect_count;
	out->given = (out->given & ~out->mine) | mine->given;
	out->bad = (out->bad & ~out->mine) | mine->bad;
}

/* Whether a problem among fields is this spec's to report: always for a pool's check (merged false);
 * for a member's merged check only when its override wrote one of them (the pool reported the rest). */
static bool check_ours(const struct conf_check_spec *s, bool merged, unsigned fields)
{
	return !merged || (s->mine & fields);
}

/* Fields written that the check's type does not use. */
static bool check_applies(struct loader *ld, const char *label, const struct conf_check_spec *s, bool merged)
{
	const char *type = check_types[s->v.type], *a = check_article(s->v.type);
	bool ok = true;
	for (unsigned f = CF_TYPE + 1; f < CF_COUNT; f++) {
		if (!((s->given | s->bad) & BIT(f)) || (check_defs[f].types & (1u << s->v.type)))
			continue;
		ok = false;
		if (!check_ours(s, merged, BIT(f) | BIT(CF_TYPE)))
			continue;
		if (!merged || (s->mine & BIT(f)))
			conf_error(ld, s->lines[f], "%s.%s: not used by %s %s check", label, check_names[f],
				   a, type);
		else
			conf_error(
			    ld, s->lines[CF_TYPE],
			    "%s.type: %s %s check does not use %s (set by the pool's check at line %u)",
			    label, a, type, check_names[f], s->lines[f]);
	}
	return ok;
}

/* The timeout when none is written: 2 seconds, but half the interval when only a short interval (2 s
 * or less) is written, so `interval = 0.1` alone is a valid check. */
static double check_default_timeout(const struct conf_check_spec *s)
{
	if ((s->given & BIT(CF_INTERVAL)) && s->v.interval <= 2)
		return s->v.interval / 2;
	return 2;
}

static double check_interval(const struct conf_check_spec *s)
{
	return s->given & BIT(CF_INTERVAL) ? s->v.interval : 5;
}

/* timeout below interval, each written or by default. */
static bool check_timing(struct loader *ld, const char *label, const struct conf_check_spec *s, bool merged)
{
	unsigned both = BIT(CF_INTERVAL) | BIT(CF_TIMEOUT);
	if ((s->bad & both) || !(s->given & BIT(CF_TIMEOUT)))
		return true; /* an unwritten timeout defaults below the interval */
	double interval = check_interval(s);
	if (s->v.timeout < interval)
		return true;
	if (!check_ours(s, merged, both))
		return false;
	if (!merged || (s->mine & BIT(CF_TIMEOUT)))
		conf_error(ld, s->lines[CF_TIMEOUT], "%s.timeout: expected less than interval (%g%s), got %g",
			   label, interval, s->given & BIT(CF_INTERVAL) ? "" : ", the default", s->v.timeout);
	else
		conf_error(
		    ld, s->lines[CF_INTERVAL],
		    "%s.interval: expected more than timeout (%g, set by the pool's check at line %u), "
		    "got %g",
		    label, s->v.timeout, s->lines[CF_TIMEOUT], interval);
	return false;
}

/* The type is known and the fields fit it. no_type: what to say when type is missing. */
static bool check_judge(struct loader *ld, const char *label, const struct conf_check_spec *s, bool merged,
			const char *no_type)
{
	if (!(s->given & BIT(CF_TYPE))) {
		if (!(s->bad & BIT(CF_TYPE)))
			conf_error(ld, s->line, "%s.type: missing (%s)", label, no_type);
		return false;
	}
	bool ok = check_applies(ld, label, s, merged);
	return check_timing(ld, label, s, merged) && ok;
}

/* What the type needs to probe anything: tcp a port, exec a command (and a port when it says {port}). */
static bool check_required(struct loader *ld, const char *label, const struct conf_check_spec *s)
{
	enum conf_check_type t = s->v.type;
	if (t == CONF_CHECK_TCP && !((s->given | s->bad) & BIT(CF_PORT)))
		conf_error(ld, s->line, "%s: a tcp check needs port", label);
	else if (t == CONF_CHECK_EXEC && !((s->given | s->bad) & BIT(CF_COMMAND)))
		conf_error(ld, s->line, "%s: an exec check needs command", label);
	else if (t == CONF_CHECK_EXEC && (s->given & BIT(CF_COMMAND)) && strstr(s->v.command, "{port}") &&
		 !((s->given | s->bad) & BIT(CF_PORT)))
		conf_error(ld, s->lines[CF_COMMAND], "%s.command: says {port}, but the check has no port",
			   label);
	else
		return true;
	return false;
}

/* The check with every default applied, in the arena. Fields the type does not use stay zero. */
static const struct conf_check *check_build(struct loader *ld, const struct conf_check_spec *s)
{
	static const uint16_t ports[] = {
	    [CONF_CHECK_HTTP] = 80, [CONF_CHECK_HTTPS] = 443, [CONF_CHECK_DNS] = 53, [CONF_CHECK_EXEC] = 0};
	struct conf_check *c = arena_alloc(&ld->c->arena, sizeof(*c));
	unsigned g = s->given, t = 1u << s->v.type;
	*c = s->v;
	c->port = g & BIT(CF_PORT) ? c->port : ports[c->type];
	c->path = (t & T_WEB) && !(g & BIT(CF_PATH)) ? "/" : c->path;
	if ((t & T_WEB) && !(g & BIT(CF_EXPECT))) {
		c->expect[0] = 200;
		c->expect_count = 1;
	}
	c->verify = g & BIT(CF_VERIFY) ? c->verify : true;
	c->qname = (t & T_DNS) && !(g & BIT(CF_QNAME)) ? "." : c->qname;
	c->qtype = (t & T_DNS) && !(g & BIT(CF_QTYPE)) ? LDNS_RR_TYPE_SOA : c->qtype;
	c->interval = check_interval(s);
	c->timeout = g & BIT(CF_TIMEOUT) ? c->timeout : check_default_timeout(s);
	c->rise = g & BIT(CF_RISE) ? c->rise : 2;
	c->fall = g & BIT(CF_FALL) ? c->fall : 3;
	c->flap_limit = g & BIT(CF_FLAP_LIMIT) ? c->flap_limit : 4;
	c->flap_window = g & BIT(CF_FLAP_WINDOW) ? c->flap_window : 60;
	c->hold = g & BIT(CF_HOLD) ? c->hold : 120;
	c->line = s->line;
	return c;
}

struct conf_check_spec *conf_pool_check(struct loader *ld, const char *plabel, const struct conf_loc *t,
					struct conf_pool *p)
{
	char label[128];
	struct conf_loc loc = conf_push_field(ld, t, "check");
	if (lua_isnil(ld->L, -1)) {
		lua_pop(ld->L, 1);
		return NULL;
	}
	snprintf(label, sizeof(label), "%s.check", plabel);
	struct conf_check_spec *s = arena_alloc(&ld->c->arena, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->label = arena_strdup(&ld->c->arena, label);
	s->line = loc.line;
	size_t errors = ld->d->errors;
	if (lua_type(ld->L, -1) == LUA_TTABLE) {
		check_read(ld, label, &loc, s);
		check_judge(ld, label, s, false, "expected " CHECK_TYPES_TEXT);
	} else {
		conf_expected(ld, loc.line, label, "a table { type = ..., ... }");
	}
	s->failed = ld->d->errors > errors;
	if (!s->failed)
		p->check = check_build(ld, s);
	lua_pop(ld->L, 1);
	return s;
}

/* A member whose check probes an address but which has none, only a CNAME target. */
static bool check_target(struct loader *ld, const char *mlabel, unsigned line, const struct conf_member *m)
{
	if (!m->check || !m->target || (m->check->type != CONF_CHECK_TCP && m->check->type != CONF_CHECK_DNS))
		return true;
	conf_error(ld, line,
		   "%s: a %s check needs an address, and this member is a CNAME target (use http, "
		   "https or exec)",
		   mlabel, check_types[m->check->type]);
	return false;
}

/* A member without a check of its own: the pool's, whose needed fields are judged on first use. */
static bool check_inherit(struct loader *ld, const char *mlabel, struct conf_check_spec *pool,
			  const struct conf_pool *p, struct conf_member *m)
{
	if (!pool || pool->failed)
		return true; /* nothing to inherit, or reported with the pool */
	if (!pool->required_judged) {
		pool->required_judged = true;
		pool->incomplete = !check_required(ld, pool->label, pool);
	}
	if (pool->incomplete)
		return true;
	m->check = p->check;
	return check_target(ld, mlabel, m->line, m);
}

/* A member's override (the table on top, written at loc) merged over the pool's check. */
static bool check_override(struct loader *ld, const char *mlabel, const struct conf_loc *loc,
			   const struct conf_check_spec *pool, struct conf_member *m)
{
	char label[224];
	struct conf_check_spec mine = {.line = 0}, merged;
	snprintf(label, sizeof(label), "%s.check", mlabel);
	size_t errors = ld->d->errors;
	check_read(ld, label, loc, &mine);
	if (pool && pool->failed) /* reported with the pool: only the override's own fields are judged */
		return ld->d->errors == errors;
	check_merge(&merged, pool, &mine);
	if (!check_judge(ld, label, &merged, true,
			 "a member's check needs a type when its pool has no check") ||
	    !check_required(ld, label, &merged) || ld->d->errors > errors)
		return false;
	m->check = check_build(ld, &merged);
	return check_target(ld, mlabel, merged.mine & BIT(CF_TYPE) ? merged.lines[CF_TYPE] : loc->line, m);
}

bool conf_member_check(struct loader *ld, const char *mlabel, const struct conf_loc *t,
		       struct conf_check_spec *pool, const struct conf_pool *p, struct conf_member *m)
{
	char label[224];
	struct conf_loc loc = conf_push_field(ld, t, "check");
	int type = lua_type(ld->L, -1);
	bool ok = true;
	m->check = NULL;
	if (type == LUA_TNIL) {
		ok = check_inherit(ld, mlabel, pool, p, m);
	} else if (type == LUA_TTABLE) {
		ok = check_override(ld, mlabel, &loc, pool, m);
	} else if (type != LUA_TBOOLEAN || lua_toboolean(ld->L, -1)) {
		snprintf(label, sizeof(label), "%s.check", mlabel);
		conf_expected(ld, loc.line, label, "a table of check fields, or false (not monitored)");
		ok = false;
	}
	lua_pop(ld->L, 1);
	return ok;
}
