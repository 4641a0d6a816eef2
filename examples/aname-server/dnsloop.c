/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * dnsloop: sockets, epoll loops, TCP connections and deferred queries for
 * the example servers (see dnsloop.h for the contract).
 *
 * One loop per worker thread.  Each worker has its own UDP and TCP sockets
 * (SO_REUSEPORT when there are several workers) so the kernel spreads
 * clients and no socket is shared.  Deferred queries belong to the worker
 * that received them: an answer produced on another thread (the library's,
 * in thread mode) is queued to that worker and sent from there, so TCP
 * connections are only ever touched by their own thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "dnsloop.h"

#define UDP_BATCH 32
#define UDP_ROUNDS 4           /* batches per wakeup, for fairness */
#define UDP_QBUF 4096
#define TCP_RBUF (2 + DNS_MAX_MSG)
#define EXPIRE_GRACE_MS 100    /* the library's own deadline comes first */
/* The per-connection TCP output bounds (documented in dnsloop.h). */
#define TCP_OUT_PAUSE (64u * 1024)
#define TCP_OUT_CONN_MAX (256u * 1024)
#define TCP_PENDING_PAUSE 32u

enum kind { K_UDP, K_TCPL, K_CONN, K_WAKE, K_LIB, K_SIG };

struct handle {
	enum kind kind;
	int fd;
};

struct obuf {
	struct obuf *next;
	size_t len, off;
	uint8_t data[];
};

struct conn {
	struct handle h;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	uint8_t *rbuf;
	size_t rlen;
	struct obuf *oq_head, *oq_tail;
	size_t oq_bytes;      /* unsent output queued here */
	unsigned refs;        /* 1 while open, +1 per deferred query */
	unsigned pending;
	int closed;
	int want_out;
	int paused;           /* not read: output or queries at the bound */
	uint64_t last_ms;
	struct conn *prev, *next;   /* activity order, oldest first */
};

struct kreq {
	dnsloop_req_t req;          /* first: dnsloop_req_t * <-> kreq * */
	struct sockaddr_storage peer;
	dnsloop_t *loop;
	int udpfd;
	struct conn *conn;
	uint64_t deadline;
	int timed;                  /* in the deadline list */
	struct kreq *tprev, *tnext;
	struct kreq *qnext;         /* completion queue */
	uint8_t *resp;
	size_t resplen;
};

/* Counters, written by one worker, read by the metrics thread. */
#define LOOP_STATS(XX)                                                      \
	XX(queries_udp, "queries received over UDP")                        \
	XX(queries_tcp, "queries received over TCP")                        \
	XX(dropped, "malformed or unanswerable datagrams dropped")          \
	XX(deferred, "queries deferred until a resolution finished")       \
	XX(expired, "deferred queries answered SERVFAIL at the deadline")   \
	XX(truncated, "UDP responses sent with TC set")                     \
	XX(tcp_accepted, "TCP connections accepted")                        \
	XX(tcp_rejected, "TCP connections closed at the connection limit")  \
	XX(tcp_idle_closed, "TCP connections closed when idle")             \
	XX(tcp_paused, "times a TCP connection stopped being read: unsent output or queries in flight at its bound") \
	XX(tcp_overflow_closed, "TCP connections closed: unsent output would pass its bound") \
	XX(send_errors, "responses that could not be sent")

struct loop_stats {
#define XX(name, help) uint64_t name;
	LOOP_STATS(XX)
#undef XX
	uint64_t rcode[6];          /* NOERROR..REFUSED; others not counted */
};

#define STAT_ADD(l, f, n)                                                   \
	__atomic_store_n(&(l)->st.f,                                        \
			 __atomic_load_n(&(l)->st.f, __ATOMIC_RELAXED) + (n),\
			 __ATOMIC_RELAXED)

struct dnsloop {
	dnsloop_srv_t *srv;
	unsigned idx;
	pthread_t tid;
	int ep;
	struct handle wake;
	struct handle lib;
	struct handle sig;
	struct handle *udp;         /* nlisten each */
	struct handle *tcpl;
	struct kreq *thead, *ttail; /* deadlines, FIFO = sorted */
	pthread_mutex_t qmu;
	struct kreq *qhead;         /* answers from other threads */
	struct conn *chead, *ctail;
	struct conn *dead;          /* closed, freed after the event batch */
	unsigned nconn;
	unsigned conn_max;
	unsigned npaused;
	size_t out_bytes;           /* unsent TCP output of this worker */
	size_t out_max;             /* its bound: tcp_out_max / threads */
	uint8_t *tcpbuf;            /* scratch for TCP responses */
	struct loop_stats st;
};

