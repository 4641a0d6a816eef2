/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file stats.c
 * \brief Counters, the upstream latency histogram, the health verdict and
 * the Prometheus rendering.
 *
 * Health is judged over a 60 s window of six 10 s slots, from what the
 * library itself observes (answers, timeouts, failures, stale answers,
 * shedding, watchdog probes) rather than from anything a monitor would
 * have to infer, such as CPU use.
 */
#include "stats.h"
#include "targets.h"

#include "cache.h"
#include "clock.h"
#include "ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const uint32_t aname__latency_le[ANAME_LATENCY_BUCKETS] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
	UINT32_MAX};

static struct aname_health_slot *slot(struct aname_stats *s, uint64_t now_ms)
{
	uint64_t epoch = now_ms / 10000u;
	struct aname_health_slot *sl = &s->slots[epoch % ANAME_HEALTH_SLOTS];
	if (sl->epoch != epoch) {
		memset(sl, 0, sizeof(*sl));
		sl->epoch = epoch;
	}
	return sl;
}

void aname__stat_inc(struct aname_stats *s, int stat)
{
	s->v[stat]++;
}

void aname__stats_event(struct aname_stats *s, enum aname_health_event ev,
			uint64_t now_ms)
{
	struct aname_health_slot *sl = slot(s, now_ms);
	switch (ev) {
	case ANAME_EV_OK:
		sl->ok++;
		s->last_success_ms = now_ms;
		break;
	case ANAME_EV_TIMEOUT:
		sl->timeouts++;
		break;
	case ANAME_EV_FAILURE:
		sl->failures++;
		break;
	case ANAME_EV_STALE:
		sl->stale++;
		break;
	case ANAME_EV_SHED:
		sl->shed++;
		break;
	case ANAME_EV_REQUEST:
		sl->requests++;
		break;
	}
}

void aname__stats_latency(struct aname_stats *s, uint64_t ms)
{
	for (size_t i = 0; i < ANAME_LATENCY_BUCKETS; i++) {
		if (ms <= aname__latency_le[i]) {
			s->latency[i]++;
			return;
		}
	}
}

/* ctx->lock held. */
uint64_t aname__stat_read(struct aname_ctx *ctx, int stat, uint64_t now_ms)
{
	uint64_t entries, bytes, evictions;
	switch (stat) {
	case ANAME_STAT_REQUESTS:
	case ANAME_STAT_HITS_FRESH:
	case ANAME_STAT_MISSES:
		return aname__cache_stat(ctx->cache, stat) + ctx->stats.v[stat];
	case ANAME_STAT_INFLIGHT:
		return ctx->fetches.tab.n;
	case ANAME_STAT_WAITERS:
		return ctx->fetches.n_waiters;
	case ANAME_STAT_OLDEST_INFLIGHT_MS:
		return ctx->fetches.oldest != NULL &&
				       now_ms > ctx->fetches.oldest->started_ms
			       ? now_ms - ctx->fetches.oldest->started_ms
			       : 0;
	case ANAME_STAT_REGISTERED:
		return ctx->regs.tab.n;
	case ANAME_STAT_CACHE_ENTRIES:
	case ANAME_STAT_CACHE_BYTES:
	case ANAME_STAT_EVICTIONS:
		aname__cache_usage(ctx->cache, &entries, &bytes, &evictions);
		return stat == ANAME_STAT_CACHE_ENTRIES ? entries
		       : stat == ANAME_STAT_CACHE_BYTES ? bytes
							: evictions;
	default:
		return ctx->stats.v[stat];
	}
}

