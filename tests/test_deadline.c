/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Deadlines enforced by the library: against a black hole (reads, never
 * answers) every request ends with ETIMEDOUT no earlier than its deadline
 * and no later than deadline + 100 ms.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "helpers.h"

TestSuite(deadline, .init = th_up_blackhole, .fini = th_down, .timeout = 30);

static void short_default(aname_config_t *cfg)
{
	aname_config_set_timeout_ms(cfg, 300);
}

static void check_window(aname_ctx_t *ctx, int n, unsigned timeout_ms,
			 unsigned expected_ms)
{
	th_done_t *d = calloc((size_t)n, sizeof(*d));
	int64_t t0 = ts_now_ms();
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t%d.example.test", i);
		cr_assert_eq(aname_resolve(ctx, name, ANAME_RRTYPE_A,
					   timeout_ms, th_on_done, &d[i], NULL),
			     ANAME_OK);
	}
	int64_t submitted = ts_now_ms();
	th_run(ctx, (int)expected_ms + 2000);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(atomic_load(&d[i].calls), 1);
		cr_assert_eq(d[i].status, ANAME_ETIMEDOUT, "%s",
			     aname_status_name(d[i].status));
		cr_assert_geq(d[i].at_ms - t0, (int64_t)expected_ms,
			      "never early: %lld ms",
			      (long long)(d[i].at_ms - t0));
		cr_assert_leq(d[i].at_ms - submitted,
			      (int64_t)expected_ms + 100,
			      "late by %lld ms",
			      (long long)(d[i].at_ms - submitted - expected_ms));
	}
	free(d);
}

Test(deadline, default_deadline_against_black_hole)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), short_default);
	check_window(ctx, 20, 0, 300);
	cr_assert_gt(ts_blackhole_count(th_bh), 0, "queries reached the hole");
	uint64_t n;
	aname_stats_get(ctx, ANAME_STAT_TIMEOUTS, &n);
	cr_assert_eq(n, 20);
	aname_ctx_free(ctx);
}

Test(deadline, per_request_deadline)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), NULL);
	check_window(ctx, 10, 150, 150);
	aname_ctx_free(ctx);
}

static void thread_mode(aname_config_t *cfg)
{
	aname_config_set_thread(cfg, 1);
	aname_config_set_timeout_ms(cfg, 250);
}

Test(deadline, thread_mode_deadline)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), thread_mode);
	check_window(ctx, 10, 0, 250);
	aname_ctx_free(ctx);
}

Test(deadline, timeout_reported_by_aname_timeout_ms)
{
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(th_bh), NULL);
	th_done_t d = {0};
	/* Idle, a context only has its upstream canaries to run (one probe
	 * per stub address every 2 s). */
	int idle = aname_timeout_ms(ctx);
	cr_assert(idle >= 0 && idle <= 2000, "idle: canary in %d ms", idle);
	aname_config_t *cfg = aname_config_new();
	aname_ctx_t *recursive;
	cr_assert_eq(aname_ctx_new(&recursive, cfg), ANAME_OK);
	aname_config_free(cfg);
	/* Full recursion probes the root servers instead (canary.c). */
	int rt = aname_timeout_ms(recursive);
	cr_assert(rt >= 0 && rt <= 2000,
		  "idle, full recursion: root canary in %d ms", rt);
	aname_ctx_free(recursive);
	aname_resolve(ctx, "x.example.test", 1, 500, th_on_done, &d, NULL);
	aname_process(ctx);
	int t = aname_timeout_ms(ctx);
	cr_assert(t > 0 && t <= 501, "next deadline in %d ms", t);
	th_run(ctx, 2000);
	cr_assert_eq(d.status, ANAME_ETIMEDOUT);
	aname_ctx_free(ctx);
}