struct dnsloop_srv {
	dnsloop_opts_t o;
	dnsloop_t *loops;
	int stop;
};

/* The worker and transport of the query handle() is answering. */
static __thread struct {
	dnsloop_t *loop;
	int udpfd;
	struct conn *conn;
} cur;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int dnsloop_parse_addr(const char *s, unsigned defport,
		       struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *at = strrchr(s, '@');
	size_t hl = at ? (size_t)(at - s) : strlen(s);
	unsigned long port = defport;
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (at) {
		char *end;
		errno = 0;
		port = strtoul(at + 1, &end, 10);
		if (at[1] == '\0' || *end != '\0' || errno || port == 0 ||
		    port > 65535)
			return -1;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
		return 0;
	}
	return -1;
}

void dnsloop_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------ sockets */

static int open_socket(const char *spec, int tcp, int reuseport, char *err,
		       size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (dnsloop_parse_addr(spec, 53, &ss, &sl) != 0) {
		snprintf(err, errlen, "bad listen address '%s' (want IP@PORT)",
			 spec);
		return -1;
	}
	int fd = socket(ss.ss_family,
			(tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	int one = 1;
	if (tcp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (!tcp) {
		/* Absorb bursts while a reload or a slow client holds us. */
		int sz = 1 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
		goto fail;
	if (tcp && listen(fd, 128) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s %s: %s", tcp ? "TCP" : "UDP", spec,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int ep_add(dnsloop_t *l, struct handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, h->fd, &ev);
}

static void loop_close(dnsloop_t *l)
{
	const dnsloop_opts_t *o = &l->srv->o;
	for (size_t i = 0; l->udp && i < o->nlisten; i++) {
		if (l->udp[i].fd >= 0)
			close(l->udp[i].fd);
		if (l->tcpl[i].fd >= 0)
			close(l->tcpl[i].fd);
	}
	free(l->udp);
	free(l->tcpl);
	l->udp = l->tcpl = NULL;
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake.fd >= 0)
		close(l->wake.fd);
	if (l->sig.fd >= 0)
		close(l->sig.fd);
	free(l->tcpbuf);
	l->tcpbuf = NULL;
}

static int loop_init(dnsloop_srv_t *srv, dnsloop_t *l, unsigned idx,
		     char *err, size_t errlen)
{
	const dnsloop_opts_t *o = &srv->o;
	l->srv = srv;
	l->idx = idx;
	l->ep = l->wake.fd = l->sig.fd = -1;
	pthread_mutex_init(&l->qmu, NULL);
	l->conn_max = o->tcp_max / o->threads;
	l->out_max = (o->tcp_out_max ? o->tcp_out_max : DNSLOOP_TCP_OUT_MAX) /
		     o->threads;
	if (l->out_max < 2 * TCP_OUT_CONN_MAX)
		l->out_max = 2 * TCP_OUT_CONN_MAX;
	if (l->conn_max == 0)
		l->conn_max = 1;
	l->udp = calloc(o->nlisten, sizeof(*l->udp));
	l->tcpl = calloc(o->nlisten, sizeof(*l->tcpl));
	l->tcpbuf = malloc(2 + DNS_MAX_MSG);
	if (!l->udp || !l->tcpl || !l->tcpbuf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < o->nlisten; i++)
		l->udp[i].fd = l->tcpl[i].fd = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake.kind = K_WAKE;
	l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->ep < 0 || l->wake.fd < 0 || ep_add(l, &l->wake, EPOLLIN)) {
		snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		return -1;
	}
	int rp = o->threads > 1;
	for (size_t i = 0; i < o->nlisten; i++) {
		l->udp[i].kind = K_UDP;
		l->udp[i].fd = open_socket(o->listen[i], 0, rp, err, errlen);
		if (l->udp[i].fd < 0)
			return -1;
		l->tcpl[i].kind = K_TCPL;
		l->tcpl[i].fd = open_socket(o->listen[i], 1, rp, err, errlen);
		if (l->tcpl[i].fd < 0)
			return -1;
		if (ep_add(l, &l->udp[i], EPOLLIN) ||
		    ep_add(l, &l->tcpl[i], EPOLLIN)) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
	}
	if (idx == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		l->sig.kind = K_SIG;
		l->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		if (l->sig.fd < 0 || ep_add(l, &l->sig, EPOLLIN)) {
			snprintf(err, errlen, "signalfd: %s", strerror(errno));
			return -1;
		}
		if (o->event_mode) {
			l->lib.kind = K_LIB;
			l->lib.fd = aname_fd(o->ctx);
			if (l->lib.fd < 0 || ep_add(l, &l->lib, EPOLLIN)) {
				snprintf(err, errlen, "library fd: %s",
					 aname_strerror(l->lib.fd));
				return -1;
			}
		}
	}
	return 0;
}

dnsloop_srv_t *dnsloop_srv_new(const dnsloop_opts_t *opts, char *err,
			       size_t errlen)
{
	if (opts->threads < 1 || opts->nlisten < 1 ||
	    (opts->event_mode && opts->threads != 1)) {
		snprintf(err, errlen, "need >= 1 listen address and thread; "
				      "event-loop mode needs 1 thread");
		return NULL;
	}
	dnsloop_srv_t *srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->loops = calloc(opts->threads, sizeof(dnsloop_t)))) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->o = *opts;
	for (unsigned i = 0; i < opts->threads; i++) {
		if (loop_init(srv, &srv->loops[i], i, err, errlen) != 0) {
			for (unsigned j = 0; j <= i; j++)
				loop_close(&srv->loops[j]);
			free(srv->loops);
			free(srv);
			return NULL;
		}
	}
	return srv;
}

/* ------------------------------------------------------------ stats */

static void count_response(dnsloop_t *l, const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_LEN)
		return;
	unsigned rc = msg[3] & 0xf;
	if (rc < 6)
		STAT_ADD(l, rcode[rc], 1);
	if (msg[2] & (DNS_FLAG_TC >> 8))
		STAT_ADD(l, truncated, 1);
}

