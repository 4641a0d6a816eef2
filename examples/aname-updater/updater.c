/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-updater: keep the sibling A/AAAA RRsets of every ALIAS owner in
 * an RFC 2136 primary up to date (draft-ietf-dnsop-aname-04 section 4,
 * "primary" mode).  The primary then bumps its serial, signs if it signs,
 * and NOTIFYs its secondaries, which serve the siblings by IXFR.
 *
 * One thread runs passes: poll each zone (SOA, AXFR on change), resolve
 * every distinct target through libaname (its own thread; targets are
 * registered so refresh-ahead keeps them warm), reconcile each zone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "updater.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const common_opt_t opts[] = {
	{ "server", 1 },     { "zone", 1 },       { "key", 1 },
	{ "once", 0 },       { "state-file", 1 }, { "metrics", 1 },
	{ "interval", 1 },   { "poll", 1 },       { "rate", 1 },
	{ "hysteresis", 1 }, { "primary-timeout-ms", 1 },
	{ "forward", 1 },    { "stub", 1 },       { "timeout-ms", 1 },
	{ "stale-max", 1 },  { "help", 0 },       { "config", 1 },
	{ NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: aname-updater --server IP[@PORT] --zone NAME [--zone NAME...]\n"
		"         [--key FILE] [--forward IP[@PORT] | --stub ZONE=IP[@PORT]]\n"
		"         [--once] [--state-file FILE] [--metrics IP@PORT]\n"
		"         [--interval S] [--poll S] [--rate N] [--hysteresis PCT]\n"
		"         [--primary-timeout-ms MS] [--timeout-ms MS] [--stale-max S]\n"
		"         [--config FILE]\n"
		"See aname-updater(8).\n");
}

static int add_zone(upd_app_t *app, const char *name)
{
	size_t n = strlen(name);
	if (app->nzones >= UPD_MAX_ZONES) {
		fprintf(stderr, "--zone: more than %d zones\n", UPD_MAX_ZONES);
		return -1;
	}
	ldns_rdf *d = NULL;
	if (n == 0 || n > 253 ||
	    ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK) {
		fprintf(stderr, "--zone: '%s' is not a domain name\n", name);
		return -1;
	}
	ldns_dname2canonical(d);
	char *text = ldns_rdf2str(d);
	ldns_rdf_deep_free(d);
	if (!text)
		return -1;
	for (size_t i = 0; i < app->nzones; i++)
		if (!strcmp(app->zones[i].name, text)) {
			fprintf(stderr, "--zone %s given twice\n", text);
			free(text);
			return -1;
		}
	upd_zone_t *v = realloc(app->zones, (app->nzones + 1) * sizeof(*v));
	if (!v) {
		free(text);
		return -1;
	}
	app->zones = v;
	upd_zone_t *z = &v[app->nzones++];
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", text);
	z->reason = UPD_R_STARTING;
	free(text);
	return 0;
}

static int apply(void *arg, const char *name, const char *val)
{
	upd_app_t *app = arg;
	unsigned long v;
	int r = common_lib_opt(app->cfg, name, val);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!strcmp(name, "server"))
		app->server = val;
	else if (!strcmp(name, "zone"))
		return add_zone(app, val);
	else if (!strcmp(name, "key"))
		app->key_file = val;
	else if (!strcmp(name, "once"))
		app->once = 1;
	else if (!strcmp(name, "state-file"))
		app->state_file = val;
	else if (!strcmp(name, "metrics"))
		app->metrics = val;
	else if (!strcmp(name, "help")) {
		usage(stdout);
		exit(0);
	} else {
		struct {
			const char *name;
			unsigned long min, max;
			unsigned *dst;
		} nums[] = {
			{ "interval", 1, 3600, &app->interval_s },
			{ "poll", 1, 86400, &app->poll_s },
			{ "rate", 1, 1000000, &app->rate },
			{ "hysteresis", 0, 50, &app->hyst_pct },
			{ "primary-timeout-ms", 100, 600000,
			  &app->primary_timeout_ms },
		};
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (!strcmp(name, nums[i].name)) {
				if (common_uint(name, val, nums[i].min,
						nums[i].max, &v) != 0)
					return -1;
				*nums[i].dst = (unsigned)v;
				return 0;
			}
		return -1;
	}
	return 0;
}

/* Every zone read, healthy, and every owner up to date. */
static int all_up_to_date(const upd_app_t *app)
{
	for (size_t i = 0; i < app->nzones; i++) {
		const upd_zone_t *z = &app->zones[i];
		if (!z->loaded || z->reason != UPD_R_OK || z->owners_failing ||
		    z->owners_pending || z->need_axfr)
			return 0;
	}
	return 1;
}

