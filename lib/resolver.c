/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file resolver.c
 * \brief The libunbound driver: create, submit, cancel, probe, replace.
 *
 * Facts this file is built on (verified against libunbound 1.17.1, see
 * shared/notes/libunbound.md):
 *  - ub_ctx_async(ub, 1) must come before the first resolve, or libunbound
 *    forks a worker process inside the host.
 *  - Configuration freezes at finalize, and finalize writes process-global
 *    settings; ub_ctx_create races in log_init (#1492).  Both happen here,
 *    under the library's only global mutex.  ub_ctx_data_add() finalizes,
 *    so it runs last, adding the watchdog's probe record.
 *  - There is no per-query timeout: deadlines are ours (request.c), and
 *    ub_cancel() only suppresses the callback; it does not stop the work.
 *  - ub_wait() can hang forever after a cancel in thread mode: never used.
 *  - A libunbound worker that hangs makes ub_ctx_delete() block in
 *    pthread_join, so a replaced context is deleted on a detached thread.
 */
#include "aname_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unbound.h>

/* The one piece of global mutable state: see the file comment. */
static pthread_mutex_t ub_create_lock = PTHREAD_MUTEX_INITIALIZER;

static int set_opt(struct ub_ctx *ub, const char *opt, const char *val)
{
	return ub_ctx_set_option(ub, opt, val) == 0 ? ANAME_OK
						    : ANAME_ERESOLVER;
}

static int set_num(struct ub_ctx *ub, const char *opt, unsigned long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu", v);
	return set_opt(ub, opt, buf);
}

static int configure(struct ub_ctx *ub, const aname_config_t *cfg)
{
	int rc = ANAME_OK;
	if (ub_ctx_async(ub, 1) != 0) {
		return ANAME_ERESOLVER;
	}
	unsigned ports = cfg->max_fetches * 2u;
	ports = ports < 64 ? 64 : (ports > 4096 ? 4096 : ports);
	unsigned restarts = cfg->max_chain + 8u;
	restarts = restarts < 11 ? 11 : restarts;
	rc |= set_num(ub, "outgoing-range:", ports);
	rc |= set_num(ub, "num-queries-per-thread:", ports);
	rc |= set_num(ub, "max-query-restarts:", restarts);
	/* Deterministic address order; hosts may rotate themselves. */
	rc |= set_opt(ub, "rrset-roundrobin:", "no");
	/* The library serves stale itself, with its own limits. */
	rc |= set_opt(ub, "prefetch:", "yes");
	rc |= set_opt(ub, "serve-expired:", "no");
	/* libunbound's own cache would hand a refresh-ahead its cached copy
	 * back, expiring when ours does.  Its prefetch makes a refresh that
	 * arrives in the last 10 % of a TTL fetch anew in the background,
	 * and request.c retries an unextended refresh 200 ms later; for
	 * short TTLs, answer.c expires our entry with libunbound's copy, so
	 * the refresh at that moment reaches the upstream.  (Shrinking
	 * libunbound's caches instead made it ask twice per resolution;
	 * cache-max-ttl would cap the TTLs it reports, which the TTL rule
	 * needs.) */
	rc |= set_num(ub, "cache-max-ttl:", cfg->max_ttl);
	rc |= set_num(ub, "cache-max-negative-ttl:", cfg->neg_max_ttl);
	/* Loopback forwarders and stubs are normal in tests and in hosts that
	 * run a local resolver. */
	rc |= set_opt(ub, "do-not-query-localhost:", "no");
	if (cfg->trust_anchor_file == NULL) {
		/* Without anchors the validator only costs time. */
		rc |= set_opt(ub, "module-config:", "iterator");
	}
	if (rc != ANAME_OK) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_forwarders; i++) {
		if (ub_ctx_set_fwd(ub, cfg->forwarders[i]) != 0) {
			return ANAME_ERESOLVER;
		}
	}
	/* "Send all queries to the forwarder" includes RFC 6761 test.
	 * names, which libunbound would otherwise answer NXDOMAIN itself;
	 * the forwarder decides.  (invalid., localhost. and onion. stay
	 * local: they never have answers, and the watchdog probe lives in
	 * invalid.) */
	if (cfg->n_forwarders > 0 &&
	    set_opt(ub, "local-zone:", "test. transparent") != ANAME_OK) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_stubs; i++) {
		char zone[ANAME_TEXT_MAX + 16];
		if (ub_ctx_set_stub(ub, cfg->stubs[i].zone, cfg->stubs[i].addr,
				    0) != 0) {
			return ANAME_ERESOLVER;
		}
		/* A stub inside a special-use domain that libunbound answers
		 * itself (test., invalid., ...) would never be asked; a
		 * transparent local zone at the stub makes it reachable and
		 * changes nothing elsewhere. */
		if (strcmp(cfg->stubs[i].zone, ".") != 0) {
			snprintf(zone, sizeof(zone), "%s transparent",
				 cfg->stubs[i].zone);
			if (set_opt(ub, "local-zone:", zone) != ANAME_OK) {
				return ANAME_ERESOLVER;
			}
		}
	}
	for (size_t i = 0; i < cfg->n_local_zones; i++) {
		if (set_opt(ub, "local-zone:", cfg->local_zones[i]) !=
		    ANAME_OK) {
			return ANAME_ERESOLVER;
		}
	}
	if (cfg->trust_anchor_file != NULL &&
	    ub_ctx_add_ta_file(ub, cfg->trust_anchor_file) != 0) {
		return ANAME_EFILE;
	}
	/* Finalizes the context; everything above must come first. */
	if (ub_ctx_data_add(ub, ANAME_PROBE_NAME " 0 IN TXT \"aname\"") != 0) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_local_data; i++) {
		if (ub_ctx_data_add(ub, cfg->local_data[i]) != 0) {
			return ANAME_EBADRR;
		}
	}
	return ANAME_OK;
}

