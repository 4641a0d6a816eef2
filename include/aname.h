/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file aname.h
 *
 * libaname: resolve ALIAS/ANAME targets to A/AAAA RRsets without ever
 * blocking the caller, cache them by TTL, and synthesize the sibling address
 * RRsets an authoritative server puts in its answer
 * (draft-ietf-dnsop-aname-04).
 *
 * Event-loop mode (default): the host polls one fd.
 *
 *     aname_config_t *cfg = aname_config_new();
 *     aname_config_add_forwarder(cfg, "127.0.0.1@53");
 *     aname_ctx_t *ctx;
 *     aname_ctx_new(&ctx, cfg);
 *     aname_config_free(cfg);
 *     aname_resolve(ctx, "target.example.net.", ANAME_RRTYPE_A, 0,
 *                   on_done, req, &qid);
 *     for (;;) {   // poll aname_fd() readable, at most aname_timeout_ms()
 *             poll(&(struct pollfd){aname_fd(ctx), POLLIN, 0}, 1,
 *                  aname_timeout_ms(ctx));
 *             aname_process(ctx);          // on_done() runs here
 *     }
 *
 * Thread mode: aname_config_set_thread(cfg, 1).  The library runs its own
 * thread (built on the same fd/timeout/process primitives) and callbacks run
 * on it; aname_fd() and aname_process() return ANAME_EBUSY.
 *
 * Fast path for synchronous hosts (a Knot module, a PowerDNS backend): never
 * blocks, never calls back, starts a background refresh when asked to:
 *
 *     aname_result_t *res;
 *     if (aname_cache_lookup(ctx, "target.example.net.", ANAME_RRTYPE_A,
 *                            ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
 *                            &res) == ANAME_OK) {
 *             n = aname_synth_wire(res, ANAME_RRTYPE_A, owner, owner_len,
 *                                  alias_ttl, buf, sizeof(buf), &len);
 *             aname_result_unref(res);
 *     }
 *
 * Outcomes.  A positive answer, NXDOMAIN and NODATA at the target are all
 * *successful* results (status ANAME_OK): the last two have no addresses and
 * tell the host to answer NODATA (draft-aname section 3).  SERVFAIL, REFUSED,
 * timeouts, DNSSEC-bogus answers, over-long CNAME chains and load shedding are
 * failures (negative status) and the host should answer SERVFAIL.
 *
 * TTL rule.  A synthesized RRset's TTL is min(ALIAS TTL, every TTL along the
 * CNAME chain, the target RRset's TTL), counted down while cached, then
 * clamped to the configured floor and cap (draft-aname section 3, step 4).
 * A stale answer (RFC 8767) carries the configured stale TTL instead.
 *
 * Reentrancy.  The library has no mutable global state apart from what
 * libunbound forces: one internal mutex that serialises libunbound context
 * creation and deletion (libunbound writes process-wide settings and locks
 * then), and one sink for libunbound's process-wide log output, which the
 * library never lets reach stdout or stderr (its lines go to a log
 * callback, see aname_config_set_log()).  Contexts are independent.  Note
 * that libunbound's timing settings are process-global: a host that also
 * links libunbound shares them.
 *
 * Blocking.  No function a host calls on a running context waits on
 * libunbound: one resolver thread per context makes every libunbound call
 * (see aname_config_set_watchdog()).  aname_ctx_new() creates the first
 * libunbound context in the caller's thread and may wait on libunbound's
 * process-global locks: call it at start-up, not on a query path.
 *
 * Threads.  Every function taking an aname_ctx_t is thread-safe unless its
 * note says otherwise (aname_ctx_free() is not).  Callbacks run with no
 * library lock held.  Results are immutable; their reference counts are
 * atomic.  Configuration objects are not thread-safe: build one in one thread.
 *
 * Memory.  Every object the library returns is released by the matching
 * *_free() or *_unref(); all of them accept NULL.  Strings returned by the
 * library are owned by it unless stated otherwise.
 */
#ifndef ANAME_H
#define ANAME_H

#include <stddef.h>
#include <stdint.h>

#include "aname_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define ANAME_API __attribute__((visibility("default")))
#else
#define ANAME_API
#endif

/** Opaque library context; one per event loop or thread-mode instance. */
typedef struct aname_ctx aname_ctx_t;
/** Opaque configuration; copied by aname_ctx_new(). */
typedef struct aname_config aname_config_t;
/** Opaque, immutable, reference-counted resolution result. */
typedef struct aname_result aname_result_t;
/** Query id for aname_cancel(); never reused within a context; 0 is invalid. */
typedef uint64_t aname_qid_t;

/* ldns's list type, so ldns users need not convert (see aname_synth_ldns). */
struct ldns_struct_rr_list;

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/**
 * Status codes.  Functions return int: ANAME_OK (0) or one of these negative
 * values.  Values are fixed: new codes are appended, none is renumbered.
 * All were introduced in 0.1.
 */
#define ANAME_STATUS_MAP(XX)                                                  \
	XX(EINVAL, -1, "invalid argument or API misuse")                      \
	XX(ENOMEM, -2, "out of memory")                                       \
	XX(EAGAIN, -3, "no usable cache entry")                               \
	XX(ENOENT, -4, "no such query: already delivered or cancelled")       \
	XX(ECANCELED, -5, "query dropped because the context is being freed") \
	XX(ETIMEDOUT, -6, "resolution deadline expired")                      \
	XX(ESERVFAIL, -7, "upstream resolution failed (SERVFAIL)")            \
	XX(EBOGUS, -8, "DNSSEC validation failed (bogus answer)")             \
	XX(EBADNAME, -9, "malformed domain name")                             \
	XX(EBUSY, -10, "call not valid in this mode or state")                \
	XX(ERESOLVER, -11, "libunbound reported an internal error")           \
	XX(ETHREAD, -12, "could not start or signal the internal thread")     \
	XX(EREFUSED, -13, "upstream refused the query (REFUSED)")             \
	XX(ELOOP, -14, "CNAME chain longer than the configured limit")        \
	XX(ESHED, -15, "overloaded: request shed, nothing stale to serve")    \
	XX(ENOSPC, -16, "output buffer too small")                            \
	XX(ERANGE, -17, "value out of the accepted range")                    \
	XX(EBADADDR, -18, "malformed IP address or port")                     \
	XX(EBADRR, -19, "malformed resource record text")                     \
	XX(EMALFORMED, -20, "malformed or inconsistent upstream answer")      \
	XX(EFILE, -21, "file cannot be read")                                 \
	XX(EBADFILE, -22, "cache snapshot truncated, corrupt, too large or of another version")

