/* mmdb.c -- MaxMind-format databases: opening with clear errors, reading the fields the region
 * rules need from a data record (GeoIP2/GeoLite2 City and Country, DB-IP Lite), and finding the
 * record (or the alias of the IPv4 data) of one address by the same rules the build's tree walk
 * follows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void geo_db_report(const struct geo_db *db, struct diag *d, enum diag_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (db->conf_file)
		diag_add(d, level, db->conf_file, db->conf_line, "geoip database %s: %s", db->path, msg);
	else
		diag_add(d, level, db->path, 0, "%s", msg);
}

/* Where IPv4 lives in an IPv6 database: follow 96 zero bits from the root. */
static bool find_v4_subtree(struct geo_db *db, struct diag *d)
{
	uint32_t node = 0;
	for (unsigned depth = 0; depth < 96; depth++) {
		MMDB_search_node_s sn;
		int st = MMDB_read_node(&db->mmdb, node, &sn);
		if (st != MMDB_SUCCESS) {
			geo_db_report(db, d, DIAG_ERROR, "corrupt GeoIP database: search tree: %s",
				      MMDB_strerror(st));
			return false;
		}
		switch (sn.left_record_type) {
		case MMDB_RECORD_TYPE_SEARCH_NODE:
			node = (uint32_t)sn.left_record;
			break;
		case MMDB_RECORD_TYPE_DATA:
			db->v4_has_data = true;
			db->v4_data = sn.left_record_entry;
			return true;
		case MMDB_RECORD_TYPE_EMPTY:
			return true;
		default:
			geo_db_report(db, d, DIAG_ERROR, "corrupt GeoIP database: invalid record in node %u",
				      node);
			return false;
		}
	}
	db->v4_node = node;
	return true;
}

bool geo_db_open(struct geo_db *db, const char *path, const char *conf_file, unsigned conf_line,
		 struct diag *d)
{
	memset(db, 0, sizeof(*db));
	db->path = path;
	db->conf_file = conf_file;
	db->conf_line = conf_line;
	db->v4_node = GEO_NONE;
	errno = 0;
	int st = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	int err = errno;
	if (st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) {
		geo_db_report(db, d, DIAG_ERROR, "cannot open GeoIP database: %s%s%s", MMDB_strerror(st),
			      err ? ": " : "", err ? strerror(err) : "");
		return false;
	}
	if (st != MMDB_SUCCESS) {
		geo_db_report(db, d, DIAG_ERROR, "corrupt GeoIP database (not a MaxMind DB file): %s",
			      MMDB_strerror(st));
		return false;
	}
	const MMDB_metadata_s *meta = &db->mmdb.metadata;
	const char *bad = NULL;
	if (meta->binary_format_major_version != 2)
		bad = "binary format major version is not 2";
	else if (meta->ip_version != 4 && meta->ip_version != 6)
		bad = "ip_version is neither 4 nor 6";
	else if (meta->record_size != 24 && meta->record_size != 28 && meta->record_size != 32)
		bad = "record_size is not 24, 28 or 32";
	else if (meta->node_count == 0)
		bad = "empty search tree";
	if (bad) {
		geo_db_report(db, d, DIAG_ERROR, "unsupported GeoIP database: %s", bad);
		MMDB_close(&db->mmdb);
		return false;
	}
	db->is_v4 = meta->ip_version == 4;
	if (db->is_v4)
		db->v4_node = 0;
	else if (!find_v4_subtree(db, d)) {
		MMDB_close(&db->mmdb);
		return false;
	}
	return true;
}

void geo_db_close(struct geo_db *db)
{
	MMDB_close(&db->mmdb);
}

/* A string at path copied into out (empty when absent or not a string that fits). */
static int get_string(MMDB_entry_s *e, const char *const *path, char *out, size_t size)
{
	MMDB_entry_data_s v;
	out[0] = '\0';
	int st = MMDB_aget_value(e, &v, path);
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return MMDB_SUCCESS;
	if (st != MMDB_SUCCESS)
		return st;
	if (v.has_data && v.type == MMDB_DATA_TYPE_UTF8_STRING && v.data_size < size) {
		memcpy(out, v.utf8_string, v.data_size);
		out[v.data_size] = '\0';
	}
	return MMDB_SUCCESS;
}

