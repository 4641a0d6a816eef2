/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * A tour of the library's paths without Criterion, for valgrind memcheck
 * (make check-valgrind): Criterion's process arenas do not run under
 * valgrind.  Exercises event-loop and thread mode against a real nsd and a
 * black hole: every fixture target in A/AAAA/BOTH, synthesis in all three
 * formats, lookups and registration, cancel, deadlines, free with requests
 * in flight, the watchdog replacing a stalled resolver, health and
 * metrics.  Exits non-zero on the first failed check; valgrind's own exit
 * code reports memory errors and leaks.
 */
#include <aname.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"
#include "support/servers.h"

static int failures;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "memcheck: %s:%d: ", __FILE__,        \
				__LINE__);                                    \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			failures++;                                           \
		}                                                             \
	} while (0)

struct done {
	int calls;
	int status;
	aname_result_t *res;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct done *d = arg;
	d->calls++;
	d->status = status;
	aname_result_unref(d->res);
	d->res = aname_result_ref(res);
}

static aname_ctx_t *make_ctx(int port, int thread, unsigned timeout_ms)
{
	char addr[64], guard[64];
	aname_config_t *cfg = aname_config_new();
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
	aname_config_add_stub(cfg, "example.test", addr);
	aname_config_add_stub(cfg, "other.test", addr);
	aname_config_add_stub(cfg, ".", guard);
	aname_config_set_thread(cfg, thread);
	aname_config_set_timeout_ms(cfg, timeout_ms);
	aname_config_set_watchdog(cfg, 200, 2000);
	aname_ctx_t *ctx = NULL;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	CHECK(rc == ANAME_OK, "ctx_new: %s", aname_strerror(rc));
	return ctx;
}

static void synth_all(const aname_result_t *res)
{
	uint8_t owner[255], wire[8192];
	size_t olen, wlen;
	char text[8192];
	aname_name_to_wire("alias.test.", owner, sizeof(owner), &olen);
	int n = aname_synth_wire(res, ANAME_RRTYPE_BOTH, owner, olen, 60, wire,
				 sizeof(wire), &wlen);
	CHECK(n >= 0, "synth_wire: %s", aname_strerror(n));
	CHECK(aname_synth_text(res, ANAME_RRTYPE_BOTH, "alias.test", 60, text,
			       sizeof(text)) >= 0,
	      "synth_text");
	struct ldns_struct_rr_list *list = NULL;
	CHECK(aname_synth_ldns(res, ANAME_RRTYPE_BOTH, "alias.test", 60,
			       &list) == ANAME_OK,
	      "synth_ldns");
	CHECK(list != NULL && (int)ldns_rr_list_rr_count(list) == n,
	      "ldns count");
	ldns_rr_list_deep_free(list);
}

static void tour(aname_ctx_t *ctx)
{
	static const char *targets[] = {
		"www.example.test", "c1.example.test", "ext.example.test",
		"loop1.example.test", "l1.example.test", "nodata.example.test",
		"big.example.test", "dangling.example.test",
		"nothere.example.test", "v6only.example.test"};
	enum { N = sizeof(targets) / sizeof(targets[0]) };
	struct done d[N][3];
	memset(d, 0, sizeof(d));
	const uint16_t types[3] = {ANAME_RRTYPE_A, ANAME_RRTYPE_AAAA,
				   ANAME_RRTYPE_BOTH};
	for (size_t i = 0; i < N; i++) {
		for (int t = 0; t < 3; t++) {
			CHECK(aname_resolve(ctx, targets[i], types[t], 0,
					    on_done, &d[i][t],
					    NULL) == ANAME_OK,
			      "resolve %s", targets[i]);
		}
	}
	CHECK(aname_wait(ctx, 10000) == ANAME_OK, "wait");
	for (size_t i = 0; i < N; i++) {
		for (int t = 0; t < 3; t++) {
			CHECK(d[i][t].calls == 1, "%s: %d calls", targets[i],
			      d[i][t].calls);
			if (d[i][t].status == ANAME_OK) {
				synth_all(d[i][t].res);
			}
			aname_result_unref(d[i][t].res);
		}
	}
	aname_result_t *res = NULL;
	CHECK(aname_cache_lookup(ctx, "www.example.test", 1,
				 ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
				 &res) == ANAME_OK,
	      "lookup hit");
	aname_result_unref(res);
	CHECK(aname_target_register(ctx, "short.example.test",
				    ANAME_RRTYPE_BOTH) == ANAME_OK,
	      "register");
	char *metrics = malloc(65536);
	CHECK(aname_metrics_prometheus(ctx, metrics, 65536) > 0, "metrics");
	free(metrics);
	int reason;
	CHECK(aname_health(ctx, &reason) >= 0, "health");
	/* Cancel one, keep one: the cancelled one never calls back. */
	struct done c = {0}, k = {0};
	aname_qid_t q;
	aname_resolve(ctx, "c2.example.test", 1, 0, on_done, &c, &q);
	aname_resolve(ctx, "c3.example.test", 1, 0, on_done, &k, NULL);
	/* In thread mode the library thread may deliver before the cancel
	 * lands: then the cancel says ENOENT and the callback ran once. */
	int crc = aname_cancel(ctx, q);
	aname_wait(ctx, 5000);
	CHECK((crc == ANAME_OK && c.calls == 0) ||
		      (crc == ANAME_ENOENT && c.calls == 1),
	      "cancel contract: %s, %d calls", aname_status_name(crc),
	      c.calls);
	CHECK(k.calls == 1, "the other request is answered");
	aname_result_unref(c.res);
	aname_result_unref(k.res);
}

int main(void)
{
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	ts_blackhole_t *bh = ts_blackhole_start();
	if (nsd == NULL || bh == NULL) {
		fprintf(stderr, "memcheck: cannot start nsd or the black hole\n");
		return 2;
	}
	for (int thread = 0; thread <= 1; thread++) {
		aname_ctx_t *ctx = make_ctx(ts_nsd_port(nsd), thread, 3000);
		tour(ctx);
		/* The watchdog's replacement of a stalled resolver is not
		 * toured here: a real stall stops a thread with ptrace, and
		 * under valgrind, which runs one thread at a time, that
		 * would stop them all.  tests/test_stall.c covers it. */
		aname_ctx_free(ctx);
	}
	/* Deadlines against the black hole, then free with requests in
	 * flight: every callback exactly once. */
	aname_ctx_t *ctx = make_ctx(ts_blackhole_port(bh), 0, 200);
	struct done t[5] = {{0}}, p[5] = {{0}};
	for (int i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t%d.example.test", i);
		aname_resolve(ctx, name, ANAME_RRTYPE_BOTH, 0, on_done, &t[i],
			      NULL);
	}
	aname_wait(ctx, 5000);
	for (int i = 0; i < 5; i++) {
		CHECK(t[i].calls == 1 && t[i].status == ANAME_ETIMEDOUT,
		      "deadline %d: %s", i, aname_status_name(t[i].status));
		char name[64];
		snprintf(name, sizeof(name), "p%d.example.test", i);
		aname_resolve(ctx, name, 1, 5000, on_done, &p[i], NULL);
	}
	aname_process(ctx);
	aname_ctx_free(ctx);
	for (int i = 0; i < 5; i++) {
		CHECK(p[i].calls == 1 && p[i].status == ANAME_ECANCELED,
		      "free %d", i);
	}
	ts_blackhole_stop(bh);
	ts_server_stop(nsd);
	printf("memcheck: %s\n", failures == 0 ? "1 passed, 0 failed"
					       : "0 passed, 1 failed");
	return failures == 0 ? 0 : 1;
}
