/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Other servers' ALIAS tests, run against aname-server: each case of
 *   PowerDNS regression-tests.auth-py/test_ALIAS.py,
 *   PowerDNS regression-tests/tests/alias-address, alias-mx, svcb-aliasmode,
 *   Knot DNS tests-extra/tests/modules/alias/test.py
 * expressed in our own code, with zone data of the same shape
 * (tests/zones/interop/).  A case either checks the upstream expectation,
 * or, where aname-server differs on purpose, checks our documented answer
 * and names the row of the "Interop" table in examples/aname-server/
 * README.md that gives the reason ("DIFF n").
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "wire.h"

#define IZ "examples/aname-server/tests/zones/interop/"

static ts_nsd_t *up;       /* the upstream zones of the three suites */
static ts_proxy_t *px;     /* SERVFAIL for test_ALIAS.py's servfail name */

static void setup(void)
{
	srv_setup();
	ts_zone_t zones[] = { { "example.com", IZ "up-example.com.zone" },
			      { "google.com", IZ "up-google.com.zone" },
			      { "external.tld", IZ "up-external.tld.zone" },
			      { NULL, NULL } };
	up = ts_nsd_start(zones);
	cr_assert_not_null(up, "upstream nsd did not start");
	px = ts_proxy_start(ts_nsd_port(up));
	cr_assert_not_null(px);
	ts_proxy_set_mode(px, "servfail.example.com", TS_MODE_SERVFAIL, 0);
}

static void teardown(void)
{
	ts_proxy_stop(px);
	px = NULL;
	ts_server_stop(up);
	up = NULL;
	srv_teardown();
}

TestSuite(interop, .init = setup, .fini = teardown, .timeout = 60);

/* aname-server with \a zones and stubs for the upstream zones \a stubbed
 * (through the SERVFAIL proxy for example.com when \a via_proxy). */
static void start_with(const char **zones, int via_proxy)
{
	static char s1[64], s2[64], s3[64];
	snprintf(s1, sizeof(s1), "example.com=127.0.0.1@%d",
		 via_proxy ? ts_proxy_port(px) : ts_nsd_port(up));
	snprintf(s2, sizeof(s2), "google.com=127.0.0.1@%d", ts_nsd_port(up));
	snprintf(s3, sizeof(s3), "external.tld=127.0.0.1@%d", ts_nsd_port(up));
	const char *extra[] = { "--stub", s1, "--stub", s2, "--stub", s3,
				NULL };
	srv_start_v(ts_nsd_port(nsd), "1000", zones, extra);
}

/* A query as dnspython's make_query() or PowerDNS's cleandig sends it:
 * RD set, no EDNS. */
static ldns_pkt *q(const char *name, uint16_t type, int tcp)
{
	ldns_pkt *p = dc_query(sport, name, type, tcp, 0, 3000, NULL);
	cr_assert_not_null(p, "no answer: %s/%u tcp=%d", name, type, tcp);
	return p;
}

/* Does the answer section hold \a type \a rdata (presentation) at \a owner? */
static int has_rr(const ldns_pkt *p, int section, const char *owner,
		  uint16_t type, const char *rdata)
{
	ldns_rr_list *l = section == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
			  section == LDNS_SECTION_AUTHORITY ?
						  ldns_pkt_authority(p) :
						  ldns_pkt_additional(p);
	ldns_rdf *o = ldns_dname_new_frm_str(owner);
	int found = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && !found; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != type ||
		    ldns_dname_compare(ldns_rr_owner(rr), o) != 0)
			continue;
		char *txt = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		for (size_t k = 1; k < ldns_rr_rd_count(rr); k++) {
			char *more = ldns_rdf2str(ldns_rr_rdf(rr, k));
			char *j = malloc(strlen(txt) + strlen(more) + 2);
			sprintf(j, "%s %s", txt, more);
			free(txt);
			free(more);
			txt = j;
		}
		found = !strcasecmp(txt, rdata);
		free(txt);
	}
	ldns_rdf_deep_free(o);
	return found;
}

