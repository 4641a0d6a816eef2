/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file nsd.c
 * \brief Loopback helpers: free ports, a one-shot DNS probe, and a private
 *        nsd that the benchmark starts, awaits and always kills by PID.
 *
 * nsd runs in the foreground (-d) in its own process group, so stopping it
 * means signalling exactly the group this process created, nothing else.
 * Readiness is awaited by querying the zone's SOA until it answers, never by
 * sleeping a fixed time.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int bind_lo(int type, int port)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int sock_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		return -1;
	}
	return ntohs(sa.sin_port);
}

int bench_udp_socket(int *port)
{
	int fd = bind_lo(SOCK_DGRAM, 0);
	if (fd < 0) {
		bench_die("cannot bind a loopback UDP socket: %s",
			  strerror(errno));
	}
	*port = sock_port(fd);
	return fd;
}

int bench_free_port(void)
{
	/* nsd needs the port for UDP and TCP: take one the kernel hands out
	 * for UDP and check that TCP can have it too. */
	for (int i = 0; i < 100; i++) {
		int port;
		int u = bench_udp_socket(&port);
		int t = bind_lo(SOCK_STREAM, port);
		close(u);
		if (t >= 0) {
			close(t);
			return port;
		}
	}
	bench_die("no free loopback port");
}

int bench_closed_port(void)
{
	int port;
	close(bench_udp_socket(&port));
	return port;
}

static size_t put_qname(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)len;
		memcpy(p + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

int bench_dns_probe(int port, const char *qname, uint16_t qtype,
		    int timeout_ms)
{
	uint8_t q[300], a[1500];
	uint16_t id = (uint16_t)(bench_now_ns() >> 7);
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1; /* QDCOUNT */
	size_t n = 12 + put_qname(q + 12, qname);
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = 1; /* IN */

	int myport;
	int fd = bench_udp_socket(&myport);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rcode = -1;
	if (sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		goto out;
	}
	uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		uint64_t now = bench_now_ns();
		if (now >= end) {
			break;
		}
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, (int)((end - now) / 1000000u) + 1) <= 0) {
			continue;
		}
		ssize_t r = recv(fd, a, sizeof(a), 0);
		if (r >= 12 && a[0] == q[0] && a[1] == q[1]) {
			rcode = a[3] & 0x0f;
			break;
		}
	}
out:
	close(fd);
	return rcode;
}

/* ------------------------------------------------------------ nsd */

/* Process groups to kill, and temp dirs to remove, when this process exits
 * or is interrupted.  Only async-signal-safe calls (kill, unlink, rmdir) run
 * from the handler, on file names known in advance. */
#define MAX_NSD 8
static volatile pid_t live_nsd[MAX_NSD];
static char live_dir[MAX_NSD][64];
static const char *const nsd_files[] = { "nsd.conf", "zone.txt", "nsd.log",
					 "nsd.pid", "nsd.out", "zone.list",
					 "xfrd.state" };

/* path = a + "/" + b, or "" when it does not fit (async-signal-safe). */
static void join(char *path, size_t len, const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	path[0] = 0;
	if (n + m + 2 <= len) {
		memcpy(path, a, n);
		path[n] = '/';
		memcpy(path + n + 1, b, m + 1);
	}
}

