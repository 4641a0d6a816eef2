/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-updater's shared state: options, zones with their health, the
 * connection to the primary, the target table.  One main thread runs the
 * passes; the /metrics thread only reads zone counters, under stats_lock.
 */
#ifndef UPD_UPDATER_H
#define UPD_UPDATER_H

#include <pthread.h>
#include <stdint.h>

#include "aname.h"
#include "dnsio.h"
#include "owners.h"
#include "targets.h"

/* Zone health reasons: (name, level, runbook sentence = the fix). */
#define UPD_REASON_MAP(XX)                                                    \
	XX(OK, 0, "ok", "siblings up to date")                               \
	XX(STARTING, 1, "starting", "the zone has not been read yet")        \
	XX(TARGETS_FAILING, 1, "targets-failing",                            \
	   "some ALIAS targets do not resolve; their siblings are left as "   \
	   "they are")                                                         \
	XX(UPDATE_RACE, 1, "update-race",                                     \
	   "an owner changed on the primary since it was read; re-reading")  \
	XX(UPDATE_FAILING, 1, "update-failing",                               \
	   "the primary fails some UPDATEs (SERVFAIL); retrying with backoff") \
	XX(PRIMARY_DOWN, 2, "primary-down",                                   \
	   "the primary does not answer: start it or fix --server")          \
	XX(TSIG, 2, "tsig-rejected",                                          \
	   "TSIG failed: make --key's name, algorithm and secret match the "  \
	   "primary's key, and keep both clocks within 300 s")               \
	XX(REFUSED, 2, "update-refused",                                      \
	   "the primary REFUSED the UPDATE: allow updates by this key "       \
	   "(Knot: acl action update; BIND: allow-update { key NAME; }; "    \
	   "PowerDNS: dnsupdate=yes and TSIG-ALLOW-DNSUPDATE)")               \
	XX(NOTAUTH, 2, "not-authoritative",                                   \
	   "the primary is not authoritative for the zone (or, unsigned, "    \
	   "does not know the key): fix --zone or --server, or --key")                                                         \
	XX(NOTZONE, 2, "notzone",                                             \
	   "the primary answered NOTZONE: the owner is outside the zone "     \
	   "named by --zone (a delegated child zone?): name that zone too")  \
	XX(AXFR_REFUSED, 2, "axfr-refused",                                   \
	   "the primary refused AXFR: allow transfers to this key or address " \
	   "(Knot: acl action transfer; BIND: allow-transfer; PowerDNS: "     \
	   "allow-axfr-ips or TSIG-ALLOW-AXFR)")

typedef enum {
#define UPD_XX_(n, lvl, anchor, text) UPD_R_##n,
	UPD_REASON_MAP(UPD_XX_)
#undef UPD_XX_
	UPD_R_COUNT_
} upd_reason_t;

const char *upd_reason_name(int r);
const char *upd_reason_text(int r);
int upd_reason_level(int r); /* 0 ok, 1 degraded, 2 failing */

typedef enum { STAGE_NONE, STAGE_POLL, STAGE_UPDATE } upd_stage_t;

typedef struct upd_zone {
	char name[256];
	upd_owners_t owners;
	int loaded;
	uint32_t serial;
	int need_axfr;
	int64_t next_poll_ms;
	int64_t backoff_until_ms;
	unsigned fails;
	int reason;          /* upd_reason_t */
	upd_stage_t stage;   /* which step set a failing reason */
	char detail[400];
	/* Counters (monotonic) and last-pass gauges, under stats_lock. */
	uint64_t updates, update_errors, races, axfrs, soa_polls, passes;
	uint64_t pass_updates;   /* UPDATE messages in the last pass */
	size_t nowners, owners_ok, owners_failing, owners_pending, ntargets;
} upd_zone_t;

#define UPD_MAX_ZONES 1024

typedef struct upd_app {
	const char *prog;
	const char *server;
	const char *key_file;
	const char *state_file;
	const char *metrics;
	unsigned interval_s, poll_s, rate, hyst_pct, primary_timeout_ms;
	int once;
	aname_config_t *cfg;
	aname_ctx_t *ctx;
	upd_key_t key;
	int have_key;
	upd_conn_t conn;
	upd_zone_t *zones;
	size_t nzones;
	upd_targets_t targets;
	pthread_mutex_t stats_lock;
	double tokens;       /* UPDATE rate limiter */
	int64_t tokens_ms;
	uint64_t updates_total;
	size_t last_failed;       /* targets failing in the last pass */
	int64_t last_failed_log_ms;
} upd_app_t;

int64_t upd_now_ms(void);

/** Log one line to stderr: "aname-updater: LEVEL: zone Z: message". */
void upd_log(const char *level, const upd_zone_t *z, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Record a zone-level failure: reason, detail, backoff, one log line
 * naming the zone and the fix (only when the reason or detail changes). */
void upd_zone_fail(upd_app_t *app, upd_zone_t *z, upd_stage_t stage,
		   int reason, const char *detail);
/** Clear a failure set by \a stage (logs the recovery). */
void upd_zone_clear(upd_app_t *app, upd_zone_t *z, upd_stage_t stage);

/** SOA poll, and AXFR when the serial moved (or first time). */
void upd_poll_zone(upd_app_t *app, upd_zone_t *z);

/** Compare every owner's desired siblings with the published ones and
 * send one UPDATE per owner that differs. */
void upd_reconcile_zone(upd_app_t *app, upd_zone_t *z);

/** TTLs \a a (published) and \a b (desired) count as equal (hysteresis). */
int upd_ttl_close(uint32_t published, uint32_t desired, unsigned pct);

/** Write --state-file atomically (temp file + rename). */
int upd_state_write(upd_app_t *app);

/** Prometheus text for the zones (snprintf-like). */
int upd_metrics_zones(upd_app_t *app, char *buf, size_t len);

typedef struct upd_http upd_http_t;
upd_http_t *upd_http_start(upd_app_t *app, const char *addr);
void upd_http_stop(upd_http_t *h);

#endif
