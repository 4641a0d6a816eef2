/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file shared.c
 * \brief Refcounted, mutex-protected process-wide libaname context.
 *
 * Lifetime: created by the first module load; when the last instance goes
 * away the context is *parked*, not freed, because knotd unloads a zone's
 * modules before loading the new ones on every reload, and freeing there
 * would throw the warm cache away exactly when operators reload.  A parked
 * context is reused by the next load if the settings match, replaced if
 * they changed, and freed when knotd unloads this shared object (or exits).
 *
 * Settings are compared as a canonical string: the first instance's
 * settings win while the context is in use, because one libunbound context
 * has one upstream configuration.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logsink.h"
#include "shared.h"

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static aname_ctx_t *shared_ctx;
static char *shared_sig;
static unsigned shared_refs;

static _Thread_local char err_buf[1200];

static const char *errf(const char *what, const char *val, int rc)
{
	snprintf(err_buf, sizeof(err_buf), "%s '%s': %s", what, val,
		 aname_strerror(rc));
	return err_buf;
}

int aname_knot_settings_apply(const struct aname_knot_settings *s,
			      aname_config_t *cfg, const char **err)
{
	int rc;
	for (size_t i = 0; i < s->n_forward; i++) {
		rc = aname_config_add_forwarder(cfg, s->forward[i]);
		if (rc != ANAME_OK) {
			*err = errf("bad forward", s->forward[i], rc);
			return rc;
		}
	}
	for (size_t i = 0; i < s->n_stub; i++) {
		char zone[1100];
		const char *eq = strchr(s->stub[i], '=');
		size_t zlen = eq != NULL ? (size_t)(eq - s->stub[i]) : 0;
		if (eq == NULL || zlen == 0 || zlen >= sizeof(zone)) {
			*err = errf("bad stub, expected ZONE=IP@PORT", s->stub[i],
				    ANAME_EINVAL);
			return ANAME_EINVAL;
		}
		memcpy(zone, s->stub[i], zlen);
		zone[zlen] = '\0';
		rc = aname_config_add_stub(cfg, zone, eq + 1);
		if (rc != ANAME_OK) {
			*err = errf("bad stub", s->stub[i], rc);
			return rc;
		}
	}
	if (s->trust_anchor_file != NULL && s->trust_anchor_file[0] != '\0') {
		rc = aname_config_set_trust_anchor_file(cfg,
							s->trust_anchor_file);
		if (rc != ANAME_OK) {
			*err = errf("bad trust-anchor-file", s->trust_anchor_file,
				    rc);
			return rc;
		}
	}
	rc = aname_config_set_timeout_ms(cfg, s->timeout_ms);
	if (rc != ANAME_OK) {
		*err = errf("bad timeout", "", rc);
		return rc;
	}
	/* The client response timer only matters to aname_resolve(); the module
	 * uses the cache-only path, so keep the library default. */
	rc = aname_config_set_stale(cfg, s->stale_ttl, s->max_stale, 400);
	if (rc != ANAME_OK) {
		*err = errf("bad stale-ttl/max-stale", "", rc);
		return rc;
	}
	rc = aname_config_set_cache(cfg, s->cache_size, s->min_ttl, s->max_ttl,
				    s->max_neg_ttl);
	if (rc != ANAME_OK) {
		snprintf(err_buf, sizeof(err_buf),
			 "bad cache-size/min-ttl/max-ttl/max-neg-ttl (%zu/%u/%u/%u): "
			 "need min-ttl <= max-ttl and max-neg-ttl <= max-ttl",
			 s->cache_size, s->min_ttl, s->max_ttl, s->max_neg_ttl);
		*err = err_buf;
		return rc;
	}
	return ANAME_OK;
}

