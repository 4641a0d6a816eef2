/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file logsink.c
 * \brief The attached module instances and the log callback using them.
 *
 * The array grows by doubling and holds one pointer per loaded zone that
 * uses mod-aname; a failed growth only means that instance is not used for
 * logging.  The lock is held while a message is written, so detach waits
 * for a message in progress and the instance is never used after it.
 */
#include <pthread.h>
#include <stdlib.h>

#include "aname.h"
#include "logsink.h"

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static knotd_mod_t **sinks;
static size_t n_sinks, cap_sinks;

void aname_knot_log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	int prio = level == ANAME_LOG_ERROR     ? LOG_ERR
		   : level == ANAME_LOG_WARNING ? LOG_WARNING
		   : level == ANAME_LOG_INFO    ? LOG_INFO
						: LOG_DEBUG;
	pthread_mutex_lock(&sink_lock);
	if (n_sinks > 0) {
		knotd_mod_log(sinks[n_sinks - 1], prio, "libaname: %s", msg);
	}
	pthread_mutex_unlock(&sink_lock);
}

void aname_knot_log_attach(knotd_mod_t *mod)
{
	pthread_mutex_lock(&sink_lock);
	if (n_sinks == cap_sinks) {
		size_t cap = cap_sinks ? cap_sinks * 2 : 16;
		knotd_mod_t **s = realloc(sinks, cap * sizeof(*s));
		if (s != NULL) {
			sinks = s;
			cap_sinks = cap;
		}
	}
	if (n_sinks < cap_sinks) {
		sinks[n_sinks++] = mod;
	}
	pthread_mutex_unlock(&sink_lock);
}

void aname_knot_log_detach(knotd_mod_t *mod)
{
	pthread_mutex_lock(&sink_lock);
	for (size_t i = 0; i < n_sinks; i++) {
		if (sinks[i] == mod) {
			sinks[i] = sinks[--n_sinks];
			break;
		}
	}
	pthread_mutex_unlock(&sink_lock);
}
