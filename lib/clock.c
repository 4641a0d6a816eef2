/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file clock.c
 * \brief Monotonic milliseconds.
 */
#include "clock.h"

#include <time.h>

uint64_t aname__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The same clock, read at tick granularity (a few ms) for a fifth of the
 * cost on VMs whose clocksource traps (kvm-clock: 40 ns vs 7.5 ns).  TTLs
 * are seconds, so the cache hit path uses it; deadlines do not. */
uint64_t aname__now_coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
