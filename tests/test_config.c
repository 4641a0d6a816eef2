/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Configuration: every setter rejects bad values with a clear status and
 * leaves the configuration unchanged.
 */
#include <criterion/criterion.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"

static aname_config_t *cfg;

static void setup(void)
{
	cfg = aname_config_new();
	cr_assert_not_null(cfg);
}

static void teardown(void)
{
	aname_config_free(cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, defaults)
{
	cr_assert_eq(cfg->timeout_ms, 1500);
	cr_assert_eq(cfg->max_chain, 8);
	cr_assert_eq(cfg->stale_ttl, 30);
	cr_assert_eq(cfg->backoff_s, 30);
	cr_assert_eq(cfg->n_forwarders, 0, "full recursion by default");
}

Test(config, forwarder_syntax)
{
	const char *good[] = {"127.0.0.1", "127.0.0.1@5353", "::1", "::1@53",
			      "2001:db8::1@65535"};
	const char *bad[] = {"", "localhost", "127.0.0.1@", "127.0.0.1@0",
			     "127.0.0.1@65536", "127.0.0.1@53x", "1.2.3",
			     "127.0.0.1:53", "@53", "127.0.0.1@123456"};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		cr_assert_eq(aname_config_add_forwarder(cfg, good[i]),
			     ANAME_OK, "%s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(aname_config_add_forwarder(cfg, bad[i]),
			     ANAME_EBADADDR, "%s", bad[i]);
	}
	cr_assert_eq(cfg->n_forwarders, sizeof(good) / sizeof(*good));
	cr_assert_eq(aname_config_add_forwarder(cfg, NULL), ANAME_EINVAL);
}

Test(config, forwarder_limit)
{
	for (int i = 0; i < 16; i++) {
		cr_assert_eq(aname_config_add_forwarder(cfg, "127.0.0.1"),
			     ANAME_OK);
	}
	cr_assert_eq(aname_config_add_forwarder(cfg, "127.0.0.1"),
		     ANAME_ERANGE);
}

Test(config, stub_validation)
{
	cr_assert_eq(aname_config_add_stub(cfg, "example.test", "127.0.0.1@53"),
		     ANAME_OK);
	cr_assert_str_eq(cfg->stubs[0].zone, "example.test.");
	cr_assert_eq(aname_config_add_stub(cfg, "a..b", "127.0.0.1"),
		     ANAME_EBADNAME);
	cr_assert_eq(aname_config_add_stub(cfg, "ok.test", "nope"),
		     ANAME_EBADADDR);
	cr_assert_eq(cfg->n_stubs, 1);
}

Test(config, local_zone_and_data)
{
	cr_assert_eq(aname_config_add_local_zone(cfg, "pin.test", "static"),
		     ANAME_OK);
	cr_assert_eq(aname_config_add_local_zone(cfg, "pin.test", "bogus"),
		     ANAME_EINVAL);
	cr_assert_eq(aname_config_add_local_data(
			     cfg, "t.pin.test. 300 IN A 192.0.2.1"),
		     ANAME_OK);
	cr_assert_eq(aname_config_add_local_data(cfg, "t.pin.test. IN A 300.1"),
		     ANAME_EBADRR);
	cr_assert_eq(aname_config_add_local_data(
			     cfg, "t.pin.test. A 192.0.2.1\nx. A 192.0.2.2"),
		     ANAME_EBADRR, "one record per call");
	cr_assert_eq(cfg->n_local_data, 1);
}

Test(config, ranges)
{
	cr_assert_eq(aname_config_set_timeout_ms(cfg, 9), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_timeout_ms(cfg, 60001), ANAME_ERANGE);
	cr_assert_eq(cfg->timeout_ms, 1500, "unchanged after errors");
	cr_assert_eq(aname_config_set_timeout_ms(cfg, 200), ANAME_OK);
	cr_assert_eq(aname_config_set_cache(cfg, 0, 0, 10, 10), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_cache(cfg, 10, 20, 10, 10), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_cache(cfg, 10, 0, 10, 11), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_cache(cfg, 10, 1, 10, 5), ANAME_OK);
	cr_assert_eq(aname_config_set_max_chain(cfg, 17), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_thread(cfg, 2), ANAME_EINVAL);
	cr_assert_eq(aname_config_set_stale(cfg, 0, 10, 10), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_prefetch(cfg, 51), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_backoff(cfg, 3601), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_limits(cfg, 0, 10), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_watchdog(cfg, 10, 100), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_watchdog(cfg, 0, 100), ANAME_OK);
	cr_assert_eq(aname_config_set_log(cfg, 9, NULL, NULL), ANAME_ERANGE);
	cr_assert_eq(aname_config_set_trust_anchor_file(cfg, "/nonexistent"),
		     ANAME_EFILE);
}

Test(config, context_copies_config)
{
	aname_ctx_t *ctx = NULL;
	aname_config_add_local_zone(cfg, "pin.test", "static");
	aname_config_set_watchdog(cfg, 0, 100);
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	cfg = NULL; /* the context must not depend on it */
	cr_assert_geq(aname_fd(ctx), 0);
	aname_ctx_free(ctx);
	cr_assert_eq(aname_ctx_new(NULL, NULL), ANAME_EINVAL);
}
