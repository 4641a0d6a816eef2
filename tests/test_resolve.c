/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Resolution against a real th_nsd serving tests/fixtures/zones: records,
 * the TTL rule along CNAME chains, negative answers, loops, chain limits
 * and truncation.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static aname_ctx_t *ctx;

static void setup(void)
{
	th_up_nsd();
	ctx = th_ctx(ts_nsd_port(th_nsd), NULL);
}

static void teardown(void)
{
	aname_ctx_free(ctx);
	th_down();
}

TestSuite(resolve, .init = setup, .fini = teardown, .timeout = 30);

static void addr_str(const aname_result_t *res, uint16_t t, size_t i,
		     char *buf)
{
	uint8_t a[16];
	int n = aname_result_addr(res, t, i, a, sizeof(a));
	cr_assert(n == 4 || n == 16);
	inet_ntop(n == 4 ? AF_INET : AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

Test(resolve, a_records)
{
	th_done_t d = {0};
	char s[INET6_ADDRSTRLEN];
	cr_assert_eq(th_resolve(ctx, "www.example.test", ANAME_RRTYPE_A, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 2);
	addr_str(d.res, ANAME_RRTYPE_A, 0, s);
	cr_assert_str_eq(s, "192.0.2.1");
	addr_str(d.res, ANAME_RRTYPE_A, 1, s);
	cr_assert_str_eq(s, "192.0.2.2");
	cr_assert_eq(aname_result_rcode(d.res, ANAME_RRTYPE_A), 0);
	uint32_t ttl = aname_result_ttl(d.res, ANAME_RRTYPE_A);
	cr_assert(ttl <= 300 && ttl >= 298, "ttl %u", ttl);
	cr_assert_str_eq(aname_result_target(d.res), "www.example.test.");
	cr_assert_eq(aname_result_stale(d.res), 0);
	cr_assert_eq(aname_result_status(d.res, ANAME_RRTYPE_AAAA),
		     ANAME_ENOENT);
	th_done_clear(&d);
}

Test(resolve, aaaa_and_both)
{
	th_done_t d = {0};
	char s[INET6_ADDRSTRLEN];
	cr_assert_eq(th_resolve(ctx, "WWW.Example.TEST.", ANAME_RRTYPE_BOTH, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 2);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_AAAA), 1);
	addr_str(d.res, ANAME_RRTYPE_AAAA, 0, s);
	cr_assert_str_eq(s, "2001:db8::1");
	cr_assert_str_eq(aname_result_target(d.res), "www.example.test.");
	th_done_clear(&d);
}

Test(resolve, chain_ttl_is_minimum_along_chain)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "c1.example.test", ANAME_RRTYPE_A, 0, &d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 2);
	cr_assert_eq(aname_result_chain(d.res, ANAME_RRTYPE_A), 3);
	uint32_t ttl = aname_result_ttl(d.res, ANAME_RRTYPE_A);
	cr_assert(ttl <= 50 && ttl >= 48, "chain TTL min is 50, got %u", ttl);
	cr_assert_eq(aname_synth_ttl(d.res, ANAME_RRTYPE_A, 30), 30);
	cr_assert(aname_synth_ttl(d.res, ANAME_RRTYPE_A, 3600) <= 50);
	th_done_clear(&d);
}

Test(resolve, cross_zone_chain)
{
	th_done_t d = {0};
	char s[INET6_ADDRSTRLEN];
	cr_assert_eq(th_resolve(ctx, "ext.example.test", ANAME_RRTYPE_A, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 1);
	addr_str(d.res, ANAME_RRTYPE_A, 0, s);
	cr_assert_str_eq(s, "198.51.100.7");
	cr_assert(aname_result_ttl(d.res, ANAME_RRTYPE_A) <= 30);
	th_done_clear(&d);
}

Test(resolve, nxdomain_is_success_with_no_records)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "nothere.example.test", ANAME_RRTYPE_A, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_rcode(d.res, ANAME_RRTYPE_A), 3);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 0);
	uint32_t ttl = aname_result_ttl(d.res, ANAME_RRTYPE_A);
	cr_assert(ttl <= 300 && ttl >= 298, "RFC 2308 TTL, got %u", ttl);
	th_done_clear(&d);
}

