/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file setup.c
 * \brief The two contenders, configured alike: a libaname configuration and
 *        the raw libunbound context a host would write instead.
 *
 * Both point only at loopback: a stub for the benchmark zone at the private
 * nsd and a guard stub for "." at a closed port, so a stray name fails on
 * the machine instead of recursing from the root hints.
 */
#include <stdio.h>
#include <unbound.h>

#include "aname.h"
#include "bench.h"

aname_config_t *bench_aname_config(const char *zone, int port)
{
	char addr[64];
	aname_config_t *cfg = aname_config_new();
	if (cfg == NULL) {
		bench_die("aname_config_new: out of memory");
	}
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	int rc = aname_config_add_stub(cfg, zone, addr);
	if (rc != ANAME_OK) {
		bench_die("aname_config_add_stub(%s, %s): %s", zone, addr,
			  aname_strerror(rc));
	}
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", bench_closed_port());
	rc = aname_config_add_stub(cfg, ".", addr);
	if (rc != ANAME_OK) {
		bench_die("aname_config_add_stub(., %s): %s", addr,
			  aname_strerror(rc));
	}
	return cfg;
}

struct ub_ctx *bench_ub_ctx(const char *zone, int port)
{
	char addr[64];
	struct ub_ctx *ub = ub_ctx_create();
	if (ub == NULL) {
		bench_die("ub_ctx_create failed");
	}
	/* "test." is an RFC 6761 local zone inside libunbound; a stub below it
	 * is only reachable once the zone is transparent. */
	int rc = ub_ctx_set_option(ub, "local-zone:", "test. transparent");
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", port);
	if (rc == 0) {
		rc = ub_ctx_set_stub(ub, zone, addr, 0);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", bench_closed_port());
	if (rc == 0) {
		rc = ub_ctx_set_stub(ub, ".", addr, 0);
	}
	/* Thread mode: fork mode forks the host and keeps a separate cache. */
	if (rc == 0) {
		rc = ub_ctx_async(ub, 1);
	}
	if (rc != 0) {
		bench_die("libunbound setup: %s", ub_strerror(rc));
	}
	return ub;
}
