/* answer.c -- answering one query: parse, pick the zone, look up, build (RFC 1034 4.3.2).
 *
 * The whole function runs on the query path: it reads the snapshot and writes into the caller's
 * buffer, nothing else. Any failure to fit the answer ends in a valid truncated message (TC=1,
 * header and question, OPT when the query had EDNS), never in a partial RRset.
 *
 * Dynamic RRsets (count 0 in the zone) are answered from the snapshot's dyn_table for the client's
 * region: the region comes from the client subnet option when present and enabled (RFC 7871), else
 * from the source address, with one lookup in the compiled geo map, made at most once per query. */
#include "meridian/query.h"

#include <string.h>

#include "meridian/client.h"
#include "meridian/cookie.h"
#include "meridian/prepared.h"
#include "meridian/proofs.h"
#include "meridian/region_counts.h"
#include "meridian/transfer.h"
#include "meridian/tsig.h"
#include "meridian/zone.h"

#define QUERY_CNAME_LIMIT 8 /* CNAME links followed inside one zone before the answer stops */

/* Everything one answer needs while it is being built. */
struct answer {
	const struct snapshot *snap;
	const struct wire_query *q;
	const uint8_t *pkt; /* the query as received, len octets */
	size_t len;
	const struct sockaddr_storage *peer;
	struct wire_builder b;
	enum query_transport transport;
	bool truncated; /* something did not fit: the caller sends TC with empty sections */
	unsigned rcode;
	uint32_t seed;	       /* varies per query: rotation and weighted choice of dynamic values */
	bool static_only;      /* preparing (prepared.c): dynamic data is not to be read */
	bool needs_dynamic;    /* static_only, and the answer would have read dynamic data */
	bool client_known;     /* client_valid and client below are set */
	bool client_valid;     /* client holds the client's network */
	bool region_known;     /* region and scope below are set */
	bool client_dependent; /* a dynamic answer was served: the ECS scope applies */
	unsigned region;
	unsigned scope; /* RFC 7871 scope prefix of the map entry that decided */
	struct client_net client;
	const struct tsig_key *signed_with; /* the query's TSIG verified with this key; NULL: unsigned */
	uint16_t ede;			    /* an Extended DNS Error for the reply (RFC 8914), 0: none */
	const char *ede_text;		    /* its EXTRA-TEXT, or NULL */
	bool zone_signed;		    /* the answering zone is DNSSEC-signed */
	bool dnssec;			    /* DO set and the zone signed: RRSIGs and proofs go in */
	struct proofs proofs;		    /* the NSEC and NSEC3 records written so far */
};

/* A REFUSED answer, saying why with an Extended DNS Error when the query has EDNS. */
static void refuse(struct answer *a, enum wire_ede code, const char *text)
{
	a->rcode = WIRE_RCODE_REFUSED;
	a->ede = code;
	a->ede_text = text;
}

/* The client's network (client.h), read from the query once, when a dynamic answer first needs it;
 * NULL when neither a client subnet nor the source address gives one. */
static const struct client_net *answer_client(struct answer *a)
{
	if (!a->client_known) {
		const struct wire_query *q = a->q;
		bool ecs = q->has_ecs && a->snap->conf->ecs;
		a->client_known = true;
		a->client_valid = client_net_of(&a->client, ecs ? q->ecs_family : 0, q->ecs_source_prefix,
						q->ecs_addr, a->peer);
	}
	return a->client_valid ? &a->client : NULL;
}

static unsigned answer_region(struct answer *a)
{
	if (!a->region_known) {
		a->region_known = true;
		a->region = client_region(a->snap, a->snap->geo ? answer_client(a) : NULL, &a->scope);
	}
	return a->region;
}

/* The values of a dynamic RRset for this query: its region's answer and the picked indexes; NULL
 * when preparing (static_only), which must not read dynamic data. */
static const struct dyn_answer *dynamic_values(struct answer *a, const struct zone_rrset *rrset,
					       uint8_t *picked, unsigned *count)
{
	a->client_dependent = true;
	if (a->static_only) {
		a->needs_dynamic = true;
		return NULL;
	}
	const struct dyn_answer *d = dyn_answer_get(a->snap->dyn, rrset->ttl, answer_region(a));
	*count = dyn_select(
	    d, a->seed, d->select == DYN_SELECT_HASH ? client_hash(answer_client(a), &a->scope) : 0, picked);
	return d;
}

