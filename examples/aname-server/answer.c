/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server: answering one query from the zones and the library.
 *
 * Hot path for a cached ALIAS: zone hash lookup, aname_cache_lookup(),
 * aname_synth_wire() straight into the response buffer.  A miss defers
 * the query; the library's callback writes the answer.  An ALIAS whose
 * target lies in our own zones is answered from zone data (the chain was
 * followed at load, zone.c), with no upstream query.
 */
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Owner name of every answer record: a pointer to the question name. */
static const uint8_t QNAME_PTR[2] = { 0xc0, DNS_HDR_LEN };

/*
 * Append an RRset at \a owner (wire, or QNAME_PTR), each TTL capped at
 * \a ttl_cap.  In the answer section a set that does not fit truncates the
 * response; in Additional it is left out (RFC 2181 section 9: optional).
 */
static void add_rrset_at(dns_resp_t *r, enum dns_section sec,
			 const uint8_t *owner, size_t olen, const zrrset_t *s,
			 uint32_t ttl_cap)
{
	size_t need = s->wlen + olen * s->count;
	if (need > dns_resp_room(r)) {
		if (sec != DNS_AR)
			r->truncated = 1;
		return;
	}
	const uint8_t *w = s->wire;
	uint8_t *out = r->buf + r->len;
	for (unsigned i = 0; i < s->count; i++) {
		size_t rl = 10u + (size_t)(w[8] << 8 | w[9]);
		memcpy(out, owner, olen);
		memcpy(out + olen, w, rl);
		uint8_t *ttl = out + olen + 4;
		uint32_t t = (uint32_t)ttl[0] << 24 | (uint32_t)ttl[1] << 16 |
			     (uint32_t)ttl[2] << 8 | ttl[3];
		if (t > ttl_cap) {
			ttl[0] = (uint8_t)(ttl_cap >> 24);
			ttl[1] = (uint8_t)(ttl_cap >> 16);
			ttl[2] = (uint8_t)(ttl_cap >> 8);
			ttl[3] = (uint8_t)ttl_cap;
		}
		out += olen + rl;
		w += rl;
	}
	dns_resp_commit(r, sec, need, s->count);
}

static void add_rrset(dns_resp_t *r, enum dns_section sec, const zrrset_t *s)
{
	add_rrset_at(r, sec, QNAME_PTR, sizeof(QNAME_PTR), s, UINT32_MAX);
}

static void add_soa(dns_resp_t *r, const zone_t *z)
{
	if (z->soa_neg)
		dns_resp_add(r, DNS_NS, z->soa_neg, z->soa_neg_len, 1);
}

/* The library type for a query at an ALIAS owner: ANY gets both. */
static uint16_t synth_type(uint16_t qtype)
{
	return qtype == DNS_TYPE_ANY ? ANAME_RRTYPE_BOTH : qtype;
}

/* Did the resolution give a DNS answer (addresses, NXDOMAIN, NODATA)? */
static int result_ok(const aname_result_t *res, uint16_t qtype)
{
	if (!res)
		return 0;
	if (qtype == DNS_TYPE_ANY)
		return aname_result_status(res, ANAME_RRTYPE_A) == ANAME_OK ||
		       aname_result_status(res, ANAME_RRTYPE_AAAA) == ANAME_OK;
	return aname_result_status(res, qtype) == ANAME_OK;
}

/*
 * The addresses of an ALIAS owner \a n whose chain ends in our zones,
 * at \a owner: the A/AAAA RRsets of the final node, TTL capped by the
 * chain.  Returns the records added.
 */
static unsigned add_local_addrs(dns_resp_t *r, enum dns_section sec,
				const uint8_t *owner, size_t olen,
				const znode_t *n, uint16_t qtype)
{
	unsigned before = r->counts[sec];
	if (n->via != ALIAS_LOCAL)
		return 0;
	static const uint16_t types[2] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	for (int i = 0; i < 2; i++) {
		if (qtype != DNS_TYPE_ANY && qtype != types[i])
			continue;
		const zrrset_t *s = znode_rrset(n->local, types[i]);
		if (s)
			add_rrset_at(r, sec, owner, olen, s, n->chain_ttl);
	}
	return r->counts[sec] - before;
}

/*
 * The addresses of an ALIAS owner \a n whose chain leaves our zones, for
 * Additional: from the cache only, never waiting (a miss starts a
 * fetch, so the next answer has them).
 */
