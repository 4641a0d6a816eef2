/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file canary.c
 * \brief Probe each forwarder and stub address; see canary.h.
 *
 * The probe asks without recursion (RD=0) for something any server
 * answers from what it has: "<zone> SOA" for a stub (it is authoritative
 * there) and ". NS" for a forwarder (a resolver answers from its cache or
 * its root hints, or refuses).  Any reply with the right ID, whatever its
 * rcode, proves the server is there; REFUSED included, because liveness,
 * not helpfulness, is the question.  The rcode is kept all the same:
 * libunbound reports an upstream's REFUSED as SERVFAIL, and when every
 * upstream refuses the probe too, fetch.c reports ANAME_EREFUSED.  Cost: one datagram per upstream
 * every ANAME_CANARY_INTERVAL_MS.
 */
#include "canary.h"

#include "ctx.h"
#include "name.h"
#include "watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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
	memset(&u->addr, 0, sizeof(u->addr));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&u->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->addr;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		u->addrlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		u->addrlen = sizeof(*s6);
	} else {
		return ANAME_EBADADDR;
	}
	snprintf(u->name, sizeof(u->name), "%s", text);
	return ANAME_OK;
}

/* The probe: header (RD=0), one question. */
static int build_query(struct aname_upstream *u, const char *zone,
		       uint16_t qtype)
{
	size_t wlen;
	uint8_t *q = u->query;
	memset(q, 0, 12);
	q[5] = 1; /* QDCOUNT */
	if (aname__name_parse(zone, q + 12, &wlen) != ANAME_OK ||
	    12 + wlen + 4 > sizeof(u->query)) {
		return ANAME_EBADNAME;
	}
	q[12 + wlen] = (uint8_t)(qtype >> 8);
	q[13 + wlen] = (uint8_t)qtype;
	q[14 + wlen] = 0;
	q[15 + wlen] = 1; /* IN */
	u->query_len = 12 + wlen + 4;
	return ANAME_OK;
}

static int add(struct aname_canary *c, const char *addr, const char *zone,
	       uint16_t qtype)
{
	struct aname_upstream *u = &c->up[c->n];
	memset(u, 0, sizeof(*u));
	if (parse_addr(addr, u) != ANAME_OK ||
	    build_query(u, zone, qtype) != ANAME_OK) {
		return ANAME_EBADADDR;
	}
	c->n++;
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
	size_t n = cfg->n_forwarders + cfg->n_stubs;
	if (n == 0) {
		return ANAME_OK;
	}
	c->up = calloc(n, sizeof(*c->up));
	if (c->up == NULL) {
		return ANAME_ENOMEM;
	}
	int rc = ANAME_OK;
	for (size_t i = 0; i < cfg->n_forwarders && rc == ANAME_OK; i++) {
		rc = add(c, cfg->forwarders[i], ".", 2 /* NS */);
	}
	for (size_t i = 0; i < cfg->n_stubs && rc == ANAME_OK; i++) {
		rc = add(c, cfg->stubs[i].addr, cfg->stubs[i].zone,
			 6 /* SOA */);
	}
	bool v4 = false, v6 = false;
	for (size_t i = 0; i < c->n; i++) {
		v4 |= c->up[i].addr.ss_family == AF_INET;
		v6 |= c->up[i].addr.ss_family == AF_INET6;
	}
	if (rc == ANAME_OK && v4 && (c->fd4 = udp_socket(AF_INET)) < 0) {
		rc = ANAME_ENOMEM;
	}
	if (rc == ANAME_OK && v6 && (c->fd6 = udp_socket(AF_INET6)) < 0) {
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
	memset(c, 0, sizeof(*c));
	c->fd4 = c->fd6 = -1;
}

int aname__canary_fd(const struct aname_canary *c, int family)
{
	return family == AF_INET6 ? c->fd6 : c->fd4;
}

bool aname__canary_all_refuse(const struct aname_canary *c)
{
	return c->n > 0 && c->n_refusing == c->n;
}

uint64_t aname__canary_next(const struct aname_canary *c)
{
	return c->n > 0 ? c->next_ms : UINT64_MAX;
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
		for (size_t i = 0; i < c->n; i++) {
			struct aname_upstream *u = &c->up[i];
			if (u->id != id || !same_addr(&u->addr, &from)) {
				continue;
			}
			u->last_reply_ms = now_ms;
			u->watched_since_ms = now_ms;
			bool refused = (buf[3] & 0x0f) == 5;
			if (refused != u->refusing) {
				u->refusing = refused;
				c->n_refusing += refused ? 1 : (size_t)-1;
			}
			if (u->silent) {
				u->silent = false;
				c->n_silent--;
				aname__log(&ctx->log, ANAME_LOG_WARNING,
					   "canary: upstream %s answers again",
					   u->name);
				/* Whatever failed while it was away may be
				 * asked again at once. */
				aname__watchdog_mark_recovered(ctx, now_ms);
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
			aname__log(&ctx->log, ANAME_LOG_ERROR,
				   "canary: upstream %s silent: no reply to "
				   "its probes for %u ms",
				   u->name, ANAME_CANARY_SILENT_MS);
		}
	}
}

static void send_probes(struct aname_canary *c, uint64_t now_ms)
{
	for (size_t i = 0; i < c->n; i++) {
		struct aname_upstream *u = &c->up[i];
		uint16_t id = 0;
		if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
			id = (uint16_t)(now_ms * 2654435761u >> 7);
		}
		u->id = id;
		u->query[0] = (uint8_t)(id >> 8);
		u->query[1] = (uint8_t)id;
		int fd = u->addr.ss_family == AF_INET6 ? c->fd6 : c->fd4;
		/* Non-blocking: a full socket buffer loses one probe. */
		ssize_t w = sendto(fd, u->query, u->query_len, 0,
				   (const struct sockaddr *)&u->addr,
				   u->addrlen);
		(void)w;
		if (u->watched_since_ms == 0) {
			u->watched_since_ms = now_ms;
		}
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
	judge(ctx, now_ms);
	if (now_ms >= c->next_ms) {
		send_probes(c, now_ms);
		c->next_ms = now_ms + ANAME_CANARY_INTERVAL_MS;
	}
}
