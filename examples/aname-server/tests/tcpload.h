/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * TCP load for the servers' memory-bound tests: pipelined queries from
 * clients that do not read, and the metrics that show the server's
 * reaction.  Shared by aname-server's and aname-resolverd's tests.
 */
#ifndef TCPLOAD_H
#define TCPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A non-blocking TCP connection to 127.0.0.1:\a port.  A small \a rcvbuf
 * (0: the default) keeps the kernel from absorbing what the server sends,
 * so unsent output piles up in the server, where its bounds apply. */
int tl_client(int port, int rcvbuf);

/* \a n length-prefixed queries for name/type, ids 0..n-1, back to back
 * (caller frees; *len gets the size). */
uint8_t *tl_pipeline(const char *name, uint16_t type, int n, size_t *len);

/* Write what the socket takes now; returns the new offset. */
size_t tl_write_some(int fd, const uint8_t *buf, size_t off, size_t len);

/* Read answers to the \a n queries of \a qs (writing its rest from \a off
 * as the socket takes it) for up to 40 s; returns how many arrived.
 * \a bad counts those out of order, not NOERROR, or without \a ancount
 * answer records. */
int tl_read_all(int fd, const uint8_t *qs, size_t off, size_t len, int n,
		unsigned ancount, int *bad);

/* 10 rounds of 20 connections, each sending \a q (\a len bytes) at once,
 * then all closed: churn past a small connection limit, where accepting
 * evicts connections whose events are still in the same epoll batch. */
void tl_churn(int port, const uint8_t *q, size_t len);

/* Metric \a name from http://127.0.0.1:\a mport/metrics, or -1. */
double tl_metric(int mport, const char *name);

/* Assert that metric \a name reaches \a min within \a timeout_ms. */
void tl_await_metric(int mport, const char *name, double min, int timeout_ms);

/* Assert that counter \a name stops changing (the same for 300 ms) within
 * 20 s: e.g. the server has stopped reading queries. */
void tl_await_settled(int mport, const char *name);

/* A KiB field of /proc/PID/status ("VmRSS", "VmHWM"), or -1. */
long tl_proc_kib(pid_t pid, const char *field);

#endif