static void add_cached_addrs(srv_app_t *a, dns_resp_t *r, const uint8_t *owner,
			     size_t olen, const znode_t *n)
{
	static const uint16_t types[2] = { ANAME_RRTYPE_A, ANAME_RRTYPE_AAAA };
	for (int i = 0; i < 2; i++) {
		aname_result_t *res = NULL;
		if (aname_cache_lookup_wire(a->ctx, n->up_wire, n->up_len,
					    types[i], ANAME_LOOKUP_FETCH |
						    ANAME_LOOKUP_STALE,
					    &res) != ANAME_OK)
			continue;
		size_t w = 0;
		int k = aname_synth_wire(res, types[i], owner, olen,
					 n->chain_ttl, r->buf + r->len,
					 dns_resp_room(r), &w);
		if (k > 0)
			dns_resp_commit(r, DNS_AR, w, (unsigned)k);
		aname_result_unref(res);
	}
}

/* Addresses of node \a n (named \a owner) for Additional, without
 * waiting: zone data, a local ALIAS chain, or the cache. */
static void add_node_addrs(srv_app_t *a, dns_resp_t *r, const uint8_t *owner,
			   size_t olen, const znode_t *n)
{
	if (!n->alias) {
		const zrrset_t *s = znode_rrset(n, DNS_TYPE_A);
		if (s)
			add_rrset_at(r, DNS_AR, owner, olen, s, UINT32_MAX);
		s = znode_rrset(n, DNS_TYPE_AAAA);
		if (s)
			add_rrset_at(r, DNS_AR, owner, olen, s, UINT32_MAX);
	} else if (n->via == ALIAS_LOCAL) {
		add_local_addrs(r, DNS_AR, owner, olen, n, DNS_TYPE_ANY);
	} else if (n->via == ALIAS_UPSTREAM) {
		add_cached_addrs(a, r, owner, olen, n);
	}
}

/*
 * RFC 9460 section 4.3: for each SVCB/HTTPS record in the answer, the
 * addresses of its TargetName in Additional when the name is ours ("."
 * in ServiceMode is the owner itself), and for an AliasMode target of
 * ours its own RRset of the same type.  From zone data and the cache
 * only: an answer never waits for Additional.
 */
#define SVCB_SEEN_MAX 8

struct svcb_seen {
	const znode_t *n[SVCB_SEEN_MAX];
	unsigned count;
};

/* First time \a n is a target in this answer?  (Then remember it.) */
static int first_visit(struct svcb_seen *seen, const znode_t *n)
{
	for (unsigned i = 0; i < seen->count; i++)
		if (seen->n[i] == n)
			return 0;
	if (seen->count == SVCB_SEEN_MAX)
		return 0;   /* enough Additional for one answer */
	seen->n[seen->count++] = n;
	return 1;
}

static void add_svcb_additional(srv_app_t *a, dns_resp_t *r,
				const zoneset_t *zs, const znode_t *owner,
				const zrrset_t *s, int depth,
				struct svcb_seen *seen)
{
	const uint8_t *w = s->wire;
	for (unsigned i = 0; i < s->count; i++) {
		size_t rdlen = (size_t)(w[8] << 8 | w[9]);
		const uint8_t *rd = w + 10;
		w += 10 + rdlen;
		if (rdlen < 3)
			continue;
		unsigned prio = (unsigned)(rd[0] << 8 | rd[1]);
		const uint8_t *t = rd + 2;
		size_t tl = 0;
		while (2 + tl < rdlen && t[tl] != 0)
			tl += 1u + t[tl];
		if (2 + tl >= rdlen)
			continue;   /* no terminated name (zone.c checked) */
		tl++;
		if (tl == 1) {
			/* "." : ServiceMode means the owner; AliasMode means
			 * no service. */
			if (prio != 0 && first_visit(seen, owner))
				add_node_addrs(a, r, owner->name,
					       owner->namelen, owner);
			continue;
		}
		uint8_t lt[255];
		dns_name_lower(lt, t, tl);
		const znode_t *m = zoneset_lookup(zs, lt, tl);
		if (!m || m == owner || !first_visit(seen, m))
			continue;
		add_node_addrs(a, r, m->name, m->namelen, m);
		const zrrset_t *next = znode_rrset(m, s->type);
		if (prio == 0 && next && depth == 0) {
			add_rrset_at(r, DNS_AR, m->name, m->namelen, next,
				     UINT32_MAX);
			add_svcb_additional(a, r, zs, m, next, depth + 1, seen);
		}
	}
}

/* draft-aname 6.1.2: a query for the ALIAS type gets the record and the
 * owner's addresses in Additional, without waiting. */
