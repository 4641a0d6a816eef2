/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cache.c
 * \brief The TTL cache: sharded hash tables with per-shard LRU, read
 * without locks.
 *
 * Keys are (lower-cased wire name, type).  Values are immutable results
 * shared by reference.
 *
 * A hit takes no lock and writes no memory another thread uses.  It
 * enters a read section (ebr.h: a store to the thread's own record),
 * reads its shard's sequence count, walks a chain that averages about
 * one entry, copies what the policy needs, and checks that the count did
 * not move; if it did, a writer was at work and the read is done again
 * (after a few tries, under the shard's lock).  Entries and results that
 * a writer unlinks are retired to ebr.c and freed only once no read
 * section can still see them.  So a reader never sees freed memory, and
 * never acts on a half-written entry.  The hit counts go into the
 * reader's record, and the LRU's "referenced" bit is written only when it
 * was clear.  Hits on many cores therefore scale (bench/, "hit scaling"),
 * where a per-shard lock made every hit pull the lock's cache line from
 * the core that took it last.
 *
 * Writers (put, fail, the refresh hold) take the shard's lock
 * (spin.h), and bracket their changes with the sequence count.  Nothing is
 * allocated or freed under a shard lock except the rare doubling of a
 * shard's bucket table: a new entry and its retirement record are
 * allocated with the lock dropped, and retired memory goes to ebr.c after
 * it.  Each entry also remembers the last failure (for backoff, RFC 8767
 * section 5) and until when a refresh is held off.  What to make of all
 * that is policy.c's business.  Time is always a parameter, so unit tests
 * drive expiry without sleeping.
 *
 * Bounds: max_entries is split over the shards so that the shard limits
 * add up to it exactly; inserting into a full shard evicts by
 * second-chance LRU: the tail entry goes unless it was referenced since it
 * last reached the tail, in which case it moves to the head with its bit
 * cleared.  Failure-only entries count too, so a flood of distinct dead
 * targets cannot grow memory.  Retired entries wait in ebr.c's limbo, whose
 * bound ebr.h gives.
 */
#include "cache.h"

#include "ebr.h"
#include "spin.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A field that lock-free readers read is written with STORE (or PUBLISH,
 * for a pointer to memory the reader then reads) under the shard lock,
 * and read with LOAD (ACQUIRE).  Writers read such fields plainly: only
 * the lock holder writes them.  (The one exception is the shard's seq,
 * which TSan builds' readers write too, reread_seq().) */
#define LOAD(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)
#define ACQUIRE(f) __atomic_load_n(&(f), __ATOMIC_ACQUIRE)
#define STORE(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELAXED)
#define PUBLISH(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELEASE)

/* Writers' fields first, then what a hit reads, contiguous up to the
 * name, so that a hit touches as few cache lines of the entry as it can. */
struct entry {
	struct entry *lprev, *lnext; /* LRU: head is most recent; writers only */
	uint64_t changed_ms;         /* the address set last changed; writers */
	struct entry *hnext;         /* readers: ACQUIRE */
	aname_result_t *res;         /* NULL: failure record only; ACQUIRE */
	uint64_t fail_ms;            /* 0: no recent failure */
	uint64_t refresh_after_ms;   /* no refresh before this */
	/* The rest is packed into one word before the name (memory per
	 * entry is a goal, see bench/): statuses are small negative
	 * numbers, the count stops at UINT16_MAX (far past the backoff's
	 * cap), and the low half of the key's hash is all that bucketing
	 * and the policy's jitter use.  hash, rrtype, len and name never
	 * change once the entry is published. */
	uint32_t hash;               /* low 32 bits of the key's hash */
	uint16_t fails;              /* consecutive failures */
	int16_t fail_status;
	uint16_t rrtype;
	uint8_t len;
	bool referenced; /* used since it last reached the LRU tail; atomic */
	uint8_t name[];  /* the key's folded wire name, len bytes */
};

struct shard {
	aname_spin_t lock; /* writers */
	unsigned seq;      /* odd while a writer changes entries or chains */
	/* Chains through entry.hnext.  The array only grows, and the mask is
	 * published after its array and read before it, so a reader's mask
	 * never exceeds its array. */
	struct entry **buckets;
	size_t mask; /* buckets - 1 */
	size_t count, max;
	uint64_t bytes;
	uint64_t evictions;
	struct entry *head, *tail;
	/* REQUESTS and MISSES of lookups made under the lock (out of memory
	 * for a reader's record, or a shard that kept changing); lock-free
	 * ones count in the readers' records (ebr.h). */
	uint64_t stats[ANAME_STAT_COUNT_];
	char pad[64];
};

/* What one write retires, freed by ebr.c when no reader can see it. */
struct retired {
	struct aname_ebr_node node;
	struct entry *entries; /* evicted, chained through lnext */
	aname_result_t *res;   /* replaced */
	struct entry **buckets; /* replaced by a larger array */
};

/* The readers' record counters (ebr.h). */
enum { RC_REQUESTS, RC_MISSES };

struct aname_cache {
	unsigned n;
	uint32_t max_stale_s;
	struct aname_ebr ebr;
	struct shard shards[];
};

static struct shard *shard_of(struct aname_cache *c,
			      const struct aname_cache_key *k)
{
	/* Multiply-shift maps the high half onto 0..n-1 without a divide
	 * (a division by a run-time n was a tenth of a hit's time). */
	return &c->shards[((k->hash >> 32) * c->n) >> 32];
}

struct aname_cache *aname__cache_new(const struct aname_cache_config *cfg)
{
	size_t max_entries = cfg->max_entries > 0 ? cfg->max_entries : 1;
	unsigned shards = cfg->shards;
	if (shards == 0) {
		shards = 1;
	}
	if (max_entries < shards) {
		shards = (unsigned)max_entries;
	}
	struct aname_cache *c =
		calloc(1, sizeof(*c) + shards * sizeof(struct shard));
	if (c == NULL) {
		return NULL;
	}
	if (aname__ebr_init(&c->ebr) != 0) {
		free(c);
		return NULL;
	}
	c->n = shards;
	c->max_stale_s = cfg->max_stale_s;
	for (unsigned i = 0; i < shards; i++) {
		struct shard *s = &c->shards[i];
		aname__spin_init(&s->lock);
		s->max = max_entries / shards + (i < max_entries % shards);
		s->mask = 15;
		s->buckets = calloc(s->mask + 1, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			c->n = i + 1;
			aname__cache_free(c);
			return NULL;
		}
	}
	return c;
}

static size_t entry_bytes(const struct entry *e)
{
	return sizeof(*e) + e->len +
	       (e->res != NULL ? aname__result_bytes(e->res) : 0);
}

static void free_entries(struct entry *e)
{
	while (e != NULL) {
		struct entry *next = e->lnext;
		aname_result_unref(e->res);
		free(e);
		e = next;
	}
}

void aname__cache_free(struct aname_cache *c)
{
	if (c == NULL) {
		return;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		free_entries(s->head);
		free(s->buckets);
	}
	aname__ebr_fini(&c->ebr);
	free(c);
}

/* ------------------------------------------------------------ retiring */

static void free_retired(struct aname_ebr_node *node)
{
	struct retired *r = (struct retired *)(void *)node;
	free_entries(r->entries);
	aname_result_unref(r->res);
	free(r->buckets);
	free(r);
}

/* With no shard lock held. */
static void retire(struct aname_cache *c, struct retired *r)
{
	if (r->entries == NULL && r->res == NULL && r->buckets == NULL) {
		free(r); /* never seen by a reader */
		return;
	}
	aname__ebr_retire(&c->ebr, &r->node, free_retired);
}

/* ------------------------------------------------------------ writers */

/* A write section: the shard lock, and the sequence count odd for as long
 * as entries or chains may be half changed. */
static void lock_shard(struct shard *s)
{
	aname__spin_lock(&s->lock);
	STORE(s->seq, LOAD(s->seq) + 1);
	/* The odd count is seen before any change that follows. */
	ANAME_FENCE(&s->seq, memory_order_release);
}

static void unlock_shard(struct shard *s)
{
	/* LOAD: under TSan readers write the count too (reread_seq). */
	PUBLISH(s->seq, LOAD(s->seq) + 1);
	aname__spin_unlock(&s->lock);
}

/* The fixed fields are read one by one (LOAD): read together, as a
 * compiler may, they would share a word with "referenced", which readers
 * write. */
static inline __attribute__((always_inline)) bool
entry_is(const struct entry *e, const struct aname_cache_key *k)
{
	return LOAD(e->hash) == (uint32_t)k->hash &&
	       LOAD(e->rrtype) == k->rrtype && LOAD(e->len) == k->len &&
	       aname__names_equal(e->name, k->name, k->len);
}

/* Under the shard lock. */
static struct entry *find_locked(struct shard *s,
				 const struct aname_cache_key *k)
{
	for (struct entry *e = s->buckets[k->hash & s->mask]; e != NULL;
	     e = e->hnext) {
		if (entry_is(e, k)) {
			return e;
		}
	}
	return NULL;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
	if (e->lprev != NULL) {
		e->lprev->lnext = e->lnext;
	} else {
		s->head = e->lnext;
	}
	if (e->lnext != NULL) {
		e->lnext->lprev = e->lprev;
	} else {
		s->tail = e->lprev;
	}
	e->lprev = e->lnext = NULL;
}

static void lru_push_front(struct shard *s, struct entry *e)
{
	e->lprev = NULL;
	e->lnext = s->head;
	if (s->head != NULL) {
		s->head->lprev = e;
	}
	s->head = e;
	if (s->tail == NULL) {
		s->tail = e;
	}
}

/* Second-chance LRU (CLOCK): a hit only marks the entry, and only if the
 * mark is clear, so a hit on a marked entry writes nothing at all; the
 * eviction scan gives marked entries another round.  Marking races with
 * the scan's clearing: either way the entry is kept one round or not,
 * which is all the approximation promises. */
static void touch(struct entry *e)
{
	if (!LOAD(e->referenced)) {
		STORE(e->referenced, true);
	}
}

/* Unlink \a e (under a write section) into r->entries: readers may still
 * be walking through it, so it is freed only by ebr.c. */
static void remove_entry(struct shard *s, struct entry *e, struct retired *r)
{
	struct entry **pp = &s->buckets[e->hash & s->mask];
	while (*pp != e) {
		pp = &(*pp)->hnext;
	}
	PUBLISH(*pp, e->hnext);
	lru_unlink(s, e);
	s->count--;
	s->bytes -= entry_bytes(e);
	e->lnext = r->entries;
	r->entries = e;
}

static struct entry *entry_new(const struct aname_cache_key *k)
{
	return calloc(1, sizeof(struct entry) + k->len);
}

/* Chains stay at about one entry: a hit usually touches one entry.  The
 * entries move to a table twice the size; a reader walking the old one
 * meanwhile may stray into a new chain, which the sequence count tells
 * it.  Every chain stays acyclic throughout: a moved entry points only to
 * entries moved before it. */
static void grow(struct shard *s, struct retired *r)
{
	size_t nmask = s->mask * 2 + 1;
	if (r->buckets != NULL) {
		return; /* once per write section: the old one waits for it */
	}
	struct entry **nb = calloc(nmask + 1, sizeof(*nb));
	if (nb == NULL) {
		return; /* keep working with longer chains */
	}
	for (size_t i = 0; i <= s->mask; i++) {
		struct entry *e = s->buckets[i];
		while (e != NULL) {
			struct entry *next = e->hnext;
			PUBLISH(e->hnext, nb[e->hash & nmask]);
			nb[e->hash & nmask] = e;
			e = next;
		}
	}
	r->buckets = s->buckets;
	PUBLISH(s->buckets, nb);
	PUBLISH(s->mask, nmask);
}

/* Find or create the entry for \a k; evicts the LRU entry when full.
 * \a spare is a blank entry allocated before the lock was taken: used, or
 * left in *unused for the caller to free. */
static struct entry *upsert(struct shard *s, const struct aname_cache_key *k,
			    struct entry *spare, struct entry **unused,
			    struct retired *r)
{
	struct entry *e = find_locked(s, k);
	if (e != NULL) {
		*unused = spare;
		return e;
	}
	while (s->count >= s->max && s->tail != NULL) {
		struct entry *victim = s->tail;
		if (LOAD(victim->referenced)) {
			STORE(victim->referenced, false);
			lru_unlink(s, victim);
			lru_push_front(s, victim);
			continue;
		}
		remove_entry(s, victim, r);
		s->evictions++;
	}
	e = spare;
	/* The key is stored truncated to its length, before the entry is
	 * published: readers compare it without synchronisation. */
	e->len = k->len;
	e->rrtype = k->rrtype;
	e->hash = (uint32_t)k->hash;
	memcpy(e->name, k->name, k->len);
	struct entry **slot = &s->buckets[k->hash & s->mask];
	e->hnext = *slot;
	PUBLISH(*slot, e);
	lru_push_front(s, e);
	s->count++;
	s->bytes += entry_bytes(e);
	if (s->count > s->mask + 1) {
		grow(s, r);
	}
	return e;
}

/* Open a write section on k's shard and return its entry, created if need
 * be (NULL: out of memory, section still open).  The common case, an
 * entry that exists (every refresh), allocates nothing; a new one is
 * allocated with the lock dropped, then looked for again. */
static struct entry *lock_entry(struct shard *s,
				const struct aname_cache_key *k,
				struct retired *r, struct entry **unused)
{
	lock_shard(s);
	struct entry *e = find_locked(s, k);
	if (e != NULL) {
		return e;
	}
	unlock_shard(s);
	struct entry *spare = entry_new(k);
	lock_shard(s);
	return spare != NULL ? upsert(s, k, spare, unused, r)
			     : find_locked(s, k);
}

/* ------------------------------------------------------------ readers */

/* Walks past this many entries in one chain mean a writer relinked it
 * under us (chains average about one): read again. */
#define READ_HOPS_MAX 64
/* Lock-free attempts before reading under the lock: only a writer busy on
 * the same shard every time makes them fail. */
#define READ_TRIES 8

/* The second look at a shard's count, after the reads it vouches for,
 * which must not pass it.  (Only TSan builds' ANAME_FENCE writes the
 * line, ebr.h.) */
static inline __attribute__((always_inline)) unsigned
reread_seq(struct shard *s)
{
	ANAME_FENCE(&s->seq, memory_order_acquire);
	return LOAD(s->seq);
}

/* Copy what the policy needs of \a e into \a out (a fresh view), and
 * return e's answer (NULL for none). */
static inline __attribute__((always_inline)) aname_result_t *
read_entry(const struct entry *e, const struct aname_cache_key *k,
	   struct aname_cache_view *out)
{
	*out = (struct aname_cache_view){ .key_hash = k->hash };
	if (e == NULL) {
		return NULL;
	}
	out->fail_ms = LOAD(e->fail_ms);
	out->fail_status = LOAD(e->fail_status);
	out->fails = LOAD(e->fails);
	out->refresh_hold_ms = LOAD(e->refresh_after_ms);
	return ACQUIRE(e->res);
}

/* What \a res is worth now: out->res is set (borrowed) when it is fresh,
 * or stale within max_stale_s and wanted.  True for a fresh hit. */
static inline __attribute__((always_inline)) bool
judge(const struct aname_cache *c, struct entry *e, aname_result_t *res,
      uint64_t now_ms, bool want_stale, struct aname_cache_view *out)
{
	if (res != NULL && !aname__result_expired(res, now_ms)) {
		out->fresh = true;
		out->res = res;
		touch(e);
		return true;
	}
	if (res != NULL && want_stale && c->max_stale_s > 0 &&
	    now_ms < res->expire_ms + (uint64_t)c->max_stale_s * 1000u) {
		out->res = res;
		touch(e);
	}
	return false;
}

/* Fill \a out as aname__cache_get() documents, with out->res borrowed.
 * In a read section \a r; false when writers kept the shard changing.
 * Fresh hits count as requests less misses: one count per hit. */
static inline __attribute__((always_inline)) bool
view_lockfree(struct aname_cache *c, struct shard *s,
	      const struct aname_cache_key *k, uint64_t now_ms,
	      bool want_stale, struct aname_ebr_reader *r,
	      struct aname_cache_view *out)
{
	for (unsigned tries = 0; tries < READ_TRIES; tries++) {
		unsigned seq = ACQUIRE(s->seq);
		if (seq & 1) {
			ANAME_CPU_RELAX();
			continue;
		}
		size_t mask = ACQUIRE(s->mask);
		struct entry *const *buckets = ACQUIRE(s->buckets);
		struct entry *e = ACQUIRE(buckets[k->hash & mask]);
		unsigned hops = 0;
		while (e != NULL && !entry_is(e, k) && hops++ < READ_HOPS_MAX) {
			e = ACQUIRE(e->hnext);
		}
		aname_result_t *res = read_entry(e, k, out);
		if (reread_seq(s) != seq || hops > READ_HOPS_MAX) {
			continue;
		}
		aname__ebr_count(r, RC_REQUESTS);
		if (!judge(c, e, res, now_ms, want_stale, out)) {
			aname__ebr_count(r, RC_MISSES);
		}
		return true;
	}
	return false;
}

/* The same under the shard lock (counted in the shard). */
static void view_locked(struct aname_cache *c, struct shard *s,
			const struct aname_cache_key *k, uint64_t now_ms,
			bool want_stale, struct aname_cache_view *out)
{
	struct entry *e = find_locked(s, k);
	aname_result_t *res = read_entry(e, k, out);
	s->stats[ANAME_STAT_REQUESTS]++;
	if (!judge(c, e, res, now_ms, want_stale, out)) {
		s->stats[ANAME_STAT_MISSES]++;
	}
}

struct aname_cache_hold aname__cache_hold(struct aname_cache *c,
					  const struct aname_cache_key *k,
					  uint64_t now_ms, bool want_stale,
					  struct aname_cache_view *out)
{
	struct shard *s = shard_of(c, k);
	struct aname_ebr_reader *r = aname__ebr_reader(&c->ebr);
	if (__builtin_expect(r != NULL, 1)) {
		aname__ebr_enter(&c->ebr, r);
		if (view_lockfree(c, s, k, now_ms, want_stale, r, out)) {
			return (struct aname_cache_hold){ r, NULL };
		}
		aname__ebr_exit(r);
	}
	aname__spin_lock(&s->lock);
	view_locked(c, s, k, now_ms, want_stale, out);
	return (struct aname_cache_hold){ NULL, &s->lock };
}

void aname__cache_get(struct aname_cache *c, const struct aname_cache_key *k,
		      uint64_t now_ms, bool want_stale,
		      struct aname_cache_view *out)
{
	struct aname_cache_hold h =
		aname__cache_hold(c, k, now_ms, want_stale, out);
	aname__cache_release(h, true, out);
}

/* ------------------------------------------------------------ updates */

static bool same_addresses(aname_result_t *a, aname_result_t *b)
{
	size_t alen = a->rrtype == ANAME_RRTYPE_AAAA ? 16 : 4;
	return a->rcode == b->rcode && a->count == b->count &&
	       memcmp(aname__result_addrs(a), aname__result_addrs(b),
		      (size_t)a->count * alen) == 0;
}

int aname__cache_put(struct aname_cache *c, const struct aname_cache_key *k,
		     aname_result_t *res, uint64_t now_ms)
{
	struct shard *s = shard_of(c, k);
	struct retired *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ANAME_ENOMEM;
	}
	struct entry *unused = NULL;
	struct entry *e = lock_entry(s, k, r, &unused);
	if (e == NULL) {
		unlock_shard(s);
		retire(c, r);
		return ANAME_ENOMEM;
	}
	aname_result_t *old = e->res;
	/* A refresh that did not extend the entry came from libunbound's
	 * copy (see ubsetup.c): try again shortly, not on every lookup. */
	uint64_t hold = 0;
	if (old != NULL && old->status == ANAME_OK &&
	    res->expire_ms <= old->expire_ms + 1000u) {
		hold = now_ms + ANAME_REFRESH_RETRY_MS;
	}
	STORE(e->refresh_after_ms, hold);
	s->bytes -= entry_bytes(e);
	if (old == NULL || !same_addresses(old, res)) {
		e->changed_ms = now_ms != 0 ? now_ms : 1;
	}
	PUBLISH(e->res, aname_result_ref(res));
	STORE(e->fail_ms, 0);
	STORE(e->fails, 0);
	STORE(e->fail_status, (int16_t)ANAME_OK);
	s->bytes += entry_bytes(e);
	unlock_shard(s);
	free(unused);
	r->res = old; /* readers may still be copying from it */
	retire(c, r);
	return ANAME_OK;
}

int aname__cache_fail(struct aname_cache *c, const struct aname_cache_key *k,
		      int status, uint64_t now_ms)
{
	struct shard *s = shard_of(c, k);
	struct retired *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ANAME_ENOMEM;
	}
	struct entry *unused = NULL;
	struct entry *e = lock_entry(s, k, r, &unused);
	if (e != NULL) {
		STORE(e->fail_ms, now_ms != 0 ? now_ms : 1);
		if (e->fails < UINT16_MAX) {
			STORE(e->fails, (uint16_t)(e->fails + 1));
		}
		STORE(e->fail_status, (int16_t)status);
		STORE(e->refresh_after_ms, 0);
	}
	unlock_shard(s);
	free(unused);
	retire(c, r);
	return e != NULL ? ANAME_OK : ANAME_ENOMEM;
}

