/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file aname_private.h
 * \brief Internal declarations shared by the files of lib/.  First include
 * of every .c file there.  Nothing here is exported: the shared object only
 * exports what include/aname.h marks ANAME_API.
 *
 * Data flows one way: request (request.c) -> cache (cache.c) -> resolver
 * driver (resolver.c) -> answer parsing (answer.c) -> cache -> completion
 * (ctx.c delivers callbacks).  Synthesis (synth.c) only reads results.
 */
#ifndef ANAME_PRIVATE_H
#define ANAME_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aname.h"

#define ANAME_NAME_MAX 255   /* wire octets, RFC 1035 2.3.4 */
#define ANAME_LABEL_MAX 63
#define ANAME_TEXT_MAX 1024  /* worst case: 255 octets as \DDD escapes */

/* ------------------------------------------------------------------ time */
uint64_t aname__now_ms(void);
uint64_t aname__now_coarse_ms(void); /* for TTLs, not deadlines */

/* ------------------------------------------------------------------ names */
/* Parse presentation format into wire format; see aname_name_to_wire(). */
int aname__name_parse(const char *text, uint8_t *wire, size_t *wire_len);
/* Lower-case a wire name in place (ASCII only, as DNS requires). */
void aname__name_lower(uint8_t *wire, size_t len);
/* Render a wire name as absolute presentation text; returns length or <0. */
int aname__name_to_text(const uint8_t *wire, size_t len, char *out,
			size_t outlen);
/* A well-formed uncompressed wire name of exactly len octets. */
bool aname__name_wire_ok(const uint8_t *wire, size_t len);
bool aname__name_equal(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen);

/* ------------------------------------------------------------------ config */
struct aname_stub {
	char *zone; /* absolute, presentation */
	char *addr;
};

struct aname_config {
	char **forwarders;
	size_t n_forwarders;
	struct aname_stub *stubs;
	size_t n_stubs;
	char **local_zones; /* "zone type" */
	size_t n_local_zones;
	char **local_data;
	size_t n_local_data;
	char *trust_anchor_file;
	unsigned timeout_ms;
	size_t max_entries;
	uint32_t min_ttl, max_ttl, neg_max_ttl;
	unsigned max_chain;
	int thread;
	uint32_t stale_ttl, max_stale_s;
	unsigned stale_client_timeout_ms;
	unsigned prefetch_percent;
	unsigned backoff_s;
	unsigned max_fetches, max_waiters;
	unsigned watchdog_interval_ms, watchdog_grace_ms;
	int log_level;
	aname_log_cb log_cb;
	void *log_arg;
};

int aname__config_copy(aname_config_t *dst, const aname_config_t *src);
void aname__config_clear(aname_config_t *cfg);

/* ------------------------------------------------------------------ results */
/*
 * One result object serves three roles: a cached per-type answer (rrtype A
 * or AAAA, immutable once built), a per-type failure handed to a callback,
 * and a combined A+AAAA result (rrtype BOTH) that references two parts.
 */
struct aname_result {
	atomic_uint refs;
	uint16_t rrtype;
	uint8_t chain;
	uint8_t secure;
	int status;         /* ANAME_OK or a failure (never cached) */
	int rcode;          /* 0 or 3 when status == ANAME_OK */
	uint32_t ttl;       /* clamped TTL as received */
	uint32_t stale_ttl; /* TTL to report once expired */
	uint64_t expire_ms; /* monotonic; fresh before this */
	uint16_t count;     /* addresses */
	uint16_t target_len;
	struct aname_result *parts[2]; /* BOTH: A, AAAA (NULL if failed) */
	int part_status[2];
	uint8_t data[]; /* addresses, then target text (NUL-terminated) */
};

aname_result_t *aname__result_new(uint16_t rrtype, const char *target,
				  size_t count);
aname_result_t *aname__result_failure(uint16_t rrtype, const char *target,
				      int status);
aname_result_t *aname__result_both(const char *target, aname_result_t *a,
				   int a_status, aname_result_t *aaaa,
				   int aaaa_status);
