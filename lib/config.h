/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file config.h
 * \brief The configuration object behind aname_config_t (config.c).  A context keeps its own copy, immutable after aname_ctx_new().
 */
#ifndef ANAME_CONFIG_H
#define ANAME_CONFIG_H

#include "aname_private.h"

struct aname_stub {
	char *zone; /* absolute, presentation */
	char *addr;
};

struct aname_config {
	char **forwarders;
	size_t n_forwarders;
	struct aname_stub *stubs;
	size_t n_stubs;
	char **local_zones; /* "zone type" */
	size_t n_local_zones;
	char **local_data;
	size_t n_local_data;
	char *trust_anchor_file;
	char *root_hints; /* libunbound root-hints file, NULL: built in */
	unsigned timeout_ms;
	size_t max_entries;
	uint32_t min_ttl, max_ttl, neg_max_ttl;
	unsigned max_chain;
	int thread;
	uint32_t stale_ttl, max_stale_s;
	unsigned stale_client_timeout_ms;
	unsigned prefetch_percent;
	unsigned backoff_s;
	unsigned max_fetches, max_waiters;
	unsigned watchdog_interval_ms, watchdog_grace_ms;
	int log_level;
	aname_log_cb log_cb;
	void *log_arg;
};

int aname__config_copy(aname_config_t *dst, const aname_config_t *src);
void aname__config_clear(aname_config_t *cfg);

#endif /* ANAME_CONFIG_H */
