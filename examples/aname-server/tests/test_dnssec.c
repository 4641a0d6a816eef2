/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * --trust-anchor FILE (issue 14, item 13) in aname-server, aname-resolverd
 * and aname-resolve: nsd serves a signed zone and a tampered one, whose
 * DS records are the anchors.  A validated target is counted as secure; a
 * bogus one is SERVFAIL (exit 2 for the CLI) and shows in /health.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"

static char dir[] = "/tmp/aname-srv-dnssec-XXXXXX";
static ts_nsd_t *signed_nsd;
static char anchors[128], szone[128];

static void run(const char *cmd)
{
	char full[1024];
	snprintf(full, sizeof(full), "cd %s && %s", dir, cmd);
	cr_assert_eq(system(full), 0, "command failed: %s", cmd);
}

/* A zone with www A \a addr, signed; its DS goes into the anchors. */
static void signed_zone(const char *zone, const char *addr)
{
	char cmd[768];
	snprintf(cmd, sizeof(cmd),
		 "printf '$ORIGIN %s.\\n$TTL 300\\n@ SOA ns1 hm 1 3600 600 "
		 "86400 300\\n@ NS ns1\\nns1 A 192.0.2.53\\nwww A %s\\n' > %s.zone"
		 " && k=$(ldns-keygen -a ECDSAP256SHA256 -k %s) && "
		 "ldns-signzone %s.zone $k && cat $k.ds >> anchors && "
		 "rm -f $k.private",
		 zone, addr, zone, zone, zone);
	run(cmd);
}

static void setup(void)
{
	srv_setup();
	cr_assert_not_null(mkdtemp(dir));
	signed_zone("secure.test", "192.0.2.10");
	signed_zone("bogus.test", "192.0.2.66");
	/* Tampered after signing: the RRSIG no longer matches. */
	run("sed -i 's/192\\.0\\.2\\.66/192.0.2.67/' bogus.test.zone.signed");
	char sfile[192], bfile[192];
	snprintf(sfile, sizeof(sfile), "%s/secure.test.zone.signed", dir);
	snprintf(bfile, sizeof(bfile), "%s/bogus.test.zone.signed", dir);
	ts_zone_t zones[] = { { "secure.test", sfile },
			      { "bogus.test", bfile },
			      { NULL, NULL } };
	signed_nsd = ts_nsd_start(zones);
	cr_assert_not_null(signed_nsd);
	snprintf(anchors, sizeof(anchors), "%s/anchors", dir);
	snprintf(szone, sizeof(szone), "%s/alias.zone", dir);
	srv_write_file(szone, "$ORIGIN sig.test.\n$TTL 300\n"
			      "@ SOA ns1 hm 1 3600 900 604800 120\n"
			      "sec ALIAS www.secure.test.\n"
			      "bog ALIAS www.bogus.test.\n");
}

