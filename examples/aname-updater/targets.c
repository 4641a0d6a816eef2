/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Target table: a chained hash on the lower-case name.  The library does
 * the caching, deduplication and refresh-ahead; this table only counts
 * users, keeps the last result and remembers each target's full upstream
 * TTL.  libaname reports TTLs counted down since the answer arrived, and
 * publishing a counted-down TTL would make every pass differ from the last;
 * the full TTL is the remaining TTL seen just after it last jumped up by
 * more than 10 % or 2 s (a fresh upstream answer), which stays put until
 * the upstream changes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int upd_targets_init(upd_targets_t *ts, aname_ctx_t *ctx)
{
	memset(ts, 0, sizeof(*ts));
	ts->ctx = ctx;
	ts->nbucket = 4096;
	ts->bucket = calloc(ts->nbucket, sizeof(*ts->bucket));
	pthread_mutex_init(&ts->lock, NULL);
	pthread_cond_init(&ts->done, NULL);
	return ts->bucket ? 0 : -1;
}

static void target_free(upd_targets_t *ts, upd_target_t *t)
{
	if (t->registered)
		aname_target_unregister(ts->ctx, t->name, ANAME_RRTYPE_BOTH);
	aname_result_unref(t->res);
	free(t->name);
	free(t);
}

void upd_targets_free(upd_targets_t *ts)
{
	for (size_t i = 0; i < ts->nbucket; i++)
		while (ts->bucket[i]) {
			upd_target_t *t = ts->bucket[i];
			ts->bucket[i] = t->next;
			target_free(ts, t);
		}
	free(ts->bucket);
	pthread_mutex_destroy(&ts->lock);
	pthread_cond_destroy(&ts->done);
}

static int grow(upd_targets_t *ts)
{
	size_t nb = ts->nbucket * 2;
	upd_target_t **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < ts->nbucket; i++)
		while (ts->bucket[i]) {
			upd_target_t *t = ts->bucket[i];
			ts->bucket[i] = t->next;
			size_t h = hash(t->name) & (nb - 1);
			t->next = b[h];
			b[h] = t;
		}
	free(ts->bucket);
	ts->bucket = b;
	ts->nbucket = nb;
	return 0;
}

static upd_target_t *get(upd_targets_t *ts, const char *name)
{
	size_t h = hash(name) & (ts->nbucket - 1);
	for (upd_target_t *t = ts->bucket[h]; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	if (ts->n >= ts->nbucket && grow(ts) == 0)
		h = hash(name) & (ts->nbucket - 1);
	upd_target_t *t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strdup(name))) {
		free(t);
		return NULL;
	}
	t->status = ANAME_EAGAIN;
	t->next = ts->bucket[h];
	ts->bucket[h] = t;
	ts->n++;
	return t;
}

int upd_targets_attach(upd_targets_t *ts, upd_owners_t *o)
{
	for (size_t i = 0; i < o->n; i++) {
		upd_target_t *t = get(ts, o->v[i].target);
		if (!t)
			return -1;
		t->users++;
		o->v[i].t = t;
	}
	return 0;
}

void upd_targets_detach(upd_targets_t *ts, upd_owners_t *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].t) {
			o->v[i].t->users--;
			o->v[i].t = NULL;
		}
	for (size_t i = 0; i < ts->nbucket; i++)
		for (upd_target_t **pp = &ts->bucket[i]; *pp;) {
			upd_target_t *t = *pp;
			if (t->users == 0) {
				*pp = t->next;
				ts->n--;
				target_free(ts, t);
			} else {
				pp = &t->next;
			}
		}
}

typedef struct {
	upd_targets_t *ts;
	upd_target_t *t;
} req_t;

static void on_done(void *arg, int status, const aname_result_t *res)
{
	req_t *r = arg;
	upd_targets_t *ts = r->ts;
	upd_target_t *t = r->t;
	pthread_mutex_lock(&ts->lock);
	t->status = status;
	if (status == ANAME_OK && res && !aname_result_stale(res)) {
		for (int ti = 0; ti < UPD_NTYPES; ti++) {
			uint32_t d = aname_result_ttl(res, upd_types[ti]);
			uint32_t last = t->last_ttl[ti];
			uint32_t slack = last / 10 > 2 ? last / 10 : 2;
			/* A rise within the slack is rounding, or libunbound
			 * handing back its own counted-down copy at a
			 * refresh: not a fresh upstream TTL. */
			if (!t->seen || d > last + slack)
				t->full_ttl[ti] = d;
			t->last_ttl[ti] = d;
		}
		t->seen = 1;
		aname_result_unref(t->res);
		t->res = aname_result_ref(res);
	} else if (status == ANAME_OK) {
		t->status = ANAME_ESERVFAIL; /* stale only: the refresh failed */
	}
	ts->pending--;
	pthread_cond_broadcast(&ts->done);
	pthread_mutex_unlock(&ts->lock);
	free(r);
}

