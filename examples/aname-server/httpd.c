/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /metrics and /health with libmicrohttpd (internal polling thread).
 */
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "targets_json.h"

/* How long a bogus answer keeps /health at degraded. */
#define BOGUS_HOLD_MS (5 * 60 * 1000)

struct httpd {
	struct MHD_Daemon *d;
	aname_ctx_t *ctx;
	dnsloop_srv_t *srv;
	const char *prefix;
	httpd_extra_fn extra;
	void *arg;
	uint64_t bogus_seen;        /* answers_bogus at the last /health */
	int64_t bogus_ms;           /* when it last grew, or 0 */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The library's health has no reason for DNSSEC failures (with
 * --trust-anchor): a bogus target is refused, SERVFAIL, while upstreams
 * look fine.  So a bogus answer in the last 5 minutes makes an "ok"
 * health "degraded dnssec-bogus".  Only the HTTP thread calls this.
 */
static int bogus_recently(struct httpd *h)
{
	uint64_t n = 0;
	if (aname_stats_get(h->ctx, ANAME_STAT_ANSWERS_BOGUS, &n) != ANAME_OK)
		return 0;
	int64_t now = mono_ms();
	if (n != h->bogus_seen) {
		h->bogus_seen = n;
		h->bogus_ms = now;
	}
	return h->bogus_ms != 0 && now - h->bogus_ms < BOGUS_HOLD_MS;
}

/* Render everything into one malloc'd buffer, growing until it fits. */
static char *render_metrics(struct httpd *h, size_t *outlen)
{
	size_t cap = 16384;
	for (int tries = 0; tries < 8; tries++, cap *= 2) {
		char *buf = malloc(cap);
		if (!buf)
			return NULL;
		size_t n = 0;
		int k = aname_metrics_prometheus(h->ctx, buf, cap);
		if (k >= 0)
			n += (size_t)k;
		if (n < cap) {
			k = dnsloop_srv_metrics(h->srv, h->prefix, buf + n,
						cap - n);
			if (k > 0)
				n += (size_t)k;
		}
		if (n < cap && h->extra) {
			k = h->extra(h->arg, buf + n, cap - n);
			if (k > 0)
				n += (size_t)k;
		}
		if (n < cap) {
			*outlen = n;
			return buf;
		}
		free(buf);
	}
	return NULL;
}

enum MHD_Result httpd_reply(struct MHD_Connection *c, unsigned code,
			    char *body, size_t len, const char *type)
{
	if (!body)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct httpd *h = cls;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     strdup("only GET\n"), 9, "text/plain");
	if (!strcmp(url, "/metrics")) {
		size_t len;
		char *body = render_metrics(h, &len);
		if (!body)
			return httpd_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     strdup("out of memory\n"), 14,
				     "text/plain");
		return httpd_reply(c, MHD_HTTP_OK, body, len,
			     "text/plain; version=0.0.4");
	}
	if (!strcmp(url, "/health")) {
		int reason = 0;
		int level = aname_health(h->ctx, &reason);
		char *body;
		int n;
		if (level == ANAME_HEALTH_OK && bogus_recently(h))
			n = asprintf(&body, "%s dnssec-bogus: DNSSEC validation "
					    "failed for a target in the last 5 "
					    "minutes (see aname_answers_bogus_"
					    "total)\n",
				     aname_health_level_name(ANAME_HEALTH_DEGRADED));
		else
			n = asprintf(&body, "%s %s: %s\n",
				     aname_health_level_name(level),
				     aname_health_reason_name(reason),
				     aname_health_reason_text(reason));
		if (n < 0)
			return MHD_NO;
		unsigned code = level == ANAME_HEALTH_FAILING || level < 0 ?
					MHD_HTTP_SERVICE_UNAVAILABLE :
					MHD_HTTP_OK;
		return httpd_reply(c, code, body, (size_t)n, "text/plain");
	}
	if (!strcmp(url, "/targets")) {
		const char *st = MHD_lookup_connection_value(
			c, MHD_GET_ARGUMENT_KIND, "state");
		const char *lim = MHD_lookup_connection_value(
			c, MHD_GET_ARGUMENT_KIND, "limit");
		int state = st ? targets_state_from_name(st) : -1;
		char *end = NULL;
		unsigned long limit = lim ? strtoul(lim, &end, 10)
					  : TARGETS_JSON_DEFAULT;
		if ((st && state < 0) || (lim && (*lim == '\0' || *end)) ||
		    limit == 0 || limit > TARGETS_JSON_MAX)
		{
			static const char msg[] =
				"bad query: state=fresh|refreshing|stale|"
				"backoff|failing, limit=1..100000\n";
			return httpd_reply(c, MHD_HTTP_BAD_REQUEST, strdup(msg),
				     sizeof(msg) - 1, "text/plain");
		}
		size_t len;
		char *body = targets_json(h->ctx, state, (unsigned)limit, &len);
		if (!body)
			return httpd_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     strdup("out of memory\n"), 14,
				     "text/plain");
		return httpd_reply(c, MHD_HTTP_OK, body, len, "application/json");
	}
	static const char nf[] = "not found: try /metrics, /health or /targets\n";
	return httpd_reply(c, MHD_HTTP_NOT_FOUND, strdup(nf), sizeof(nf) - 1,
		     "text/plain");
}

httpd_t *httpd_start(const char *addr, aname_ctx_t *ctx, dnsloop_srv_t *srv,
		     const char *prefix, httpd_extra_fn extra, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (dnsloop_parse_addr(addr, 0, &ss, &sl) != 0 ||
	    ((struct sockaddr_in *)&ss)->sin_port == 0) {
		fprintf(stderr, "--metrics: '%s' is not IP@PORT\n", addr);
		return NULL;
	}
	struct httpd *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = ctx;
	h->srv = srv;
	h->prefix = prefix;
	h->extra = extra;
	h->arg = arg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 32u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "--metrics %s: cannot listen\n", addr);
		free(h);
		return NULL;
	}
	return h;
}

void httpd_stop(httpd_t *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
