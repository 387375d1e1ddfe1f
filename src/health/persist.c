/* persist.c -- health: the state file (observed and forced states, generation) saved atomically.
 *
 * A line-based text file, readable and diffable by operators:
 *
 *   meridian-health 1
 *   generation 7
 *   member pool=web name=ams-1 up=0 result=1 ok=0 streak=3 since=1716200000.25 ...
 *       ... reason="HTTP 502" forced=drain forced_since=... drain_until=...
 *   end 1
 *
 * One `member` line per member with every field of struct health_state as key=value (all keys
 * required, each once, any order). A value is written bare when it is made of [A-Za-z0-9_.:+-] and
 * quoted otherwise, with \" \\ and \xHH escapes inside the quotes (reasons are free text). Times are
 * written with the fewest digits that read back to the same double. flaps is a comma-separated
 * list of times, "-" when empty. The `end` line carries the member count, so a truncated copy is
 * refused rather than half-restored.
 *
 * Saving writes PATH.tmp.PID in the same folder, fsyncs it, renames it over PATH and fsyncs the
 * folder, so a crash leaves the old file or the new one, never a mix. Loading parses everything
 * into a temporary list first and restores only when the whole file is well-formed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meridian/health.h"

#define HEADER "meridian-health 1"

/* ---- writing ---- */

static bool bare_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '.' || c == ':' || c == '+' || c == '-';
}

static void put_string(FILE *f, const char *key, const char *v)
{
	bool bare = *v != 0 && *v != '-';
	for (const char *c = v; *c && bare; c++)
		bare = bare_char((unsigned char)*c);
	fprintf(f, " %s=", key);
	if (bare) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* The shortest of %.15g / %.17g that reads back exactly. */
static void put_double(FILE *f, double v)
{
	char buf[40];
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, f);
}

static void put_time(FILE *f, const char *key, double v)
{
	fprintf(f, " %s=", key);
	put_double(f, v);
}

static void put_member(FILE *f, const struct health_entry *e)
{
	const struct health_state *s = e->state;
	fputs("member", f);
	put_string(f, "pool", e->pool);
	put_string(f, "name", e->member);
	fprintf(f, " up=%d result=%d ok=%d streak=%u", s->up, s->has_result, s->last_ok, s->streak);
	put_time(f, "since", s->since);
	put_time(f, "fail_since", s->fail_since);
	put_time(f, "last_time", s->last_time);
	put_time(f, "held_until", s->held_until);
	fputs(" flaps=", f);
	if (s->flap_count == 0)
		fputc('-', f);
	for (unsigned i = 0; i < s->flap_count && i < HEALTH_FLAPS_MAX; i++) {
		if (i)
			fputc(',', f);
		put_double(f, s->flaps[i]);
	}
	put_string(f, "reason", s->reason);
	fprintf(f, " forced=%s", health_forced_name(s->forced));
	put_time(f, "forced_since", s->forced_since);
	put_time(f, "drain_until", s->drain_until);
	fputc('\n', f);
}

/* fsync of the folder makes the rename itself durable. */
static bool sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	int saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

static bool write_all(FILE *f, uint64_t generation, const struct health_entry *e, size_t n)
{
	fprintf(f, HEADER "\ngeneration %llu\n", (unsigned long long)generation);
	for (size_t i = 0; i < n; i++)
		put_member(f, &e[i]);
	fprintf(f, "end %zu\n", n);
	return fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
}

bool health_save(const char *path, uint64_t generation, const struct health_entry *e, size_t n,
		 struct diag *d)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		diag_error(d, path, 0, "path too long");
		return false;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		diag_error(d, tmp, 0, "cannot create: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return false;
	}
	bool ok = write_all(f, generation, e, n);
	int saved = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp, path) != 0) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		diag_error(d, path, 0, "cannot save the health state: %s", strerror(saved));
		unlink(tmp);
		return false;
	}
	if (!sync_dir(path)) {
		diag_error(d, path, 0, "cannot sync its folder: %s", strerror(errno));
		return false;
	}
	return true;
}

/* ---- reading ---- */

/* One parsed member line, kept until the whole file has proven well-formed. */
struct saved {
	char *pool, *member;
	unsigned line;
	struct health_state st;
};

struct reader {
	const char *path;
	unsigned line;
	struct diag *d;
	struct saved *v;
	size_t n, cap;
};

#define FAIL(r, ...)                                                                                         \
	do {                                                                                                 \
		diag_error((r)->d, (r)->path, (r)->line, __VA_ARGS__);                                       \
		return false;                                                                                \
	} while (0)

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the quoted value at *p (just past the opening quote) in place; *p ends past the closing
 * quote. Returns NULL when the quotes or escapes are broken. */