/** Status values; functions return them as int. */
typedef enum {
	ANAME_OK = 0,
#define ANAME_XX_(name, val, msg) ANAME_##name = (val),
	ANAME_STATUS_MAP(ANAME_XX_)
#undef ANAME_XX_
} aname_status_t;

/**
 * One-sentence description of a status.
 * \return A static string, never NULL ("unknown status" for unknown values).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API const char *aname_strerror(int status);

/**
 * Symbolic name of a status, e.g. "ANAME_ETIMEDOUT".
 * \return A static string, never NULL ("ANAME_UNKNOWN" for unknown values).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API const char *aname_status_name(int status);

/**
 * Library version.
 * \param[out] hex  If not NULL, receives ANAME_VERSION_HEX of the library.
 * \return The version string, e.g. "0.1.0" (static).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API const char *aname_version(unsigned *hex);

/* ------------------------------------------------------------------------ */
/* Record types                                                             */
/* ------------------------------------------------------------------------ */

/** IPv4 address records. */
#define ANAME_RRTYPE_A 1
/** IPv6 address records. */
#define ANAME_RRTYPE_AAAA 28
/** Both A and AAAA: for aname_resolve(), registration and synthesis only. */
#define ANAME_RRTYPE_BOTH 255
/** The ALIAS record type code used by PowerDNS and Knot (private range). */
#define ANAME_RRTYPE_ALIAS 65401

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/**
 * Create a configuration with defaults: full recursion from the root hints
 * (the root canary then probes two root addresses every 2 s once the
 * context has sent its first upstream query, see
 * docs/RUNBOOK.md#roots-silent),
 * 1500 ms deadline, 100 000 cache entries, TTL floor 0, TTL cap 86400 s,
 * negative TTL cap 3600 s, CNAME chain limit 8, no DNSSEC validation,
 * event-loop mode, serve-stale on (stale TTL 30 s, max stale age 86400 s,
 * client response timer 400 ms), refresh-ahead in the last 10 % of a TTL,
 * failure backoff 30 s, at most 256 concurrent upstream resolutions and
 * 10 000 waiting requests, watchdog probing every 1000 ms with 2000 ms grace,
 * no logging.
 *
 * \return A new configuration, or NULL when out of memory.
 * \note Since 0.1.  Free it with aname_config_free().
 */
ANAME_API aname_config_t *aname_config_new(void);

/** Free a configuration.  NULL is a no-op.  Since 0.1. */
ANAME_API void aname_config_free(aname_config_t *cfg);

/**
 * Send all queries to a recursive forwarder instead of recursing from the
 * root.  Repeatable; libunbound picks among forwarders by RTT.  Names under
 * the special-use domain "test." go to the forwarder too (libunbound would
 * answer them NXDOMAIN itself); "invalid.", "localhost." and "onion." stay
 * local.
 *
 * \param[in] addr  "IPv4", "IPv6", or either followed by "@port"
 *                  (e.g. "127.0.0.1@5353", "::1@53").
 * \retval ANAME_OK
 * \retval ANAME_EINVAL    NULL argument.
 * \retval ANAME_EBADADDR  Not an IP address, or a bad port; nothing changed.
 * \retval ANAME_ERANGE    More than 16 forwarders.
 * \note Since 0.1.
 */
ANAME_API int aname_config_add_forwarder(aname_config_t *cfg,
					 const char *addr);

/**
 * Send queries for names in \a zone to the authoritative server \a addr
 * (a stub zone).  Repeatable, also for one zone with several addresses.
 * Stub zones inside a locally served special-use domain (e.g. "test.") are
 * made reachable by turning that zone transparent.
 *
 * \param[in] zone  Domain name, presentation format.
 * \param[in] addr  "IP[@port]" as for aname_config_add_forwarder().
 * \retval ANAME_OK
 * \retval ANAME_EBADNAME  Malformed zone name.
 * \retval ANAME_EBADADDR  Malformed address.
 * \retval ANAME_ERANGE    More than 64 stub addresses.
 * \note Since 0.1.
 */
ANAME_API int aname_config_add_stub(aname_config_t *cfg, const char *zone,
				    const char *addr);

/**
 * Answer names in \a zone locally (libunbound local-zone).  Together with
 * aname_config_add_local_data() this makes hermetic tests and pinned
 * targets possible.
 *
 * \param[in] type  "static" (NXDOMAIN for names without local data),
 *                  "transparent", "deny", "refuse", "redirect" or
 *                  "always_nxdomain".
 * \retval ANAME_OK, ANAME_EBADNAME, ANAME_EINVAL (unknown type),
 *         ANAME_ERANGE (more than 1024 entries).
 * \note Since 0.1.
 */
ANAME_API int aname_config_add_local_zone(aname_config_t *cfg,
					  const char *zone, const char *type);

/**
 * Add one local resource record, "name [TTL] [IN] TYPE rdata", e.g.
 * "www.example.test. 300 IN A 192.0.2.1".  Checked with ldns at set time.
 *
 * \retval ANAME_OK, ANAME_EINVAL, ANAME_EBADRR (does not parse),
 *         ANAME_ERANGE (more than 4096 records).
 * \note Since 0.1.
 */
ANAME_API int aname_config_add_local_data(aname_config_t *cfg,
					  const char *rr);

/**
 * Validate answers with DNSSEC using the trust anchors in \a path (DS or
 * DNSKEY records in zone-file format).  Bogus answers then fail with
 * ANAME_EBOGUS and aname_result_secure() reports validated answers.
 *
 * \retval ANAME_OK, ANAME_EINVAL, ANAME_EFILE (cannot be opened).
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_trust_anchor_file(aname_config_t *cfg,
						 const char *path);

/**
 * Recurse from the root servers listed in \a path instead of libunbound's
 * built-in root hints (libunbound's root-hints option): a root-hints file
 * ("named.cache") of NS, A and AAAA records in zone-file format, such as
 * https://www.internic.net/domain/named.root or, for a private DNS tree,
 * a file naming its own roots.  Only used for full recursion (no forwarder
 * and no stub for "."); the library's root canary probes the A and AAAA
 * addresses in it.  The file is read here, to check it, and again by
 * aname_ctx_new(); later changes to it reach new contexts only.
 *
 * \param[in] path  File name; the configuration keeps a copy of the string.
 * \retval ANAME_OK
 * \retval ANAME_EINVAL  NULL argument.
 * \retval ANAME_EFILE   Cannot be read, does not parse, or holds no A/AAAA
 *                       record; the previous setting stays.
 * \retval ANAME_ENOMEM
 * \note Not thread-safe on one configuration, like every aname_config_*
 *       call.  Since 0.2.
 */