static bool put_dynamic(struct answer *a, enum wire_section section, const uint8_t *owner, size_t owner_len,
			const struct zone_rrset *rrset)
{
	uint8_t picked[DYN_VALUES_MAX];
	unsigned count;
	const struct dyn_answer *d = dynamic_values(a, rrset, picked, &count);
	if (!d)
		return false;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *v = d->rdata + d->offsets[picked[i]];
		if (!wire_build_rr(&a->b, section, owner, owner_len, d->type, WIRE_CLASS_IN, d->ttl, v + 2,
				   (uint16_t)(v[0] << 8 | v[1]))) {
			a->truncated = true;
			return false;
		}
	}
	return true;
}

/* The first value an RRset serves to this query (a CNAME's target), static or dynamic. */
static bool first_value(struct answer *a, const struct zone_rrset *rrset, const uint8_t **rdata,
			uint16_t *rdlen)
{
	if (rrset->count == 0) {
		uint8_t picked[DYN_VALUES_MAX];
		unsigned count;
		const struct dyn_answer *d = dynamic_values(a, rrset, picked, &count);
		if (!d || !count)
			return false;
		const uint8_t *v = d->rdata + d->offsets[picked[0]];
		*rdata = v + 2;
		*rdlen = (uint16_t)(v[0] << 8 | v[1]);
		return true;
	}
	size_t pos = 0;
	return zone_rdata_next(rrset, &pos, rdata, rdlen);
}

/* Writes every RR of rrset (static at ttl, or dynamic as picked for this query); on overflow marks
 * the answer truncated. */
static bool put_rrset(struct answer *a, enum wire_section section, const uint8_t *owner, size_t owner_len,
		      const struct zone_rrset *rrset, uint32_t ttl)
{
	if (rrset->count == 0)
		return put_dynamic(a, section, owner, owner_len, rrset);
	/* The records' layout (zone.h: rdlength, then rdata, back to back) read in place. */
	const uint8_t *p = rrset->rdata;
	for (unsigned i = 0; i < rrset->count; i++) {
		uint16_t rdlen = (uint16_t)(p[0] << 8 | p[1]);
		if (!wire_build_rr(&a->b, section, owner, owner_len, rrset->type, WIRE_CLASS_IN, ttl, p + 2,
				   rdlen)) {
			a->truncated = true;
			return false;
		}
		p += 2u + rdlen;
	}
	return true;
}

/* A DNSSEC record that did not fit truncates the answer, as any other. */
static bool proved(struct answer *a, bool fitted)
{
	if (!fitted)
		a->truncated = true;
	return fitted;
}

/* A name's RRSIG RRset, asked for by type (or ANY): each record at the TTL of the RRset it covers. */
static bool put_rrsigs(struct answer *a, enum wire_section section, const uint8_t *owner, size_t owner_len,
		       const struct zone_node *node, const struct zone_rrset *sigs)
{
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	while (zone_rdata_next(sigs, &pos, &rdata, &rdlen))
		if (!wire_build_rr(&a->b, section, owner, owner_len, WIRE_TYPE_RRSIG, WIRE_CLASS_IN,
				   zone_rrsig_ttl(node, sigs, rdata, rdlen), rdata, rdlen)) {
			a->truncated = true;
			return false;
		}
	return true;
}

/* put_rrset, and when the answer is signed the RRSIGs at node over the RRset, owned by the name the
 * RRset is served at (the query name for a wildcard's), at the same TTL. */
static bool put_signed(struct answer *a, enum wire_section section, const uint8_t *owner, size_t owner_len,
		       const struct zone_node *node, const struct zone_rrset *rrset, uint32_t ttl)
{
	if (rrset->type == WIRE_TYPE_RRSIG && rrset->count) /* asked for: each at its RRset's TTL */
		return put_rrsigs(a, section, owner, owner_len, node, rrset);
	return put_rrset(a, section, owner, owner_len, rrset, ttl) &&
	       (!a->dnssec ||
		proved(a, proofs_signatures(&a->b, section, owner, owner_len, node, rrset->type, ttl)));
}

/* Negative answers carry the zone's SOA with the RFC 2308 negative TTL. */
static bool put_soa(struct answer *a, const struct zone *z)
{
	return put_signed(a, WIRE_SECTION_AUTHORITY, z->apex.data, z->apex.len, z->apex_node, z->soa,
			  z->neg_ttl);
}

/* NODATA for name (r: the node it exists at, or the wildcard that stands for it). */
static void put_nodata(struct answer *a, const struct zone *z, const struct wire_name *name,
		       const struct zone_result *r)
{
	if (put_soa(a, z) && a->dnssec)
		proved(a, proofs_nodata(&a->b, &a->proofs, z, name, r->node, r->wildcard));
}

