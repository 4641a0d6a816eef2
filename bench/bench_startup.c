/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * bench-startup: a host registers 5 000 targets (A and AAAA) at start, as
 * aname-server does for 5 000 ALIAS owners, against a loopback nsd.
 * Reported: time until every (target, type) is fresh, upstream queries
 * per target, sheds, and the health verdict afterwards.  Goals (resilience
 * issue): all fresh within 2 s, <= 2.05 queries per target, no shedding
 * and no degraded health caused by the host's own registrations.  Also a
 * snapshot of 100 000 entries saved and loaded (warm restarts).
 */
#include <aname.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define ZONE "bench.test."
#define NTARGETS 5000
#define NSNAP 50000 /* names; x2 types = 100 000 entries */

static int nnames = NTARGETS;

static void write_zone(FILE *f, void *arg)
{
	(void)arg;
	bench_zone_header(f, ZONE);
	for (int i = 0; i < nnames; i++) {
		fprintf(f, "t%d IN A 198.51.100.%d\n", i, i % 250 + 1);
		fprintf(f, "t%d IN AAAA 2001:db8::%x\n", i, i % 65000 + 1);
	}
}

struct count {
	int fresh;
};

static int count_fresh(void *arg, const aname_target_info_t *t)
{
	struct count *c = arg;
	c->fresh += t->state == ANAME_TARGET_FRESH;
	return 0;
}

static void drive(aname_ctx_t *ctx, int ms)
{
	uint64_t end = bench_now_ns() + (uint64_t)ms * 1000000u;
	while (bench_now_ns() < end) {
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int t = aname_timeout_ms(ctx);
		poll(&p, 1, t < 0 || t > 5 ? 5 : t);
		aname_process(ctx);
	}
}

int main(void)
{
	bench_nsd_t nsd;
	nnames = NSNAP;
	bench_nsd_start(&nsd, ZONE, write_zone, NULL);
	FILE *goals = NULL;
	FILE *md = bench_md_open("startup", &goals);

	aname_config_t *cfg = bench_aname_config(ZONE, nsd.port);
	aname_config_set_cache(cfg, 200000, 0, 86400, 3600);
	aname_ctx_t *ctx = NULL;
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		bench_die("aname_ctx_new failed");
	}
	uint64_t t0 = bench_now_ns();
	char name[64];
	for (int i = 0; i < NTARGETS; i++) {
		snprintf(name, sizeof(name), "t%d.%s", i, ZONE);
		aname_target_register(ctx, name, ANAME_RRTYPE_BOTH);
	}
	double all_fresh_ms = -1;
	while (bench_now_ns() - t0 < 10000000000ull) {
		drive(ctx, 20);
		struct count c = {0};
		aname_targets_each(ctx, count_fresh, &c);
		if (c.fresh >= 2 * NTARGETS) {
			all_fresh_ms = (bench_now_ns() - t0) / 1e6;
			break;
		}
	}
	uint64_t queries = 0, shed = 0;
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &queries);
	aname_stats_get(ctx, ANAME_STAT_SHED, &shed);
	int reason;
	int level = aname_health(ctx, &reason);
	double per_target = (double)queries / NTARGETS;

	/* Warm restarts: 100 000 entries. */
	for (int i = NTARGETS; i < NSNAP; i++) {
		snprintf(name, sizeof(name), "t%d.%s", i, ZONE);
		aname_target_register(ctx, name, ANAME_RRTYPE_BOTH);
	}
	uint64_t entries = 0;
	for (int k = 0; k < 600 && entries < 2 * NSNAP; k++) {
		drive(ctx, 50);
		aname_stats_get(ctx, ANAME_STAT_CACHE_ENTRIES, &entries);
	}
	char path[64];
	snprintf(path, sizeof(path), "/tmp/aname-bench-snap-%d", (int)getpid());
	uint64_t s0 = bench_now_ns();
	int src = aname_cache_save(ctx, path);
	double save_ms = (bench_now_ns() - s0) / 1e6;
	aname_ctx_free(ctx);
	ctx = NULL;
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		bench_die("aname_ctx_new failed");
	}
	size_t loaded = 0;
	s0 = bench_now_ns();
	int lrc = aname_cache_load(ctx, path, &loaded);
	double load_ms = (bench_now_ns() - s0) / 1e6;
	unlink(path);
	aname_ctx_free(ctx);
	aname_config_free(cfg);
	bench_nsd_stop(&nsd);

	fprintf(md,
		"## Start-up at scale and warm restarts (resilience issue)\n\n"
		"%d targets registered (A and AAAA) at once against a loopback "
		"nsd, as aname-server does for its ALIAS owners; then a cache "
		"of %llu entries saved and loaded.\n\n"
		"| measure | value |\n|---|---|\n"
		"| every (target, type) fresh after | %.0f ms |\n"
		"| upstream queries per target (A + AAAA) | %.3f |\n"
		"| sheds | %llu |\n"
		"| health afterwards | %s (%s) |\n"
		"| snapshot save, %llu entries | %.0f ms (%s) |\n"
		"| snapshot load | %.0f ms, %zu entries (%s) |\n\n",
		NTARGETS, (unsigned long long)entries, all_fresh_ms, per_target,
		(unsigned long long)shed, aname_health_level_name(level),
		aname_health_reason_name(reason), (unsigned long long)entries,
		save_ms, aname_status_name(src), load_ms, loaded,
		aname_status_name(lrc));
	bench_goal(goals, "startup: 5 000 targets fresh within 2 s",
		   all_fresh_ms > 0 && all_fresh_ms <= 2000, "%.0f ms",
		   all_fresh_ms);
	bench_goal(goals, "startup: <= 2.05 upstream queries per target",
		   per_target <= 2.05, "%.3f", per_target);
	bench_goal(goals, "startup: no shedding, health not degraded by it",
		   shed == 0 && reason != ANAME_REASON_SHEDDING, "%llu sheds",
		   (unsigned long long)shed);
	bench_goal(goals, "warm restart: 100 000-entry snapshot loads",
		   lrc == ANAME_OK && loaded >= 100000, "%zu in %.0f ms", loaded,
		   load_ms);
	fclose(md);
	fclose(goals);
	return 0;
}
