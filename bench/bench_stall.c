/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * bench-stall: the lib v2 figures.  The resolver thread, where libunbound
 * runs its event loop, is stopped
 * for real (ptrace from a helper process, tests/support/freeze.c) for
 * 10 s while four host threads call the library: two resolve (1 000/s in
 * all, 500 ms deadline), two look up (1 000/s in all), and every 50th
 * call also asks for health, metrics and a cancel; the main thread runs
 * the loop.  Reported: the slowest call of each public function, how late
 * callbacks came after their deadlines, and when the watchdog replaced
 * the resolver.  Goals from the lib v2 issue: every call < 5 ms, every
 * callback by its deadline + 20 ms, replacement within interval + grace.
 *
 * Each call also records its thread's CPU time and context switches
 * (getrusage(RUSAGE_THREAD)): a call that slept (a voluntary switch:
 * waiting on a lock or in a syscall) is the library's doing; one that
 * was only taken off its core (an involuntary switch) waited for a CPU,
 * which on a 2-CPU machine running six threads says nothing about the
 * library.  The table gives both, so a slow call names its cause.
 */
#include <aname.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "support/freeze.h"
#include "support/servers.h"

#define STALL_S 10
#define RATE 500 /* per thread and second */
#define N_REQ (2 * RATE * (STALL_S + 2))
#define DEADLINE_MS 500

/* F_NONE times nothing at all, once per round in every host thread: the
 * machine's own noise (preemption, a vCPU the hypervisor took away) in
 * the same run, to read the library's figures against. */
enum fn { F_RESOLVE, F_LOOKUP, F_CANCEL, F_HEALTH, F_METRICS, F_PROCESS,
	  F_NONE, F_N };
static const char *fn_name[F_N] = {
	"aname_resolve", "aname_cache_lookup", "aname_cancel",
	"aname_health", "aname_metrics_prometheus", "aname_process",
	"(no call: the timing alone)"};

/* One call as measured: wall clock, its thread's CPU time, and the
 * thread's context switches across it. */
struct sample {
	uint64_t wall_ns, cpu_ns;
	long vcsw, ivcsw;
};

/* Per function: the slowest call, the slowest that was never taken off
 * its core, the slowest that also lost no time at all (its thread ran
 * throughout: no switch, and wall clock within 0.1 ms of CPU time; the
 * rest of a call without a switch is time the hypervisor ran something
 * else on the vCPU), the most CPU time, and how many calls slept. */
struct worst {
	struct sample slowest;
	uint64_t unpreempted_ns, ran_ns, cpu_ns;
	unsigned calls, slept;
};

struct worker {
	aname_ctx_t *ctx;
	int id;
	int resolver; /* else lookups */
	struct worst worst[F_N];
};

static atomic_uint_fast64_t due_ns[N_REQ], done_ns[N_REQ];
static atomic_int next_req;
static atomic_bool stop;

