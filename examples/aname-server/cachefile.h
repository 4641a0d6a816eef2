/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * --cache-file FILE for aname-server and aname-resolverd: load the
 * library's cache snapshot at start (a bad file is logged and ignored:
 * the server starts with an empty cache), save it every
 * CACHEFILE_PERIOD_S seconds from a thread of its own and once more at
 * shutdown.  Saving never blocks the query path: aname_cache_save() copies
 * the cache shard by shard and writes outside every library lock.
 */
#ifndef CACHEFILE_H
#define CACHEFILE_H

#include "aname.h"

#define CACHEFILE_PERIOD_S 60

typedef struct cachefile cachefile_t;

/* Load \a path into \a ctx (logging the outcome) and start the saver.
 * NULL path: NULL (nothing to do).  \a prog prefixes log lines. */
cachefile_t *cachefile_start(const char *prog, aname_ctx_t *ctx,
			     const char *path);
/* Stop the saver, save one last time.  NULL is a no-op. */
void cachefile_stop(cachefile_t *cf);

#endif
