/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file freeze.c
 * \brief Stop a thread of this process for real; see freeze.h.
 */
#include "freeze.h"

#include "servers.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ts_freeze {
	pid_t helper;
	int ctl; /* write end: closing it thaws */
};

static int scan(const char *name, pid_t *newest)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	*newest = -1;
	if (d == NULL) {
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL) {
			continue;
		}
		if (fgets(comm, sizeof(comm), f) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
		}
		fclose(f);
		if (strcmp(comm, name) == 0) {
			pid_t tid = (pid_t)atoi(e->d_name);
			n++;
			if (tid > *newest) {
				*newest = tid;
			}
		}
	}
	closedir(d);
	return n;
}

int ts_count_threads(const char *name)
{
	pid_t t;
	return scan(name, &t);
}

pid_t ts_find_thread(const char *name, int wait_ms)
{
	int64_t until = ts_now_ms() + wait_ms;
	for (;;) {
		pid_t tid;
		if (scan(name, &tid) > 0) {
			return tid;
		}
		if (ts_now_ms() >= until) {
			return -1;
		}
		struct timespec ts = {0, 2000000L};
		nanosleep(&ts, NULL);
	}
}

pid_t ts_find_ub_worker(int n, int wait_ms)
{
	int64_t until = ts_now_ms() + wait_ms;
	pid_t tid;
	/* libunbound runs in event mode inside each driver thread, so the
	 * thread doing its network work is the driver itself. */
	while (scan("aname-driver", &tid) < n) {
		if (ts_now_ms() >= until) {
			return -1;
		}
		struct timespec ts = {0, 2000000L};
		nanosleep(&ts, NULL);
	}
	return tid;
}

/* The helper: attach, stop, report, wait for the pipe to close, detach. */
static void helper_main(pid_t tid, int report, int ctl)
{
	char ok = 1;
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0 ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
		fprintf(stderr, "freeze: ptrace %d: %s\n", (int)tid,
			strerror(errno));
		ok = 0;
	} else {
		int st;
		if (waitpid(tid, &st, __WALL) != tid) {
			fprintf(stderr, "freeze: waitpid %d: %s\n", (int)tid,
				strerror(errno));
			ok = 0;
		}
	}
	if (write(report, &ok, 1) != 1 || !ok) {
		_exit(1);
	}
	char c;
	while (read(ctl, &c, 1) > 0) {
	}
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	_exit(0);
}

ts_freeze_t *ts_freeze(pid_t tid)
{
	int rep[2], ctl[2];
	if (tid <= 0 || pipe(rep) != 0) {
		return NULL;
	}
	if (pipe(ctl) != 0) {
		close(rep[0]);
		close(rep[1]);
		return NULL;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* Keep only our two ends: an inherited write end of another
		 * helper's pipe would keep that helper from ever seeing EOF. */
		for (int fd = 3; fd < 4096; fd++) {
			if (fd != rep[1] && fd != ctl[0]) {
				close(fd);
			}
		}
		helper_main(tid, rep[1], ctl[0]);
	}
	close(rep[1]);
	close(ctl[0]);
	if (pid < 0) {
		close(rep[0]);
		close(ctl[1]);
		return NULL;
	}
	prctl(PR_SET_PTRACER, pid, 0, 0, 0);
	char ok = 0;
	ssize_t r = read(rep[0], &ok, 1);
	close(rep[0]);
	if (r != 1 || !ok) {
		close(ctl[1]);
		waitpid(pid, NULL, 0);
		return NULL;
	}
	ts_freeze_t *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		close(ctl[1]);
		waitpid(pid, NULL, 0);
		return NULL;
	}
	f->helper = pid;
	f->ctl = ctl[1];
	return f;
}

void ts_thaw(ts_freeze_t *f)
{
	if (f == NULL) {
		return;
	}
	close(f->ctl);
	waitpid(f->helper, NULL, 0);
	free(f);
}

/* Where thread \a tid is, stopped: the number of the system call it is
 * blocked in, or -1 (in user space, or unreadable). */
static long stopped_in_syscall(pid_t tid)
{
	char path[64], buf[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		buf[0] = 0;
	}
	fclose(f);
	char *end;
	long nr = strtol(buf, &end, 10);
	return end == buf ? -1 : nr;
}

/* Calls inside which a thread may hold the allocator's or a sanitizer
 * runtime's locks (or wait for one while holding another). */
static bool holds_runtime_locks(long nr)
{
	return nr < 0 || nr == SYS_mmap || nr == SYS_munmap ||
	       nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_madvise ||
	       nr == SYS_brk || nr == SYS_futex;
}

ts_freeze_t *ts_freeze_blocked(pid_t tid, int wait_ms)
{
	int64_t end = ts_now_ms() + wait_ms;
	do {
		ts_freeze_t *f = ts_freeze(tid);
		if (f == NULL) {
			return NULL;
		}
		if (!holds_runtime_locks(stopped_in_syscall(tid))) {
			return f;
		}
		ts_thaw(f);
		struct timespec ms = {0, 1000000L};
		nanosleep(&ms, NULL);
	} while (ts_now_ms() < end);
	return NULL;
}
