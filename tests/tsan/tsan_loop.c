/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_loop.c
 * \brief Event-loop mode under TSan: one thread drives the context
 * (poll on aname_fd(), aname_process()) while other threads submit,
 * cancel, look up and register concurrently, as a multi-threaded host
 * with one library loop would.
 *
 * Checks: exactly-once callbacks (or none after a successful cancel),
 * callbacks only on the driving thread, local targets OK, everything
 * settles within a deadline, no TSan report.
 */
#include "tsan_util.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>

#define SUBMITTERS 3
#define PER_THREAD 400

static aname_ctx_t *ctx;
static struct tsan_req reqs[SUBMITTERS][PER_THREAD];
static atomic_bool stop;

static void *driver(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int t = aname_timeout_ms(ctx);
		struct pollfd pfd = {aname_fd(ctx), POLLIN, 0};
		/* Bounded sleep: the stop flag is not an fd event. */
		poll(&pfd, 1, t < 0 || t > 20 ? 20 : t);
		int rc = aname_process(ctx);
		TSAN_CHECK(rc == ANAME_OK, "process: %s", aname_status_name(rc));
	}
	return NULL;
}

static void *submitter(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct tsan_req *r = &reqs[id][i];
		r->target = i * 5 + id;
		unsigned ms = tsan_target_answers(r->target) ? 5000
							     : 100 + i % 150;
		if (tsan_submit(ctx, r, ms) && i % 4 == 1) {
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
	pthread_t drv, th[SUBMITTERS];
	aname_config_t *cfg = tsan_config(0);
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "aname_ctx_new: %s\n", aname_strerror(rc));
		return 2;
	}
	pthread_create(&drv, NULL, driver, NULL);
	for (uintptr_t i = 0; i < SUBMITTERS; i++) {
		pthread_create(&th[i], NULL, submitter, (void *)i);
	}
	for (int i = 0; i < SUBMITTERS; i++) {
		pthread_join(th[i], NULL);
	}
	/* Await the last callbacks (deadlines are <= 250 ms). */
	uint64_t end = tsan_now_ms() + 10000;
	while (atomic_load(&tsan_outstanding) > 0 && tsan_now_ms() < end) {
		struct pollfd none = {-1, 0, 0};
		poll(&none, 1, 5);
	}
	TSAN_CHECK(atomic_load(&tsan_outstanding) == 0,
		   "%u callbacks missing after 10 s",
		   atomic_load(&tsan_outstanding));
	atomic_store(&stop, true);
	pthread_join(drv, NULL);
	unsigned ok = 0, answered = 0;
	for (int t = 0; t < SUBMITTERS; t++) {
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
	TSAN_CHECK(answered > 0 && ok == answered,
		   "%u of %u local requests OK", ok, answered);
	aname_ctx_free(ctx);
	printf("tsan_loop: %d requests from %d threads, %u local answers\n",
	       SUBMITTERS * PER_THREAD, SUBMITTERS, answered);
	return tsan_finish("tsan_loop");
}
