/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Per-target state (aname_targets_each) and warm restarts
 * (aname_cache_save / aname_cache_load) against a real nsd, a fault proxy
 * and a black hole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "clock.h"
#include "targets.h"

static void up(void)
{
	th_up_nsd_proxy();
	th_bh = ts_blackhole_start();
	cr_assert_not_null(th_bh);
}

TestSuite(targets, .init = up, .fini = th_down, .timeout = 60);

struct seen {
	int n;
	aname_target_info_t www, dead, reg;
	char dead_name[64];
};

static int collect(void *arg, const aname_target_info_t *info)
{
	struct seen *s = arg;
	s->n++;
	if (info->rrtype != ANAME_RRTYPE_A) {
		return 0;
	}
	if (strcmp(info->target, "www.example.test.") == 0) {
		s->www = *info;
	} else if (strcmp(info->target, "c1.example.test.") == 0) {
		s->dead = *info;
	} else if (strcmp(info->target, "nodata.example.test.") == 0) {
		s->reg = *info;
	}
	return 0;
}

static int stop_at_first(void *arg, const aname_target_info_t *info)
{
	(void)arg;
	(void)info;
	return 7;
}

Test(targets, states_of_fresh_failing_and_registered)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), NULL);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	ts_proxy_set_mode(th_px, "c1.example.test", TS_MODE_SERVFAIL, 0);
	cr_assert_neq(th_resolve(ctx, "c1.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	cr_assert_eq(aname_target_register(ctx, "nodata.example.test", 1),
		     ANAME_OK);
	struct seen s = {0};
	cr_assert_eq(aname_targets_each(ctx, collect, &s), ANAME_OK);
	cr_assert_geq(s.n, 3);
	cr_assert_eq(s.www.state, ANAME_TARGET_FRESH, "%s (%s, %d seen)",
		     aname_target_state_name(s.www.state),
		     s.www.target ? "found" : "not found", s.n);
	cr_assert_eq(s.www.addresses, 2);
	cr_assert_gt(s.www.ttl_left_s, 0);
	cr_assert_eq(s.www.registered, 0);
	cr_assert_eq(s.www.last_error, ANAME_OK);
	cr_assert_lt(s.www.changed_age_s, 5);
	cr_assert_eq(s.dead.state, ANAME_TARGET_BACKOFF, "%s",
		     aname_target_state_name(s.dead.state));
	cr_assert_eq(s.dead.last_error, ANAME_ESERVFAIL);
	cr_assert_eq(s.dead.consecutive_failures, 1);
	cr_assert_eq(s.reg.registered, 1, "registered target listed");
	/* Stop early: the callback's value comes back. */
	cr_assert_eq(aname_targets_each(ctx, stop_at_first, NULL), 7);
	cr_assert_eq(aname_targets_each(NULL, collect, &s), ANAME_EINVAL);
	aname_ctx_free(ctx);
}

/* One metrics rendering (a static buffer, valid until the next call). */
static const char *metrics(aname_ctx_t *ctx)
{
	static char buf[16384];
	int n = aname_metrics_prometheus(ctx, buf, sizeof(buf));
	cr_assert(n > 0 && (size_t)n < sizeof(buf), "metrics: %d", n);
	return buf;
}

/* The "aname_targets{state=...}" gauge in \a text, or -1. */
static long gauge_in(const char *text, const char *state)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "aname_targets{state=\"%s\"} ", state);
	const char *p = strstr(text, pat);
	return p != NULL ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static long gauge(aname_ctx_t *ctx, const char *state)
{
	return gauge_in(metrics(ctx), state);
}

/* One turn of the host's loop: poll on aname_fd, then aname_process. */
static void loop_once(aname_ctx_t *ctx)
{
	int t = aname_timeout_ms(ctx);
	struct pollfd pfd = {aname_fd(ctx), POLLIN, 0};
	poll(&pfd, 1, t < 0 || t > 50 ? 50 : t);
	aname_process(ctx);
}

/* Run the host's loop (poll on aname_fd, aname_process) until \a state's
 * gauge reads \a want; returns the milliseconds it took, or -1. */
