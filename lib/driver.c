/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file driver.c
 * \brief The libunbound driver thread; see driver.h for why it exists.
 *
 * No locks between host threads and the driver thread: submissions and
 * cancellations are pushed on lock-free stacks (a compare-and-swap on the
 * head; the driver takes a whole stack with one exchange), a job's outcome
 * is decided by one compare-and-swap on its state (PENDING -> DELIVERED in
 * the driver, PENDING -> CANCELLED in the host), and outcomes go to the
 * inbox (loop.c), which is lock-free too.  A driver thread stopped at any
 * instruction therefore never holds anything a host thread waits for.
 *
 * References: a job has one for the submitter (passed to the cancel stack
 * by a successful aname__driver_cancel) and one for the driver thread
 * (dropped when libunbound is done with it, or handed to the inbox with
 * the outcome).  The driver has one for its
 * owner, one for its thread and one per job; whoever drops the last frees
 * it, so an abandoned thread that returns from libunbound hours later
 * still finds its memory, and so does a host that cancels a job of a
 * driver the watchdog abandoned.
 *
 * Leaving (stop or abandon): ub_ctx_delete() joins libunbound's worker and
 * would hang with it, so the thread first sends a probe and deletes the
 * context only once the worker answered it.  Until then it lingers,
 * costing a sleeping thread and a few fds.
 */
#include "driver.h"

#include "clock.h"
#include "loop.h"
#include "ubsetup.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

/* Retry period of the leave probe, and of a failed context creation. */
#define LINGER_PROBE_MS 1000

/* d->life bits: who is gone. */
#define LIFE_EXITED 1u   /* the thread is done with everything */
#define LIFE_DETACHED 2u /* its owner left without waiting */

struct aname_driver {
	atomic_uint refs;
	aname_config_t cfg;
	struct aname_answer_limits lim;
	struct aname_inbox *inbox;
	int evfd; /* wakes the driver thread */
	pthread_t thread;

	_Atomic(struct aname_job *) subs;    /* submit stack */
	_Atomic(struct aname_job *) cancels; /* cancel stack */
	atomic_bool probe_wanted;
	atomic_bool stop;
	atomic_uint life;
	atomic_uint_fast64_t probe_asked_ms; /* 0: none outstanding */

	/* Driver thread only. */
	struct ub_ctx *ub;
	struct aname_job *inflight;
	bool probe_in_ub;
};

static atomic_int lingering;

int aname__drivers_lingering(void)
{
	return atomic_load(&lingering);
}

static void wake(struct aname_driver *d)
{
	uint64_t one = 1;
	ssize_t w = write(d->evfd, &one, sizeof(one));
	(void)w; /* fails only when the counter is saturated: still awake */
}

static void driver_unref(struct aname_driver *d)
{
	if (atomic_fetch_sub(&d->refs, 1) != 1) {
		return;
	}
	close(d->evfd);
	aname__inbox_unref(d->inbox);
	aname__config_clear(&d->cfg);
	free(d);
}

static void job_release_n(struct aname_job *job, unsigned n)
{
	if (job != NULL && atomic_fetch_sub(&job->refs, n) == n) {
		struct aname_driver *d = job->d;
		aname_result_unref(job->res);
		free(job);
		driver_unref(d);
	}
}

void aname__job_release(struct aname_job *job)
{
	job_release_n(job, 1);
}

aname_result_t *aname__job_take_result(struct aname_job *job)
{
	aname_result_t *res = job->res;
	job->res = NULL;
	return res;
}

/* Lock-free stack push (Treiber); the link field is chosen by offset.
 * Returns true when the stack was empty: only then must the driver be
 * woken.  It reads its eventfd before it takes a stack, so a push onto a
 * stack it has not taken yet is seen without a wake of its own, and one
 * onto the stack it just emptied wakes it again (one write per burst,
 * not per job: the miss path's syscalls). */
static bool push(_Atomic(struct aname_job *) *head, struct aname_job *job,
		 struct aname_job **link)
{
	struct aname_job *old = atomic_load(head);
	do {
		*link = old;
	} while (!atomic_compare_exchange_weak(head, &old, job));
	return old == NULL;
}

/* ------------------------------------------------------------ host side */

