/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file freeze.h
 * \brief Real stalls for tests: stop one thread of this process for real,
 * the way a debugger or a stuck syscall would, from a helper process.
 *
 * The helper is a forked child that attaches to the thread with
 * PTRACE_SEIZE and stops it with PTRACE_INTERRUPT (the thread is then in
 * the kernel's trace-stop state, runs no code and reads no pipe), until
 * ts_thaw() tells it to detach.  It needs ptrace rights over this process:
 * root, or Yama's ptrace_scope 0, or PR_SET_PTRACER (which ts_freeze sets).
 */
#ifndef TESTS_SUPPORT_FREEZE_H
#define TESTS_SUPPORT_FREEZE_H

#include <sys/types.h>

/**
 * The thread of this process whose name (/proc/self/task/TID/comm) is
 * \a name, waiting up to \a wait_ms for it to appear; the newest (highest
 * TID) when several match.  \return The TID, or -1.
 */
pid_t ts_find_thread(const char *name, int wait_ms);

/**
 * The thread that runs libunbound for the newest libaname resolver: its
 * driver thread ("aname-driver"), which runs libunbound's event loop
 * itself, once at least \a n such threads exist (an abandoned one that is
 * still stopped counts); waits up to \a wait_ms.  \return The TID, or -1.
 */
pid_t ts_find_ub_worker(int n, int wait_ms);

/** How many threads of this process are named \a name right now. */
int ts_count_threads(const char *name);

typedef struct ts_freeze ts_freeze_t;

/**
 * Stop thread \a tid of this process from a helper process.  Returns once
 * the thread is stopped.  \return The handle, or NULL (message on stderr).
 */
ts_freeze_t *ts_freeze(pid_t tid);

/**
 * ts_freeze(), but only at a moment when thread \a tid is blocked in a
 * system call other than memory management or futex: stopped anywhere
 * else it may hold the allocator's or a sanitizer runtime's locks, and
 * then every other thread's malloc() waits for it (seen under TSan: a
 * driver stopped inside its allocator's mmap left every thread spinning
 * in TSan's allocator).  That is a fault of the harness, not one a real
 * stuck syscall makes.  Retries for up to \a wait_ms.  \return The
 * handle, or NULL.
 */
ts_freeze_t *ts_freeze_blocked(pid_t tid, int wait_ms);

/** Let the thread run again and reap the helper.  NULL is a no-op. */
void ts_thaw(ts_freeze_t *f);

#endif /* TESTS_SUPPORT_FREEZE_H */