ANAME_API int aname_config_set_root_hints(aname_config_t *cfg,
					  const char *path);

/**
 * Default deadline of a resolution, when aname_resolve() is given 0, and the
 * deadline of background refreshes.
 *
 * \param[in] ms  10 to 60000.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_timeout_ms(aname_config_t *cfg, unsigned ms);

/**
 * Cache limits.
 *
 * \param[in] max_entries  1 to 100 000 000 (target, type) entries; the least
 *                         recently used entry is evicted beyond it.
 * \param[in] min_ttl      TTL floor in seconds applied to positive answers.
 * \param[in] max_ttl      TTL cap in seconds (>= min_ttl, <= 604800).
 * \param[in] neg_max_ttl  Cap for NXDOMAIN/NODATA TTLs (RFC 2308), <= max_ttl.
 * \retval ANAME_OK, ANAME_ERANGE (nothing changed).
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_cache(aname_config_t *cfg, size_t max_entries,
				     uint32_t min_ttl, uint32_t max_ttl,
				     uint32_t neg_max_ttl);

/**
 * Longest CNAME chain followed from the target (RFC 9460 section 3 caps
 * alias chains; 8 by default).  Longer chains fail with ANAME_ELOOP (up
 * to 32 hops; a chain longer still fails with ANAME_ESERVFAIL, as
 * libunbound stops following it).
 * CNAME loops end fast: libunbound detects them and answers SERVFAIL, so
 * they fail with ANAME_ESERVFAIL; a loop visible in an upstream answer
 * (the chain revisits a name) is an empty result, as draft-aname asks.
 *
 * \param[in] n  0 (no CNAME allowed) to 16.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_max_chain(aname_config_t *cfg, unsigned n);

/**
 * Run the library's own thread (1) or let the host drive it (0, default).
 * \retval ANAME_OK, ANAME_EINVAL (not 0 or 1).
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_thread(aname_config_t *cfg, int enable);

/**
 * Serve-stale (RFC 8767).
 *
 * \param[in] stale_ttl          TTL put on stale answers, 1 to 3600 s (30).
 * \param[in] max_stale_s        How long past expiry an entry may be served,
 *                               0 (serve-stale off) to 604800 s (86400).
 * \param[in] client_timeout_ms  A resolve() whose entry is stale answers with
 *                               the stale data after this long while the
 *                               refresh continues (RFC 8767 "client response
 *                               timer"), 0 (answer stale at once) to 60000;
 *                               400 by default.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_stale(aname_config_t *cfg, uint32_t stale_ttl,
				     uint32_t max_stale_s,
				     unsigned client_timeout_ms);

/**
 * Refresh-ahead: an entry used within the last \a percent of its TTL is
 * refreshed in the background.  Registered targets are refreshed at that
 * point whether used or not.
 *
 * \param[in] percent  0 (off) to 50; 10 by default.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_prefetch(aname_config_t *cfg, unsigned percent);

/**
 * Failure backoff (RFC 8767 section 5): after a target fails, it is not
 * queried upstream again for \a seconds; meanwhile requests get stale data
 * or the failure at once.
 *
 * \param[in] seconds  0 (off) to 3600; 30 by default.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_backoff(aname_config_t *cfg, unsigned seconds);

/**
 * Load-shedding limits.
 *
 * \param[in] max_fetches  Concurrent upstream resolutions, 1 to 4096 (256).
 * \param[in] max_waiters  Requests waiting on resolutions, 1 to 1 000 000
 *                         (10 000).
 * Beyond either, new work gets stale data if any, else ANAME_ESHED at once.
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_limits(aname_config_t *cfg, unsigned max_fetches,
				      unsigned max_waiters);

/**
 * Resolver watchdog.  Every libunbound call the library makes runs in one
 * library-owned resolver thread, never in a host thread; libunbound runs
 * its event loop inside that thread (since 0.2; it has no worker thread
 * of its own).  While resolutions are in flight the library asks that
 * thread every \a interval_ms for a probe that libunbound answers from
 * local data; if a probe stays unanswered for \a grace_ms (the resolver
 * thread has stopped: a stuck syscall, a debugger, a full pipe), a new resolver
 * thread with a new libunbound context takes over, every resolution not
 * yet answered is re-issued on it, and the old thread is abandoned: it
 * frees its context if and when libunbound returns.  The check runs in
 * aname_process() (or the library thread), which never waits on
 * libunbound, so a stall cannot stop the watchdog.
 *
 * \param[in] interval_ms  0 (watchdog off) or 50 to 60000 (1000).
 * \param[in] grace_ms     50 to 600000 (2000).
 * \retval ANAME_OK, ANAME_ERANGE.
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_watchdog(aname_config_t *cfg,
					unsigned interval_ms,
					unsigned grace_ms);

/** Log levels for aname_log_cb. */
#define ANAME_LOG_ERROR 0
#define ANAME_LOG_WARNING 1
#define ANAME_LOG_INFO 2
#define ANAME_LOG_DEBUG 3

/**
 * Log sink.  Called with no library lock held, from the thread running
 * aname_process() (the library thread in thread mode), from
 * aname_ctx_free(), or from aname_cache_save()/aname_cache_load(): the
 * library queues messages (at most 64, the oldest dropped and counted)
 * and delivers them there, so a callback that blocks (a write to a full
 * pipe) holds up only its own caller.  \a msg is valid only during the
 * call.  The library never prints.
 */
typedef void (*aname_log_cb)(void *arg, int level, const char *msg);

/**
 * Send log messages up to \a level to \a cb (NULL: no logging).
 * Repeated messages (e.g. per failed target) are rate-limited.
 * \retval ANAME_OK, ANAME_ERANGE (bad level).
 * \note Since 0.1.
 */
ANAME_API int aname_config_set_log(aname_config_t *cfg, int level,
				   aname_log_cb cb, void *arg);

