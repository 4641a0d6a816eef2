/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Many threads on one context: 8 threads x 10 000 mixed cache lookups,
 * resolves and cancels against a thread-mode context backed by th_nsd.  Every
 * accepted request must end in exactly one callback or one cancel.
 * Also run under ThreadSanitizer (make check-tsan).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

TestSuite(concurrency, .init = th_up_nsd, .fini = th_down, .timeout = 120);

static void threaded(aname_config_t *cfg)
{
	aname_config_set_thread(cfg, 1);
}

struct worker {
	aname_ctx_t *ctx;
	int id;
	int iterations;
	atomic_int callbacks;
	int accepted, cancelled, hits, bad;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct worker *w = arg;
	if ((status == ANAME_OK) != (res != NULL)) {
		w->bad++;
	}
	atomic_fetch_add(&w->callbacks, 1);
}

static void *worker_main(void *arg)
{
	static const char *targets[] = {"www.example.test", "c1.example.test",
					"nothere.example.test",
					"nodata.example.test", "ext.example.test",
					"v6only.example.test"};
	struct worker *w = arg;
	unsigned seed = (unsigned)w->id * 7919u + 1;
	for (int i = 0; i < w->iterations; i++) {
		const char *t = targets[rand_r(&seed) % 6];
		uint16_t type = rand_r(&seed) % 2 ? ANAME_RRTYPE_A
						  : ANAME_RRTYPE_AAAA;
		int op = rand_r(&seed) % 10;
		if (op < 6) {
			aname_result_t *res = NULL;
			int rc = aname_cache_lookup(w->ctx, t, type,
						    ANAME_LOOKUP_FETCH |
							    ANAME_LOOKUP_STALE,
						    &res);
			if (rc == ANAME_OK) {
				w->hits++;
				if (aname_result_count(res, type) > 16) {
					w->bad++;
				}
				aname_result_unref(res);
			} else if (rc != ANAME_EAGAIN) {
				w->bad++;
			}
		} else {
			aname_qid_t q;
			int rc = aname_resolve(w->ctx, t, type, 2000, on_done,
					       w, &q);
			if (rc != ANAME_OK) {
				w->bad++;
				continue;
			}
			w->accepted++;
			if (op == 9 && aname_cancel(w->ctx, q) == ANAME_OK) {
				w->cancelled++;
			}
		}
	}
	return NULL;
}

Test(concurrency, eight_threads_mixed_on_one_context)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), threaded);
	pthread_t t[8];
	static struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.ctx = ctx, .id = i, .iterations = 10000};
		cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
	}
	cr_assert_eq(aname_wait(ctx, 20000), ANAME_OK);
	int hits = 0;
	for (int i = 0; i < 8; i++) {
		cr_assert_eq(w[i].bad, 0, "worker %d saw bad results", i);
		cr_assert_eq(atomic_load(&w[i].callbacks) + w[i].cancelled,
			     w[i].accepted,
			     "worker %d: %d callbacks + %d cancels != %d", i,
			     atomic_load(&w[i].callbacks), w[i].cancelled,
			     w[i].accepted);
		hits += w[i].hits;
	}
	cr_assert_gt(hits, 1000, "the cache served lookups (%d)", hits);
	uint64_t up;
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &up);
	cr_assert_lt(up, 200, "coalesced and cached: %llu upstream queries",
		     (unsigned long long)up);
	aname_ctx_free(ctx);
}

/* Cancel from one thread while the library thread delivers: each request
 * ends in exactly one of the two. */
Test(concurrency, cancel_races_delivery)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), threaded);
	th_done_t warm = {0};
	aname_resolve(ctx, "www.example.test", 1, 0, th_on_done, &warm, NULL);
	aname_wait(ctx, 3000);
	th_done_clear(&warm);
	enum { N = 5000 };
	static th_done_t d[N];
	int cancelled = 0;
	for (int i = 0; i < N; i++) {
		aname_qid_t q;
		cr_assert_eq(aname_resolve(ctx, "www.example.test", 1, 0,
					   th_on_done, &d[i], &q),
			     ANAME_OK);
		if (aname_cancel(ctx, q) == ANAME_OK) {
			cancelled++;
		}
	}
	cr_assert_eq(aname_wait(ctx, 10000), ANAME_OK);
	int called = 0;
	for (int i = 0; i < N; i++) {
		int c = atomic_load(&d[i].calls);
		cr_assert_leq(c, 1);
		called += c;
		th_done_clear(&d[i]);
	}
	cr_assert_eq(called + cancelled, N, "%d called + %d cancelled", called,
		     cancelled);
	aname_ctx_free(ctx);
}
