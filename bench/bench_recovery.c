/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * bench-recovery: the resilience issue's fault figures, with real faults
 * (nsd behind the fault proxy of tests/support; the resolver thread,
 * where libunbound runs, stopped with ptrace), default configuration unless said:
 *
 *  1. packets and time per cold resolution behind a slow upstream
 *     (RTT 0.4 / 0.5 / 0.7 / 1.0 s), each on a fresh context;
 *  2. time to fresh data after a 6 s outage ends (a registered target);
 *  3. canary: time to degraded after every upstream goes silent with the
 *     cache fresh, and back to ok after it returns;
 *  4. watchdog: time from a stopped resolver to fresh data again for a
 *     registered short-TTL target;
 *  5. a TCP-forcing upstream (UDP answers truncated): aname_resolve()
 *     call time and callback time against the deadline.
 */
#include <aname.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "support/freeze.h"
#include "support/servers.h"

static aname_ctx_t *ctx_for(int port, int forwarder)
{
	char addr[64], guard[64];
	aname_config_t *cfg = aname_config_new();
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	if (forwarder) {
		aname_config_add_forwarder(cfg, addr);
	} else {
		snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
		aname_config_add_stub(cfg, "example.test", addr);
		aname_config_add_stub(cfg, ".", guard);
	}
	aname_ctx_t *ctx = NULL;
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		bench_die("aname_ctx_new failed");
	}
	aname_config_free(cfg);
	return ctx;
}

static void drive(aname_ctx_t *ctx, int ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000u;
	while (bench_now_ns() < end) {
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int t = aname_timeout_ms(ctx);
		poll(&p, 1, t < 0 || t > 5 ? 5 : t);
		aname_process(ctx);
	}
}

struct done {
	int calls, status;
	uint64_t at_ns;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct done *d = arg;
	(void)res;
	d->calls++;
	d->status = status;
	d->at_ns = bench_now_ns();
}

static int fresh(aname_ctx_t *ctx, const char *name)
{
	aname_result_t *res = NULL;
	int ok = aname_cache_lookup(ctx, name, 1,
				    ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
				    &res) == ANAME_OK &&
		 !aname_result_stale(res);
	aname_result_unref(res);
	return ok;
}

/* ms until fresh(name), driving the loop; -1 after limit_ms. */
static double until_fresh(aname_ctx_t *ctx, const char *name, int limit_ms)
{
	uint64_t t0 = bench_now_ns();
	while (bench_now_ns() - t0 < (uint64_t)limit_ms * 1000000u) {
		drive(ctx, 10);
		if (fresh(ctx, name)) {
			return (bench_now_ns() - t0) / 1e6;
		}
	}
	return -1;
}

static void part_slow(FILE *md, FILE *goals, ts_proxy_t *px)
{
	static const unsigned rtt[] = {400, 500, 700, 1000};
	fprintf(md, "### Cold resolution behind a slow upstream\n\n"
		    "A fresh context per row (as after a start or a watchdog "
		    "replacement), default 1500 ms deadline.\n\n"
		    "| upstream RTT | outcome | time | packets (A) |\n"
		    "|---|---|---|---|\n");
	unsigned worst = 0;
	int all_ok = 1;
	for (size_t i = 0; i < 4; i++) {
		aname_ctx_t *ctx = ctx_for(ts_proxy_port(px), 0);
		ts_proxy_reset_counts(px);
		ts_proxy_set_mode(px, "www.example.test", TS_MODE_DELAY,
				  rtt[i]);
		struct done d = {0};
		uint64_t t0 = bench_now_ns();
		aname_resolve(ctx, "www.example.test", 1, 0, on_done, &d, NULL);
		aname_wait(ctx, 5000);
		unsigned n = ts_proxy_count(px, "www.example.test", 1);
		fprintf(md, "| %u ms | %s | %.0f ms | %u |\n", rtt[i],
			aname_status_name(d.status), (d.at_ns - t0) / 1e6, n);
		worst = n > worst ? n : worst;
		all_ok &= d.status == ANAME_OK;
		aname_ctx_free(ctx);
		ts_proxy_clear_modes(px);
	}
	fprintf(md, "\n");
	bench_goal(goals, "slow upstream (RTT <= 1 s): cold answer within the "
			  "deadline on <= 2 packets",
		   all_ok && worst <= 2, "worst %u packets", worst);
}

