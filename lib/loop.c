/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file loop.c
 * \brief One round of the host's loop, and everything that runs rounds;
 * see loop.h.
 *
 * A round: read the wake fd; take the jobs the driver delivered; under
 * ctx->lock hand them to fetch.c, fire due timers (timer.c calls their
 * owners) and let the watchdog look at the driver; take the requests
 * whose callbacks are due; drop the lock, hand the round's log messages to
 * the log callback, and call the requests' callbacks.  No step can
 * wait on libunbound: the driver thread is the only caller of
 * libunbound, and a round never waits for it.
 */
#include "loop.h"

#include "clock.h"
#include "ctx.h"
#include "driver.h"
#include "fetch.h"
#include "request.h"
#include "ubsetup.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct aname_inbox *aname__inbox_new(void)
{
	struct aname_inbox *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		return NULL;
	}
	atomic_init(&in->refs, 1);
	atomic_init(&in->head, NULL);
	atomic_init(&in->wake_pending, false);
	in->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->wakefd < 0) {
		free(in);
		return NULL;
	}
	return in;
}

void aname__inbox_ref(struct aname_inbox *in)
{
	atomic_fetch_add(&in->refs, 1);
}

void aname__inbox_unref(struct aname_inbox *in)
{
	if (in == NULL || atomic_fetch_sub(&in->refs, 1) != 1) {
		return;
	}
	struct aname_job *j = atomic_exchange(&in->head, NULL);
	while (j != NULL) {
		struct aname_job *next = j->owner_next;
		aname__job_release(j);
		j = next;
	}
	close(in->wakefd);
	free(in);
}

static void inbox_wake(struct aname_inbox *in)
{
	if (!atomic_exchange(&in->wake_pending, true)) {
		uint64_t one = 1;
		ssize_t w = write(in->wakefd, &one, sizeof(one));
		(void)w; /* an eventfd write only fails when it is saturated */
	}
}

void aname__inbox_post(struct aname_inbox *in, struct aname_job *job)
{
	struct aname_job *old = atomic_load(&in->head);
	do {
		job->owner_next = old;
	} while (!atomic_compare_exchange_weak(&in->head, &old, job));
	inbox_wake(in);
}

/* Every posted job, oldest first. */
static struct aname_job *inbox_take(struct aname_inbox *in)
{
	struct aname_job *j = atomic_exchange(&in->head, NULL), *out = NULL;
	while (j != NULL) {
		struct aname_job *next = j->owner_next;
		j->owner_next = out;
		out = j;
		j = next;
	}
	return out;
}

int aname__loop_init(struct aname_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = -1;
	atomic_init(&l->thread_stop, false);
	pthread_mutex_init(&l->process_lock, NULL);
	pthread_cond_init(&l->idle_cond, NULL);
	l->inbox = aname__inbox_new();
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->inbox == NULL || l->epfd < 0) {
		return ANAME_ENOMEM;
	}
	return aname__loop_watch(l, l->inbox->wakefd);
}

int aname__loop_watch(struct aname_loop *l, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? ANAME_OK
								: ANAME_ENOMEM;
}

void aname__loop_destroy(struct aname_loop *l)
{
	if (l->epfd >= 0) {
		close(l->epfd);
	}
	aname__inbox_unref(l->inbox);
	pthread_mutex_destroy(&l->process_lock);
	pthread_cond_destroy(&l->idle_cond);
}

void aname__loop_wake(struct aname_loop *l)
{
	inbox_wake(l->inbox);
}

void aname__loop_queue(struct aname_loop *l, struct aname_request *r)
{
	r->qnext = NULL;
	if (l->queue_tail != NULL) {
		l->queue_tail->qnext = r;
	} else {
		l->queue_head = r;
	}
	l->queue_tail = r;
	l->wake_owed = true;
}

bool aname__loop_take_wake(struct aname_loop *l)
{
	bool owed = l->wake_owed;
	l->wake_owed = false;
	return owed;
}

void aname__loop_unqueue(struct aname_loop *l, struct aname_request *r)
{
	if (r == NULL) {
		return;
	}
	struct aname_request **q = &l->queue_head, *prev = NULL;
	while (*q != NULL && *q != r) {
		prev = *q;
		q = &(*q)->qnext;
	}
	if (*q == r) {
		*q = r->qnext;
		if (l->queue_tail == r) {
			l->queue_tail = prev;
		}
	}
}

void aname__loop_forget(struct aname_loop *l)
{
	struct aname_job *j = inbox_take(l->inbox);
	while (j != NULL) {
		struct aname_job *next = j->owner_next;
		aname__job_release(j); /* the inbox's reference */
		j = next;
	}
	l->queue_head = l->queue_tail = NULL;
}

int aname_fd(const aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	return ctx->cfg.thread ? ANAME_EBUSY : ctx->loop.epfd;
}

