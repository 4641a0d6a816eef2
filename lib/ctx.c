/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ctx.c
 * \brief The context: lifecycle, the fd/timeout/process loop primitives,
 * delivery of callbacks, the watchdog tick, thread mode and aname_wait().
 *
 * The fd a host polls is an epoll instance holding libunbound's fd and an
 * eventfd.  That keeps the host's fd stable when the watchdog swaps
 * libunbound contexts, and lets any thread that queues work (a cache-hit
 * completion, a registration) wake a loop sleeping in poll().
 *
 * Callbacks run in aname_process() after the context lock is dropped, so
 * they may call back into the library.  Thread mode is nothing but a
 * thread running the same process loop.
 */
#include "aname_private.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#define CACHE_SHARDS 64

static void *thread_main(void *arg);

static void ctx_release(aname_ctx_t *ctx)
{
	if (ctx->ub != NULL) {
		ub_ctx_delete(ctx->ub);
	}
	if (ctx->epfd >= 0) {
		close(ctx->epfd);
	}
	if (ctx->wakefd >= 0) {
		close(ctx->wakefd);
	}
	aname__cache_free(ctx->cache);
	aname__timer_heap_free(&ctx->timers);
	free(ctx->reqs);
	free(ctx->fetches);
	free(ctx->regs);
	aname__log_destroy(&ctx->log);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->process_lock);
	pthread_cond_destroy(&ctx->idle_cond);
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
	ctx->epfd = ctx->wakefd = ctx->ub_fd = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->process_lock, NULL);
	pthread_cond_init(&ctx->idle_cond, NULL);
	atomic_init(&ctx->wake_pending, false);
	atomic_init(&ctx->thread_stop, false);
	int rc = aname__config_copy(&ctx->cfg, cfg);
	if (rc != ANAME_OK) {
		aname__log_init(&ctx->log, cfg);
		ctx_release(ctx);
		return rc;
	}
	aname__log_init(&ctx->log, &ctx->cfg);
	ctx->cache = aname__cache_new(ctx->cfg.max_entries, CACHE_SHARDS);
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	ctx->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->cache == NULL || ctx->epfd < 0 || ctx->wakefd < 0) {
		ctx_release(ctx);
		return ANAME_ENOMEM;
	}
	rc = aname__ub_create(&ctx->cfg, &ctx->ub);
	if (rc != ANAME_OK) {
		ctx_release(ctx);
		return rc;
	}
	ctx->ub_fd = ub_fd(ctx->ub);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ctx->ub_fd};
	struct epoll_event wev = {.events = EPOLLIN, .data.fd = ctx->wakefd};
	if (ctx->ub_fd < 0 ||
	    epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->ub_fd, &ev) != 0 ||
	    epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->wakefd, &wev) != 0) {
		ctx_release(ctx);
		return ANAME_ERESOLVER;
	}
	if (ctx->cfg.thread) {
		if (pthread_create(&ctx->thread, NULL, thread_main, ctx) != 0) {
			ctx_release(ctx);
			return ANAME_ETHREAD;
		}
		ctx->thread_running = true;
	}
	*out = ctx;
	return ANAME_OK;
}

int aname_fd(const aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	return ctx->cfg.thread ? ANAME_EBUSY : ctx->epfd;
}

/* ctx->lock held. */
static int timeout_locked(const aname_ctx_t *ctx, uint64_t now)
{
	if (ctx->queue_head != NULL) {
		return 0;
	}
	uint64_t when = UINT64_MAX;
	const struct aname_timer *t = aname__timer_peek(&ctx->timers);
	if (t != NULL) {
		when = t->when_ms;
	}
	if (ctx->cfg.watchdog_interval_ms != 0 && ctx->n_fetches > 0) {
		uint64_t w = ctx->probe_outstanding
				     ? ctx->probe_sent_ms +
					       ctx->cfg.watchdog_grace_ms + 1
				     : ctx->next_probe_ms;
		when = w < when ? w : when;
	}
	if (when == UINT64_MAX) {
		return -1;
	}
	if (when <= now) {
		return 0;
	}
	uint64_t d = when - now;
	return d > INT32_MAX ? INT32_MAX : (int)d;
}

int aname_timeout_ms(const aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	aname_ctx_t *c = (aname_ctx_t *)ctx;
	pthread_mutex_lock(&c->lock);
	int t = timeout_locked(c, aname__now_ms());
	pthread_mutex_unlock(&c->lock);
	return t;
}

