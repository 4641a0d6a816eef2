/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * TCP exchanges with the primary.  Blocking sockets would hang the
 * updater on a primary that accepts and never answers, so the socket is
 * non-blocking and every step polls against one deadline per exchange.
 * Messages are at most 65535 octets (the TCP length prefix), the only
 * buffer here.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsio.h"
#include "dnsloop.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The servers' parser (dnsloop.o), so "IP@PORT" means one thing in every
 * libaname tool. */
int upd_parse_addr(const char *text, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	return dnsloop_parse_addr(text, 53, ss, len);
}

void upd_conn_init(upd_conn_t *c, const struct sockaddr_storage *ss,
		   socklen_t len, const upd_key_t *key, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->addr = *ss;
	c->addrlen = len;
	c->key = key;
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
	}
	snprintf(c->peer, sizeof(c->peer), "%s@%u", ip, port);
}

void upd_conn_close(upd_conn_t *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static io_status_t set_err(upd_conn_t *c, io_status_t st, const char *fmt,
			   ...) __attribute__((format(printf, 3, 4)));

static io_status_t set_err(upd_conn_t *c, io_status_t st, const char *fmt,
			   ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "%s: %s", c->peer, msg);
	if (st == IO_DOWN || st == IO_TIMEOUT || st == IO_PROTO)
		upd_conn_close(c);
	return st;
}

static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = ev };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static io_status_t connect_now(upd_conn_t *c, int64_t deadline)
{
	if (c->fd >= 0)
		return IO_OK;
	int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
						   SOCK_CLOEXEC, 0);
	if (fd < 0)
		return set_err(c, IO_DOWN, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return set_err(c, IO_DOWN, "cannot connect: %s",
			       strerror(e));
	}
	int w = wait_fd(fd, POLLOUT, deadline), soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (w <= 0) {
		close(fd);
		return set_err(c, w == 0 ? IO_TIMEOUT : IO_DOWN,
			       "cannot connect: %s",
			       w == 0 ? "timed out" : strerror(errno));
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		close(fd);
		return set_err(c, IO_DOWN, "cannot connect: %s",
			       strerror(soerr));
	}
	c->fd = fd;
	return IO_OK;
}

/* Move all \a n octets to (\a out) or from the socket by the deadline. */
static io_status_t xfer(upd_conn_t *c, uint8_t *p, size_t n, int out,
			int64_t deadline)
{
	const char *what = out ? "send" : "recv";
	while (n > 0) {
		ssize_t k = out ? send(c->fd, p, n, MSG_NOSIGNAL) :
				  recv(c->fd, p, n, 0);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k == 0)
			return set_err(c, IO_DOWN, "%s",
				       "the primary closed the connection");
		if (errno != EAGAIN && errno != EINTR)
			return set_err(c, IO_DOWN, "%s: %s", what,
				       strerror(errno));
		int w = wait_fd(c->fd, out ? POLLOUT : POLLIN, deadline);
		if (w <= 0)
			return set_err(c, w == 0 ? IO_TIMEOUT : IO_DOWN,
				       "%s: %s", what,
				       w == 0 ? "no progress before the deadline" :
						strerror(errno));
	}
	return IO_OK;
}

