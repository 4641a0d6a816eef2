/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ldns-based DNS client and process helpers for the server tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsclient.h"

int64_t dc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, int64_t deadline)
{
	int64_t left = deadline - dc_now_ms();
	if (left < 0)
		left = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, (int)left) == 1 ? 0 : -1;
}

static int connect_lo(int port, int type)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	while (got < len) {
		if (wait_fd(fd, deadline) != 0)
			return -1;
		ssize_t r = read(fd, buf + got, len - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

ldns_pkt *dc_query(int port, const char *name, uint16_t type, int tcp,
		   uint16_t edns, int timeout_ms, int64_t *rtt_ms)
{
	ldns_rdf *qn = ldns_dname_new_frm_str(name);
	if (!qn)
		return NULL;
	ldns_pkt *q = ldns_pkt_query_new(qn, (ldns_rr_type)type,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	if (!q)
		return NULL;
	uint16_t id = (uint16_t)(rand() & 0xffff);
	ldns_pkt_set_id(q, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, edns);
	uint8_t *wire = NULL;
	size_t wlen = 0;
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK) {
		ldns_pkt_free(q);
		return NULL;
	}
	ldns_pkt_free(q);

	int64_t start = dc_now_ms(), deadline = start + timeout_ms;
	int fd = connect_lo(port, tcp ? SOCK_STREAM : SOCK_DGRAM);
	ldns_pkt *ans = NULL;
	uint8_t *buf = malloc(65536 + 2);
	if (fd < 0 || !buf)
		goto out;
	if (tcp) {
		uint8_t *m = malloc(wlen + 2);
		m[0] = (uint8_t)(wlen >> 8);
		m[1] = (uint8_t)wlen;
		memcpy(m + 2, wire, wlen);
		ssize_t w = write(fd, m, wlen + 2);
		free(m);
		if (w != (ssize_t)(wlen + 2))
			goto out;
		for (;;) {
			if (read_full(fd, buf, 2, deadline) != 0)
				goto out;
			size_t len = (size_t)buf[0] << 8 | buf[1];
			if (read_full(fd, buf, len, deadline) != 0)
				goto out;
			if (len >= 2 && (buf[0] << 8 | buf[1]) == id) {
				ldns_wire2pkt(&ans, buf, len);
				break;
			}
		}
	} else {
		if (send(fd, wire, wlen, 0) != (ssize_t)wlen)
			goto out;
		for (;;) {
			if (wait_fd(fd, deadline) != 0)
				goto out;
			ssize_t r = recv(fd, buf, 65536, 0);
			if (r < 0)
				goto out;
			if (r >= 2 && (buf[0] << 8 | buf[1]) == id) {
				ldns_wire2pkt(&ans, buf, (size_t)r);
				break;
			}
		}
	}
	if (rtt_ms)
		*rtt_ms = dc_now_ms() - start;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	LDNS_FREE(wire);
	return ans;
}

int dc_raw_udp(int port, const void *msg, size_t len, uint8_t *out,
	       size_t outlen, int timeout_ms)
{
	int fd = connect_lo(port, SOCK_DGRAM);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (send(fd, msg, len, 0) == (ssize_t)len &&
	    wait_fd(fd, dc_now_ms() + timeout_ms) == 0) {
		ssize_t r = recv(fd, out, outlen, 0);
		rc = r < 0 ? -1 : (int)r;
	}
	close(fd);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *dc_addrs(const ldns_pkt *p, const char *owner, uint16_t type)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	ldns_rdf *own = ldns_dname_new_frm_str(owner);
	size_t n = ldns_rr_list_rr_count(an), k = 0, total = 1;
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != type ||
		    ldns_dname_compare(ldns_rr_owner(rr), own) != 0)
			continue;
		v[k] = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		total += strlen(v[k]) + 1;
		k++;
	}
	qsort(v, k, sizeof(*v), cmp_str);
	char *s = calloc(1, total);
	for (size_t i = 0; i < k; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
		free(v[i]);
	}
	free(v);
	ldns_rdf_deep_free(own);
	return s;
}

