/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ctx.h
 * \brief struct aname_ctx (ctx.c): the sum of its parts.
 *
 * Each member below is written by the one file named beside it (through
 * that file's functions); ctx.c only creates and destroys them.  One
 * mutex, ctx->lock, guards the host-side state (requests, fetches,
 * registrations, timers, watchdog, stats).  It is never held across a
 * libunbound call (no file but driver.c and ubsetup.c makes one) nor
 * across a host callback.  Leaf locks that may be taken inside it: the
 * cache shards, the loop's inbox, the log, the driver's queues.
 */
#ifndef ANAME_CTX_H
#define ANAME_CTX_H

#include "aname_private.h"
#include "cache.h"
#include "canary.h"
#include "config.h"
#include "fetch.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "request.h"
#include "stats.h"
#include "targets.h"
#include "timer.h"
#include "watchdog.h"

#include <pthread.h>
#include <stdbool.h>

struct aname_ctx {
	aname_config_t cfg;          /* ctx.c; constant after aname_ctx_new */
	struct aname_policy policy;  /* ctx.c; constant */
	struct aname_cache *cache;   /* cache.c; its own shard locks */
	struct aname_log log;        /* log.c; its own lock */
	struct aname_loop loop;      /* loop.c */

	pthread_mutex_t lock;        /* everything below */
	bool freeing;                /* ctx.c */
	struct aname_requests reqs;  /* request.c */
	struct aname_fetches fetches;/* fetch.c */
	struct aname_registry regs;  /* registry.c */
	struct aname_timer_heap timers; /* timer.c, armed by their owners */
	struct aname_watchdog wd;    /* watchdog.c */
	struct aname_canary canary;  /* canary.c */
	struct aname_stats stats;    /* stats.c */
	struct aname_tally tally;    /* targets.c */
};

/* Unlock ctx->lock, then write the wakes that code under it left owed: the
 * driver's for a submit (driver.h), the host's for a queued delivery
 * (loop.h).  A write wakes another thread, which on a busy machine may
 * take this CPU at once, and the lock must not be held through that.
 * Every unlock after code that may submit (a fetch started or re-issued)
 * or complete a request goes through here; a driver wake missed would
 * wait for the watchdog's next probe (watchdog_interval_ms, 1 s by
 * default), which wakes the driver itself. */
void aname__ctx_unlock(struct aname_ctx *ctx);

#endif /* ANAME_CTX_H */
