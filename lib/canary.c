/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file canary.c
 * \brief Probe each forwarder and stub address, or the root servers;
 * tell REFUSED from SERVFAIL; see canary.h.
 *
 * The liveness probe asks without recursion (RD=0) for something any
 * server answers from what it has: "<zone> SOA" for a stub (it is
 * authoritative there), ". NS" for a forwarder (a resolver answers from
 * its cache or its root hints, or refuses) and ". SOA" for a root server
 * (authoritative; the SOA answer is a tenth of the NS one).  Any reply
 * with the right ID, whatever its rcode, proves the server is there;
 * REFUSED included, because liveness, not helpfulness, is the question.
 *
 * REFUSED.  libunbound reports an upstream's REFUSED as SERVFAIL.  A
 * forwarder's answer to a non-recursive question says nothing about
 * recursion: unbound's default access control ("allow") refuses RD=0
 * questions that its cache would answer and recurses for RD=1, and a
 * resolver may allow cache snooping but not recursion.  So each forwarder
 * also gets ". NS" with RD=1 every round (any resolver has the root NS
 * set cached after priming, so this costs it nothing); its rcode is the
 * forwarder's "refusing" bit, and when every forwarder (and stub) refuses,
 * fetch.c reports ANAME_EREFUSED at once.  A forwarder that refuses only
 * some names (a blocklist, a view, an authoritative server used as a
 * forwarder) answers that probe; for those fetch.c asks for a verdict:
 * the failed question is put to every forwarder directly, and REFUSED
 * from all that answer makes the failure ANAME_EREFUSED.  A verdict costs
 * one datagram per forwarder and at most ANAME_VERDICT_MS of the fetch;
 * failures of one target reach the upstream once per backoff period, and
 * verdicts are limited to ANAME_VERDICT_PER_S and ANAME_VERDICT_SLOTS.
 *
 * Full recursion.  The roots are one pool: every round probes one IPv4
 * and one IPv6 root address, in turn over the list (libunbound's built-in
 * hints or the configured root-hints file), three of each after a round
 * that nobody answered, and the pool is silent when none answered for
 * ANAME_CANARY_SILENT_MS: two or three rounds, at least four different
 * roots of each family.  One root down is normal; all of them silent
 * means this host cannot reach the DNS (a firewall, a dead link).  Cost:
 * two datagrams every ANAME_CANARY_INTERVAL_MS, answers ~100 bytes.
 *
 * Cost for forwarders: two datagrams each per interval; for stubs one.
 */
#include "canary.h"

#include "ctx.h"
#include "fetch.h"
#include "name.h"
#include "watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* libunbound 1.17.1's compile-time root hints (iterator/iter_hints.c,
 * compile_time_root_prime); what it recurses from without a root-hints
 * file.  b.root's old address (199.9.14.201) is what 1.17 ships; newer
 * libunbound has 170.247.170.2, and b.root answers on both. */
static const char *const builtin_roots[] = {
	"198.41.0.4",	  "199.9.14.201",	"192.33.4.12",
	"199.7.91.13",	  "192.203.230.10",	"192.5.5.241",
	"192.112.36.4",	  "198.97.190.53",	"192.36.148.17",
	"192.58.128.30",  "193.0.14.129",	"199.7.83.42",
	"202.12.27.33",	  "2001:503:ba3e::2:30", "2001:500:200::b",
	"2001:500:2::c",  "2001:500:2d::d",	"2001:500:a8::e",
	"2001:500:2f::f", "2001:500:12::d0d",	"2001:500:1::53",
	"2001:7fe::53",	  "2001:503:c27::2:30", "2001:7fd::1",
	"2001:500:9f::42", "2001:dc3::35",
};
#define N_BUILTIN_ROOTS (sizeof(builtin_roots) / sizeof(builtin_roots[0]))

static int addr_from_text(const char *host, unsigned port, struct aname_addr *a)
{
	memset(a, 0, sizeof(*a));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*s6);
	} else {
		return ANAME_EBADADDR;
	}
	return ANAME_OK;
}

