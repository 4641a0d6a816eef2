/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file log.h
 * \brief Rate-limited logging through the host's callback (log.c).  The library never writes to stdout or stderr.
 */
#ifndef ANAME_LOG_H
#define ANAME_LOG_H

#include "aname_private.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages waiting for aname__log_flush(); each at most
 * ANAME_LOG_LINE_MAX - 1 characters. */
#define ANAME_LOG_RING 64
#define ANAME_LOG_LINE_MAX 512

struct aname_log_line {
	int level;
	char msg[ANAME_LOG_LINE_MAX];
};

struct aname_log {
	aname_log_cb cb;
	void *arg;
	int level;
	pthread_mutex_t lock;       /* a leaf: the window and the ring */
	pthread_mutex_t flush_lock; /* one flusher at a time */
	uint64_t window_start_ms;
	unsigned in_window;
	unsigned suppressed;
	struct aname_log_line ring[ANAME_LOG_RING];
	size_t head, n;
	unsigned long dropped;
};

void aname__log_init(struct aname_log *l, const aname_config_t *cfg);
void aname__log_destroy(struct aname_log *l);
/* Queue a message (rate-limited); never calls the host, so callers may
 * hold any library lock. */
void aname__log(struct aname_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Hand queued messages to the host's callback.  Call with no library
 * lock held (loop.c does, every round). */
void aname__log_flush(struct aname_log *l);

#endif /* ANAME_LOG_H */
