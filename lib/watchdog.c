/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file watchdog.c
 * \brief Probe the driver, replace it when it stops; see watchdog.h.
 *
 * While fetches are in flight, every interval the driver is asked to
 * resolve the probe record, which libunbound answers from local data in
 * microseconds, inside the driver thread.  A probe unanswered for longer
 * than the grace period means the driver thread has stopped:
 * the watchdog starts a new driver (which creates its own libunbound
 * context in its own thread), moves every undelivered job to it, and
 * abandons the old one, whose thread frees it if libunbound ever
 * returns.  Failures from before the replacement stop counting for
 * backoff and every registration refreshes at once, so wanted targets are
 * fresh again one round trip after the replacement.  Probing only while there is work keeps an idle library
 * silent; a stall that happens while idle is found by the first fetch.
 */
#include "watchdog.h"

#include "ctx.h"
#include "driver.h"
#include "fetch.h"
#include "registry.h"

void aname__watchdog_mark_recovered(struct aname_ctx *ctx, uint64_t now_ms)
{
	atomic_store(&ctx->wd.recovered_ms, now_ms);
}

uint64_t aname__watchdog_recovered(const struct aname_ctx *ctx)
{
	return atomic_load(&((struct aname_ctx *)ctx)->wd.recovered_ms);
}

int aname__watchdog_start(struct aname_ctx *ctx)
{
	atomic_init(&ctx->wd.recovered_ms, 0);
	ctx->wd.renewed_ms = 0;
	return aname__driver_start(&ctx->cfg, true, ctx->loop.inbox,
				   &ctx->wd.drv);
}

struct aname_driver *aname__watchdog_driver(struct aname_ctx *ctx)
{
	return ctx->wd.drv;
}

/* A new resolver thread with a new libunbound context takes over; the
 * old one ends when its thread returns from libunbound (or never, if it
 * is stuck).
 * Returns the resolutions re-issued, or -1 (nothing changed). */
static long swap_driver(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct aname_driver *fresh;
	if (aname__driver_start(&ctx->cfg, false, ctx->loop.inbox, &fresh) !=
	    ANAME_OK) {
		aname__log(&ctx->log, ANAME_LOG_ERROR,
			   "watchdog: could not start a new resolver thread");
		return -1;
	}
	struct aname_driver *old = ctx->wd.drv;
	size_t n = aname__fetches_reissue(ctx, fresh, now_ms);
	ctx->wd.drv = fresh;
	aname__driver_abandon(old);
	return (long)n;
}

void aname__watchdog_renew(struct aname_ctx *ctx, uint64_t now_ms)
{
	bool recent = ctx->wd.renewed_ms != 0 &&
		      now_ms < ctx->wd.renewed_ms + ANAME_RENEW_MIN_MS;
	if (!ctx->freeing && !recent && swap_driver(ctx, now_ms) >= 0) {
		ctx->wd.renewed_ms = now_ms;
	}
	aname__watchdog_mark_recovered(ctx, now_ms);
	aname__registry_refresh_all(ctx, now_ms);
}

static void replace(struct aname_ctx *ctx, uint64_t now_ms)
{
	long r = swap_driver(ctx, now_ms);
	if (r < 0) {
		ctx->wd.next_probe_ms = now_ms + ctx->cfg.watchdog_grace_ms;
		return;
	}
	size_t n = (size_t)r;
	aname__stat_inc(&ctx->stats, ANAME_STAT_WATCHDOG_RESTARTS);
	ctx->wd.last_restart_ms = now_ms;
	/* What failed during the stall was the resolver's fault, not the
	 * targets': no backoff for it, and every registered target is
	 * fetched again now, on the new resolver. */
	aname__watchdog_mark_recovered(ctx, now_ms);
	aname__registry_refresh_all(ctx, now_ms);
	ctx->wd.next_probe_ms = now_ms + ctx->cfg.watchdog_interval_ms;
	aname__log(&ctx->log, ANAME_LOG_ERROR,
		   "watchdog: the resolver thread stopped answering probes "
		   "for %u ms; replaced it and re-issued %zu resolutions "
		   "(%d abandoned resolver threads still stuck)",
		   ctx->cfg.watchdog_grace_ms, n, aname__drivers_lingering());
}

void aname__watchdog_tick(struct aname_ctx *ctx, uint64_t now_ms)
{
	if (ctx->cfg.watchdog_interval_ms == 0 || ctx->freeing) {
		return;
	}
	struct aname_driver *d = ctx->wd.drv;
	uint64_t asked = aname__driver_probe_outstanding(d);
	if (asked != 0 && now_ms > asked + ctx->cfg.watchdog_grace_ms) {
		replace(ctx, now_ms);
		return;
	}
	if (asked == 0 && ctx->fetches.tab.n > 0 &&
	    now_ms >= ctx->wd.next_probe_ms) {
		aname__driver_probe(d, now_ms);
		ctx->wd.next_probe_ms = now_ms + ctx->cfg.watchdog_interval_ms;
	}
}

uint64_t aname__watchdog_next(const struct aname_ctx *ctx)
{
	if (ctx->cfg.watchdog_interval_ms == 0) {
		return UINT64_MAX;
	}
	uint64_t asked = aname__driver_probe_outstanding(ctx->wd.drv);
	if (asked != 0) {
		return asked + ctx->cfg.watchdog_grace_ms + 1;
	}
	return ctx->fetches.tab.n > 0 ? ctx->wd.next_probe_ms : UINT64_MAX;
}

bool aname__watchdog_suspect(const struct aname_ctx *ctx, uint64_t now_ms)
{
	uint64_t asked = aname__driver_probe_outstanding(ctx->wd.drv);
	return asked != 0 && now_ms > asked &&
	       now_ms - asked > ctx->cfg.watchdog_grace_ms / 2;
}

void aname__watchdog_stop(struct aname_ctx *ctx, unsigned wait_ms)
{
	if (ctx->wd.drv != NULL) {
		aname__driver_stop(ctx->wd.drv, wait_ms);
		ctx->wd.drv = NULL;
	}
}
