/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/*
 * aname_pdns_http.h: the HTTP endpoints (/metrics, /health) of one shared
 * library context in a pdns process (used by aname_pdns_shared.c).
 */
#ifndef ANAME_PDNS_HTTP_H
#define ANAME_PDNS_HTTP_H

#include "aname.h"

struct aname_pdns_http;

/** Listen on \a ip (IPv4 or IPv6 literal) and \a port (1..65535).
 *  \return ANAME_OK, ANAME_EBADADDR, ANAME_ENOMEM, ANAME_EINVAL (cannot
 *  listen there: port in use, no permission). */
int aname_pdns_http_start(aname_ctx_t *ctx, const char *ip, unsigned port,
			  struct aname_pdns_http **out);

/** Stop listening and join the thread; NULL is fine. */
void aname_pdns_http_stop(struct aname_pdns_http *h);

#endif
