/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_coalesce.c
 * \brief Coalescing: 10 000 concurrent requests for one cold target, and
 *        how many queries actually reach the authoritative server.
 *
 * The upstream count is taken twice and independently: by the library's
 * own upstream_queries statistic, and by a counting UDP proxy between
 * libunbound and nsd that logs every query's name.  The same burst through
 * raw ub_resolve_async() shows what libunbound's own mesh deduplication
 * gives a host that does not use the library.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unbound.h>
#include <unistd.h>

#include "aname.h"
#include "bench.h"

#define ZONE "bench.test."
#define NREQ 10000
#define MAXREPS 100

static void write_zone(FILE *f, void *arg)
{
	(void)arg;
	bench_zone_header(f, ZONE);
	for (int i = 0; i <= MAXREPS; i++) {
		fprintf(f, "c%d IN A 203.0.113.%d\nu%d IN A 203.0.113.%d\n", i,
			i % 250 + 1, i, i % 250 + 1);
	}
}

/* ------------------------------------------------------------ proxy */

/* A counting UDP proxy: every query from libunbound is logged by name and
 * forwarded to nsd; answers are matched back to the client by DNS id. */
typedef struct {
	int lsock, usock, port;
	atomic_int stop;
	pthread_mutex_t lock;
	char (*log)[64];
	size_t nlog, cap;
	struct sockaddr_in client[65536];
	pthread_t th;
} proxy_t;

static void qname_of(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t i = 12, o = 0;
	while (i < n && p[i] != 0 && p[i] < 64 && o + p[i] + 2 < outlen) {
		size_t len = p[i++];
		for (size_t k = 0; k < len && i < n; k++) {
			out[o++] = (char)tolower(p[i++]);
		}
		out[o++] = '.';
	}
	out[o] = 0;
}

static void *proxy_main(void *arg)
{
	proxy_t *px = arg;
	uint8_t buf[4096];
	while (!atomic_load(&px->stop)) {
		struct pollfd p[2] = { { px->lsock, POLLIN, 0 },
				       { px->usock, POLLIN, 0 } };
		if (poll(p, 2, 50) <= 0) {
			continue;
		}
		if (p[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(px->lsock, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &fl);
			if (n >= 12) {
				uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
				px->client[id] = from;
				pthread_mutex_lock(&px->lock);
				if (px->nlog < px->cap) {
					qname_of(buf, (size_t)n,
						 px->log[px->nlog++], 64);
				}
				pthread_mutex_unlock(&px->lock);
				send(px->usock, buf, (size_t)n, 0);
			}
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = recv(px->usock, buf, sizeof(buf), 0);
			if (n >= 12) {
				uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
				sendto(px->lsock, buf, (size_t)n, 0,
				       (struct sockaddr *)&px->client[id],
				       sizeof(px->client[id]));
			}
		}
	}
	return NULL;
}

static void proxy_start(proxy_t *px, int upstream_port)
{
	memset(px, 0, sizeof(*px));
	pthread_mutex_init(&px->lock, NULL);
	px->cap = 1000000;
	px->log = calloc(px->cap, sizeof(*px->log));
	px->lsock = bench_udp_socket(&px->port);
	int dummy;
	px->usock = bench_udp_socket(&dummy);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)upstream_port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(px->usock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		bench_die("proxy connect failed");
	}
	pthread_create(&px->th, NULL, proxy_main, px);
}

static void proxy_stop(proxy_t *px)
{
	atomic_store(&px->stop, 1);
	pthread_join(px->th, NULL);
	close(px->lsock);
	close(px->usock);
	free(px->log);
}

/* Queries logged since index \a from: for \a name, and in total.  The
 * proxy logs a query before forwarding it, so once its answer has reached a
 * callback the query is already counted: no waiting needed. */
static unsigned proxy_count(proxy_t *px, size_t from, const char *name,
			    unsigned *total)
{
	unsigned n = 0;
	pthread_mutex_lock(&px->lock);
	for (size_t i = from; i < px->nlog; i++) {
		n += strcmp(px->log[i], name) == 0;
	}
	*total = (unsigned)(px->nlog - from);
	pthread_mutex_unlock(&px->lock);
	return n;
}

static size_t proxy_mark(proxy_t *px)
{
	pthread_mutex_lock(&px->lock);
	size_t n = px->nlog;
	pthread_mutex_unlock(&px->lock);
	return n;
}

/* ------------------------------------------------------------ runs */

typedef struct {
	unsigned done, ok, failed;
	int first_error;
	uint64_t last_ns;
} run_t;

