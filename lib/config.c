/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file config.c
 * \brief The opaque configuration object.
 *
 * Every setter validates its input completely and changes nothing on
 * error, so a bad value is reported where it was written rather than when
 * a context is created.  The object is copied into the context, because
 * libunbound freezes its own configuration at the first resolve: a config
 * that is complete before aname_ctx_new() makes that rule structural.
 */
#include "config.h"
#include "canary.h"

#include "name.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FORWARDERS 16
#define MAX_STUBS 64
#define MAX_LOCAL_ZONES 1024
#define MAX_LOCAL_DATA 4096

aname_config_t *aname_config_new(void)
{
	aname_config_t *cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		return NULL;
	}
	cfg->timeout_ms = 1500;
	cfg->max_entries = 100000;
	cfg->min_ttl = 0;
	cfg->max_ttl = 86400;
	cfg->neg_max_ttl = 3600;
	cfg->max_chain = 8;
	cfg->stale_ttl = 30;
	cfg->max_stale_s = 86400;
	cfg->stale_client_timeout_ms = 400;
	cfg->prefetch_percent = 10;
	cfg->backoff_s = 30;
	cfg->max_fetches = 256;
	cfg->max_waiters = 10000;
	cfg->watchdog_interval_ms = 1000;
	cfg->watchdog_grace_ms = 2000;
	cfg->log_level = ANAME_LOG_WARNING;
	return cfg;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

void aname__config_clear(aname_config_t *cfg)
{
	free_strv(cfg->forwarders, cfg->n_forwarders);
	for (size_t i = 0; cfg->stubs != NULL && i < cfg->n_stubs; i++) {
		free(cfg->stubs[i].zone);
		free(cfg->stubs[i].addr);
	}
	free(cfg->stubs);
	free_strv(cfg->local_zones, cfg->n_local_zones);
	free_strv(cfg->local_data, cfg->n_local_data);
	free(cfg->trust_anchor_file);
	free(cfg->root_hints);
	memset(cfg, 0, sizeof(*cfg));
}

void aname_config_free(aname_config_t *cfg)
{
	if (cfg == NULL) {
		return;
	}
	aname__config_clear(cfg);
	free(cfg);
}

static int push_str(char ***v, size_t *n, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL) {
		return ANAME_ENOMEM;
	}
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(copy);
		return ANAME_ENOMEM;
	}
	nv[(*n)++] = copy;
	*v = nv;
	return ANAME_OK;
}

static int copy_strv(char ***dst, size_t *dn, char *const *src, size_t sn)
{
	*dst = NULL;
	*dn = 0;
	for (size_t i = 0; i < sn; i++) {
		int rc = push_str(dst, dn, src[i]);
		if (rc != ANAME_OK) {
			return rc;
		}
	}
	return ANAME_OK;
}

int aname__config_copy(aname_config_t *dst, const aname_config_t *src)
{
	*dst = *src;
	dst->forwarders = NULL;
	dst->n_forwarders = 0;
	dst->stubs = NULL;
	dst->n_stubs = 0;
	dst->local_zones = NULL;
	dst->n_local_zones = 0;
	dst->local_data = NULL;
	dst->n_local_data = 0;
	dst->trust_anchor_file = NULL;
	dst->root_hints = NULL;
	if (copy_strv(&dst->forwarders, &dst->n_forwarders, src->forwarders,
		      src->n_forwarders) != ANAME_OK ||
	    copy_strv(&dst->local_zones, &dst->n_local_zones,
		      src->local_zones, src->n_local_zones) != ANAME_OK ||
	    copy_strv(&dst->local_data, &dst->n_local_data, src->local_data,
		      src->n_local_data) != ANAME_OK) {
		goto fail;
	}
	if (src->n_stubs > 0) {
		dst->stubs = calloc(src->n_stubs, sizeof(*dst->stubs));
		if (dst->stubs == NULL) {
			goto fail;
		}
		for (size_t i = 0; i < src->n_stubs; i++) {
			dst->n_stubs++;
			dst->stubs[i].zone = strdup(src->stubs[i].zone);
			dst->stubs[i].addr = strdup(src->stubs[i].addr);
			if (dst->stubs[i].zone == NULL ||
			    dst->stubs[i].addr == NULL) {
				goto fail;
			}
		}
	}
	if (src->trust_anchor_file != NULL) {
		dst->trust_anchor_file = strdup(src->trust_anchor_file);
		if (dst->trust_anchor_file == NULL) {
			goto fail;
		}
	}
	if (src->root_hints != NULL) {
		dst->root_hints = strdup(src->root_hints);
		if (dst->root_hints == NULL) {
			goto fail;
		}
	}
	return ANAME_OK;
fail:
	aname__config_clear(dst);
	return ANAME_ENOMEM;
}