int dnsloop_srv_metrics(dnsloop_srv_t *srv, const char *prefix, char *buf,
			size_t len)
{
	static const char *const rcname[6] = { "NOERROR", "FORMERR",
		"SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	struct loop_stats sum = { 0 };
	size_t out = 0;
	for (unsigned i = 0; i < srv->o.threads; i++) {
		struct loop_stats *s = &srv->loops[i].st;
#define XX(name, help) sum.name += __atomic_load_n(&s->name, __ATOMIC_RELAXED);
		LOOP_STATS(XX)
#undef XX
		for (int r = 0; r < 6; r++)
			sum.rcode[r] += __atomic_load_n(&s->rcode[r],
							__ATOMIC_RELAXED);
		out += __atomic_load_n(&srv->loops[i].out_bytes,
				       __ATOMIC_RELAXED);
	}
	size_t n = 0;
#define PUT(...)                                                             \
	do {                                                                 \
		int k_ = snprintf(buf + (n < len ? n : len),                 \
				  n < len ? len - n : 0, __VA_ARGS__);       \
		if (k_ > 0)                                                  \
			n += (size_t)k_;                                     \
	} while (0)
#define XX(name, help)                                                       \
	PUT("# HELP %s_" #name "_total " help "\n# TYPE %s_" #name           \
	    "_total counter\n%s_" #name "_total %llu\n",                     \
	    prefix, prefix, prefix, (unsigned long long)sum.name);
	LOOP_STATS(XX)
#undef XX
	PUT("# HELP %s_responses_total responses sent, by rcode\n"
	    "# TYPE %s_responses_total counter\n", prefix, prefix);
	for (int r = 0; r < 6; r++)
		PUT("%s_responses_total{rcode=\"%s\"} %llu\n", prefix,
		    rcname[r], (unsigned long long)sum.rcode[r]);
	PUT("# HELP %s_tcp_output_bytes unsent TCP output queued\n"
	    "# TYPE %s_tcp_output_bytes gauge\n%s_tcp_output_bytes %zu\n",
	    prefix, prefix, prefix, out);
#undef PUT
	return (int)n;
}

/* ------------------------------------------------------------ TCP */

static void conn_touch(dnsloop_t *l, struct conn *c)
{
	c->last_ms = now_ms();
	if (l->ctail == c)
		return;
	/* unlink */
	if (c->prev)
		c->prev->next = c->next;
	else if (l->chead == c)
		l->chead = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* append */
	c->prev = l->ctail;
	c->next = NULL;
	if (l->ctail)
		l->ctail->next = c;
	else
		l->chead = c;
	l->ctail = c;
}

/* One connection's unsent output went from \a c_old to \a c_new bytes:
 * update the worker's total.  One writer (the worker); the metrics thread
 * reads it. */
static void out_add(dnsloop_t *l, size_t c_old, size_t c_new)
{
	size_t v = __atomic_load_n(&l->out_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&l->out_bytes, v - c_old + c_new, __ATOMIC_RELAXED);
}

static void conn_drop_output(dnsloop_t *l, struct conn *c)
{
	while (c->oq_head) {
		struct obuf *o = c->oq_head;
		c->oq_head = o->next;
		free(o);
	}
	c->oq_tail = NULL;
	out_add(l, c->oq_bytes, 0);
	c->oq_bytes = 0;
}

/*
 * Release a reference.  The last one does not free the connection at once:
 * an event for it may still wait later in the current epoll_wait() batch
 * (the connection limit closes another connection than the one being
 * served), so it goes to the dead list, emptied after the batch.
 */
static void conn_unref(dnsloop_t *l, struct conn *c)
{
	if (--c->refs > 0)
		return;
	c->next = l->dead;
	l->dead = c;
}

static void conn_free_dead(dnsloop_t *l)
{
	while (l->dead) {
		struct conn *c = l->dead;
		l->dead = c->next;
		free(c->rbuf);
		free(c);
	}
}

/* Which events the connection waits for: reading unless paused, writing
 * while output is queued.  Errors and hang-ups are always reported. */
static void conn_events(dnsloop_t *l, struct conn *c)
{
	struct epoll_event ev = {
		.events = (c->paused ? 0u : EPOLLIN) |
			  (c->want_out ? EPOLLOUT : 0u),
		.data.ptr = &c->h
	};
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->h.fd, &ev);
}