static int parse_addr(const char *text, struct aname_upstream *u)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *at = strchr(text, '@');
	size_t hlen = at != NULL ? (size_t)(at - text) : strlen(text);
	/* config.c checked the syntax: digits, 1..65535. */
	unsigned port = at != NULL ? (unsigned)strtoul(at + 1, NULL, 10) : 53;
	if (hlen == 0 || hlen >= sizeof(host)) {
		return ANAME_EBADADDR;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (addr_from_text(host, port, &u->addr) != ANAME_OK) {
		return ANAME_EBADADDR;
	}
	snprintf(u->name, sizeof(u->name), "%s", text);
	return ANAME_OK;
}

/* A query: header (RD as asked, ID 0), one question. */
static int build_query(uint8_t *q, size_t cap, const char *name,
		       uint16_t qtype, bool rd, size_t *len)
{
	size_t wlen;
	uint8_t wire[ANAME_NAME_MAX];
	if (cap < 12 || aname__name_parse(name, wire, &wlen) != ANAME_OK ||
	    12 + wlen + 4 > cap) {
		return ANAME_EBADNAME;
	}
	memset(q, 0, 12);
	q[2] = rd ? 0x01 : 0x00;
	q[5] = 1; /* QDCOUNT */
	memcpy(q + 12, wire, wlen);
	q[12 + wlen] = (uint8_t)(qtype >> 8);
	q[13 + wlen] = (uint8_t)qtype;
	q[14 + wlen] = 0;
	q[15 + wlen] = 1; /* IN */
	*len = 12 + wlen + 4;
	return ANAME_OK;
}

static int add(struct aname_canary *c, int kind, const char *addr,
	       const char *zone, uint16_t qtype)
{
	struct aname_upstream *u = &c->up[c->n];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	if (kind == ANAME_UP_ROOTS) {
		snprintf(u->name, sizeof(u->name), "roots");
	} else if (addr == NULL || parse_addr(addr, u) != ANAME_OK) {
		return ANAME_EBADADDR;
	}
	if (build_query(u->query, sizeof(u->query), zone, qtype, false,
			&u->query_len) != ANAME_OK) {
		return ANAME_EBADADDR;
	}
	c->n++;
	return ANAME_OK;
}

static int push_root(struct aname_roots *r, size_t *cap, const char *host)
{
	if (r->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct aname_addr *na = realloc(r->addr, ncap * sizeof(*na));
		if (na == NULL) {
			return ANAME_ENOMEM;
		}
		r->addr = na;
		*cap = ncap;
	}
	if (addr_from_text(host, 53, &r->addr[r->n]) == ANAME_OK) {
		r->n++;
	}
	return ANAME_OK;
}

/* The A and AAAA records of a root-hints file, as libunbound reads it
 * (zone-file syntax).  ANAME_EFILE when it cannot be read or parsed. */
static int read_hints(const char *path, struct aname_roots *r)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		return ANAME_EFILE;
	}
	ldns_zone *z = NULL;
	int line = 0;
	ldns_status st = ldns_zone_new_frm_fp_l(&z, fp, NULL, 3600,
						LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		return ANAME_EFILE;
	}
	int rc = ANAME_OK;
	size_t cap = r->n;
	ldns_rr_list *rrs = ldns_zone_rrs(z);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && rc == ANAME_OK;
	     i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) ||
		    ldns_rr_rd_count(rr) != 1) {
			continue;
		}
		char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (text == NULL) {
			rc = ANAME_ENOMEM;
			break;
		}
		rc = push_root(r, &cap, text);
		free(text);
	}
	ldns_zone_deep_free(z);
	return rc;
}

int aname__canary_hints_check(const char *path)
{
	struct aname_roots r = {0};
	int rc = read_hints(path, &r);
	if (rc == ANAME_OK && r.n == 0) {
		rc = ANAME_EFILE;
	}
	free(r.addr);
	return rc;
}

static int roots_init(struct aname_roots *r, const aname_config_t *cfg)
{
	if (cfg->root_hints != NULL) {
		int rc = read_hints(cfg->root_hints, r);
		return rc == ANAME_OK && r->n == 0 ? ANAME_EFILE : rc;
	}
	size_t cap = 0;
	for (size_t i = 0; i < N_BUILTIN_ROOTS; i++) {
		int rc = push_root(r, &cap, builtin_roots[i]);
		if (rc != ANAME_OK) {
			return rc;
		}
	}
	return ANAME_OK;
}

