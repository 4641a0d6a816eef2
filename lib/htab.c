/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file htab.c
 * \brief Intrusive chained hash table; see htab.h.
 */
#include "htab.h"

#include <stdlib.h>

static void **link_of(const struct aname_htab *t, const void *e)
{
	return (void **)((char *)e + t->link_off);
}

void aname__htab_init(struct aname_htab *t, size_t link_off,
		      aname_htab_hash_fn hash)
{
	t->b = NULL;
	t->mask = 0;
	t->n = 0;
	t->link_off = link_off;
	t->hash = hash;
}

static int grow(struct aname_htab *t)
{
	size_t nmask = t->b != NULL ? t->mask * 2 + 1 : 63;
	void **nb = calloc(nmask + 1, sizeof(*nb));
	if (nb == NULL) {
		return ANAME_ENOMEM;
	}
	for (size_t i = 0; t->b != NULL && i <= t->mask; i++) {
		void *e = t->b[i];
		while (e != NULL) {
			void **link = link_of(t, e);
			void *next = *link;
			size_t k = t->hash(e) & nmask;
			*link = nb[k];
			nb[k] = e;
			e = next;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = nmask;
	return ANAME_OK;
}

int aname__htab_insert(struct aname_htab *t, void *elem)
{
	if ((t->b == NULL || t->n + 1 > t->mask) && grow(t) != ANAME_OK) {
		return ANAME_ENOMEM;
	}
	size_t k = t->hash(elem) & t->mask;
	*link_of(t, elem) = t->b[k];
	t->b[k] = elem;
	t->n++;
	return ANAME_OK;
}

void aname__htab_remove(struct aname_htab *t, void *elem)
{
	if (t->b == NULL) {
		return;
	}
	void **pp = &t->b[t->hash(elem) & t->mask];
	while (*pp != NULL && *pp != elem) {
		pp = link_of(t, *pp);
	}
	if (*pp == elem) {
		*pp = *link_of(t, elem);
		*link_of(t, elem) = NULL;
		t->n--;
	}
}

void *aname__htab_first(const struct aname_htab *t, uint64_t hash)
{
	return t->b != NULL ? t->b[hash & t->mask] : NULL;
}

void *aname__htab_next(const struct aname_htab *t, const void *elem)
{
	return *link_of(t, elem);
}

void *aname__htab_pop(struct aname_htab *t)
{
	for (size_t i = 0; t->b != NULL && i <= t->mask; i++) {
		if (t->b[i] != NULL) {
			void *e = t->b[i];
			t->b[i] = *link_of(t, e);
			t->n--;
			return e;
		}
	}
	return NULL;
}

void aname__htab_free(struct aname_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = t->n = 0;
}
