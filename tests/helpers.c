/*
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>

ts_nsd_t *th_nsd;
ts_proxy_t *th_px;
ts_blackhole_t *th_bh;

void th_up_nsd(void)
{
	th_nsd = ts_nsd_start(NULL);
	cr_assert_not_null(th_nsd, "nsd must start");
}

void th_up_nsd_proxy(void)
{
	th_up_nsd();
	th_px = ts_proxy_start(ts_nsd_port(th_nsd));
	cr_assert_not_null(th_px, "the proxy must start");
}

void th_up_blackhole(void)
{
	th_bh = ts_blackhole_start();
	cr_assert_not_null(th_bh, "the black hole must start");
}

void th_up_nsd_blackhole(void)
{
	th_up_nsd();
	th_up_blackhole();
}

void th_down(void)
{
	ts_proxy_stop(th_px);
	ts_blackhole_stop(th_bh);
	ts_server_stop(th_nsd);
	th_px = NULL;
	th_bh = NULL;
	th_nsd = NULL;
}

aname_config_t *th_config(int port)
{
	char addr[64];
	char guard[64];
	aname_config_t *cfg = aname_config_new();
	cr_assert_not_null(cfg);
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	int closed = ts_free_port();
	cr_assert(closed > 0);
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", closed);
	cr_assert_eq(aname_config_add_stub(cfg, "example.test", addr), ANAME_OK);
	cr_assert_eq(aname_config_add_stub(cfg, "other.test", addr), ANAME_OK);
	cr_assert_eq(aname_config_add_stub(cfg, ".", guard), ANAME_OK);
	return cfg;
}

aname_ctx_t *th_ctx(int port, th_tweak_fn tweak)
{
	aname_config_t *cfg = th_config(port);
	if (tweak != NULL) {
		tweak(cfg);
	}
	aname_ctx_t *ctx = NULL;
	int rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	cr_assert_eq(rc, ANAME_OK, "aname_ctx_new: %s", aname_strerror(rc));
	return ctx;
}

void th_on_done(void *arg, int status, const aname_result_t *res)
{
	th_done_t *d = arg;
	d->status = status;
	if (d->res == NULL) {
		d->res = aname_result_ref(res);
	}
	d->at_ms = ts_now_ms();
	d->thread = pthread_self();
	atomic_fetch_add(&d->calls, 1);
}

void th_done_clear(th_done_t *d)
{
	aname_result_unref(d->res);
	d->res = NULL;
	atomic_store(&d->calls, 0);
}

void th_run(aname_ctx_t *ctx, int timeout_ms)
{
	int rc = aname_wait(ctx, timeout_ms);
	cr_assert_eq(rc, ANAME_OK, "aname_wait: %s", aname_strerror(rc));
}

int th_resolve(aname_ctx_t *ctx, const char *target, uint16_t type,
	       unsigned timeout_ms, th_done_t *out)
{
	aname_qid_t qid;
	int rc = aname_resolve(ctx, target, type, timeout_ms, th_on_done, out,
			       &qid);
	if (rc != ANAME_OK) {
		return rc;
	}
	th_run(ctx, (int)(timeout_ms ? timeout_ms : 5000) + 2000);
	cr_assert_eq(atomic_load(&out->calls), 1, "exactly one callback");
	return out->status;
}
