/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file htab.h
 * \brief An intrusive chained hash table (htab.c), shared by the request,
 * fetch and registration tables.
 *
 * Elements embed a `void *` link at link_off and are found by their 64-bit
 * hash; the caller walks a chain with aname__htab_first/next and compares
 * keys itself.  The table doubles when it holds more elements than
 * buckets, so chains stay short; it never shrinks.
 */
#ifndef ANAME_HTAB_H
#define ANAME_HTAB_H

#include "aname_private.h"

#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*aname_htab_hash_fn)(const void *elem);

struct aname_htab {
	void **b;
	size_t mask; /* buckets - 1; 0 before the first insert */
	size_t n;
	size_t link_off;
	aname_htab_hash_fn hash;
};

void aname__htab_init(struct aname_htab *t, size_t link_off,
		      aname_htab_hash_fn hash);
/* ANAME_OK or ANAME_ENOMEM (then nothing changed). */
int aname__htab_insert(struct aname_htab *t, void *elem);
/* Remove an element that is in the table; other elements are untouched. */
void aname__htab_remove(struct aname_htab *t, void *elem);
/* The chain that holds elements with \a hash, or NULL. */
void *aname__htab_first(const struct aname_htab *t, uint64_t hash);
void *aname__htab_next(const struct aname_htab *t, const void *elem);
/* Remove and return any element, or NULL when empty (for teardown). */
void *aname__htab_pop(struct aname_htab *t);
void aname__htab_free(struct aname_htab *t);

#endif /* ANAME_HTAB_H */