static int udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd;
}

int aname__canary_init(struct aname_canary *c, const aname_config_t *cfg)
{
	memset(c, 0, sizeof(*c));
	c->fd4 = c->fd6 = -1;
	bool recursion = cfg->n_forwarders == 0 && cfg->n_stubs == 0;
	size_t n = recursion ? 1 : cfg->n_forwarders + cfg->n_stubs;
	c->up = calloc(n, sizeof(*c->up));
	if (c->up == NULL) {
		return ANAME_ENOMEM;
	}
	int rc = ANAME_OK;
	for (size_t i = 0; i < cfg->n_forwarders && rc == ANAME_OK; i++) {
		rc = add(c, ANAME_UP_FORWARDER, cfg->forwarders[i], ".",
			 2 /* NS */);
	}
	c->n_forwarders = c->n;
	for (size_t i = 0; i < cfg->n_stubs && rc == ANAME_OK; i++) {
		rc = add(c, ANAME_UP_STUB, cfg->stubs[i].addr,
			 cfg->stubs[i].zone, 6 /* SOA */);
	}
	c->n_refusable = c->n;
	if (rc == ANAME_OK && recursion) {
		rc = roots_init(&c->roots, cfg);
		c->roots.heard = true; /* one of each to start with */
		if (rc == ANAME_OK) {
			rc = add(c, ANAME_UP_ROOTS, NULL, ".", 6 /* SOA */);
		}
	}
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < c->n_refusable; i++) {
		v4 |= c->up[i].addr.ss.ss_family == AF_INET;
		v6 |= c->up[i].addr.ss.ss_family == AF_INET6;
	}
	bool r4 = false, r6 = false;
	for (size_t i = 0; i < c->roots.n; i++) {
		r4 |= c->roots.addr[i].ss.ss_family == AF_INET;
		r6 |= c->roots.addr[i].ss.ss_family == AF_INET6;
	}
	if (rc == ANAME_OK && (v4 || r4) &&
	    (c->fd4 = udp_socket(AF_INET)) < 0 && v4) {
		rc = ANAME_ENOMEM;
	}
	/* A host without IPv6 still recurses over IPv4: the roots' IPv6
	 * addresses are then not probed. */
	if (rc == ANAME_OK && (v6 || r6) &&
	    (c->fd6 = udp_socket(AF_INET6)) < 0 && v6) {
		rc = ANAME_ENOMEM;
	}
	if (rc == ANAME_OK && c->n > 0 && c->fd4 < 0 && c->fd6 < 0) {
		rc = ANAME_ENOMEM;
	}
	if (rc != ANAME_OK) {
		aname__canary_free(c);
	}
	return rc;
}

void aname__canary_free(struct aname_canary *c)
{
	if (c->fd4 >= 0) {
		close(c->fd4);
	}
	if (c->fd6 >= 0) {
		close(c->fd6);
	}
	free(c->up);
	free(c->roots.addr);
	memset(c, 0, sizeof(*c));
	c->fd4 = c->fd6 = -1;
}

int aname__canary_fd(const struct aname_canary *c, int family)
{
	return family == AF_INET6 ? c->fd6 : c->fd4;
}

bool aname__canary_all_refuse(const struct aname_canary *c)
{
	return c->n_refusable > 0 && c->n_refusing == c->n_refusable;
}

bool aname__canary_roots_silent(const struct aname_canary *c)
{
	return c->n > 0 && c->up[c->n - 1].kind == ANAME_UP_ROOTS &&
	       c->up[c->n - 1].silent;
}