/* Fire due timers and run the watchdog; ctx->lock held. */
static void tick(aname_ctx_t *ctx, uint64_t now)
{
	struct aname_timer *t;
	while ((t = aname__timer_peek(&ctx->timers)) != NULL &&
	       t->when_ms <= now) {
		aname__timer_disarm(&ctx->timers, t);
		switch (t->kind) {
		case ANAME_T_REQ_DEADLINE:
			aname__request_deadline(ctx, t->owner, now);
			break;
		case ANAME_T_REQ_STALE:
			aname__request_stale_timer(ctx, t->owner, now);
			break;
		case ANAME_T_FETCH_DEADLINE:
			aname__fetch_timeout(ctx, t->owner, now);
			break;
		case ANAME_T_REG_REFRESH:
			aname__reg_refresh(ctx, t->owner, now);
			break;
		}
	}
	if (ctx->cfg.watchdog_interval_ms == 0) {
		return;
	}
	if (ctx->probe_outstanding &&
	    now > ctx->probe_sent_ms + ctx->cfg.watchdog_grace_ms) {
		if (aname__ub_replace(ctx, now) != ANAME_OK) {
			aname__log(&ctx->log, ANAME_LOG_ERROR,
				   "watchdog: could not create a new "
				   "libunbound context");
			ctx->probe_sent_ms = now; /* try again after grace */
		}
	}
	if (!ctx->probe_outstanding && ctx->n_fetches > 0 &&
	    now >= ctx->next_probe_ms) {
		aname__ub_probe(ctx, now);
		ctx->next_probe_ms = now + ctx->cfg.watchdog_interval_ms;
	}
}

/* The result handed to a request's callback; status through *status. */
static aname_result_t *final_result(struct aname_request *r, int *status)
{
	if (r->rrtype != ANAME_RRTYPE_BOTH) {
		struct aname_sub *s = &r->sub[r->rrtype == ANAME_RRTYPE_A ? 0
									  : 1];
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

static void deliver(struct aname_request *list)
{
	while (list != NULL) {
		struct aname_request *r = list;
		list = r->qnext;
		int status;
		aname_result_t *res = final_result(r, &status);
		r->cb(r->arg, status, res);
		aname_result_unref(res);
		for (size_t i = 0; i < 2; i++) {
			aname_result_unref(r->sub[i].res);
		}
		free(r);
	}
}

static bool in_own_callback(const aname_ctx_t *ctx)
{
	return ctx->in_callback && pthread_equal(ctx->cb_thread, pthread_self());
}

/* Drain first, then re-arm: the other order loses a wake-up written
 * between the two steps, and a thread sleeping without a deadline would
 * then never see the work that came with it. */
static void drain_wakefd(aname_ctx_t *ctx)
{
	uint64_t v;
	while (read(ctx->wakefd, &v, sizeof(v)) > 0) {
	}
	atomic_store(&ctx->wake_pending, false);
}

/* One round of work; the caller holds process_lock. */
static void process_round(aname_ctx_t *ctx)
{
	drain_wakefd(ctx);
	pthread_mutex_lock(&ctx->lock);
	bool stalled = ctx->stall_injected;
	pthread_mutex_unlock(&ctx->lock);
	if (!stalled) {
		/* Runs our libunbound callbacks, which take ctx->lock. */
		ub_process(ctx->ub);
	}
	pthread_mutex_lock(&ctx->lock);
	tick(ctx, aname__now_ms());
	struct aname_request *list = ctx->queue_head;
	ctx->queue_head = ctx->queue_tail = NULL;
	for (struct aname_request *r = list; r != NULL; r = r->qnext) {
		/* From here aname_cancel() answers ENOENT. */
		aname__request_unhash(ctx, r);
		r->state = ANAME_REQ_DELIVERING;
	}
	if (list != NULL) {
		ctx->in_callback = true;
		ctx->cb_thread = pthread_self();
	}
	pthread_mutex_unlock(&ctx->lock);
	if (list == NULL) {
		return;
	}
	deliver(list);
	pthread_mutex_lock(&ctx->lock);
	ctx->in_callback = false;
	pthread_cond_broadcast(&ctx->idle_cond);
	pthread_mutex_unlock(&ctx->lock);
}

int aname_process(aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	if (ctx->cfg.thread) {
		return ANAME_EBUSY;
	}
	pthread_mutex_lock(&ctx->lock);
	bool nested = in_own_callback(ctx);
	pthread_mutex_unlock(&ctx->lock);
	if (nested) {
		return ANAME_EBUSY;
	}
	/* Another thread is processing: it will do this work. */
	if (pthread_mutex_trylock(&ctx->process_lock) != 0) {
		return ANAME_OK;
	}
	process_round(ctx);
	pthread_mutex_unlock(&ctx->process_lock);
	return ANAME_OK;
}

static void *thread_main(void *arg)
{
	aname_ctx_t *ctx = arg;
	while (!atomic_load(&ctx->thread_stop)) {
		struct epoll_event ev[4];
		int t = aname_timeout_ms(ctx);
		if (epoll_wait(ctx->epfd, ev, 4, t) < 0 && errno != EINTR) {
			aname__log(&ctx->log, ANAME_LOG_ERROR,
				   "library thread: epoll_wait: %s",
				   strerror(errno));
			struct timespec ts = {0, 10000000L};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&ctx->thread_stop)) {
			break;
		}
		pthread_mutex_lock(&ctx->process_lock);
		process_round(ctx);
		pthread_mutex_unlock(&ctx->process_lock);
	}
	return NULL;
}

static bool idle_locked(const aname_ctx_t *ctx)
{
	return ctx->n_reqs == 0 && !ctx->in_callback;
}

int aname_wait(aname_ctx_t *ctx, int timeout_ms)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	uint64_t start = aname__now_ms();
	uint64_t end = timeout_ms < 0 ? UINT64_MAX
				      : start + (uint64_t)timeout_ms;
	pthread_mutex_lock(&ctx->lock);
	if (in_own_callback(ctx)) {
		pthread_mutex_unlock(&ctx->lock);
		return ANAME_EBUSY;
	}
	if (ctx->cfg.thread) {
		while (!idle_locked(ctx)) {
			uint64_t now = aname__now_ms();
			if (now >= end) {
				pthread_mutex_unlock(&ctx->lock);
				return ANAME_ETIMEDOUT;
			}
			/* Bounded waits: a delivery round signals, but a
			 * round with nothing to deliver does not. */
			uint64_t step = end - now < 50 ? end - now : 50;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(step * 1000000u);
			ts.tv_sec += ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			pthread_cond_timedwait(&ctx->idle_cond, &ctx->lock,
					       &ts);
		}
		pthread_mutex_unlock(&ctx->lock);
		return ANAME_OK;
	}
	pthread_mutex_unlock(&ctx->lock);
	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		bool idle = idle_locked(ctx);
		int t = timeout_locked(ctx, aname__now_ms());
		pthread_mutex_unlock(&ctx->lock);
		if (idle) {
			return ANAME_OK;
		}
		uint64_t now = aname__now_ms();
		if (now >= end) {
			return ANAME_ETIMEDOUT;
		}
		uint64_t left = end - now;
		if (t < 0 || (uint64_t)t > left) {
			t = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		struct pollfd p = {.fd = ctx->epfd, .events = POLLIN};
		poll(&p, 1, t);
		aname_process(ctx);
	}
}

