/*
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "hammer.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define N_REQ 4000
#define DEADLINE_MS 500

static atomic_int_fast64_t due_us[N_REQ], done_us[N_REQ];
static atomic_int next_req;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct hammer {
	aname_ctx_t *ctx;
	atomic_bool *stop;
	int64_t worst_us;
	const char *worst_fn;
	int submitted;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	(void)status;
	(void)res;
	atomic_store(&done_us[(intptr_t)arg], now_us());
}

static void note(struct hammer *h, int64_t t0, const char *fn)
{
	int64_t d = now_us() - t0;
	if (d > h->worst_us) {
		h->worst_us = d;
		h->worst_fn = fn;
	}
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	char buf[16384];
	while (!atomic_load(h->stop)) {
		int i = atomic_fetch_add(&next_req, 1);
		if (i >= N_REQ) {
			break;
		}
		char name[64];
		snprintf(name, sizeof(name), "n%d.example.test", i);
		int64_t t0 = now_us();
		atomic_store(&due_us[i], t0 + DEADLINE_MS * 1000);
		aname_qid_t qid;
		int rc = aname_resolve(h->ctx, name, ANAME_RRTYPE_A, DEADLINE_MS,
				       on_done, (void *)(intptr_t)i, &qid);
		note(h, t0, "aname_resolve");
		if (rc != ANAME_OK) {
			atomic_store(&due_us[i], 0);
		}
		h->submitted++;
		aname_result_t *res = NULL;
		t0 = now_us();
		aname_cache_lookup(h->ctx, name, ANAME_RRTYPE_A,
				   ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
				   &res);
		note(h, t0, "aname_cache_lookup");
		aname_result_unref(res);
		if (i % 7 == 0) {
			t0 = now_us();
			aname_cancel(h->ctx, qid);
			note(h, t0, "aname_cancel");
		}
		if (i % 50 == 0) {
			t0 = now_us();
			aname_health(h->ctx, NULL);
			note(h, t0, "aname_health");
			t0 = now_us();
			aname_metrics_prometheus(h->ctx, buf, sizeof(buf));
			note(h, t0, "aname_metrics_prometheus");
		}
		struct timespec ts = {0, 1000000L}; /* ~1000 calls/s each */
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Runs the host loop until \a end_us, timing aname_process(). */
static int64_t run_loop(aname_ctx_t *ctx, int64_t end_us, int64_t fault_us,
			ts_fault_fn fault, void *arg)
{
	int64_t worst = 0;
	bool faulted = fault == NULL;
	while (now_us() < end_us) {
		if (!faulted && now_us() >= fault_us) {
			fault(arg);
			faulted = true;
		}
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int to = aname_timeout_ms(ctx);
		poll(&p, 1, to < 0 || to > 10 ? 10 : to);
		int64_t t0 = now_us();
		aname_process(ctx);
		int64_t d = now_us() - t0;
		worst = d > worst ? d : worst;
	}
	return worst;
}

ts_hammer_report_t ts_hammer(aname_ctx_t *ctx, int run_ms, int fault_at_ms,
			     ts_fault_fn fault, void *arg)
{
	ts_hammer_report_t r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < N_REQ; i++) {
		atomic_store(&due_us[i], 0);
		atomic_store(&done_us[i], 0);
	}
	atomic_store(&next_req, 0);
	int64_t start = now_us();
	if (fault != NULL && fault_at_ms <= 0) {
		fault(arg);
		fault = NULL;
	}
	atomic_bool stop = false;
	struct hammer h[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){.ctx = ctx, .stop = &stop};
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	r.worst_process_us = run_loop(ctx, start + (int64_t)run_ms * 1000,
				      start + (int64_t)fault_at_ms * 1000,
				      fault, arg);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		r.submitted += h[i].submitted;
		r.worst_us[i] = h[i].worst_us;
		r.worst_fn[i] = h[i].worst_fn != NULL ? h[i].worst_fn : "-";
	}
	/* Every callback is due within DEADLINE_MS; 3 s leaves room to see a
	 * late one without waiting forever for a lost one. */
	r.wait_status = aname_wait(ctx, 3000);
	for (int i = 0; i < r.submitted && i < N_REQ; i++) {
		int64_t due = atomic_load(&due_us[i]);
		int64_t done = atomic_load(&done_us[i]);
		if (due == 0 || (i % 7 == 0 && done == 0)) {
			continue; /* refused, or cancelled before its answer */
		}
		if (done == 0) {
			r.missing++;
		} else if (done - due > r.late_us) {
			r.late_us = done - due;
		}
	}
	aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &r.restarts);
	return r;
}
