/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-resolverd against real servers on loopback: nsd with the fixture
 * zones as the upstream, the fault-injecting proxy for coalescing, a black
 * hole for deadlines.  The binary under test is $ANAME_RESOLVERD.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsclient.h"
#include "tcpload.h"
#include "wire.h"
#include "support/servers.h"

static ts_nsd_t *nsd;
static pid_t rpid = -1;
static int rport;
static int mport;
static char logpath[64];

/* Start the resolver with \a upstream_port as the fixture zones' server. */
static void start(int upstream_port, const char *timeout_ms,
		  const char *extra)
{
	const char *bin = getenv("ANAME_RESOLVERD");
	cr_assert_not_null(bin, "ANAME_RESOLVERD is not set");
	snprintf(logpath, sizeof(logpath), "/tmp/aname-resolverd-%d.log",
		 (int)getpid());
	for (int attempt = 0; attempt < 3; attempt++) {
		rport = ts_free_port();
		mport = ts_free_port();
		char listen[64], stub1[64], stub2[64], guard[64], metrics[64];
		snprintf(listen, sizeof(listen), "127.0.0.1@%d", rport);
		/* Stubs, not --forward: the library answers *.test from
		 * libunbound's RFC 6761 local zone in forward mode (reported);
		 * the guard stub for "." keeps everything else on loopback. */
		snprintf(stub1, sizeof(stub1), "example.test=127.0.0.1@%d",
			 upstream_port);
		snprintf(stub2, sizeof(stub2), "other.test=127.0.0.1@%d",
			 upstream_port);
		snprintf(guard, sizeof(guard), ".=127.0.0.1@%d", ts_free_port());
		snprintf(metrics, sizeof(metrics), "127.0.0.1@%d", mport);
		char *argv[24] = { (char *)bin, "--listen", listen,
				   "--stub", stub1, "--stub", stub2,
				   "--stub", guard, "--timeout-ms",
				   (char *)timeout_ms, "--metrics", metrics };
		int n = 13;
		if (extra) {
			argv[n++] = strtok(strdup(extra), " ");
			while ((argv[n] = strtok(NULL, " ")))
				n++;
		}
		argv[n] = NULL;
		rpid = dc_spawn(argv, logpath);
		cr_assert(rpid > 0);
		if (dc_wait_ready(rpid, rport, "www.example.test", 5000) == 0)
			return;
		dc_stop(rpid);
		rpid = -1;
	}
	cr_assert_fail("aname-resolverd did not start (log: %s)", logpath);
}

static void setup(void)
{
	nsd = ts_nsd_start(NULL);
	cr_assert_not_null(nsd, "nsd did not start");
}

static void teardown(void)
{
	if (rpid > 0) {
		int st = dc_stop(rpid);
		rpid = -1;
		/* A clean exit on SIGTERM is part of the contract. */
		cr_expect(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "aname-resolverd did not exit cleanly (status %d)",
			  st);
	}
	ts_server_stop(nsd);
	nsd = NULL;
	unlink(logpath);
}

TestSuite(resolverd, .init = setup, .fini = teardown, .timeout = 30);

static ldns_pkt *q(const char *name, uint16_t type, int tcp)
{
	ldns_pkt *p = dc_query(rport, name, type, tcp, 1232, 3000, NULL);
	cr_assert_not_null(p, "no answer for %s/%u (tcp=%d)", name, type, tcp);
	return p;
}

Test(resolverd, answers_a_and_aaaa_over_udp_and_tcp)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	for (int tcp = 0; tcp <= 1; tcp++) {
		ldns_pkt *p = q("www.example.test", LDNS_RR_TYPE_A, tcp);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		cr_expect(ldns_pkt_ra(p), "RA must be set");
		cr_expect(!ldns_pkt_aa(p), "a resolver is not authoritative");
		char *a = dc_addrs(p, "www.example.test.", LDNS_RR_TYPE_A);
		cr_expect_str_eq(a, "192.0.2.1 192.0.2.2");
		free(a);
		ldns_pkt_free(p);
		p = q("www.example.test", LDNS_RR_TYPE_AAAA, tcp);
		a = dc_addrs(p, "www.example.test.", LDNS_RR_TYPE_AAAA);
		cr_expect_str_eq(a, "2001:db8::1");
		free(a);
		ldns_pkt_free(p);
	}
}