/* NXDOMAIN for name (r->node: its closest encloser). */
static void put_nxdomain(struct answer *a, const struct zone *z, const struct wire_name *name,
			 const struct zone_result *r)
{
	a->rcode = WIRE_RCODE_NXDOMAIN;
	if (put_soa(a, z) && a->dnssec)
		proved(a, proofs_nxdomain(&a->b, &a->proofs, z, name, r->node));
}

/* Both names are lowercased and indexed: the apex can only be the suffix with as many labels. */
static bool name_in_zone(const struct zone *z, const struct wire_name *name)
{
	if (name->label_count < z->apex.label_count)
		return false;
	unsigned at = name->labels[name->label_count - z->apex.label_count];
	return name->len - at == z->apex.len && wire_name_same(name->data + at, z->apex.data, z->apex.len);
}

/* The name an rdata starts with (an NS or CNAME target), lowercased and hashed in one pass. */
static bool rdata_name(const uint8_t *rdata, uint16_t rdlen, struct wire_name *out, uint32_t *hash)
{
	size_t pos = 0;
	return wire_name_read_hashed(rdata, rdlen, &pos, out, hash);
}

/* Address records of the delegation's name servers that the zone holds (in-bailiwick or sibling
 * glue), so a resolver can follow the referral without another round trip. */
static void put_glue(struct answer *a, const struct zone *z, const struct zone_rrset *ns)
{
	size_t pos = 0;
	const uint8_t *rdata;
	uint16_t rdlen;
	struct wire_name target;
	uint32_t hash;
	while (zone_rdata_next(ns, &pos, &rdata, &rdlen)) {
		if (!rdata_name(rdata, rdlen, &target, &hash) || !name_in_zone(z, &target))
			continue;
		const struct zone_node *node = zone_node_find_hashed(z, target.data, target.len, hash);
		if (!node)
			continue;
		const struct zone_rrset *addr = zone_node_rrset(node, WIRE_TYPE_A);
		if (addr &&
		    !put_rrset(a, WIRE_SECTION_ADDITIONAL, node->name, node->name_len, addr, addr->ttl))
			return;
		addr = zone_node_rrset(node, WIRE_TYPE_AAAA);
		if (addr &&
		    !put_rrset(a, WIRE_SECTION_ADDITIONAL, node->name, node->name_len, addr, addr->ttl))
			return;
	}
}

static void put_referral(struct answer *a, const struct zone *z, const struct zone_result *r)
{
	if (put_rrset(a, WIRE_SECTION_AUTHORITY, r->node->name, r->node->name_len, r->rrset, r->rrset->ttl) &&
	    (!a->dnssec || proved(a, proofs_delegation(&a->b, &a->proofs, z, r->node))))
		put_glue(a, z, r->rrset);
}

/* ANY (RFC 8482): over UDP one RRset (the lowest type), so ANY cannot be used for amplification;
 * over TCP every RRset at the name. */
static bool put_any(struct answer *a, const struct wire_name *owner, const struct zone_node *node)
{
	unsigned n = a->transport == QUERY_UDP ? 1 : node->rrset_count;
	for (unsigned i = 0; i < node->rrset_count && n; i++) {
		const struct zone_rrset *rs = &node->rrsets[i];
		if (a->dnssec && rs->type == WIRE_TYPE_RRSIG)
			continue; /* each came with the RRset it covers */
		if (!put_signed(a, WIRE_SECTION_ANSWER, owner->data, owner->len, node, rs, rs->ttl))
			return false;
		n--;
	}
	return true;
}

/* The data found for name (r: ZONE_FOUND), and for a wildcard's answer the proof that no closer name
 * exists. */
static void put_found(struct answer *a, const struct zone *z, const struct wire_name *name,
		      const struct zone_result *r)
{
	bool fitted = r->rrset ? put_signed(a, WIRE_SECTION_ANSWER, name->data, name->len, r->node, r->rrset,
					    r->rrset->ttl)
			       : put_any(a, name, r->node);
	if (fitted && r->wildcard && a->dnssec)
		proved(a, proofs_wildcard(&a->b, &a->proofs, z, name, r->node));
}

/* Below a DNAME (RFC 6672 3.2): the DNAME goes into the answer, then a CNAME synthesized at owner
 * (the name being looked up), at the DNAME's TTL, to owner with the DNAME's name replaced by its
 * target; target receives that name. False when there is nothing more to look up: the answer was
 * truncated, or the new name would be over 255 octets (YXDOMAIN, RFC 6672 2.2). */
