/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fetch.c
 * \brief Coalesced upstream fetches; see fetch.h.
 *
 * Life of a fetch: aname__fetch_join() finds or starts it (starting
 * submits a job to the driver); the driver thread posts the delivered
 * job to the loop's inbox; the loop hands it to
 * aname__fetch_job_done(), which caches the answer (or records the
 * failure for backoff) and ends every waiter.  At the fetch's deadline
 * the job is cancelled and the waiters end with ETIMEDOUT.  A fetch whose
 * job was already delivered when it had to end early (deadline, last
 * waiter gone) is an orphan: out of the table, so a new request starts
 * afresh, and freed when its job comes out of the inbox.
 */
#include "fetch.h"

#include "ctx.h"
#include "driver.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fetch_hash(const void *e)
{
	return ((const struct aname_fetch *)e)->key.hash;
}

void aname__fetches_init(struct aname_fetches *fs)
{
	aname__htab_init(&fs->tab, offsetof(struct aname_fetch, hlink),
			 fetch_hash);
	fs->oldest = fs->newest = NULL;
	fs->n_waiters = 0;
}

static struct aname_fetch *find(struct aname_ctx *ctx,
				const struct aname_cache_key *k)
{
	struct aname_htab *t = &ctx->fetches.tab;
	for (struct aname_fetch *f = aname__htab_first(t, k->hash); f != NULL;
	     f = aname__htab_next(t, f)) {
		if (aname__cache_key_eq(&f->key, k)) {
			return f;
		}
	}
	return NULL;
}

bool aname__fetch_running(struct aname_ctx *ctx,
			  const struct aname_cache_key *k)
{
	return find(ctx, k) != NULL;
}

bool aname__fetch_room(const struct aname_ctx *ctx)
{
	return ctx->fetches.tab.n < ctx->cfg.max_fetches;
}

bool aname__fetch_waiter_room(const struct aname_ctx *ctx)
{
	return ctx->fetches.n_waiters < ctx->cfg.max_waiters;
}

static void unhash(struct aname_ctx *ctx, struct aname_fetch *f)
{
	if (!f->orphaned) {
		aname__htab_remove(&ctx->fetches.tab, f);
	}
}

static void fetch_free(struct aname_ctx *ctx, struct aname_fetch *f)
{
	struct aname_fetches *fs = &ctx->fetches;
	aname__timer_disarm(&ctx->timers, &f->deadline);
	unhash(ctx, f);
	if (f->held) {
		aname__canary_verdict_drop(&ctx->canary, f);
		aname_result_unref(f->held_res);
	}
	if (f->prev != NULL) {
		f->prev->next = f->next;
	} else {
		fs->oldest = f->next;
	}
	if (f->next != NULL) {
		f->next->prev = f->prev;
	} else {
		fs->newest = f->prev;
	}
	aname__job_release(f->job);
	free(f);
}

/* End the fetch early: cancel its job, or orphan the fetch when the job
 * was already delivered.  True when the fetch was freed. */
static bool end_early(struct aname_ctx *ctx, struct aname_fetch *f)
{
	if (f->held) { /* its job came out of the inbox already */
		fetch_free(ctx, f);
		return true;
	}
	if (f->job == NULL || aname__driver_cancel(f->drv, f->job)) {
		f->job = NULL;
		fetch_free(ctx, f);
		return true;
	}
	aname__timer_disarm(&ctx->timers, &f->deadline);
	unhash(ctx, f);
	f->orphaned = true;
	return false;
}

static void detach(struct aname_ctx *ctx, struct aname_waiter *w)
{
	struct aname_fetch *f = w->fetch;
	if (f == NULL) {
		return;
	}
	if (w->prev != NULL) {
		w->prev->next = w->next;
	} else {
		f->waiters = w->next;
	}
	if (w->next != NULL) {
		w->next->prev = w->prev;
	}
	w->prev = w->next = NULL;
	w->fetch = NULL;
	f->n_waiters--;
	ctx->fetches.n_waiters--;
}

/* Every waiter gets the outcome; a callback may join other fetches. */
static void end_waiters(struct aname_ctx *ctx, struct aname_fetch *f,
			aname_result_t *res, int status, uint64_t now_ms)
{
	while (f->waiters != NULL) {
		struct aname_waiter *w = f->waiters;
		detach(ctx, w);
		w->cb(ctx, w, res, status, now_ms);
	}
}

static void finish(struct aname_ctx *ctx, struct aname_fetch *f,
		   aname_result_t *res, int status, uint64_t now_ms);

