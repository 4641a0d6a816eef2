/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target: the cache snapshot parser (lib/snapshot.c), which
 * reads files a crash, a disk error or an attacker may have left behind.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "name.h"
#include "snapshot.h"

static int check_entry(void *arg, const struct aname_snapshot_entry *e)
{
	(void)arg;
	FUZZ_CHECK(e->wire_len > 0 && e->wire_len <= ANAME_NAME_MAX,
		   "name length %zu\n", e->wire_len);
	FUZZ_CHECK(aname__name_wire_ok(e->wire, e->wire_len), "bad name\n");
	FUZZ_CHECK(e->rrtype == ANAME_RRTYPE_A || e->rrtype == ANAME_RRTYPE_AAAA,
		   "type %u\n", e->rrtype);
	FUZZ_CHECK(e->rcode == 0 || e->rcode == 3, "rcode %d\n", e->rcode);
	volatile uint8_t sink = 0;
	size_t alen = e->rrtype == ANAME_RRTYPE_AAAA ? 16 : 4;
	for (size_t i = 0; i < (size_t)e->count * alen; i++) {
		sink ^= e->addrs[i]; /* in bounds, or ASan says so */
	}
	(void)sink;
	return ANAME_OK;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As given: the checksum guards the parser. */
	int rc = aname__snapshot_parse(data, size, 1000000, 2000000,
				       check_entry, NULL);
	FUZZ_CHECK(rc == ANAME_OK || rc == ANAME_EBADFILE, "status %d\n", rc);
	/* And with the checksum made right, so that mutations reach every
	 * field check behind it. */
	if (size >= 8 && size <= 1 << 20) {
		uint8_t *copy = malloc(size);
		if (copy != NULL) {
			memcpy(copy, data, size);
			uint64_t h = fnv1a(copy, size - 8);
			for (int i = 0; i < 8; i++) {
				copy[size - 8 + i] = (uint8_t)(h >> (56 - 8 * i));
			}
			rc = aname__snapshot_parse(copy, size, 1000000, 2000000,
						   check_entry, NULL);
			FUZZ_CHECK(rc == ANAME_OK || rc == ANAME_EBADFILE,
				   "status %d\n", rc);
			free(copy);
		}
	}
	return 0;
}
