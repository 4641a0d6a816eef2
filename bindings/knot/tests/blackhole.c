/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file blackhole.c
 * \brief Test helper for test_knot.sh.
 *
 *   blackhole --free-ports N   print N distinct loopback ports that are free
 *                              for UDP and TCP right now, one per line
 *   blackhole PORTFILE         bind UDP+TCP on 127.0.0.1, an ephemeral port,
 *                              write the port to PORTFILE, never answer
 *
 * The black hole is the "hung upstream": queries reach a socket that is
 * open (no ICMP refusal) but nothing ever replies.  It exits when its
 * parent dies (PR_SET_PDEATHSIG) or on SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bind a socket of \a type to 127.0.0.1:port (0 = any); returns the fd. */
static int bind_lo(int type, int port, int *bound)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

static int free_ports(int n)
{
	int fds[64][2];
	if (n < 1 || n > 64) {
		fprintf(stderr, "blackhole: 1 to 64 ports\n");
		return 2;
	}
	/* Keep all sockets open until every port is chosen so they differ. */
	for (int i = 0; i < n; i++) {
		int port, p2;
		do {
			fds[i][0] = bind_lo(SOCK_DGRAM, 0, &port);
			fds[i][1] = fds[i][0] < 0 ? -1 :
				    bind_lo(SOCK_STREAM, port, &p2);
			if (fds[i][1] < 0 && fds[i][0] >= 0) {
				close(fds[i][0]);
				fds[i][0] = -1;
			}
		} while (fds[i][0] < 0);
		printf("%d\n", port);
	}
	for (int i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--free-ports") == 0) {
		return free_ports(atoi(argv[2]));
	}
	if (argc != 2) {
		fprintf(stderr, "usage: blackhole --free-ports N | blackhole PORTFILE\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int port, p2;
	int u = -1, t = -1;
	for (int tries = 0; tries < 50 && t < 0; tries++) {
		u = bind_lo(SOCK_DGRAM, 0, &port);
		t = u < 0 ? -1 : bind_lo(SOCK_STREAM, port, &p2);
		if (t < 0 && u >= 0) {
			close(u);
		}
	}
	if (t < 0 || listen(t, 16) != 0) {
		perror("blackhole: bind");
		return 1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp, argv[1]) != 0) {
		perror("blackhole: port file");
		return 1;
	}
	/* Never read: datagrams pile up in the socket buffer and are dropped. */
	for (;;) {
		pause();
	}
}