struct aname_job *aname__driver_submit(struct aname_driver *d,
				       const char *qname, uint16_t qtype,
				       void *arg)
{
	struct aname_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		return NULL;
	}
	snprintf(job->qname, sizeof(job->qname), "%s", qname);
	job->qtype = qtype;
	job->arg = arg;
	job->d = d;
	atomic_init(&job->refs, 2);
	atomic_init(&job->state, ANAME_JOB_PENDING);
	atomic_fetch_add(&d->refs, 1); /* the job's memory names the driver */
	if (push(&d->subs, job, &job->qnext)) {
		wake(d);
	}
	return job;
}

bool aname__driver_cancel(struct aname_driver *d, struct aname_job *job)
{
	int pending = ANAME_JOB_PENDING;
	if (!atomic_compare_exchange_strong(&job->state, &pending,
					    ANAME_JOB_CANCELLED)) {
		return false; /* delivered: it is (or will be) in the inbox */
	}
	/* Our reference goes with the cancel request; the thread tells
	 * libunbound (ub_cancel only suppresses the callback, it does not
	 * stop the resolution) and drops it.  A thread that has exited
	 * never looks again: then there is nobody left to tell. */
	if (atomic_load(&d->life) & LIFE_EXITED) {
		aname__job_release(job);
		return true;
	}
	if (push(&d->cancels, job, &job->cnext)) {
		wake(d);
	}
	return true;
}

void aname__driver_probe(struct aname_driver *d, uint64_t now_ms)
{
	uint_fast64_t none = 0;
	if (atomic_compare_exchange_strong(&d->probe_asked_ms, &none,
					   now_ms != 0 ? now_ms : 1)) {
		atomic_store(&d->probe_wanted, true);
		wake(d);
	}
}

uint64_t aname__driver_probe_outstanding(const struct aname_driver *d)
{
	return atomic_load(&((struct aname_driver *)d)->probe_asked_ms);
}

void aname__driver_abandon(struct aname_driver *d)
{
	atomic_store(&d->stop, true);
	unsigned old = atomic_fetch_or(&d->life, LIFE_DETACHED);
	wake(d);
	if (old & LIFE_EXITED) {
		pthread_join(d->thread, NULL); /* it is returning */
	} else {
		atomic_fetch_add(&lingering, 1);
		pthread_detach(d->thread);
	}
	driver_unref(d);
}

void aname__driver_stop(struct aname_driver *d, unsigned wait_ms)
{
	atomic_store(&d->stop, true);
	wake(d);
	/* Polled, not waited on a condition variable: that would need a
	 * mutex the driver thread might hold when it is stopped. */
	uint64_t until = aname__now_ms() + wait_ms;
	while (!(atomic_load(&d->life) & LIFE_EXITED) &&
	       aname__now_ms() < until) {
		struct timespec ts = {0, 1000000L};
		nanosleep(&ts, NULL);
	}
	aname__driver_abandon(d);
}

/* ------------------------------------------------------------ driver thread */

static void inflight_add(struct aname_driver *d, struct aname_job *job)
{
	job->prev = NULL;
	job->next = d->inflight;
	if (d->inflight != NULL) {
		d->inflight->prev = job;
	}
	d->inflight = job;
	job->in_ub = true;
}

static void inflight_remove(struct aname_driver *d, struct aname_job *job)
{
	if (job->prev != NULL) {
		job->prev->next = job->next;
	} else {
		d->inflight = job->next;
	}
	if (job->next != NULL) {
		job->next->prev = job->prev;
	}
	job->prev = job->next = NULL;
	job->in_ub = false;
}

/* Post the outcome unless the submitter cancelled first (the driver's
 * reference goes with the job into the inbox), else drop the driver's
 * reference.  Takes res. */
static void deliver(struct aname_driver *d, struct aname_job *job, int status,
		    aname_result_t *res)
{
	/* The fields are written before the state flips, and the inbox push
	 * publishes them (release) to the host that pops it (acquire). */
	job->status = status;
	job->res = res;
	int pending = ANAME_JOB_PENDING;
	if (atomic_compare_exchange_strong(&job->state, &pending,
					   ANAME_JOB_DELIVERED)) {
		/* Our reference becomes the inbox's. */
		aname__inbox_post(d->inbox, job);
		return;
	}
	job->res = NULL;
	aname_result_unref(res);
	aname__job_release(job);
}