static bool put_dname(struct answer *a, const struct wire_name *owner, const struct zone_result *r,
		      struct wire_name *target, uint32_t *hash)
{
	const struct zone_node *node = r->node;
	const uint8_t *rdata;
	uint16_t rdlen;
	size_t pos = 0;
	if (!put_signed(a, WIRE_SECTION_ANSWER, node->name, node->name_len, node, r->rrset, r->rrset->ttl) ||
	    !zone_rdata_next(r->rrset, &pos, &rdata, &rdlen))
		return false;
	size_t prefix = owner->len - node->name_len;
	if (prefix + rdlen > WIRE_NAME_MAX) {
		a->rcode = WIRE_RCODE_YXDOMAIN;
		return false;
	}
	uint8_t name[WIRE_NAME_MAX];
	memcpy(name, owner->data, prefix);
	memcpy(name + prefix, rdata, rdlen);
	pos = 0;
	if (!wire_name_read_hashed(name, prefix + rdlen, &pos, target, hash))
		return false;
	if (!wire_build_rr(&a->b, WIRE_SECTION_ANSWER, owner->data, owner->len, WIRE_TYPE_CNAME,
			   WIRE_CLASS_IN, r->rrset->ttl, target->data, target->len)) {
		a->truncated = true;
		return false;
	}
	return true;
}

/* One link of a chain: the CNAME at owner (r is ZONE_CNAME) or the DNAME above it and the CNAME it
 * synthesizes (ZONE_DNAME) go into the answer; target receives the name they lead to. */
static bool put_link(struct answer *a, const struct zone *z, const struct wire_name *owner,
		     const struct zone_result *r, struct wire_name *target, uint32_t *hash)
{
	if (r->kind == ZONE_DNAME)
		return put_dname(a, owner, r, target, hash);
	const uint8_t *rdata;
	uint16_t rdlen;
	return put_signed(a, WIRE_SECTION_ANSWER, owner->data, owner->len, r->node, r->rrset,
			  r->rrset->ttl) &&
	       (!r->wildcard || !a->dnssec ||
		proved(a, proofs_wildcard(&a->b, &a->proofs, z, owner, r->node))) &&
	       first_value(a, r->rrset, &rdata, &rdlen) && rdata_name(rdata, rdlen, target, hash);
}

/* Whether name is qname or one of the chain's first n targets. */
static bool chain_has(const struct wire_name *qname, const struct wire_name *targets, unsigned n,
		      const struct wire_name *name)
{
	if (name->len == qname->len && wire_name_same(name->data, qname->data, name->len))
		return true;
	for (unsigned i = 0; i < n; i++)
		if (name->len == targets[i].len && wire_name_same(name->data, targets[i].data, name->len))
			return true;
	return false;
}

static bool chain_has_node(const struct zone_node *const *seen, unsigned n, const struct zone_node *node)
{
	for (unsigned i = 0; i <= n; i++)
		if (seen[i] == node)
			return true;
	return false;
}

/* Follows the chain of CNAMEs and DNAMEs from the answer in r (for qname) inside zone z. Stops at
 * QUERY_CNAME_LIMIT links, at a CNAME or DNAME seen before or a name met before (loop), at a target outside
 * z, or after a synthesized CNAME when the question asks for CNAMEs (that CNAME is the answer). The response
 * code and authority follow the last name (RFC 6604). */
static void put_chain(struct answer *a, const struct zone *z, const struct wire_name *qname,
		      struct zone_result *r)
{
	struct wire_name names[QUERY_CNAME_LIMIT]; /* the targets so far: each link's owner but the first */
	const struct zone_node *seen[QUERY_CNAME_LIMIT];
	const struct wire_name *owner = qname;
	for (unsigned link = 0; link < QUERY_CNAME_LIMIT; link++) {
		struct wire_name *target = &names[link];
		uint32_t hash;
		bool synthesized = r->kind == ZONE_DNAME;
		seen[link] = r->node;
		if (!put_link(a, z, owner, r, target, &hash) || !name_in_zone(z, target) ||
		    (synthesized && a->q->qtype == WIRE_TYPE_CNAME))
			return;
		zone_lookup_hashed(z, target, hash, a->q->qtype, r);
		switch (r->kind) {
		case ZONE_FOUND:
			put_found(a, z, target, r);
			return;
		case ZONE_NODATA:
			put_nodata(a, z, target, r);
			return;
		case ZONE_NXDOMAIN:
			put_nxdomain(a, z, target, r);
			return;
		case ZONE_DELEGATION:
			put_referral(a, z, r);
			return;
		case ZONE_CNAME:
		case ZONE_DNAME:
			/* A loop: a CNAME or DNAME followed before, or, for a wildcard's (one node
			 * answers many names), a name already in the chain. Either way its record is
			 * in the answer already (RFC 2181 5: no duplicates). */
			if (r->wildcard ? chain_has(qname, names, link, target)
					: chain_has_node(seen, link, r->node))
				return;
			owner = target;
			break;
		}
	}
}