static void on_deadline(struct aname_timer *t, uint64_t now_ms)
{
	struct aname_fetch *f = t->data;
	struct aname_ctx *ctx = f->ctx;
	if (f->held) {
		/* The verdict ends before the deadline (canary.c); should a
		 * clock jump beat it, the SERVFAIL stands. */
		aname__canary_verdict_drop(&ctx->canary, f);
		aname_result_t *res = f->held_res;
		f->held = false;
		f->held_res = NULL;
		finish(ctx, f, res, ANAME_ESERVFAIL, now_ms);
		return;
	}
	aname__stats_event(&ctx->stats, ANAME_EV_TIMEOUT, now_ms);
	aname__cache_fail(ctx->cache, &f->key, ANAME_ETIMEDOUT, now_ms);
	aname__log(&ctx->log, ANAME_LOG_INFO,
		   "resolving %s: no answer within %u ms", f->qname,
		   (unsigned)(now_ms - f->started_ms));
	/* Out of the table first, so that waiters' callbacks start afresh. */
	unhash(ctx, f);
	f->orphaned = true;
	end_waiters(ctx, f, NULL, ANAME_ETIMEDOUT, now_ms);
	if (f->job == NULL || aname__driver_cancel(f->drv, f->job)) {
		f->job = NULL;
		fetch_free(ctx, f);
	}
}

static int submit(struct aname_ctx *ctx, struct aname_fetch *f,
		  struct aname_driver *drv)
{
	f->job = aname__driver_submit(drv, f->qname, f->key.rrtype, f);
	if (f->job == NULL) {
		return ANAME_ENOMEM;
	}
	f->drv = drv;
	aname__stat_inc(&ctx->stats, ANAME_STAT_UPSTREAM_QUERIES);
	return ANAME_OK;
}

static struct aname_fetch *start(struct aname_ctx *ctx,
				 const struct aname_cache_key *k,
				 const char *qname, uint64_t now_ms, int *rc)
{
	struct aname_fetches *fs = &ctx->fetches;
	if (!aname__fetch_room(ctx)) {
		aname__stat_inc(&ctx->stats, ANAME_STAT_SHED);
		aname__stats_event(&ctx->stats, ANAME_EV_SHED, now_ms);
		aname__log(&ctx->log, ANAME_LOG_WARNING,
			   "shedding: %zu resolutions in flight, not "
			   "resolving %s",
			   fs->tab.n, qname);
		*rc = ANAME_ESHED;
		return NULL;
	}
	size_t qlen = strnlen(qname, ANAME_TEXT_MAX - 1);
	struct aname_fetch *f = calloc(1, sizeof(*f) + qlen + 1);
	if (f == NULL) {
		*rc = ANAME_ENOMEM;
		return NULL;
	}
	f->key = *k;
	memcpy(f->qname, qname, qlen); /* calloc wrote the terminator */
	f->ctx = ctx;
	f->started_ms = now_ms;
	aname__timer_init(&f->deadline, on_deadline, f);
	if (aname__htab_insert(&fs->tab, f) != ANAME_OK ||
	    aname__timer_arm(&ctx->timers, &f->deadline,
			     now_ms + ctx->cfg.timeout_ms + 1) != ANAME_OK) {
		aname__htab_remove(&fs->tab, f);
		free(f);
		*rc = ANAME_ENOMEM;
		return NULL;
	}
	f->prev = fs->newest;
	if (fs->newest != NULL) {
		fs->newest->next = f;
	} else {
		fs->oldest = f;
	}
	fs->newest = f;
	*rc = submit(ctx, f, aname__watchdog_driver(ctx));
	if (*rc != ANAME_OK) {
		fetch_free(ctx, f);
		return NULL;
	}
	/* A hint for lock-free lookups: this key is being refreshed. */
	aname__cache_hold_refresh(ctx->cache, k,
				  now_ms + ctx->cfg.timeout_ms + 1);
	return f;
}

int aname__fetch_join(struct aname_ctx *ctx, const struct aname_cache_key *k,
		      const char *qname, struct aname_waiter *w,
		      uint64_t deadline_ms, uint64_t now_ms)
{
	struct aname_fetch *f = find(ctx, k);
	int rc = ANAME_OK;
	if (f != NULL) {
		if (w != NULL) {
			aname__stat_inc(&ctx->stats, ANAME_STAT_COALESCED);
		}
	} else if ((f = start(ctx, k, qname, now_ms, &rc)) == NULL) {
		return rc;
	} else if (w == NULL) {
		aname__stat_inc(&ctx->stats, ANAME_STAT_PREFETCHES);
	}
	if (w == NULL) {
		f->background = true;
		return ANAME_OK;
	}
	w->fetch = f;
	w->prev = NULL;
	w->next = f->waiters;
	if (f->waiters != NULL) {
		f->waiters->prev = w;
	}
	f->waiters = w;
	f->n_waiters++;
	ctx->fetches.n_waiters++;
	if (f->deadline.when_ms < deadline_ms) {
		aname__timer_arm(&ctx->timers, &f->deadline, deadline_ms);
	}
	return ANAME_OK;
}

