/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file roots_canary.c
 * \brief The root canary against real root servers (issue 13 item 4):
 * full recursion (no forwarder, no stub), run by tests/netns/roots.sh in
 * a network namespace of its own where nsd answers on the root servers'
 * addresses at port 53 and serves "." with a delegation of "example.".
 *
 *   roots_canary builtin|hints FILE|- FAULT
 *
 * builtin: libunbound's built-in root hints; hints: the root-hints FILE
 * (aname_config_set_root_hints).  FAULT is how the roots go silent:
 *   stop:PGID  SIGSTOP to the root nsd's process group (datagrams queue,
 *              nobody answers; SIGCONT ends it, and nsd then answers the
 *              queued probes);
 *   drop       the shell commands in $ROOTS_FAULT_ON / $ROOTS_FAULT_OFF
 *              (roots.sh: an nftables rule dropping every packet to the
 *              roots' port 53, so recovery waits for the next probe).
 * With $ROOTS_FAULT_SOME set (drop only), that command first silences some
 * roots only, and health must stay ok for 14 s; $ROOTS_FAULT_OFF ends it.
 *
 * It resolves www.example. (TTL 3600: the cache stays fresh throughout),
 * checks health is ok, makes the roots silent, measures the time until
 * aname_health() says degraded / roots-silent (goal: 10 s), checks the
 * answer is still fresh, ends the fault and measures the time until
 * health is ok again (goal: 10 s).  Exit 0 on success, 1 (after saying
 * why) on failure; the fault is always ended before exiting.
 */
#include <aname.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GOAL_MS 10000
#define PARTIAL_MS 14000

static pid_t root_pgid; /* stop:PGID */
static const char *fault_on, *fault_off; /* drop */
static const char *mode;
static char label[64];

/* Make the roots silent (on) or answer again. */
static int fault(bool on)
{
	if (root_pgid > 0) {
		return kill(-root_pgid, on ? SIGSTOP : SIGCONT);
	}
	return system(on ? fault_on : fault_off) == 0 ? 0 : -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "roots_canary (%s): FAILED: ", label);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fault(false);
	exit(1);
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "  [%s] %s\n", level == 0 ? "error" : "warning", msg);
}

/* Drive the event loop for up to ms milliseconds. */
static void drive(aname_ctx_t *ctx, int ms)
{
	int64_t end = now_ms() + ms;
	do {
		struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
		int t = aname_timeout_ms(ctx);
		int left = (int)(end - now_ms());
		left = left > 0 ? left : 0;
		poll(&p, 1, t < 0 || t > left ? left : t);
		aname_process(ctx);
	} while (now_ms() < end);
}

struct done {
	bool called;
	int status;
};

static void on_done(void *arg, int status, const aname_result_t *res)
{
	(void)res;
	struct done *d = arg;
	d->called = true;
	d->status = status;
}

/* Await health == level (and reason, if >= 0) until GOAL_MS after t0;
 * the time since t0, or -1. */
static int64_t await_health(aname_ctx_t *ctx, int level, int reason,
			    int64_t t0)
{
	while (now_ms() - t0 <= GOAL_MS) {
		int r;
		int l = aname_health(ctx, &r);
		if (l == level && (reason < 0 || r == reason)) {
			return now_ms() - t0;
		}
		drive(ctx, 20);
	}
	return -1;
}

static bool roots_up_metric(aname_ctx_t *ctx, int up)
{
	static char buf[65536];
	if (aname_metrics_prometheus(ctx, buf, sizeof(buf)) < 0) {
		fail("aname_metrics_prometheus failed");
	}
	char want[64];
	snprintf(want, sizeof(want), "aname_upstream_up{upstream=\"roots\"} %d\n",
		 up);
	return strstr(buf, want) != NULL;
}

