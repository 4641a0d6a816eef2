/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file loop.h
 * \brief The host's side of the event loop (loop.c): the fd a host polls,
 * the inbox of jobs the driver delivered, the queue of requests whose
 * callbacks are due, aname_process(), aname_timeout_ms(), aname_wait()
 * and thread mode (a library thread running the same loop).
 *
 * The fd is an eventfd that anything with work for the loop writes: the
 * driver thread after it posts a job, a request or registration that
 * needs a new timeout.  It never changes, even when the watchdog swaps
 * drivers, and reading it never involves libunbound.
 */
#ifndef ANAME_LOOP_H
#define ANAME_LOOP_H

#include "aname_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct aname_ctx;
struct aname_job;
struct aname_request;

struct aname_loop {
	int wakefd;
	atomic_bool wake_pending;

	pthread_mutex_t inbox_lock; /* leaf; taken in the driver thread */
	struct aname_job *inbox_head, *inbox_tail;

	/* Under ctx->lock: */
	struct aname_request *queue_head, *queue_tail;
	bool in_callback;
	pthread_t cb_thread;
	pthread_cond_t idle_cond; /* a delivery round ended */

	pthread_mutex_t process_lock; /* one round at a time */
	bool thread_running;
	atomic_bool thread_stop;
	pthread_t thread;
};

int aname__loop_init(struct aname_loop *l);
void aname__loop_destroy(struct aname_loop *l);
/* Make the host's fd readable; any thread. */
void aname__loop_wake(struct aname_loop *l);
/* A delivered job (fetch.c's driver callback, in the driver thread). */
void aname__loop_post_job(struct aname_loop *l, struct aname_job *job);
/* Delivery queue; ctx->lock held. */
void aname__loop_queue(struct aname_loop *l, struct aname_request *r);
void aname__loop_unqueue(struct aname_loop *l, struct aname_request *r);
/* Thread mode. */
int aname__loop_start_thread(struct aname_ctx *ctx);
void aname__loop_stop_thread(struct aname_ctx *ctx);
/* aname_ctx_free, after the driver stopped: forget the inbox and the
 * queue (fetch.c and request.c free what they point to). */
void aname__loop_forget(struct aname_loop *l);

#endif /* ANAME_LOOP_H */
