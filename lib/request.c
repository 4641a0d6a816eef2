/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file request.c
 * \brief aname_resolve(), aname_cancel() and the life of a request; see
 * request.h.  Everything here runs with ctx->lock held, except the
 * callback in aname__request_deliver().
 */
#include "request.h"

#include "clock.h"
#include "ctx.h"
#include "name.h"
#include "policy.h"
#include "stats.h"
#include "watchdog.h"

#include <stdlib.h>
#include <string.h>

static uint16_t type_of(size_t idx)
{
	return idx == 0 ? ANAME_RRTYPE_A : ANAME_RRTYPE_AAAA;
}

static uint64_t req_hash(const void *e)
{
	return ((const struct aname_request *)e)->qid * 0x9e3779b97f4a7c15ull;
}

void aname__requests_init(struct aname_requests *rs)
{
	aname__htab_init(&rs->tab, offsetof(struct aname_request, hlink),
			 req_hash);
	rs->next_qid = 0;
}

static struct aname_request *req_find(struct aname_ctx *ctx, aname_qid_t qid)
{
	struct aname_htab *t = &ctx->reqs.tab;
	for (struct aname_request *r = aname__htab_first(
		     t, qid * 0x9e3779b97f4a7c15ull);
	     r != NULL; r = aname__htab_next(t, r)) {
		if (r->qid == qid) {
			return r;
		}
	}
	return NULL;
}

void aname__request_unhash(struct aname_ctx *ctx, struct aname_request *r)
{
	aname__htab_remove(&ctx->reqs.tab, r);
	r->state = ANAME_REQ_DELIVERING;
}

static void request_free(struct aname_request *r)
{
	for (size_t i = 0; i < 2; i++) {
		aname_result_unref(r->sub[i].res);
	}
	free(r);
}

/* ------------------------------------------------------------ subs */

/* End one sub.  \a res is borrowed; NULL with a failure status. */
static void sub_end(struct aname_ctx *ctx, struct aname_sub *s,
		    aname_result_t *res, int status)
{
	if (s->done) {
		return;
	}
	aname__fetch_leave(ctx, &s->w, false);
	if (res != s->res) {
		aname_result_t *old = s->res;
		s->res = aname_result_ref(res);
		aname_result_unref(old);
	}
	s->status = status;
	s->done = true;
	struct aname_request *r = s->req;
	if (--r->pending == 0) {
		aname__timer_disarm(&ctx->timers, &r->deadline);
		aname__timer_disarm(&ctx->timers, &r->stale_timer);
		r->state = ANAME_REQ_QUEUED;
		aname__loop_queue(&ctx->loop, r);
	}
}

/* Serve the stale candidate the sub holds. */
static void sub_end_stale(struct aname_ctx *ctx, struct aname_sub *s,
			  uint64_t now_ms)
{
	aname__stat_inc(&ctx->stats, ANAME_STAT_HITS_STALE);
	aname__stats_event(&ctx->stats, ANAME_EV_STALE, now_ms);
	sub_end(ctx, s, s->res, ANAME_OK);
}

/* The fetch a sub waited on ended (fetch.c calls this). */
static void sub_on_fetch(struct aname_ctx *ctx, struct aname_waiter *w,
			 aname_result_t *res, int status, uint64_t now_ms)
{
	struct aname_sub *s = (struct aname_sub *)w;
	if (status == ANAME_OK) {
		/* An answer with no time left is no fresher than a stale
		 * candidate. */
		bool expired = aname__result_expired(res, now_ms);
		if (expired && s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			sub_end(ctx, s, res, ANAME_OK);
		}
	} else if (s->res != NULL) {
		sub_end_stale(ctx, s, now_ms);
	} else {
		if (status == ANAME_ETIMEDOUT) {
			aname__stat_inc(&ctx->stats, ANAME_STAT_TIMEOUTS);
		}
		sub_end(ctx, s, NULL, status);
	}
}

