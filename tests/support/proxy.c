/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file proxy.c
 * \brief A DNS proxy that injects faults per query name and counts queries.
 *
 * Tests put it between the library and nsd to make one target fail
 * (drop, delay, SERVFAIL, REFUSED, truncate) while others keep working, and
 * to count how many queries reached "upstream" (coalescing, backoff,
 * refresh-ahead).  The mode is read when a query arrives, so a test can kill
 * and revive a name while the library runs.
 *
 * UDP is served by one thread: each forwarded query gets its own connected
 * socket to the upstream (no id rewriting), and delayed queries wait in a
 * list ordered by nothing in particular (tests hold a handful).  Each TCP
 * connection gets a thread that does blocking exchanges with the upstream
 * over TCP, bounded by UPSTREAM_MS.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "support/servers.h"
#include "support/sock.h"

#define UPSTREAM_MS 3000
#define MAX_PENDING 512
#define NAME_MAX_TXT 1100 /* presentation form with \DDD escapes */

typedef struct {
	char name[NAME_MAX_TXT];
	ts_mode_t mode;
	unsigned delay_ms;
} rule_t;

typedef struct {
	char name[NAME_MAX_TXT];
	uint16_t qtype;
	unsigned n;
} counter_t;

/* A UDP query waiting for its delay or for the upstream's answer. */
typedef struct {
	int fd;                 /* upstream socket, -1 while delayed */
	int64_t when;           /* release time (delayed) or expiry */
	struct sockaddr_storage client;
	socklen_t client_len;
	uint8_t *query;         /* owned while delayed */
	size_t query_len;
} pending_t;

typedef struct conn {
	struct conn *next;
	ts_proxy_t *p;
	int fd;
	pthread_t thread;
} conn_t;

struct ts_proxy {
	int port;
	int upstream;
	int udp;
	int tcp;
	int stop[2];
	pthread_t thread;

	pthread_mutex_t lock; /* guards everything below */
	rule_t *rules;
	size_t nrules;
	ts_mode_t def_mode;
	unsigned def_delay;
	counter_t *counts;
	size_t ncounts;
	unsigned total;
	conn_t *conns;

	/* Owned by the UDP thread. */
	pending_t pending[MAX_PENDING];
	size_t npending;
};

/* Canonical text of a name: lower case, absolute, ldns escapes. */
static int normalize(const char *name, char *out, size_t outlen)
{
	ldns_rdf *d = NULL;
	if (ldns_str2rdf_dname(&d, name) != LDNS_STATUS_OK) {
		return -1;
	}
	ldns_dname2canonical(d);
	char *s = ldns_rdf2str(d);
	ldns_rdf_deep_free(d);
	if (s == NULL || strlen(s) >= outlen) {
		free(s);
		return -1;
	}
	strcpy(out, s);
	free(s);
	return 0;
}

/* Count one query and return the mode for it.  \a q may be NULL
 * (unparsable): counted in the total, passed through. */
static ts_mode_t classify(ts_proxy_t *p, const ldns_pkt *q, unsigned *delay)
{
	char name[NAME_MAX_TXT] = "";
	uint16_t qtype = 0;
	if (q != NULL && ldns_pkt_qdcount(q) == 1) {
		ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
		ldns_rdf *owner = ldns_rdf_clone(ldns_rr_owner(qr));
		ldns_dname2canonical(owner);
		char *s = ldns_rdf2str(owner);
		if (s != NULL && strlen(s) < sizeof(name)) {
			strcpy(name, s);
		}
		free(s);
		ldns_rdf_deep_free(owner);
		qtype = (uint16_t)ldns_rr_get_type(qr);
	}

	pthread_mutex_lock(&p->lock);
	p->total++;
	ts_mode_t mode = p->def_mode;
	*delay = p->def_delay;
	if (name[0] != '\0') {
		size_t i;
		for (i = 0; i < p->ncounts; i++) {
			if (p->counts[i].qtype == qtype &&
			    strcmp(p->counts[i].name, name) == 0) {
				break;
			}
		}
		if (i == p->ncounts) {
			counter_t *n = realloc(p->counts,
					       (i + 1) * sizeof(*n));
			if (n != NULL) {
				p->counts = n;
				strcpy(n[i].name, name);
				n[i].qtype = qtype;
				n[i].n = 0;
				p->ncounts++;
			}
		}
		if (i < p->ncounts) {
			p->counts[i].n++;
		}
		for (size_t r = 0; r < p->nrules; r++) {
			if (strcmp(p->rules[r].name, name) == 0) {
				mode = p->rules[r].mode;
				*delay = p->rules[r].delay_ms;
				break;
			}
		}
	}
	pthread_mutex_unlock(&p->lock);
	return mode;
}

