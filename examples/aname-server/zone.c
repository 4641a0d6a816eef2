/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Zone loading (ldns) and lookup for aname-server; see zone.h.
 */
#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aname.h"
#include "dnsmsg.h"
#include "zone.h"

/* ------------------------------------------------------------ rewrite */

/* The zone file with every ALIAS/ANAME record rewritten to the RFC 3597
 * generic form, which ldns parses as type 65401. */
struct pre {
	char *buf;
	size_t len, cap;
};

static int pre_put(struct pre *p, const char *s, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		size_t cap = (p->cap + n + 1) * 2;
		char *b = realloc(p->buf, cap);
		if (!b)
			return -1;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return 0;
}

static int is_ttl(const char *t, size_t n)
{
	if (n == 0 || !isdigit((unsigned char)t[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)t[i]) && !strchr("smhdwSMHDW", t[i]))
			return 0;
	return 1;
}

static int is_class(const char *t, size_t n)
{
	return (n == 2 && (!strncasecmp(t, "IN", 2) || !strncasecmp(t, "CH", 2) ||
			   !strncasecmp(t, "HS", 2) || !strncasecmp(t, "CS", 2))) ||
	       (n > 5 && !strncasecmp(t, "CLASS", 5));
}

/* Next whitespace-delimited token from line[*i]; its offset or -1. */
static long next_token(const char *line, size_t *i, size_t *len)
{
	size_t n = strlen(line);
	while (*i < n && isspace((unsigned char)line[*i]))
		(*i)++;
	if (*i >= n || line[*i] == ';')
		return -1;
	size_t s = *i;
	while (*i < n && !isspace((unsigned char)line[*i]) && line[*i] != ';')
		(*i)++;
	*len = *i - s;
	return (long)s;
}

/* Offset and length of the type token of a line starting a record, or -1. */
static long type_token(const char *line, size_t *tlen)
{
	size_t i = 0, len;
	if (line[0] == '\0' || line[0] == '$' || line[0] == ';')
		return -1;
	int skip_owner = !isspace((unsigned char)line[0]);
	for (int tok = 0; tok < 4; tok++) {
		long s = next_token(line, &i, &len);
		if (s < 0 || line[s] == '(')
			return -1;
		if (skip_owner) {
			skip_owner = 0;
			continue;
		}
		if (is_ttl(line + s, len) || is_class(line + s, len))
			continue;
		*tlen = len;
		return s;
	}
	return -1;
}

/* Parenthesis depth change of a line, ignoring quotes and comments. */
static int paren_delta(const char *line)
{
	int d = 0, q = 0;
	for (const char *c = line; *c; c++) {
		if (*c == '\\' && c[1]) {
			c++;
			continue;
		}
		if (*c == '"')
			q = !q;
		else if (!q && *c == ';')
			break;
		else if (!q && *c == '(')
			d++;
		else if (!q && *c == ')')
			d--;
	}
	return d;
}

/* Does a presentation name end in an unescaped dot (absolute)? */
static int is_absolute(const char *t, size_t n)
{
	if (n == 0 || t[n - 1] != '.')
		return 0;
	size_t bs = 0;
	for (size_t i = n - 1; i > 0 && t[i - 1] == '\\'; i--)
		bs++;
	return bs % 2 == 0;
}

/* Join a name written in a zone file with the origin, as ldns would:
 * "@" is the origin, absolute names stay, relative ones get the origin
 * appended.  Returns -1 when the result does not fit out. */
