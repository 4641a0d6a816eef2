/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The aname-server under test (see srvharness.h).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "tcpload.h"

ts_nsd_t *nsd;
pid_t spid = -1;
int sport, mport;
char logpath[64];

char *srv_fixture(const char *file)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];
	snprintf(b, 512, "%s/%s", ts_fixtures_dir(), file);
	return b;
}

void srv_start_v(int upstream, const char *timeout_ms, const char **zones,
		 const char **extra)
{
	const char *bin = getenv("ANAME_SERVER");
	cr_assert_not_null(bin, "ANAME_SERVER is not set");
	snprintf(logpath, sizeof(logpath), "/tmp/aname-server-test-%d.log",
		 (int)getpid());
	unlink(logpath);
	for (int attempt = 0; attempt < 3; attempt++) {
		char listen[64], s1[64], s2[64], guard[64], metrics[64];
		sport = ts_free_port();
		mport = ts_free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1@%d", sport);
		/* Stubs plus a guard for "." keep everything on loopback. */
		snprintf(s1, sizeof(s1), "example.test=127.0.0.1@%d", upstream);
		snprintf(s2, sizeof(s2), "other.test=127.0.0.1@%d", upstream);
		snprintf(guard, sizeof(guard), ".=127.0.0.1@%d", ts_free_port());
		snprintf(metrics, sizeof(metrics), "127.0.0.1@%d", mport);
		const char *argv[48] = { bin, "--listen", listen, "--stub", s1,
					 "--stub", s2, "--stub", guard,
					 "--timeout-ms", timeout_ms,
					 "--metrics", metrics };
		int n = 13;
		for (; zones && *zones; zones++) {
			argv[n++] = "--zone";
			argv[n++] = *zones;
		}
		for (; extra && *extra; extra++)
			argv[n++] = *extra;
		argv[n] = NULL;
		spid = dc_spawn((char *const *)argv, logpath);
		cr_assert(spid > 0);
		if (dc_wait_ready(spid, sport, "srv.test", 5000) == 0)
			return;
		dc_stop(spid);
		spid = -1;
	}
	cr_assert_fail("aname-server did not start (see %s)", logpath);
}

void srv_start(const char *timeout_ms, const char **extra)
{
	const char *zones[] = { SRV_ZONE, srv_fixture("alias.test.zone"), NULL };
	srv_start_v(ts_nsd_port(nsd), timeout_ms, zones, extra);
}

void srv_setup(void)
{
	nsd = ts_nsd_start(NULL);
	cr_assert_not_null(nsd, "nsd did not start");
}

void srv_stop(void)
{
	if (spid > 0) {
		int st = dc_stop(spid);
		spid = -1;
		cr_expect(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "aname-server did not exit cleanly on SIGTERM (%d)", st);
	}
}

void srv_teardown(void)
{
	srv_stop();
	ts_server_stop(nsd);
	nsd = NULL;
	unlink(logpath);
}

ldns_pkt *srv_ask(const char *name, uint16_t type, int tcp)
{
	ldns_pkt *p = dc_query(sport, name, type, tcp, 1232, 3000, NULL);
	cr_assert_not_null(p, "no answer for %s/%u tcp=%d", name, type, tcp);
	return p;
}

void srv_write_file(const char *path, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

double srv_metric(const char *name)
{
	return tl_metric(mport, name);
}
