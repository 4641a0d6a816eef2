/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ctx.c
 * \brief aname_ctx_new() and aname_ctx_free(): assemble the parts of a
 * context (ctx.h) and take them apart again.
 */
#include "ctx.h"

#include "clock.h"
#include "driver.h"

#include <stdlib.h>
#include <sys/socket.h>

#define CACHE_SHARDS 64
/* aname_ctx_free() waits this long for the driver thread to delete its
 * libunbound context, then abandons it (documented in aname.h). */
#define FREE_WAIT_MS 1000

static void ctx_release(aname_ctx_t *ctx)
{
	aname__cache_free(ctx->cache);
	aname__canary_free(&ctx->canary);
	aname__timer_heap_free(&ctx->timers);
	aname__loop_destroy(&ctx->loop);
	aname__log_destroy(&ctx->log);
	pthread_mutex_destroy(&ctx->lock);
	aname__config_clear(&ctx->cfg);
	free(ctx);
}

int aname_ctx_new(aname_ctx_t **out, const aname_config_t *cfg)
{
	if (out == NULL || cfg == NULL) {
		return ANAME_EINVAL;
	}
	*out = NULL;
	aname_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return ANAME_ENOMEM;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->canary.fd4 = ctx->canary.fd6 = -1;
	int rc = aname__config_copy(&ctx->cfg, cfg);
	aname__log_init(&ctx->log, rc == ANAME_OK ? &ctx->cfg : cfg);
	if (aname__loop_init(&ctx->loop) != ANAME_OK && rc == ANAME_OK) {
		rc = ANAME_ENOMEM;
	}
	if (rc != ANAME_OK) {
		ctx_release(ctx);
		return rc;
	}
	ctx->policy = (struct aname_policy){
		.prefetch_percent = ctx->cfg.prefetch_percent,
		.backoff_s = ctx->cfg.backoff_s,
		.stale_client_timeout_ms = ctx->cfg.stale_client_timeout_ms,
	};
	struct aname_cache_config cc = {
		.max_entries = ctx->cfg.max_entries,
		.shards = CACHE_SHARDS,
		.max_stale_s = ctx->cfg.max_stale_s,
	};
	ctx->cache = aname__cache_new(&cc);
	aname__tally_init(ctx);
	rc = aname__canary_init(&ctx->canary, &ctx->cfg);
	for (int fam = 0; rc == ANAME_OK && fam < 2; fam++) {
		int fd = aname__canary_fd(&ctx->canary,
					 fam ? AF_INET6 : AF_INET);
		if (fd >= 0) {
			rc = aname__loop_watch(&ctx->loop, fd);
		}
	}
	if (rc != ANAME_OK) {
		ctx_release(ctx);
		return rc;
	}
	aname__requests_init(&ctx->reqs);
	aname__fetches_init(&ctx->fetches);
	aname__registry_init(&ctx->regs);
	if (ctx->cache == NULL) {
		ctx_release(ctx);
		return ANAME_ENOMEM;
	}
	/* The first libunbound context is made in this thread, so that a
	 * bad configuration (a missing trust anchor file, a bad local-data
	 * record) is this call's error; replacements are made in their
	 * driver's thread. */
	rc = aname__watchdog_start(ctx);
	if (rc == ANAME_OK && ctx->cfg.thread) {
		rc = aname__loop_start_thread(ctx);
		if (rc != ANAME_OK) {
			aname__watchdog_stop(ctx, FREE_WAIT_MS);
		}
	}
	if (rc != ANAME_OK) {
		ctx_release(ctx);
		return rc;
	}
	*out = ctx;
	return ANAME_OK;
}

void aname__ctx_unlock(struct aname_ctx *ctx)
{
	struct aname_driver *owed =
		aname__driver_take_wake(aname__watchdog_driver(ctx));
	bool host = aname__loop_take_wake(&ctx->loop);
	pthread_mutex_unlock(&ctx->lock);
	aname__driver_give_wake(owed);
	if (host) {
		aname__loop_wake(&ctx->loop);
	}
}

void aname_ctx_free(aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->freeing = true;
	aname__ctx_unlock(ctx);
	aname__loop_stop_thread(ctx);
	/* From here no job callback runs: the driver stopped or was
	 * abandoned, within FREE_WAIT_MS. */
	aname__watchdog_stop(ctx, FREE_WAIT_MS);
	aname__requests_abort(ctx, ANAME_ECANCELED);
	pthread_mutex_lock(&ctx->lock);
	aname__loop_forget(&ctx->loop);
	aname__fetches_clear(ctx);
	aname__registry_clear(ctx);
	aname__ctx_unlock(ctx);
	aname__log_flush(&ctx->log);
	ctx_release(ctx);
}
