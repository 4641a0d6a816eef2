/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file spin.h
 * \brief A test-and-test-and-set lock for the cache shards' writers (hits
 * read without it: ebr.h), and for hits when a shard keeps changing.
 *
 * A holder keeps its shard for a few dozen instructions: a pthread
 * mutex there cost two atomic read-modify-writes and two library calls,
 * about a fifth of the hit.  This lock is one exchange to take and a
 * plain release store to drop.  Holders never block or call out while
 * holding it, and cache.c allocates and frees outside it (except the rare
 * doubling of a shard's index), so waiting is short; a waiter that spins for long (its holder was
 * preempted) yields the CPU instead of burning it.
 */
#ifndef ANAME_SPIN_H
#define ANAME_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
	atomic_bool busy;
} aname_spin_t;

#define ANAME_SPIN_TRIES 128 /* reads of a held lock before yielding */

#if defined(__x86_64__) || defined(__i386__)
#define ANAME_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define ANAME_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define ANAME_CPU_RELAX() ((void)0)
#endif

static inline void aname__spin_init(aname_spin_t *l)
{
	atomic_init(&l->busy, false);
}

static inline void aname__spin_lock(aname_spin_t *l)
{
	while (atomic_exchange_explicit(&l->busy, true, memory_order_acquire)) {
		unsigned tries = 0;
		while (atomic_load_explicit(&l->busy, memory_order_relaxed)) {
			if (++tries >= ANAME_SPIN_TRIES) {
				sched_yield();
				tries = 0;
			} else {
				ANAME_CPU_RELAX();
			}
		}
	}
}

static inline void aname__spin_unlock(aname_spin_t *l)
{
	atomic_store_explicit(&l->busy, false, memory_order_release);
}

#endif /* ANAME_SPIN_H */