/* Resolutions in flight at once (each is A and AAAA, two fetches): below
 * the library's default of 256 concurrent fetches, so a first pass over thousands of cold targets is
 * paced instead of shed or timed out in a burst. */
#define UPD_RESOLVE_WINDOW 64

size_t upd_targets_resolve(upd_targets_t *ts, int timeout_ms)
{
	(void)timeout_ms;
	for (size_t i = 0; i < ts->nbucket; i++)
		for (upd_target_t *t = ts->bucket[i]; t; t = t->next) {
			req_t *r = malloc(sizeof(*r));
			pthread_mutex_lock(&ts->lock);
			while (ts->pending >= UPD_RESOLVE_WINDOW)
				pthread_cond_wait(&ts->done, &ts->lock);
			t->status = r ? ANAME_EAGAIN : ANAME_ENOMEM;
			if (r)
				ts->pending++;
			pthread_mutex_unlock(&ts->lock);
			if (!r)
				continue;
			r->ts = ts;
			r->t = t;
			int rc = aname_resolve(ts->ctx, t->name,
					       ANAME_RRTYPE_BOTH, 0, on_done, r,
					       NULL);
			if (rc != ANAME_OK) {
				pthread_mutex_lock(&ts->lock);
				ts->pending--;
				t->status = rc;
				pthread_mutex_unlock(&ts->lock);
				free(r);
			}
		}
	/* Every accepted request is answered by its deadline (the library's
	 * contract), so this ends; requests must not outlive the pass, since
	 * the next AXFR may free their targets. */
	size_t failed = 0;
	upd_target_t *first = NULL;
	pthread_mutex_lock(&ts->lock);
	while (ts->pending > 0)
		pthread_cond_wait(&ts->done, &ts->lock);
	for (size_t i = 0; i < ts->nbucket; i++)
		for (upd_target_t *t = ts->bucket[i]; t; t = t->next)
			if (t->status != ANAME_OK) {
				failed++;
				if (!first)
					first = t;
			}
	ts->failed = failed;
	pthread_mutex_unlock(&ts->lock);
	/* Register once the first answer is in the cache: registering
	 * resolves at once, so registering thousands of cold targets together
	 * would be the burst the window above avoids.  A warm registration
	 * only arms the refresh-ahead timer. */
	for (size_t i = 0; i < ts->nbucket; i++)
		for (upd_target_t *t = ts->bucket[i]; t; t = t->next)
			if (!t->registered && t->status == ANAME_OK &&
			    aname_target_register(ts->ctx, t->name,
						  ANAME_RRTYPE_BOTH) == ANAME_OK)
				t->registered = 1;
	pthread_mutex_lock(&ts->lock);
	if (first)
		snprintf(ts->first_failure, sizeof(ts->first_failure),
			 "%s: %s", first->name, aname_strerror(first->status));
	pthread_mutex_unlock(&ts->lock);
	return failed;
}

int upd_target_desired(const upd_target_t *t, int ti, uint32_t alias_ttl,
		       uint8_t *addr, size_t *n, uint32_t *ttl)
{
	if (t->status != ANAME_OK || !t->res)
		return -1;
	uint16_t type = upd_types[ti];
	if (aname_result_status(t->res, type) != ANAME_OK)
		return -1;
	size_t cnt = aname_result_count(t->res, type), alen = upd_alen(ti);
	if (cnt > UPD_MAX_ADDRS)
		cnt = UPD_MAX_ADDRS;
	for (size_t i = 0; i < cnt; i++)
		if (aname_result_addr(t->res, type, i, addr + i * alen,
				      alen) != (int)alen)
			return -1;
	*n = upd_addr_sort(addr, cnt, alen);
	*ttl = t->full_ttl[ti] < alias_ttl ? t->full_ttl[ti] : alias_ttl;
	return 0;
}