static void on_done(void *arg, int status, const aname_result_t *res)
{
	(void)status;
	(void)res;
	atomic_store(&done_ns[(intptr_t)arg], bench_now_ns());
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Taken before a call; timed() takes the other side. */
static struct sample mark(void)
{
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	struct sample m = {.cpu_ns = thread_cpu_ns(), .vcsw = ru.ru_nvcsw,
			   .ivcsw = ru.ru_nivcsw};
	m.wall_ns = bench_now_ns();
	return m;
}

static void timed(struct worst *w, enum fn f, struct sample m)
{
	uint64_t end = bench_now_ns();
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	struct sample d = {.wall_ns = end - m.wall_ns,
			   .cpu_ns = thread_cpu_ns() - m.cpu_ns,
			   .vcsw = ru.ru_nvcsw - m.vcsw,
			   .ivcsw = ru.ru_nivcsw - m.ivcsw};
	struct worst *x = &w[f];
	x->calls++;
	x->slept += d.vcsw > 0;
	if (d.wall_ns > x->slowest.wall_ns) {
		x->slowest = d;
	}
	if (d.ivcsw == 0 && d.wall_ns > x->unpreempted_ns) {
		x->unpreempted_ns = d.wall_ns;
	}
	if (d.ivcsw == 0 && d.vcsw == 0 && d.wall_ns < d.cpu_ns + 100000 &&
	    d.wall_ns > x->ran_ns) {
		x->ran_ns = d.wall_ns;
	}
	if (d.cpu_ns > x->cpu_ns) {
		x->cpu_ns = d.cpu_ns;
	}
}

static void merge(struct worst *into, const struct worst *w)
{
	if (w->slowest.wall_ns > into->slowest.wall_ns) {
		into->slowest = w->slowest;
	}
	if (w->unpreempted_ns > into->unpreempted_ns) {
		into->unpreempted_ns = w->unpreempted_ns;
	}
	if (w->ran_ns > into->ran_ns) {
		into->ran_ns = w->ran_ns;
	}
	if (w->cpu_ns > into->cpu_ns) {
		into->cpu_ns = w->cpu_ns;
	}
	into->calls += w->calls;
	into->slept += w->slept;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	static char buf[65536];
	char name[64];
	uint64_t period = 1000000000ull / RATE, next = bench_now_ns();
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		struct sample t0 = mark();
		uint64_t now0 = t0.wall_ns;
		if (w->resolver) {
			int i = atomic_fetch_add(&next_req, 1);
			if (i >= N_REQ) {
				break;
			}
			snprintf(name, sizeof(name), "s%d.example.test", i);
			aname_qid_t qid;
			atomic_store(&due_ns[i], now0 + DEADLINE_MS * 1000000ull);
			if (aname_resolve(w->ctx, name, ANAME_RRTYPE_A,
					  DEADLINE_MS, on_done,
					  (void *)(intptr_t)i, &qid) != ANAME_OK) {
				atomic_store(&due_ns[i], 0);
			}
			timed(w->worst, F_RESOLVE, t0);
			if (n % 50 == 0) {
				t0 = mark();
				if (aname_cancel(w->ctx, qid) == ANAME_OK) {
					atomic_store(&due_ns[i], 0);
				}
				timed(w->worst, F_CANCEL, t0);
			}
		} else {
			aname_result_t *res = NULL;
			snprintf(name, sizeof(name), "%s.example.test",
				 n % 2 ? "www" : "c1");
			aname_cache_lookup(w->ctx, name, ANAME_RRTYPE_A,
					   ANAME_LOOKUP_FETCH |
						   ANAME_LOOKUP_STALE,
					   &res);
			aname_result_unref(res);
			timed(w->worst, F_LOOKUP, t0);
		}
		if (n % 50 == 0) {
			t0 = mark();
			aname_health(w->ctx, NULL);
			timed(w->worst, F_HEALTH, t0);
			t0 = mark();
			aname_metrics_prometheus(w->ctx, buf, sizeof(buf));
			timed(w->worst, F_METRICS, t0);
		}
		t0 = mark();
		__asm__ volatile("" ::: "memory");
		timed(w->worst, F_NONE, t0);
		next += period;
		uint64_t now = bench_now_ns();
		if (next > now) {
			bench_sleep_ms((unsigned)((next - now) / 1000000));
		}
	}
	return NULL;
}

/* Time the hypervisor ran something else on this machine's CPUs
 * (/proc/stat "steal", all CPUs), in ms; 0 if unreadable. */
