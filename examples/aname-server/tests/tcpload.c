/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * TCP load for the memory-bound tests (see tcpload.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsclient.h"
#include "support/servers.h"
#include "tcpload.h"

int tl_client(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

uint8_t *tl_pipeline(const char *name, uint16_t type, int n, size_t *len)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type,
					 LDNS_RR_CLASS_IN, 0);
	uint8_t *w;
	size_t wl;
	cr_assert_eq(ldns_pkt2wire(&w, q, &wl), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	uint8_t *buf = malloc((size_t)n * (2 + wl));
	cr_assert_not_null(buf);
	for (int i = 0; i < n; i++) {
		uint8_t *m = buf + (size_t)i * (2 + wl);
		m[0] = (uint8_t)(wl >> 8);
		m[1] = (uint8_t)wl;
		memcpy(m + 2, w, wl);
		m[2] = (uint8_t)(i >> 8);
		m[3] = (uint8_t)i;
	}
	LDNS_FREE(w);
	*len = (size_t)n * (2 + wl);
	return buf;
}

size_t tl_write_some(int fd, const uint8_t *buf, size_t off, size_t len)
{
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	return off;
}

int tl_read_all(int fd, const uint8_t *qs, size_t off, size_t len, int n,
		unsigned ancount, int *bad)
{
	static uint8_t in[1 << 17];
	size_t have = 0;
	int answers = 0;
	*bad = 0;
	int64_t deadline = dc_now_ms() + 40000;
	while (answers < n && dc_now_ms() < deadline) {
		struct pollfd pf = { fd, POLLIN | (off < len ? POLLOUT : 0), 0 };
		if (poll(&pf, 1, 1000) <= 0)
			continue;
		if (pf.revents & POLLOUT)
			off = tl_write_some(fd, qs, off, len);
		ssize_t r = read(fd, in + have, sizeof(in) - have);
		if (r == 0)
			break;
		if (r < 0)
			continue;
		have += (size_t)r;
		size_t pos = 0;
		while (have - pos >= 2) {
			size_t ml = (size_t)in[pos] << 8 | in[pos + 1];
			if (have - pos < 2 + ml)
				break;
			const uint8_t *m = in + pos + 2;
			unsigned id = (unsigned)(m[0] << 8 | m[1]);
			unsigned an = (unsigned)(m[6] << 8 | m[7]);
			if (id != ((unsigned)answers & 0xffff) ||
			    (m[3] & 0xf) != 0 || an != ancount)
				(*bad)++;
			answers++;
			pos += 2 + ml;
		}
		memmove(in, in + pos, have - pos);
		have -= pos;
	}
	return answers;
}

void tl_churn(int port, const uint8_t *q, size_t len)
{
	for (int round = 0; round < 10; round++) {
		int fd[20];
		for (int i = 0; i < 20; i++) {
			fd[i] = tl_client(port, 0);
			tl_write_some(fd[i], q, 0, len);
		}
		for (int i = 0; i < 20; i++)
			close(fd[i]);
	}
}

double tl_metric(int mport, const char *name)
{
	char *body = NULL;
	double v = -1;
	if (dc_http_get(mport, "/metrics", &body) == 200)
		v = dc_metric(body, name);
	free(body);
	return v;
}

struct metric_at_least {
	int mport;
	const char *name;
	double min;
};

static bool metric_reached(void *arg)
{
	struct metric_at_least *m = arg;
	return tl_metric(m->mport, m->name) >= m->min;
}

void tl_await_metric(int mport, const char *name, double min, int timeout_ms)
{
	struct metric_at_least m = { mport, name, min };
	cr_assert(ts_wait_until(metric_reached, &m, timeout_ms),
		  "%s did not reach %g within %d ms (now %g)", name, min,
		  timeout_ms, tl_metric(mport, name));
}

struct metric_still {
	int mport;
	const char *name;
	double last;
	int64_t since;
};

static bool metric_settled(void *arg)
{
	struct metric_still *m = arg;
	double v = tl_metric(m->mport, m->name);
	if (v != m->last) {
		m->last = v;
		m->since = dc_now_ms();
	}
	return dc_now_ms() - m->since >= 300;
}

void tl_await_settled(int mport, const char *name)
{
	struct metric_still m = { mport, name, -1, dc_now_ms() };
	cr_assert(ts_wait_until(metric_settled, &m, 20000),
		  "%s kept changing for 20 s", name);
}

long tl_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) &&
		    line[strlen(field)] == ':' &&
		    sscanf(line + strlen(field) + 1, "%ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
