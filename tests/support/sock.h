/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file sock.h
 * \brief Socket helpers shared by the support servers (internal to
 * tests/support; tests use servers.h).  Deadlines are ts_now_ms() values.
 */
#ifndef TESTS_SUPPORT_SOCK_H
#define TESTS_SUPPORT_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/** 127.0.0.1:port. */
struct sockaddr_in ts__loopback(int port);

/** Bind a UDP and a TCP socket (not yet listening) to one free loopback
 * port.  \return The port, or -1. */
int ts__bind_pair(int *udp, int *tcp);

/** poll() one fd until \a events or the deadline (errno ETIMEDOUT). */
int ts__wait_fd(int fd, short events, int64_t deadline);

/** Read or write exactly \a len bytes before the deadline; 0 or -1. */
int ts__read_full(int fd, uint8_t *buf, size_t len, int64_t deadline);
int ts__write_full(int fd, const uint8_t *buf, size_t len, int64_t deadline);

/** One DNS exchange over TCP with 127.0.0.1:port; 0 or -1. */
int ts__tcp_exchange(int port, const uint8_t *q, size_t qlen, uint8_t *ans,
		     size_t anscap, size_t *anslen, int64_t deadline);

/** Sleep, resuming after signals. */
void ts__sleep_ms(unsigned ms);

#endif /* TESTS_SUPPORT_SOCK_H */
