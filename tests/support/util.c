/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file util.c
 * \brief Small test helpers: free ports, a monotonic clock, awaiting a
 * condition, and a direct DNS query with a deadline (ldns builds and parses
 * the messages; the socket I/O is ours so the deadline is exact).
 */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "support/servers.h"
#include "support/sock.h"

int64_t ts_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ts__sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

bool ts_wait_until(ts_cond_fn cond, void *arg, int timeout_ms)
{
	int64_t deadline = ts_now_ms() + timeout_ms;
	while (ts_now_ms() < deadline) {
		if (cond(arg)) {
			return true;
		}
		ts__sleep_ms(1);
	}
	return cond(arg);
}

struct sockaddr_in ts__loopback(int port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int bound_socket(int type, int port)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_in sa = ts__loopback(port);
	if (type == SOCK_STREAM) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		return -1;
	}
	return ntohs(sa.sin_port);
}

int ts__bind_pair(int *udp, int *tcp)
{
	/* The kernel picks a free UDP port; TCP must then get the same number,
	 * which is usually free too.  A few tries cover the rare clash. */
	for (int attempt = 0; attempt < 50; attempt++) {
		int u = bound_socket(SOCK_DGRAM, 0);
		if (u < 0) {
			return -1;
		}
		int port = local_port(u);
		int t = port > 0 ? bound_socket(SOCK_STREAM, port) : -1;
		if (t >= 0) {
			*udp = u;
			*tcp = t;
			return port;
		}
		close(u);
	}
	return -1;
}

int ts_free_port(void)
{
	int u, t;
	int port = ts__bind_pair(&u, &t);
	if (port > 0) {
		close(u);
		close(t);
	}
	return port;
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - ts_now_ms();
	return left > 0 ? (int)left : 0;
}

int ts__wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	for (;;) {
		int rc = poll(&pfd, 1, remaining(deadline));
		if (rc > 0) {
			return 0;
		}
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR) {
			return -1;
		}
	}
}

int ts__read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		if (ts__wait_fd(fd, POLLIN, deadline) != 0) {
			return -1;
		}
		ssize_t n = recv(fd, buf + got, len - got, 0);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int ts__write_full(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t put = 0;
	while (put < len) {
		if (ts__wait_fd(fd, POLLOUT, deadline) != 0) {
			return -1;
		}
		ssize_t n = send(fd, buf + put, len - put, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			return -1;
		}
		put += (size_t)n;
	}
	return 0;
}

int ts__tcp_exchange(int port, const uint8_t *q, size_t qlen, uint8_t *ans,
		     size_t anscap, size_t *anslen, int64_t deadline)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_in sa = ts__loopback(port);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0 && errno != EINPROGRESS) {
		goto fail;
	}
	if (ts__wait_fd(fd, POLLOUT, deadline) != 0) {
		goto fail;
	}
	int err = 0;
	socklen_t elen = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err != 0) {
		errno = err;
		goto fail;
	}
	uint8_t hdr[2] = { (uint8_t)(qlen >> 8), (uint8_t)qlen };
	if (ts__write_full(fd, hdr, 2, deadline) != 0 ||
	    ts__write_full(fd, q, qlen, deadline) != 0 ||
	    ts__read_full(fd, hdr, 2, deadline) != 0) {
		goto fail;
	}
	size_t len = (size_t)hdr[0] << 8 | hdr[1];
	if (len > anscap) {
		errno = EMSGSIZE;
		goto fail;
	}
	if (ts__read_full(fd, ans, len, deadline) != 0) {
		goto fail;
	}
	*anslen = len;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int udp_exchange(int port, const uint8_t *q, size_t qlen, uint16_t id,
			uint8_t *ans, size_t anscap, size_t *anslen,
			int64_t deadline)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_in sa = ts__loopback(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (ts__wait_fd(fd, POLLIN, deadline) != 0) {
			close(fd);
			return -1;
		}
		ssize_t n = recv(fd, ans, anscap, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				continue;
			}
			/* ECONNREFUSED: nothing listens yet; keep the
			 * semantics of "no answer before the deadline". */
			close(fd);
			return -1;
		}
		/* Ignore stray datagrams that are not our answer. */
		if (n >= 12 && ((ans[0] << 8) | ans[1]) == id) {
			*anslen = (size_t)n;
			close(fd);
			return 0;
		}
	}
}

