/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file servers.h
 *
 * Test support: real and fake DNS servers on loopback for the Criterion
 * suite.  Everything listens on 127.0.0.1 at a free high port, so parallel
 * test runs never collide, and everything is stopped by its own handle
 * (PID or thread), never by name.
 *
 *     ts_nsd_t *nsd = ts_nsd_start(NULL);          // fixture zones
 *     ts_proxy_t *px = ts_proxy_start(ts_nsd_port(nsd));
 *     // point the library at "127.0.0.1@<ts_proxy_port(px)>"
 *     ts_proxy_set_mode(px, "www.example.test", TS_MODE_DROP, 0);
 *     ...
 *     cr_assert(ts_proxy_count(px, "www.example.test", 1) >= 1);
 *     ts_proxy_stop(px);
 *     ts_server_stop(nsd);
 *
 * Functions that start something return NULL on failure after printing the
 * reason to stderr; tests should cr_assert_not_null() the result so that a
 * missing server fails loudly.  Stop functions accept NULL.
 *
 * Thread-safety: every ts_proxy_* and ts_blackhole_* call may be made from
 * any thread while the server runs.  ts_nsd_start()/ts_server_stop() are
 * not meant to race on the same handle.
 */
#ifndef TESTS_SUPPORT_SERVERS_H
#define TESTS_SUPPORT_SERVERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * A port on 127.0.0.1 that was free for both UDP and TCP a moment ago
 * (bound with port 0, then released).  Another process may take it before
 * you bind it: servers started here retry with a new port when that happens.
 * \return The port, or -1 on error.
 */
int ts_free_port(void);

/** Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
int64_t ts_now_ms(void);

/** Condition polled by ts_wait_until(). */
typedef bool (*ts_cond_fn)(void *arg);

/**
 * Await a condition instead of sleeping a fixed time: call \a cond every
 * millisecond or so until it returns true or \a timeout_ms passes.
 * \return true if the condition held (it is checked once more at the
 *         deadline), false on timeout.
 */
bool ts_wait_until(ts_cond_fn cond, void *arg, int timeout_ms);

/** What ts_query_ex() saw in an answer. */
typedef struct {
	int rcode;        /**< DNS rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN...). */
	int ancount;      /**< Records in the answer section. */
	int tc;           /**< TC bit. */
	int aa;           /**< AA bit. */
	uint32_t min_ttl; /**< Smallest TTL in the answer section (0 if none). */
	int64_t rtt_ms;   /**< Time from send to answer. */
} ts_answer_t;

/**
 * Send one query (RD set, no EDNS) to 127.0.0.1:\a port and wait for the
 * answer.
 *
 * \param[in]  name        Query name, presentation format.
 * \param[in]  type        RR type number (1 A, 28 AAAA, 6 SOA ...).
 * \param[in]  tcp         0: UDP, 1: TCP.
 * \param[in]  timeout_ms  Deadline for the whole exchange.
 * \param[out] out         Filled on success; may be NULL.
 * \return 0 when an answer with the query's id arrived, -1 on timeout or
 *         error (then errno is ETIMEDOUT for a timeout).
 */
int ts_query_ex(int port, const char *name, uint16_t type, int tcp,
		int timeout_ms, ts_answer_t *out);

/**
 * Short form of ts_query_ex() with a 1000 ms deadline.
 * \param[out] rcode, ancount  Filled on success; either may be NULL.
 * \return 0 on an answer, -1 on timeout/error.
 */
int ts_query(int port, const char *name, uint16_t type, int tcp, int *rcode,
	     int *ancount);

/** Absolute path of tests/fixtures/zones (found from the test binary's
 * location, ../../tests/fixtures/zones, or $TS_FIXTURES_DIR, or the
 * current directory).  Static string; NULL if not found. */
const char *ts_fixtures_dir(void);

/* ------------------------------------------------------------------------ */
/* NSD                                                                      */
/* ------------------------------------------------------------------------ */

/** One zone for nsd to serve. */
typedef struct {
	const char *name; /**< Zone apex, e.g. "example.test". */
	const char *file; /**< Zone file path (absolute, or relative to cwd). */
} ts_zone_t;

/** A running nsd.  Fields are read-only for tests. */
typedef struct {
	pid_t pid;           /**< nsd's main process (leader of its group). */
	int port;            /**< 127.0.0.1 UDP and TCP port. */
	char dir[64];        /**< Private temp dir: nsd.conf, nsd.log, ... */
	int64_t start_ms;    /**< fork() to first SOA answer, milliseconds. */
} ts_nsd_t;

/**
 * Start /usr/sbin/nsd in the foreground (-d) serving \a zones (terminated by
 * an entry with name NULL), or the fixture zones example.test and
 * other.test when \a zones is NULL.
 *
 * nsd gets a fresh mkdtemp() dir under /tmp holding its config, log, pid,
 * xfrd state and zone list; it listens on 127.0.0.1 at a free port (UDP and
 * TCP), with rrl-ratelimit 0, server-count 1, no database and no privilege
 * drop.  The call returns only after nsd answered a SOA query over UDP for
 * every zone, or fails after 10 s (printing nsd's log to stderr).  If the port
 * was taken meanwhile, it retries with another port.
 *
 * nsd runs in its own process group and gets SIGKILL if the thread that
 * started it dies (PR_SET_PDEATHSIG), so a crashed test leaks no server.
 *
 * \return A handle for ts_server_stop(), or NULL on failure.
 */
