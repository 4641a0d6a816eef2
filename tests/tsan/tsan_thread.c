/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_thread.c
 * \brief Thread mode under TSan: host threads hammer one context with
 * resolve, cancel, cache lookups, registration, stats, health and metrics
 * while the library thread answers and calls back.
 *
 * Every 8th callback submits a follow-up request from inside itself.
 *
 * Checks: every accepted request (follow-ups included) is called back
 * exactly once unless its cancel succeeded; local targets resolve (OK); everything settles within
 * a deadline; and TSan reports nothing (halt_on_error makes a report exit
 * non-zero).
 */
#include "tsan_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define PER_THREAD 400

static aname_ctx_t *ctx;
static struct tsan_req reqs[THREADS][PER_THREAD];
/* Submitted from inside callbacks of every 8th request. */
static struct tsan_req follow[THREADS][PER_THREAD / 8];

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct tsan_req *r = &reqs[id][i];
		r->target = i * 7 + id;
		if (i % 8 == 0) {
			r->follow = &follow[id][i / 8];
			r->follow->target = i + 1;
			r->ctx = ctx;
		}
		/* Short deadlines so black-holed requests end quickly; local
		 * ones get 5 s, which only a stall could exceed. */
		unsigned ms = tsan_target_answers(r->target) ? 5000
							     : 100 + i % 200;
		if (tsan_submit(ctx, r, ms) && i % 3 == 0) {
			int rc = aname_cancel(ctx, r->qid);
			TSAN_CHECK(rc == ANAME_OK || rc == ANAME_ENOENT,
				   "cancel: %s", aname_status_name(rc));
			if (rc == ANAME_OK) {
				atomic_store(&r->cancelled, true);
				atomic_fetch_sub(&tsan_outstanding, 1);
			}
		}
		tsan_poke(ctx, i + id);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];
	aname_config_t *cfg = tsan_config(1);
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "aname_ctx_new: %s\n", aname_strerror(rc));
		return 2;
	}
	TSAN_CHECK(aname_fd(ctx) == ANAME_EBUSY, "fd in thread mode");
	TSAN_CHECK(aname_process(ctx) == ANAME_EBUSY, "process in thread mode");
	for (uintptr_t i = 0; i < THREADS; i++) {
		pthread_create(&th[i], NULL, worker, (void *)i);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	rc = aname_wait(ctx, 10000);
	TSAN_CHECK(rc == ANAME_OK, "requests still pending after 10 s: %s",
		   aname_status_name(rc));
	TSAN_CHECK(atomic_load(&tsan_outstanding) == 0,
		   "%u callbacks missing", atomic_load(&tsan_outstanding));
	unsigned ok = 0, answered = 0;
	for (int t = 0; t < THREADS; t++) {
		/* A follow-up exists only if its parent was called back. */
		for (int i = 0; i < PER_THREAD / 8; i++) {
			if (atomic_load(&reqs[t][i * 8].calls) == 0) {
				atomic_store(&follow[t][i].cancelled, true);
			}
		}
		tsan_check_reqs(follow[t], PER_THREAD / 8);
		tsan_check_reqs(reqs[t], PER_THREAD);
		for (int i = 0; i < PER_THREAD; i++) {
			const struct tsan_req *r = &reqs[t][i];
			if (atomic_load(&r->calls) == 1 &&
			    tsan_target_answers(r->target)) {
				answered++;
				int st = atomic_load(&r->status);
				ok += st == ANAME_OK;
				TSAN_CHECK(st == ANAME_OK, "local %s: %s",
					   tsan_target(r->target),
					   aname_status_name(st));
			}
		}
	}
	/* Local data never fails (nothing is shed at these volumes). */
	TSAN_CHECK(answered > 0 && ok == answered,
		   "%u of %u local requests OK", ok, answered);
	aname_ctx_free(ctx);
	printf("tsan_thread: %d requests from %d threads, %u local answers\n",
	       THREADS * PER_THREAD, THREADS, answered);
	return tsan_finish("tsan_thread");
}
