/* schema.h -- private to src/conf: the loader state and the checkers shared by the schema's files.
 *
 * conf.c holds the table of top-level keys and the checkers for plain values; walk.c finds where
 * nested values were written and reads keyed tables in source order; regions.c, pools.c and
 * records.c parse the geo routing keys; checks.c the health checks of pools and members. */
#ifndef MERIDIAN_CONF_SCHEMA_H
#define MERIDIAN_CONF_SCHEMA_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meridian/conf.h"
#include "meridian/conf_sandbox.h"

struct loader {
	struct conf *c;
	struct diag *d;
	lua_State *L;
	const struct conf_source *src;
	/* A section whose value was unusable as a whole (not a table, keys that are not names): names
	 * that refer into it are not reported again as dangling. */
	bool regions_failed, datacenters_failed, pools_failed;
	unsigned regions_line; /* where regions was assigned, for default_region's message */
	bool *pool_usable;     /* per pool: every member parsed, so type checks against it mean something */
	/* Where state_dir was assigned, for the message about the default control path. */
	unsigned state_dir_line;
};

/* Where a top-level value was written: the line for messages, the offset where searches start. */
struct site {
	unsigned line;
	size_t pos;
};

/* Where a nested value was written: the offset of its expression (CONF_SOURCE_NONE when it cannot be
 * found, e.g. computed at run time) and the line for messages (its key's line, else the nearest
 * enclosing value's line). */
struct conf_loc {
	size_t pos;
	unsigned line;
};

struct conf_key;
/* Parses the value on top of the stack (nil when an optional key is absent: apply the default). */
typedef void conf_parse_fn(struct loader *ld, const struct conf_key *k, const struct site *at);

struct conf_key {
	const char *name;
	conf_parse_fn *parse;
	bool required;
	unsigned phase;	  /* keys referring to other keys' names are parsed after them */
	size_t field;	  /* offsetof the field in struct conf */
	size_t len_field; /* bytes: offsetof their length */
	int64_t min, max; /* integers: the range; strings: the length in bytes */
	int64_t def;	  /* integers and booleans: the value when absent */
};

#define conf_error(ld, line, ...) diag_error((ld)->d, (ld)->c->path, (line), __VA_ARGS__)

/* conf.c: plain values. Each reports what was expected under label and returns failure. */
const char *conf_what(lua_State *L, int idx, char *buf, size_t n);
const char *conf_key_text(lua_State *L, int idx, char *buf, size_t n);
void conf_expected(struct loader *ld, unsigned line, const char *label, const char *what);
/* The known name closest to key (within 2 edits, at most half its length), or NULL; names[i] is at
 * (char *)names + i * stride. */
const char *conf_closest(const char *key, const char *const *names, size_t count, size_t stride);
bool conf_int(struct loader *ld, const char *label, unsigned line, int64_t min, int64_t max, int64_t *out);
const char *conf_string(struct loader *ld, const char *label, unsigned line, size_t min, size_t max,
			bool bytes, size_t *len);
lua_Integer conf_list(struct loader *ld, const char *label, unsigned line, const char *what);
bool conf_domain_check(const char *s, size_t len, char *why, size_t n);
const char *conf_resolve(struct conf *c, const char *file);
/* Why path cannot be read as a regular file, or NULL when it can. */
const char *conf_unreadable(const char *path);

/* locate.c: fields of a literal table constructor. */
enum conf_field_kind {
	CONF_FIELD_ITEM,  /* a positional value */
	CONF_FIELD_NAME,  /* name = value, or ["name"] = value */
	CONF_FIELD_OTHER, /* [expression] = value */
};
struct conf_source_field {
	enum conf_field_kind kind;
	const char *key; /* CONF_FIELD_NAME: the name (not NUL-terminated) */
	size_t key_len;
	size_t key_pos;	  /* where the field starts */
	size_t value_pos; /* where its value starts */
};
/* Offset of the value in the statement `name = value` starting at pos, or CONF_SOURCE_NONE. */
size_t conf_source_value(const struct conf_source *s, size_t pos, const char *name);
/* Whether a table constructor starts at pos; *it is then the cursor for conf_source_next_field. */
bool conf_source_table(const struct conf_source *s, size_t pos, size_t *it);
bool conf_source_next_field(const struct conf_source *s, size_t *it, struct conf_source_field *f);

/* walk.c: nested values. */
struct conf_loc conf_loc_top(struct loader *ld, const char *name, const struct site *at);
/* The field key of the table written at t (the last one when written twice). */
struct conf_loc conf_loc_field(struct loader *ld, const struct conf_loc *t, const char *key);
/* Positional items of the list written at list, one after the other. */
struct conf_items {
	size_t it;
	bool ok;
	unsigned line;
};
void conf_items_begin(struct loader *ld, const struct conf_loc *list, struct conf_items *items);
struct conf_loc conf_items_next(struct loader *ld, struct conf_items *items);

