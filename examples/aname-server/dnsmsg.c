/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * DNS query parsing and response building (see dnsmsg.h for why by hand).
 */
#include <string.h>

#include "dnsmsg.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void dns_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = src[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
	}
}

/* Skip a possibly compressed name; returns the offset after it or 0. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t pos)
{
	for (unsigned labels = 0; labels < 128; labels++) {
		if (pos >= len)
			return 0;
		uint8_t l = msg[pos];
		if (l == 0)
			return pos + 1;
		if ((l & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		if (l & 0xc0)
			return 0;      /* extended label types: not allowed */
		pos += 1u + l;
	}
	return 0;
}

/*
 * Parse the OPT record, if any, among the \a nrr records from \a pos.
 * Returns 0, or -1 (FORMERR: broken record, OPT twice or not at the
 * root), or -2 (BADVERS: an EDNS version above 0).
 */
static int parse_records(const uint8_t *msg, size_t len, size_t pos,
			 unsigned nanns, unsigned nrr, dns_query_t *q)
{
	for (unsigned i = 0; i < nrr; i++) {
		size_t name = pos;
		pos = skip_name(msg, len, pos);
		if (pos == 0 || pos + 10 > len)
			return -1;
		uint16_t type = rd16(msg + pos);
		size_t rdlen = rd16(msg + pos + 8);
		if (pos + 10 + rdlen > len)
			return -1;
		if (i >= nanns && type == DNS_TYPE_OPT) {
			if (q->edns || msg[name] != 0)
				return -1;  /* RFC 6891 6.1.1 */
			q->edns = 1;
			uint16_t size = rd16(msg + pos + 2);
			uint8_t version = msg[pos + 5];
			q->do_bit = (msg[pos + 6] & 0x80) != 0;
			if (size > DNS_EDNS_SIZE)
				size = DNS_EDNS_SIZE;
			q->udp_size = size < 512 ? 512 : size;
			if (version != 0)
				return -2;
		}
		pos += 10 + rdlen;
	}
	return 0;
}

enum dns_parse dns_query_parse(const uint8_t *msg, size_t len,
			       dns_query_t *q)
{
	q->has_question = 0;
	q->edns = 0;
	q->do_bit = 0;
	q->udp_size = 512;
	q->qname_len = 0;
	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	q->id = rd16(msg);
	q->flags = rd16(msg + 2);
	if (q->flags & DNS_FLAG_QR)
		return DNS_PARSE_DROP;    /* never answer answers: no loops */
	/* Other opcodes (NOTIFY, UPDATE, ...) get NOTIMP, but with their
	 * opcode, question and OPT echoed, so clients accept the answer
	 * (RFC 6895 section 2.2). */
	unsigned opcode = q->flags >> 11 & 0xf;
	unsigned qd = rd16(msg + 4);
	q->rcode = opcode ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR;
	if (qd > 1)
		return DNS_PARSE_ERROR;

	/* Question: an uncompressed name (nothing before it to point at). */
	size_t pos = DNS_HDR_LEN, n = 0;
	while (qd == 1) {
		if (pos >= len)
			return DNS_PARSE_ERROR;
		uint8_t l = msg[pos];
		if (l & 0xc0)
			return DNS_PARSE_ERROR;
		if (n + 1u + l > DNS_MAX_NAME || pos + 1u + l > len)
			return DNS_PARSE_ERROR;
		memcpy(q->qname + n, msg + pos, 1u + l);
		n += 1u + l;
		pos += 1u + l;
		if (l == 0)
			break;
	}
	if (qd == 1) {
		if (pos + 4 > len)
			return DNS_PARSE_ERROR;
		q->qname_len = (uint16_t)n;
		dns_name_lower(q->lname, q->qname, n);
		q->qtype = rd16(msg + pos);
		q->qclass = rd16(msg + pos + 2);
		pos += 4;
		q->has_question = 1;
	}

	/* Skip answer and authority records, then look for OPT. */
	unsigned an = rd16(msg + 6), ns = rd16(msg + 8), ar = rd16(msg + 10);
	int rc = parse_records(msg, len, pos, an + ns, an + ns + ar, q);
	if (rc == -2) {
		q->rcode = DNS_RCODE_BADVERS;
		return DNS_PARSE_ERROR;
	}
	if (rc != 0 || opcode != 0 || qd == 0)
		return DNS_PARSE_ERROR;
	return DNS_PARSE_OK;
}

