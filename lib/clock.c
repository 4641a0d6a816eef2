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