/* ------------------------------------------------------------------------ */
/* Context                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Create a context from \a cfg (copied; free it whenever you like).
 * The libunbound context is created and configured here, in thread mode
 * (never forked), so no later call touches configuration.
 *
 * \param[out] out  Receives the context.
 * \retval ANAME_OK, ANAME_EINVAL, ANAME_ENOMEM, ANAME_ERESOLVER
 *         (libunbound rejected the configuration), ANAME_ETHREAD, ANAME_EFILE
 *         (trust anchor file unreadable, or the root-hints file no longer
 *         readable or without A/AAAA records).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_ctx_new(aname_ctx_t **out, const aname_config_t *cfg);

/**
 * Free a context.  Every pending request's callback is called exactly once,
 * in this thread, with ANAME_ECANCELED before this returns; those callbacks
 * must not call into \a ctx.  In thread mode the library thread is joined
 * first.  NULL is a no-op.  Results held by the host stay valid.
 *
 * Bounded: it waits at most 1000 ms for the resolver thread to delete its
 * libunbound context (a healthy one takes a few ms), plus the time the
 * callbacks take.  A resolver thread stuck in libunbound is abandoned
 * instead: it frees its memory, threads and fds if libunbound ever
 * returns.
 *
 * \note Not thread-safe: no other call on \a ctx may run concurrently or
 *       afterwards, and it must not be called from a callback.  Since 0.1.
 */
ANAME_API void aname_ctx_free(aname_ctx_t *ctx);

/**
 * File descriptor to watch for readability (event-loop mode): an eventfd
 * the library's resolver thread writes when answers arrive.  Valid from
 * aname_ctx_new() to aname_ctx_free(); it never changes, even when the
 * watchdog replaces libunbound.  Never read from it yourself.  It also
 * becomes readable when another thread queues work, so a loop sleeping in
 * poll() wakes up.
 *
 * \return fd >= 0, or ANAME_EBUSY in thread mode, ANAME_EINVAL for NULL.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_fd(const aname_ctx_t *ctx);

/**
 * Milliseconds until aname_process() must run even if the fd stays quiet:
 * -1 means no deadline, 0 means work is ready now.  Read it again after
 * every aname_* call, before sleeping.  With forwarders or stubs it is
 * never -1: the upstream canaries need a round every 2 s.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_timeout_ms(const aname_ctx_t *ctx);

/**
 * Do all ready work without blocking: take the answers the resolver thread
 * delivered, fire expired deadlines and stale timers, run the watchdog,
 * start refreshes, and run callbacks in the calling thread.  Never calls
 * libunbound, so it returns in bounded time whatever libunbound does.
 *
 * \retval ANAME_OK
 * \retval ANAME_EBUSY      In thread mode, or called from inside a callback.
 * \retval ANAME_EINVAL     NULL ctx.
 * \note Thread-safe: concurrent callers are serialised.  Since 0.1.
 */
ANAME_API int aname_process(aname_ctx_t *ctx);

/**
 * Drive the context (event-loop mode) or wait for its thread (thread mode)
 * until no request is pending, or \a timeout_ms passes.  For tests and
 * simple programs; a server uses its own loop.
 *
 * \param[in] timeout_ms  -1 waits without limit.
 * \retval ANAME_OK, ANAME_ETIMEDOUT, ANAME_EBUSY (from inside a callback).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_wait(aname_ctx_t *ctx, int timeout_ms);

/* ------------------------------------------------------------------------ */
/* Resolution                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Completion callback for aname_resolve().
 *
 * \param[in] arg     The pointer given to aname_resolve(), untouched.
 * \param[in] status  ANAME_OK, or a negative status; then \a res is NULL.
 * \param[in] res     Borrowed; valid until the callback returns (take an
 *                    aname_result_ref() to keep it).  May hold NXDOMAIN or
 *                    NODATA (no addresses) or stale data
 *                    (aname_result_stale()).
 *
 * Rules:
 *  - Called exactly once for every query id that aname_resolve() accepted,
 *    unless aname_cancel() on that id returned ANAME_OK.
 *  - Never called from inside aname_resolve(), even on a cache hit; it runs
 *    from aname_process() (event-loop mode) or on the library thread.
 *  - Called with no library lock held.  It may call aname_resolve(),
 *    aname_cancel(), aname_cache_lookup() and the other non-driving calls on
 *    the same context; not aname_process(), aname_wait() or aname_ctx_free().
 *  - If aname_resolve() returns an error, the callback is never called.
 *
 * For ANAME_RRTYPE_BOTH the status is ANAME_OK when at least one of the two
 * types got a DNS answer; aname_result_status() tells each type's outcome.
 */
typedef void (*aname_resolve_cb)(void *arg, int status,
				 const aname_result_t *res);

/**
 * Start resolving \a target for \a rrtype.  Never blocks.
 *
 * A fresh cache entry completes on the next aname_process().  A stale entry
 * starts a refresh and completes with the fresh answer, or with the stale
 * data after the client response timer.  Concurrent requests for one
 * (target, type) share one upstream resolution.
 *
 * \param[in]  target      ALIAS target in presentation format ("\DDD" and
 *                         "\X" escapes allowed), absolute or not.
 * \param[in]  rrtype      ANAME_RRTYPE_A, _AAAA or _BOTH.
 * \param[in]  timeout_ms  Deadline for this request; 0 = configured default,
 *                         else 1 to 600000.  The callback fires no later.
 * \param[in]  cb          Callback, not NULL.
 * \param[in]  arg         Passed to \a cb unchanged.
 * \param[out] qid         Receives the id for aname_cancel(); may be NULL.
 * \retval ANAME_OK        Accepted; \a cb will be called exactly once.
 * \retval ANAME_EINVAL    NULL ctx/target/cb, bad type or timeout.
 * \retval ANAME_EBADNAME  Malformed target.
 * \retval ANAME_ENOMEM
 * \retval ANAME_EBUSY     The context is being freed.
 * \note Thread-safe.  In event-loop mode the fd wakes the host's loop.
 *       Since 0.1.
 */
ANAME_API int aname_resolve(aname_ctx_t *ctx, const char *target,
			    uint16_t rrtype, unsigned timeout_ms,
			    aname_resolve_cb cb, void *arg, aname_qid_t *qid);

