/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * What a zone holds that the updater cares about: every owner with an
 * ALIAS (TYPE65401) record, its target, and the sibling A/AAAA RRsets
 * published there.  Built from one AXFR; replaced whole by the next.
 */
#ifndef UPD_OWNERS_H
#define UPD_OWNERS_H

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>

/* Addresses per sibling RRset the updater writes or compares.  An answer
 * with more is cut to the first UPD_MAX_ADDRS in sorted order (and logged):
 * a 64-address RRset is already over 1 KB on the wire. */
#define UPD_MAX_ADDRS 64

/* Index 0 is A, 1 is AAAA throughout. */
#define UPD_NTYPES 2
extern const uint16_t upd_types[UPD_NTYPES];
extern const char *const upd_type_names[UPD_NTYPES];

typedef struct upd_rrset {
	uint32_t ttl;
	uint16_t n;        /* 0: no RRset */
	uint8_t *addr;     /* n * 4 or n * 16 octets, sorted, no duplicates */
} upd_rrset_t;

struct upd_target;

typedef struct upd_owner {
	char *name;              /* lower case, absolute */
	char *target;            /* lower case, absolute */
	uint32_t alias_ttl;
	upd_rrset_t pub[UPD_NTYPES];
	struct upd_target *t;    /* set by the target table */
	int64_t retry_at_ms;     /* UPDATE backoff after a failure */
	unsigned fails;
	int ok;                  /* up to date after the last pass */
} upd_owner_t;

typedef struct upd_owners {
	upd_owner_t *v;
	size_t n;
	size_t extra_alias;      /* owners with more than one ALIAS (ignored) */
} upd_owners_t;

/* Accumulates RRs of one transfer (upd_rr_fn-compatible adder). */
typedef struct upd_scan upd_scan_t;
upd_scan_t *upd_scan_new(const char *zone);
int upd_scan_add(void *scan, const ldns_rr *rr);
/** Finish: sort, join A/AAAA to ALIAS owners, drop the rest.  Frees the
 * scan.  0, or -1 when out of memory (\a out untouched). */
int upd_scan_finish(upd_scan_t *s, upd_owners_t *out);
void upd_scan_free(upd_scan_t *s);

void upd_owners_clear(upd_owners_t *o);

/** Address length of type index \a ti. */
static inline size_t upd_alen(int ti)
{
	return ti == 0 ? 4 : 16;
}

/** Sort and deduplicate \a n addresses of \a alen octets in place; returns
 * the new count. */
size_t upd_addr_sort(uint8_t *addr, size_t n, size_t alen);

int upd_rrset_set(upd_rrset_t *r, const uint8_t *addr, size_t n, size_t alen,
		  uint32_t ttl);
void upd_rrset_clear(upd_rrset_t *r);

#endif
