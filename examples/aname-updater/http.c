/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /metrics and /health for aname-updater (libmicrohttpd, its own thread).
 * Unlike the servers' endpoint, health here is the worst of the library's
 * verdict and every zone's: a zone whose primary refuses us is failing
 * even while resolution is fine.  At most 16 connections, 10 s each.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"

#include "updater.h"

struct upd_http {
	struct MHD_Daemon *d;
	upd_app_t *app;
};

int upd_metrics_zones(upd_app_t *app, char *buf, size_t len)
{
	size_t n = 0;
#define OUT(...)                                                               \
	do {                                                                   \
		int k_ = snprintf(buf + (n < len ? n : len),                   \
				  n < len ? len - n : 0, __VA_ARGS__);         \
		if (k_ > 0)                                                    \
			n += (size_t)k_;                                       \
	} while (0)
	static const char *const names[] = {
		"updates_total", "update_errors_total", "update_races_total",
		"axfrs_total", "soa_polls_total", "passes_total",
		"pass_updates", "owners", "owners_ok", "owners_failing",
		"owners_pending", "serial", "health",
	};
	pthread_mutex_lock(&app->stats_lock);
	for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++) {
		OUT("# TYPE aname_updater_zone_%s %s\n", names[m],
		    strstr(names[m], "_total") ? "counter" : "gauge");
		for (size_t i = 0; i < app->nzones; i++) {
			const upd_zone_t *z = &app->zones[i];
			unsigned long long v[] = {
				z->updates, z->update_errors, z->races,
				z->axfrs, z->soa_polls, z->passes,
				z->pass_updates, z->nowners, z->owners_ok,
				z->owners_failing, z->owners_pending,
				z->serial,
				(unsigned long long)upd_reason_level(z->reason),
			};
			OUT("aname_updater_zone_%s{zone=\"%s\"} %llu\n",
			    names[m], z->name, v[m]);
		}
	}
	OUT("# TYPE aname_updater_targets gauge\n"
	    "aname_updater_targets %zu\n", app->targets.n);
	pthread_mutex_unlock(&app->stats_lock);
#undef OUT
	return (int)n;
}

static char *render_metrics(upd_app_t *app, size_t *outlen)
{
	for (size_t cap = 16384; cap <= (1u << 24); cap *= 2) {
		char *buf = malloc(cap);
		if (!buf)
			return NULL;
		int k = aname_metrics_prometheus(app->ctx, buf, cap);
		size_t n = k > 0 ? (size_t)k : 0;
		if (n < cap) {
			k = upd_metrics_zones(app, buf + n, cap - n);
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

/* Worst verdict: the library's, then each zone's. */
static char *render_health(upd_app_t *app, int *level, size_t *outlen)
{
	int reason = 0;
	int lib = aname_health(app->ctx, &reason);
	*level = lib < 0 ? 2 : lib;
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return NULL;
	fprintf(f, "library %s %s: %s\n", aname_health_level_name(lib),
		aname_health_reason_name(reason),
		aname_health_reason_text(reason));
	pthread_mutex_lock(&app->stats_lock);
	for (size_t i = 0; i < app->nzones; i++) {
		const upd_zone_t *z = &app->zones[i];
		int l = upd_reason_level(z->reason);
		if (l > *level)
			*level = l;
		fprintf(f, "zone %s %s %s: %s%s%s\n", z->name,
			aname_health_level_name(l), upd_reason_name(z->reason),
			upd_reason_text(z->reason), z->detail[0] ? " -- " : "",
			z->detail);
	}
	pthread_mutex_unlock(&app->stats_lock);
	fclose(f);
	/* First line: the overall verdict, for checks that read one line. */
	char *out = NULL;
	int n = asprintf(&out, "%s\n%s", aname_health_level_name(*level),
			 body ? body : "");
	free(body);
	if (n < 0)
		return NULL;
	*outlen = (size_t)n;
	return out;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	upd_http_t *h = cls;
	size_t len = 0;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return httpd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     strdup("only GET\n"), 9, "text/plain");
	if (!strcmp(url, "/metrics")) {
		char *body = render_metrics(h->app, &len);
		return httpd_reply(c, body ? MHD_HTTP_OK : 500, body, len,
			     "text/plain; version=0.0.4");
	}
	if (!strcmp(url, "/health")) {
		int level;
		char *body = render_health(h->app, &level, &len);
		return httpd_reply(c, level >= 2 ? MHD_HTTP_SERVICE_UNAVAILABLE :
					     MHD_HTTP_OK,
			     body, len, "text/plain");
	}
	return httpd_reply(c, MHD_HTTP_NOT_FOUND,
		     strdup("not found: try /metrics or /health\n"), 35,
		     "text/plain");
}

upd_http_t *upd_http_start(upd_app_t *app, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (strchr(addr, '@') == NULL || upd_parse_addr(addr, &ss, &sl) != 0) {
		fprintf(stderr, "aname-updater: --metrics '%s' is not "
				"IP@PORT\n", addr);
		return NULL;
	}
	upd_http_t *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->app = app;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "aname-updater: --metrics %s: cannot listen\n",
			addr);
		free(h);
		return NULL;
	}
	return h;
}

void upd_http_stop(upd_http_t *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
