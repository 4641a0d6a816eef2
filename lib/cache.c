/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cache.c
 * \brief The TTL cache: sharded hash tables with per-shard LRU.
 *
 * Keys are (lower-cased wire name, type).  Values are immutable results
 * shared by reference.  A hit takes its shard's spin lock (spin.h: one
 * exchange, a release store), finds the entry in a chain that averages
 * about one entry, sets the entry's "referenced" bit and either bumps the
 * result's reference count (aname__cache_get) or lets the caller copy
 * the records out while the lock pins the entry (aname__cache_hold, for
 * aname_cache_synth_wire).  Nothing is allocated or freed under a shard
 * lock except the rare doubling of a shard's bucket array: a new entry
 * is allocated with the lock dropped, and replaced results and evicted
 * entries are freed after it is.  Sharding keeps the hit path
 * free of any context-wide lock, so lookups from many threads scale (see
 * bench/).  Each entry also remembers the last failure (for backoff,
 * RFC 8767 section 5) and until when a refresh is held off.  What to make
 * of all that is policy.c's business.  Time is always a parameter, so
 * unit tests drive expiry without sleeping.
 *
 * Bounds: max_entries is split over the shards so that the shard limits
 * add up to it exactly; inserting into a full shard evicts by
 * second-chance LRU: the tail entry goes unless it was referenced since it
 * last reached the tail, in which case it moves to the head with its bit
 * cleared.  Failure-only entries count too, so a flood of distinct dead
 * targets cannot grow memory.
 */
#include "cache.h"

#include "spin.h"

#include <stddef.h>

#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *hnext;
	struct entry *lprev, *lnext; /* LRU: head is most recent */
	aname_result_t *res;         /* NULL: failure record only */
	uint64_t fail_ms;            /* 0: no recent failure */
	uint64_t changed_ms;         /* the address set last changed */
	uint64_t refresh_after_ms;   /* no refresh before this */
	/* The rest is packed into one word before the name (memory per
	 * entry is a goal, see bench/): statuses are small negative
	 * numbers, the count stops at UINT16_MAX (far past the backoff's
	 * cap), and the low half of the key's hash is all that bucketing
	 * and the policy's jitter use. */
	uint32_t hash;               /* low 32 bits of the key's hash */
	uint16_t fails;              /* consecutive failures */
	int16_t fail_status;
	uint16_t rrtype;
	uint8_t len;
	bool referenced; /* used since it last reached the LRU tail */
	uint8_t name[];  /* the key's folded wire name, len bytes */
};

struct shard {
	aname_spin_t lock;
	struct entry **buckets; /* chains through entry.hnext */
	size_t mask;            /* buckets - 1 */
	size_t count, max;
	uint64_t bytes;
	uint64_t evictions;
	struct entry *head, *tail;
	uint64_t stats[ANAME_STAT_COUNT_];
	char pad[64];
};

struct aname_cache {
	unsigned n;
	uint32_t max_stale_s;
	struct shard shards[];
};

/* Lower-case 'A'..'Z' in eight bytes at once, leaving every other byte
 * (label lengths are < 64, and bytes >= 0x80) alone. */
static uint64_t fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');
	uint64_t gt_z = low7 + ones * (0x7f - 'Z');
	uint64_t upper = ge_a & ~gt_z & ~w & high;
	return w | (upper >> 2);
}

static uint64_t load8(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* Up to seven bytes of a name shorter than eight, little-endian. */
static uint64_t load_short(const uint8_t *p, size_t n)
{
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++) {
		w |= (uint64_t)p[i] << (8 * i);
	}
	return w;
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* The key hashes eight folded bytes per step (a multiply-xorshift mix):
 * on the hit path this replaced a byte-at-a-time FNV-1a that cost more
 * than the table lookup itself.  A tail shorter than eight bytes is read
 * and written as the overlapping last word, not byte by byte. */
void aname__cache_key(struct aname_cache_key *key, const uint8_t *wire,
		      size_t len, uint16_t rrtype)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)rrtype << 48) ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = fold8(load8(wire + i));
		memcpy(key->name + i, &w, 8);
		h = mix(h, w);
	}
	size_t n = len - i;
	if (n > 0 && len >= 8) {
		uint64_t w = fold8(load8(wire + len - 8));
		memcpy(&key->name[len - 8], &w, 8);
		h = mix(h, w >> (8 * (8 - n)));
	} else if (n > 0) {
		uint64_t w = fold8(load_short(wire, n));
		for (size_t j = 0; j < n; j++) {
			key->name[j] = (uint8_t)(w >> (8 * j));
		}
		h = mix(h, w);
	}
	h = (h ^ (h >> 32)) * 0xc4ceb9fe1a85ec53ull;
	key->len = (uint8_t)len;
	key->rrtype = rrtype;
	key->hash = h ^ (h >> 29);
}

static struct shard *shard_of(struct aname_cache *c,
			      const struct aname_cache_key *k)
{
	/* Multiply-shift maps the high half onto 0..n-1 without a divide
	 * (a division by a run-time n was a tenth of a hit's time). */
	return &c->shards[((k->hash >> 32) * c->n) >> 32];
}

