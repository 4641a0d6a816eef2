/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file timer.h
 * \brief Intrusive timers in a binary min-heap (timer.c).
 *
 * A timer carries its own callback (libuv's uv_timer_cb shape), so the
 * heap knows nothing about what its timers are for: request deadlines,
 * stale timers, fetch deadlines and registration refreshes each arm one
 * with their own function.
 */
#ifndef ANAME_TIMER_H
#define ANAME_TIMER_H

#include "aname_private.h"

#include <stddef.h>
#include <stdint.h>

struct aname_timer;
/* Runs from aname__timers_run(), already disarmed; may re-arm itself or
 * arm and disarm any other timer of the same heap. */
typedef void (*aname_timer_cb)(struct aname_timer *t, uint64_t now_ms);

struct aname_timer {
	uint64_t when_ms;
	size_t idx; /* position in the heap, SIZE_MAX when not armed */
	aname_timer_cb cb;
	void *data; /* the owner, for cb */
};

struct aname_timer_heap {
	struct aname_timer **v;
	size_t n, cap;
};

/* A disarmed timer that will call cb(t, now) with t->data = data. */
void aname__timer_init(struct aname_timer *t, aname_timer_cb cb, void *data);
int aname__timer_arm(struct aname_timer_heap *h, struct aname_timer *t,
		     uint64_t when_ms);
void aname__timer_disarm(struct aname_timer_heap *h, struct aname_timer *t);
struct aname_timer *aname__timer_peek(const struct aname_timer_heap *h);
/* Fire every timer due at now_ms, earliest first. */
void aname__timers_run(struct aname_timer_heap *h, uint64_t now_ms);
void aname__timer_heap_free(struct aname_timer_heap *h);

#endif /* ANAME_TIMER_H */
