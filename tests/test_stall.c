/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Real stalls (lib v2): the resolver thread, where libunbound runs its
 * event loop, stopped with ptrace
 * from a helper process, and a stderr pipe that nobody reads.  No call a
 * host makes may wait on either.  The thresholds here are generous
 * because the machines are shared; bench/bench_stall.c measures the real
 * figures.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "support/freeze.h"

TestSuite(stall, .init = th_up_nsd, .fini = th_down, .timeout = 60);

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct hammer {
	aname_ctx_t *ctx;
	int id;
	atomic_bool *stop;
	int64_t worst_us; /* slowest single call */
	const char *worst_fn;
	int submitted;
};

#define N_REQ 4000
static atomic_int_fast64_t due_us[N_REQ], done_us[N_REQ];
static atomic_int next_req;

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
		atomic_store(&due_us[i], t0 + 500 * 1000);
		aname_qid_t qid;
		int rc = aname_resolve(h->ctx, name, ANAME_RRTYPE_A, 500,
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

static void watchdog_quick(aname_config_t *cfg)
{
	aname_config_set_watchdog(cfg, 200, 1000);
}

/* Stop the thread that runs libunbound for real while two threads call
 * every public function and this one runs the loop: idle (stopped before
 * the calls start, inside epoll_wait), or busy (stopped 300 ms into the
 * calls, wherever it is: inside libunbound, maybe holding its locks or
 * in the middle of a log line). */
static void stop_thread_and_hammer(bool busy)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), watchdog_quick);
	pid_t worker = ts_find_ub_worker(1, 2000);
	cr_assert_gt(worker, 0, "the resolver thread is running");
	ts_freeze_t *fz = NULL;
	if (!busy) {
		fz = ts_freeze(worker);
		cr_assert_not_null(fz);
	}
	atomic_bool stop = false;
	struct hammer h[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){.ctx = ctx, .id = i, .stop = &stop};
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	/* The host's loop, timed like every other call. */
	int64_t start = now_us(), worst_process = 0;
	int64_t end = start + 3 * 1000 * 1000;
	while (now_us() < end) {
		if (fz == NULL && now_us() >= start + 300 * 1000) {
			fz = ts_freeze(worker);
			cr_assert_not_null(fz);
		}
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int to = aname_timeout_ms(ctx);
		poll(&p, 1, to < 0 || to > 10 ? 10 : to);
		int64_t t0 = now_us();
		aname_process(ctx);
		int64_t d = now_us() - t0;
		worst_process = d > worst_process ? d : worst_process;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
	}
	th_run(ctx, 3000);
	int submitted = h[0].submitted + h[1].submitted;
	int64_t late = 0;
	int missing = 0;
	for (int i = 0; i < submitted && i < N_REQ; i++) {
		int64_t due = atomic_load(&due_us[i]);
		int64_t done = atomic_load(&done_us[i]);
		if (due == 0 || (i % 7 == 0 && done == 0)) {
			continue; /* refused, or cancelled before its answer */
		}
		if (done == 0) {
			missing++;
		} else if (done - due > late) {
			late = done - due;
		}
	}
	uint64_t restarts;
	aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &restarts);
	cr_log_info("stall (%s stopped): %d requests; slowest calls %lld us (%s), %lld us "
		    "(%s), aname_process %lld us; latest callback %lld us "
		    "past its deadline; %llu watchdog restarts",
		    busy ? "while busy" : "while idle", submitted, (long long)h[0].worst_us, h[0].worst_fn,
		    (long long)h[1].worst_us, h[1].worst_fn,
		    (long long)worst_process, (long long)late,
		    (unsigned long long)restarts);
	cr_assert_gt(submitted, 500, "more than the ~140 commands libunbound's "
				     "pipe holds");
	cr_assert_eq(missing, 0, "every request got its callback");
	for (int i = 0; i < 2; i++) {
		cr_assert_lt(h[i].worst_us, 100 * 1000, "%s took %lld us",
			     h[i].worst_fn, (long long)h[i].worst_us);
	}
	cr_assert_lt(worst_process, 100 * 1000, "aname_process took %lld us",
		     (long long)worst_process);
	cr_assert_lt(late, 250 * 1000, "a callback came %lld us late",
		     (long long)late);
	cr_assert_geq(restarts, 1, "the watchdog replaced the stopped resolver");
	/* The replacement answers. */
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	int64_t f0 = now_us();
	aname_ctx_free(ctx);
	cr_assert_lt(now_us() - f0, 1500 * 1000, "aname_ctx_free is bounded");
	ts_thaw(fz);
}

Test(stall, no_call_waits_while_the_resolver_thread_is_stopped_idle)
{
	stop_thread_and_hammer(false);
}

Test(stall, no_call_waits_while_the_resolver_thread_is_stopped_busy)
{
	stop_thread_and_hammer(true);
}

Test(stall, free_is_bounded_with_a_stopped_worker)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	pid_t worker = ts_find_ub_worker(1, 2000);
	cr_assert_gt(worker, 0);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	ts_freeze_t *fz = ts_freeze(worker);
	cr_assert_not_null(fz);
	th_done_t e = {0};
	aname_resolve(ctx, "c1.example.test", 1, 0, th_on_done, &e, NULL);
	int64_t f0 = now_us();
	aname_ctx_free(ctx);
	int64_t took = now_us() - f0;
	cr_assert_eq(e.calls, 1, "the pending request got its callback");
	cr_assert_eq(e.status, ANAME_ECANCELED);
	cr_assert_lt(took, 1500 * 1000, "aname_ctx_free took %lld us",
		     (long long)took);
	/* Once the thread runs again, the abandoned driver frees itself. */
	ts_thaw(fz);
	th_done_clear(&e);
}

