/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Real stalls (lib v2): the resolver thread, where libunbound runs its
 * event loop, stopped with ptrace from a helper process, and a stderr
 * pipe that nobody reads.  No call a host makes may wait on either.  (The
 * thread asleep inside a syscall is tests/shim, which needs LD_PRELOAD.)
 * The thresholds here are generous because the machines are shared;
 * bench/bench_stall.c measures the real figures.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "support/freeze.h"
#include "support/hammer.h"

TestSuite(stall, .init = th_up_nsd, .fini = th_down, .timeout = 60);

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void watchdog_quick(aname_config_t *cfg)
{
	aname_config_set_watchdog(cfg, 200, 1000);
}

struct freeze_at {
	pid_t tid;
	ts_freeze_t **out;
};

static void freeze_now(void *arg)
{
	struct freeze_at *f = arg;
	*f->out = ts_freeze(f->tid);
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
	ts_hammer_report_t r = ts_hammer(ctx, 3000, busy ? 300 : 0,
					 busy ? freeze_now : NULL,
					 &(struct freeze_at){worker, &fz});
	cr_log_info("stall (%s stopped): %d requests; slowest calls %lld us (%s), %lld us "
		    "(%s), aname_process %lld us; latest callback %lld us "
		    "past its deadline; %llu watchdog restarts",
		    busy ? "while busy" : "while idle", r.submitted,
		    (long long)r.worst_us[0], r.worst_fn[0],
		    (long long)r.worst_us[1], r.worst_fn[1],
		    (long long)r.worst_process_us, (long long)r.late_us,
		    (unsigned long long)r.restarts);
	cr_assert_not_null(fz, "the resolver thread was stopped");
	cr_assert_gt(r.submitted, 500, "more than the ~140 commands libunbound's "
				       "pipe holds");
	cr_assert_eq(r.wait_status, ANAME_OK, "aname_wait: %s",
		     aname_strerror(r.wait_status));
	cr_assert_eq(r.missing, 0, "every request got its callback");
	for (int i = 0; i < 2; i++) {
		cr_assert_lt(r.worst_us[i], 100 * 1000, "%s took %lld us",
			     r.worst_fn[i], (long long)r.worst_us[i]);
	}
	cr_assert_lt(r.worst_process_us, 100 * 1000, "aname_process took %lld us",
		     (long long)r.worst_process_us);
	cr_assert_lt(r.late_us, 250 * 1000, "a callback came %lld us late",
		     (long long)r.late_us);
	cr_assert_geq(r.restarts, 1, "the watchdog replaced the stopped resolver");
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
