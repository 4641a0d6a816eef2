/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Queries built byte by byte for the wire-conformance tests, so a test
 * controls every bit a client could send (opcode, flags, OPT version,
 * flags and options, extra records), and a raw TCP exchange.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

/* "Do not check this count" for expectations. */
#define WQ_ANY 0xffffffffu

typedef struct wq {
	uint8_t b[2048];
	size_t len;
	size_t qlen;          /* bytes of the question section */
	uint16_t id, flags;   /* flags without the opcode */
	unsigned opcode;
	uint16_t qtype, qclass;
	char name[256];
	int qd;               /* questions written (0, 1 or 2) */
} wq_t;

/* A query: header, then \a qd copies of the question (name/qtype/IN). */
wq_t wq_new(uint16_t id, uint16_t flags, const char *name, uint16_t qtype,
	    int qd);
/* Rewrite the header flags from q->flags and q->opcode. */
void wq_set_flags(wq_t *q);
/* Rewrite the question from q->name, qtype, qclass (before records). */
void wq_set_question(wq_t *q);
/* Append a record to \a section (0 answer, 1 authority, 2 additional;
 * in that order). */
void wq_add_rr(wq_t *q, int section, const char *owner, uint16_t type,
	       uint16_t klass, uint32_t ttl, const void *rdata, uint16_t rdlen);
/* Append an OPT record: UDP size, version, flags (0x8000 = DO), options. */
void wq_add_opt(wq_t *q, uint16_t size, uint8_t version, uint16_t flags,
		const void *opts, uint16_t optlen);

uint16_t wq_u16(const uint8_t *b, size_t off);

/* One length-prefixed exchange over a new TCP connection to 127.0.0.1;
 * the reply's length, or -1. */
int wq_tcp(int port, const wq_t *q, uint8_t *out, size_t outlen,
	   int timeout_ms);

#endif
