/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file log.c
 * \brief Logging through the host's callback, rate-limited and deferred.
 *
 * The library never prints.  During an upstream outage every failed target
 * would log, and the post-mortem this library comes from saw hosts drown
 * in such lines; so at most LOG_BURST messages go out per second and the
 * rest are counted and summarised in the next message that passes.
 *
 * aname__log() never calls the host: its callers often hold the context
 * lock, and a host's callback may block (a write to a full stderr pipe).
 * It formats the message into a bounded ring under a leaf lock; the loop
 * (loop.c) calls aname__log_flush() with no library lock held, and only
 * then does the callback run.  A full ring drops the oldest message and
 * says how many were lost.
 */
#include "log.h"

#include "clock.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_BURST 20

void aname__log_init(struct aname_log *l, const aname_config_t *cfg)
{
	memset(l, 0, sizeof(*l));
	l->cb = cfg->log_cb;
	l->arg = cfg->log_arg;
	l->level = cfg->log_level;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->flush_lock, NULL);
}

void aname__log_destroy(struct aname_log *l)
{
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->flush_lock);
}

/* l->lock held. */
static void push_locked(struct aname_log *l, int level, const char *msg)
{
	if (l->n == ANAME_LOG_RING) {
		l->head = (l->head + 1) % ANAME_LOG_RING; /* drop the oldest */
		l->n--;
		l->dropped++;
	}
	struct aname_log_line *e = &l->ring[(l->head + l->n) % ANAME_LOG_RING];
	e->level = level;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	l->n++;
}

void aname__log(struct aname_log *l, int level, const char *fmt, ...)
{
	char msg[ANAME_LOG_LINE_MAX];
	if (l->cb == NULL || level > l->level) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uint64_t now = aname__now_ms();
	pthread_mutex_lock(&l->lock);
	if (now - l->window_start_ms >= 1000) {
		l->window_start_ms = now;
		l->in_window = 0;
	}
	if (l->in_window >= LOG_BURST) {
		l->suppressed++;
	} else {
		l->in_window++;
		if (l->suppressed > 0) {
			char note[96];
			snprintf(note, sizeof(note),
				 "%u log messages suppressed (rate limit)",
				 l->suppressed);
			l->suppressed = 0;
			push_locked(l, ANAME_LOG_WARNING, note);
		}
		push_locked(l, level, msg);
	}
	pthread_mutex_unlock(&l->lock);
}

void aname__log_flush(struct aname_log *l)
{
	if (l->cb == NULL) {
		return;
	}
	/* One flusher at a time keeps the messages in order. */
	pthread_mutex_lock(&l->flush_lock);
	for (;;) {
		struct aname_log_line e;
		unsigned long dropped;
		pthread_mutex_lock(&l->lock);
		dropped = l->dropped;
		l->dropped = 0;
		bool have = l->n > 0;
		if (have) {
			e = l->ring[l->head];
			l->head = (l->head + 1) % ANAME_LOG_RING;
			l->n--;
		}
		pthread_mutex_unlock(&l->lock);
		if (dropped > 0) {
			char note[96];
			snprintf(note, sizeof(note),
				 "%lu log messages dropped (log queue full)",
				 dropped);
			l->cb(l->arg, ANAME_LOG_WARNING, note);
		}
		if (!have) {
			break;
		}
		l->cb(l->arg, e.level, e.msg);
	}
	pthread_mutex_unlock(&l->flush_lock);
}
