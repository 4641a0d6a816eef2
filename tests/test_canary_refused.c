/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file test_canary_refused.c
 * \brief REFUSED from a real forwarder (issue 13 item 8): libunbound
 * reports a forwarder's REFUSED as SERVFAIL; the library must say
 * ANAME_EREFUSED and count it, and must not call a real SERVFAIL REFUSED.
 *
 * The forwarder is a real unbound 1.17 on loopback, with its default
 * access control for 127.0.0.0/8 ("allow": it recurses for RD=1 and
 * refuses RD=0 questions its cache would answer, so it refuses a
 * non-recursive canary but not us), forwarding to nsd (fixture zones):
 *
 *   refused.example.test   unbound: local-zone refuse (a blocklist: REFUSED
 *                          for this name only, not for ". NS")
 *   *.broken.test          unbound forwards to a proxy answering SERVFAIL
 *   everything else        unbound forwards to nsd
 *
 * A second unbound refuses us altogether (access-control refuse).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h" /* canary.verdicts: event-loop mode, read between calls */
#include "helpers.h"

#define UNBOUND_BIN "/usr/sbin/unbound"

typedef struct {
	pid_t pid;
	int port;
	char dir[64];
} ub_server_t;

static ub_server_t *ub_fwd;    /* recurses for us, refuses one name */
static ub_server_t *ub_snoop;  /* the same, answering RD=0 from cache */
static ub_server_t *ub_refuse; /* refuses us altogether */
static ts_proxy_t *servfail_px;

/* unbound logs this once it has bound its ports.  Without it, an answer
 * on the port could come from another test's server that got the same
 * port between ts_free_port() and our unbound's bind (ours then exits),
 * and the test would later find nobody there. */
static bool ub_serving(const ub_server_t *u)
{
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/unbound.log", u->dir);
	FILE *f = fopen(path, "r");
	bool found = false;
	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
		found = strstr(line, "start of service") != NULL;
	}
	if (f != NULL) {
		fclose(f);
	}
	return found;
}

/* Start unbound -d with \a extra server: lines; ready once it says it
 * serves and answers a query (any rcode) on its port.  NULL (after
 * saying why) on failure. */
static ub_server_t *ub_start(const char *extra, const char *zones)
{
	if (access(UNBOUND_BIN, X_OK) != 0) {
		fprintf(stderr, "test_canary_refused: %s missing (deps/test.txt "
				"lists unbound)\n",
			UNBOUND_BIN);
		return NULL;
	}
	ub_server_t *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return NULL;
	}
	snprintf(u->dir, sizeof(u->dir), "/tmp/aname-unbound-XXXXXX");
	if (mkdtemp(u->dir) == NULL) {
		free(u);
		return NULL;
	}
	u->port = ts_free_port();
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/unbound.conf", u->dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL) {
		free(u);
		return NULL;
	}
	fprintf(f,
		"server:\n"
		"  interface: 127.0.0.1\n  port: %d\n"
		"  do-daemonize: no\n  use-syslog: no\n"
		"  logfile: \"%s/unbound.log\"\n  verbosity: 1\n"
		"  username: \"\"\n  chroot: \"\"\n  pidfile: \"\"\n"
		"  directory: \"%s\"\n  num-threads: 1\n"
		"  so-reuseport: no\n  do-ip6: no\n"
		"  do-not-query-localhost: no\n"
		"  module-config: \"iterator\"\n"
		"  local-zone: \"test.\" nodefault\n"
		"%s"
		"remote-control:\n  control-enable: no\n"
		"%s",
		u->port, u->dir, u->dir, extra, zones);
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(UNBOUND_BIN, "unbound", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	u->pid = pid;
	int64_t until = ts_now_ms() + 10000;
	while (ts_now_ms() < until) {
		int rc = -1;
		/* test. is nodefault, so this is answered from local data
		 * or forwarded: either way an answer. */
		if (!ub_serving(u)) {
			struct timespec ts = {0, 5000000L}; /* polling its log */
			nanosleep(&ts, NULL);
		} else if (ts_query_ex(u->port, "localhost", 1, 0, 200, NULL) ==
			   0) {
			return u;
		}
		if (waitpid(pid, &rc, WNOHANG) == pid) {
			fprintf(stderr, "unbound exited (status %d); log in %s\n",
				rc, u->dir);
			free(u);
			return NULL;
		}
	}
	fprintf(stderr, "unbound did not answer within 10 s (%s)\n", u->dir);
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(u);
	return NULL;
}