typedef struct {
	double submit_ms, total_ms;
	unsigned at_proxy, proxy_total;
	uint64_t upstream, coalesced;
} result_t;

static void lib_cb(void *arg, int status, const aname_result_t *res)
{
	run_t *r = arg;
	r->done++;
	r->last_ns = bench_now_ns();
	if (status == ANAME_OK && aname_result_count(res, ANAME_RRTYPE_A) == 1) {
		r->ok++;
	} else if (r->failed++ == 0) {
		r->first_error = status;
	}
}

static result_t run_lib(proxy_t *px, unsigned rep)
{
	char name[64];
	snprintf(name, sizeof(name), "c%u." ZONE, rep);
	aname_config_t *cfg = bench_aname_config(ZONE, px->port);
	/* Room for every request to wait on the one resolution. */
	int rc = aname_config_set_limits(cfg, 256, 2 * NREQ);
	aname_ctx_t *ctx;
	if (rc == ANAME_OK) {
		rc = aname_ctx_new(&ctx, cfg);
	}
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		bench_die("library setup: %s", aname_strerror(rc));
	}
	size_t mark = proxy_mark(px);
	run_t r = { 0 };
	result_t out = { 0 };
	uint64_t t0 = bench_now_ns();
	for (unsigned i = 0; i < NREQ; i++) {
		rc = aname_resolve(ctx, name, ANAME_RRTYPE_A, 5000, lib_cb, &r,
				   NULL);
		if (rc != ANAME_OK) {
			bench_die("aname_resolve #%u: %s", i,
				  aname_strerror(rc));
		}
	}
	out.submit_ms = (double)(bench_now_ns() - t0) / 1e6;
	while (r.done < NREQ) {
		struct pollfd p = { aname_fd(ctx), POLLIN, 0 };
		int to = aname_timeout_ms(ctx);
		poll(&p, 1, to < 0 || to > 1000 ? 1000 : to);
		aname_process(ctx);
	}
	out.total_ms = (double)(r.last_ns - t0) / 1e6;
	if (r.failed) {
		bench_die("libaname: %u of %u requests failed (first: %s)",
			  r.failed, NREQ, aname_strerror(r.first_error));
	}
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &out.upstream);
	aname_stats_get(ctx, ANAME_STAT_COALESCED, &out.coalesced);
	aname_ctx_free(ctx);
	out.at_proxy = proxy_count(px, mark, name, &out.proxy_total);
	return out;
}

static void ub_cb(void *arg, int err, struct ub_result *res)
{
	run_t *r = arg;
	r->done++;
	r->last_ns = bench_now_ns();
	if (err == 0 && res && res->havedata) {
		r->ok++;
	} else if (r->failed++ == 0) {
		r->first_error = err ? err : (res ? res->rcode : -1);
	}
	ub_resolve_free(res);
}

static result_t run_ub(proxy_t *px, unsigned rep)
{
	char name[64];
	snprintf(name, sizeof(name), "u%u." ZONE, rep);
	struct ub_ctx *ub = bench_ub_ctx(ZONE, px->port);
	size_t mark = proxy_mark(px);
	run_t r = { 0 };
	result_t out = { 0 };
	uint64_t t0 = bench_now_ns();
	for (unsigned i = 0; i < NREQ; i++) {
		if (ub_resolve_async(ub, name, 1, 1, &r, ub_cb, NULL) != 0) {
			bench_die("ub_resolve_async #%u failed", i);
		}
	}
	out.submit_ms = (double)(bench_now_ns() - t0) / 1e6;
	uint64_t end = t0 + 30000000000ull;
	while (r.done < NREQ) {
		if (bench_now_ns() > end) {
			bench_die("libunbound: %u of %u answers after 30 s",
				  r.done, NREQ);
		}
		struct pollfd p = { ub_fd(ub), POLLIN, 0 };
		poll(&p, 1, 1000);
		ub_process(ub);
	}
	out.total_ms = (double)(r.last_ns - t0) / 1e6;
	if (r.failed) {
		bench_die("libunbound: %u of %u requests failed (first %d)",
			  r.failed, NREQ, r.first_error);
	}
	ub_ctx_delete(ub);
	out.at_proxy = proxy_count(px, mark, name, &out.proxy_total);
	return out;
}