static int absolute_name(const char *t, size_t n, const char *origin,
			 char *out, size_t outlen)
{
	size_t ol = strlen(origin);
	if (n == 1 && t[0] == '@') {
		t = origin;
		n = ol;
		ol = 0;
	} else if (is_absolute(t, n) || (ol == 1 && origin[0] == '.')) {
		ol = 0;    /* nothing to append (the root adds just the dot) */
	}
	int dot = ol == 0 && !is_absolute(t, n);
	if (n + (ol ? 1 + ol : 0) + (size_t)dot + 1 > outlen)
		return -1;
	memcpy(out, t, n);
	if (ol) {
		out[n] = '.';
		memcpy(out + n + 1, origin, ol);
		n += 1 + ol;
	} else if (dot) {
		out[n++] = '.';
	}
	out[n] = '\0';
	return 0;
}

/* "TYPE65401 \# len hex" for an ALIAS target written relative to origin. */
static int generic_alias(struct pre *p, const char *t, size_t n,
			 const char *origin)
{
	static const char hex[] = "0123456789abcdef";
	char name[1100];
	uint8_t wire[256];
	size_t wl;
	if (absolute_name(t, n, origin, name, sizeof(name)) != 0 ||
	    aname_name_to_wire(name, wire, sizeof(wire), &wl) != ANAME_OK)
		return -1;
	char out[32 + 2 * sizeof(wire)];
	int k = snprintf(out, sizeof(out), "TYPE65401 \\# %zu ", wl);
	for (size_t i = 0; i < wl; i++) {
		out[k++] = hex[wire[i] >> 4];
		out[k++] = hex[wire[i] & 0xf];
	}
	return pre_put(p, out, (size_t)k);
}

static int preprocess(FILE *f, const char *path, struct pre *p)
{
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	int lineno = 0, depth = 0, rc = -1, seen_record = 0;
	char origin[1024] = "";
	while ((n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		size_t tl = 0, i = 0, ol;
		if (depth == 0 && !strncasecmp(line, "$ORIGIN", 7) &&
		    isspace((unsigned char)line[7])) {
			i = 7;
			long o = next_token(line, &i, &ol);
			char tmp[sizeof(origin)];
			if (o >= 0 && absolute_name(line + o, ol, origin, tmp,
						    sizeof(tmp)) == 0)
				memcpy(origin, tmp, sizeof(origin));
		}
		if (depth == 0 && !seen_record && !origin[0] && line[0] != '$' &&
		    line[0] != ';' && !isspace((unsigned char)line[0])) {
			/* The first record, before any $ORIGIN: ldns would take
			 * a relative owner as below the root. */
			size_t k = 0, len = 0;
			long o = next_token(line, &k, &len);
			if (o >= 0 && !is_absolute(line + o, len)) {
				fprintf(stderr, "%s:%d: the SOA owner is relative "
						"and there is no $ORIGIN: add "
						"\"$ORIGIN zone.\" before it or "
						"write the owner absolute\n",
					path, lineno);
				goto out;
			}
		}
		if (depth == 0 && line[0] != '$' && type_token(line, &tl) >= 0)
			seen_record = 1;
		long t = depth == 0 ? type_token(line, &tl) : -1;
		if (t >= 0 && tl == 5 && (!strncasecmp(line + t, "ALIAS", 5) ||
					  !strncasecmp(line + t, "ANAME", 5))) {
			size_t j = (size_t)t + 5, gl;
			long g = next_token(line, &j, &gl);
			if (g < 0) {
				fprintf(stderr, "%s:%d: ALIAS needs its target "
						"on the same line\n", path, lineno);
				goto out;
			}
			if (!origin[0] && !is_absolute(line + g, gl)) {
				fprintf(stderr, "%s:%d: relative ALIAS target "
						"before any $ORIGIN\n", path, lineno);
				goto out;
			}
			if (pre_put(p, line, (size_t)t) != 0)
				goto oom;
			int r = generic_alias(p, line + g, gl, origin);
			if (r != 0) {
				fprintf(stderr, "%s:%d: ALIAS target '%.*s' is "
						"not a valid domain name\n", path,
					lineno, (int)gl, line + g);
				goto out;
			}
			if (pre_put(p, line + j, (size_t)n - j) != 0)
				goto oom;
		} else if (pre_put(p, line, (size_t)n) != 0) {
			goto oom;
		}
		depth += paren_delta(line);
		if (depth < 0)
			depth = 0;
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", path);
out:
	free(line);
	return rc;
}

/* ------------------------------------------------------------ nodes */

static uint32_t hash_name(const uint8_t *n, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ n[i]) * 16777619u;
	return h;
}

const znode_t *zone_lookup(const zone_t *z, const uint8_t *lname, size_t len)
{
	uint32_t h = hash_name(lname, len);
	for (znode_t *n = z->buckets[h & (z->nbuckets - 1)]; n; n = n->hnext)
		if (n->namelen == len && !memcmp(n->name, lname, len))
			return n;
	return NULL;
}

const zrrset_t *znode_rrset(const znode_t *n, uint16_t type)
{
	for (const zrrset_t *s = n->rrsets; s; s = s->next)
		if (s->type == type)
			return s;
	return NULL;
}

static int grow(zone_t *z)
{
	size_t nb = z->nbuckets * 2;
	znode_t **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < z->nbuckets; i++) {
		znode_t *n = z->buckets[i];
		while (n) {
			znode_t *next = n->hnext;
			uint32_t h = hash_name(n->name, n->namelen) & (nb - 1);
			n->hnext = b[h];
			b[h] = n;
			n = next;
		}
	}
	free(z->buckets);
	z->buckets = b;
	z->nbuckets = nb;
	return 0;
}