uint64_t aname__canary_next(const struct aname_canary *c)
{
	uint64_t when = c->n > 0 ? c->next_ms : UINT64_MAX;
	for (size_t i = 0; i < ANAME_VERDICT_SLOTS; i++) {
		const struct aname_verdict *v = &c->verdicts[i];
		if (v->fetch != NULL && v->deadline_ms < when) {
			when = v->deadline_ms;
		}
	}
	return when;
}

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static bool from_upstream(const struct aname_canary *c,
			  const struct aname_upstream *u,
			  const struct sockaddr_storage *from)
{
	if (u->kind != ANAME_UP_ROOTS) {
		return same_addr(&u->addr.ss, from);
	}
	for (size_t i = 0; i < c->roots.n; i++) {
		if (same_addr(&c->roots.addr[i].ss, from)) {
			return true;
		}
	}
	return false;
}

static void heard(struct aname_ctx *ctx, struct aname_upstream *u,
		  uint64_t now_ms)
{
	u->last_reply_ms = now_ms;
	u->watched_since_ms = now_ms;
	if (!u->silent && now_ms < u->recovering_until_ms) {
		/* Still coming back: what failed since its last answer
		 * (libunbound may not have asked it yet) may be asked again. */
		aname__watchdog_mark_recovered(ctx, now_ms);
	}
	if (u->silent) {
		u->silent = false;
		ctx->canary.n_silent--;
		if (u->kind == ANAME_UP_ROOTS) {
			aname__log(&ctx->log, ANAME_LOG_WARNING,
				   "canary: root servers answer again");
		} else {
			aname__log(&ctx->log, ANAME_LOG_WARNING,
				   "canary: upstream %s answers again",
				   u->name);
		}
		/* Whatever failed while it was away is asked again at once,
		 * of a libunbound that has forgotten the outage, and may be
		 * asked again at each answer of the next
		 * ANAME_CANARY_RECOVERY_MS. */
		aname__watchdog_renew(ctx, now_ms);
		u->recovering_until_ms = now_ms + ANAME_CANARY_RECOVERY_MS;
	}
}

static void set_refusing(struct aname_canary *c, struct aname_upstream *u,
			 bool refused)
{
	if (refused != u->refusing) {
		u->refusing = refused;
		c->n_refusing += refused ? 1 : (size_t)-1;
	}
}

static void verdict_reply(struct aname_canary *c, uint16_t id, int rcode,
			  const struct sockaddr_storage *from)
{
	for (size_t s = 0; s < ANAME_VERDICT_SLOTS; s++) {
		struct aname_verdict *v = &c->verdicts[s];
		if (v->fetch == NULL || v->id != id) {
			continue;
		}
		for (size_t i = 0; i < c->n_forwarders; i++) {
			if ((v->waiting & (1u << i)) == 0 ||
			    !same_addr(&c->up[i].addr.ss, from)) {
				continue;
			}
			v->waiting &= ~(1u << i);
			if (rcode == 5) {
				v->refused++;
			} else {
				v->other++;
			}
		}
	}
}

static void read_replies(struct aname_ctx *ctx, int fd, uint64_t now_ms)
{
	struct aname_canary *c = &ctx->canary;
	uint8_t buf[512];
	for (;;) {
		struct sockaddr_storage from;
		memset(&from, 0, sizeof(from));
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			return; /* EAGAIN, or an ICMP error: nothing to learn */
		}
		if (n < 12 || (buf[2] & 0x80) == 0) {
			continue;
		}
		uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
		int rcode = buf[3] & 0x0f;
		verdict_reply(c, id, rcode, &from);
		for (size_t i = 0; i < c->n; i++) {
			struct aname_upstream *u = &c->up[i];
			bool live = u->id == id;
			bool rd = u->kind == ANAME_UP_FORWARDER &&
				  u->rd_id == id;
			if ((!live && !rd) || !from_upstream(c, u, &from)) {
				continue;
			}
			if (u->kind == ANAME_UP_ROOTS) {
				c->roots.heard = true;
			}
			heard(ctx, u, now_ms);
			/* A forwarder's refusal is judged by the recursive
			 * probe, a stub's by its SOA probe. */
			if (rd || (live && u->kind == ANAME_UP_STUB)) {
				set_refusing(c, u, rcode == 5);
			}
		}
	}
}