int aname_stats_get(aname_ctx_t *ctx, int stat, uint64_t *value)
{
	if (ctx == NULL || value == NULL || stat < 0 ||
	    stat >= ANAME_STAT_COUNT_) {
		return ANAME_EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	*value = aname__stat_read(ctx, stat, aname__now_ms());
	pthread_mutex_unlock(&ctx->lock);
	return ANAME_OK;
}

int aname_stats_latency(aname_ctx_t *ctx, size_t i, uint32_t *le_ms,
			uint64_t *count)
{
	if (ctx == NULL || le_ms == NULL || count == NULL) {
		return ANAME_EINVAL;
	}
	if (i >= ANAME_LATENCY_BUCKETS) {
		return ANAME_ENOENT;
	}
	uint64_t sum = 0;
	pthread_mutex_lock(&ctx->lock);
	for (size_t k = 0; k <= i; k++) {
		sum += ctx->stats.latency[k];
	}
	pthread_mutex_unlock(&ctx->lock);
	*le_ms = aname__latency_le[i];
	*count = sum;
	return ANAME_OK;
}

struct verdict {
	int level;
	int reason;
};

static void worse(struct verdict *v, int level, int reason)
{
	if (level > v->level) {
		v->level = level;
		v->reason = reason;
	}
}

/* ctx->lock held. */
static struct verdict judge(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct verdict v = {ANAME_HEALTH_OK, ANAME_REASON_OK};
	struct aname_health_slot sum = {0};
	uint64_t epoch = now_ms / 10000u;
	for (size_t i = 0; i < ANAME_HEALTH_SLOTS; i++) {
		const struct aname_health_slot *sl = &ctx->stats.slots[i];
		if (sl->epoch + ANAME_HEALTH_SLOTS <= epoch) {
			continue; /* older than the window */
		}
		sum.ok += sl->ok;
		sum.timeouts += sl->timeouts;
		sum.failures += sl->failures;
		sum.stale += sl->stale;
		sum.shed += sl->shed;
		sum.requests += sl->requests;
	}
	if (ctx->canary.n_silent > 0) {
		worse(&v, ANAME_HEALTH_DEGRADED,
		      aname__canary_roots_silent(&ctx->canary)
			      ? ANAME_REASON_ROOTS_SILENT
			      : ANAME_REASON_UPSTREAM_SILENT);
	}
	if (aname__watchdog_suspect(ctx, now_ms)) {
		worse(&v, ANAME_HEALTH_FAILING, ANAME_REASON_RESOLVER_STALLED);
	}
	uint32_t done = sum.ok + sum.timeouts + sum.failures;
	if (done >= 5) {
		if (sum.ok == 0) {
			worse(&v, ANAME_HEALTH_FAILING, ANAME_REASON_NO_ANSWERS);
		}
		if (sum.timeouts * 2 > done) {
			worse(&v, ANAME_HEALTH_FAILING,
			      ANAME_REASON_UPSTREAM_TIMEOUTS);
		} else if (sum.timeouts * 10 > done) {
			worse(&v, ANAME_HEALTH_DEGRADED,
			      ANAME_REASON_UPSTREAM_TIMEOUTS);
		}
		if (sum.failures * 2 > done) {
			worse(&v, ANAME_HEALTH_FAILING,
			      ANAME_REASON_UPSTREAM_FAILURES);
		} else if (sum.failures * 10 > done) {
			worse(&v, ANAME_HEALTH_DEGRADED,
			      ANAME_REASON_UPSTREAM_FAILURES);
		}
	}
	if (sum.shed > 0) {
		worse(&v,
		      sum.requests > 0 && sum.shed * 2 > sum.requests
			      ? ANAME_HEALTH_FAILING
			      : ANAME_HEALTH_DEGRADED,
		      ANAME_REASON_SHEDDING);
	}
	if (ctx->wd.last_restart_ms != 0 &&
	    now_ms - ctx->wd.last_restart_ms < 60000) {
		worse(&v, ANAME_HEALTH_DEGRADED,
		      ANAME_REASON_WATCHDOG_RESTARTED);
	}
	if (sum.stale > 0) {
		worse(&v, ANAME_HEALTH_DEGRADED, ANAME_REASON_SERVING_STALE);
	}
	if (ctx->fetches.oldest != NULL &&
	    now_ms - ctx->fetches.oldest->started_ms >
		    2u * (uint64_t)ctx->cfg.timeout_ms + 1000u) {
		worse(&v, ANAME_HEALTH_DEGRADED, ANAME_REASON_BACKLOG);
	}
	return v;
}

int aname_health(aname_ctx_t *ctx, int *reason)
{
	return aname__health_at(ctx, aname__now_ms(), reason);
}

int aname__health_at(aname_ctx_t *ctx, uint64_t now_ms, int *reason)
{
	if (ctx == NULL) {
		return ANAME_EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	struct verdict v = judge(ctx, now_ms);
	pthread_mutex_unlock(&ctx->lock);
	if (reason != NULL) {
		*reason = v.reason;
	}
	return v.level;
}

/* snprintf that appends and keeps counting past the end, like snprintf. */
struct out {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
							const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *dst = o->used < o->len ? o->buf + o->used : NULL;
	size_t room = o->used < o->len ? o->len - o->used : 0;
	int w = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (w > 0) {
		o->used += (size_t)w;
	}
}

int aname_metrics_prometheus(aname_ctx_t *ctx, char *buf, size_t buflen)
{
	static const struct {
		int id;
		const char *metric, *kind, *help;
	} defs[] = {
#define XX(name, val, metric, kind, help)                                     \
	{ANAME_STAT_##name, metric, #kind, help},
		ANAME_STAT_MAP(XX)
#undef XX
	};
	uint64_t vals[ANAME_STAT_COUNT_];
	uint64_t lat[ANAME_LATENCY_BUCKETS];
	if (ctx == NULL || (buf == NULL && buflen > 0)) {
		return ANAME_EINVAL;
	}
	uint64_t now = aname__now_ms();
	/* Bounded cardinality: one series per state, not per target. */
	uint64_t by_state[ANAME_TARGET_STATE_COUNT_] = {0};
	bool counted = aname__targets_count(ctx, now, by_state);
	size_t n_up = ctx->canary.n;
	pthread_mutex_lock(&ctx->lock);
	for (int i = 0; i < ANAME_STAT_COUNT_; i++) {
		vals[i] = aname__stat_read(ctx, i, now);
	}
	memcpy(lat, ctx->stats.latency, sizeof(lat));
	struct verdict v = judge(ctx, now);
	bool up[64];
	for (size_t i = 0; i < n_up && i < 64; i++) {
		up[i] = !ctx->canary.up[i].silent;
	}
	pthread_mutex_unlock(&ctx->lock);

	struct out o = {buf, buflen, 0};
	if (buflen > 0) {
		buf[0] = '\0';
	}
	put(&o, "# HELP aname_build_info libaname version\n"
		"# TYPE aname_build_info gauge\n"
		"aname_build_info{version=\"%s\"} 1\n",
	    ANAME_VERSION_STR);
	/* Left out, not zero, while there is no count to give. */
	if (counted) {
		put(&o, "# HELP aname_targets cached or registered (target, "
			"type) pairs by state\n# TYPE aname_targets gauge\n");
		for (int i = 0; i < ANAME_TARGET_STATE_COUNT_; i++) {
			put(&o, "aname_targets{state=\"%s\"} %llu\n",
			    aname_target_state_name(i),
			    (unsigned long long)by_state[i]);
		}
	}
	if (n_up > 0) {
		put(&o, "# HELP aname_upstream_up 1 while the upstream answers "
			"the library's canary probes\n"
			"# TYPE aname_upstream_up gauge\n");
		for (size_t i = 0; i < n_up && i < 64; i++) {
			put(&o, "aname_upstream_up{upstream=\"%s\"} %d\n",
			    ctx->canary.up[i].name, up[i] ? 1 : 0);
		}
	}
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		bool counter = strcmp(defs[i].kind, "counter") == 0;
		if (defs[i].id == ANAME_STAT_OLDEST_INFLIGHT_MS) {
			/* Prometheus base unit is the second; the stat id
			 * (and aname_stats_get()) keep milliseconds. */
			put(&o,
			    "# HELP aname_oldest_inflight_seconds age of the "
			    "oldest resolution\n"
			    "# TYPE aname_oldest_inflight_seconds gauge\n"
			    "aname_oldest_inflight_seconds %.3f\n",
			    (double)vals[defs[i].id] / 1000.0);
			continue;
		}
		put(&o, "# HELP aname_%s%s %s\n# TYPE aname_%s%s %s\n",
		    defs[i].metric, counter ? "_total" : "", defs[i].help,
		    defs[i].metric, counter ? "_total" : "", defs[i].kind);
		put(&o, "aname_%s%s %llu\n", defs[i].metric,
		    counter ? "_total" : "",
		    (unsigned long long)vals[defs[i].id]);
	}
	put(&o, "# HELP aname_upstream_latency_seconds upstream resolution "
		"time\n# TYPE aname_upstream_latency_seconds histogram\n");
	uint64_t cum = 0, sum_ms = 0;
	for (size_t i = 0; i < ANAME_LATENCY_BUCKETS; i++) {
		cum += lat[i];
		if (aname__latency_le[i] == UINT32_MAX) {
			put(&o,
			    "aname_upstream_latency_seconds_bucket{le=\"+Inf\"}"
			    " %llu\n",
			    (unsigned long long)cum);
		} else {
			/* The sum is approximated by bucket bounds: the
			 * library keeps counts, not every sample. */
			sum_ms += lat[i] * aname__latency_le[i];
			put(&o,
			    "aname_upstream_latency_seconds_bucket{le=\"%g\"}"
			    " %llu\n",
			    aname__latency_le[i] / 1000.0,
			    (unsigned long long)cum);
		}
	}
	put(&o, "aname_upstream_latency_seconds_sum %g\n",
	    (double)sum_ms / 1000.0);
	put(&o, "aname_upstream_latency_seconds_count %llu\n",
	    (unsigned long long)cum);
	/* State sets: every level and every reason is always present, 1 for
	 * the current one and 0 for the others, so series never appear or
	 * vanish with the state (an alert is aname_health{level="failing"}
	 * == 1; the reason names the RUNBOOK.md section). */
	put(&o, "# HELP aname_health health verdict (state set: 1 for the "
		"current level)\n# TYPE aname_health gauge\n");
	for (int l = ANAME_HEALTH_OK; l <= ANAME_HEALTH_FAILING; l++) {
		put(&o, "aname_health{level=\"%s\"} %d\n",
		    aname_health_level_name(l), l == v.level);
	}
	put(&o, "# HELP aname_health_reason main reason of the health verdict "
		"(state set; docs/RUNBOOK.md#<reason>)\n"
		"# TYPE aname_health_reason gauge\n");
	static const int reasons[] = {
#define XX(name, val, anchor, text) ANAME_REASON_##name,
		ANAME_HEALTH_REASON_MAP(XX)
#undef XX
	};
	for (size_t r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
		put(&o, "aname_health_reason{reason=\"%s\"} %d\n",
		    aname_health_reason_name(reasons[r]),
		    reasons[r] == v.reason);
	}
	return o.used > INT32_MAX ? ANAME_ENOSPC : (int)o.used;
}
