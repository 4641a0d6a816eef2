/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * draft-ietf-dnsop-aname-04 behaviours and RFC 9460 additional-section
 * processing (issue 14, items 10-12 and 14), against
 * tests/zones/local.test.zone: targets inside the server's own zones are
 * answered from zone data (ALIAS and CNAME chains followed, loops caught)
 * with no upstream query; a query for the ALIAS type carries the
 * addresses in Additional; SVCB/HTTPS TargetNames of ours get their
 * addresses in Additional, from the cache only, never waiting.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dnsclient.h"
#include "srvharness.h"

TestSuite(draft, .init = srv_setup, .fini = srv_teardown, .timeout = 60);

#define LOCAL_ZONE "examples/aname-server/tests/zones/local.test.zone"

static ts_blackhole_t *bh;

/* srv.test + local.test; local.test and cold.test point at a black hole,
 * which must never see a query for a local target. */
static void start_local(void)
{
	bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	char s1[64], s2[64];
	snprintf(s1, sizeof(s1), "local.test=127.0.0.1@%d", ts_blackhole_port(bh));
	snprintf(s2, sizeof(s2), "cold.test=127.0.0.1@%d", ts_blackhole_port(bh));
	const char *zones[] = { SRV_ZONE, LOCAL_ZONE, NULL };
	const char *extra[] = { "--stub", s1, "--stub", s2, NULL };
	srv_start_v(ts_nsd_port(nsd), "1500", zones, extra);
}

static void stop_local(void)
{
	srv_stop();
	ts_blackhole_stop(bh);
	bh = NULL;
}

/* Addresses of \a type at \a owner in \a section, sorted, space-separated. */
static char *addrs_in(const ldns_pkt *p, int section, const char *owner,
		      uint16_t type)
{
	ldns_rr_list *l = section == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
			  ldns_pkt_additional(p);
	ldns_pkt *tmp = ldns_pkt_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		ldns_pkt_push_rr(tmp, LDNS_SECTION_ANSWER,
				 ldns_rr_clone(ldns_rr_list_rr(l, i)));
	char *s = dc_addrs(tmp, owner, type);
	ldns_pkt_free(tmp);
	return s;
}

static void expect_local(const char *name, uint16_t type, const char *want,
			 long ttl)
{
	ldns_pkt *p = srv_ask(name, type, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "%s", name);
	cr_expect(ldns_pkt_aa(p), "%s: AA", name);
	char *a = addrs_in(p, LDNS_SECTION_ANSWER, name, type);
	cr_expect_str_eq(a, want, "%s/%u", name, type);
	free(a);
	cr_expect_eq(dc_min_ttl(p, type), ttl, "%s TTL %ld, want %ld", name,
		     dc_min_ttl(p, type), ttl);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1,
		     "%s: the ALIAS record (draft 6.1.1)", name);
	ldns_pkt_free(p);
}