/* "IPv4", "IPv6", optionally "@port" with port 1..65535.  This is the
 * syntax libunbound's extstrtoaddr() accepts; checking it here turns a
 * typo into an error at set time instead of a silent SERVFAIL later. */
static int check_addr(const char *addr)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *at = strchr(addr, '@');
	size_t hlen = at != NULL ? (size_t)(at - addr) : strlen(addr);
	if (hlen == 0 || hlen >= sizeof(host)) {
		return ANAME_EBADADDR;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	unsigned char buf[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1) {
		return ANAME_EBADADDR;
	}
	if (at != NULL) {
		const char *p = at + 1;
		unsigned long port = 0;
		if (*p == '\0' || strlen(p) > 5) {
			return ANAME_EBADADDR;
		}
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9') {
				return ANAME_EBADADDR;
			}
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535) {
			return ANAME_EBADADDR;
		}
	}
	return ANAME_OK;
}

int aname_config_add_forwarder(aname_config_t *cfg, const char *addr)
{
	if (cfg == NULL || addr == NULL) {
		return ANAME_EINVAL;
	}
	int rc = check_addr(addr);
	if (rc != ANAME_OK) {
		return rc;
	}
	if (cfg->n_forwarders >= MAX_FORWARDERS) {
		return ANAME_ERANGE;
	}
	return push_str(&cfg->forwarders, &cfg->n_forwarders, addr);
}

/* Normalise a zone name to absolute presentation text, validating it. */
static int zone_text(const char *zone, char *out, size_t outlen)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t len;
	int rc = aname__name_parse(zone, wire, &len);
	if (rc != ANAME_OK) {
		return rc;
	}
	rc = aname__name_to_text(wire, len, out, outlen);
	return rc < 0 ? rc : ANAME_OK;
}

int aname_config_add_stub(aname_config_t *cfg, const char *zone,
			  const char *addr)
{
	char ztext[ANAME_TEXT_MAX];
	if (cfg == NULL || zone == NULL || addr == NULL) {
		return ANAME_EINVAL;
	}
	int rc = zone_text(zone, ztext, sizeof(ztext));
	if (rc != ANAME_OK) {
		return rc;
	}
	rc = check_addr(addr);
	if (rc != ANAME_OK) {
		return rc;
	}
	if (cfg->n_stubs >= MAX_STUBS) {
		return ANAME_ERANGE;
	}
	struct aname_stub *v =
		realloc(cfg->stubs, (cfg->n_stubs + 1) * sizeof(*v));
	if (v == NULL) {
		return ANAME_ENOMEM;
	}
	cfg->stubs = v;
	char *z = strdup(ztext);
	char *a = strdup(addr);
	if (z == NULL || a == NULL) {
		free(z);
		free(a);
		return ANAME_ENOMEM;
	}
	v[cfg->n_stubs].zone = z;
	v[cfg->n_stubs].addr = a;
	cfg->n_stubs++;
	return ANAME_OK;
}

int aname_config_add_local_zone(aname_config_t *cfg, const char *zone,
				const char *type)
{
	static const char *const types[] = {"static", "transparent", "deny",
					    "refuse", "redirect",
					    "always_nxdomain"};
	char ztext[ANAME_TEXT_MAX];
	char line[ANAME_TEXT_MAX + 32];
	if (cfg == NULL || zone == NULL || type == NULL) {
		return ANAME_EINVAL;
	}
	int rc = zone_text(zone, ztext, sizeof(ztext));
	if (rc != ANAME_OK) {
		return rc;
	}
	bool known = false;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		known = known || strcmp(type, types[i]) == 0;
	}
	if (!known) {
		return ANAME_EINVAL;
	}
	if (cfg->n_local_zones >= MAX_LOCAL_ZONES) {
		return ANAME_ERANGE;
	}
	snprintf(line, sizeof(line), "%s %s", ztext, type);
	return push_str(&cfg->local_zones, &cfg->n_local_zones, line);
}

int aname_config_add_local_data(aname_config_t *cfg, const char *rr)
{
	if (cfg == NULL || rr == NULL) {
		return ANAME_EINVAL;
	}
	/* libunbound would reject a bad record only when the context is
	 * created; ldns parses the same syntax now.  A line break would let
	 * one string smuggle in a second record. */
	if (strchr(rr, '\n') != NULL || strchr(rr, '\r') != NULL) {
		return ANAME_EBADRR;
	}
	ldns_rr *parsed = NULL;
	if (ldns_rr_new_frm_str(&parsed, rr, 3600, NULL, NULL) !=
		    LDNS_STATUS_OK ||
	    parsed == NULL) {
		ldns_rr_free(parsed);
		return ANAME_EBADRR;
	}
	ldns_rr_free(parsed);
	if (cfg->n_local_data >= MAX_LOCAL_DATA) {
		return ANAME_ERANGE;
	}
	return push_str(&cfg->local_data, &cfg->n_local_data, rr);
}

