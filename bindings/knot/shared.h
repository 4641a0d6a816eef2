/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file shared.h
 * \brief The one libaname context that every mod-aname instance shares.
 *
 * knotd creates one module instance per zone and recreates it on every zone
 * or configuration reload.  One cache per instance would resolve every
 * target once per zone and start cold after each reload, so all instances
 * share one context in thread mode (the library's thread drives it).
 */
#ifndef ANAME_KNOT_SHARED_H
#define ANAME_KNOT_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aname.h"

/** Upstream and cache settings of one mod-aname config id. */
struct aname_knot_settings {
	const char **forward;  /**< "IP[@PORT]" values. */
	size_t n_forward;
	const char **stub;     /**< "ZONE=IP[@PORT]" values. */
	size_t n_stub;
	unsigned timeout_ms;   /**< Resolution deadline. */
	uint32_t stale_ttl;    /**< TTL on stale answers. */
	uint32_t max_stale;    /**< Serve stale this long past expiry. */
	size_t cache_size;     /**< Cache entries. */
	const char *trust_anchor_file; /**< NULL/"": no DNSSEC validation. */
	uint32_t min_ttl;      /**< TTL floor of cached positive answers. */
	uint32_t max_ttl;      /**< TTL cap (>= min_ttl). */
	uint32_t max_neg_ttl;  /**< NXDOMAIN/NODATA TTL cap (<= max_ttl). */
};

/**
 * Apply \a s to a library configuration.
 * \param[out] err  On failure a sentence naming the bad value (thread-local
 *                  buffer, valid until the next call in this thread).
 * \return ANAME_OK or the library's status.
 */
int aname_knot_settings_apply(const struct aname_knot_settings *s,
			      aname_config_t *cfg, const char **err);

/**
 * Take a reference to the shared context, creating it from \a s if there is
 * none.  If one exists and was made from different settings, it is shared
 * anyway and \a differs is set, so the caller can warn.
 *
 * \return ANAME_OK and *ctx, or a library status (then *err says why).
 */
int aname_knot_shared_acquire(const struct aname_knot_settings *s,
			      aname_ctx_t **ctx, bool *differs,
			      const char **err);

/** Drop a reference taken by aname_knot_shared_acquire(). */
void aname_knot_shared_release(void);

#endif