static double steal_ms(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long v[8] = {0};
	if (f == NULL) {
		return 0;
	}
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		       &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	return n == 8 && hz > 0 ? (double)v[7] * 1000.0 / (double)hz : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	if (nsd == NULL) {
		bench_die("nsd did not start");
	}
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", ts_nsd_port(nsd));
	aname_config_t *cfg = aname_config_new();
	aname_config_add_forwarder(cfg, addr);
	aname_ctx_t *ctx = NULL;
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		bench_die("aname_ctx_new failed");
	}
	aname_config_free(cfg);
	/* Warm the two looked-up names, as a serving host would have. */
	aname_cache_lookup(ctx, "www.example.test", 1, ANAME_LOOKUP_FETCH,
			   &(aname_result_t *){NULL});
	aname_cache_lookup(ctx, "c1.example.test", 1, ANAME_LOOKUP_FETCH,
			   &(aname_result_t *){NULL});
	aname_wait(ctx, 1000);
	for (int i = 0; i < 100; i++) {
		aname_process(ctx);
		bench_sleep_ms(2);
	}
	pid_t worker = ts_find_ub_worker(1, 2000);
	ts_freeze_t *fz = ts_freeze(worker);
	if (fz == NULL) {
		bench_die("could not stop the resolver thread (ptrace)");
	}
	uint64_t t_freeze = bench_now_ns(), t_restart = 0;
	double steal0 = steal_ms();
	struct worker w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i] = (struct worker){.ctx = ctx, .id = i, .resolver = i < 2};
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	/* The main thread's own: only F_PROCESS is used. */
	struct worst main_worst[F_N] = {0};
	while (bench_now_ns() - t_freeze < STALL_S * 1000000000ull) {
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int t = aname_timeout_ms(ctx);
		poll(&p, 1, t < 0 || t > 10 ? 10 : t);
		struct sample t0 = mark();
		aname_process(ctx);
		timed(main_worst, F_PROCESS, t0);
		uint64_t r = 0;
		aname_stats_get(ctx, ANAME_STAT_WATCHDOG_RESTARTS, &r);
		if (r > 0 && t_restart == 0) {
			t_restart = bench_now_ns();
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
	}
	double steal = steal_ms() - steal0;
	aname_wait(ctx, 3000);
	int n = atomic_load(&next_req);
	n = n > N_REQ ? N_REQ : n;
	uint64_t *late = calloc((size_t)n + 1, sizeof(*late));
	int counted = 0, missing = 0;
	for (int i = 0; i < n; i++) {
		uint64_t due = atomic_load(&due_ns[i]);
		uint64_t done = atomic_load(&done_ns[i]);
		if (due == 0) {
			continue;
		}
		if (done == 0) {
			missing++;
			continue;
		}
		late[counted++] = done > due ? done - due : 0;
	}
	qsort(late, (size_t)counted, sizeof(*late), cmp_u64);
	double p50 = counted ? late[counted / 2] / 1e6 : 0;
	double p99 = counted ? late[(size_t)(counted * 0.99)] / 1e6 : 0;
	double lmax = counted ? late[counted - 1] / 1e6 : 0;
	FILE *goals = NULL;
	FILE *md = bench_md_open("stall", &goals);
	fprintf(md,
		"## A stopped resolver thread (lib v2)\n\n"
		"The resolver thread (`aname-driver`, where libunbound runs) stopped with ptrace for %d s; 4 host "
		"threads: 1 000 resolves/s (%d ms deadline) and 1 000 lookups/s, "
		"with health, metrics and cancels; the main thread runs the "
		"loop.  Watchdog: defaults (probe every 1000 ms, 2000 ms "
		"grace).  Per call the thread's CPU time and context "
		"switches were recorded too (getrusage(RUSAGE_THREAD)): "
		"*slept* is a voluntary switch (waiting on a lock or in a "
		"syscall), *preempted* an involuntary one (waiting for a "
		"CPU).\n\n"
		"*ran throughout*: no switch, and the wall clock within "
		"0.1 ms of the CPU time (a call without a switch that took "
		"longer lost the time to the hypervisor, see steal below).\n\n"
		"| public function | calls | slowest call | its CPU time, "
		"slept / preempted | slowest never preempted | slowest that "
		"ran throughout | most CPU time | calls that slept |\n"
		"|---|---|---|---|---|---|---|---|\n",
		STALL_S, DEADLINE_MS);
	double worst_all = 0, unpreempted_all = 0, ran_all = 0, noise = 0;
	const char *worst_fn = "";
	for (int f = 0; f < F_N; f++) {
		struct worst x = main_worst[f];
		for (int i = 0; i < 4; i++) {
			merge(&x, &w[i].worst[f]);
		}
		fprintf(md,
			"| `%s` | %u | %.2f ms | %.2f ms, %ld / %ld | %.2f ms | "
			"%.2f ms | %.2f ms | %u |\n",
			fn_name[f], x.calls, x.slowest.wall_ns / 1e6,
			x.slowest.cpu_ns / 1e6, x.slowest.vcsw,
			x.slowest.ivcsw, x.unpreempted_ns / 1e6,
			x.ran_ns / 1e6, x.cpu_ns / 1e6, x.slept);
		if (f == F_NONE) {
			noise = x.slowest.wall_ns / 1e6;
		} else if (x.slowest.wall_ns / 1e6 > worst_all) {
			worst_all = x.slowest.wall_ns / 1e6;
			worst_fn = fn_name[f];
		}
		if (f != F_NONE && x.ran_ns / 1e6 > ran_all) {
			ran_all = x.ran_ns / 1e6;
		}
		if (f != F_NONE && x.unpreempted_ns / 1e6 > unpreempted_all) {
			unpreempted_all = x.unpreempted_ns / 1e6;
		}
	}
	double replace_ms =
		t_restart ? (t_restart - t_freeze) / 1e6 : -1;
	fprintf(md,
		"\n| callbacks | value |\n|---|---|\n"
		"| requests (cancelled ones excluded) | %d |\n"
		"| without a callback | %d |\n"
		"| lateness past the deadline, p50 / p99 / max | %.1f / %.1f / "
		"%.1f ms |\n"
		"| watchdog replaced the resolver after | %.0f ms |\n"
		"| CPU time the hypervisor took (/proc/stat steal, all CPUs, "
		"during the stall) | %.0f ms |\n\n",
		counted + missing, missing, p50, p99, lmax, replace_ms, steal);
	bench_goal(goals, "stall: every public call < 5 ms", worst_all < 5,
		   "slowest %.2f ms (%s); never preempted %.2f ms; ran "
		   "throughout %.2f ms; no call at all %.2f ms; steal %.0f ms",
		   worst_all, worst_fn, unpreempted_all, ran_all, noise, steal);
	bench_goal(goals, "stall: every callback by its deadline + 20 ms",
		   missing == 0 && lmax <= 20, "max %.1f ms late, %d missing",
		   lmax, missing);
	bench_goal(goals, "stall: watchdog within interval + grace (3 s)",
		   replace_ms > 0 && replace_ms <= 3100, "%.0f ms",
		   replace_ms);
	fclose(md);
	fclose(goals);
	aname_ctx_free(ctx);
	ts_thaw(fz);
	ts_server_stop(nsd);
	free(late);
	return 0;
}