/* Start one type of a request, as policy.c decides.  Returns true when a
 * stale candidate waits on a refresh (arm the client response timer). */
static bool sub_begin(struct aname_ctx *ctx, struct aname_request *r,
		      size_t i, const uint8_t *wire, size_t wlen,
		      uint64_t now_ms)
{
	struct aname_sub *s = &r->sub[i];
	struct aname_cache_key k;
	struct aname_cache_view v;
	aname__cache_key(&k, wire, wlen, type_of(i));
	aname__cache_get(ctx->cache, &k, now_ms, true, &v);
	struct aname_policy_input in = {
		.waits = true,
		.fetch_running = aname__fetch_running(ctx, &k),
		.room_fetch = aname__fetch_room(ctx),
		.room_waiter = aname__fetch_waiter_room(ctx),
		.recovered_ms = aname__watchdog_recovered(ctx),
	};
	enum aname_action act = aname__policy_decide(&ctx->policy, &v, &in,
						     now_ms);
	s->res = v.res; /* the answer, or the stale candidate */
	int rc;
	switch (act) {
	case ANAME_ACT_SERVE_REFRESH:
		aname__fetch_join(ctx, &k, r->target, NULL, 0, now_ms);
		/* fall through */
	case ANAME_ACT_SERVE:
		sub_end(ctx, s, s->res, ANAME_OK);
		return false;
	case ANAME_ACT_STALE_REFRESH:
		aname__fetch_join(ctx, &k, r->target, NULL, 0, now_ms);
		sub_end_stale(ctx, s, now_ms);
		return false;
	case ANAME_ACT_STALE:
		if (aname__policy_backing_off(&ctx->policy, &v,
					      in.recovered_ms, now_ms)) {
			aname__stat_inc(&ctx->stats,
					ANAME_STAT_BACKOFF_SKIPS);
		}
		sub_end_stale(ctx, s, now_ms);
		return false;
	case ANAME_ACT_STALE_WAIT:
	case ANAME_ACT_FETCH:
		rc = aname__fetch_join(ctx, &k, r->target, &s->w,
				       r->deadline.when_ms, now_ms);
		if (rc == ANAME_OK) {
			return act == ANAME_ACT_STALE_WAIT;
		}
		if (s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			sub_end(ctx, s, NULL, rc);
		}
		return false;
	case ANAME_ACT_FAIL:
		aname__stat_inc(&ctx->stats, ANAME_STAT_BACKOFF_SKIPS);
		aname__stats_event(&ctx->stats, ANAME_EV_FAILURE, now_ms);
		sub_end(ctx, s, NULL, v.fail_status);
		return false;
	case ANAME_ACT_SHED:
		aname__stat_inc(&ctx->stats, ANAME_STAT_SHED);
		aname__stats_event(&ctx->stats, ANAME_EV_SHED, now_ms);
		sub_end(ctx, s, NULL, ANAME_ESHED);
		return false;
	}
	return false;
}

/* ------------------------------------------------------------ timers */

static void on_deadline(struct aname_timer *t, uint64_t now_ms)
{
	struct aname_request *r = t->data;
	for (size_t i = 0; i < 2 && r->state == ANAME_REQ_PENDING; i++) {
		struct aname_sub *s = &r->sub[i];
		if (s->done) {
			continue;
		}
		if (s->res != NULL) {
			sub_end_stale(r->ctx, s, now_ms);
		} else {
			/* Counted for health now, not when the fetch behind
			 * it gives up (which may be much later). */
			aname__stat_inc(&r->ctx->stats, ANAME_STAT_TIMEOUTS);
			aname__stats_event(&r->ctx->stats, ANAME_EV_TIMEOUT,
					   now_ms);
			sub_end(r->ctx, s, NULL, ANAME_ETIMEDOUT);
		}
	}
}