struct lines {
	pthread_mutex_t lock;
	int libunbound;
};

static void on_log(void *arg, int level, const char *msg)
{
	struct lines *l = arg;
	(void)level;
	pthread_mutex_lock(&l->lock);
	l->libunbound += strncmp(msg, "libunbound: ", 12) == 0;
	pthread_mutex_unlock(&l->lock);
}

Test(stall, libunbound_never_writes_to_stderr)
{
	/* stderr becomes a full pipe nobody reads: any write to it blocks. */
	int p[2];
	cr_assert_eq(pipe(p), 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	size_t filled = 0;
	ssize_t w;
	while ((w = write(p[1], junk, sizeof(junk))) > 0) {
		filled += (size_t)w;
	}
	while (write(p[1], junk, 1) == 1) {
		filled++;
	}
	fcntl(p[1], F_SETFL, 0);
	int saved = dup(2);
	dup2(p[1], 2);

	/* A trust anchor libunbound cannot parse: it prints errors. */
	char path[] = "/tmp/aname-stall-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	const char *bad = "example.test. DS not a ds record\n";
	cr_assert_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	aname_config_t *cfg = th_config(ts_nsd_port(th_nsd));
	aname_config_set_trust_anchor_file(cfg, path);
	aname_ctx_t *ctx = NULL;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	unlink(path);
	cr_assert_neq(rc, ANAME_OK, "the bad anchor is refused");

	/* What libunbound printed reaches the log callback instead. */
	struct lines l = {PTHREAD_MUTEX_INITIALIZER, 0};
	cfg = th_config(ts_nsd_port(th_nsd));
	aname_config_set_log(cfg, ANAME_LOG_DEBUG, on_log, &l);
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	aname_ctx_free(ctx);

	dup2(saved, 2);
	close(saved);
	close(p[1]);
	size_t left = 0;
	ssize_t r;
	while ((r = read(p[0], junk, sizeof(junk))) > 0) {
		left += (size_t)r;
	}
	close(p[0]);
	cr_assert_eq(left, filled, "nothing was written to stderr (%zu extra "
				   "bytes)",
		     left - filled);
	cr_assert_gt(l.libunbound, 0, "libunbound's errors were logged");
}

/* A log callback that writes to a pipe nobody reads blocks the thread
 * that delivers logs (the library thread here) and nothing else: the
 * library queues messages under its own leaf lock and delivers them with
 * no library lock held. */
static int stuck_fd = -1;

static void on_log_blocking(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	ssize_t w = write(stuck_fd, msg, strlen(msg)); /* blocks when full */
	(void)w;
}

static void quick_thread_logging(aname_config_t *cfg)
{
	aname_config_set_thread(cfg, 1);
	aname_config_set_timeout_ms(cfg, 100);
	aname_config_set_backoff(cfg, 0);
	aname_config_set_log(cfg, ANAME_LOG_INFO, on_log_blocking, NULL);
}

Test(stall, a_blocking_log_callback_holds_no_library_lock)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	while (write(p[1], junk, sizeof(junk)) > 0) {
	}
	while (write(p[1], junk, 1) == 1) {
	}
	fcntl(p[1], F_SETFL, 0); /* full, and now blocking */
	stuck_fd = p[1];
	ts_blackhole_t *bh = ts_blackhole_start();
	cr_assert_not_null(bh);
	aname_ctx_t *ctx = th_ctx(ts_blackhole_port(bh), quick_thread_logging);
	/* Dead targets log "no answer within 100 ms" from their deadlines,
	 * which fire with the context lock held. */
	th_done_t d[20];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 20; i++) {
		char name[64];
		snprintf(name, sizeof(name), "d%d.example.test", i);
		aname_resolve(ctx, name, 1, 0, th_on_done, &d[i], NULL);
	}
	/* Wait until the library thread is stuck inside the callback. */
	int64_t until = ts_now_ms() + 3000;
	int calls = 0;
	while (ts_now_ms() < until) {
		for (int i = 0; i < 20; i++) {
			calls += atomic_load(&d[i].calls) > 0;
		}
		if (calls > 0) {
			break;
		}
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
	struct timespec ts = {0, 300000000L}; /* more deadlines, more logs */
	nanosleep(&ts, NULL);
	int64_t worst = 0;
	for (int i = 0; i < 50; i++) {
		char name[64];
		snprintf(name, sizeof(name), "e%d.example.test", i);
		int64_t t0 = now_us();
		aname_qid_t qid;
		th_done_t e = {0};
		aname_resolve(ctx, name, 1, 0, th_on_done, &e, &qid);
		aname_cancel(ctx, qid);
		aname_health(ctx, NULL);
		aname_result_t *res = NULL;
		aname_cache_lookup(ctx, name, 1, ANAME_LOOKUP_FETCH, &res);
		aname_result_unref(res);
		int64_t took = now_us() - t0;
		worst = took > worst ? took : worst;
	}
	cr_log_info("blocking log callback: slowest host call %lld us",
		    (long long)worst);
	cr_assert_lt(worst, 100 * 1000, "a host call waited %lld us behind "
					"the blocked log callback",
		     (long long)worst);
	/* Let the callback go: with the reader closed, the blocked write
	 * fails with EPIPE instead of waiting. */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	aname_ctx_free(ctx);
	for (int i = 0; i < 20; i++) {
		th_done_clear(&d[i]);
	}
	close(p[1]);
	ts_blackhole_stop(bh);
}
