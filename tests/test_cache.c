/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The TTL cache (lib/cache.c) and the freshness policy (lib/policy.c)
 * with injected time: no sleeping.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "policy.h"
#include "result.h"
#include "stats.h"

static struct aname_cache_key key(const char *name, uint16_t type)
{
	uint8_t wire[255];
	size_t len;
	struct aname_cache_key k;
	cr_assert_eq(aname_name_to_wire(name, wire, sizeof(wire), &len),
		     ANAME_OK);
	aname__cache_key(&k, wire, len, type);
	return k;
}

static aname_result_t *answer(uint32_t ttl, uint64_t now)
{
	aname_result_t *r = aname__result_new(ANAME_RRTYPE_A, "t.test.", 1);
	cr_assert_not_null(r);
	r->ttl = ttl;
	r->expire_ms = now + ttl * 1000ull;
	r->stale_ttl = 30;
	memcpy(aname__result_addrs(r), "\xc0\x00\x02\x01", 4);
	return r;
}

static struct aname_cache *cache_new(size_t max, unsigned shards)
{
	struct aname_cache_config cc = {max, shards, 3600};
	return aname__cache_new(&cc);
}

/* What the store holds, and what the policy makes of it for a
 * synchronous lookup (prefetch 10 %, backoff 30 s). */
struct probe {
	struct aname_cache_view v;
	enum aname_action act;
};

static struct probe get_ex(struct aname_cache *c, struct aname_cache_key *k,
			   uint64_t now, const struct aname_policy_input *in)
{
	static const struct aname_policy pol = {10, 30, 0};
	struct probe p;
	aname__cache_get(c, k, now, true, &p.v);
	p.act = aname__policy_decide(&pol, &p.v, in, now);
	return p;
}

static struct probe get(struct aname_cache *c, struct aname_cache_key *k,
			uint64_t now)
{
	struct aname_policy_input in = {false, false, true, true, 0};
	return get_ex(c, k, now, &in);
}

Test(cache, fresh_until_ttl_then_stale_then_gone)
{
	struct aname_cache *c = cache_new(100, 4);
	struct aname_cache_key k = key("T.test", ANAME_RRTYPE_A);
	struct aname_cache_key k2 = key("t.TEST.", ANAME_RRTYPE_A);
	aname_result_t *r = answer(100, 1000);
	cr_assert_eq(aname__cache_put(c, &k, r, 1000), ANAME_OK);
	aname_result_unref(r);

	struct probe p = get(c, &k2, 1000 + 50 * 1000);
	cr_assert(p.v.fresh, "case-insensitive key");
	cr_assert_eq(aname__result_ttl_at(p.v.res, 1000 + 50 * 1000), 50);
	cr_assert_eq(p.act, ANAME_ACT_SERVE, "not yet within the last 10 %%");
	aname_result_unref(p.v.res);

	p = get(c, &k, 1000 + 95 * 1000);
	cr_assert(p.v.fresh);
	cr_assert_eq(p.act, ANAME_ACT_SERVE_REFRESH,
		     "last 10 %% of the TTL: refresh ahead");
	aname_result_unref(p.v.res);
	/* A fetch started: it holds refreshes off until its deadline. */
	aname__cache_hold_refresh(c, &k, 1000 + 95 * 1000 + 1501);
	p = get(c, &k, 1000 + 96 * 1000);
	cr_assert_eq(p.act, ANAME_ACT_SERVE, "one refresh at a time");
	aname_result_unref(p.v.res);
	struct aname_policy_input running = {false, true, true, true, 0};
	p = get_ex(c, &k, 1000 + 97 * 1000, &running);
	cr_assert_eq(p.act, ANAME_ACT_SERVE, "a running fetch is enough");
	aname_result_unref(p.v.res);

	p = get(c, &k, 1000 + 101 * 1000);
	cr_assert_not(p.v.fresh);
	cr_assert_not_null(p.v.res);
	cr_assert_eq(p.act, ANAME_ACT_STALE_REFRESH);
	cr_assert_eq(aname__result_ttl_at(p.v.res, 1000 + 101 * 1000), 30,
		     "stale TTL");
	aname_result_unref(p.v.res);

	p = get(c, &k, 1000 + 100 * 1000 + 3600 * 1000 + 1);
	cr_assert_null(p.v.res, "past max-stale");
	cr_assert_eq(p.act, ANAME_ACT_FETCH);
	aname__cache_free(c);
}