/* Pushes field key of the table on top (raw) and returns its location inside t. */
struct conf_loc conf_push_field(struct loader *ld, const struct conf_loc *t, const char *key);
/* Reports every key of the table on top that is not in known (NULL-ended), in line order. */
bool conf_check_fields(struct loader *ld, const char *label, const char *const *known,
		       const struct conf_loc *t);
/* A number (integer or float) on top of the stack in min..max. */
bool conf_number(struct loader *ld, const char *label, unsigned line, double min, double max, double *out);
/* Optional lat/lon fields of the table on top: both or neither. */
bool conf_lat_lon(struct loader *ld, const char *label, const struct conf_loc *t, bool *has, double *lat,
		  double *lon);
/* Whether s is a name for regions, datacenters, pools and members: 1..63 letters, digits, '_', '-'. */
bool conf_name_ok(const char *s, size_t len);
#define CONF_NAME_RULE "1..63 letters, digits, '_' or '-'"
/* A required string on top of the stack (a reference to something by name); NULL (reported) when absent
 * or not a string. */
const char *conf_required_string(struct loader *ld, const char *label, unsigned line, const char *what);
/* Index of name among names (count entries spaced stride apart), count when absent. */
size_t conf_find(const char *name, const char *const *names, size_t count, size_t stride);
/* "label: no <what> named 'name'" with a suggestion from names (count entries spaced stride apart). */
void conf_dangling(struct loader *ld, unsigned line, const char *label, const char *what, const char *name,
		   const char *const *names, size_t count, size_t stride);
/* A domain name on top of the stack as a lowercased uncompressed wire name in the arena. */
const uint8_t *conf_domain_value(struct loader *ld, const char *label, unsigned line, size_t *wire_len,
				 const char **text);

/* An entry of a table keyed by name, in the order the names were first written (computed ones last,
 * by name). */
struct conf_named {
	const char *name; /* owned by the table, which stays on the stack meanwhile */
	struct conf_loc loc;
	size_t order;
};
/* The entries of the table on top (malloc'd, NULL when empty); *failed when it is not a table keyed
 * by names (reported, as are names written twice in one constructor). */
struct conf_named *conf_keyed(struct loader *ld, const char *label, const char *what,
			      const struct conf_loc *t, size_t *count, bool *failed);

/* The index of the datacenter named by the string on top (pools.c); false (reported under label) when
 * it is missing, not a string or names no datacenter. */
bool conf_datacenter_ref(struct loader *ld, const char *label, unsigned line, unsigned *index);
/* The index of the region called name (regions.c); false (reported under label) when there is none. */
bool conf_region_ref(struct loader *ld, const char *label, unsigned line, const char *name, unsigned *index);

/* checks.c: health checks. A spec is a check as written, field by field, with where each field was. */
struct conf_check_spec;
/* The check of the pool on top (written inside t): the pool's defaults into p->check. Returns the spec
 * its members' overrides merge with, NULL when the pool has no check. */
struct conf_check_spec *conf_pool_check(struct loader *ld, const char *plabel, const struct conf_loc *t,
					struct conf_pool *p);
/* The check of the member on top (written inside t) into m->check: the pool's, the member's override
 * merged over it, or none (check = false). m's addr or target must be parsed already. */
bool conf_member_check(struct loader *ld, const char *mlabel, const struct conf_loc *t,
		       struct conf_check_spec *pool, const struct conf_pool *p, struct conf_member *m);

/* The geo routing keys. */
conf_parse_fn conf_key_geoip, conf_key_regions, conf_key_default_region, conf_key_datacenters, conf_key_pools,
    conf_key_records;
/* limits.c: rate_limit (ratelimit.h). */
conf_parse_fn conf_key_rate_limit;
/* regions.c: reports why s is not a net ("address/prefix"): malformed, or bits set beyond its prefix
 * (naming the net probably meant). */
void conf_net_error(struct loader *ld, const char *label, unsigned line, const char *s);
/* conf.c: "a.b.c.d:port" or "[v6]:port" into out; false with the reason in why. */
bool conf_parse_addr(const char *s, struct conf_listen *out, char *why, size_t n);
/* transfer.c: a zone's "transfer" nets and "notify" servers (the value on top of the stack, nil when
 * absent; written at line), into z. False when reported. */
bool conf_zone_transfer(struct loader *ld, const char *label, unsigned line, struct conf_zone *z);
bool conf_zone_notify(struct loader *ld, const char *label, unsigned line, struct conf_zone *z);
/* A zone's "ixfr" (on top of the stack, may be nil: CONF_IXFR_DEFAULT): versions kept for IXFR. */
bool conf_zone_ixfr(struct loader *ld, const char *label, unsigned line, struct conf_zone *z);
/* tsig.c: a zone's transfer_key (after its transfer list), and the tsig_keys key, parsed after the
 * zones: it resolves their transfer_keys. */
bool conf_zone_transfer_key(struct loader *ld, const char *label, unsigned line, struct conf_zone *z);
conf_parse_fn conf_key_tsig_keys;
/* transfer.c: notify_source. */
conf_parse_fn conf_key_notify_source;

#endif