/* The authoritative answer from zone z (RFC 1034 4.3.2 steps 3 and 4). */
static void answer_from_zone(struct answer *a, const struct zone *z)
{
	const struct wire_query *q = a->q;
	struct zone_result r;
	zone_lookup_hashed(z, &q->qname, q->qname_hash, q->qtype, &r);
	if (r.kind != ZONE_DELEGATION)
		wire_build_set_flags(&a->b, WIRE_FLAG_AA);
	/* RFC 4035 3.1: DNSSEC records go to a query with DO set, and only to one */
	a->zone_signed = z->dnssec.denial != ZONE_DENIAL_NONE;
	a->dnssec = q->edns_do && a->zone_signed;
	a->proofs.count = 0;
	switch (r.kind) {
	case ZONE_FOUND:
		put_found(a, z, &q->qname, &r);
		break;
	case ZONE_CNAME:
	case ZONE_DNAME:
		put_chain(a, z, &q->qname, &r);
		break;
	case ZONE_NODATA:
		put_nodata(a, z, &q->qname, &r);
		break;
	case ZONE_NXDOMAIN:
		put_nxdomain(a, z, &q->qname, &r);
		break;
	case ZONE_DELEGATION:
		put_referral(a, z, &r);
		break;
	}
}

/* CHAOS TXT id.server / hostname.bind and version.bind / version.server: answered with the configured
 * strings, REFUSED when the operator has not configured one (nothing is disclosed by default). */
static void answer_chaos(struct answer *a)
{
	static const uint8_t id_server[] = "\2id\6server";
	static const uint8_t hostname_bind[] = "\10hostname\4bind";
	static const uint8_t version_bind[] = "\7version\4bind";
	static const uint8_t version_server[] = "\7version\6server";
	const struct wire_name *n = &a->q->qname;
#define IS(name) (n->len == sizeof(name) && !memcmp(n->data, name, n->len))
	bool id = IS(id_server) || IS(hostname_bind), version = IS(version_bind) || IS(version_server);
#undef IS
	if (!id && !version) {
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "CHAOS: only id.server and version.bind");
		return;
	}
	const char *text = id ? a->snap->conf->identity : a->snap->conf->version;
	if (!text) {
		refuse(a, WIRE_EDE_PROHIBITED, id ? "no identity configured" : "no version configured");
		return;
	}
	if (a->q->qtype != WIRE_TYPE_TXT && a->q->qtype != WIRE_TYPE_ANY) {
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "CHAOS: only TXT");
		return;
	}
	uint8_t rdata[256];
	size_t len = strlen(text);
	rdata[0] = (uint8_t)len;
	memcpy(rdata + 1, text, len);
	wire_build_set_flags(&a->b, WIRE_FLAG_AA);
	if (!wire_build_rr(&a->b, WIRE_SECTION_ANSWER, n->data, n->len, WIRE_TYPE_TXT, WIRE_CLASS_CH, 0,
			   rdata, (uint16_t)(len + 1)))
		a->truncated = true;
}

/* A transfer request the query path got: the ones a TCP worker hands over never come here (transfer.h).
 * An IXFR over UDP that the zone's transfer rules allow is answered (RFC 1995 2: the differences
 * when they fit one message, else the SOA, which sends the secondary to TCP); anything else is
 * refused, saying why. */
static void answer_transfer(struct answer *a, const struct zone *z)
{
	const struct conf *c = a->snap->conf;
	const struct conf_zone *cz = c->transfer_zones ? transfer_zone_conf(c, z) : NULL;
	if (!cz || !cz->transfer_count)
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "zone transfers are not served");
	else if (!a->peer || !transfer_allowed(cz, a->peer))
		refuse(a, WIRE_EDE_PROHIBITED, "zone transfer not allowed from this address");
	else if (!transfer_key_satisfied(cz, a->signed_with))
		refuse(a, WIRE_EDE_PROHIBITED, "zone transfer needs a TSIG signature with the zone's key");
	else if (a->transport == QUERY_UDP && a->q->qtype == WIRE_TYPE_IXFR) {
		wire_build_set_flags(&a->b, WIRE_FLAG_AA);
		if (!transfer_udp_ixfr(&a->b, z, cz->ixfr_versions, a->q, a->pkt, a->len))
			a->truncated = true; /* not even the SOA fits: TC, the client asks over TCP */
	} else if (a->transport == QUERY_UDP)
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "AXFR is served over TCP only");
	else
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "a transfer request must be class IN, at most 1024 octets");
}