static io_status_t send_msg(upd_conn_t *c, ldns_pkt *q, int64_t deadline)
{
	if (c->key) {
		ldns_status s = ldns_pkt_tsig_sign(q, c->key->name,
						   c->key->secret, 300,
						   c->key->algorithm, NULL);
		if (s != LDNS_STATUS_OK)
			return set_err(c, IO_TSIG, "cannot sign: %s",
				       ldns_get_errorstr_by_id(s));
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	if (ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK || len > 65535) {
		free(wire);
		return set_err(c, IO_PROTO, "%s",
			       "message does not fit 65535 octets");
	}
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	io_status_t st = connect_now(c, deadline);
	if (st == IO_OK)
		st = xfer(c, hdr, 2, 1, deadline);
	if (st == IO_OK)
		st = xfer(c, wire, len, 1, deadline);
	free(wire);
	return st;
}

/* Read one framed message, parse it, check its id and (with a key) its
 * TSIG against \a mac: the request's MAC for the first reply, the previous
 * message's for later AXFR messages (then timers_only, RFC 8945 5.3.1). */
/* Which request a reply answers: its MAC (NULL when unsigned) through
 * \a mac, or -1 for an id we never sent. */

static io_status_t read_msg_raw(upd_conn_t *c, upd_match_fn match,
				void *marg, int timers_only, int64_t deadline,
				ldns_pkt **out, uint8_t **raw, size_t *rawlen);

static io_status_t read_msg(upd_conn_t *c, upd_match_fn match, void *marg,
			    int timers_only, int64_t deadline, ldns_pkt **out)
{
	return read_msg_raw(c, match, marg, timers_only, deadline, out, NULL,
			    NULL);
}

/* As read_msg(), and with \a raw a malloc'd copy of the message's wire. */
static io_status_t read_msg_raw(upd_conn_t *c, upd_match_fn match,
				void *marg, int timers_only, int64_t deadline,
				ldns_pkt **out, uint8_t **raw, size_t *rawlen)
{
	const ldns_rdf *mac = NULL;
	static __thread uint8_t buf[65535];
	uint8_t hdr[2];
	*out = NULL;
	io_status_t st = xfer(c, hdr, 2, 0, deadline);
	if (st != IO_OK)
		return st;
	size_t len = (size_t)hdr[0] << 8 | hdr[1];
	if (len < 12)
		return set_err(c, IO_PROTO, "%s", "runt reply");
	st = xfer(c, buf, len, 0, deadline);
	if (st != IO_OK)
		return st;
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, buf, len) != LDNS_STATUS_OK)
		return set_err(c, IO_PROTO, "%s", "unparsable reply");
	if (match(marg, ldns_pkt_id(p), &mac) != 0) {
		ldns_pkt_free(p);
		return set_err(c, IO_PROTO, "%s", "reply with a wrong id");
	}
	c->rcode = ldns_pkt_get_rcode(p);
	if (c->key) {
		ldns_rr *tsig = ldns_pkt_tsig(p);
		if (!tsig || ldns_rr_rd_count(tsig) < 6) {
			/* An unsigned error reply proves nothing, but it only
			 * ever stops us, so its rcode is worth reporting
			 * (Knot answers a zone it lacks with unsigned
			 * NOTAUTH). */
			if (c->rcode != LDNS_RCODE_NOERROR) {
				*out = p;
				return IO_OK;
			}
			ldns_pkt_free(p);
			return set_err(c, IO_TSIG, "%s",
				       "the reply is not signed");
		}
		uint16_t terr = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
		if (terr != 0) {
			c->rcode = terr;
			ldns_pkt_free(p);
			return set_err(c, IO_TSIG, "TSIG error %s",
				       upd_rcode_name(terr));
		}
		bool ok = timers_only ?
				  ldns_pkt_tsig_verify_next(p, buf, len,
							    c->key->name,
							    c->key->secret,
							    mac, 1) :
				  ldns_pkt_tsig_verify(p, buf, len,
						       c->key->name,
						       c->key->secret, mac);
		if (!ok) {
			ldns_pkt_free(p);
			return set_err(c, IO_TSIG, "%s",
				       "the reply's TSIG does not verify");
		}
	}
	if (raw) {
		if (!(*raw = malloc(len))) {
			ldns_pkt_free(p);
			return set_err(c, IO_PROTO, "%s", "out of memory");
		}
		memcpy(*raw, buf, len);
		*rawlen = len;
	}
	*out = p;
	return IO_OK;
}

static const ldns_rdf *mac_of(const ldns_pkt *p)
{
	ldns_rr *t = ldns_pkt_tsig(p);
	return t && ldns_rr_rd_count(t) > 3 ? ldns_rr_rdf(t, 3) : NULL;
}

typedef struct {
	uint16_t id;
	const ldns_rdf *mac;
} one_t;

static int match_one(void *arg, uint16_t id, const ldns_rdf **mac)
{
	one_t *o = arg;
	*mac = o->mac;
	return id == o->id ? 0 : -1;
}