/**
 * Cancel a request.  The upstream resolution continues only while other
 * requests or refreshes still want it.
 *
 * \retval ANAME_OK      The callback has not run and never will.
 * \retval ANAME_ENOENT  Unknown id, or the callback already ran or is
 *                       running now; the callback owns \a arg's cleanup.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_cancel(aname_ctx_t *ctx, aname_qid_t qid);

/** aname_cache_lookup(): on miss or near expiry, start a background fetch. */
#define ANAME_LOOKUP_FETCH (1u << 0)
/** aname_cache_lookup(): accept an expired entry within the stale limits. */
#define ANAME_LOOKUP_STALE (1u << 1)

/**
 * Look a target up in the cache only.  Never blocks, never calls back.
 * An answer that came with TTL 0 stays usable here for 1 s after it
 * arrived, with TTL 0 (without that hold a synchronous host could never
 * answer such a target); then it is fetched again.
 *
 * \param[in]  rrtype  ANAME_RRTYPE_A or ANAME_RRTYPE_AAAA.
 * \param[in]  flags   ANAME_LOOKUP_* bits.
 * \param[out] out     On ANAME_OK a new reference (aname_result_unref());
 *                     NULL otherwise.
 * \retval ANAME_OK        A fresh entry (positive, NXDOMAIN or NODATA), or
 *                         with ANAME_LOOKUP_STALE a stale one.
 * \retval ANAME_EAGAIN    Nothing usable.  With ANAME_LOOKUP_FETCH a
 *                         deduplicated resolution was started.
 * \retval ANAME_ESHED     With ANAME_LOOKUP_FETCH: nothing usable and the
 *                         fetch was shed (overload); counts as a miss.
 * \retval ANAME_EINVAL, ANAME_EBADNAME.
 * \note Thread-safe.  A hit takes no lock and writes no memory another
 *       thread reads (only if writers keep changing that cache shard, or
 *       this thread's reader record cannot be allocated, does it fall back
 *       to the shard's lock).
 *       Since 0.1.
 */
ANAME_API int aname_cache_lookup(aname_ctx_t *ctx, const char *target,
				 uint16_t rrtype, unsigned flags,
				 aname_result_t **out);

/**
 * aname_cache_lookup() for a target already in uncompressed wire format
 * (e.g. the RDATA of a TYPE65401 record): skips parsing the text, which is
 * a good part of a hit's cost.  Same flags, results and thread-safety.
 *
 * \retval ANAME_EBADNAME  \a target is not one well-formed wire name of
 *                         exactly \a target_len octets.  Checked only when
 *                         the target is not in the cache (a cached key is
 *                         well-formed), so such a call counts as a lookup
 *                         and a miss in the statistics; it starts nothing.
 * \note Since 0.1.
 */
ANAME_API int aname_cache_lookup_wire(aname_ctx_t *ctx, const uint8_t *target,
				      size_t target_len, uint16_t rrtype,
				      unsigned flags, aname_result_t **out);

/** aname_cache_synth_wire(): the answer is stale (RFC 8767). */
#define ANAME_ANSWER_STALE (1u << 0)
/** aname_cache_synth_wire(): the answer was DNSSEC-validated. */
#define ANAME_ANSWER_SECURE (1u << 1)
/** aname_cache_synth_wire(): the target does not exist (0 records). */
#define ANAME_ANSWER_NXDOMAIN (1u << 2)

/**
 * The fastest way for a synchronous host to answer an ALIAS owner from the
 * cache: aname_cache_lookup_wire(), aname_synth_wire() and
 * aname_result_unref() in one call.  It reads the clock once and writes
 * the records while the answer is pinned by a lock-free read section, so
 * no reference count is touched and nothing is returned that must be
 * freed.
 * A miss, a refresh-ahead or stale data starts a background fetch with
 * ANAME_LOOKUP_FETCH exactly as aname_cache_lookup() does.
 *
 * \param[in]  target, target_len  Target in uncompressed wire format.
 * \param[in]  rrtype   ANAME_RRTYPE_A or ANAME_RRTYPE_AAAA.
 * \param[in]  flags    ANAME_LOOKUP_* bits.
 * \param[in]  owner, owner_len, alias_ttl  As for aname_synth_wire().
 * \param[out] buf, buflen, written  As for aname_synth_wire(); *written
 *                      is 0 unless records were written.
 * \param[out] info     If not NULL: ANAME_ANSWER_* bits of the answer on a
 *                      hit, 0 otherwise.
 * \return The number of records written (0: the target has no address of
 *         that type, NODATA or NXDOMAIN, see \a info), or:
 * \retval ANAME_EAGAIN    Nothing usable (see aname_cache_lookup()).
 * \retval ANAME_ESHED     As for aname_cache_lookup().
 * \retval ANAME_ENOSPC    \a buf is too small; nothing usable was written.
 * \retval ANAME_EINVAL, ANAME_EBADNAME (the owner is checked first; the
 *         target as for aname_cache_lookup_wire()).
 * \note Thread-safe; a hit takes no lock (as for aname_cache_lookup()),
 *       and holds its read section for the time it takes to copy the
 *       records.  Since 0.2.
 */
ANAME_API int aname_cache_synth_wire(aname_ctx_t *ctx, const uint8_t *target,
				     size_t target_len, uint16_t rrtype,
				     unsigned flags, const uint8_t *owner,
				     size_t owner_len, uint32_t alias_ttl,
				     uint8_t *buf, size_t buflen,
				     size_t *written, unsigned *info);

/**
 * Keep a target warm: resolve it now and refresh it ahead of expiry for as
 * long as it stays registered.  Registrations are counted per (target,
 * type): register twice, unregister twice.
 *
 * \param[in] rrtype  ANAME_RRTYPE_A, _AAAA or _BOTH.
 * \retval ANAME_OK, ANAME_EINVAL, ANAME_EBADNAME, ANAME_ENOMEM.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_target_register(aname_ctx_t *ctx, const char *target,
				    uint16_t rrtype);

/**
 * Drop one registration made by aname_target_register().
 * \retval ANAME_OK, ANAME_ENOENT (not registered), ANAME_EINVAL,
 *         ANAME_EBADNAME.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_target_unregister(aname_ctx_t *ctx, const char *target,
				      uint16_t rrtype);

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Take another reference to \a res (e.g. to keep one from a callback).
 * \return \a res.  NULL is allowed.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API aname_result_t *aname_result_ref(const aname_result_t *res);

/** Drop a reference; the last one frees.  NULL is a no-op.  Thread-safe. */
ANAME_API void aname_result_unref(aname_result_t *res);