void aname__cache_hold_refresh(struct aname_cache *c,
			       const struct aname_cache_key *k,
			       uint64_t until_ms)
{
	struct shard *s = shard_of(c, k);
	lock_shard(s);
	struct entry *e = find_locked(s, k);
	if (e != NULL) {
		STORE(e->refresh_after_ms, until_ms);
	}
	unlock_shard(s);
}

/* ------------------------------------------------------------ walks */

int aname__cache_each(struct aname_cache *c, aname_cache_each_fn fn,
		      void *arg)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		/* Copy out under the lock, call back without it: fn may take
		 * other locks, or look up the cache itself. */
		/* Allocate unlocked; entries added meanwhile are left out. */
		aname__spin_lock(&s->lock);
		size_t n = s->count, k = 0;
		aname__spin_unlock(&s->lock);
		struct aname_cache_item *items =
			n > 0 ? calloc(n, sizeof(*items)) : NULL;
		if (n > 0 && items == NULL) {
			return ANAME_ENOMEM;
		}
		aname__spin_lock(&s->lock);
		for (struct entry *e = s->head; e != NULL && k < n;
		     e = e->lnext) {
			struct aname_cache_item *it = &items[k++];
			/* The full key again (entries keep half the hash). */
			aname__cache_key(&it->key, e->name, e->len, e->rrtype);
			it->res = aname_result_ref(e->res);
			it->fail_ms = e->fail_ms;
			it->fails = e->fails;
			it->fail_status = e->fail_status;
			it->changed_ms = e->changed_ms;
		}
		aname__spin_unlock(&s->lock);
		int stop = 0;
		for (size_t j = 0; j < k; j++) {
			if (stop == 0) {
				stop = fn(arg, &items[j]);
			}
			aname_result_unref(items[j].res);
		}
		free(items);
		if (stop != 0) {
			return stop;
		}
	}
	return ANAME_OK;
}