static void conn_close(dnsloop_t *l, struct conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->h.fd, NULL);
	close(c->h.fd);
	c->h.fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->chead = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->ctail = c->prev;
	c->prev = c->next = NULL;
	if (c->paused)
		l->npaused--;
	l->nconn--;
	conn_drop_output(l, c);
	conn_unref(l, c);
}

static void conn_want_out(dnsloop_t *l, struct conn *c, int on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	conn_events(l, c);
}

/* Should the connection stop being read?  Its own unsent output or
 * queries in flight at their bound, or the worker's output at half its
 * bound (the other half absorbs answers still in flight). */
static int conn_at_bound(const dnsloop_t *l, const struct conn *c)
{
	return c->oq_bytes >= TCP_OUT_PAUSE || c->pending >= TCP_PENDING_PAUSE ||
	       l->out_bytes >= l->out_max / 2;
}

static void conn_pause(dnsloop_t *l, struct conn *c)
{
	if (c->paused)
		return;
	c->paused = 1;
	l->npaused++;
	STAT_ADD(l, tcp_paused, 1);
	conn_events(l, c);
}

/* Flush queued output; returns -1 if the connection died. */
static int conn_flush(dnsloop_t *l, struct conn *c)
{
	while (c->oq_head) {
		struct obuf *o = c->oq_head;
		ssize_t w = send(c->h.fd, o->data + o->off, o->len - o->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_want_out(l, c, 1);
				return 0;
			}
			if (errno == EINTR)
				continue;
			STAT_ADD(l, send_errors, 1);
			conn_close(l, c);
			return -1;
		}
		/* Progress: a slow reader is not idle, a stuck one is. */
		conn_touch(l, c);
		o->off += (size_t)w;
		out_add(l, c->oq_bytes, c->oq_bytes - (size_t)w);
		c->oq_bytes -= (size_t)w;
		if (o->off < o->len)
			continue;
		c->oq_head = o->next;
		if (!c->oq_head)
			c->oq_tail = NULL;
		free(o);
	}
	conn_want_out(l, c, 0);
	return 0;
}

/*
 * Send a response with its length prefix: straight to the socket when
 * nothing is queued, the rest queued.  Output that would pass the
 * connection's or the worker's bound closes the connection instead: its
 * client is not reading (reading stops well before, see conn_at_bound(),
 * so only answers already in flight can get here).
 */