void aname__fetch_leave(struct aname_ctx *ctx, struct aname_waiter *w,
			bool spare)
{
	struct aname_fetch *f = w->fetch;
	if (f == NULL) {
		return;
	}
	detach(ctx, w);
	/* Nobody else wants this answer and no refresh asked for it: spare
	 * the driver.  (ub_cancel does not stop libunbound's work, but it
	 * frees the slot and the callback.) */
	if (spare && f->n_waiters == 0 && !f->background) {
		end_early(ctx, f);
	}
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
	case ANAME_ETIMEDOUT: /* each waiting request counts it */
		aname__stats_event(&ctx->stats, ANAME_EV_TIMEOUT, now_ms);
		return;
	default:
		stat = ANAME_STAT_ANSWERS_SERVFAIL;
		break;
	}
	aname__stat_inc(&ctx->stats, stat);
	aname__stats_event(&ctx->stats,
			   status == ANAME_OK ? ANAME_EV_OK : ANAME_EV_FAILURE,
			   now_ms);
}

void aname__fetch_job_done(struct aname_ctx *ctx, struct aname_job *job,
			   uint64_t now_ms)
{
	struct aname_fetch *f = job->arg;
	int status = job->status;
	aname_result_t *res = aname__job_take_result(job);
	/* libunbound turns a black hole into SERVFAIL after its own retries,
	 * long after any deadline: that upstream did not answer, it did not
	 * fail.  (A real SERVFAIL comes back in one round trip.) */
	if (status == ANAME_ESERVFAIL &&
	    now_ms - f->started_ms >= ctx->cfg.timeout_ms) {
		status = ANAME_ETIMEDOUT;
	}
	/* libunbound reports an upstream's REFUSED as SERVFAIL; when every
	 * upstream refuses the canary too, REFUSED is the truth (an ACL). */
	if (status == ANAME_ESERVFAIL &&
	    aname__canary_all_refuse(&ctx->canary)) {
		status = ANAME_EREFUSED;
	}
	/* Otherwise a forwarder may refuse just this name: canary.c asks
	 * them, and the fetch ends in aname__fetch_verdict().  (Orphans have
	 * nobody left to tell, and their failure is recorded at once.) */
	if (status == ANAME_ESERVFAIL && !f->orphaned &&
	    aname__canary_verdict_start(ctx, f, f->qname, f->key.rrtype,
					f->deadline.when_ms, now_ms)) {
		f->held = true;
		f->held_res = res;
		return;
	}
	finish(ctx, f, res, status, now_ms);
}

void aname__fetch_verdict(struct aname_ctx *ctx, struct aname_fetch *f,
			  bool refused, uint64_t now_ms)
{
	aname_result_t *res = f->held_res;
	f->held = false;
	f->held_res = NULL;
	finish(ctx, f, res, refused ? ANAME_EREFUSED : ANAME_ESERVFAIL,
	       now_ms);
}

static void finish(struct aname_ctx *ctx, struct aname_fetch *f,
		   aname_result_t *res, int status, uint64_t now_ms)
{
	aname__stats_latency(&ctx->stats, now_ms - f->started_ms);
	count_answer(ctx, res, status, now_ms);
	if (status == ANAME_OK) {
		/* TTL 0 too, for its short hold (answer.h). */
		aname__cache_put(ctx->cache, &f->key, res, now_ms);
	} else {
		aname__cache_fail(ctx->cache, &f->key, status, now_ms);
		aname__log(&ctx->log, ANAME_LOG_INFO, "resolving %s %s: %s",
			   f->qname,
			   f->key.rrtype == ANAME_RRTYPE_A ? "A" : "AAAA",
			   aname_strerror(status));
	}
	if (!f->orphaned) {
		unhash(ctx, f);
		f->orphaned = true;
		end_waiters(ctx, f, res, status, now_ms);
	}
	aname_result_unref(res);
	fetch_free(ctx, f);
}

size_t aname__fetches_reissue(struct aname_ctx *ctx, struct aname_driver *drv,
			      uint64_t now_ms)
{
	size_t n = 0;
	for (struct aname_fetch *f = ctx->fetches.oldest; f != NULL;) {
		struct aname_fetch *next = f->next;
		/* A delivered job is in the inbox: its answer stands. */
		if (!f->orphaned && !f->held && f->job != NULL &&
		    aname__driver_cancel(f->drv, f->job)) {
			f->job = NULL;
			if (submit(ctx, f, drv) == ANAME_OK) {
				n++;
				uint64_t until = now_ms + ctx->cfg.timeout_ms + 1;
				if (f->deadline.when_ms < until) {
					aname__timer_arm(&ctx->timers,
							 &f->deadline, until);
				}
			} else {
				on_deadline(&f->deadline, now_ms);
			}
		}
		f = next;
	}
	return n;
}

void aname__fetches_clear(struct aname_ctx *ctx)
{
	while (ctx->fetches.oldest != NULL) {
		struct aname_fetch *f = ctx->fetches.oldest;
		while (f->waiters != NULL) {
			detach(ctx, f->waiters);
		}
		fetch_free(ctx, f);
	}
	aname__htab_free(&ctx->fetches.tab);
}
