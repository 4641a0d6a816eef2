/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The callback contract (aname.h, aname_resolve_cb): exactly once, never
 * inside aname_resolve(), never after a successful cancel or after free,
 * ECANCELED for everything pending at free, calls from inside callbacks.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "helpers.h"

TestSuite(contract, .init = th_up_nsd_blackhole, .fini = th_down, .timeout = 30);

Test(contract, never_called_inside_resolve_even_on_hit)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	cr_assert_eq(aname_resolve(ctx, "www.example.test", 1, 0, th_on_done,
				   &d, NULL),
		     ANAME_OK);
	cr_assert_eq(atomic_load(&d.calls), 0, "cache hit, still deferred");
	cr_assert_eq(aname_timeout_ms(ctx), 0, "work is ready now");
	aname_process(ctx);
	cr_assert_eq(atomic_load(&d.calls), 1);
	cr_assert_eq(d.status, ANAME_OK);
	th_done_clear(&d);
	aname_ctx_free(ctx);
}

Test(contract, exactly_once_for_many_mixed_requests)
{
	static const char *targets[] = {
		"www.example.test", "c1.example.test", "nothere.example.test",
		"nodata.example.test", "loop1.example.test", "l1.example.test",
		"big.example.test", "ext.example.test"};
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	enum { N = 400 };
	static th_done_t d[N];
	for (int i = 0; i < N; i++) {
		uint16_t t = i % 3 == 0   ? ANAME_RRTYPE_A
			     : i % 3 == 1 ? ANAME_RRTYPE_AAAA
					  : ANAME_RRTYPE_BOTH;
		cr_assert_eq(aname_resolve(ctx, targets[i % 8], t, 0,
					   th_on_done, &d[i], NULL),
			     ANAME_OK);
	}
	th_run(ctx, 10000);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(atomic_load(&d[i].calls), 1, "request %d", i);
		cr_assert_eq(d[i].status == ANAME_OK, d[i].res != NULL);
		th_done_clear(&d[i]);
	}
	aname_ctx_free(ctx);
}

Test(contract, cancel_pending_suppresses_callback)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), NULL);
	th_done_t d = {0};
	aname_qid_t qid = 0;
	cr_assert_eq(aname_resolve(ctx, "www.example.test", 1, 200, th_on_done,
				   &d, &qid),
		     ANAME_OK);
	cr_assert_neq(qid, 0);
	cr_assert_eq(aname_cancel(ctx, qid), ANAME_OK);
	cr_assert_eq(aname_cancel(ctx, qid), ANAME_ENOENT, "second cancel");
	aname_wait(ctx, 400);
	cr_assert_eq(atomic_load(&d.calls), 0);
	uint64_t n;
	aname_stats_get(ctx, ANAME_STAT_CANCELLATIONS, &n);
	cr_assert_eq(n, 1);
	aname_ctx_free(ctx);
	cr_assert_eq(atomic_load(&d.calls), 0, "not even at free");
}

Test(contract, cancel_queued_hit_before_process)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	aname_qid_t qid;
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &d, &qid);
	cr_assert_eq(aname_cancel(ctx, qid), ANAME_OK);
	aname_process(ctx);
	cr_assert_eq(atomic_load(&d.calls), 0);
	aname_ctx_free(ctx);
}

Test(contract, cancel_after_delivery_is_enoent)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	th_done_t d = {0};
	aname_qid_t qid;
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &d, &qid);
	th_run(ctx, 3000);
	cr_assert_eq(atomic_load(&d.calls), 1);
	cr_assert_eq(aname_cancel(ctx, qid), ANAME_ENOENT);
	cr_assert_eq(aname_cancel(ctx, 0), ANAME_ENOENT);
	cr_assert_eq(aname_cancel(ctx, 987654), ANAME_ENOENT);
	th_done_clear(&d);
	aname_ctx_free(ctx);
}

Test(contract, qids_are_unique)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	th_done_t d[50] = {{0}};
	aname_qid_t prev = 0;
	for (int i = 0; i < 50; i++) {
		aname_qid_t q;
		aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &d[i],
			      &q);
		cr_assert_gt(q, prev);
		prev = q;
	}
	th_run(ctx, 3000);
	for (int i = 0; i < 50; i++) {
		th_done_clear(&d[i]);
	}
	aname_ctx_free(ctx);
}

static void count_cancelled(void *arg, int status, const aname_result_t *res)
{
	int *n = arg;
	cr_assert_eq(status, ANAME_ECANCELED);
	cr_assert_null(res);
	(*n)++;
}

Test(contract, free_with_requests_in_flight_cancels_each_once)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), NULL);
	int n = 0;
	for (int i = 0; i < 20; i++) {
		char name[64];
		snprintf(name, sizeof(name), "n%d.example.test", i);
		cr_assert_eq(aname_resolve(ctx, name, ANAME_RRTYPE_BOTH, 5000,
					   count_cancelled, &n, NULL),
			     ANAME_OK);
	}
	aname_process(ctx);
	int64_t t0 = ts_now_ms();
	aname_ctx_free(ctx);
	cr_assert_eq(n, 20, "every pending request called back once");
	cr_assert_lt(ts_now_ms() - t0, 500, "free does not wait upstream");
}

struct reentry {
	aname_ctx_t *ctx;
	int depth;
	th_done_t inner;
	int process_rc;
	int wait_rc;
	int lookup_rc;
	int calls;
};

static void reenter(void *arg, int status, const aname_result_t *res)
{
	struct reentry *r = arg;
	(void)res;
	r->calls++;
	cr_assert_eq(status, ANAME_OK);
	r->process_rc = aname_process(r->ctx);
	r->wait_rc = aname_wait(r->ctx, 10);
	aname_result_t *hit = NULL;
	r->lookup_rc = aname_cache_lookup(r->ctx, "www.example.test", 1, 0,
					  &hit);
	aname_result_unref(hit);
	if (r->depth++ == 0) {
		aname_qid_t q;
		cr_assert_eq(aname_resolve(r->ctx, "c1.example.test", 1, 0,
					   th_on_done, &r->inner, &q),
			     ANAME_OK);
		aname_qid_t q2;
		th_done_t never = {0};
		cr_assert_eq(aname_resolve(r->ctx, "c2.example.test", 1, 0,
					   th_on_done, &never, &q2),
			     ANAME_OK);
		cr_assert_eq(aname_cancel(r->ctx, q2), ANAME_OK);
	}
}

Test(contract, callbacks_may_resolve_cancel_lookup_but_not_drive)
{
	struct reentry r = {0};
	r.ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	cr_assert_eq(aname_resolve(r.ctx, "www.example.test", 1, 0, reenter,
				   &r, NULL),
		     ANAME_OK);
	th_run(r.ctx, 3000);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.process_rc, ANAME_EBUSY);
	cr_assert_eq(r.wait_rc, ANAME_EBUSY);
	cr_assert_eq(r.lookup_rc, ANAME_OK);
	cr_assert_eq(atomic_load(&r.inner.calls), 1, "nested resolve done");
	cr_assert_eq(r.inner.status, ANAME_OK);
	th_done_clear(&r.inner);
	aname_ctx_free(r.ctx);
}
