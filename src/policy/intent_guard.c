/* intent_guard.c -- the record guard at run time: the answer a policy gives for a guarded record is
 * checked against the record's intent before it can be published. An answer that is empty, comes
 * from a policy that failed, or holds a value the intent does not list never serves: the last good
 * answer for that (record, region) takes its place when it is within the intent, else the intended
 * values whose members are not out, else every intended value. Each replacement is counted and
 * described in the report, for the log, status and the audit log. Control thread only. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "meridian/wire.h"

static void value_at(const struct dyn_answer *a, unsigned i, const uint8_t **v, uint16_t *len)
{
	const uint8_t *p = a->rdata + a->offsets[i];
	*len = (uint16_t)(p[0] << 8 | p[1]);
	*v = p + 2;
}

void policy_answer_text(const struct dyn_answer *a, char *buf, size_t size)
{
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < a->count && at + 1 < size; i++) {
		const uint8_t *v;
		uint16_t len;
		char one[300];
		value_at(a, i, &v, &len);
		intent_rdata_text(a->type, v, len, one, sizeof(one));
		int n = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", one);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

/* Dynamic values are canonical already: addresses, and CNAME targets stored lowercased. */
bool policy_answer_within(const struct dyn_answer *a, const struct intent_rrset *s, char *bad, size_t size)
{
	for (unsigned i = 0; i < a->count; i++) {
		const uint8_t *v;
		uint16_t len;
		value_at(a, i, &v, &len);
		if (!intent_allows(s, v, len)) {
			intent_rdata_text(a->type, v, len, bad, size);
			return false;
		}
	}
	return true;
}

static size_t member_value(const struct conf_member *m, const uint8_t **v)
{
	*v = m->target ? m->target : m->addr;
	return m->target ? m->target_len : m->family == AF_INET ? 4 : 16;
}

/* Values of the answer being assembled (at most DYN_VALUES_MAX, each once). */
struct values {
	const uint8_t *v[DYN_VALUES_MAX];
	uint16_t len[DYN_VALUES_MAX];
	uint32_t weight[DYN_VALUES_MAX];
	unsigned count;
};

static void values_add(struct values *vs, const uint8_t *v, size_t len, uint32_t weight)
{
	for (unsigned i = 0; i < vs->count; i++)
		if (vs->len[i] == len && !memcmp(vs->v[i], v, len))
			return;
	if (vs->count < DYN_VALUES_MAX) {
		vs->v[vs->count] = v;
		vs->len[vs->count] = (uint16_t)len;
		vs->weight[vs->count++] = weight;
	}
}

/* Intended values of members of pool that fit the record's type and are not out. */
static void add_intended_members(struct values *vs, const struct conf *conf, const struct conf_record *rec,
				 unsigned pool, const struct policy_inputs *in, const struct intent_rrset *s)
{
	const struct conf_pool *p = &conf->pools[pool];
	for (unsigned m = 0; m < p->member_count; m++) {
		const uint8_t *v;
		size_t len = member_value(&p->members[m], &v);
		if (policy_member_fits(&p->members[m], rec->type) && intent_allows(s, v, len) &&
		    policy_member_serving(in, pool, m) != HEALTH_OUT)
			values_add(vs, v, len, p->members[m].weight);
	}
}

