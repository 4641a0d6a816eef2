/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cache.h
 * \brief The TTL cache (cache.c): a store, configured once.
 *
 * It keeps, per (target, type), the last answer and the last failure,
 * and reports them; every decision about what to do with them (fresh,
 * refresh-ahead, stale, backoff, ...) is policy.c's.  Thread-safe: reads
 * take no lock (ebr.h); each shard has its own lock for writers, and no
 * other lock is ever taken inside.
 */
#ifndef ANAME_CACHE_H
#define ANAME_CACHE_H

#include "aname_private.h"
#include "cachekey.h"
#include "ebr.h"
#include "result.h"
#include "spin.h"

#include <stdbool.h>
#include <stdint.h>

struct aname_cache;

struct aname_cache_config {
	size_t max_entries;
	unsigned shards;
	uint32_t max_stale_s; /* how long past expiry an answer is kept */
};

/* What the store holds for a key at a moment. */
struct aname_cache_view {
	aname_result_t *res;   /* new reference: fresh, or stale within
				  max_stale_s when asked for; else NULL */
	bool fresh;            /* res has not expired */
	uint64_t fail_ms;      /* last failure since the last answer, or 0 */
	unsigned fails;        /* failures in a row since the last answer */
	int fail_status;
	uint64_t key_hash;     /* for jitter (policy.c uses the low half) */
	uint64_t refresh_hold_ms; /* no refresh before this */
};

struct aname_cache *aname__cache_new(const struct aname_cache_config *cfg);
void aname__cache_free(struct aname_cache *c);
/* Counts REQUESTS, HITS_FRESH and MISSES (a stale find counts as a miss
 * here; the caller counts what it serves). */
void aname__cache_get(struct aname_cache *c, const struct aname_cache_key *k,
		      uint64_t now_ms, bool want_stale,
		      struct aname_cache_view *out);
/* aname__cache_get() without taking a reference, for the hit path of
 * aname_cache_synth_wire(): it writes the answer while the entry is
 * pinned, so no reference count moves.  hold() returns inside a read
 * section (or, if the shard kept changing, with the shard's lock held),
 * with out->res borrowed; the caller only reads *out and copies from
 * out->res (no locks, no calls out, no allocation, no other cache call),
 * then calls release().  With keep, release() turns out->res into a new
 * reference; without, it sets out->res to NULL. */
struct aname_cache_hold {
	struct aname_ebr_reader *reader; /* NULL: the shard lock is held */
	aname_spin_t *lock;
};
struct aname_cache_hold aname__cache_hold(struct aname_cache *c,
					  const struct aname_cache_key *k,
					  uint64_t now_ms, bool want_stale,
					  struct aname_cache_view *out);
/* Inline: on every hit. */
static inline void aname__cache_release(struct aname_cache_hold h, bool keep,
					struct aname_cache_view *v)
{
	v->res = keep ? aname_result_ref(v->res) : NULL;
	if (h.reader != NULL) {
		aname__ebr_exit(h.reader);
	} else {
		aname__spin_unlock(h.lock);
	}
}
/* Store an answer (adds its own reference).  An answer that does not
 * extend the entry's life holds the next refresh off for
 * ANAME_REFRESH_RETRY_MS: it was libunbound's cached copy. */
#define ANAME_REFRESH_RETRY_MS 200
int aname__cache_put(struct aname_cache *c, const struct aname_cache_key *k,
		     aname_result_t *res, uint64_t now_ms);
/* Record a failure; keeps any stale answer. */
int aname__cache_fail(struct aname_cache *c, const struct aname_cache_key *k,
		      int status, uint64_t now_ms);
/* No refresh before until_ms (a fetch for it runs; 0 lifts the hold): a
 * hint that spares synchronous lookups the context lock, and that
 * expires by itself, so nothing has to release it. */
void aname__cache_hold_refresh(struct aname_cache *c,
			       const struct aname_cache_key *k,
			       uint64_t until_ms);
/* One entry, copied out by aname__cache_each(). */
struct aname_cache_item {
	struct aname_cache_key key;
	aname_result_t *res; /* borrowed for the call; may be NULL */
	uint64_t fail_ms;
	unsigned fails;
	int fail_status;
	uint64_t changed_ms; /* the address set last changed (0: never) */
};
/* Return non-zero to stop; that value is returned. */
typedef int (*aname_cache_each_fn)(void *arg,
				   const struct aname_cache_item *item);
/* Every entry, shard by shard, most recently used first within a shard.
 * fn runs with no cache lock held. */
int aname__cache_each(struct aname_cache *c, aname_cache_each_fn fn,
		      void *arg);
/* What aname__cache_scan_slice() shows of an entry, copying nothing. */
struct aname_cache_brief {
	const aname_result_t *res; /* may be NULL */
	uint64_t fail_ms;
	unsigned fails;
	int fail_status;
	uint64_t refresh_hold_ms;
	uint64_t key_hash;
};
/* Called under a shard lock: fn must be quick and must take no lock (it
 * is for counting; aname__cache_each() is for everything else). */
typedef void (*aname_cache_scan_fn)(void *arg,
				    const struct aname_cache_brief *b);
/* Where a sliced scan has got to; zeroed to start one. */
struct aname_cache_cursor {
	unsigned shard;
	size_t bucket;
	size_t mask; /* the shard's mask when its scan began (0: not begun) */
};
enum aname_scan_step {
	ANAME_SCAN_MORE,    /* call again */
	ANAME_SCAN_RESTART, /* the shard's table grew: forget what this
			     * shard showed so far; it is shown again */
	ANAME_SCAN_SHARD,   /* a shard is finished; more follow */
	ANAME_SCAN_DONE,    /* every shard is finished */
};
/* Show fn the entries of at most \a buckets buckets from *cur, holding
 * the shard's lock only for them, so that a scan of any size keeps each
 * lock for a bounded time (about 40 ns a bucket, bench/notes.md).  A
 * scan is not a snapshot: an entry added or removed while it runs may be
 * shown or not, but none is shown twice. */
enum aname_scan_step aname__cache_scan_slice(struct aname_cache *c,
					     struct aname_cache_cursor *cur,
					     size_t buckets,
					     aname_cache_scan_fn fn,
					     void *arg);
/* Buckets over every shard: what a whole scan visits (tables grow so that
 * they hold about one entry a bucket at most).  A moment's figure: any
 * thread, no lock. */
size_t aname__cache_buckets(struct aname_cache *c);
void aname__cache_usage(struct aname_cache *c, uint64_t *entries,
			uint64_t *bytes, uint64_t *evictions);
/* Hit statistics (REQUESTS, HITS_FRESH, MISSES), summed over shards and
 * readers. */
uint64_t aname__cache_stat(struct aname_cache *c, int stat);
/* Free what writers retired, as far as no reader holds it (ebr.h);
 * returns how many retirements still wait.  For tests and for freeing
 * early: retired memory is also freed as writes go on. */
size_t aname__cache_collect(struct aname_cache *c);

#endif /* ANAME_CACHE_H */