static void judge(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct aname_canary *c = &ctx->canary;
	for (size_t i = 0; i < c->n; i++) {
		struct aname_upstream *u = &c->up[i];
		if (!u->silent && u->watched_since_ms != 0 &&
		    now_ms - u->watched_since_ms > ANAME_CANARY_SILENT_MS) {
			u->silent = true;
			c->n_silent++;
			if (u->kind == ANAME_UP_ROOTS) {
				aname__log(&ctx->log, ANAME_LOG_ERROR,
					   "canary: root servers silent: none "
					   "of the %zu root addresses probed "
					   "answered for %u ms",
					   c->roots.n, ANAME_CANARY_SILENT_MS);
			} else {
				aname__log(&ctx->log, ANAME_LOG_ERROR,
					   "canary: upstream %s silent: no "
					   "reply to its probes for %u ms",
					   u->name, ANAME_CANARY_SILENT_MS);
			}
		}
	}
}

static uint16_t new_id(uint64_t now_ms)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
		id = (uint16_t)(now_ms * 2654435761u >> 7);
	}
	return id;
}

static int fd_for(const struct aname_canary *c, const struct aname_addr *a)
{
	return a->ss.ss_family == AF_INET6 ? c->fd6 : c->fd4;
}

/* Non-blocking: a full socket buffer loses one probe. */
static bool send_to(const struct aname_canary *c, const struct aname_addr *a,
		    const uint8_t *q, size_t len)
{
	int fd = fd_for(c, a);
	return fd >= 0 && sendto(fd, q, len, 0,
				 (const struct sockaddr *)&a->ss,
				 a->len) == (ssize_t)len;
}

/* The next root address of \a family after *cursor, or NULL. */
static const struct aname_addr *next_root(struct aname_roots *r, int family,
					  size_t *cursor)
{
	for (size_t k = 0; k < r->n; k++) {
		size_t i = (*cursor + k) % r->n;
		if (r->addr[i].ss.ss_family == family) {
			*cursor = i + 1;
			return &r->addr[i];
		}
	}
	return NULL;
}

static void send_probes(struct aname_canary *c, uint64_t now_ms)
{
	for (size_t i = 0; i < c->n; i++) {
		struct aname_upstream *u = &c->up[i];
		if (u->kind == ANAME_UP_ROOTS && !c->roots_in_use) {
			continue;
		}
		u->id = new_id(now_ms);
		u->query[0] = (uint8_t)(u->id >> 8);
		u->query[1] = (uint8_t)u->id;
		if (u->kind == ANAME_UP_ROOTS) {
			size_t k = c->roots.heard
					   ? ANAME_ROOTS_PER_ROUND
					   : ANAME_ROOTS_PER_ROUND_MISSED;
			c->roots.heard = false;
			for (size_t j = 0; j < k; j++) {
				const struct aname_addr *a4 =
					c->fd4 >= 0
						? next_root(&c->roots, AF_INET,
							    &c->roots.next4)
						: NULL;
				const struct aname_addr *a6 =
					c->fd6 >= 0
						? next_root(&c->roots, AF_INET6,
							    &c->roots.next6)
						: NULL;
				if (a4 != NULL) {
					send_to(c, a4, u->query, u->query_len);
				}
				if (a6 != NULL) {
					send_to(c, a6, u->query, u->query_len);
				}
			}
		} else {
			send_to(c, &u->addr, u->query, u->query_len);
		}
		if (u->kind == ANAME_UP_FORWARDER) {
			/* The same question with RD=1 and its own ID. */
			uint8_t q[sizeof(u->query)];
			memcpy(q, u->query, u->query_len);
			do {
				u->rd_id = new_id(now_ms + 1);
			} while (u->rd_id == u->id);
			q[0] = (uint8_t)(u->rd_id >> 8);
			q[1] = (uint8_t)u->rd_id;
			q[2] |= 0x01;
			send_to(c, &u->addr, q, u->query_len);
		}
		if (u->watched_since_ms == 0) {
			u->watched_since_ms = now_ms;
		}
	}
}

