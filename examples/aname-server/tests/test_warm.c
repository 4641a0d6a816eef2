/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /targets and --cache-file (warm restarts), end to end: the server is
 * killed and restarted against a black-holed upstream, with a good
 * snapshot and with a corrupt one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "support/servers.h"

TestSuite(warm, .init = srv_setup, .fini = srv_teardown, .timeout = 60);

static const char *zones[3];

static void start(int upstream, const char *cache)
{
	zones[0] = SRV_ZONE;
	zones[1] = srv_fixture("alias.test.zone");
	zones[2] = NULL;
	const char *extra[] = {"--cache-file", cache, NULL};
	srv_start_v(upstream, "1500", zones, extra);
}

Test(warm, targets_endpoint_lists_states_with_filters)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/aname-warm-t-%d", (int)getpid());
	start(ts_nsd_port(nsd), path);
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	char *body = NULL;
	cr_assert_eq(dc_http_get(mport, "/targets", &body), 200);
	cr_assert(strstr(body, "\"target\":\"www.example.test.\"") != NULL,
		  "%s", body);
	cr_assert(strstr(body, "\"state\":\"fresh\"") != NULL);
	cr_assert(strstr(body, "\"registered\":true") != NULL,
		  "zone targets are registered");
	free(body);
	cr_assert_eq(dc_http_get(mport, "/targets?state=failing&limit=5",
				 &body),
		     200);
	cr_assert(strstr(body, "\"state\":\"fresh\"") == NULL,
		  "filtered: %s", body);
	free(body);
	cr_assert_eq(dc_http_get(mport, "/targets?limit=1", &body), 200);
	cr_assert(strstr(body, "\"count\":1,") != NULL, "capped: %s", body);
	free(body);
	cr_assert_eq(dc_http_get(mport, "/targets?state=bogus", &body), 400);
	free(body);
	srv_stop();
	unlink(path);
}

Test(warm, restart_against_a_black_hole_answers_from_the_snapshot)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/aname-warm-r-%d", (int)getpid());
	unlink(path);
	start(ts_nsd_port(nsd), path);
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	char *want = dc_addrs(p, "srv.test", LDNS_RR_TYPE_A);
	ldns_pkt_free(p);
	cr_assert(want != NULL && *want != '\0');
	srv_stop(); /* saves at shutdown */
	cr_assert_eq(access(path, R_OK), 0, "snapshot written at shutdown");

	ts_blackhole_t *bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	start(ts_blackhole_port(bh), path);
	int64_t rtt = 0;
	p = dc_query(sport, "srv.test", LDNS_RR_TYPE_A, 0, 1232, 3000, &rtt);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR,
		     "known ALIAS answered although the upstream is dead");
	char *got = dc_addrs(p, "srv.test", LDNS_RR_TYPE_A);
	cr_expect_str_eq(got, want);
	cr_expect(rtt < 200, "at once, not after a deadline: %lld ms",
		  (long long)rtt);
	free(got);
	ldns_pkt_free(p);
	srv_stop();

	/* A corrupt snapshot: logged, ignored, the server still starts. */
	FILE *f = fopen(path, "r+b");
	cr_assert_not_null(f);
	fseek(f, 30, SEEK_SET);
	fputc('X', f);
	fclose(f);
	start(ts_blackhole_port(bh), path);
	p = dc_query(sport, "srv.test", LDNS_RR_TYPE_A, 0, 1232, 3000, &rtt);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL,
		     "no snapshot, dead upstream: SERVFAIL");
	ldns_pkt_free(p);
	srv_stop();
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "grep -q 'cache-file %s: .*corrupt' %s",
		 path, logpath);
	cr_expect_eq(system(cmd), 0, "the log says the file was rejected");
	ts_blackhole_stop(bh);
	free(want);
	unlink(path);
}