io_status_t upd_send(upd_conn_t *c, ldns_pkt *q)
{
	/* Consecutive ids: unique among the outstanding requests of a window
	 * (random ones collide: 32 of 65536 meet within a few windows).  TCP
	 * plus TSIG, not the id, is what makes a reply authentic. */
	if (c->next_id == 0)
		c->next_id = (uint16_t)(ldns_get_random() | 1);
	ldns_pkt_set_id(q, c->next_id++);
	ldns_rr_free(ldns_pkt_tsig(q));
	ldns_pkt_set_tsig(q, NULL);
	return send_msg(c, q, now_ms() + c->timeout_ms);
}

const ldns_rdf *upd_request_mac(const ldns_pkt *q)
{
	return mac_of(q);
}

/* A verified reply: IO_OK for NOERROR, else IO_RCODE naming the rcode. */
static io_status_t rcode_status(upd_conn_t *c)
{
	if (c->rcode == LDNS_RCODE_NOERROR)
		return IO_OK;
	snprintf(c->err, sizeof(c->err), "%s: %s", c->peer,
		 upd_rcode_name(c->rcode));
	return IO_RCODE;
}

io_status_t upd_recv(upd_conn_t *c, upd_match_fn match, void *arg,
		     ldns_pkt **reply)
{
	io_status_t st = read_msg(c, match, arg, 0, now_ms() + c->timeout_ms,
				  reply);
	return st == IO_OK ? rcode_status(c) : st;
}

io_status_t upd_exchange(upd_conn_t *c, ldns_pkt *q, ldns_pkt **reply)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	*reply = NULL;
	/* A reused connection may have been closed by the primary while we
	 * were idle: one retry on a fresh connection.  Only queries come this
	 * way (UPDATEs go through upd_send/upd_recv and are never resent), so
	 * repeating one is harmless. */
	for (int attempt = 0;; attempt++) {
		int reused = c->fd >= 0;
		ldns_pkt_set_random_id(q);
		ldns_rr_free(ldns_pkt_tsig(q));
		ldns_pkt_set_tsig(q, NULL);
		io_status_t st = send_msg(c, q, deadline);
		one_t one = { ldns_pkt_id(q), mac_of(q) };
		if (st == IO_OK)
			st = read_msg(c, match_one, &one, 0, deadline, reply);
		if (st == IO_DOWN && reused && attempt == 0 &&
		    !strstr(c->err, "send:")) {
			upd_conn_close(c);
			continue;
		}
		return st == IO_OK ? rcode_status(c) : st;
	}
}

io_status_t upd_soa_serial(upd_conn_t *c, const char *zone, uint32_t *serial)
{
	ldns_rdf *name = ldns_dname_new_frm_str(zone);
	if (!name)
		return set_err(c, IO_PROTO, "bad zone name %s", zone);
	ldns_pkt *q = ldns_pkt_query_new(name, LDNS_RR_TYPE_SOA,
					 LDNS_RR_CLASS_IN, 0);
	ldns_pkt *r = NULL;
	io_status_t st = upd_exchange(c, q, &r);
	ldns_pkt_free(q);
	if (st != IO_OK) {
		ldns_pkt_free(r);
		return st;
	}
	ldns_rr_list *an = ldns_pkt_answer(r);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) >= 3) {
			*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			ldns_pkt_free(r);
			return IO_OK;
		}
	}
	ldns_pkt_free(r);
	return set_err(c, IO_RCODE, "no SOA for %s (not authoritative?)",
		       zone);
}

/* One message of a transfer, kept as wire until the transfer is done. */
typedef struct frame {
	struct frame *next;
	size_t len;
	uint8_t wire[];
} frame_t;

/* Phase 2: parse the kept messages and hand every RR but the closing SOA
 * to \a fn. */
static io_status_t scan_frames(upd_conn_t *c, frame_t *f, upd_rr_fn fn,
			       void *arg)
{
	int soas = 0;
	for (; f && soas < 2; f = f->next) {
		ldns_pkt *p = NULL;
		if (ldns_wire2pkt(&p, f->wire, f->len) != LDNS_STATUS_OK)
			return set_err(c, IO_PROTO, "%s", "unparsable AXFR");
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
			    ++soas == 2)
				break;
			if (fn(arg, rr) != 0) {
				ldns_pkt_free(p);
				return set_err(c, IO_PROTO, "%s",
					       "out of memory reading AXFR");
			}
		}
		ldns_pkt_free(p);
	}
	return IO_OK;
}

