/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file aname_private.h
 * \brief What every file of lib/ shares: the public header and the name
 * limits.  Each concern has its own private header next to its .c file
 * (c-ares keeps them in src/lib/include/; ours sit beside the sources).
 *
 * How a resolution flows, one way:
 *
 *   request.c   aname_resolve(): a request with one "sub" per type
 *      |
 *   policy.c    one decision per (target, type) from what cache.c holds:
 *      |        fresh / refresh-ahead / stale / backoff / join / fail / shed
 *   fetch.c     one coalesced upstream fetch per (target, type)
 *      |
 *   driver.c    the libunbound driver thread: the only code that calls
 *      |        libunbound, whose event loop runs in it; answers come
 *      |        back through a job callback
 *   answer.c    (in the driver thread) packet -> immutable result
 *      |
 *   loop.c      the host's loop picks completed jobs up from its inbox
 *      |
 *   fetch.c     stores the result in cache.c and ends every sub
 *      |
 *   request.c   the last sub queues the request; loop.c runs its callback
 *
 * Synchronous hosts enter at lookup.c (aname_cache_lookup), which asks
 * policy.c the same question and may start a background fetch; registry.c
 * keeps registered targets refreshed the same way.  watchdog.c watches the
 * driver and replaces it when it stops making progress.  Nothing a host
 * thread calls ever waits on libunbound: see driver.h for why.
 */
#ifndef ANAME_PRIVATE_H
#define ANAME_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "aname.h"

#define ANAME_NAME_MAX 255   /* wire octets, RFC 1035 2.3.4 */
#define ANAME_LABEL_MAX 63
#define ANAME_TEXT_MAX 1024  /* worst case: 255 octets as \DDD escapes */

#endif /* ANAME_PRIVATE_H */
