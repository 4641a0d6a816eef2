/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ebr.h
 * \brief Epoch-based reclamation (ebr.c): how a cache hit reads shared
 * entries without a lock and without writing memory another thread uses.
 *
 * A reader brackets its reads with aname__ebr_enter() and
 * aname__ebr_exit().  Those write only the reader's own record, one per
 * (thread, cache) on a cache line of its own, so hits on different cores
 * do not pull a line back and forth as a shared lock did.  A writer that
 * unlinks memory a reader may still be looking at hands it to
 * aname__ebr_retire(); it is freed once every reader that could have seen
 * it has left, that is after the epoch has advanced twice, and the epoch
 * advances only when no reader is still inside an older one.
 *
 * The reader's record is published before it reads shared pointers.  On
 * Linux that store needs no fence: the writer side, when it tries to
 * advance the epoch (rarely: every ANAME_EBR_BATCH retirements), calls
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running
 * thread of the process pass a full barrier.  Where membarrier is not
 * available (old kernels, valgrind), readers use a full fence instead.
 *
 * Bounds: the limbo holds what was retired in the last two epochs, plus
 * everything retired while one reader stays inside a read section (a read
 * section copies a few fields and calls nothing; only a thread stopped by
 * a debugger or a signal stays in one).  There is one record per thread
 * that has read the cache; a record whose thread the kernel has removed
 * (tgkill() says ESRCH, a moment after pthread_join() returns) is reused
 * by the next thread that registers, so their number stays at the number
 * of threads alive at once, plus those that exited a moment before.
 *
 * Thread-safety: enter, exit and the counters are for the owning thread
 * only; read sections do not nest.  Everything else is thread-safe.  Not
 * for the child of a fork: records are found by thread id, and the
 * child's thread ids are new.
 */
#ifndef ANAME_EBR_H
#define ANAME_EBR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ThreadSanitizer models neither membarrier nor atomic_thread_fence (gcc
 * warns, -Wtsan, and CI's -Werror refuses the fence).  So every fence here
 * and in cache.c is ANAME_FENCE(loc, order): the fence itself, or under
 * TSan a sequentially consistent add of 0 to *loc, the location whose
 * accesses the fence orders (at least as strong, and modelled); no other
 * build changes. */
#if defined(__SANITIZE_THREAD__)
#define ANAME_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ANAME_UNDER_TSAN 1
#endif
#endif
#ifndef ANAME_UNDER_TSAN
#define ANAME_UNDER_TSAN 0
#endif
#if ANAME_UNDER_TSAN
#define ANAME_FENCE(loc, order) \
	((void)__atomic_fetch_add((loc), 0, __ATOMIC_SEQ_CST))
#else
#define ANAME_FENCE(loc, order) atomic_thread_fence(order)
#endif

/* Counters a reader's thread keeps in its record: the owner adds with a
 * plain load and store (no read-modify-write), aname__ebr_sum() adds
 * them up. */
#define ANAME_EBR_COUNTERS 2

/* Retirements between two attempts to advance the epoch (each attempt is
 * one membarrier system call and a look at every reader's record). */
#define ANAME_EBR_BATCH 32

struct aname_ebr_reader {
	/* 0 outside a read section, else the epoch it entered in. */
	_Atomic uint64_t active;
	_Atomic uint64_t count[ANAME_EBR_COUNTERS];
	/* Under the ebr's lock. */
	struct aname_ebr_reader *next;
	pid_t tid;
} __attribute__((aligned(64)));

/* Embedded in what the caller retires; fn frees it. */
struct aname_ebr_node {
	struct aname_ebr_node *next;
	uint64_t epoch;
	void (*fn)(struct aname_ebr_node *node);
};

struct aname_ebr {
	_Atomic uint64_t epoch; /* starts at 1; 0 means "outside" */
	bool asym;              /* membarrier works: readers need no fence */
	uint64_t id;            /* finds this ebr's record in a thread */
	pthread_mutex_t lock;   /* readers (sum() reads without it), limbo */
	struct aname_ebr_reader *readers;
	struct aname_ebr_node *limbo, **limbo_tail; /* oldest first */
	size_t limbo_len;
	size_t since_try;
};

/* A thread's records, by ebr id: slot 0 is checked inline, the rest by
 * aname__ebr_reader_slow().  Thread-local in the default (dynamic) model,
 * not initial-exec: hosts dlopen() libaname (knotd's module, PowerDNS's
 * backend, Python), and a dlopen()ed library asking for static TLS fails
 * to load once the process's static TLS surplus is spent (knotd: "cannot
 * allocate memory in static TLS block").  In the shared library a lookup
 * costs one __tls_get_addr() call; an executable linking libaname.a gets
 * the linker's relaxation to a plain %fs-relative load. */
#define ANAME_EBR_TLS_SLOTS 4
struct aname_ebr_tls {
	uint64_t id;
	struct aname_ebr_reader *reader;
};
extern __thread struct aname_ebr_tls aname__ebr_tls[ANAME_EBR_TLS_SLOTS]
	__attribute__((visibility("hidden")));

int aname__ebr_init(struct aname_ebr *e);
/* Frees every reader record and runs every retired node's fn.  No thread
 * may be in a read section, or read this ebr again. */
void aname__ebr_fini(struct aname_ebr *e);

struct aname_ebr_reader *aname__ebr_reader_slow(struct aname_ebr *e);

/* This thread's record, registered on first use (NULL: out of memory;
 * the caller then reads under its lock instead). */
static inline struct aname_ebr_reader *aname__ebr_reader(struct aname_ebr *e)
{
	if (__builtin_expect(aname__ebr_tls[0].id == e->id, 1)) {
		return aname__ebr_tls[0].reader;
	}
	return aname__ebr_reader_slow(e);
}

static inline void aname__ebr_enter(struct aname_ebr *e,
				    struct aname_ebr_reader *r)
{
	/* Acquire: a reader that sees epoch N sees every unlink that was
	 * retired before N began. */
	uint64_t epoch = atomic_load_explicit(&e->epoch, memory_order_acquire);
	atomic_store_explicit(&r->active, epoch, memory_order_release);
	/* The store must be visible before the loads that follow: the
	 * writer's membarrier ensures it, or else a full fence (always
	 * under TSan, where e->asym is false). */
	if (e->asym) {
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		ANAME_FENCE(&r->active, memory_order_seq_cst);
	}
}

/* Release: everything read inside happens before a free that sees us
 * gone. */
static inline void aname__ebr_exit(struct aname_ebr_reader *r)
{
	atomic_store_explicit(&r->active, 0, memory_order_release);
}

static inline void aname__ebr_count(struct aname_ebr_reader *r, unsigned i)
{
	uint64_t v = atomic_load_explicit(&r->count[i], memory_order_relaxed);
	atomic_store_explicit(&r->count[i], v + 1, memory_order_relaxed);
}

/* Counter i over every record (thread-safe; takes no lock). */
uint64_t aname__ebr_sum(struct aname_ebr *e, unsigned i);

/* Free \a node with fn once no reader can still see it.  May run fn for
 * older nodes before returning (never with a caller's lock held: call it
 * with none). */
void aname__ebr_retire(struct aname_ebr *e, struct aname_ebr_node *node,
		       void (*fn)(struct aname_ebr_node *node));

/* Try to free everything retired so far (two advances); returns how many
 * nodes are still waiting (readers inside a read section hold them). */
size_t aname__ebr_collect(struct aname_ebr *e);

#endif /* ANAME_EBR_H */
