/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file request.h
 * \brief Requests (request.c): aname_resolve(), aname_cancel(), their
 * deadlines and stale timers, and the result a callback gets.
 *
 * A request wants one or two types; each type is a "sub" that ends
 * exactly once: from a fresh cache entry, from the fetch it waits on (as
 * a waiter, fetch.h), from stale data (client response timer, failed
 * refresh, backoff, shedding), or from the request's deadline.  When the
 * last sub ends, the request goes to the loop's delivery queue (loop.c),
 * which calls aname__request_deliver() with no lock held.  The invariant
 * tests/test_contract.c checks: every accepted request ends in exactly
 * one callback or one successful aname_cancel().
 */
#ifndef ANAME_REQUEST_H
#define ANAME_REQUEST_H

#include "aname_private.h"
#include "fetch.h"
#include "htab.h"
#include "result.h"
#include "timer.h"

#include <stdbool.h>

struct aname_ctx;
struct aname_request;

enum aname_req_state {
	ANAME_REQ_PENDING,
	ANAME_REQ_QUEUED,     /* in the loop's delivery queue */
	ANAME_REQ_DELIVERING, /* out of the qid table: cancel says ENOENT */
};

struct aname_sub {
	struct aname_waiter w; /* first: the fetch calls back through it */
	struct aname_request *req;
	aname_result_t *res;   /* answer, or stale candidate */
	int status;
	bool done;
};

struct aname_request {
	aname_qid_t qid;
	struct aname_ctx *ctx;
	aname_resolve_cb cb;
	void *arg;
	uint16_t rrtype;
	enum aname_req_state state;
	unsigned pending; /* subs not done yet */
	struct aname_sub sub[2]; /* [0] A, [1] AAAA */
	struct aname_timer deadline;
	struct aname_timer stale_timer;
	void *hlink;                  /* qid table */
	struct aname_request *qnext;  /* delivery queue */
	char target[ANAME_TEXT_MAX];
};

struct aname_requests {
	struct aname_htab tab;
	aname_qid_t next_qid;
};

void aname__requests_init(struct aname_requests *rs);
/* The loop takes a request out of the queue to deliver it: from here on
 * aname_cancel() answers ENOENT.  ctx->lock held. */
void aname__request_unhash(struct aname_ctx *ctx, struct aname_request *r);
/* Run the callback (no lock held) and free the request. */
void aname__request_deliver(struct aname_request *r);
/* aname_ctx_free: end every request not yet delivered with status. */
void aname__requests_abort(struct aname_ctx *ctx, int status);

#endif /* ANAME_REQUEST_H */
