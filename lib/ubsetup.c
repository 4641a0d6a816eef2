/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ubsetup.c
 * \brief libunbound contexts: configure, create, delete, and its output.
 *
 * Facts this file is built on (libunbound 1.17.1; the source lines named
 * are in libunbound/libunbound.c, context.c and util/log.c):
 *  - Contexts are made with ub_ctx_create_event() over the driver
 *    thread's libevent base (libunbound's own libevent: Debian builds it
 *    --with-libevent).  Such a context has no worker thread or process and
 *    no pipes; ub_resolve_event() runs the resolution in the caller's
 *    thread (driver.c), ub_cancel() only marks the query (dothread is set,
 *    so it writes to no pipe), and ub_ctx_delete() joins nothing.  The
 *    thread-mode alternative, ub_ctx_async(ub, 1), must come before the
 *    first resolve or libunbound forks a worker process inside the host;
 *    it is not used.
 *  - Configuration freezes at finalize, and finalize writes process-global
 *    settings (config_apply); ub_ctx_create races in log_init (unbound
 *    #1492); finalize calls listen_setup_locks() and ub_ctx_delete calls
 *    listen_desetup_locks(), which init and destroy the same process-global
 *    mutexes (ThreadSanitizer reports the race when a watchdog swap
 *    creates one context while another is deleted).  So create, configure
 *    and delete all run under ub_lifecycle_lock, the library's one global
 *    lock, taken by driver threads and by aname_ctx_new() for the first
 *    context, never by any other host call.
 *  - libunbound logs to one process-global FILE (log_file), stderr unless
 *    a context overrides it with ub_ctx_debugout, and it writes holding a
 *    process-global log_lock.  A host whose stderr is a full pipe would
 *    stop the thread running libunbound inside fprintf, and the next ub_ctx_create
 *    (log_init takes log_lock) with it.  Every context made here therefore
 *    logs into sink_file, a FILE whose writes copy into a bounded ring
 *    and never block; the host's loop hands the lines to the log
 *    callback (loop.c).  The FILE is process-global because libunbound's
 *    log file is, and it is never closed: log_init() closes the current
 *    log file only when no context has overridden it, and
 *    ub_ctx_delete() sets it to NULL (silence), never to stderr.
 *  - A limit we cannot remove: creating a context takes that log_lock
 *    (ub_ctx_debugout and finalize call log_file).  A driver stopped
 *    while it holds the lock (a debugger, SIGSTOP, in the middle of a log
 *    line) therefore keeps every new context in the process from being
 *    created until it runs again.  The same holds for OpenSSL's
 *    process-wide locks, which libunbound takes when it builds a
 *    context's event worker (driver.c does that at start, so a stop
 *    during a host's first query cannot leave them held; Debian 13's
 *    OpenSSL made that window visible).  Only the driver thread doing
 *    the creation waits; host calls do not, and the watchdog keeps
 *    replacing the stuck replacement (tests/tsan/tsan_swap.c sees it
 *    happen).
 */
#include "ubsetup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound-event.h>
#include <unbound.h>

/* Global state libunbound forces on us: see the file comment. */
static pthread_mutex_t ub_lifecycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;
static FILE *sink_file;

#define SINK_LINES 64
static struct {
	pthread_mutex_t lock; /* a leaf: held for a memcpy, never blocks */
	char line[SINK_LINES][ANAME_UB_LINE_MAX];
	size_t head, n;
	size_t partial; /* octets of the line being assembled */
	char cur[ANAME_UB_LINE_MAX];
	unsigned long dropped;
} sink = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void sink_push_locked(void)
{
	if (sink.partial == 0) {
		return;
	}
	sink.cur[sink.partial] = '\0';
	if (sink.n == SINK_LINES) {
		sink.head = (sink.head + 1) % SINK_LINES; /* drop the oldest */
		sink.n--;
		sink.dropped++;
	}
	memcpy(sink.line[(sink.head + sink.n) % SINK_LINES], sink.cur,
	       sink.partial + 1);
	sink.n++;
	sink.partial = 0;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	pthread_mutex_lock(&sink.lock);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			sink_push_locked();
		} else if (sink.partial < ANAME_UB_LINE_MAX - 1) {
			sink.cur[sink.partial++] = buf[i];
		}
	}
	pthread_mutex_unlock(&sink.lock);
	return (ssize_t)size;
}

