/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file synth.h
 * \brief The wire writer behind aname_synth_wire() (synth.c), for callers
 * that already hold the time and a validated owner: the per-type case
 * inline (the hit path), the rest in synth.c.
 */
#ifndef ANAME_SYNTH_H
#define ANAME_SYNTH_H

#include "aname_private.h"
#include "result.h"

#include <endian.h>
#include <string.h>

/* A short copy without a libc call: eight bytes at a time, the last word
 * overlapping. */
static inline __attribute__((always_inline)) void
aname__copy_name(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n < 8) {
		for (size_t i = 0; i < n; i++) {
			dst[i] = src[i];
		}
		return;
	}
	for (size_t i = 0; i + 8 <= n; i += 8) {
		memcpy(dst + i, src + i, 8);
	}
	memcpy(dst + n - 8, src + n - 8, 8);
}

/* The ten octets after an RR's owner: type, class IN, TTL and RDLENGTH,
 * in network order.  Built once per RRset, written with two stores. */
struct aname_rr_fixed {
	uint64_t type_class_ttl; /* as the first 8 octets lie in memory */
	uint16_t rdlength;
};

static inline struct aname_rr_fixed aname__rr_fixed(uint16_t type, uint32_t ttl)
{
	uint64_t host = (uint64_t)type << 48 | (uint64_t)1 /* IN */ << 32 | ttl;
	uint16_t rdlen = type == ANAME_RRTYPE_A ? 4 : 16;
	return (struct aname_rr_fixed){ htobe64(host), htobe16(rdlen) };
}

/* One address into the RR at p; fixed-size copies, not a libc call. */
static inline __attribute__((always_inline)) void
aname__put_rr(uint8_t *p, const uint8_t *owner, size_t owner_len,
       struct aname_rr_fixed fixed, size_t alen, const uint8_t *addr)
{
	aname__copy_name(p, owner, owner_len);
	p += owner_len;
	memcpy(p, &fixed.type_class_ttl, 8);
	memcpy(p + 8, &fixed.rdlength, 2);
	if (alen == 4) {
		memcpy(p + 10, addr, 4);
	} else {
		memcpy(p + 10, addr, 16);
	}
}

/* A cached per-type answer: the hit path, kept small and inline. */
static inline __attribute__((always_inline)) int
aname__synth_one(const aname_result_t *res, uint16_t type,
		     const uint8_t *owner, size_t owner_len, uint32_t alias_ttl,
		     uint64_t now_ms, uint8_t *buf, size_t buflen,
		     size_t *written)
{
	if (res->status != ANAME_OK || res->count == 0) {
		*written = 0;
		return 0;
	}
	uint32_t left = aname__result_ttl_at(res, now_ms);
	uint32_t ttl = left < alias_ttl ? left : alias_ttl;
	size_t alen = type == ANAME_RRTYPE_A ? 4 : 16;
	size_t rrlen = owner_len + 10 + alen;
	if (buflen < res->count * rrlen) {
		return ANAME_ENOSPC;
	}
	struct aname_rr_fixed fixed = aname__rr_fixed(type, ttl);
	for (size_t i = 0; i < res->count; i++) {
		aname__put_rr(buf + i * rrlen, owner, owner_len, fixed, alen,
		       res->data + i * alen);
	}
	*written = res->count * rrlen;
	return (int)res->count;
}

int aname__synth_general(const aname_result_t *res, uint16_t rrtype,
			 const uint8_t *owner, size_t owner_len,
			 uint32_t alias_ttl, uint64_t now_ms, uint8_t *buf,
			 size_t buflen, size_t *written);

/* aname_synth_wire() with \a owner already checked (aname__name_wire_ok)
 * and the clock read by the caller: aname_cache_synth_wire() writes while
 * the cache entry is pinned and reads the clock once for lookup and
 * synthesis.  Inline for the hit path's case, a per-type answer of the
 * type asked (no call, no argument spill); the rest is out of line.
 * \a written is set on success only. */
static inline int aname__synth_wire_at(const aname_result_t *res,
				       uint16_t rrtype, const uint8_t *owner,
				       size_t owner_len, uint32_t alias_ttl,
				       uint64_t now_ms, uint8_t *buf,
				       size_t buflen, size_t *written)
{
	if (res->rrtype == rrtype && rrtype != ANAME_RRTYPE_BOTH) {
		return aname__synth_one(res, rrtype, owner, owner_len,
					alias_ttl, now_ms, buf, buflen,
					written);
	}
	return aname__synth_general(res, rrtype, owner, owner_len, alias_ttl,
				    now_ms, buf, buflen, written);
}

#endif /* ANAME_SYNTH_H */