static void ub_stop(ub_server_t *u)
{
	if (u == NULL) {
		return;
	}
	kill(-u->pid, SIGTERM);
	int64_t until = ts_now_ms() + 2000;
	while (waitpid(u->pid, NULL, WNOHANG) == 0) {
		if (ts_now_ms() > until) {
			kill(-u->pid, SIGKILL);
			waitpid(u->pid, NULL, 0);
			break;
		}
		usleep(5000); /* reaping: nothing to await but the child */
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", u->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", u->dir);
	}
	free(u);
}

static void up(void)
{
	th_up_nsd();
	servfail_px = ts_proxy_start(ts_nsd_port(th_nsd));
	cr_assert_not_null(servfail_px);
	ts_proxy_set_mode(servfail_px, NULL, TS_MODE_SERVFAIL, 0);
	char zones[512];
	snprintf(zones, sizeof(zones),
		 "forward-zone:\n  name: \"broken.test.\"\n"
		 "  forward-addr: 127.0.0.1@%d\n"
		 "forward-zone:\n  name: \".\"\n"
		 "  forward-addr: 127.0.0.1@%d\n",
		 ts_proxy_port(servfail_px), ts_nsd_port(th_nsd));
	ub_fwd = ub_start("  access-control: 127.0.0.0/8 allow\n"
			  "  local-zone: \"refused.example.test.\" refuse\n",
			  zones);
	cr_assert_not_null(ub_fwd, "unbound (forwarder) did not start");
	ub_snoop = ub_start("  access-control: 127.0.0.0/8 allow_snoop\n"
			    "  local-zone: \"refused.example.test.\" refuse\n",
			    zones);
	cr_assert_not_null(ub_snoop, "unbound (allow_snoop) did not start");
	ub_refuse = ub_start("  access-control: 127.0.0.0/8 refuse\n", zones);
	cr_assert_not_null(ub_refuse, "unbound (refusing) did not start");
}

static void down(void)
{
	ub_stop(ub_fwd);
	ub_stop(ub_snoop);
	ub_stop(ub_refuse);
	ts_proxy_stop(servfail_px);
	th_down();
}

TestSuite(canary_refused, .init = up, .fini = down, .timeout = 60);

/* A context forwarding to port, and to port2 if > 0; a deadline of
 * timeout_ms if > 0. */
static aname_ctx_t *ctx_for_ports(int port, int port2, unsigned timeout_ms)
{
	char addr[64];
	aname_config_t *cfg = aname_config_new();
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	cr_assert_eq(aname_config_add_forwarder(cfg, addr), ANAME_OK);
	if (port2 > 0) {
		snprintf(addr, sizeof(addr), "127.0.0.1@%d", port2);
		cr_assert_eq(aname_config_add_forwarder(cfg, addr), ANAME_OK);
	}
	if (timeout_ms > 0) {
		cr_assert_eq(aname_config_set_timeout_ms(cfg, timeout_ms),
			     ANAME_OK);
	}
	aname_ctx_t *ctx;
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	return ctx;
}

static aname_ctx_t *ctx_for(const ub_server_t *u)
{
	return ctx_for_ports(u->port, 0, 0);
}

static uint64_t stat_of(aname_ctx_t *ctx, int stat)
{
	uint64_t v = 0;
	cr_assert_eq(aname_stats_get(ctx, stat, &v), ANAME_OK);
	return v;
}