/* libunbound's callback; runs inside ub_process() in the driver thread. */
static void on_ub_answer(void *arg, int err, struct ub_result *result)
{
	struct aname_job *job = arg;
	struct aname_driver *d = job->d;
	aname_result_t *res = NULL;
	int status;
	inflight_remove(d, job);
	if (err != 0 || result == NULL) {
		status = err == UB_SYNTAX ? ANAME_EBADNAME : ANAME_ERESOLVER;
	} else {
		status = aname__answer_from_packet(
			result->answer_packet, (size_t)result->answer_len,
			result->rcode, result->secure != 0,
			result->bogus != 0, job->qname, job->qtype, &d->lim,
			aname__now_ms(), &res);
	}
	ub_resolve_free(result);
	deliver(d, job, status, res);
}

static void on_probe(void *arg, int err, struct ub_result *result)
{
	struct aname_driver *d = arg;
	(void)err;
	ub_resolve_free(result);
	d->probe_in_ub = false;
	atomic_store(&d->probe_asked_ms, 0);
}

static void send_probe(struct aname_driver *d)
{
	int id;
	if (d->probe_in_ub) {
		return;
	}
	if (ub_resolve_async(d->ub, ANAME_PROBE_NAME, 16 /* TXT */, 1, d,
			     on_probe, &id) == 0) {
		d->probe_in_ub = true;
	}
}

static void submit(struct aname_driver *d, struct aname_job *job)
{
	int id;
	if (atomic_load(&job->state) == ANAME_JOB_CANCELLED) {
		aname__job_release(job);
		return;
	}
	if (d->ub == NULL) {
		deliver(d, job, ANAME_ERESOLVER, NULL);
		return;
	}
	/* May block while libunbound's worker is not reading its pipe: only
	 * this thread waits, and the watchdog sees it. */
	if (ub_resolve_async(d->ub, job->qname, job->qtype, 1 /* IN */, job,
			     on_ub_answer, &id) != 0) {
		deliver(d, job, ANAME_ERESOLVER, NULL);
		return;
	}
	job->ub_id = id;
	inflight_add(d, job);
}

static void cancel(struct aname_driver *d, struct aname_job *job)
{
	/* ub_cancel() == 0 means libunbound will not call back; otherwise
	 * the answer is on its way and deliver() drops it. */
	unsigned refs = 1; /* the one that came with the cancel */
	if (job->in_ub && ub_cancel(d->ub, job->ub_id) == 0) {
		inflight_remove(d, job);
		refs++; /* and the driver's */
	}
	job_release_n(job, refs);
}

/* A stack popped whole is newest first: oldest first is fairer. */
static struct aname_job *reverse(struct aname_job *j, bool cancels)
{
	struct aname_job *out = NULL;
	while (j != NULL) {
		struct aname_job **link = cancels ? &j->cnext : &j->qnext;
		struct aname_job *next = *link;
		*link = out;
		out = j;
		j = next;
	}
	return out;
}

/* Take and run what host threads queued.  Returns true to leave. */
static bool run_queues(struct aname_driver *d)
{
	struct aname_job *subs = reverse(atomic_exchange(&d->subs, NULL),
					 false);
	struct aname_job *cancels =
		reverse(atomic_exchange(&d->cancels, NULL), true);
	bool probe = atomic_exchange(&d->probe_wanted, false);
	/* Submissions first: a cancel may name a job queued with them. */
	while (subs != NULL) {
		struct aname_job *job = subs;
		subs = job->qnext;
		submit(d, job);
	}
	while (cancels != NULL) {
		struct aname_job *job = cancels;
		cancels = job->cnext;
		cancel(d, job);
	}
	if (probe && d->ub != NULL) {
		send_probe(d);
	}
	return atomic_load(&d->stop);
}

enum { READY_WAKE = 1, READY_UB = 2 };

/* Which of the two fds (the eventfd, libunbound's) are readable. */
static unsigned wait_events(struct aname_driver *d, int ep, int timeout_ms)
{
	struct epoll_event ev[2];
	unsigned ready = 0;
	int n = epoll_wait(ep, ev, 2, timeout_ms);
	for (int i = 0; i < n; i++) {
		ready |= ev[i].data.fd == d->evfd ? READY_WAKE : READY_UB;
	}
	return ready;
}

/* One read empties an eventfd's counter. */
static void drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r; /* EAGAIN: nothing was written */
}

static int poll_set(struct aname_driver *d)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		return -1;
	}
	struct epoll_event e1 = {.events = EPOLLIN, .data.fd = d->evfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, d->evfd, &e1);
	if (d->ub != NULL) {
		int ufd = ub_fd(d->ub);
		struct epoll_event e2 = {.events = EPOLLIN, .data.fd = ufd};
		epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &e2);
	}
	return ep;
}