static long await_gauge(aname_ctx_t *ctx, const char *state, long want,
			int limit_ms)
{
	uint64_t t0 = aname__now_ms();
	while (gauge(ctx, state) != want) {
		uint64_t now = aname__now_ms();
		if (now - t0 > (uint64_t)limit_ms) {
			return -1;
		}
		loop_once(ctx);
	}
	return (long)(aname__now_ms() - t0);
}

/* The per-state gauges come from a tally that the loop's timer keeps
 * (lib/targets.h): the first metrics call counts a small cache for
 * itself; later ones copy the last pass, which catches up with a change
 * within a period. */
Test(targets, metrics_gauges_follow_the_cache)
{
	aname_ctx_t *ctx = th_ctx(ts_proxy_port(th_px), NULL);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	cr_assert_eq(gauge(ctx, "fresh"), 1, "counted by the first call");
	cr_assert_eq(gauge(ctx, "backoff"), 0);
	ts_proxy_set_mode(th_px, "c1.example.test", TS_MODE_SERVFAIL, 0);
	cr_assert_neq(th_resolve(ctx, "c1.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	long ms = await_gauge(ctx, "backoff", 1,
			      ANAME_TALLY_PERIOD_MS + 2000);
	cr_assert_geq(ms, 0, "the tally never saw the failure");
	cr_assert_eq(gauge(ctx, "fresh"), 1);
	cr_log_info("backoff gauge caught up in %ld ms\n", ms);
	aname_ctx_free(ctx);
}

static void count_done(void *arg, int status, const aname_result_t *res)
{
	(void)status;
	(void)res;
	(*(int *)arg)++;
}

/* Every state's gauge from one call, summed; -1 when the series is left
 * out. */
static long gauge_sum(aname_ctx_t *ctx)
{
	const char *text = metrics(ctx);
	long sum = 0;
	for (int i = 0; i < ANAME_TARGET_STATE_COUNT_; i++) {
		long g = gauge_in(text, aname_target_state_name(i));
		if (g < 0) {
			return -1;
		}
		sum += g;
	}
	return sum;
}

/* With no recent pass, a call counts for itself only a small cache
 * (ANAME_TALLY_INLINE_BUCKETS); a larger one is not counted inside the
 * call (the series is left out, not shown as zero) until the loop's pass
 * is done.  Before, the first call walked the whole cache. */
Test(targets, metrics_leave_a_large_cache_to_the_loop)
{
	aname_ctx_t *ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
	/* More entries than the budget's buckets: tables grow to at least
	 * one bucket an entry.  NXDOMAIN answers are cached too. */
	const int want = ANAME_TALLY_INLINE_BUCKETS + 1000;
	int done = 0, sent = 0;
	char name[64];
	while (sent < want) {
		for (int b = 0; b < 200 && sent < want; b++, sent++) {
			snprintf(name, sizeof(name), "n%d.example.test", sent);
			cr_assert_eq(aname_resolve(ctx, name, ANAME_RRTYPE_A,
						   5000, count_done, &done,
						   NULL),
				     ANAME_OK);
		}
		th_run(ctx, 10000);
	}
	cr_assert_eq(done, want);
	uint64_t entries = 0;
	aname_stats_get(ctx, ANAME_STAT_CACHE_ENTRIES, &entries);
	cr_assert_geq(entries, (uint64_t)want, "%llu entries",
		      (unsigned long long)entries);
	cr_assert_eq(gauge_sum(ctx), -1,
		     "the first call counted a large cache for itself");
	/* The loop's pass, started by that call, brings the gauges. */
	uint64_t t0 = aname__now_ms();
	long sum;
	while ((sum = gauge_sum(ctx)) < 0) {
		cr_assert_lt(aname__now_ms() - t0, 10000,
			     "no pass finished in 10 s");
		loop_once(ctx);
	}
	cr_assert_eq(sum, (long)entries, "the pass counted every entry");
	cr_log_info("a pass over %llu entries came in %llu ms\n",
		    (unsigned long long)entries,
		    (unsigned long long)(aname__now_ms() - t0));
	aname_ctx_free(ctx);
}

static char *tmp_path(const char *tag)
{
	static char path[128];
	snprintf(path, sizeof(path), "/tmp/aname-snap-%s-%d", tag,
		 (int)getpid());
	return path;
}

static aname_ctx_t *ctx_at(int port)
{
	aname_config_t *cfg = th_config(port);
	aname_ctx_t *ctx;
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	return ctx;
}

/* A server restarted while its upstream is black-holed answers every
 * previously known target at once, from the snapshot. */
Test(targets, snapshot_warm_restart_against_a_black_hole)
{
	aname_ctx_t *a = ctx_at(ts_nsd_port(th_nsd));
	static const char *names[] = {"www.example.test", "c1.example.test",
				      "nxdomain.example.test"};
	th_done_t d = {0};
	for (size_t i = 0; i < 3; i++) {
		th_resolve(a, names[i], ANAME_RRTYPE_BOTH, 0, &d);
		th_done_clear(&d);
	}
	char *path = tmp_path("warm");
	cr_assert_eq(aname_cache_save(a, path), ANAME_OK);
	aname_ctx_free(a);

	aname_ctx_t *b = ctx_at(ts_blackhole_port(th_bh));
	size_t n = 0;
	cr_assert_eq(aname_cache_load(b, path, &n), ANAME_OK);
	cr_assert_geq(n, 4, "%zu answers loaded", n);
	aname_result_t *res = NULL;
	cr_assert_eq(aname_cache_lookup(b, "www.example.test", 1,
					ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
					&res),
		     ANAME_OK, "known target answers at once");
	cr_assert_eq(aname_result_count(res, 1), 2);
	aname_result_unref(res);
	cr_assert_eq(aname_cache_lookup(b, "nxdomain.example.test", 1,
					ANAME_LOOKUP_STALE, &res),
		     ANAME_OK);
	cr_assert_eq(aname_result_rcode(res, 1), 3, "NXDOMAIN kept");
	aname_result_unref(res);
	aname_ctx_free(b);
	unlink(path);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	static uint8_t buf[1 << 16];
	*n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

static void expect_rejected(const char *path, const char *what)
{
	aname_ctx_t *c = ctx_at(ts_blackhole_port(th_bh));
	size_t n = 99;
	cr_assert_eq(aname_cache_load(c, path, &n), ANAME_EBADFILE, "%s",
		     what);
	cr_assert_eq(n, 0, "%s: nothing loaded", what);
	uint64_t entries = 1;
	aname_stats_get(c, ANAME_STAT_CACHE_ENTRIES, &entries);
	cr_assert_eq(entries, 0, "%s: the cache is untouched", what);
	aname_ctx_free(c);
}

Test(targets, snapshot_rejects_bad_files)
{
	aname_ctx_t *a = ctx_at(ts_nsd_port(th_nsd));
	th_done_t d = {0};
	th_resolve(a, "www.example.test", ANAME_RRTYPE_BOTH, 0, &d);
	th_done_clear(&d);
	char *path = tmp_path("bad");
	cr_assert_eq(aname_cache_save(a, path), ANAME_OK);
	aname_ctx_free(a);
	size_t n;
	uint8_t *good = read_file(path, &n);
	cr_assert_gt(n, 40);
	uint8_t copy[1 << 16];

	memcpy(copy, good, n);
	write_file(path, copy, n - 9);
	expect_rejected(path, "truncated");

	memcpy(copy, good, n);
	copy[n / 2] ^= 0x40;
	write_file(path, copy, n);
	expect_rejected(path, "corrupt (checksum)");

	memcpy(copy, good, n);
	copy[11] = 2; /* version 2, with a valid checksum */
	uint64_t h = fnv(copy, n - 8);
	for (int i = 0; i < 8; i++) {
		copy[n - 8 + i] = (uint8_t)(h >> (56 - 8 * i));
	}
	write_file(path, copy, n);
	expect_rejected(path, "foreign version");

	/* Larger than ANAME_SNAPSHOT_MAX_BYTES (sparse: no disk used). */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(ftruncate(fd, (off_t)ANAME_SNAPSHOT_MAX_BYTES + 1), 0);
	close(fd);
	expect_rejected(path, "oversized");

	write_file(path, (const uint8_t *)"ANAMESNP", 8);
	expect_rejected(path, "header only");
	unlink(path);
	aname_ctx_t *c = ctx_at(ts_blackhole_port(th_bh));
	cr_assert_eq(aname_cache_load(c, path, NULL), ANAME_EFILE, "missing");
	aname_ctx_free(c);
}