int dc_count(const ldns_pkt *p, int section, uint16_t type)
{
	ldns_rr_list *l = ldns_pkt_get_section_clone(p,
						     (ldns_pkt_section)section);
	int n = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type)
			n++;
	ldns_rr_list_deep_free(l);
	return n;
}

long dc_min_ttl(const ldns_pkt *p, uint16_t type)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	long min = -1;
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != type)
			continue;
		if (min < 0 || (long)ldns_rr_ttl(rr) < min)
			min = (long)ldns_rr_ttl(rr);
	}
	return min;
}

pid_t dc_spawn(char *const argv[], const char *logpath)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (logpath) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	/* The test runner blocks no signals we rely on, but be sure. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int dc_wait_ready(pid_t pid, int port, const char *name, int timeout_ms)
{
	int64_t deadline = dc_now_ms() + timeout_ms;
	while (dc_now_ms() < deadline) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		ldns_pkt *u = dc_query(port, name, LDNS_RR_TYPE_SOA, 0, 0, 100,
				       NULL);
		ldns_pkt *t = u ? dc_query(port, name, LDNS_RR_TYPE_SOA, 1, 0,
					   100, NULL) : NULL;
		int ok = u && t;
		ldns_pkt_free(u);
		ldns_pkt_free(t);
		if (ok)
			return 0;
		/* Polling a process that is still binding: short pause. */
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

int dc_stop(pid_t pid)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	int64_t deadline = dc_now_ms() + 2000;
	int st;
	while (dc_now_ms() < deadline) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		struct timespec ts = { 0, 5 * 1000000 };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int dc_burst(int port, const char *name, uint16_t type, int n,
	     int timeout_ms, int *noerror_data)
{
	int *fds = calloc((size_t)n, sizeof(int));
	int *done = calloc((size_t)n, sizeof(int));
	int answered = 0, good = 0;
	uint8_t buf[65536];
	for (int i = 0; i < n; i++) {
		fds[i] = connect_lo(port, SOCK_DGRAM);
		ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name),
						 (ldns_rr_type)type,
						 LDNS_RR_CLASS_IN, LDNS_RD);
		ldns_pkt_set_id(q, (uint16_t)i);
		uint8_t *wire;
		size_t wlen;
		ldns_pkt2wire(&wire, q, &wlen);
		if (fds[i] < 0 || send(fds[i], wire, wlen, 0) != (ssize_t)wlen)
			done[i] = 1;
		LDNS_FREE(wire);
		ldns_pkt_free(q);
	}
	int64_t deadline = dc_now_ms() + timeout_ms;
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	while (dc_now_ms() < deadline) {
		int k = 0;
		for (int i = 0; i < n; i++) {
			p[i].fd = done[i] ? -1 : fds[i];
			p[i].events = POLLIN;
			k += !done[i];
		}
		if (k == 0)
			break;
		if (poll(p, (nfds_t)n, (int)(deadline - dc_now_ms())) <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (done[i] || !(p[i].revents & POLLIN))
				continue;
			ssize_t r = recv(fds[i], buf, sizeof(buf), 0);
			done[i] = 1;
			if (r < 12)
				continue;
			answered++;
			if ((buf[3] & 0xf) == 0 && (buf[6] << 8 | buf[7]) > 0)
				good++;
		}
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(p);
	free(fds);
	free(done);
	if (noerror_data)
		*noerror_data = good;
	return answered;
}

int dc_http_get(int port, const char *path, char **body)
{
	int fd = connect_lo(port, SOCK_STREAM);
	if (fd < 0)
		return -1;
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	int64_t deadline = dc_now_ms() + 2000;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		if (wait_fd(fd, deadline) != 0)
			break;
		ssize_t r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	int code = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		code = -1;
	char *b = strstr(buf, "\r\n\r\n");
	*body = strdup(b ? b + 4 : "");
	free(buf);
	return code;
}

double dc_metric(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, nl) && p[nl] == ' ')
			return strtod(p + nl + 1, NULL);
	}
	return -1;
}
