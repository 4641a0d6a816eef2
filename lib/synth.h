/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file synth.h
 * \brief The wire writer behind aname_synth_wire() (synth.c), for callers
 * that already hold the time and a validated owner.
 */
#ifndef ANAME_SYNTH_H
#define ANAME_SYNTH_H

#include "aname_private.h"
#include "result.h"

/* aname_synth_wire() with \a owner already checked (aname__name_wire_ok)
 * and the clock read by the caller: aname_cache_synth_wire() writes under
 * a cache-shard lock and reads the clock once for lookup and synthesis.
 * \a written is set on success only. */
int aname__synth_wire_at(const aname_result_t *res, uint16_t rrtype,
			 const uint8_t *owner, size_t owner_len,
			 uint32_t alias_ttl, uint64_t now_ms, uint8_t *buf,
			 size_t buflen, size_t *written);

#endif /* ANAME_SYNTH_H */