static size_t alias_type_answer(srv_app_t *a, const dns_query_t *q,
				const znode_t *n, uint8_t *buf, size_t cap)
{
	dns_resp_t r;
	if (dns_resp_init(&r, buf, cap, q, DNS_FLAG_AA) != 0)
		return DNSLOOP_DROP;
	add_rrset(&r, DNS_AN, n->alias_rrset);
	if (n->via == ALIAS_LOCAL)
		add_local_addrs(&r, DNS_AR, QNAME_PTR, sizeof(QNAME_PTR), n,
				DNS_TYPE_ANY);
	else if (n->via == ALIAS_UPSTREAM)
		add_cached_addrs(a, &r, q->qname, q->qname_len, n);
	return dns_resp_finish(&r, DNS_RCODE_NOERROR);
}

/* The deferred state of an ALIAS query. */
struct pending {
	srv_app_t *app;
	zoneset_t *zs;              /* keeps zone and node alive */
	const zone_t *zone;
	const znode_t *node;
};

static size_t servfail(srv_app_t *a, dns_resp_t *r)
{
	SRV_STAT_ADD(a, alias_servfail);
	/* SERVFAIL is not authoritative data. */
	r->buf[2] &= (uint8_t)~(DNS_FLAG_AA >> 8);
	return dns_resp_finish(r, DNS_RCODE_SERVFAIL);
}

/*
 * Build the answer at an ALIAS owner: the owner's own RRsets for ANY, the
 * ALIAS record for A/AAAA (draft-aname 6.1.1) unless turned off, then the
 * addresses, from \a res (NULL = failure) or our own zones.
 */
static size_t alias_answer(srv_app_t *a, const dns_query_t *q,
			   const zone_t *z, const znode_t *n,
			   const aname_result_t *res, uint8_t *buf, size_t cap)
{
	dns_resp_t r;
	if (dns_resp_init(&r, buf, cap, q, DNS_FLAG_AA) != 0)
		return DNSLOOP_DROP;
	if (n->via == ALIAS_LOOP || (n->via == ALIAS_UPSTREAM &&
				     !result_ok(res, q->qtype)))
		return servfail(a, &r);
	if (q->qtype == DNS_TYPE_ANY) {
		/* Every RRset at the owner, then the addresses (as PowerDNS
		 * answers ANY at an ALIAS owner). */
		for (const zrrset_t *s = n->rrsets; s; s = s->next)
			add_rrset(&r, DNS_AN, s);
	} else if (a->include_alias) {
		add_rrset(&r, DNS_AN, n->alias_rrset);
	}
	int k = 0;
	if (n->via == ALIAS_UPSTREAM) {
		size_t w = 0;
		if (aname_result_secure(res))   /* with --trust-anchor */
			SRV_STAT_ADD(a, alias_secure);
		k = aname_synth_wire(res, synth_type(q->qtype), q->qname,
				     q->qname_len, n->chain_ttl, r.buf + r.len,
				     dns_resp_room(&r), &w);
		if (k == ANAME_ENOSPC)
			r.truncated = 1;
		else if (k < 0)
			return servfail(a, &r);
		else
			dns_resp_commit(&r, DNS_AN, w, (unsigned)k);
	} else {
		k = (int)add_local_addrs(&r, DNS_AN, QNAME_PTR,
					 sizeof(QNAME_PTR), n, q->qtype);
	}
	if (k == 0 && !r.truncated && q->qtype != DNS_TYPE_ANY) {
		/* Target NXDOMAIN or NODATA: NODATA here (draft-aname 3). */
		SRV_STAT_ADD(a, alias_nodata);
		add_soa(&r, z);
	}
	return dns_resp_finish(&r, DNS_RCODE_NOERROR);
}

static void on_resolved(void *arg, int status, const aname_result_t *res)
{
	dnsloop_req_t *req = arg;
	struct pending *p = req->user;
	uint8_t buf[DNS_MAX_MSG];
	size_t len = alias_answer(p->app, &req->q,
				  p->zone, p->node, status == ANAME_OK ? res : NULL,
				  buf, dnsloop_req_maxlen(req));
	zoneset_unref(p->zs);
	free(p);
	req->user = NULL;
	dnsloop_answer(req, buf, len);
}

int answer_expire(void *app, dnsloop_req_t *req)
{
	srv_app_t *a = app;
	if (aname_cancel(a->ctx, req->qid) != ANAME_OK)
		return 0;
	struct pending *p = req->user;
	zoneset_unref(p->zs);
	free(p);
	SRV_STAT_ADD(a, alias_servfail);
	return 1;
}

