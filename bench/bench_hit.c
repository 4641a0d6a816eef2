/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_hit.c
 * \brief Cache hit: aname_cache_lookup() + aname_synth_wire() against a
 *        cached ub_resolve() and against a bare hash-table lookup, on one
 *        thread and on every core.
 *
 * 1024 targets are served by a private nsd and cached once; then every
 * repetition runs each contender, the single-thread ones interleaved in
 * short chunks on one CPU (cpu_of_rep(), interleaved_main()), so drift on
 * a shared machine hits all of them alike and the ratios stay meaningful.
 * A library operation is what a synchronous host does per query: look the
 * target up (FETCH|STALE, the documented fast path), write the sibling A
 * RRset in wire format, drop the reference.  The floor is an
 * open-addressing table keyed by the lower-cased name and type: what the
 * lookup could cost at the very least.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#include "aname.h"
#include "bench.h"
#include "hit_set.h"

#define LIB_OPS 1000000u
#define UB_OPS 1000u
#define HIT_FLAGS (ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE)

/* ------------------------------------------------------------ workers */

enum kind { K_LIB, K_LIB_HOT, K_LIB_LOOKUP, K_LIB_WIRE, K_LIB_SYNTH, K_FLOOR,
	    K_UB_SYNC };

typedef struct {
	enum kind kind;
	unsigned idx;
	unsigned ops;
	aname_ctx_t *ctx;
	struct ub_ctx *ub;
	pthread_barrier_t *start;
	uint64_t sink;
	uint64_t bad;
} worker_t;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* w->ops operations of w->kind; the ones that fail count in w->bad. */
static void do_ops(worker_t *w)
{
	uint8_t buf[512];
	unsigned j = w->idx * 97;
	for (unsigned i = 0; i < w->ops; i++, j++) {
		const char *name = names[j & (NNAMES - 1)];
		aname_result_t *res;
		size_t len = 0;
		switch (w->kind) {
		case K_LIB_HOT:
			name = names[0];
			/* fall through */
		case K_LIB:
		case K_LIB_WIRE: {
			unsigned k = j & (NNAMES - 1);
			int rc = w->kind == K_LIB_WIRE
					 ? aname_cache_lookup_wire(
						   w->ctx, wnames[k], wlens[k],
						   ANAME_RRTYPE_A, HIT_FLAGS, &res)
					 : aname_cache_lookup(w->ctx, name,
							      ANAME_RRTYPE_A,
							      HIT_FLAGS, &res);
			if (rc != ANAME_OK) {
				w->bad++;
				break;
			}
			if (aname_synth_wire(res, ANAME_RRTYPE_A, owner,
					     owner_len, 300, buf, sizeof(buf),
					     &len) != 1) {
				w->bad++;
			}
			w->sink += len + buf[len - 1];
			aname_result_unref(res);
			break;
		}
		case K_LIB_SYNTH: {
			/* The one-call hit path: no reference, one clock read. */
			unsigned k = j & (NNAMES - 1);
			unsigned info;
			if (aname_cache_synth_wire(w->ctx, wnames[k], wlens[k],
						   ANAME_RRTYPE_A, HIT_FLAGS,
						   owner, owner_len, 300, buf,
						   sizeof(buf), &len,
						   &info) != 1) {
				w->bad++;
				break;
			}
			w->sink += len + buf[len - 1] + info;
			break;
		}
		case K_LIB_LOOKUP:
			if (aname_cache_lookup(w->ctx, name, ANAME_RRTYPE_A,
					       ANAME_LOOKUP_FETCH |
						       ANAME_LOOKUP_STALE,
					       &res) != ANAME_OK) {
				w->bad++;
				break;
			}
			w->sink += (uintptr_t)res & 0xff;
			aname_result_unref(res);
			break;
		case K_FLOOR: {
			const floor_slot_t *s = floor_lookup(name,
							     ANAME_RRTYPE_A);
			if (s == NULL) {
				w->bad++;
			} else {
				w->sink += s->addr[3];
			}
			break;
		}
		case K_UB_SYNC: {
			struct ub_result *r = NULL;
			if (ub_resolve(w->ub, names[0], 1, 1, &r) != 0 ||
			    !r->havedata) {
				w->bad++;
			}
			ub_resolve_free(r);
			break;
		}
		}
	}
}

static void *worker(void *p)
{
	worker_t *w = p;
	pthread_barrier_wait(w->start);
	do_ops(w);
	return NULL;
}