static void answer_question(struct answer *a)
{
	const struct wire_query *q = a->q;
	if (q->qtype == WIRE_TYPE_OPT) {
		a->rcode = WIRE_RCODE_FORMERR;
		return;
	}
	if (q->qclass == WIRE_CLASS_CH) {
		answer_chaos(a);
		return;
	}
	/* QCLASS * (RFC 1035 3.2.5) is answered from our IN data, without AA: an answer for every class
	 * is more than our IN data can vouch for. NSD does the same; Knot sets AA. */
	bool any_class = q->qclass == WIRE_CLASS_ANY;
	const struct zone_set *zones = a->snap->zones;
	if (q->qclass != WIRE_CLASS_IN && !any_class) {
		refuse(a, WIRE_EDE_NOT_SUPPORTED, "class not served");
		return;
	}
	const struct zone *z = zone_set_find(zones, &q->qname);
	if (!z) {
		refuse(a, WIRE_EDE_NOT_AUTHORITATIVE, NULL);
		return;
	}
	if (q->qtype == WIRE_TYPE_AXFR || q->qtype == WIRE_TYPE_IXFR) {
		answer_transfer(a, z);
		return;
	}
	/* DS belongs to the parent side of a cut: when we also serve the parent, it answers. */
	if (q->qtype == WIRE_TYPE_DS && q->qname.len == z->apex.len) {
		const struct zone *parent = zone_set_find_parent(zones, &q->qname);
		if (parent)
			z = parent;
	}
	answer_from_zone(a, z);
	if (any_class)
		wire_build_clear_flags(&a->b, WIRE_FLAG_AA);
}

/* The UDP size limit: the requester's EDNS payload capped by ours, 512 without EDNS (RFC 6891 6.2.5). */
static size_t udp_limit(const struct wire_query *q, const struct conf *c)
{
	if (!q->has_edns)
		return WIRE_UDP_MIN;
	size_t limit = q->edns_payload < c->udp_payload ? q->edns_payload : c->udp_payload;
	return limit < WIRE_UDP_MIN ? WIRE_UDP_MIN : limit;
}

const char *const query_rcode_names[6] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
const char *const query_transport_names[QUERY_TRANSPORT_KINDS] = {"udp4", "udp6", "tcp4", "tcp6"};

const char *query_qtype_name(unsigned slot, char *buf, size_t size)
{
	return slot < QUERY_QTYPE_OTHER ? zone_type_name((uint16_t)slot, buf, size) : "other";
}

static void count_rcode(struct query_stats *stats, unsigned rcode)
{
	if (rcode < sizeof(stats->rcode) / sizeof(stats->rcode[0]))
		stats->rcode[rcode]++;
}

/* The OPT record of the reply to a query with one (a->q): NSID when asked and configured, the client
 * subnet echoed (its scope is set when the answer is known), and our server cookie in cookie[] with
 * its verdict; its room reserved in the builder. A malformed cookie turns an OK *status into
 * FORMERR (RFC 7873 5.2, without cookies); any other gets our server cookie, a valid one or not
 * (5.2.4: an invalid one counts as none). */
static void edns_reply_start(struct answer *a, struct wire_edns_reply *edns, uint8_t *cookie,
			     enum cookie_verdict *verdict, enum wire_parse_status *status)
{
	const struct conf *c = a->snap->conf;
	const struct wire_query *q = a->q;
	if (q->edns_nsid && c->nsid) {
		edns->nsid = c->nsid;
		edns->nsid_len = (uint16_t)c->nsid_len;
	}
	/* RFC 7871 7.2.1: echo family, source prefix and address */
	if (q->has_ecs && c->ecs) {
		edns->ecs = true;
		edns->ecs_family = q->ecs_family;
		edns->ecs_source_prefix = q->ecs_source_prefix;
		edns->ecs_addr = q->ecs_addr;
	}
	if (q->cookie && c->cookies && q->cookie_malformed && *status == WIRE_PARSE_OK) {
		*status = WIRE_PARSE_FORMERR;
	} else if (q->cookie && c->cookies && !q->cookie_malformed) {
		*verdict = cookie_answer(&c->cookie_secrets, q->cookie, q->cookie_len, a->peer, cookie_now(),
					 cookie);
		edns->cookie = cookie;
		edns->cookie_len = COOKIE_REPLY_LEN;
	}
	/* RFC 7828 3.3.2: over TCP, the idle timeout the connection has; over UDP never */
	if (q->edns_keepalive && a->transport == QUERY_TCP) {
		edns->keepalive = true;
		edns->keepalive_timeout =
		    c->tcp_idle_timeout > 6553 ? 65535 : (uint16_t)(c->tcp_idle_timeout * 10);
	}
	wire_build_reserve(&a->b, wire_edns_size(edns));
}