uint8_t *aname__result_addrs(aname_result_t *res);
size_t aname__result_bytes(const aname_result_t *res);
bool aname__result_expired(const aname_result_t *res, uint64_t now_ms);
uint32_t aname__result_ttl_at(const aname_result_t *res, uint64_t now_ms);

/* ------------------------------------------------------------------ answer */
struct aname_answer_limits {
	unsigned max_chain;
	uint32_t min_ttl, max_ttl, neg_max_ttl, stale_ttl;
};

/*
 * Turn an upstream answer into a result.  The packet is untrusted: it is
 * parsed with ldns and every RR is checked against the question.
 * Returns ANAME_OK and *out, or a failure status (ESERVFAIL, EREFUSED,
 * EBOGUS, ELOOP, EMALFORMED, ENOMEM).
 */
int aname__answer_from_packet(const uint8_t *pkt, size_t len, int rcode,
			      bool secure, bool bogus, const char *qname_text,
			      uint16_t qtype,
			      const struct aname_answer_limits *lim,
			      uint64_t now_ms, aname_result_t **out);

/* ------------------------------------------------------------------ cache */
struct aname_cache;

/* name[] is last so that cache entries can store it truncated. */
struct aname_cache_key {
	uint64_t hash;
	uint16_t rrtype;
	uint8_t len;
	uint8_t name[ANAME_NAME_MAX]; /* lower-case wire */
};

void aname__cache_key(struct aname_cache_key *key, const uint8_t *wire,
		      size_t len, uint16_t rrtype);

/* What a cache probe found. */
enum aname_cache_state {
	ANAME_CACHE_MISS = 0,  /* nothing usable */
	ANAME_CACHE_FRESH,     /* *res fresh */
	ANAME_CACHE_STALE,     /* *res expired but within max-stale */
};

struct aname_cache_probe {
	enum aname_cache_state state;
	aname_result_t *res;     /* new reference, or NULL */
	bool want_refresh;       /* caller should start a refresh now */
	bool in_backoff;         /* failed recently: do not query upstream */
	int fail_status;         /* the failure, when in_backoff */
};

struct aname_cache *aname__cache_new(size_t max_entries, unsigned shards);
void aname__cache_free(struct aname_cache *c);
/*
 * Look a key up at now_ms.  Also decides refresh-ahead: want_refresh is set
 * (once, until aname__cache_refresh_done) when the entry is expired or
 * within prefetch_percent of its TTL, and only if claim_refresh: the caller
 * promises to start a fetch or call aname__cache_refresh_done().  Counts REQUESTS, HITS_FRESH and
 * MISSES in the shard; a stale find is counted by the caller, who knows
 * whether the stale data is what gets served.
 */
void aname__cache_get(struct aname_cache *c, const struct aname_cache_key *k,
		      uint64_t now_ms, uint32_t max_stale_s,
		      unsigned prefetch_percent, unsigned backoff_s,
		      bool claim_refresh, struct aname_cache_probe *out);
/* Store an answer (takes no ownership: adds its own reference).  An answer
 * that does not extend the entry's life delays the next refresh by
 * ANAME_REFRESH_RETRY_MS. */
#define ANAME_REFRESH_RETRY_MS 200
int aname__cache_put(struct aname_cache *c, const struct aname_cache_key *k,
		     aname_result_t *res, uint64_t now_ms);
/* Record a failure for backoff; keeps any stale answer. */
int aname__cache_fail(struct aname_cache *c, const struct aname_cache_key *k,
		      int status, uint64_t now_ms);
/* Clear the "refresh started" mark without storing anything. */
void aname__cache_refresh_done(struct aname_cache *c,
			       const struct aname_cache_key *k);
/* Mark a refresh as started (so lookups do not start another). */
void aname__cache_refresh_started(struct aname_cache *c,
				  const struct aname_cache_key *k);
void aname__cache_usage(struct aname_cache *c, uint64_t *entries,
			uint64_t *bytes, uint64_t *evictions);
/* Per-shard hit statistics, summed. */
uint64_t aname__cache_stat(struct aname_cache *c, int stat);

