/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_miss.c
 * \brief Miss path: resolutions per second for distinct cold targets,
 *        aname_resolve() (event-loop mode) against raw ub_resolve_async().
 *
 * A private nsd serves 20 000 names.  Every repetition resolves all of them
 * once through libaname and once through raw libunbound, keeping the same
 * number of requests in flight.  To keep a noisy machine from favouring one
 * side, a repetition is cut into segments of 5000 names, each resolved by
 * both contenders back to back (ABBA order) through fresh contexts, so every
 * name is cold for both.  The library's overhead is the per-repetition
 * ratio of the two rates; the process CPU time per resolution (this thread
 * plus libunbound's) is reported too, as it hardly depends on the load.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unbound.h>

#include "aname.h"
#include "bench.h"

#define ZONE "bench.test."
#define NNAMES 20000
#define WINDOW 200
#define SEGMENT 5000

static char (*names)[32];

static void write_zone(FILE *f, void *arg)
{
	(void)arg;
	bench_zone_header(f, ZONE);
	for (int i = 0; i < NNAMES; i++) {
		fprintf(f, "m%d IN A 198.51.100.%d\n", i, i % 250 + 1);
	}
}

typedef struct {
	unsigned inflight;
	unsigned done;
	unsigned ok;
	unsigned failed;
	int first_error;
} run_t;

static void lib_cb(void *arg, int status, const aname_result_t *res)
{
	run_t *r = arg;
	r->inflight--;
	r->done++;
	if (status == ANAME_OK && aname_result_count(res, ANAME_RRTYPE_A) == 1) {
		r->ok++;
	} else {
		r->failed++;
		r->first_error = r->first_error ? r->first_error : status;
	}
}

/* Wall and CPU time of the timed part of one segment. */
typedef struct {
	double wall_s, cpu_s;
} cost_t;

static double cpu_now_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		       1e6;
}

static cost_t cost_since(uint64_t t0, double c0)
{
	return (cost_t){ (double)(bench_now_ns() - t0) / 1e9,
			 cpu_now_s() - c0 };
}

/* Resolve names[first, first + SEGMENT) through libaname; the context is
 * made before and freed after the timed part. */
static cost_t run_lib(int port, unsigned first, uint64_t *upstream)
{
	aname_config_t *cfg = bench_aname_config(ZONE, port);
	aname_ctx_t *ctx;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		bench_die("aname_ctx_new: %s", aname_strerror(rc));
	}
	run_t r = { 0 };
	unsigned issued = 0;
	double c0 = cpu_now_s();
	uint64_t t0 = bench_now_ns();
	while (r.done < SEGMENT) {
		while (r.inflight < WINDOW && issued < SEGMENT) {
			rc = aname_resolve(ctx, names[first + issued],
					   ANAME_RRTYPE_A,
					   5000, lib_cb, &r, NULL);
			if (rc != ANAME_OK) {
				bench_die("aname_resolve: %s",
					  aname_strerror(rc));
			}
			issued++;
			r.inflight++;
		}
		struct pollfd p = { aname_fd(ctx), POLLIN, 0 };
		int to = aname_timeout_ms(ctx);
		poll(&p, 1, to < 0 || to > 1000 ? 1000 : to);
		aname_process(ctx);
	}
	cost_t c = cost_since(t0, c0);
	if (r.failed) {
		bench_die("libaname: %u of %u resolutions failed (first: %s)",
			  r.failed, SEGMENT, aname_strerror(r.first_error));
	}
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, upstream);
	aname_ctx_free(ctx);
	return c;
}

static void ub_cb(void *arg, int err, struct ub_result *res)
{
	run_t *r = arg;
	r->inflight--;
	r->done++;
	if (err == 0 && res && res->havedata && res->data[0] && !res->data[1]) {
		r->ok++;
	} else {
		r->failed++;
		r->first_error = err ? err : (res ? res->rcode : -1);
	}
	ub_resolve_free(res);
}

static cost_t run_ub(int port, unsigned first)
{
	struct ub_ctx *ub = bench_ub_ctx(ZONE, port);
	run_t r = { 0 };
	unsigned issued = 0;
	double c0 = cpu_now_s();
	uint64_t t0 = bench_now_ns();
	while (r.done < SEGMENT) {
		while (r.inflight < WINDOW && issued < SEGMENT) {
			if (ub_resolve_async(ub, names[first + issued], 1, 1, &r,
					     ub_cb, NULL) != 0) {
				bench_die("ub_resolve_async failed");
			}
			issued++;
			r.inflight++;
		}
		struct pollfd p = { ub_fd(ub), POLLIN, 0 };
		poll(&p, 1, 1000);
		ub_process(ub);
	}
	cost_t c = cost_since(t0, c0);
	if (r.failed) {
		bench_die("libunbound: %u of %u resolutions failed (first %d)",
			  r.failed, SEGMENT, r.first_error);
	}
	ub_ctx_delete(ub);
	return c;
}

