/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/*
 * libaname-pdns.so: one libaname context per process (and configuration),
 * shared by every Lua state of PowerDNS's lua2 backend.
 *
 * Why a C helper at all: pdns gives each backend instance its own Lua state
 * (one per distributor thread, one for TCP, and short-lived ones for the
 * zone-cache refresh and the API).  Lua states cannot share a pointer with
 * each other, so without this every state would own a context: its own
 * resolver thread, its own cache (cold whenever pdns makes a new state) and
 * its own refreshes of every registered target.  A process-global table
 * behind a mutex is all it takes; the library itself is untouched.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aname.h"
#include "aname_pdns_http.h"

#define PDNS_API __attribute__((visibility("default")))

typedef struct shared {
	struct shared *next;
	char *key;
	aname_ctx_t *ctx;
	unsigned refs;
	struct aname_pdns_http *http; /* /metrics, /health; NULL: none */
} shared_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shared_t *head;

PDNS_API int aname_pdns_ctx_acquire(const char *key, const aname_config_t *cfg,
				    aname_ctx_t **out);
PDNS_API void aname_pdns_ctx_release(aname_ctx_t *ctx);
PDNS_API int aname_pdns_metrics_listen(aname_ctx_t *ctx, const char *ip,
				       unsigned port);

/*
 * Return the context for \a key, creating it from \a cfg on first use.
 * \return 1 created, 0 shared an existing one, or a negative ANAME_E*.
 */
int aname_pdns_ctx_acquire(const char *key, const aname_config_t *cfg,
			   aname_ctx_t **out)
{
	if (key == NULL || cfg == NULL || out == NULL) {
		return ANAME_EINVAL;
	}
	*out = NULL;
	pthread_mutex_lock(&lock);
	for (shared_t *s = head; s != NULL; s = s->next) {
		if (strcmp(s->key, key) == 0) {
			s->refs++;
			*out = s->ctx;
			pthread_mutex_unlock(&lock);
			return 0;
		}
	}
	shared_t *s = calloc(1, sizeof(*s));
	char *k = strdup(key);
	if (s == NULL || k == NULL) {
		pthread_mutex_unlock(&lock);
		free(s);
		free(k);
		return ANAME_ENOMEM;
	}
	/* Created under the lock: two states starting together must not make
	 * two contexts.  This happens at backend creation, not per query. */
	int rc = aname_ctx_new(&s->ctx, cfg);
	if (rc != ANAME_OK) {
		pthread_mutex_unlock(&lock);
		free(s);
		free(k);
		return rc;
	}
	s->key = k;
	s->refs = 1;
	s->next = head;
	head = s;
	*out = s->ctx;
	pthread_mutex_unlock(&lock);
	return 1;
}

/* Drop one reference; the last one frees the context (and joins its thread). */
void aname_pdns_ctx_release(aname_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	shared_t *victim = NULL;
	pthread_mutex_lock(&lock);
	for (shared_t **p = &head; *p != NULL; p = &(*p)->next) {
		if ((*p)->ctx == ctx) {
			if (--(*p)->refs == 0) {
				victim = *p;
				*p = victim->next;
			}
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (victim != NULL) {
		aname_pdns_http_stop(victim->http);
		aname_ctx_free(victim->ctx);
		free(victim->key);
		free(victim);
	}
}

/*
 * Serve /metrics and /health of a shared context on ip:port.  Every Lua
 * state calls this after acquiring the context; the first call listens,
 * the others find it listening.  The endpoint lives until the context is
 * freed (its last release).
 * \return 0 (listening now or already), or a library status.
 */
int aname_pdns_metrics_listen(aname_ctx_t *ctx, const char *ip,
			      unsigned port)
{
	if (ctx == NULL || ip == NULL) {
		return ANAME_EINVAL;
	}
	int rc = ANAME_EINVAL;
	pthread_mutex_lock(&lock);
	for (shared_t *s = head; s != NULL; s = s->next) {
		if (s->ctx == ctx) {
			rc = s->http != NULL
				     ? ANAME_OK
				     : aname_pdns_http_start(ctx, ip, port,
							     &s->http);
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
