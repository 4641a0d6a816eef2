/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file result.c
 * \brief Immutable, reference-counted results and their accessors.
 *
 * A per-type result is built once (answer.c) and then only read: the
 * cache, callbacks and hosts share it across threads, so the only mutable
 * field is the atomic reference count.  Whether a result is fresh or stale
 * is not stored but derived from its expiry and the clock, so a result a
 * host keeps past its TTL reports itself stale, as it is.
 */
#include "result.h"

#include "clock.h"

#include <stdlib.h>
#include <string.h>

static size_t addr_len(uint16_t rrtype)
{
	return rrtype == ANAME_RRTYPE_AAAA ? 16 : 4;
}

/* What data[] holds before the target text. */
static size_t head_len(uint16_t rrtype, size_t count)
{
	return rrtype == ANAME_RRTYPE_BOTH ? sizeof(struct aname_result_pair)
					   : count * addr_len(rrtype);
}

aname_result_t *aname__result_new(uint16_t rrtype, const char *target,
				  size_t count)
{
	size_t tlen = strlen(target);
	size_t alen = head_len(rrtype, count);
	if (count > UINT16_MAX || tlen > UINT16_MAX) {
		return NULL;
	}
	aname_result_t *res = calloc(1, sizeof(*res) + alen + tlen + 1);
	if (res == NULL) {
		return NULL;
	}
	atomic_init(&res->refs, 1);
	res->rrtype = rrtype;
	res->count = (uint16_t)count;
	res->target_len = (uint16_t)tlen;
	memcpy(res->data + alen, target, tlen + 1);
	return res;
}

aname_result_t *aname__result_failure(uint16_t rrtype, const char *target,
				      int status)
{
	aname_result_t *res = aname__result_new(rrtype, target, 0);
	if (res != NULL) {
		res->status = (int16_t)status;
		res->rcode = -1;
	}
	return res;
}

aname_result_t *aname__result_both(const char *target, aname_result_t *a,
				   int a_status, aname_result_t *aaaa,
				   int aaaa_status)
{
	aname_result_t *res = aname__result_new(ANAME_RRTYPE_BOTH, target, 0);
	if (res == NULL) {
		return NULL;
	}
	struct aname_result_pair *pair = aname__result_pair(res);
	pair->parts[0] = aname_result_ref(a);
	pair->parts[1] = aname_result_ref(aaaa);
	pair->part_status[0] = a != NULL ? a->status : a_status;
	pair->part_status[1] = aaaa != NULL ? aaaa->status : aaaa_status;
	res->status = (int16_t)(pair->part_status[0] == ANAME_OK ||
						pair->part_status[1] == ANAME_OK
					? ANAME_OK
					: pair->part_status[0]);
	res->secure = (a == NULL || a->secure) && (aaaa == NULL || aaaa->secure);
	return res;
}

uint8_t *aname__result_addrs(aname_result_t *res)
{
	return res->data;
}

size_t aname__result_bytes(const aname_result_t *res)
{
	return sizeof(*res) + head_len(res->rrtype, res->count) +
	       res->target_len + 1;
}

aname_result_t *aname_result_ref(const aname_result_t *res)
{
	if (res == NULL) {
		return NULL;
	}
	aname_result_t *r = (aname_result_t *)res;
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}

void aname_result_unref(aname_result_t *res)
{
	if (res == NULL) {
		return;
	}
	if (atomic_fetch_sub_explicit(&res->refs, 1, memory_order_acq_rel) !=
	    1) {
		return;
	}
	if (res->rrtype == ANAME_RRTYPE_BOTH) {
		aname_result_unref(aname__result_pair(res)->parts[0]);
		aname_result_unref(aname__result_pair(res)->parts[1]);
	}
	free(res);
}

/* The per-type result for \a rrtype, or NULL with *status explaining. */
static const aname_result_t *part(const aname_result_t *res, uint16_t rrtype,
				  int *status)
{
	*status = ANAME_ENOENT;
	if (res == NULL ||
	    (rrtype != ANAME_RRTYPE_A && rrtype != ANAME_RRTYPE_AAAA)) {
		*status = ANAME_EINVAL;
		return NULL;
	}
	if (res->rrtype == ANAME_RRTYPE_BOTH) {
		int i = rrtype == ANAME_RRTYPE_A ? 0 : 1;
		*status = aname__result_pair(res)->part_status[i];
		return aname__result_pair(res)->parts[i];
	}
	if (res->rrtype != rrtype) {
		return NULL;
	}
	*status = res->status;
	return res;
}

const char *aname_result_target(const aname_result_t *res)
{
	if (res == NULL) {
		return NULL;
	}
	return (const char *)res->data + head_len(res->rrtype, res->count);
}

int aname_result_status(const aname_result_t *res, uint16_t rrtype)
{
	int status;
	part(res, rrtype, &status);
	return status;
}

int aname_result_rcode(const aname_result_t *res, uint16_t rrtype)
{
	int status;
	const aname_result_t *p = part(res, rrtype, &status);
	return p != NULL && p->status == ANAME_OK ? p->rcode : -1;
}

uint32_t aname_result_ttl(const aname_result_t *res, uint16_t rrtype)
{
	int status;
	const aname_result_t *p = part(res, rrtype, &status);
	return p != NULL ? aname__result_ttl_at(p, aname__now_coarse_ms()) : 0;
}

size_t aname_result_count(const aname_result_t *res, uint16_t rrtype)
{
	int status;
	const aname_result_t *p = part(res, rrtype, &status);
	return p != NULL && p->status == ANAME_OK ? p->count : 0;
}

int aname_result_addr(const aname_result_t *res, uint16_t rrtype, size_t i,
		      void *buf, size_t buflen)
{
	int status;
	if (buf == NULL) {
		return ANAME_EINVAL;
	}
	const aname_result_t *p = part(res, rrtype, &status);
	if (p == NULL) {
		return status == ANAME_EINVAL ? ANAME_EINVAL : ANAME_ENOENT;
	}
	if (p->status != ANAME_OK || i >= p->count) {
		return ANAME_ENOENT;
	}
	size_t len = addr_len(rrtype);
	if (buflen < len) {
		return ANAME_ENOSPC;
	}
	memcpy(buf, p->data + i * len, len);
	return (int)len;
}

unsigned aname_result_chain(const aname_result_t *res, uint16_t rrtype)
{
	int status;
	const aname_result_t *p = part(res, rrtype, &status);
	return p != NULL ? p->chain : 0;
}

int aname_result_secure(const aname_result_t *res)
{
	return res != NULL && res->secure ? 1 : 0;
}

int aname_result_stale(const aname_result_t *res)
{
	if (res == NULL) {
		return 0;
	}
	uint64_t now = aname__now_coarse_ms();
	if (res->rrtype == ANAME_RRTYPE_BOTH) {
		const struct aname_result_pair *pair = aname__result_pair(res);
		for (int i = 0; i < 2; i++) {
			if (pair->parts[i] != NULL &&
			    aname__result_expired(pair->parts[i], now)) {
				return 1;
			}
		}
		return 0;
	}
	return res->status == ANAME_OK && aname__result_expired(res, now);
}
