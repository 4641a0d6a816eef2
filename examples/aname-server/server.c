/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server: a small authoritative DNS server that answers ALIAS
 * records through libaname.  This file: options, zone (re)loading, target
 * registration, metrics and main(); answer.c answers queries, dnsloop.c
 * owns the sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachefile.h"
#include "common.h"
#include "httpd.h"
#include "server.h"

#define MAX_LISTEN 16
#define MAX_ZONES 1024

struct opts {
	aname_config_t *cfg;
	srv_app_t *app;
	const char *listen[MAX_LISTEN];
	size_t nlisten;
	char *zones[MAX_ZONES];
	size_t nzones;
	const char *metrics;
	const char *cache_file;
	unsigned long threads;
	unsigned long tcp_idle_ms;
	unsigned long tcp_max;
	unsigned long tcp_out_max;
};

static const common_opt_t optlist[] = {
	{ "listen", 1 },     { "zone", 1 },      { "forward", 1 },
	{ "stub", 1 },       { "timeout-ms", 1 }, { "threads", 1 },
	{ "metrics", 1 },    { "stale-max", 1 }, { "config", 1 },
	{ "include-alias", 0 }, { "no-include-alias", 0 },
	{ "tcp-idle-ms", 1 }, { "tcp-max", 1 },
	{ "tcp-out-max", 1 }, { "trust-anchor", 1 },
	{ "cache-file", 1 },
	{ "help", 0 },        { "version", 0 },
	{ NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: aname-server --listen IP@PORT [--listen ...]\n"
	      "         --zone FILE [--zone FILE ...]\n"
	      "         [--forward IP[@PORT] ...] [--stub ZONE=IP[@PORT] ...]\n"
	      "         [--timeout-ms N] [--threads N] [--metrics IP@PORT]\n"
	      "         [--stale-max S] [--no-include-alias] [--tcp-idle-ms N]\n"
	      "         [--tcp-max N] [--tcp-out-max BYTES] [--trust-anchor FILE]\n"
	      "         [--cache-file FILE]\n"
	      "         [--config FILE]\n"
	      "Authoritative DNS server answering ALIAS records with libaname.\n"
	      "See aname-server(8).\n", f);
}

static int apply(void *arg, const char *name, const char *val)
{
	struct opts *o = arg;
	int rc = common_lib_opt(o->cfg, name, val);
	if (rc != 0) {
		if (rc > 0 && !strcmp(name, "timeout-ms"))
			o->app->timeout_ms = (unsigned)strtoul(val, NULL, 10);
		return rc < 0 ? -1 : 0;
	}
	if (!strcmp(name, "listen")) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (dnsloop_parse_addr(val, 53, &ss, &sl) != 0) {
			common_bad_addr("listen", val);
			return -1;
		}
		if (o->nlisten == MAX_LISTEN) {
			fprintf(stderr, "--listen: at most %d\n", MAX_LISTEN);
			return -1;
		}
		o->listen[o->nlisten++] = val;
	} else if (!strcmp(name, "zone")) {
		if (o->nzones == MAX_ZONES) {
			fprintf(stderr, "--zone: at most %d\n", MAX_ZONES);
			return -1;
		}
		o->zones[o->nzones++] = (char *)val;
	} else if (!strcmp(name, "metrics")) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (!strchr(val, '@') || dnsloop_parse_addr(val, 0, &ss, &sl)) {
			common_bad_addr("metrics", val);
			return -1;
		}
		o->metrics = val;
	} else if (!strcmp(name, "cache-file")) {
		o->cache_file = val;
	} else if (!strcmp(name, "threads")) {
		return common_uint(name, val, 1, 64, &o->threads);
	} else if (!strcmp(name, "tcp-idle-ms")) {
		return common_uint(name, val, 100, 3600000, &o->tcp_idle_ms);
	} else if (!strcmp(name, "tcp-max")) {
		return common_uint(name, val, 1, 100000, &o->tcp_max);
	} else if (!strcmp(name, "tcp-out-max")) {
		return common_uint(name, val, 1 << 20, 1ul << 32, &o->tcp_out_max);
	} else if (!strcmp(name, "include-alias")) {
		o->app->include_alias = 1;
	} else if (!strcmp(name, "no-include-alias")) {
		o->app->include_alias = 0;
	} else if (!strcmp(name, "help")) {
		usage(stdout);
		exit(0);
	} else if (!strcmp(name, "version")) {
		printf("aname-server (libaname %s)\n", aname_version(NULL));
		exit(0);
	}
	return 0;
}