static void part_outage(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = ctx_for(ts_proxy_port(px), 0);
	aname_target_register(ctx, "short.example.test", 1);
	until_fresh(ctx, "short.example.test", 3000);
	ts_proxy_set_mode(px, NULL, TS_MODE_DROP, 0);
	drive(ctx, 6000);
	ts_proxy_set_mode(px, NULL, TS_MODE_PASS, 0);
	double ms = until_fresh(ctx, "short.example.test", 30000);
	fprintf(md, "### Recovery after a 6 s outage\n\n"
		    "A registered target with a 2 s TTL; the proxy drops "
		    "everything for 6 s, then passes again.\n\n"
		    "| measure | value |\n|---|---|\n"
		    "| fresh again after the upstream returned | %.0f ms |\n\n",
		ms);
	bench_goal(goals, "recovery: fresh within 5 s of the upstream's return",
		   ms >= 0 && ms <= 5000, "%.0f ms", ms);
	aname_ctx_free(ctx);
}

static double until_health(aname_ctx_t *ctx, int want_ok, int limit_ms)
{
	uint64_t t0 = bench_now_ns();
	while (bench_now_ns() - t0 < (uint64_t)limit_ms * 1000000u) {
		drive(ctx, 20);
		int reason;
		int level = aname_health(ctx, &reason);
		if (want_ok ? level == ANAME_HEALTH_OK
			    : reason == ANAME_REASON_UPSTREAM_SILENT) {
			return (bench_now_ns() - t0) / 1e6;
		}
	}
	return -1;
}

static void part_canary(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = ctx_for(ts_proxy_port(px), 1);
	struct done d = {0};
	aname_resolve(ctx, "www.example.test", 1, 0, on_done, &d, NULL);
	aname_wait(ctx, 3000);
	ts_proxy_set_mode(px, NULL, TS_MODE_DROP, 0);
	double down = until_health(ctx, 0, 20000);
	ts_proxy_set_mode(px, NULL, TS_MODE_PASS, 0);
	double up = until_health(ctx, 1, 20000);
	fprintf(md, "### Canary\n\n"
		    "One forwarder; every query dropped while the cache is "
		    "fresh, then passed again.\n\n"
		    "| measure | value |\n|---|---|\n"
		    "| degraded (upstream-silent) after | %.0f ms |\n"
		    "| ok again after the return | %.0f ms |\n\n",
		down, up);
	bench_goal(goals, "canary: degraded within 10 s of silence, ok within "
			  "10 s of return",
		   down >= 0 && down <= 10000 && up >= 0 && up <= 10000,
		   "%.0f ms / %.0f ms", down, up);
	aname_ctx_free(ctx);
}

