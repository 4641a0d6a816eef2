/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Thread mode: callbacks run on the library's thread; the event-loop
 * primitives refuse politely.
 */
#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(thread, .init = th_up_nsd, .fini = th_down, .timeout = 30);

static void threaded(aname_config_t *cfg)
{
	aname_config_set_thread(cfg, 1);
}

Test(thread, callbacks_on_library_thread)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), threaded);
	cr_assert_eq(aname_fd(ctx), ANAME_EBUSY);
	cr_assert_eq(aname_process(ctx), ANAME_EBUSY);
	th_done_t d = {0};
	cr_assert_eq(aname_resolve(ctx, "www.example.test", ANAME_RRTYPE_BOTH,
				   0, th_on_done, &d, NULL),
		     ANAME_OK);
	cr_assert_eq(aname_wait(ctx, 3000), ANAME_OK);
	cr_assert_eq(atomic_load(&d.calls), 1);
	cr_assert_eq(d.status, ANAME_OK);
	cr_assert_not(pthread_equal(d.thread, pthread_self()),
		      "ran on the library thread");
	th_done_clear(&d);
	aname_ctx_free(ctx);
}

static void count_cancelled(void *arg, int status, const aname_result_t *res)
{
	(void)res;
	if (status == ANAME_ECANCELED) {
		atomic_fetch_add((atomic_int *)arg, 1);
	}
}

Test(thread, free_joins_thread_and_cancels_pending)
{
	ts_blackhole_t *hole = ts_blackhole_start();
	cr_assert_not_null(hole);
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(hole), threaded);
	atomic_int n = 0;
	for (int i = 0; i < 10; i++) {
		aname_resolve(ctx, "www.example.test", 1, 5000, count_cancelled,
			      &n, NULL);
	}
	aname_ctx_free(ctx);
	cr_assert_eq(atomic_load(&n), 10);
	ts_blackhole_stop(hole);
}
