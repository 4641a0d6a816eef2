/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_util.c
 * \brief Hermetic configuration, request tracking and checks shared by the
 * TSan programs.
 */
#include "tsan_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

atomic_uint tsan_failures;
atomic_uint tsan_outstanding;

static int blackhole_fd = -1;
static int blackhole_port;
static int guard_port;

static const char *const targets[TSAN_TARGETS] = {
	"a.t.test.", "b.t.test.", "c.t.test.",
	"nx.t.test.", "nodata.t.test.", "x.slow.test.",
};

const char *tsan_target(unsigned i)
{
	return targets[i % TSAN_TARGETS];
}

bool tsan_target_answers(unsigned i)
{
	return i % TSAN_TARGETS != TSAN_TARGETS - 1;
}

void tsan_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	atomic_fetch_add(&tsan_failures, 1);
}

uint64_t tsan_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A UDP socket bound on loopback; its port. */
static int udp_bound(int *fd_out)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("tsan: loopback socket");
		exit(2);
	}
	*fd_out = fd;
	return ntohs(sa.sin_port);
}

static void setup_ports(void)
{
	int fd;
	if (blackhole_fd >= 0) {
		return;
	}
	/* The black hole stays open and is never read. */
	blackhole_port = udp_bound(&blackhole_fd);
	/* The guard port is bound then closed: ICMP unreachable. */
	guard_port = udp_bound(&fd);
	close(fd);
}

void tsan_cleanup(void)
{
	if (blackhole_fd >= 0) {
		close(blackhole_fd);
		blackhole_fd = -1;
	}
}

aname_config_t *tsan_config(int thread)
{
	static const char *data[] = {
		"a.t.test. 3600 IN A 192.0.2.1",
		"a.t.test. 3600 IN AAAA 2001:db8::1",
		"b.t.test. 3600 IN A 192.0.2.2",
		"b.t.test. 3600 IN A 192.0.2.3",
		"c.t.test. 3600 IN CNAME a.t.test.",
		"nodata.t.test. 3600 IN TXT \"none\"",
	};
	char addr[64];
	setup_ports();
	aname_config_t *cfg = aname_config_new();
	int bad = cfg == NULL;
	if (!bad) {
		snprintf(addr, sizeof(addr), "127.0.0.1@%d", guard_port);
		bad |= aname_config_add_stub(cfg, ".", addr) != ANAME_OK;
		snprintf(addr, sizeof(addr), "127.0.0.1@%d", blackhole_port);
		bad |= aname_config_add_stub(cfg, "slow.test", addr) != ANAME_OK;
		bad |= aname_config_add_local_zone(cfg, "t.test", "static") !=
		       ANAME_OK;
		for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
			bad |= aname_config_add_local_data(cfg, data[i]) !=
			       ANAME_OK;
		}
		bad |= aname_config_set_thread(cfg, thread) != ANAME_OK;
		/* Short backoff so slow.test keeps being queried. */
		bad |= aname_config_set_backoff(cfg, 0) != ANAME_OK;
	}
	if (bad) {
		fprintf(stderr, "tsan: cannot build the configuration\n");
		exit(2);
	}
	return cfg;
}

static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct tsan_req *r = arg;
	unsigned calls = atomic_fetch_add(&r->calls, 1) + 1;
	TSAN_CHECK(calls == 1, "callback ran %u times for %s", calls,
		   tsan_target(r->target));
	atomic_store(&r->status, status);
	TSAN_CHECK((status == ANAME_OK) == (res != NULL),
		   "status %d with result %p", status, (const void *)res);
	if (res != NULL) {
		/* Read the result as a host would while others share it. */
		uint8_t owner[] = {5, 'a', 'l', 'i', 'a', 's', 0};
		uint8_t buf[512];
		size_t w;
		int n = aname_synth_wire(res, ANAME_RRTYPE_BOTH, owner,
					 sizeof(owner), 300, buf, sizeof(buf),
					 &w);
		TSAN_CHECK(n >= 0, "synth %d", n);
		TSAN_CHECK(strcmp(aname_result_target(res),
				  tsan_target(r->target)) == 0,
			   "result for %s, asked %s", aname_result_target(res),
			   tsan_target(r->target));
	}
	if (r->follow != NULL) {
		/* Submitted before this request counts as done, so the
		 * outstanding count never drops to 0 in between. */
		tsan_submit(r->ctx, r->follow,
			    tsan_target_answers(r->follow->target) ? 5000
								   : 200);
	}
	atomic_fetch_sub(&tsan_outstanding, 1);
}

