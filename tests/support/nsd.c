/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file nsd.c
 * \brief Start and stop a real NSD on loopback for integration tests.
 *
 * Each instance gets a private mkdtemp() directory holding everything nsd
 * writes, so instances never share state, and a free high port.  Readiness
 * is a SOA answer from every zone, polled with a deadline; stopping is by
 * process group of the PID we forked, never by name.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "support/servers.h"
#include "support/sock.h"

#define NSD_BIN "/usr/sbin/nsd"
#define NSD_READY_MS 10000
#define NSD_TRIES 4

static int write_conf(const ts_nsd_t *nsd, const ts_zone_t *zones)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nsd.conf", nsd->dir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		return -1;
	}
	/* Everything nsd may write lives in the temp dir; rrl off because a
	 * burst of test queries must never be rate limited (see
	 * shared/notes/libunbound.md section 0). */
	fprintf(f,
		"server:\n"
		"\tip-address: 127.0.0.1@%d\n"
		"\tdo-ip6: no\n"
		"\tserver-count: 1\n"
		"\tverbosity: 0\n"
		"\trrl-ratelimit: 0\n"
		"\tusername: \"\"\n"
		"\tchroot: \"\"\n"
		"\tzonesdir: \"%s\"\n"
		"\tdatabase: \"\"\n"
		"\tzonelistfile: \"%s/zone.list\"\n"
		"\txfrdfile: \"%s/xfrd.state\"\n"
		"\txfrdir: \"%s\"\n"
		"\tpidfile: \"%s/nsd.pid\"\n"
		"\tlogfile: \"%s/nsd.log\"\n"
		"\thide-version: yes\n"
		"\tminimal-responses: no\n"
		"remote-control:\n"
		"\tcontrol-enable: no\n",
		nsd->port, nsd->dir, nsd->dir, nsd->dir, nsd->dir, nsd->dir,
		nsd->dir);
	for (const ts_zone_t *z = zones; z->name != NULL; z++) {
		char abs[PATH_MAX];
		if (realpath(z->file, abs) == NULL) {
			fprintf(stderr, "ts_nsd_start: zone file %s: %s\n",
				z->file, strerror(errno));
			fclose(f);
			return -1;
		}
		fprintf(f, "zone:\n\tname: \"%s\"\n\tzonefile: \"%s\"\n",
			z->name, abs);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			remove_dir(path);
		} else {
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

static void dump_log(const ts_nsd_t *nsd)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nsd.log", nsd->dir);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL) {
		fprintf(stderr, "  nsd.log: %s", line);
	}
	fclose(f);
}

static pid_t spawn(const ts_nsd_t *nsd)
{
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/nsd.conf", nsd->dir);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0) {
		if (pid > 0) {
			/* Set the group from both sides so that a kill(-pid)
			 * right after fork() cannot miss it. */
			setpgid(pid, pid);
		}
		return pid;
	}
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) {
		_exit(127);
	}
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
	}
	execl(NSD_BIN, "nsd", "-d", "-c", conf, (char *)NULL);
	fprintf(stderr, "ts_nsd_start: exec %s: %s\n", NSD_BIN,
		strerror(errno));
	_exit(127);
}

/* Kill the group of the nsd we forked and reap it; bounded wait. */
static void kill_and_reap(pid_t pid)
{
	kill(-pid, SIGTERM);
	int64_t deadline = ts_now_ms() + 2000;
	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			break;
		}
		if (ts_now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		ts__sleep_ms(2);
	}
	/* nsd's server and xfrd children exit after the main process; make
	 * sure none outlives the handle. */
	kill(-pid, SIGKILL);
}

static bool all_zones_answer(const ts_nsd_t *nsd, const ts_zone_t *zones)
{
	for (const ts_zone_t *z = zones; z->name != NULL; z++) {
		ts_answer_t a;
		if (ts_query_ex(nsd->port, z->name, 6, 0, 100, &a) != 0 ||
		    a.rcode != 0 || a.ancount < 1 || !a.aa) {
			return false;
		}
	}
	return true;
}

/* 1: ready, 0: nsd exited (e.g. port taken), -1: gave up. */
static int await_ready(ts_nsd_t *nsd, const ts_zone_t *zones, int64_t t0)
{
	int64_t deadline = t0 + NSD_READY_MS;
	while (ts_now_ms() < deadline) {
		int status;
		if (waitpid(nsd->pid, &status, WNOHANG) == nsd->pid) {
			kill(-nsd->pid, SIGKILL);
			return 0;
		}
		if (all_zones_answer(nsd, zones)) {
			nsd->start_ms = ts_now_ms() - t0;
			return 1;
		}
		ts__sleep_ms(5);
	}
	return -1;
}

ts_nsd_t *ts_nsd_start(const ts_zone_t *zones)
{
	static char ex[PATH_MAX], other[PATH_MAX];
	ts_zone_t defaults[3] = { { NULL, NULL } };
	if (zones == NULL) {
		const char *dir = ts_fixtures_dir();
		if (dir == NULL) {
			fprintf(stderr, "ts_nsd_start: tests/fixtures/zones "
					"not found (set TS_FIXTURES_DIR)\n");
			return NULL;
		}
		snprintf(ex, sizeof(ex), "%s/example.test.zone", dir);
		snprintf(other, sizeof(other), "%s/other.test.zone", dir);
		defaults[0] = (ts_zone_t){ "example.test", ex };
		defaults[1] = (ts_zone_t){ "other.test", other };
		zones = defaults;
	}
	if (access(NSD_BIN, X_OK) != 0) {
		fprintf(stderr, "ts_nsd_start: %s missing (apt-get install "
				"nsd)\n", NSD_BIN);
		return NULL;
	}

	ts_nsd_t *nsd = calloc(1, sizeof(*nsd));
	if (nsd == NULL) {
		return NULL;
	}
	snprintf(nsd->dir, sizeof(nsd->dir), "/tmp/aname-nsd-XXXXXX");
	if (mkdtemp(nsd->dir) == NULL) {
		fprintf(stderr, "ts_nsd_start: mkdtemp: %s\n", strerror(errno));
		free(nsd);
		return NULL;
	}

	for (int attempt = 0; attempt < NSD_TRIES; attempt++) {
		nsd->port = ts_free_port();
		if (nsd->port < 0 || write_conf(nsd, zones) != 0) {
			break;
		}
		int64_t t0 = ts_now_ms();
		nsd->pid = spawn(nsd);
		if (nsd->pid < 0) {
			break;
		}
		int rc = await_ready(nsd, zones, t0);
		if (rc == 1) {
			return nsd;
		}
		if (rc < 0) {
			kill_and_reap(nsd->pid);
			fprintf(stderr, "ts_nsd_start: no SOA answer on port %d "
					"within %d ms\n", nsd->port,
				NSD_READY_MS);
			break;
		}
		fprintf(stderr, "ts_nsd_start: nsd exited (port %d taken?), "
				"retrying\n", nsd->port);
	}
	dump_log(nsd);
	remove_dir(nsd->dir);
	free(nsd);
	return NULL;
}

int ts_nsd_port(const ts_nsd_t *nsd)
{
	return nsd != NULL ? nsd->port : -1;
}

void ts_server_stop(ts_nsd_t *nsd)
{
	if (nsd == NULL) {
		return;
	}
	if (nsd->pid > 0) {
		kill_and_reap(nsd->pid);
	}
	remove_dir(nsd->dir);
	free(nsd);
}
