/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file test_canary_recovery.c
 * \brief The canary's view of an upstream's return and libunbound's must
 * not fight: when the canary hears a silent upstream again, failure
 * backoff ends, but libunbound asks a server it timed out on again only
 * after its own probe delay (about 2 s), so a refresh sent at that first
 * answer can still time out.  The canary clears backoff once more
 * ANAME_CANARY_RECHECK_MS later; without that, the target waited out a
 * grown backoff (seen as a flaky resilience/recovery_after_an_outage_
 * within_5s whenever a probe round fell just after the upstream's
 * return).  Here the upstream returns just before a probe is due, every
 * time.
 *
 * Real servers: nsd behind the fault proxy (tests/support).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <poll.h>

#include "clock.h"
#include "ctx.h" /* canary.next_ms: event-loop mode, read between calls */
#include "helpers.h"

TestSuite(canary_recovery, .init = th_up_nsd_proxy, .fini = th_down,
	  .timeout = 60);

static void drive(aname_ctx_t *ctx, int ms)
{
	int64_t end = ts_now_ms() + ms;
	do {
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int t = aname_timeout_ms(ctx);
		int left = (int)(end - ts_now_ms());
		left = left > 0 ? left : 0;
		poll(&p, 1, t < 0 || t > left ? left : t);
		aname_process(ctx);
	} while (ts_now_ms() < end);
}

struct wait {
	aname_ctx_t *ctx;
	int what; /* 0: fresh, 1: upstream-silent */
};

static bool cond(void *arg)
{
	struct wait *w = arg;
	drive(w->ctx, 10);
	if (w->what == 1) {
		int reason;
		return aname_health(w->ctx, &reason) == ANAME_HEALTH_DEGRADED &&
		       reason == ANAME_REASON_UPSTREAM_SILENT;
	}
	aname_result_t *res = NULL;
	bool fresh = aname_cache_lookup(w->ctx, "short.example.test", 1,
					ANAME_LOOKUP_STALE, &res) ==
			     ANAME_OK &&
		     !aname_result_stale(res);
	aname_result_unref(res);
	return fresh;
}

static void tweak(aname_config_t *cfg)
{
	aname_config_set_stale(cfg, 30, 3600, 0);
	aname_config_set_backoff(cfg, 30);
}

Test(canary_recovery, return_just_before_a_probe_is_fresh_within_5s)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), tweak);
	cr_assert_eq(aname_target_register(ctx, "short.example.test", 1),
		     ANAME_OK);
	struct wait fresh = {ctx, 0}, silent = {ctx, 1};
	cr_assert(ts_wait_until(cond, &fresh, 3000), "registered: fresh");
	ts_proxy_set_mode(th_px, NULL, TS_MODE_DROP, 0);
	/* TTL 2 s: stale, refreshes time out, libunbound's RTO for the
	 * proxy grows, backoff grows; the canary calls it silent. */
	cr_assert(ts_wait_until(cond, &silent, 10000), "upstream-silent");
	drive(ctx, 2000);
	/* Just before the next probe round: the canary hears the return
	 * within milliseconds, before libunbound would ask the proxy. */
	while (ctx->canary.next_ms > aname__now_ms() + 30u) {
		drive(ctx, 5);
	}
	ts_proxy_set_mode(th_px, NULL, TS_MODE_PASS, 0);
	int64_t t0 = ts_now_ms();
	cr_assert(ts_wait_until(cond, &fresh, 5000),
		  "fresh within 5 s of the upstream's return");
	cr_log_info("fresh %lld ms after the upstream came back",
		    (long long)(ts_now_ms() - t0));
	aname_ctx_free(ctx);
}