Test(resolve, nodata_is_success_with_no_records)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "nodata.example.test", ANAME_RRTYPE_AAAA,
				0, &d),
		     ANAME_OK);
	cr_assert_eq(aname_result_rcode(d.res, ANAME_RRTYPE_AAAA), 0);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_AAAA), 0);
	cr_assert(aname_result_ttl(d.res, ANAME_RRTYPE_AAAA) > 0);
	th_done_clear(&d);
}

Test(resolve, dangling_chain_is_nxdomain)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "dangling.example.test", ANAME_RRTYPE_A,
				0, &d),
		     ANAME_OK);
	cr_assert_eq(aname_result_rcode(d.res, ANAME_RRTYPE_A), 3);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 0);
	th_done_clear(&d);
}

Test(resolve, cname_loop_fails_fast)
{
	th_done_t d = {0};
	int64_t t0 = ts_now_ms();
	int st = th_resolve(ctx, "loop1.example.test", ANAME_RRTYPE_A, 0, &d);
	cr_assert(st == ANAME_ESERVFAIL || st == ANAME_OK,
		  "loop: %s", aname_status_name(st));
	if (st == ANAME_OK) {
		cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 0);
	}
	cr_assert_lt(ts_now_ms() - t0, 1000, "a loop must not take long");
	th_done_t e = {0};
	st = th_resolve(ctx, "self.example.test", ANAME_RRTYPE_A, 0, &e);
	cr_assert(st == ANAME_ESERVFAIL || st == ANAME_OK);
	th_done_clear(&d);
	th_done_clear(&e);
}

Test(resolve, chain_over_limit_is_eloop)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "l1.example.test", ANAME_RRTYPE_A, 0, &d),
		     ANAME_ELOOP);
	cr_assert_null(d.res);
}

/* 20 hops: libunbound alone would give up after 11 restarts and say
 * SERVFAIL; the documented outcome is ELOOP, at any max_chain. */
Test(resolve, twenty_hop_chain_is_eloop)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "hop1.example.test", ANAME_RRTYPE_A, 0, &d),
		     ANAME_ELOOP, "%s", aname_status_name(d.status));
	th_done_clear(&d);
	/* hop4 is 17 hops from www: still past the largest limit. */
	aname_config_t *cfg = th_config(ts_nsd_port(th_nsd));
	aname_config_set_max_chain(cfg, 16);
	aname_ctx_t *c16;
	cr_assert_eq(aname_ctx_new(&c16, cfg), ANAME_OK);
	aname_config_free(cfg);
	th_done_t e = {0};
	cr_assert_eq(th_resolve(c16, "hop4.example.test", ANAME_RRTYPE_A, 0, &e),
		     ANAME_ELOOP, "%s", aname_status_name(e.status));
	th_done_clear(&e);
	th_done_t f = {0};
	cr_assert_eq(th_resolve(c16, "hop5.example.test", ANAME_RRTYPE_A, 0, &f),
		     ANAME_OK, "16 hops are within the limit");
	th_done_clear(&f);
	aname_ctx_free(c16);
}

/* TTL 0: served with TTL 0, and visible to a synchronous host (the
 * cache lookup) for the hold time. */
Test(resolve, ttl_zero_is_served_and_held_briefly)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "zero.example.test", ANAME_RRTYPE_A, 0, &d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 1);
	cr_assert_eq(aname_result_ttl(d.res, ANAME_RRTYPE_A), 0);
	th_done_clear(&d);
	aname_result_t *res = NULL;
	cr_assert_eq(aname_cache_lookup(ctx, "zero.example.test",
					ANAME_RRTYPE_A, 0, &res),
		     ANAME_OK, "a synchronous host sees the TTL-0 answer");
	cr_assert_eq(aname_result_ttl(res, ANAME_RRTYPE_A), 0);
	cr_assert_eq(aname_result_stale(res), 0);
	aname_result_unref(res);
}

Test(resolve, big_answer_over_tcp)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "big.example.test", ANAME_RRTYPE_A, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 100);
	th_done_clear(&d);
}