/* The general path: parse the whole query, look up, build. With static_only (preparing), dynamic data
 * is never read and *needs_dynamic tells whether the answer would have read it. */
static size_t answer_built(const struct snapshot *snap, const uint8_t *pkt, size_t len,
			   const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
			   enum query_transport transport, struct wire_query *scratch,
			   struct query_stats *stats, bool static_only, bool *needs_dynamic,
			   bool *zone_signed)
{
	stats->queries++;
	enum wire_parse_status status = wire_parse_query(pkt, len, scratch);
	if (status == WIRE_PARSE_DROP) {
		stats->dropped++;
		return 0;
	}
	const struct conf *c = snap->conf;
	size_t limit = transport == QUERY_TCP ? WIRE_MSG_MAX : udp_limit(scratch, c);
	if (limit > out_cap)
		limit = out_cap;
	/* A signed query (RFC 8945 5.2) gets a signed answer, or NOTAUTH with the TSIG error: the record
	 * comes last, so the answer is built with room left for it. */
	struct tsig_check tsig;
	size_t tsig_room = 0;
	uint64_t now = 0;
	if (scratch->tsig_at && status == WIRE_PARSE_OK) {
		now = tsig_now();
		if (!tsig_verify(c->tsig_keys, c->tsig_key_count, NULL, 0, pkt, len, scratch->tsig_at, now,
				 &tsig))
			status = WIRE_PARSE_FORMERR;
		else
			tsig_room = tsig.error == TSIG_BADKEY || tsig.error == TSIG_BADSIG
					? tsig_unsigned_size(&tsig)
					: tsig_record_size(tsig.key);
	}

	/* Field by field: an initializer would zero the builder's compression table, 1 KB per query,
	 * which wire_build_start does not need. */
	struct answer a;
	a.snap = snap;
	a.q = scratch;
	a.pkt = pkt;
	a.len = len;
	a.peer = peer;
	a.transport = transport;
	a.truncated = false;
	a.rcode = WIRE_RCODE_NOERROR;
	a.seed = (uint32_t)stats->queries;
	a.static_only = static_only;
	a.needs_dynamic = false;
	a.client_known = false;
	a.region_known = false;
	a.client_dependent = false;
	a.region = a.scope = 0;
	a.ede = 0;
	a.ede_text = NULL;
	a.zone_signed = a.dnssec = false;
	a.signed_with = tsig_room && tsig.error == TSIG_NOERROR ? tsig.key : NULL;
	if (limit <= tsig_room || !wire_build_start(&a.b, out, limit - tsig_room, scratch)) {
		stats->dropped++;
		return 0;
	}
	struct wire_edns_reply edns = {.payload = (uint16_t)c->udp_payload, .do_bit = scratch->edns_do};
	uint8_t cookie[COOKIE_REPLY_LEN];
	enum cookie_verdict cookie_verdict = COOKIE_CLIENT_ONLY;
	if (scratch->has_edns) {
		stats->edns++;
		edns_reply_start(&a, &edns, cookie, &cookie_verdict, &status);
	}
	struct wire_mark empty;
	wire_build_mark(&a.b, &empty);

	switch (status) {
	case WIRE_PARSE_OK:
		if (tsig_room && tsig.error != TSIG_NOERROR)
			a.rcode = WIRE_RCODE_NOTAUTH;
		else
			answer_question(&a);
		break;
	case WIRE_PARSE_FORMERR:
		a.rcode = WIRE_RCODE_FORMERR;
		/* RFC 7873 5.4: no question, only a cookie: the client asks for a server cookie */
		if (scratch->empty_question && edns.cookie && scratch->edns_version == 0) {
			a.rcode = cookie_verdict == COOKIE_INVALID ? WIRE_RCODE_BADCOOKIE & 0xF
								   : WIRE_RCODE_NOERROR;
			if (cookie_verdict == COOKIE_INVALID)
				edns.ext_rcode = WIRE_RCODE_BADCOOKIE >> 4;
		}
		break;
	case WIRE_PARSE_NOTIMP:
		a.rcode = WIRE_RCODE_NOTIMP;
		break;
	case WIRE_PARSE_BADVERS:
		edns.ext_rcode = WIRE_RCODE_BADVERS >> 4;
		edns.nsid = NULL;
		stats->badvers++;
		break;
	case WIRE_PARSE_DROP:
		break;
	}
	if (a.truncated) {
		wire_build_rollback(&a.b, &empty);
		wire_build_set_flags(&a.b, WIRE_FLAG_TC);
		stats->truncated++;
	}
	/* Scope 0 tells the resolver the answer holds for every client (RFC 7871 7.2.1). */
	edns.ecs_scope_prefix = a.client_dependent && scratch->ecs_source_prefix > 0 ? (uint8_t)a.scope : 0;
	wire_build_set_rcode(&a.b, a.rcode);
	count_rcode(stats, a.rcode);
	if (a.region_known && !a.truncated) /* the answer holds a dynamic record's values */
		region_counts_add(snap->region_counts, stats->thread_slot, a.region);
	/* A refusal's sections are empty, so its reason fits where the answer would have gone. */
	if (a.ede && status == WIRE_PARSE_OK) {
		edns.ede = true;
		edns.ede_code = a.ede;
		edns.ede_text = a.ede_text;
	}
	/* A refusal's reason always fits: the longest (a 255-octet name, NSID, client subnet and a
	 * cookie) stays within 512 octets (test_query's longest_refusal_fits_512). */
	if (scratch->has_edns)
		wire_build_opt(&a.b, &edns);
	if (needs_dynamic)
		*needs_dynamic = a.needs_dynamic;
	if (zone_signed)
		*zone_signed = a.zone_signed;
	size_t n = wire_build_finish(&a.b);
	if (!tsig_room)
		return n;
	if (tsig.error == TSIG_NOERROR)
		stats->tsig_verified++;
	else
		stats->tsig_failed++;
	if (tsig.error == TSIG_BADKEY || tsig.error == TSIG_BADSIG) /* unsigned: we cannot (5.2.1, 5.2.2) */
		return tsig_append_unsigned(&tsig, out, n, limit);
	struct tsig_signer signer;
	tsig_signer_response(&signer, &tsig);
	return tsig_sign(&signer, out, n, limit, now, tsig.error);
}

