/* load.c -- zone_load: the build side of loading (messages, the arena, interning owner names) and
 * the entry point, which reads the master file with parse.c, or with parallel.c when it is big. */
#include "build.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "meridian/grow.h"
#include "meridian/journal.h"

#define ZB_MAX_WARNINGS 100

static void zb_vadd(struct zb *b, enum diag_level level, uint32_t file, unsigned long line, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	const char *path = file == ZB_NONE ? b->zone->file : b->files[file];
	diag_add(b->d, level, path, line, "%s", msg);
}

void zone_build_error(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
{
	if (b->gave_up)
		return;
	va_list ap;
	va_start(ap, fmt);
	zb_vadd(b, DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
	if (++b->errors >= ZB_MAX_ERRORS) {
		diag_error(b->d, b->zone->file, 0, "too many errors (%d), giving up", ZB_MAX_ERRORS);
		b->gave_up = true;
	}
}

void zone_build_warn(struct zb *b, uint32_t file, unsigned long line, const char *fmt, ...)
{
	static const char more[] = "more warnings not shown";
	if (b->warnings > ZB_MAX_WARNINGS)
		return;
	if (++b->warnings > ZB_MAX_WARNINGS) {
		diag_warn(b->d, b->zone->file, 0, "%s", more);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	zb_vadd(b, DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
}

const char *zone_type_name(uint16_t type, char *buf, size_t size)
{
	const ldns_rr_descriptor *desc = ldns_rr_descript(type);
	if (type != 0 && desc && desc->_name && desc->_type == type)
		return desc->_name;
	snprintf(buf, size, "TYPE%u", type);
	return buf;
}

const char *zone_build_name_text(const uint8_t *name, size_t len, char *buf, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && name[i] && n + 6 < size; i += 1 + name[i]) {
		for (size_t j = 1; j <= name[i] && i + j < len && n + 6 < size; j++) {
			uint8_t c = name[i + j];
			if (c <= ' ' || c >= 0x7f)
				n += (size_t)snprintf(buf + n, size - n, "\\%03u", c);
			else if (strchr(".\\\"();@$", c))
				n += (size_t)snprintf(buf + n, size - n, "\\%c", c);
			else
				buf[n++] = (char)c;
		}
		buf[n++] = '.';
	}
	if (n == 0 && size > 1)
		buf[n++] = '.';
	buf[n < size ? n : size - 1] = '\0';
	return buf;
}

uint8_t *zone_build_bytes(struct zb *b, size_t n)
{
	if (n > b->bump_left) {
		/* Slabs grow with the zone: a small zone stays small, a big one makes few blocks. */
		size_t slab = b->zone->arena.total / 8;
		slab = slab < 4096 ? 4096 : slab > (1u << 20) ? (1u << 20) : slab;
		if (slab < n)
			slab = n;
		b->bump = arena_alloc(&b->zone->arena, slab);
		b->bump_left = slab;
	}
	uint8_t *p = b->bump;
	b->bump += n;
	b->bump_left -= n;
	return p;
}

/* Slots hold the hash above bit 32 and id + 1 below, so probing rarely touches the names. */
static uint32_t zb_find_hashed(const struct zb *b, const uint8_t *name, size_t len, uint32_t h)
{
	for (uint32_t i = h & b->index_mask;; i = (i + 1) & b->index_mask) {
		uint64_t v = b->index[i];
		if (v == 0)
			return ZB_NONE;
		if ((uint32_t)(v >> 32) != h)
			continue;
		const struct zb_name *n = &b->names[(uint32_t)v - 1];
		if (n->len == len && memcmp(n->name, name, len) == 0)
			return (uint32_t)v - 1;
	}
}

uint32_t zone_build_find(const struct zb *b, const uint8_t *name, size_t len)
{
	return zb_find_hashed(b, name, len, zone_name_hash(name, len));
}

uint32_t zone_build_closest(const struct zb *b, const uint8_t *name, size_t len)
{
	for (size_t off = 0; off < len; off += 1 + (size_t)name[off]) {
		uint32_t id = zone_build_find(b, name + off, len - off);
		if (id != ZB_NONE || name[off] == 0)
			return id;
	}
	return ZB_NONE;
}

bool zone_build_in_zone(const struct zb *b, const uint8_t *name, size_t len)
{
	return zb_in_apex(&b->zone->apex, name, len);
}

static void zb_index_put(struct zb *b, uint32_t id)
{
	uint32_t i = b->names[id].hash & b->index_mask;
	while (b->index[i])
		i = (i + 1) & b->index_mask;
	b->index[i] = (uint64_t)b->names[id].hash << 32 | (id + 1);
}

/* Keeps the intern table at most half full. */
static void zb_index_reserve(struct zb *b, size_t count)
{
	size_t slots = (size_t)b->index_mask + 1;
	if (b->index && count * 2 <= slots)
		return;
	while (slots < count * 2)
		slots *= 2;
	free(b->index);
	b->index = calloc(slots, sizeof(*b->index));
	if (!b->index)
		abort();
	b->index_mask = (uint32_t)(slots - 1);
	for (size_t id = 0; id < b->name_count; id++)
		zb_index_put(b, (uint32_t)id);
}

static uint32_t zb_add_name(struct zb *b, const uint8_t *name, size_t len, size_t labels, uint32_t parent,
			    uint32_t h)
{
	b->names = grow_array(b->names, &b->name_cap, b->name_count + 1, sizeof(*b->names));
	zb_index_reserve(b, b->name_count + 1);
	uint32_t id = (uint32_t)b->name_count++;
	b->names[id] = (struct zb_name){name, h, parent, 0, (uint8_t)len, (uint8_t)labels, 0};
	zb_index_put(b, id);
	return id;
}

/* Adds a new owner name, creating its missing ancestors (empty non-terminals) first, so every parent
 * has a lower id than its children. The ancestors' names point into the new name's bytes. */
static uint32_t zb_insert(struct zb *b, const uint8_t *name, size_t len, uint32_t h)
{
	size_t offs[WIRE_LABELS_MAX + 1], n = 0;
	for (size_t o = 0; name[o]; o += 1 + (size_t)name[o])
		offs[n++] = o;
	offs[n] = len - 1;
	uint8_t *copy = zone_build_bytes(b, len);
	memcpy(copy, name, len);

	/* The owner is inside the zone, so the walk stops at the apex at the latest. */
	size_t k = 1;
	uint32_t parent;
	while ((parent = zone_build_find(b, copy + offs[k], len - offs[k])) == ZB_NONE)
		k++;
	while (--k > 0) {
		const uint8_t *s = copy + offs[k];
		parent =
		    zb_add_name(b, s, len - offs[k], n + 1 - k, parent, zone_name_hash(s, len - offs[k]));
	}
	return zb_add_name(b, copy, len, n + 1, parent, h);
}

static uint32_t zb_intern(struct zb *b, const uint8_t *name, size_t len)
{
	const struct zb_name *last = &b->names[b->last_name];
	if (last->len == len && memcmp(last->name, name, len) == 0)
		return b->last_name;
	uint32_t h = zone_name_hash(name, len);
	uint32_t id = zb_find_hashed(b, name, len, h);
	if (id == ZB_NONE)
		id = zb_insert(b, name, len, h);
	b->last_name = id;
	return id;
}

uint8_t *zone_build_record(struct zb *b, const uint8_t *owner, size_t len, uint16_t type, uint32_t ttl,
			   size_t rdlen, uint32_t file, unsigned long line)
{
	uint32_t id = zb_intern(b, owner, len);
	uint8_t *p = zone_build_bytes(b, 2 + rdlen);
	p[0] = (uint8_t)(rdlen >> 8);
	p[1] = (uint8_t)rdlen;
	b->recs = grow_array(b->recs, &b->rec_cap, b->rec_count + 1, sizeof(*b->recs));
	b->recs[b->rec_count++] = (struct zb_rec){p, id, ttl, (uint32_t)line, type, (uint16_t)file};
	b->names[id].nrec++;
	return p + 2;
}

const uint8_t zone_build_dynamic_rd[2] = {0, 0};

void zone_build_dynamic(struct zb *b, const uint8_t *owner, size_t len, uint16_t type, uint32_t index,
			uint32_t file, unsigned long line)
{
	uint32_t id = zb_intern(b, owner, len);
	b->recs = grow_array(b->recs, &b->rec_cap, b->rec_count + 1, sizeof(*b->recs));
	b->recs[b->rec_count++] =
	    (struct zb_rec){zone_build_dynamic_rd, id, index, (uint32_t)line, type, (uint16_t)file};
	b->names[id].nrec++;
}

/* Places the config's dynamic records in the zone being built (after its file was read). */
static void zb_add_dynamic(struct zb *b, const struct zone_dynamic *dyn, size_t count)
{
	uint32_t file = ZB_NONE;
	for (size_t i = 0; i < count && !b->gave_up; i++) {
		if (file == ZB_NONE)
			file = zone_build_add_file(b, dyn[i].file);
		if (!zone_build_in_zone(b, dyn[i].owner, dyn[i].owner_len)) {
			char nb[1024];
			zone_build_error(b, file, dyn[i].line, "dynamic record %s is outside the zone %s",
					 zone_build_name_text(dyn[i].owner, dyn[i].owner_len, nb, sizeof(nb)),
					 b->zone->name_text);
			continue;
		}
		zone_build_dynamic(b, dyn[i].owner, dyn[i].owner_len, dyn[i].type, dyn[i].index, file,
				   dyn[i].line);
	}
}

uint32_t zone_build_add_file(struct zb *b, const char *path)
{
	b->files = grow_array(b->files, &b->file_cap, b->file_count + 1, sizeof(*b->files));
	b->files[b->file_count] = strdup(path);
	if (!b->files[b->file_count])
		abort();
	return (uint32_t)b->file_count++;
}

void zone_build_stamp(struct zb *b, const char *path)
{
	b->stamps = grow_array(b->stamps, &b->stamp_cap, b->stamp_count + 1, sizeof(*b->stamps));
	struct zone_stamp *s = &b->stamps[b->stamp_count++];
	struct stat st;
	memset(s, 0, sizeof(*s));
	s->path = arena_strdup(&b->zone->arena, path);
	if (stat(path, &st) != 0)
		return; /* the load fails on it anyway */
	*s = (struct zone_stamp){.path = s->path,
				 .exists = true,
				 .dev = st.st_dev,
				 .ino = st.st_ino,
				 .size = st.st_size,
				 .mtime = st.st_mtim,
				 .ctime = st.st_ctim};
}

bool zone_read_from(const struct zone *z, const char *path)
{
	struct stat st;
	return z->stamp_count && z->stamps[0].exists && stat(path, &st) == 0 &&
	       st.st_dev == z->stamps[0].dev && st.st_ino == z->stamps[0].ino;
}

bool zone_files_unchanged(const struct zone *z)
{
	if (!z->stamp_count)
		return false;
	for (size_t i = 0; i < z->stamp_count; i++) {
		const struct zone_stamp *s = &z->stamps[i];
		struct stat st;
		if (!s->exists || stat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino ||
		    st.st_size != s->size || st.st_mtim.tv_sec != s->mtime.tv_sec ||
		    st.st_mtim.tv_nsec != s->mtime.tv_nsec || st.st_ctim.tv_sec != s->ctime.tv_sec ||
		    st.st_ctim.tv_nsec != s->ctime.tv_nsec)
			return false;
	}
	return true;
}

/* The zone's apex from its configured name: z->apex and name 0. */
static bool zb_set_apex(struct zb *b, const char *origin)
{
	ldns_rdf *r = ldns_dname_new_frm_str(origin);
	struct wire_name *apex = &b->zone->apex;
	if (!r || ldns_rdf_size(r) > WIRE_NAME_MAX) {
		ldns_rdf_deep_free(r);
		return false;
	}
	apex->len = (uint8_t)ldns_rdf_size(r);
	for (size_t i = 0; i < apex->len; i++)
		apex->data[i] = (uint8_t)tolower(ldns_rdf_data(r)[i]);
	ldns_rdf_deep_free(r);
	apex->label_count = 0;
	for (size_t o = 0;; o += 1 + (size_t)apex->data[o]) {
		apex->labels[apex->label_count++] = (uint8_t)o;
		if (apex->data[o] == 0)
			break;
	}
	uint8_t *copy = zone_build_bytes(b, apex->len);
	memcpy(copy, apex->data, apex->len);
	zb_add_name(b, copy, apex->len, apex->label_count, ZB_NONE, zone_name_hash(copy, apex->len));
	return true;
}

static void zb_free(struct zb *b)
{
	for (size_t i = 0; i < b->file_count; i++)
		free(b->files[i]);
	free(b->files);
	free(b->stamps);
	free(b->names);
	free(b->index);
	free(b->recs);
	free(b->order);
	free(b->first);
	free(b->cut);
	free(b->dname);
}

static void zb_read(struct zb *b, const char *path)
{
	zone_build_stamp(b, path);
	if (zone_build_parallel(b, path))
		return;
	struct zb_parser top = {.b = b, .zone = b->zone, .path = path, .ttl = ZB_DEFAULT_TTL};
	top.origin = ldns_dname_new_frm_data(b->zone->apex.len, b->zone->apex.data);
	top.fp = fopen(path, "r");
	if (!top.fp) {
		zone_build_error(b, ZB_NONE, 0, "cannot open: %s", strerror(errno));
		ldns_rdf_deep_free(top.origin);
		return;
	}
	__fsetlocking(top.fp, FSETLOCKING_BYCALLER); /* ours alone: skip a lock per character */
	zone_build_parse_file(&top);
}

struct zone *zone_load(const char *origin, const char *path, struct diag *d)
{
	return zone_load_dynamic(origin, path, NULL, 0, d);
}

struct zone *zone_load_dynamic(const char *origin, const char *path, const struct zone_dynamic *dyn,
			       size_t count, struct diag *d)
{
	struct zone *z = calloc(1, sizeof(*z));
	if (!z)
		abort();
	arena_init(&z->arena, 16 * 1024);
	z->refs = 1;
	z->name_text = arena_strdup(&z->arena, origin);
	z->file = arena_strdup(&z->arena, path);
	struct zb b = {.zone = z, .d = d};
	if (!zb_set_apex(&b, origin)) {
		zone_build_error(&b, ZB_NONE, 0, "invalid zone name '%s'", origin);
	} else {
		zb_read(&b, path);
		if (b.rec_count)
			zb_add_dynamic(&b, dyn, count);
		if (!b.gave_up) {
			zone_build_group(&b);
			zone_build_validate(&b);
		}
		free(b.index); /* names are all known: the compiled table replaces it */
		b.index = NULL;
		if (b.errors == 0)
			zone_build_compile(&b);
		if (b.errors == 0)
			zone_build_zonemd(&b);
	}
	z->dynamic_count = count;
	if (b.stamp_count) {
		struct zone_stamp *stamps = arena_alloc(&z->arena, b.stamp_count * sizeof(*stamps));
		memcpy(stamps, b.stamps, b.stamp_count * sizeof(*stamps));
		z->stamps = stamps;
		z->stamp_count = b.stamp_count;
	}
	size_t errors = b.errors;
	zb_free(&b);
	if (errors) {
		arena_free(&z->arena);
		free(z);
		return NULL;
	}
	return z;
}

void zone_ref(struct zone *z)
{
	__atomic_fetch_add(&z->refs, 1, __ATOMIC_RELAXED);
}

void zone_unref(struct zone *z)
{
	if (z && __atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		journal_unref(z->journal);
		arena_free(&z->arena);
		free(z);
	}
}