static void expect_rcode(ldns_pkt *p, ldns_pkt_rcode rc, const char *what)
{
	cr_expect_eq(ldns_pkt_get_rcode(p), rc, "%s: rcode %d, want %d", what,
		     ldns_pkt_get_rcode(p), rc);
}

/* ------------------------------------------------ PowerDNS test_ALIAS.py */

static void pdns_start(void)
{
	const char *zones[] = { SRV_ZONE, IZ "pdns-example.org.zone", NULL };
	start_with(zones, 1);
}

/* testNoError and testNoErrorTCP */
Test(interop, pdns_test_ALIAS_testNoError_UDP_and_TCP)
{
	pdns_start();
	for (int tcp = 0; tcp <= 1; tcp++) {
		ldns_pkt *p = q("noerror.example.org", LDNS_RR_TYPE_A, tcp);
		expect_rcode(p, LDNS_RCODE_NOERROR, "noerror A");
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "noerror.example.org.",
				 LDNS_RR_TYPE_A, "192.0.2.1"));
		/* "we don't invent ECS on non-ECS queries": no OPT at all */
		cr_expect_eq(ldns_pkt_edns(p), 0);
		ldns_pkt_free(p);
		p = q("noerror.example.org", LDNS_RR_TYPE_AAAA, tcp);
		expect_rcode(p, LDNS_RCODE_NOERROR, "noerror AAAA");
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "noerror.example.org.",
				 LDNS_RR_TYPE_AAAA, "2001:db8::1"));
		ldns_pkt_free(p);
		p = q("noerror.example.org", LDNS_RR_TYPE_ANY, tcp);
		expect_rcode(p, LDNS_RCODE_NOERROR, "noerror ANY");
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "noerror.example.org.",
				 LDNS_RR_TYPE_A, "192.0.2.1"));
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "noerror.example.org.",
				 LDNS_RR_TYPE_AAAA, "2001:db8::1"));
		ldns_pkt_free(p);
		p = q("noerror.example.org", LDNS_RR_TYPE_MX, tcp);   /* NODATA */
		expect_rcode(p, LDNS_RCODE_NOERROR, "noerror MX");
		cr_expect_eq(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
	}
}

/* testNxDomain and testNxDomainTCP: PowerDNS answers SERVFAIL; we answer
 * NODATA (DIFF 1). */
Test(interop, pdns_test_ALIAS_testNxDomain_DIFF_1)
{
	pdns_start();
	uint16_t types[3] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
			      LDNS_RR_TYPE_ANY };
	for (int tcp = 0; tcp <= 1; tcp++) {
		for (int i = 0; i < 3; i++) {
			ldns_pkt *p = q("nxd.example.org", types[i], tcp);
			expect_rcode(p, LDNS_RCODE_NOERROR, "nxd (DIFF 1)");
			cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A) +
					     dc_count(p, LDNS_SECTION_ANSWER,
						      LDNS_RR_TYPE_AAAA),
				     0);
			if (types[i] != LDNS_RR_TYPE_ANY)
				cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY,
						      LDNS_RR_TYPE_SOA), 1);
			ldns_pkt_free(p);
		}
	}
}

/* testServFail and testServFailTCP */
Test(interop, pdns_test_ALIAS_testServFail_UDP_and_TCP)
{
	pdns_start();
	uint16_t types[3] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA,
			      LDNS_RR_TYPE_ANY };
	for (int tcp = 0; tcp <= 1; tcp++) {
		for (int i = 0; i < 3; i++) {
			ldns_pkt *p = q("servfail.example.org", types[i], tcp);
			expect_rcode(p, LDNS_RCODE_SERVFAIL, "servfail");
			ldns_pkt_free(p);
		}
	}
}

/* testECS, testECSWrong, testECSNone: PowerDNS passes the client subnet
 * to its resolver and echoes a scope; we do not implement ECS, answer
 * the addresses and leave the option out (DIFF 2). */
