/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file name.h
 * \brief Domain names: presentation text <-> uncompressed wire format (name.c).
 */
#ifndef ANAME_NAME_H
#define ANAME_NAME_H

#include "aname_private.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse presentation format into wire format; see aname_name_to_wire(). */
int aname__name_parse(const char *text, uint8_t *wire, size_t *wire_len);
/* Lower-case a wire name in place (ASCII only, as DNS requires). */
void aname__name_lower(uint8_t *wire, size_t len);
/* Render a wire name as absolute presentation text; returns length or <0. */
int aname__name_to_text(const uint8_t *wire, size_t len, char *out,
			size_t outlen);
/* A well-formed uncompressed wire name of exactly len octets.  Inline:
 * every synthesis checks its owner. */
static inline bool aname__name_wire_ok(const uint8_t *owner, size_t len)
{
	size_t i = 0;
	if (owner == NULL || len == 0 || len > ANAME_NAME_MAX) {
		return false;
	}
	while (i < len) {
		uint8_t n = owner[i];
		if (n == 0) {
			return i + 1 == len;
		}
		if (n > ANAME_LABEL_MAX) {
			return false;
		}
		i += 1u + n;
	}
	return false;
}

bool aname__name_equal(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen);

#endif /* ANAME_NAME_H */
