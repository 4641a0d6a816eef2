/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Shared fixtures for the core suite: contexts pointed at a loopback nsd
 * (or proxy) through stub zones, with a guard stub for "." on a closed
 * loopback port so that nothing can leave the machine, and a callback
 * recorder that counts calls.
 */
#ifndef TESTS_HELPERS_H
#define TESTS_HELPERS_H

#include <aname.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "support/servers.h"

/* Servers shared by a suite's tests, started by the .init functions below
 * and stopped by th_down() (.fini), pass or fail. */
extern ts_nsd_t *th_nsd;
extern ts_proxy_t *th_px;
extern ts_blackhole_t *th_bh;
void th_up_nsd(void);            /* nsd with the fixture zones */
void th_up_nsd_proxy(void);      /* nsd and a fault proxy in front of it */
void th_up_nsd_blackhole(void);  /* nsd and a black hole */
void th_up_blackhole(void);      /* a black hole only */
void th_down(void);

/* Optional config tweak applied before the context is created. */
typedef void (*th_tweak_fn)(aname_config_t *cfg);

/* A config with stubs for example.test and other.test at 127.0.0.1@port,
 * and "." at a closed loopback port.  Fails the test on error. */
aname_config_t *th_config(int port);
/* th_config() + tweak + aname_ctx_new(). */
aname_ctx_t *th_ctx(int port, th_tweak_fn tweak);

/* What a callback saw; one per request. */
typedef struct {
	atomic_int calls;
	int status;
	aname_result_t *res; /* own reference, or NULL */
	int64_t at_ms;
	pthread_t thread;
} th_done_t;

void th_on_done(void *arg, int status, const aname_result_t *res);
void th_done_clear(th_done_t *d);

/* Drive an event-loop context until every request is answered, at most
 * timeout_ms; fails the test on timeout. */
void th_run(aname_ctx_t *ctx, int timeout_ms);

/* Resolve one target synchronously through the event loop. */
int th_resolve(aname_ctx_t *ctx, const char *target, uint16_t type,
	       unsigned timeout_ms, th_done_t *out);

#endif
