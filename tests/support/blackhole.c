/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file blackhole.c
 * \brief A DNS "server" that reads everything and never answers: the
 * upstream that makes every query hit its deadline.
 *
 * One thread polls the UDP socket, the TCP listener, every accepted
 * connection and a stop pipe.  TCP connections stay open (so the client
 * waits for an answer, as with a hung server) until stop.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "support/servers.h"
#include "support/sock.h"

#define BH_MAX_CONN 256

struct ts_blackhole {
	int port;
	int udp;
	int tcp;
	int stop[2];
	pthread_t thread;
	atomic_uint udp_count;
	atomic_uint tcp_count;
	atomic_uint soa_count; /* UDP queries for type SOA (libaname's canary) */
};

/* The question type of a DNS message, or 0. */
static unsigned qtype_of(const uint8_t *p, ssize_t n)
{
	ssize_t i = 12;
	while (i < n && p[i] != 0) {
		if ((p[i] & 0xc0) != 0) {
			return 0;
		}
		i += 1 + p[i];
	}
	return i + 3 <= n ? (unsigned)(p[i + 1] << 8 | p[i + 2]) : 0;
}

static void *bh_main(void *arg)
{
	ts_blackhole_t *bh = arg;
	struct pollfd pf[3 + BH_MAX_CONN];
	int nconn = 0;
	uint8_t buf[65536];

	pf[0] = (struct pollfd){ .fd = bh->stop[0], .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = bh->udp, .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = bh->tcp, .events = POLLIN };
	for (;;) {
		if (poll(pf, 3 + (nfds_t)nconn, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (pf[0].revents != 0) {
			break;
		}
		if (pf[1].revents & POLLIN) {
			ssize_t n;
			while ((n = recv(bh->udp, buf, sizeof(buf),
					 MSG_DONTWAIT)) >= 0) {
				atomic_fetch_add(&bh->udp_count, 1);
				if (qtype_of(buf, n) == 6) {
					atomic_fetch_add(&bh->soa_count, 1);
				}
			}
		}
		if (pf[2].revents & POLLIN) {
			int c = accept4(bh->tcp, NULL, NULL,
					SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (c >= 0) {
				atomic_fetch_add(&bh->tcp_count, 1);
				if (nconn < BH_MAX_CONN) {
					pf[3 + nconn++] = (struct pollfd){
						.fd = c, .events = POLLIN
					};
				} else {
					close(c);
				}
			}
		}
		for (int i = 0; i < nconn; i++) {
			struct pollfd *p = &pf[3 + i];
			if (p->revents == 0) {
				continue;
			}
			ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN &&
				       errno != EINTR)) {
				/* The client gave up: forget it. */
				close(p->fd);
				*p = pf[3 + --nconn];
				i--;
			}
		}
	}
	for (int i = 0; i < nconn; i++) {
		close(pf[3 + i].fd);
	}
	return NULL;
}

ts_blackhole_t *ts_blackhole_start(void)
{
	ts_blackhole_t *bh = calloc(1, sizeof(*bh));
	if (bh == NULL) {
		return NULL;
	}
	bh->udp = bh->tcp = bh->stop[0] = bh->stop[1] = -1;
	bh->port = ts__bind_pair(&bh->udp, &bh->tcp);
	if (bh->port < 0 || listen(bh->tcp, 64) != 0 ||
	    pipe2(bh->stop, O_CLOEXEC) != 0) {
		goto fail;
	}
	fcntl(bh->udp, F_SETFL, O_NONBLOCK);
	fcntl(bh->tcp, F_SETFL, O_NONBLOCK);
	if (pthread_create(&bh->thread, NULL, bh_main, bh) != 0) {
		goto fail;
	}
	return bh;
fail:
	fprintf(stderr, "ts_blackhole_start: %s\n", strerror(errno));
	close(bh->udp);
	close(bh->tcp);
	close(bh->stop[0]);
	close(bh->stop[1]);
	free(bh);
	return NULL;
}

int ts_blackhole_port(const ts_blackhole_t *bh)
{
	return bh != NULL ? bh->port : -1;
}

unsigned ts_blackhole_udp_count(ts_blackhole_t *bh)
{
	return atomic_load(&bh->udp_count);
}

unsigned ts_blackhole_tcp_count(ts_blackhole_t *bh)
{
	return atomic_load(&bh->tcp_count);
}

unsigned ts_blackhole_soa_count(ts_blackhole_t *bh)
{
	return atomic_load(&bh->soa_count);
}

unsigned ts_blackhole_count(ts_blackhole_t *bh)
{
	return ts_blackhole_udp_count(bh) + ts_blackhole_tcp_count(bh);
}

void ts_blackhole_stop(ts_blackhole_t *bh)
{
	if (bh == NULL) {
		return;
	}
	if (write(bh->stop[1], "x", 1) != 1) {
		perror("ts_blackhole_stop");
	}
	pthread_join(bh->thread, NULL);
	close(bh->udp);
	close(bh->tcp);
	close(bh->stop[0]);
	close(bh->stop[1]);
	free(bh);
}