static void rm_known(const char *dir, pid_t pid)
{
	/* nsd keeps transfer state in <xfrdir>/nsd-xfr-<main pid>/, as
	 * nsd.<pid>.task.[01] and nsd.<pid>.zstat.[01]. */
	static const char *const xfr_files[] = { "task.0", "task.1",
						  "zstat.0", "zstat.1" };
	char digits[16], sub[128], file[64], path[256];
	int nd = 0;
	for (unsigned long v = (unsigned long)pid; nd == 0 || v > 0; v /= 10) {
		digits[nd++] = (char)('0' + v % 10);
	}
	char num[16];
	for (int i = 0; i < nd; i++) {
		num[i] = digits[nd - 1 - i];
	}
	num[nd] = 0;
	join(sub, sizeof(sub), dir, "nsd-xfr-");
	strncat(sub, num, sizeof(sub) - strlen(sub) - 1);
	for (size_t i = 0; i < sizeof(xfr_files) / sizeof(xfr_files[0]); i++) {
		memcpy(file, "nsd.", 5);
		strncat(file, num, sizeof(file) - strlen(file) - 1);
		strncat(file, ".", sizeof(file) - strlen(file) - 1);
		strncat(file, xfr_files[i], sizeof(file) - strlen(file) - 1);
		join(path, sizeof(path), sub, file);
		unlink(path);
	}
	rmdir(sub);
	for (size_t i = 0; i < sizeof(nsd_files) / sizeof(nsd_files[0]); i++) {
		join(path, sizeof(path), dir, nsd_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void kill_all_nsd(void)
{
	for (int i = 0; i < MAX_NSD; i++) {
		pid_t p = live_nsd[i];
		if (p > 0) {
			kill(-p, SIGKILL);
			/* Reaped first, so nsd writes nothing after the cleanup. */
			waitpid(p, NULL, 0);
			live_nsd[i] = 0;
			rm_known(live_dir[i], p);
		}
	}
}

static void on_signal(int sig)
{
	kill_all_nsd();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(pid_t pid, int add, const char *dir)
{
	static int hooked;
	if (!hooked) {
		hooked = 1;
		atexit(kill_all_nsd);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	for (int i = 0; i < MAX_NSD; i++) {
		if (add ? live_nsd[i] == 0 : live_nsd[i] == pid) {
			if (add) {
				snprintf(live_dir[i], sizeof(live_dir[i]), "%s",
					 dir);
			}
			live_nsd[i] = add ? pid : 0;
			return;
		}
	}
	if (add) {
		bench_die("too many nsd instances");
	}
}

static const char *nsd_path(void)
{
	return access("/usr/sbin/nsd", X_OK) == 0 ? "/usr/sbin/nsd" : "nsd";
}

const char *bench_nsd_version(void)
{
	static char ver[64];
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s -v 2>&1", nsd_path());
	FILE *p = popen(cmd, "r");
	if (p == NULL || fgets(ver, sizeof(ver), p) == NULL) {
		snprintf(ver, sizeof(ver), "nsd (version unknown)");
	}
	if (p) {
		pclose(p);
	}
	ver[strcspn(ver, "\n")] = 0;
	return ver;
}

static void write_conf(const bench_nsd_t *n, const char *zone)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/nsd.conf", n->dir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		bench_die("cannot write %s", path);
	}
	/* rrl-ratelimit 0: nsd's default rate limiting drops bursts from
	 * one client, which would measure nsd's RRL, not the library. */
	fprintf(f,
		"server:\n"
		"\tip-address: 127.0.0.1\n"
		"\tport: %d\n"
		"\tdo-ip6: no\n"
		"\tusername: \"\"\n"
		"\tchroot: \"\"\n"
		"\tdatabase: \"\"\n"
		"\tzonesdir: \"%s\"\n"
		"\tzonelistfile: \"%s/zone.list\"\n"
		"\txfrdfile: \"%s/xfrd.state\"\n"
		"\txfrdir: \"%s\"\n"
		"\tpidfile: \"%s/nsd.pid\"\n"
		"\tlogfile: \"%s/nsd.log\"\n"
		"\tserver-count: 1\n"
		"\trrl-ratelimit: 0\n"
		"\tverbosity: 1\n"
		"remote-control:\n"
		"\tcontrol-enable: no\n"
		"zone:\n"
		"\tname: \"%s\"\n"
		"\tzonefile: \"zone.txt\"\n",
		n->port, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, zone);
	fclose(f);
}

void bench_nsd_start(bench_nsd_t *n, const char *zone, bench_zone_fn fn,
		     void *arg)
{
	char path[128];
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "/tmp/aname-bench-XXXXXX");
	if (mkdtemp(n->dir) == NULL) {
		bench_die("mkdtemp: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/zone.txt", n->dir);
	FILE *z = fopen(path, "w");
	if (z == NULL) {
		bench_die("cannot write %s", path);
	}
	fn(z, arg);
	fclose(z);

	/* The free port can be taken between the check and nsd's bind; then
	 * nsd exits and we try another port. */
	for (int attempt = 0; attempt < 5; attempt++) {
		n->port = bench_free_port();
		write_conf(n, zone);
		snprintf(path, sizeof(path), "%s/nsd.conf", n->dir);
		pid_t ppid = getpid();
		pid_t pid = fork();
		if (pid < 0) {
			bench_die("fork: %s", strerror(errno));
		}
		if (pid == 0) {
			setpgid(0, 0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != ppid) {
				_exit(1);
			}
			char out[128];
			snprintf(out, sizeof(out), "%s/nsd.out", n->dir);
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp(nsd_path(), "nsd", "-d", "-c", path,
			       (char *)NULL);
			_exit(127);
		}
		setpgid(pid, pid);
		n->pid = pid;
		track(pid, 1, n->dir);
		uint64_t end = bench_now_ns() + 30ull * 1000000000u;
		while (bench_now_ns() < end) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				track(pid, 0, NULL);
				n->pid = 0;
				break;
			}
			if (bench_dns_probe(n->port, zone, 6, 50) == 0) {
				return;
			}
		}
		if (n->pid != 0) {
			bench_nsd_stop(n);
			bench_die("nsd did not answer within 30 s (see %s)",
				  n->dir);
		}
	}
	bench_die("nsd failed to start 5 times; see %s/nsd.out", n->dir);
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	char path[512];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) != 0) {
				rmdir(path);
			}
		}
	}
	closedir(d);
	rmdir(dir);
}

void bench_nsd_stop(bench_nsd_t *n)
{
	if (n->pid > 0) {
		kill(-n->pid, SIGTERM);
		/* Await the exit for up to 5 s, then force it. */
		uint64_t end = bench_now_ns() + 5000000000ull;
		int st;
		while (waitpid(n->pid, &st, WNOHANG) == 0) {
			if (bench_now_ns() > end) {
				kill(-n->pid, SIGKILL);
				waitpid(n->pid, &st, 0);
				break;
			}
			bench_sleep_ms(10);
		}
		kill(-n->pid, SIGKILL); /* children of the group, if any */
		track(n->pid, 0, NULL);
		n->pid = 0;
	}
	if (n->dir[0]) {
		rm_dir(n->dir);
		n->dir[0] = 0;
	}
}
