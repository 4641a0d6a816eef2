/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_miss.c
 * \brief Miss path: resolutions per second for distinct cold targets,
 *        aname_resolve() (event-loop mode) against raw ub_resolve_async().
 *
 * A private nsd serves 20 000 names.  Every repetition resolves all of them
 * once through a fresh library context and once through a fresh libunbound
 * context (so every name is cold for both), keeping the same number of
 * requests in flight, in alternating order so that neither side always runs
 * on a warmer machine.  The library's overhead is the per-repetition ratio
 * of the two rates.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "aname.h"
#include "bench.h"

#define ZONE "bench.test."
#define NNAMES 20000
#define WINDOW 200

static char (*names)[32];

static void write_zone(FILE *f, void *arg)
{
	(void)arg;
	fprintf(f, "$ORIGIN " ZONE "\n$TTL 3600\n"
		   "@ IN SOA ns.bench.test. h.bench.test. 1 3600 600 86400 3600\n"
		   "@ IN NS ns\nns IN A 127.0.0.1\n");
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

/* Resolutions per second through libaname; the context is made before and
 * freed after the timed part. */
static double run_lib(int port, uint64_t *upstream)
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
	uint64_t t0 = bench_now_ns();
	while (r.done < NNAMES) {
		while (r.inflight < WINDOW && issued < NNAMES) {
			rc = aname_resolve(ctx, names[issued], ANAME_RRTYPE_A,
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
	double rate = NNAMES / ((double)(bench_now_ns() - t0) / 1e9);
	if (r.failed) {
		bench_die("libaname: %u of %u resolutions failed (first: %s)",
			  r.failed, NNAMES, aname_strerror(r.first_error));
	}
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, upstream);
	aname_ctx_free(ctx);
	return rate;
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

static double run_ub(int port)
{
	struct ub_ctx *ub = bench_ub_ctx(ZONE, port);
	run_t r = { 0 };
	unsigned issued = 0;
	uint64_t t0 = bench_now_ns();
	while (r.done < NNAMES) {
		while (r.inflight < WINDOW && issued < NNAMES) {
			if (ub_resolve_async(ub, names[issued], 1, 1, &r,
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
	double rate = NNAMES / ((double)(bench_now_ns() - t0) / 1e9);
	if (r.failed) {
		bench_die("libunbound: %u of %u resolutions failed (first %d)",
			  r.failed, NNAMES, r.first_error);
	}
	ub_ctx_delete(ub);
	return rate;
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
	uint64_t upstream = 0;
	for (unsigned rep = 0; rep <= reps; rep++) {
		double l, u;
		if (rep % 2) {
			u = run_ub(nsd.port);
			l = run_lib(nsd.port, &upstream);
		} else {
			l = run_lib(nsd.port, &upstream);
			u = run_ub(nsd.port);
		}
		fprintf(stderr, "bench-miss rep %u%s: libaname %.0f/s, "
				"libunbound %.0f/s, overhead %+.1f %%\n",
			rep, rep ? "" : " (warm-up)", l, u, (u / l - 1) * 100);
		if (rep > 0) {
			lib[rep - 1] = l;
			ub[rep - 1] = u;
			ovh[rep - 1] = (u / l - 1) * 100;
		}
	}
	bench_nsd_stop(&nsd);

	bench_stat_t sl = bench_stat(lib, reps), su = bench_stat(ub, reps);
	bench_stat_t so = bench_stat(ovh, reps);
	FILE *goals;
	FILE *md = bench_md_open("miss", &goals);
	char a[96];
	fprintf(md,
		"## 2. Miss path\n\n"
		"`make bench-miss` (runs `build/bench/bench_miss`). A private "
		"nsd serves %u names `m0..m%u.bench.test`; each repetition "
		"resolves every one of them (type A, all distinct, all cold: a "
		"fresh context per run) through libaname (`aname_resolve`, "
		"event-loop mode: poll `aname_fd` / `aname_process`) and "
		"through raw libunbound (`ub_resolve_async`, thread-mode ctx, "
		"poll `ub_fd` / `ub_process`), %u requests in flight each, "
		"in alternating order. 1 warm-up + %u repetitions; "
		"*median [min–max]*. Context creation is outside the timed "
		"part.\n\n"
		"| contender | resolutions/s |\n|---|---:|\n",
		NNAMES, NNAMES - 1, WINDOW, reps);
	fprintf(md, "| libaname `aname_resolve` | %s |\n",
		bench_fmt(a, sizeof(a), sl, 0));
	fprintf(md, "| raw libunbound `ub_resolve_async` | %s |\n\n",
		bench_fmt(a, sizeof(a), su, 0));
	fprintf(md,
		"Library overhead (libunbound rate / libaname rate − 1, per "
		"repetition): **%s %%**. Upstream resolutions counted by the "
		"library in the last run: %llu for %u names.\n\n",
		bench_fmt(a, sizeof(a), so, 1), (unsigned long long)upstream,
		NNAMES);
	bench_goal(goals, "miss-path overhead ≤ 10 % vs ub_resolve_async",
		   so.median <= 10, "%+.1f %% (median)", so.median);
	fclose(goals);
	fclose(md);
	free(lib);
	free(ub);
	free(ovh);
	free(names);
	return 0;
}
