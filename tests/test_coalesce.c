/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Coalescing: concurrent requests for one (target, type) share one upstream
 * resolution, counted at a proxy in front of th_nsd.
 */
#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(coalesce, .init = th_up_nsd_proxy, .fini = th_down, .timeout = 30);

Test(coalesce, hundred_requests_one_upstream_query)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), NULL);
	static th_done_t d[100];
	/* Hold the answer so that every request joins while in flight. */
	ts_proxy_set_mode(th_px, "www.example.test", TS_MODE_DELAY, 200);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(aname_resolve(ctx, "www.example.test", 1, 0,
					   th_on_done, &d[i], NULL),
			     ANAME_OK);
	}
	th_run(ctx, 3000);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(atomic_load(&d[i].calls), 1);
		cr_assert_eq(d[i].status, ANAME_OK);
		cr_assert_eq(aname_result_count(d[i].res, 1), 2);
		th_done_clear(&d[i]);
	}
	cr_assert_eq(ts_proxy_count(th_px, "www.example.test", 1), 1,
		     "upstream queries: %u",
		     ts_proxy_count(th_px, "www.example.test", 1));
	uint64_t joined, up;
	aname_stats_get(ctx, ANAME_STAT_COALESCED, &joined);
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &up);
	cr_assert_eq(joined, 99);
	cr_assert_eq(up, 1);
	aname_ctx_free(ctx);
}

Test(coalesce, cancelling_one_subscriber_keeps_the_others)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), NULL);
	th_done_t a = {0}, b = {0}, c = {0};
	aname_qid_t qa, qb, qc;
	ts_proxy_set_mode(th_px, "www.example.test", TS_MODE_DELAY, 150);
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &a, &qa);
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &b, &qb);
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &c, &qc);
	cr_assert_eq(aname_cancel(ctx, qb), ANAME_OK);
	th_run(ctx, 3000);
	cr_assert_eq(atomic_load(&a.calls), 1);
	cr_assert_eq(atomic_load(&b.calls), 0);
	cr_assert_eq(atomic_load(&c.calls), 1);
	cr_assert_eq(a.status, ANAME_OK);
	cr_assert_eq(c.status, ANAME_OK);
	cr_assert_eq(ts_proxy_count(th_px, "www.example.test", 1), 1);
	th_done_clear(&a);
	th_done_clear(&c);
	aname_ctx_free(ctx);
}

Test(coalesce, both_types_are_two_resolutions)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), NULL);
	static th_done_t d[20];
	for (int i = 0; i < 20; i++) {
		aname_resolve(ctx, "www.example.test", ANAME_RRTYPE_BOTH, 0,
			      th_on_done, &d[i], NULL);
	}
	th_run(ctx, 3000);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(d[i].status, ANAME_OK);
		th_done_clear(&d[i]);
	}
	cr_assert_eq(ts_proxy_count(th_px, "www.example.test", 1), 1);
	cr_assert_eq(ts_proxy_count(th_px, "www.example.test", 28), 1);
	aname_ctx_free(ctx);
}
