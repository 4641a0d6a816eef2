/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench.h
 *
 * Shared harness of the libaname benchmarks: monotonic time, repetition
 * statistics (median, min, max, percentiles), a private nsd on a free
 * loopback port, and the markdown/goal files that bench/assemble.sh turns
 * into BENCHMARKS.md.
 *
 * Every benchmark reports medians over repetitions and ratios measured in
 * the same process run, because the machines are shared: absolute numbers
 * drift between runs, ratios between neighbours in time hold.
 */
#ifndef ANAME_BENCH_H
#define ANAME_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct ub_ctx;
typedef struct aname_config aname_config_t;

/* ------------------------------------------------------------ time, stats */

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/** Sleep \a ms milliseconds (only for pacing load, never to await a state). */
void bench_sleep_ms(unsigned ms);

/** Summary of repetitions: median, smallest and largest value. */
typedef struct {
	double median;
	double min;
	double max;
	size_t n;
} bench_stat_t;

/** Summarise \a n values (sorted in place). */
bench_stat_t bench_stat(double *v, size_t n);

/** Percentile \a p (0..100) of \a n values already sorted ascending. */
double bench_pct_sorted(const double *v, size_t n, double p);

/** Sort \a n doubles ascending. */
void bench_sort(double *v, size_t n);

/** Number of repetitions: $BENCH_REPS, at least 5 (default 5). */
unsigned bench_reps(void);

/** Online CPUs. */
unsigned bench_ncpu(void);

/* Resident set size in bytes, from /proc/self/statm. */
size_t bench_rss_bytes(void);

/** Print to stderr and exit(1): benchmarks must not half-work silently. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						    noreturn));

/* ------------------------------------------------------------ output */

/**
 * Open $BENCH_DIR/<part>.md (default build/bench) for writing, and the
 * matching <part>.goals file.  Goals are lines "goal<TAB>measured<TAB>verdict"
 * that the assembler collects into the summary table.
 */
FILE *bench_md_open(const char *part, FILE **goals);

/** Append one goal line; \a met is 1 (met), 0 (not met). */
void bench_goal(FILE *goals, const char *goal, int met, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** "median [min–max]" with \a prec decimals, into \a buf. */
const char *bench_fmt(char *buf, size_t len, bench_stat_t s, int prec);

/* ------------------------------------------------------------ loopback */

/** A UDP+TCP port on 127.0.0.1 that was free a moment ago. */
int bench_free_port(void);

/** Bind a UDP socket on 127.0.0.1, port 0; its port goes to \a port. */
int bench_udp_socket(int *port);

/**
 * Send one DNS query for \a qname/\a qtype to 127.0.0.1:\a port and wait up
 * to \a timeout_ms for any answer with the same id.
 * \return The answer's rcode (>= 0), or -1 on timeout/error.
 */
int bench_dns_probe(int port, const char *qname, uint16_t qtype,
		    int timeout_ms);

/** Zone writer for bench_nsd_start(): print the zone text to \a f. */
typedef void (*bench_zone_fn)(FILE *f, void *arg);

/** Write the $ORIGIN, SOA and NS lines every bench.test zone starts with. */
void bench_zone_header(FILE *f, const char *zone);

/** A private nsd serving one zone on 127.0.0.1:port. */
typedef struct {
	pid_t pid;
	int port;
	char dir[64];
} bench_nsd_t;

/**
 * Write the zone and an nsd.conf (rrl-ratelimit: 0, one server process)
 * into a fresh temp dir, start nsd in its own process group and wait until
 * it answers the zone's SOA.  The process group is killed at exit, on
 * SIGINT/SIGTERM, and (PR_SET_PDEATHSIG) if this process dies.
 * Dies with a message when nsd cannot be started.
 */
void bench_nsd_start(bench_nsd_t *n, const char *zone, bench_zone_fn fn,
		     void *arg);

/** Stop nsd (by its process group), reap it, remove its temp dir. */
void bench_nsd_stop(bench_nsd_t *n);

/** "nsd 4.6.1"-style version string of the nsd binary (static). */
const char *bench_nsd_version(void);

/* ------------------------------------------------------------ contexts */

/**
 * Library configuration pointing only at loopback: a stub for \a zone at
 * 127.0.0.1@\a port and a guard stub for "." at a closed loopback port, so
 * nothing can ever leave the machine.
 */
aname_config_t *bench_aname_config(const char *zone, int port);

/**
 * The raw-libunbound equivalent a host would write without libaname:
 * thread-mode context, "test." made transparent, stub to 127.0.0.1@\a port,
 * guard stub for ".".
 */
struct ub_ctx *bench_ub_ctx(const char *zone, int port);

/** A loopback port nothing listens on (for the guard stub). */
int bench_closed_port(void);

#endif /* ANAME_BENCH_H */
