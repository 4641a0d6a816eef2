/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file synth.c
 * \brief Synthesis of the sibling A/AAAA RRsets at the ALIAS owner.
 *
 * The TTL rule is draft-ietf-dnsop-aname-04 section 3 step 4: the
 * synthesized RRset lives no longer than the ALIAS record nor anything it
 * was derived from.  The result's TTL is already the minimum over the
 * CNAME chain and the target RRset (answer.c), clamped and counted down,
 * so here it only meets the ALIAS TTL.  The wire writer allocates nothing:
 * it is on a host's query path.
 */
#include "synth.h"

#include "clock.h"
#include "name.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

static bool valid_type(uint16_t t)
{
	return t == ANAME_RRTYPE_A || t == ANAME_RRTYPE_AAAA ||
	       t == ANAME_RRTYPE_BOTH;
}

/* The types to emit for \a rrtype, in order. */
static int types_of(uint16_t rrtype, uint16_t out[2])
{
	if (rrtype == ANAME_RRTYPE_BOTH) {
		out[0] = ANAME_RRTYPE_A;
		out[1] = ANAME_RRTYPE_AAAA;
		return 2;
	}
	out[0] = rrtype;
	return 1;
}

uint32_t aname_synth_ttl(const aname_result_t *res, uint16_t rrtype,
			 uint32_t alias_ttl)
{
	uint16_t types[2];
	uint32_t ttl = alias_ttl;
	if (res == NULL || !valid_type(rrtype)) {
		return 0;
	}
	int n = types_of(rrtype, types);
	for (int i = 0; i < n; i++) {
		if (aname_result_count(res, types[i]) > 0) {
			uint32_t t = aname_result_ttl(res, types[i]);
			ttl = t < ttl ? t : ttl;
		}
	}
	return ttl;
}

/* The per-type result holding \a type's addresses, or NULL. */
static const aname_result_t *addresses_of(const aname_result_t *res,
					  uint16_t type)
{
	const aname_result_t *p = res;
	if (res->rrtype == ANAME_RRTYPE_BOTH) {
		p = aname__result_pair(res)->parts[type == ANAME_RRTYPE_A ? 0
									 : 1];
	} else if (res->rrtype != type) {
		return NULL;
	}
	return p != NULL && p->status == ANAME_OK && p->count > 0 ? p : NULL;
}

/* A combined A+AAAA result, or a type asked of the other's result: out
 * of line (synth.h), so that the hit path pays for none of it. */
int aname__synth_general(const aname_result_t *res, uint16_t rrtype,
			 const uint8_t *owner, size_t owner_len,
			 uint32_t alias_ttl, uint64_t now_ms, uint8_t *buf,
			 size_t buflen, size_t *written)
{
	uint16_t types[2];
	const aname_result_t *sets[2];
	size_t pos = 0;
	int rrs = 0;
	uint32_t ttl = alias_ttl;
	int n = types_of(rrtype, types);
	for (int t = 0; t < n; t++) {
		sets[t] = addresses_of(res, types[t]);
		if (sets[t] != NULL) {
			uint32_t left = aname__result_ttl_at(sets[t], now_ms);
			ttl = left < ttl ? left : ttl;
		}
	}
	for (int t = 0; t < n; t++) {
		const aname_result_t *set = sets[t];
		if (set == NULL) {
			continue;
		}
		size_t alen = types[t] == ANAME_RRTYPE_A ? 4 : 16;
		size_t rrlen = owner_len + 10 + alen;
		if (buflen - pos < set->count * rrlen) {
			return ANAME_ENOSPC;
		}
		struct aname_rr_fixed fixed = aname__rr_fixed(types[t], ttl);
		for (size_t i = 0; i < set->count; i++) {
			aname__put_rr(buf + pos, owner, owner_len, fixed, alen,
			       set->data + i * alen);
			pos += rrlen;
			rrs++;
		}
	}
	*written = pos;
	return rrs;
}

int aname_synth_wire(const aname_result_t *res, uint16_t rrtype,
		     const uint8_t *owner, size_t owner_len,
		     uint32_t alias_ttl, uint8_t *buf, size_t buflen,
		     size_t *written)
{
	size_t pos = 0;
	if (written != NULL) {
		*written = 0;
	}
	if (res == NULL || buf == NULL || !valid_type(rrtype)) {
		return ANAME_EINVAL;
	}
	if (!aname__name_wire_ok(owner, owner_len)) {
		return ANAME_EBADNAME;
	}
	/* This is a host's query path: read the clock once, copy addresses
	 * straight out of the immutable result. */
	int rrs = aname__synth_wire_at(res, rrtype, owner, owner_len,
				       alias_ttl, aname__now_coarse_ms(), buf,
				       buflen, &pos);
	if (written != NULL && rrs >= 0) {
		*written = pos;
	}
	return rrs;
}