/* Canonical text of the settings, for "same upstream?" comparisons. */
static char *settings_sig(const struct aname_knot_settings *s)
{
	size_t len = 128 + (s->trust_anchor_file != NULL
				    ? strlen(s->trust_anchor_file)
				    : 0);
	for (size_t i = 0; i < s->n_forward; i++) {
		len += strlen(s->forward[i]) + 1;
	}
	for (size_t i = 0; i < s->n_stub; i++) {
		len += strlen(s->stub[i]) + 1;
	}
	char *sig = malloc(len);
	if (sig == NULL) {
		return NULL;
	}
	size_t off = (size_t)snprintf(sig, len,
				      "t=%u s=%u m=%u c=%zu ttl=%u-%u/%u ta=%s f=",
				      s->timeout_ms, s->stale_ttl,
				      s->max_stale, s->cache_size, s->min_ttl,
				      s->max_ttl, s->max_neg_ttl,
				      s->trust_anchor_file != NULL
					      ? s->trust_anchor_file
					      : "");
	for (size_t i = 0; i < s->n_forward; i++) {
		off += (size_t)snprintf(sig + off, len - off, "%s,",
					s->forward[i]);
	}
	off += (size_t)snprintf(sig + off, len - off, " s=");
	for (size_t i = 0; i < s->n_stub; i++) {
		off += (size_t)snprintf(sig + off, len - off, "%s,", s->stub[i]);
	}
	return sig;
}

static int create(const struct aname_knot_settings *s, aname_ctx_t **out,
		  const char **err)
{
	aname_config_t *cfg = aname_config_new();
	if (cfg == NULL) {
		*err = "out of memory";
		return ANAME_ENOMEM;
	}
	int rc = aname_knot_settings_apply(s, cfg, err);
	if (rc == ANAME_OK) {
		rc = aname_config_set_thread(cfg, 1);
	}
	if (rc == ANAME_OK) {
		/* Into knotd's log (logsink.c); knotd's own log config filters. */
		rc = aname_config_set_log(cfg, ANAME_LOG_INFO, aname_knot_log_cb,
					  NULL);
	}
	if (rc == ANAME_OK) {
		rc = aname_ctx_new(out, cfg);
		if (rc != ANAME_OK) {
			*err = errf("cannot create the resolver context", "",
				    rc);
		}
	}
	aname_config_free(cfg);
	return rc;
}

int aname_knot_shared_acquire(const struct aname_knot_settings *s,
			      aname_ctx_t **ctx, bool *differs,
			      const char **err)
{
	char *sig = settings_sig(s);
	if (sig == NULL) {
		*err = "out of memory";
		return ANAME_ENOMEM;
	}
	*differs = false;

	pthread_mutex_lock(&shared_lock);
	bool same = shared_sig != NULL && strcmp(sig, shared_sig) == 0;
	if (shared_ctx != NULL && shared_refs == 0 && !same) {
		/* Parked with settings nobody uses any more. */
		aname_ctx_free(shared_ctx);
		shared_ctx = NULL;
	}
	if (shared_ctx == NULL) {
		int rc = create(s, &shared_ctx, err);
		if (rc != ANAME_OK) {
			shared_ctx = NULL;
			pthread_mutex_unlock(&shared_lock);
			free(sig);
			return rc;
		}
		free(shared_sig);
		shared_sig = sig;
		sig = NULL;
	} else if (!same) {
		*differs = true;
	}
	shared_refs++;
	*ctx = shared_ctx;
	pthread_mutex_unlock(&shared_lock);
	free(sig);
	return ANAME_OK;
}

void aname_knot_shared_release(void)
{
	pthread_mutex_lock(&shared_lock);
	if (shared_refs > 0) {
		shared_refs--;
	}
	pthread_mutex_unlock(&shared_lock);
}

/* knotd dlclose()s the module when the last configuration using it is freed,
 * and at exit: the library thread must be joined before the code it runs
 * disappears. */
__attribute__((destructor)) static void shared_fini(void)
{
	pthread_mutex_lock(&shared_lock);
	if (shared_refs == 0 && shared_ctx != NULL) {
		aname_ctx_free(shared_ctx);
		shared_ctx = NULL;
		free(shared_sig);
		shared_sig = NULL;
	}
	pthread_mutex_unlock(&shared_lock);
}