int dns_resp_init(dns_resp_t *r, uint8_t *buf, size_t maxlen,
		  const dns_query_t *q, uint16_t flags)
{
	size_t need = DNS_HDR_LEN + (q->has_question ? q->qname_len + 4u : 0);
	r->buf = buf;
	r->edns = q->edns;
	r->do_bit = q->do_bit;
	r->truncated = 0;
	memset(r->counts, 0, sizeof(r->counts));
	r->cap = maxlen - (q->edns ? DNS_OPT_LEN : 0);
	if (maxlen < 512 || need > r->cap)
		return -1;
	wr16(buf, q->id);
	wr16(buf + 2, (uint16_t)(DNS_FLAG_QR | flags |
				 (q->flags & (DNS_FLAG_OPCODE | DNS_FLAG_RD |
					      DNS_FLAG_CD))));
	wr16(buf + 4, q->has_question);
	memset(buf + 6, 0, 6);
	r->len = DNS_HDR_LEN;
	if (q->has_question) {
		memcpy(buf + r->len, q->qname, q->qname_len);
		r->len += q->qname_len;
		wr16(buf + r->len, q->qtype);
		wr16(buf + r->len + 2, q->qclass);
		r->len += 4;
	}
	r->qend = r->len;
	return 0;
}

int dns_resp_add(dns_resp_t *r, enum dns_section section, const void *rrs,
		 size_t len, unsigned n)
{
	if (len > dns_resp_room(r)) {
		r->truncated = 1;
		return -1;
	}
	memcpy(r->buf + r->len, rrs, len);
	dns_resp_commit(r, section, len, n);
	return 0;
}

void dns_resp_commit(dns_resp_t *r, enum dns_section section, size_t len,
		     unsigned n)
{
	r->len += len;
	r->counts[section] = (uint16_t)(r->counts[section] + n);
}

size_t dns_resp_finish(dns_resp_t *r, unsigned rcode)
{
	uint16_t flags = rd16(r->buf + 2);
	if (r->truncated) {
		r->len = r->qend;
		memset(r->counts, 0, sizeof(r->counts));
		flags |= DNS_FLAG_TC;
	}
	flags = (uint16_t)((flags & ~0xfu) | (rcode & 0xf));
	wr16(r->buf + 2, flags);
	wr16(r->buf + 6, r->counts[DNS_AN]);
	wr16(r->buf + 8, r->counts[DNS_NS]);
	uint16_t ar = r->counts[DNS_AR];
	if (r->edns) {
		/* Room for this was kept out of cap by dns_resp_init(). */
		uint8_t *p = r->buf + r->len;
		p[0] = 0;                                /* root owner */
		wr16(p + 1, DNS_TYPE_OPT);
		wr16(p + 3, DNS_EDNS_SIZE);
		p[5] = (uint8_t)(rcode >> 4);            /* extended rcode */
		p[6] = 0;                                /* version */
		/* DO echoed (RFC 3225 section 3); other flags zero (RFC 6891
		 * 6.1.4); no options, whatever the query carried. */
		p[7] = r->do_bit ? 0x80 : 0;
		p[8] = 0;
		wr16(p + 9, 0);
		r->len += DNS_OPT_LEN;
		ar++;
	}
	wr16(r->buf + 10, ar);
	return r->len;
}

size_t dns_resp_error(uint8_t *buf, size_t cap, const dns_query_t *q,
		      unsigned rcode, uint16_t flags)
{
	dns_resp_t r;
	if (dns_resp_init(&r, buf, cap, q, flags) != 0)
		return 0;
	return dns_resp_finish(&r, rcode);
}

int dns_name_to_text(const uint8_t *wire, size_t len, char *out,
		     size_t outlen)
{
	size_t pos = 0, n = 0;
	if (len == 1 && wire[0] == 0) {
		if (outlen < 2)
			return -1;
		memcpy(out, ".", 2);
		return 1;
	}
	while (pos < len && wire[pos] != 0) {
		size_t l = wire[pos++];
		if (pos + l > len)
			return -1;
		for (size_t i = 0; i < l; i++) {
			uint8_t c = wire[pos + i];
			if (n + 5 > outlen)
				return -1;
			if (c <= 0x20 || c >= 0x7f) {
				out[n++] = '\\';
				out[n++] = (char)('0' + c / 100);
				out[n++] = (char)('0' + c / 10 % 10);
				out[n++] = (char)('0' + c % 10);
			} else {
				if (strchr(".\\\"();@$", c))
					out[n++] = '\\';
				out[n++] = (char)c;
			}
		}
		pos += l;
		if (n + 2 > outlen)
			return -1;
		out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
}
