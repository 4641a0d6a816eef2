/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server end to end: nsd serves the targets (fixture zones), the
 * server under test ($ANAME_SERVER) serves tests/zones/srv.test.zone and
 * the PowerDNS-style tests/fixtures/zones/alias.test.zone, and we query it
 * over UDP and TCP with ldns.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "support/servers.h"

TestSuite(server, .init = srv_setup, .fini = srv_teardown, .timeout = 40);

static void expect_addrs(const char *name, uint16_t type, int tcp,
			 const char *want, long ttl_lo, long ttl_hi)
{
	ldns_pkt *p = srv_ask(name, type, tcp);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "%s rcode", name);
	cr_expect(ldns_pkt_aa(p), "%s: AA", name);
	char *a = dc_addrs(p, name, type);
	cr_expect_str_eq(a, want, "%s/%u", name, type);
	free(a);
	long ttl = dc_min_ttl(p, type);
	cr_expect(ttl >= ttl_lo && ttl <= ttl_hi, "%s TTL %ld not in %ld..%ld",
		  name, ttl, ttl_lo, ttl_hi);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_CNAME), 0);
	ldns_pkt_free(p);
}

/* NODATA: no record of the type; at an ALIAS owner only the ALIAS
 * record itself (draft-aname 6.1.1), with the SOA all the same. */
static void expect_nodata(const char *name, uint16_t type)
{
	ldns_pkt *p = srv_ask(name, type, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR, "%s", name);
	cr_expect_eq(ldns_pkt_ancount(p), dc_count(p, LDNS_SECTION_ANSWER, 65401),
		     "%s: nothing but an ALIAS record in the answer", name);
	cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1,
		     "%s: SOA in authority", name);
	cr_expect(ldns_pkt_aa(p));
	ldns_pkt_free(p);
}

