/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cachestress.h
 * \brief Lock-free cache readers against a busy writer, for the Criterion
 * suite (under ASan too) and for tsan_cache under ThreadSanitizer.
 *
 * Each round makes a fresh cache with one shard (so its bucket table
 * doubles from 16 up to max_entries while readers read), starts \a readers
 * threads that look keys up without pause, alternating aname__cache_get()
 * (a reference) and aname__cache_hold() (borrowed, read in place), while
 * this thread puts an answer for each of \a keys keys \a passes times over
 * (keys > max_entries: every put evicts), records a failure for every
 * 7th and holds refreshes off for every 5th.  Each answer's address
 * encodes its key, so a reader that found the wrong entry, or read an
 * entry or a result while it was being replaced or freed, sees the wrong
 * address (and ASan sees the freed memory).
 */
#ifndef TESTS_SUPPORT_CACHESTRESS_H
#define TESTS_SUPPORT_CACHESTRESS_H

#include <stdint.h>

struct ts_cache_stress {
	unsigned rounds, readers, keys, passes, max_entries;
	/* Results, summed over rounds. */
	uint64_t reads;      /* lookups the readers made */
	uint64_t found;      /* ... that found an answer */
	uint64_t wrong;      /* ... whose answer was for another key */
	uint64_t stats_off;  /* rounds whose REQUESTS/HITS/MISSES were off */
	uint64_t left;       /* retirements still waiting after the round */
};

/* 0 when every check held; else the number that failed. */
uint64_t ts_cache_stress(struct ts_cache_stress *s);

#endif /* TESTS_SUPPORT_CACHESTRESS_H */
