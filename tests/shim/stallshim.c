/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * An LD_PRELOAD shim that makes the resolver thread's network syscalls
 * to one port sleep: a real stuck syscall, as a wedged kernel path, a
 * full socket buffer or a stuck NFS-backed log would give.  Once armed
 * (stallshim_arm(), found with dlsym), the first N threads named
 * "aname-driver" that connect(), send(), sendto() or sendmsg() to
 * 127.0.0.1:PORT sleep inside that call until stallshim_release(); every
 * other call goes straight to libc.  Disarmed, it costs one atomic load
 * per call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* The control interface, for the program under test (tests/shim). */
void stallshim_arm(int port, int threads);
void stallshim_release(void);
int stallshim_held(void);
int stallshim_taken(void);

static atomic_int armed_port;   /* 0: disarmed */
static atomic_int to_take;      /* threads still to hold */
static atomic_int held;         /* threads sleeping in a call right now */
static atomic_int taken;        /* threads ever held since arm */
static atomic_bool released;

void stallshim_arm(int port, int threads)
{
	atomic_store(&released, false);
	atomic_store(&taken, 0);
	atomic_store(&to_take, threads);
	atomic_store(&armed_port, port);
}

void stallshim_release(void)
{
	atomic_store(&armed_port, 0);
	atomic_store(&released, true);
}

int stallshim_held(void)
{
	return atomic_load(&held);
}

int stallshim_taken(void)
{
	return atomic_load(&taken);
}

static int port_of(const struct sockaddr *sa)
{
	if (sa == NULL) {
		return -1;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return ntohs(in->sin_port);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return ntohs(in6->sin6_port);
	}
	return -1;
}

static int peer_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
		return -1;
	}
	return port_of((struct sockaddr *)&ss);
}

static bool is_resolver_thread(void)
{
	char name[16] = "";
	pthread_getname_np(pthread_self(), name, sizeof(name));
	return strcmp(name, "aname-driver") == 0;
}

/* Sleeps here, in nanosleep(), until released: the caller is inside its
 * connect/send as far as libunbound and libaname can tell.  At most 60 s,
 * so a test that forgets to release cannot hang CI. */
static void maybe_stall(int port)
{
	int want = atomic_load_explicit(&armed_port, memory_order_relaxed);
	if (want == 0 || port != want || !is_resolver_thread()) {
		return;
	}
	int left = atomic_load(&to_take);
	do {
		if (left <= 0) {
			return;
		}
	} while (!atomic_compare_exchange_weak(&to_take, &left, left - 1));
	atomic_fetch_add(&taken, 1);
	atomic_fetch_add(&held, 1);
	for (int i = 0; i < 60000 && !atomic_load(&released); i++) {
		struct timespec ms = {0, 1000000L};
		nanosleep(&ms, NULL);
	}
	atomic_fetch_sub(&held, 1);
}

/* libc's own functions, looked up once before main() runs, so no two
 * threads race to fill them in. */
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
			      const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);

__attribute__((constructor)) static void find_libc(void)
{
	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))
		dlsym(RTLD_NEXT, "connect");
	real_send = (ssize_t(*)(int, const void *, size_t, int))
		dlsym(RTLD_NEXT, "send");
	real_sendto = (ssize_t(*)(int, const void *, size_t, int,
				  const struct sockaddr *, socklen_t))
		dlsym(RTLD_NEXT, "sendto");
	real_sendmsg = (ssize_t(*)(int, const struct msghdr *, int))
		dlsym(RTLD_NEXT, "sendmsg");
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	maybe_stall(port_of(sa));
	return real_connect(fd, sa, len);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (atomic_load_explicit(&armed_port, memory_order_relaxed) != 0) {
		maybe_stall(peer_port(fd));
	}
	return real_send(fd, buf, n, flags);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *sa, socklen_t len)
{
	if (atomic_load_explicit(&armed_port, memory_order_relaxed) != 0) {
		maybe_stall(sa != NULL ? port_of(sa) : peer_port(fd));
	}
	return real_sendto(fd, buf, n, flags, sa, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (atomic_load_explicit(&armed_port, memory_order_relaxed) != 0) {
		maybe_stall(msg->msg_name != NULL
				    ? port_of((const struct sockaddr *)msg->msg_name)
				    : peer_port(fd));
	}
	return real_sendmsg(fd, msg, flags);
}
