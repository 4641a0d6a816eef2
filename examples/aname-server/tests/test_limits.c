/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server's TCP bounds under attack (dnsloop.h documents them): a
 * client that pipelines thousands of queries for a large answer and never
 * reads, many such clients against the total bound, and connection churn
 * at the connection limit (also run under ASan: `make test-server-asan`).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "tcpload.h"

TestSuite(limits, .init = srv_setup, .fini = srv_teardown, .timeout = 90);

#define KIB 1024L

/* Allowed peak RSS growth: \a kib, or 8 times that under ASan, whose
 * quarantine and shadow memory keep freed memory resident (the unsent
 * output gauge is checked exactly either way). */
static long rss_allowance(long kib)
{
	return getenv("ANAME_TEST_ASAN") ? 8 * kib : kib;
}

/*
 * Once the server stops reading (its TCP query count settles): at least
 * \a paused pauses, unsent output within \a out_max bytes, peak RSS grown
 * by less than \a rss_kib since \a hwm0.
 */
static void expect_held(int paused, double out_max, long hwm0, long rss_kib)
{
	tl_await_settled(mport, "aname_server_queries_tcp_total");
	cr_expect_geq(srv_metric("aname_server_tcp_paused_total"), paused);
	double out = srv_metric("aname_server_tcp_output_bytes");
	cr_expect(out > 0 && out <= out_max, "unsent output %g bytes, bound %g",
		  out, out_max);
	long grew = tl_proc_kib(spid, "VmHWM") - hwm0;
	cr_expect(grew < rss_allowance(rss_kib), "peak RSS grew by %ld KiB",
		  grew);
	fprintf(stderr, "test_limits: %d paused: %g bytes unsent, peak RSS "
		"+%ld KiB\n", paused, out, grew);
}

/*
 * The attack of issue 14, defect 1: 20 000 pipelined queries for a
 * 100-record AAAA answer (~2.9 KB each, 58 MB in all) and no reading.
 * The server must stop reading the connection, hold at most its
 * per-connection bound, and still answer every query once the client
 * reads.
 */
Test(limits, pipelining_client_that_never_reads_is_bounded)
{
	srv_start("1500", NULL);
	ldns_pkt *p = srv_ask("big.srv.test", LDNS_RR_TYPE_AAAA, 1);
	cr_assert_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA), 100);
	ldns_pkt_free(p);
	long hwm0 = tl_proc_kib(spid, "VmHWM");
	cr_assert(hwm0 > 0);

	enum { N = 20000 };
	size_t len, off = 0;
	uint8_t *qs = tl_pipeline("big.srv.test", LDNS_RR_TYPE_AAAA, N, &len);
	int fd = tl_client(sport, 4096);
	off = tl_write_some(fd, qs, off, len);
	/* Paused: nothing more is read, so nothing more is queued. */
	expect_held(1, 256 * KIB, hwm0, 4 * 1024);

	/* Now read: every query gets its full answer, in order. */
	int bad = 0;
	int answers = tl_read_all(fd, qs, off, len, N, 101, &bad); /* ALIAS+100 */
	cr_expect_eq(answers, N, "answers received: %d of %d", answers, N);
	cr_expect_eq(bad, 0, "%d answers out of order or incomplete", bad);
	close(fd);
	free(qs);
	long grew = tl_proc_kib(spid, "VmHWM") - hwm0;
	cr_expect(grew < rss_allowance(4 * 1024), "peak RSS grew by %ld KiB",
		  grew);
}

/*
 * Many clients that never read, against a 1 MiB total bound: the total
 * holds, and the stuck connections are closed after the idle timeout.
 */
Test(limits, many_stuck_clients_hold_the_total_bound_then_close)
{
	const char *extra[] = { "--tcp-out-max", "1048576", "--tcp-idle-ms",
				"800", NULL };
	srv_start("1500", extra);
	ldns_pkt *p = srv_ask("big.srv.test", LDNS_RR_TYPE_AAAA, 1);
	ldns_pkt_free(p);
	long hwm0 = tl_proc_kib(spid, "VmHWM");

	enum { CONNS = 16, N = 2000 };
	size_t len;
	uint8_t *qs = tl_pipeline("big.srv.test", LDNS_RR_TYPE_AAAA, N, &len);
	int fd[CONNS];
	for (int i = 0; i < CONNS; i++) {
		fd[i] = tl_client(sport, 4096);
		cr_expect_eq(tl_write_some(fd[i], qs, 0, len), len);
	}
	/* Every connection stops being read once (none ever drains).  The
	 * RSS allowance: 1 MiB of output + 16 read buffers of 64 KiB +
	 * allocator slack (measured: +1.6 MiB; unbounded: +84 MiB). */
	expect_held(CONNS, 1024 * KIB, hwm0, 8 * 1024);
	/* Stuck: no progress for 800 ms closes them, output and all. */
	tl_await_metric(mport, "aname_server_tcp_idle_closed_total", CONNS, 10000);
	cr_expect_eq(srv_metric("aname_server_tcp_output_bytes"), 0);
	for (int i = 0; i < CONNS; i++)
		close(fd[i]);
	free(qs);
	p = srv_ask("srv.test", LDNS_RR_TYPE_A, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 2,
		     "still answering over TCP");
	ldns_pkt_free(p);
}

/*
 * Issue 14, defect 2: at the connection limit, accepting evicts the
 * longest-idle connection, whose own event may come later in the same
 * epoll batch.  200 connections, each sending a query at once, against
 * --tcp-max 16; under ASan (test-server-asan) a use-after-free aborts the
 * server and the clean-exit check in srv_stop() fails.
 */
Test(limits, connection_churn_at_the_limit)
{
	const char *extra[] = { "--tcp-max", "16", NULL };
	srv_start("1500", extra);
	size_t len;
	uint8_t *q = tl_pipeline("srv.test", LDNS_RR_TYPE_A, 1, &len);
	tl_churn(sport, q, len);
	free(q);
	ldns_pkt *p = srv_ask("srv.test", LDNS_RR_TYPE_A, 1);
	cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), 2);
	ldns_pkt_free(p);
	cr_expect(srv_metric("aname_server_tcp_rejected_total") >= 1);
	char grep[128];
	snprintf(grep, sizeof(grep), "grep -q AddressSanitizer %s", logpath);
	cr_expect_neq(system(grep), 0, "ASan report in %s", logpath);
	srv_stop();
}