Test(resolverd, flattens_cname_chain_with_min_ttl)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	ldns_pkt *p = q("c1.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_CNAME), 0,
		     "flattened: no CNAME in the answer");
	char *a = dc_addrs(p, "c1.example.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.1 192.0.2.2", "addresses at the queried name");
	free(a);
	long ttl = dc_min_ttl(p, LDNS_RR_TYPE_A);
	cr_expect(ttl > 40 && ttl <= 50, "TTL is the chain minimum 50, got %ld",
		  ttl);
	ldns_pkt_free(p);
	/* Cross-zone chain ends at other.test, TTL 30. */
	p = q("ext.example.test", LDNS_RR_TYPE_A, 1);
	a = dc_addrs(p, "ext.example.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "198.51.100.7");
	free(a);
	ttl = dc_min_ttl(p, LDNS_RR_TYPE_A);
	cr_expect(ttl > 20 && ttl <= 30, "TTL 30 expected, got %ld", ttl);
	ldns_pkt_free(p);
}

Test(resolverd, nxdomain_and_nodata_become_empty_noerror)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	const char *names[] = { "nothere.example.test", "nodata.example.test",
				"dangling.example.test" };
	for (size_t i = 0; i < 3; i++) {
		for (int pass = 0; pass < 2; pass++) {  /* cold, then cached */
			ldns_pkt *p = q(names[i], LDNS_RR_TYPE_A, 0);
			cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR,
				     "%s: NOERROR so PowerDNS answers NODATA",
				     names[i]);
			cr_expect_eq(ldns_pkt_ancount(p), 0, "%s: no records",
				     names[i]);
			ldns_pkt_free(p);
		}
	}
	ldns_pkt *p = q("v6only.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	cr_expect_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

Test(resolverd, cname_loop_is_servfail)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	ldns_pkt *p = q("loop1.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
}

Test(resolverd, blackholed_upstream_servfail_before_deadline)
{
	ts_blackhole_t *bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	start(ts_blackhole_port(bh), "400", NULL);
	for (int tcp = 0; tcp <= 1; tcp++) {
		int64_t rtt = 0;
		char name[64];
		snprintf(name, sizeof(name), "t%d.example.test", tcp);
		ldns_pkt *p = dc_query(rport, name, LDNS_RR_TYPE_A, tcp, 1232,
				       3000, &rtt);
		cr_assert_not_null(p, "silence instead of SERVFAIL (tcp=%d)",
				   tcp);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
		cr_expect(rtt < 400 + 250, "answered after %lld ms, deadline "
			  "400 ms", (long long)rtt);
		ldns_pkt_free(p);
	}
	/* Meanwhile the process keeps answering other things at once. */
	int64_t rtt = 0;
	ldns_pkt *p = dc_query(rport, "x.example.test", LDNS_RR_TYPE_TXT, 0, 0,
			       1000, &rtt);
	cr_expect_not_null(p);
	cr_expect(rtt < 100);
	ldns_pkt_free(p);
	dc_stop(rpid);
	rpid = -1;
	ts_blackhole_stop(bh);
}

Test(resolverd, concurrent_clients_share_one_upstream_query)
{
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	cr_assert_not_null(px);
	start(ts_proxy_port(px), "1500", NULL);
	/* Slow enough that all 40 queries arrive while the first is out. */
	ts_proxy_set_mode(px, "www.example.test", TS_MODE_DELAY, 250);
	ts_proxy_reset_counts(px);
	int good = 0;
	int answered = dc_burst(rport, "www.example.test", LDNS_RR_TYPE_A, 40,
				3000, &good);
	cr_expect_eq(answered, 40);
	cr_expect_eq(good, 40, "all 40 got the addresses");
	cr_expect_eq(ts_proxy_count(px, "www.example.test", LDNS_RR_TYPE_A), 1,
		     "one upstream query for 40 clients, saw %u",
		     ts_proxy_count(px, "www.example.test", LDNS_RR_TYPE_A));
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/metrics", &body), 200);
	cr_expect(dc_metric(body, "aname_upstream_queries_total") >= 1);
	cr_expect(dc_metric(body, "aname_resolverd_deferred_total") >= 1);
	free(body);
	dc_stop(rpid);
	rpid = -1;
	ts_proxy_stop(px);
}

Test(resolverd, big_answer_truncates_on_udp_full_on_tcp)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	ldns_pkt *p = q("big.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect(ldns_pkt_tc(p), "100 A records do not fit in 1232 bytes");
	ldns_pkt_free(p);
	p = q("big.example.test", LDNS_RR_TYPE_A, 1);
	cr_expect(!ldns_pkt_tc(p));
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 100);
	ldns_pkt_free(p);
	/* No EDNS: 512 bytes; a small answer still fits. */
	p = dc_query(rport, "www.example.test", LDNS_RR_TYPE_A, 0, 0, 2000, NULL);
	cr_assert_not_null(p);
	cr_expect(!ldns_pkt_tc(p));
	cr_expect_eq(ldns_pkt_ancount(p), 2);
	ldns_pkt_free(p);
}