Test(server, apex_and_non_apex_alias_a_and_aaaa)
{
	srv_start("1500", NULL);
	for (int tcp = 0; tcp <= 1; tcp++) {
		/* ALIAS TTL 600 > target 300: 300 (counted down a little). */
		expect_addrs("srv.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 290, 300);
		expect_addrs("srv.test.", LDNS_RR_TYPE_AAAA, tcp, "2001:db8::1",
			     290, 300);
		/* ALIAS TTL 30 < target 300: 30. */
		expect_addrs("low.srv.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 30, 30);
		/* ANAME synonym through the c1->c2->c3->www chain: 50. */
		expect_addrs("chain.srv.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 40, 50);
		/* Generic TYPE65401 form. */
		expect_addrs("generic.srv.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 290, 300);
		/* The PowerDNS-style fixture zone, unchanged. */
		expect_addrs("alias.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 290, 300);
		expect_addrs("a2.alias.test.", LDNS_RR_TYPE_A, tcp,
			     "192.0.2.1 192.0.2.2", 40, 50);
	}
}

Test(server, other_types_at_alias_owner_and_zone_data)
{
	srv_start("1500", NULL);
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_MX, 0);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_MX), 1);
	ldns_pkt_free(p);
	p = srv_ask("alias.test", LDNS_RR_TYPE_TXT, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT), 1);
	ldns_pkt_free(p);
	expect_addrs("mail.srv.test.", LDNS_RR_TYPE_A, 0, "192.0.2.25", 300, 300);
	/* An owner literally named "alias" is ordinary data. */
	p = srv_ask("alias.srv.test", LDNS_RR_TYPE_TXT, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT), 1);
	ldns_pkt_free(p);
	/* NXDOMAIN with SOA; empty non-terminal is NODATA; outside: REFUSED. */
	p = srv_ask("nothere.srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_expect_eq(dc_count(p, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA), 1);
	cr_expect(ldns_pkt_aa(p));
	ldns_pkt_free(p);
	expect_nodata("ent.srv.test", LDNS_RR_TYPE_A);
	expect_nodata("mail.srv.test", LDNS_RR_TYPE_AAAA);
	p = srv_ask("www.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	/* The ALIAS record itself is served for its own type. */
	p = srv_ask("srv.test", 65401, 0);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

Test(server, nxdomain_nodata_and_loop_targets)
{
	srv_start("1500", NULL);
	expect_nodata("nx.srv.test", LDNS_RR_TYPE_A);
	expect_nodata("nodata.srv.test", LDNS_RR_TYPE_A);
	expect_nodata("dangling.srv.test", LDNS_RR_TYPE_AAAA);
	expect_nodata("v6.srv.test", LDNS_RR_TYPE_A);
	expect_addrs("v6.srv.test.", LDNS_RR_TYPE_AAAA, 0, "2001:db8::6",
		     290, 300);
	ldns_pkt *p = srv_ask("loop.srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
}

Test(server, big_target_tc_over_udp_all_over_tcp)
{
	srv_start("1500", NULL);
	ldns_pkt *p = srv_ask("big.srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect(ldns_pkt_tc(p), "100 A records cannot fit 1232 bytes");
	ldns_pkt_free(p);
	p = srv_ask("big.srv.test", LDNS_RR_TYPE_A, 1);
	cr_expect(!ldns_pkt_tc(p));
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 100);
	ldns_pkt_free(p);
	p = srv_ask("big.srv.test", LDNS_RR_TYPE_AAAA, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 100);
	ldns_pkt_free(p);
	/* Without EDNS the limit is 512: the apex answer still fits. */
	p = dc_query(sport, "srv.test", LDNS_RR_TYPE_A, 0, 0, 2000, NULL);
	cr_assert_not_null(p);
	cr_expect(!ldns_pkt_tc(p));
	cr_expect_eq(ldns_pkt_ancount(p), 3, "ALIAS + 2 A");
	ldns_pkt_free(p);
}

Test(server, alias_record_in_answers_by_default_and_opt_out)
{
	srv_start("1500", NULL);
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1,
		     "draft-aname-04 6.1.1: the ALIAS record is included");
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 2);
	ldns_pkt_free(p);
	srv_stop();
	const char *extra[] = { "--no-include-alias", NULL };
	srv_start("1500", extra);
	p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 0);
	cr_expect_eq(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
}

/* Against a black hole, in event-loop mode and in thread mode (where the
 * answer comes from the library's thread through the worker's queue). */
static void blackhole_case(const char *threads)
{
	ts_blackhole_t *bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	const char *zones[] = { SRV_ZONE, NULL };
	const char *extra[] = { "--threads", threads, NULL };
	srv_start_v(ts_blackhole_port(bh), "400", zones, extra);
	const char *names[] = { "low.srv.test", "srv.test", "chain.srv.test",
				"big.srv.test" };
	for (int i = 0; i < 4; i++) {
		int tcp = i & 1;
		int64_t rtt = 0;
		ldns_pkt *p = dc_query(sport, names[i], LDNS_RR_TYPE_A, tcp,
				       1232, 3000, &rtt);
		cr_assert_not_null(p, "silence (%s, tcp=%d, threads %s)",
				   names[i], tcp, threads);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
		cr_expect(rtt < 400 + 250, "SERVFAIL after %lld ms",
			  (long long)rtt);
		ldns_pkt_free(p);
	}
	int64_t rtt = 0;
	ldns_pkt *p = dc_query(sport, "srv.test", LDNS_RR_TYPE_MX, 0, 1232, 1000,
			       &rtt);
	cr_assert_not_null(p);
	cr_expect_eq(ldns_pkt_ancount(p), 1);
	cr_expect(rtt < 100, "plain data stays instant (%lld ms)", (long long)rtt);
	ldns_pkt_free(p);
	char *body = NULL;
	int code = dc_http_get(mport, "/health", &body);
	cr_expect(code == 200 || code == 503, "health %d: %s", code, body);
	cr_expect(strncmp(body, "ok ", 3) != 0,
		  "a dead upstream must show in /health: %s", body);
	free(body);
	srv_stop();
	ts_blackhole_stop(bh);
}

Test(server, blackholed_upstream_answers_by_deadline)
{
	blackhole_case("1");
}

Test(server, blackholed_upstream_answers_by_deadline_threads)
{
	blackhole_case("2");
}

Test(server, concurrent_clients_on_cold_target_share_one_query)
{
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	cr_assert_not_null(px);
	/* The registration at load starts the only resolution; it stays
	 * in flight for 300 ms (below libunbound's first retransmit at
	 * 376 ms, so the proxy sees exactly one query), and the burst below
	 * arrives while it is still cold. */
	ts_proxy_set_mode(px, "c1.example.test", TS_MODE_DELAY, 300);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/aname-srv-cold-%d.zone",
		 (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("$ORIGIN srv.test.\n@ 300 IN SOA ns1 hm 1 3600 900 604800 120\n"
	      "chain 300 IN ALIAS c1.example.test.\n", f);
	fclose(f);
	const char *zones[] = { path, NULL };
	srv_start_v(ts_proxy_port(px), "3000", zones, NULL);
	int64_t t0 = dc_now_ms();
	int good = 0;
	int answered = dc_burst(sport, "chain.srv.test", LDNS_RR_TYPE_A, 40,
				4000, &good);
	cr_expect_eq(answered, 40);
	cr_expect_eq(good, 40);
	cr_expect(dc_now_ms() - t0 < 3000);
	/* The library sent one resolution per type (the registration's A
	 * and AAAA); all 40 clients joined the A one.  At the proxy that
	 * is one query, or two if libunbound retransmitted it (a slow,
	 * e.g. sanitizer, build can pass its 376 ms first timeout). */
	unsigned seen = ts_proxy_count(px, "c1.example.test", LDNS_RR_TYPE_A);
	cr_expect(seen >= 1 && seen <= 2, "upstream saw %u queries", seen);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/metrics", &body), 200);
	cr_expect_eq(dc_metric(body, "aname_upstream_queries_total"), 2,
		     "one resolution per type for 40 clients, saw %f",
		     dc_metric(body, "aname_upstream_queries_total"));
	cr_expect(dc_metric(body, "aname_server_alias_deferred_total") >= 20,
		  "most of the burst waited for the resolution: %f",
		  dc_metric(body, "aname_server_alias_deferred_total"));
	cr_expect(dc_metric(body, "aname_server_queries_udp_total") >= 40);
	free(body);
	srv_stop();
	ts_proxy_stop(px);
	unlink(path);
}

Test(server, deferred_queries_do_not_block_others)
{
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	cr_assert_not_null(px);
	/* 340 ms: below libunbound's first retransmit (376 ms).  A longer
	 * delay made the answer race libunbound's retries, whose sockets
	 * are closed when a late reply comes, and the test flaky. */
	ts_proxy_set_mode(px, "www.example.test", TS_MODE_DELAY, 340);
	const char *zones[] = { SRV_ZONE, NULL };
	srv_start_v(ts_proxy_port(px), "3000", zones, NULL);
	/* Target still resolving: a UDP client waits... */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ldns_pkt *qp = ldns_pkt_query_new(ldns_dname_new_frm_str("srv.test"),
					  LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	uint8_t *w;
	size_t wl;
	ldns_pkt2wire(&w, qp, &wl);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)sport) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(fd, w, wl, 0, (struct sockaddr *)&sa, sizeof(sa));
	/* ...while everything else is answered at once. */
	for (int i = 0; i < 20; i++) {
		int64_t rtt = 0;
		ldns_pkt *p = dc_query(sport, "mail.srv.test", LDNS_RR_TYPE_A,
				       i & 1, 1232, 1000, &rtt);
		cr_assert_not_null(p);
		cr_expect(rtt < 100);
		ldns_pkt_free(p);
	}
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	cr_expect_eq(poll(&pf, 1, 3000), 1, "the waiting client is answered");
	LDNS_FREE(w);
	ldns_pkt_free(qp);
	close(fd);
	srv_stop();
	ts_proxy_stop(px);
}

Test(server, garbage_and_tcp_handling)
{
	const char *extra[] = { "--tcp-idle-ms", "300", "--tcp-max", "2", NULL };
	srv_start("1500", extra);
	uint8_t out[4096];
	uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0 };
	int n = dc_raw_udp(sport, hdr, sizeof(hdr), out, sizeof(out), 1000);
	cr_expect(n >= 12 && (out[3] & 0xf) == LDNS_RCODE_FORMERR);
	uint8_t notify[12] = { 0, 1, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	n = dc_raw_udp(sport, notify, sizeof(notify), out, sizeof(out), 1000);
	cr_expect(n >= 12 && (out[3] & 0xf) == LDNS_RCODE_NOTIMPL);
	srand(11);
	for (int i = 0; i < 300; i++) {
		uint8_t junk[700];
		size_t len = (size_t)(rand() % (int)sizeof(junk));
		for (size_t k = 0; k < len; k++)
			junk[k] = (uint8_t)rand();
		if (len > 4 && i % 2)
			junk[2] &= 0x7f;   /* make many look like queries */
		dc_raw_udp(sport, junk, len, out, sizeof(out), 0);
	}
	/* Several queries on one TCP connection, answered in full. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)sport) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *names[3] = { "srv.test", "mail.srv.test", "alias.test" };
	for (int i = 0; i < 3; i++) {
		ldns_pkt *qp = ldns_pkt_query_new(
			ldns_dname_new_frm_str(names[i]), LDNS_RR_TYPE_A,
			LDNS_RR_CLASS_IN, 0);
		ldns_pkt_set_id(qp, (uint16_t)(100 + i));
		uint8_t *w;
		size_t wl;
		ldns_pkt2wire(&w, qp, &wl);
		uint8_t len2[2] = { (uint8_t)(wl >> 8), (uint8_t)wl };
		cr_assert_eq(write(fd, len2, 2), 2);
		cr_assert_eq(write(fd, w, wl), (ssize_t)wl);
		LDNS_FREE(w);
		ldns_pkt_free(qp);
	}
	int got = 0;
	uint8_t buf[65536];
	size_t have = 0;
	int64_t deadline = dc_now_ms() + 3000;
	while (got < 3 && dc_now_ms() < deadline) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 500) != 1)
			continue;
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		while (have >= 2 && have >= 2u + (size_t)(buf[0] << 8 | buf[1])) {
			size_t ml = (size_t)(buf[0] << 8 | buf[1]);
			cr_expect_eq(buf[5] & 0xf, 0, "NOERROR on TCP");
			got++;
			memmove(buf, buf + 2 + ml, have - 2 - ml);
			have -= 2 + ml;
		}
	}
	cr_expect_eq(got, 3, "3 answers on one connection");
	/* Idle: the server closes the connection after ~300 ms. */
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	int64_t t0 = dc_now_ms();
	cr_expect_eq(poll(&pf, 1, 3000), 1);
	cr_expect_eq(read(fd, buf, sizeof(buf)), 0, "closed by the server");
	cr_expect(dc_now_ms() - t0 < 2000);
	close(fd);
	/* Connection limit 2: a third connection pushes out the oldest. */
	int c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_eq(connect(c[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		/* Make sure the server accepted it before the next one. */
		ldns_pkt *p = dc_query(sport, "srv.test", LDNS_RR_TYPE_SOA, 0, 0,
				       1000, NULL);
		ldns_pkt_free(p);
	}
	pf.fd = c[0];
	cr_expect_eq(poll(&pf, 1, 2000), 1);
	cr_expect_eq(read(c[0], buf, sizeof(buf)), 0, "oldest idle evicted");
	for (int i = 0; i < 3; i++)
		close(c[i]);
	/* Still alive and well. */
	expect_addrs("srv.test.", LDNS_RR_TYPE_A, 0, "192.0.2.1 192.0.2.2",
		     290, 300);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/health", &body), 200);
	/* Degraded is expected: the loop target fails on purpose. */
	cr_expect(!strncmp(body, "ok ", 3) || !strncmp(body, "degraded ", 9),
		  "health: %s", body);
	free(body);
	cr_expect_eq(dc_http_get(mport, "/metrics", &body), 200);
	cr_expect(dc_metric(body, "aname_server_dropped_total") >= 1);
	cr_expect(dc_metric(body, "aname_server_tcp_rejected_total") >= 1);
	cr_expect(dc_metric(body, "aname_server_alias_targets") == 8,
		  "distinct targets: %f",
		  dc_metric(body, "aname_server_alias_targets"));
	free(body);
}

static const char *reload_zone =
	"$ORIGIN srv.test.\n$TTL 300\n"
	"@ SOA ns1 hostmaster %d 3600 900 604800 120\n"
	"@ NS ns1\nns1 A 192.0.2.53\n"
	"@ ALIAS %s\n%s\n";

Test(server, sighup_reload_and_failed_reload_keeps_old)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/aname-srv-reload-%d.zone",
		 (int)getpid());
	srv_write_file(path, reload_zone, 1, "www.example.test.", "");
	const char *zones[] = { path, NULL };
	srv_start_v(ts_nsd_port(nsd), "1500", zones, NULL);
	expect_addrs("srv.test.", LDNS_RR_TYPE_A, 0, "192.0.2.1 192.0.2.2",
		     290, 300);
	/* New target and a new name. */
	srv_write_file(path, reload_zone, 2, "ext.example.test.",
		   "new 300 IN A 192.0.2.77");
	kill(spid, SIGHUP);
	int64_t deadline = dc_now_ms() + 5000;
	int ok = 0;
	while (!ok && dc_now_ms() < deadline) {
		ldns_pkt *p = dc_query(sport, "new.srv.test", LDNS_RR_TYPE_A, 0,
				       1232, 500, NULL);
		cr_assert_not_null(p, "no answer during reload");
		ok = ldns_pkt_ancount(p) == 1;
		ldns_pkt_free(p);
	}
	cr_assert(ok, "reloaded zone not served within 5 s");
	expect_addrs("srv.test.", LDNS_RR_TYPE_A, 0, "198.51.100.7", 1, 30);
	/* A broken zone: the error names file and line; old data stays. */
	srv_write_file(path, reload_zone, 3, "www.example.test.",
		   "broken IN A not-an-address");
	kill(spid, SIGHUP);
	char *body = NULL;
	deadline = dc_now_ms() + 5000;
	double fails = 0;
	while (fails < 1 && dc_now_ms() < deadline) {
		free(body);
		body = NULL;
		cr_assert_eq(dc_http_get(mport, "/metrics", &body), 200);
		fails = dc_metric(body, "aname_server_reload_failures_total");
	}
	free(body);
	cr_assert(fails >= 1, "failed reload not counted");
	expect_addrs("srv.test.", LDNS_RR_TYPE_A, 0, "198.51.100.7", 1, 30);
	expect_addrs("new.srv.test.", LDNS_RR_TYPE_A, 0, "192.0.2.77", 300, 300);
	char grep[256];
	snprintf(grep, sizeof(grep), "grep -q '%s:7:' %s", path, logpath);
	cr_expect_eq(system(grep), 0, "error with file:line in the log");
	unlink(path);
}

Test(server, bad_zone_or_options_refuse_to_start)
{
	const char *bin = getenv("ANAME_SERVER");
	cr_assert_not_null(bin);
	char log[64];
	snprintf(log, sizeof(log), "/tmp/aname-srv-bad-%d.log", (int)getpid());
	unlink(log);
	const char *argv[] = { bin, "--listen", "127.0.0.1@5399", "--zone",
			       BAD_ZONE, NULL };
	pid_t pid = dc_spawn((char *const *)argv, log);
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	char grep[256];
	snprintf(grep, sizeof(grep), "grep -q '%s:6:' %s", BAD_ZONE, log);
	cr_expect_eq(system(grep), 0, "zone error names file and line 6");
	unlink(log);
	const char *bad[][6] = {
		{ "--listen", "127.0.0.1@5399", NULL },   /* no zone */
		{ "--zone", SRV_ZONE, NULL },             /* no listen */
		{ "--listen", "nowhere", "--zone", SRV_ZONE, NULL },
		{ "--listen", "127.0.0.1@5399", "--zone", "/nonexistent", NULL },
		{ "--listen", "127.0.0.1@5399", "--zone", SRV_ZONE,
		  "--threads", "0" },
		{ "--listen", "127.0.0.1@5399", "--zone", SRV_ZONE,
		  "--stub", "example.test" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *av[8] = { bin };
		for (int k = 0; k < 6; k++)
			av[k + 1] = bad[i][k];
		pid = dc_spawn((char *const *)av, "/dev/null");
		waitpid(pid, &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) != 0,
			  "case %zu must fail", i);
	}
}

Test(server, threads_mode_answers)
{
	const char *extra[] = { "--threads", "2", NULL };
	srv_start("1500", extra);
	for (int i = 0; i < 10; i++) {
		expect_addrs("srv.test.", LDNS_RR_TYPE_A, i & 1,
			     "192.0.2.1 192.0.2.2", 290, 300);
		expect_addrs("chain.srv.test.", LDNS_RR_TYPE_A, i & 1,
			     "192.0.2.1 192.0.2.2", 40, 50);
	}
	ldns_pkt *p = srv_ask("big.srv.test", LDNS_RR_TYPE_AAAA, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 100);
	ldns_pkt_free(p);
}

Test(server, config_file_options_and_errors)
{
	const char *bin = getenv("ANAME_SERVER");
	cr_assert_not_null(bin);
	char conf[64];
	snprintf(conf, sizeof(conf), "/tmp/aname-srv-conf-%d.conf", (int)getpid());
	sport = ts_free_port();
	char cwd[512];
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	srv_write_file(conf,
		   "# aname-server configuration\n"
		   "listen 127.0.0.1@%d\n"
		   "zone %s/" SRV_ZONE "   # the test zone\n"
		   "stub example.test=127.0.0.1@%d\n"
		   "stub .=127.0.0.1@%d\n"
		   "include-alias\n",
		   sport, cwd, ts_nsd_port(nsd), ts_free_port());
	const char *argv[] = { bin, "--config", conf, NULL };
	snprintf(logpath, sizeof(logpath), "/tmp/aname-server-test-%d.log",
		 (int)getpid());
	spid = dc_spawn((char *const *)argv, logpath);
	cr_assert_eq(dc_wait_ready(spid, sport, "srv.test", 5000), 0,
		     "started from the config file");
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 2);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1,
		     "include-alias from the file");
	ldns_pkt_free(p);
	srv_stop();
	/* An unknown option on line 3: refused, with file and line. */
	srv_write_file(conf, "listen 127.0.0.1@%d\nzone " SRV_ZONE "\nfrobnicate 1\n",
		   ts_free_port());
	char log[64];
	snprintf(log, sizeof(log), "/tmp/aname-srv-conf-%d.log", (int)getpid());
	unlink(log);
	pid_t pid = dc_spawn((char *const *)argv, log);
	int st;
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	char grep[256];
	snprintf(grep, sizeof(grep), "grep -q '%s:3: unknown option' %s", conf, log);
	cr_expect_eq(system(grep), 0, "error names file:line");
	unlink(log);
	unlink(conf);
}