/* ------------------------------------------------------------------ timers */
struct aname_timer {
	uint64_t when_ms;
	size_t idx; /* position in the heap, SIZE_MAX when not armed */
	int kind;
	void *owner;
};

struct aname_timer_heap {
	struct aname_timer **v;
	size_t n, cap;
};

int aname__timer_arm(struct aname_timer_heap *h, struct aname_timer *t,
		     uint64_t when_ms);
void aname__timer_disarm(struct aname_timer_heap *h, struct aname_timer *t);
struct aname_timer *aname__timer_peek(const struct aname_timer_heap *h);
void aname__timer_heap_free(struct aname_timer_heap *h);

/* ------------------------------------------------------------------ stats */
#define ANAME_LATENCY_BUCKETS 14
#define ANAME_HEALTH_SLOTS 6 /* x 10 s = the 60 s health window */

struct aname_health_slot {
	uint64_t epoch; /* now_ms / 10000 */
	uint32_t ok, timeouts, failures, stale, shed, requests;
};

struct aname_stats {
	uint64_t v[ANAME_STAT_COUNT_]; /* counters kept under ctx->lock */
	uint64_t latency[ANAME_LATENCY_BUCKETS];
	struct aname_health_slot slots[ANAME_HEALTH_SLOTS];
	uint64_t last_restart_ms;
	uint64_t last_success_ms;
};

enum aname_health_event {
	ANAME_EV_OK,
	ANAME_EV_TIMEOUT,
	ANAME_EV_FAILURE,
	ANAME_EV_STALE,
	ANAME_EV_SHED,
	ANAME_EV_REQUEST,
};

void aname__stats_event(struct aname_stats *s, enum aname_health_event ev,
			uint64_t now_ms);
void aname__stats_latency(struct aname_stats *s, uint64_t ms);
extern const uint32_t aname__latency_le[ANAME_LATENCY_BUCKETS];

/* ------------------------------------------------------------------ log */
struct aname_log {
	aname_log_cb cb;
	void *arg;
	int level;
	pthread_mutex_t lock;
	uint64_t window_start_ms;
	unsigned in_window;
	unsigned suppressed;
};

