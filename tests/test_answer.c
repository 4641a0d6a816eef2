/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Parsing upstream answer packets (lib/answer.c): packets are built with
 * ldns, including malformed and hostile ones.
 */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"

static const struct aname_answer_limits lim = {
	.max_chain = 8,
	.min_ttl = 0,
	.max_ttl = 86400,
	.neg_max_ttl = 3600,
	.stale_ttl = 30,
};

/* Build a response for qname/qtype with the given answer and authority
 * records (presentation format, NULL-terminated). */
static uint8_t *packet(const char *qname, uint16_t qtype, int rcode,
		       const char *const *an, const char *const *ns,
		       size_t *len)
{
	ldns_pkt *p = NULL;
	cr_assert_eq(ldns_pkt_query_new_frm_str(&p, qname, qtype,
						LDNS_RR_CLASS_IN, LDNS_RD),
		     LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (size_t i = 0; an != NULL && an[i] != NULL; i++) {
		ldns_rr *rr = NULL;
		cr_assert_eq(ldns_rr_new_frm_str(&rr, an[i], 0, NULL, NULL),
			     LDNS_STATUS_OK, "%s", an[i]);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; ns != NULL && ns[i] != NULL; i++) {
		ldns_rr *rr = NULL;
		cr_assert_eq(ldns_rr_new_frm_str(&rr, ns[i], 0, NULL, NULL),
			     LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	uint8_t *wire = NULL;
	cr_assert_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static int parse(const char *qname, uint16_t qtype, int rcode,
		 const char *const *an, const char *const *ns,
		 aname_result_t **out)
{
	size_t len;
	uint8_t *w = packet(qname, qtype, rcode, an, ns, &len);
	int rc = aname__answer_from_packet(w, len, rcode, false, false, qname,
					   qtype, &lim, 0, out);
	free(w);
	return rc;
}

Test(answer, chain_ttl_minimum_from_packet)
{
	const char *an[] = {"a.test. 1000 IN CNAME b.test.",
			    "b.test. 40 IN CNAME c.test.",
			    "c.test. 2000 IN A 192.0.2.1",
			    "c.test. 300 IN A 192.0.2.2", NULL};
	aname_result_t *r;
	cr_assert_eq(parse("a.test.", 1, 0, an, NULL, &r), ANAME_OK);
	cr_assert_eq(r->ttl, 40);
	cr_assert_eq(r->chain, 2);
	cr_assert_eq(r->count, 2);
	aname_result_unref(r);
}

Test(answer, ignores_records_off_the_chain)
{
	const char *an[] = {"a.test. 300 IN A 192.0.2.1",
			    "evil.test. 1 IN A 203.0.113.66",
			    "a.test. 300 IN AAAA 2001:db8::1", NULL};
	aname_result_t *r;
	cr_assert_eq(parse("a.test.", 1, 0, an, NULL, &r), ANAME_OK);
	cr_assert_eq(r->count, 1);
	cr_assert_eq(r->ttl, 300);
	aname_result_unref(r);
}

Test(answer, negative_ttl_rfc2308)
{
	const char *ns[] = {"test. 3600 IN SOA ns.test. h.test. 1 2 3 4 120",
			    NULL};
	aname_result_t *r;
	cr_assert_eq(parse("x.test.", 1, 3, NULL, ns, &r), ANAME_OK);
	cr_assert_eq(r->rcode, 3);
	cr_assert_eq(r->count, 0);
	cr_assert_eq(r->ttl, 120, "min(SOA TTL, MINIMUM)");
	aname_result_unref(r);
	cr_assert_eq(parse("x.test.", 1, 0, NULL, NULL, &r), ANAME_OK);
	cr_assert_eq(r->ttl, 0, "no SOA: not cacheable");
	aname_result_unref(r);
}

Test(answer, ttl_clamps)
{
	struct aname_answer_limits l = lim;
	l.min_ttl = 60;
	l.max_ttl = 100;
	const char *an[] = {"a.test. 5 IN A 192.0.2.1", NULL};
	const char *an2[] = {"a.test. 5000 IN A 192.0.2.1", NULL};
	size_t len;
	aname_result_t *r;
	uint8_t *w = packet("a.test.", 1, 0, an, NULL, &len);
	cr_assert_eq(aname__answer_from_packet(w, len, 0, false, false,
					       "a.test.", 1, &l, 0, &r),
		     ANAME_OK);
	cr_assert_eq(r->ttl, 60);
	aname_result_unref(r);
	free(w);
	w = packet("a.test.", 1, 0, an2, NULL, &len);
	cr_assert_eq(aname__answer_from_packet(w, len, 0, false, false,
					       "a.test.", 1, &l, 0, &r),
		     ANAME_OK);
	cr_assert_eq(r->ttl, 100);
	aname_result_unref(r);
	free(w);
}

Test(answer, visible_loop_is_empty_answer)
{
	const char *an[] = {"a.test. 300 IN CNAME b.test.",
			    "b.test. 300 IN CNAME a.test.", NULL};
	aname_result_t *r;
	cr_assert_eq(parse("a.test.", 1, 0, an, NULL, &r), ANAME_OK);
	cr_assert_eq(r->count, 0);
	cr_assert_eq(r->rcode, 0);
	aname_result_unref(r);
}

Test(answer, chain_limit)
{
	const char *an[12];
	char buf[11][64];
	for (int i = 0; i < 10; i++) {
		snprintf(buf[i], sizeof(buf[i]), "n%d.test. 300 IN CNAME n%d.test.",
			 i, i + 1);
		an[i] = buf[i];
	}
	an[10] = "n10.test. 300 IN A 192.0.2.1";
	an[11] = NULL;
	aname_result_t *r;
	cr_assert_eq(parse("n0.test.", 1, 0, an, NULL, &r), ANAME_ELOOP);
	cr_assert_null(r);
	an[9] = "n9.test. 300 IN A 192.0.2.1"; /* 9 CNAMEs? no: 9 hops */
	an[10] = NULL;
	snprintf(buf[8], sizeof(buf[8]), "n8.test. 300 IN CNAME n9.test.");
	cr_assert_eq(parse("n0.test.", 1, 0, an, NULL, &r), ANAME_ELOOP,
		     "9 CNAMEs > 8");
	an[8] = "n8.test. 300 IN A 192.0.2.1";
	an[9] = NULL;
	cr_assert_eq(parse("n0.test.", 1, 0, an, NULL, &r), ANAME_OK,
		     "8 CNAMEs are allowed");
	cr_assert_eq(r->chain, 8);
	aname_result_unref(r);
}

Test(answer, failures_by_rcode_and_flags)
{
	aname_result_t *r;
	size_t len;
	uint8_t *w = packet("a.test.", 1, 2, NULL, NULL, &len);
	cr_assert_eq(aname__answer_from_packet(w, len, 2, false, false,
					       "a.test.", 1, &lim, 0, &r),
		     ANAME_ESERVFAIL);
	cr_assert_eq(aname__answer_from_packet(w, len, 5, false, false,
					       "a.test.", 1, &lim, 0, &r),
		     ANAME_EREFUSED);
	cr_assert_eq(aname__answer_from_packet(w, len, 0, false, true,
					       "a.test.", 1, &lim, 0, &r),
		     ANAME_EBOGUS);
	free(w);
}

Test(answer, malformed_packets)
{
	aname_result_t *r;
	const uint8_t junk[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 5};
	cr_assert_eq(aname__answer_from_packet(junk, sizeof(junk), 0, false,
					       false, "a.test.", 1, &lim, 0,
					       &r),
		     ANAME_EMALFORMED);
	cr_assert_eq(aname__answer_from_packet(NULL, 0, 0, false, false,
					       "a.test.", 1, &lim, 0, &r),
		     ANAME_EMALFORMED);
	/* An A record whose rdata is 3 bytes: patch a valid packet. */
	const char *an[] = {"a.test. 300 IN A 192.0.2.1", NULL};
	size_t len;
	uint8_t *w = packet("a.test.", 1, 0, an, NULL, &len);
	cr_assert_eq(w[len - 5], 4, "rdlength of the last RR");
	w[len - 5] = 3;
	cr_assert_eq(aname__answer_from_packet(w, len - 1, 0, false, false,
					       "a.test.", 1, &lim, 0, &r),
		     ANAME_EMALFORMED);
	free(w);
	/* Addresses in an NXDOMAIN answer. */
	const char *an2[] = {"a.test. 300 IN A 192.0.2.1", NULL};
	cr_assert_eq(parse("a.test.", 1, 3, an2, NULL, &r), ANAME_EMALFORMED);
}
