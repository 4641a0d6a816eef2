/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file targets.c
 * \brief aname_targets_each(): the state of every cached or registered
 * (target, type), from the cache store, the fetch table, the registry and
 * the policy's view of backoff; and the metrics' per-state tally, kept by
 * a timer (targets.h says why).
 */
#include "aname_private.h"

#include "cache.h"
#include "clock.h"
#include "ctx.h"
#include "loop.h"
#include "name.h"
#include "policy.h"
#include "stats.h"
#include "targets.h"
#include "watchdog.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	aname_ctx_t *ctx;
	aname_target_cb cb;
	void *arg;
	uint64_t now;
};

static uint32_t age_s(uint64_t now, uint64_t then)
{
	if (then == 0) {
		return UINT32_MAX;
	}
	uint64_t d = now > then ? (now - then) / 1000u : 0;
	return d > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)d;
}

static int state_of(const struct walk *w, const struct aname_cache_view *v,
		    bool running)
{
	uint64_t recovered = aname__watchdog_recovered(w->ctx);
	bool backoff = aname__policy_backing_off(&w->ctx->policy, v,
						 recovered, w->now);
	if (running) {
		return ANAME_TARGET_REFRESHING;
	}
	if (v->res != NULL && v->fresh) {
		return ANAME_TARGET_FRESH;
	}
	if (backoff) {
		return ANAME_TARGET_BACKOFF;
	}
	if (v->res != NULL) {
		return ANAME_TARGET_STALE;
	}
	return v->fail_ms != 0 ? ANAME_TARGET_FAILING
			       : ANAME_TARGET_REFRESHING;
}

static int report(struct walk *w, const struct aname_cache_key *k,
		  const struct aname_cache_view *v, uint64_t changed_ms)
{
	char name[ANAME_TEXT_MAX];
	if (aname__name_to_text(k->name, k->len, name, sizeof(name)) < 0) {
		return 0;
	}
	pthread_mutex_lock(&w->ctx->lock);
	bool running = aname__fetch_running(w->ctx, k);
	bool registered = aname__registry_has(w->ctx, k);
	pthread_mutex_unlock(&w->ctx->lock);
	aname_target_info_t info = {
		.target = name,
		.rrtype = k->rrtype,
		.state = state_of(w, v, running),
		.registered = registered,
		.rcode = -1,
		.last_error = v->fail_ms != 0 ? v->fail_status : ANAME_OK,
		.last_error_age_s = age_s(w->now, v->fail_ms),
		.consecutive_failures = v->fails,
		.changed_age_s = age_s(w->now, changed_ms),
	};
	const aname_result_t *r = v->res;
	if (r != NULL) {
		uint64_t got = r->expire_ms - (uint64_t)r->ttl * 1000u;
		info.addresses = r->count;
		info.rcode = (int)r->rcode;
		info.age_s = age_s(w->now, got);
		info.ttl_left_s = aname__result_expired(r, w->now)
					  ? 0
					  : (uint32_t)((r->expire_ms - w->now) /
						       1000u);
		info.stale_for_s = aname__result_expired(r, w->now)
					   ? age_s(w->now, r->expire_ms)
					   : 0;
		info.secure = r->secure;
		info.chain = r->chain;
	}
	return w->cb(w->arg, &info);
}

static int on_item(void *arg, const struct aname_cache_item *it)
{
	struct walk *w = arg;
	struct aname_cache_view v = {
		.res = it->res,
		.fresh = it->res != NULL &&
			 !aname__result_expired(it->res, w->now),
		.fail_ms = it->fail_ms,
		.fails = it->fails,
		.fail_status = it->fail_status,
		.key_hash = it->key.hash,
	};
	return report(w, &it->key, &v, it->changed_ms);
}

struct tally_walk {
	aname_ctx_t *ctx;
	uint64_t now;
	uint64_t *by_state;
};

/* Called under a shard lock (aname__cache_scan_slice): no other lock, no
 * allocation.  "Refreshing" is read from the cache's refresh hold, which
 * fetch.c sets for as long as a fetch may run. */
static void tally_item(void *arg, const struct aname_cache_brief *b)
{
	struct tally_walk *t = arg;
	struct walk w = {t->ctx, NULL, NULL, t->now};
	struct aname_cache_view v = {
		.res = (aname_result_t *)b->res,
		.fresh = b->res != NULL &&
			 !aname__result_expired(b->res, t->now),
		.fail_ms = b->fail_ms,
		.fails = b->fails,
		.fail_status = b->fail_status,
		.key_hash = b->key_hash,
	};
	bool running = b->refresh_hold_ms > t->now;
	t->by_state[state_of(&w, &v, running)]++;
}

/* One slice of the pass in \a y (starting one if none runs); true when
 * the pass is finished and its counts are in y->done. */
