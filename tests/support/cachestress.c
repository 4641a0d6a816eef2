/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cachestress.c
 * \brief See cachestress.h.
 */
#include "support/cachestress.h"

#include "cache.h"
#include "result.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1000u

struct reader {
	pthread_t thread;
	struct aname_cache *c;
	const struct aname_cache_key *keys;
	unsigned nkeys, seed;
	atomic_bool *stop;
	uint64_t reads, found, wrong;
};

static void key_of(unsigned i, struct aname_cache_key *k)
{
	char text[32];
	uint8_t wire[40];
	size_t n = 0;
	int len = snprintf(text, sizeof(text), "k%u", i);
	wire[n++] = (uint8_t)len;
	memcpy(wire + n, text, (size_t)len);
	n += (size_t)len;
	memcpy(wire + n, "\6stress\4test", 12);
	n += 12;
	wire[n++] = 0;
	aname__cache_key(k, wire, n, ANAME_RRTYPE_A);
}

static bool address_is(const aname_result_t *res, unsigned i)
{
	const uint8_t *a = res->data;
	return res->count == 1 && a[0] == 10 && a[1] == (uint8_t)(i >> 16) &&
	       a[2] == (uint8_t)(i >> 8) && a[3] == (uint8_t)i;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned x = r->seed;
	while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
		x = x * 1103515245u + 12345u;
		unsigned i = (x >> 8) % r->nkeys;
		struct aname_cache_view v;
		if (r->reads % 2 == 0) {
			aname__cache_get(r->c, &r->keys[i], NOW_MS, true, &v);
			if (v.res != NULL) {
				r->found++;
				r->wrong += !address_is(v.res, i);
			}
			aname_result_unref(v.res);
		} else {
			struct aname_cache_hold h = aname__cache_hold(
				r->c, &r->keys[i], NOW_MS, true, &v);
			if (v.res != NULL) {
				r->found++;
				r->wrong += !address_is(v.res, i);
			}
			aname__cache_release(h, false, &v);
		}
		r->reads++;
	}
	return NULL;
}

static aname_result_t *answer_for(unsigned i)
{
	aname_result_t *res = aname__result_new(ANAME_RRTYPE_A, "t.", 1);
	if (res == NULL) {
		return NULL;
	}
	res->ttl = 3600;
	res->expire_ms = NOW_MS + 3600u * 1000u;
	uint8_t *a = aname__result_addrs(res);
	a[0] = 10;
	a[1] = (uint8_t)(i >> 16);
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
	return res;
}

static uint64_t one_round(struct ts_cache_stress *s,
			  const struct aname_cache_key *keys, unsigned round)
{
	struct aname_cache_config cc = { s->max_entries, 1, 3600 };
	struct aname_cache *c = aname__cache_new(&cc);
	uint64_t failed = 0;
	if (c == NULL) {
		return 1;
	}
	atomic_bool stop = false;
	struct reader *rd = calloc(s->readers, sizeof(*rd));
	for (unsigned t = 0; t < s->readers; t++) {
		rd[t] = (struct reader){ .c = c, .keys = keys,
					 .nkeys = s->keys,
					 .seed = round * 131u + t * 7u + 1u,
					 .stop = &stop };
		pthread_create(&rd[t].thread, NULL, reader_main, &rd[t]);
	}
	for (unsigned p = 0; p < s->passes; p++) {
		for (unsigned i = 0; i < s->keys; i++) {
			aname_result_t *res = answer_for(i);
			failed += res == NULL ||
				  aname__cache_put(c, &keys[i], res,
						   NOW_MS) != ANAME_OK;
			aname_result_unref(res);
			if (i % 7 == 0) {
				aname__cache_fail(c, &keys[i], ANAME_ESERVFAIL,
						  NOW_MS);
			}
			if (i % 5 == 0) {
				aname__cache_hold_refresh(c, &keys[i],
							  NOW_MS + 100);
			}
		}
	}
	atomic_store(&stop, true);
	uint64_t reads = 0;
	for (unsigned t = 0; t < s->readers; t++) {
		pthread_join(rd[t].thread, NULL);
		reads += rd[t].reads;
		s->found += rd[t].found;
		s->wrong += rd[t].wrong;
	}
	s->reads += reads;
	uint64_t req = aname__cache_stat(c, ANAME_STAT_REQUESTS);
	uint64_t hits = aname__cache_stat(c, ANAME_STAT_HITS_FRESH);
	uint64_t miss = aname__cache_stat(c, ANAME_STAT_MISSES);
	if (req != reads || hits + miss != req) {
		fprintf(stderr,
			"cachestress: round %u: %llu reads, requests %llu, "
			"hits %llu, misses %llu\n",
			round, (unsigned long long)reads,
			(unsigned long long)req, (unsigned long long)hits,
			(unsigned long long)miss);
		s->stats_off++;
	}
	s->left += aname__cache_collect(c);
	free(rd);
	aname__cache_free(c);
	return failed;
}

uint64_t ts_cache_stress(struct ts_cache_stress *s)
{
	struct aname_cache_key *keys = calloc(s->keys, sizeof(*keys));
	uint64_t failed = 0;
	if (keys == NULL) {
		return 1;
	}
	for (unsigned i = 0; i < s->keys; i++) {
		key_of(i, &keys[i]);
	}
	for (unsigned round = 0; round < s->rounds; round++) {
		failed += one_round(s, keys, round);
	}
	free(keys);
	return failed + s->wrong + s->stats_off + s->left;
}