Test(resolve, bad_names_rejected_without_callback)
{
	static const char *bad[] = {
		"a..b", ".a", "a\\", "a\\25", "a\\256",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
	};
	th_done_t d = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aname_qid_t qid = 99;
		cr_assert_eq(aname_resolve(ctx, bad[i], ANAME_RRTYPE_A, 0,
					   th_on_done, &d, &qid),
			     ANAME_EBADNAME, "%s", bad[i]);
		cr_assert_eq(qid, 0);
	}
	cr_assert_eq(aname_resolve(ctx, "www.example.test", 16, 0, th_on_done,
				   &d, NULL),
		     ANAME_EINVAL, "TXT is not a supported type");
	cr_assert_eq(aname_resolve(ctx, "www.example.test", 1, 0, NULL, &d,
				   NULL),
		     ANAME_EINVAL);
	th_run(ctx, 100);
	cr_assert_eq(atomic_load(&d.calls), 0);
	uint64_t n = 1;
	aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &n);
	cr_assert_eq(n, 0, "bad input changes nothing");
}

Test(resolve, synthesized_text_and_wire)
{
	th_done_t d = {0};
	char text[512];
	uint8_t owner[256], wire[512];
	size_t olen, wlen;
	cr_assert_eq(th_resolve(ctx, "www.example.test", ANAME_RRTYPE_BOTH, 0,
				&d),
		     ANAME_OK);
	int n = aname_synth_text(d.res, ANAME_RRTYPE_BOTH, "alias.test", 120,
				 text, sizeof(text));
	cr_assert_gt(n, 0);
	cr_assert_str_eq(text, "alias.test.\t120\tIN\tA\t192.0.2.1\n"
			       "alias.test.\t120\tIN\tA\t192.0.2.2\n"
			       "alias.test.\t120\tIN\tAAAA\t2001:db8::1\n");
	cr_assert_eq(aname_name_to_wire("alias.test", owner, sizeof(owner),
					&olen),
		     ANAME_OK);
	cr_assert_eq(aname_synth_wire(d.res, ANAME_RRTYPE_A, owner, olen, 120,
				      wire, sizeof(wire), &wlen),
		     2);
	cr_assert_eq(wlen, 2 * (olen + 10 + 4));
	th_done_clear(&d);
}

