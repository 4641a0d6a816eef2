/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file spin.h
 * \brief A spin-then-sleep lock for the cache shards' writers (hits read
 * without it: ebr.h), and for hits when a shard keeps changing.
 *
 * A holder keeps its shard for a few dozen instructions: a pthread
 * mutex there cost two atomic read-modify-writes and two library calls,
 * about a fifth of the hit.  This lock is one compare-exchange to take and
 * one exchange to drop.  Holders never block or call out while holding
 * it, and cache.c allocates and frees outside it (except the rare
 * doubling of a shard's index), so waiting is short.
 *
 * Unless the holder was preempted: then a waiter that only spins (or
 * calls sched_yield(), which returns at once when nothing else is queued
 * on its CPU) burns its CPU until the holder's CPU runs it again, and the
 * waiter is often a resolve holding the context lock.  So after
 * ANAME_SPIN_TRIES reads of a held lock the waiter sleeps on a futex:
 * its CPU goes idle, and Linux's idle balancing moves the preempted
 * holder there.  The states are Drepper's ("Futexes Are Tricky", mutex
 * 2): 0 free, 1 held, 2 held and maybe slept on; only an unlock that
 * finds 2 makes the wake call.
 */
#ifndef ANAME_SPIN_H
#define ANAME_SPIN_H

#include <sched.h>
#include <stdatomic.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

typedef struct {
	atomic_uint state; /* 0 free, 1 held, 2 held and maybe slept on */
} aname_spin_t;

#define ANAME_SPIN_TRIES 128 /* reads of a held lock before sleeping */

#if defined(__x86_64__) || defined(__i386__)
#define ANAME_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define ANAME_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define ANAME_CPU_RELAX() ((void)0)
#endif

static inline void aname__spin_init(aname_spin_t *l)
{
	atomic_init(&l->state, 0);
}

/* Sleep while the state is still 2 (returns at once if it changed). */
static inline void aname__spin_sleep(aname_spin_t *l)
{
#ifdef __linux__
	(void)syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2u, NULL,
		      NULL, 0);
#else
	(void)l;
	sched_yield();
#endif
}

static inline void aname__spin_wake(aname_spin_t *l)
{
#ifdef __linux__
	(void)syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
		      0);
#else
	(void)l;
#endif
}

static inline void aname__spin_lock(aname_spin_t *l)
{
	unsigned free_ = 0;
	if (__builtin_expect(atomic_compare_exchange_strong_explicit(
				     &l->state, &free_, 1,
				     memory_order_acquire,
				     memory_order_relaxed),
			     1)) {
		return;
	}
	for (unsigned tries = 0; tries < ANAME_SPIN_TRIES; tries++) {
		ANAME_CPU_RELAX();
		free_ = 0;
		if (atomic_load_explicit(&l->state, memory_order_relaxed) ==
			    0 &&
		    atomic_compare_exchange_weak_explicit(
			    &l->state, &free_, 1, memory_order_acquire,
			    memory_order_relaxed)) {
			return;
		}
	}
	/* Taken with 2: this holder cannot know whether others sleep, so
	 * its unlock wakes one (which finds the lock free or sleeps again). */
	while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) !=
	       0) {
		aname__spin_sleep(l);
	}
}

static inline void aname__spin_unlock(aname_spin_t *l)
{
	if (__builtin_expect(atomic_exchange_explicit(&l->state, 0,
						      memory_order_release) ==
				     2,
			     0)) {
		aname__spin_wake(l);
	}
}

#endif /* ANAME_SPIN_H */