/* Leaving: delete the libunbound context once its worker answers a probe
 * (ub_ctx_delete joins it), then drop every job still held. */
static void leave(struct aname_driver *d, int ep)
{
	if (d->ub != NULL) {
		send_probe(d); /* no-op when one is outstanding */
		for (;;) {
			drain(d->evfd);
			ub_process(d->ub); /* answers still go to the inbox */
			run_queues(d);     /* cancels still arrive */
			if (!d->probe_in_ub || ep < 0) {
				break;
			}
			(void)wait_events(d, ep, LINGER_PROBE_MS);
		}
		aname__ub_delete(d->ub); /* calls no callbacks */
		d->ub = NULL;
	}
	struct aname_job *job = d->inflight;
	d->inflight = NULL;
	while (job != NULL) {
		struct aname_job *next = job->next;
		job->prev = job->next = NULL;
		job->in_ub = false;
		deliver(d, job, ANAME_ECANCELED, NULL);
		job = next;
	}
	run_queues(d); /* with ub gone: every job ends at once */
}

static void *driver_main(void *arg)
{
	struct aname_driver *d = arg;
	if (d->ub == NULL) {
		struct ub_ctx *ub = NULL;
		/* On failure every job ends ANAME_ERESOLVER and no probe is
		 * answered, so the watchdog tries again after its grace. */
		d->ub = aname__ub_create(&d->cfg, &ub) == ANAME_OK ? ub : NULL;
	}
	/* libunbound creates its worker thread on the first resolve, and a
	 * new thread inherits its creator's name: name the worker's name
	 * first, then ours, so that both can be told apart (tests find the
	 * worker by its name to stop it for real). */
	pthread_setname_np(pthread_self(), "aname-ubworker");
	if (d->ub != NULL) {
		send_probe(d);
	}
	pthread_setname_np(pthread_self(), "aname-driver");
	int ep = poll_set(d);
	bool leaving = ep < 0;
	/* Only what is ready: an idle fd costs a failing read otherwise. */
	unsigned ready = READY_WAKE | READY_UB;
	while (!leaving) {
		if (ready & READY_WAKE) {
			drain(d->evfd);
			leaving = run_queues(d);
		}
		if (d->ub != NULL && (ready & READY_UB)) {
			ub_process(d->ub);
		}
		if (!leaving) {
			ready = wait_events(d, ep,
					    d->ub != NULL ? -1 : LINGER_PROBE_MS);
			if (d->ub == NULL) {
				ready |= READY_WAKE; /* jobs end at once */
			}
		}
	}
	leave(d, ep);
	if (ep >= 0) {
		close(ep);
	}
	/* Whatever is pushed from here on is handled by its pusher (see
	 * aname__driver_cancel); what was pushed before goes with us. */
	unsigned old = atomic_fetch_or(&d->life, LIFE_EXITED);
	run_queues(d);
	if (old & LIFE_DETACHED) {
		atomic_fetch_sub(&lingering, 1);
	}
	driver_unref(d);
	return NULL;
}

int aname__driver_start(const aname_config_t *cfg, struct ub_ctx *ub,
			struct aname_inbox *inbox, struct aname_driver **out)
{
	struct aname_driver *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return ANAME_ENOMEM;
	}
	if (aname__config_copy(&d->cfg, cfg) != ANAME_OK) {
		free(d);
		return ANAME_ENOMEM;
	}
	d->lim = (struct aname_answer_limits){
		.max_chain = cfg->max_chain,
		.min_ttl = cfg->min_ttl,
		.max_ttl = cfg->max_ttl,
		.neg_max_ttl = cfg->neg_max_ttl,
		.stale_ttl = cfg->stale_ttl,
	};
	d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	atomic_init(&d->refs, 2);
	atomic_init(&d->subs, NULL);
	atomic_init(&d->cancels, NULL);
	atomic_init(&d->probe_wanted, false);
	atomic_init(&d->stop, false);
	atomic_init(&d->life, 0);
	atomic_init(&d->probe_asked_ms, 0);
	d->ub = ub;
	d->inbox = inbox;
	aname__inbox_ref(inbox);
	if (d->evfd < 0 ||
	    pthread_create(&d->thread, NULL, driver_main, d) != 0) {
		if (d->evfd >= 0) {
			close(d->evfd);
		}
		aname__inbox_unref(inbox);
		aname__config_clear(&d->cfg);
		free(d);
		return ANAME_ETHREAD;
	}
	*out = d;
	return ANAME_OK;
}