int aname_synth_text(const aname_result_t *res, uint16_t rrtype,
		     const char *owner, uint32_t alias_ttl, char *buf,
		     size_t buflen)
{
	uint8_t wire[ANAME_NAME_MAX];
	char otext[ANAME_TEXT_MAX];
	uint16_t types[2];
	size_t wlen;
	size_t total = 0;
	if (res == NULL || owner == NULL || (buf == NULL && buflen > 0) ||
	    !valid_type(rrtype)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(owner, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	rc = aname__name_to_text(wire, wlen, otext, sizeof(otext));
	if (rc < 0) {
		return rc;
	}
	if (buflen > 0) {
		buf[0] = '\0';
	}
	uint32_t ttl = aname_synth_ttl(res, rrtype, alias_ttl);
	int n = types_of(rrtype, types);
	for (int t = 0; t < n; t++) {
		size_t count = aname_result_count(res, types[t]);
		for (size_t i = 0; i < count; i++) {
			uint8_t addr[16];
			char atext[INET6_ADDRSTRLEN];
			int af = types[t] == ANAME_RRTYPE_A ? AF_INET
							    : AF_INET6;
			aname_result_addr(res, types[t], i, addr, sizeof(addr));
			inet_ntop(af, addr, atext, sizeof(atext));
			char *dst = total < buflen ? buf + total : NULL;
			size_t room = total < buflen ? buflen - total : 0;
			int w = snprintf(dst, room, "%s\t%u\tIN\t%s\t%s\n",
					 otext, (unsigned)ttl,
					 types[t] == ANAME_RRTYPE_A ? "A"
								    : "AAAA",
					 atext);
			if (w < 0) {
				return ANAME_EINVAL;
			}
			total += (size_t)w;
		}
	}
	return total > INT32_MAX ? ANAME_ENOSPC : (int)total;
}

int aname_synth_ldns(const aname_result_t *res, uint16_t rrtype,
		     const char *owner, uint32_t alias_ttl,
		     struct ldns_struct_rr_list **out)
{
	uint8_t wire[ANAME_NAME_MAX];
	uint16_t types[2];
	size_t wlen;
	if (out != NULL) {
		*out = NULL;
	}
	if (res == NULL || owner == NULL || out == NULL ||
	    !valid_type(rrtype)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(owner, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	ldns_rdf *owner_rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, wlen,
						    wire);
	ldns_rr_list *list = ldns_rr_list_new();
	if (owner_rdf == NULL || list == NULL) {
		goto nomem;
	}
	uint32_t ttl = aname_synth_ttl(res, rrtype, alias_ttl);
	int n = types_of(rrtype, types);
	for (int t = 0; t < n; t++) {
		size_t count = aname_result_count(res, types[t]);
		bool v4 = types[t] == ANAME_RRTYPE_A;
		for (size_t i = 0; i < count; i++) {
			uint8_t addr[16];
			aname_result_addr(res, types[t], i, addr, sizeof(addr));
			ldns_rr *rr = ldns_rr_new();
			ldns_rdf *owner_copy = ldns_rdf_clone(owner_rdf);
			ldns_rdf *rd = ldns_rdf_new_frm_data(
				v4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
				v4 ? 4 : 16, addr);
			if (rr == NULL || owner_copy == NULL || rd == NULL) {
				ldns_rr_free(rr);
				ldns_rdf_deep_free(owner_copy);
				ldns_rdf_deep_free(rd);
				goto nomem;
			}
			ldns_rr_set_owner(rr, owner_copy);
			ldns_rr_set_type(rr, v4 ? LDNS_RR_TYPE_A
						: LDNS_RR_TYPE_AAAA);
			ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
			ldns_rr_set_ttl(rr, ttl);
			ldns_rr_push_rdf(rr, rd);
			if (!ldns_rr_list_push_rr(list, rr)) {
				ldns_rr_free(rr);
				goto nomem;
			}
		}
	}
	ldns_rdf_deep_free(owner_rdf);
	*out = list;
	return ANAME_OK;
nomem:
	ldns_rdf_deep_free(owner_rdf);
	ldns_rr_list_deep_free(list);
	return ANAME_ENOMEM;
}