/* The node for a lower-case name inside the zone, created with its empty
 * non-terminal ancestors if needed. */
static znode_t *node_get(zone_t *z, const uint8_t *lname, size_t len)
{
	znode_t *n = (znode_t *)zone_lookup(z, lname, len);
	if (n)
		return n;
	if (len > z->apexlen && !node_get(z, lname + 1 + lname[0],
					  len - 1 - lname[0]))
		return NULL;
	if (z->nnodes >= z->nbuckets && grow(z) != 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	memcpy(n->name, lname, len);
	n->namelen = (uint8_t)len;
	uint32_t h = hash_name(lname, len) & (z->nbuckets - 1);
	n->hnext = z->buckets[h];
	z->buckets[h] = n;
	z->nnodes++;
	return n;
}

/* Append one record (no owner) to the node's RRset of its type. */
static int add_record(znode_t *n, uint16_t type, uint32_t ttl,
		      const uint8_t *rdata, size_t rdlen)
{
	zrrset_t *s = (zrrset_t *)znode_rrset(n, type), **tail;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->type = type;
		s->ttl = ttl;
		for (tail = &n->rrsets; *tail; tail = &(*tail)->next)
			;
		*tail = s;
	}
	uint8_t *w = realloc(s->wire, s->wlen + 10 + rdlen);
	if (!w)
		return -1;
	s->wire = w;
	w += s->wlen;
	w[0] = (uint8_t)(type >> 8);
	w[1] = (uint8_t)type;
	w[2] = 0;
	w[3] = DNS_CLASS_IN;
	w[4] = (uint8_t)(ttl >> 24);
	w[5] = (uint8_t)(ttl >> 16);
	w[6] = (uint8_t)(ttl >> 8);
	w[7] = (uint8_t)ttl;
	w[8] = (uint8_t)(rdlen >> 8);
	w[9] = (uint8_t)rdlen;
	memcpy(w + 10, rdata, rdlen);
	s->wlen += 10 + rdlen;
	s->count++;
	if (ttl < s->ttl)
		s->ttl = ttl;
	return 0;
}

/* Length of a valid uncompressed wire name filling exactly \a len bytes. */
static int valid_wire_name(const uint8_t *w, size_t len)
{
	size_t i = 0;
	if (len > 255)
		return 0;
	while (i < len) {
		if (w[i] == 0)
			return i + 1 == len;
		if (w[i] > 63)
			return 0;
		i += 1u + w[i];
	}
	return 0;
}