static void fill_values(struct dyn_answer *a, struct arena *ar, const struct conf_record *rec,
			const struct values *vs)
{
	size_t size = 0;
	for (unsigned i = 0; i < vs->count; i++)
		size += 2 + (size_t)vs->len[i];
	uint8_t *rd = arena_alloc(ar, size ? size : 1);
	uint16_t *offsets = arena_alloc(ar, (vs->count + 1) * sizeof(*offsets));
	uint32_t *weights = arena_alloc(ar, (vs->count + 1) * sizeof(*weights));
	size_t at = 0;
	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < vs->count; i++) {
		offsets[i] = (uint16_t)at;
		rd[at] = (uint8_t)(vs->len[i] >> 8);
		rd[at + 1] = (uint8_t)vs->len[i];
		memcpy(rd + at + 2, vs->v[i], vs->len[i]);
		at += 2 + (size_t)vs->len[i];
		weights[i] = vs->weight[i];
		a->weight_total += vs->weight[i];
	}
	a->type = rec->type;
	a->select = DYN_SELECT_ALL;
	a->cap = rec->type == WIRE_TYPE_CNAME ? 1 : (uint16_t)rec->answers;
	a->count = (uint8_t)vs->count;
	a->rdata = rd;
	a->offsets = offsets;
	a->weights = weights;
}

/* What replaces a broken answer; served describes it. */
static void replace(struct dyn_answer *a, struct arena *ar, const struct conf *conf, size_t r, unsigned g,
		    const struct policy_inputs *in, const struct intent_rrset *s, char *served, size_t size)
{
	const struct conf_record *rec = &conf->records[r];
	const struct dyn_answer *last = policy_previous_answer(conf, in, r, g, true);
	char bad[8];
	if (last && last->type == rec->type && policy_answer_within(last, s, bad, sizeof(bad))) {
		uint32_t ttl = last->ttl;
		uint8_t select = last->select;
		uint16_t cap = last->cap;
		policy_copy_answer(a, ar, rec, last, (uint8_t)(last->flags | DYN_FLAG_LAST_GOOD));
		a->ttl = ttl < rec->ttl_degraded ? ttl : rec->ttl_degraded;
		a->select = select;
		a->cap = cap;
		snprintf(served, size, "the last good answer: ");
	} else {
		struct values vs = {.count = 0};
		add_intended_members(&vs, conf, rec, rec->pool, in, s);
		if (rec->when_all_down == CONF_ALL_DOWN_POOL)
			add_intended_members(&vs, conf, rec, rec->fallback_pool, in, s);
		snprintf(served, size, "the intended values whose members are not out: ");
		if (!vs.count) {
			for (size_t i = 0; i < s->count; i++)
				values_add(&vs, s->values[i], s->lengths[i], 1);
			snprintf(served, size, "every intended value: ");
		}
		fill_values(a, ar, rec, &vs);
		a->ttl = rec->ttl_degraded;
	}
	a->flags |= DYN_FLAG_DEGRADED | DYN_FLAG_GUARD;
	size_t at = strlen(served);
	policy_answer_text(a, served + at, size - at);
}

static struct policy_guard_event *next_event(struct policy_report *report)
{
	report->guard_interventions++;
	if (report->guard_event_count == POLICY_GUARD_EVENTS_MAX)
		return NULL;
	return &report->guard_events[report->guard_event_count++];
}

void policy_guard_answer(struct dyn_answer *a, struct arena *ar, const struct conf *conf, size_t r,
			 unsigned g, const struct policy_inputs *in, const char *failure)
{
	const struct intent_rrset *s = in->intent[r];
	char reason[640], bad[256], served[256];
	if (a->count == 0 && failure && *failure)
		snprintf(reason, sizeof(reason), "%s", failure);
	else if (a->count == 0)
		snprintf(reason, sizeof(reason), "empty answer");
	else if (!policy_answer_within(a, s, bad, sizeof(bad))) {
		char all[200];
		policy_answer_text(a, all, sizeof(all));
		snprintf(reason, sizeof(reason), "%s is not in the intent (the policy answered %s)", bad,
			 all);
	} else
		return;
	replace(a, ar, conf, r, g, in, s, served, sizeof(served));
	struct policy_guard_event *e = in->report ? next_event(in->report) : NULL;
	if (e) {
		e->record = r;
		e->region = g;
		snprintf(e->reason, sizeof(e->reason), "%.*s", (int)sizeof(e->reason) - 1, reason);
		snprintf(e->served, sizeof(e->served), "%s", served);
	}
}