/* ctx->lock held. */
static int timeout_locked(const aname_ctx_t *ctx, uint64_t now)
{
	if (ctx->loop.queue_head != NULL) {
		return 0;
	}
	uint64_t when = aname__watchdog_next(ctx);
	uint64_t canary = aname__canary_next(&ctx->canary);
	when = canary < when ? canary : when;
	const struct aname_timer *t = aname__timer_peek(&ctx->timers);
	if (t != NULL && t->when_ms < when) {
		when = t->when_ms;
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

static bool in_own_callback(const aname_ctx_t *ctx)
{
	return ctx->loop.in_callback &&
	       pthread_equal(ctx->loop.cb_thread, pthread_self());
}

/* Drain first, then re-arm: the other order loses a wake-up written
 * between the two steps, and a thread sleeping without a deadline would
 * then never see the work that came with it. */
static void drain_wakefd(struct aname_loop *l)
{
	uint64_t v;
	ssize_t r = read(l->inbox->wakefd, &v, sizeof(v)); /* empties it */
	(void)r;
	atomic_store(&l->inbox->wake_pending, false);
}

/* What libunbound printed goes to the log callback, never to stderr. */
static void relay_libunbound_log(aname_ctx_t *ctx)
{
	char lines[8][ANAME_UB_LINE_MAX];
	unsigned long dropped;
	size_t n = aname__ub_log_take(lines, 8, &dropped);
	for (size_t i = 0; i < n; i++) {
		aname__log(&ctx->log, ANAME_LOG_WARNING, "libunbound: %s",
			   lines[i]);
	}
	if (dropped > 0) {
		aname__log(&ctx->log, ANAME_LOG_WARNING,
			   "libunbound: %lu lines dropped (log ring full)",
			   dropped);
	}
}

/* One round of work; the caller holds process_lock. */
static void process_round(aname_ctx_t *ctx)
{
	struct aname_loop *l = &ctx->loop;
	drain_wakefd(l);
	struct aname_job *jobs = inbox_take(l->inbox);
	relay_libunbound_log(ctx);

	pthread_mutex_lock(&ctx->lock);
	uint64_t now = aname__now_ms();
	while (jobs != NULL) {
		struct aname_job *job = jobs;
		jobs = job->owner_next;
		aname__fetch_job_done(ctx, job, now);
		aname__job_release(job); /* the inbox's reference */
	}
	aname__timers_run(&ctx->timers, now);
	aname__watchdog_tick(ctx, now);
	aname__canary_run(ctx, now);
	struct aname_request *list = l->queue_head;
	l->queue_head = l->queue_tail = NULL;
	for (struct aname_request *r = list; r != NULL; r = r->qnext) {
		aname__request_unhash(ctx, r);
	}
	if (list != NULL) {
		l->in_callback = true;
		l->cb_thread = pthread_self();
	}
	aname__ctx_unlock(ctx);
	/* What this round logged, now that no library lock is held. */
	aname__log_flush(&ctx->log);
	if (list == NULL) {
		return;
	}
	while (list != NULL) {
		struct aname_request *r = list;
		list = r->qnext;
		aname__request_deliver(r);
	}
	pthread_mutex_lock(&ctx->lock);
	l->in_callback = false;
	pthread_cond_broadcast(&l->idle_cond);
	aname__ctx_unlock(ctx);
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
	aname__ctx_unlock(ctx);
	if (nested) {
		return ANAME_EBUSY;
	}
	/* Another thread is processing: it will do this work. */
	if (pthread_mutex_trylock(&ctx->loop.process_lock) != 0) {
		return ANAME_OK;
	}
	process_round(ctx);
	pthread_mutex_unlock(&ctx->loop.process_lock);
	return ANAME_OK;
}

static void *thread_main(void *arg)
{
	aname_ctx_t *ctx = arg;
	pthread_setname_np(pthread_self(), "aname-loop");
	while (!atomic_load(&ctx->loop.thread_stop)) {
		struct pollfd p = {.fd = ctx->loop.epfd, .events = POLLIN};
		if (poll(&p, 1, aname_timeout_ms(ctx)) < 0 && errno != EINTR) {
			struct timespec ts = {0, 10000000L};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&ctx->loop.thread_stop)) {
			break;
		}
		pthread_mutex_lock(&ctx->loop.process_lock);
		process_round(ctx);
		pthread_mutex_unlock(&ctx->loop.process_lock);
	}
	return NULL;
}

int aname__loop_start_thread(struct aname_ctx *ctx)
{
	if (pthread_create(&ctx->loop.thread, NULL, thread_main, ctx) != 0) {
		return ANAME_ETHREAD;
	}
	ctx->loop.thread_running = true;
	return ANAME_OK;
}

void aname__loop_stop_thread(struct aname_ctx *ctx)
{
	if (!ctx->loop.thread_running) {
		return;
	}
	atomic_store(&ctx->loop.thread_stop, true);
	uint64_t one = 1;
	ssize_t w = write(ctx->loop.inbox->wakefd, &one, sizeof(one));
	(void)w;
	/* Bounded: a round never waits on libunbound, only on callbacks. */
	pthread_join(ctx->loop.thread, NULL);
	ctx->loop.thread_running = false;
}

static bool idle_locked(const aname_ctx_t *ctx)
{
	return ctx->reqs.tab.n == 0 && !ctx->loop.in_callback;
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
		aname__ctx_unlock(ctx);
		return ANAME_EBUSY;
	}
	if (ctx->cfg.thread) {
		while (!idle_locked(ctx)) {
			uint64_t now = aname__now_ms();
			if (now >= end) {
				aname__ctx_unlock(ctx);
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
			pthread_cond_timedwait(&ctx->loop.idle_cond,
					       &ctx->lock, &ts);
		}
		aname__ctx_unlock(ctx);
		return ANAME_OK;
	}
	aname__ctx_unlock(ctx);
	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		bool idle = idle_locked(ctx);
		int t = timeout_locked(ctx, aname__now_ms());
		aname__ctx_unlock(ctx);
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
		struct pollfd p = {.fd = ctx->loop.epfd, .events = POLLIN};
		poll(&p, 1, t);
		aname_process(ctx);
	}
}
