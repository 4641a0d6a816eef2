/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file clock.h
 * \brief The one clock every part of the library reads (clock.c).
 *
 * Monotonic milliseconds.  Time is passed down as a parameter from here,
 * so the cache, the policy and the timers can be driven by tests without
 * sleeping.
 */
#ifndef ANAME_CLOCK_H
#define ANAME_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic ms, exact: for deadlines. */
uint64_t aname__now_ms(void);
/* The same clock, read at tick granularity (a few ms) for a fifth of the
 * cost on VMs whose clocksource traps (kvm-clock: 40 ns vs 7.5 ns).  TTLs
 * are seconds, so the cache hit path uses it; deadlines do not.  Inline:
 * it is read on every cache hit. */
static inline uint64_t aname__now_coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif /* ANAME_CLOCK_H */