ts_nsd_t *ts_nsd_start(const ts_zone_t *zones);

/** Port of a running nsd. */
int ts_nsd_port(const ts_nsd_t *nsd);

/**
 * Stop nsd: SIGTERM to its process group, wait up to 2 s for it to exit,
 * then SIGKILL; reap it, remove its temp dir and free the handle.  NULL is a
 * no-op.  Afterwards kill(pid, 0) fails with ESRCH.
 */
void ts_server_stop(ts_nsd_t *nsd);

/* ------------------------------------------------------------------------ */
/* Black hole                                                               */
/* ------------------------------------------------------------------------ */

/** A server that reads everything and never answers. */
typedef struct ts_blackhole ts_blackhole_t;

/**
 * Start a black hole on 127.0.0.1 (UDP socket and TCP listener on one free
 * port), served by a thread: UDP datagrams are read and dropped, TCP
 * connections are accepted and read but never written to (kept open until
 * stop).
 * \return The handle, or NULL on failure.
 */
ts_blackhole_t *ts_blackhole_start(void);

/** Its port. */
int ts_blackhole_port(const ts_blackhole_t *bh);

/** UDP datagrams plus TCP connections received so far. */
unsigned ts_blackhole_count(ts_blackhole_t *bh);

/** UDP datagrams received so far. */
unsigned ts_blackhole_udp_count(ts_blackhole_t *bh);

/** TCP connections accepted so far. */
unsigned ts_blackhole_tcp_count(ts_blackhole_t *bh);

/** UDP queries for type SOA so far: what libaname's upstream canary sends
 * to a stub address (lib/canary.c), to tell them from resolutions. */
unsigned ts_blackhole_soa_count(ts_blackhole_t *bh);

/** Stop the thread, close every socket, free.  NULL is a no-op. */
void ts_blackhole_stop(ts_blackhole_t *bh);

/* ------------------------------------------------------------------------ */
/* Fault-injecting proxy                                                    */
/* ------------------------------------------------------------------------ */

/** What the proxy does with a query. */
typedef enum {
	TS_MODE_PASS = 0, /**< Forward to the upstream, relay the answer. */
	TS_MODE_DROP,     /**< Never answer. */
	TS_MODE_DELAY,    /**< Forward after delay_ms. */
	TS_MODE_SERVFAIL, /**< Answer SERVFAIL at once, no upstream query. */
	TS_MODE_REFUSED,  /**< Answer REFUSED at once, no upstream query. */
	TS_MODE_TRUNCATE, /**< UDP: answer TC=1 with no records; TCP: pass. */
} ts_mode_t;

/** A DNS proxy between the library and an upstream (usually nsd). */
typedef struct ts_proxy ts_proxy_t;

/**
 * Start a proxy on 127.0.0.1 at a free port (UDP and TCP) forwarding to
 * 127.0.0.1:\a upstream_port, with every name in TS_MODE_PASS.  A thread
 * serves UDP; each TCP connection gets its own thread.  Upstream answers
 * relayed over UDP are forwarded verbatim (a TC answer from the upstream
 * stays TC); over TCP the proxy asks the upstream over TCP.
 * \return The handle, or NULL on failure.
 */
ts_proxy_t *ts_proxy_start(int upstream_port);

/** The proxy's port. */
int ts_proxy_port(const ts_proxy_t *p);

/**
 * Set the mode for queries whose name equals \a name (case-insensitive,
 * trailing dot optional; exact match, no subdomains), or the default mode
 * for all names without their own mode when \a name is NULL.  Takes effect
 * for the next query received.  A name's own mode, TS_MODE_PASS included,
 * overrides the default until ts_proxy_clear_modes().
 *
 * \param[in] delay_ms  Used with TS_MODE_DELAY only.
 * \return 0, or -1 for a bad name (not parsable) or out of memory.
 */
int ts_proxy_set_mode(ts_proxy_t *p, const char *name, ts_mode_t mode,
		      unsigned delay_ms);

/** Forget every per-name mode and set the default back to TS_MODE_PASS. */
void ts_proxy_clear_modes(ts_proxy_t *p);

/**
 * Queries received (UDP and TCP, whatever their mode) for (\a name,
 * \a qtype); \a name as in ts_proxy_set_mode().  qtype 0 counts all types.
 */
unsigned ts_proxy_count(ts_proxy_t *p, const char *name, uint16_t qtype);

/** All queries received, including unparsable ones. */
unsigned ts_proxy_total(ts_proxy_t *p);

/** Zero every counter. */
void ts_proxy_reset_counts(ts_proxy_t *p);

/** Stop all threads, close every socket, free.  NULL is a no-op. */
void ts_proxy_stop(ts_proxy_t *p);

#endif /* TESTS_SUPPORT_SERVERS_H */
