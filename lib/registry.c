/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file registry.c
 * \brief aname_target_register/unregister and the refresh timer of each
 * registration; see registry.h.
 */
#include "registry.h"

#include "clock.h"
#include "ctx.h"
#include "name.h"
#include "policy.h"
#include "watchdog.h"

#include <stdlib.h>

/* A paced registration tries again this much later. */
#define PACE_MS 5

static uint64_t reg_hash(const void *e)
{
	return ((const struct aname_reg *)e)->key.hash;
}

void aname__registry_init(struct aname_registry *rg)
{
	aname__htab_init(&rg->tab, offsetof(struct aname_reg, hlink),
			 reg_hash);
}

static struct aname_reg *find(struct aname_ctx *ctx,
			      const struct aname_cache_key *k)
{
	struct aname_htab *t = &ctx->regs.tab;
	for (struct aname_reg *g = aname__htab_first(t, k->hash); g != NULL;
	     g = aname__htab_next(t, g)) {
		if (aname__cache_key_eq(&g->key, k)) {
			return g;
		}
	}
	return NULL;
}

/* Due: refresh if policy.c says so, and come back when it next may. */
static void on_refresh(struct aname_timer *t, uint64_t now_ms)
{
	struct aname_reg *g = t->data;
	struct aname_ctx *ctx = g->ctx;
	struct aname_cache_view v;
	aname__cache_get(ctx->cache, &g->key, now_ms, true, &v);
	/* Registrations may use half the fetch table: a host that registers
	 * thousands of targets at start-up must neither shed its own work
	 * nor starve the misses its clients cause. */
	struct aname_policy_input in = {
		.waits = false,
		.fetch_running = aname__fetch_running(ctx, &g->key),
		.room_fetch = ctx->fetches.tab.n < ctx->cfg.max_fetches / 2,
		.room_waiter = true,
		.recovered_ms = aname__watchdog_recovered(ctx),
	};
	enum aname_action act = aname__policy_decide(&ctx->policy, &v, &in,
						     now_ms);
	/* By default: after the fetch this starts or joins has had its
	 * time. */
	uint64_t next = now_ms + ctx->cfg.timeout_ms + 100;
	if (act == ANAME_ACT_SHED) {
		/* Paced, not shed: again as soon as fetches complete. */
		next = now_ms + PACE_MS;
	} else if (aname__policy_fetches(act)) {
		aname__fetch_join(ctx, &g->key, g->qname, NULL, 0, now_ms);
	} else if (act == ANAME_ACT_SERVE && !in.fetch_running) {
		/* Come back when refresh-ahead would start. */
		uint64_t at = aname__policy_refresh_at(&ctx->policy, v.res);
		next = at > now_ms ? at : now_ms + 1000;
	} else if (act != ANAME_ACT_SERVE) {
		next = now_ms + 1000; /* backing off, or held off */
	}
	aname_result_unref(v.res);
	if (next < now_ms + PACE_MS) {
		next = now_ms + PACE_MS;
	}
	aname__timer_arm(&ctx->timers, &g->refresh, next);
}

static int reg_keys(const char *target, uint16_t rrtype,
		    struct aname_cache_key keys[2], size_t *n)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen;
	if (target == NULL ||
	    (rrtype != ANAME_RRTYPE_A && rrtype != ANAME_RRTYPE_AAAA &&
	     rrtype != ANAME_RRTYPE_BOTH)) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(target, wire, &wlen);
	if (rc != ANAME_OK) {
		return rc;
	}
	*n = 0;
	if (rrtype != ANAME_RRTYPE_AAAA) {
		aname__cache_key(&keys[(*n)++], wire, wlen, ANAME_RRTYPE_A);
	}
	if (rrtype != ANAME_RRTYPE_A) {
		aname__cache_key(&keys[(*n)++], wire, wlen,
				 ANAME_RRTYPE_AAAA);
	}
	return ANAME_OK;
}

int aname_target_register(aname_ctx_t *ctx, const char *target,
			  uint16_t rrtype)
{
	struct aname_cache_key keys[2];
	size_t n;
	int rc = ctx == NULL ? ANAME_EINVAL : reg_keys(target, rrtype, keys, &n);
	if (rc != ANAME_OK) {
		return rc;
	}
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < n && rc == ANAME_OK; i++) {
		struct aname_reg *g = find(ctx, &keys[i]);
		if (g != NULL) {
			g->refs++;
			continue;
		}
		g = calloc(1, sizeof(*g));
		if (g == NULL) {
			rc = ANAME_ENOMEM;
			break;
		}
		g->key = keys[i];
		g->ctx = ctx;
		aname__name_to_text(keys[i].name, keys[i].len, g->qname,
				    sizeof(g->qname));
		g->refs = 1;
		aname__timer_init(&g->refresh, on_refresh, g);
		if (aname__htab_insert(&ctx->regs.tab, g) != ANAME_OK) {
			free(g);
			rc = ANAME_ENOMEM;
			break;
		}
		/* Due now: the next aname_process() resolves it. */
		aname__timer_arm(&ctx->timers, &g->refresh, aname__now_ms());
	}
	aname__ctx_unlock(ctx);
	aname__loop_wake(&ctx->loop);
	return rc;
}

int aname_target_unregister(aname_ctx_t *ctx, const char *target,
			    uint16_t rrtype)
{
	struct aname_cache_key keys[2];
	size_t n;
	int rc = ctx == NULL ? ANAME_EINVAL : reg_keys(target, rrtype, keys, &n);
	if (rc != ANAME_OK) {
		return rc;
	}
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < n; i++) {
		if (find(ctx, &keys[i]) == NULL) {
			aname__ctx_unlock(ctx);
			return ANAME_ENOENT;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct aname_reg *g = find(ctx, &keys[i]);
		if (--g->refs == 0) {
			aname__htab_remove(&ctx->regs.tab, g);
			aname__timer_disarm(&ctx->timers, &g->refresh);
			free(g);
		}
	}
	aname__ctx_unlock(ctx);
	return ANAME_OK;
}

bool aname__registry_has(struct aname_ctx *ctx, const struct aname_cache_key *k)
{
	return find(ctx, k) != NULL;
}

int aname__registry_keys(struct aname_ctx *ctx, struct aname_cache_key **out,
			 size_t *n)
{
	struct aname_htab *t = &ctx->regs.tab;
	*out = NULL;
	*n = 0;
	if (t->n == 0) {
		return ANAME_OK;
	}
	*out = malloc(t->n * sizeof(**out));
	if (*out == NULL) {
		return ANAME_ENOMEM;
	}
	for (size_t b = 0; t->b != NULL && b <= t->mask; b++) {
		for (struct aname_reg *g = t->b[b]; g != NULL;
		     g = aname__htab_next(t, g)) {
			(*out)[(*n)++] = g->key;
		}
	}
	return ANAME_OK;
}

void aname__registry_refresh_all(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct aname_htab *t = &ctx->regs.tab;
	for (size_t b = 0; t->b != NULL && b <= t->mask; b++) {
		for (struct aname_reg *g = t->b[b]; g != NULL;
		     g = aname__htab_next(t, g)) {
			aname__timer_arm(&ctx->timers, &g->refresh, now_ms);
		}
	}
}

void aname__registry_clear(struct aname_ctx *ctx)
{
	struct aname_reg *g;
	while ((g = aname__htab_pop(&ctx->regs.tab)) != NULL) {
		aname__timer_disarm(&ctx->timers, &g->refresh);
		free(g);
	}
	aname__htab_free(&ctx->regs.tab);
}
