/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file hammer.h
 * \brief Load for the real-stall tests: two threads call every public
 * function while the caller's thread runs the host loop, and every call
 * and callback is timed.  Criterion-free, so the LD_PRELOAD stall program
 * (tests/shim) uses it as test_stall.c does.
 */
#ifndef TESTS_SUPPORT_HAMMER_H
#define TESTS_SUPPORT_HAMMER_H

#include <aname.h>
#include <stdint.h>

/** What a run measured. */
typedef struct ts_hammer_report {
	int submitted;           /**< aname_resolve() calls made */
	int missing;             /**< accepted, not cancelled, no callback */
	int64_t late_us;         /**< latest callback past its deadline */
	int64_t worst_us[2];     /**< slowest call of each hammer thread */
	const char *worst_fn[2]; /**< ... and which function it was */
	int64_t worst_process_us; /**< slowest aname_process() */
	uint64_t restarts;       /**< ANAME_STAT_WATCHDOG_RESTARTS at the end */
	int wait_status;         /**< aname_wait(ctx, 3000) after the run */
} ts_hammer_report_t;

/** A fault to inject from the loop thread, \a fault_at_ms into the run. */
typedef void (*ts_fault_fn)(void *arg);

/**
 * Hammer \a ctx for \a run_ms: each of two threads makes about 1 000
 * aname_resolve() (deadline 500 ms) and aname_cache_lookup(FETCH|STALE)
 * calls a second, cancels every 7th request and reads health and metrics
 * every 50th, while this thread polls aname_fd() and runs aname_process().
 * \a fault (may be NULL) runs once in this thread \a fault_at_ms into the
 * run.  Afterwards aname_wait() gives every callback up to 3 s more.  One run at a time per process.
 */
ts_hammer_report_t ts_hammer(aname_ctx_t *ctx, int run_ms, int fault_at_ms,
			     ts_fault_fn fault, void *arg);

#endif /* TESTS_SUPPORT_HAMMER_H */