/* Run \a nthreads workers of one kind, wherever the kernel puts them;
 * return wall-clock ns per operation, counting every thread's operations
 * (aggregate throughput). */
static double run(enum kind kind, unsigned nthreads, unsigned ops,
		  aname_ctx_t *ctx, struct ub_ctx *ub)
{
	pthread_t th[64];
	worker_t w[64];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		w[i] = (worker_t){ .kind = kind, .idx = i, .ops = ops,
				   .ctx = ctx, .ub = ub, .start = &start };
		if (pthread_create(&th[i], NULL, worker, &w[i]) != 0) {
			bench_die("pthread_create failed");
		}
	}
	pthread_barrier_wait(&start);
	uint64_t t0 = bench_now_ns();
	uint64_t bad = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	uint64_t t1 = bench_now_ns();
	pthread_barrier_destroy(&start);
	if (bad) {
		bench_die("kind %d: %llu operations did not hit", (int)kind,
			  (unsigned long long)bad);
	}
	return (double)(t1 - t0) / ((double)ops * nthreads);
}

/* The single-thread contenders of a repetition all run on one CPU, the
 * n-th this process may use, n = rep mod their count.  Unpinned, each run's
 * new thread went to whichever vCPU the kernel chose, and on a shared VM
 * two vCPUs can run at different speeds for seconds at a time (the floor
 * took 21-25 ns on one and 33-34 ns on the other in consecutive runs): a
 * ratio then compared one contender on the fast vCPU with another on the
 * slow one, in either direction (bench/notes.md).  Every contender gets the
 * same CPU, and the repetitions go round the CPUs. */
static void cpu_of_rep(unsigned rep, cpu_set_t *one)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
		bench_die("sched_getaffinity failed");
	}
	unsigned n = (unsigned)CPU_COUNT(&allowed), k = rep % n;
	CPU_ZERO(one);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &allowed) && k-- == 0) {
			CPU_SET(cpu, one);
			return;
		}
	}
}

/* The single-thread library contenders and the floor, interleaved.  A
 * repetition used to run each for LIB_OPS operations in one go (about
 * 50 ms), one after another.  This VM's vCPUs change speed within
 * seconds, so a repetition's ratio set the library at one speed against
 * the floor at another: in 10 runs one morning the per-repetition
 * aname_cache_synth_wire / floor ratios spanned 1.58-3.45 and the medians
 * 2.32-2.88.  Now one pinned thread runs IL_ROUNDS rounds of CHUNK_OPS
 * operations per contender: a chunk of the floor, every library
 * contender (a different one first each round), the floor again.  Each
 * ratio is taken per round, against the mean of that round's two floor
 * chunks, so drift within a round moves both sides alike; the median over
 * rounds is the repetition's.  12 interleaved runs alternating with
 * those gave medians of 2.13-2.41, each run's span under 0.35.  Chunks
 * of 10 000 or 200 000 operations, or an untimed chunk before each timed
 * one, gave the same within that spread: the interleaving favours
 * neither side (bench/notes.md).  The loops are the same (do_ops()), and as many
 * operations: CHUNK_OPS x IL_ROUNDS = LIB_OPS per contender. */
enum { IL_LIB, IL_LOOK, IL_WIRE, IL_SYNTH, IL_N };
#define CHUNK_OPS 50000u
#define IL_ROUNDS (LIB_OPS / CHUNK_OPS)

typedef struct {
	aname_ctx_t *ctx;
	double ns[IL_N];       /* median over rounds, ns per operation */
	double floor_ns;       /* the same for the floor */
	double vs_floor[IL_N]; /* median over rounds of contender / floor */
	double cpu_ratio;      /* IL_LIB / floor, thread CPU per operation */
} interleaved_t;

static double chunk(enum kind kind, aname_ctx_t *ctx, uint64_t *cpu_ns)
{
	worker_t w = { .kind = kind, .ops = CHUNK_OPS, .ctx = ctx };
	uint64_t cpu0 = thread_cpu_ns();
	uint64_t t0 = bench_now_ns();
	do_ops(&w);
	uint64_t t1 = bench_now_ns();
	*cpu_ns += thread_cpu_ns() - cpu0;
	if (w.bad) {
		bench_die("kind %d: %llu operations did not hit", (int)kind,
			  (unsigned long long)w.bad);
	}
	return (double)(t1 - t0) / CHUNK_OPS;
}