static size_t alias_query(srv_app_t *a, dnsloop_req_t *req, zoneset_t *zs,
			  const zone_t *z, const znode_t *n, uint8_t *buf,
			  size_t cap)
{
	const dns_query_t *q = &req->q;
	if (n->via != ALIAS_UPSTREAM)
		return alias_answer(a, q, z, n, NULL, buf, cap);
	aname_result_t *res = NULL;
	/* The final target is kept in wire form: looking it up as such
	 * skips the text parser on every cached answer.  ANY needs both
	 * types in one result: the library's resolve (which completes from
	 * the cache on the next loop turn when it can). */
	int rc = q->qtype == DNS_TYPE_ANY ? ANAME_EAGAIN :
		 aname_cache_lookup_wire(a->ctx, n->up_wire, n->up_len,
					 q->qtype, ANAME_LOOKUP_FETCH |
						 ANAME_LOOKUP_STALE,
					 &res);
	if (rc == ANAME_OK) {
		SRV_STAT_ADD(a, alias_hits);
		size_t len = alias_answer(a, q, z, n, res, buf, cap);
		aname_result_unref(res);
		return len;
	}
	if (rc != ANAME_EAGAIN)
		return alias_answer(a, q, z, n, NULL, buf, cap);
	struct pending *p = malloc(sizeof(*p));
	dnsloop_req_t *k = p ? dnsloop_defer(req) : NULL;
	if (!k) {
		free(p);
		return alias_answer(a, q, z, n, NULL, buf, cap);
	}
	SRV_STAT_ADD(a, alias_deferred);
	p->app = a;
	p->zs = zoneset_ref(zs);
	p->zone = z;
	p->node = n;
	k->user = p;
	rc = aname_resolve(a->ctx, n->upstream, synth_type(q->qtype),
			   a->timeout_ms, on_resolved, k, &k->qid);
	if (rc != ANAME_OK) {
		zoneset_unref(p->zs);
		free(p);
		k->user = NULL;
		size_t len = alias_answer(a, q, z, n, NULL, buf, cap);
		dnsloop_answer(k, buf, len);
	}
	return DNSLOOP_DEFERRED;
}

size_t answer_query(void *app, dnsloop_req_t *req, uint8_t *buf, size_t cap)
{
	srv_app_t *a = app;
	const dns_query_t *q = &req->q;
	if (q->qclass != DNS_CLASS_IN) {
		SRV_STAT_ADD(a, refused);
		return dns_resp_error(buf, cap, q, DNS_RCODE_REFUSED, 0);
	}
	if (q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR) {
		/* No zone transfers: an empty NOERROR would read as a broken
		 * transfer ("first answer record isn't SOA"). */
		SRV_STAT_ADD(a, xfr_refused);
		return dns_resp_error(buf, cap, q, DNS_RCODE_REFUSED, 0);
	}
	if (q->qtype == DNS_TYPE_OPT)   /* a pseudo-type, never a question */
		return dns_resp_error(buf, cap, q, DNS_RCODE_FORMERR, 0);
	zoneset_t *zs = srv_zones(a);
	const zone_t *z = zoneset_find(zs, q->lname, q->qname_len);
	if (!z) {
		SRV_STAT_ADD(a, refused);
		return dns_resp_error(buf, cap, q, DNS_RCODE_REFUSED, 0);
	}
	const znode_t *n = zone_lookup(z, q->lname, q->qname_len);
	if (n && n->alias &&
	    (q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_AAAA ||
	     q->qtype == DNS_TYPE_ANY))
		return alias_query(a, req, zs, z, n, buf, cap);
	if (n && n->alias && q->qtype == DNS_TYPE_ALIAS)
		return alias_type_answer(a, q, n, buf, cap);

	dns_resp_t r;
	if (dns_resp_init(&r, buf, cap, q, DNS_FLAG_AA) != 0)
		return DNSLOOP_DROP;
	if (!n) {
		add_soa(&r, z);
		return dns_resp_finish(&r, DNS_RCODE_NXDOMAIN);
	}
	if (q->qtype == DNS_TYPE_ANY) {
		for (const zrrset_t *s = n->rrsets; s; s = s->next)
			add_rrset(&r, DNS_AN, s);
	} else {
		/* HTTPS/SVCB at an ALIAS owner are zone data like any other:
		 * never synthesized from the target. */
		const zrrset_t *s = znode_rrset(n, q->qtype);
		if (!s)
			s = znode_rrset(n, DNS_TYPE_CNAME);
		if (s)
			add_rrset(&r, DNS_AN, s);
		if (s && (s->type == DNS_TYPE_SVCB || s->type == DNS_TYPE_HTTPS)) {
			struct svcb_seen seen = { .count = 0 };
			add_svcb_additional(a, &r, zs, n, s, 0, &seen);
		}
	}
	if (r.counts[DNS_AN] == 0 && !r.truncated)
		add_soa(&r, z);
	return dns_resp_finish(&r, DNS_RCODE_NOERROR);
}