static char *unquote(char **p)
{
	char *in = *p, *out = *p, *start = *p;
	for (; *in && *in != '"'; in++) {
		if (*in != '\\') {
			*out++ = *in;
			continue;
		}
		in++;
		if (*in == '"' || *in == '\\') {
			*out++ = *in;
		} else if (*in == 'x' && hex(in[1]) >= 0 && hex(in[2]) >= 0) {
			int c = hex(in[1]) << 4 | hex(in[2]);
			if (c == 0)
				return NULL;
			*out++ = (char)c;
			in += 2;
		} else {
			return NULL;
		}
	}
	if (*in != '"')
		return NULL;
	*out = 0;
	*p = in + 1;
	return start;
}

/* Splits "k=v k=\"v\" ..." in place into keys and values. Returns the pair count, -1 when broken. */
static int split_pairs(char *p, char **keys, char **vals, int max)
{
	int n = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		keys[n] = p;
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		if (p == keys[n] || *p != '=')
			return -1;
		*p++ = 0;
		if (*p == '"') {
			p++;
			if (!(vals[n] = unquote(&p)))
				return -1;
		} else {
			vals[n] = p;
			while (*p && *p != ' ')
				p++;
		}
		if (*p && *p != ' ')
			return -1;
		if (*p)
			*p++ = 0;
		n++;
	}
}

enum ftype { T_POOL, T_MEMBER, T_BOOL, T_UINT, T_TIME, T_FLAPS, T_REASON, T_FORCED };

struct field {
	const char *key;
	enum ftype type;
	size_t off; /* into struct health_state */
};

#define STATE(f) offsetof(struct health_state, f)
static const struct field fields[] = {
    {"pool", T_POOL, 0},
    {"name", T_MEMBER, 0},
    {"up", T_BOOL, STATE(up)},
    {"result", T_BOOL, STATE(has_result)},
    {"ok", T_BOOL, STATE(last_ok)},
    {"streak", T_UINT, STATE(streak)},
    {"since", T_TIME, STATE(since)},
    {"fail_since", T_TIME, STATE(fail_since)},
    {"last_time", T_TIME, STATE(last_time)},
    {"held_until", T_TIME, STATE(held_until)},
    {"flaps", T_FLAPS, 0},
    {"reason", T_REASON, 0},
    {"forced", T_FORCED, STATE(forced)},
    {"forced_since", T_TIME, STATE(forced_since)},
    {"drain_until", T_TIME, STATE(drain_until)},
};
#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

static bool parse_time(const char *v, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(v, &end);
	return *v && !*end && !errno && isfinite(*out) && *out >= 0;
}

static bool parse_flaps(const char *v, struct health_state *s)
{
	s->flap_count = 0;
	if (strcmp(v, "-") == 0)
		return true;
	for (;;) {
		char *end;
		if (s->flap_count == HEALTH_FLAPS_MAX || *v < '0' || *v > '9')
			return false;
		double t = strtod(v, &end);
		if (end == v || !isfinite(t) || (*end && *end != ','))
			return false;
		s->flaps[s->flap_count++] = t;
		if (!*end)
			return true;
		v = end + 1;
	}
}

static bool parse_uint(const char *v, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long u = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || u > UINT_MAX)
		return false;
	*out = (unsigned)u;
	return true;
}

static bool parse_field(struct reader *r, const struct field *f, const char *v, struct saved *sv)
{
	char *base = (char *)&sv->st;
	enum health_forced forced;
	switch (f->type) {
	case T_POOL:
	case T_MEMBER:
		if (!*v)
			FAIL(r, "member: %s: expected a name, got nothing", f->key);
		*(f->type == T_POOL ? &sv->pool : &sv->member) = strdup(v);
		return true;
	case T_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			FAIL(r, "member: %s: expected 0 or 1, got '%.32s'", f->key, v);
		*(bool *)(base + f->off) = v[0] == '1';
		return true;
	case T_UINT:
		if (!parse_uint(v, (unsigned *)(base + f->off)))
			FAIL(r, "member: %s: expected a count, got '%.32s'", f->key, v);
		return true;
	case T_TIME:
		if (!parse_time(v, (double *)(base + f->off)))
			FAIL(r, "member: %s: expected a time in seconds, got '%.32s'", f->key, v);
		return true;
	case T_FLAPS:
		if (!parse_flaps(v, &sv->st))
			FAIL(r, "member: flaps: expected '-' or up to %d comma-separated times, got '%.32s'",
			     HEALTH_FLAPS_MAX, v);
		return true;
	case T_REASON:
		snprintf(sv->st.reason, sizeof(sv->st.reason), "%s", v);
		return true;
	case T_FORCED:
		if (!health_forced_parse(v, &forced))
			FAIL(r, "member: forced: expected auto, up, down or drain, got '%.32s'", v);
		sv->st.forced = forced;
		return true;
	}
	return false;
}

