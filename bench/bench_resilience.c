/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_resilience.c
 * \brief The figures behind "it keeps answering when upstream fails", with
 * the library's default configuration, against nsd behind the fault proxy
 * of tests/support:
 *
 *  1. stale answer latency while the upstream is dead: the first request
 *     (client response timer), the following ones, and a non-blocking
 *     lookup;
 *  2. upstream queries per dead target per minute under a steady request
 *     stream (failure backoff);
 *  3. memory while 100 000 distinct dead targets are flooded at full
 *     speed, and whether a cached target kept answering;
 *  4. time from a stalled resolver to the watchdog's recovery.
 */
#include <aname.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"
#include "support/freeze.h"
#include "bench.h"
#include "support/servers.h"

static aname_ctx_t *new_ctx(int port)
{
	char addr[64], guard[64];
	aname_config_t *cfg = aname_config_new();
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
	aname_config_add_stub(cfg, "example.test", addr);
	aname_config_add_stub(cfg, ".", guard);
	aname_ctx_t *ctx = NULL;
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		bench_die("aname_ctx_new failed");
	}
	aname_config_free(cfg);
	return ctx;
}

struct done {
	int calls, status, stale;
	uint64_t at_ns;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct done *d = arg;
	d->calls++;
	d->status = status;
	d->stale = res != NULL && aname_result_stale(res);
	d->at_ns = bench_now_ns();
}

/* Resolve synchronously through the event loop; returns latency in ms. */
static double resolve_ms(aname_ctx_t *ctx, const char *name, struct done *d)
{
	memset(d, 0, sizeof(*d));
	uint64_t t0 = bench_now_ns();
	if (aname_resolve(ctx, name, 1, 0, on_done, d, NULL) != ANAME_OK) {
		bench_die("aname_resolve %s", name);
	}
	aname_wait(ctx, 10000);
	if (d->calls != 1) {
		bench_die("no callback for %s", name);
	}
	return (d->at_ns - t0) / 1e6;
}

struct stale_arg {
	aname_ctx_t *ctx;
};

static bool entry_expired(void *arg)
{
	aname_result_t *res = NULL;
	int rc = aname_cache_lookup(((struct stale_arg *)arg)->ctx,
				    "short.example.test", 1, ANAME_LOOKUP_STALE,
				    &res);
	bool stale = rc == ANAME_OK && aname_result_stale(res);
	aname_result_unref(res);
	return stale;
}

static void part_stale(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = new_ctx(ts_proxy_port(px));
	struct done d;
	resolve_ms(ctx, "short.example.test", &d); /* TTL 2 */
	struct stale_arg a = {ctx};
	if (!ts_wait_until(entry_expired, &a, 5000)) {
		bench_die("short.example.test did not expire");
	}
	ts_proxy_set_mode(px, "short.example.test", TS_MODE_DROP, 0);
	enum { N = 200 };
	double lat[N];
	int stale = 0;
	for (int i = 0; i < N; i++) {
		lat[i] = resolve_ms(ctx, "short.example.test", &d);
		stale += d.status == ANAME_OK && d.stale;
	}
	double first = lat[0];
	bench_sort(lat, N);
	double lk[N];
	for (int i = 0; i < N; i++) {
		aname_result_t *res = NULL;
		uint64_t t0 = bench_now_ns();
		aname_cache_lookup(ctx, "short.example.test", 1,
				   ANAME_LOOKUP_STALE | ANAME_LOOKUP_FETCH, &res);
		lk[i] = (bench_now_ns() - t0) / 1e3;
		aname_result_unref(res);
	}
	bench_sort(lk, N);
	fprintf(md,
		"### Stale answers while the upstream is dead\n\n"
		"`short.example.test` (TTL 2) cached, expired, then its "
		"upstream dropped every query; %d sequential `aname_resolve()` "
		"calls, default configuration (client response timer 400 ms, "
		"deadline 1500 ms, backoff 30 s).\n\n"
		"| measure | value |\n|---|---|\n"
		"| answered stale | %d of %d |\n"
		"| first request (waits for the client response timer) | "
		"%.1f ms |\n"
		"| median request | %.3f ms |\n"
		"| p99 request | %.1f ms |\n"
		"| slowest request | %.1f ms |\n"
		"| non-blocking lookup, median (`ANAME_LOOKUP_STALE`) | "
		"%.2f µs |\n\n",
		N, stale, N, first, bench_pct_sorted(lat, N, 50),
		bench_pct_sorted(lat, N, 99), lat[N - 1],
		bench_pct_sorted(lk, N, 50));
	bench_goal(goals, "stale: every request answered with stale data",
		   stale == N, "%d of %d", stale, N);
	bench_goal(goals, "stale: no request waits past the client timer",
		   lat[N - 1] < 400 + 100, "slowest %.1f ms", lat[N - 1]);
	ts_proxy_clear_modes(px);
	aname_ctx_free(ctx);
}

