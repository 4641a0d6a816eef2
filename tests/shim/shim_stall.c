/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * A resolver thread stuck inside a syscall (lib v2): run under
 * LD_PRELOAD=stallshim.so (make check-shim), the resolver thread's first
 * connect/send to nsd's port sleeps until this program lets it go.  Two
 * threads call every public function meanwhile (tests/support/hammer.c);
 * no call may wait on the stuck thread, every request gets its callback
 * by its deadline, the watchdog replaces the thread, the replacement
 * answers, aname_ctx_free() is bounded, and once released the abandoned
 * thread frees itself.  Exits non-zero on the first failed check.
 */
#include <aname.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/freeze.h"
#include "support/hammer.h"
#include "support/servers.h"

static int failures;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "shim_stall: FAIL: ");                \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			failures++;                                           \
		}                                                             \
	} while (0)

struct shim {
	void (*arm)(int port, int threads);
	void (*release)(void);
	int (*held)(void);
	int (*taken)(void);
};

static bool find_shim(struct shim *s)
{
	*(void **)&s->arm = dlsym(RTLD_DEFAULT, "stallshim_arm");
	*(void **)&s->release = dlsym(RTLD_DEFAULT, "stallshim_release");
	*(void **)&s->held = dlsym(RTLD_DEFAULT, "stallshim_held");
	*(void **)&s->taken = dlsym(RTLD_DEFAULT, "stallshim_taken");
	return s->arm && s->release && s->held && s->taken;
}

static aname_ctx_t *make_ctx(int port)
{
	char addr[64], guard[64];
	aname_config_t *cfg = aname_config_new();
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
	aname_config_add_stub(cfg, "example.test", addr);
	aname_config_add_stub(cfg, ".", guard);
	aname_config_set_watchdog(cfg, 200, 1000);
	aname_ctx_t *ctx = NULL;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	CHECK(rc == ANAME_OK, "aname_ctx_new: %s", aname_strerror(rc));
	return ctx;
}

struct done {
	int calls, status;
	size_t addrs;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct done *d = arg;
	d->calls++;
	d->status = status;
	d->addrs = res != NULL ? aname_result_count(res, ANAME_RRTYPE_A) : 0;
}

/* One resolve, waited for in the loop. */
static void resolve_ok(aname_ctx_t *ctx, const char *name, const char *why)
{
	struct done d = {0};
	int rc = aname_resolve(ctx, name, ANAME_RRTYPE_A, 1000, on_done, &d, NULL);
	CHECK(rc == ANAME_OK, "%s: aname_resolve: %s", why, aname_strerror(rc));
	rc = aname_wait(ctx, 3000);
	CHECK(rc == ANAME_OK && d.calls == 1 && d.status == ANAME_OK && d.addrs > 0,
	      "%s: %s answered %s (%d calls, %zu addresses)", why, name,
	      aname_strerror(d.status), d.calls, d.addrs);
}

static bool drivers_gone(void *arg)
{
	(void)arg;
	return ts_count_threads("aname-driver") == 0;
}

int main(void)
{
	struct shim shim;
	if (!find_shim(&shim)) {
		fprintf(stderr, "shim_stall: FAIL: stallshim_* not found; run me "
				"with LD_PRELOAD=build/tests/stallshim.so (make check-shim)\n");
		return 1;
	}
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	if (nsd == NULL) {
		fprintf(stderr, "shim_stall: FAIL: nsd did not start\n");
		return 1;
	}
	int port = ts_nsd_port(nsd);
	aname_ctx_t *ctx = make_ctx(port);
	if (ctx == NULL) {
		ts_server_stop(nsd);
		return 1;
	}
	resolve_ok(ctx, "www.example.test", "before the stall");

	shim.arm(port, 1);
	ts_hammer_report_t r = ts_hammer(ctx, 3000, 0, NULL, NULL);
	printf("shim_stall: resolver thread asleep in a syscall to port %d: %d requests; "
	       "slowest calls %lld us (%s), %lld us (%s), aname_process %lld us; "
	       "latest callback %lld us past its deadline; %llu watchdog restarts\n",
	       port, r.submitted, (long long)r.worst_us[0], r.worst_fn[0],
	       (long long)r.worst_us[1], r.worst_fn[1],
	       (long long)r.worst_process_us, (long long)r.late_us,
	       (unsigned long long)r.restarts);
	CHECK(shim.taken() == 1 && shim.held() == 1,
	      "the shim holds the resolver thread (taken %d, held %d)",
	      shim.taken(), shim.held());
	CHECK(r.submitted > 500, "only %d requests", r.submitted);
	CHECK(r.wait_status == ANAME_OK, "aname_wait: %s", aname_strerror(r.wait_status));
	CHECK(r.missing == 0, "%d requests got no callback", r.missing);
	for (int i = 0; i < 2; i++) {
		CHECK(r.worst_us[i] < 100 * 1000, "%s took %lld us", r.worst_fn[i],
		      (long long)r.worst_us[i]);
	}
	CHECK(r.worst_process_us < 100 * 1000, "aname_process took %lld us",
	      (long long)r.worst_process_us);
	CHECK(r.late_us < 250 * 1000, "a callback came %lld us late", (long long)r.late_us);
	CHECK(r.restarts >= 1, "the watchdog did not replace the stuck thread");
	resolve_ok(ctx, "c1.example.test", "the replacement");

	int64_t f0 = ts_now_ms();
	aname_ctx_free(ctx);
	int64_t took = ts_now_ms() - f0;
	CHECK(took < 1500, "aname_ctx_free took %lld ms", (long long)took);
	CHECK(shim.held() == 1, "the abandoned thread is still asleep during free");

	/* Woken, the abandoned thread finishes its call and frees itself. */
	shim.release();
	CHECK(ts_wait_until(drivers_gone, NULL, 5000),
	      "%d resolver threads left 5 s after the release",
	      ts_count_threads("aname-driver"));
	ts_server_stop(nsd);
	printf("shim_stall: %s (free took %lld ms)\n", failures ? "FAILED" : "ok",
	       (long long)took);
	return failures ? 1 : 0;
}