Test(resolve, forwarder_mode_reaches_test_names)
{
	aname_config_t *cfg = aname_config_new();
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", ts_nsd_port(th_nsd));
	cr_assert_eq(aname_config_add_forwarder(cfg, addr), ANAME_OK);
	aname_ctx_t *fctx = NULL;
	cr_assert_eq(aname_ctx_new(&fctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	th_done_t d = {0};
	cr_assert_eq(th_resolve(fctx, "www.example.test", ANAME_RRTYPE_A, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 2);
	th_done_clear(&d);
	aname_ctx_free(fctx);
}

Test(resolve, lookup_by_wire_name)
{
	th_done_t d = {0};
	uint8_t wire[255];
	size_t len;
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	cr_assert_eq(aname_name_to_wire("WWW.example.TEST", wire, sizeof(wire),
					&len),
		     ANAME_OK);
	aname_result_t *res = NULL;
	cr_assert_eq(aname_cache_lookup_wire(ctx, wire, len, 1, 0, &res),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(res, 1), 2);
	aname_result_unref(res);
	cr_assert_eq(aname_cache_lookup_wire(ctx, wire, len - 1, 1, 0, &res),
		     ANAME_EBADNAME, "length must match the name");
	wire[0] = 70; /* label longer than 63 */
	cr_assert_eq(aname_cache_lookup_wire(ctx, wire, len, 1, 0, &res),
		     ANAME_EBADNAME);
	cr_assert_null(res);
}

/* \a name in wire form into \a buf (255 octets); returns its length. */
static size_t wire_of(const char *name, uint8_t *buf)
{
	size_t len = 0;
	cr_assert_eq(aname_name_to_wire(name, buf, 255, &len), ANAME_OK,
		     "%s", name);
	return len;
}

/* aname_cache_synth_wire() writes exactly what the two-call path writes. */
Test(resolve, cache_synth_wire_matches_lookup_and_synth)
{
	th_done_t d = {0};
	uint8_t target[255], owner[255], buf[512], ref[512];
	size_t tlen, olen, n = 99, rn = 0;
	unsigned info = 99;
	tlen = wire_of("WWW.example.TEST", target);
	olen = wire_of("alias.example.test", owner);
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 3600, buf, sizeof(buf), &n,
					    &info),
		     ANAME_EAGAIN, "nothing cached yet");
	cr_assert_eq(n, 0);
	cr_assert_eq(info, 0);
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);

	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 3600, buf, sizeof(buf), &n,
					    &info),
		     2);
	cr_assert_eq(n, 2 * (olen + 10 + 4));
	cr_assert_eq(info, 0, "fresh, not validated, exists");
	aname_result_t *res = NULL;
	cr_assert_eq(aname_cache_lookup_wire(ctx, target, tlen, 1, 0, &res),
		     ANAME_OK);
	cr_assert_eq(aname_synth_wire(res, 1, owner, olen, 3600, ref,
				      sizeof(ref), &rn),
		     2);
	aname_result_unref(res);
	cr_assert_eq(rn, n);
	/* The TTL is the record's (300 s, counting down), not the ALIAS's;
	 * the two calls may straddle a second, so compare around it. */
	cr_assert_eq(memcmp(buf, ref, olen + 4), 0);
	cr_assert_eq(memcmp(buf + olen + 8, ref + olen + 8, n - olen - 8), 0);
	uint32_t ttl = (uint32_t)buf[olen + 4] << 24 | buf[olen + 5] << 16 |
		       buf[olen + 6] << 8 | buf[olen + 7];
	cr_assert(ttl >= 298 && ttl <= 300, "ttl %u", ttl);
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 60, buf, sizeof(buf), &n,
					    NULL),
		     2);
	cr_assert_eq(buf[olen + 7], 60, "capped by the ALIAS TTL");

	/* Too small a buffer: nothing usable, nothing claimed. */
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 60, buf, olen + 14, &n,
					    &info),
		     ANAME_ENOSPC);
	cr_assert_eq(n, 0);
	cr_assert_eq(info, 0);
}

Test(resolve, cache_synth_wire_rejects_bad_input)
{
	uint8_t target[255], owner[255], buf[512];
	size_t tlen, olen, n;
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.example.test", 1, 0, &d), ANAME_OK);
	th_done_clear(&d);
	tlen = wire_of("www.example.test", target);
	olen = wire_of("alias.example.test", owner);
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen,
					    ANAME_RRTYPE_BOTH, 0, owner, olen,
					    60, buf, sizeof(buf), &n, NULL),
		     ANAME_EINVAL);
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 1u << 7,
					    owner, olen, 60, buf, sizeof(buf),
					    &n, NULL),
		     ANAME_EINVAL, "unknown flag");
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 60, NULL, 0, &n, NULL),
		     ANAME_EINVAL);
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen - 1, 60, buf, sizeof(buf), &n,
					    NULL),
		     ANAME_EBADNAME, "owner length must match");
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen - 1, 1,
					    ANAME_LOOKUP_FETCH, owner, olen,
					    60, buf, sizeof(buf), &n, NULL),
		     ANAME_EBADNAME, "target length must match");
	cr_assert_eq(aname_cache_synth_wire(ctx, target, 256, 1, 0, owner,
					    olen, 60, buf, sizeof(buf), &n,
					    NULL),
		     ANAME_EBADNAME, "longer than a name can be");
	target[0] = 70; /* a label longer than 63 */
	cr_assert_eq(aname_cache_synth_wire(ctx, target, tlen, 1,
					    ANAME_LOOKUP_FETCH, owner, olen,
					    60, buf, sizeof(buf), &n, NULL),
		     ANAME_EBADNAME);
	uint64_t up = 0;
	cr_assert_eq(aname_stats_get(ctx, ANAME_STAT_UPSTREAM_QUERIES, &up),
		     ANAME_OK);
	cr_assert_eq(up, 1, "bad names started no fetch");
}