static void part_backoff(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = new_ctx(ts_proxy_port(px));
	ts_proxy_set_mode(px, "dead.example.test", TS_MODE_DROP, 0);
	ts_proxy_reset_counts(px);
	struct done d;
	int requests = 0;
	/* The backoff doubles from 1 s to its 30 s cap: the first 45 s are
	 * the ramp, the following 60 s the steady state the goal is about. */
	uint64_t ramp = bench_now_ns() + 45ull * 1000000000ull;
	uint64_t end = ramp + 60ull * 1000000000ull;
	uint64_t ramp_fetches = 0;
	unsigned ramp_packets = 0;
	while (bench_now_ns() < end) {
		resolve_ms(ctx, "dead.example.test", &d);
		requests++;
		if (ramp != 0 && bench_now_ns() >= ramp) {
			aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES,
					&ramp_fetches);
			ramp_packets = ts_proxy_count(px, "dead.example.test",
						      1);
			ramp = 0;
		}
	}
	unsigned packets = ts_proxy_count(px, "dead.example.test", 1) -
			   ramp_packets;
	uint64_t fetches = 0, skips = 0;
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &fetches);
	aname_stats_get(ctx, ANAME_STAT_BACKOFF_SKIPS, &skips);
	fetches -= ramp_fetches;
	fprintf(md,
		"### Upstream queries for a dead target\n\n"
		"`dead.example.test` dropped by the proxy; one `aname_resolve()` "
		"after another for 105 s: 45 s while the backoff doubles from "
		"1 s to its 30 s cap, then 60 s of steady state.\n\n"
		"| measure | value |\n|---|---|\n"
		"| requests in 105 s | %d |\n"
		"| resolutions during the 45 s ramp | %llu |\n"
		"| resolutions in the steady 60 s | %llu |\n"
		"| packets that reached the upstream in the steady 60 s | %u |\n"
		"| requests answered at once by the backoff | %llu |\n\n",
		requests, (unsigned long long)ramp_fetches,
		(unsigned long long)fetches, packets, (unsigned long long)skips);
	bench_goal(goals, "backoff: at most 3 resolutions per dead target per "
			  "minute (steady state)",
		   fetches <= 3, "%llu resolutions, %u packets",
		   (unsigned long long)fetches, packets);
	ts_proxy_clear_modes(px);
	aname_ctx_free(ctx);
}