int ts_query_ex(int port, const char *name, uint16_t type, int tcp,
		int timeout_ms, ts_answer_t *out)
{
	int64_t start = ts_now_ms();
	int64_t deadline = start + timeout_ms;
	ldns_pkt *qp = NULL;
	ldns_pkt *ap = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	int ret = -1;

	if (ldns_pkt_query_new_frm_str(&qp, name, (ldns_rr_type)type,
				       LDNS_RR_CLASS_IN, LDNS_RD) !=
	    LDNS_STATUS_OK) {
		errno = EINVAL;
		return -1;
	}
	uint16_t id = (uint16_t)(ldns_get_random() & 0xffff);
	ldns_pkt_set_id(qp, id);
	if (ldns_pkt2wire(&wire, qp, &wlen) != LDNS_STATUS_OK) {
		errno = EINVAL;
		goto out;
	}

	static const size_t cap = 65535;
	uint8_t *ans = malloc(cap);
	if (ans == NULL) {
		goto out;
	}
	size_t alen = 0;
	int rc = tcp ? ts__tcp_exchange(port, wire, wlen, ans, cap, &alen,
					deadline)
		     : udp_exchange(port, wire, wlen, id, ans, cap, &alen,
				    deadline);
	if (rc == 0 && ldns_wire2pkt(&ap, ans, alen) != LDNS_STATUS_OK) {
		errno = EBADMSG;
		rc = -1;
	}
	free(ans);
	if (rc != 0) {
		goto out;
	}
	if (out != NULL) {
		ldns_rr_list *an = ldns_pkt_answer(ap);
		out->rcode = ldns_pkt_get_rcode(ap);
		out->ancount = (int)ldns_rr_list_rr_count(an);
		out->tc = ldns_pkt_tc(ap);
		out->aa = ldns_pkt_aa(ap);
		out->min_ttl = 0;
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(an, i));
			if (i == 0 || t < out->min_ttl) {
				out->min_ttl = t;
			}
		}
		out->rtt_ms = ts_now_ms() - start;
	}
	ret = 0;
out:
	ldns_pkt_free(ap);
	ldns_pkt_free(qp);
	free(wire);
	return ret;
}

int ts_query(int port, const char *name, uint16_t type, int tcp, int *rcode,
	     int *ancount)
{
	ts_answer_t a;
	if (ts_query_ex(port, name, type, tcp, 1000, &a) != 0) {
		return -1;
	}
	if (rcode != NULL) {
		*rcode = a.rcode;
	}
	if (ancount != NULL) {
		*ancount = a.ancount;
	}
	return 0;
}

static bool is_dir_with_zone(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/example.test.zone", dir);
	return access(path, R_OK) == 0;
}

const char *ts_fixtures_dir(void)
{
	static char found[PATH_MAX];
	char buf[PATH_MAX];

	const char *env = getenv("TS_FIXTURES_DIR");
	if (env != NULL && is_dir_with_zone(env) &&
	    realpath(env, found) != NULL) {
		return found;
	}
	/* The binary lives in <tree>/<build>/tests/run. */
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 64);
	if (n > 0) {
		buf[n] = '\0';
		char *slash = strrchr(buf, '/');
		if (slash != NULL) {
			strcpy(slash, "/../../tests/fixtures/zones");
			if (is_dir_with_zone(buf) &&
			    realpath(buf, found) != NULL) {
				return found;
			}
		}
	}
	if (is_dir_with_zone("tests/fixtures/zones") &&
	    realpath("tests/fixtures/zones", found) != NULL) {
		return found;
	}
	return NULL;
}