bool tsan_submit(aname_ctx_t *ctx, struct tsan_req *r, unsigned timeout_ms)
{
	atomic_fetch_add(&tsan_outstanding, 1);
	int rc = aname_resolve(ctx, tsan_target(r->target), ANAME_RRTYPE_BOTH,
			       timeout_ms, on_done, r, &r->qid);
	if (rc != ANAME_OK) {
		atomic_fetch_sub(&tsan_outstanding, 1);
		/* Shedding is the only acceptable refusal here. */
		TSAN_CHECK(rc == ANAME_ESHED, "resolve: %s",
			   aname_status_name(rc));
		atomic_store(&r->cancelled, true); /* never called back */
		return false;
	}
	return true;
}

unsigned tsan_check_reqs(const struct tsan_req *reqs, unsigned n)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned calls = atomic_load(&reqs[i].calls);
		unsigned want = atomic_load(&reqs[i].cancelled) ? 0 : 1;
		if (calls != want) {
			bad++;
			TSAN_CHECK(calls == want,
				   "request %u (%s): %u callbacks, want %u", i,
				   tsan_target(reqs[i].target), calls, want);
		}
	}
	return bad;
}

void tsan_poke(aname_ctx_t *ctx, unsigned i)
{
	aname_result_t *res = NULL;
	uint64_t v;
	char buf[8192];
	int reason;
	switch (i % 5) {
	case 0: {
		if ((i / 5) % 2 == 1) {
			/* The one-call hit path, which copies under the
			 * shard lock instead of taking a reference. */
			uint8_t w[255], owner[] = "\5alias\4test";
			size_t wl, n;
			unsigned info;
			TSAN_CHECK(aname_name_to_wire(tsan_target(i), w,
						      sizeof(w),
						      &wl) == ANAME_OK,
				   "name_to_wire");
			int rc = aname_cache_synth_wire(
				ctx, w, wl, ANAME_RRTYPE_A,
				ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE, owner,
				sizeof(owner), 300, (uint8_t *)buf,
				sizeof(buf), &n, &info);
			TSAN_CHECK(rc >= 0 || rc == ANAME_EAGAIN ||
					   rc == ANAME_ESHED,
				   "synth_wire: %s", aname_status_name(rc));
			break;
		}
		int rc = aname_cache_lookup(ctx, tsan_target(i),
					    i % 2 ? ANAME_RRTYPE_A
						  : ANAME_RRTYPE_AAAA,
					    ANAME_LOOKUP_FETCH |
						    ANAME_LOOKUP_STALE,
					    &res);
		TSAN_CHECK(rc == ANAME_OK || rc == ANAME_EAGAIN ||
				   rc == ANAME_ESHED,
			   "lookup: %s", aname_status_name(rc));
		TSAN_CHECK((rc == ANAME_OK) == (res != NULL), "lookup result");
		aname_result_unref(res);
		break;
	}
	case 1:
		for (int s = 0; s < ANAME_STAT_COUNT_; s++) {
			TSAN_CHECK(aname_stats_get(ctx, s, &v) == ANAME_OK,
				   "stat %d", s);
		}
		break;
	case 2: {
		int h = aname_health(ctx, &reason);
		TSAN_CHECK(h >= ANAME_HEALTH_OK && h <= ANAME_HEALTH_FAILING,
			   "health %d", h);
		break;
	}
	case 3: {
		int n = aname_metrics_prometheus(ctx, buf, sizeof(buf));
		TSAN_CHECK(n > 0, "metrics %d", n);
		break;
	}
	default: {
		int rc = aname_target_register(ctx, tsan_target(i),
					       ANAME_RRTYPE_BOTH);
		TSAN_CHECK(rc == ANAME_OK, "register: %s",
			   aname_status_name(rc));
		rc = aname_target_unregister(ctx, tsan_target(i),
					     ANAME_RRTYPE_BOTH);
		TSAN_CHECK(rc == ANAME_OK, "unregister: %s",
			   aname_status_name(rc));
		break;
	}
	}
}

int tsan_finish(const char *prog)
{
	unsigned f = atomic_load(&tsan_failures);
	tsan_cleanup();
	printf("%s: %s (%u failed checks)\n", prog, f ? "FAILED" : "ok", f);
	return f ? 1 : 0;
}
