/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file driver.h
 * \brief The libunbound driver (driver.c): one library-owned thread per
 * libunbound context, and the only code that calls into libunbound
 * (besides ubsetup.c, which it calls).
 *
 * Why a thread of its own: any libunbound call can stop for as long as
 * libunbound does.  In its thread mode ub_resolve_async() and ub_cancel()
 * write into the worker's command pipe with a blocking write, which fills
 * after about 140 commands once the worker stops reading (stuck in a
 * syscall, stopped by a debugger, blocked in fprintf on a full stderr);
 * in its event mode, which this driver uses, libunbound's network work
 * runs inside whoever calls it.  A host thread that called libunbound
 * would sleep there, and with it every thread that needs whatever it
 * held.  Here a host thread only pushes a job on a lock-free stack and
 * writes an eventfd; the driver thread runs libunbound's event loop and
 * makes every call.  If libunbound stops, only the driver thread stops,
 * and the watchdog (watchdog.c) abandons it and starts another.
 *
 * The driver is a leaf: it knows nothing of fetches or contexts.  Each job
 * carries its submitter's pointer, like libunbound's own ctx_query; its
 * outcome is posted to the inbox the driver was started with, at most
 * once, and never after aname__driver_cancel() returned true.
 *
 * Thread-safety: every function here may be called from any thread, and
 * none of them takes a lock the driver thread could hold: the queues are
 * lock-free stacks and job states are atomics, so even a driver thread
 * stopped at an arbitrary instruction (a debugger, a signal) cannot make
 * a host thread wait.
 */
#ifndef ANAME_DRIVER_H
#define ANAME_DRIVER_H

#include "aname_private.h"
#include "answer.h"
#include "config.h"
#include "result.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct aname_driver;
struct aname_inbox;

enum aname_job_state {
	ANAME_JOB_PENDING,   /* submitted, no outcome yet */
	ANAME_JOB_DELIVERED, /* outcome posted (or being posted) to the inbox */
	ANAME_JOB_CANCELLED, /* the submitter gave it up first */
};

struct aname_job {
	/* Set at submit, constant afterwards (qname: the last member). */
	uint16_t qtype;
	void *arg; /* the submitter's */
	/* Written by the driver thread before it posts the job. */
	int status;
	aname_result_t *res;
	/* Free for the inbox's owner: one link to queue the job on. */
	struct aname_job *owner_next;
	/* Driver-private below. */
	atomic_uint refs;
	atomic_int state;              /* enum aname_job_state */
	bool in_ub;                    /* driver thread only */
	int ub_id;
	struct aname_job *qnext;       /* submit stack */
	struct aname_job *cnext;       /* cancel stack (a job may be in both) */
	struct aname_job *prev, *next; /* driver thread: in libunbound */
	struct aname_driver *d;
	/* Sized to the name (under ANAME_TEXT_MAX), like a fetch's. */
	char qname[];
};

/* Start a driver thread and its libunbound context.  With \a create_here
 * the context is made in the caller's thread, so that a bad configuration
 * is this call's error (aname_ctx_new); otherwise the thread makes its own
 * (the watchdog's replacement: creation takes libunbound's global locks,
 * which a stuck driver may hold).  Outcomes are posted to \a inbox
 * (loop.h), which the driver keeps a reference to, so that a driver that
 * returns from libunbound after its context was freed still posts into
 * valid memory.  cfg is copied. */
int aname__driver_start(const aname_config_t *cfg, bool create_here,
			struct aname_inbox *inbox, struct aname_driver **out);

/* Queue a resolution.  Returns the job (the caller holds one reference:
 * aname__job_release() once it came out of the inbox, or
 * aname__driver_cancel()), or NULL when memory ran out.  The driver is
 * not woken here but owed a wake (aname__driver_take_wake()): submitters
 * hold the context lock, and a write that wakes another thread is not
 * made under it (aname__ctx_unlock() makes it after). */
struct aname_job *aname__driver_submit(struct aname_driver *d,
				       const char *qname, uint16_t qtype,
				       void *arg);

/* The wake a submit left owed, if any: then a reference to \a d, for
 * aname__driver_give_wake() to write the wake and drop, with no lock held.
 * Only one caller gets a given wake.  NULL for none (or \a d NULL). */
struct aname_driver *aname__driver_take_wake(struct aname_driver *d);
void aname__driver_give_wake(struct aname_driver *d);

/* Give the job up.  Returns true when it had no outcome yet: it will
 * never reach the inbox, and the caller's reference is gone.  False when
 * its outcome is (or is being) posted: the caller keeps its reference
 * and will find the job in the inbox.  Takes no lock and never waits;
 * like a submit, it leaves the driver's wake owed (a late one only delays
 * libunbound's cleanup: the job is already out of the caller's hands). */
bool aname__driver_cancel(struct aname_driver *d, struct aname_job *job);

/* The caller's reference. */
void aname__job_release(struct aname_job *job);
/* Take the result out of a delivered job (a reference, or NULL). */
aname_result_t *aname__job_take_result(struct aname_job *job);

/* Ask the driver to prove it is alive: a query for the probe record,
 * which libunbound answers from local data in the driver thread.  No-op
 * while one is outstanding. */
void aname__driver_probe(struct aname_driver *d, uint64_t now_ms);
/* Monotonic ms when the outstanding probe was asked for, or 0. */
uint64_t aname__driver_probe_outstanding(const struct aname_driver *d);

/* Forget the driver: its thread deletes the libunbound context and frees
 * itself if and when it returns from libunbound.  Returns at once. */
void aname__driver_abandon(struct aname_driver *d);
/* Stop for good (aname_ctx_free): wait up to wait_ms for the thread to
 * delete its context and exit, then abandon it.  Returns within wait_ms
 * (plus scheduling). */
void aname__driver_stop(struct aname_driver *d, unsigned wait_ms);

/* Drivers abandoned whose threads have not returned yet, process-wide. */
int aname__drivers_lingering(void);

#endif /* ANAME_DRIVER_H */