/* A miss with ANAME_LOOKUP_FETCH starts the resolution; a later call
 * answers from it.  An NXDOMAIN target answers 0 records, flagged. */
Test(resolve, cache_synth_wire_fetches_on_miss)
{
	uint8_t target[255], owner[255], buf[512];
	size_t tlen, olen, n;
	unsigned info;
	tlen = wire_of("nosuch.example.test", target);
	olen = wire_of("alias.example.test", owner);
	int rc = aname_cache_synth_wire(ctx, target, tlen, 1,
					ANAME_LOOKUP_FETCH, owner, olen, 60,
					buf, sizeof(buf), &n, &info);
	cr_assert_eq(rc, ANAME_EAGAIN);
	/* Await the background fetch: drive the loop until the cache has
	 * it (5 s at most). */
	for (int i = 0; i < 100 && rc == ANAME_EAGAIN; i++) {
		struct pollfd p = { aname_fd(ctx), POLLIN, 0 };
		(void)poll(&p, 1, 50);
		cr_assert_geq(aname_process(ctx), 0);
		rc = aname_cache_synth_wire(ctx, target, tlen, 1, 0, owner,
					    olen, 60, buf, sizeof(buf), &n,
					    &info);
	}
	cr_assert_eq(rc, 0, "NXDOMAIN: no records (%d)", rc);
	cr_assert_eq(n, 0);
	cr_assert_eq(info, ANAME_ANSWER_NXDOMAIN);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* A submit's wake is written after the context lock is dropped
 * (aname__ctx_unlock, lib/ctx.h).  Lost there, each resolution would
 * wait for the watchdog's next probe to wake the driver: about half a
 * second on average, up to one.  Answers from the local nsd take about a
 * millisecond. */
Test(resolve, every_resolve_wakes_the_driver_at_once)
{
	enum { N = 20 };
	int64_t took[N];
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "wake%d.example.test", i);
		th_done_t d = {0};
		int64_t t0 = ts_now_ms();
		cr_assert_eq(th_resolve(ctx, name, ANAME_RRTYPE_A, 3000, &d),
			     ANAME_OK);
		took[i] = ts_now_ms() - t0;
		cr_assert_eq(aname_result_rcode(d.res, ANAME_RRTYPE_A), 3);
		th_done_clear(&d);
	}
	qsort(took, N, sizeof(took[0]), cmp_i64);
	cr_assert_lt(took[N / 2], 100, "median %lld ms, slowest %lld ms",
		     (long long)took[N / 2], (long long)took[N - 1]);
}

/* The same for the lookup path: a miss starts a background fetch under
 * the context lock (lookup.c), and the answer must not wait for the
 * watchdog either. */
Test(resolve, lookup_miss_wakes_the_driver_at_once)
{
	enum { N = 20 };
	int64_t took[N];
	for (int i = 0; i < N; i++) {
		char name[64];
		aname_result_t *res = NULL;
		snprintf(name, sizeof(name), "miss%d.example.test", i);
		int64_t t0 = ts_now_ms();
		int rc = aname_cache_lookup(ctx, name, ANAME_RRTYPE_A,
					    ANAME_LOOKUP_FETCH, &res);
		cr_assert_eq(rc, ANAME_EAGAIN);
		while (rc == ANAME_EAGAIN && ts_now_ms() - t0 < 3000) {
			struct pollfd p = { aname_fd(ctx), POLLIN, 0 };
			(void)poll(&p, 1, 5);
			cr_assert_geq(aname_process(ctx), 0);
			rc = aname_cache_lookup(ctx, name, ANAME_RRTYPE_A, 0,
						&res);
		}
		took[i] = ts_now_ms() - t0;
		cr_assert_eq(rc, ANAME_OK, "%s: %s", name, aname_strerror(rc));
		aname_result_unref(res);
	}
	qsort(took, N, sizeof(took[0]), cmp_i64);
	cr_assert_lt(took[N / 2], 100, "median %lld ms, slowest %lld ms",
		     (long long)took[N / 2], (long long)took[N - 1]);
}
