/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ebr.c
 * \brief Epoch-based reclamation: reader records, retirement, and the
 * epoch's advance (see ebr.h for the contract and its bounds).
 *
 * Why an item retired in epoch N is safe to free once the epoch is N + 2:
 * the advance from N + 1 to N + 2 happens only when every reader inside a
 * read section entered in N + 1.  Such a reader read the epoch after it
 * became N + 1, which was after the item was unlinked (both under the
 * lock here, the unlink before), so it cannot have found the item.  A
 * reader that was between reading the epoch and publishing its record
 * when we looked is covered by the barrier taken before looking: either
 * its record was visible then, or its reads come after our barrier and
 * see the unlink.  This is the scheme of liburcu's "memb" flavour and of
 * Fraser's epochs, in its simplest form: one global epoch per cache.
 */
#include "ebr.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__thread struct aname_ebr_tls aname__ebr_tls[ANAME_EBR_TLS_SLOTS];

static long membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

/* Registration is per process and idempotent: every cache asks, so no
 * flag is kept anywhere but in the cache. */
static bool membarrier_ready(void)
{
#if ANAME_UNDER_TSAN
	/* ThreadSanitizer does not model membarrier: with it, readers and
	 * writers take full barriers it does model (ebr.h). */
	return false;
#else
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) {
		return false;
	}
	return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

/* Unique among the caches a thread may have seen: a stale thread-local
 * slot of a freed cache must never match a new one at the same address.
 * 64 random bits; without getrandom, the address, the time and the
 * thread mixed. */
static uint64_t new_id(const void *self)
{
	uint64_t id = 0;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		id = (uint64_t)(uintptr_t)self * 0x9e3779b97f4a7c15ull ^
		     ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		     ((uint64_t)gettid() << 48);
	}
	return id != 0 ? id : 1;
}

int aname__ebr_init(struct aname_ebr *e)
{
	memset(e, 0, sizeof(*e));
	if (pthread_mutex_init(&e->lock, NULL) != 0) {
		return -1;
	}
	atomic_init(&e->epoch, 1);
	e->asym = membarrier_ready();
	e->id = new_id(e);
	e->limbo_tail = &e->limbo;
	return 0;
}

static void run_all(struct aname_ebr_node *n)
{
	while (n != NULL) {
		struct aname_ebr_node *next = n->next;
		n->fn(n);
		n = next;
	}
}

void aname__ebr_fini(struct aname_ebr *e)
{
	run_all(e->limbo);
	struct aname_ebr_reader *r = e->readers;
	while (r != NULL) {
		struct aname_ebr_reader *next = r->next;
		free(r);
		r = next;
	}
	pthread_mutex_destroy(&e->lock);
	memset(e, 0, sizeof(*e));
}

/* A record whose thread is gone (tgkill with signal 0 only checks). */
static bool thread_gone(pid_t tid)
{
	return tgkill(getpid(), tid, 0) != 0 && errno == ESRCH;
}