int main(void)
{
	unsigned reps = bench_reps();
	names = calloc(NNAMES, sizeof(*names));
	for (int i = 0; i < NNAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "m%d." ZONE, i);
	}
	bench_nsd_t nsd;
	bench_nsd_start(&nsd, ZONE, write_zone, NULL);

	double *lib = calloc(reps, sizeof(double));
	double *ub = calloc(reps, sizeof(double));
	double *ovh = calloc(reps, sizeof(double));
	double *lcpu = calloc(reps, sizeof(double));
	double *ucpu = calloc(reps, sizeof(double));
	double *covh = calloc(reps, sizeof(double));
	uint64_t upstream = 0;
	for (unsigned rep = 0; rep <= reps; rep++) {
		cost_t l = { 0, 0 }, u = { 0, 0 }, x;
		for (unsigned seg = 0; seg < NNAMES / SEGMENT; seg++) {
			unsigned first = seg * SEGMENT;
			/* ABBA: lib first in even segments, libunbound first in
			 * odd ones. */
			for (int k = 0; k < 2; k++) {
				if ((seg + (unsigned)k) % 2 == 0) {
					x = run_lib(nsd.port, first, &upstream);
					l.wall_s += x.wall_s;
					l.cpu_s += x.cpu_s;
				} else {
					x = run_ub(nsd.port, first);
					u.wall_s += x.wall_s;
					u.cpu_s += x.cpu_s;
				}
			}
		}
		double lr = NNAMES / l.wall_s, ur = NNAMES / u.wall_s;
		double lc = l.cpu_s / NNAMES * 1e6, uc = u.cpu_s / NNAMES * 1e6;
		fprintf(stderr,
			"bench-miss rep %u%s: libaname %.0f/s %.1f us CPU, "
			"libunbound %.0f/s %.1f us CPU, overhead %+.1f %% "
			"(CPU %+.1f %%)\n",
			rep, rep ? "" : " (warm-up)", lr, lc, ur, uc,
			(ur / lr - 1) * 100, (lc / uc - 1) * 100);
		if (rep > 0) {
			lib[rep - 1] = lr;
			ub[rep - 1] = ur;
			ovh[rep - 1] = (ur / lr - 1) * 100;
			lcpu[rep - 1] = lc;
			ucpu[rep - 1] = uc;
			covh[rep - 1] = (lc / uc - 1) * 100;
		}
	}
	bench_nsd_stop(&nsd);

	bench_stat_t sl = bench_stat(lib, reps), su = bench_stat(ub, reps);
	bench_stat_t so = bench_stat(ovh, reps);
	bench_stat_t slc = bench_stat(lcpu, reps), suc = bench_stat(ucpu, reps);
	bench_stat_t sco = bench_stat(covh, reps);
	FILE *goals;
	FILE *md = bench_md_open("miss", &goals);
	char a[96], b[96];
	fprintf(md,
		"## 2. Miss path\n\n"
		"`make bench-miss` (runs `build/bench/bench_miss`). A private "
		"nsd serves %u names `m0..m%u.bench.test`; each repetition "
		"resolves every one of them (type A, all distinct) through "
		"libaname (`aname_resolve`, event-loop mode: poll `aname_fd` / "
		"`aname_process`) and through raw libunbound "
		"(`ub_resolve_async`, thread-mode ctx, poll `ub_fd` / "
		"`ub_process`), %u requests in flight each. A repetition is "
		"cut into segments of %u names that both contenders resolve "
		"back to back in ABBA order, each through a fresh context, so "
		"every name is cold for both and neither always runs on the "
		"quieter moment. Context creation is outside the timed part. "
		"CPU = user + system time of the whole process (this thread "
		"and libunbound's) per resolution. 1 warm-up + %u "
		"repetitions; *median [min–max]*.\n\n"
		"| contender | resolutions/s | CPU µs/resolution |\n"
		"|---|---:|---:|\n",
		NNAMES, NNAMES - 1, WINDOW, SEGMENT, reps);
	fprintf(md, "| libaname `aname_resolve` | %s | %s |\n",
		bench_fmt(a, sizeof(a), sl, 0), bench_fmt(b, sizeof(b), slc, 1));
	fprintf(md, "| raw libunbound `ub_resolve_async` | %s | %s |\n\n",
		bench_fmt(a, sizeof(a), su, 0), bench_fmt(b, sizeof(b), suc, 1));
	fprintf(md,
		"Library overhead (libunbound rate / libaname rate − 1, per "
		"repetition): **%s %%**; in CPU time per resolution: %s %%. "
		"Upstream resolutions counted by the library in the last "
		"segment: %llu for %u names.\n\n",
		bench_fmt(a, sizeof(a), so, 1), bench_fmt(b, sizeof(b), sco, 1),
		(unsigned long long)upstream, SEGMENT);
	bench_goal(goals, "miss-path overhead ≤ 10 % vs ub_resolve_async",
		   so.median <= 10, "%+.1f %% throughput, %+.1f %% CPU (medians)",
		   so.median, sco.median);
	fclose(goals);
	fclose(md);
	free(lib);
	free(ub);
	free(ovh);
	free(lcpu);
	free(ucpu);
	free(covh);
	free(names);
	return 0;
}
