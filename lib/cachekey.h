/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file cachekey.h
 * \brief The cache's key: (lower-cased wire name, type) and its hash.
 *
 * Inline, with no .c file: every cache hit builds a key and compares it,
 * and a call for each was a tenth of a hit (bench/, section 1).
 */
#ifndef ANAME_CACHEKEY_H
#define ANAME_CACHEKEY_H

#include "aname_private.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* name[] is last so that cache entries can store it truncated. */
struct aname_cache_key {
	uint64_t hash;
	uint16_t rrtype;
	uint8_t len;
	uint8_t name[ANAME_NAME_MAX]; /* lower-case wire */
};

/* Lower-case 'A'..'Z' in eight bytes at once, leaving every other byte
 * (label lengths are < 64, and bytes >= 0x80) alone. */
static inline uint64_t aname__fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');
	uint64_t gt_z = low7 + ones * (0x7f - 'Z');
	uint64_t upper = ge_a & ~gt_z & ~w & high;
	return w | (upper >> 2);
}

static inline uint64_t aname__load8(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* Up to seven bytes of a name shorter than eight, little-endian. */
static inline uint64_t aname__load_short(const uint8_t *p, size_t n)
{
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++) {
		w |= (uint64_t)p[i] << (8 * i);
	}
	return w;
}

static inline uint64_t aname__mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* The key hashes eight folded bytes per step (a multiply-xorshift mix):
 * on the hit path this replaced a byte-at-a-time FNV-1a that cost more
 * than the table lookup itself.  A tail shorter than eight bytes is read
 * and written as the overlapping last word, not byte by byte. */
static inline __attribute__((always_inline)) void
aname__cache_key(struct aname_cache_key *key, const uint8_t *wire,
		      size_t len, uint16_t rrtype)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)rrtype << 48) ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = aname__fold8(aname__load8(wire + i));
		memcpy(key->name + i, &w, 8);
		h = aname__mix(h, w);
	}
	size_t n = len - i;
	if (n > 0 && len >= 8) {
		uint64_t w = aname__fold8(aname__load8(wire + len - 8));
		memcpy(&key->name[len - 8], &w, 8);
		h = aname__mix(h, w >> (8 * (8 - n)));
	} else if (n > 0) {
		uint64_t w = aname__fold8(aname__load_short(wire, n));
		for (size_t j = 0; j < n; j++) {
			key->name[j] = (uint8_t)(w >> (8 * j));
		}
		h = aname__mix(h, w);
	}
	h = (h ^ (h >> 32)) * 0xc4ceb9fe1a85ec53ull;
	key->len = (uint8_t)len;
	key->rrtype = rrtype;
	key->hash = h ^ (h >> 29);
}

/* Names are compared eight bytes at a time (keys are already folded);
 * entries store exactly len bytes, so the tail is the overlapping last
 * word. */
static inline bool aname__names_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len < 8) {
		return aname__load_short(a, len) == aname__load_short(b, len);
	}
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		if (aname__load8(a + i) != aname__load8(b + i)) {
			return false;
		}
	}
	return i == len || aname__load8(a + len - 8) == aname__load8(b + len - 8);
}

static inline bool aname__cache_key_eq(const struct aname_cache_key *a,
			 const struct aname_cache_key *b)
{
	return a->hash == b->hash && a->rrtype == b->rrtype &&
	       a->len == b->len && aname__names_equal(a->name, b->name, a->len);
}

#endif /* ANAME_CACHEKEY_H */