Test(interop, pdns_test_ALIAS_testECS_DIFF_2)
{
	pdns_start();
	const char *names[3] = { "subnet.example.org", "subnetwrong.example.org",
				 "noerror.example.org" };
	static const uint8_t ecs4[] = { 0, 8, 0, 7, 0, 1, 24, 0, 1, 2, 3 };
	static const uint8_t ecs6[] = { 0, 8, 0, 12, 0, 2, 64, 0, 0x20, 0x01,
					0x0d, 0xb8, 0x0d, 0xb6, 0x0d, 0xb5 };
	static uint8_t out[4096];
	for (int i = 0; i < 3; i++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			wq_t w = wq_new((uint16_t)(40 + i), 0x0100, names[i],
					v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, 1);
			wq_add_opt(&w, 1232, 0, 0, v6 ? ecs6 : ecs4,
				   v6 ? sizeof(ecs6) : sizeof(ecs4));
			int n = dc_raw_udp(sport, w.b, w.len, out, sizeof(out),
					   3000);
			cr_assert(n > 12 + 11, "%s: no answer", names[i]);
			ldns_pkt *p = NULL;
			cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)n),
				     LDNS_STATUS_OK);
			expect_rcode(p, LDNS_RCODE_NOERROR, names[i]);
			cr_expect(has_rr(p, LDNS_SECTION_ANSWER, names[i],
					 v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A,
					 v6 ? "2001:db8::1" : "192.0.2.1"),
				  "%s", names[i]);
			ldns_pkt_free(p);
			/* Our OPT is last and carries no option. */
			cr_expect_eq(wq_u16(out, (size_t)n - 2), 0,
				     "%s: no ECS option echoed (DIFF 2)", names[i]);
		}
	}
}

/* ----------------------------------- PowerDNS regression-tests/tests/alias-* */

static void pdns_regress_start(void)
{
	const char *zones[] = { SRV_ZONE, IZ "pdns-example.com.zone", NULL };
	start_with(zones, 0);
}

/* alias-address: A and AAAA over UDP and TCP, ANY over TCP, and the
 * NXDOMAIN next to it.  Their expected answers carry only the addresses;
 * ours carry the ALIAS record too (DIFF 3). */
Test(interop, pdns_regress_alias_address_DIFF_3)
{
	pdns_regress_start();
	for (int tcp = 0; tcp <= 1; tcp++) {
		ldns_pkt *p = q("google-alias.example.com", LDNS_RR_TYPE_A, tcp);
		expect_rcode(p, LDNS_RCODE_NOERROR, "google-alias A");
		cr_expect(ldns_pkt_aa(p) && !ldns_pkt_tc(p));
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "google-alias.example.com.",
				 LDNS_RR_TYPE_A, "8.8.8.8"));
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 1);
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1, "DIFF 3");
		ldns_pkt_free(p);
		p = q("google-alias.example.com", LDNS_RR_TYPE_AAAA, tcp);
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "google-alias.example.com.",
				 LDNS_RR_TYPE_AAAA, "2001:4860:4860::8888"));
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 1);
		ldns_pkt_free(p);
	}
	ldns_pkt *p = q("google-alias.example.com", LDNS_RR_TYPE_ANY, 1);
	expect_rcode(p, LDNS_RCODE_NOERROR, "google-alias ANY");
	cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "google-alias.example.com.",
			 LDNS_RR_TYPE_A, "8.8.8.8"));
	cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "google-alias.example.com.",
			 LDNS_RR_TYPE_AAAA, "2001:4860:4860::8888"));
	ldns_pkt_free(p);
	p = q("google-alias1.example.com", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_NXDOMAIN, "google-alias1");
	cr_expect(ldns_pkt_aa(p));
	cr_expect(has_rr(p, LDNS_SECTION_AUTHORITY, "example.com.",
			 LDNS_RR_TYPE_SOA, "ns1.example.com. ahu.example.com. "
			 "2847484148 28800 7200 604800 86400"));
	ldns_pkt_free(p);
}

/* alias-mx: NODATA with the SOA, negative TTL 86400. */
Test(interop, pdns_regress_alias_mx)
{
	pdns_regress_start();
	ldns_pkt *p = q("google-alias.example.com", LDNS_RR_TYPE_MX, 0);
	expect_rcode(p, LDNS_RCODE_NOERROR, "google-alias MX");
	cr_expect(ldns_pkt_aa(p));
	cr_expect_eq(ldns_pkt_ancount(p), 0);
	cr_expect_eq(ldns_pkt_nscount(p), 1);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	cr_assert_not_null(soa);
	cr_expect_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	cr_expect_eq(ldns_rr_ttl(soa), 86400);
	ldns_pkt_free(p);
}