Test(cache, policy_admission)
{
	struct aname_cache *c = cache_new(100, 4);
	struct aname_cache_key k = key("t.test", ANAME_RRTYPE_A);
	struct aname_policy_input full = {true, false, false, true, 0};
	struct aname_policy_input no_waiters = {true, true, true, false, 0};
	struct aname_policy_input join = {true, true, false, true, 0};
	cr_assert_eq(get_ex(c, &k, 1, &full).act, ANAME_ACT_SHED,
		     "no room for a fetch");
	cr_assert_eq(get_ex(c, &k, 1, &no_waiters).act, ANAME_ACT_SHED,
		     "no room to wait");
	cr_assert_eq(get_ex(c, &k, 1, &join).act, ANAME_ACT_FETCH,
		     "joining needs no new fetch");
	aname__cache_fail(c, &k, ANAME_ESERVFAIL, 1000);
	struct probe p = get_ex(c, &k, 1500, &join);
	cr_assert_eq(p.act, ANAME_ACT_FAIL, "fail fast while backing off");
	cr_assert_eq(p.v.fail_status, ANAME_ESERVFAIL);
	aname__cache_free(c);
}

Test(cache, backoff_doubles_to_its_cap_and_recovery_clears_it)
{
	static const struct aname_policy pol = {10, 30, 0};
	struct aname_cache *c = cache_new(100, 4);
	struct aname_cache_key k = key("dead.test", ANAME_RRTYPE_A);
	struct aname_cache_view v;
	uint64_t prev = 0;
	for (unsigned i = 1; i <= 8; i++) {
		aname__cache_fail(c, &k, ANAME_ETIMEDOUT, 1000);
		aname__cache_get(c, &k, 1000, true, &v);
		uint64_t ms = aname__policy_backoff_ms(&pol, &v);
		uint64_t nominal = i >= 6 ? 30000 : 1000u << (i - 1);
		cr_assert(ms >= nominal * 8 / 10 && ms <= nominal * 12 / 10,
			  "failure %u: %llu ms", i, (unsigned long long)ms);
		cr_assert_geq(ms, prev * 8 / 10);
		prev = ms;
	}
	/* At the cap a dead target costs at most 60 / 24 = 2.5 a minute. */
	cr_assert_geq(prev, 24000);
	cr_assert(aname__policy_backing_off(&pol, &v, 0, 2000));
	cr_assert_not(aname__policy_backing_off(&pol, &v, 1500, 2000),
		      "an upstream that came back ends every backoff");
	aname__cache_free(c);
}

Test(cache, max_entries_is_exact)
{
	/* 100 over 64 shards used to round up to 128. */
	struct aname_cache *c = cache_new(100, 64);
	char name[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "x%d.test", i);
		struct aname_cache_key k = key(name, ANAME_RRTYPE_A);
		aname_result_t *r = answer(100, 0);
		aname__cache_put(c, &k, r, 0);
		aname_result_unref(r);
	}
	uint64_t n, bytes, ev;
	aname__cache_usage(c, &n, &bytes, &ev);
	cr_assert_leq(n, 100, "%llu entries", (unsigned long long)n);
	cr_assert_geq(n, 95, "shards fill evenly: %llu", (unsigned long long)n);
	aname__cache_free(c);
}

Test(cache, types_are_separate)
{
	struct aname_cache *c = cache_new(100, 4);
	struct aname_cache_key a = key("t.test", ANAME_RRTYPE_A);
	struct aname_cache_key aaaa = key("t.test", ANAME_RRTYPE_AAAA);
	aname_result_t *r = answer(100, 0);
	aname__cache_put(c, &a, r, 0);
	aname_result_unref(r);
	struct probe p = get(c, &aaaa, 10);
	cr_assert_null(p.v.res);
	aname__cache_free(c);
}

Test(cache, failure_backoff_keeps_stale)
{
	struct aname_cache *c = cache_new(100, 4);
	struct aname_cache_key k = key("t.test", ANAME_RRTYPE_A);
	aname_result_t *r = answer(10, 0);
	aname__cache_put(c, &k, r, 0);
	aname_result_unref(r);
	aname__cache_fail(c, &k, ANAME_ETIMEDOUT, 20000);
	struct probe p = get(c, &k, 20500);
	cr_assert(p.v.res != NULL && !p.v.fresh);
	cr_assert_eq(p.v.fail_status, ANAME_ETIMEDOUT);
	cr_assert_eq(p.act, ANAME_ACT_STALE, "no upstream query during backoff");
	aname_result_unref(p.v.res);
	p = get(c, &k, 20000 + 30000);
	cr_assert_eq(p.act, ANAME_ACT_STALE_REFRESH, "backoff over after 30 s");
	aname_result_unref(p.v.res);
	aname__cache_free(c);
}

Test(cache, lru_eviction_bounds_entries)
{
	struct aname_cache *c = cache_new(64, 1);
	char name[64];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		struct aname_cache_key k = key(name, ANAME_RRTYPE_A);
		aname_result_t *r = answer(100, 0);
		aname__cache_put(c, &k, r, 0);
		aname_result_unref(r);
		if (i == 0 || i % 10 == 0) {
			/* keep n0 hot */
			struct aname_cache_key k0 = key("n0.test", 1);
			struct probe p = get(c, &k0, 1);
			cr_assert(p.v.fresh, "i=%d", i);
			aname_result_unref(p.v.res);
		}
	}
	uint64_t n, bytes, ev;
	aname__cache_usage(c, &n, &bytes, &ev);
	cr_assert_eq(n, 64);
	cr_assert_eq(ev, 1000 - 64);
	cr_assert_gt(bytes, 64 * 4);
	struct aname_cache_key k999 = key("n999.test", 1);
	struct probe p = get(c, &k999, 1);
	cr_assert(p.v.fresh, "most recent survives");
	aname_result_unref(p.v.res);
	aname__cache_free(c);
}

