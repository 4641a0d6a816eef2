/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_cache.c
 * \brief The cache's lock-free readers under TSan: 3 threads read while
 * this one puts, fails, evicts and grows the bucket table
 * (tests/support/cachestress.h).
 *
 * Checks: every answer a reader found was its key's; the hit counts add
 * up; nothing is left to free; and TSan reports nothing (halt_on_error
 * makes a report exit non-zero).
 */
#include "tsan_util.h"

#include "support/cachestress.h"

#include <stdio.h>

int main(void)
{
	struct ts_cache_stress s = { .rounds = 3, .readers = 3, .keys = 2048,
				     .passes = 3, .max_entries = 512 };
	uint64_t failed = ts_cache_stress(&s);
	TSAN_CHECK(failed == 0,
		   "%llu wrong answers, %llu rounds with counts off, %llu "
		   "retirements left",
		   (unsigned long long)s.wrong,
		   (unsigned long long)s.stats_off,
		   (unsigned long long)s.left);
	TSAN_CHECK(s.found > 100, "readers found only %llu answers",
		   (unsigned long long)s.found);
	printf("tsan_cache: %llu reads, %llu found\n",
	       (unsigned long long)s.reads, (unsigned long long)s.found);
	return tsan_finish("tsan_cache");
}