/** The target, normalised: lower case, absolute (owned by \a res). */
ANAME_API const char *aname_result_target(const aname_result_t *res);

/**
 * Outcome for one type: ANAME_OK (answer, NXDOMAIN or NODATA), a failure
 * status, or ANAME_ENOENT if \a rrtype was not part of the request.
 */
ANAME_API int aname_result_status(const aname_result_t *res, uint16_t rrtype);

/** DNS rcode of the answer for \a rrtype: 0 (NOERROR) or 3 (NXDOMAIN); -1
 * when that type has no answer. */
ANAME_API int aname_result_rcode(const aname_result_t *res, uint16_t rrtype);

/**
 * Remaining TTL in seconds for \a rrtype: the minimum along the CNAME chain
 * and the address RRset (or the RFC 2308 negative TTL), clamped, counted
 * down since it was received; the stale TTL for a stale result; 0 when the
 * type has no answer.
 */
ANAME_API uint32_t aname_result_ttl(const aname_result_t *res,
				    uint16_t rrtype);

/** Number of addresses for \a rrtype (0 for NXDOMAIN/NODATA/failure). */
ANAME_API size_t aname_result_count(const aname_result_t *res,
				    uint16_t rrtype);

/**
 * Copy address \a i of \a rrtype (4 bytes for A, 16 for AAAA, network
 * order) into \a buf.
 * \return Bytes written, ANAME_ENOENT (no such index), ANAME_ENOSPC,
 *         ANAME_EINVAL.
 */
ANAME_API int aname_result_addr(const aname_result_t *res, uint16_t rrtype,
				size_t i, void *buf, size_t buflen);

/** Number of CNAMEs followed to reach the addresses of \a rrtype. */
ANAME_API unsigned aname_result_chain(const aname_result_t *res,
				      uint16_t rrtype);

/** 1 if every answer in \a res was DNSSEC-validated (secure), else 0. */
ANAME_API int aname_result_secure(const aname_result_t *res);

/** 1 if \a res is served stale (RFC 8767) because refreshing failed. */
ANAME_API int aname_result_stale(const aname_result_t *res);

/* ------------------------------------------------------------------------ */
/* Synthesis                                                                */
/* ------------------------------------------------------------------------ */

/**
 * The TTL to put on the synthesized RRset:
 * min(alias_ttl, aname_result_ttl(res, rrtype)); for ANAME_RRTYPE_BOTH the
 * minimum over both types that have addresses.
 */
ANAME_API uint32_t aname_synth_ttl(const aname_result_t *res, uint16_t rrtype,
				   uint32_t alias_ttl);

/**
 * Write the sibling RRset(s) at \a owner in DNS wire format, uncompressed,
 * ready to append to an answer section (the host adjusts ANCOUNT).
 *
 * \param[in]  rrtype     ANAME_RRTYPE_A, _AAAA, or _BOTH (A then AAAA).
 * \param[in]  owner      Owner name in uncompressed wire format.
 * \param[in]  owner_len  Its length (as from aname_name_to_wire()).
 * \param[in]  alias_ttl  TTL of the ALIAS record.
 * \param[out] buf        Output buffer.
 * \param[out] written    Bytes written; may be NULL.
 * \return Number of RRs written (0 for NXDOMAIN/NODATA), or ANAME_ENOSPC
 *         (nothing usable written), ANAME_EBADNAME, ANAME_EINVAL.
 * \note Thread-safe; allocates nothing.  Since 0.1.
 */
ANAME_API int aname_synth_wire(const aname_result_t *res, uint16_t rrtype,
			       const uint8_t *owner, size_t owner_len,
			       uint32_t alias_ttl, uint8_t *buf, size_t buflen,
			       size_t *written);

/**
 * Write the sibling RRset(s) in presentation format, one record per line:
 * "owner.<TAB>TTL<TAB>IN<TAB>A<TAB>192.0.2.1\n".
 *
 * \param[in] owner  Owner name, presentation format.
 * \return The length of the full text (like snprintf: if >= buflen the
 *         output was truncated), or ANAME_EBADNAME, ANAME_EINVAL.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_synth_text(const aname_result_t *res, uint16_t rrtype,
			       const char *owner, uint32_t alias_ttl,
			       char *buf, size_t buflen);

/**
 * Build the sibling RRset(s) as an ldns_rr_list (free with
 * ldns_rr_list_deep_free()).
 * \retval ANAME_OK, ANAME_EBADNAME, ANAME_EINVAL, ANAME_ENOMEM.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_synth_ldns(const aname_result_t *res, uint16_t rrtype,
			       const char *owner, uint32_t alias_ttl,
			       struct ldns_struct_rr_list **out);

/**
 * Convert a presentation-format name to uncompressed wire format,
 * validating it: escapes "\X" and "\DDD" (DDD <= 255), no empty label
 * except the root, labels <= 63 octets, name <= 255 octets on the wire.
 * "." and "" mean the root.  Relative names are taken as absolute.
 *
 * \param[in]  name     The name in presentation format, not NULL.
 * \param[out] buf      Receives the wire name, not NULL.  255 bytes always
 *                      suffice (the longest valid name); fewer are enough
 *                      for shorter names.
 * \param[in]  buflen   Size of \a buf in bytes.
 * \param[out] outlen   Receives the wire length; may be NULL.
 * \retval ANAME_OK
 * \retval ANAME_EBADNAME  Malformed name; \a buf is untouched.
 * \retval ANAME_ENOSPC    The wire name is longer than \a buflen; \a buf
 *                         is untouched.
 * \retval ANAME_EINVAL    NULL \a name or \a buf.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_name_to_wire(const char *name, uint8_t *buf,
				 size_t buflen, size_t *outlen);

/* ------------------------------------------------------------------------ */
/* Health and metrics                                                       */
/* ------------------------------------------------------------------------ */

/** Health verdicts, worst last. */
#define ANAME_HEALTH_OK 0
#define ANAME_HEALTH_DEGRADED 1
#define ANAME_HEALTH_FAILING 2

/**
 * Health reasons: (name, value, runbook anchor, sentence).  The anchor is
 * the section of docs/RUNBOOK.md that says what to do.
 */