/* What the forwarder really says, straight from it. */
static int rcode_at(const ub_server_t *u, const char *name)
{
	ts_answer_t a;
	cr_assert_eq(ts_query_ex(u->port, name, 1, 0, 2000, &a), 0,
		     "unbound answers %s", name);
	return a.rcode;
}

/* unbound answers the first canary round (". NS", RD=0 and RD=1) before
 * the test resolves, so the refusal judgement has data to go on. */
static void settle(aname_ctx_t *ctx)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK,
		     "%s", aname_status_name(d.status));
	th_done_clear(&d);
}

/* The forwarder refuses one name only (it answers ". NS" with RD=1, and
 * recurses for everything else): ANAME_EREFUSED, counted as refused.
 * Both access-control flavours: "allow" refuses the non-recursive
 * canary, "allow_snoop" answers it. */
static void refuses_one_name(const ub_server_t *u, const char *acl)
{
	cr_assert_eq(rcode_at(u, "refused.example.test"), 5,
		     "the fixture: unbound (%s) refuses this name", acl);
	cr_assert_eq(rcode_at(u, "www.example.test"), 0);
	aname_ctx_t *ctx = ctx_for(u);
	settle(ctx);
	uint64_t refused0 = stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED);
	uint64_t servfail0 = stat_of(ctx, ANAME_STAT_ANSWERS_SERVFAIL);
	th_done_t d = {0};
	int64_t t0 = ts_now_ms();
	int st = th_resolve(ctx, "refused.example.test", 1, 0, &d);
	int64_t took = ts_now_ms() - t0;
	th_done_clear(&d);
	cr_log_info("%s: refused.example.test: %s in %lld ms", acl,
		    aname_status_name(st), (long long)took);
	cr_assert_eq(st, ANAME_EREFUSED, "%s: %s", acl, aname_status_name(st));
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED), refused0 + 1,
		     "%s", acl);
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_SERVFAIL), servfail0,
		     "%s", acl);
	/* The failure is cached as REFUSED (backoff): asked again, the
	 * same status without a new upstream query. */
	cr_assert_eq(th_resolve(ctx, "refused.example.test", 1, 0, &d),
		     ANAME_EREFUSED, "%s", acl);
	th_done_clear(&d);
	aname_ctx_free(ctx);
}

Test(canary_refused, forwarder_refusing_one_name_is_erefused)
{
	refuses_one_name(ub_fwd, "allow");
	refuses_one_name(ub_snoop, "allow_snoop");
}

/* A real SERVFAIL through the same forwarder stays ANAME_ESERVFAIL: the
 * forwarder refusing a non-recursive probe (unbound's "allow") is no
 * reason to call every failure REFUSED. */
Test(canary_refused, real_servfail_through_forwarder_stays_eservfail)
{
	cr_assert_eq(rcode_at(ub_fwd, "www.broken.test"), 2,
		     "the fixture: unbound answers SERVFAIL here");
	aname_ctx_t *ctx = ctx_for(ub_fwd);
	settle(ctx);
	uint64_t refused0 = stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED);
	uint64_t servfail0 = stat_of(ctx, ANAME_STAT_ANSWERS_SERVFAIL);
	th_done_t d = {0};
	int st = th_resolve(ctx, "www.broken.test", 1, 0, &d);
	th_done_clear(&d);
	cr_assert_eq(st, ANAME_ESERVFAIL, "%s", aname_status_name(st));
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_SERVFAIL), servfail0 + 1);
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED), refused0);
	aname_ctx_free(ctx);
}

/* A forwarder that refuses us altogether: ANAME_EREFUSED, counted. */
Test(canary_refused, forwarder_refusing_everything_is_erefused)
{
	cr_assert_eq(rcode_at(ub_refuse, "www.example.test"), 5);
	aname_ctx_t *ctx = ctx_for(ub_refuse);
	th_done_t d = {0};
	int st = th_resolve(ctx, "www.example.test", 1, 0, &d);
	th_done_clear(&d);
	cr_assert_eq(st, ANAME_EREFUSED, "%s", aname_status_name(st));
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED), 1);
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_SERVFAIL), 0);
	aname_ctx_free(ctx);
}

