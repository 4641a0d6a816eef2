/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ThreadSanitizer across watchdog swaps: three threads submit, poke and
 * cancel while the driver thread, where libunbound runs, is stopped for
 * real (ptrace, from a helper process), so that the watchdog abandons
 * the driver and starts another, twice; then the context is freed while
 * the last stopped driver is still stopped.  Every callback must run exactly once, and
 * TSan must see no race in lib/ (nor on libunbound's global locks, which
 * lib/ubsetup.c serialises).
 */
#include "tsan_util.h"

#include "../support/freeze.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define THREADS 3
#define PER_THREAD 150

static aname_ctx_t *ctx;
static struct tsan_req reqs[THREADS][PER_THREAD];

static void *submitter(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct tsan_req *r = &reqs[id][i];
		r->target = i + id;
		tsan_submit(ctx, r, 1500);
		if (i % 10 == 0) {
			tsan_poke(ctx, i);
		}
		struct timespec ts = {0, 3000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static uint64_t restarts(void)
{
	uint64_t n = 0;
	aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &n);
	return n;
}

static void await_restarts(uint64_t n, int ms)
{
	for (int i = 0; i < ms / 10 && restarts() < n; i++) {
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
}

int main(void)
{
	aname_config_t *cfg = tsan_config(1);
	aname_config_set_watchdog(cfg, 100, 400);
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "tsan_swap: aname_ctx_new: %s\n",
			aname_strerror(rc));
		return 1;
	}
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		pthread_create(&th[t], NULL, submitter, (void *)(uintptr_t)t);
	}
	ts_freeze_t *fz[3] = {NULL, NULL, NULL};
	int stopped = 0;
	for (int k = 0; k < 3; k++) {
		/* The newest driver thread is the current one; the stopped
		 * ones stay until they are thawed.  A replacement may be
		 * stuck creating its libunbound context while one is stopped:
		 * that takes libunbound's process-global log_lock, which a
		 * driver stopped in the middle of logging holds (see
		 * lib/ubsetup.c).  Stopping it is a stall all the same, and
		 * the watchdog replaces the stuck replacement in turn. */
		pid_t worker = ts_find_ub_worker(stopped + 1, 5000);
		if (worker > 0) {
			/* Only while it is blocked in a system call: stopped
			 * inside TSan's allocator it would wedge every thread
			 * in TSan's runtime, not in the library (freeze.h). */
			fz[k] = ts_freeze_blocked(worker, 2000);
			TSAN_CHECK(fz[k] != NULL, "could not stop worker %d",
				   worker);
			stopped += fz[k] != NULL;
		} else {
			fprintf(stderr, "tsan_swap: round %d: the replacement "
					"has no worker yet (libunbound's log_lock "
					"held by a stopped worker)\n",
				k);
		}
		if (k < 2) {
			await_restarts((uint64_t)k + 1, 5000);
			TSAN_CHECK(restarts() >= (uint64_t)k + 1,
				   "watchdog swap %d did not happen", k + 1);
		}
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
	}
	aname_wait(ctx, 5000);
	unsigned bad = tsan_check_reqs(&reqs[0][0], THREADS * PER_THREAD);
	TSAN_CHECK(bad == 0, "%u requests without exactly one callback", bad);
	TSAN_CHECK(stopped >= 1, "no worker was ever stopped");
	aname_ctx_free(ctx); /* a stopped worker: bounded, abandons it */
	for (int k = 0; k < 3; k++) {
		ts_thaw(fz[k]);
	}
	tsan_cleanup();
	return tsan_finish("tsan_swap");
}
