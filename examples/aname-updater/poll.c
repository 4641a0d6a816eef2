/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Zone discovery and zone health.  A SOA query each poll; a full AXFR
 * when the serial moved for a reason other than our own UPDATEs (the
 * reconciler records the serial those produced), after a prerequisite
 * failure, and the first time.  A failure backs the whole zone off
 * (1, 2, 4 ... 300 s) and leaves its siblings as they are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "updater.h"

static const struct {
	const char *anchor, *text;
	int level;
} reasons[] = {
#define UPD_XX_(n, lvl, anchor, text) { anchor, text, lvl },
	UPD_REASON_MAP(UPD_XX_)
#undef UPD_XX_
};

const char *upd_reason_name(int r)
{
	return r >= 0 && r < UPD_R_COUNT_ ? reasons[r].anchor : "unknown";
}

const char *upd_reason_text(int r)
{
	return r >= 0 && r < UPD_R_COUNT_ ? reasons[r].text : "unknown";
}

int upd_reason_level(int r)
{
	return r >= 0 && r < UPD_R_COUNT_ ? reasons[r].level : 2;
}

int64_t upd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void upd_log(const char *level, const upd_zone_t *z, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (z)
		fprintf(stderr, "aname-updater: %s: zone %s: %s\n", level,
			z->name, msg);
	else
		fprintf(stderr, "aname-updater: %s: %s\n", level, msg);
}

void upd_zone_fail(upd_app_t *app, upd_zone_t *z, upd_stage_t stage,
		   int reason, const char *detail)
{
	int changed = z->reason != reason || strcmp(z->detail, detail) != 0;
	unsigned s = z->fails < 8 ? 1u << z->fails : 300;
	if (s > 300)
		s = 300;
	z->fails++;
	z->backoff_until_ms = upd_now_ms() + (int64_t)s * 1000;
	if (changed)
		upd_log("error", z, "%s; fix: %s (siblings left as they are, "
			"retrying with backoff)", detail,
			upd_reason_text(reason));
	pthread_mutex_lock(&app->stats_lock);
	z->reason = reason;
	z->stage = stage;
	snprintf(z->detail, sizeof(z->detail), "%s", detail);
	pthread_mutex_unlock(&app->stats_lock);
}

void upd_zone_clear(upd_app_t *app, upd_zone_t *z, upd_stage_t stage)
{
	if (z->stage != stage)
		return;
	upd_log("info", z, "recovered from %s", upd_reason_name(z->reason));
	pthread_mutex_lock(&app->stats_lock);
	z->stage = STAGE_NONE;
	z->fails = 0;
	z->reason = z->loaded ? UPD_R_OK : UPD_R_STARTING;
	z->detail[0] = '\0';
	pthread_mutex_unlock(&app->stats_lock);
}

static int poll_reason(io_status_t st, int rcode)
{
	switch (st) {
	case IO_TSIG:
		return UPD_R_TSIG;
	case IO_RCODE:
		return rcode == LDNS_RCODE_NOTZONE ? UPD_R_NOTZONE :
						     UPD_R_NOTAUTH;
	default:
		return UPD_R_PRIMARY_DOWN;
	}
}

static void fail_poll(upd_app_t *app, upd_zone_t *z, const char *what,
		      io_status_t st, int reason)
{
	char detail[400];
	snprintf(detail, sizeof(detail), "%s: %s", what, app->conn.err);
	(void)st;
	upd_zone_fail(app, z, STAGE_POLL, reason, detail);
}

void upd_poll_zone(upd_app_t *app, upd_zone_t *z)
{
	uint32_t serial = 0;
	io_status_t st = upd_soa_serial(&app->conn, z->name, &serial);
	pthread_mutex_lock(&app->stats_lock);
	z->soa_polls++;
	pthread_mutex_unlock(&app->stats_lock);
	if (st != IO_OK) {
		fail_poll(app, z, "SOA query", st,
			  poll_reason(st, app->conn.rcode));
		return;
	}
	if (z->loaded && !z->need_axfr && serial == z->serial) {
		upd_zone_clear(app, z, STAGE_POLL);
		return;
	}
	upd_scan_t *scan = upd_scan_new(z->name);
	if (!scan) {
		upd_log("error", z, "out of memory");
		return;
	}
	uint32_t aserial = 0;
	st = upd_axfr(&app->conn, z->name, upd_scan_add, scan, &aserial);
	if (st != IO_OK) {
		upd_scan_free(scan);
		int reason = st == IO_RCODE ? UPD_R_AXFR_REFUSED :
					      poll_reason(st, app->conn.rcode);
		/* A primary that answers SOA but closes on the AXFR before
		 * sending anything reads as "refused"; one that closes in the
		 * middle of a transfer is "down" (the next poll retries). */
		if (st == IO_DOWN && strstr(app->conn.err, "closed") &&
		    app->conn.axfr_msgs == 0)
			reason = UPD_R_AXFR_REFUSED;
		/* The SOA query with this key just verified, so BADKEY here
		 * is the primary's ACL (Knot answers a denied transfer with
		 * NOTAUTH/BADKEY), not a wrong key. */
		if (st == IO_TSIG && app->conn.rcode == 17)
			reason = UPD_R_AXFR_REFUSED;
		fail_poll(app, z, "AXFR", st, reason);
		return;
	}
	upd_owners_t fresh;
	if (upd_scan_finish(scan, &fresh) != 0 ||
	    upd_targets_attach(&app->targets, &fresh) != 0) {
		upd_log("error", z, "out of memory reading the zone");
		return;
	}
	upd_targets_detach(&app->targets, &z->owners);
	upd_owners_clear(&z->owners);
	z->owners = fresh;
	if (fresh.extra_alias)
		upd_log("warning", z, "%zu owners have more than one ALIAS "
			"record; only the first (in canonical order) is used",
			fresh.extra_alias);
	pthread_mutex_lock(&app->stats_lock);
	z->serial = aserial;
	z->loaded = 1;
	z->need_axfr = 0;
	z->axfrs++;
	z->ntargets = app->targets.n;
	z->nowners = fresh.n;
	if (z->reason == UPD_R_STARTING)
		z->reason = UPD_R_OK;
	pthread_mutex_unlock(&app->stats_lock);
	upd_log("info", z, "serial %u: %zu ALIAS owners", aserial, fresh.n);
	upd_zone_clear(app, z, STAGE_POLL);
}