/* Names are compared eight bytes at a time (keys are already folded);
 * entries store exactly len bytes, so the tail is the overlapping last
 * word. */
static bool names_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len < 8) {
		return load_short(a, len) == load_short(b, len);
	}
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		if (load8(a + i) != load8(b + i)) {
			return false;
		}
	}
	return i == len || load8(a + len - 8) == load8(b + len - 8);
}

bool aname__cache_key_eq(const struct aname_cache_key *a,
			 const struct aname_cache_key *b)
{
	return a->hash == b->hash && a->rrtype == b->rrtype &&
	       a->len == b->len && names_equal(a->name, b->name, a->len);
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

void aname__cache_free(struct aname_cache *c)
{
	if (c == NULL) {
		return;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		struct entry *e = s->head;
		while (e != NULL) {
			struct entry *next = e->lnext;
			aname_result_unref(e->res);
			free(e);
			e = next;
		}
		free(s->buckets);
	}
	free(c);
}

static bool entry_is(const struct entry *e, const struct aname_cache_key *k)
{
	return e->hash == (uint32_t)k->hash && e->rrtype == k->rrtype &&
	       e->len == k->len && names_equal(e->name, k->name, k->len);
}

static struct entry *find(struct shard *s, const struct aname_cache_key *k)
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

/* Second-chance LRU (CLOCK): a hit only marks the entry, so the hit path
 * writes one byte of its own entry instead of relinking neighbours; the
 * eviction scan gives marked entries another round. */
static void touch(struct shard *s, struct entry *e)
{
	(void)s;
	if (!e->referenced) {
		e->referenced = true;
	}
}

static void remove_entry(struct shard *s, struct entry *e,
			 struct entry **dead)
{
	struct entry **pp = &s->buckets[e->hash & s->mask];
	while (*pp != e) {
		pp = &(*pp)->hnext;
	}
	*pp = e->hnext;
	lru_unlink(s, e);
	s->count--;
	s->bytes -= entry_bytes(e);
	/* Freed by the caller once the shard is unlocked (free_dead()). */
	e->lnext = *dead;
	*dead = e;
}

static void free_dead(struct entry *dead)
{
	while (dead != NULL) {
		struct entry *next = dead->lnext;
		aname_result_unref(dead->res);
		free(dead);
		dead = next;
	}
}

static struct entry *entry_new(const struct aname_cache_key *k)
{
	return calloc(1, sizeof(struct entry) + k->len);
}

/* Chains stay at about one entry: a hit usually touches one entry. */
static void grow(struct shard *s)
{
	size_t nmask = s->mask * 2 + 1;
	struct entry **nb = calloc(nmask + 1, sizeof(*nb));
	if (nb == NULL) {
		return; /* keep working with longer chains */
	}
	for (size_t i = 0; i <= s->mask; i++) {
		struct entry *e = s->buckets[i];
		while (e != NULL) {
			struct entry *next = e->hnext;
			e->hnext = nb[e->hash & nmask];
			nb[e->hash & nmask] = e;
			e = next;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->mask = nmask;
}

/* Find or create the entry for \a k; evicts the LRU entry when full.
 * \a spare is a blank entry allocated before the lock was taken: used, or
 * added to *dead to be freed after it, like every evicted entry. */
static struct entry *upsert(struct shard *s, const struct aname_cache_key *k,
			    struct entry *spare, struct entry **dead)
{
	struct entry *e = find(s, k);
	if (e != NULL) {
		spare->lnext = *dead;
		*dead = spare;
		return e;
	}
	while (s->count >= s->max && s->tail != NULL) {
		struct entry *victim = s->tail;
		if (victim->referenced) {
			victim->referenced = false;
			lru_unlink(s, victim);
			lru_push_front(s, victim);
			continue;
		}
		remove_entry(s, victim, dead);
		s->evictions++;
	}
	e = spare;
	/* The key is stored truncated to its length. */
	e->len = k->len;
	e->rrtype = k->rrtype;
	e->hash = (uint32_t)k->hash;
	memcpy(e->name, k->name, k->len);
	e->hnext = s->buckets[k->hash & s->mask];
	s->buckets[k->hash & s->mask] = e;
	lru_push_front(s, e);
	s->count++;
	s->bytes += entry_bytes(e);
	if (s->count > s->mask + 1) {
		grow(s);
	}
	return e;
}

/* Lock k's shard and return its entry, created if need be (NULL: out of
 * memory, shard still locked).  The common case, an entry that exists
 * (every refresh), allocates nothing; a new one is allocated with the
 * lock dropped, then looked for again. */
static struct entry *lock_entry(struct shard *s,
				const struct aname_cache_key *k,
				struct entry **dead)
{
	aname__spin_lock(&s->lock);
	struct entry *e = find(s, k);
	if (e != NULL) {
		return e;
	}
	aname__spin_unlock(&s->lock);
	struct entry *spare = entry_new(k);
	aname__spin_lock(&s->lock);
	return spare != NULL ? upsert(s, k, spare, dead) : find(s, k);
}

/* Under the shard lock: fill \a out as aname__cache_get() documents, but
 * with out->res borrowed (no reference taken). */
static inline __attribute__((always_inline)) void
view_locked(struct aname_cache *c, struct shard *s,
	    const struct aname_cache_key *k, uint64_t now_ms, bool want_stale,
	    struct aname_cache_view *out)
{
	*out = (struct aname_cache_view){ .key_hash = k->hash };
	s->stats[ANAME_STAT_REQUESTS]++;
	struct entry *e = find(s, k);
	if (e == NULL) {
		s->stats[ANAME_STAT_MISSES]++;
		return;
	}
	out->fail_ms = e->fail_ms;
	out->fail_status = e->fail_status;
	out->fails = e->fails;
	out->refresh_hold_ms = e->refresh_after_ms;
	aname_result_t *r = e->res;
	if (r != NULL && !aname__result_expired(r, now_ms)) {
		out->fresh = true;
		out->res = r;
		s->stats[ANAME_STAT_HITS_FRESH]++;
		touch(s, e);
		return;
	}
	s->stats[ANAME_STAT_MISSES]++;
	if (r != NULL && want_stale && c->max_stale_s > 0 &&
	    now_ms < r->expire_ms + (uint64_t)c->max_stale_s * 1000u) {
		out->res = r;
		touch(s, e);
	}
}

void aname__cache_get(struct aname_cache *c, const struct aname_cache_key *k,
		      uint64_t now_ms, bool want_stale,
		      struct aname_cache_view *out)
{
	struct shard *s = shard_of(c, k);
	aname__spin_lock(&s->lock);
	view_locked(c, s, k, now_ms, want_stale, out);
	out->res = aname_result_ref(out->res);
	aname__spin_unlock(&s->lock);
}

struct aname_cache_hold aname__cache_hold(struct aname_cache *c,
					  const struct aname_cache_key *k,
					  uint64_t now_ms, bool want_stale,
					  struct aname_cache_view *out)
{
	struct shard *s = shard_of(c, k);
	aname__spin_lock(&s->lock);
	view_locked(c, s, k, now_ms, want_stale, out);
	return (struct aname_cache_hold){ s };
}

void aname__cache_release(struct aname_cache_hold h, bool keep,
			  struct aname_cache_view *v)
{
	struct shard *s = h.shard;
	v->res = keep ? aname_result_ref(v->res) : NULL;
	aname__spin_unlock(&s->lock);
}

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
	struct entry *dead = NULL;
	struct entry *e = lock_entry(s, k, &dead);
	if (e == NULL) {
		aname__spin_unlock(&s->lock);
		free_dead(dead);
		return ANAME_ENOMEM;
	}
	aname_result_t *old = e->res;
	/* A refresh that did not extend the entry came from libunbound's
	 * copy (see ubsetup.c): try again shortly, not on every lookup. */
	e->refresh_after_ms = 0;
	if (e->res != NULL && e->res->status == ANAME_OK &&
	    res->expire_ms <= e->res->expire_ms + 1000u) {
		e->refresh_after_ms = now_ms + ANAME_REFRESH_RETRY_MS;
	}
	s->bytes -= entry_bytes(e);
	if (e->res == NULL || !same_addresses(e->res, res)) {
		e->changed_ms = now_ms != 0 ? now_ms : 1;
	}
	e->res = aname_result_ref(res);
	e->fail_ms = 0;
	e->fails = 0;
	e->fail_status = ANAME_OK;
	s->bytes += entry_bytes(e);
	aname__spin_unlock(&s->lock);
	aname_result_unref(old);
	free_dead(dead);
	return ANAME_OK;
}

int aname__cache_fail(struct aname_cache *c, const struct aname_cache_key *k,
		      int status, uint64_t now_ms)
{
	struct shard *s = shard_of(c, k);
	struct entry *dead = NULL;
	struct entry *e = lock_entry(s, k, &dead);
	if (e != NULL) {
		e->fail_ms = now_ms != 0 ? now_ms : 1;
		if (e->fails < UINT16_MAX) {
			e->fails++;
		}
		e->fail_status = (int16_t)status;
		e->refresh_after_ms = 0;
	}
	aname__spin_unlock(&s->lock);
	free_dead(dead);
	return e != NULL ? ANAME_OK : ANAME_ENOMEM;
}

void aname__cache_hold_refresh(struct aname_cache *c,
			       const struct aname_cache_key *k,
			       uint64_t until_ms)
{
	struct shard *s = shard_of(c, k);
	aname__spin_lock(&s->lock);
	struct entry *e = find(s, k);
	if (e != NULL) {
		e->refresh_after_ms = until_ms;
	}
	aname__spin_unlock(&s->lock);
}

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

void aname__cache_scan(struct aname_cache *c, aname_cache_scan_fn fn,
		       void *arg)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		aname__spin_lock(&s->lock);
		for (struct entry *e = s->head; e != NULL; e = e->lnext) {
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
		aname__spin_unlock(&s->lock);
	}
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

uint64_t aname__cache_stat(struct aname_cache *c, int stat)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		aname__spin_lock(&s->lock);
		sum += s->stats[stat];
		aname__spin_unlock(&s->lock);
	}
	return sum;
}
