/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_deadline.c
 * \brief Deadline precision: against an upstream that reads and never
 *        answers, how late (or early) does each callback fire?
 *
 * 1000 requests for distinct targets, each with a 300 ms deadline, go to a
 * black hole.  Four ways of driving them: event-loop mode (this program's
 * poll loop honouring aname_timeout_ms()) and thread mode (the library's
 * own thread), each with all 1000 submitted at once (burst) and with one
 * per millisecond (paced).  Lateness is callback time minus (the time taken
 * just *before* aname_resolve() + 300 ms): the library's own deadline can
 * only be later than that reference, so a negative value is a callback that
 * is certainly early, and positive values overstate lateness by at most the
 * duration of one aname_resolve() call.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aname.h"
#include "bench.h"

#define ZONE "bench.test."
#define NREQ 1000
#define DEADLINE_MS 300

/* ------------------------------------------------------------ black hole */

typedef struct {
	int fd, port;
	atomic_int stop;
	atomic_ulong packets;
	pthread_t th;
} hole_t;

static void *hole_main(void *arg)
{
	hole_t *h = arg;
	uint8_t buf[4096];
	while (!atomic_load(&h->stop)) {
		struct pollfd p = { h->fd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0 && recv(h->fd, buf, sizeof(buf), 0) > 0) {
			atomic_fetch_add(&h->packets, 1);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ requests */

typedef struct {
	uint64_t submit_ns[NREQ];
	_Atomic uint64_t cb_ns[NREQ];
	atomic_int status[NREQ];
	atomic_uint done;
} run_t;

typedef struct {
	run_t *run;
	unsigned i;
} slot_t;

static slot_t slots[NREQ];

static void cb(void *arg, int status, const aname_result_t *res)
{
	(void)res;
	slot_t *s = arg;
	atomic_store(&s->run->cb_ns[s->i], bench_now_ns());
	atomic_store(&s->run->status[s->i], status);
	atomic_fetch_add(&s->run->done, 1);
}

static aname_ctx_t *make_ctx(int port, int thread)
{
	aname_config_t *cfg = bench_aname_config(ZONE, port);
	/* 1000 distinct targets at once: allow them all to be in flight. */
	int rc = aname_config_set_limits(cfg, 4096, 100000);
	if (rc == ANAME_OK) {
		rc = aname_config_set_thread(cfg, thread);
	}
	aname_ctx_t *ctx;
	if (rc == ANAME_OK) {
		rc = aname_ctx_new(&ctx, cfg);
	}
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		bench_die("library setup: %s", aname_strerror(rc));
	}
	return ctx;
}

static void submit(aname_ctx_t *ctx, run_t *r, unsigned rep, unsigned i)
{
	char name[64];
	snprintf(name, sizeof(name), "d%u-%u." ZONE, rep, i);
	slots[i] = (slot_t){ r, i };
	r->submit_ns[i] = bench_now_ns();
	int rc = aname_resolve(ctx, name, ANAME_RRTYPE_A, DEADLINE_MS, cb,
			       &slots[i], NULL);
	if (rc != ANAME_OK) {
		bench_die("aname_resolve: %s", aname_strerror(rc));
	}
}

/* One repetition; the lateness of every request, in ms, goes to \a out. */
static void run_once(int port, int thread, int paced, unsigned rep,
		     double *out, unsigned *not_timeout)
{
	run_t *r = calloc(1, sizeof(*r));
	aname_ctx_t *ctx = make_ctx(port, thread);
	unsigned submitted = 0;
	uint64_t start = bench_now_ns();
	uint64_t limit = start + 30000000000ull;
	if (!paced) {
		for (; submitted < NREQ; submitted++) {
			submit(ctx, r, rep, submitted);
		}
	}
	while (atomic_load(&r->done) < NREQ) {
		uint64_t now = bench_now_ns();
		if (now > limit) {
			bench_die("only %u of %u callbacks after 30 s",
				  atomic_load(&r->done), NREQ);
		}
		/* Paced: request i is due at start + i ms. */
		while (submitted < NREQ &&
		       now >= start + (uint64_t)submitted * 1000000u) {
			submit(ctx, r, rep, submitted++);
			now = bench_now_ns();
		}
		int next = -1;
		if (submitted < NREQ) {
			uint64_t due = start + (uint64_t)submitted * 1000000u;
			next = due > now ? (int)((due - now + 999999) / 1000000)
					 : 0;
		}
		if (thread) {
			if (submitted < NREQ) {
				bench_sleep_ms((unsigned)next);
			} else if (aname_wait(ctx, 10000) != ANAME_OK &&
				   atomic_load(&r->done) < NREQ) {
				bench_die("aname_wait: callbacks missing");
			}
			continue;
		}
		int to = aname_timeout_ms(ctx);
		if (to < 0 || (next >= 0 && next < to)) {
			to = next < 0 ? 1000 : next;
		}
		struct pollfd p = { aname_fd(ctx), POLLIN, 0 };
		poll(&p, 1, to);
		aname_process(ctx);
	}
	aname_ctx_free(ctx);
	for (unsigned i = 0; i < NREQ; i++) {
		out[i] = ((double)atomic_load(&r->cb_ns[i]) -
			  (double)(r->submit_ns[i] + DEADLINE_MS * 1000000ull)) /
			 1e6;
		if (atomic_load(&r->status[i]) != ANAME_ETIMEDOUT) {
			(*not_timeout)++;
		}
	}
	free(r);
}

int main(void)
{
	unsigned reps = bench_reps();
	hole_t hole = { 0 };
	hole.fd = bench_udp_socket(&hole.port);
	pthread_create(&hole.th, NULL, hole_main, &hole);

	static const char *vname[4] = { "event loop, burst",
					 "event loop, paced 1/ms",
					 "thread mode, burst",
					 "thread mode, paced 1/ms" };
	double *all[4];
	double *p99[4], *p50[4];
	unsigned early[4] = { 0 }, other[4] = { 0 };
	for (int v = 0; v < 4; v++) {
		all[v] = calloc((size_t)reps * NREQ, sizeof(double));
		p99[v] = calloc(reps, sizeof(double));
		p50[v] = calloc(reps, sizeof(double));
	}
	double *one = calloc(NREQ, sizeof(double));
	for (unsigned rep = 0; rep <= reps; rep++) {
		for (int v = 0; v < 4; v++) {
			unsigned nt = 0;
			run_once(hole.port, v >= 2, v % 2, rep * 4 + (unsigned)v,
				 one, &nt);
			if (rep == 0) {
				continue;
			}
			memcpy(all[v] + (size_t)(rep - 1) * NREQ, one,
			       NREQ * sizeof(double));
			other[v] += nt;
			for (unsigned i = 0; i < NREQ; i++) {
				early[v] += one[i] < 0;
			}
			bench_sort(one, NREQ);
			p50[v][rep - 1] = bench_pct_sorted(one, NREQ, 50);
			p99[v][rep - 1] = bench_pct_sorted(one, NREQ, 99);
			fprintf(stderr,
				"bench-deadline rep %u %s: p50 %.2f p99 %.2f "
				"max %.2f min %.2f ms\n",
				rep, vname[v], p50[v][rep - 1], p99[v][rep - 1],
				one[NREQ - 1], one[0]);
		}
	}
	atomic_store(&hole.stop, 1);
	pthread_join(hole.th, NULL);
	close(hole.fd);

	FILE *goals;
	FILE *md = bench_md_open("deadline", &goals);
	char path[512];
	const char *dir = getenv("BENCH_DIR");
	snprintf(path, sizeof(path), "%s/deadline.dat",
		 dir && *dir ? dir : "build/bench");
	FILE *dat = fopen(path, "w");
	if (dat == NULL) {
		bench_die("cannot write %s", path);
	}
	fprintf(md,
		"## 5. Deadline precision\n\n"
		"`make bench-deadline` (runs `build/bench/bench_deadline`). The "
		"stub for `bench.test.` points at a UDP socket that reads and "
		"never answers (%lu packets swallowed in this run). Each "
		"repetition sends %u requests for distinct targets with a %u ms "
		"deadline through a fresh context, four ways: event-loop mode "
		"(this program's poll loop, sleeping `aname_timeout_ms()`) or "
		"thread mode, with all requests submitted at once (*burst*) or "
		"one per millisecond (*paced*). Lateness = callback time − "
		"(time just before `aname_resolve` + %u ms); negative means "
		"early. 1 warm-up + %u repetitions; p50/p99 are *median "
		"[min–max]* over repetitions, min/max over all %u samples.\n\n"
		"| mode | p50 late, ms | p99 late, ms | min, ms | max, ms | "
		"early | status ≠ ETIMEDOUT |\n"
		"|---|---:|---:|---:|---:|---:|---:|\n",
		atomic_load(&hole.packets), NREQ, DEADLINE_MS, DEADLINE_MS,
		reps, reps * NREQ);
	double worst_p99 = 0;
	unsigned total_early = 0, total_other = 0;
	size_t ns = (size_t)reps * NREQ;
	for (int v = 0; v < 4; v++) {
		bench_stat_t s50 = bench_stat(p50[v], reps);
		bench_stat_t s99 = bench_stat(p99[v], reps);
		bench_sort(all[v], ns);
		char a[96], b[96];
		fprintf(md, "| %s | %s | %s | %.2f | %.2f | %u | %u |\n",
			vname[v], bench_fmt(a, sizeof(a), s50, 2),
			bench_fmt(b, sizeof(b), s99, 2), all[v][0],
			all[v][ns - 1], early[v], other[v]);
		worst_p99 = s99.median > worst_p99 ? s99.median : worst_p99;
		total_early += early[v];
		total_other += other[v];
		/* One gnuplot data block per mode: lateness, cumulative share. */
		fprintf(dat, "# %s\n", vname[v]);
		for (size_t i = 0; i < ns; i++) {
			fprintf(dat, "%.3f %.5f\n", all[v][i],
				(double)(i + 1) / (double)ns);
		}
		fprintf(dat, "\n\n");
	}
	fclose(dat);
	fprintf(md, "\n![Lateness CDF](bench/results/deadline.png)\n\n");
	bench_goal(goals, "deadline: p99 ≤ 20 ms late, none early",
		   worst_p99 <= 20 && total_early == 0,
		   "worst p99 %.2f ms, %u early, %u not ETIMEDOUT", worst_p99,
		   total_early, total_other);
	fclose(goals);
	fclose(md);
	for (int v = 0; v < 4; v++) {
		free(all[v]);
		free(p99[v]);
		free(p50[v]);
	}
	free(one);
	return 0;
}