static struct aname_ebr_reader *find_or_add(struct aname_ebr *e, pid_t me)
{
	struct aname_ebr_reader *r, *dead = NULL;
	for (r = e->readers; r != NULL; r = r->next) {
		if (r->tid == me) {
			return r;
		}
		if (dead == NULL && thread_gone(r->tid)) {
			dead = r;
		}
	}
	if (dead != NULL) {
		/* Its counts stay: they are the cache's, not the thread's. */
		dead->tid = me;
		atomic_store_explicit(&dead->active, 0, memory_order_release);
		return dead;
	}
	r = aligned_alloc(64, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->tid = me;
	r->next = e->readers;
	/* Release: aname__ebr_sum() walks the list without the lock. */
	__atomic_store_n(&e->readers, r, __ATOMIC_RELEASE);
	return r;
}

struct aname_ebr_reader *aname__ebr_reader_slow(struct aname_ebr *e)
{
	struct aname_ebr_tls *t = aname__ebr_tls;
	struct aname_ebr_tls found = { 0, NULL };
	unsigned i = 1;
	for (; i < ANAME_EBR_TLS_SLOTS; i++) {
		if (t[i].id == e->id) {
			found = t[i];
			break;
		}
	}
	if (found.reader == NULL) {
		i = ANAME_EBR_TLS_SLOTS - 1; /* the least recent goes */
		pthread_mutex_lock(&e->lock);
		found.reader = find_or_add(e, gettid());
		pthread_mutex_unlock(&e->lock);
		if (found.reader == NULL) {
			return NULL;
		}
		found.id = e->id;
	}
	/* Most recent first. */
	memmove(&t[1], &t[0], i * sizeof(t[0]));
	t[0] = found;
	return found.reader;
}

/* Without e->lock: health and metrics must not wait behind a writer's
 * membarrier, which can take milliseconds on a VM whose other vCPU is
 * descheduled.  Records are only ever prepended (published with release)
 * and never freed before aname__ebr_fini(), and a record's next never
 * changes. */
uint64_t aname__ebr_sum(struct aname_ebr *e, unsigned i)
{
	uint64_t sum = 0;
	for (struct aname_ebr_reader *r = __atomic_load_n(&e->readers, __ATOMIC_ACQUIRE);
	     r != NULL; r = r->next) {
		sum += atomic_load_explicit(&r->count[i], memory_order_relaxed);
	}
	return sum;
}

/* Under e->lock.  Advance the epoch if every reader inside a read section
 * entered in the current one; then detach what is now safe to free. */
static struct aname_ebr_node *advance(struct aname_ebr *e)
{
	if (!e->asym) {
		ANAME_FENCE(&e->epoch, memory_order_seq_cst);
	} else if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
		/* Registered, so this should not happen; if it does, the
		 * readers' records may be unseen: free nothing. */
		return NULL;
	}
	uint64_t epoch = atomic_load_explicit(&e->epoch, memory_order_relaxed);
	for (struct aname_ebr_reader *r = e->readers; r != NULL; r = r->next) {
		uint64_t a = atomic_load_explicit(&r->active,
						  memory_order_acquire);
		if (a != 0 && a != epoch) {
			return NULL;
		}
	}
	epoch++;
	atomic_store_explicit(&e->epoch, epoch, memory_order_release);
	struct aname_ebr_node *done = NULL, **tail = &done;
	while (e->limbo != NULL && e->limbo->epoch + 2 <= epoch) {
		struct aname_ebr_node *n = e->limbo;
		e->limbo = n->next;
		e->limbo_len--;
		n->next = NULL;
		*tail = n;
		tail = &n->next;
	}
	if (e->limbo == NULL) {
		e->limbo_tail = &e->limbo;
	}
	return done;
}

void aname__ebr_retire(struct aname_ebr *e, struct aname_ebr_node *node,
		       void (*fn)(struct aname_ebr_node *node))
{
	struct aname_ebr_node *done = NULL;
	node->fn = fn;
	node->next = NULL;
	pthread_mutex_lock(&e->lock);
	node->epoch = atomic_load_explicit(&e->epoch, memory_order_relaxed);
	*e->limbo_tail = node;
	e->limbo_tail = &node->next;
	e->limbo_len++;
	if (++e->since_try >= ANAME_EBR_BATCH) {
		e->since_try = 0;
		done = advance(e);
	}
	pthread_mutex_unlock(&e->lock);
	run_all(done);
}

size_t aname__ebr_collect(struct aname_ebr *e)
{
	struct aname_ebr_node *done[2];
	pthread_mutex_lock(&e->lock);
	done[0] = advance(e);
	done[1] = advance(e);
	size_t left = e->limbo_len;
	pthread_mutex_unlock(&e->lock);
	run_all(done[0]);
	run_all(done[1]);
	return left;
}
