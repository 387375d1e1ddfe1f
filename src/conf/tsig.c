/* tsig.c -- the config's TSIG keys (tsig_keys, tsig.h) and a zone's transfer_key. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "meridian/file.h"
#include "schema.h"

#define TSIG_KEYS_MAX 256

#define SECRET_FILE_MAX 4096

static const char *const key_fields[] = {"name", "algorithm", "secret", "secret_file", NULL};

/* The secret_file field on top (written at line): the file's text, malloc'd (the caller wipes and
 * frees it); NULL when reported. */
static char *secret_from_file(struct loader *ld, const char *label, unsigned line)
{
	size_t len;
	const char *s = conf_string(ld, label, line, 1, 4096, false, &len);
	if (!s)
		return NULL;
	const char *path = conf_resolve(ld->c, s);
	struct diag d;
	diag_init(&d);
	char *text = file_read_all(path, SECRET_FILE_MAX, &len, &d);
	if (!text)
		conf_error(ld, line, "%s: %s", label, d.count ? d.entries[0].text : path);
	diag_free(&d);
	return text;
}

/* One entry of tsig_keys (the table on top, written at t) into k; false when reported. */
static bool key_one(struct loader *ld, const char *label, const struct conf_loc *t, struct tsig_key *k)
{
	lua_State *L = ld->L;
	char flabel[80], why[96];
	size_t wire_len, len;
	const char *name_text = NULL;
	bool ok = conf_check_fields(ld, label, key_fields, t);

	snprintf(flabel, sizeof(flabel), "%s.name", label);
	struct conf_loc name_loc = conf_push_field(ld, t, "name");
	const uint8_t *wire = conf_domain_value(ld, flabel, name_loc.line, &wire_len, &name_text);
	lua_pop(L, 1);

	enum tsig_algorithm algorithm = TSIG_HMAC_SHA256;
	snprintf(flabel, sizeof(flabel), "%s.algorithm", label);
	struct conf_loc loc = conf_push_field(ld, t, "algorithm");
	if (!lua_isnil(L, -1)) {
		const char *s = conf_string(ld, flabel, loc.line, 1, 64, false, &len);
		if (s && !tsig_algorithm_parse(s, &algorithm)) {
			conf_error(
			    ld, loc.line,
			    "%s: \"%s\" is not one of hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, "
			    "hmac-sha1, hmac-md5",
			    flabel, s);
			s = NULL;
		}
		ok &= s != NULL;
	}
	lua_pop(L, 1);

	/* the secret itself, or a file holding it (kept out of a config that is shared or versioned) */
	char file_label[80];
	snprintf(flabel, sizeof(flabel), "%s.secret", label);
	snprintf(file_label, sizeof(file_label), "%s.secret_file", label);
	struct conf_loc file_loc = conf_push_field(ld, t, "secret_file");
	bool from_file = !lua_isnil(L, -1);
	char *file_text = from_file ? secret_from_file(ld, file_label, file_loc.line) : NULL;
	lua_pop(L, 1);
	loc = conf_push_field(ld, t, "secret");
	const char *secret = NULL;
	if (!lua_isnil(L, -1) && from_file) {
		conf_error(ld, loc.line, "%s: give secret or secret_file, not both", label);
	} else if (!lua_isnil(L, -1)) {
		secret = conf_string(ld, flabel, loc.line, 1, 1024, false, &len);
	} else if (from_file) {
		secret = file_text;
		loc = file_loc;
		snprintf(flabel, sizeof(flabel), "%s", file_label);
	} else {
		conf_error(ld, loc.line,
			   "%s: missing (expected the key's secret in base64, as tsig-keygen prints it, or "
			   "secret_file)",
			   flabel);
	}
	if (ok && wire && secret &&
	    !tsig_key_init(k, name_text, wire, wire_len, algorithm, secret, why, sizeof(why))) {
		conf_error(ld, loc.line, "%s: %s", flabel, why);
		secret = NULL;
	}
	if (file_text) {
		sodium_memzero(file_text, strlen(file_text));
		free(file_text);
	}
	lua_pop(L, 1);
	k->line = name_loc.line;
	return ok && wire && secret;
}