static void part_flood(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = new_ctx(ts_proxy_port(px));
	struct done d;
	resolve_ms(ctx, "www.example.test", &d);
	ts_proxy_set_mode(px, NULL, TS_MODE_DROP, 0);
	ts_proxy_set_mode(px, "www.example.test", TS_MODE_PASS, 0);
	size_t rss0 = bench_rss_bytes();
	enum { N = 100000 };
	struct done *dd = calloc(N, sizeof(*dd));
	int accepted = 0, lookups = 0, lookups_ok = 0;
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "dead%d.example.test", i);
		accepted += aname_resolve(ctx, name, 1, 0, on_done, &dd[i],
					  NULL) == ANAME_OK;
		if (i % 20 == 0) {
			aname_result_t *res = NULL;
			lookups++;
			lookups_ok += aname_cache_lookup(ctx, "www.example.test",
							 1, 0, &res) == ANAME_OK;
			aname_result_unref(res);
			aname_process(ctx);
		}
	}
	double submit_s = (bench_now_ns() - t0) / 1e9;
	size_t rss_peak = bench_rss_bytes();
	aname_wait(ctx, 30000);
	int shed = 0, timedout = 0;
	for (int i = 0; i < N; i++) {
		shed += dd[i].status == ANAME_ESHED;
		timedout += dd[i].status == ANAME_ETIMEDOUT;
	}
	uint64_t bytes = 0, entries = 0;
	aname_stats_get(ctx, ANAME_STAT_CACHE_BYTES, &bytes);
	aname_stats_get(ctx, ANAME_STAT_CACHE_ENTRIES, &entries);
	double grown = ((double)rss_peak - (double)rss0) / (1024.0 * 1024.0);
	fprintf(md,
		"### A flood of distinct dead targets\n\n"
		"%d distinct targets whose upstream drops everything, submitted "
		"as fast as possible (%.2f s), with a lookup of a cached target "
		"every 20 submissions.\n\n"
		"| measure | value |\n|---|---|\n"
		"| accepted requests | %d |\n"
		"| shed at once (ANAME_ESHED) | %d |\n"
		"| timed out at their deadline | %d |\n"
		"| cached lookups answered | %d of %d |\n"
		"| RSS growth during the flood | %.1f MiB |\n"
		"| cache entries / bytes afterwards | %llu / %llu |\n\n",
		N, submit_s, accepted, shed, timedout, lookups_ok, lookups,
		grown, (unsigned long long)entries, (unsigned long long)bytes);
	bench_goal(goals, "flood: cached target answered throughout",
		   lookups_ok == lookups, "%d of %d", lookups_ok, lookups);
	bench_goal(goals, "flood: memory bounded (< 64 MiB growth)",
		   grown < 64, "%.1f MiB", grown);
	free(dd);
	ts_proxy_clear_modes(px);
	aname_ctx_free(ctx);
}

static void part_watchdog(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = new_ctx(ts_proxy_port(px));
	struct done d = {0};
	pid_t worker = ts_find_ub_worker(1, 2000);
	ts_proxy_set_mode(px, "wd.example.test", TS_MODE_DELAY, 50);
	uint64_t t0 = bench_now_ns();
	aname_resolve(ctx, "wd.example.test", 1, 5000, on_done, &d, NULL);
	/* A real stall: the resolver thread (libunbound runs in it) stopped
	 * with ptrace. */
	ts_freeze_t *fz = ts_freeze(worker);
	aname_wait(ctx, 10000);
	ts_thaw(fz);
	double ms = (d.at_ns - t0) / 1e6;
	uint64_t restarts = 0;
	aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &restarts);
	fprintf(md,
		"### Watchdog\n\n"
		"A resolution is started and the resolver thread (where libunbound runs) is "
		"stopped for real (ptrace from a helper process); default "
		"watchdog: probe every "
		"1000 ms, 2000 ms grace.\n\n"
		"| measure | value |\n|---|---|\n"
		"| time from the stall to the answer | %.0f ms |\n"
		"| libunbound contexts replaced | %llu |\n"
		"| outcome | %s |\n\n",
		ms, (unsigned long long)restarts, aname_status_name(d.status));
	bench_goal(goals, "watchdog: recovery within interval + grace + 1 s",
		   d.status == ANAME_OK && ms < 4000, "%.0f ms", ms);
	aname_ctx_free(ctx);
}

int main(void)
{
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	if (nsd == NULL) {
		bench_die("nsd did not start");
	}
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	if (px == NULL) {
		bench_die("the proxy did not start");
	}
	FILE *goals = NULL;
	FILE *md = bench_md_open("resilience", &goals);
	fprintf(md, "## Resilience (issue 3 figures)\n\n");
	part_stale(md, goals, px);
	part_watchdog(md, goals, px);
	part_flood(md, goals, px);
	part_backoff(md, goals, px);
	fclose(md);
	fclose(goals);
	ts_proxy_stop(px);
	ts_server_stop(nsd);
	return 0;
}
