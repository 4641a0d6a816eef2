/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file rrsig_check.c
 * \brief Test helper: validate a server's answer against its zone DNSKEY.
 *
 *   rrsig_check PORT ZONE QNAME TYPE          positive answer
 *   rrsig_check PORT ZONE QNAME TYPE nodata   NOERROR/NODATA proof
 *
 * Asks 127.0.0.1@PORT (TCP, DO bit) for ZONE DNSKEY and QNAME TYPE and
 * verifies the RRSIGs over the answer RRset with those keys (ldns_verify:
 * signature, key tag, algorithm and validity period).  The zone's own DNSKEY
 * is the trust anchor: this checks what mod-onlinesign signed, not a chain.
 *
 * With "nodata" the answer must be NOERROR with an empty answer section,
 * and the authority section must prove it: the SOA and every NSEC/NSEC3
 * RRset verified against the DNSKEY, and the NSEC (or NSEC3) records must
 * deny QNAME TYPE (ldns_dnssec_verify_denial, _nsec3).  As a control, the
 * same records must NOT deny QNAME NSEC (resp. NSEC3), a type every such
 * record lists: the denial check can fail.
 * Exit 0 and "ok" when valid; 1 with the reason otherwise.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* RRSIGs of \a sigs that cover \a type (a new list of clones). */
static ldns_rr_list *sigs_for(const ldns_rr_list *sigs, ldns_rr_type type)
{
	ldns_rr_list *out = ldns_rr_list_new();
	for (size_t i = 0; sigs != NULL && i < ldns_rr_list_rr_count(sigs); i++) {
		ldns_rr *sig = ldns_rr_list_rr(sigs, i);
		if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) == type) {
			ldns_rr_list_push_rr(out, ldns_rr_clone(sig));
		}
	}
	return out;
}

/* Verify the \a type RRset of the authority section with \a keys. */
static int verify_auth(ldns_pkt *p, ldns_rr_type type, ldns_rr_list *keys,
		       const char *what)
{
	ldns_rr_list *rrs = ldns_pkt_rr_list_by_type(p, type,
						     LDNS_SECTION_AUTHORITY);
	ldns_rr_list *all = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_RRSIG,
						     LDNS_SECTION_AUTHORITY);
	ldns_rr_list *sigs = sigs_for(all, type);
	ldns_rr_list *good = ldns_rr_list_new();
	int rc = 1;
	if (rrs == NULL || ldns_rr_list_rr_count(sigs) == 0) {
		fprintf(stderr, "rrsig_check: %s: no %s with RRSIG in the "
			"authority section\n", what, type == LDNS_RR_TYPE_SOA
			? "SOA" : "NSEC/NSEC3");
	} else {
		ldns_status s = ldns_verify(rrs, sigs, keys, good);
		if (s == LDNS_STATUS_OK) {
			rc = 0;
		} else {
			fprintf(stderr, "rrsig_check: %s: authority RRSIG: %s\n",
				what, ldns_get_errorstr_by_id(s));
		}
	}
	ldns_rr_list_free(good);
	ldns_rr_list_deep_free(rrs);
	ldns_rr_list_deep_free(all);
	ldns_rr_list_deep_free(sigs);
	return rc;
}

/* Does the authority section of \a p deny \a qname \a type? */
static ldns_status denies(ldns_pkt *p, ldns_rr_list *nsecs, bool nsec3,
			  const char *qname, ldns_rr_type type)
{
	ldns_rr *q = ldns_rr_new();
	ldns_rr_set_owner(q, ldns_dname_new_frm_str(qname));
	ldns_rr_set_type(q, type);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_list *sigs = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_RRSIG,
						      LDNS_SECTION_AUTHORITY);
	ldns_status s = nsec3 ? ldns_dnssec_verify_denial_nsec3(
					q, nsecs, sigs, ldns_pkt_get_rcode(p),
					type, true)
			      : ldns_dnssec_verify_denial(q, nsecs, sigs);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_free(q);
	return s;
}

static int check_nodata(ldns_pkt *ap, ldns_rr_list *keys, const char *qname,
			const char *tname, ldns_rr_type type)
{
	if (ldns_pkt_get_rcode(ap) != LDNS_RCODE_NOERROR ||
	    ldns_pkt_ancount(ap) != 0) {
		fprintf(stderr, "rrsig_check: %s %s: not NOERROR/NODATA "
			"(rcode %d, %u answers)\n", qname, tname,
			ldns_pkt_get_rcode(ap), ldns_pkt_ancount(ap));
		return 1;
	}
	bool nsec3 = false;
	ldns_rr_list *nsecs = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_NSEC,
						       LDNS_SECTION_AUTHORITY);
	if (nsecs == NULL) {
		nsecs = ldns_pkt_rr_list_by_type(ap, LDNS_RR_TYPE_NSEC3,
						 LDNS_SECTION_AUTHORITY);
		nsec3 = true;
	}
	if (nsecs == NULL) {
		fprintf(stderr, "rrsig_check: %s %s: no NSEC or NSEC3 in the "
			"authority section\n", qname, tname);
		return 1;
	}
	int rc = verify_auth(ap, LDNS_RR_TYPE_SOA, keys, tname) |
		 verify_auth(ap, nsec3 ? LDNS_RR_TYPE_NSEC3 : LDNS_RR_TYPE_NSEC,
			     keys, tname);
	ldns_status s = denies(ap, nsecs, nsec3, qname, type);
	ldns_rr_type control = nsec3 ? LDNS_RR_TYPE_NSEC3 : LDNS_RR_TYPE_NSEC;
	ldns_status c = denies(ap, nsecs, nsec3, qname, control);
	if (s != LDNS_STATUS_OK) {
		fprintf(stderr, "rrsig_check: %s %s: the %s records do not deny "
			"it: %s\n", qname, tname, nsec3 ? "NSEC3" : "NSEC",
			ldns_get_errorstr_by_id(s));
		rc = 1;
	}
	if (c == LDNS_STATUS_OK) {
		fprintf(stderr, "rrsig_check: %s: control failed: the %s "
			"records also deny type %s, which they list\n", qname,
			nsec3 ? "NSEC3" : "NSEC", nsec3 ? "NSEC3" : "NSEC");
		rc = 1;
	}
	if (rc == 0) {
		printf("ok: %s %s: NODATA, SOA and %zu %s verified, type denied "
		       "(control: %s not denied: %s)\n", qname, tname,
		       ldns_rr_list_rr_count(nsecs), nsec3 ? "NSEC3" : "NSEC",
		       nsec3 ? "NSEC3" : "NSEC", ldns_get_errorstr_by_id(c));
	}
	ldns_rr_list_deep_free(nsecs);
	return rc;
}

int main(int argc, char **argv)
{
	bool nodata = argc == 6 && strcmp(argv[5], "nodata") == 0;
	if (argc != 5 && !nodata) {
		fprintf(stderr, "usage: rrsig_check PORT ZONE QNAME TYPE [nodata]\n");
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
	if (nodata) {
		if (keys == NULL) {
			fprintf(stderr, "rrsig_check: missing DNSKEY\n");
			goto out;
		}
		rc = check_nodata(ap, keys, argv[3], argv[4], type);
		goto out;
	}
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