Test(resolverd, other_types_refused_garbage_survived)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	ldns_pkt *p = q("www.example.test", LDNS_RR_TYPE_MX, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	uint8_t out[4096];
	/* A header that claims one question and has none: FORMERR. */
	uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	int n = dc_raw_udp(rport, hdr, sizeof(hdr), out, sizeof(out), 1000);
	cr_expect(n >= 12 && (out[3] & 0xf) == LDNS_RCODE_FORMERR);
	/* Random garbage, short datagrams, responses: no crash. */
	srand(7);
	for (int i = 0; i < 300; i++) {
		uint8_t junk[600];
		size_t len = (size_t)(rand() % (int)sizeof(junk));
		for (size_t k = 0; k < len; k++)
			junk[k] = (uint8_t)rand();
		dc_raw_udp(rport, junk, len, out, sizeof(out), 0);
	}
	p = q("www.example.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/health", &body), 200);
	cr_expect(strncmp(body, "ok ", 3) == 0 ||
		  strncmp(body, "degraded ", 9) == 0, "health: %s", body);
	free(body);
}

Test(resolverd, bad_options_fail_loudly)
{
	const char *bin = getenv("ANAME_RESOLVERD");
	cr_assert_not_null(bin);
	const char *bad[][4] = {
		{ "--listen", "127.0.0.1@99999", NULL },
		{ "--listen", "127.0.0.1@5353", "--forward", "nowhere" },
		{ "--listen", "127.0.0.1@5353", "--allow", "10.0.0.0/33" },
		{ "--listen", "127.0.0.1@5353", "--timeout-ms", "5" },
		{ "--bogus", NULL },
		{ NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[6] = { (char *)bin };
		for (int k = 0; k < 4; k++)
			argv[k + 1] = (char *)bad[i][k];
		pid_t pid = dc_spawn(argv, "/dev/null");
		int st;
		waitpid(pid, &st, 0);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) != 0,
			  "case %zu must fail", i);
	}
}

Test(resolverd, serves_stale_when_upstream_dies)
{
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	cr_assert_not_null(px);
	start(ts_proxy_port(px), "500", "--stale-max 3600");
	/* short.example.test has TTL 2. */
	ldns_pkt *p = q("short.example.test", LDNS_RR_TYPE_A, 0);
	char *a = dc_addrs(p, "short.example.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.99");
	free(a);
	ldns_pkt_free(p);
	ts_proxy_set_mode(px, "short.example.test", TS_MODE_DROP, 0);
	/* Poll until the entry has expired and comes back stale (the
	 * library's stale TTL, 30 s, is above the record's 2 s). */
	int64_t deadline = dc_now_ms() + 8000;
	long ttl = -1;
	int rcode = -1;
	while (dc_now_ms() < deadline) {
		p = q("short.example.test", LDNS_RR_TYPE_A, 0);
		rcode = ldns_pkt_get_rcode(p);
		ttl = dc_min_ttl(p, LDNS_RR_TYPE_A);
		a = dc_addrs(p, "short.example.test.", LDNS_RR_TYPE_A);
		cr_expect(rcode == LDNS_RCODE_NOERROR && !strcmp(a, "192.0.2.99"),
			  "never SERVFAIL or empty while stale data exists "
			  "(rcode %d, '%s')", rcode, a);
		free(a);
		ldns_pkt_free(p);
		if (ttl > 2)
			break;
		struct timespec ts = { 0, 200 * 1000000 };
		nanosleep(&ts, NULL);
	}
	cr_expect(ttl > 2, "a stale answer (stale TTL) arrived, last TTL %ld",
		  ttl);
	char *body = NULL;
	cr_expect_eq(dc_http_get(mport, "/metrics", &body), 200);
	cr_expect(dc_metric(body, "aname_hits_stale_total") >= 1);
	free(body);
	dc_stop(rpid);
	rpid = -1;
	ts_proxy_stop(px);
}

/*
 * On the wire (issue 14, items 3, 4 and 8): ANY gets A and AAAA (PowerDNS
 * sends ANY here for an ANY query at an ALIAS owner and turned a REFUSED
 * into SERVFAIL); other opcodes get NOTIMP with their opcode and question;
 * DO is echoed.
 */
