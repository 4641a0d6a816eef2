/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file watchdog.h
 * \brief The watchdog (watchdog.c): owns the current driver, probes it
 * while work is in flight, and replaces it when a probe goes unanswered
 * past the grace period.  It runs in the host's loop, where no libunbound
 * call can stop it: a probe is a job the driver is asked to send, and its
 * answer is an atomic the driver thread sets.
 */
#ifndef ANAME_WATCHDOG_H
#define ANAME_WATCHDOG_H

#include "aname_private.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct aname_ctx;
struct aname_driver;

struct aname_watchdog {
	struct aname_driver *drv;
	uint64_t next_probe_ms;
	uint64_t last_restart_ms; /* 0: never */
	/* Failures before this do not hold targets in backoff: read without
	 * the context lock by lookups. */
	atomic_uint_fast64_t recovered_ms;
	uint64_t renewed_ms; /* last aname__watchdog_renew() swap, 0: never */
};

/* Start the first driver, its libunbound context made in this thread
 * (aname_ctx_new: a bad configuration is its error). */
int aname__watchdog_start(struct aname_ctx *ctx);
struct aname_driver *aname__watchdog_driver(struct aname_ctx *ctx);
/* ctx->lock held: probe, judge, replace. */
void aname__watchdog_tick(struct aname_ctx *ctx, uint64_t now_ms);
/* When the next tick is needed (UINT64_MAX: none); ctx->lock held. */
uint64_t aname__watchdog_next(const struct aname_ctx *ctx);
/* A probe has been unanswered for more than half the grace period. */
bool aname__watchdog_suspect(const struct aname_ctx *ctx, uint64_t now_ms);
/* An upstream came back (canary.c) or the resolver was replaced: every
 * target may be fetched again at once, whatever its backoff. */
void aname__watchdog_mark_recovered(struct aname_ctx *ctx, uint64_t now_ms);
/* An upstream came back after an outage: start over with a fresh
 * libunbound context (its infra cache still holds the outage's timeouts,
 * and libunbound 1.26 then waits over 10 s before it asks that server
 * again), re-issue what is in flight and refresh every registration.
 * Not a restart: no counter, no health reason.  At most one swap per
 * ANAME_RENEW_MIN_MS (a flapping upstream); within it, backoff still
 * ends and registrations are refreshed on the current context.
 * ctx->lock held. */
#define ANAME_RENEW_MIN_MS 10000
void aname__watchdog_renew(struct aname_ctx *ctx, uint64_t now_ms);
uint64_t aname__watchdog_recovered(const struct aname_ctx *ctx);
/* aname_ctx_free: stop the driver, waiting at most wait_ms. */
void aname__watchdog_stop(struct aname_ctx *ctx, unsigned wait_ms);

#endif /* ANAME_WATCHDOG_H */
