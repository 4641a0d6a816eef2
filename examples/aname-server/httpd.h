/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /metrics and /health over HTTP, served by libmicrohttpd on its own
 * thread, for aname-server and aname-resolverd.
 */
#ifndef HTTPD_H
#define HTTPD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

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

/* Queue \a body (malloc'd, taken; NULL: MHD_NO) with a Content-Type:
 * the one reply helper of the libmicrohttpd servers here (aname-server,
 * aname-resolverd, aname-updater). */
enum MHD_Result httpd_reply(struct MHD_Connection *c, unsigned code,
			    char *body, size_t len, const char *type);

#endif