size_t query_answer(const struct snapshot *snap, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
		    enum query_transport transport, struct wire_query *scratch, struct query_stats *stats)
{
	struct prepared_query q;
	prepared_read(pkt, len, &q);
	return query_answer_read(snap, &q, pkt, len, peer, out, out_cap, transport, scratch, stats);
}

void query_read(const struct snapshot *snap, const uint8_t *pkt, size_t len, struct prepared_query *q)
{
	prepared_read(pkt, len, q);
	if (snap->prepared)
		prepared_prefetch_slot(snap->prepared, q);
}

void query_prefetch(const struct snapshot *snap, const struct prepared_query *q)
{
	if (snap->prepared)
		prepared_prefetch_answer(snap->prepared, q);
}

size_t query_answer_read(const struct snapshot *snap, const struct prepared_query *q, const uint8_t *pkt,
			 size_t len, const struct sockaddr_storage *peer, uint8_t *out, size_t out_cap,
			 enum query_transport transport, struct wire_query *scratch,
			 struct query_stats *stats)
{
	query_count_transport(stats, transport, peer);
	if (q->plain) /* read already; the general path's parse reads the others' question */
		query_count_qtype(stats, q->qtype);
	size_t n = prepared_answer_read(snap, q, pkt, peer, out, out_cap, transport, stats);
	if (n)
		return n;
	n = answer_built(snap, pkt, len, peer, out, out_cap, transport, scratch, stats, false, NULL, NULL);
	if (!q->plain && scratch->has_question)
		query_count_qtype(stats, scratch->qtype);
	return n;
}

size_t query_answer_static(const struct snapshot *snap, const uint8_t *pkt, size_t len, uint8_t *out,
			   size_t out_cap, struct wire_query *scratch, bool *complete, bool *signed_zone)
{
	struct query_stats stats = {0};
	bool needs_dynamic = false;
	size_t n = answer_built(snap, pkt, len, NULL, out, out_cap, QUERY_TCP, scratch, &stats, true,
				&needs_dynamic, signed_zone);
	*complete = n > 0 && !needs_dynamic && stats.truncated == 0;
	return n;
}
