/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file rrsig_check.c
 * \brief Test helper: validate a server's answer against its zone DNSKEY.
 *
 *   rrsig_check PORT ZONE QNAME TYPE
 *
 * Asks 127.0.0.1@PORT (TCP, DO bit) for ZONE DNSKEY and QNAME TYPE and
 * verifies the RRSIGs over the answer RRset with those keys (ldns_verify:
 * signature, key tag, algorithm and validity period).  The zone's own DNSKEY
 * is the trust anchor: this checks what mod-onlinesign signed, not a chain.
 * Exit 0 and "ok" when valid; 1 with the reason otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include <ldns/ldns.h>

static ldns_pkt *ask(ldns_resolver *res, const char *name, ldns_rr_type t)
{
	ldns_rdf *qname = ldns_dname_new_frm_str(name);
	if (qname == NULL) {
		return NULL;
	}
	ldns_pkt *p = NULL;
	ldns_status s = ldns_resolver_query_status(&p, res, qname, t,
						   LDNS_RR_CLASS_IN, 0);
	ldns_rdf_deep_free(qname);
	return s == LDNS_STATUS_OK ? p : NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: rrsig_check PORT ZONE QNAME TYPE\n");
		return 2;
	}
	ldns_rr_type type = ldns_get_rr_type_by_name(argv[4]);
	ldns_resolver *res = ldns_resolver_new();
	ldns_rdf *ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
	if (res == NULL || ns == NULL || type == 0) {
		fprintf(stderr, "rrsig_check: bad arguments\n");
		return 2;
	}
	ldns_resolver_push_nameserver(res, ns);
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, (uint16_t)atoi(argv[1]));
	ldns_resolver_set_usevc(res, true);
	ldns_resolver_set_dnssec(res, true);
	ldns_resolver_set_recursive(res, false);
	ldns_resolver_set_retry(res, 1);

	int rc = 1;
	ldns_pkt *kp = ask(res, argv[2], LDNS_RR_TYPE_DNSKEY);
	ldns_pkt *ap = ask(res, argv[3], type);
	ldns_rr_list *keys = NULL, *rrs = NULL, *sigs = NULL;
	if (kp == NULL || ap == NULL) {
		fprintf(stderr, "rrsig_check: no answer from port %s\n",
			argv[1]);
		goto out;
	}
	keys = ldns_pkt_rr_list_by_type(kp, LDNS_RR_TYPE_DNSKEY,
					LDNS_SECTION_ANSWER);
	rrs = ldns_pkt_rr_list_by_type(ap, type, LDNS_SECTION_ANSWER);
	sigs = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_RRSIG,
					LDNS_SECTION_ANSWER);
	if (keys == NULL || rrs == NULL || sigs == NULL) {
		fprintf(stderr, "rrsig_check: missing %s\n",
			keys == NULL ? "DNSKEY" : rrs == NULL ? argv[4] : "RRSIG");
		goto out;
	}
	ldns_rr_list *good = ldns_rr_list_new();
	ldns_status s = ldns_verify(rrs, sigs, keys, good);
	if (s == LDNS_STATUS_OK) {
		printf("ok: %s %s: %zu RRs, %zu RRSIGs, validated with %zu "
		       "DNSKEY(s)\n", argv[3], argv[4], ldns_rr_list_rr_count(rrs),
		       ldns_rr_list_rr_count(sigs), ldns_rr_list_rr_count(good));
		rc = 0;
	} else {
		fprintf(stderr, "rrsig_check: %s %s: %s\n", argv[3], argv[4],
			ldns_get_errorstr_by_id(s));
	}
	ldns_rr_list_free(good);
out:
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(rrs);
	ldns_rr_list_deep_free(sigs);
	ldns_pkt_free(kp);
	ldns_pkt_free(ap);
	ldns_resolver_deep_free(res);
	return rc;
}
