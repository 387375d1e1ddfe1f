/* reader.c -- a master file one ldns call at a time, without ldns's character-by-character stdio loop.
 *
 * ldns_rr_new_frm_fp_l reads a master file one "call" at a time: it takes one line token with
 * ldns_fget_token_l_st (LDNS_PARSE_SKIP_SPACE: up to a newline outside parentheses; comments and
 * parentheses dropped, a newline inside them read as a blank, '\r' read as a blank), then skips the
 * \f \n \r \v that follow. Every call starts afresh: nothing but the loader's state (origin,
 * default TTL, previous owner, line counter) links it to the ones before. A line token that does not
 * start with '$' then goes, its trailing blanks stripped (ldns_strip_ws), to ldns_rr_new_frm_str.
 *
 * The tokenizer below is ldns 1.8.3's, character for character, in a loop over a buffer with the
 * common characters taken in runs. Feeding its tokens to ldns_rr_new_frm_str gives exactly what
 * ldns_rr_new_frm_fp_l gives, about a third faster; test_zone.c checks both against ldns on random
 * text. It also tells where calls start, which is where split.c may cut a file. A call that ldns
 * would end inside (a stray ')', a NUL) is flagged "odd": callers hand it to ldns itself. */
#include "build.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZB_WINDOW (1u << 20)

/* ldns mallocs and frees three 64 KiB buffers for every record it parses. With glibc's initial
 * thresholds each free shrinks the heap (brk, or madvise in a thread's arena) and the next record
 * grows it again and faults the pages back in: for 1M records, 19,000 brk calls and 7,600 page
 * faults, 2-3% of the load. glibc stops as soon as it frees a block it had mmapped: its sliding
 * threshold (mallopt(3), M_MMAP_THRESHOLD) then keeps up to twice that block at the top of every
 * heap. A window is such a block; freeing one before the first record makes that happen now rather
 * than whenever the process first frees a big block. Unlike mallopt(M_TRIM_THRESHOLD, ...), which
 * would fix the value for the whole process and turn the sliding threshold off, this only moves
 * glibc's own policy ahead; once done it stays done, so once per process is enough. */
static void zb_settle_malloc(void)
{
	void *volatile block = malloc(ZB_WINDOW);
	free(block);
}

/* Characters that only get appended to the token (outside comments). */
static bool zb_plain[256];

static void zb_plain_init(void)
{
	for (int c = 0; c < 256; c++)
		zb_plain[c] = c != 0 && !strchr("\r\n\f\v();\"\\", c);
}

struct zb_tok {
	int p;	   /* parenthesis depth */
	int prev;  /* the previous character; 0 after an escaped backslash */
	int first; /* the token's first character, -1 while it is empty */
	bool com, quoted, any;
	bool odd;
	int newlines;
	size_t out; /* token length */
};

static bool zb_skip_char(int c)
{
	return c == '\f' || c == '\n' || c == '\r' || c == '\v';
}

/* One character outside the runs, as ldns_fget_token_l_st takes it. Returns whether the token ended. */
static bool zb_tok_step(struct zb_tok *t, int c, char *out)
{
	if (c == '\r')
		c = ' ';
	if ((c == '(' || c == ')') && t->prev != '\\' && !t->quoted) {
		if (!t->com)
			t->p += c == '(' ? 1 : -1;
		t->prev = c;
		return false;
	}
	if (t->p < 0 || c == '\0') {
		t->odd = true; /* ldns ends the call here (or reads NUL as a delimiter) */
		return true;
	}
	if (c == ';' && !t->quoted && t->prev != '\\')
		t->com = true;
	if (c == '"' && !t->com && t->prev != '\\')
		t->quoted = !t->quoted;
	if (c == '\n' && t->com) {
		t->com = false;
		t->newlines++;
		t->prev = c;
		return t->p == 0 && t->any;
	}
	if (t->com) {
		t->prev = c;
		return false;
	}
	if (c == '\n' && t->p != 0 && t->any) {
		t->newlines++;
		if (out)
			out[t->out] = ' ';
		t->out++;
		t->prev = c;
		return false;
	}
	if ((c == '\n' || c == '\f' || c == '\v') && t->any && t->prev != '\\' && t->p == 0) {
		t->newlines += c == '\n';
		return true;
	}
	if (c != '\n') {
		if (out)
			out[t->out] = (char)c;
		t->out++;
		t->any = true;
		if (t->first < 0)
			t->first = c;
	} else {
		t->newlines++;
	}
	t->prev = c == '\\' && t->prev == '\\' ? 0 : c;
	return false;
}

/* Reads one call from s[0..n) (eof: nothing follows). Returns its length, or 0 when it may go on
 * past n. The token goes to out (room for n + 1 bytes) when not NULL. */
