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
 * libunbound runs inside this thread: the context is made with
 * ub_ctx_create_event() over a libevent base that only this thread
 * touches, so there is no libunbound worker thread and no command pipe.
 * A resolution costs one wake-up on each side (host -> this thread -> the
 * host's inbox), the same as libunbound's own thread mode, instead of the
 * two more that a driver in front of that mode cost (0.2's first cut).
 * The host side's wake is written after the context lock is dropped
 * (aname__ctx_unlock()): a write that wakes this thread may hand it the
 * waker's CPU, and a holder taken off its CPU stalls every other caller
 * (bench-stall counted half as many calls waiting on the lock).
 * The thread is then the one libunbound can stop (a stuck syscall, a
 * debugger, a full stderr inside a libevent warning): only it waits, and
 * the watchdog, which runs in the host's loop, abandons it.
 *
 * libunbound may call back from inside ub_resolve_event() (local data,
 * its own cache), before it returns: submit() puts the job in flight
 * first and does not touch it again once it was answered there.
 *
 * Leaving (stop or abandon): ub_ctx_delete() calls no callbacks and joins
 * nothing in this mode; jobs still in flight end ANAME_ECANCELED.  A
 * thread stuck inside libunbound leaves when (if ever) it returns to its
 * loop and sees the stop flag; until then it lingers, costing a sleeping
 * thread and a few fds.
 */
#include "driver.h"

#include "clock.h"
#include "loop.h"
#include "ubsetup.h"

#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

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
	atomic_bool wake_owed; /* a submit found the stack empty: wake due */
	atomic_bool stop;
	atomic_uint life;
	atomic_uint_fast64_t probe_asked_ms; /* 0: none outstanding */

	/* Driver thread only (and aname__driver_start before the thread
	 * exists). */
	struct event_base *base;
	struct event *wake_ev;
	struct ub_ctx *ub;
	struct aname_job *inflight;
	struct aname_job *submitting; /* inside ub_resolve_event() */
	bool answered_inline;         /* ... and libunbound called back */
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
	size_t qlen = strnlen(qname, ANAME_TEXT_MAX - 1);
	struct aname_job *job = calloc(1, sizeof(*job) + qlen + 1);
	if (job == NULL) {
		return NULL;
	}
	memcpy(job->qname, qname, qlen); /* calloc wrote the terminator */
	job->qtype = qtype;
	job->arg = arg;
	job->d = d;
	atomic_init(&job->refs, 2);
	atomic_init(&job->state, ANAME_JOB_PENDING);
	atomic_fetch_add(&d->refs, 1); /* the job's memory names the driver */
	if (push(&d->subs, job, &job->qnext)) {
		/* Not here: the submitter holds the context lock, and the
		 * write wakes a thread that may take this CPU from it.
		 * aname__driver_take_wake() hands the wake to whoever unlocks. */
		atomic_store(&d->wake_owed, true);
	}
	return job;
}

struct aname_driver *aname__driver_take_wake(struct aname_driver *d)
{
	if (d == NULL || !atomic_load_explicit(&d->wake_owed,
					       memory_order_relaxed) ||
	    !atomic_exchange(&d->wake_owed, false)) {
		return NULL;
	}
	atomic_fetch_add(&d->refs, 1);
	return d;
}

void aname__driver_give_wake(struct aname_driver *d)
{
	if (d != NULL) {
		wake(d);
		driver_unref(d);
	}
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
		atomic_store(&d->wake_owed, true); /* as a submit's */
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

/* The header's RCODE: libunbound's event callback reports NOERROR for
 * every answer it has a packet for (NXDOMAIN included). */
static int packet_rcode(const uint8_t *pkt, int len)
{
	return len >= 4 ? pkt[3] & 0x0f : 2 /* SERVFAIL */;
}

/* libunbound's callback (ub_event_callback_type): runs in this thread,
 * from the event loop or from inside ub_resolve_event().  sec: 0
 * insecure, 1 bogus, 2 secure.  A non-zero rcode means no usable packet. */
static void on_ub_answer(void *arg, int rcode, void *packet, int len, int sec,
			 char *why_bogus, int was_ratelimited)
{
	struct aname_job *job = arg;
	struct aname_driver *d = job->d;
	aname_result_t *res = NULL;
	(void)why_bogus;
	(void)was_ratelimited;
	inflight_remove(d, job);
	if (job == d->submitting) {
		d->answered_inline = true;
	}
	bool usable = rcode == 0 && packet != NULL && len > 0;
	int status = aname__answer_from_packet(
		usable ? packet : NULL, usable ? (size_t)len : 0,
		usable ? packet_rcode(packet, len) : rcode, sec == 2, sec == 1,
		job->qname, job->qtype, &d->lim, aname__now_ms(), &res);
	deliver(d, job, status, res);
}

static void on_probe(void *arg, int rcode, void *packet, int len, int sec,
		     char *why_bogus, int was_ratelimited)
{
	struct aname_driver *d = arg;
	(void)rcode;
	(void)packet;
	(void)len;
	(void)sec;
	(void)why_bogus;
	(void)was_ratelimited;
	d->probe_in_ub = false;
	atomic_store(&d->probe_asked_ms, 0);
}

static void send_probe(struct aname_driver *d)
{
	int id;
	if (d->probe_in_ub) {
		return;
	}
	/* Before the call: local data is answered from inside it. */
	d->probe_in_ub = true;
	if (ub_resolve_event(d->ub, ANAME_PROBE_NAME, 16 /* TXT */, 1, d,
			     on_probe, &id) != 0) {
		d->probe_in_ub = false; /* unanswered: the watchdog judges */
	}
}

static void submit(struct aname_driver *d, struct aname_job *job)
{
	int id = 0;
	if (atomic_load(&job->state) == ANAME_JOB_CANCELLED) {
		aname__job_release(job);
		return;
	}
	if (d->ub == NULL) {
		deliver(d, job, ANAME_ERESOLVER, NULL);
		return;
	}
	/* In flight before the call, which may answer it (and post it to
	 * the inbox, where the host may free it) before it returns. */
	inflight_add(d, job);
	d->submitting = job;
	d->answered_inline = false;
	int r = ub_resolve_event(d->ub, job->qname, job->qtype, 1 /* IN */,
				 job, on_ub_answer, &id);
	bool answered = d->answered_inline;
	d->submitting = NULL;
	if (answered) {
		return; /* the job may be gone */
	}
	if (r != 0) {
		inflight_remove(d, job);
		deliver(d, job, r == UB_SYNTAX ? ANAME_EBADNAME : ANAME_ERESOLVER,
			NULL);
		return;
	}
	job->ub_id = id;
}

static void cancel(struct aname_driver *d, struct aname_job *job)
{
	/* ub_cancel() == 0 means libunbound will not call back (it marks
	 * the query, which runs on and is freed when it ends); otherwise
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

/* One read empties an eventfd's counter. */
static void drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r; /* EAGAIN: nothing was written */
}

/* The eventfd, level-triggered: read before the stacks are taken (see
 * push()). */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct aname_driver *d = arg;
	(void)fd;
	(void)what;
	drain(d->evfd);
	if (run_queues(d)) {
		event_base_loopbreak(d->base);
	}
}

/* Without a libunbound context (its creation failed) or an event loop:
 * every job ends at once, and the probe stays unanswered, so the
 * watchdog replaces this driver after its grace period. */
static void run_without_ub(struct aname_driver *d)
{
	for (;;) {
		drain(d->evfd);
		if (run_queues(d)) {
			return;
		}
		struct pollfd p = {.fd = d->evfd, .events = POLLIN};
		(void)poll(&p, 1, -1);
	}
}

/* Leaving: delete the libunbound context (no callbacks, nothing to join
 * in event mode), then end every job still held. */
static void leave(struct aname_driver *d)
{
	if (d->ub != NULL) {
		aname__ub_delete(d->ub);
		d->ub = NULL;
	}
	if (d->wake_ev != NULL) {
		event_free(d->wake_ev);
		d->wake_ev = NULL;
	}
	if (d->base != NULL) {
		event_base_free(d->base); /* after the context that used it */
		d->base = NULL;
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

/* A libevent base and a libunbound context over it; on failure neither. */
static int create_ub(struct aname_driver *d)
{
	struct ub_ctx *ub = NULL;
	d->base = event_base_new();
	if (d->base == NULL) {
		return ANAME_ENOMEM;
	}
	int rc = aname__ub_create(&d->cfg, d->base, &ub);
	if (rc != ANAME_OK) {
		event_base_free(d->base);
		d->base = NULL;
		return rc;
	}
	d->ub = ub;
	/* libunbound builds its event worker (outgoing sockets, an OpenSSL
	 * context, random state) on the first resolve, taking OpenSSL's
	 * process-wide locks.  The probe, answered from local data, makes
	 * that happen now: not in a host's first query, and not at a moment
	 * when a stop of this thread would leave those locks held while
	 * the watchdog's replacement needs them to start. */
	send_probe(d);
	return ANAME_OK;
}

static void *driver_main(void *arg)
{
	struct aname_driver *d = arg;
	/* Tests find this thread by its name to stop it for real. */
	pthread_setname_np(pthread_self(), "aname-driver");
	if (d->ub == NULL) {
		/* On failure every job ends ANAME_ERESOLVER and no probe is
		 * answered, so the watchdog tries again after its grace. */
		(void)create_ub(d);
	}
	if (d->ub != NULL) {
		d->wake_ev = event_new(d->base, d->evfd, EV_READ | EV_PERSIST,
				       on_wake, d);
	}
	if (d->wake_ev != NULL && event_add(d->wake_ev, NULL) == 0) {
		/* Returns on event_base_loopbreak() (stop), or if libevent
		 * fails, after which the thread leaves as if stopped. */
		(void)event_base_dispatch(d->base);
	} else {
		/* A context no loop runs would still answer the probe from
		 * local data, hiding from the watchdog that nothing else is
		 * ever answered: without the loop, no context either. */
		if (d->ub != NULL) {
			aname__ub_delete(d->ub);
			d->ub = NULL;
		}
		run_without_ub(d);
	}
	leave(d);
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

static void driver_free_unstarted(struct aname_driver *d)
{
	if (d->ub != NULL) {
		aname__ub_delete(d->ub);
	}
	if (d->base != NULL) {
		event_base_free(d->base);
	}
	if (d->evfd >= 0) {
		close(d->evfd);
	}
	aname__inbox_unref(d->inbox);
	aname__config_clear(&d->cfg);
	free(d);
}

int aname__driver_start(const aname_config_t *cfg, bool create_here,
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
	d->inbox = inbox;
	aname__inbox_ref(inbox);
	if (d->evfd < 0) {
		driver_free_unstarted(d);
		return ANAME_ETHREAD;
	}
	if (create_here) {
		int rc = create_ub(d);
		if (rc != ANAME_OK) {
			driver_free_unstarted(d);
			return rc;
		}
	}
	/* The base and the context pass to the thread: pthread_create
	 * orders everything written to them before it. */
	if (pthread_create(&d->thread, NULL, driver_main, d) != 0) {
		driver_free_unstarted(d);
		return ANAME_ETHREAD;
	}
	*out = d;
	return ANAME_OK;
}