void aname__log_init(struct aname_log *l, const aname_config_t *cfg);
void aname__log_destroy(struct aname_log *l);
void aname__log(struct aname_log *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ resolver */
struct ub_ctx;
struct ub_result;

/* Create and fully configure (finalize) a libunbound context, serialised by
 * the library's one global mutex. */
int aname__ub_create(const aname_config_t *cfg, struct ub_ctx **out);
/* Delete a libunbound context on a detached thread: if its worker is hung,
 * ub_ctx_delete() would block forever in pthread_join. */
void aname__ub_retire(struct ub_ctx *ub);
#define ANAME_PROBE_NAME "aname-watchdog-probe.invalid."

/* ------------------------------------------------------------------ context */
enum aname_req_state {
	ANAME_REQ_PENDING,
	ANAME_REQ_QUEUED,
	ANAME_REQ_DELIVERING,
};

enum aname_timer_kind {
	ANAME_T_REQ_DEADLINE,
	ANAME_T_REQ_STALE,
	ANAME_T_FETCH_DEADLINE,
	ANAME_T_REG_REFRESH,
};

struct aname_fetch;
struct aname_request;

/* A request's interest in one type. */
struct aname_sub {
	struct aname_request *req;
	struct aname_fetch *fetch;      /* NULL when done */
	struct aname_sub *prev, *next;  /* in fetch->subs */
	aname_result_t *res;            /* answer, or stale candidate */
	int status;
	bool done;
};

struct aname_request {
	aname_qid_t qid;
	aname_resolve_cb cb;
	void *arg;
	uint16_t rrtype;
	enum aname_req_state state;
	unsigned pending; /* types not done yet */
	struct aname_sub sub[2]; /* [0] A, [1] AAAA */
	struct aname_timer deadline;
	struct aname_timer stale_timer;
	struct aname_request *hnext;          /* qid table chain */
	struct aname_request *qnext;          /* completion queue */
	char target[ANAME_TEXT_MAX];
};

struct aname_fetch {
	struct aname_cache_key key;
	char qname[ANAME_TEXT_MAX];
	int ub_id;
	unsigned ub_gen;
	bool submitted;
	bool orphaned;      /* abandoned: free when its callback comes */
	bool background;    /* a refresh wants it, not only requests */
	uint64_t started_ms;
	struct aname_ctx *ctx;
	struct aname_sub *subs;
	size_t n_subs;
	struct aname_timer deadline;
	struct aname_fetch *hnext;
	struct aname_fetch *prev, *next; /* all fetches, oldest first */
};

struct aname_reg {
	struct aname_cache_key key;
	char qname[ANAME_TEXT_MAX];
	unsigned refs;
	struct aname_timer refresh;
	struct aname_reg *hnext;
};

struct aname_ctx {
	aname_config_t cfg;
	pthread_mutex_t lock;         /* everything below unless noted */
	pthread_mutex_t process_lock; /* one aname_process() at a time */
	struct aname_cache *cache;    /* has its own shard locks */
	struct ub_ctx *ub;
	int ub_fd;
	unsigned ub_gen;
	int epfd;     /* the fd hosts poll: ub fd + wake fd */
	int wakefd;   /* eventfd */
	atomic_bool wake_pending;
	bool freeing;
	bool in_callback;
	pthread_t cb_thread;
	bool stall_injected; /* test hook: stop reading answers */

	aname_qid_t next_qid;
	struct aname_request **reqs;
	size_t reqs_mask, n_reqs;
	struct aname_request *queue_head, *queue_tail;

	struct aname_fetch **fetches;
	size_t fetches_mask, n_fetches;
	struct aname_fetch *oldest, *newest;
	size_t n_waiters;

	struct aname_reg **regs;
	size_t regs_mask, n_regs;

	struct aname_timer_heap timers;

	/* watchdog */
	bool probe_outstanding;
	int probe_id;
	uint64_t probe_sent_ms;
	uint64_t next_probe_ms;

	struct aname_stats stats;
	struct aname_log log;

	/* thread mode */
	bool thread_running;
	atomic_bool thread_stop;
	pthread_t thread;
	pthread_cond_t idle_cond; /* signalled when a delivery round ends */
};

/* request.c */
void aname__request_unhash(struct aname_ctx *ctx, struct aname_request *r);
int aname__fetch_start(struct aname_ctx *ctx, const struct aname_cache_key *k,
		       const char *qname, bool background, uint64_t now_ms,
		       struct aname_fetch **out);
void aname__fetch_answer(struct aname_ctx *ctx, struct aname_fetch *f,
			 aname_result_t *res, int status, uint64_t now_ms);
void aname__fetch_timeout(struct aname_ctx *ctx, struct aname_fetch *f,
			  uint64_t now_ms);
void aname__request_deadline(struct aname_ctx *ctx, struct aname_request *r,
			     uint64_t now_ms);
void aname__request_stale_timer(struct aname_ctx *ctx,
				struct aname_request *r, uint64_t now_ms);
void aname__reg_refresh(struct aname_ctx *ctx, struct aname_reg *g,
			uint64_t now_ms);
void aname__wake(struct aname_ctx *ctx);

/* resolver.c: submit to libunbound; ctx->lock held */
int aname__ub_submit(struct aname_ctx *ctx, struct aname_fetch *f);
void aname__ub_cancel(struct aname_ctx *ctx, struct aname_fetch *f);
int aname__ub_probe(struct aname_ctx *ctx, uint64_t now_ms);
int aname__ub_replace(struct aname_ctx *ctx, uint64_t now_ms);

/* stats.c */
uint64_t aname__stat_read(struct aname_ctx *ctx, int stat, uint64_t now_ms);
/* aname_health() at a given time, so tests can look past the window. */
int aname__health_at(aname_ctx_t *ctx, uint64_t now_ms, int *reason);

/* Test hooks (static library only; not exported). */
void aname__debug_stall_resolver(aname_ctx_t *ctx, bool stall);

#endif /* ANAME_PRIVATE_H */
