/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Epoch-based reclamation (lib/ebr.c) and the cache's lock-free readers
 * (lib/cache.c) with real threads: a reader that stays inside a read
 * section is a thread blocked there for real (on a condition variable),
 * not a flag.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "ebr.h"
#include "result.h"
#include "support/cachestress.h"
#include "support/servers.h"

struct node {
	struct aname_ebr_node n;
	atomic_int *freed;
};

static void node_free(struct aname_ebr_node *n)
{
	struct node *x = (struct node *)(void *)n;
	atomic_fetch_add(x->freed, 1);
	free(x);
}

static void retire_one(struct aname_ebr *e, atomic_int *freed)
{
	struct node *x = calloc(1, sizeof(*x));
	cr_assert_not_null(x);
	x->freed = freed;
	aname__ebr_retire(e, &x->n, node_free);
}

/* A thread that enters a read section, says so, and stays inside until
 * told to leave. */
struct parked {
	struct aname_ebr *e;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool inside, leave;
	pthread_t thread;
};

static void *parked_main(void *arg)
{
	struct parked *p = arg;
	struct aname_ebr_reader *r = aname__ebr_reader(p->e);
	cr_assert_not_null(r);
	aname__ebr_enter(p->e, r);
	pthread_mutex_lock(&p->lock);
	p->inside = true;
	pthread_cond_broadcast(&p->cond);
	while (!p->leave) {
		pthread_cond_wait(&p->cond, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	aname__ebr_exit(r);
	return NULL;
}

static void park(struct parked *p, struct aname_ebr *e)
{
	memset(p, 0, sizeof(*p));
	p->e = e;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_create(&p->thread, NULL, parked_main, p);
	pthread_mutex_lock(&p->lock);
	while (!p->inside) {
		pthread_cond_wait(&p->cond, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

static void unpark(struct parked *p)
{
	pthread_mutex_lock(&p->lock);
	p->leave = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

Test(ebr, retired_memory_waits_for_a_reader_inside)
{
	struct aname_ebr e;
	atomic_int freed = 0;
	cr_assert_eq(aname__ebr_init(&e), 0);
	struct parked p;
	park(&p, &e);
	/* Far more than a batch: the reader holds all of it. */
	for (int i = 0; i < 10 * ANAME_EBR_BATCH; i++) {
		retire_one(&e, &freed);
	}
	cr_assert_eq(atomic_load(&freed), 0);
	cr_assert_eq(aname__ebr_collect(&e), 10 * ANAME_EBR_BATCH);
	/* Other threads read on meanwhile: the stuck one blocks nobody. */
	struct aname_ebr_reader *me = aname__ebr_reader(&e);
	for (int i = 0; i < 1000; i++) {
		aname__ebr_enter(&e, me);
		aname__ebr_count(me, 0);
		aname__ebr_exit(me);
	}
	unpark(&p);
	cr_assert_eq(aname__ebr_collect(&e), 0);
	cr_assert_eq(atomic_load(&freed), 10 * ANAME_EBR_BATCH);
	cr_assert_eq(aname__ebr_sum(&e, 0), 1000);
	aname__ebr_fini(&e);
}

Test(ebr, limbo_stays_bounded_without_collect)
{
	struct aname_ebr e;
	atomic_int freed = 0;
	cr_assert_eq(aname__ebr_init(&e), 0);
	struct aname_ebr_reader *me = aname__ebr_reader(&e);
	for (int i = 0; i < 100 * ANAME_EBR_BATCH; i++) {
		retire_one(&e, &freed);
		aname__ebr_enter(&e, me); /* readers come and go */
		aname__ebr_exit(me);
		pthread_mutex_lock(&e.lock);
		size_t waiting = e.limbo_len;
		pthread_mutex_unlock(&e.lock);
		cr_assert_leq(waiting, 2 * ANAME_EBR_BATCH,
			      "%zu retirements wait after %d", waiting, i + 1);
	}
	aname__ebr_fini(&e);
	cr_assert_eq(atomic_load(&freed), 100 * ANAME_EBR_BATCH);
}

static void *read_once(void *arg)
{
	struct aname_ebr *e = arg;
	struct aname_ebr_reader *r = aname__ebr_reader(e);
	cr_assert_not_null(r);
	aname__ebr_enter(e, r);
	aname__ebr_count(r, 1);
	aname__ebr_exit(r);
	return NULL;
}

static size_t records(struct aname_ebr *e)
{
	size_t n = 0;
	pthread_mutex_lock(&e->lock);
	for (struct aname_ebr_reader *r = e->readers; r != NULL; r = r->next) {
		n++;
	}
	pthread_mutex_unlock(&e->lock);
	return n;
}

struct read_once_tid {
	struct aname_ebr *e;
	pid_t tid;
};

static void *read_once_tid(void *arg)
{
	struct read_once_tid *r = arg;
	r->tid = gettid();
	return read_once(r->e);
}

/* pthread_join() returns once the thread has run its last code; the
 * kernel removes the thread a moment later, and only then can ebr see
 * (tgkill ESRCH) that its record is free. */
static bool kernel_thread_gone(void *arg)
{
	pid_t tid = *(pid_t *)arg;
	return tgkill(getpid(), tid, 0) != 0 && errno == ESRCH;
}

Test(ebr, an_exited_threads_record_is_reused_and_keeps_its_counts)
{
	struct aname_ebr e;
	cr_assert_eq(aname__ebr_init(&e), 0);
	for (int i = 0; i < 50; i++) {
		pthread_t t;
		struct read_once_tid r = {.e = &e};
		pthread_create(&t, NULL, read_once_tid, &r);
		pthread_join(t, NULL);
		cr_assert(ts_wait_until(kernel_thread_gone, &r.tid, 2000),
			  "thread %d still exists 2 s after pthread_join", (int)r.tid);
	}
	cr_assert_eq(records(&e), 1, "%zu records for one thread at a time",
		     records(&e));
	cr_assert_eq(aname__ebr_sum(&e, 1), 50);
	aname__ebr_fini(&e);
}

Test(ebr, a_thread_keeps_one_record_across_many_caches)
{
	struct aname_ebr e[ANAME_EBR_TLS_SLOTS + 2];
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		cr_assert_eq(aname__ebr_init(&e[i]), 0);
	}
	/* More caches than thread-local slots, round after round: a slot
	 * lost to another cache is found again in that cache's list. */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
			read_once(&e[i]);
		}
	}
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		cr_assert_eq(records(&e[i]), 1);
		cr_assert_eq(aname__ebr_sum(&e[i], 1), 3);
		aname__ebr_fini(&e[i]);
	}
}

/* The cache keeps a replaced answer alive for a reader that is copying
 * from it, and lets it go once the reader has left. */
struct holder {
	struct aname_cache *c;
	struct aname_cache_key k;
	struct parked p; /* only its lock, cond and flags */
	aname_result_t *seen;
};

static void *hold_main(void *arg)
{
	struct holder *h = arg;
	struct aname_cache_view v;
	struct aname_cache_hold hold =
		aname__cache_hold(h->c, &h->k, 0, false, &v);
	h->seen = v.res;
	pthread_mutex_lock(&h->p.lock);
	h->p.inside = true;
	pthread_cond_broadcast(&h->p.cond);
	while (!h->p.leave) {
		pthread_cond_wait(&h->p.cond, &h->p.lock);
	}
	pthread_mutex_unlock(&h->p.lock);
	/* Still readable: ASan would catch it otherwise. */
	cr_assert_eq(aname_result_count(h->seen, ANAME_RRTYPE_A), 1);
	aname__cache_release(hold, false, &v);
	return NULL;
}

static aname_result_t *answer(uint8_t last)
{
	aname_result_t *r = aname__result_new(ANAME_RRTYPE_A, "t.test.", 1);
	cr_assert_not_null(r);
	r->ttl = 300;
	r->expire_ms = 300000;
	uint8_t a[4] = { 192, 0, 2, last };
	memcpy(aname__result_addrs(r), a, 4);
	return r;
}

Test(ebr, cache_keeps_a_replaced_answer_until_its_reader_leaves)
{
	struct aname_cache_config cc = { 16, 1, 0 };
	struct holder h = { .c = aname__cache_new(&cc) };
	cr_assert_not_null(h.c);
	aname__cache_key(&h.k, (const uint8_t *)"\1t\4test", 8,
			 ANAME_RRTYPE_A);
	aname_result_t *first = answer(1), *second = answer(2);
	cr_assert_eq(aname__cache_put(h.c, &h.k, first, 0), ANAME_OK);
	pthread_mutex_init(&h.p.lock, NULL);
	pthread_cond_init(&h.p.cond, NULL);
	pthread_t t;
	pthread_create(&t, NULL, hold_main, &h);
	pthread_mutex_lock(&h.p.lock);
	while (!h.p.inside) {
		pthread_cond_wait(&h.p.cond, &h.p.lock);
	}
	pthread_mutex_unlock(&h.p.lock);
	cr_assert_eq(h.seen, first);
	cr_assert_eq(aname__cache_put(h.c, &h.k, second, 0), ANAME_OK);
	/* Ours and the cache's, which waits for the reader. */
	cr_assert_eq(aname__cache_collect(h.c), 1);
	cr_assert_eq(atomic_load(&first->refs), 2);
	pthread_mutex_lock(&h.p.lock);
	h.p.leave = true;
	pthread_cond_broadcast(&h.p.cond);
	pthread_mutex_unlock(&h.p.lock);
	pthread_join(t, NULL);
	cr_assert_eq(aname__cache_collect(h.c), 0);
	cr_assert_eq(atomic_load(&first->refs), 1);
	aname_result_unref(first);
	aname_result_unref(second);
	aname__cache_free(h.c);
}

Test(ebr, cache_readers_during_puts_evictions_and_growth, .timeout = 120)
{
	struct ts_cache_stress s = { .rounds = 4, .readers = 2, .keys = 4096,
				     .passes = 6, .max_entries = 1024 };
	uint64_t failed = ts_cache_stress(&s);
	cr_log_info("cachestress: %llu reads, %llu found, %llu wrong",
		    (unsigned long long)s.reads, (unsigned long long)s.found,
		    (unsigned long long)s.wrong);
	cr_assert_eq(failed, 0,
		     "%llu wrong answers, %llu rounds with counts off, %llu "
		     "retirements left",
		     (unsigned long long)s.wrong,
		     (unsigned long long)s.stats_off,
		     (unsigned long long)s.left);
	cr_assert_gt(s.found, 1000, "the readers found too little to judge");
}
