/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file driver.h
 * \brief The libunbound driver (driver.c): one library-owned thread per
 * libunbound context, and the only code that calls into libunbound
 * (besides ubsetup.c, which it calls).
 *
 * Why a thread of its own: in thread mode ub_resolve_async() and
 * ub_cancel() write into the worker's command pipe with a blocking write,
 * and once the worker stops reading (stuck in a syscall, stopped by a
 * debugger, blocked in fprintf on a full stderr) the pipe fills after
 * about 140 commands.  A host thread that made such a call would sleep
 * there, and with it every thread that needs whatever it held.  Here a
 * host thread only queues a job under a leaf mutex that is never held
 * across a libunbound call, and writes an eventfd; the driver thread makes
 * the calls.  If libunbound stops, only the driver thread stops, and the
 * watchdog (watchdog.c) abandons it and starts another.
 *
 * The driver is a leaf: it knows nothing of fetches or contexts.  Each job
 * carries a callback, like libunbound's own ctx_query; the driver thread
 * calls it at most once, with no lock of the caller's held, and never
 * after aname__driver_cancel() returned or the driver was abandoned.
 *
 * Thread-safety: every function here may be called from any thread, and
 * none of them waits on libunbound.  The callback runs in the driver
 * thread and must not block.
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
struct aname_job;
struct ub_ctx;

/* The job's result is in job->status and job->res (owned by the job until
 * taken with aname__job_take_result). */
typedef void (*aname_job_cb)(void *arg, struct aname_job *job);

struct aname_job {
	/* Set at submit, constant afterwards. */
	char qname[ANAME_TEXT_MAX];
	uint16_t qtype;
	aname_job_cb cb;
	void *arg;
	/* Written by the driver thread before cb runs. */
	int status;
	aname_result_t *res;
	/* Free for the callback's owner: one link to queue the job on. */
	struct aname_job *owner_next;
	/* Driver-private below. */
	atomic_uint refs;
	atomic_bool cancelled; /* set under the driver's cb_lock */
	bool delivered;        /* under the driver's cb_lock */
	bool in_ub;                /* driver thread only */
	int ub_id;
	struct aname_job *qnext;       /* submit queue */
	struct aname_job *cnext;       /* cancel queue (a job may be in both) */
	struct aname_job *prev, *next; /* driver thread: in libunbound */
	struct aname_driver *d;
};

/* Start a driver thread over \a ub (a context from aname__ub_create(),
 * now the driver's), or, with ub NULL, one that creates its own context in
 * its thread (the watchdog's replacement: creation takes libunbound's
 * global locks, which a stuck worker may hold).  cfg is copied.  On
 * failure \a ub is still the caller's. */
int aname__driver_start(const aname_config_t *cfg, struct ub_ctx *ub,
			struct aname_driver **out);

/* Queue a resolution.  Returns the job (the caller holds one reference:
 * aname__job_release() after cb ran, or aname__driver_cancel()), or NULL
 * when memory ran out. */
struct aname_job *aname__driver_submit(struct aname_driver *d,
				       const char *qname, uint16_t qtype,
				       aname_job_cb cb, void *arg);

/* After this returns, cb never runs for \a job.  Returns true when cb had
 * not run (the job is gone: its reference passes to the driver); false
 * when it already ran: the caller still holds its reference and the
 * result. */
bool aname__driver_cancel(struct aname_driver *d, struct aname_job *job);

/* The caller's reference, after cb ran. */
void aname__job_release(struct aname_job *job);
/* Take the result out of a delivered job (a reference, or NULL). */
aname_result_t *aname__job_take_result(struct aname_job *job);

/* Ask the driver to prove it is alive: a query for the probe record,
 * answered by libunbound's worker from local data.  No-op while one is
 * outstanding. */
void aname__driver_probe(struct aname_driver *d, uint64_t now_ms);
/* Monotonic ms when the outstanding probe was asked for, or 0. */
uint64_t aname__driver_probe_outstanding(const struct aname_driver *d);
/* The libunbound context could not be created (replacement drivers):
 * ANAME_OK while it works or is still being created. */
int aname__driver_status(const struct aname_driver *d);

/* Never call any job's callback again and forget the driver: its thread
 * deletes the libunbound context and frees itself if and when libunbound
 * answers again.  Returns at once. */
void aname__driver_abandon(struct aname_driver *d);
/* Stop for good (aname_ctx_free): wait up to wait_ms for the thread to
 * delete its context and exit, then abandon it.  Returns within wait_ms
 * (plus scheduling). */
void aname__driver_stop(struct aname_driver *d, unsigned wait_ms);

/* Drivers abandoned whose threads have not returned yet, process-wide. */
unsigned aname__drivers_lingering(void);

#endif /* ANAME_DRIVER_H */
