/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file stats.h
 * \brief Counters, the latency histogram and the health window
 * (stats.c).  Other files change them only through these functions, with
 * the context lock held; stats.c also reads the watchdog's and the fetch
 * table's state to judge health.
 */
#ifndef ANAME_STATS_H
#define ANAME_STATS_H

#include "aname_private.h"

#include <stdint.h>

#define ANAME_LATENCY_BUCKETS 14
#define ANAME_HEALTH_SLOTS 6 /* x 10 s = the 60 s health window */

struct aname_health_slot {
	uint64_t epoch; /* now_ms / 10000 */
	uint32_t ok, timeouts, failures, stale, shed, requests;
};

struct aname_stats {
	uint64_t v[ANAME_STAT_COUNT_];
	uint64_t latency[ANAME_LATENCY_BUCKETS];
	struct aname_health_slot slots[ANAME_HEALTH_SLOTS];
	uint64_t last_success_ms;
};

enum aname_health_event {
	ANAME_EV_OK,
	ANAME_EV_TIMEOUT,
	ANAME_EV_FAILURE,
	ANAME_EV_STALE,
	ANAME_EV_SHED,
	ANAME_EV_REQUEST,
};

void aname__stat_inc(struct aname_stats *s, int stat);
void aname__stats_event(struct aname_stats *s, enum aname_health_event ev,
			uint64_t now_ms);
void aname__stats_latency(struct aname_stats *s, uint64_t ms);
extern const uint32_t aname__latency_le[ANAME_LATENCY_BUCKETS];

struct aname_ctx;
/* ctx->lock held. */
uint64_t aname__stat_read(struct aname_ctx *ctx, int stat, uint64_t now_ms);
/* aname_health() at a given time, so tests can look past the window. */
int aname__health_at(aname_ctx_t *ctx, uint64_t now_ms, int *reason);

#endif /* ANAME_STATS_H */