static void conn_send(dnsloop_t *l, struct conn *c, const uint8_t *msg,
		      size_t len)
{
	if (c->closed || len == 0 || len > DNS_MAX_MSG)
		return;
	count_response(l, msg, len);
	uint8_t pre[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	size_t sent = 0;
	conn_touch(l, c);
	if (!c->oq_head) {
		struct iovec iov[2] = { { pre, 2 }, { (void *)msg, len } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w;
		do
			w = sendmsg(c->h.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			STAT_ADD(l, send_errors, 1);
			conn_close(l, c);
			return;
		}
		if (w > 0)
			sent = (size_t)w;
		if (sent == 2 + len)
			return;
	}
	size_t rest = 2 + len - sent;
	if (c->oq_bytes + rest > TCP_OUT_CONN_MAX ||
	    l->out_bytes + rest > l->out_max) {
		STAT_ADD(l, tcp_overflow_closed, 1);
		conn_close(l, c);
		return;
	}
	struct obuf *o = malloc(sizeof(*o) + rest);
	if (!o) {
		STAT_ADD(l, send_errors, 1);
		conn_close(l, c);   /* a lost answer would desync the client */
		return;
	}
	o->next = NULL;
	o->off = 0;
	o->len = rest;
	if (sent < 2)
		memcpy(o->data, pre + sent, 2 - sent);
	size_t moff = sent < 2 ? 0 : sent - 2;
	memcpy(o->data + (sent < 2 ? 2 - sent : 0), msg + moff, len - moff);
	if (c->oq_tail)
		c->oq_tail->next = o;
	else
		c->oq_head = o;
	c->oq_tail = o;
	out_add(l, c->oq_bytes, c->oq_bytes + rest);
	c->oq_bytes += rest;
	conn_want_out(l, c, 1);
}

static size_t handle_msg(dnsloop_t *l, dnsloop_req_t *req, const uint8_t *msg,
			 size_t len, uint8_t *out, size_t cap);

/* Answer the complete messages in the read buffer while the connection is
 * within its bounds; the rest waits there (conn_resume()). */
static void conn_process(dnsloop_t *l, struct conn *c)
{
	size_t off = 0;
	while (c->rlen - off >= 2) {
		size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
		if (mlen == 0) {
			conn_close(l, c);
			return;
		}
		if (c->rlen - off < 2 + mlen)
			break;
		if (conn_at_bound(l, c)) {
			conn_pause(l, c);
			break;
		}
		dnsloop_req_t req = {
			.peer = (struct sockaddr *)&c->peer,
			.peerlen = c->peerlen,
			.tcp = 1,
		};
		STAT_ADD(l, queries_tcp, 1);
		cur.conn = c;
		cur.udpfd = -1;
		size_t n = handle_msg(l, &req, c->rbuf + off + 2, mlen,
				      l->tcpbuf, DNS_MAX_MSG);
		cur.conn = NULL;
		off += 2 + mlen;
		if (n != DNSLOOP_DROP && n != DNSLOOP_DEFERRED)
			conn_send(l, c, l->tcpbuf, n);
		if (c->closed)
			return;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void conn_read(dnsloop_t *l, struct conn *c)
{
	/* A full buffer always holds a complete message (TCP_RBUF is the
	 * largest), so it is only full here while paused. */
	while (!c->closed && !c->paused && c->rlen < TCP_RBUF) {
		ssize_t r = recv(c->h.fd, c->rbuf + c->rlen,
				 TCP_RBUF - c->rlen, 0);
		if (r == 0) {
			conn_close(l, c);
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(l, c);
			return;
		}
		c->rlen += (size_t)r;
		conn_touch(l, c);
		conn_process(l, c);
	}
}

/* Read again the paused connections that are back within their bounds,
 * answering what already waits in their buffers first. */
static void conn_resume(dnsloop_t *l)
{
	struct conn *c = l->chead;
	unsigned left = l->npaused;
	while (c && left > 0 && l->npaused > 0) {
		struct conn *next = c->next;
		if (c->paused) {
			left--;
			if (!conn_at_bound(l, c)) {
				c->paused = 0;
				l->npaused--;
				conn_events(l, c);
				conn_process(l, c);
			}
		}
		c = next;
	}
}

/* Make room at the connection limit by closing the longest-idle
 * connection that has nothing in flight. */
static int conn_evict(dnsloop_t *l)
{
	for (struct conn *c = l->chead; c; c = c->next) {
		if (c->pending == 0 && !c->oq_head) {
			conn_close(l, c);
			STAT_ADD(l, tcp_rejected, 1);
			return 0;
		}
	}
	return -1;
}

static void tcp_accept(dnsloop_t *l, struct handle *h)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(h->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (l->nconn >= l->conn_max && conn_evict(l) != 0) {
			STAT_ADD(l, tcp_rejected, 1);
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (c)
			c->rbuf = malloc(TCP_RBUF);
		if (!c || !c->rbuf) {
			free(c);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->h.kind = K_CONN;
		c->h.fd = fd;
		c->peer = ss;
		c->peerlen = sl;
		c->refs = 1;
		if (ep_add(l, &c->h, EPOLLIN) != 0) {
			close(fd);
			free(c->rbuf);
			free(c);
			continue;
		}
		l->nconn++;
		c->prev = l->ctail;
		if (l->ctail)
			l->ctail->next = c;
		else
			l->chead = c;
		l->ctail = c;
		c->last_ms = now_ms();
		STAT_ADD(l, tcp_accepted, 1);
	}
}

static void conn_idle(dnsloop_t *l, uint64_t now)
{
	unsigned idle = l->srv->o.tcp_idle_ms;
	struct conn *c = l->chead;
	while (c && c->last_ms + idle <= now) {
		struct conn *next = c->next;
		if (c->pending == 0) {
			conn_close(l, c);
			STAT_ADD(l, tcp_idle_closed, 1);
		}
		c = next;
	}
}

/* ------------------------------------------------------------ queries */

static size_t handle_msg(dnsloop_t *l, dnsloop_req_t *req, const uint8_t *msg,
			 size_t len, uint8_t *out, size_t cap)
{
	enum dns_parse p = dns_query_parse(msg, len, &req->q);
	if (p == DNS_PARSE_DROP) {
		STAT_ADD(l, dropped, 1);
		return DNSLOOP_DROP;
	}
	if (!req->tcp && cap > req->q.udp_size)
		cap = req->q.udp_size;
	if (p == DNS_PARSE_ERROR)
		return dns_resp_error(out, cap, &req->q, req->q.rcode, 0);
	cur.loop = l;
	return l->srv->o.ops->handle(l->srv->o.app, req, out, cap);
}

size_t dnsloop_req_maxlen(const dnsloop_req_t *req)
{
	return req->tcp ? DNS_MAX_MSG : req->q.udp_size;
}

dnsloop_req_t *dnsloop_defer(dnsloop_req_t *req)
{
	dnsloop_t *l = cur.loop;
	struct kreq *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->req = *req;
	memcpy(&k->peer, req->peer, req->peerlen);
	k->req.peer = (struct sockaddr *)&k->peer;
	k->loop = l;
	k->udpfd = cur.udpfd;
	k->conn = cur.conn;
	if (k->conn) {
		k->conn->refs++;
		k->conn->pending++;
	}
	k->deadline = now_ms() + l->srv->o.deadline_ms + EXPIRE_GRACE_MS;
	k->timed = 1;
	k->tprev = l->ttail;
	if (l->ttail)
		l->ttail->tnext = k;
	else
		l->thead = k;
	l->ttail = k;
	STAT_ADD(l, deferred, 1);
	return &k->req;
}

static void untime(dnsloop_t *l, struct kreq *k)
{
	if (!k->timed)
		return;
	k->timed = 0;
	if (k->tprev)
		k->tprev->tnext = k->tnext;
	else
		l->thead = k->tnext;
	if (k->tnext)
		k->tnext->tprev = k->tprev;
	else
		l->ttail = k->tprev;
	k->tprev = k->tnext = NULL;
}

/* Send a deferred query's answer; on its own worker only. */
static void kreq_finish(dnsloop_t *l, struct kreq *k)
{
	untime(l, k);
	if (k->conn) {
		if (k->resplen)
			conn_send(l, k->conn, k->resp, k->resplen);
		k->conn->pending--;
		conn_unref(l, k->conn);
	} else if (k->resplen) {
		count_response(l, k->resp, k->resplen);
		if (sendto(k->udpfd, k->resp, k->resplen, MSG_DONTWAIT,
			   k->req.peer, k->req.peerlen) < 0)
			STAT_ADD(l, send_errors, 1);
	}
	free(k->resp);
	free(k);
}

void dnsloop_answer(dnsloop_req_t *req, const uint8_t *msg, size_t len)
{
	struct kreq *k = (struct kreq *)req;
	dnsloop_t *l = k->loop;
	if (len) {
		k->resp = malloc(len);
		if (k->resp) {
			memcpy(k->resp, msg, len);
			k->resplen = len;
		}
	}
	if (pthread_equal(pthread_self(), l->tid)) {
		kreq_finish(l, k);
		return;
	}
	pthread_mutex_lock(&l->qmu);
	k->qnext = l->qhead;
	l->qhead = k;
	pthread_mutex_unlock(&l->qmu);
	uint64_t one = 1;
	if (write(l->wake.fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the loop is awake anyway. */
	}
}

static void drain_answers(dnsloop_t *l)
{
	uint64_t v;
	if (read(l->wake.fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to read, the queue may still hold work. */
	}
	pthread_mutex_lock(&l->qmu);
	struct kreq *k = l->qhead;
	l->qhead = NULL;
	pthread_mutex_unlock(&l->qmu);
	while (k) {
		struct kreq *next = k->qnext;
		kreq_finish(l, k);
		k = next;
	}
}

static void expire_deferred(dnsloop_t *l, uint64_t now)
{
	const dnsloop_opts_t *o = &l->srv->o;
	while (l->thead && l->thead->deadline <= now) {
		struct kreq *k = l->thead;
		untime(l, k);
		if (!o->ops->expire(o->app, &k->req))
			continue;   /* an answer is on its way */
		uint8_t buf[DNS_HDR_LEN + DNS_MAX_NAME + 4 + DNS_OPT_LEN + 512];
		k->resplen = dns_resp_error(buf, sizeof(buf), &k->req.q,
					    DNS_RCODE_SERVFAIL, 0);
		k->resp = malloc(k->resplen);
		if (k->resp)
			memcpy(k->resp, buf, k->resplen);
		else
			k->resplen = 0;
		STAT_ADD(l, expired, 1);
		kreq_finish(l, k);
	}
}

/* ------------------------------------------------------------ UDP */

static void udp_read(dnsloop_t *l, struct handle *h)
{
	static __thread uint8_t qbuf[UDP_BATCH][UDP_QBUF];
	static __thread uint8_t rbuf[UDP_BATCH][DNS_EDNS_SIZE];
	static __thread struct sockaddr_storage peers[UDP_BATCH];
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iin[UDP_BATCH], iout[UDP_BATCH];

	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			iin[i].iov_base = qbuf[i];
			iin[i].iov_len = UDP_QBUF;
			memset(&in[i].msg_hdr, 0, sizeof(in[i].msg_hdr));
			in[i].msg_hdr.msg_name = &peers[i];
			in[i].msg_hdr.msg_namelen = sizeof(peers[i]);
			in[i].msg_hdr.msg_iov = &iin[i];
			in[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(h->fd, in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int nout = 0;
		cur.udpfd = h->fd;
		cur.conn = NULL;
		for (int i = 0; i < n; i++) {
			dnsloop_req_t req = {
				.peer = (struct sockaddr *)&peers[i],
				.peerlen = in[i].msg_hdr.msg_namelen,
			};
			STAT_ADD(l, queries_udp, 1);
			if (in[i].msg_hdr.msg_flags & MSG_TRUNC) {
				STAT_ADD(l, dropped, 1);
				continue;
			}
			size_t len = handle_msg(l, &req, qbuf[i], in[i].msg_len,
						rbuf[nout], DNS_EDNS_SIZE);
			if (len == DNSLOOP_DROP || len == DNSLOOP_DEFERRED)
				continue;
			count_response(l, rbuf[nout], len);
			iout[nout].iov_base = rbuf[nout];
			iout[nout].iov_len = len;
			memset(&out[nout].msg_hdr, 0, sizeof(out[nout].msg_hdr));
			out[nout].msg_hdr.msg_name = &peers[i];
			out[nout].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
			out[nout].msg_hdr.msg_iov = &iout[nout];
			out[nout].msg_hdr.msg_iovlen = 1;
			nout++;
		}
		for (int sent = 0; sent < nout;) {
			int k = sendmmsg(h->fd, out + sent,
					 (unsigned)(nout - sent), MSG_DONTWAIT);
			if (k <= 0) {
				/* Full socket buffer: the client will retry. */
				STAT_ADD(l, send_errors, (uint64_t)(nout - sent));
				break;
			}
			sent += k;
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* ------------------------------------------------------------ loop */

static void stop_all(dnsloop_srv_t *srv)
{
	__atomic_store_n(&srv->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < srv->o.threads; i++) {
		uint64_t one = 1;
		if (write(srv->loops[i].wake.fd, &one, sizeof(one)) < 0) {
			/* saturated counter: already awake */
		}
	}
}

static void read_signals(dnsloop_t *l)
{
	struct signalfd_siginfo si;
	while (read(l->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (l->srv->o.ops->reload)
				l->srv->o.ops->reload(l->srv->o.app);
		} else {
			stop_all(l->srv);
		}
	}
}

static void *loop_run(void *arg)
{
	dnsloop_t *l = arg;
	const dnsloop_opts_t *o = &l->srv->o;
	struct epoll_event evs[64];

	l->tid = pthread_self();
	while (!__atomic_load_n(&l->srv->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_ms();
		long timeout = -1;
		if (l->thead)
			timeout = l->thead->deadline > now ?
					  (long)(l->thead->deadline - now) : 0;
		if (l->chead) {
			uint64_t t = l->chead->last_ms + o->tcp_idle_ms;
			long ct = t > now ? (long)(t - now) : 0;
			/* Busy connections stay at the head: poll them slowly. */
			if (ct < 100)
				ct = 100;
			if (timeout < 0 || ct < timeout)
				timeout = ct;
		}
		int lib_t = -1;
		if (o->event_mode && l->idx == 0) {
			lib_t = aname_timeout_ms(o->ctx);
			if (lib_t >= 0 && (timeout < 0 || lib_t < timeout))
				timeout = lib_t;
		}
		int n = epoll_wait(l->ep, evs, 64, (int)timeout);
		int lib_ready = 0;
		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;
			switch (h->kind) {
			case K_UDP:
				udp_read(l, h);
				break;
			case K_TCPL:
				tcp_accept(l, h);
				break;
			case K_CONN: {
				struct conn *c = (struct conn *)h;
				if (c->closed)
					break;   /* closed earlier in this batch */
				if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
				    !(evs[i].events & EPOLLIN)) {
					conn_close(l, c);
					break;
				}
				if (evs[i].events & EPOLLOUT &&
				    conn_flush(l, c) != 0)
					break;
				if (evs[i].events & EPOLLIN)
					conn_read(l, c);
				break;
			}
			case K_WAKE:
				drain_answers(l);
				break;
			case K_LIB:
				lib_ready = 1;
				break;
			case K_SIG:
				read_signals(l);
				break;
			}
		}
		now = now_ms();
		if (o->event_mode && l->idx == 0 &&
		    (lib_ready || lib_t == 0 || n == 0))
			aname_process(o->ctx);
		expire_deferred(l, now);
		if (l->chead)
			conn_idle(l, now);
		if (l->npaused)
			conn_resume(l);
		conn_free_dead(l);
	}
	return NULL;
}

int dnsloop_srv_run(dnsloop_srv_t *srv)
{
	unsigned started = 1;
	srv->loops[0].tid = pthread_self();
	for (; started < srv->o.threads; started++) {
		dnsloop_t *l = &srv->loops[started];
		if (pthread_create(&l->tid, NULL, loop_run, l) != 0)
			break;
	}
	loop_run(&srv->loops[0]);
	for (unsigned i = 1; i < started; i++)
		pthread_join(srv->loops[i].tid, NULL);
	/* Deferred answers that arrive from now on (aname_ctx_free() cancels
	 * what is pending) are sent directly by the calling thread. */
	for (unsigned i = 0; i < srv->o.threads; i++)
		srv->loops[i].tid = pthread_self();
	for (unsigned i = 0; i < srv->o.threads; i++)
		drain_answers(&srv->loops[i]);
	return 0;
}

void dnsloop_srv_free(dnsloop_srv_t *srv)
{
	if (!srv)
		return;
	for (unsigned i = 0; i < srv->o.threads; i++) {
		dnsloop_t *l = &srv->loops[i];
		drain_answers(l);
		while (l->chead)
			conn_close(l, l->chead);
		conn_free_dead(l);
		loop_close(l);
		pthread_mutex_destroy(&l->qmu);
	}
	free(srv->loops);
	free(srv);
}