void aname_ctx_free(aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->freeing = true;
	pthread_mutex_unlock(&ctx->lock);
	if (ctx->thread_running) {
		atomic_store(&ctx->thread_stop, true);
		aname__wake(ctx);
		uint64_t one = 1;
		ssize_t w = write(ctx->wakefd, &one, sizeof(one));
		(void)w;
		pthread_join(ctx->thread, NULL);
	}
	/* No libunbound callback can run from here on: nobody calls
	 * ub_process() again.  A worker that stopped answering probes may
	 * never let ub_ctx_delete() return, so such a context is retired on
	 * a detached thread instead. */
	if (ctx->probe_outstanding &&
	    aname__now_ms() > ctx->probe_sent_ms + ctx->cfg.watchdog_grace_ms) {
		aname__ub_retire(ctx->ub);
		ctx->ub = NULL;
	}
	pthread_mutex_lock(&ctx->lock);
	struct aname_request *list = NULL;
	for (size_t b = 0; ctx->reqs != NULL && b <= ctx->reqs_mask; b++) {
		while (ctx->reqs[b] != NULL) {
			struct aname_request *r = ctx->reqs[b];
			ctx->reqs[b] = r->hnext;
			r->qnext = list;
			list = r;
		}
	}
	ctx->n_reqs = 0;
	ctx->queue_head = ctx->queue_tail = NULL;
	while (ctx->oldest != NULL) {
		struct aname_fetch *f = ctx->oldest;
		ctx->oldest = f->next;
		free(f);
	}
	for (size_t b = 0; ctx->regs != NULL && b <= ctx->regs_mask; b++) {
		while (ctx->regs[b] != NULL) {
			struct aname_reg *g = ctx->regs[b];
			ctx->regs[b] = g->hnext;
			free(g);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	/* Every request not yet delivered ends in exactly one callback, even
	 * now: pending and queued alike get ECANCELED. */
	for (struct aname_request *r = list; r != NULL;) {
		struct aname_request *next = r->qnext;
		r->cb(r->arg, ANAME_ECANCELED, NULL);
		for (size_t i = 0; i < 2; i++) {
			aname_result_unref(r->sub[i].res);
		}
		free(r);
		r = next;
	}
	ctx_release(ctx);
}

void aname__debug_stall_resolver(aname_ctx_t *ctx, bool stall)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->stall_injected = stall;
	/* Out of the poll set too, or a host loop would spin on the unread
	 * answers. */
	if (stall) {
		epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, ctx->ub_fd, NULL);
	} else {
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.fd = ctx->ub_fd};
		epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->ub_fd, &ev);
	}
	pthread_mutex_unlock(&ctx->lock);
}
