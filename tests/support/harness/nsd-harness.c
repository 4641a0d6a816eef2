/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file nsd-harness.c
 * \brief Servers from tests/support for shell tests and the demo.
 *
 *     nsd-harness [--nsd] [--blackhole] [--closed]
 *
 * Starts what is asked (nsd with the fixture zones, a black hole), prints
 * one "NAME=PORT" line each ("closed=PORT" is a port nothing listens on),
 * then "ready", and keeps them running until its stdin reaches EOF; then it
 * stops them by PID/thread and exits.  A script holds a pipe to its stdin,
 * so the servers stop when the script ends, however it ends.
 * Exit status 0, or 1 if a server could not start (reason on stderr).
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "support/servers.h"

int main(int argc, char **argv)
{
	int want_nsd = 0, want_bh = 0, want_closed = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--nsd") == 0) {
			want_nsd = 1;
		} else if (strcmp(argv[i], "--blackhole") == 0) {
			want_bh = 1;
		} else if (strcmp(argv[i], "--closed") == 0) {
			want_closed = 1;
		} else {
			fprintf(stderr, "nsd-harness: unknown argument '%s'\n"
					"usage: nsd-harness [--nsd] "
					"[--blackhole] [--closed]\n", argv[i]);
			return 64;
		}
	}
	/* A reader that went away must not kill us before cleanup. */
	signal(SIGPIPE, SIG_IGN);

	ts_nsd_t *nsd = NULL;
	ts_blackhole_t *bh = NULL;
	int rc = 1;
	if (want_nsd) {
		nsd = ts_nsd_start(NULL);
		if (nsd == NULL) {
			goto out;
		}
		printf("nsd=%d\nnsd_start_ms=%lld\n", nsd->port,
		       (long long)nsd->start_ms);
	}
	if (want_bh) {
		bh = ts_blackhole_start();
		if (bh == NULL) {
			goto out;
		}
		printf("blackhole=%d\n", ts_blackhole_port(bh));
	}
	if (want_closed) {
		printf("closed=%d\n", ts_free_port());
	}
	printf("ready\n");
	fflush(stdout);

	char buf[256];
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
	}
	rc = 0;
out:
	ts_blackhole_stop(bh);
	ts_server_stop(nsd);
	return rc;
}