static double median_of(const double *v, size_t n)
{
	double tmp[IL_ROUNDS];
	memcpy(tmp, v, n * sizeof(*v));
	return bench_stat(tmp, n).median;
}

static void *interleaved_main(void *p)
{
	static const enum kind kinds[IL_N] = {
		[IL_LIB] = K_LIB, [IL_LOOK] = K_LIB_LOOKUP,
		[IL_WIRE] = K_LIB_WIRE, [IL_SYNTH] = K_LIB_SYNTH,
	};
	interleaved_t *il = p;
	double ns[IL_N][IL_ROUNDS], ratio[IL_N][IL_ROUNDS], fl[IL_ROUNDS];
	uint64_t cpu[IL_N] = { 0 }, cpu_floor = 0;
	for (unsigned r = 0; r < IL_ROUNDS; r++) {
		double before = chunk(K_FLOOR, il->ctx, &cpu_floor);
		for (unsigned i = 0; i < IL_N; i++) {
			unsigned k = (i + r) % IL_N;
			ns[k][r] = chunk(kinds[k], il->ctx, &cpu[k]);
		}
		fl[r] = (before + chunk(K_FLOOR, il->ctx, &cpu_floor)) / 2;
		for (unsigned i = 0; i < IL_N; i++) {
			ratio[i][r] = ns[i][r] / fl[r];
		}
	}
	for (unsigned i = 0; i < IL_N; i++) {
		il->ns[i] = median_of(ns[i], IL_ROUNDS);
		il->vs_floor[i] = median_of(ratio[i], IL_ROUNDS);
	}
	il->floor_ns = median_of(fl, IL_ROUNDS);
	/* The floor ran two chunks a round. */
	il->cpu_ratio = 2.0 * (double)cpu[IL_LIB] / (double)cpu_floor;
	return NULL;
}

static void run_interleaved(interleaved_t *il, const cpu_set_t *pin)
{
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (pthread_attr_setaffinity_np(&attr, sizeof(*pin), pin) != 0 ||
	    pthread_create(&th, &attr, interleaved_main, il) != 0) {
		bench_die("cannot start the pinned thread");
	}
	pthread_attr_destroy(&attr);
	pthread_join(th, NULL);
}

/* What an event-loop host does without libaname: one ub_resolve_async
 * answered from libunbound's cache, round trip through the worker thread. */
static void ub_cb(void *arg, int err, struct ub_result *r)
{
	*(int *)arg = err == 0 && r && r->havedata ? 1 : -1;
	ub_resolve_free(r);
}

static double run_ub_async(struct ub_ctx *ub, unsigned ops)
{
	uint64_t t0 = bench_now_ns();
	for (unsigned i = 0; i < ops; i++) {
		int done = 0;
		if (ub_resolve_async(ub, names[0], 1, 1, &done, ub_cb,
				     NULL) != 0) {
			bench_die("ub_resolve_async failed");
		}
		while (done == 0) {
			struct pollfd p = { ub_fd(ub), POLLIN, 0 };
			if (poll(&p, 1, 5000) <= 0) {
				bench_die("ub_resolve_async: no answer in 5 s");
			}
			ub_process(ub);
		}
		if (done < 0) {
			bench_die("ub_resolve_async: cached name failed");
		}
	}
	return (double)(bench_now_ns() - t0) / ops;
}

/* ------------------------------------------------------------ setup */

static int pending;

static void warm_cb(void *arg, int status, const aname_result_t *res)
{
	(void)arg;
	pending--;
	if (status != ANAME_OK || aname_result_count(res, ANAME_RRTYPE_A) != 1) {
		bench_die("warm-up resolution failed: %s",
			  aname_strerror(status));
	}
}

static aname_ctx_t *warm_ctx(int port)
{
	aname_config_t *cfg = bench_aname_config(ZONE, port);
	aname_ctx_t *ctx;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		bench_die("aname_ctx_new: %s", aname_strerror(rc));
	}
	for (int i = 0; i < NNAMES; i++) {
		rc = aname_resolve(ctx, names[i], ANAME_RRTYPE_A, 5000,
				   warm_cb, NULL, NULL);
		if (rc != ANAME_OK) {
			bench_die("aname_resolve: %s", aname_strerror(rc));
		}
		pending++;
		/* Stay below the default limit of concurrent fetches. */
		if (pending >= 128 && aname_wait(ctx, 10000) != ANAME_OK) {
			bench_die("warm-up did not finish in 10 s");
		}
	}
	if (aname_wait(ctx, 10000) != ANAME_OK || pending != 0) {
		bench_die("warm-up did not finish in 10 s");
	}
	return ctx;
}

