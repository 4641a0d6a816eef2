/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * A slow but working upstream, end to end (resilience issue, item 2): 100
 * concurrent cold queries for 20 ALIAS targets behind a 0.5 s upstream
 * (the fault proxy of tests/support delays every query).  Each target may
 * cost at most what a stock caching unbound sends for it (3 queries), and
 * every query is answered within the deadline.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "support/servers.h"

TestSuite(slow, .init = srv_setup, .fini = srv_teardown, .timeout = 60);

#define TARGETS 20
#define QUERIES 100

struct asker {
	int i;
	int rcode;
	int64_t rtt;
};

static void *ask_one(void *arg)
{
	struct asker *a = arg;
	char name[64];
	snprintf(name, sizeof(name), "o%d.slow.test", a->i % TARGETS);
	ldns_pkt *p = dc_query(sport, name, LDNS_RR_TYPE_A, 0, 1232, 4000,
			       &a->rtt);
	a->rcode = p != NULL ? (int)ldns_pkt_get_rcode(p) : -1;
	ldns_pkt_free(p);
	return NULL;
}

Test(slow, cold_queries_behind_a_half_second_upstream)
{
	char zone[64];
	snprintf(zone, sizeof(zone), "/tmp/aname-slow-%d.zone", (int)getpid());
	FILE *f = fopen(zone, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN slow.test.\n$TTL 300\n"
		   "@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n"
		   "ns A 192.0.2.53\n");
	for (int i = 0; i < TARGETS; i++)
		fprintf(f, "o%d ALIAS t%d.example.test.\n", i, i);
	fclose(f);
	ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
	cr_assert_not_null(px);
	ts_proxy_set_mode(px, NULL, TS_MODE_DELAY, 500);
	const char *zones[] = {SRV_ZONE, zone, NULL};
	srv_start_v(ts_proxy_port(px), "1500", zones, NULL);
	ts_proxy_reset_counts(px);
	/* The server registers its targets at start; the clients come at
	 * once, while those resolutions are still cold. */
	pthread_t t[QUERIES];
	struct asker a[QUERIES];
	for (int i = 0; i < QUERIES; i++) {
		a[i] = (struct asker){.i = i};
		pthread_create(&t[i], NULL, ask_one, &a[i]);
	}
	int answered = 0;
	int64_t worst = 0;
	for (int i = 0; i < QUERIES; i++) {
		pthread_join(t[i], NULL);
		answered += a[i].rcode >= 0;
		worst = a[i].rtt > worst ? a[i].rtt : worst;
	}
	unsigned most = 0;
	for (int i = 0; i < TARGETS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t%d.example.test", i);
		unsigned n = ts_proxy_count(px, name, 0);
		most = n > most ? n : most;
	}
	cr_log_info("slow upstream: %d/%d answered, slowest %lld ms; at most "
		    "%u upstream queries for one target (A and AAAA)",
		    answered, QUERIES, (long long)worst, most);
	cr_expect_eq(answered, QUERIES);
	cr_expect(worst <= 1500 + 250, "slowest answer %lld ms",
		  (long long)worst);
	cr_expect_leq(most, 3, "at most 3 upstream queries per target, as a "
			       "stock caching unbound: %u", most);
	srv_stop();
	ts_proxy_stop(px);
	unlink(zone);
}
