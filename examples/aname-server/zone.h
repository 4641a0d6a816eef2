/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Zones for aname-server: RFC 1035 master files parsed with ldns, ALIAS
 * records included, kept as pre-rendered wire RRsets in a hash table so an
 * answer is a few memcpy()s.
 *
 * ALIAS is written "owner [ttl] [IN] ALIAS target." (ANAME is a synonym)
 * or in RFC 3597 generic form "TYPE65401 \# len wire-name".  ldns knows
 * neither keyword, so before ldns sees a line, an ALIAS/ANAME keyword in
 * type position and its target are rewritten to the generic form (the
 * target made absolute with the current $ORIGIN).
 */
#ifndef ZONE_H
#define ZONE_H

#include <stddef.h>
#include <stdint.h>

/** One RRset: its records in wire form *without* owner names. */
typedef struct zrrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;            /* smallest TTL in the set */
	uint8_t *wire;           /* type class ttl rdlen rdata, per record */
	size_t wlen;
	struct zrrset *next;
} zrrset_t;

/*
 * Where an ALIAS owner's addresses come from, decided at load by following
 * the target through the server's own zones (draft-ietf-dnsop-aname-04
 * section 3, steps 1-2): ALIAS and CNAME records there are followed
 * without any upstream query.
 */
enum alias_via {
	ALIAS_UPSTREAM = 0, /* the chain leaves our zones: the library */
	ALIAS_LOCAL,        /* a node of ours holds the addresses (or none) */
	ALIAS_LOCAL_NONE,   /* the chain ends at a name absent from our zone */
	ALIAS_LOOP,         /* the chain loops, or passes 16 steps */
};

#define ALIAS_CHAIN_MAX 16

typedef struct znode {
	uint8_t name[255];       /* lower-case wire name */
	uint8_t namelen;
	zrrset_t *rrsets;
	const char *alias;       /* ALIAS target (presentation), or NULL */
	uint32_t alias_ttl;
	const zrrset_t *alias_rrset;
	/* Set for ALIAS owners by zoneset_load(): */
	uint8_t via;             /* enum alias_via */
	uint32_t chain_ttl;      /* least TTL of the ALIAS/CNAMEs followed */
	const struct znode *local;  /* ALIAS_LOCAL: the node with addresses */
	char *upstream;          /* ALIAS_UPSTREAM: the name to resolve */
	uint8_t up_wire[255];    /* ... in wire form */
	uint8_t up_len;
	struct znode *hnext;
} znode_t;

typedef struct zone {
	char *file;
	char *origin;            /* apex, presentation */
	uint8_t apex[255];       /* lower-case wire */
	size_t apexlen;
	znode_t **buckets;
	size_t nbuckets;         /* power of 2 */
	size_t nnodes;
	size_t nalias;
	uint8_t *soa_neg;        /* SOA with owner, TTL = RFC 2308 negative TTL */
	size_t soa_neg_len;
} zone_t;

/** All zones being served; immutable, reference-counted, swapped on reload. */
typedef struct zoneset {
	zone_t **zones;
	size_t nzones;
	char **targets;          /* distinct ALIAS targets, as written */
	size_t ntargets;
	char **upstream;         /* distinct names the library resolves */
	size_t nupstream;
	unsigned refs;           /* atomic */
} zoneset_t;

/**
 * Load every file.  Errors go to stderr as "file:line: message"; on any
 * error NULL is returned and nothing is kept.  The set starts with one
 * reference.
 */
zoneset_t *zoneset_load(char *const *files, size_t nfiles);

zoneset_t *zoneset_ref(zoneset_t *zs);
void zoneset_unref(zoneset_t *zs);

/** The zone whose apex is the longest suffix of \a lname, or NULL. */
const zone_t *zoneset_find(const zoneset_t *zs, const uint8_t *lname,
			   size_t len);

/** The node for \a lname in \a z, or NULL (NXDOMAIN). */
const znode_t *zone_lookup(const zone_t *z, const uint8_t *lname, size_t len);

/** The node for \a lname in whichever zone of \a zs holds it, or NULL. */
const znode_t *zoneset_lookup(const zoneset_t *zs, const uint8_t *lname,
			      size_t len);

/** The RRset of \a type at \a n, or NULL. */
const zrrset_t *znode_rrset(const znode_t *n, uint16_t type);

#endif
