/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file util.c
 * \brief Time, repetition statistics and result files of the benchmarks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double bench_pct_sorted(const double *v, size_t n, double p)
{
	if (n == 0) {
		return 0;
	}
	/* Nearest rank: the smallest value with at least p % at or below. */
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1) {
		rank = 1;
	}
	if (rank > n) {
		rank = n;
	}
	return v[rank - 1];
}

bench_stat_t bench_stat(double *v, size_t n)
{
	bench_stat_t s = { 0, 0, 0, n };
	if (n == 0) {
		return s;
	}
	bench_sort(v, n);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

unsigned bench_reps(void)
{
	const char *e = getenv("BENCH_REPS");
	long r = e ? strtol(e, NULL, 10) : 5;
	return r < 5 ? 5 : (unsigned)r;
}

unsigned bench_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

size_t bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;
	if (f == NULL) {
		bench_die("cannot open /proc/self/statm");
	}
	if (fscanf(f, "%lu %lu", &size, &rss) != 2) {
		bench_die("cannot parse /proc/self/statm");
	}
	fclose(f);
	return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static const char *out_dir(void)
{
	const char *d = getenv("BENCH_DIR");
	return d && *d ? d : "build/bench";
}

FILE *bench_md_open(const char *part, FILE **goals)
{
	char path[512];
	const char *dir = out_dir();
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		bench_die("mkdir %s: %s", dir, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s.md", dir, part);
	FILE *md = fopen(path, "w");
	if (md == NULL) {
		bench_die("cannot write %s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s.goals", dir, part);
	*goals = fopen(path, "w");
	if (*goals == NULL) {
		bench_die("cannot write %s: %s", path, strerror(errno));
	}
	return md;
}

void bench_goal(FILE *goals, const char *goal, int met, const char *fmt, ...)
{
	char measured[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(measured, sizeof(measured), fmt, ap);
	va_end(ap);
	fprintf(goals, "%s\t%s\t%s\n", goal, measured, met ? "met" : "NOT met");
	fprintf(stderr, "goal: %s: %s (%s)\n", goal, measured,
		met ? "met" : "NOT met");
}

const char *bench_fmt(char *buf, size_t len, bench_stat_t s, int prec)
{
	snprintf(buf, len, "%.*f [%.*f–%.*f]", prec, s.median, prec, s.min,
		 prec, s.max);
	return buf;
}

void bench_zone_header(FILE *f, const char *zone)
{
	fprintf(f, "$ORIGIN %s\n$TTL 3600\n"
		   "@ IN SOA ns.bench.test. h.bench.test. 1 3600 600 86400 3600\n"
		   "@ IN NS ns\nns IN A 127.0.0.1\n",
		zone);
}
