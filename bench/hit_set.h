/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file hit_set.h
 * \brief What the hit benchmarks share: the 1024 targets a private nsd
 *        serves, their wire forms and the ALIAS owner, and the floor, the
 *        bare hash lookup a hit is measured against.
 *
 * Header-only, with static data: bench_hit.c and bench_ab.c are each one
 * translation unit, and the floor's lookup must stay inlinable into their
 * loops exactly as before it moved here (out of line it costs about 3 ns
 * more, and the floor is the yardstick of the 2.5x goal).
 */
#ifndef BENCH_HIT_SET_H
#define BENCH_HIT_SET_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define ZONE "bench.test."
#define NNAMES 1024

static char names[NNAMES][32];
/* The same names in wire form, as hosts that read TYPE65401 rdata hold
 * them (aname_cache_lookup_wire). */
static uint8_t wnames[NNAMES][64];
static size_t wlens[NNAMES];
static uint8_t owner[64];
static size_t owner_len;

static void write_zone(FILE *f, void *arg)
{
	(void)arg;
	bench_zone_header(f, ZONE);
	for (int i = 0; i < NNAMES; i++) {
		fprintf(f, "w%d IN A 192.0.2.%d\n", i, i % 250 + 1);
	}
}

/* ------------------------------------------------------------ the floor */

/* The smallest honest lookup: lower-case the presentation name while
 * hashing it (FNV-1a), mix in the type, probe linearly, compare. */
typedef struct {
	uint64_t hash;
	uint16_t type;
	uint8_t len;
	uint8_t used;
	uint8_t addr[4];
	char key[56];
} floor_slot_t;

#define FLOOR_SLOTS 4096
static floor_slot_t floor_tab[FLOOR_SLOTS];

static inline uint64_t floor_key(const char *name, uint16_t type, char *key,
				 size_t *len)
{
	uint64_t h = 1469598103934665603ull;
	size_t n = 0;
	for (; name[n] != 0 && n < 55; n++) {
		char c = name[n];
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c + 32);
		}
		key[n] = c;
		h = (h ^ (uint8_t)c) * 1099511628211ull;
	}
	*len = n;
	return (h ^ type) * 1099511628211ull;
}

static const floor_slot_t *floor_lookup(const char *name, uint16_t type)
{
	char key[56];
	size_t len;
	uint64_t h = floor_key(name, type, key, &len);
	for (size_t i = h & (FLOOR_SLOTS - 1);; i = (i + 1) & (FLOOR_SLOTS - 1)) {
		const floor_slot_t *s = &floor_tab[i];
		if (!s->used) {
			return NULL;
		}
		if (s->hash == h && s->type == type && s->len == len &&
		    memcmp(s->key, key, len) == 0) {
			return s;
		}
	}
}

static void floor_insert(const char *name, uint16_t type, const uint8_t *a)
{
	char key[56];
	size_t len;
	uint64_t h = floor_key(name, type, key, &len);
	size_t i = h & (FLOOR_SLOTS - 1);
	while (floor_tab[i].used) {
		i = (i + 1) & (FLOOR_SLOTS - 1);
	}
	floor_tab[i] = (floor_slot_t){ .hash = h, .type = type,
				       .len = (uint8_t)len, .used = 1 };
	memcpy(floor_tab[i].key, key, len);
	memcpy(floor_tab[i].addr, a, 4);
}

/* The wire converter is a parameter: bench_hit links libaname, bench_ab
 * reaches each build it compares through dlsym(). */
typedef int (*hit_to_wire_fn)(const char *name, uint8_t *buf, size_t len,
			      size_t *written);

/* Fill the names, their wire forms, the owner and the floor's table. */
static void hit_set_init(hit_to_wire_fn to_wire)
{
	for (int i = 0; i < NNAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "w%d." ZONE, i);
		uint8_t a[4] = { 192, 0, 2, (uint8_t)(i % 250 + 1) };
		floor_insert(names[i], 1 /* A */, a);
		if (to_wire(names[i], wnames[i], sizeof(wnames[i]),
			    &wlens[i]) != 0) {
			bench_die("aname_name_to_wire %s", names[i]);
		}
	}
	if (to_wire("alias.bench.test.", owner, sizeof(owner), &owner_len) !=
	    0) {
		bench_die("aname_name_to_wire failed");
	}
}

#endif /* BENCH_HIT_SET_H */