static void pass(upd_app_t *app)
{
	int64_t now = upd_now_ms();
	for (size_t i = 0; i < app->nzones && !stop; i++) {
		upd_zone_t *z = &app->zones[i];
		if (now < z->backoff_until_ms ||
		    (now < z->next_poll_ms && !z->need_axfr))
			continue;
		upd_poll_zone(app, z);
		z->next_poll_ms = now + (int64_t)app->poll_s * 1000;
	}
	if (stop)
		return;
	size_t failed = upd_targets_resolve(&app->targets, 1000);
	if (failed && (failed != app->last_failed ||
		       now - app->last_failed_log_ms >= 60000)) {
		upd_log("warning", NULL, "%zu of %zu targets failed to resolve "
			"(e.g. %s); their siblings are left as they are",
			failed, app->targets.n, app->targets.first_failure);
		app->last_failed_log_ms = now;
	}
	app->last_failed = failed;
	for (size_t i = 0; i < app->nzones && !stop; i++)
		upd_reconcile_zone(app, &app->zones[i]);
	upd_conn_close(&app->conn);
	if (app->state_file)
		upd_state_write(app);
}

static void sleep_until(int64_t t)
{
	while (!stop) {
		int64_t left = t - upd_now_ms();
		if (left <= 0)
			return;
		if (left > 200)
			left = 200; /* notice signals promptly */
		struct timespec ts = { 0, (long)left * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Early exits free what main() made so far (sanitizer runs stay clean). */
static int bail(upd_app_t *app, int rc)
{
	aname_config_free(app->cfg);
	if (app->ctx) {
		upd_targets_free(&app->targets);
		aname_ctx_free(app->ctx);
	}
	free(app->zones);
	return rc;
}

int main(int argc, char **argv)
{
	upd_app_t app = {
		.prog = "aname-updater",
		.interval_s = 1,
		.poll_s = 10,
		.rate = 200,
		.hyst_pct = 10,
		.primary_timeout_ms = 5000,
	};
	app.cfg = aname_config_new();
	if (!app.cfg)
		return 2;
	aname_config_set_log(app.cfg, ANAME_LOG_WARNING, common_log,
			     (void *)app.prog);
	if (argc < 2) {
		usage(stderr);
		return bail(&app, 2);
	}
	if (common_args(argc, argv, opts, apply, &app) != 0)
		return bail(&app, 2);
	if (!app.server || app.nzones == 0) {
		fprintf(stderr, "aname-updater: --server and at least one "
				"--zone are required\n");
		usage(stderr);
		return bail(&app, 2);
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (upd_parse_addr(app.server, &ss, &sl) != 0) {
		fprintf(stderr, "aname-updater: --server '%s' is not "
				"IP[@PORT]\n", app.server);
		return bail(&app, 2);
	}
	if (app.key_file) {
		char err[512];
		if (upd_key_load(app.key_file, &app.key, err, sizeof(err))) {
			fprintf(stderr, "aname-updater: --key %s\n", err);
			return bail(&app, 2);
		}
		app.have_key = 1;
	}
	upd_conn_init(&app.conn, &ss, sl, app.have_key ? &app.key : NULL,
		      (int)app.primary_timeout_ms);
	/* Thread mode: the library refreshes registered targets on its own
	 * thread while this one waits on the primary. */
	aname_config_t *cfg = app.cfg;
	app.cfg = NULL; /* common_ctx_new() frees it either way */
	if (common_ctx_new(app.prog, cfg, 2, &app.ctx) != 0)
		return bail(&app, 2);
	pthread_mutex_init(&app.stats_lock, NULL);
	if (upd_targets_init(&app.targets, app.ctx) != 0)
		return bail(&app, 2);
	app.tokens = app.rate;
	app.tokens_ms = upd_now_ms();

	upd_http_t *http = NULL;
	if (app.metrics && !(http = upd_http_start(&app, app.metrics)))
		return bail(&app, 2);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = 0;
	if (app.once) {
		/* A prerequisite failure re-reads the zone; give those
		 * owners two more passes before calling it a failure. */
		for (int i = 0; i < 3 && !stop; i++) {
			pass(&app);
			if (all_up_to_date(&app))
				break;
			int raced = 0;
			for (size_t k = 0; k < app.nzones; k++)
				raced |= app.zones[k].need_axfr;
			if (!raced)
				break;
		}
		rc = all_up_to_date(&app) ? 0 : 1;
	} else {
		upd_log("info", NULL, "primary %s, %zu zone(s)",
			app.conn.peer, app.nzones);
		while (!stop) {
			int64_t next = upd_now_ms() +
				       (int64_t)app.interval_s * 1000;
			pass(&app);
			sleep_until(next);
		}
	}
	upd_http_stop(http);
	for (size_t i = 0; i < app.nzones; i++) {
		upd_targets_detach(&app.targets, &app.zones[i].owners);
		upd_owners_clear(&app.zones[i].owners);
	}
	upd_targets_free(&app.targets);
	aname_ctx_free(app.ctx);
	free(app.zones);
	upd_conn_close(&app.conn);
	return rc;
}
