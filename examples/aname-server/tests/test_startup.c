/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server refusing what it cannot serve correctly: every zone-load
 * rejection names file:line and stops the start (exit 1); bad options
 * exit 2 with a message that says what to write instead.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"

TestSuite(startup, .init = srv_setup, .fini = srv_teardown, .timeout = 60);

/* Run the server with \a args (NULL-terminated) until it exits; its exit
 * status, stderr in \a log. */
static int run_to_exit(const char *const *args, char *log, size_t loglen)
{
	const char *bin = getenv("ANAME_SERVER");
	cr_assert_not_null(bin);
	snprintf(log, loglen, "/tmp/aname-srv-startup-%d.log", (int)getpid());
	const char *argv[24] = { bin };
	int n = 1;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid_t pid = dc_spawn((char *const *)argv, log);
	cr_assert(pid > 0);
	int st;
	int64_t deadline = dc_now_ms() + 5000;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (dc_now_ms() > deadline) {
			dc_stop(pid);   /* it started: that is the failure */
			return -1;
		}
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Does \a log contain \a text? */
static int log_has(const char *log, const char *text)
{
	FILE *f = fopen(log, "r");
	char line[1024];
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

struct bad_zone {
	const char *text;
	int line;
	const char *message;
};

Test(startup, each_zone_rejection_names_file_and_line)
{
	static const struct bad_zone cases[] = {
		/* Issue 14, item 6: no $ORIGIN, "@" owner: not the root. */
		{ "@ 300 IN SOA ns1 hm 1 3600 900 604800 120\n"
		  "www 300 IN A 192.0.2.1\n",
		  1, "the SOA owner is relative and there is no $ORIGIN" },
		{ "; comment\n\nwww 300 IN SOA ns1 hm 1 3600 900 604800 120\n",
		  3, "the SOA owner is relative and there is no $ORIGIN" },
		/* Item 7: wildcards, ALIAS or not. */
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "*.x 300 IN ALIAS www.example.test.\n",
		  3, "wildcard owner names are not supported" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\nok A 192.0.2.1\n"
		  "* 300 IN A 192.0.2.1\n",
		  4, "wildcard owner names are not supported" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "*.y 300 IN TYPE65401 \\# 18 03777777076578616D706C65047465737400\n",
		  3, "wildcard owner names are not supported" },
		/* ALIAS rules. */
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "a ALIAS www.example.test.\na ALIAS c1.example.test.\n",
		  4, "a second ALIAS at the same owner" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "a CNAME www.example.test.\na ALIAS www.example.test.\n",
		  4, "ALIAS next to a CNAME" },
		{ "x.test. 300 IN SOA ns1.x.test. hm.x.test. 1 1 1 1 1\n"
		  "a ALIAS www\n",
		  2, "relative ALIAS target before any $ORIGIN" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "a ALIAS\n",
		  3, "ALIAS needs its target on the same line" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "a ALIAS bad..name.\n",
		  3, "ALIAS target 'bad..name.' is not a valid domain name" },
		/* Zone shape. */
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "www.elsewhere.test. A 192.0.2.1\n",
		  3, "www.elsewhere.test. is outside the zone" },
		{ "$ORIGIN w.test.\nwww A 192.0.2.1\n",
		  2, "the first record must be the zone's SOA" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "@ SOA ns1 hm 2 1 1 1 1\n",
		  3, "a second SOA" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n$INCLUDE other\n",
		  3, "$INCLUDE is not supported" },
		{ "$ORIGIN w.test.\n@ SOA ns1 hm 1 1 1 1 1\n"
		  "www CH A 192.0.2.1\n",
		  3, "only class IN is served" },
	};
	char zone[64], log[128], want[256];
	snprintf(zone, sizeof(zone), "/tmp/aname-srv-bad-%d.zone", (int)getpid());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		srv_write_file(zone, "%s", cases[i].text);
		const char *args[] = { "--listen", "127.0.0.1@1", "--zone", zone,
				       "--stub", ".=127.0.0.1@1", NULL };
		int rc = run_to_exit(args, log, sizeof(log));
		cr_expect_eq(rc, 1, "case %zu: exit %d, want 1", i, rc);
		snprintf(want, sizeof(want), "%s:%d: %s", zone, cases[i].line,
			 cases[i].message);
		cr_expect(log_has(log, want), "case %zu: no '%s' in the log", i,
			  want);
		unlink(log);
	}
	unlink(zone);
}

/* Without $ORIGIN, an absolute SOA owner names the zone and the names
 * after it are relative to it. */
Test(startup, soa_owner_gives_the_origin)
{
	char zone[64];
	snprintf(zone, sizeof(zone), "/tmp/aname-srv-soa-%d.zone", (int)getpid());
	srv_write_file(zone, "nz.test. 300 IN SOA ns1.nz.test. hm.nz.test. "
			     "1 3600 900 604800 120\n"
			     "www 300 IN A 192.0.2.44\n");
	const char *zones[] = { SRV_ZONE, zone, NULL };
	srv_start_v(ts_nsd_port(nsd), "1500", zones, NULL);
	ldns_pkt *p = srv_ask("www.nz.test", LDNS_RR_TYPE_A, 0);
	char *a = dc_addrs(p, "www.nz.test.", LDNS_RR_TYPE_A);
	cr_expect_str_eq(a, "192.0.2.44");
	free(a);
	ldns_pkt_free(p);
	p = srv_ask("nothere.nz.test", LDNS_RR_TYPE_A, 0);
	cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	srv_stop();
	unlink(zone);
}

struct bad_opt {
	const char *args[8];
	const char *message;
};

/* Issue 14, item 9: messages that say what to do; exit 2 as documented. */
Test(startup, bad_options_say_what_to_write)
{
	static const struct bad_opt cases[] = {
		{ { "--listen", "127.0.0.1@1", NULL },
		  "--zone FILE (at least one) is required" },
		{ { "--zone", SRV_ZONE, NULL }, "--listen IP@PORT is required" },
		{ { "--listen", "127.0.0.1@1", "--zone", SRV_ZONE, "--forward",
		    "127.0.0.1:53", NULL },
		  "the port goes after '@': 127.0.0.1@53" },
		{ { "--listen", "127.0.0.1:5300", "--zone", SRV_ZONE, NULL },
		  "the port goes after '@': 127.0.0.1@5300" },
		{ { "--listen", "127.0.0.1@1", "--zone", SRV_ZONE, "--stub",
		    "example.test=127.0.0.1:53", NULL },
		  "the port goes after '@': 127.0.0.1@53" },
		{ { "--listen", "127.0.0.1@1", "--zone", SRV_ZONE, "--metrics",
		    "9553", NULL },
		  "--metrics: '9553' is not IP[@PORT]" },
		{ { "--listen", "127.0.0.1@1", "--zone", SRV_ZONE, "--metrics",
		    "127.0.0.1:9553", NULL },
		  "the port goes after '@': 127.0.0.1@9553" },
		{ { "--listen", "127.0.0.1@1", "--zone", SRV_ZONE,
		    "--tcp-out-max", "1000", NULL },
		  "--tcp-out-max: '1000' is not a number in" },
	};
	char log[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_to_exit(cases[i].args, log, sizeof(log));
		cr_expect_eq(rc, 2, "case %zu: exit %d, want 2", i, rc);
		cr_expect(log_has(log, cases[i].message),
			  "case %zu: no '%s' in the log", i, cases[i].message);
		unlink(log);
	}
}
