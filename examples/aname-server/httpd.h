/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /metrics and /health over HTTP, served by libmicrohttpd on its own
 * thread, for aname-server and aname-resolverd.
 */
#ifndef HTTPD_H
#define HTTPD_H

#include <stddef.h>

#include "aname.h"
#include "dnsloop.h"

typedef struct httpd httpd_t;

/* Extra metrics from the application (snprintf-like return). */
typedef int (*httpd_extra_fn)(void *arg, char *buf, size_t len);

/**
 * Serve on \a addr ("IP@PORT").  /metrics = the library's metrics, the
 * loop's counters (prefixed \a prefix) and \a extra; /health = the
 * library's verdict: 200 for ok/degraded, 503 for failing, body
 * "<level> <reason anchor>: <sentence>".  NULL on error (printed).
 */
httpd_t *httpd_start(const char *addr, aname_ctx_t *ctx, dnsloop_srv_t *srv,
		     const char *prefix, httpd_extra_fn extra, void *arg);

void httpd_stop(httpd_t *h);

#endif