/* Two forwarders, one refusing the name and one answering SERVFAIL: not
 * every forwarder refuses, so the SERVFAIL stands. */
Test(canary_refused, one_refusing_forwarder_of_two_is_not_erefused)
{
	aname_ctx_t *ctx =
		ctx_for_ports(ub_fwd->port, ts_proxy_port(servfail_px), 0);
	th_done_t d = {0};
	int st = th_resolve(ctx, "refused.example.test", 1, 0, &d);
	th_done_clear(&d);
	cr_assert_eq(st, ANAME_ESERVFAIL, "%s", aname_status_name(st));
	cr_assert_eq(stat_of(ctx, ANAME_STAT_ANSWERS_REFUSED), 0);
	aname_ctx_free(ctx);
}

static void count_call(void *arg, int status, const aname_result_t *res)
{
	(void)status;
	(void)res;
	atomic_fetch_add((atomic_int *)arg, 1);
}

static bool verdict_running(aname_ctx_t *ctx)
{
	for (size_t i = 0; i < ANAME_VERDICT_SLOTS; i++) {
		if (ctx->canary.verdicts[i].fetch != NULL) {
			return true;
		}
	}
	return false;
}

static void drive_once(aname_ctx_t *ctx)
{
	struct pollfd p = {.fd = aname_fd(ctx), .events = POLLIN};
	int t = aname_timeout_ms(ctx);
	poll(&p, 1, t < 0 || t > 10 ? 10 : t);
	aname_process(ctx);
}

/* The request is cancelled while its fetch waits for the verdict (the
 * second forwarder, a proxy in front of the same unbound, answers the
 * name 300 ms late; a 5 s deadline, so that libunbound waits for it and
 * its SERVFAIL is not taken for a timeout): no callback, the verdict is forgotten with the
 * fetch (its late answers find nothing; ASan would see a use after
 * free), and the name resolves as before afterwards. */
Test(canary_refused, cancel_during_verdict)
{
	ts_proxy_t *px = ts_proxy_start(ub_fwd->port);
	cr_assert_not_null(px);
	ts_proxy_set_mode(px, "refused.example.test", TS_MODE_DELAY, 300);
	aname_ctx_t *ctx = ctx_for_ports(ub_fwd->port, ts_proxy_port(px), 5000);
	atomic_int calls = 0;
	aname_qid_t qid;
	cr_assert_eq(aname_resolve(ctx, "refused.example.test", 1, 0,
				   count_call, &calls, &qid),
		     ANAME_OK);
	int64_t until = ts_now_ms() + 5000;
	while (!verdict_running(ctx) && atomic_load(&calls) == 0 &&
	       ts_now_ms() < until) {
		drive_once(ctx);
	}
	cr_assert(verdict_running(ctx), "a verdict started (calls %d)",
		  atomic_load(&calls));
	cr_assert_eq(aname_cancel(ctx, qid), ANAME_OK);
	cr_assert_not(verdict_running(ctx), "the verdict went with the fetch");
	/* The proxy's late answers arrive and are ignored. */
	unsigned before = ts_proxy_count(px, "refused.example.test", 1);
	until = ts_now_ms() + 1000;
	while (ts_now_ms() < until) {
		drive_once(ctx);
	}
	cr_assert_eq(atomic_load(&calls), 0, "no callback after the cancel");
	cr_assert_geq(before, 1);
	th_done_t d = {0};
	int st = th_resolve(ctx, "refused.example.test", 1, 0, &d);
	th_done_clear(&d);
	cr_assert_eq(st, ANAME_EREFUSED, "%s", aname_status_name(st));
	aname_ctx_free(ctx);
	ts_proxy_stop(px);
}
