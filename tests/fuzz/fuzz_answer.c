/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_answer.c
 * \brief Fuzz target "answer": upstream answer packets as the library
 * parses them (aname__answer_from_packet() in lib/answer.c).
 *
 * Input layout (tests/fuzz/README.md):
 *
 *   byte 0      rcode libunbound reported (low 4 bits)
 *   byte 1      bit 0 secure, bit 1 bogus, bit 2 AAAA (else A),
 *               bits 3-7 CNAME chain limit (0-31, the library allows 16)
 *   byte 2      TTL limits selector (see limits_of)
 *   byte 3      length L of the question name
 *   4..4+L      question name, presentation text
 *   rest        the answer packet, DNS wire format
 *
 * Checked on every OK result: its type, target and status; count, rcode
 * and addresses consistent with each other and with the packet (at most
 * as many addresses as answer RRs of the type); TTL within the configured
 * floor and caps; chain within the limit; synthesis from it succeeds and
 * writes exactly count records.  Failures must be one of the documented
 * statuses.  Leaks are caught by LeakSanitizer.
 */
#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"
#include "fuzz_check.h"

#include <ldns/ldns.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void limits_of(uint8_t sel, struct aname_answer_limits *lim)
{
	static const uint32_t caps[4] = {0, 60, 86400, 604800};
	lim->min_ttl = (sel & 1) ? 30 : 0;
	lim->max_ttl = caps[(sel >> 1) & 3];
	if (lim->max_ttl < lim->min_ttl) {
		lim->max_ttl = lim->min_ttl;
	}
	lim->neg_max_ttl = (sel & 8) ? 0 : (lim->max_ttl < 3600 ? lim->max_ttl
							     : 3600);
	lim->stale_ttl = (sel & 16) ? 1 : 30;
}

/* Answer RRs of class IN and type \a qtype, whatever their owner. */
static size_t count_type(const uint8_t *pkt, size_t len, uint16_t qtype)
{
	ldns_pkt *p = NULL;
	size_t n = 0;
	if (ldns_wire2pkt(&p, pkt, len) != LDNS_STATUS_OK) {
		return 0;
	}
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == qtype &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN) {
			n++;
		}
	}
	ldns_pkt_free(p);
	return n;
}

