/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/*
 * Tests of the test-support servers (tests/support/): the other suites
 * trust nsd, the black hole and the proxy to behave as documented, so each
 * behaviour is checked here against real sockets.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "support/servers.h"

#define T_A 1
#define T_SOA 6
#define T_AAAA 28

TestSuite(support, .timeout = 30);

Test(support, nsd_serves_fixtures_and_stops)
{
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	cr_assert_not_null(nsd, "support: nsd starts");
	fprintf(stderr, "support: nsd ready in %lld ms on port %d\n",
		(long long)nsd->start_ms, nsd->port);
	pid_t pid = nsd->pid;

	ts_answer_t a;
	cr_assert(eq(int, ts_query_ex(nsd->port, "www.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.rcode, 0));
	cr_expect(eq(int, a.ancount, 2), "support: www has two A records");
	cr_expect(eq(int, a.aa, 1));
	cr_expect(eq(u32, a.min_ttl, 300));

	int rcode = -1, ancount = -1;
	cr_assert(eq(int, ts_query(nsd->port, "WWW.Example.Test.", T_AAAA, 1,
				   &rcode, &ancount), 0), "support: TCP works");
	cr_expect(eq(int, rcode, 0));
	cr_expect(eq(int, ancount, 1));

	cr_assert(eq(int, ts_query_ex(nsd->port, "target.other.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 1), "support: other.test is served");
	cr_expect(eq(u32, a.min_ttl, 30));

	cr_assert(eq(int, ts_query_ex(nsd->port, "nothere.example.test", T_A,
				      0, 1000, &a), 0));
	cr_expect(eq(int, a.rcode, 3), "support: NXDOMAIN");

	cr_assert(eq(int, ts_query_ex(nsd->port, "big.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.tc, 1), "support: big is truncated over UDP");
	cr_assert(eq(int, ts_query_ex(nsd->port, "big.example.test", T_A, 1,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 100), "support: big has 100 A over TCP");

	cr_assert(eq(int, ts_query_ex(nsd->port, "c1.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 5), "support: c1 chain = 3 CNAME + 2 A");
	cr_expect(eq(u32, a.min_ttl, 50));

	int port = nsd->port;
	ts_server_stop(nsd);
	cr_expect(eq(int, kill(pid, 0), -1), "support: nsd is gone");
	cr_expect(eq(int, errno, ESRCH));
	cr_expect(ne(int, ts_query_ex(port, "www.example.test", T_A, 0, 200,
				       &a), 0), "support: nothing answers");
}

Test(support, nsd_custom_zone_list)
{
	char path[512];
	const char *dir = ts_fixtures_dir();
	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/other.test.zone", dir);
	ts_zone_t zones[] = { { "other.test", path }, { NULL, NULL } };
	ts_nsd_t *nsd = ts_nsd_start(zones);
	cr_assert_not_null(nsd);
	int rcode = -1;
	cr_assert(eq(int, ts_query(nsd->port, "www.example.test", T_A, 0,
				   &rcode, NULL), 0));
	cr_expect(eq(int, rcode, 5), "support: example.test not served");
	ts_server_stop(nsd);
}

Test(support, nsd_bad_zone_fails_loudly)
{
	ts_zone_t zones[] = { { "example.test", "/nonexistent/zone" },
			      { NULL, NULL } };
	int64_t t0 = ts_now_ms();
	cr_expect_null(ts_nsd_start(zones));
	cr_expect(lt(i64, ts_now_ms() - t0, 6000));
}

Test(support, two_nsd_at_once_get_different_ports)
{
	ts_nsd_t *a = ts_nsd_start(NULL);
	ts_nsd_t *b = ts_nsd_start(NULL);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_expect(ne(int, a->port, b->port));
	cr_expect(ne(str, a->dir, b->dir));
	ts_server_stop(a);
	int rcode = -1;
	cr_expect(eq(int, ts_query(b->port, "www.example.test", T_A, 0,
				   &rcode, NULL), 0));
	ts_server_stop(b);
}

static bool udp_seen(void *arg)
{
	return ts_blackhole_udp_count(arg) >= 2;
}

Test(support, blackhole_reads_and_never_answers)
{
	ts_blackhole_t *bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	int port = ts_blackhole_port(bh);
	cr_assert(gt(int, port, 0));

	ts_answer_t a;
	int64_t t0 = ts_now_ms();
	errno = 0;
	cr_expect(eq(int, ts_query_ex(port, "www.example.test", T_A, 0, 200,
				      &a), -1), "support: UDP no answer");
	cr_expect(eq(int, errno, ETIMEDOUT));
	int64_t took = ts_now_ms() - t0;
	cr_expect(ge(i64, took, 190));
	cr_expect(lt(i64, took, 1000));
	ts_query_ex(port, "x.example.test", T_A, 0, 50, &a);
	cr_expect(ts_wait_until(udp_seen, bh, 1000));

	errno = 0;
	cr_expect(eq(int, ts_query_ex(port, "www.example.test", T_A, 1, 200,
				      &a), -1), "support: TCP no answer");
	cr_expect(eq(int, errno, ETIMEDOUT),
		  "support: TCP connects, then times out");
	cr_expect(eq(u32, ts_blackhole_tcp_count(bh), 1));
	cr_expect(eq(u32, ts_blackhole_count(bh), 3));
	ts_blackhole_stop(bh);
}

struct px_fixture {
	ts_nsd_t *nsd;
	ts_proxy_t *px;
	int port;
};

static void px_setup(struct px_fixture *f)
{
	f->nsd = ts_nsd_start(NULL);
	cr_assert_not_null(f->nsd);
	f->px = ts_proxy_start(f->nsd->port);
	cr_assert_not_null(f->px);
	f->port = ts_proxy_port(f->px);
}

static void px_teardown(struct px_fixture *f)
{
	ts_proxy_stop(f->px);
	ts_server_stop(f->nsd);
}

Test(support, proxy_modes_per_name)
{
	struct px_fixture f;
	px_setup(&f);
	ts_answer_t a;

	/* PASS, both transports, big answers relayed verbatim. */
	cr_assert(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 2));
	cr_assert(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 1,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 2));
	cr_assert(eq(int, ts_query_ex(f.port, "big.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.tc, 1));
	cr_assert(eq(int, ts_query_ex(f.port, "big.example.test", T_A, 1,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 100));

	/* DROP one name: it times out, its neighbours still answer. */
	cr_assert(eq(int, ts_proxy_set_mode(f.px, "WWW.example.test.",
					    TS_MODE_DROP, 0), 0));
	cr_expect(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 0, 200,
				      &a), -1), "support: dropped over UDP");
	cr_expect(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 1, 200,
				      &a), -1), "support: dropped over TCP");
	cr_assert(eq(int, ts_query_ex(f.port, "v6only.example.test", T_AAAA,
				      0, 1000, &a), 0));
	cr_expect(eq(int, a.ancount, 1));

	/* SERVFAIL and REFUSED are immediate and carry no records. */
	ts_proxy_set_mode(f.px, "nodata.example.test", TS_MODE_SERVFAIL, 0);
	ts_proxy_set_mode(f.px, "short.example.test", TS_MODE_REFUSED, 0);
	cr_assert(eq(int, ts_query_ex(f.port, "nodata.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.rcode, 2));
	cr_expect(eq(int, a.ancount, 0));
	cr_assert(eq(int, ts_query_ex(f.port, "nodata.example.test", T_A, 1,
				      1000, &a), 0));
	cr_expect(eq(int, a.rcode, 2));
	cr_assert(eq(int, ts_query_ex(f.port, "short.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.rcode, 5));

	/* TRUNCATE: TC over UDP, the real answer over TCP. */
	ts_proxy_set_mode(f.px, "c1.example.test", TS_MODE_TRUNCATE, 0);
	cr_assert(eq(int, ts_query_ex(f.port, "c1.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.tc, 1));
	cr_expect(eq(int, a.ancount, 0));
	cr_assert(eq(int, ts_query_ex(f.port, "c1.example.test", T_A, 1,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 5));

	/* DELAY: answered, but not before the delay. */
	ts_proxy_set_mode(f.px, "ext.example.test", TS_MODE_DELAY, 300);
	cr_assert(eq(int, ts_query_ex(f.port, "ext.example.test", T_A, 0,
				      2000, &a), 0));
	cr_expect(ge(i64, a.rtt_ms, 290), "support: delayed %lld ms",
		  (long long)a.rtt_ms);
	cr_expect(lt(i64, a.rtt_ms, 1000));
	cr_assert(eq(int, ts_query_ex(f.port, "ext.example.test", T_A, 1,
				      2000, &a), 0));
	cr_expect(ge(i64, a.rtt_ms, 290));

	/* Revive: PASS again on a name that was dropped. */
	ts_proxy_set_mode(f.px, "www.example.test", TS_MODE_PASS, 0);
	cr_assert(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 0,
				      1000, &a), 0));
	cr_expect(eq(int, a.ancount, 2));

	/* Default mode applies to names without their own mode. */
	ts_proxy_set_mode(f.px, NULL, TS_MODE_DROP, 0);
	cr_expect(eq(int, ts_query_ex(f.port, "target.other.test", T_A, 0,
				      200, &a), -1));
	cr_expect(eq(int, ts_query_ex(f.port, "www.example.test", T_A, 0,
				      1000, &a), 0));
	ts_proxy_clear_modes(f.px);
	cr_expect(eq(int, ts_query_ex(f.port, "target.other.test", T_A, 0,
				      1000, &a), 0));

	cr_expect(eq(int, ts_proxy_set_mode(f.px, "a..b", TS_MODE_DROP, 0),
		     -1), "support: bad name rejected");
	px_teardown(&f);
}

Test(support, proxy_counts_per_name_and_type)
{
	struct px_fixture f;
	px_setup(&f);
	int rcode;

	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, ts_query(f.port, "www.example.test", T_A, 0,
					   &rcode, NULL), 0));
	}
	cr_assert(eq(int, ts_query(f.port, "WWW.EXAMPLE.TEST", T_AAAA, 1,
				   &rcode, NULL), 0));
	ts_proxy_set_mode(f.px, "short.example.test", TS_MODE_DROP, 0);
	ts_answer_t a;
	ts_query_ex(f.port, "short.example.test", T_A, 0, 100, &a);

	cr_expect(eq(u32, ts_proxy_count(f.px, "www.example.test", T_A), 3));
	cr_expect(eq(u32, ts_proxy_count(f.px, "www.example.test.", T_AAAA),
		     1));
	cr_expect(eq(u32, ts_proxy_count(f.px, "www.example.test", 0), 4));
	cr_expect(eq(u32, ts_proxy_count(f.px, "short.example.test", T_A), 1),
		  "support: dropped queries are counted");
	cr_expect(eq(u32, ts_proxy_count(f.px, "nothere.example.test", T_A),
		     0));
	cr_expect(eq(u32, ts_proxy_total(f.px), 5));

	ts_proxy_reset_counts(f.px);
	cr_expect(eq(u32, ts_proxy_total(f.px), 0));
	cr_expect(eq(u32, ts_proxy_count(f.px, "www.example.test", T_A), 0));
	cr_assert(eq(int, ts_query(f.port, "www.example.test", T_A, 0, &rcode,
				   NULL), 0));
	cr_expect(eq(u32, ts_proxy_count(f.px, "www.example.test", T_A), 1));
	px_teardown(&f);
}

Test(support, proxy_upstream_down_means_no_answer)
{
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	cr_assert_not_null(nsd);
	ts_proxy_t *px = ts_proxy_start(nsd->port);
	cr_assert_not_null(px);
	ts_server_stop(nsd);
	ts_answer_t a;
	cr_expect(eq(int, ts_query_ex(ts_proxy_port(px), "www.example.test",
				      T_A, 0, 200, &a), -1));
	cr_expect(eq(u32, ts_proxy_total(px), 1));
	ts_proxy_stop(px);
}

static bool after_deadline(void *arg)
{
	return ts_now_ms() >= *(int64_t *)arg;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

Test(support, wait_until_and_free_port)
{
	int64_t t = ts_now_ms() + 50;
	cr_expect(ts_wait_until(after_deadline, &t, 1000));
	cr_expect(ge(i64, ts_now_ms(), t));
	int64_t t0 = ts_now_ms();
	cr_expect(not(ts_wait_until(never, NULL, 100)));
	cr_expect(ge(i64, ts_now_ms() - t0, 100));
	int p = ts_free_port();
	cr_expect(gt(int, p, 1023));
	cr_expect(le(int, p, 65535));
}

/* The proxy exists for the library's tests: check that libunbound works
 * through it (UDP, TC then TCP) and sees its faults as the tests assume. */
Test(support, library_through_proxy)
{
	struct px_fixture f;
	px_setup(&f);
	aname_ctx_t *ctx = th_ctx(f.port, NULL);
	th_done_t d = { 0 };

	cr_assert(eq(int, th_resolve(ctx, "www.example.test", ANAME_RRTYPE_A,
				     2000, &d), ANAME_OK));
	cr_expect(eq(sz, aname_result_count(d.res, ANAME_RRTYPE_A), 2));
	cr_expect(ge(u32, ts_proxy_count(f.px, "www.example.test", T_A), 1),
		  "support: the library's query went through the proxy");
	th_done_clear(&d);

	cr_assert(eq(int, th_resolve(ctx, "big.example.test", ANAME_RRTYPE_A,
				     2000, &d), ANAME_OK));
	cr_expect(eq(sz, aname_result_count(d.res, ANAME_RRTYPE_A), 100),
		  "support: TC over UDP, then TCP through the proxy");
	th_done_clear(&d);

	ts_proxy_set_mode(f.px, "short.example.test", TS_MODE_DROP, 0);
	int rc = th_resolve(ctx, "short.example.test", ANAME_RRTYPE_A, 300, &d);
	cr_expect(eq(int, rc, ANAME_ETIMEDOUT), "support: DROP -> %s",
		  aname_status_name(rc));
	cr_expect(ge(u32, ts_proxy_count(f.px, "short.example.test", T_A), 1));
	th_done_clear(&d);

	ts_proxy_set_mode(f.px, "v6only.example.test", TS_MODE_SERVFAIL, 0);
	rc = th_resolve(ctx, "v6only.example.test", ANAME_RRTYPE_AAAA, 2000,
			&d);
	cr_expect(eq(int, rc, ANAME_ESERVFAIL), "support: SERVFAIL -> %s",
		  aname_status_name(rc));
	th_done_clear(&d);

	aname_ctx_free(ctx);
	px_teardown(&f);
}