static void end_verdicts(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct aname_canary *c = &ctx->canary;
	for (size_t s = 0; s < ANAME_VERDICT_SLOTS; s++) {
		struct aname_verdict *v = &c->verdicts[s];
		if (v->fetch == NULL ||
		    (v->waiting != 0 && now_ms < v->deadline_ms)) {
			continue;
		}
		struct aname_fetch *f = v->fetch;
		bool refused = v->refused > 0 && v->other == 0;
		if (refused) {
			aname__log(&ctx->log, ANAME_LOG_INFO,
				   "canary: %u forwarder(s) refuse %s",
				   v->refused, f->qname);
		}
		/* Free the slot first: the fetch's waiters may start new
		 * fetches, and those new verdicts. */
		memset(v, 0, sizeof(*v));
		aname__fetch_verdict(ctx, f, refused, now_ms);
	}
}

void aname__canary_run(struct aname_ctx *ctx, uint64_t now_ms)
{
	struct aname_canary *c = &ctx->canary;
	if (c->n == 0) {
		return;
	}
	if (c->fd4 >= 0) {
		read_replies(ctx, c->fd4, now_ms);
	}
	if (c->fd6 >= 0) {
		read_replies(ctx, c->fd6, now_ms);
	}
	end_verdicts(ctx, now_ms);
	judge(ctx, now_ms);
	/* The roots are probed once the context has sent a query upstream:
	 * a full-recursion context nobody has asked anything yet (a host
	 * still starting, a test) sends nothing to the Internet's roots. */
	if (!c->roots_in_use &&
	    ctx->stats.v[ANAME_STAT_UPSTREAM_QUERIES] > 0) {
		c->roots_in_use = true;
	}
	if (now_ms >= c->next_ms) {
		send_probes(c, now_ms);
		c->next_ms = now_ms + ANAME_CANARY_INTERVAL_MS;
	}
}

/* One token per 1000 / ANAME_VERDICT_PER_S ms, at most a second's worth
 * saved up. */
static bool take_token(struct aname_canary *c, uint64_t now_ms)
{
	const uint64_t step = 1000 / ANAME_VERDICT_PER_S;
	const uint64_t full = step * ANAME_VERDICT_PER_S;
	if (now_ms > full && c->bucket_ms < now_ms - full) {
		c->bucket_ms = now_ms - full;
	}
	if (c->bucket_ms + step > now_ms) {
		return false;
	}
	c->bucket_ms += step;
	return true;
}

bool aname__canary_verdict_start(struct aname_ctx *ctx,
				 struct aname_fetch *fetch, const char *qname,
				 uint16_t qtype, uint64_t until_ms,
				 uint64_t now_ms)
{
	struct aname_canary *c = &ctx->canary;
	/* Less than 20 ms left: the answer would come too late to matter. */
	if (c->n_forwarders == 0 || c->n_forwarders > 32 ||
	    until_ms < now_ms + 20) {
		return false;
	}
	struct aname_verdict *v = NULL;
	for (size_t s = 0; s < ANAME_VERDICT_SLOTS && v == NULL; s++) {
		if (c->verdicts[s].fetch == NULL) {
			v = &c->verdicts[s];
		}
	}
	uint8_t q[12 + ANAME_NAME_MAX + 4];
	size_t len;
	if (v == NULL ||
	    build_query(q, sizeof(q), qname, qtype, true, &len) != ANAME_OK ||
	    !take_token(c, now_ms)) {
		return false;
	}
	memset(v, 0, sizeof(*v));
	v->id = new_id(now_ms);
	q[0] = (uint8_t)(v->id >> 8);
	q[1] = (uint8_t)v->id;
	for (size_t i = 0; i < c->n_forwarders; i++) {
		if (send_to(c, &c->up[i].addr, q, len)) {
			v->waiting |= 1u << i;
		}
	}
	if (v->waiting == 0) {
		return false;
	}
	v->fetch = fetch;
	v->deadline_ms = now_ms + ANAME_VERDICT_MS < until_ms - 5
				 ? now_ms + ANAME_VERDICT_MS
				 : until_ms - 5;
	return true;
}

void aname__canary_verdict_drop(struct aname_canary *c,
				const struct aname_fetch *fetch)
{
	for (size_t s = 0; s < ANAME_VERDICT_SLOTS; s++) {
		if (c->verdicts[s].fetch == fetch) {
			memset(&c->verdicts[s], 0, sizeof(c->verdicts[s]));
		}
	}
}