int aname__ub_create(const aname_config_t *cfg, struct ub_ctx **out)
{
	pthread_mutex_lock(&ub_create_lock);
	struct ub_ctx *ub = ub_ctx_create();
	int rc = ub != NULL ? configure(ub, cfg) : ANAME_ENOMEM;
	pthread_mutex_unlock(&ub_create_lock);
	if (rc != ANAME_OK) {
		ub_ctx_delete(ub);
		return rc;
	}
	*out = ub;
	return ANAME_OK;
}

static void *retire_main(void *arg)
{
	ub_ctx_delete(arg);
	return NULL;
}

void aname__ub_retire(struct ub_ctx *ub)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, retire_main, ub) != 0) {
		/* Leaking a broken resolver beats blocking the host. */
	}
	pthread_attr_destroy(&attr);
}

/* libunbound's callback for fetches; runs inside ub_process(), called from
 * aname_process() with no library lock held. */
static void on_answer(void *arg, int err, struct ub_result *result)
{
	struct aname_fetch *f = arg;
	struct aname_ctx *ctx = f->ctx;
	uint64_t now = aname__now_ms();
	aname_result_t *res = NULL;
	int status;
	if (err != 0 || result == NULL) {
		status = err == UB_SYNTAX ? ANAME_EBADNAME : ANAME_ERESOLVER;
	} else {
		struct aname_answer_limits lim = {
			.max_chain = ctx->cfg.max_chain,
			.min_ttl = ctx->cfg.min_ttl,
			.max_ttl = ctx->cfg.max_ttl,
			.neg_max_ttl = ctx->cfg.neg_max_ttl,
			.stale_ttl = ctx->cfg.stale_ttl,
		};
		status = aname__answer_from_packet(
			result->answer_packet, (size_t)result->answer_len,
			result->rcode, result->secure != 0,
			result->bogus != 0, f->qname, f->key.rrtype, &lim,
			now, &res);
	}
	ub_resolve_free(result);
	pthread_mutex_lock(&ctx->lock);
	aname__fetch_answer(ctx, f, res, status, now);
	pthread_mutex_unlock(&ctx->lock);
	aname_result_unref(res);
}

static void on_probe(void *arg, int err, struct ub_result *result)
{
	struct aname_ctx *ctx = arg;
	(void)err;
	ub_resolve_free(result);
	pthread_mutex_lock(&ctx->lock);
	ctx->probe_outstanding = false;
	pthread_mutex_unlock(&ctx->lock);
}

int aname__ub_submit(struct aname_ctx *ctx, struct aname_fetch *f)
{
	int id = 0;
	int err = ub_resolve_async(ctx->ub, f->qname, f->key.rrtype,
				   1 /* IN */, f, on_answer, &id);
	if (err != 0) {
		return ANAME_ERESOLVER;
	}
	f->ub_id = id;
	f->ub_gen = ctx->ub_gen;
	f->submitted = true;
	ctx->stats.v[ANAME_STAT_UPSTREAM_QUERIES]++;
	return ANAME_OK;
}

void aname__ub_cancel(struct aname_ctx *ctx, struct aname_fetch *f)
{
	if (f->submitted && f->ub_gen == ctx->ub_gen) {
		if (ub_cancel(ctx->ub, f->ub_id) == 0) {
			f->submitted = false;
		}
	} else {
		/* Submitted to a retired context, which will never call
		 * back: nothing to cancel. */
		f->submitted = false;
	}
}

int aname__ub_probe(struct aname_ctx *ctx, uint64_t now_ms)
{
	int id = 0;
	if (ub_resolve_async(ctx->ub, ANAME_PROBE_NAME, 16 /* TXT */, 1, ctx,
			     on_probe, &id) != 0) {
		return ANAME_ERESOLVER;
	}
	ctx->probe_outstanding = true;
	ctx->probe_id = id;
	ctx->probe_sent_ms = now_ms;
	return ANAME_OK;
}

/*
 * The watchdog's remedy: a fresh libunbound context in place of one whose
 * worker stopped answering.  Every fetch still wanted is re-issued on the
 * new context; the old one is never processed again, so none of its
 * callbacks can run, and it is deleted on a detached thread.
 */
int aname__ub_replace(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct ub_ctx *fresh = NULL;
	int rc = aname__ub_create(&ctx->cfg, &fresh);
	if (rc != ANAME_OK) {
		return rc;
	}
	struct ub_ctx *old = ctx->ub;
	epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, ctx->ub_fd, NULL);
	ctx->ub = fresh;
	ctx->ub_fd = ub_fd(fresh);
	ctx->ub_gen++;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ctx->ub_fd};
	epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->ub_fd, &ev);
	ctx->probe_outstanding = false;
	ctx->stall_injected = false;
	ctx->stats.v[ANAME_STAT_WATCHDOG_RESTARTS]++;
	ctx->stats.last_restart_ms = now_ms;
	for (struct aname_fetch *f = ctx->oldest; f != NULL;) {
		struct aname_fetch *next = f->next;
		f->submitted = false;
		/* An orphan's callback will never come now; anything that
		 * cannot be re-issued ends as a timeout. */
		if (f->orphaned || aname__ub_submit(ctx, f) != ANAME_OK) {
			aname__fetch_timeout(ctx, f, now_ms);
		}
		f = next;
	}
	aname__ub_retire(old);
	aname__log(&ctx->log, ANAME_LOG_ERROR,
		   "watchdog: libunbound stopped answering probes; replaced "
		   "it and re-issued %zu resolutions",
		   ctx->n_fetches);
	return ANAME_OK;
}