/* An answer carrying only the question: SERVFAIL, REFUSED or TC=1. */
static int make_reply(const ldns_pkt *q, ldns_pkt_rcode rcode, bool tc,
		      uint8_t **wire, size_t *len)
{
	ldns_pkt *r = ldns_pkt_new();
	if (r == NULL) {
		return -1;
	}
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_cd(r, ldns_pkt_cd(q));
	ldns_pkt_set_aa(r, rcode == LDNS_RCODE_NOERROR);
	ldns_pkt_set_tc(r, tc);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_rr_list *qs = ldns_pkt_question(q);
	for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++) {
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
				 ldns_rr_clone(ldns_rr_list_rr(qs, i)));
	}
	int rc = ldns_pkt2wire(wire, r, len) == LDNS_STATUS_OK ? 0 : -1;
	ldns_pkt_free(r);
	return rc;
}

/* ---------------------------------------------------------------- UDP */

static void udp_reply(ts_proxy_t *p, const pending_t *to, const uint8_t *buf,
		      size_t len)
{
	sendto(p->udp, buf, len, MSG_DONTWAIT, (const struct sockaddr *)&to->client,
	       to->client_len);
}

static void forward_udp(ts_proxy_t *p, pending_t *e)
{
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in up = ts__loopback(p->upstream);
	if (e->fd < 0 ||
	    connect(e->fd, (struct sockaddr *)&up, sizeof(up)) != 0 ||
	    send(e->fd, e->query, e->query_len, 0) < 0) {
		/* Treated like a lost packet: the client retries. */
		if (e->fd >= 0) {
			close(e->fd);
		}
		e->fd = -1;
		e->when = 0;
	} else {
		e->when = ts_now_ms() + UPSTREAM_MS;
	}
	free(e->query);
	e->query = NULL;
}

static void drop_pending(ts_proxy_t *p, size_t i)
{
	pending_t *e = &p->pending[i];
	if (e->fd >= 0) {
		close(e->fd);
	}
	free(e->query);
	p->pending[i] = p->pending[--p->npending];
}

static void on_udp_query(ts_proxy_t *p)
{
	uint8_t buf[65536];
	pending_t e = { .fd = -1, .client_len = sizeof(e.client) };
	ssize_t n = recvfrom(p->udp, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&e.client, &e.client_len);
	if (n <= 0) {
		return;
	}
	ldns_pkt *q = NULL;
	if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK) {
		q = NULL;
	}
	unsigned delay = 0;
	ts_mode_t mode = classify(p, q, &delay);
	uint8_t *wire = NULL;
	size_t wlen = 0;

	switch (mode) {
	case TS_MODE_DROP:
		break;
	case TS_MODE_SERVFAIL:
	case TS_MODE_REFUSED:
	case TS_MODE_TRUNCATE:
		if (q != NULL &&
		    make_reply(q,
			       mode == TS_MODE_SERVFAIL  ? LDNS_RCODE_SERVFAIL
			       : mode == TS_MODE_REFUSED ? LDNS_RCODE_REFUSED
							 : LDNS_RCODE_NOERROR,
			       mode == TS_MODE_TRUNCATE, &wire, &wlen) == 0) {
			udp_reply(p, &e, wire, wlen);
		}
		free(wire);
		break;
	case TS_MODE_PASS:
	case TS_MODE_DELAY:
		if (p->npending == MAX_PENDING) {
			break;
		}
		e.query = malloc((size_t)n);
		if (e.query == NULL) {
			break;
		}
		memcpy(e.query, buf, (size_t)n);
		e.query_len = (size_t)n;
		if (mode == TS_MODE_DELAY && delay > 0) {
			e.when = ts_now_ms() + delay;
		} else {
			forward_udp(p, &e);
			if (e.fd < 0) {
				break;
			}
		}
		p->pending[p->npending++] = e;
		break;
	}
	ldns_pkt_free(q);
}

/* Release due delayed queries, expire lost ones; return the poll timeout. */
static int udp_timers(ts_proxy_t *p)
{
	int64_t now = ts_now_ms();
	int64_t next = -1;
	for (size_t i = 0; i < p->npending;) {
		pending_t *e = &p->pending[i];
		if (e->when <= now) {
			if (e->fd < 0) {
				forward_udp(p, e);
				if (e->fd < 0) {
					drop_pending(p, i);
					continue;
				}
			} else {
				drop_pending(p, i);
				continue;
			}
		}
		if (next < 0 || e->when < next) {
			next = e->when;
		}
		i++;
	}
	return next < 0 ? -1 : (int)(next > now ? next - now : 0);
}

