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

/* Monotonic ms, exact: for deadlines. */
uint64_t aname__now_ms(void);
/* The same clock at tick granularity (a few ms), for TTLs. */
uint64_t aname__now_coarse_ms(void);

#endif /* ANAME_CLOCK_H */
