/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The cache shards' lock (lib/spin.h) with real threads: mutual
 * exclusion under contention, and a waiter whose holder does not run
 * sleeps in the kernel instead of burning its CPU (the holder here is
 * the test's main thread, really off the CPU in nanosleep).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "spin.h"

#define CONTENDERS 4
#define ROUNDS 50000

struct shared {
	aname_spin_t lock;
	unsigned long counter; /* written only under the lock */
	atomic_int tid;
	uint64_t waiter_cpu_ns;
};

static void *contend(void *arg)
{
	struct shared *s = arg;
	for (int i = 0; i < ROUNDS; i++) {
		aname__spin_lock(&s->lock);
		s->counter++;
		aname__spin_unlock(&s->lock);
	}
	return NULL;
}

Test(spin, contended_lock_excludes)
{
	struct shared s;
	memset(&s, 0, sizeof(s));
	aname__spin_init(&s.lock);
	pthread_t t[CONTENDERS];
	for (int i = 0; i < CONTENDERS; i++) {
		cr_assert_eq(pthread_create(&t[i], NULL, contend, &s), 0);
	}
	for (int i = 0; i < CONTENDERS; i++) {
		pthread_join(t[i], NULL);
	}
	cr_assert_eq(s.counter, (unsigned long)CONTENDERS * ROUNDS);
	cr_assert_eq(atomic_load(&s.lock.state), 0u, "left held");
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *wait_for_lock(void *arg)
{
	struct shared *s = arg;
	atomic_store(&s->tid, (int)syscall(SYS_gettid));
	uint64_t before = thread_cpu_ns();
	aname__spin_lock(&s->lock);
	s->waiter_cpu_ns = thread_cpu_ns() - before;
	s->counter++;
	aname__spin_unlock(&s->lock);
	return NULL;
}

/* The scheduler's state of one of our threads: 'R' running or runnable,
 * 'S' asleep. */
static char task_state(int tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return '?';
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* after "pid (comm)" */
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0) {
	}
}

Test(spin, waiter_sleeps_while_the_holder_is_off_the_cpu)
{
	struct shared s;
	memset(&s, 0, sizeof(s));
	aname__spin_init(&s.lock);
	aname__spin_lock(&s.lock);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, wait_for_lock, &s), 0);
	while (atomic_load(&s.tid) == 0) {
		sched_yield();
	}
	/* Awaited, not slept: the waiter goes to sleep in the kernel.  A
	 * waiter that spins or yields stays 'R' and this gives up after 5 s. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char st;
	do {
		st = task_state(atomic_load(&s.tid));
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (st != 'S' && now.tv_sec - start.tv_sec < 5);
	/* The holder now stays off the CPU for 200 ms: the interval whose
	 * CPU cost to the waiter is measured. */
	sleep_ms(200);
	aname__spin_unlock(&s.lock);
	pthread_join(t, NULL);
	cr_assert_eq(st, 'S', "the waiter never slept (state %c)", st);
	cr_assert_eq(s.counter, 1ul);
	cr_assert_lt(s.waiter_cpu_ns, 20000000u,
		     "the waiter burnt %.1f ms of CPU in a 200 ms wait",
		     (double)s.waiter_cpu_ns / 1e6);
}
