/* conf_sandbox.h -- a Lua 5.4 state for running untrusted-ish chunks as data (config, later policies).
 *
 * The state holds only the string, table and math libraries and the safe base functions (assert, error,
 * ipairs, next, pairs, select, tonumber, tostring, type, pcall, rawequal, rawget, rawlen, rawset,
 * getmetatable, setmetatable): no io, os, debug, require, load, dofile, collectgarbage, print,
 * string.dump. Chunks load as text only. While Lua code runs, an instruction budget and a memory cap
 * apply; hitting either is fatal to the run even when the chunk catches the error with pcall.
 * setmetatable refuses __gc (finalizers run with hooks off, so they would escape the budget).
 *
 * A chunk runs with an environment of its own: every global it assigns goes into the globals table
 * (read it with conf_sandbox_push_globals, using raw access only) and the line of the last assignment
 * of each named global is recorded. Errors are reported as "file:line: message" with the file as
 * given, never doubled with Lua's own chunkname prefix.
 *
 * Not covered: a C library function cannot be interrupted, so a pathological string pattern
 * (string.find/match/gsub) can still burn CPU time beyond the budget. */
#ifndef MERIDIAN_CONF_SANDBOX_H
#define MERIDIAN_CONF_SANDBOX_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/diag.h"

#define CONF_SANDBOX_MEMORY	  ((size_t)16 << 20) /* default memory cap, bytes */
#define CONF_SANDBOX_INSTRUCTIONS 10000000u	     /* default instruction budget per run */

struct conf_sandbox_limits {
	size_t memory;	       /* bytes the state may hold while Lua code runs */
	uint64_t instructions; /* VM instructions per run (approximate to 1000) */
};

/* Source text kept for locating nested values (Lua tables carry no line information). */
struct conf_source {
	const char *text;
	size_t len;
	const size_t *line_starts; /* offset of the first byte of each line */
	size_t lines;
};

#define CONF_SOURCE_NONE ((size_t)-1)

struct conf_sandbox;

/* NULL limits: the defaults. Returns NULL when out of memory. */
struct conf_sandbox *conf_sandbox_new(const struct conf_sandbox_limits *limits);
void conf_sandbox_free(struct conf_sandbox *sb);
lua_State *conf_sandbox_lua(struct conf_sandbox *sb);

/* Reads path and runs it (text only) under the limits; false with the problem in d. */
bool conf_sandbox_run_file(struct conf_sandbox *sb, const char *path, struct diag *d);
/* Runs text as a chunk named file (used in messages). The sandbox keeps its own copy of the text. */
bool conf_sandbox_run_string(struct conf_sandbox *sb, const char *file, const char *text, size_t len,
			     struct diag *d);
/* Calls the function below nargs arguments on the stack under a fresh budget, like lua_pcall; on
 * error pops it and reports "file:line: message" in d. */
bool conf_sandbox_pcall(struct conf_sandbox *sb, const char *file, int nargs, int nresults, struct diag *d);

/* Pushes the table of globals assigned by the chunks run so far (name -> value). */
void conf_sandbox_push_globals(struct conf_sandbox *sb);
/* Where the last assignment of global name starts in the last chunk's text: its line (0 when
 * unknown) and, in *pos, its byte offset (the start of that line when the statement is not found). */
unsigned conf_sandbox_global_line(struct conf_sandbox *sb, const char *name, size_t *pos);
/* The text of the last chunk run. */
const struct conf_source *conf_sandbox_source(const struct conf_sandbox *sb);

/* Locating values in source text (locate.c); a heuristic, see there. */
unsigned conf_source_line(const struct conf_source *s, size_t pos);
size_t conf_source_line_start(const struct conf_source *s, unsigned line);
/* Offset of the statement `name = ...` whose last token is on line (the line Lua records). */
size_t conf_source_assignment(const struct conf_source *s, unsigned line, const char *name);
/* First offset >= from of `key = "value"` (key NULL: the quoted value alone; value NULL: `key =`
 * alone), or CONF_SOURCE_NONE. */
size_t conf_source_find(const struct conf_source *s, size_t from, const char *key, const char *value,
			size_t value_len);

#endif
