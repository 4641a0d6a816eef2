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

struct aname_log {
	aname_log_cb cb;
	void *arg;
	int level;
	pthread_mutex_t lock;
	uint64_t window_start_ms;
	unsigned in_window;
	unsigned suppressed;
};

void aname__log_init(struct aname_log *l, const aname_config_t *cfg);
void aname__log_destroy(struct aname_log *l);
void aname__log(struct aname_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* ANAME_LOG_H */
