/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Talking to the primary: one TCP connection at a time, every message
 * TSIG-signed when a key is set and every reply's TSIG verified, every
 * read and write bounded by a deadline.  Used for SOA polls, AXFR and
 * UPDATE (RFC 1035 4.2.2 framing, RFC 8945 TSIG).
 */
#ifndef UPD_DNSIO_H
#define UPD_DNSIO_H

#include <ldns/ldns.h>
#include <stdint.h>
#include <sys/socket.h>

#include "key.h"

/* Outcome classes: each maps to one health reason and one fix. */
typedef enum {
	IO_OK = 0,
	IO_DOWN,     /* cannot connect, or the connection broke */
	IO_TIMEOUT,  /* no complete reply before the deadline */
	IO_TSIG,     /* the primary rejected our TSIG, or its reply fails ours */
	IO_RCODE,    /* a well-formed reply with a non-zero rcode */
	IO_PROTO,    /* a reply we cannot parse or that does not match */
} io_status_t;

typedef struct upd_conn {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char peer[80];        /* "IP@PORT" for log lines */
	const upd_key_t *key; /* NULL: unsigned */
	int timeout_ms;       /* per exchange */
	int fd;               /* -1 while closed */
	char err[300];        /* the last failure, a sentence */
	int rcode;            /* the last reply's rcode (extended by TSIG) */
	uint16_t next_id;     /* upd_send()'s id counter */
	unsigned axfr_msgs;   /* messages the last AXFR received */
} upd_conn_t;

/** Parse "IP[@PORT]" (port 53 by default).  -1 if malformed. */
int upd_parse_addr(const char *text, struct sockaddr_storage *ss,
		   socklen_t *len);

/** Prepare \a c (not connected yet). */
void upd_conn_init(upd_conn_t *c, const struct sockaddr_storage *ss,
		   socklen_t len, const upd_key_t *key, int timeout_ms);

void upd_conn_close(upd_conn_t *c);

/**
 * Send the query \a q (signed with the key, if any; \a q gets its TSIG RR)
 * and read one reply, verified.  Connects first if needed; reuses the
 * connection, and retries once on a fresh one if it had been closed, so use
 * it for queries only (UPDATEs: upd_send/upd_recv).
 * \param[out] reply  The reply on IO_OK or IO_RCODE; free with
 *                    ldns_pkt_free().
 */
io_status_t upd_exchange(upd_conn_t *c, ldns_pkt *q, ldns_pkt **reply);

/*
 * Pipelining (the UPDATE batch of one zone): upd_send() signs and sends
 * without waiting; upd_recv() reads the next reply, in whatever order the
 * primary answers, asking \a match which request it answers.
 */
/* The request MAC for reply id \a id (NULL if unsigned) via \a mac; -1 for
 * an id that is not outstanding. */
typedef int (*upd_match_fn)(void *arg, uint16_t id, const ldns_rdf **mac);
io_status_t upd_send(upd_conn_t *c, ldns_pkt *q);
/** Reply status as for upd_exchange(); \a reply on IO_OK or IO_RCODE. */
io_status_t upd_recv(upd_conn_t *c, upd_match_fn match, void *arg,
		     ldns_pkt **reply);
/** The MAC of a request signed by upd_send() (NULL if unsigned). */
const ldns_rdf *upd_request_mac(const ldns_pkt *q);

/** The SOA serial of \a zone. */
io_status_t upd_soa_serial(upd_conn_t *c, const char *zone,
			   uint32_t *serial);

/* Called for every RR of a transfer (the closing SOA excluded); the RR is
 * borrowed.  Return 0 to go on, -1 to abort (then IO_PROTO). */
typedef int (*upd_rr_fn)(void *arg, const ldns_rr *rr);

/** Transfer \a zone by AXFR, calling \a fn for each RR once the whole
 * transfer has arrived and verified (so \a fn sees all or nothing).  Every message
 * must carry a valid TSIG when a key is set (unsigned intermediate
 * messages, which RFC 8945 5.3.1 allows, are refused: the primaries we
 * test sign every message).  At most UPD_AXFR_MAX_MSGS messages. */
#define UPD_AXFR_MAX_MSGS 1000000
io_status_t upd_axfr(upd_conn_t *c, const char *zone, upd_rr_fn fn,
		     void *arg, uint32_t *serial);

/** A one-line name for an rcode, including the TSIG errors 16-18. */
const char *upd_rcode_name(int rcode);

#endif
