/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file canary.h
 * \brief Upstream canaries (canary.c): a cheap, rate-limited probe of
 * every configured forwarder and stub address, sent by the library
 * itself (not through libunbound), so that health turns degraded when
 * upstreams go silent even while every answer is still served from a
 * fresh cache, and so that their return clears failure backoff at once.
 *
 * With full recursion (no forwarder, no stub) there is nothing to probe:
 * health then rests on resolution outcomes alone.
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

struct aname_upstream {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[64];      /* as configured, for logs and metrics */
	uint8_t query[300]; /* the probe, RD=0 */
	size_t query_len;
	uint16_t id;
	uint64_t last_reply_ms;
	uint64_t watched_since_ms; /* first probe, or the last reply */
	bool silent;
	bool refusing; /* its last reply was REFUSED */
};

struct aname_canary {
	int fd4, fd6;
	struct aname_upstream *up;
	size_t n;
	uint64_t next_ms;
	size_t n_silent;
	size_t n_refusing;
};

int aname__canary_init(struct aname_canary *c, const aname_config_t *cfg);
void aname__canary_free(struct aname_canary *c);
/* Called by loop.c for each socket to poll (fd < 0: none). */
int aname__canary_fd(const struct aname_canary *c, int family);

struct aname_ctx;
/* Read replies, send due probes, note transitions; ctx->lock held. */
void aname__canary_run(struct aname_ctx *ctx, uint64_t now_ms);
/* Every upstream refuses us (its last reply to the probe was REFUSED):
 * libunbound turns REFUSED into SERVFAIL, this tells them apart. */
bool aname__canary_all_refuse(const struct aname_canary *c);
/* When the next probe is due (UINT64_MAX: no upstreams). */
uint64_t aname__canary_next(const struct aname_canary *c);

#endif /* ANAME_CANARY_H */
