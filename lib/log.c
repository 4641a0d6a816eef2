/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file log.c
 * \brief Logging through the host's callback, rate-limited.
 *
 * The library never prints.  During an upstream outage every failed target
 * would log, and the post-mortem this library comes from saw hosts drown
 * in such lines; so at most LOG_BURST messages go out per second and the
 * rest are counted and summarised in the next message that passes.
 */
#include "log.h"

#include "clock.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#define LOG_BURST 20

void aname__log_init(struct aname_log *l, const aname_config_t *cfg)
{
	l->cb = cfg->log_cb;
	l->arg = cfg->log_arg;
	l->level = cfg->log_level;
	l->window_start_ms = 0;
	l->in_window = 0;
	l->suppressed = 0;
	pthread_mutex_init(&l->lock, NULL);
}

void aname__log_destroy(struct aname_log *l)
{
	pthread_mutex_destroy(&l->lock);
}

void aname__log(struct aname_log *l, int level, const char *fmt, ...)
{
	char msg[512];
	unsigned suppressed = 0;
	if (l->cb == NULL || level > l->level) {
		return;
	}
	uint64_t now = aname__now_ms();
	pthread_mutex_lock(&l->lock);
	if (now - l->window_start_ms >= 1000) {
		l->window_start_ms = now;
		l->in_window = 0;
	}
	if (l->in_window >= LOG_BURST) {
		l->suppressed++;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	l->in_window++;
	suppressed = l->suppressed;
	l->suppressed = 0;
	pthread_mutex_unlock(&l->lock);

	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed > 0) {
		char note[96];
		snprintf(note, sizeof(note),
			 "%u log messages suppressed (rate limit)", suppressed);
		l->cb(l->arg, ANAME_LOG_WARNING, note);
	}
	l->cb(l->arg, level, msg);
}