#define ANAME_HEALTH_REASON_MAP(XX)                                           \
	XX(OK, 0, "ok", "resolving normally")                                 \
	XX(UPSTREAM_TIMEOUTS, 1, "upstream-timeouts",                         \
	   "many recent resolutions hit their deadline")                      \
	XX(UPSTREAM_FAILURES, 2, "upstream-failures",                         \
	   "many recent resolutions failed (SERVFAIL/REFUSED)")               \
	XX(SERVING_STALE, 3, "serving-stale",                                 \
	   "answers are being served stale because refreshes fail")           \
	XX(SHEDDING, 4, "shedding",                                           \
	   "requests are being shed: resolution capacity exhausted")          \
	XX(RESOLVER_STALLED, 5, "resolver-stalled",                           \
	   "the resolver thread stopped answering probes")                    \
	XX(WATCHDOG_RESTARTED, 6, "watchdog-restarted",                       \
	   "the watchdog recently replaced a stalled resolver")               \
	XX(BACKLOG, 7, "backlog",                                             \
	   "the oldest in-flight resolution is older than its deadline")      \
	XX(NO_ANSWERS, 8, "no-answers",                                       \
	   "no resolution has succeeded recently")                            \
	XX(UPSTREAM_SILENT, 9, "upstream-silent",                             \
	   "a configured upstream does not answer the library's probes")      \
	XX(ROOTS_SILENT, 10, "roots-silent",                                  \
	   "no root server answers the library's probes (full recursion)")

/** Health reason codes (ANAME_REASON_OK, ANAME_REASON_UPSTREAM_TIMEOUTS, ...). */
typedef enum {
#define ANAME_XX_(name, val, anchor, text) ANAME_REASON_##name = (val),
	ANAME_HEALTH_REASON_MAP(ANAME_XX_)
#undef ANAME_XX_
} aname_health_reason_t;

/**
 * The health verdict over the recent window (the last 60 s).
 *
 * \param[out] reason  The main reason (aname_health_reason_t); may be NULL.
 * \return ANAME_HEALTH_OK, _DEGRADED or _FAILING; ANAME_EINVAL for NULL ctx.
 * \note Thread-safe, cheap, never blocks on the resolver.  Since 0.1.
 */
ANAME_API int aname_health(aname_ctx_t *ctx, int *reason);

/** "ok", "degraded", "failing" (static; "unknown" otherwise). */
ANAME_API const char *aname_health_level_name(int level);
/** Runbook anchor of a reason, e.g. "upstream-timeouts" (static). */
ANAME_API const char *aname_health_reason_name(int reason);
/** One-sentence description of a reason (static). */
ANAME_API const char *aname_health_reason_text(int reason);

/**
 * Counters (monotonic) and gauges: (name, value, metric name, kind, help).
 */
#define ANAME_STAT_MAP(XX)                                                    \
	XX(REQUESTS, 0, "requests", counter, "resolve and lookup requests")               \
	XX(HITS_FRESH, 1, "hits_fresh", counter, "requests answered from a fresh entry")    \
	XX(HITS_STALE, 2, "hits_stale", counter, "requests answered with stale data")       \
	XX(MISSES, 3, "misses", counter, "requests that found no usable entry")         \
	XX(COALESCED, 4, "coalesced", counter, "requests that joined a resolution")        \
	XX(UPSTREAM_QUERIES, 5, "upstream_queries", counter, "resolutions sent to libunbound")    \
	XX(ANSWERS_NOERROR, 6, "answers_noerror", counter, "upstream answers with addresses")    \
	XX(ANSWERS_NODATA, 7, "answers_nodata", counter, "upstream NODATA answers")             \
	XX(ANSWERS_NXDOMAIN, 8, "answers_nxdomain", counter, "upstream NXDOMAIN answers")         \
	XX(ANSWERS_SERVFAIL, 9, "answers_servfail", counter, "upstream SERVFAIL answers")         \
	XX(ANSWERS_REFUSED, 10, "answers_refused", counter, "upstream REFUSED answers")          \
	XX(ANSWERS_BOGUS, 11, "answers_bogus", counter, "DNSSEC-bogus answers")                \
	XX(ANSWERS_MALFORMED, 12, "answers_malformed", counter, "malformed/over-long answers")     \
	XX(TIMEOUTS, 13, "timeouts", counter, "requests that hit their deadline")         \
	XX(CANCELLATIONS, 14, "cancellations", counter, "requests cancelled by the host")      \
	XX(SHED, 15, "shed", counter, "requests or fetches shed under load")          \
	XX(BACKOFF_SKIPS, 16, "backoff_skips", counter, "fetches skipped by failure backoff")  \
	XX(PREFETCHES, 17, "prefetches", counter, "refresh-ahead resolutions started")      \
	XX(WATCHDOG_RESTARTS, 18, "watchdog_restarts", counter, "libunbound contexts replaced")    \
	XX(EVICTIONS, 19, "evictions", counter, "cache entries evicted (LRU)")             \
	XX(INFLIGHT, 20, "inflight", gauge, "upstream resolutions in flight")             \
	XX(WAITERS, 21, "waiters", gauge, "requests waiting for a resolution")           \
	XX(OLDEST_INFLIGHT_MS, 22, "oldest_inflight_ms", gauge, "age of the oldest resolution, ms") \
	XX(CACHE_ENTRIES, 23, "cache_entries", gauge, "entries in the cache")                  \
	XX(CACHE_BYTES, 24, "cache_bytes", gauge, "bytes held by cache entries")             \
	XX(REGISTERED, 25, "registered", gauge, "registered (kept warm) targets")

/** Statistic ids. */
typedef enum {
#define ANAME_XX_(name, val, metric, kind, help) ANAME_STAT_##name = (val),
	ANAME_STAT_MAP(ANAME_XX_)
#undef ANAME_XX_
	ANAME_STAT_COUNT_
} aname_stat_t;

/**
 * Read one statistic.
 * \retval ANAME_OK, ANAME_EINVAL (NULL or unknown id).
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_stats_get(aname_ctx_t *ctx, int stat, uint64_t *value);

/** Metric name of a statistic, e.g. "requests" (static; NULL if unknown). */
ANAME_API const char *aname_stat_name(int stat);

