/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fetch.h
 * \brief Coalesced upstream fetches (fetch.c): one per (target, type),
 * shared by every waiter that wants it and by background refreshes.
 *
 * A fetch submits one job to the current driver, has its own deadline (at
 * least as late as each waiter's), stores what comes back in the cache and
 * fans the outcome out to its waiters through their callbacks: it knows
 * nothing about requests.  Everything here runs with ctx->lock held.
 */
#ifndef ANAME_FETCH_H
#define ANAME_FETCH_H

#include "aname_private.h"
#include "cache.h"
#include "htab.h"
#include "result.h"
#include "timer.h"

#include <stdbool.h>
#include <stdint.h>

struct aname_ctx;
struct aname_fetch;
struct aname_job;
struct aname_driver;
struct aname_waiter;

/* The fetch ended: res (borrowed; NULL on failure) and status.  The
 * waiter is already detached from the fetch. */
typedef void (*aname_waiter_cb)(struct aname_ctx *ctx, struct aname_waiter *w,
				aname_result_t *res, int status,
				uint64_t now_ms);

struct aname_waiter {
	aname_waiter_cb cb;
	struct aname_fetch *fetch; /* NULL when not waiting */
	struct aname_waiter *prev, *next;
};

struct aname_fetch {
	struct aname_cache_key key;
	struct aname_ctx *ctx;
	struct aname_job *job;      /* our reference; NULL once handled */
	struct aname_driver *drv;   /* the driver the job went to */
	bool orphaned;   /* ended early: free when its delivered job comes */
	bool background; /* a refresh wants it, not only waiters */
	/* SERVFAIL came back and canary.c asks the forwarders whether they
	 * refused (a verdict): the job is delivered, its result waits here
	 * for aname__fetch_verdict(). */
	bool held;
	aname_result_t *held_res;
	uint64_t started_ms;
	struct aname_timer deadline;
	struct aname_waiter *waiters;
	size_t n_waiters;
	void *hlink;
	struct aname_fetch *prev, *next; /* all fetches, oldest first */
	/* Sized to the name (under ANAME_TEXT_MAX): a fetch lives as long as
	 * its resolution, and 1 KiB buffers allocated and freed in bursts
	 * between long-lived cache entries fragmented the heap. */
	char qname[];
};

struct aname_fetches {
	struct aname_htab tab; /* tab.n: fetches running (orphans not counted) */
	struct aname_fetch *oldest, *newest; /* orphans too */
	size_t n_waiters; /* over all fetches */
};

void aname__fetches_init(struct aname_fetches *fs);
bool aname__fetch_running(struct aname_ctx *ctx,
			  const struct aname_cache_key *k);
bool aname__fetch_room(const struct aname_ctx *ctx);
bool aname__fetch_waiter_room(const struct aname_ctx *ctx);
/* Join the fetch for \a k, starting it if none runs (w NULL: a background
 * refresh).  ANAME_OK, or ESHED (max_fetches), ENOMEM. */
int aname__fetch_join(struct aname_ctx *ctx, const struct aname_cache_key *k,
		      const char *qname, struct aname_waiter *w,
		      uint64_t deadline_ms, uint64_t now_ms);
/* Stop waiting.  With spare (a cancel), a fetch nobody wants any more is
 * cancelled; without, it runs to its own deadline (so that a failure is
 * still recorded for backoff).  No-op when w is not waiting. */
void aname__fetch_leave(struct aname_ctx *ctx, struct aname_waiter *w,
			bool spare);
/* A job the driver delivered, picked up by loop.c. */
void aname__fetch_job_done(struct aname_ctx *ctx, struct aname_job *job,
			   uint64_t now_ms);
/* canary.c's verdict on a held fetch: refused turns its SERVFAIL into
 * ANAME_EREFUSED; then the fetch ends as a delivered job does. */
void aname__fetch_verdict(struct aname_ctx *ctx, struct aname_fetch *f,
			  bool refused, uint64_t now_ms);
/* The driver was replaced: move every undelivered job to \a drv.
 * Returns how many were re-issued. */
size_t aname__fetches_reissue(struct aname_ctx *ctx, struct aname_driver *drv,
			      uint64_t now_ms);
/* aname_ctx_free, after the driver stopped: free everything. */
void aname__fetches_clear(struct aname_ctx *ctx);

#endif /* ANAME_FETCH_H */
