/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The distinct ALIAS targets of every zone, each resolved once per pass
 * through libaname and kept registered (refresh-ahead) while any owner
 * points at it.
 */
#ifndef UPD_TARGETS_H
#define UPD_TARGETS_H

#include <pthread.h>
#include <stdint.h>

#include "aname.h"
#include "owners.h"

typedef struct upd_target {
	char *name;
	size_t users;            /* owners pointing here, over all zones */
	aname_result_t *res;     /* the last successful result, or NULL */
	int status;              /* of the last resolution this pass */
	uint32_t full_ttl[UPD_NTYPES]; /* TTL as the upstream gave it */
	uint32_t last_ttl[UPD_NTYPES]; /* remaining TTL when last seen */
	int seen;
	int registered;          /* with libaname, after the first answer */
	struct upd_target *next; /* hash chain */
} upd_target_t;

typedef struct upd_targets {
	aname_ctx_t *ctx;
	upd_target_t **bucket;
	size_t nbucket, n;
	pthread_mutex_t lock;    /* results arrive on the library thread */
	pthread_cond_t done;     /* signalled as each answer arrives */
	unsigned pending;
	size_t failed;           /* in the last pass */
	char first_failure[300]; /* "target: reason" of one of them */
} upd_targets_t;

int upd_targets_init(upd_targets_t *ts, aname_ctx_t *ctx);
void upd_targets_free(upd_targets_t *ts);

/** Point every owner of \a o at its target (registering new targets). */
int upd_targets_attach(upd_targets_t *ts, upd_owners_t *o);

/** Drop \a o's references; targets nobody uses are unregistered. */
void upd_targets_detach(upd_targets_t *ts, upd_owners_t *o);

/**
 * Resolve every target (cache hits for warm ones), at most 64 in flight,
 * and wait for all the answers (each arrives by the library's deadline;
 * \a timeout_ms is unused and kept for the call sites).
 * \return The number of targets that failed.
 */
size_t upd_targets_resolve(upd_targets_t *ts, int timeout_ms);

/**
 * The sibling set draft-aname section 3 asks for at an owner, for type
 * index \a ti: the target's addresses, TTL = min(ALIAS TTL, the upstream
 * TTL of chain and target).  \a addr must hold UPD_MAX_ADDRS addresses.
 * \return 0 with the set in \a n (0 for NXDOMAIN/NODATA) and \a ttl; -1
 *         when the target failed, or is only stale: leave the siblings.
 */
int upd_target_desired(const upd_target_t *t, int ti, uint32_t alias_ttl,
		       uint8_t *addr, size_t *n, uint32_t *ttl);

#endif
