/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server: answering one query from the zones and the library.
 *
 * Hot path for a cached ALIAS: zone hash lookup, aname_cache_lookup(),
 * aname_synth_wire() straight into the response buffer.  A miss defers
 * the query; the library's callback writes the answer.
 */
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Owner name of every answer record: a pointer to the question name. */
static const uint8_t QNAME_PTR[2] = { 0xc0, DNS_HDR_LEN };

/* Append an RRset with owner = the question name. */
static void add_rrset(dns_resp_t *r, enum dns_section sec, const zrrset_t *s)
{
	size_t need = s->wlen + 2u * s->count;
	if (need > dns_resp_room(r)) {
		r->truncated = 1;
		return;
	}
	const uint8_t *w = s->wire;
	uint8_t *out = r->buf + r->len;
	for (unsigned i = 0; i < s->count; i++) {
		size_t rl = 10u + (size_t)(w[8] << 8 | w[9]);
		memcpy(out, QNAME_PTR, 2);
		memcpy(out + 2, w, rl);
		out += 2 + rl;
		w += rl;
	}
	dns_resp_commit(r, sec, need, s->count);
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

/* The deferred state of an ALIAS query. */
struct pending {
	srv_app_t *app;
	zoneset_t *zs;              /* keeps zone and node alive */
	const zone_t *zone;
	const znode_t *node;
};

/* Build the answer at an ALIAS owner from a result (NULL = failure). */
static size_t alias_answer(srv_app_t *a, const dns_query_t *q,
			   const zone_t *z, const znode_t *n,
			   const aname_result_t *res, uint8_t *buf, size_t cap)
{
	dns_resp_t r;
	if (dns_resp_init(&r, buf, cap, q, DNS_FLAG_AA) != 0)
		return DNSLOOP_DROP;
	if (!result_ok(res, q->qtype)) {
		SRV_STAT_ADD(a, alias_servfail);
		/* SERVFAIL is not authoritative data. */
		r.buf[2] &= (uint8_t)~(DNS_FLAG_AA >> 8);
		return dns_resp_finish(&r, DNS_RCODE_SERVFAIL);
	}
	if (q->qtype == DNS_TYPE_ANY) {
		/* Every RRset at the owner, then the addresses (as PowerDNS
		 * answers ANY at an ALIAS owner). */
		for (const zrrset_t *s = n->rrsets; s; s = s->next)
			add_rrset(&r, DNS_AN, s);
	} else if (a->include_alias && n->alias_rrset) {
		add_rrset(&r, DNS_AN, n->alias_rrset);
	}
	size_t w = 0;
	int k = aname_synth_wire(res, synth_type(q->qtype), q->qname, q->qname_len,
				 n->alias_ttl, r.buf + r.len, dns_resp_room(&r),
				 &w);
	if (k == ANAME_ENOSPC) {
		r.truncated = 1;
	} else if (k < 0) {
		SRV_STAT_ADD(a, alias_servfail);
		r.buf[2] &= (uint8_t)~(DNS_FLAG_AA >> 8);
		return dns_resp_finish(&r, DNS_RCODE_SERVFAIL);
	} else {
		dns_resp_commit(&r, DNS_AN, w, (unsigned)k);
	}
	if (k == 0 && q->qtype != DNS_TYPE_ANY) {
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
	aname_result_t *res = NULL;
	/* The ALIAS record's rdata is the target in wire form (after type,
	 * class, ttl and rdlength): looking it up as such skips the text
	 * parser on every cached answer. */
	const uint8_t *rr = n->alias_rrset->wire;
	size_t tlen = (size_t)rr[8] << 8 | rr[9];
	/* ANY needs both types in one result: the library's resolve (which
	 * completes from the cache on the next loop turn when it can). */
	int rc = q->qtype == DNS_TYPE_ANY ? ANAME_EAGAIN :
		 aname_cache_lookup_wire(a->ctx, rr + 10, tlen, q->qtype,
					 ANAME_LOOKUP_FETCH |
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
	rc = aname_resolve(a->ctx, n->alias, synth_type(q->qtype), a->timeout_ms,
			   on_resolved, k, &k->qid);
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
		const zrrset_t *s = znode_rrset(n, q->qtype);
		if (!s)
			s = znode_rrset(n, DNS_TYPE_CNAME);
		if (s)
			add_rrset(&r, DNS_AN, s);
	}
	if (r.counts[DNS_AN] == 0 && !r.truncated)
		add_soa(&r, z);
	return dns_resp_finish(&r, DNS_RCODE_NOERROR);
}