size_t aname__cache_buckets(struct aname_cache *c)
{
	size_t n = 0;
	for (unsigned i = 0; i < c->n; i++) {
		n += ACQUIRE(c->shards[i].mask) + 1;
	}
	return n;
}

enum aname_scan_step aname__cache_scan_slice(struct aname_cache *c,
					     struct aname_cache_cursor *cur,
					     size_t buckets,
					     aname_cache_scan_fn fn,
					     void *arg)
{
	if (cur->shard >= c->n) {
		return ANAME_SCAN_DONE;
	}
	struct shard *s = &c->shards[cur->shard];
	enum aname_scan_step step = ANAME_SCAN_MORE;
	aname__spin_lock(&s->lock);
	if (cur->mask == 0) {
		cur->mask = s->mask;
		cur->bucket = 0;
	} else if (cur->mask != s->mask) {
		/* Entries moved between buckets behind the cursor: begin the
		 * shard again (tables only grow, so this is rare). */
		cur->mask = 0;
		step = ANAME_SCAN_RESTART;
	}
	/* The bucket array, not the LRU list: consecutive buckets let the
	 * processor fetch several entries at once, where the list is a
	 * chain of dependent loads. */
	size_t end = cur->bucket + buckets;
	for (; step == ANAME_SCAN_MORE && cur->bucket <= s->mask &&
	       cur->bucket < end;
	     cur->bucket++) {
		for (struct entry *e = s->buckets[cur->bucket]; e != NULL;
		     e = e->hnext) {
			struct aname_cache_brief b = {
				.res = e->res,
				.fail_ms = e->fail_ms,
				.fails = e->fails,
				.fail_status = e->fail_status,
				.refresh_hold_ms = e->refresh_after_ms,
				.key_hash = e->hash,
			};
			fn(arg, &b);
		}
	}
	if (step == ANAME_SCAN_MORE && cur->bucket > s->mask) {
		cur->shard++;
		cur->mask = 0;
		step = cur->shard < c->n ? ANAME_SCAN_SHARD : ANAME_SCAN_DONE;
	}
	aname__spin_unlock(&s->lock);
	return step;
}

