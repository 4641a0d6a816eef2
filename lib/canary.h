/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file canary.h
 * \brief Upstream canaries (canary.c): a cheap, rate-limited probe of
 * every configured forwarder and stub address, or, with full recursion
 * (no forwarder, no stub), of the root servers libunbound starts from,
 * sent by the library itself (not through libunbound), so that health
 * turns degraded when upstreams go silent even while every answer is
 * still served from a fresh cache, and so that their return clears
 * failure backoff at once.
 *
 * canary.c also tells REFUSED from SERVFAIL, which libunbound does not:
 * from the forwarders' answers to a recursive probe, and, for one failed
 * name, from a direct question to the forwarders (a verdict, below).
 */
#ifndef ANAME_CANARY_H
#define ANAME_CANARY_H

#include "aname_private.h"
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* One probe per upstream every interval; silent after SILENT_MS without a
 * reply (at least two probes unanswered). */
#define ANAME_CANARY_INTERVAL_MS 2000
#define ANAME_CANARY_SILENT_MS 6000
/* When a silent upstream answers again, failure backoff ends at once, and
 * again at each of its answers for this long: libunbound itself asks a
 * server it timed out on again only after a probe delay that grows with
 * its timeout (seconds), so a refresh sent at the first answer may still
 * fail, and would then wait out a grown backoff. */
#define ANAME_CANARY_RECOVERY_MS 10000
/* Verdicts (see aname__canary_verdict_start): at most this many at once,
 * this many per second on average (a bucket of as many), each waiting at
 * most VERDICT_MS for the forwarders' answers. */
#define ANAME_VERDICT_SLOTS 16
#define ANAME_VERDICT_PER_S 10
#define ANAME_VERDICT_MS 500

enum aname_upstream_kind {
	ANAME_UP_FORWARDER,
	ANAME_UP_STUB,
	ANAME_UP_ROOTS, /* one entry for all root servers: the pool */
};

struct aname_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct aname_upstream {
	enum aname_upstream_kind kind;
	struct aname_addr addr; /* forwarders and stubs */
	char name[64];      /* as configured ("roots" for the pool), for logs
			     * and metrics */
	uint8_t query[300]; /* the liveness probe, RD=0 */
	size_t query_len;
	uint16_t id;
	uint16_t rd_id; /* forwarders: the recursive probe's ID */
	uint64_t last_reply_ms;
	uint64_t watched_since_ms; /* first probe, or the last reply */
	uint64_t recovering_until_ms; /* see ANAME_CANARY_RECOVERY_MS */
	bool silent;
	bool refusing; /* forwarders: its last answer to the recursive probe
			* was REFUSED; stubs: to the SOA probe */
};

/* Root addresses probed per family and round: one while the roots
 * answer, more after a round nobody answered, so that a dead root or two
 * in turn never look like all of them. */
#define ANAME_ROOTS_PER_ROUND 1
#define ANAME_ROOTS_PER_ROUND_MISSED 3

/* The root servers, probed a few per round, in turn. */
struct aname_roots {
	struct aname_addr *addr;
	size_t n;
	size_t next4, next6; /* where the next round starts looking */
	bool heard;          /* a root answered this round's probe */
};

struct aname_fetch;
struct aname_verdict {
	struct aname_fetch *fetch; /* NULL: free slot */
	uint16_t id;
	uint64_t deadline_ms;
	uint32_t waiting; /* bit i: forwarder i (up[i]) has not answered */
	unsigned refused, other;
};

struct aname_canary {
	int fd4, fd6;
	struct aname_upstream *up; /* forwarders first, then stubs, roots */
	size_t n;
	size_t n_forwarders;
	size_t n_refusable; /* forwarders and stubs */
	uint64_t next_ms;
	size_t n_silent;
	size_t n_refusing;
	struct aname_roots roots;
	bool roots_in_use; /* the context has sent a query upstream */
	struct aname_verdict verdicts[ANAME_VERDICT_SLOTS];
	uint64_t bucket_ms; /* verdict tokens: (now - bucket_ms) / 100 */
};

int aname__canary_init(struct aname_canary *c, const aname_config_t *cfg);
void aname__canary_free(struct aname_canary *c);
/* Called by loop.c for each socket to poll (fd < 0: none). */
int aname__canary_fd(const struct aname_canary *c, int family);
/* aname_config_set_root_hints(): ANAME_OK when \a path parses and names at
 * least one root address, else ANAME_EFILE. */
int aname__canary_hints_check(const char *path);

struct aname_ctx;
/* Read replies, send due probes, note transitions, end verdicts;
 * ctx->lock held. */
void aname__canary_run(struct aname_ctx *ctx, uint64_t now_ms);
/* Every forwarder and stub refuses us (a forwarder's last answer to the
 * recursive probe, a stub's to its SOA probe, was REFUSED): libunbound
 * turns REFUSED into SERVFAIL, this tells them apart.  The roots never
 * count. */
bool aname__canary_all_refuse(const struct aname_canary *c);
/* No root server answered for ANAME_CANARY_SILENT_MS (full recursion). */
bool aname__canary_roots_silent(const struct aname_canary *c);
/* When run must be called next (UINT64_MAX: nothing to probe). */
uint64_t aname__canary_next(const struct aname_canary *c);

/* A fetch failed with SERVFAIL through forwarders: ask every forwarder
 * the same question directly (RD=1), and call aname__fetch_verdict() on
 * \a fetch with refused = true if every forwarder that answered said
 * REFUSED (at least one did), once all answered or by min(now +
 * ANAME_VERDICT_MS, until_ms).  False when no verdict was started (no
 * forwarders, rate limit, no slot, too little time, or a socket error):
 * the SERVFAIL stands.  ctx->lock held. */
struct aname_fetch;
bool aname__canary_verdict_start(struct aname_ctx *ctx,
				 struct aname_fetch *fetch, const char *qname,
				 uint16_t qtype, uint64_t until_ms,
				 uint64_t now_ms);
/* Forget the verdict \a fetch waits for (it is being freed). */
void aname__canary_verdict_drop(struct aname_canary *c,
				const struct aname_fetch *fetch);

#endif /* ANAME_CANARY_H */