int main(void)
{
	unsigned reps = bench_reps();
	if (reps > MAXREPS) {
		reps = MAXREPS;
	}
	bench_nsd_t nsd;
	bench_nsd_start(&nsd, ZONE, write_zone, NULL);
	proxy_t *px = calloc(1, sizeof(*px));
	proxy_start(px, nsd.port);

	double *l_tot = calloc(reps, sizeof(double));
	double *l_sub = calloc(reps, sizeof(double));
	double *l_px = calloc(reps, sizeof(double));
	double *l_up = calloc(reps, sizeof(double));
	double *l_all = calloc(reps, sizeof(double));
	double *u_tot = calloc(reps, sizeof(double));
	double *u_px = calloc(reps, sizeof(double));
	double *u_all = calloc(reps, sizeof(double));
	uint64_t coalesced = 0;
	for (unsigned rep = 0; rep <= reps; rep++) {
		result_t l = run_lib(px, rep);
		result_t u = run_ub(px, rep);
		fprintf(stderr,
			"bench-coalesce rep %u%s: libaname %.1f ms (submit "
			"%.1f ms), %u at proxy (%u total), upstream_queries "
			"%llu, coalesced %llu; libunbound %.1f ms, %u at proxy "
			"(%u total)\n",
			rep, rep ? "" : " (warm-up)", l.total_ms, l.submit_ms,
			l.at_proxy, l.proxy_total,
			(unsigned long long)l.upstream,
			(unsigned long long)l.coalesced, u.total_ms, u.at_proxy,
			u.proxy_total);
		if (rep == 0) {
			continue;
		}
		l_tot[rep - 1] = l.total_ms;
		l_sub[rep - 1] = l.submit_ms;
		l_px[rep - 1] = l.at_proxy;
		l_all[rep - 1] = l.proxy_total;
		l_up[rep - 1] = (double)l.upstream;
		u_tot[rep - 1] = u.total_ms;
		u_px[rep - 1] = u.at_proxy;
		u_all[rep - 1] = u.proxy_total;
		coalesced = l.coalesced;
	}
	proxy_stop(px);
	free(px);
	bench_nsd_stop(&nsd);

	bench_stat_t slt = bench_stat(l_tot, reps), sls = bench_stat(l_sub, reps);
	bench_stat_t slp = bench_stat(l_px, reps), slu = bench_stat(l_up, reps);
	bench_stat_t sla = bench_stat(l_all, reps);
	bench_stat_t sut = bench_stat(u_tot, reps), sup = bench_stat(u_px, reps);
	bench_stat_t sua = bench_stat(u_all, reps);

	FILE *goals;
	FILE *md = bench_md_open("coalesce", &goals);
	char a[96], b[96], c[96], d[96];
	fprintf(md,
		"## 3. Coalescing\n\n"
		"`make bench-coalesce` (runs `build/bench/bench_coalesce`). "
		"Each repetition submits %u requests for one cold target "
		"(type A, a new name and a fresh context per repetition) as "
		"fast as possible, then drives the loop until every callback "
		"ran. Upstream queries are counted twice: by a counting UDP "
		"proxy between libunbound and nsd (every query it forwards, by "
		"name) and by the library's `upstream_queries` statistic. "
		"1 warm-up + %u repetitions; *median [min–max]*.\n\n"
		"| contender | completion, ms (first submit → last callback) | "
		"queries for the target at the proxy | all queries at the proxy | "
		"library `upstream_queries` |\n|---|---:|---:|---:|---:|\n",
		NREQ, reps);
	fprintf(md, "| libaname `aname_resolve` × %u | %s | %s | %s | %s |\n",
		NREQ, bench_fmt(a, sizeof(a), slt, 1),
		bench_fmt(b, sizeof(b), slp, 0), bench_fmt(c, sizeof(c), sla, 0),
		bench_fmt(d, sizeof(d), slu, 0));
	fprintf(md, "| raw libunbound `ub_resolve_async` × %u | %s | %s | %s | |\n\n",
		NREQ, bench_fmt(a, sizeof(a), sut, 1),
		bench_fmt(b, sizeof(b), sup, 0),
		bench_fmt(c, sizeof(c), sua, 0));
	fprintf(md,
		"Submitting the %u `aname_resolve` calls took %s ms; the "
		"library counted %llu of them as coalesced (last repetition). "
		"All callbacks returned the address.\n\n",
		NREQ, bench_fmt(a, sizeof(a), sls, 1),
		(unsigned long long)coalesced);
	bench_goal(goals, "10 000 concurrent requests on one cold target → 1 upstream query",
		   slp.max == 1 && slu.max == 1,
		   "%.0f–%.0f at the proxy, %.0f–%.0f by the library; %.1f ms",
		   slp.min, slp.max, slu.min, slu.max, slt.median);
	fclose(goals);
	fclose(md);
	free(l_tot);
	free(l_sub);
	free(l_px);
	free(l_up);
	free(l_all);
	free(u_tot);
	free(u_px);
	free(u_all);
	return 0;
}