static size_t zb_tok_call(const unsigned char *s, size_t n, bool eof, char *out, struct zb_tok *t)
{
	size_t k = 0;
	while (k < n) {
		int c = s[k];
		if (t->com && c != '\n') { /* a comment runs to the end of the line */
			const unsigned char *nl = memchr(s + k, '\n', n - k);
			if (!nl)
				break;
			k = (size_t)(nl - s);
			continue;
		}
		if (zb_plain[c] && t->p >= 0) { /* the common case: a run of characters simply taken */
			size_t e = k + 1;
			while (e < n && zb_plain[s[e]])
				e++;
			if (out)
				memcpy(out + t->out, s + k, e - k);
			t->out += e - k;
			t->any = true;
			if (t->first < 0)
				t->first = c;
			t->prev = s[e - 1];
			k = e;
			continue;
		}
		k++;
		if (zb_tok_step(t, c, out)) {
			while (!t->odd && k < n && zb_skip_char(s[k])) {
				t->newlines += s[k] == '\n';
				k++;
			}
			return k < n || eof ? k : 0;
		}
	}
	if (!eof)
		return 0;
	t->odd |= t->p != 0; /* the input ends inside parentheses: ldns's business */
	return n;
}

static void zb_reader_init(void)
{
	zb_plain_init();
	zb_settle_malloc();
}

void zone_build_input_init(struct zb_input *in, int fd, const char *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, zb_reader_init);
	*in = (struct zb_input){.fd = fd, .last = '\n'};
	if (fd < 0) {
		in->buf = (char *)buf;
		in->len = in->cap = len;
		in->eof = true;
	}
}

void zone_build_input_free(struct zb_input *in)
{
	if (in->fd >= 0)
		free(in->buf);
	free(in->tok);
	in->buf = in->tok = NULL;
}

/* Moves the unread bytes to the front and reads more. False at the end of input or on an error. */
static bool zb_input_fill(struct zb_input *in)
{
	if (in->eof || in->fd < 0)
		return false;
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	if (in->len == in->cap) {
		in->cap = in->cap ? in->cap * 2 : ZB_WINDOW;
		in->buf = realloc(in->buf, in->cap);
		if (!in->buf)
			abort();
	}
	ssize_t n;
	do
		n = read(in->fd, in->buf + in->len, in->cap - in->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		in->failed = true;
		in->eof = true;
		return false;
	}
	in->len += (size_t)n;
	in->eof = n == 0;
	return true;
}

void zone_build_input_rest(struct zb_input *in)
{
	size_t pos = in->pos;
	in->pos = 0; /* keep what was read: the caller points into it */
	while (zb_input_fill(in))
		;
	in->pos = pos;
}

/* Whether the line holding the call's last character ends inside the buffer, so that the lines a
 * message quotes (see zone_build_call_line) can be read there. */
static bool zb_line_in_buffer(const struct zb_input *in, size_t end)
{
	return in->eof || memchr(in->buf + end - 1, '\n', in->len - end + 1);
}

bool zone_build_input_next(struct zb_input *in, struct zb_call *c, bool token)
{
	for (;;) {
		size_t n = in->len - in->pos, k = 0;
		struct zb_tok t = {.first = -1};
		if (n > 0) {
			if (token && in->tok_cap < n + 1) {
				in->tok_cap = n + 1 > ZB_WINDOW ? n + 1 : ZB_WINDOW;
				free(in->tok);
				in->tok = malloc(in->tok_cap);
				if (!in->tok)
					abort();
			}
			k = zb_tok_call((const unsigned char *)in->buf + in->pos, n, in->eof,
					token ? in->tok : NULL, &t);
		}
		if (k > 0 && zb_line_in_buffer(in, in->pos + k)) {
			if (token)
				in->tok[t.out] = '\0';
			*c = (struct zb_call){.text = in->buf + in->pos,
					      .len = k,
					      .avail = n,
					      .offset = in->offset,
					      .token = token ? in->tok : NULL,
					      .first = t.first,
					      .newlines = t.newlines,
					      .line_start = in->last == '\n',
					      .at_end = in->eof && k == n,
					      .odd = t.odd};
			in->last = (unsigned char)in->buf[in->pos + k - 1];
			in->pos += k;
			in->offset += (off_t)k;
			return true;
		}
		if (!zb_input_fill(in))
			return false;
	}
}

char *zone_build_strip(char *line)
{
	char *s = line, *e;
	while (*s && isspace((unsigned char)*s))
		s++;
	for (e = strchr(s, 0); e > s + 2 && isspace((unsigned char)e[-1]) && e[-2] != '\\'; e--)
		;
	*e = '\0';
	return s;
}

unsigned long zone_build_call_line(const struct zb_call *c, int before, char *text, size_t size)
{
	/* As the loader always did with what ldns consumed: the first line with something before any
	 * ';' is the call's line, the blank and comment lines before it are skipped. */
	const char *p = c->text, *end = c->text + c->avail;
	unsigned skipped = 0;
	for (;;) {
		size_t n = 0;
		bool content = false, comment = false;
		for (; p < end && *p != '\n'; p++) {
			if (!content && !comment && *p == ';')
				comment = true;
			else if (!content && !comment && !isspace((unsigned char)*p))
				content = true;
			if (text && n + 1 < size)
				text[n++] = *p;
		}
		if (text)
			text[n] = '\0';
		if (content || p == end)
			break;
		p++;
		skipped++;
	}
	return (unsigned long)before + 1 + skipped;
}
