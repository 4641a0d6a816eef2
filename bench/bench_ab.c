/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file bench_ab.c
 * \brief Builds of the library against each other on the one-call hit
 *        path (aname_cache_synth_wire), in one process.
 *
 *     bench_ab LIB.so [LIB.so ...]      (up to AB_MAX builds)
 *
 * bench_hit measures one build, and its ratio to the floor moves by about
 * 10 % from run to run on this shared VM (2.13-2.41x in 12 runs of one
 * library), which hides any change worth a few per cent.  Here each build
 * is dlmopen()ed into a namespace of its own, with its own libunbound,
 * gets its own context warmed from one nsd, and the builds take turns in
 * short chunks on one pinned CPU (a different build first each round),
 * between two chunks of the floor.  A vCPU that changes speed then
 * changes every contender of a round alike, and the per-round ratios
 * (against the floor, against the first build) are what the medians are
 * taken of.  The same file given twice measures the harness's own noise:
 * medians of 0.995-1.011 on this VM.
 *
 * The loop is bench_hit's K_LIB_SYNTH case: the same names, visited in
 * the same order, the same owner and flags.
 *
 * Environment: AB_ROUNDS (default 150), AB_CPU (default: the first CPU
 * this process may use).  Prints a Markdown table on stdout.  Not part of
 * make bench: the builds to compare are the caller's (make bench-ab,
 * bench/README.md).
 */
#include <dlfcn.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "aname.h"
#include "bench.h"
#include "hit_set.h"

#define AB_MAX 8       /* namespaces: glibc has 16, each build takes one */
#define AB_OPS 200000u /* per chunk: about 10 ms */
#define AB_ROUNDS_MAX 1000
#define HIT_FLAGS (ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE)

/* The entry points a build is driven through. */
typedef struct {
	const char *path;
	void *dl;
	aname_ctx_t *ctx;
	aname_config_t *(*config_new)(void);
	int (*config_add_stub)(aname_config_t *, const char *, const char *);
	void (*config_free)(aname_config_t *);
	int (*ctx_new)(aname_ctx_t **, const aname_config_t *);
	void (*ctx_free)(aname_ctx_t *);
	int (*resolve)(aname_ctx_t *, const char *, uint16_t, unsigned,
		       aname_resolve_cb, void *, aname_qid_t *);
	int (*wait)(aname_ctx_t *, unsigned);
	int (*synth_wire)(aname_ctx_t *, const uint8_t *, size_t, uint16_t,
			  unsigned, const uint8_t *, size_t, uint32_t,
			  uint8_t *, size_t, size_t *, unsigned *);
	hit_to_wire_fn name_to_wire;
} build_t;

static void *sym(build_t *b, const char *name)
{
	void *p = dlsym(b->dl, name);
	if (p == NULL) {
		bench_die("%s: no %s", b->path, name);
	}
	return p;
}

static void load(build_t *b, const char *path)
{
	b->path = path;
	/* A namespace of its own: every build has its own copy of every
	 * library it needs, libunbound's process-global state included. */
	b->dl = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
	if (b->dl == NULL) {
		bench_die("dlmopen %s: %s", path, dlerror());
	}
	*(void **)&b->config_new = sym(b, "aname_config_new");
	*(void **)&b->config_add_stub = sym(b, "aname_config_add_stub");
	*(void **)&b->config_free = sym(b, "aname_config_free");
	*(void **)&b->ctx_new = sym(b, "aname_ctx_new");
	*(void **)&b->ctx_free = sym(b, "aname_ctx_free");
	*(void **)&b->resolve = sym(b, "aname_resolve");
	*(void **)&b->wait = sym(b, "aname_wait");
	*(void **)&b->synth_wire = sym(b, "aname_cache_synth_wire");
	*(void **)&b->name_to_wire = sym(b, "aname_name_to_wire");
}

static int pending;

static void warm_cb(void *arg, int status, const aname_result_t *res)
{
	(void)arg;
	(void)res;
	pending--;
	if (status != ANAME_OK) {
		bench_die("warm-up resolution failed: status %d", status);
	}
}