static void check_fresh(aname_ctx_t *ctx)
{
	aname_result_t *res = NULL;
	int rc = aname_cache_lookup(ctx, "www.example.", ANAME_RRTYPE_A, 0,
				    &res);
	if (rc != ANAME_OK || aname_result_stale(res)) {
		fail("www.example. not fresh in the cache (%s, stale %d)",
		     aname_status_name(rc), res ? aname_result_stale(res) : -1);
	}
	aname_result_unref(res);
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "builtin") != 0 &&
			  strcmp(argv[1], "hints") != 0)) {
		fprintf(stderr, "usage: %s builtin|hints FILE|- stop:PGID|drop\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
	snprintf(label, sizeof(label), "%s, %s", mode,
		 strncmp(argv[3], "stop:", 5) == 0 ? "SIGSTOP" : "dropped");
	if (strncmp(argv[3], "stop:", 5) == 0) {
		root_pgid = (pid_t)atoi(argv[3] + 5);
		if (root_pgid <= 1 || kill(-root_pgid, 0) != 0) {
			fprintf(stderr, "roots_canary: no process group %s\n",
				argv[3] + 5);
			return 2;
		}
	} else if (strcmp(argv[3], "drop") == 0) {
		fault_on = getenv("ROOTS_FAULT_ON");
		fault_off = getenv("ROOTS_FAULT_OFF");
		if (fault_on == NULL || fault_off == NULL) {
			fprintf(stderr, "roots_canary: drop needs "
					"ROOTS_FAULT_ON and ROOTS_FAULT_OFF\n");
			return 2;
		}
	} else {
		fprintf(stderr, "roots_canary: bad fault %s\n", argv[3]);
		return 2;
	}
	aname_config_t *cfg = aname_config_new();
	aname_config_set_log(cfg, ANAME_LOG_WARNING, on_log, NULL);
	if (strcmp(mode, "hints") == 0) {
		int rc = aname_config_set_root_hints(cfg, argv[2]);
		if (rc != ANAME_OK) {
			fail("aname_config_set_root_hints(%s): %s", argv[2],
			     aname_status_name(rc));
		}
	}
	aname_ctx_t *ctx;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fail("aname_ctx_new: %s", aname_status_name(rc));
	}
	struct done d = {0};
	int64_t t0 = now_ms();
	rc = aname_resolve(ctx, "www.example.", ANAME_RRTYPE_A, 5000, on_done,
			   &d, NULL);
	if (rc != ANAME_OK) {
		fail("aname_resolve: %s", aname_status_name(rc));
	}
	while (!d.called && now_ms() - t0 < 6000) {
		drive(ctx, 20);
	}
	if (!d.called || d.status != ANAME_OK) {
		fail("resolving www.example. from the roots: %s",
		     d.called ? aname_status_name(d.status) : "no callback");
	}
	printf("roots_canary (%s): www.example. resolved from the roots in "
	       "%lld ms\n",
	       label, (long long)(now_ms() - t0));
	if (await_health(ctx, ANAME_HEALTH_OK, -1, now_ms()) < 0) {
		int r;
		int l = aname_health(ctx, &r);
		fail("health not ok with the roots answering: %s/%s",
		     aname_health_level_name(l), aname_health_reason_name(r));
	}
	/* At least one canary round answered. */
	drive(ctx, 100);
	if (!roots_up_metric(ctx, 1)) {
		fail("metrics lack aname_upstream_up{upstream=\"roots\"} 1");
	}
	/* Some roots dead ($ROOTS_FAULT_SOME: several in a row of the
	 * rotation) is normal: health must stay ok for PARTIAL_MS, seven
	 * rounds, so past the dead ones. */
	const char *some = getenv("ROOTS_FAULT_SOME");
	if (some != NULL) {
		if (system(some) != 0) {
			fail("ROOTS_FAULT_SOME failed: %s", some);
		}
		int64_t t0 = now_ms();
		while (now_ms() - t0 < PARTIAL_MS) {
			int r;
			int l = aname_health(ctx, &r);
			if (l != ANAME_HEALTH_OK) {
				fail("%s/%s %lld ms after some roots went "
				     "silent (others answer)",
				     aname_health_level_name(l),
				     aname_health_reason_name(r),
				     (long long)(now_ms() - t0));
			}
			drive(ctx, 20);
		}
		if (fault(false) != 0) {
			fail("could not end the partial fault");
		}
		printf("roots_canary (%s): ok throughout %d ms with some roots "
		       "silent\n",
		       label, PARTIAL_MS);
	}

	/* Times count from the start of the fault command: the fault takes
	 * effect somewhere within it (nft may take a second on a loaded
	 * machine, and the loop is not driven meanwhile), so both figures
	 * are upper bounds. */
	int64_t on = now_ms();
	if (fault(true) != 0) {
		fail("could not make the roots silent: %s", strerror(errno));
	}
	int64_t on_took = now_ms() - on;
	int64_t silent = await_health(ctx, ANAME_HEALTH_DEGRADED,
				      ANAME_REASON_ROOTS_SILENT, on);
	if (silent < 0) {
		int r;
		int l = aname_health(ctx, &r);
		fail("not degraded/roots-silent within %d ms of the roots "
		     "going silent (health %s/%s)",
		     GOAL_MS, aname_health_level_name(l),
		     aname_health_reason_name(r));
	}
	check_fresh(ctx);
	if (!roots_up_metric(ctx, 0)) {
		fail("metrics lack aname_upstream_up{upstream=\"roots\"} 0");
	}
	int64_t off = now_ms();
	if (fault(false) != 0) {
		fail("could not end the fault: %s", strerror(errno));
	}
	int64_t off_took = now_ms() - off;
	int64_t back = await_health(ctx, ANAME_HEALTH_OK, -1, off);
	if (back < 0) {
		int r;
		int l = aname_health(ctx, &r);
		fail("not ok within %d ms of the roots' return (health %s/%s)",
		     GOAL_MS, aname_health_level_name(l),
		     aname_health_reason_name(r));
	}
	check_fresh(ctx);
	printf("roots_canary (%s): degraded/roots-silent %lld ms after the "
	       "roots went silent, ok %lld ms after they came back "
	       "(goal: %d ms each; the fault commands took %lld / %lld ms)\n",
	       label, (long long)silent, (long long)back, GOAL_MS,
	       (long long)on_took, (long long)off_took);
	aname_ctx_free(ctx);
	return 0;
}