void aname__cache_usage(struct aname_cache *c, uint64_t *entries,
			uint64_t *bytes, uint64_t *evictions)
{
	uint64_t n = 0, b = 0, ev = 0;
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		aname__spin_lock(&s->lock);
		n += s->count;
		b += s->bytes + (s->mask + 1) * sizeof(*s->buckets);
		ev += s->evictions;
		aname__spin_unlock(&s->lock);
	}
	*entries = n;
	*bytes = b;
	*evictions = ev;
}

/* REQUESTS or MISSES, from the shards and the readers' records. */
static uint64_t count_of(struct aname_cache *c, int stat, unsigned rc)
{
	uint64_t sum = aname__ebr_sum(&c->ebr, rc);
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		aname__spin_lock(&s->lock);
		sum += s->stats[stat];
		aname__spin_unlock(&s->lock);
	}
	return sum;
}

uint64_t aname__cache_stat(struct aname_cache *c, int stat)
{
	switch (stat) {
	case ANAME_STAT_REQUESTS:
		return count_of(c, stat, RC_REQUESTS);
	case ANAME_STAT_MISSES:
		return count_of(c, stat, RC_MISSES);
	case ANAME_STAT_HITS_FRESH: {
		/* Misses first: lookups that happen in between add to the
		 * requests, so the difference cannot go below zero. */
		uint64_t misses = count_of(c, ANAME_STAT_MISSES, RC_MISSES);
		uint64_t requests = count_of(c, ANAME_STAT_REQUESTS,
					     RC_REQUESTS);
		return requests > misses ? requests - misses : 0;
	}
	default:
		return 0;
	}
}

size_t aname__cache_collect(struct aname_cache *c)
{
	return aname__ebr_collect(&c->ebr);
}