static void teardown(void)
{
	ts_server_stop(signed_nsd);
	signed_nsd = NULL;
	srv_teardown();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(dnssec, .init = setup, .fini = teardown, .timeout = 60);

static void stubs(char *s1, char *s2, size_t len)
{
	snprintf(s1, len, "secure.test=127.0.0.1@%d", ts_nsd_port(signed_nsd));
	snprintf(s2, len, "bogus.test=127.0.0.1@%d", ts_nsd_port(signed_nsd));
}

Test(dnssec, server_validates_targets)
{
	char s1[64], s2[64];
	stubs(s1, s2, sizeof(s1));
	const char *zones[] = { SRV_ZONE, szone, NULL };
	const char *extra[] = { "--stub", s1, "--stub", s2, "--trust-anchor",
				anchors, NULL };
	srv_start_v(ts_nsd_port(nsd), "1500", zones, extra);
	ldns_pkt *p = srv_ask("sec.sig.test", LDNS_RR_TYPE_A, 0);
	char *a = dc_addrs(p, "sec.sig.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.10");
	free(a);
	ldns_pkt_free(p);
	p = srv_ask("sec.sig.test", LDNS_RR_TYPE_A, 0);   /* a cache hit */
	ldns_pkt_free(p);
	cr_expect_geq(srv_metric("aname_server_alias_secure_total"), 2,
		      "validated answers are counted");
	p = srv_ask("bog.sig.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL,
		      "a bogus target is never served");
	ldns_pkt_free(p);
	cr_expect_geq(srv_metric("aname_answers_bogus_total"), 1);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/health", &body), 200);
	cr_expect(strncmp(body, "ok ", 3) != 0,
		  "a bogus target shows in /health: %s", body);
	cr_expect(strstr(body, "dnssec-bogus") || strncmp(body, "degraded ", 9) == 0 ||
		  strncmp(body, "failing ", 8) == 0, "health: %s", body);
	free(body);
	srv_stop();
	/* A missing anchor file: refused at start, exit 2. */
	const char *bad[] = { "--trust-anchor", "/nonexistent/anchors", NULL };
	const char *bin = getenv("ANAME_SERVER");
	const char *argv[] = { bin, "--listen", "127.0.0.1@1", "--zone",
			       SRV_ZONE, bad[0], bad[1], NULL };
	pid_t pid = dc_spawn((char *const *)argv, "/dev/null");
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit %d", st);
}

Test(dnssec, resolverd_validates)
{
	const char *bin = getenv("ANAME_RESOLVERD");
	cr_assert_not_null(bin, "ANAME_RESOLVERD is not set");
	char s1[64], s2[64], listen[64], metrics[64], guard[64];
	stubs(s1, s2, sizeof(s1));
	int port = ts_free_port(), mp = ts_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1@%d", port);
	snprintf(metrics, sizeof(metrics), "127.0.0.1@%d", mp);
	snprintf(guard, sizeof(guard), ".=127.0.0.1@%d", ts_free_port());
	const char *argv[] = { bin, "--listen", listen, "--metrics", metrics,
			       "--stub", s1, "--stub", s2, "--stub", guard,
			       "--trust-anchor", anchors, NULL };
	pid_t pid = dc_spawn((char *const *)argv, "/dev/null");
	cr_assert_eq(dc_wait_ready(pid, port, "www.secure.test", 5000), 0);
	ldns_pkt *p = dc_query(port, "www.secure.test", LDNS_RR_TYPE_A, 0,
			       1232, 3000, NULL);
	cr_assert_not_null(p);
	char *a = dc_addrs(p, "www.secure.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.10");
	free(a);
	ldns_pkt_free(p);
	p = dc_query(port, "www.bogus.test", LDNS_RR_TYPE_A, 0, 1232, 3000,
		     NULL);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mp, "/metrics", &body), 200);
	cr_expect_geq(dc_metric(body, "aname_resolverd_secure_total"), 1);
	free(body);
	dc_stop(pid);
}

/* aname-resolve --trust-anchor: "secure": true; bogus exits 2. */
Test(dnssec, cli_validates)
{
	const char *bin = getenv("ANAME_RESOLVE");
	cr_assert_not_null(bin, "ANAME_RESOLVE is not set");
	char s1[64], s2[64], guard[64], cmd[1024];
	stubs(s1, s2, sizeof(s1));
	snprintf(guard, sizeof(guard), ".=127.0.0.1@%d", ts_free_port());
	snprintf(cmd, sizeof(cmd),
		 "%s --stub %s --stub %s --stub %s --trust-anchor %s --json "
		 "www.secure.test | grep -q '\"secure\": true'",
		 bin, s1, s2, guard, anchors);
	cr_expect_eq(system(cmd), 0, "secure target: %s", cmd);
	snprintf(cmd, sizeof(cmd),
		 "%s --stub %s --stub %s --stub %s --trust-anchor %s "
		 "www.bogus.test >/dev/null 2>&1",
		 bin, s1, s2, guard, anchors);
	int st = system(cmd);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2,
		  "bogus target: exit %d", WEXITSTATUS(st));
}
