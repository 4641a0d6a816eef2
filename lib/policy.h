/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file policy.h
 * \brief The one place that decides what to do for a (target, type)
 * (policy.c): serve fresh, refresh ahead, serve stale, wait for a
 * refresh, back off, join or start a fetch, fail fast, or shed.
 *
 * Requests, synchronous lookups and registrations all ask this function,
 * with what the cache holds (cache.h) and what the fetch table can take,
 * and then do what it says.  It is pure: no locks, no clock, no state.
 */
#ifndef ANAME_POLICY_H
#define ANAME_POLICY_H

#include "aname_private.h"
#include "cache.h"
#include "result.h"

#include <stdbool.h>
#include <stdint.h>

struct aname_policy {
	unsigned prefetch_percent;        /* refresh-ahead window, % of TTL */
	unsigned backoff_s;               /* longest backoff after failures */
	unsigned stale_client_timeout_ms; /* RFC 8767: wait this long for a
					     refresh before serving stale */
};

struct aname_policy_input {
	bool waits;         /* a request waits for the outcome */
	bool fetch_running; /* a fetch for this key is in flight */
	bool room_fetch;    /* a new fetch may start (max_fetches) */
	bool room_waiter;   /* one more request may wait (max_waiters) */
	uint64_t recovered_ms; /* failures before this no longer count: an
				  upstream came back, or the resolver was
				  replaced */
};

enum aname_action {
	ANAME_ACT_SERVE,         /* fresh: answer it */
	ANAME_ACT_SERVE_REFRESH, /* fresh, refresh-ahead due: answer it and
				    start (or join) a background fetch */
	ANAME_ACT_STALE,         /* answer the stale data, nothing upstream */
	ANAME_ACT_STALE_REFRESH, /* answer stale now, refresh in background */
	ANAME_ACT_STALE_WAIT,    /* wait on the fetch; stale at the client
				    response timeout */
	ANAME_ACT_FETCH,         /* nothing usable: wait on (start or join)
				    the fetch; a lookup starts it */
	ANAME_ACT_FAIL,          /* nothing usable and backing off */
	ANAME_ACT_SHED,          /* nothing usable and no room */
};

/* True when the action needs the fetch table (starts or joins a fetch).
 * Inline: every cache hit asks. */
static inline bool aname__policy_fetches(enum aname_action a)
{
	return a == ANAME_ACT_SERVE_REFRESH || a == ANAME_ACT_STALE_REFRESH ||
	       a == ANAME_ACT_STALE_WAIT || a == ANAME_ACT_FETCH;
}

/* When refresh-ahead becomes due for a fresh result. */
static inline uint64_t aname__policy_refresh_at(const struct aname_policy *pol,
						const aname_result_t *res)
{
	uint64_t lead = (uint64_t)res->ttl * 10u * pol->prefetch_percent;
	return res->expire_ms > lead ? res->expire_ms - lead : 0;
}

/* A new fetch may start.  The hold matters when no fetch is known to run:
 * it stands for one (or for a refresh that just returned libunbound's
 * copy). */
static inline bool aname__policy_startable(const struct aname_cache_view *v,
					   const struct aname_policy_input *in,
					   uint64_t now_ms)
{
	return !in->fetch_running && in->room_fetch &&
	       now_ms >= v->refresh_hold_ms;
}

/* Everything but fresh data (policy.c): stale, backoff, join, fetch,
 * fail fast, shed.  Called only by aname__policy_decide(). */
enum aname_action aname__policy_decide_stale(const struct aname_policy *pol,
					     const struct aname_cache_view *v,
					     const struct aname_policy_input *in,
					     uint64_t now_ms);

/* The decision.  Fresh data, the hit path's case, is decided here inline
 * (serve it, and refresh ahead when that is due; backoff does not apply
 * to fresh data), so a hit pays no call; the rest in policy.c. */
static inline enum aname_action
aname__policy_decide(const struct aname_policy *pol,
		     const struct aname_cache_view *v,
		     const struct aname_policy_input *in, uint64_t now_ms)
{
	if (v->res == NULL || !v->fresh) {
		return aname__policy_decide_stale(pol, v, in, now_ms);
	}
	bool due = pol->prefetch_percent > 0 &&
		   now_ms >= aname__policy_refresh_at(pol, v->res);
	return due && aname__policy_startable(v, in, now_ms)
		       ? ANAME_ACT_SERVE_REFRESH
		       : ANAME_ACT_SERVE;
}

/* Backoff: the view's failure still holds at now_ms. */
bool aname__policy_backing_off(const struct aname_policy *pol,
			       const struct aname_cache_view *v,
			       uint64_t recovered_ms, uint64_t now_ms);
/* How long the backoff after v's failures lasts. */
uint64_t aname__policy_backoff_ms(const struct aname_policy *pol,
				  const struct aname_cache_view *v);


#endif /* ANAME_POLICY_H */
