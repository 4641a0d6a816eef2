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
 * The fd is an epoll instance over an eventfd, which anything with work
 * for the loop writes (the driver thread after it posts a job, a request
 * or registration that needs a new timeout), and over the canaries'
 * sockets (canary.c).  It never changes, even when the watchdog swaps
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

/*
 * The inbox: where driver threads post delivered jobs, lock-free (a
 * driver thread stopped at any instruction holds nothing the loop needs),
 * with the eventfd that wakes the loop.  Reference-counted: a driver
 * abandoned by the watchdog keeps it alive, so that if it ever posts after
 * its context was freed, it posts into valid memory and a valid fd.
 */
struct aname_inbox {
	atomic_uint refs;
	_Atomic(struct aname_job *) head; /* newest first */
	int wakefd;
	atomic_bool wake_pending;
};

struct aname_inbox *aname__inbox_new(void);
void aname__inbox_ref(struct aname_inbox *in);
/* The last reference drops the inbox's reference on every job in it. */
void aname__inbox_unref(struct aname_inbox *in);
/* Any thread; never blocks.  The caller's reference on the job becomes
 * the inbox's; whoever takes the job out releases it. */
void aname__inbox_post(struct aname_inbox *in, struct aname_job *job);

struct aname_loop {
	int epfd;   /* what hosts poll: the inbox's eventfd, the canaries */
	struct aname_inbox *inbox;

	/* Under ctx->lock: */
	struct aname_request *queue_head, *queue_tail;
	bool wake_owed; /* queued since the last wake: aname__ctx_unlock() */
	bool in_callback;
	pthread_t cb_thread;
	pthread_cond_t idle_cond; /* a delivery round ended */

	pthread_mutex_t process_lock; /* one round at a time */
	bool thread_running;
	atomic_bool thread_stop;
	pthread_t thread;
};

int aname__loop_init(struct aname_loop *l);
/* Add a socket to the fd hosts poll (canary.c's). */
int aname__loop_watch(struct aname_loop *l, int fd);
void aname__loop_destroy(struct aname_loop *l);
/* Make the host's fd readable; any thread. */
void aname__loop_wake(struct aname_loop *l);
/* Delivery queue; ctx->lock held.  Queueing owes the host a wake, which
 * aname__ctx_unlock() writes once the lock is dropped. */
void aname__loop_queue(struct aname_loop *l, struct aname_request *r);
/* ctx->lock held: whether a wake is owed (and no longer, once asked). */
bool aname__loop_take_wake(struct aname_loop *l);
void aname__loop_unqueue(struct aname_loop *l, struct aname_request *r);
/* Thread mode. */
int aname__loop_start_thread(struct aname_ctx *ctx);
void aname__loop_stop_thread(struct aname_ctx *ctx);
/* aname_ctx_free, after the driver stopped: forget the queue (request.c
 * frees what it points to) and the jobs in the inbox (fetch.c releases
 * them with their fetches). */
void aname__loop_forget(struct aname_loop *l);

#endif /* ANAME_LOOP_H */
