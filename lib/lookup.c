/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file lookup.c
 * \brief aname_cache_lookup() and aname_cache_lookup_wire(): the
 * synchronous host's non-blocking path.
 *
 * A fresh hit takes one cache shard lock and nothing else.  Only when
 * policy.c wants an upstream query (a miss, refresh-ahead, stale data)
 * does a lookup with ANAME_LOOKUP_FETCH take the context lock, ask
 * policy.c again with the fetch table in view, and start or join a
 * background fetch; the answer is for later lookups.
 */
#include "aname_private.h"

#include "cache.h"
#include "clock.h"
#include "ctx.h"
#include "name.h"
#include "policy.h"
#include "stats.h"
#include "watchdog.h"

static int background(aname_ctx_t *ctx, const struct aname_cache_key *k,
		      const struct aname_cache_view *v, enum aname_action *act)
{
	char qname[ANAME_TEXT_MAX];
	int rc = ANAME_OK;
	if (aname__name_to_text(k->name, k->len, qname, sizeof(qname)) < 0) {
		return ANAME_EBADNAME;
	}
	pthread_mutex_lock(&ctx->lock);
	uint64_t now = aname__now_ms();
	struct aname_policy_input in = {
		.waits = false,
		.fetch_running = aname__fetch_running(ctx, k),
		.room_fetch = aname__fetch_room(ctx),
		.room_waiter = true,
		.recovered_ms = aname__watchdog_recovered(ctx),
	};
	*act = ctx->freeing ? ANAME_ACT_STALE
			    : aname__policy_decide(&ctx->policy, v, &in, now);
	if (aname__policy_fetches(*act)) {
		rc = aname__fetch_join(ctx, k, qname, NULL, 0, now);
	} else if (*act == ANAME_ACT_SHED) {
		aname__stat_inc(&ctx->stats, ANAME_STAT_SHED);
		aname__stats_event(&ctx->stats, ANAME_EV_SHED, now);
		rc = ANAME_ESHED;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc == ANAME_OK) {
		aname__loop_wake(&ctx->loop);
	}
	return rc;
}

static int lookup_key(aname_ctx_t *ctx, const struct aname_cache_key *k,
		      unsigned flags, aname_result_t **out)
{
	struct aname_cache_view v;
	uint64_t now = aname__now_coarse_ms();
	aname__cache_get(ctx->cache, k, now,
			 (flags & ANAME_LOOKUP_STALE) != 0, &v);
	/* First without the context lock: as if a fetch could start. */
	struct aname_policy_input in = {false, false, true, true,
					aname__watchdog_recovered(ctx)};
	enum aname_action act = aname__policy_decide(&ctx->policy, &v, &in,
						     now);
	int rc = ANAME_OK;
	if ((flags & ANAME_LOOKUP_FETCH) && aname__policy_fetches(act)) {
		rc = background(ctx, k, &v, &act);
	}
	if (v.res == NULL) {
		return rc == ANAME_ESHED ? ANAME_ESHED : ANAME_EAGAIN;
	}
	if (!v.fresh) {
		pthread_mutex_lock(&ctx->lock);
		aname__stat_inc(&ctx->stats, ANAME_STAT_HITS_STALE);
		aname__stats_event(&ctx->stats, ANAME_EV_STALE,
				   aname__now_ms());
		pthread_mutex_unlock(&ctx->lock);
	}
	*out = v.res;
	return ANAME_OK;
}

static bool lookup_args_ok(const aname_ctx_t *ctx, uint16_t rrtype,
			   unsigned flags, aname_result_t **out)
{
	return ctx != NULL && out != NULL &&
	       (rrtype == ANAME_RRTYPE_A || rrtype == ANAME_RRTYPE_AAAA) &&
	       (flags & ~(ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE)) == 0;
}

int aname_cache_lookup(aname_ctx_t *ctx, const char *target, uint16_t rrtype,
		       unsigned flags, aname_result_t **out)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen;
	struct aname_cache_key k;
	if (out != NULL) {
		*out = NULL;
	}
	if (target == NULL || !lookup_args_ok(ctx, rrtype, flags, out)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(target, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	aname__cache_key(&k, wire, wlen, rrtype);
	return lookup_key(ctx, &k, flags, out);
}

int aname_cache_lookup_wire(aname_ctx_t *ctx, const uint8_t *target,
			    size_t target_len, uint16_t rrtype, unsigned flags,
			    aname_result_t **out)
{
	struct aname_cache_key k;
	if (out != NULL) {
		*out = NULL;
	}
	if (target == NULL || !lookup_args_ok(ctx, rrtype, flags, out)) {
		return ANAME_EINVAL;
	}
	if (!aname__name_wire_ok(target, target_len)) {
		return ANAME_EBADNAME;
	}
	aname__cache_key(&k, target, target_len, rrtype);
	return lookup_key(ctx, &k, flags, out);
}