Test(draft, targets_in_our_zones_come_from_zone_data)
{
	start_local();
	for (int i = 0; i < 2; i++) {   /* twice: no cache involved */
		expect_local("local.test.", LDNS_RR_TYPE_A, "192.0.2.10", 300);
		expect_local("local.test.", LDNS_RR_TYPE_AAAA, "2001:db8::10", 300);
		expect_local("a1.local.test.", LDNS_RR_TYPE_A, "192.0.2.10", 100);
		expect_local("cn.local.test.", LDNS_RR_TYPE_AAAA, "2001:db8::10", 50);
	}
	/* Out through a local ALIAS, and across into srv.test's ALIAS. */
	expect_local("out.local.test.", LDNS_RR_TYPE_A, "192.0.2.1 192.0.2.2",
		     300);
	ldns_pkt *p = srv_ask("cross.local.test", LDNS_RR_TYPE_A, 1);
	char *a = addrs_in(p, LDNS_SECTION_ANSWER, "cross.local.test.",
			   LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.1 192.0.2.2");
	free(a);
	ldns_pkt_free(p);
	/* Loops: SERVFAIL, at once. */
	const char *loops[] = { "loopa.local.test", "loopb.local.test",
				"self.local.test" };
	for (int i = 0; i < 3; i++) {
		int64_t rtt = 0;
		p = dc_query(sport, loops[i], LDNS_RR_TYPE_A, 0, 1232, 2000, &rtt);
		cr_assert_not_null(p);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL, "%s",
			     loops[i]);
		cr_expect(rtt < 200, "%s: %lld ms", loops[i], (long long)rtt);
		ldns_pkt_free(p);
	}
	/* A target absent from our zone: NODATA with the SOA. */
	p = srv_ask("absent.local.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(p);
	/* ANY at a local ALIAS owner: its RRsets plus both addresses. */
	p = srv_ask("local.test", LDNS_RR_TYPE_ANY, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 1);
	ldns_pkt_free(p);
	/* No upstream hop for any of it: the black hole saw nothing but
	 * the library's canary probes (SOA), and the library only knows the
	 * names outside our zones. */
	unsigned seen = ts_blackhole_count(bh) - ts_blackhole_soa_count(bh);
	cr_expect_eq(seen, 1,
		     "only cold.local.test's www.cold.test went upstream (%u)",
		     seen);
	cr_expect_eq(srv_metric("aname_server_alias_upstream_targets"), 9,
		     "srv.test's 8 targets and www.cold.test, none of ours: %g",
		     srv_metric("aname_server_alias_upstream_targets"));
	stop_local();
}

Test(draft, alias_type_query_carries_the_addresses)
{
	start_local();
	/* Warm the upstream target first (both types: each A/AAAA query
	 * waits for its own resolution): Additional never waits. */
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	ldns_pkt_free(p);
	p = srv_ask("srv.test", LDNS_RR_TYPE_AAAA, 0);
	ldns_pkt_free(p);
	p = srv_ask("srv.test", 65401, 0);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1);
	char *a = addrs_in(p, LDNS_SECTION_ADDITIONAL, "srv.test.", LDNS_RR_TYPE_A);
	char *b = addrs_in(p, LDNS_SECTION_ADDITIONAL, "srv.test.",
			   LDNS_RR_TYPE_AAAA);
	cr_expect_str_eq(a, "192.0.2.1 192.0.2.2", "draft 6.1.2: A in Additional");
	cr_expect_str_eq(b, "2001:db8::1", "draft 6.1.2: AAAA in Additional");
	free(a);
	free(b);
	ldns_pkt_free(p);
	p = srv_ask("a1.local.test", 65401, 1);
	a = addrs_in(p, LDNS_SECTION_ADDITIONAL, "a1.local.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.10");
	free(a);
	ldns_pkt_free(p);
	/* A cold target: answered at once, without the addresses. */
	int64_t rtt = 0;
	p = dc_query(sport, "cold.local.test", 65401, 0, 1232, 2000, &rtt);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A), 0);
	cr_expect(rtt < 200, "ALIAS-type query waited %lld ms", (long long)rtt);
	ldns_pkt_free(p);
	stop_local();
}

Test(draft, https_and_svcb_get_their_targets_addresses)
{
	start_local();
	ldns_pkt *p = srv_ask("out.local.test", LDNS_RR_TYPE_A, 0);   /* warm */
	ldns_pkt_free(p);
	p = srv_ask("out.local.test", LDNS_RR_TYPE_AAAA, 0);
	ldns_pkt_free(p);
	/* "." in ServiceMode at an ALIAS owner: the owner's addresses. */
	p = srv_ask("local.test", 65, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65), 1);
	cr_expect_eq(ldns_pkt_ancount(p), 1, "HTTPS from zone data only");
	char *a = addrs_in(p, LDNS_SECTION_ADDITIONAL, "local.test.", LDNS_RR_TYPE_A);
	char *b = addrs_in(p, LDNS_SECTION_ADDITIONAL, "local.test.",
			   LDNS_RR_TYPE_AAAA);
	cr_expect_str_eq(a, "192.0.2.10");
	cr_expect_str_eq(b, "2001:db8::10");
	free(a);
	free(b);
	ldns_pkt_free(p);
	/* A TargetName that is an upstream ALIAS owner: from the cache. */
	p = srv_ask("svc.local.test", 65, 0);
	a = addrs_in(p, LDNS_SECTION_ADDITIONAL, "out.local.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.1 192.0.2.2");
	free(a);
	ldns_pkt_free(p);
	/* AliasMode to a name of ours: its SVCB, and its addresses. */
	p = srv_ask("svc2.local.test", 64, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 64), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, 64), 1);
	a = addrs_in(p, LDNS_SECTION_ADDITIONAL, "svc3.local.test.",
		     LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.30");
	free(a);
	ldns_pkt_free(p);
	/* Not ours: nothing added.  Cold: answered at once, nothing added. */
	p = srv_ask("ext.local.test", 65, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A) +
			     dc_count(p, LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_AAAA),
		     0, "a target outside our zones adds nothing");
	ldns_pkt_free(p);
	int64_t rtt = 0;
	p = dc_query(sport, "coldsvc.local.test", 65, 0, 1232, 2000, &rtt);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A), 0);
	cr_expect(rtt < 200, "HTTPS waited %lld ms for Additional",
		  (long long)rtt);
	ldns_pkt_free(p);
	/* HTTPS at an ALIAS owner without one: NODATA, not the target's. */
	p = srv_ask("srv.test", 65, 0);
	cr_expect_eq(ldns_pkt_ancount(p), 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(p);
	stop_local();
}