Test(resolverd, any_opcodes_and_do_on_the_wire)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	static uint8_t out[65536];
	for (int tcp = 0; tcp <= 1; tcp++) {
		wq_t w = wq_new(0x2001, 0x0100, "www.example.test", 255, 1);
		int n = tcp ? wq_tcp(rport, &w, out, sizeof(out), 3000) :
			      dc_raw_udp(rport, w.b, w.len, out, sizeof(out), 3000);
		cr_assert(n >= 12, "no answer to ANY (tcp=%d)", tcp);
		ldns_pkt *p = NULL;
		cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)n), LDNS_STATUS_OK);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		char *a = dc_addrs(p, "www.example.test.", LDNS_RR_TYPE_A);
		char *aaaa = dc_addrs(p, "www.example.test.", LDNS_RR_TYPE_AAAA);
		cr_expect_str_eq(a, "192.0.2.1 192.0.2.2");
		cr_expect_str_eq(aaaa, "2001:db8::1");
		free(a);
		free(aaaa);
		ldns_pkt_free(p);
	}
	for (unsigned op = 1; op < 16; op++) {
		wq_t w = wq_new((uint16_t)op, 0x0100, "www.example.test", 1, 1);
		w.opcode = op;
		wq_set_flags(&w);
		int n = dc_raw_udp(rport, w.b, w.len, out, sizeof(out), 2000);
		cr_assert(n >= 12 + (int)w.qlen);
		cr_expect_eq(wq_u16(out, 2), 0x8000 | op << 11 | 0x0100 | 4,
			     "opcode %u: flags %04x", op, wq_u16(out, 2));
		cr_expect_eq(wq_u16(out, 4), 1);
		cr_expect_eq(memcmp(out + 12, w.b + 12, w.qlen), 0);
	}
	wq_t w = wq_new(0x3003, 0, "www.example.test", 1, 1);
	wq_add_opt(&w, 1232, 0, 0x8000, NULL, 0);
	int n = dc_raw_udp(rport, w.b, w.len, out, sizeof(out), 3000);
	cr_assert(n >= 12 + 11);
	cr_expect_eq(out[n - 11 + 7], 0x80, "DO echoed");
}

/*
 * Issue 14, defect 1 (aname-resolverd grew 681 MB): 20 000 pipelined
 * queries for a 100-record answer and no reading stay within the
 * per-connection bound; then every query is answered.
 */
Test(resolverd, tcp_pipelining_client_that_never_reads_is_bounded)
{
	start(ts_nsd_port(nsd), "1500", NULL);
	ldns_pkt *p = q("big.example.test", LDNS_RR_TYPE_A, 1);
	cr_assert_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 100);
	ldns_pkt_free(p);
	long hwm0 = tl_proc_kib(rpid, "VmHWM");
	enum { N = 20000 };
	size_t len;
	uint8_t *qs = tl_pipeline("big.example.test", LDNS_RR_TYPE_A, N, &len);
	int fd = tl_client(rport, 4096);
	size_t off = tl_write_some(fd, qs, 0, len);
	tl_await_settled(mport, "aname_resolverd_queries_tcp_total");
	cr_expect_geq(tl_metric(mport, "aname_resolverd_tcp_paused_total"), 1);
	double out = tl_metric(mport, "aname_resolverd_tcp_output_bytes");
	cr_expect(out > 0 && out <= 256 * 1024, "unsent %g bytes", out);
	long grew = tl_proc_kib(rpid, "VmHWM") - hwm0;
	cr_expect(grew < (getenv("ANAME_TEST_ASAN") ? 32 : 4) * 1024,
		  "peak RSS grew by %ld KiB", grew);
	int bad = 0;
	int answers = tl_read_all(fd, qs, off, len, N, 100, &bad);
	cr_expect_eq(answers, N, "answers: %d of %d", answers, N);
	cr_expect_eq(bad, 0);
	close(fd);
	free(qs);
}

/* Issue 14, defect 2 (aname-resolverd died of it in a slowloris run):
 * connection churn past --tcp-max; under ASan in test-server-asan. */
static bool tcp_answers(void *arg)
{
	(void)arg;
	ldns_pkt *p = dc_query(rport, "www.example.test", LDNS_RR_TYPE_A, 1,
			       1232, 500, NULL);
	bool ok = p != NULL && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR;
	ldns_pkt_free(p);
	return ok;
}

/* 200 connections opened, each with a query, and closed at a 16-connection
 * limit.  While the server still works through that backlog (connections
 * with an answer pending are not evicted) a new connection may be turned
 * away, as at any full limit; the server must then recover on its own. */
Test(resolverd, tcp_connection_churn_at_the_limit)
{
	start(ts_nsd_port(nsd), "1500", "--tcp-max 16");
	size_t len;
	uint8_t *qs = tl_pipeline("www.example.test", LDNS_RR_TYPE_A, 1, &len);
	tl_churn(rport, qs, len);
	free(qs);
	cr_expect(ts_wait_until(tcp_answers, NULL, 3000),
		  "a TCP query is answered again within 3 s of the churn");
	cr_expect_geq(tl_metric(mport, "aname_resolverd_tcp_rejected_total"), 1);
}
