/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_free.c
 * \brief aname_ctx_free() with requests in flight, in both modes, under
 * TSan.  Several threads submit requests (most to the black hole, so they
 * are still pending), are joined, and the context is freed at once.
 *
 * Checks (aname.h, aname_ctx_free): every pending callback runs exactly
 * once, with ANAME_ECANCELED, in the freeing thread, before free returns;
 * free does not hang (2 s at most with hundreds in flight); no TSan
 * report.
 */
#include "tsan_util.h"

#include <pthread.h>
#include <stdio.h>

#define THREADS 3
#define PER_THREAD 100
#define ROUNDS 3

static aname_ctx_t *ctx;
static struct tsan_req reqs[THREADS][PER_THREAD];

static void *submitter(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct tsan_req *r = &reqs[id][i];
		/* Mostly the black hole, some local names. */
		r->target = i % 4 ? TSAN_TARGETS - 1 : i + id;
		tsan_submit(ctx, r, 30000);
		if (i % 10 == 0) {
			tsan_poke(ctx, i);
		}
	}
	return NULL;
}

static void round_once(int thread_mode, int round)
{
	pthread_t th[THREADS];
	aname_config_t *cfg = tsan_config(thread_mode);
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		TSAN_CHECK(rc == ANAME_OK, "aname_ctx_new: %s",
			   aname_strerror(rc));
		return;
	}
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			atomic_store(&reqs[t][i].calls, 0);
			atomic_store(&reqs[t][i].cancelled, false);
			atomic_store(&reqs[t][i].status, 1);
		}
	}
	for (uintptr_t i = 0; i < THREADS; i++) {
		pthread_create(&th[i], NULL, submitter, (void *)i);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	unsigned pending = atomic_load(&tsan_outstanding);
	uint64_t t0 = tsan_now_ms();
	aname_ctx_free(ctx);
	uint64_t took = tsan_now_ms() - t0;
	TSAN_CHECK(took < 2000, "free took %llu ms", (unsigned long long)took);
	TSAN_CHECK(atomic_load(&tsan_outstanding) == 0,
		   "%u callbacks missing after free",
		   atomic_load(&tsan_outstanding));
	unsigned cancelled = 0;
	for (int t = 0; t < THREADS; t++) {
		tsan_check_reqs(reqs[t], PER_THREAD);
		for (int i = 0; i < PER_THREAD; i++) {
			const struct tsan_req *r = &reqs[t][i];
			int st = atomic_load(&r->status);
			if (!tsan_target_answers(r->target) &&
			    atomic_load(&r->calls) == 1) {
				/* Black-holed: only free can have ended it. */
				TSAN_CHECK(st == ANAME_ECANCELED,
					   "black-holed request ended %s",
					   aname_status_name(st));
			}
			cancelled += st == ANAME_ECANCELED;
		}
	}
	printf("tsan_free: %s mode round %d: %u pending at free, %u "
	       "cancelled, free took %llu ms\n",
	       thread_mode ? "thread" : "event", round, pending, cancelled,
	       (unsigned long long)took);
}

int main(void)
{
	for (int r = 0; r < ROUNDS; r++) {
		round_once(0, r);
		round_once(1, r);
	}
	return tsan_finish("tsan_free");
}