/* ---------------------------------------------------------------- TCP */

/* Wait up to \a ms unless the proxy is stopping; false if stopping. */
static bool wait_or_stop(ts_proxy_t *p, int fd, int ms)
{
	struct pollfd pf[2] = { { .fd = p->stop[0], .events = POLLIN },
				{ .fd = fd, .events = POLLIN } };
	for (;;) {
		int rc = poll(pf, fd >= 0 ? 2 : 1, ms);
		if (rc < 0 && errno == EINTR) {
			continue;
		}
		return pf[0].revents == 0;
	}
}

static void tcp_handle(ts_proxy_t *p, int fd, const uint8_t *msg, size_t len)
{
	ldns_pkt *q = NULL;
	if (ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK) {
		q = NULL;
	}
	unsigned delay = 0;
	ts_mode_t mode = classify(p, q, &delay);
	uint8_t *wire = NULL;
	size_t wlen = 0;
	uint8_t *ans = NULL;
	int64_t deadline = ts_now_ms() + UPSTREAM_MS;

	switch (mode) {
	case TS_MODE_DROP:
		goto out;
	case TS_MODE_SERVFAIL:
	case TS_MODE_REFUSED:
		if (q == NULL ||
		    make_reply(q, mode == TS_MODE_SERVFAIL ? LDNS_RCODE_SERVFAIL
							   : LDNS_RCODE_REFUSED,
			       false, &wire, &wlen) != 0) {
			goto out;
		}
		break;
	case TS_MODE_DELAY:
		if (!wait_or_stop(p, -1, (int)delay)) {
			goto out;
		}
		deadline = ts_now_ms() + UPSTREAM_MS;
		/* fall through */
	case TS_MODE_TRUNCATE:
	case TS_MODE_PASS:
		ans = malloc(65535);
		if (ans == NULL || ts__tcp_exchange(p->upstream, msg, len, ans,
						    65535, &wlen,
						    deadline) != 0) {
			goto out;
		}
		break;
	}
	uint8_t hdr[2] = { (uint8_t)(wlen >> 8), (uint8_t)wlen };
	const uint8_t *body = ans != NULL ? ans : wire;
	deadline = ts_now_ms() + UPSTREAM_MS;
	if (ts__write_full(fd, hdr, 2, deadline) == 0) {
		ts__write_full(fd, body, wlen, deadline);
	}
out:
	free(ans);
	free(wire);
	ldns_pkt_free(q);
}