/* ------------------------------------------------------------ zones */

static __thread zoneset_t *tl_zs;
static __thread unsigned tl_gen;

zoneset_t *srv_zones(srv_app_t *a)
{
	/* Each worker keeps a reference and only takes the lock when a
	 * reload has swapped the zones: one atomic load per query. */
	unsigned g = __atomic_load_n(&a->gen, __ATOMIC_ACQUIRE);
	if (tl_zs && g == tl_gen)
		return tl_zs;
	pthread_mutex_lock(&a->zmu);
	zoneset_t *zs = zoneset_ref(a->zs);
	tl_gen = a->gen;
	pthread_mutex_unlock(&a->zmu);
	zoneset_unref(tl_zs);
	tl_zs = zs;
	return zs;
}

static int register_targets(srv_app_t *a, const zoneset_t *zs, int on)
{
	int failed = 0;
	/* Targets inside our own zones are answered from zone data and
	 * never registered: no upstream hop for them. */
	for (size_t i = 0; i < zs->nupstream; i++) {
		int rc = on ? aname_target_register(a->ctx, zs->upstream[i],
						    ANAME_RRTYPE_BOTH) :
			      aname_target_unregister(a->ctx, zs->upstream[i],
						      ANAME_RRTYPE_BOTH);
		if (rc != ANAME_OK) {
			fprintf(stderr, "aname-server: %sregister %s: %s\n",
				on ? "" : "un", zs->upstream[i],
				aname_strerror(rc));
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

static pthread_t reload_tid;
static int reload_started;

static void *reload_thread(void *arg)
{
	srv_app_t *a = arg;
	zoneset_t *zs = zoneset_load(a->zone_files, a->nzone_files);
	if (!zs) {
		fprintf(stderr, "aname-server: reload failed, still serving "
				"the old zones\n");
		SRV_STAT_ADD(a, reload_failures);
	} else {
		/* Register the new targets before the swap and drop the old
		 * ones after it, so targets in both stay warm throughout. */
		register_targets(a, zs, 1);
		pthread_mutex_lock(&a->zmu);
		zoneset_t *old = a->zs;
		a->zs = zs;
		__atomic_add_fetch(&a->gen, 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&a->zmu);
		register_targets(a, old, 0);
		zoneset_unref(old);
		SRV_STAT_ADD(a, reloads);
		fprintf(stderr, "aname-server: reloaded %zu zone(s), %zu "
				"ALIAS target(s)\n", zs->nzones, zs->ntargets);
	}
	__atomic_store_n(&a->reloading, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* SIGHUP: load in a thread so the loop keeps answering meanwhile. */
static void reload(void *app)
{
	srv_app_t *a = app;
	if (__atomic_exchange_n(&a->reloading, 1, __ATOMIC_ACQ_REL)) {
		fprintf(stderr, "aname-server: a reload is already running\n");
		return;
	}
	if (reload_started)
		pthread_join(reload_tid, NULL);
	reload_started = pthread_create(&reload_tid, NULL, reload_thread,
					a) == 0;
	if (!reload_started) {
		fprintf(stderr, "aname-server: cannot start the reload\n");
		__atomic_store_n(&a->reloading, 0, __ATOMIC_RELEASE);
	}
}

static int extra_metrics(void *arg, char *buf, size_t len)
{
	srv_app_t *a = arg;
	size_t n = 0;
#define XX(name, help)                                                        \
	do {                                                                  \
		int k = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, \
				 "# HELP aname_server_" #name "_total " help  \
				 "\n# TYPE aname_server_" #name "_total "     \
				 "counter\naname_server_" #name "_total %llu\n", \
				 (unsigned long long)__atomic_load_n(         \
					 &a->st.name, __ATOMIC_RELAXED));     \
		if (k > 0)                                                    \
			n += (size_t)k;                                       \
	} while (0);
	SRV_STATS(XX)
#undef XX
	pthread_mutex_lock(&a->zmu);
	size_t nz = a->zs->nzones, nt = a->zs->ntargets;
	size_t nu = a->zs->nupstream;
	pthread_mutex_unlock(&a->zmu);
	int k = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
			 "# HELP aname_server_zones zones loaded\n"
			 "# TYPE aname_server_zones gauge\n"
			 "aname_server_zones %zu\n"
			 "# HELP aname_server_alias_targets distinct ALIAS "
			 "targets in the zones\n"
			 "# TYPE aname_server_alias_targets gauge\n"
			 "aname_server_alias_targets %zu\n"
			 "# HELP aname_server_alias_upstream_targets ALIAS "
			 "targets outside our zones, resolved by the library\n"
			 "# TYPE aname_server_alias_upstream_targets gauge\n"
			 "aname_server_alias_upstream_targets %zu\n", nz, nt, nu);
	if (k > 0)
		n += (size_t)k;
	return (int)n;
}

static const dnsloop_ops_t ops = {
	.handle = answer_query,
	.expire = answer_expire,
	.reload = reload,
};

int main(int argc, char **argv)
{
	/* The ALIAS record goes in A/AAAA answers by default: a MUST in
	 * draft-ietf-dnsop-aname-04 section 6.1.1 (see the README). */
	static srv_app_t app = { .timeout_ms = 1500, .include_alias = 1 };
	static struct opts o = { .app = &app, .threads = 1, .tcp_idle_ms = 10000,
			  .tcp_max = 512 };
	pthread_mutex_init(&app.zmu, NULL);
	dnsloop_block_signals();
	o.cfg = aname_config_new();
	if (!o.cfg) {
		fprintf(stderr, "aname-server: out of memory\n");
		return 1;
	}
	aname_config_set_log(o.cfg, ANAME_LOG_WARNING, common_log,
			     (void *)"aname-server");
	if (common_args(argc, argv, optlist, apply, &o) != 0) {
		aname_config_free(o.cfg);
		return 2;
	}
	if (o.nlisten == 0 || o.nzones == 0) {
		fprintf(stderr, "aname-server: %s is required\n",
			o.nlisten == 0 ? "--listen IP@PORT" :
					 "--zone FILE (at least one)");
		usage(stderr);
		aname_config_free(o.cfg);
		return 2;
	}
	app.zone_files = o.zones;
	app.nzone_files = o.nzones;
	app.zs = zoneset_load(o.zones, o.nzones);
	if (!app.zs) {
		fprintf(stderr, "aname-server: zones did not load, not "
				"starting\n");
		aname_config_free(o.cfg);
		return 1;
	}
	if (common_ctx_new("aname-server", o.cfg, o.threads, &app.ctx) != 0)
		return 1;
	char err[256];
	dnsloop_opts_t lo = {
		.listen = o.listen,
		.nlisten = o.nlisten,
		.threads = (unsigned)o.threads,
		.ctx = app.ctx,
		.event_mode = o.threads == 1,
		.deadline_ms = app.timeout_ms,
		.tcp_idle_ms = (unsigned)o.tcp_idle_ms,
		.tcp_max = (unsigned)o.tcp_max,
		.tcp_out_max = o.tcp_out_max,
		.ops = &ops,
		.app = &app,
	};
	dnsloop_srv_t *srv = dnsloop_srv_new(&lo, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "aname-server: %s\n", err);
		aname_ctx_free(app.ctx);
		return 1;
	}
	/* The last snapshot first: a restart with a dead upstream still
	 * answers every target it knew, stale. */
	cachefile_t *cf = cachefile_start("aname-server", app.ctx, o.cache_file);
	/* Warm every target before the first query arrives. */
	register_targets(&app, app.zs, 1);
	httpd_t *http = NULL;
	if (o.metrics) {
		http = httpd_start(o.metrics, app.ctx, srv, "aname_server",
				   extra_metrics, &app);
		if (!http) {
			dnsloop_srv_free(srv);
			aname_ctx_free(app.ctx);
			return 1;
		}
	}
	fprintf(stderr, "aname-server: serving %zu zone(s), %zu ALIAS "
			"target(s) on %s%s\n", app.zs->nzones, app.zs->ntargets,
		o.listen[0], o.nlisten > 1 ? " and more" : "");
	dnsloop_srv_run(srv);
	if (reload_started)
		pthread_join(reload_tid, NULL);
	httpd_stop(http);
	cachefile_stop(cf);
	aname_ctx_free(app.ctx);
	dnsloop_srv_free(srv);
	zoneset_unref(tl_zs);
	zoneset_unref(app.zs);
	return 0;
}
