/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * dnsloop: the DNS listener and event loop shared by aname-server and
 * aname-resolverd.
 *
 * It owns the sockets (UDP and TCP on every listen address), one epoll
 * loop per worker thread, TCP connection handling (several queries per
 * connection, idle timeout, connection limit), signals (SIGHUP reload,
 * SIGTERM/SIGINT stop), and the library's fd in event-loop mode.
 *
 * The application answers queries through dnsloop_ops.handle().  A query
 * it cannot answer at once (a cache miss) is deferred: handle() calls
 * dnsloop_defer() and returns DNSLOOP_DEFERRED; later, from any thread,
 * the application calls dnsloop_answer() exactly once.  Every deferred
 * query has a deadline; if it passes, dnsloop asks the application to give
 * the query up (ops.expire) and answers SERVFAIL itself, so a client
 * always gets an answer.
 *
 * Memory bounds on TCP (a client that pipelines queries and never reads
 * must not grow the server):
 *  - a connection stops being read while it has 64 KiB of unsent output
 *    or 32 queries in flight; what is already in its 64 KiB read buffer
 *    waits there, and reading resumes when it is back under both;
 *  - a worker stops reading all its connections while their unsent output
 *    totals half of tcp_out_max / threads;
 *  - a response that would take a connection past 256 KiB unsent, or its
 *    worker past tcp_out_max / threads, closes that connection instead
 *    (only answers already in flight can get there);
 *  - a connection that makes no progress (nothing read, nothing sent) for
 *    tcp_idle_ms is closed, stuck output included.
 * So unsent TCP output never passes tcp_out_max in total, and read
 * buffers take at most 64 KiB per connection (tcp_max of them).
 */
#ifndef DNSLOOP_H
#define DNSLOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "aname.h"
#include "dnsmsg.h"

typedef struct dnsloop dnsloop_t;
typedef struct dnsloop_srv dnsloop_srv_t;
typedef struct dnsloop_req dnsloop_req_t;

/** One query.  handle() gets a short-lived one; dnsloop_defer() keeps it. */
struct dnsloop_req {
	dns_query_t q;
	const struct sockaddr *peer;  /* client address */
	socklen_t peerlen;
	uint8_t tcp;                  /* arrived over TCP */
	void *user;                   /* free for the application */
	aname_qid_t qid;              /* free for the application */
};

/* Default tcp_out_max; at least 512 KiB per worker is always allowed. */
#define DNSLOOP_TCP_OUT_MAX ((size_t)32 << 20)

/** handle() returns a response length, or one of these. */
#define DNSLOOP_DROP ((size_t)0)
#define DNSLOOP_DEFERRED ((size_t)-1)

typedef struct dnsloop_ops {
	/*
	 * Answer \a req into \a buf (\a cap bytes: the most this client may
	 * receive, already bounded by its UDP buffer size) and return the
	 * length; or DNSLOOP_DROP; or call dnsloop_defer() and return
	 * DNSLOOP_DEFERRED.  Runs on a worker thread.
	 */
	size_t (*handle)(void *app, dnsloop_req_t *req, uint8_t *buf,
			 size_t cap);
	/*
	 * The deadline of a deferred query passed.  Return 1 if the
	 * application gave it up (it will never call dnsloop_answer() on it;
	 * dnsloop answers SERVFAIL), 0 if an answer is on its way.  Release
	 * \a req->user when returning 1.
	 */
	int (*expire)(void *app, dnsloop_req_t *req);
	/* SIGHUP.  Runs on the main worker thread; must not block long. */
	void (*reload)(void *app);
} dnsloop_ops_t;

typedef struct dnsloop_opts {
	const char *const *listen;    /* "IP@PORT" strings */
	size_t nlisten;
	unsigned threads;             /* worker threads, >= 1 */
	aname_ctx_t *ctx;             /* library context */
	int event_mode;               /* poll aname_fd() on worker 0 */
	unsigned deadline_ms;         /* give up deferred queries after this */
	unsigned tcp_idle_ms;         /* close idle TCP connections */
	unsigned tcp_max;             /* TCP connections in total */
	size_t tcp_out_max;           /* unsent TCP output in total; 0: default */
	const dnsloop_ops_t *ops;
	void *app;
} dnsloop_opts_t;

/**
 * Create the server and bind every socket.  Errors (address in use, bad
 * address) are reported in \a err and nothing is left open.
 */
dnsloop_srv_t *dnsloop_srv_new(const dnsloop_opts_t *opts, char *err,
			       size_t errlen);

/**
 * Run until SIGTERM/SIGINT: starts threads-1 workers and runs worker 0 in
 * the calling thread.  Signals must be blocked in every thread before the
 * library context is created (dnsloop_block_signals()).  Returns 0.
 */
int dnsloop_srv_run(dnsloop_srv_t *srv);

/** Free the server (after dnsloop_srv_run() returned). */
void dnsloop_srv_free(dnsloop_srv_t *srv);

/** Block the signals dnsloop handles, in the calling thread and its children. */
void dnsloop_block_signals(void);

/**
 * Keep \a req past handle(): returns a heap copy whose deadline runs from
 * now.  The application must answer it with dnsloop_answer() or give it
 * up in ops.expire().  Only from handle().  NULL when out of memory.
 */
dnsloop_req_t *dnsloop_defer(dnsloop_req_t *req);

/**
 * Send the answer to a deferred query and release it (the message is
 * copied).  Any thread; exactly once per deferred query.  \a len 0 drops.
 */
void dnsloop_answer(dnsloop_req_t *req, const uint8_t *msg, size_t len);

/** Most a response to \a req may take (UDP size or 65535). */
size_t dnsloop_req_maxlen(const dnsloop_req_t *req);

/**
 * Append the server's own counters in Prometheus text format, names
 * prefixed with \a prefix.  Returns the length written (snprintf-like).
 */
int dnsloop_srv_metrics(dnsloop_srv_t *srv, const char *prefix, char *buf,
			size_t len);

/** Parse "IPv4[@port]" or "IPv6[@port]" (default port \a defport). */
int dnsloop_parse_addr(const char *s, unsigned defport,
		       struct sockaddr_storage *ss, socklen_t *sslen);

#endif