static void *tcp_main(void *arg)
{
	conn_t *c = arg;
	ts_proxy_t *p = c->p;
	uint8_t *msg = malloc(65535);
	while (msg != NULL && wait_or_stop(p, c->fd, -1)) {
		uint8_t hdr[2];
		/* A client that sent the length sends the rest promptly. */
		int64_t deadline = ts_now_ms() + UPSTREAM_MS;
		if (ts__read_full(c->fd, hdr, 2, deadline) != 0) {
			break;
		}
		size_t len = (size_t)hdr[0] << 8 | hdr[1];
		if (ts__read_full(c->fd, msg, len, deadline) != 0) {
			break;
		}
		tcp_handle(p, c->fd, msg, len);
	}
	free(msg);
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void on_tcp_accept(ts_proxy_t *p)
{
	int fd = accept4(p->tcp, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->p = p;
	c->fd = fd;
	if (pthread_create(&c->thread, NULL, tcp_main, c) != 0) {
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_lock(&p->lock);
	c->next = p->conns;
	p->conns = c;
	pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------- main */

static void *proxy_main(void *arg)
{
	ts_proxy_t *p = arg;
	struct pollfd pf[3 + MAX_PENDING];
	for (;;) {
		int timeout = udp_timers(p);
		pf[0] = (struct pollfd){ .fd = p->stop[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = p->udp, .events = POLLIN };
		pf[2] = (struct pollfd){ .fd = p->tcp, .events = POLLIN };
		for (size_t i = 0; i < p->npending; i++) {
			pf[3 + i] = (struct pollfd){
				.fd = p->pending[i].fd, .events = POLLIN
			};
		}
		size_t nfds = 3 + p->npending;
		if (poll(pf, nfds, timeout) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (pf[0].revents != 0) {
			break;
		}
		/* Answers first: indexes in pf match pending[] only until
		 * the list changes, so walk backwards. */
		for (size_t i = nfds - 3; i-- > 0;) {
			if (pf[3 + i].fd < 0 || pf[3 + i].revents == 0) {
				continue;
			}
			uint8_t buf[65536];
			ssize_t n = recv(p->pending[i].fd, buf, sizeof(buf),
					 MSG_DONTWAIT);
			if (n > 0) {
				udp_reply(p, &p->pending[i], buf, (size_t)n);
			}
			if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
				drop_pending(p, i);
			}
		}
		if (pf[1].revents & POLLIN) {
			on_udp_query(p);
		}
		if (pf[2].revents & POLLIN) {
			on_tcp_accept(p);
		}
	}
	while (p->npending > 0) {
		drop_pending(p, p->npending - 1);
	}
	return NULL;
}

ts_proxy_t *ts_proxy_start(int upstream_port)
{
	ts_proxy_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->upstream = upstream_port;
	p->udp = p->tcp = p->stop[0] = p->stop[1] = -1;
	pthread_mutex_init(&p->lock, NULL);
	p->port = ts__bind_pair(&p->udp, &p->tcp);
	if (p->port < 0 || listen(p->tcp, 64) != 0 ||
	    pipe2(p->stop, O_CLOEXEC) != 0) {
		goto fail;
	}
	fcntl(p->udp, F_SETFL, O_NONBLOCK);
	fcntl(p->tcp, F_SETFL, O_NONBLOCK);
	if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
		goto fail;
	}
	return p;
fail:
	fprintf(stderr, "ts_proxy_start: %s\n", strerror(errno));
	close(p->udp);
	close(p->tcp);
	close(p->stop[0]);
	close(p->stop[1]);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return NULL;
}

int ts_proxy_port(const ts_proxy_t *p)
{
	return p != NULL ? p->port : -1;
}

int ts_proxy_set_mode(ts_proxy_t *p, const char *name, ts_mode_t mode,
		      unsigned delay_ms)
{
	if (p == NULL || mode < TS_MODE_PASS || mode > TS_MODE_TRUNCATE) {
		return -1;
	}
	char canon[NAME_MAX_TXT];
	if (name != NULL && normalize(name, canon, sizeof(canon)) != 0) {
		return -1;
	}
	int rc = 0;
	pthread_mutex_lock(&p->lock);
	if (name == NULL) {
		p->def_mode = mode;
		p->def_delay = delay_ms;
		goto out;
	}
	size_t i;
	for (i = 0; i < p->nrules; i++) {
		if (strcmp(p->rules[i].name, canon) == 0) {
			break;
		}
	}
	if (i == p->nrules) {
		rule_t *r = realloc(p->rules, (i + 1) * sizeof(*r));
		if (r == NULL) {
			rc = -1;
			goto out;
		}
		p->rules = r;
		p->nrules++;
		strcpy(r[i].name, canon);
	}
	p->rules[i].mode = mode;
	p->rules[i].delay_ms = delay_ms;
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void ts_proxy_clear_modes(ts_proxy_t *p)
{
	pthread_mutex_lock(&p->lock);
	free(p->rules);
	p->rules = NULL;
	p->nrules = 0;
	p->def_mode = TS_MODE_PASS;
	p->def_delay = 0;
	pthread_mutex_unlock(&p->lock);
}

unsigned ts_proxy_count(ts_proxy_t *p, const char *name, uint16_t qtype)
{
	char canon[NAME_MAX_TXT];
	if (p == NULL || name == NULL ||
	    normalize(name, canon, sizeof(canon)) != 0) {
		return 0;
	}
	unsigned n = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->ncounts; i++) {
		if ((qtype == 0 || p->counts[i].qtype == qtype) &&
		    strcmp(p->counts[i].name, canon) == 0) {
			n += p->counts[i].n;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned ts_proxy_total(ts_proxy_t *p)
{
	pthread_mutex_lock(&p->lock);
	unsigned n = p->total;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void ts_proxy_reset_counts(ts_proxy_t *p)
{
	pthread_mutex_lock(&p->lock);
	p->total = 0;
	for (size_t i = 0; i < p->ncounts; i++) {
		p->counts[i].n = 0;
	}
	pthread_mutex_unlock(&p->lock);
}

void ts_proxy_stop(ts_proxy_t *p)
{
	if (p == NULL) {
		return;
	}
	/* The stop pipe stays readable: every thread polling it sees it. */
	if (write(p->stop[1], "x", 1) != 1) {
		perror("ts_proxy_stop");
	}
	pthread_join(p->thread, NULL);
	/* No new connection threads after the main thread ended. */
	conn_t *c = p->conns;
	while (c != NULL) {
		conn_t *next = c->next;
		shutdown(c->fd, SHUT_RDWR);
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
		c = next;
	}
	close(p->udp);
	close(p->tcp);
	close(p->stop[0]);
	close(p->stop[1]);
	free(p->rules);
	free(p->counts);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