static void zone_free(zone_t *z)
{
	if (!z)
		return;
	for (size_t i = 0; z->buckets && i < z->nbuckets; i++) {
		znode_t *n = z->buckets[i];
		while (n) {
			znode_t *next = n->hnext;
			zrrset_t *s = n->rrsets;
			while (s) {
				zrrset_t *sn = s->next;
				free(s->wire);
				free(s);
				s = sn;
			}
			free((char *)n->alias);
			free(n->upstream);
			free(n);
			n = next;
		}
	}
	free(z->buckets);
	free(z->soa_neg);
	free(z->origin);
	free(z->file);
	free(z);
}

/* ------------------------------------------------------------ loading */

#define ZERR(...)                                                           \
	do {                                                                \
		fprintf(stderr, "%s:%d: ", path, line);                     \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
		goto fail;                                                  \
	} while (0)

/* Is the name at or below the apex (label-aligned)? */
static int in_zone(const uint8_t *n, size_t len, const uint8_t *apex,
		   size_t apexlen)
{
	size_t off = 0;
	while (len - off > apexlen && n[off] != 0)
		off += 1u + n[off];
	return len - off == apexlen && !memcmp(n + off, apex, apexlen);
}

static int add_rr(zone_t *z, ldns_rr *rr, const char *path, int line)
{
	ldns_rdf *owner = ldns_rr_owner(rr);
	uint8_t lname[255];
	size_t len = ldns_rdf_size(owner);
	/* ldns does not check the length when it appends $ORIGIN to a
	 * relative owner: a zone file can make names over 255 octets. */
	if (!valid_wire_name(ldns_rdf_data(owner), len)) {
		fprintf(stderr, "%s:%d: owner name longer than 255 octets\n",
			path, line);
		return -1;
	}
	dns_name_lower(lname, ldns_rdf_data(owner), len);
	if (lname[0] == 1 && lname[1] == '*') {
		/* Served literally, a wildcard would answer only the name
		 * "*"; RFC 4592 synthesis is not implemented: refuse. */
		fprintf(stderr, "%s:%d: wildcard owner names are not supported "
				"(write each name out)\n", path, line);
		return -1;
	}
	if (!in_zone(lname, len, z->apex, z->apexlen)) {
		char *o = ldns_rdf2str(owner);
		fprintf(stderr, "%s:%d: %s is outside the zone %s\n", path,
			line, o, z->origin);
		free(o);
		return -1;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		ZERR("only class IN is served");
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	if (type == LDNS_RR_TYPE_SOA && len != z->apexlen)
		ZERR("SOA outside the zone apex");
	znode_t *n = node_get(z, lname, len);
	if (!n)
		ZERR("out of memory");
	uint32_t ttl = ldns_rr_ttl(rr);

	if (type == 65401) {
		const uint8_t *tw;
		size_t tl;
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		if (ldns_rr_rd_count(rr) != 1 || !rd)
			ZERR("ALIAS needs exactly one target name");
		tw = ldns_rdf_data(rd);
		tl = ldns_rdf_size(rd);
		if (!valid_wire_name(tw, tl))
			ZERR("ALIAS target is not a domain name");
		if (n->alias)
			ZERR("a second ALIAS at the same owner");
		if (znode_rrset(n, LDNS_RR_TYPE_CNAME))
			ZERR("ALIAS next to a CNAME");
		char text[1024];
		if (dns_name_to_text(tw, tl, text, sizeof(text)) < 0 ||
		    !(n->alias = strdup(text)))
			ZERR("ALIAS target cannot be rendered");
		n->alias_ttl = ttl;
		if (add_record(n, 65401, ttl, tw, tl) != 0)
			ZERR("out of memory");
		n->alias_rrset = znode_rrset(n, 65401);
		z->nalias++;
		return 0;
	}
	if (type == LDNS_RR_TYPE_CNAME && n->rrsets &&
	    !znode_rrset(n, LDNS_RR_TYPE_CNAME))
		ZERR("CNAME next to other data");
	if (type != LDNS_RR_TYPE_CNAME && znode_rrset(n, LDNS_RR_TYPE_CNAME))
		ZERR("data next to a CNAME");
	/* The generic form (TYPE6 \\# ...) reaches us without ldns having
	 * checked the SOA's fields; the negative TTL below reads MINIMUM. */
	if (type == LDNS_RR_TYPE_SOA &&
	    (ldns_rr_rd_count(rr) != 7 || ldns_rr_rdf(rr, 6) == NULL ||
	     ldns_rdf_size(ldns_rr_rdf(rr, 6)) != 4))
		ZERR("SOA record without its seven fields");

	ldns_buffer *b = ldns_buffer_new(512);
	if (!b || ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_position(b) > 65535) {
		ldns_buffer_free(b);
		ZERR("cannot render the record");
	}
	int rc = add_record(n, type, ttl, ldns_buffer_begin(b),
			    ldns_buffer_position(b));
	if (rc == 0 && type == LDNS_RR_TYPE_SOA) {
		/* RFC 2308 section 5: negative TTL = min(SOA TTL, MINIMUM). */
		uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		uint32_t nttl = ttl < min ? ttl : min;
		size_t rl = ldns_buffer_position(b);
		z->soa_neg_len = z->apexlen + 10 + rl;
		z->soa_neg = malloc(z->soa_neg_len);
		if (z->soa_neg) {
			uint8_t *w = z->soa_neg;
			memcpy(w, z->apex, z->apexlen);
			w += z->apexlen;
			uint8_t hdr[10] = { 0, DNS_TYPE_SOA, 0, DNS_CLASS_IN,
					    (uint8_t)(nttl >> 24),
					    (uint8_t)(nttl >> 16),
					    (uint8_t)(nttl >> 8), (uint8_t)nttl,
					    (uint8_t)(rl >> 8), (uint8_t)rl };
			memcpy(w, hdr, 10);
			memcpy(w + 10, ldns_buffer_begin(b), rl);
		} else {
			rc = -1;
		}
	}
	ldns_buffer_free(b);
	if (rc != 0)
		ZERR("out of memory");
	return 0;
fail:
	return -1;
}

static zone_t *zone_load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct pre p = { 0 };
	int prc = preprocess(f, path, &p);
	fclose(f);
	if (prc != 0 || !p.buf) {
		if (prc == 0)
			fprintf(stderr, "%s: empty zone file\n", path);
		free(p.buf);
		return NULL;
	}
	FILE *mf = fmemopen(p.buf, p.len, "r");
	zone_t *z = calloc(1, sizeof(*z));
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 0, ok = 0, has_origin = 0;
	if (!mf || !z || !(z->file = strdup(path)))
		goto done;
	z->nbuckets = 64;
	z->buckets = calloc(z->nbuckets, sizeof(*z->buckets));
	if (!z->buckets)
		goto done;
	while (!feof(mf)) {
		ldns_rr *rr = NULL;
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, mf, &ttl, &origin,
						     &prev, &line);
		if (s == LDNS_STATUS_SYNTAX_ORIGIN)
			has_origin = 1;
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (s == LDNS_STATUS_SYNTAX_INCLUDE) {
			fprintf(stderr, "%s:%d: $INCLUDE is not supported\n",
				path, line);
			goto done;
		}
		if (s != LDNS_STATUS_OK) {
			fprintf(stderr, "%s:%d: %s\n", path, line,
				ldns_get_errorstr_by_id(s));
			goto done;
		}
		if (!z->origin) {
			/* The first record is the SOA and names the zone. */
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA) {
				fprintf(stderr, "%s:%d: the first record must "
						"be the zone's SOA\n", path, line);
				ldns_rr_free(rr);
				goto done;
			}
			ldns_rdf *o = ldns_rr_owner(rr);
			if (!valid_wire_name(ldns_rdf_data(o),
					     ldns_rdf_size(o))) {
				fprintf(stderr, "%s:%d: zone name longer than "
						"255 octets\n", path, line);
				ldns_rr_free(rr);
				goto done;
			}
			if (!has_origin && ldns_rdf_size(o) == 1) {
				/* ldns made "@" or a relative owner the root:
				 * nobody means to serve "." by accident. */
				fprintf(stderr, "%s:%d: the SOA owner is relative "
						"and there is no $ORIGIN: add "
						"\"$ORIGIN zone.\" before it or "
						"write the owner absolute\n",
					path, line);
				ldns_rr_free(rr);
				goto done;
			}
			z->apexlen = ldns_rdf_size(o);
			dns_name_lower(z->apex, ldns_rdf_data(o), z->apexlen);
			z->origin = ldns_rdf2str(o);
			if (!origin)   /* later relative names: from the SOA */
				origin = ldns_rdf_clone(o);
		} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			fprintf(stderr, "%s:%d: a second SOA\n", path, line);
			ldns_rr_free(rr);
			goto done;
		}
		int rc = add_rr(z, rr, path, line);
		ldns_rr_free(rr);
		if (rc != 0)
			goto done;
	}
	if (!z->origin) {
		fprintf(stderr, "%s: no SOA record\n", path);
		goto done;
	}
	ok = 1;