static void check_ok(const aname_result_t *res, const uint8_t *pkt,
		     size_t len, int rcode, bool secure, const char *qname,
		     uint16_t qtype, const struct aname_answer_limits *lim)
{
	size_t alen = qtype == ANAME_RRTYPE_A ? 4 : 16;
	uint16_t other = qtype == ANAME_RRTYPE_A ? ANAME_RRTYPE_AAAA
						 : ANAME_RRTYPE_A;
	FUZZ_CHECK(res != NULL, "OK without a result");
	FUZZ_CHECK(res->rrtype == qtype, "type %u", res->rrtype);
	FUZZ_CHECK(aname_result_status(res, qtype) == ANAME_OK, "status");
	FUZZ_CHECK(aname_result_status(res, other) == ANAME_ENOENT,
		   "answers a type it was not asked");
	FUZZ_CHECK(strcmp(aname_result_target(res), qname) == 0, "target");
	FUZZ_CHECK(aname_result_secure(res) == (secure ? 1 : 0), "secure");
	FUZZ_CHECK(!aname_result_stale(res), "fresh answer reported stale");

	size_t count = aname_result_count(res, qtype);
	int rc = aname_result_rcode(res, qtype);
	FUZZ_CHECK(count == res->count, "count %zu vs %u", count, res->count);
	FUZZ_CHECK(rc == 0 || rc == 3, "rcode %d", rc);
	FUZZ_CHECK(rc == 0 || rc == rcode, "rcode %d from %d", rc, rcode);
	FUZZ_CHECK(rc == 0 || count == 0, "NXDOMAIN with %zu addresses",
		   count);
	FUZZ_CHECK(count <= count_type(pkt, len, qtype),
		   "%zu addresses from fewer RRs", count);
	FUZZ_CHECK(aname_result_chain(res, qtype) <= lim->max_chain,
		   "chain %u over limit %u", aname_result_chain(res, qtype),
		   lim->max_chain);
	FUZZ_CHECK(aname_result_count(res, other) == 0, "other type count");

	uint8_t addr[16];
	for (size_t i = 0; i < count; i++) {
		int n = aname_result_addr(res, qtype, i, addr, sizeof(addr));
		FUZZ_CHECK(n == (int)alen, "addr %zu: %d", i, n);
	}
	FUZZ_CHECK(aname_result_addr(res, qtype, count, addr, sizeof(addr)) ==
			   ANAME_ENOENT,
		   "address past the end");

	if (count > 0) {
		FUZZ_CHECK(res->ttl >= lim->min_ttl && res->ttl <= lim->max_ttl,
			   "ttl %u outside [%u, %u]", res->ttl, lim->min_ttl,
			   lim->max_ttl);
	} else {
		FUZZ_CHECK(res->ttl <= lim->neg_max_ttl,
			   "negative ttl %u over %u", res->ttl,
			   lim->neg_max_ttl);
	}
	uint32_t ttl = aname_result_ttl(res, qtype);
	FUZZ_CHECK(ttl <= res->ttl, "reported ttl %u over %u", ttl, res->ttl);
	FUZZ_CHECK(count == 0 || aname_synth_ttl(res, qtype, 300) <= res->ttl,
		   "synthesized ttl %u over %u",
		   aname_synth_ttl(res, qtype, 300), res->ttl);

	/* What a host does next: synthesize at an owner. */
	static const uint8_t owner[] = {5, 'a', 'l', 'i', 'a', 's', 4,
					't', 'e', 's', 't', 0};
	uint8_t buf[65535];
	size_t written = 0;
	int k = aname_synth_wire(res, qtype, owner, sizeof(owner), 300, buf,
				 sizeof(buf), &written);
	size_t rrlen = sizeof(owner) + 10 + alen;
	if (count * rrlen <= sizeof(buf)) {
		FUZZ_CHECK(k == (int)count && written == count * rrlen,
			   "synthesized %d RRs, %zu bytes, of %zu", k, written,
			   count);
	} else {
		FUZZ_CHECK(k == ANAME_ENOSPC, "synth %d", k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4 || size < 4u + data[3]) {
		return 0;
	}
	int rcode = data[0] & 0xf;
	bool secure = data[1] & 1;
	bool bogus = data[1] & 2;
	uint16_t qtype = (data[1] & 4) ? ANAME_RRTYPE_AAAA : ANAME_RRTYPE_A;
	struct aname_answer_limits lim;
	limits_of(data[2], &lim);
	lim.max_chain = data[1] >> 3;
	char qname[256];
	memcpy(qname, data + 4, data[3]);
	qname[data[3]] = '\0';
	const uint8_t *pkt = data + 4 + data[3];
	size_t len = size - 4 - data[3];

	aname_result_t *res = (aname_result_t *)0x1;
	/* Received 10 ms ago: the time a callback or a host's query path
	 * may run after the packet arrived; also makes any clock lag moot. */
	int rc = aname__answer_from_packet(len ? pkt : NULL, len, rcode,
					   secure, bogus, qname, qtype, &lim,
					   aname__now_ms() - 10, &res);
	if (rc == ANAME_OK) {
		check_ok(res, pkt, len, rcode, secure, qname, qtype, &lim);
		aname_result_unref(res);
		return 0;
	}
	FUZZ_CHECK(res == NULL, "failure %d left a result", rc);
	FUZZ_CHECK(rc == ANAME_ESERVFAIL || rc == ANAME_EREFUSED ||
			   rc == ANAME_EBOGUS || rc == ANAME_ELOOP ||
			   rc == ANAME_EMALFORMED || rc == ANAME_EBADNAME,
		   "unexpected status %d", rc);
	if (bogus) {
		FUZZ_CHECK(rc == ANAME_EBOGUS, "bogus answer gave %d", rc);
	} else if (rcode != 0 && rcode != 3) {
		FUZZ_CHECK(rc == (rcode == 5 ? ANAME_EREFUSED : ANAME_ESERVFAIL),
			   "rcode %d gave %d", rcode, rc);
	}
	return 0;
}