/* bench_aname_config() and warm_ctx() of bench_hit, through \a b. */
static void warm(build_t *b, int port)
{
	char addr[64];
	aname_config_t *cfg = b->config_new();
	if (cfg == NULL) {
		bench_die("%s: aname_config_new failed", b->path);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	if (b->config_add_stub(cfg, ZONE, addr) != ANAME_OK) {
		bench_die("%s: aname_config_add_stub failed", b->path);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", bench_closed_port());
	if (b->config_add_stub(cfg, ".", addr) != ANAME_OK) {
		bench_die("%s: aname_config_add_stub failed", b->path);
	}
	int rc = b->ctx_new(&b->ctx, cfg);
	b->config_free(cfg);
	if (rc != ANAME_OK) {
		bench_die("%s: aname_ctx_new: status %d", b->path, rc);
	}
	for (int i = 0; i < NNAMES; i++) {
		if (b->resolve(b->ctx, names[i], ANAME_RRTYPE_A, 5000, warm_cb,
			       NULL, NULL) != ANAME_OK) {
			bench_die("%s: aname_resolve failed", b->path);
		}
		/* Stay below the default limit of concurrent fetches. */
		if (++pending >= 128 && b->wait(b->ctx, 10000) != ANAME_OK) {
			bench_die("%s: warm-up did not finish in 10 s", b->path);
		}
	}
	if (b->wait(b->ctx, 10000) != ANAME_OK || pending != 0) {
		bench_die("%s: warm-up did not finish in 10 s", b->path);
	}
}

static volatile uint64_t sink;

/* ns per aname_cache_synth_wire hit over one chunk. */
static double chunk_lib(const build_t *b)
{
	uint8_t buf[512];
	uint64_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (unsigned j = 0; j < AB_OPS; j++) {
		unsigned k = j & (NNAMES - 1);
		size_t len;
		unsigned info;
		if (b->synth_wire(b->ctx, wnames[k], wlens[k], ANAME_RRTYPE_A,
				  HIT_FLAGS, owner, owner_len, 300, buf,
				  sizeof(buf), &len, &info) != 1) {
			bench_die("%s: not a hit", b->path);
		}
		sum += len + buf[len - 1] + info;
	}
	double ns = (double)(bench_now_ns() - t0) / AB_OPS;
	sink += sum;
	return ns;
}

static double chunk_floor(void)
{
	uint64_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (unsigned j = 0; j < AB_OPS; j++) {
		const floor_slot_t *s = floor_lookup(names[j & (NNAMES - 1)],
						     ANAME_RRTYPE_A);
		if (s == NULL) {
			bench_die("floor: not found");
		}
		sum += s->addr[3];
	}
	double ns = (double)(bench_now_ns() - t0) / AB_OPS;
	sink += sum;
	return ns;
}

static void pin(void)
{
	cpu_set_t allowed, one;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
		bench_die("sched_getaffinity failed");
	}
	int cpu = -1;
	const char *env = getenv("AB_CPU");
	if (env != NULL) {
		cpu = atoi(env);
	} else {
		for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++) {
			cpu = CPU_ISSET(c, &allowed) ? c : -1;
		}
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one) != 0) {
		bench_die("cannot pin to CPU %d", cpu);
	}
	printf("CPU %d, ", cpu);
}

static const char *fmt(char *buf, size_t len, double *v, size_t n, int prec)
{
	return bench_fmt(buf, len, bench_stat(v, n), prec);
}

/* "median (quartiles q1-q3)": the spread of a ratio between neighbours
 * in a round, where min and max say more about a round's interruptions. */
static const char *fmt_iqr(char *buf, size_t len, double *v, size_t n)
{
	bench_sort(v, n);
	snprintf(buf, len, "%.4f (%.4f–%.4f)", bench_pct_sorted(v, n, 50),
		 bench_pct_sorted(v, n, 25), bench_pct_sorted(v, n, 75));
	return buf;
}

int main(int argc, char **argv)
{
	static double ns[AB_MAX][AB_ROUNDS_MAX], vs_floor[AB_MAX][AB_ROUNDS_MAX],
		vs_first[AB_MAX][AB_ROUNDS_MAX], floor_ns[AB_ROUNDS_MAX];
	build_t b[AB_MAX];
	int n = argc - 1;
	const char *env = getenv("AB_ROUNDS");
	int rounds = env != NULL ? atoi(env) : 150;
	if (n < 1 || n > AB_MAX) {
		bench_die("usage: bench_ab LIB.so [LIB.so ...] (1 to %d)",
			  AB_MAX);
	}
	if (rounds < 5 || rounds > AB_ROUNDS_MAX) {
		bench_die("AB_ROUNDS: 5 to %d", AB_ROUNDS_MAX);
	}
	for (int i = 0; i < n; i++) {
		load(&b[i], argv[i + 1]);
	}
	hit_set_init(b[0].name_to_wire);
	pin();
	printf("%d rounds of %u hits per build\n\n", rounds, AB_OPS);
	bench_nsd_t nsd;
	bench_nsd_start(&nsd, ZONE, write_zone, NULL);
	for (int i = 0; i < n; i++) {
		warm(&b[i], nsd.port);
		chunk_lib(&b[i]); /* warm-up, not recorded */
	}
	chunk_floor();
	for (int r = 0; r < rounds; r++) {
		double before = chunk_floor();
		for (int i = 0; i < n; i++) {
			int k = (i + r) % n;
			ns[k][r] = chunk_lib(&b[k]);
		}
		floor_ns[r] = (before + chunk_floor()) / 2;
		for (int i = 0; i < n; i++) {
			vs_floor[i][r] = ns[i][r] / floor_ns[r];
			vs_first[i][r] = ns[i][r] / ns[0][r];
		}
	}
	char c1[64], c2[64], c3[64];
	printf("| build | ns per hit | / floor | / first build, quartiles |\n"
	       "|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		printf("| %s | %s | %s | %s |\n", b[i].path,
		       fmt(c1, sizeof(c1), ns[i], rounds, 2),
		       fmt(c2, sizeof(c2), vs_floor[i], rounds, 3),
		       fmt_iqr(c3, sizeof(c3), vs_first[i], rounds));
	}
	printf("| floor | %s | | |\n",
	       fmt(c1, sizeof(c1), floor_ns, rounds, 2));
	for (int i = 0; i < n; i++) {
		b[i].ctx_free(b[i].ctx);
	}
	bench_nsd_stop(&nsd);
	return 0;
}