Test(cache, results_outlive_eviction)
{
	struct aname_cache *c = cache_new(1, 1);
	struct aname_cache_key k1 = key("a.test", 1), k2 = key("b.test", 1);
	aname_result_t *r = answer(100, 0);
	aname__cache_put(c, &k1, r, 0);
	struct probe p = get(c, &k1, 1);
	aname__cache_put(c, &k2, r, 0); /* evicts k1 */
	aname_result_unref(r);
	cr_assert_eq(aname_result_count(p.v.res, ANAME_RRTYPE_A), 1);
	aname_result_unref(p.v.res);
	aname__cache_free(c);
}

struct hammer {
	struct aname_cache *c;
	int id;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	char name[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "h%d.test", (i * 7 + h->id) % 300);
		struct aname_cache_key k = key(name, 1);
		if (i % 3 == 0) {
			aname_result_t *r = answer(100, 0);
			aname__cache_put(h->c, &k, r, 0);
			aname_result_unref(r);
		} else {
			struct probe p = get(h->c, &k, 5);
			aname_result_unref(p.v.res);
			if (p.act == ANAME_ACT_SERVE_REFRESH) {
				aname__cache_hold_refresh(h->c, &k, 10);
			}
		}
	}
	return NULL;
}

Test(cache, concurrent_put_get, .timeout = 30)
{
	struct aname_cache *c = cache_new(128, 8);
	pthread_t t[4];
	struct hammer h[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){c, i};
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
	}
	uint64_t n, bytes, ev;
	aname__cache_usage(c, &n, &bytes, &ev);
	cr_assert_leq(n, 128);
	aname__cache_free(c);
}

/* ---------------------------------------------------- sliced scans */

struct scan_seen {
	uint32_t *hashes;
	size_t n, shard_start;
};

static void note_hash(void *arg, const struct aname_cache_brief *b)
{
	struct scan_seen *s = arg;
	s->hashes[s->n++] = (uint32_t)b->key_hash;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void put_names(struct aname_cache *c, int from, int to,
		      uint32_t *hashes)
{
	char name[64];
	for (int i = from; i < to; i++) {
		snprintf(name, sizeof(name), "s%d.test", i);
		struct aname_cache_key k = key(name, ANAME_RRTYPE_A);
		aname_result_t *r = answer(100, 0);
		cr_assert_eq(aname__cache_put(c, &k, r, 0), ANAME_OK);
		aname_result_unref(r);
		hashes[i] = (uint32_t)k.hash;
	}
}

/* Every entry is shown exactly once, though the scan is cut into slices
 * of 3 buckets and the shard being scanned doubles its table twice in the
 * middle (the cursor's buckets then mean other entries: that shard is
 * shown again from the start). */
Test(cache, sliced_scan_shows_every_entry_once_across_growth)
{
	enum { FIRST = 40, ALL = 600 };
	struct aname_cache *c = cache_new(10000, 2);
	uint32_t want[ALL];
	put_names(c, 0, FIRST, want);
	uint32_t got[2 * ALL];
	struct scan_seen s = {got, 0, 0};
	struct aname_cache_cursor cur = {0};
	bool restarted = false, grown = false;
	for (int step = 0;; step++) {
		enum aname_scan_step r =
			aname__cache_scan_slice(c, &cur, 3, note_hash, &s);
		if (r == ANAME_SCAN_RESTART) {
			restarted = true;
			s.n = s.shard_start;
		} else if (r == ANAME_SCAN_SHARD) {
			s.shard_start = s.n;
		} else if (r == ANAME_SCAN_DONE) {
			break;
		}
		if (step == 2 && !grown) {
			put_names(c, FIRST, ALL, want);
			grown = true;
		}
		cr_assert_lt(step, 10000, "the scan ends");
	}
	cr_assert(restarted, "the growth was noticed");
	cr_assert_eq(s.n, ALL, "%zu shown", s.n);
	qsort(got, s.n, sizeof(got[0]), cmp_u32);
	qsort(want, ALL, sizeof(want[0]), cmp_u32);
	cr_assert_arr_eq(got, want, ALL * sizeof(want[0]));
	/* A finished cursor stays finished. */
	cr_assert_eq(aname__cache_scan_slice(c, &cur, 3, note_hash, &s),
		     ANAME_SCAN_DONE);
	aname__cache_free(c);
}
