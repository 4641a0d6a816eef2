/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file answer.c
 * \brief Turn an upstream answer packet into a per-type result.
 *
 * libunbound's summary TTL (ub_result.ttl) is the minimum over the whole
 * answer section, but its data[] holds no owner names and it says nothing
 * about negative TTLs beyond one number, so the packet itself is parsed:
 * the CNAME chain is followed from the question name, each hop's TTL taken,
 * the address RRset at the chain's end collected, and for NXDOMAIN/NODATA
 * the RFC 2308 TTL read from the SOA (min of its TTL and MINIMUM).
 *
 * The packet is untrusted input (fuzzed in tests/fuzz): anything that does
 * not parse, or address rdata of the wrong size, is EMALFORMED; a chain
 * longer than the limit is ELOOP; a chain that visibly revisits a name is a
 * loop and, as draft-aname asks, an empty answer.
 */
#include "answer.h"

#include "name.h"
#include "result.h"

#include <ldns/ldns.h>
#include <string.h>

#define MAX_HOPS 32

/* The names visited along the chain; borrowed from the packet. */
struct walk {
	ldns_rdf *names[MAX_HOPS + 1];
	size_t n;
};

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

static ldns_rr *find_cname(ldns_rr_list *an, const ldns_rdf *owner)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), owner) == 0) {
			return rr;
		}
	}
	return NULL;
}

static bool seen(const struct walk *w, const ldns_rdf *name)
{
	for (size_t i = 0; i < w->n; i++) {
		if (ldns_dname_compare(w->names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* RFC 2308 section 5: the negative TTL is min(SOA TTL, SOA MINIMUM). */
static bool negative_ttl(ldns_pkt *pkt, uint32_t *ttl)
{
	ldns_rr_list *ns = ldns_pkt_authority(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ns, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    ldns_rr_rd_count(rr) != 7) {
			continue;
		}
		ldns_rdf *min = ldns_rr_rdf(rr, 6);
		if (ldns_rdf_size(min) != 4) {
			return false;
		}
		uint32_t m = ldns_rdf2native_int32(min);
		uint32_t t = ldns_rr_ttl(rr);
		*ttl = t < m ? t : m;
		return true;
	}
	return false;
}

static int status_of_rcode(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NOERROR:
	case LDNS_RCODE_NXDOMAIN:
		return ANAME_OK;
	case LDNS_RCODE_REFUSED:
		return ANAME_EREFUSED;
	default:
		return ANAME_ESERVFAIL;
	}
}

int aname__answer_from_packet(const uint8_t *pkt_wire, size_t len, int rcode,
			      bool secure, bool bogus, const char *qname_text,
			      uint16_t qtype,
			      const struct aname_answer_limits *lim,
			      uint64_t now_ms, aname_result_t **out)
{
	ldns_pkt *pkt = NULL;
	ldns_rdf *qname = NULL;
	struct walk w = {.n = 0};
	aname_result_t *res = NULL;
	int rc = status_of_rcode(rcode);
	*out = NULL;
	if (bogus) {
		return ANAME_EBOGUS;
	}
	if (rc != ANAME_OK) {
		return rc;
	}
	if (pkt_wire == NULL ||
	    ldns_wire2pkt(&pkt, pkt_wire, len) != LDNS_STATUS_OK) {
		return ANAME_EMALFORMED;
	}
	if (ldns_str2rdf_dname(&qname, qname_text) != LDNS_STATUS_OK) {
		rc = ANAME_EBADNAME;
		goto done;
	}
	ldns_rr_list *an = ldns_pkt_answer(pkt);
	uint32_t ttl = UINT32_MAX;
	ldns_rdf *cur = qname;
	w.names[w.n++] = cur;
	unsigned chain = 0;
	bool loop = false;
	for (;;) {
		ldns_rr *cn = find_cname(an, cur);
		if (cn == NULL) {
			break;
		}
		ldns_rdf *next = ldns_rr_rdf(cn, 0);
		if (next == NULL ||
		    ldns_rdf_get_type(next) != LDNS_RDF_TYPE_DNAME) {
			rc = ANAME_EMALFORMED;
			goto done;
		}
		ttl = ldns_rr_ttl(cn) < ttl ? ldns_rr_ttl(cn) : ttl;
		chain++;
		/* The limit first: a loop closed by the hop past the limit is
		 * as over-long as any other chain of that length. */
		if (chain > lim->max_chain || w.n >= MAX_HOPS) {
			rc = ANAME_ELOOP;
			goto done;
		}
		if (seen(&w, next)) {
			loop = true;
			break;
		}
		w.names[w.n++] = next;
		cur = next;
	}
	/* Collect the address RRset at the end of the chain. */
	size_t count = 0;
	size_t alen = qtype == ANAME_RRTYPE_A ? 4 : 16;
	uint32_t set_ttl = UINT32_MAX;
	for (size_t i = 0; !loop && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != qtype ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0) {
			continue;
		}
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		if (ldns_rr_rd_count(rr) != 1 || rd == NULL ||
		    ldns_rdf_size(rd) != alen) {
			rc = ANAME_EMALFORMED;
			goto done;
		}
		set_ttl = ldns_rr_ttl(rr) < set_ttl ? ldns_rr_ttl(rr) : set_ttl;
		count++;
	}
	if (count > 0 && rcode != LDNS_RCODE_NOERROR) {
		rc = ANAME_EMALFORMED; /* addresses in an NXDOMAIN answer */
		goto done;
	}
	res = aname__result_new(qtype, qname_text, count);
	if (res == NULL) {
		rc = ANAME_ENOMEM;
		goto done;
	}
	uint8_t *addrs = aname__result_addrs(res);
	size_t k = 0;
	for (size_t i = 0; k < count && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == qtype &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0) {
			memcpy(addrs + k * alen, ldns_rdf_data(ldns_rr_rdf(rr, 0)),
			       alen);
			k++;
		}
	}
	if (count > 0) {
		ttl = set_ttl < ttl ? set_ttl : ttl;
		ttl = clamp(ttl, lim->min_ttl, lim->max_ttl);
	} else {
		uint32_t neg = 0;
		/* Without an SOA there is no negative TTL to honour: the
		 * answer is delivered but not cached (TTL 0). */
		if (loop || !negative_ttl(pkt, &neg)) {
			neg = 0;
		}
		ttl = neg < ttl ? neg : ttl;
		ttl = ttl > lim->neg_max_ttl ? lim->neg_max_ttl : ttl;
	}
	res->status = ANAME_OK;
	res->rcode = (int8_t)(loop ? LDNS_RCODE_NOERROR : rcode);
	res->ttl = ttl;
	res->chain = (uint8_t)chain;
	res->secure = secure ? 1 : 0;
	res->stale_ttl = lim->stale_ttl;
	/* libunbound reports whole seconds left, so its copy lives up to a
	 * second longer than ttl * 1000 from now.  Expiring with it, not
	 * before it, means a refresh at our expiry reaches the upstream
	 * instead of getting libunbound's last second back.  Reported TTLs
	 * never exceed ttl (aname__result_ttl_at). */
	res->expire_ms = now_ms + (ttl > 0 ? (uint64_t)ttl * 1000u + 999u
					  : ANAME_TTL0_HOLD_MS);
	*out = res;
	res = NULL;
	rc = ANAME_OK;
done:
	ldns_rdf_deep_free(qname);
	ldns_pkt_free(pkt);
	aname_result_unref(res);
	return rc;
}