static bool code_ok(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static int get_number(MMDB_entry_s *e, const char *const *path, double *out, bool *found)
{
	MMDB_entry_data_s v;
	*found = false;
	int st = MMDB_aget_value(e, &v, path);
	if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
		return MMDB_SUCCESS;
	if (st != MMDB_SUCCESS)
		return st;
	if (v.has_data && v.type == MMDB_DATA_TYPE_DOUBLE) {
		*out = v.double_value;
		*found = true;
	} else if (v.has_data && v.type == MMDB_DATA_TYPE_FLOAT) {
		*out = v.float_value;
		*found = true;
	}
	return MMDB_SUCCESS;
}

/* subdivisions[i].iso_code for each level; DB-IP Lite gives names only, noted in the record. */
static int get_subdivisions(MMDB_entry_s *e, struct geo_record *out)
{
	for (unsigned i = 0; i < GEO_SUBS_MAX; i++) {
		char idx[2] = {(char)('0' + i), '\0'};
		const char *elem[] = {"subdivisions", idx, NULL};
		MMDB_entry_data_s v;
		int st = MMDB_aget_value(e, &v, elem);
		if (st == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
			return MMDB_SUCCESS;
		if (st != MMDB_SUCCESS)
			return st;
		if (!v.has_data || v.type != MMDB_DATA_TYPE_MAP)
			return MMDB_SUCCESS;
		const char *code[] = {"subdivisions", idx, "iso_code", NULL};
		char buf[8];
		if ((st = get_string(e, code, buf, sizeof(buf))) != MMDB_SUCCESS)
			return st;
		if (!buf[0])
			out->sub_without_code = true;
		else if (code_ok(buf, 1, 3))
			memcpy(out->subs[out->sub_count++], buf, 4);
	}
	return MMDB_SUCCESS;
}

int geo_db_read_record(MMDB_entry_s *e, struct geo_record *out)
{
	static const char *const continent[] = {"continent", "code", NULL};
	static const char *const country[] = {"country", "iso_code", NULL};
	static const char *const lat[] = {"location", "latitude", NULL};
	static const char *const lon[] = {"location", "longitude", NULL};
	memset(out, 0, sizeof(*out));
	int st;
	if ((st = get_string(e, continent, out->continent, sizeof(out->continent))) != MMDB_SUCCESS ||
	    (st = get_string(e, country, out->country, sizeof(out->country))) != MMDB_SUCCESS ||
	    (st = get_subdivisions(e, out)) != MMDB_SUCCESS)
		return st;
	if (!code_ok(out->continent, 2, 2))
		out->continent[0] = '\0';
	if (!code_ok(out->country, 2, 2) || out->country[0] < 'A' || out->country[1] < 'A')
		out->country[0] = '\0';
	bool has_lat, has_lon;
	if ((st = get_number(e, lat, &out->lat, &has_lat)) != MMDB_SUCCESS ||
	    (st = get_number(e, lon, &out->lon, &has_lon)) != MMDB_SUCCESS)
		return st;
	out->has_location = has_lat && has_lon && out->lat >= -90.0 && out->lat <= 90.0 &&
			    out->lon >= -180.0 && out->lon <= 180.0;
	return MMDB_SUCCESS;
}

static unsigned bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* Whether key/prefix is an alias the walk keeps; its network in *via if so. */
static bool alias_at(const uint8_t key[16], unsigned prefix, struct geo_alias *via)
{
	uint8_t net[16];
	memcpy(net, key, 16);
	geo_mask(net, prefix);
	if (!geo_alias_ok(net, prefix))
		return false;
	*via = (struct geo_alias){{geo_load64(net), geo_load64(net + 8)}, (uint8_t)prefix};
	return true;
}

/* Follows bits of key from node; skip_zero96 stops at ::/96 on the all-zero path (that subtree is
 * looked up as IPv4). A record pointing back at the IPv4 subtree is an alias: 2 with *via when
 * the walk keeps it (a 128-bit key, geo_alias_ok), otherwise no data here. */
static int descend(const struct geo_db *db, uint32_t node, const uint8_t *key, unsigned bits,
		   bool skip_zero96, MMDB_entry_s *entry, struct geo_alias *via)
{
	bool zero = true;
	for (unsigned depth = 0; depth < bits; depth++) {
		MMDB_search_node_s sn;
		if (MMDB_read_node(&db->mmdb, node, &sn) != MMDB_SUCCESS)
			return -1;
		unsigned b = bit_at(key, depth);
		zero = zero && b == 0;
		if (skip_zero96 && zero && depth + 1 == 96)
			return 0;
		uint8_t type = b ? sn.right_record_type : sn.left_record_type;
		uint64_t value = b ? sn.right_record : sn.left_record;
		switch (type) {
		case MMDB_RECORD_TYPE_SEARCH_NODE:
			if (value == db->v4_node)
				return bits == 128 && alias_at(key, depth + 1, via) ? 2 : 0;
			node = (uint32_t)value;
			break;
		case MMDB_RECORD_TYPE_DATA:
			*entry = b ? sn.right_record_entry : sn.left_record_entry;
			return 1;
		case MMDB_RECORD_TYPE_EMPTY:
			return 0;
		default:
			return -1;
		}
	}
	return 0;
}

int geo_db_find(const struct geo_db *db, const uint8_t addr[16], MMDB_entry_s *entry, struct geo_alias *via)
{
	if (!db->is_v4) {
		int r = descend(db, 0, addr, 128, true, entry, via);
		if (r != 0)
			return r;
	}
	if (!geo_is_v4mapped(addr))
		return 0;
	if (db->v4_has_data) {
		*entry = db->v4_data;
		return 1;
	}
	if (db->v4_node == GEO_NONE)
		return 0;
	return descend(db, db->v4_node, addr + 12, 32, false, entry, via);
}
