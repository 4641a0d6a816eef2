/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file lookup.c
 * \brief aname_cache_lookup(), aname_cache_lookup_wire() and
 * aname_cache_synth_wire(): the synchronous host's non-blocking path.
 *
 * A fresh hit takes no lock at all (cache.c reads lock-free, ebr.h).  Only when
 * policy.c wants an upstream query (a miss, refresh-ahead, stale data)
 * does a lookup with ANAME_LOOKUP_FETCH take the context lock, ask
 * policy.c again with the fetch table in view, and start or join a
 * background fetch; the answer is for later lookups.
 *
 * aname_cache_synth_wire() is the same lookup with the synthesis done
 * while the read section pins the entry: one clock reading for both, and
 * no reference count to raise and drop (two atomic read-modify-writes
 * that, with the second clock reading, are most of what the two-call
 * path costs more; BENCHMARKS.md section 1 has both).
 */
#include "aname_private.h"

#include "cache.h"
#include "clock.h"
#include "ctx.h"
#include "name.h"
#include "policy.h"
#include "stats.h"
#include "synth.h"
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
	aname__ctx_unlock(ctx);
	if (rc == ANAME_OK) {
		aname__loop_wake(&ctx->loop);
	}
	return rc;
}

static void count_stale(aname_ctx_t *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	aname__stat_inc(&ctx->stats, ANAME_STAT_HITS_STALE);
	aname__stats_event(&ctx->stats, ANAME_EV_STALE, aname__now_ms());
	aname__ctx_unlock(ctx);
}

/* Wire names from hosts are checked only when they are not found: a name
 * equal to a cached key is well-formed, because the key was checked when
 * it was stored and folding never turns a byte into a label length. */
static bool key_len_ok(size_t len)
{
	return len > 0 && len <= ANAME_NAME_MAX;
}

/* \a unchecked: the wire name of \a k when it still needs the check. */
static int lookup_key(aname_ctx_t *ctx, const struct aname_cache_key *k,
		      const uint8_t *unchecked, unsigned flags,
		      aname_result_t **out)
{
	struct aname_cache_view v;
	uint64_t now = aname__now_coarse_ms();
	aname__cache_get(ctx->cache, k, now,
			 (flags & ANAME_LOOKUP_STALE) != 0, &v);
	if (v.res == NULL && unchecked != NULL &&
	    !aname__name_wire_ok(unchecked, k->len)) {
		return ANAME_EBADNAME;
	}
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
		count_stale(ctx);
	}
	*out = v.res;
	return ANAME_OK;
}

static bool lookup_args_ok(const aname_ctx_t *ctx, uint16_t rrtype,
			   unsigned flags)
{
	return ctx != NULL &&
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
	if (target == NULL || out == NULL ||
	    !lookup_args_ok(ctx, rrtype, flags)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(target, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	aname__cache_key(&k, wire, wlen, rrtype);
	return lookup_key(ctx, &k, NULL, flags, out);
}

int aname_cache_lookup_wire(aname_ctx_t *ctx, const uint8_t *target,
			    size_t target_len, uint16_t rrtype, unsigned flags,
			    aname_result_t **out)
{
	struct aname_cache_key k;
	if (out != NULL) {
		*out = NULL;
	}
	if (target == NULL || out == NULL ||
	    !lookup_args_ok(ctx, rrtype, flags)) {
		return ANAME_EINVAL;
	}
	if (!key_len_ok(target_len)) {
		return ANAME_EBADNAME;
	}
	aname__cache_key(&k, target, target_len, rrtype);
	return lookup_key(ctx, &k, target, flags, out);
}

int aname_cache_synth_wire(aname_ctx_t *ctx, const uint8_t *target,
			   size_t target_len, uint16_t rrtype, unsigned flags,
			   const uint8_t *owner, size_t owner_len,
			   uint32_t alias_ttl, uint8_t *buf, size_t buflen,
			   size_t *written, unsigned *info)
{
	struct aname_cache_key k;
	struct aname_cache_view v;
	size_t pos = 0;
	unsigned bits = 0;
	int rrs = ANAME_EAGAIN;
	if (target == NULL || buf == NULL ||
	    !lookup_args_ok(ctx, rrtype, flags)) {
		rrs = ANAME_EINVAL;
		goto out;
	}
	if (!key_len_ok(target_len) || !aname__name_wire_ok(owner, owner_len)) {
		rrs = ANAME_EBADNAME;
		goto out;
	}
	aname__cache_key(&k, target, target_len, rrtype);
	/* One clock reading serves the freshness decision and the TTL. */
	uint64_t now = aname__now_coarse_ms();
	struct aname_policy_input in = { false, false, true, true,
					 aname__watchdog_recovered(ctx) };
	struct aname_cache_hold h = aname__cache_hold(
		ctx->cache, &k, now, (flags & ANAME_LOOKUP_STALE) != 0, &v);
	/* Inside the read section (or the shard lock): decide, and copy the records out. */
	enum aname_action act = aname__policy_decide(&ctx->policy, &v, &in,
						     now);
	if (v.res != NULL) {
		rrs = aname__synth_wire_at(v.res, rrtype, owner, owner_len,
					   alias_ttl, now, buf, buflen, &pos);
		bits = (v.fresh ? 0 : ANAME_ANSWER_STALE) |
		       (v.res->secure ? ANAME_ANSWER_SECURE : 0) |
		       (v.res->rcode == 3 ? ANAME_ANSWER_NXDOMAIN : 0);
	}
	/* Only a lookup that goes upstream needs the view past the lock
	 * (background() asks the policy again): rare, once per TTL. */
	bool upstream = (flags & ANAME_LOOKUP_FETCH) &&
			aname__policy_fetches(act);
	aname__cache_release(h, upstream, &v);
	if (rrs == ANAME_EAGAIN && !aname__name_wire_ok(target, target_len)) {
		rrs = ANAME_EBADNAME; /* a hit proves the name well-formed */
		goto out;
	}
	int rc = ANAME_OK;
	if (upstream) {
		rc = background(ctx, &k, &v, &act);
		aname_result_unref(v.res);
	}
	if (rrs == ANAME_EAGAIN && rc == ANAME_ESHED) {
		rrs = ANAME_ESHED;
	}
	if (rrs >= 0 && (bits & ANAME_ANSWER_STALE)) {
		count_stale(ctx);
	}
out:
	if (written != NULL) {
		*written = rrs >= 0 ? pos : 0;
	}
	if (info != NULL) {
		*info = rrs >= 0 ? bits : 0;
	}
	return rrs;
}