/* RFC 8767 client response timer: the refresh took too long. */
static void on_stale_timer(struct aname_timer *t, uint64_t now_ms)
{
	struct aname_request *r = t->data;
	for (size_t i = 0; i < 2 && r->state == ANAME_REQ_PENDING; i++) {
		struct aname_sub *s = &r->sub[i];
		if (!s->done && s->res != NULL) {
			sub_end_stale(r->ctx, s, now_ms);
		}
	}
}

/* ------------------------------------------------------------ public */

static struct aname_request *request_new(aname_ctx_t *ctx, const char *target,
					 uint16_t rrtype, aname_resolve_cb cb,
					 void *arg, uint8_t *wire,
					 size_t *wlen, int *rc)
{
	*rc = aname__name_parse(target, wire, wlen);
	if (*rc != ANAME_OK) {
		return NULL;
	}
	aname__name_lower(wire, *wlen);
	struct aname_request *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		*rc = ANAME_ENOMEM;
		return NULL;
	}
	if (aname__name_to_text(wire, *wlen, r->target, sizeof(r->target)) <
	    0) {
		free(r);
		*rc = ANAME_EBADNAME;
		return NULL;
	}
	r->ctx = ctx;
	r->cb = cb;
	r->arg = arg;
	r->rrtype = rrtype;
	aname__timer_init(&r->deadline, on_deadline, r);
	aname__timer_init(&r->stale_timer, on_stale_timer, r);
	for (size_t i = 0; i < 2; i++) {
		r->sub[i].w.cb = sub_on_fetch;
		r->sub[i].req = r;
		r->sub[i].done = true;
	}
	return r;
}

int aname_resolve(aname_ctx_t *ctx, const char *target, uint16_t rrtype,
		  unsigned timeout_ms, aname_resolve_cb cb, void *arg,
		  aname_qid_t *qid)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen;
	int rc;
	if (qid != NULL) {
		*qid = 0;
	}
	if (ctx == NULL || target == NULL || cb == NULL ||
	    (rrtype != ANAME_RRTYPE_A && rrtype != ANAME_RRTYPE_AAAA &&
	     rrtype != ANAME_RRTYPE_BOTH) ||
	    timeout_ms > 600000) {
		return ANAME_EINVAL;
	}
	struct aname_request *r =
		request_new(ctx, target, rrtype, cb, arg, wire, &wlen, &rc);
	if (r == NULL) {
		return rc;
	}
	pthread_mutex_lock(&ctx->lock);
	if (ctx->freeing) {
		aname__ctx_unlock(ctx);
		free(r);
		return ANAME_EBUSY;
	}
	uint64_t now = aname__now_ms();
	unsigned t = timeout_ms != 0 ? timeout_ms : ctx->cfg.timeout_ms;
	r->qid = ++ctx->reqs.next_qid;
	/* +1: now is truncated to the millisecond, and a deadline must never
	 * fire early. */
	if (aname__htab_insert(&ctx->reqs.tab, r) != ANAME_OK) {
		aname__ctx_unlock(ctx);
		free(r);
		return ANAME_ENOMEM;
	}
	if (aname__timer_arm(&ctx->timers, &r->deadline, now + t + 1) !=
	    ANAME_OK) {
		aname__htab_remove(&ctx->reqs.tab, r);
		aname__ctx_unlock(ctx);
		free(r);
		return ANAME_ENOMEM;
	}
	r->state = ANAME_REQ_PENDING;
	bool want[2] = {rrtype != ANAME_RRTYPE_AAAA,
			rrtype != ANAME_RRTYPE_A};
	for (size_t i = 0; i < 2; i++) {
		if (want[i]) {
			r->sub[i].done = false;
			r->pending++;
		}
	}
	aname__stats_event(&ctx->stats, ANAME_EV_REQUEST, now);
	bool stale_wait = false;
	for (size_t i = 0; i < 2 && r->state == ANAME_REQ_PENDING; i++) {
		if (want[i]) {
			stale_wait |= sub_begin(ctx, r, i, wire, wlen, now);
		}
	}
	if (stale_wait && r->state == ANAME_REQ_PENDING) {
		uint64_t when = now + ctx->cfg.stale_client_timeout_ms + 1;
		if (when < r->deadline.when_ms) {
			aname__timer_arm(&ctx->timers, &r->stale_timer, when);
		}
	}
	if (qid != NULL) {
		*qid = r->qid;
	}
	aname__ctx_unlock(ctx);
	/* The loop recomputes its timeout: this request has a deadline. */
	aname__loop_wake(&ctx->loop);
	return ANAME_OK;
}

