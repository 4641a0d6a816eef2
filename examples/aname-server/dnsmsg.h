/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * DNS query parsing and response building for the example servers.
 *
 * Queries are parsed by hand rather than with ldns_wire2pkt(): a server
 * only needs the header, the single question and the OPT record, and
 * building an ldns_pkt per query would cost more than answering it.  The
 * parser is strict and bounds-checked; anything it does not like becomes
 * FORMERR or a silent drop, never a crash.
 */
#ifndef DNSMSG_H
#define DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_MAX_NAME 255
#define DNS_MAX_MSG 65535
/* The EDNS buffer size we advertise and the most we send over UDP. */
#define DNS_EDNS_SIZE 1232
/* Room kept at the end of every response for our OPT record. */
#define DNS_OPT_LEN 11

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5
#define DNS_RCODE_BADVERS 16

#define DNS_TYPE_A 1
#define DNS_TYPE_NS 2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_TYPE_SVCB 64
#define DNS_TYPE_HTTPS 65
#define DNS_TYPE_IXFR 251
#define DNS_TYPE_AXFR 252
#define DNS_TYPE_ANY 255
#define DNS_TYPE_ALIAS 65401
#define DNS_CLASS_IN 1

/* Flag bits in the second 16-bit word of the header. */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_OPCODE 0x7800
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_CD 0x0010

/* What parsing a query tells the caller to do. */
enum dns_parse {
	DNS_PARSE_OK = 0,  /* a well-formed standard query */
	DNS_PARSE_DROP,    /* not worth an answer: too short, or a response */
	DNS_PARSE_ERROR,   /* answer with dns_query.rcode (FORMERR, NOTIMP, ...) */
};

/** The parts of a query a server needs to answer it. */
typedef struct dns_query {
	uint16_t id;
	uint16_t flags;           /* header flags as received */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname[DNS_MAX_NAME]; /* wire form, case as received */
	uint8_t lname[DNS_MAX_NAME]; /* wire form, lower case (for lookups) */
	uint16_t qname_len;
	uint8_t has_question;
	uint8_t edns;             /* 1 if the query had an OPT record */
	uint8_t do_bit;
	uint8_t rcode;            /* set with DNS_PARSE_ERROR */
	uint16_t udp_size;        /* most we may send over UDP (>= 512) */
} dns_query_t;

/**
 * Parse a query message.  On DNS_PARSE_ERROR, \a q holds enough (id,
 * question if it parsed) to send dns_resp_error().
 */
enum dns_parse dns_query_parse(const uint8_t *msg, size_t len,
			       dns_query_t *q);

/** A response under construction in a caller-owned buffer. */
typedef struct dns_resp {
	uint8_t *buf;
	size_t cap;               /* usable size, OPT room excluded */
	size_t len;
	size_t qend;              /* end of the question section */
	uint16_t counts[3];       /* answer, authority, additional (w/o OPT) */
	uint8_t edns;
	uint8_t do_bit;           /* echoed in our OPT (RFC 3225) */
	uint8_t truncated;        /* something did not fit */
} dns_resp_t;

/**
 * Start a response to \a q: header (QR; opcode, RD and CD copied; \a flags
 * added) and the question.  \a maxlen is the most the response may take (UDP size or
 * 65535).  Returns 0, or -1 if not even the question fits (\a buf smaller
 * than 512 bytes).
 */
int dns_resp_init(dns_resp_t *r, uint8_t *buf, size_t maxlen,
		  const dns_query_t *q, uint16_t flags);

/** Section numbers for dns_resp_add(). */
enum dns_section { DNS_AN = 0, DNS_NS = 1, DNS_AR = 2 };

/**
 * Append \a n records already in wire form (\a len bytes) to \a section.
 * On overflow nothing is added, the response is marked truncated and -1
 * returned.
 */
int dns_resp_add(dns_resp_t *r, enum dns_section section, const void *rrs,
		 size_t len, unsigned n);

/** Bytes still free for records. */
static inline size_t dns_resp_room(const dns_resp_t *r)
{
	return r->cap > r->len ? r->cap - r->len : 0;
}

/** Account for \a n records of \a len bytes written at buf + len directly. */
void dns_resp_commit(dns_resp_t *r, enum dns_section section, size_t len,
		     unsigned n);

/**
 * Finish: set the rcode, cut the response back to the question and set TC
 * if it was truncated, append OPT if the query had one, write the counts.
 * Returns the message length.
 */
size_t dns_resp_finish(dns_resp_t *r, unsigned rcode);

/**
 * Build a complete error response (no records) into \a buf of \a cap bytes
 * (at least 512).  Returns its length.
 */
size_t dns_resp_error(uint8_t *buf, size_t cap, const dns_query_t *q,
		      unsigned rcode, uint16_t flags);

/** Lower-case copy of a wire name (ASCII letters only, per RFC 4343). */
void dns_name_lower(uint8_t *dst, const uint8_t *src, size_t len);

/*
 * Render a wire name (no compression) in presentation format, escaping
 * what needs it, so it can be handed to the library.  \a out needs 1024
 * bytes for any name.  Returns the length or -1.
 */
int dns_name_to_text(const uint8_t *wire, size_t len, char *out,
		     size_t outlen);

#endif