static bool tally_slice(aname_ctx_t *ctx, struct aname_tally *y,
			uint64_t now)
{
	if (y->pass_started_ms == 0) {
		memset(&y->cur, 0, sizeof(y->cur));
		memset(y->pass, 0, sizeof(y->pass));
		memset(y->shard, 0, sizeof(y->shard));
		y->pass_started_ms = now;
	}
	struct tally_walk t = {ctx, now, y->shard};
	enum aname_scan_step step = aname__cache_scan_slice(
		ctx->cache, &y->cur, ANAME_TALLY_SLICE, tally_item, &t);
	if (step == ANAME_SCAN_RESTART) {
		memset(y->shard, 0, sizeof(y->shard));
		return false;
	}
	if (step == ANAME_SCAN_MORE) {
		return false;
	}
	for (int i = 0; i < ANAME_TARGET_STATE_COUNT_; i++) {
		y->pass[i] += y->shard[i];
		y->shard[i] = 0;
	}
	if (step == ANAME_SCAN_SHARD) {
		return false;
	}
	memcpy(y->done, y->pass, sizeof(y->done));
	y->done_ms = y->pass_started_ms;
	y->finished_ms = now;
	y->pass_started_ms = 0;
	return true;
}

/* The tally's timer: ctx->lock held (timer.c). */
static void on_tally(struct aname_timer *tm, uint64_t now_ms)
{
	aname_ctx_t *ctx = tm->data;
	struct aname_tally *y = &ctx->tally;
	if (!tally_slice(ctx, y, now_ms)) {
		aname__timer_arm(&ctx->timers, tm, now_ms + ANAME_TALLY_ROUND_MS);
		return;
	}
	if (now_ms - y->wanted_ms < ANAME_TALLY_KEEP_MS) {
		uint64_t next = y->done_ms + ANAME_TALLY_PERIOD_MS;
		aname__timer_arm(&ctx->timers, tm, next > now_ms ? next : now_ms);
	}
	/* else nobody reads the gauges: no more passes until one does. */
}

void aname__tally_init(aname_ctx_t *ctx)
{
	memset(&ctx->tally, 0, sizeof(ctx->tally));
	aname__timer_init(&ctx->tally.timer, on_tally, ctx);
}

bool aname__targets_count(aname_ctx_t *ctx, uint64_t now_ms,
			  uint64_t *by_state)
{
	struct aname_tally *y = &ctx->tally;
	pthread_mutex_lock(&ctx->lock);
	y->wanted_ms = now_ms;
	bool armed = y->timer.idx != SIZE_MAX;
	if (!armed) {
		aname__timer_arm(&ctx->timers, &y->timer, now_ms);
	}
	bool recent = y->finished_ms != 0 &&
		      now_ms <= y->finished_ms + ANAME_TALLY_MAX_AGE_MS;
	if (recent) {
		memcpy(by_state, y->done, sizeof(y->done));
	}
	aname__ctx_unlock(ctx);
	if (!armed) {
		aname__loop_wake(&ctx->loop);
	}
	if (recent) {
		return true;
	}
	/* No recent pass (the first call, or a host that stopped running
	 * rounds): count now, in slices, with ctx->lock dropped, but only
	 * a small cache; a large one waits for the loop's pass. */
	if (aname__cache_buckets(ctx->cache) > ANAME_TALLY_INLINE_BUCKETS) {
		return false;
	}
	struct aname_tally own;
	memset(&own, 0, sizeof(own));
	while (!tally_slice(ctx, &own, now_ms)) {
	}
	memcpy(by_state, own.done, sizeof(own.done));
	pthread_mutex_lock(&ctx->lock);
	if (own.done_ms >= y->done_ms) {
		memcpy(y->done, own.done, sizeof(own.done));
		y->done_ms = own.done_ms;
		y->finished_ms = own.finished_ms;
	}
	aname__ctx_unlock(ctx);
	return true;
}

int aname_targets_each(aname_ctx_t *ctx, aname_target_cb cb, void *arg)
{
	if (ctx == NULL || cb == NULL) {
		return ANAME_EINVAL;
	}
	struct walk w = {ctx, cb, arg, aname__now_ms()};
	int rc = aname__cache_each(ctx->cache, on_item, &w);
	if (rc != ANAME_OK) {
		return rc;
	}
	/* Registered targets that have no cache entry yet. */
	struct aname_cache_key *keys = NULL;
	size_t n = 0;
	pthread_mutex_lock(&ctx->lock);
	rc = aname__registry_keys(ctx, &keys, &n);
	aname__ctx_unlock(ctx);
	for (size_t i = 0; rc == ANAME_OK && i < n; i++) {
		struct aname_cache_view v;
		aname__cache_get(ctx->cache, &keys[i], w.now, false, &v);
		bool absent = v.res == NULL && v.fail_ms == 0;
		aname_result_unref(v.res);
		if (absent) {
			memset(&v, 0, sizeof(v));
			rc = report(&w, &keys[i], &v, 0);
		}
	}
	free(keys);
	return rc;
}
