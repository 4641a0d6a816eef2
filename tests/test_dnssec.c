/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * DNSSEC: with a trust anchor, a signed target is reported secure and a
 * tampered one fails with ANAME_EBOGUS (libunbound hands bogus data back
 * with a flag; the library must not pass it on).  The zones are signed at
 * test time with ldns-keygen/ldns-signzone and served by nsd.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static char dir[] = "/tmp/aname-dnssec-XXXXXX";
static ts_nsd_t *nsd;
static aname_ctx_t *ctx;

static void run(const char *cmd)
{
	char full[1024];
	snprintf(full, sizeof(full), "cd %s && %s", dir, cmd);
	cr_assert_eq(system(full), 0, "command failed: %s", cmd);
}

static void write_zone(const char *zone, const char *www)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.zone", dir, zone);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"$ORIGIN %s.\n$TTL 300\n"
		"@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
		"@ IN NS ns1\nns1 IN A 192.0.2.53\n"
		"www IN A %s\nwww IN AAAA 2001:db8::10\n",
		zone, www);
	fclose(f);
}

/* Sign \a zone; its DS goes into the trust anchor file. */
static void sign(const char *zone)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "k=$(ldns-keygen -a ECDSAP256SHA256 -k %s) && "
		 "ldns-signzone %s.zone $k && cat $k.ds >> anchors && "
		 "rm -f $k.private",
		 zone, zone);
	run(cmd);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	write_zone("secure.test", "192.0.2.10");
	write_zone("bogus.test", "192.0.2.66");
	sign("secure.test");
	sign("bogus.test");
	/* Tamper after signing: the RRSIG no longer matches. */
	run("sed -i 's/192\\.0\\.2\\.66/192.0.2.67/' bogus.test.zone.signed");
	char sfile[256], bfile[256];
	snprintf(sfile, sizeof(sfile), "%s/secure.test.zone.signed", dir);
	snprintf(bfile, sizeof(bfile), "%s/bogus.test.zone.signed", dir);
	ts_zone_t zones[] = {{"secure.test", sfile},
			     {"bogus.test", bfile},
			     {NULL, NULL}};
	nsd = ts_nsd_start(zones);
	cr_assert_not_null(nsd);
	char addr[64], anchors[256], guard[64];
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", ts_nsd_port(nsd));
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
	snprintf(anchors, sizeof(anchors), "%s/anchors", dir);
	aname_config_t *cfg = aname_config_new();
	cr_assert_eq(aname_config_add_stub(cfg, "secure.test", addr), ANAME_OK);
	cr_assert_eq(aname_config_add_stub(cfg, "bogus.test", addr), ANAME_OK);
	cr_assert_eq(aname_config_add_stub(cfg, ".", guard), ANAME_OK);
	cr_assert_eq(aname_config_set_trust_anchor_file(cfg, anchors),
		     ANAME_OK);
	cr_assert_eq(aname_ctx_new(&ctx, cfg), ANAME_OK);
	aname_config_free(cfg);
}

static void teardown(void)
{
	aname_ctx_free(ctx);
	ts_server_stop(nsd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", dir);
	}
}

TestSuite(dnssec, .init = setup, .fini = teardown, .timeout = 30);

Test(dnssec, signed_target_is_secure)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.secure.test", ANAME_RRTYPE_BOTH, 0,
				&d),
		     ANAME_OK);
	cr_assert_eq(aname_result_count(d.res, ANAME_RRTYPE_A), 1);
	cr_assert_eq(aname_result_secure(d.res), 1);
	th_done_clear(&d);
	th_done_t n = {0};
	cr_assert_eq(th_resolve(ctx, "nothere.secure.test", 1, 0, &n),
		     ANAME_OK);
	cr_assert_eq(aname_result_rcode(n.res, 1), 3);
	cr_assert_eq(aname_result_secure(n.res), 1, "proven NXDOMAIN");
	th_done_clear(&n);
}

Test(dnssec, tampered_target_is_bogus)
{
	th_done_t d = {0};
	cr_assert_eq(th_resolve(ctx, "www.bogus.test", ANAME_RRTYPE_A, 0, &d),
		     ANAME_EBOGUS);
	cr_assert_null(d.res, "bogus data is never handed out");
	uint64_t n;
	aname_stats_get(ctx, ANAME_STAT_ANSWERS_BOGUS, &n);
	cr_assert_eq(n, 1);
	aname_result_t *res = NULL;
	cr_assert_eq(aname_cache_lookup(ctx, "www.bogus.test", 1, 0, &res),
		     ANAME_EAGAIN, "and never cached");
}