done:
	if (mf)
		fclose(mf);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	free(p.buf);
	if (!ok) {
		zone_free(z);
		return NULL;
	}
	return z;
}

/* ------------------------------------------------------------ sets */

/* The rdata of the first record of \a s (a name for ALIAS and CNAME). */
static const uint8_t *first_rdata(const zrrset_t *s, size_t *len)
{
	*len = (size_t)s->wire[8] << 8 | s->wire[9];
	return s->wire + 10;
}

/* Follow an ALIAS owner's target through our zones (see enum alias_via). */
static int alias_follow(zoneset_t *zs, znode_t *n)
{
	uint8_t cur[255];
	size_t len;
	const uint8_t *t = first_rdata(n->alias_rrset, &len);
	dns_name_lower(cur, t, len);
	n->chain_ttl = n->alias_ttl;
	for (int step = 0; step < ALIAS_CHAIN_MAX; step++) {
		const zone_t *z = zoneset_find(zs, cur, len);
		if (!z) {
			char text[1024];
			if (dns_name_to_text(cur, len, text, sizeof(text)) < 0 ||
			    !(n->upstream = strdup(text)))
				return -1;
			memcpy(n->up_wire, cur, len);
			n->up_len = (uint8_t)len;
			n->via = ALIAS_UPSTREAM;
			return 0;
		}
		const znode_t *m = zone_lookup(z, cur, len);
		if (!m) {
			n->via = ALIAS_LOCAL_NONE;
			return 0;
		}
		const zrrset_t *next = m->alias_rrset;
		if (!next)
			next = znode_rrset(m, DNS_TYPE_CNAME);
		if (!next) {
			n->via = ALIAS_LOCAL;
			n->local = m;
			return 0;
		}
		if (next->ttl < n->chain_ttl)
			n->chain_ttl = next->ttl;
		t = first_rdata(next, &len);
		dns_name_lower(cur, t, len);
	}
	n->via = ALIAS_LOOP;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

zoneset_t *zoneset_load(char *const *files, size_t nfiles)
{
	zoneset_t *zs = calloc(1, sizeof(*zs));
	if (!zs || !(zs->zones = calloc(nfiles, sizeof(*zs->zones))))
		goto fail;
	zs->refs = 1;
	size_t nalias = 0;
	for (size_t i = 0; i < nfiles; i++) {
		zone_t *z = zone_load(files[i]);
		if (!z)
			goto fail;
		for (size_t k = 0; k < zs->nzones; k++) {
			if (zs->zones[k]->apexlen == z->apexlen &&
			    !memcmp(zs->zones[k]->apex, z->apex, z->apexlen)) {
				fprintf(stderr, "%s: zone %s is already loaded "
						"from %s\n", files[i], z->origin,
					zs->zones[k]->file);
				zone_free(z);
				goto fail;
			}
		}
		zs->zones[zs->nzones++] = z;
		nalias += z->nalias;
	}
	/* Distinct ALIAS targets, for registration with the library. */
	zs->targets = calloc(nalias + 1, sizeof(char *));
	if (!zs->targets)
		goto fail;
	for (size_t i = 0; i < zs->nzones; i++) {
		zone_t *z = zs->zones[i];
		for (size_t b = 0; b < z->nbuckets; b++)
			for (znode_t *n = z->buckets[b]; n; n = n->hnext)
				if (n->alias)
					zs->targets[zs->ntargets++] = (char *)n->alias;
	}
	qsort(zs->targets, zs->ntargets, sizeof(char *), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < zs->ntargets; i++)
		if (u == 0 || strcasecmp(zs->targets[u - 1], zs->targets[i]))
			zs->targets[u++] = zs->targets[i];
	zs->ntargets = u;
	/* Resolve chains through our own zones; only names outside them
	 * go to the library. */
	zs->upstream = calloc(nalias + 1, sizeof(char *));
	if (!zs->upstream)
		goto fail;
	for (size_t i = 0; i < zs->nzones; i++) {
		zone_t *z = zs->zones[i];
		for (size_t b = 0; b < z->nbuckets; b++)
			for (znode_t *n = z->buckets[b]; n; n = n->hnext) {
				if (!n->alias)
					continue;
				if (alias_follow(zs, n) != 0) {
					fprintf(stderr, "%s: out of memory\n",
						z->file);
					goto fail;
				}
				if (n->via == ALIAS_UPSTREAM)
					zs->upstream[zs->nupstream++] = n->upstream;
			}
	}
	qsort(zs->upstream, zs->nupstream, sizeof(char *), cmp_str);
	u = 0;
	for (size_t i = 0; i < zs->nupstream; i++)
		if (u == 0 || strcasecmp(zs->upstream[u - 1], zs->upstream[i]))
			zs->upstream[u++] = zs->upstream[i];
	zs->nupstream = u;
	return zs;
fail:
	zoneset_unref(zs);
	return NULL;
}

zoneset_t *zoneset_ref(zoneset_t *zs)
{
	__atomic_fetch_add(&zs->refs, 1, __ATOMIC_RELAXED);
	return zs;
}

void zoneset_unref(zoneset_t *zs)
{
	if (!zs || __atomic_sub_fetch(&zs->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < zs->nzones; i++)
		zone_free(zs->zones[i]);
	free(zs->zones);
	free(zs->targets);
	free(zs->upstream);
	free(zs);
}

const znode_t *zoneset_lookup(const zoneset_t *zs, const uint8_t *lname,
			      size_t len)
{
	const zone_t *z = zoneset_find(zs, lname, len);
	return z ? zone_lookup(z, lname, len) : NULL;
}

const zone_t *zoneset_find(const zoneset_t *zs, const uint8_t *lname,
			   size_t len)
{
	/* Walk the name's suffixes from the longest: the first apex that
	 * matches is the closest enclosing zone. */
	for (size_t off = 0; off < len;) {
		size_t sl = len - off;
		for (size_t i = 0; i < zs->nzones; i++) {
			const zone_t *z = zs->zones[i];
			if (z->apexlen == sl && !memcmp(z->apex, lname + off, sl))
				return z;
		}
		if (lname[off] == 0)
			break;
		off += 1u + lname[off];
	}
	return NULL;
}
