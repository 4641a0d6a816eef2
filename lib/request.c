/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file request.c
 * \brief Requests, coalesced upstream fetches, deadlines, serve-stale,
 * backoff, shedding and target registration.
 *
 * A request wants one or two types; each type is a subscription ("sub")
 * that ends exactly once: from a fresh cache entry, from the fetch it
 * joined, from stale data (client response timer, failed refresh, backoff,
 * shedding), or from the request's deadline.  When the last sub ends the
 * request is queued for delivery; ctx.c runs the callback.  The invariant
 * tested in tests/test_contract.c: every accepted request ends in exactly
 * one callback or one successful aname_cancel().
 *
 * A fetch is one libunbound resolution of (name, type), shared by every sub
 * that wants it (coalescing) and by background refreshes.  It has its own
 * deadline, at least as late as each sub's; at that point it is cancelled
 * upstream and counted as a timeout for backoff.  Everything here runs
 * with ctx->lock held.
 */
#include "aname_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint16_t type_of(size_t idx)
{
	return idx == 0 ? ANAME_RRTYPE_A : ANAME_RRTYPE_AAAA;
}

/* ------------------------------------------------------------ hash tables */

static int table_grow(void ***tab, size_t *mask, size_t n, size_t next_off,
		      uint64_t (*hash)(const void *))
{
	size_t nmask = *mask ? *mask * 2 + 1 : 63;
	void **nt = calloc(nmask + 1, sizeof(*nt));
	if (nt == NULL) {
		return ANAME_ENOMEM;
	}
	for (size_t i = 0; *tab != NULL && i <= *mask; i++) {
		void *e = (*tab)[i];
		while (e != NULL) {
			void **link = (void **)((char *)e + next_off);
			void *next = *link;
			size_t b = hash(e) & nmask;
			*link = nt[b];
			nt[b] = e;
			e = next;
		}
	}
	(void)n;
	free(*tab);
	*tab = nt;
	*mask = nmask;
	return ANAME_OK;
}

static uint64_t req_hash(const void *e)
{
	const struct aname_request *r = e;
	return r->qid * 0x9e3779b97f4a7c15ull;
}

static uint64_t fetch_hash(const void *e)
{
	return ((const struct aname_fetch *)e)->key.hash;
}

static uint64_t reg_hash(const void *e)
{
	return ((const struct aname_reg *)e)->key.hash;
}

