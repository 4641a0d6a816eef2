/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Test helpers for aname-server and aname-resolverd: a DNS client built on
 * ldns (full answers, EDNS, UDP/TCP, deadlines) and start/stop of the
 * server under test by PID.
 */
#ifndef DNSCLIENT_H
#define DNSCLIENT_H

#include <ldns/ldns.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * Query 127.0.0.1:\a port for \a name/\a type with RD set.  \a edns: 0 for
 * no OPT, else the advertised UDP size.  Returns the parsed answer (free
 * with ldns_pkt_free()), or NULL if none arrived within \a timeout_ms.
 * \a rtt_ms (may be NULL) receives the round-trip time.
 */
ldns_pkt *dc_query(int port, const char *name, uint16_t type, int tcp,
		   uint16_t edns, int timeout_ms, int64_t *rtt_ms);

/**
 * Send \a len raw bytes over UDP; return the length of the first reply
 * copied into \a out, or -1 if none arrived within \a timeout_ms.
 */
int dc_raw_udp(int port, const void *msg, size_t len, uint8_t *out,
	       size_t outlen, int timeout_ms);

/** Addresses of type \a type in the answer section, at owner \a owner, as
 * a sorted, space-separated string (caller frees). */
char *dc_addrs(const ldns_pkt *p, const char *owner, uint16_t type);

/** Number of RRs of \a type in a section (LDNS_SECTION_*). */
int dc_count(const ldns_pkt *p, int section, uint16_t type);

/** Smallest TTL among answer RRs of \a type, or -1 if there are none. */
long dc_min_ttl(const ldns_pkt *p, uint16_t type);

/**
 * Start \a argv[0] with \a argv in its own process group with
 * PR_SET_PDEATHSIG(SIGKILL), stderr to \a logpath (if not NULL).  Returns
 * the PID or -1.
 */
pid_t dc_spawn(char *const argv[], const char *logpath);

/**
 * Wait until 127.0.0.1:\a port answers a query for \a name over UDP and
 * TCP, or \a timeout_ms passes or \a pid exits.  Returns 0 when ready.
 */
int dc_wait_ready(pid_t pid, int port, const char *name, int timeout_ms);

/** SIGTERM, wait up to 2 s, then SIGKILL; reap.  Returns the exit status
 * from waitpid() (or -1). */
int dc_stop(pid_t pid);

/** Monotonic milliseconds. */
int64_t dc_now_ms(void);



/**
 * Send \a n UDP queries for \a name/\a type at once, each from its own
 * socket, and wait for all answers until \a timeout_ms.  Returns how many
 * were answered; \a noerror_data (may be NULL) receives how many of them
 * were NOERROR with at least one answer record.
 */
int dc_burst(int port, const char *name, uint16_t type, int n,
	     int timeout_ms, int *noerror_data);

/**
 * HTTP GET http://127.0.0.1:\a port\a path; returns the status code and
 * the body in \a body (caller frees), or -1.
 */
int dc_http_get(int port, const char *path, char **body);

/** The value of metric line "\a name " in Prometheus text, or -1. */
double dc_metric(const char *text, const char *name);
#endif