int main(void)
{
	unsigned reps = bench_reps();
	unsigned ncpu = bench_ncpu();
	if (ncpu > 64) {
		ncpu = 64;
	}
	hit_set_init(aname_name_to_wire);

	bench_nsd_t nsd;
	bench_nsd_start(&nsd, ZONE, write_zone, NULL);
	aname_ctx_t *ctx = warm_ctx(nsd.port);
	struct ub_ctx *ub = bench_ub_ctx(ZONE, nsd.port);
	struct ub_result *r = NULL;
	if (ub_resolve(ub, names[0], 1, 1, &r) != 0 || !r->havedata) {
		bench_die("ub_resolve %s failed", names[0]);
	}
	ub_resolve_free(r);

	enum { LIB1, LIBN, HOTN, LOOK1, WIRE1, SYNTH1, SYNTHN, FLOOR1, FLOORN,
	       UB1, UBN, UBA, NCOL };
	static const char *label[NCOL] = {
		[LIB1] = "lib 1T",  [LIBN] = "lib NT", [HOTN] = "hot NT",
		[LOOK1] = "lookup 1T", [WIRE1] = "wire 1T",
		[SYNTH1] = "synth 1T", [SYNTHN] = "synth NT",
		[FLOOR1] = "floor 1T",
		[FLOORN] = "floor NT", [UB1] = "ub sync 1T",
		[UBN] = "ub sync NT", [UBA] = "ub async 1T",
	};
	double *v[NCOL];
	for (int c = 0; c < NCOL; c++) {
		v[c] = calloc(reps, sizeof(double));
	}
	double *r_ub = calloc(reps, sizeof(double));
	double *r_floor = calloc(reps, sizeof(double));
	double *r_look = calloc(reps, sizeof(double));
	double *r_wire = calloc(reps, sizeof(double));
	double *r_synth = calloc(reps, sizeof(double));
	double *s_synth = calloc(reps, sizeof(double));
	double *r_cpu = calloc(reps, sizeof(double));
	double *s_rel = calloc(reps, sizeof(double));
	double *s_lib = calloc(reps, sizeof(double));
	double *s_hot = calloc(reps, sizeof(double));
	double *s_floor = calloc(reps, sizeof(double));
	double *s_ub = calloc(reps, sizeof(double));

	/* Repetition 0 is the warm-up and is not recorded. */
	for (unsigned rep = 0; rep <= reps; rep++) {
		double x[NCOL];
		cpu_set_t one;
		cpu_of_rep(rep, &one);
		interleaved_t il = { .ctx = ctx };
		run_interleaved(&il, &one);
		x[LIB1] = il.ns[IL_LIB];
		x[LOOK1] = il.ns[IL_LOOK];
		x[WIRE1] = il.ns[IL_WIRE];
		x[SYNTH1] = il.ns[IL_SYNTH];
		x[FLOOR1] = il.floor_ns;
		x[LIBN] = run(K_LIB, ncpu, LIB_OPS, ctx, NULL);
		x[HOTN] = run(K_LIB_HOT, ncpu, LIB_OPS, ctx, NULL);
		x[SYNTHN] = run(K_LIB_SYNTH, ncpu, LIB_OPS, ctx, NULL);
		x[FLOORN] = run(K_FLOOR, ncpu, LIB_OPS, ctx, NULL);
		x[UB1] = run(K_UB_SYNC, 1, UB_OPS, NULL, ub);
		x[UBN] = run(K_UB_SYNC, ncpu, UB_OPS / ncpu, NULL, ub);
		x[UBA] = run_ub_async(ub, UB_OPS);
		fprintf(stderr, "bench-hit rep %u%s:", rep,
			rep ? "" : " (warm-up)");
		for (int c = 0; c < NCOL; c++) {
			fprintf(stderr, " %s=%.1f", label[c], x[c]);
		}
		fputc('\n', stderr);
		if (rep == 0) {
			continue;
		}
		for (int c = 0; c < NCOL; c++) {
			v[c][rep - 1] = x[c];
		}
		r_ub[rep - 1] = x[UB1] / x[LIB1];
		r_floor[rep - 1] = il.vs_floor[IL_LIB];
		r_look[rep - 1] = il.vs_floor[IL_LOOK];
		r_wire[rep - 1] = il.vs_floor[IL_WIRE];
		r_synth[rep - 1] = il.vs_floor[IL_SYNTH];
		s_synth[rep - 1] = x[SYNTH1] / x[SYNTHN];
		r_cpu[rep - 1] = il.cpu_ratio;
		s_rel[rep - 1] = (x[LIB1] / x[LIBN]) / (x[FLOOR1] / x[FLOORN]);
		s_lib[rep - 1] = x[LIB1] / x[LIBN];
		s_hot[rep - 1] = x[LIB1] / x[HOTN];
		s_floor[rep - 1] = x[FLOOR1] / x[FLOORN];
		s_ub[rep - 1] = x[UB1] / x[UBN];
	}

	uint64_t upstream = 0;
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &upstream);

	bench_stat_t st[NCOL];
	for (int c = 0; c < NCOL; c++) {
		st[c] = bench_stat(v[c], reps);
	}
	bench_stat_t rub = bench_stat(r_ub, reps);
	bench_stat_t rfl = bench_stat(r_floor, reps);
	bench_stat_t rlk = bench_stat(r_look, reps);
	bench_stat_t rwi = bench_stat(r_wire, reps);
	bench_stat_t rsy = bench_stat(r_synth, reps);
	bench_stat_t ssy = bench_stat(s_synth, reps);
	bench_stat_t rcpu = bench_stat(r_cpu, reps);
	bench_stat_t srel = bench_stat(s_rel, reps);
	bench_stat_t slib = bench_stat(s_lib, reps);
	bench_stat_t shot = bench_stat(s_hot, reps);
	bench_stat_t sfl = bench_stat(s_floor, reps);
	bench_stat_t sub = bench_stat(s_ub, reps);

	FILE *goals;
	FILE *md = bench_md_open("hit", &goals);
	char a[96], b[96], c[96], d[96], e[96], f[96];
	fprintf(md,
		"## 1. Cache hit\n\n"
		"`make bench-hit` (runs `build/bench/bench_hit`). %u targets "
		"`w0..w%u.bench.test` are resolved once from a private nsd "
		"and cached (TTL 3600); then each repetition runs every "
		"contender. The single-thread library contenders and the "
		"floor run interleaved on one pinned CPU (a different one "
		"each repetition): %u rounds of %u operations each, the floor "
		"before and after every round, each ratio to the floor taken "
		"per round and its median over rounds being the "
		"repetition's, so that a vCPU changing speed moves both sides "
		"of a ratio alike. Then the N-thread runs, %u operations per "
		"thread; libunbound: %u. 1 warm-up + %u repetitions; cells "
		"are *median [min–max]* over repetitions of ns per operation "
		"(1 thread: the median over rounds; N threads: wall time / "
		"all threads' operations, i.e. aggregate throughput). "
		"N = %u threads (all online CPUs).\n\n",
		NNAMES, NNAMES - 1, IL_ROUNDS, CHUNK_OPS, LIB_OPS, UB_OPS,
		reps, ncpu);
	fprintf(md,
		"| operation | 1 thread, ns/op | %u threads, ns/op (aggregate) | scaling (×) |\n"
		"|---|---:|---:|---:|\n",
		ncpu);
	fprintf(md, "| libaname `aname_cache_lookup` + `aname_synth_wire` + unref, %u names | %s | %s | %s |\n",
		NNAMES, bench_fmt(a, sizeof(a), st[LIB1], 1),
		bench_fmt(b, sizeof(b), st[LIBN], 1),
		bench_fmt(c, sizeof(c), slib, 2));
	fprintf(md, "| same, every thread on one hot name | | %s | %s |\n",
		bench_fmt(b, sizeof(b), st[HOTN], 1),
		bench_fmt(c, sizeof(c), shot, 2));
	fprintf(md, "| libaname `aname_cache_lookup` + unref only | %s | | |\n",
		bench_fmt(a, sizeof(a), st[LOOK1], 1));
	fprintf(md, "| libaname `aname_cache_lookup_wire` (target in wire form) + `aname_synth_wire` + unref | %s | | |\n",
		bench_fmt(a, sizeof(a), st[WIRE1], 1));
	fprintf(md, "| libaname `aname_cache_synth_wire` (the same in one call: no reference, one clock read) | %s | %s | %s |\n",
		bench_fmt(a, sizeof(a), st[SYNTH1], 1),
		bench_fmt(b, sizeof(b), st[SYNTHN], 1),
		bench_fmt(c, sizeof(c), ssy, 2));
	fprintf(md, "| floor: open-addressing hash lookup (lower-case + FNV-1a + probe) | %s | %s | %s |\n",
		bench_fmt(a, sizeof(a), st[FLOOR1], 1),
		bench_fmt(b, sizeof(b), st[FLOORN], 1),
		bench_fmt(c, sizeof(c), sfl, 2));
	fprintf(md, "| raw libunbound: cached sync `ub_resolve` (thread-mode ctx) | %s | %s | %s |\n",
		bench_fmt(a, sizeof(a), st[UB1], 0),
		bench_fmt(b, sizeof(b), st[UBN], 0),
		bench_fmt(c, sizeof(c), sub, 2));
	fprintf(md, "| raw libunbound: cached `ub_resolve_async` → poll → `ub_process` round trip | %s | | |\n\n",
		bench_fmt(a, sizeof(a), st[UBA], 0));
	fprintf(md,
		"Ratios (per repetition, then median [min–max]):\n\n"
		"* cached `ub_resolve` / libaname hit: **%s×** (cached `ub_resolve_async` round trip / libaname hit: %.0f×)\n"
		"* libaname hit (lookup + synth) / floor: **%s×** by wall clock, %s× by thread CPU time (leaves out time spent waiting for a core); lookup only / floor: %s×; wire-form lookup + synth / floor: **%s×**; `aname_cache_synth_wire` / floor: **%s×**\n",
		bench_fmt(a, sizeof(a), rub, 0), st[UBA].median / st[LIB1].median,
		bench_fmt(b, sizeof(b), rfl, 2), bench_fmt(c, sizeof(c), rcpu, 2),
		bench_fmt(d, sizeof(d), rlk, 2), bench_fmt(e, sizeof(e), rwi, 2),
		bench_fmt(f, sizeof(f), rsy, 2));
	fprintf(md,
		"* scaling 1 → %u threads (aggregate throughput ratio): libaname **%s×**, hot name %s×, floor %s×, `ub_resolve` %s×\n"
		"* libaname scaling relative to the floor's in the same repetition: **%s** (the floor shares nothing between threads, so its scaling is what the machine gave this run)\n"
		"* upstream queries during the whole hit benchmark: %llu (the %u warm-up resolutions; hits send none)\n\n",
		ncpu, bench_fmt(a, sizeof(a), slib, 2),
		bench_fmt(b, sizeof(b), shot, 2), bench_fmt(c, sizeof(c), sfl, 2),
		bench_fmt(d, sizeof(d), sub, 2), bench_fmt(e, sizeof(e), srel, 2),
		(unsigned long long)upstream, NNAMES);

	bench_goal(goals, "hit ≥ 50× faster than cached ub_resolve",
		   rub.median >= 50, "%.0f× (median)", rub.median);
	bench_goal(goals, "hit within 3× of a bare hash lookup",
		   rfl.median <= 3, "%.2f× wall clock, %.2f× thread CPU time (medians)",
		   rfl.median, rcpu.median);
	/* Issue #12 item 5: the wire-form hit path, as two calls and as
	 * one. */
	bench_goal(goals, "wire-form hit + synthesis (lookup_wire + synth_wire + unref) within 2.5× of a bare hash lookup",
		   rwi.median <= 2.5, "%.2f× (median)", rwi.median);
	bench_goal(goals, "aname_cache_synth_wire hit within 2.5× of a bare hash lookup",
		   rsy.median <= 2.5, "%.2f× (median)", rsy.median);
	/* Near-linear: at least 80 % of what the machine gave a workload that
	 * shares nothing (the floor), in the same repetitions.  The absolute
	 * numbers go next to it, so a busy machine is visible. */
	bench_goal(goals, "near-linear hit scaling across cores (≥ 0.8 × the floor's scaling)",
		   srel.median >= 0.8,
		   "%.2f× on %u threads vs floor %.2f× (relative %.2f, medians)",
		   slib.median, ncpu, sfl.median, srel.median);
	fclose(goals);
	fclose(md);

	ub_ctx_delete(ub);
	aname_ctx_free(ctx);
	bench_nsd_stop(&nsd);
	for (int i = 0; i < NCOL; i++) {
		free(v[i]);
	}
	free(r_ub);
	free(r_floor);
	free(r_look);
	free(r_wire);
	free(r_synth);
	free(s_synth);
	free(r_cpu);
	free(s_rel);
	free(s_lib);
	free(s_hot);
	free(s_floor);
	free(s_ub);
	return 0;
}