static void sink_open(void)
{
	cookie_io_functions_t io = {.write = sink_write};
	sink_file = fopencookie(NULL, "w", io);
	if (sink_file != NULL) {
		setvbuf(sink_file, NULL, _IOLBF, 0);
	}
}

size_t aname__ub_log_take(char (*lines)[ANAME_UB_LINE_MAX], size_t max,
			  unsigned long *dropped)
{
	size_t k = 0;
	*dropped = 0;
	/* Only try: a libunbound thread stopped inside sink_write() holds
	 * the lock, and the loop must not wait for it. */
	if (pthread_mutex_trylock(&sink.lock) != 0) {
		return 0;
	}
	while (k < max && sink.n > 0) {
		memcpy(lines[k++], sink.line[sink.head], ANAME_UB_LINE_MAX);
		sink.head = (sink.head + 1) % SINK_LINES;
		sink.n--;
	}
	*dropped = sink.dropped;
	sink.dropped = 0;
	pthread_mutex_unlock(&sink.lock);
	return k;
}

static int set_opt(struct ub_ctx *ub, const char *opt, const char *val)
{
	return ub_ctx_set_option(ub, opt, val) == 0 ? ANAME_OK
						    : ANAME_ERESOLVER;
}

static int set_num(struct ub_ctx *ub, const char *opt, unsigned long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu", v);
	return set_opt(ub, opt, buf);
}

