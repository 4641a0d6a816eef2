/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file policy.c
 * \brief Freshness and admission decisions; see policy.h.
 *
 * The rules, in order:
 *  1. Fresh data is served.  In the last prefetch_percent of its TTL a
 *     background refresh starts, unless one runs or the cache holds
 *     refreshes off (one runs, or a refresh just returned libunbound's
 *     cached copy).
 *  2. Expired data within max-stale (RFC 8767) is a stale candidate.
 *     While backing off from a failure it is served at once; otherwise a
 *     refresh is due, and a waiting request gets it if the refresh
 *     answers within stale_client_timeout_ms, else the stale data.  With
 *     a zero client timeout, or no room to wait, stale is served at once
 *     and the refresh runs on in the background.
 *  3. With nothing usable: fail fast while backing off, else wait on the
 *     fetch (coalesced), else shed when the fetch table or the waiter
 *     limit is full.
 *
 * Backoff (RFC 8767 section 5) doubles with each failure in a row, from
 * 1 s up to backoff_s, with +-20 % jitter taken from the key's hash (so
 * that targets that failed together do not retry together, and the
 * decision stays a pure function).  A dead target then costs at most
 * 60 / (0.8 * 30) = 2.5 resolutions a minute.  Failures older than
 * recovered_ms do not count: when an upstream answers its canary again
 * (canary.c) or the watchdog replaced the resolver, every target may be
 * fetched at once, so recovery takes one round trip, not a backoff.
 */
#include "policy.h"

uint64_t aname__policy_backoff_ms(const struct aname_policy *pol,
				  const struct aname_cache_view *v)
{
	uint64_t cap = (uint64_t)pol->backoff_s * 1000u;
	unsigned n = v->fails > 0 ? v->fails - 1 : 0;
	uint64_t ms = n >= 15 ? cap : 1000u << n;
	ms = ms < cap ? ms : cap;
	/* 80 % .. 120 %, from hash bits the table index does not use. */
	/* Bits of the low half: the cache keeps only that much of it. */
	return ms * (80u + (unsigned)(((uint32_t)v->key_hash >> 8) % 41u)) /
	       100u;
}

bool aname__policy_backing_off(const struct aname_policy *pol,
			       const struct aname_cache_view *v,
			       uint64_t recovered_ms, uint64_t now_ms)
{
	return v->fail_ms != 0 && pol->backoff_s > 0 &&
	       v->fail_ms >= recovered_ms &&
	       now_ms < v->fail_ms + aname__policy_backoff_ms(pol, v);
}

enum aname_action aname__policy_decide_stale(const struct aname_policy *pol,
					     const struct aname_cache_view *v,
					     const struct aname_policy_input *in,
					     uint64_t now_ms)
{
	bool startable = aname__policy_startable(v, in, now_ms);
	bool backoff = aname__policy_backing_off(pol, v, in->recovered_ms,
						 now_ms);
	bool can_wait = in->waits && in->room_waiter;
	if (v->res != NULL) {
		bool wait = can_wait && pol->stale_client_timeout_ms > 0;
		if (backoff) {
			return ANAME_ACT_STALE;
		}
		if (in->fetch_running) {
			return wait ? ANAME_ACT_STALE_WAIT : ANAME_ACT_STALE;
		}
		if (!startable) {
			return ANAME_ACT_STALE;
		}
		return wait ? ANAME_ACT_STALE_WAIT : ANAME_ACT_STALE_REFRESH;
	}
	if (backoff) {
		return ANAME_ACT_FAIL;
	}
	if ((in->waits && !can_wait) ||
	    (!in->fetch_running && !in->room_fetch)) {
		return ANAME_ACT_SHED;
	}
	return ANAME_ACT_FETCH;
}