/* Points each zone's transfer_key at its key. */
static void resolve_transfer_keys(struct loader *ld)
{
	lua_State *L = ld->L;
	struct conf *c = ld->c;
	char label[300];
	for (size_t z = 0; z < c->zone_count; z++) {
		struct conf_zone *cz = &c->zones[z];
		if (!cz->transfer_key_name)
			continue;
		snprintf(label, sizeof(label), "zone %s: transfer_key", cz->name);
		size_t wire_len;
		const char *text;
		lua_pushstring(L, cz->transfer_key_name);
		const uint8_t *wire = conf_domain_value(ld, label, cz->transfer_key_line, &wire_len, &text);
		lua_pop(L, 1);
		if (!wire)
			continue;
		for (size_t i = 0; i < c->tsig_key_count && !cz->transfer_key; i++)
			if (c->tsig_keys[i].name.len == wire_len &&
			    wire_name_same(c->tsig_keys[i].name.data, wire, wire_len))
				cz->transfer_key = &c->tsig_keys[i];
		if (!cz->transfer_key)
			conf_dangling(ld, cz->transfer_key_line, label, "TSIG key", cz->transfer_key_name,
				      c->tsig_key_count ? &c->tsig_keys[0].name_text : NULL,
				      c->tsig_key_count, sizeof(c->tsig_keys[0]));
	}
}

void conf_key_tsig_keys(struct loader *ld, const struct conf_key *k, const struct site *at)
{
	lua_State *L = ld->L;
	char label[40];
	lua_Integer n = lua_isnil(L, -1) ? 0
					 : conf_list(ld, k->name, at->line,
						     "a list of { name = ..., secret = ... } tables");
	if (n > TSIG_KEYS_MAX) {
		conf_error(ld, at->line, "%s: at most %d keys, got %lld", k->name, TSIG_KEYS_MAX,
			   (long long)n);
		n = -1;
	}
	if (n <= 0) {
		resolve_transfer_keys(ld);
		return;
	}
	struct tsig_key *keys = arena_alloc(&ld->c->arena, (size_t)(n ? n : 1) * sizeof(*keys));
	size_t count = 0;
	struct conf_loc list = conf_loc_top(ld, k->name, at);
	struct conf_items items;
	conf_items_begin(ld, &list, &items);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		struct conf_loc t = conf_items_next(ld, &items);
		snprintf(label, sizeof(label), "%s[%lld]", k->name, (long long)i);
		if (lua_type(L, -1) != LUA_TTABLE) {
			conf_expected(ld, t.line, label,
				      "a table { name = ..., algorithm = ..., secret = ... }");
		} else if (key_one(ld, label, &t, &keys[count])) {
			size_t j = 0;
			while (j < count &&
			       !(keys[j].name.len == keys[count].name.len &&
				 wire_name_same(keys[j].name.data, keys[count].name.data, keys[j].name.len)))
				j++;
			if (j < count)
				conf_error(ld, keys[count].line, "%s.name: duplicate key \"%s\" (line %u)",
					   label, keys[count].name_text, keys[j].line);
			else
				count++;
		}
		lua_pop(L, 1);
	}
	ld->c->tsig_keys = keys;
	ld->c->tsig_key_count = count;
	resolve_transfer_keys(ld);
}

bool conf_zone_transfer_key(struct loader *ld, const char *label, unsigned line, struct conf_zone *z)
{
	char flabel[64];
	size_t len;
	if (lua_isnil(ld->L, -1))
		return true;
	snprintf(flabel, sizeof(flabel), "%s.transfer_key", label);
	const char *s = conf_string(ld, flabel, line, 1, 254, false, &len);
	if (!s)
		return false;
	if (!z->transfer_count) {
		conf_error(ld, line,
			   "%s: needs a transfer list (the nets the key may transfer from; \"0.0.0.0/0\" and "
			   "\"::/0\" for any)",
			   flabel);
		return false;
	}
	z->transfer_key_name = arena_memdup(&ld->c->arena, s, len + 1);
	z->transfer_key_line = line;
	return true;
}