/* svcb-aliasmode: AliasMode to a name of ours brings its A and its SVCB
 * into Additional (not the owner's own A); to another zone, nothing. */
Test(interop, pdns_regress_svcb_aliasmode)
{
	pdns_regress_start();
	ldns_pkt *p = dc_query(sport, "foo.svcb.example.com", 64, 0, 1232, 3000,
			       NULL);
	cr_assert_not_null(p);
	expect_rcode(p, LDNS_RCODE_NOERROR, "foo.svcb");
	cr_expect(ldns_pkt_aa(p));
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "foo.svcb.example.com.", 64,
			 "0 foo1.svcb.example.com."));
	cr_expect(has_rr(p, LDNS_SECTION_ADDITIONAL, "foo1.svcb.example.com.",
			 LDNS_RR_TYPE_A, "192.0.2.2"));
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, 64), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A), 1,
		     "foo.svcb's own A stays out");
	ldns_pkt_free(p);
	p = dc_query(sport, "baz.svcb.example.com", 64, 0, 1232, 3000, NULL);
	cr_assert_not_null(p);
	cr_expect(has_rr(p, LDNS_SECTION_ANSWER, "baz.svcb.example.com.", 64,
			 "0 foo1.svcb.example.net."));
	cr_expect_eq(ldns_pkt_arcount(p), 0, "nothing but OPT in Additional");
	ldns_pkt_free(p);
}

/* ------------------------------------------ Knot tests-extra modules/alias */

static void knot_start(void)
{
	const char *zones[] = { SRV_ZONE, IZ "knot-example.zone",
				IZ "knot-_ips.example.zone", NULL };
	start_with(zones, 0);
}

static void knot_expect(const char *name, uint16_t type, const char *rdata,
			int count, long ttl)
{
	ldns_pkt *p = q(name, type, 0);
	expect_rcode(p, LDNS_RCODE_NOERROR, name);
	cr_expect(ldns_pkt_aa(p), "%s: AA", name);
	if (rdata)
		cr_expect(has_rr(p, LDNS_SECTION_ANSWER, name, type, rdata),
			  "%s/%u: no %s", name, type, rdata);
	if (count >= 0)
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, type), count,
			     "%s/%u count", name, type);
	if (ttl >= 0)
		cr_expect_eq(dc_min_ttl(p, type), ttl, "%s TTL", name);
	ldns_pkt_free(p);
}

/* The cases aname-server answers as Knot's module does. */
Test(interop, knot_alias_same_answers)
{
	knot_start();
	/* Pure ALIAS: www -> web._ips.example. (a target in our zones) */
	knot_expect("www.example.", LDNS_RR_TYPE_A, "192.0.2.1", 1, -1);
	knot_expect("www.example.", LDNS_RR_TYPE_AAAA, "2001:db8::1", 1, -1);
	/* Explicit ALIAS-type query: the raw record, no A in the answer. */
	knot_expect("www.example.", 65401, NULL, 1, -1);
	knot_expect("www.example.", 65401, NULL, -1, -1);
	ldns_pkt *p = q("www.example.", 65401, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 0);
	ldns_pkt_free(p);
	/* Non-A/AAAA on an ALIAS node: the direct MX. */
	knot_expect("www.example.", LDNS_RR_TYPE_MX, "10 mail.example.", 1, -1);
	/* Target not served locally: NODATA (ours asks upstream, where
	 * web.external.tld does not exist). */
	p = q("external.example.", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_NOERROR, "external");
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1);
	ldns_pkt_free(p);
	/* TTL cap: min(600, 300). */
	knot_expect("lowttl.example.", LDNS_RR_TYPE_A, "192.0.2.1", 1, 300);
	/* Specific names under the wildcard tests (no wildcard here). */
	knot_expect("over.wild1.example.", LDNS_RR_TYPE_A, "10.0.0.1", 1, -1);
	knot_expect("login.wild2.example.", LDNS_RR_TYPE_A, "192.0.2.1", 1, -1);
	knot_expect("other.wild3.example.", LDNS_RR_TYPE_A, "192.0.2.2", 1, -1);
	/* MX of the target is ignored; A still synthesized. */
	knot_expect("mixmx.example.", LDNS_RR_TYPE_MX, "20 mx.example.", 1, -1);
	knot_expect("mixmx.example.", LDNS_RR_TYPE_A, "192.0.2.3", 1, -1);
	/* Plain nodes, and NXDOMAIN. */
	knot_expect("ns.example.", LDNS_RR_TYPE_A, "192.0.2.254", 1, -1);
	knot_expect("mx.example.", LDNS_RR_TYPE_A, "192.0.2.253", 1, -1);
	p = q("nonexistent.example.", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_NXDOMAIN, "nonexistent");
	ldns_pkt_free(p);
	/* Everything above came from zone data: no upstream query for
	 * _ips.example (only the external target and srv.test's). */
	cr_expect_eq(srv_metric("aname_server_alias_upstream_targets"), 9);
}

