/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/*
 * aname_pdns_http.c: /metrics and /health of the shared context of a pdns
 * process, the same endpoints aname-resolverd serves, for the lua2 path
 * (pdns has no way to reach a lua2 backend from outside).
 *
 * libmicrohttpd runs it on one internal thread, at most 16 connections
 * at once, each closed after 5 s without progress; requests are GET only,
 * bodies are built per request (the library's metrics text is bounded by
 * its fixed set of counters; the buffer grows to fit, up to 1 MiB).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aname_pdns_http.h"

#define MAX_BODY (1u << 20)

struct aname_pdns_http {
	struct MHD_Daemon *d;
	aname_ctx_t *ctx;
};

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code,
				 char *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static char *metrics_text(aname_ctx_t *ctx, size_t *len)
{
	size_t cap = 16384;
	for (;;) {
		char *buf = malloc(cap);
		if (buf == NULL) {
			return NULL;
		}
		int n = aname_metrics_prometheus(ctx, buf, cap);
		if (n >= 0 && (size_t)n < cap) {
			*len = (size_t)n;
			return buf;
		}
		free(buf);
		if (n < 0 || cap >= MAX_BODY) {
			return NULL;
		}
		cap *= 4;
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct aname_pdns_http *h = cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") != 0) {
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				 strdup("GET only\n"), 9, "text/plain");
	}
	if (strcmp(url, "/metrics") == 0) {
		size_t len = 0;
		char *body = metrics_text(h->ctx, &len);
		if (body == NULL) {
			return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					 strdup("cannot render metrics\n"), 22,
					 "text/plain");
		}
		return send_text(c, MHD_HTTP_OK, body, len,
				 "text/plain; version=0.0.4");
	}
	if (strcmp(url, "/health") == 0) {
		int reason = 0, level = aname_health(h->ctx, &reason);
		char *body = NULL;
		int n = asprintf(&body, "%s %s: %s\n",
				 aname_health_level_name(level),
				 aname_health_reason_name(reason),
				 aname_health_reason_text(reason));
		if (n < 0) {
			return MHD_NO;
		}
		/* Like aname-resolverd: only "failing" is unhealthy. */
		return send_text(c, level == ANAME_HEALTH_FAILING || level < 0
					    ? MHD_HTTP_SERVICE_UNAVAILABLE
					    : MHD_HTTP_OK,
				 body, (size_t)n, "text/plain");
	}
	return send_text(c, MHD_HTTP_NOT_FOUND,
			 strdup("try /metrics or /health\n"), 24, "text/plain");
}

int aname_pdns_http_start(aname_ctx_t *ctx, const char *ip, unsigned port,
			  struct aname_pdns_http **out)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (port == 0 || port > 65535) {
		return ANAME_EBADADDR;
	}
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return ANAME_EBADADDR;
	}
	struct aname_pdns_http *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return ANAME_ENOMEM;
	}
	h->ctx = ctx;
	h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u,
				MHD_OPTION_CONNECTION_TIMEOUT, 5u,
				MHD_OPTION_END);
	if (h->d == NULL) {
		free(h);
		return ANAME_EINVAL;
	}
	*out = h;
	return ANAME_OK;
}

void aname_pdns_http_stop(struct aname_pdns_http *h)
{
	if (h != NULL) {
		MHD_stop_daemon(h->d);
		free(h);
	}
}
