/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file timer.c
 * \brief A binary min-heap of intrusive timers.
 *
 * Deadlines, stale timers, fetch deadlines and registration refreshes all
 * live in one heap per context, so aname_timeout_ms() is one peek.  Timers
 * are embedded in their owners and know their heap index, so disarming
 * (a request delivered early, a cancel) is O(log n) with no search and no
 * stale entries left behind.
 */
#include "timer.h"

#include <stdlib.h>

static void place(struct aname_timer_heap *h, size_t i, struct aname_timer *t)
{
	h->v[i] = t;
	t->idx = i;
}

static void sift_up(struct aname_timer_heap *h, size_t i)
{
	struct aname_timer *t = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent]->when_ms <= t->when_ms) {
			break;
		}
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void sift_down(struct aname_timer_heap *h, size_t i)
{
	struct aname_timer *t = h->v[i];
	for (;;) {
		size_t l = 2 * i + 1;
		size_t m = i;
		uint64_t best = t->when_ms;
		if (l < h->n && h->v[l]->when_ms < best) {
			m = l;
			best = h->v[l]->when_ms;
		}
		if (l + 1 < h->n && h->v[l + 1]->when_ms < best) {
			m = l + 1;
		}
		if (m == i) {
			break;
		}
		place(h, i, h->v[m]);
		i = m;
	}
	place(h, i, t);
}

void aname__timer_disarm(struct aname_timer_heap *h, struct aname_timer *t)
{
	if (t->idx == SIZE_MAX || t->idx >= h->n || h->v[t->idx] != t) {
		return;
	}
	size_t i = t->idx;
	t->idx = SIZE_MAX;
	h->n--;
	if (i == h->n) {
		return;
	}
	place(h, i, h->v[h->n]);
	sift_down(h, i);
	sift_up(h, h->v[i] == NULL ? i : h->v[i]->idx);
}

int aname__timer_arm(struct aname_timer_heap *h, struct aname_timer *t,
		     uint64_t when_ms)
{
	aname__timer_disarm(h, t);
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct aname_timer **v = realloc(h->v, cap * sizeof(*v));
		if (v == NULL) {
			return ANAME_ENOMEM;
		}
		h->v = v;
		h->cap = cap;
	}
	t->when_ms = when_ms;
	place(h, h->n, t);
	h->n++;
	sift_up(h, h->n - 1);
	return ANAME_OK;
}

void aname__timer_init(struct aname_timer *t, aname_timer_cb cb, void *data)
{
	t->when_ms = 0;
	t->idx = SIZE_MAX;
	t->cb = cb;
	t->data = data;
}

void aname__timers_run(struct aname_timer_heap *h, uint64_t now_ms)
{
	struct aname_timer *t;
	while ((t = aname__timer_peek(h)) != NULL && t->when_ms <= now_ms) {
		aname__timer_disarm(h, t);
		t->cb(t, now_ms);
	}
}

struct aname_timer *aname__timer_peek(const struct aname_timer_heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

void aname__timer_heap_free(struct aname_timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
