/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file result.h
 * \brief Immutable, reference-counted results (result.c).
 */
#ifndef ANAME_RESULT_H
#define ANAME_RESULT_H

#include "aname_private.h"

#include <stdatomic.h>
#include <stdbool.h>

/*
 * One result object serves three roles: a cached per-type answer (rrtype A
 * or AAAA, immutable once built), a per-type failure handed to a callback,
 * and a combined A+AAAA result (rrtype BOTH) that references two parts.
 */
struct aname_result {
	/* What a hit reads comes first (synth.c: the type, the count, the
	 * expiry, the TTL and the status, then data[]): 32 bytes of header,
	 * so a one-address answer is 36 bytes that one cache line holds
	 * whenever malloc places it in the first half of a line.  The small
	 * fields are narrow for that (and for memory per entry): statuses
	 * are small negative numbers, rcodes are 4-bit or -1. */
	atomic_uint refs;
	uint16_t rrtype;
	uint16_t count;     /* addresses */
	uint64_t expire_ms; /* monotonic; fresh before this */
	uint32_t ttl;       /* clamped TTL as received */
	uint32_t stale_ttl; /* TTL to report once expired */
	int16_t status;     /* ANAME_OK or a failure (never cached) */
	int8_t rcode;       /* 0 or 3 when status == ANAME_OK; else -1 */
	uint8_t chain;
	uint8_t secure;
	uint16_t target_len;
	/* Per type: the addresses, then the target text (NUL-terminated).
	 * BOTH: a struct aname_result_pair, then the text.  The pair lives
	 * here rather than in the header because every cached result is per
	 * type: 24 bytes less per cache entry. */
	_Alignas(8) uint8_t data[];
};

_Static_assert(sizeof(struct aname_result) == 32,
	       "a hit reads the header and the first address together");

struct aname_result_pair {
	struct aname_result *parts[2]; /* A, AAAA (NULL if failed) */
	int part_status[2];
};

/* The two parts of a BOTH result. */
static inline struct aname_result_pair *
aname__result_pair(const struct aname_result *res)
{
	return (struct aname_result_pair *)(void *)res->data;
}

aname_result_t *aname__result_new(uint16_t rrtype, const char *target,
				  size_t count);
aname_result_t *aname__result_failure(uint16_t rrtype, const char *target,
				      int status);
aname_result_t *aname__result_both(const char *target, aname_result_t *a,
				   int a_status, aname_result_t *aaaa,
				   int aaaa_status);
uint8_t *aname__result_addrs(aname_result_t *res);
size_t aname__result_bytes(const aname_result_t *res);
/* Inline: both are on every cache hit. */
static inline bool aname__result_expired(const aname_result_t *res, uint64_t now_ms)
{
	return now_ms >= res->expire_ms;
}

static inline uint32_t
aname__result_ttl_at(const aname_result_t *res, uint64_t now_ms)
{
	if (res->status != ANAME_OK) {
		return 0;
	}
	/* Served stale (RFC 8767): the stale TTL, whatever came in. */
	if (aname__result_expired(res, now_ms)) {
		return res->stale_ttl;
	}
	/* TTL 0 means "use once, do not cache": during its short hold
	 * (ANAME_TTL0_HOLD_MS, answer.h) it is passed on with TTL 0. */
	if (res->ttl == 0) {
		return 0;
	}
	/* Round up: a record with 300 ms left still has a TTL of 1, not 0
	 * ("do not cache"), which hosts would pass on to resolvers.  Never
	 * above the TTL received: a coarse clock may lag the one that set
	 * the expiry. */
	uint64_t left = (res->expire_ms - now_ms + 999) / 1000;
	return left < res->ttl ? (uint32_t)left : res->ttl;
}


#endif /* ANAME_RESULT_H */