/* The cases where aname-server answers differently on purpose. */
Test(interop, knot_alias_deliberate_differences)
{
	knot_start();
	/* DIFF 4: self-referential ALIAS, with or without a direct A:
	 * a loop, SERVFAIL (Knot: NODATA, or the direct A). */
	ldns_pkt *p = q("loop.example.", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_SERVFAIL, "loop (DIFF 4)");
	ldns_pkt_free(p);
	p = q("loop2.example.", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_SERVFAIL, "loop2 (DIFF 4)");
	ldns_pkt_free(p);
	/* DIFF 5: ALIAS + direct A: the target's addresses replace the
	 * sibling (Knot: both). */
	knot_expect("both.example.", LDNS_RR_TYPE_A, "192.0.2.1", 1, -1);
	/* DIFF 6: ANY at an ALIAS owner: the RRsets and the addresses, as
	 * PowerDNS answers (Knot: the ALIAS record only). */
	p = q("lowttl.example.", LDNS_RR_TYPE_ANY, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 1,
		     "DIFF 6");
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 1,
		     "DIFF 6");
	ldns_pkt_free(p);
	/* DIFF 7: wildcard names: no synthesis (the zone refuses them). */
	p = q("any.wild1.example.", LDNS_RR_TYPE_A, 0);
	expect_rcode(p, LDNS_RCODE_NXDOMAIN, "any.wild1 (DIFF 7)");
	ldns_pkt_free(p);
	srv_stop();
	/* DIFF 7 and DIFF 8: Knot's zone as written is refused, with
	 * file:line, for its wildcard owners and its two-ALIAS owner. */
	char zone[64], log[64], grep[256];
	snprintf(zone, sizeof(zone), "/tmp/aname-srv-knot-%d.zone", (int)getpid());
	snprintf(log, sizeof(log), "/tmp/aname-srv-knot-%d.log", (int)getpid());
	const char *lines[2] = { "*.wild1 300 IN ALIAS web._ips.example.\n",
				 "multi 300 IN ALIAS web._ips.example.\n"
				 "multi 300 IN ALIAS alt._ips.example.\n" };
	const char *msgs[2] = { "wildcard owner names are not supported",
				"a second ALIAS at the same owner" };
	for (int i = 0; i < 2; i++) {
		srv_write_file(zone, "$ORIGIN example.\n$TTL 300\n"
				     "@ SOA ns.example. mail.example. 1 3600 900 "
				     "604800 300\n%s", lines[i]);
		const char *argv[] = { getenv("ANAME_SERVER"), "--listen",
				       "127.0.0.1@1", "--zone", zone, NULL };
		pid_t pid = dc_spawn((char *const *)argv, log);
		int st;
		waitpid(pid, &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1);
		snprintf(grep, sizeof(grep), "grep -q '%s:%d: %s' %s", zone,
			 i ? 5 : 4, msgs[i], log);
		cr_expect_eq(system(grep), 0, "%s", grep);
		unlink(log);
	}
	unlink(zone);
}