int aname_config_set_trust_anchor_file(aname_config_t *cfg, const char *path)
{
	if (cfg == NULL || path == NULL) {
		return ANAME_EINVAL;
	}
	if (access(path, R_OK) != 0) {
		return ANAME_EFILE;
	}
	char *copy = strdup(path);
	if (copy == NULL) {
		return ANAME_ENOMEM;
	}
	free(cfg->trust_anchor_file);
	cfg->trust_anchor_file = copy;
	return ANAME_OK;
}

int aname_config_set_root_hints(aname_config_t *cfg, const char *path)
{
	if (cfg == NULL || path == NULL) {
		return ANAME_EINVAL;
	}
	/* Read now, with the parser the canary uses, so that a file neither
	 * libunbound nor the canary could use fails here, not at
	 * aname_ctx_new(). */
	int rc = aname__canary_hints_check(path);
	if (rc != ANAME_OK) {
		return rc;
	}
	char *copy = strdup(path);
	if (copy == NULL) {
		return ANAME_ENOMEM;
	}
	free(cfg->root_hints);
	cfg->root_hints = copy;
	return ANAME_OK;
}

int aname_config_set_timeout_ms(aname_config_t *cfg, unsigned ms)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (ms < 10 || ms > 60000) {
		return ANAME_ERANGE;
	}
	cfg->timeout_ms = ms;
	return ANAME_OK;
}

int aname_config_set_cache(aname_config_t *cfg, size_t max_entries,
			   uint32_t min_ttl, uint32_t max_ttl,
			   uint32_t neg_max_ttl)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (max_entries < 1 || max_entries > 100000000 || max_ttl > 604800 ||
	    min_ttl > max_ttl || neg_max_ttl > max_ttl) {
		return ANAME_ERANGE;
	}
	cfg->max_entries = max_entries;
	cfg->min_ttl = min_ttl;
	cfg->max_ttl = max_ttl;
	cfg->neg_max_ttl = neg_max_ttl;
	return ANAME_OK;
}

int aname_config_set_max_chain(aname_config_t *cfg, unsigned n)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (n > 16) {
		return ANAME_ERANGE;
	}
	cfg->max_chain = n;
	return ANAME_OK;
}

int aname_config_set_thread(aname_config_t *cfg, int enable)
{
	if (cfg == NULL || (enable != 0 && enable != 1)) {
		return ANAME_EINVAL;
	}
	cfg->thread = enable;
	return ANAME_OK;
}

int aname_config_set_stale(aname_config_t *cfg, uint32_t stale_ttl,
			   uint32_t max_stale_s, unsigned client_timeout_ms)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (stale_ttl < 1 || stale_ttl > 3600 || max_stale_s > 604800 ||
	    client_timeout_ms > 60000) {
		return ANAME_ERANGE;
	}
	cfg->stale_ttl = stale_ttl;
	cfg->max_stale_s = max_stale_s;
	cfg->stale_client_timeout_ms = client_timeout_ms;
	return ANAME_OK;
}

int aname_config_set_prefetch(aname_config_t *cfg, unsigned percent)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (percent > 50) {
		return ANAME_ERANGE;
	}
	cfg->prefetch_percent = percent;
	return ANAME_OK;
}

int aname_config_set_backoff(aname_config_t *cfg, unsigned seconds)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (seconds > 3600) {
		return ANAME_ERANGE;
	}
	cfg->backoff_s = seconds;
	return ANAME_OK;
}

int aname_config_set_limits(aname_config_t *cfg, unsigned max_fetches,
			    unsigned max_waiters)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (max_fetches < 1 || max_fetches > 4096 || max_waiters < 1 ||
	    max_waiters > 1000000) {
		return ANAME_ERANGE;
	}
	cfg->max_fetches = max_fetches;
	cfg->max_waiters = max_waiters;
	return ANAME_OK;
}

int aname_config_set_watchdog(aname_config_t *cfg, unsigned interval_ms,
			      unsigned grace_ms)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if ((interval_ms != 0 && (interval_ms < 50 || interval_ms > 60000)) ||
	    grace_ms < 50 || grace_ms > 600000) {
		return ANAME_ERANGE;
	}
	cfg->watchdog_interval_ms = interval_ms;
	cfg->watchdog_grace_ms = grace_ms;
	return ANAME_OK;
}

int aname_config_set_log(aname_config_t *cfg, int level, aname_log_cb cb,
			 void *arg)
{
	if (cfg == NULL) {
		return ANAME_EINVAL;
	}
	if (level < ANAME_LOG_ERROR || level > ANAME_LOG_DEBUG) {
		return ANAME_ERANGE;
	}
	cfg->log_level = level;
	cfg->log_cb = cb;
	cfg->log_arg = arg;
	return ANAME_OK;
}
