/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file targets.h
 * \brief The state of cached targets (targets.c): aname_targets_each()
 * for the operator, and the per-state tally behind the metrics' gauges.
 *
 * The tally is kept by a timer, not counted by the caller: counting means
 * visiting every cache entry (about 95 ns each, bench/notes.md), which at
 * 20 000 entries made one aname_metrics_prometheus() call take 2 ms of
 * CPU and, preempted on a busy machine, up to 19 ms of wall clock
 * (BENCHMARKS.md, "Worker stall").  The timer visits TALLY_SLICE buckets
 * a round, so neither ctx->lock nor a shard lock is held for long, and a
 * metrics call only copies the last finished pass.
 */
#ifndef ANAME_TARGETS_H
#define ANAME_TARGETS_H

#include "aname_private.h"
#include "cache.h"
#include "timer.h"

#include <stdbool.h>
#include <stdint.h>

/* Buckets one round of the tally visits, and the pause between rounds:
 * at about 40 ns a bucket a round holds the lock some 40 us, and a pass
 * over 20 000 entries (32 768 buckets) takes 32 rounds, 0.3 s. */
#define ANAME_TALLY_SLICE 1024
#define ANAME_TALLY_ROUND_MS 10
/* Passes start at most this often, and go on only while the metrics
 * were asked for within ANAME_TALLY_KEEP_MS.  A pass that finished more
 * than ANAME_TALLY_MAX_AGE_MS ago (none yet, or a host that stopped
 * running rounds) is not used: the caller counts for itself if the cache
 * has at most ANAME_TALLY_INLINE_BUCKETS buckets (about 0.1 us an entry,
 * and a table holds about one entry a bucket at most: under a
 * millisecond), and otherwise reports no count until the loop's pass is
 * done, so that no call's cost grows with the cache.  The age is taken
 * from the end of a pass, not its start: a pass over a million entries
 * takes longer than the limit. */
#define ANAME_TALLY_PERIOD_MS 1000
#define ANAME_TALLY_KEEP_MS 300000
#define ANAME_TALLY_MAX_AGE_MS 10000
#define ANAME_TALLY_INLINE_BUCKETS 8192

struct aname_tally {
	struct aname_timer timer;
	struct aname_cache_cursor cur;
	uint64_t pass[ANAME_TARGET_STATE_COUNT_];  /* the pass under way */
	uint64_t shard[ANAME_TARGET_STATE_COUNT_]; /* its current shard */
	uint64_t done[ANAME_TARGET_STATE_COUNT_];  /* the last finished pass */
	uint64_t pass_started_ms;
	uint64_t done_ms;   /* when `done` began (0: never) */
	uint64_t finished_ms; /* when `done` was finished (0: never) */
	uint64_t wanted_ms; /* the metrics last asked */
};

struct aname_ctx;
void aname__tally_init(struct aname_ctx *ctx);
/* Cached (target, type) pairs by aname_target_state_t, for the metrics:
 * the last pass if it is recent, otherwise counted now, in slices, if
 * the cache is small (above).  False: no count to report this time (a
 * large cache and no recent pass; the loop's pass is under way).
 * Called without ctx->lock: it takes the lock only to read and store the
 * tally, never while counting. */
bool aname__targets_count(struct aname_ctx *ctx, uint64_t now_ms,
			  uint64_t *by_state);

#endif /* ANAME_TARGETS_H */