static bool key_eq(const struct aname_cache_key *a,
		   const struct aname_cache_key *b)
{
	return a->hash == b->hash && a->rrtype == b->rrtype &&
	       a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

static int req_insert(struct aname_ctx *ctx, struct aname_request *r)
{
	if (ctx->n_reqs + 1 > ctx->reqs_mask) {
		int rc = table_grow((void ***)&ctx->reqs, &ctx->reqs_mask,
				    ctx->n_reqs,
				    offsetof(struct aname_request, hnext),
				    req_hash);
		if (rc != ANAME_OK) {
			return rc;
		}
	}
	size_t b = req_hash(r) & ctx->reqs_mask;
	r->hnext = ctx->reqs[b];
	ctx->reqs[b] = r;
	ctx->n_reqs++;
	return ANAME_OK;
}

static struct aname_request **req_slot(struct aname_ctx *ctx, aname_qid_t qid)
{
	if (ctx->reqs == NULL) {
		return NULL;
	}
	struct aname_request key = {.qid = qid};
	struct aname_request **pp = &ctx->reqs[req_hash(&key) & ctx->reqs_mask];
	while (*pp != NULL && (*pp)->qid != qid) {
		pp = &(*pp)->hnext;
	}
	return *pp != NULL ? pp : NULL;
}

void aname__request_unhash(struct aname_ctx *ctx, struct aname_request *r)
{
	struct aname_request **pp = req_slot(ctx, r->qid);
	if (pp != NULL) {
		*pp = r->hnext;
		ctx->n_reqs--;
	}
}

static struct aname_fetch *fetch_find(struct aname_ctx *ctx,
				      const struct aname_cache_key *k)
{
	if (ctx->fetches == NULL) {
		return NULL;
	}
	for (struct aname_fetch *f = ctx->fetches[k->hash & ctx->fetches_mask];
	     f != NULL; f = f->hnext) {
		if (key_eq(&f->key, k)) {
			return f;
		}
	}
	return NULL;
}

static void fetch_unhash(struct aname_ctx *ctx, struct aname_fetch *f)
{
	if (ctx->fetches == NULL) {
		return;
	}
	struct aname_fetch **pp = &ctx->fetches[f->key.hash & ctx->fetches_mask];
	while (*pp != NULL && *pp != f) {
		pp = &(*pp)->hnext;
	}
	if (*pp == f) {
		*pp = f->hnext;
	}
	f->hnext = NULL;
}

static struct aname_reg *reg_find(struct aname_ctx *ctx,
				  const struct aname_cache_key *k,
				  struct aname_reg ***slot)
{
	if (ctx->regs == NULL) {
		return NULL;
	}
	struct aname_reg **pp = &ctx->regs[k->hash & ctx->regs_mask];
	while (*pp != NULL && !key_eq(&(*pp)->key, k)) {
		pp = &(*pp)->hnext;
	}
	if (slot != NULL) {
		*slot = pp;
	}
	return *pp;
}

/* ------------------------------------------------------------ delivery */

void aname__wake(struct aname_ctx *ctx)
{
	if (!atomic_exchange(&ctx->wake_pending, true)) {
		uint64_t one = 1;
		ssize_t w = write(ctx->wakefd, &one, sizeof(one));
		(void)w; /* an eventfd write only fails when it is saturated */
	}
}

/* All subs ended: queue the request for its callback. */
static void complete(struct aname_ctx *ctx, struct aname_request *r)
{
	aname__timer_disarm(&ctx->timers, &r->deadline);
	aname__timer_disarm(&ctx->timers, &r->stale_timer);
	r->state = ANAME_REQ_QUEUED;
	r->qnext = NULL;
	if (ctx->queue_tail != NULL) {
		ctx->queue_tail->qnext = r;
	} else {
		ctx->queue_head = r;
	}
	ctx->queue_tail = r;
	aname__wake(ctx);
}

static void sub_detach(struct aname_ctx *ctx, struct aname_sub *s)
{
	struct aname_fetch *f = s->fetch;
	if (f == NULL) {
		return;
	}
	if (s->prev != NULL) {
		s->prev->next = s->next;
	} else {
		f->subs = s->next;
	}
	if (s->next != NULL) {
		s->next->prev = s->prev;
	}
	s->prev = s->next = NULL;
	s->fetch = NULL;
	f->n_subs--;
	ctx->n_waiters--;
}

/* End one sub.  \a res is borrowed; NULL with a failure status. */
static void sub_end(struct aname_ctx *ctx, struct aname_sub *s,
		    aname_result_t *res, int status)
{
	if (s->done) {
		return;
	}
	sub_detach(ctx, s);
	if (res != s->res) {
		aname_result_t *old = s->res;
		s->res = aname_result_ref(res);
		aname_result_unref(old);
	}
	s->status = status;
	s->done = true;
	if (--s->req->pending == 0) {
		complete(ctx, s->req);
	}
}

/* Serve the stale candidate the sub holds. */
static void sub_end_stale(struct aname_ctx *ctx, struct aname_sub *s,
			  uint64_t now_ms)
{
	ctx->stats.v[ANAME_STAT_HITS_STALE]++;
	aname__stats_event(&ctx->stats, ANAME_EV_STALE, now_ms);
	sub_end(ctx, s, s->res, ANAME_OK);
}

/* ------------------------------------------------------------ fetches */

static void fetch_free(struct aname_ctx *ctx, struct aname_fetch *f)
{
	aname__timer_disarm(&ctx->timers, &f->deadline);
	fetch_unhash(ctx, f);
	if (f->prev != NULL) {
		f->prev->next = f->next;
	} else {
		ctx->oldest = f->next;
	}
	if (f->next != NULL) {
		f->next->prev = f->prev;
	} else {
		ctx->newest = f->prev;
	}
	ctx->n_fetches--;
	free(f);
}

int aname__fetch_start(struct aname_ctx *ctx, const struct aname_cache_key *k,
		       const char *qname, bool background, uint64_t now_ms,
		       struct aname_fetch **out)
{
	struct aname_fetch *f = fetch_find(ctx, k);
	if (f != NULL) {
		f->background = f->background || background;
		*out = f;
		return ANAME_OK;
	}
	if (ctx->n_fetches >= ctx->cfg.max_fetches) {
		ctx->stats.v[ANAME_STAT_SHED]++;
		aname__stats_event(&ctx->stats, ANAME_EV_SHED, now_ms);
		aname__log(&ctx->log, ANAME_LOG_WARNING,
			   "shedding: %zu resolutions in flight, not "
			   "resolving %s",
			   ctx->n_fetches, qname);
		return ANAME_ESHED;
	}
	if (ctx->n_fetches + 1 > ctx->fetches_mask) {
		int rc = table_grow((void ***)&ctx->fetches,
				    &ctx->fetches_mask, ctx->n_fetches,
				    offsetof(struct aname_fetch, hnext),
				    fetch_hash);
		if (rc != ANAME_OK) {
			return rc;
		}
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		return ANAME_ENOMEM;
	}
	f->key = *k;
	snprintf(f->qname, sizeof(f->qname), "%s", qname);
	f->ctx = ctx;
	f->started_ms = now_ms;
	f->deadline.idx = SIZE_MAX;
	f->deadline.kind = ANAME_T_FETCH_DEADLINE;
	f->deadline.owner = f;
	f->background = background;
	if (aname__ub_submit(ctx, f) != ANAME_OK) {
		free(f);
		return ANAME_ERESOLVER;
	}
	size_t b = k->hash & ctx->fetches_mask;
	f->hnext = ctx->fetches[b];
	ctx->fetches[b] = f;
	f->prev = ctx->newest;
	if (ctx->newest != NULL) {
		ctx->newest->next = f;
	} else {
		ctx->oldest = f;
	}
	ctx->newest = f;
	ctx->n_fetches++;
	aname__cache_refresh_started(ctx->cache, k);
	aname__timer_arm(&ctx->timers, &f->deadline,
			 now_ms + ctx->cfg.timeout_ms + 1);
	if (background) {
		ctx->stats.v[ANAME_STAT_PREFETCHES]++;
	}
	*out = f;
	return ANAME_OK;
}

static void count_answer(struct aname_ctx *ctx, const aname_result_t *res,
			 int status, uint64_t now_ms)
{
	int stat;
	switch (status) {
	case ANAME_OK:
		stat = res->rcode == 3	    ? ANAME_STAT_ANSWERS_NXDOMAIN
		       : res->count == 0 ? ANAME_STAT_ANSWERS_NODATA
					 : ANAME_STAT_ANSWERS_NOERROR;
		break;
	case ANAME_EREFUSED:
		stat = ANAME_STAT_ANSWERS_REFUSED;
		break;
	case ANAME_EBOGUS:
		stat = ANAME_STAT_ANSWERS_BOGUS;
		break;
	case ANAME_EMALFORMED:
	case ANAME_ELOOP:
		stat = ANAME_STAT_ANSWERS_MALFORMED;
		break;
	default:
		stat = ANAME_STAT_ANSWERS_SERVFAIL;
		break;
	}
	ctx->stats.v[stat]++;
	aname__stats_event(&ctx->stats,
			   status == ANAME_OK ? ANAME_EV_OK : ANAME_EV_FAILURE,
			   now_ms);
}

/* End every sub of \a f after a failure: stale data where a sub has it,
 * else the failure. */
static void fail_subs(struct aname_ctx *ctx, struct aname_fetch *f,
		      int status, uint64_t now_ms)
{
	while (f->subs != NULL) {
		struct aname_sub *s = f->subs;
		if (s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			if (status == ANAME_ETIMEDOUT) {
				ctx->stats.v[ANAME_STAT_TIMEOUTS]++;
			}
			sub_end(ctx, s, NULL, status);
		}
	}
}

void aname__fetch_answer(struct aname_ctx *ctx, struct aname_fetch *f,
			 aname_result_t *res, int status, uint64_t now_ms)
{
	f->submitted = false;
	aname__stats_latency(&ctx->stats, now_ms - f->started_ms);
	count_answer(ctx, res, status, now_ms);
	if (f->orphaned) {
		/* Its subs were already ended by the deadline; still worth
		 * caching what came back. */
		if (status == ANAME_OK && res->ttl > 0) {
			aname__cache_put(ctx->cache, &f->key, res, now_ms);
		}
		fetch_free(ctx, f);
		return;
	}
	if (status == ANAME_OK) {
		if (res->ttl > 0) {
			aname__cache_put(ctx->cache, &f->key, res, now_ms);
		} else {
			aname__cache_refresh_done(ctx->cache, &f->key);
		}
		bool expired = res->ttl == 0 ||
			       aname__result_expired(res, now_ms);
		while (f->subs != NULL) {
			struct aname_sub *s = f->subs;
			/* An answer with no time left (libunbound's last
			 * second of a cached copy) is no fresher than a stale
			 * candidate: serve that, marked stale. */
			if (expired && s->res != NULL) {
				sub_end_stale(ctx, s, now_ms);
			} else {
				sub_end(ctx, s, res, ANAME_OK);
			}
		}
	} else {
		aname__cache_fail(ctx->cache, &f->key, status, now_ms);
		aname__log(&ctx->log, ANAME_LOG_INFO, "resolving %s %s: %s",
			   f->qname,
			   f->key.rrtype == ANAME_RRTYPE_A ? "A" : "AAAA",
			   aname_strerror(status));
		fail_subs(ctx, f, status, now_ms);
	}
	fetch_free(ctx, f);
}

void aname__fetch_timeout(struct aname_ctx *ctx, struct aname_fetch *f,
			  uint64_t now_ms)
{
	aname__timer_disarm(&ctx->timers, &f->deadline);
	if (f->orphaned) {
		fetch_free(ctx, f);
		return;
	}
	aname__ub_cancel(ctx, f);
	aname__stats_event(&ctx->stats, ANAME_EV_TIMEOUT, now_ms);
	aname__cache_fail(ctx->cache, &f->key, ANAME_ETIMEDOUT, now_ms);
	aname__log(&ctx->log, ANAME_LOG_INFO,
		   "resolving %s: no answer within %u ms", f->qname,
		   (unsigned)(now_ms - f->started_ms));
	fail_subs(ctx, f, ANAME_ETIMEDOUT, now_ms);
	if (f->submitted) {
		/* libunbound is delivering the answer right now: let its
		 * callback free the fetch.  Out of the table, so new
		 * requests start afresh. */
		f->orphaned = true;
		fetch_unhash(ctx, f);
		return;
	}
	fetch_free(ctx, f);
}

/* ------------------------------------------------------------ subs */

/* Join (or start) the fetch for \a k; false when it cannot be had. */
static int sub_join(struct aname_ctx *ctx, struct aname_sub *s,
		    const struct aname_cache_key *k, const char *qname,
		    uint64_t deadline_ms, uint64_t now_ms)
{
	struct aname_fetch *f = NULL;
	if (ctx->n_waiters >= ctx->cfg.max_waiters) {
		ctx->stats.v[ANAME_STAT_SHED]++;
		aname__stats_event(&ctx->stats, ANAME_EV_SHED, now_ms);
		return ANAME_ESHED;
	}
	bool existed = fetch_find(ctx, k) != NULL;
	int rc = aname__fetch_start(ctx, k, qname, false, now_ms, &f);
	if (rc != ANAME_OK) {
		return rc;
	}
	if (existed) {
		ctx->stats.v[ANAME_STAT_COALESCED]++;
	}
	s->fetch = f;
	s->prev = NULL;
	s->next = f->subs;
	if (f->subs != NULL) {
		f->subs->prev = s;
	}
	f->subs = s;
	f->n_subs++;
	ctx->n_waiters++;
	if (f->deadline.when_ms < deadline_ms) {
		aname__timer_arm(&ctx->timers, &f->deadline, deadline_ms);
	}
	return ANAME_OK;
}

/* Start one type of a request.  Returns true when a stale candidate is
 * waiting on a refresh (the caller arms the client response timer). */
static bool sub_begin(struct aname_ctx *ctx, struct aname_request *r,
		      size_t i, const uint8_t *wire, size_t wlen,
		      uint64_t now_ms)
{
	struct aname_sub *s = &r->sub[i];
	struct aname_cache_key k;
	struct aname_cache_probe p;
	aname__cache_key(&k, wire, wlen, type_of(i));
	aname__cache_get(ctx->cache, &k, now_ms, ctx->cfg.max_stale_s,
			 ctx->cfg.prefetch_percent, ctx->cfg.backoff_s, true,
			 &p);
	s->res = p.res; /* the answer, or the stale candidate */
	if (p.state == ANAME_CACHE_FRESH) {
		if (p.want_refresh) {
			struct aname_fetch *f;
			if (aname__fetch_start(ctx, &k, r->target, true, now_ms,
					       &f) != ANAME_OK) {
				aname__cache_refresh_done(ctx->cache, &k);
			}
		}
		sub_end(ctx, s, s->res, ANAME_OK);
		return false;
	}
	if (p.state == ANAME_CACHE_STALE) {
		ctx->stats.v[ANAME_STAT_MISSES]++; /* not fresh */
	}
	if (p.in_backoff) {
		ctx->stats.v[ANAME_STAT_BACKOFF_SKIPS]++;
		if (s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			aname__stats_event(&ctx->stats, ANAME_EV_FAILURE,
					   now_ms);
			sub_end(ctx, s, NULL, p.fail_status);
		}
		return false;
	}
	int rc = sub_join(ctx, s, &k, r->target, r->deadline.when_ms, now_ms);
	if (rc != ANAME_OK) {
		if (p.want_refresh) {
			aname__cache_refresh_done(ctx->cache, &k);
		}
		if (s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			sub_end(ctx, s, NULL, rc);
		}
		return false;
	}
	if (s->res != NULL && ctx->cfg.stale_client_timeout_ms == 0) {
		/* Answer stale at once; the refresh runs on without us. */
		sub_end_stale(ctx, s, now_ms);
		return false;
	}
	return s->res != NULL;
}

static void request_free(struct aname_request *r)
{
	for (size_t i = 0; i < 2; i++) {
		aname_result_unref(r->sub[i].res);
	}
	free(r);
}

int aname_resolve(aname_ctx_t *ctx, const char *target, uint16_t rrtype,
		  unsigned timeout_ms, aname_resolve_cb cb, void *arg,
		  aname_qid_t *qid)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen;
	if (qid != NULL) {
		*qid = 0;
	}
	if (ctx == NULL || target == NULL || cb == NULL ||
	    (rrtype != ANAME_RRTYPE_A && rrtype != ANAME_RRTYPE_AAAA &&
	     rrtype != ANAME_RRTYPE_BOTH) ||
	    timeout_ms > 600000) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(target, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	aname__name_lower(wire, wlen);
	struct aname_request *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ANAME_ENOMEM;
	}
	if (aname__name_to_text(wire, wlen, r->target, sizeof(r->target)) <
	    0) {
		free(r);
		return ANAME_EBADNAME;
	}
	r->cb = cb;
	r->arg = arg;
	r->rrtype = rrtype;
	r->deadline.idx = r->stale_timer.idx = SIZE_MAX;
	r->deadline.kind = ANAME_T_REQ_DEADLINE;
	r->stale_timer.kind = ANAME_T_REQ_STALE;
	r->deadline.owner = r->stale_timer.owner = r;
	for (size_t i = 0; i < 2; i++) {
		r->sub[i].req = r;
		r->sub[i].done = true;
	}

	pthread_mutex_lock(&ctx->lock);
	if (ctx->freeing) {
		pthread_mutex_unlock(&ctx->lock);
		free(r);
		return ANAME_EBUSY;
	}
	uint64_t now = aname__now_ms();
	unsigned t = timeout_ms != 0 ? timeout_ms : ctx->cfg.timeout_ms;
	r->qid = ++ctx->next_qid;
	/* +1: now is truncated to the millisecond, and a deadline must never
	 * fire early. */
	if (req_insert(ctx, r) != ANAME_OK ||
	    aname__timer_arm(&ctx->timers, &r->deadline, now + t + 1) !=
		    ANAME_OK) {
		aname__request_unhash(ctx, r);
		pthread_mutex_unlock(&ctx->lock);
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
	pthread_mutex_unlock(&ctx->lock);
	/* A request that is still pending may be answered by a fetch that
	 * the host's loop does not know about yet; the wake covers both. */
	aname__wake(ctx);
	return ANAME_OK;
}

void aname__request_deadline(struct aname_ctx *ctx, struct aname_request *r,
			     uint64_t now_ms)
{
	for (size_t i = 0; i < 2 && r->state == ANAME_REQ_PENDING; i++) {
		struct aname_sub *s = &r->sub[i];
		if (s->done) {
			continue;
		}
		if (s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		} else {
			ctx->stats.v[ANAME_STAT_TIMEOUTS]++;
			sub_end(ctx, s, NULL, ANAME_ETIMEDOUT);
		}
	}
}

void aname__request_stale_timer(struct aname_ctx *ctx,
				struct aname_request *r, uint64_t now_ms)
{
	for (size_t i = 0; i < 2 && r->state == ANAME_REQ_PENDING; i++) {
		struct aname_sub *s = &r->sub[i];
		if (!s->done && s->res != NULL) {
			sub_end_stale(ctx, s, now_ms);
		}
	}
}

int aname_cancel(aname_ctx_t *ctx, aname_qid_t qid)
{
	if (ctx == NULL || qid == 0) {
		return ctx == NULL ? ANAME_EINVAL : ANAME_ENOENT;
	}
	pthread_mutex_lock(&ctx->lock);
	struct aname_request **pp = req_slot(ctx, qid);
	if (pp == NULL) {
		pthread_mutex_unlock(&ctx->lock);
		return ANAME_ENOENT;
	}
	struct aname_request *r = *pp;
	*pp = r->hnext;
	ctx->n_reqs--;
	if (r->state == ANAME_REQ_QUEUED) {
		struct aname_request **q = &ctx->queue_head;
		struct aname_request *prev = NULL;
		while (*q != r) {
			prev = *q;
			q = &(*q)->qnext;
		}
		*q = r->qnext;
		if (ctx->queue_tail == r) {
			ctx->queue_tail = prev;
		}
	}
	aname__timer_disarm(&ctx->timers, &r->deadline);
	aname__timer_disarm(&ctx->timers, &r->stale_timer);
	for (size_t i = 0; i < 2; i++) {
		struct aname_fetch *f = r->sub[i].fetch;
		sub_detach(ctx, &r->sub[i]);
		/* Nobody else wants this answer and no refresh asked for it:
		 * spare the upstream.  (ub_cancel does not stop libunbound's
		 * work, but it frees the slot and the callback.) */
		if (f != NULL && f->n_subs == 0 && !f->background) {
			aname__ub_cancel(ctx, f);
			aname__cache_refresh_done(ctx->cache, &f->key);
			if (f->submitted) {
				f->orphaned = true;
				fetch_unhash(ctx, f);
			} else {
				fetch_free(ctx, f);
			}
		}
	}
	ctx->stats.v[ANAME_STAT_CANCELLATIONS]++;
	pthread_mutex_unlock(&ctx->lock);
	request_free(r);
	return ANAME_OK;
}

/* ------------------------------------------------------------ lookup */

/* Start a background fetch for \a k unless one runs; ctx->lock not held. */
static int background_fetch(struct aname_ctx *ctx,
			    const struct aname_cache_key *k, const char *qname)
{
	struct aname_fetch *f;
	pthread_mutex_lock(&ctx->lock);
	int rc = ctx->freeing ? ANAME_EBUSY
			      : aname__fetch_start(ctx, k, qname, true,
						   aname__now_ms(), &f);
	pthread_mutex_unlock(&ctx->lock);
	if (rc != ANAME_OK) {
		aname__cache_refresh_done(ctx->cache, k);
	} else {
		aname__wake(ctx);
	}
	return rc;
}

/* The lookup proper, once the key is built. */
static int lookup_key(aname_ctx_t *ctx, const struct aname_cache_key *k,
		      unsigned flags, aname_result_t **out)
{
	char qname[ANAME_TEXT_MAX];
	struct aname_cache_probe p;
	bool fetch = (flags & ANAME_LOOKUP_FETCH) != 0;
	aname__cache_get(ctx->cache, k, aname__now_coarse_ms(),
			 (flags & ANAME_LOOKUP_STALE) ? ctx->cfg.max_stale_s
						      : 0,
			 ctx->cfg.prefetch_percent, ctx->cfg.backoff_s, fetch,
			 &p);
	if (p.state == ANAME_CACHE_STALE) {
		pthread_mutex_lock(&ctx->lock);
		ctx->stats.v[ANAME_STAT_HITS_STALE]++;
		aname__stats_event(&ctx->stats, ANAME_EV_STALE,
				   aname__now_ms());
		pthread_mutex_unlock(&ctx->lock);
	}
	if (p.want_refresh) {
		if (aname__name_to_text(k->name, k->len, qname, sizeof(qname)) <
		    0) {
			aname__cache_refresh_done(ctx->cache, k);
		} else if (background_fetch(ctx, k, qname) == ANAME_ESHED &&
			   p.res == NULL) {
			return ANAME_ESHED;
		}
	}
	if (p.res == NULL) {
		return ANAME_EAGAIN;
	}
	*out = p.res;
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

/* ------------------------------------------------------------ registration */

void aname__reg_refresh(struct aname_ctx *ctx, struct aname_reg *g,
			uint64_t now_ms)
{
	struct aname_cache_probe p;
	uint64_t next = now_ms + ctx->cfg.timeout_ms + 100;
	aname__cache_get(ctx->cache, &g->key, now_ms, ctx->cfg.max_stale_s,
			 ctx->cfg.prefetch_percent, ctx->cfg.backoff_s, true,
			 &p);
	if (p.state == ANAME_CACHE_FRESH && !p.want_refresh && p.res != NULL) {
		/* Come back when refresh-ahead would start. */
		uint64_t lead = (uint64_t)p.res->ttl * 10u *
				ctx->cfg.prefetch_percent;
		uint64_t at = p.res->expire_ms > lead ? p.res->expire_ms - lead
						      : now_ms;
		next = at > now_ms ? at : now_ms + 1000;
	} else if (p.want_refresh) {
		struct aname_fetch *f;
		if (aname__fetch_start(ctx, &g->key, g->qname, true, now_ms,
				       &f) != ANAME_OK) {
			aname__cache_refresh_done(ctx->cache, &g->key);
		}
	} else if (p.in_backoff) {
		next = now_ms + 1000;
	}
	aname_result_unref(p.res);
	if (next < now_ms + 100) {
		next = now_ms + 100;
	}
	aname__timer_arm(&ctx->timers, &g->refresh, next);
}

static int reg_change(aname_ctx_t *ctx, const char *target, uint16_t rrtype,
		      bool add)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen;
	if (ctx == NULL || target == NULL ||
	    (rrtype != ANAME_RRTYPE_A && rrtype != ANAME_RRTYPE_AAAA &&
	     rrtype != ANAME_RRTYPE_BOTH)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(target, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	struct aname_cache_key keys[2];
	size_t n = 0;
	if (rrtype != ANAME_RRTYPE_AAAA) {
		aname__cache_key(&keys[n++], wire, wlen, ANAME_RRTYPE_A);
	}
	if (rrtype != ANAME_RRTYPE_A) {
		aname__cache_key(&keys[n++], wire, wlen, ANAME_RRTYPE_AAAA);
	}
	pthread_mutex_lock(&ctx->lock);
	if (!add) {
		for (size_t i = 0; i < n; i++) {
			if (reg_find(ctx, &keys[i], NULL) == NULL) {
				pthread_mutex_unlock(&ctx->lock);
				return ANAME_ENOENT;
			}
		}
		for (size_t i = 0; i < n; i++) {
			struct aname_reg **slot;
			struct aname_reg *g = reg_find(ctx, &keys[i], &slot);
			if (--g->refs == 0) {
				*slot = g->hnext;
				aname__timer_disarm(&ctx->timers, &g->refresh);
				ctx->n_regs--;
				free(g);
			}
		}
		pthread_mutex_unlock(&ctx->lock);
		return ANAME_OK;
	}
	rc = ANAME_OK;
	for (size_t i = 0; i < n && rc == ANAME_OK; i++) {
		struct aname_reg *g = reg_find(ctx, &keys[i], NULL);
		if (g != NULL) {
			g->refs++;
			continue;
		}
		if (ctx->n_regs + 1 > ctx->regs_mask) {
			rc = table_grow((void ***)&ctx->regs, &ctx->regs_mask,
					ctx->n_regs,
					offsetof(struct aname_reg, hnext),
					reg_hash);
			if (rc != ANAME_OK) {
				break;
			}
		}
		g = calloc(1, sizeof(*g));
		if (g == NULL) {
			rc = ANAME_ENOMEM;
			break;
		}
		g->key = keys[i];
		aname__name_to_text(keys[i].name, keys[i].len, g->qname,
				    sizeof(g->qname));
		g->refs = 1;
		g->refresh.idx = SIZE_MAX;
		g->refresh.kind = ANAME_T_REG_REFRESH;
		g->refresh.owner = g;
		size_t b = g->key.hash & ctx->regs_mask;
		g->hnext = ctx->regs[b];
		ctx->regs[b] = g;
		ctx->n_regs++;
		/* Due now: the next aname_process() resolves it. */
		aname__timer_arm(&ctx->timers, &g->refresh, aname__now_ms());
	}
	pthread_mutex_unlock(&ctx->lock);
	aname__wake(ctx);
	return rc;
}

int aname_target_register(aname_ctx_t *ctx, const char *target,
			  uint16_t rrtype)
{
	return reg_change(ctx, target, rrtype, true);
}

int aname_target_unregister(aname_ctx_t *ctx, const char *target,
			    uint16_t rrtype)
{
	return reg_change(ctx, target, rrtype, false);
}