io_status_t upd_axfr(upd_conn_t *c, const char *zone, upd_rr_fn fn,
		     void *arg, uint32_t *serial)
{
	/* Phase 1 reads and verifies every message as fast as it arrives and
	 * keeps only its wire (about the zone's wire size): a primary gives
	 * up on a reader that stalls (Knot's tcp-io-timeout is 500 ms), and
	 * scanning a large zone message by message can stall that long on a
	 * slow host.  The deadline counts from each message, so a primary
	 * that keeps sending is never cut off. */
	ldns_rdf *name = ldns_dname_new_frm_str(zone);
	if (!name)
		return set_err(c, IO_PROTO, "bad zone name %s", zone);
	ldns_pkt *q = ldns_pkt_query_new(name, LDNS_RR_TYPE_AXFR,
					 LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_random_id(q);
	/* Fresh connection: a transfer leaves nothing queued behind it. */
	upd_conn_close(c);
	io_status_t st = send_msg(c, q, now_ms() + c->timeout_ms);
	ldns_rdf *mac = mac_of(q) ? ldns_rdf_clone(mac_of(q)) : NULL;
	frame_t *head = NULL, **tail = &head;
	int soas = 0;
	c->axfr_msgs = 0;
	for (unsigned msgs = 0; st == IO_OK && soas < 2; msgs++) {
		if (msgs >= UPD_AXFR_MAX_MSGS) {
			st = set_err(c, IO_PROTO, "%s",
				     "transfer over the message limit");
			break;
		}
		one_t one = { ldns_pkt_id(q), mac };
		ldns_pkt *p = NULL;
		uint8_t *raw = NULL;
		size_t rawlen = 0;
		st = read_msg_raw(c, match_one, &one, msgs > 0,
				  now_ms() + c->timeout_ms, &p, &raw, &rawlen);
		if (st != IO_OK)
			break;
		c->axfr_msgs = msgs + 1;
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR) {
			snprintf(c->err, sizeof(c->err),
				 "%s: AXFR of %s refused: %s", c->peer, zone,
				 upd_rcode_name(ldns_pkt_get_rcode(p)));
			st = IO_RCODE;
		}
		ldns_rdf_deep_free(mac);
		mac = mac_of(p) ? ldns_rdf_clone(mac_of(p)) : NULL;
		ldns_rr_list *an = ldns_pkt_answer(p);
		size_t n = ldns_rr_list_rr_count(an);
		if (st == IO_OK && msgs == 0 &&
		    (n == 0 ||
		     ldns_rr_get_type(ldns_rr_list_rr(an, 0)) != LDNS_RR_TYPE_SOA))
			st = set_err(c, IO_PROTO, "%s",
				     "AXFR does not start with SOA");
		for (size_t i = 0; st == IO_OK && i < n && soas < 2; i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
				continue;
			if (++soas == 1 && ldns_rr_rd_count(rr) >= 3)
				*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
		}
		ldns_pkt_free(p);
		frame_t *f = st == IO_OK ? malloc(sizeof(*f) + rawlen) : NULL;
		if (st == IO_OK && !f)
			st = set_err(c, IO_PROTO, "%s", "out of memory");
		if (f) {
			f->next = NULL;
			f->len = rawlen;
			memcpy(f->wire, raw, rawlen);
			*tail = f;
			tail = &f->next;
		}
		free(raw);
	}
	upd_conn_close(c);
	if (st == IO_OK)
		st = scan_frames(c, head, fn, arg);
	while (head) {
		frame_t *f = head;
		head = f->next;
		free(f);
	}
	ldns_rdf_deep_free(mac);
	ldns_pkt_free(q);
	return st;
}

const char *upd_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14",
		"RCODE15", "BADSIG", "BADKEY", "BADTIME",
	};
	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	return "unknown rcode";
}
