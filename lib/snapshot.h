/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file snapshot.h
 * \brief Cache snapshots (snapshot.c): the parser, apart from the file
 * handling so that it can be fuzzed on a buffer (tests/fuzz).
 */
#ifndef ANAME_SNAPSHOT_H
#define ANAME_SNAPSHOT_H

#include "aname_private.h"

#include <stddef.h>
#include <stdint.h>

struct aname_snapshot_entry {
	uint8_t wire[ANAME_NAME_MAX];
	size_t wire_len;
	uint16_t rrtype;
	int rcode;
	int secure;
	unsigned chain;
	uint16_t count;
	uint32_t ttl, stale_ttl;
	const uint8_t *addrs;  /* count x 4 or 16 octets, inside the buffer */
	uint64_t received_ms;  /* monotonic, in this process's clock */
};

typedef int (*aname_snapshot_fn)(void *arg,
				 const struct aname_snapshot_entry *e);

/* Check the whole buffer, then call fn for each entry (nothing is handed
 * out from a buffer that fails any check).  ANAME_OK, ANAME_EBADFILE, or
 * fn's first non-OK status. */
int aname__snapshot_parse(const uint8_t *data, size_t len, uint64_t now_mono,
			  uint64_t now_wall, aname_snapshot_fn fn, void *arg);

#endif /* ANAME_SNAPSHOT_H */