int aname_cancel(aname_ctx_t *ctx, aname_qid_t qid)
{
	if (ctx == NULL || qid == 0) {
		return ctx == NULL ? ANAME_EINVAL : ANAME_ENOENT;
	}
	pthread_mutex_lock(&ctx->lock);
	struct aname_request *r = req_find(ctx, qid);
	if (r == NULL) {
		aname__ctx_unlock(ctx);
		return ANAME_ENOENT;
	}
	aname__htab_remove(&ctx->reqs.tab, r);
	if (r->state == ANAME_REQ_QUEUED) {
		aname__loop_unqueue(&ctx->loop, r);
	}
	aname__timer_disarm(&ctx->timers, &r->deadline);
	aname__timer_disarm(&ctx->timers, &r->stale_timer);
	for (size_t i = 0; i < 2; i++) {
		aname__fetch_leave(ctx, &r->sub[i].w, true);
	}
	aname__stat_inc(&ctx->stats, ANAME_STAT_CANCELLATIONS);
	aname__ctx_unlock(ctx);
	request_free(r);
	return ANAME_OK;
}

/* The result handed to a request's callback; status through *status. */
static aname_result_t *final_result(struct aname_request *r, int *status)
{
	if (r->rrtype != ANAME_RRTYPE_BOTH) {
		struct aname_sub *s =
			&r->sub[r->rrtype == ANAME_RRTYPE_A ? 0 : 1];
		*status = s->status;
		return s->status == ANAME_OK ? aname_result_ref(s->res) : NULL;
	}
	int st0 = r->sub[0].status, st1 = r->sub[1].status;
	if (st0 != ANAME_OK && st1 != ANAME_OK) {
		*status = st0;
		return NULL;
	}
	aname_result_t *res = aname__result_both(
		r->target, st0 == ANAME_OK ? r->sub[0].res : NULL, st0,
		st1 == ANAME_OK ? r->sub[1].res : NULL, st1);
	*status = res != NULL ? ANAME_OK : ANAME_ENOMEM;
	return res;
}

void aname__request_deliver(struct aname_request *r)
{
	int status;
	aname_result_t *res = final_result(r, &status);
	r->cb(r->arg, status, res);
	aname_result_unref(res);
	request_free(r);
}

void aname__requests_abort(struct aname_ctx *ctx, int status)
{
	struct aname_request *list = NULL, *r;
	pthread_mutex_lock(&ctx->lock);
	while ((r = aname__htab_pop(&ctx->reqs.tab)) != NULL) {
		aname__timer_disarm(&ctx->timers, &r->deadline);
		aname__timer_disarm(&ctx->timers, &r->stale_timer);
		for (size_t i = 0; i < 2; i++) {
			aname__fetch_leave(ctx, &r->sub[i].w, false);
		}
		r->qnext = list;
		list = r;
	}
	aname__htab_free(&ctx->reqs.tab);
	aname__ctx_unlock(ctx);
	/* Every request not yet delivered ends in exactly one callback, even
	 * now: pending and queued alike. */
	while (list != NULL) {
		r = list;
		list = r->qnext;
		r->cb(r->arg, status, NULL);
		request_free(r);
	}
}