static void part_watchdog(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = ctx_for(ts_proxy_port(px), 0);
	aname_target_register(ctx, "short.example.test", 1);
	until_fresh(ctx, "short.example.test", 3000);
	ts_freeze_t *fz = ts_freeze(ts_find_ub_worker(1, 2000));
	if (fz == NULL) {
		bench_die("cannot stop the resolver thread (ptrace)");
	}
	uint64_t t0 = bench_now_ns();
	/* Fresh until its 2 s TTL runs out, then stale until the new
	 * resolver's answer. */
	while (fresh(ctx, "short.example.test") &&
	       bench_now_ns() - t0 < 5000000000ull) {
		drive(ctx, 10);
	}
	double stale_at = (bench_now_ns() - t0) / 1e6;
	double back = until_fresh(ctx, "short.example.test", 10000);
	double total = back >= 0 ? stale_at + back : -1;
	uint64_t restarts = 0;
	aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &restarts);
	fprintf(md, "### Watchdog: time to fresh data\n\n"
		    "The resolver thread (where libunbound runs) stopped (ptrace) while a registered "
		    "2 s-TTL target is fresh; default watchdog (1000 ms "
		    "interval, 2000 ms grace).\n\n"
		    "| measure | value |\n|---|---|\n"
		    "| the target went stale after | %.0f ms |\n"
		    "| fresh again after the stall began | %.0f ms |\n"
		    "| replacements | %llu |\n\n",
		stale_at, total, (unsigned long long)restarts);
	bench_goal(goals, "watchdog: fresh again within interval + grace + 2 s "
			  "of the refresh falling due",
		   back >= 0 && back <= 5000, "%.0f ms after going stale", back);
	aname_ctx_free(ctx);
	ts_thaw(fz);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define N_TCP 2000

static void part_tcp(FILE *md, FILE *goals, ts_proxy_t *px)
{
	aname_ctx_t *ctx = ctx_for(ts_proxy_port(px), 0);
	ts_proxy_set_mode(px, NULL, TS_MODE_TRUNCATE, 0);
	static struct done d[N_TCP];
	static double call_us[N_TCP], late_ms[N_TCP];
	uint64_t due[N_TCP];
	char name[64];
	for (int i = 0; i < N_TCP; i++) {
		snprintf(name, sizeof(name), "t%d.example.test", i);
		uint64_t t0 = bench_now_ns();
		aname_resolve(ctx, name, 1, 0, on_done, &d[i], NULL);
		call_us[i] = (bench_now_ns() - t0) / 1e3;
		due[i] = t0 + 1500 * 1000000ull;
		if (i % 20 == 0) {
			drive(ctx, 1);
		}
	}
	aname_wait(ctx, 10000);
	int missing = 0;
	for (int i = 0; i < N_TCP; i++) {
		missing += d[i].calls != 1;
		late_ms[i] = d[i].at_ns > due[i] ? (d[i].at_ns - due[i]) / 1e6
						 : 0;
	}
	qsort(call_us, N_TCP, sizeof(double), cmp_dbl);
	qsort(late_ms, N_TCP, sizeof(double), cmp_dbl);
	double p99c = call_us[N_TCP * 99 / 100], p99l = late_ms[N_TCP * 99 / 100];
	fprintf(md, "### A TCP-forcing upstream\n\n"
		    "Every UDP answer truncated (TC=1), so each resolution "
		    "goes over TCP; %d distinct names submitted in a burst.\n\n"
		    "| measure | value |\n|---|---|\n"
		    "| `aname_resolve()` call, p50 / p99 / max | %.1f / %.1f / "
		    "%.1f µs |\n"
		    "| callback past its deadline, p99 / max | %.1f / %.1f ms |\n"
		    "| without exactly one callback | %d |\n\n",
		N_TCP, call_us[N_TCP / 2], p99c, call_us[N_TCP - 1], p99l,
		late_ms[N_TCP - 1], missing);
	bench_goal(goals, "TCP-forcing upstream: aname_resolve p99 < 1 ms",
		   p99c < 1000, "%.1f µs", p99c);
	bench_goal(goals, "TCP-forcing upstream: callbacks p99 <= deadline + "
			  "20 ms",
		   p99l <= 20 && missing == 0, "%.1f ms", p99l);
	ts_proxy_clear_modes(px);
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
	FILE *md = bench_md_open("recovery", &goals);
	fprintf(md, "## Real faults (resilience issue)\n\n");
	part_slow(md, goals, px);
	part_outage(md, goals, px);
	part_canary(md, goals, px);
	part_watchdog(md, goals, px);
	part_tcp(md, goals, px);
	fclose(md);
	fclose(goals);
	ts_proxy_stop(px);
	ts_server_stop(nsd);
	return 0;
}