static bool parse_member(struct reader *r, char *rest)
{
	char *keys[FIELD_COUNT + 1], *vals[FIELD_COUNT + 1];
	bool seen[FIELD_COUNT] = {false};
	int n = split_pairs(rest, keys, vals, FIELD_COUNT + 1);
	if (n < 0)
		FAIL(r, "member: expected key=value pairs (quoted values in \"...\")");
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v)
			abort();
	}
	struct saved *sv = &r->v[r->n++];
	memset(sv, 0, sizeof(*sv));
	sv->line = r->line;
	for (int i = 0; i < n; i++) {
		size_t k = 0;
		while (k < FIELD_COUNT && strcmp(fields[k].key, keys[i]) != 0)
			k++;
		if (k == FIELD_COUNT)
			FAIL(r, "member: unknown key '%.32s'", keys[i]);
		if (seen[k])
			FAIL(r, "member: key '%s' given twice", keys[i]);
		seen[k] = true;
		if (!parse_field(r, &fields[k], vals[i], sv))
			return false;
	}
	for (size_t k = 0; k < FIELD_COUNT; k++)
		if (!seen[k])
			FAIL(r, "member: missing key '%s'", fields[k].key);
	return true;
}

static bool parse_count(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long u = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno)
		return false;
	*out = u;
	return true;
}

/* Reads every line; *generation is set only when the whole file is well-formed. */
static bool parse_file(struct reader *r, FILE *f, uint64_t *generation)
{
	char *buf = NULL;
	size_t size = 0;
	ssize_t len;
	bool have_gen = false, ended = false, ok = true;
	uint64_t gen = 0, count;
	while (ok && (len = getline(&buf, &size, f)) >= 0) {
		r->line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = 0;
		if ((size_t)len != strlen(buf)) {
			diag_error(r->d, r->path, r->line, "a NUL byte in the line");
			ok = false;
		} else if (r->line == 1) {
			if (strcmp(buf, HEADER) != 0) {
				diag_error(r->d, r->path, r->line, "expected '" HEADER "', got '%.40s'", buf);
				ok = false;
			}
		} else if (ended) {
			diag_error(r->d, r->path, r->line, "text after the 'end' line");
			ok = false;
		} else if (strncmp(buf, "generation ", 11) == 0) {
			if (have_gen || !parse_count(buf + 11, &gen)) {
				diag_error(r->d, r->path, r->line,
					   have_gen ? "a second generation line"
						    : "generation: expected a number");
				ok = false;
			}
			have_gen = true;
		} else if (strncmp(buf, "member ", 7) == 0) {
			ok = parse_member(r, buf + 7);
		} else if (strncmp(buf, "end ", 4) == 0) {
			ended = true;
			if (!parse_count(buf + 4, &count) || count != r->n) {
				diag_error(r->d, r->path, r->line,
					   "end: expected the member count %zu, got '%.20s'", r->n, buf + 4);
				ok = false;
			}
		} else {
			diag_error(r->d, r->path, r->line,
				   "expected 'generation', 'member' or 'end', got '%.40s'", buf);
			ok = false;
		}
	}
	free(buf);
	if (ok && ferror(f)) {
		diag_error(r->d, r->path, 0, "cannot read: %s", strerror(errno));
		ok = false;
	}
	if (ok && (!ended || !have_gen)) {
		diag_error(r->d, r->path, r->line, "truncated: %s",
			   !have_gen ? "no 'generation' line" : "no 'end' line");
		ok = false;
	}
	if (ok)
		*generation = gen;
	return ok;
}

static int saved_cmp(const void *a, const void *b)
{
	const struct saved *x = a, *y = b;
	int c = strcmp(x->pool, y->pool);
	return c ? c : strcmp(x->member, y->member);
}

/* Finds duplicates, then copies each saved state into the entry of the same pool and member. */
static bool restore(struct reader *r, struct health_entry *e, size_t n)
{
	if (r->n == 0) /* a server without members saved an empty state: nothing to restore */
		return true;
	qsort(r->v, r->n, sizeof(*r->v), saved_cmp);
	for (size_t i = 1; i < r->n; i++)
		if (saved_cmp(&r->v[i - 1], &r->v[i]) == 0) {
			unsigned line = r->v[i].line > r->v[i - 1].line ? r->v[i].line : r->v[i - 1].line;
			diag_error(r->d, r->path, line, "member %s/%s saved twice", r->v[i].pool,
				   r->v[i].member);
			return false;
		}
	for (size_t i = 0; i < n; i++) {
		struct saved key = {.pool = (char *)e[i].pool, .member = (char *)e[i].member};
		struct saved *sv = bsearch(&key, r->v, r->n, sizeof(*r->v), saved_cmp);
		if (sv)
			*e[i].state = sv->st;
	}
	return true;
}

bool health_load(const char *path, uint64_t *generation, struct health_entry *e, size_t n, struct diag *d)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return true;
		diag_error(d, path, 0, "cannot open: %s", strerror(errno));
		return false;
	}
	struct reader r = {.path = path, .d = d};
	uint64_t gen = 0;
	bool ok = parse_file(&r, f, &gen) && restore(&r, e, n);
	fclose(f);
	if (ok)
		*generation = gen;
	for (size_t i = 0; i < r.n; i++) {
		free(r.v[i].pool);
		free(r.v[i].member);
	}
	free(r.v);
	return ok;
}
