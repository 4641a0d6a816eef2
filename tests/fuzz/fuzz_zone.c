/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_zone.c
 * \brief Fuzz target "zone": zone-file text with ALIAS records, as the
 * example server loads it (zoneset_load() in examples/aname-server/zone.c,
 * compiled into this fuzzer).
 *
 * The input is the zone file.  zoneset_load() takes paths, so the bytes go
 * into a memfd and the loader opens /proc/self/fd/N (no disk, no cleanup).
 * Run with -close_fd_mask=2: the loader reports every syntax error on
 * stderr, which libFuzzer would otherwise print millions of times (its own
 * reports and the sanitizers' still go to the original stderr).
 *
 * Checked on every zone that loads: each RRset's wire records add up to
 * its length and count and carry its type; every node is found again by
 * zone_lookup() and its zone by zoneset_find(); every ALIAS target is a
 * name the library accepts, is in the target list, and its RRset holds
 * exactly that wire name; the negative-answer SOA is a whole record.
 */
#include "aname.h"
#include "fuzz_check.h"
#include "zone.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

static void check_rrset(const zrrset_t *s)
{
	size_t off = 0;
	unsigned n = 0;
	uint32_t min = UINT32_MAX;
	while (off < s->wlen) {
		FUZZ_CHECK(s->wlen - off >= 10, "truncated record header");
		const uint8_t *w = s->wire + off;
		uint16_t type = (uint16_t)(w[0] << 8 | w[1]);
		uint32_t ttl = (uint32_t)w[4] << 24 | (uint32_t)w[5] << 16 |
			       (uint32_t)w[6] << 8 | w[7];
		size_t rdlen = (size_t)(w[8] << 8 | w[9]);
		FUZZ_CHECK(type == s->type, "record of type %u in a %u set",
			   type, s->type);
		FUZZ_CHECK(s->wlen - off - 10 >= rdlen, "rdata past the set");
		min = ttl < min ? ttl : min;
		off += 10 + rdlen;
		n++;
	}
	FUZZ_CHECK(n == s->count && n > 0, "%u records, count %u", n,
		   s->count);
	FUZZ_CHECK(s->ttl == min, "set ttl %u, smallest %u", s->ttl, min);
}

static bool in_targets(const zoneset_t *zs, const char *t)
{
	for (size_t i = 0; i < zs->ntargets; i++) {
		if (strcasecmp(zs->targets[i], t) == 0) {
			return true;
		}
	}
	return false;
}

static void check_zone(const zoneset_t *zs, const zone_t *z)
{
	size_t nodes = 0, aliases = 0;
	FUZZ_CHECK(z->origin != NULL && z->apexlen > 0, "zone without apex");
	FUZZ_CHECK(zoneset_find(zs, z->apex, z->apexlen) == z,
		   "apex not found");
	FUZZ_CHECK(zone_lookup(z, z->apex, z->apexlen) != NULL, "no apex node");
	for (size_t b = 0; b < z->nbuckets; b++) {
		for (const znode_t *n = z->buckets[b]; n; n = n->hnext) {
			nodes++;
			FUZZ_CHECK(zone_lookup(z, n->name, n->namelen) == n,
				   "node not found by its name");
			FUZZ_CHECK(zoneset_find(zs, n->name, n->namelen) != NULL,
				   "node outside every zone");
			for (const zrrset_t *s = n->rrsets; s; s = s->next) {
				check_rrset(s);
				FUZZ_CHECK(znode_rrset(n, s->type) == s,
					   "two sets of type %u", s->type);
			}
			if (n->alias == NULL) {
				FUZZ_CHECK(n->alias_rrset == NULL, "orphan set");
				continue;
			}
			aliases++;
			uint8_t wire[255];
			size_t wl = 0;
			FUZZ_CHECK(aname_name_to_wire(n->alias, wire,
						      sizeof(wire),
						      &wl) == ANAME_OK,
				   "ALIAS target '%s' refused by the library",
				   n->alias);
			FUZZ_CHECK(in_targets(zs, n->alias),
				   "target '%s' not registered", n->alias);
			const zrrset_t *s = n->alias_rrset;
			FUZZ_CHECK(s != NULL && s->type == 65401 &&
					   s->count == 1 && s->wlen == 10 + wl &&
					   memcmp(s->wire + 10, wire, wl) == 0,
				   "ALIAS rdata differs from '%s'", n->alias);
			FUZZ_CHECK(znode_rrset(n, 5) == NULL,
				   "ALIAS next to a CNAME");
		}
	}
	FUZZ_CHECK(nodes == z->nnodes, "%zu nodes, counted %zu", nodes,
		   z->nnodes);
	FUZZ_CHECK(aliases == z->nalias, "%zu aliases, counted %zu", aliases,
		   z->nalias);
	if (z->soa_neg != NULL) {
		FUZZ_CHECK(z->soa_neg_len >= z->apexlen + 10 &&
				   memcmp(z->soa_neg, z->apex, z->apexlen) == 0,
			   "negative SOA");
		const uint8_t *h = z->soa_neg + z->apexlen;
		FUZZ_CHECK(h[0] == 0 && h[1] == 6 &&
				   (size_t)(h[8] << 8 | h[9]) ==
					   z->soa_neg_len - z->apexlen - 10,
			   "negative SOA header");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz-zone", MFD_CLOEXEC);
		FUZZ_CHECK(memfd >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	FUZZ_CHECK(ftruncate(memfd, 0) == 0, "ftruncate");
	FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size, "pwrite");
	char *files[1] = {path};
	zoneset_t *zs = zoneset_load(files, 1);
	if (zs == NULL) {
		return 0;
	}
	FUZZ_CHECK(zs->nzones == 1, "%zu zones from one file", zs->nzones);
	check_zone(zs, zs->zones[0]);
	FUZZ_CHECK(zs->ntargets <= zs->zones[0]->nalias, "targets");
	zoneset_unref(zs);
	return 0;
}
