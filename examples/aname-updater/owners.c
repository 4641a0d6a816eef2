/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Zone scan: an AXFR arrives in any order, so RRs of interest are
 * collected flat, sorted by owner, and joined in one walk.  Only ALIAS,
 * A and AAAA are kept; everything else is dropped as it streams by.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "owners.h"

const uint16_t upd_types[UPD_NTYPES] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
const char *const upd_type_names[UPD_NTYPES] = { "A", "AAAA" };

enum { K_A = 0, K_AAAA = 1, K_ALIAS = 2 };

typedef struct {
	char *owner;
	char *target; /* K_ALIAS */
	uint32_t ttl;
	uint8_t kind;
	uint8_t addr[16];
} ent_t;

struct upd_scan {
	ent_t *v;
	size_t n, cap;
};

upd_scan_t *upd_scan_new(const char *zone)
{
	(void)zone;
	return calloc(1, sizeof(upd_scan_t));
}

void upd_scan_free(upd_scan_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].owner);
		free(s->v[i].target);
	}
	free(s->v);
	free(s);
}

static char *name_text(const ldns_rdf *name)
{
	ldns_rdf *c = ldns_rdf_clone(name);
	if (!c)
		return NULL;
	ldns_dname2canonical(c);
	char *s = ldns_rdf2str(c);
	ldns_rdf_deep_free(c);
	return s;
}

/* Is d[0..len) exactly one uncompressed wire name? */
static int wire_name_ok(const uint8_t *d, size_t len)
{
	size_t i = 0;
	if (len == 0 || len > 255)
		return 0;
	while (i < len) {
		if (d[i] == 0)
			return i + 1 == len;
		if (d[i] > 63)
			return 0;
		i += (size_t)d[i] + 1;
	}
	return 0;
}

int upd_scan_add(void *arg, const ldns_rr *rr)
{
	upd_scan_t *s = arg;
	uint16_t type = ldns_rr_get_type(rr);
	ent_t e = { .ttl = ldns_rr_ttl(rr) };
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return 0;
	if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		size_t alen = type == LDNS_RR_TYPE_A ? 4 : 16;
		if (!rd || ldns_rdf_size(rd) != alen)
			return 0;
		e.kind = type == LDNS_RR_TYPE_A ? K_A : K_AAAA;
		memcpy(e.addr, ldns_rdf_data(rd), alen);
	} else if (type == 65401) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		if (!rd || ldns_rr_rd_count(rr) != 1 ||
		    !wire_name_ok(ldns_rdf_data(rd), ldns_rdf_size(rd)))
			return 0; /* malformed ALIAS: not ours to fix */
		ldns_rdf *t = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
						    ldns_rdf_size(rd),
						    ldns_rdf_data(rd));
		if (!t)
			return -1;
		e.kind = K_ALIAS;
		e.target = name_text(t);
		ldns_rdf_deep_free(t);
		if (!e.target)
			return -1;
	} else {
		return 0;
	}
	e.owner = name_text(ldns_rr_owner(rr));
	if (!e.owner) {
		free(e.target);
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		ent_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			free(e.owner);
			free(e.target);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = e;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const ent_t *x = a, *y = b;
	int c = strcmp(x->owner, y->owner);
	if (c)
		return c;
	return (int)y->kind - (int)x->kind; /* ALIAS first in a group */
}

static int addr_cmp4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int addr_cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

size_t upd_addr_sort(uint8_t *addr, size_t n, size_t alen)
{
	if (n < 2)
		return n;
	qsort(addr, n, alen, alen == 4 ? addr_cmp4 : addr_cmp16);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (memcmp(addr + i * alen, addr + (w - 1) * alen, alen)) {
			if (w != i)
				memmove(addr + w * alen, addr + i * alen, alen);
			w++;
		}
	return w;
}

int upd_rrset_set(upd_rrset_t *r, const uint8_t *addr, size_t n, size_t alen,
		  uint32_t ttl)
{
	uint8_t *copy = NULL;
	if (n) {
		copy = malloc(n * alen);
		if (!copy)
			return -1;
		memcpy(copy, addr, n * alen);
	}
	free(r->addr);
	r->addr = copy;
	r->n = (uint16_t)n;
	r->ttl = ttl;
	return 0;
}

void upd_rrset_clear(upd_rrset_t *r)
{
	free(r->addr);
	memset(r, 0, sizeof(*r));
}

void upd_owners_clear(upd_owners_t *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].target);
		for (int ti = 0; ti < UPD_NTYPES; ti++)
			upd_rrset_clear(&o->v[i].pub[ti]);
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}

int upd_scan_finish(upd_scan_t *s, upd_owners_t *out)
{
	upd_owners_t o = { 0 };
	size_t nalias = 0;
	qsort(s->v, s->n, sizeof(ent_t), ent_cmp);
	for (size_t i = 0; i < s->n; i++)
		nalias += s->v[i].kind == K_ALIAS;
	o.v = calloc(nalias ? nalias : 1, sizeof(upd_owner_t));
	if (!o.v)
		goto fail;
	uint8_t buf[UPD_MAX_ADDRS * 16];
	for (size_t i = 0; i < s->n;) {
		size_t j = i;
		while (j < s->n && !strcmp(s->v[j].owner, s->v[i].owner))
			j++;
		if (s->v[i].kind == K_ALIAS) {
			upd_owner_t *w = &o.v[o.n++];
			w->name = s->v[i].owner;
			w->target = s->v[i].target;
			w->alias_ttl = s->v[i].ttl;
			s->v[i].owner = s->v[i].target = NULL;
			size_t k = i + 1;
			while (k < j && s->v[k].kind == K_ALIAS)
				k++, o.extra_alias++;
			for (int ti = 0; ti < UPD_NTYPES; ti++) {
				size_t n = 0, alen = upd_alen(ti);
				uint32_t ttl = UINT32_MAX;
				for (size_t m = k; m < j; m++) {
					if (s->v[m].kind != ti)
						continue;
					if (s->v[m].ttl < ttl)
						ttl = s->v[m].ttl;
					if (n < UPD_MAX_ADDRS)
						memcpy(buf + n * alen,
						       s->v[m].addr, alen);
					n++;
				}
				/* A published set over the bound is kept as
				 * its first UPD_MAX_ADDRS: it then differs
				 * from any answer and is rewritten whole. */
				if (n > UPD_MAX_ADDRS)
					n = UPD_MAX_ADDRS;
				n = upd_addr_sort(buf, n, alen);
				if (n && upd_rrset_set(&w->pub[ti], buf, n,
						       alen, ttl) != 0)
					goto fail;
			}
		}
		i = j;
	}
	upd_scan_free(s);
	*out = o;
	return 0;
fail:
	upd_owners_clear(&o);
	upd_scan_free(s);
	return -1;
}
