/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file test_canary_hints.c
 * \brief aname_config_set_root_hints(): what it accepts and refuses, and
 * that a full-recursion context's root canary takes its roots from the
 * file.  No packet leaves this process: nothing here drives a context
 * (the canary sends only from aname_process()).  The canary against
 * real roots is tests/netns/roots.sh (make check-roots).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void up(void)
{
	snprintf(dir, sizeof(dir), "/tmp/aname-hints-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void down(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(canary_hints, .init = up, .fini = down, .timeout = 30);

static const char *hints_text =
	".              3600000  NS    a.root.hint.\n"
	"a.root.hint.   3600000  A     192.0.2.53\n"
	"a.root.hint.   3600000  AAAA  2001:db8::53\n";

Test(canary_hints, setter_checks_the_file)
{
	aname_config_t *cfg = aname_config_new();
	cr_assert_eq(aname_config_set_root_hints(NULL, "x"), ANAME_EINVAL);
	cr_assert_eq(aname_config_set_root_hints(cfg, NULL), ANAME_EINVAL);
	cr_assert_eq(aname_config_set_root_hints(cfg, "/nonexistent/hints"),
		     ANAME_EFILE);
	const char *no_addr = write_file("ns-only", ". 3600 NS a.root.hint.\n");
	cr_assert_eq(aname_config_set_root_hints(cfg, no_addr), ANAME_EFILE,
		     "NS without addresses names no root to ask");
	const char *junk = write_file("junk", "this is not a zone file\n");
	cr_assert_eq(aname_config_set_root_hints(cfg, junk), ANAME_EFILE);
	const char *good = write_file("root.hints", hints_text);
	cr_assert_eq(aname_config_set_root_hints(cfg, good), ANAME_OK);
	aname_config_free(cfg);
}

/* The roots pool is one upstream, "roots", in the metrics; up until the
 * canary has had 6 s to hear nothing. */
Test(canary_hints, full_recursion_context_has_a_roots_canary)
{
	const char *good = write_file("root.hints", hints_text);
	aname_config_t *cfg = aname_config_new();
	cr_assert_eq(aname_config_set_root_hints(cfg, good), ANAME_OK);
	aname_ctx_t *ctx;
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	char buf[16384];
	cr_assert_geq(aname_metrics_prometheus(ctx, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "aname_upstream_up{upstream=\"roots\"} 1"),
			   "%s", buf);
	int t = aname_timeout_ms(ctx);
	cr_assert(t >= 0 && t <= 2000, "first root probe due in %d ms", t);
	aname_ctx_free(ctx);
	/* The file is read again by aname_ctx_new(). */
	cr_assert_eq(unlink(good), 0);
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_EFILE);
	aname_config_free(cfg);
}

/* With a forwarder there is no roots pool: the forwarder is probed. */
Test(canary_hints, forwarder_context_has_no_roots_canary)
{
	aname_config_t *cfg = aname_config_new();
	cr_assert_eq(aname_config_add_forwarder(cfg, "127.0.0.1@1"), ANAME_OK);
	aname_ctx_t *ctx;
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
	char buf[16384];
	cr_assert_geq(aname_metrics_prometheus(ctx, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "upstream=\"roots\""));
	cr_assert_not_null(strstr(buf, "upstream=\"127.0.0.1@1\""));
	aname_ctx_free(ctx);
}
