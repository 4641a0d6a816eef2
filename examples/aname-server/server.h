/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server's state, shared by server.c (options, zones, reload,
 * metrics) and answer.c (answering queries).
 */
#ifndef SERVER_H
#define SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "aname.h"
#include "dnsloop.h"
#include "zone.h"

#define SRV_STATS(XX)                                                       \
	XX(alias_hits, "ALIAS answers synthesized from the cache")          \
	XX(alias_secure, "ALIAS answers synthesized from DNSSEC-validated data") \
	XX(alias_deferred, "ALIAS queries that waited for a resolution")    \
	XX(alias_servfail, "ALIAS queries answered SERVFAIL")               \
	XX(alias_nodata, "ALIAS queries answered NODATA (target NXDOMAIN/NODATA)") \
	XX(refused, "queries outside our zones (REFUSED)")                  \
	XX(xfr_refused, "AXFR/IXFR queries (REFUSED: no zone transfers)")   \
	XX(reloads, "successful zone reloads")                              \
	XX(reload_failures, "zone reloads that failed (old zones kept)")

typedef struct srv_app {
	aname_ctx_t *ctx;
	int include_alias;          /* draft-aname-04 section 6.1.1 */
	unsigned timeout_ms;
	pthread_mutex_t zmu;        /* guards zs and gen changes */
	zoneset_t *zs;              /* current zones (one reference) */
	unsigned gen;               /* bumped on every swap (atomic) */
	int reloading;              /* a reload thread runs (atomic) */
	char **zone_files;
	size_t nzone_files;
	struct {
#define XX(name, help) uint64_t name;
		SRV_STATS(XX)
#undef XX
	} st;
} srv_app_t;

#define SRV_STAT_ADD(a, f) __atomic_fetch_add(&(a)->st.f, 1, __ATOMIC_RELAXED)

size_t answer_query(void *app, dnsloop_req_t *req, uint8_t *buf, size_t cap);
int answer_expire(void *app, dnsloop_req_t *req);

/** A reference to the current zones, cheap on the hot path. */
zoneset_t *srv_zones(srv_app_t *a);

#endif
