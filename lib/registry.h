/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file registry.h
 * \brief Registered targets (registry.c): aname_target_register() keeps a
 * (target, type) refreshed ahead of expiry for synchronous hosts, with a
 * timer per registration that asks policy.c what to do.
 */
#ifndef ANAME_REGISTRY_H
#define ANAME_REGISTRY_H

#include "aname_private.h"
#include "cache.h"
#include "htab.h"
#include "timer.h"

#include <stdbool.h>
#include <stddef.h>

struct aname_ctx;

struct aname_reg {
	struct aname_cache_key key;
	char qname[ANAME_TEXT_MAX];
	struct aname_ctx *ctx;
	unsigned refs;
	struct aname_timer refresh;
	void *hlink;
};

struct aname_registry {
	struct aname_htab tab;
};

void aname__registry_init(struct aname_registry *rg);
/* Every registration due now (after a watchdog replacement). */
void aname__registry_refresh_all(struct aname_ctx *ctx, uint64_t now_ms);
/* Is (target, type) registered?  ctx->lock held. */
bool aname__registry_has(struct aname_ctx *ctx, const struct aname_cache_key *k);
/* A copy of every registered key (free() it); ctx->lock held. */
int aname__registry_keys(struct aname_ctx *ctx, struct aname_cache_key **out,
			 size_t *n);
/* aname_ctx_free. */
void aname__registry_clear(struct aname_ctx *ctx);

#endif /* ANAME_REGISTRY_H */