static int configure(struct ub_ctx *ub, const aname_config_t *cfg)
{
	int rc = ANAME_OK;
	/* First, so that nothing this context does reaches stderr. */
	if (sink_file == NULL || ub_ctx_debugout(ub, sink_file) != 0) {
		return ANAME_ERESOLVER;
	}
	unsigned ports = cfg->max_fetches * 2u;
	ports = ports < 64 ? 64 : (ports > 4096 ? 4096 : ports);
	rc |= set_num(ub, "outgoing-range:", ports);
	rc |= set_num(ub, "num-queries-per-thread:", ports);
	/* libunbound answers SERVFAIL for a chain longer than its restart
	 * limit (11 by default), which would hide a too-long chain behind a
	 * generic failure.  Letting it follow up to ANAME_UB_MAX_RESTARTS
	 * lets answer.c see the chain and fail it with ANAME_ELOOP whatever
	 * max_chain is; only chains longer than that (and real loops, which
	 * libunbound detects itself) stay SERVFAIL. */
	rc |= set_num(ub, "max-query-restarts:", ANAME_UB_MAX_RESTARTS);
	/* Slow upstreams: libunbound waits unknown-server-time-limit (376 ms)
	 * for a server it has no RTT estimate for, then retransmits and drops
	 * the answer to the first packet if it comes later.  A fresh context
	 * (every start, every watchdog replacement, the CLI) facing a 0.5 s
	 * upstream then needed 4 packets and ~2 s per (target, type): past
	 * the default 1.5 s deadline.  Three quarters of the deadline lets an
	 * upstream with an RTT up to ~1.1 s answer the first packet in time,
	 * and a dead one still costs 2 packets before the deadline (the
	 * retransmit timer doubles).  Process-global in libunbound
	 * (config_apply), like every timing setting: one configuration per
	 * process. */
	unsigned unknown = cfg->timeout_ms / 4u * 3u;
	unknown = unknown < 376 ? 376 : (unknown > 12000 ? 12000 : unknown);
	rc |= set_num(ub, "unknown-server-time-limit:", unknown);
	/* Deterministic address order; hosts may rotate themselves. */
	rc |= set_opt(ub, "rrset-roundrobin:", "no");
	/* The library serves stale itself, with its own limits. */
	rc |= set_opt(ub, "prefetch:", "yes");
	rc |= set_opt(ub, "serve-expired:", "no");
	/* libunbound's own cache would hand a refresh-ahead its cached copy
	 * back, expiring when ours does.  Its prefetch makes a refresh that
	 * arrives in the last 10 % of a TTL fetch anew in the background,
	 * and cache.c holds off a refresh that did not extend the entry for
	 * ANAME_REFRESH_RETRY_MS; for short TTLs, answer.c expires our entry
	 * with libunbound's copy, so the refresh at that moment reaches the
	 * upstream.  (Shrinking libunbound's caches instead made it ask
	 * twice per resolution; cache-max-ttl would cap the TTLs it reports,
	 * which the TTL rule needs.) */
	rc |= set_num(ub, "cache-max-ttl:", cfg->max_ttl);
	rc |= set_num(ub, "cache-max-negative-ttl:", cfg->neg_max_ttl);
	/* Loopback forwarders and stubs are normal in tests and in hosts that
	 * run a local resolver. */
	rc |= set_opt(ub, "do-not-query-localhost:", "no");
	/* Full recursion starts from these instead of the built-in hints;
	 * canary.c probes the same addresses. */
	if (cfg->root_hints != NULL) {
		rc |= set_opt(ub, "root-hints:", cfg->root_hints);
	}
	if (cfg->trust_anchor_file == NULL) {
		/* Without anchors the validator only costs time. */
		rc |= set_opt(ub, "module-config:", "iterator");
	}
	if (rc != ANAME_OK) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_forwarders; i++) {
		if (ub_ctx_set_fwd(ub, cfg->forwarders[i]) != 0) {
			return ANAME_ERESOLVER;
		}
	}
	/* "Send all queries to the forwarder" includes RFC 6761 test.
	 * names, which libunbound would otherwise answer NXDOMAIN itself;
	 * the forwarder decides.  (invalid., localhost. and onion. stay
	 * local: they never have answers, and the watchdog probe lives in
	 * invalid.) */
	if (cfg->n_forwarders > 0 &&
	    set_opt(ub, "local-zone:", "test. transparent") != ANAME_OK) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_stubs; i++) {
		char zone[ANAME_TEXT_MAX + 16];
		if (ub_ctx_set_stub(ub, cfg->stubs[i].zone, cfg->stubs[i].addr,
				    0) != 0) {
			return ANAME_ERESOLVER;
		}
		/* A stub inside a special-use domain that libunbound answers
		 * itself (test., invalid., ...) would never be asked; a
		 * transparent local zone at the stub makes it reachable and
		 * changes nothing elsewhere. */
		if (strcmp(cfg->stubs[i].zone, ".") != 0) {
			snprintf(zone, sizeof(zone), "%s transparent",
				 cfg->stubs[i].zone);
			if (set_opt(ub, "local-zone:", zone) != ANAME_OK) {
				return ANAME_ERESOLVER;
			}
		}
	}
	for (size_t i = 0; i < cfg->n_local_zones; i++) {
		if (set_opt(ub, "local-zone:", cfg->local_zones[i]) !=
		    ANAME_OK) {
			return ANAME_ERESOLVER;
		}
	}
	if (cfg->trust_anchor_file != NULL &&
	    ub_ctx_add_ta_file(ub, cfg->trust_anchor_file) != 0) {
		return ANAME_EFILE;
	}
	/* Finalizes the context; everything above must come first. */
	if (ub_ctx_data_add(ub, ANAME_PROBE_NAME " 0 IN TXT \"aname\"") != 0) {
		return ANAME_ERESOLVER;
	}
	for (size_t i = 0; i < cfg->n_local_data; i++) {
		if (ub_ctx_data_add(ub, cfg->local_data[i]) != 0) {
			return ANAME_EBADRR;
		}
	}
	return ANAME_OK;
}

int aname__ub_create(const aname_config_t *cfg, struct event_base *base,
		     struct ub_ctx **out)
{
	pthread_once(&sink_once, sink_open);
	pthread_mutex_lock(&ub_lifecycle_lock);
	struct ub_ctx *ub = ub_ctx_create_event(base);
	int rc = ub != NULL ? configure(ub, cfg) : ANAME_ENOMEM;
	if (rc != ANAME_OK && ub != NULL) {
		ub_ctx_delete(ub);
	}
	pthread_mutex_unlock(&ub_lifecycle_lock);
	if (rc == ANAME_OK) {
		*out = ub;
	}
	return rc;
}

void aname__ub_delete(struct ub_ctx *ub)
{
	pthread_mutex_lock(&ub_lifecycle_lock);
	ub_ctx_delete(ub);
	pthread_mutex_unlock(&ub_lifecycle_lock);
}
