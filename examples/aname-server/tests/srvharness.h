/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The aname-server under test ($ANAME_SERVER), shared by the test files:
 * nsd with the fixture zones as the targets' upstream, the server started
 * on free loopback ports and stopped by PID.
 */
#ifndef SRVHARNESS_H
#define SRVHARNESS_H

#include <ldns/ldns.h>
#include <stdint.h>
#include <sys/types.h>

#include "support/servers.h"

#define SRV_ZONE "examples/aname-server/tests/zones/srv.test.zone"
#define BAD_ZONE "examples/aname-server/tests/zones/bad.zone"

extern ts_nsd_t *nsd;      /* started by srv_setup() */
extern pid_t spid;         /* the server, or -1 */
extern int sport, mport;   /* its DNS and metrics ports */
extern char logpath[64];   /* its stderr */

/* TestSuite .init/.fini: nsd up; server and nsd down. */
void srv_setup(void);
void srv_teardown(void);

/* tests/fixtures/zones/<file> (one of 4 rotating buffers). */
char *srv_fixture(const char *file);

/*
 * Start aname-server with the fixture zones' server at \a upstream for
 * example.test/other.test, serving \a zones (NULL-terminated), plus
 * extra arguments (NULL-terminated).  Waits until it answers srv.test.
 */
void srv_start_v(int upstream, const char *timeout_ms, const char **zones,
		 const char **extra);
/* The same with nsd upstream and srv.test + the fixture alias.test. */
void srv_start(const char *timeout_ms, const char **extra);
/* SIGTERM it and expect a clean exit 0. */
void srv_stop(void);

/* Ask the server (EDNS 1232); asserts an answer arrived. */
ldns_pkt *srv_ask(const char *name, uint16_t type, int tcp);

void srv_write_file(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The server's metric \a name from /metrics, or -1. */
double srv_metric(const char *name);

#endif