/**
 * Upstream latency histogram, cumulative like Prometheus: bucket \a i
 * counts resolutions that took <= \a le_ms; the last bucket has
 * le_ms = UINT32_MAX (+Inf).
 * \retval ANAME_OK, ANAME_ENOENT (i past the last bucket), ANAME_EINVAL.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_stats_latency(aname_ctx_t *ctx, size_t i, uint32_t *le_ms,
				  uint64_t *count);

/**
 * Render every statistic, the latency histogram and the health verdict in
 * the Prometheus text exposition format (version 0.0.4), names prefixed
 * "aname_".  The per-state gauge aname_targets{state} comes from a tally
 * that the context's loop (aname_process() or its own thread) recomputes
 * at most once a second, in small slices, while the metrics are read; it
 * may lag the cache by about a second plus one pass (entries / 100 000
 * s).  When no pass has finished in the last 10 s (the first call, or a
 * loop that stopped running), a call counts for itself if the cache is
 * small (up to 8 192 hash buckets, which hold about as many entries:
 * under a millisecond); with a larger cache it leaves the aname_targets
 * series out (absent, never zero) until the loop's pass is done.  So the
 * cost of a call does not grow with the cache.
 * \return Length of the full text (snprintf-like: truncated if >= buflen),
 *         or ANAME_EINVAL.
 * \note Thread-safe.  Since 0.1.
 */
ANAME_API int aname_metrics_prometheus(aname_ctx_t *ctx, char *buf,
				       size_t buflen);

/* ------------------------------------------------------------------------ */
/* Per-target state                                                         */
/* ------------------------------------------------------------------------ */

/** What a (target, type) is doing, for the operator paged at 03:00. */
#define ANAME_TARGET_STATE_MAP(XX)                                            \
	XX(FRESH, 0, "fresh", "answer within its TTL")                         \
	XX(REFRESHING, 1, "refreshing", "an upstream resolution is running")   \
	XX(STALE, 2, "stale", "TTL expired; served stale, refresh due")       \
	XX(BACKOFF, 3, "backoff", "failed recently; upstream not asked now")  \
	XX(FAILING, 4, "failing", "no usable answer and the last try failed")

typedef enum {
#define ANAME_XX_(name, val, str, text) ANAME_TARGET_##name = (val),
	ANAME_TARGET_STATE_MAP(ANAME_XX_)
#undef ANAME_XX_
	ANAME_TARGET_STATE_COUNT_
} aname_target_state_t;

/** Name of a target state, e.g. "stale" (static; NULL if unknown). */
ANAME_API const char *aname_target_state_name(int state);

/**
 * One (target, type) as aname_targets_each() reports it.  Strings and the
 * struct are valid only during the callback.  Ages are in seconds before
 * the call; a value that does not apply is 0 (for ages, UINT32_MAX means
 * "never").
 */
typedef struct aname_target_info {
	const char *target;   /**< Absolute presentation name, lower case. */
	uint16_t rrtype;      /**< ANAME_RRTYPE_A or ANAME_RRTYPE_AAAA. */
	int state;            /**< aname_target_state_t. */
	int registered;       /**< 1 if aname_target_register()ed. */
	uint16_t addresses;   /**< In the cached answer (0: NODATA/NXDOMAIN). */
	int rcode;            /**< Of the cached answer: 0 or 3; -1 if none. */
	uint32_t age_s;       /**< Since the cached answer arrived. */
	uint32_t ttl_left_s;  /**< 0 once expired. */
	uint32_t stale_for_s; /**< Since it expired; 0 while fresh. */
	int secure;           /**< 1 DNSSEC secure, 0 insecure. */
	unsigned chain;       /**< CNAMEs followed to the addresses. */
	int last_error;       /**< Last failure since the answer (ANAME_OK: none). */
	uint32_t last_error_age_s; /**< UINT32_MAX when none. */
	unsigned consecutive_failures;
	uint32_t changed_age_s; /**< Since the address set last changed;
				     UINT32_MAX when never seen. */
} aname_target_info_t;

/** Called once per (target, type); return non-zero to stop early. */
typedef int (*aname_target_cb)(void *arg, const aname_target_info_t *info);

/**
 * Every cached or registered (target, type) with its state.  Costs one
 * pass over the cache (at most max_entries), never waits on the resolver,
 * and calls \a cb with no library lock held (it may call into \a ctx).
 *
 * \return ANAME_OK, the callback's non-zero value if it stopped, or
 *         ANAME_EINVAL, ANAME_ENOMEM.
 * \note Thread-safe.  Since 0.2.
 */
ANAME_API int aname_targets_each(aname_ctx_t *ctx, aname_target_cb cb,
				 void *arg);

/* ------------------------------------------------------------------------ */
/* Warm restarts                                                            */
/* ------------------------------------------------------------------------ */

/**
 * Save every cached answer (not failures) to \a path: a versioned,
 * checksummed snapshot, written to a temporary file in the same directory,
 * flushed to disk and renamed over \a path, so a crash leaves either the
 * old file or the new one.  At most ANAME_SNAPSHOT_MAX_BYTES.
 *
 * \retval ANAME_OK, ANAME_EINVAL, ANAME_EFILE (cannot write), ANAME_ENOMEM.
 * \note Thread-safe; never waits on the resolver.  Since 0.2.
 */
ANAME_API int aname_cache_save(aname_ctx_t *ctx, const char *path);

/** Largest snapshot aname_cache_load() accepts (64 MiB). */
#define ANAME_SNAPSHOT_MAX_BYTES ((size_t)64 * 1024 * 1024)

/**
 * Load a snapshot saved by aname_cache_save() into the cache, as data that
 * may be served stale: each answer keeps the TTL it had left when saved,
 * less the wall-clock time since, and an answer already expired is stale
 * (served under ANAME_LOOKUP_STALE / serve-stale rules until max-stale).
 * A file that is truncated, fails its checksum, is of another format
 * version or is larger than ANAME_SNAPSHOT_MAX_BYTES changes nothing.
 *
 * \param[out] loaded  Entries stored; may be NULL.
 * \retval ANAME_OK
 * \retval ANAME_EFILE     Cannot be opened or read.
 * \retval ANAME_EBADFILE  Rejected as above (nothing loaded).
 * \retval ANAME_EINVAL, ANAME_ENOMEM.
 * \note Thread-safe.  Since 0.2.
 */
ANAME_API int aname_cache_load(aname_ctx_t *ctx, const char *path,
			       size_t *loaded);

#ifdef __cplusplus
}
#endif

#endif /* ANAME_H */
