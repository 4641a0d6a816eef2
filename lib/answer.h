/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file answer.h
 * \brief Turning an upstream answer packet into a result (answer.c).
 */
#ifndef ANAME_ANSWER_H
#define ANAME_ANSWER_H

#include "aname_private.h"

#include <stdbool.h>

/* A TTL-0 answer ("use once, do not cache") is still kept this long, and
 * served with TTL 0: a synchronous host (a Knot module, the lua2 path)
 * only ever sees what is in the cache, so without a hold such a target
 * could never be answered at all. */
#define ANAME_TTL0_HOLD_MS 1000

struct aname_answer_limits {
	unsigned max_chain;
	uint32_t min_ttl, max_ttl, neg_max_ttl, stale_ttl;
};

/*
 * Turn an upstream answer into a result.  The packet is untrusted: it is
 * parsed with ldns and every RR is checked against the question.
 * Returns ANAME_OK and *out, or a failure status (ESERVFAIL, EREFUSED,
 * EBOGUS, ELOOP, EMALFORMED, ENOMEM).
 */
int aname__answer_from_packet(const uint8_t *pkt, size_t len, int rcode,
			      bool secure, bool bogus, const char *qname_text,
			      uint16_t qtype,
			      const struct aname_answer_limits *lim,
			      uint64_t now_ms, aname_result_t **out);

#endif /* ANAME_ANSWER_H */
