/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file alias.h
 * \brief Parsing of the mod-aname "alias" item: "owner [ttl] target.".
 *
 * Pure string handling, no Knot or library state, so that the config check
 * callback and the load callback apply exactly the same rules.
 */
#ifndef ANAME_KNOT_ALIAS_H
#define ANAME_KNOT_ALIAS_H

#include <stdbool.h>
#include <stdint.h>

/** TTL of an ALIAS given in the module config without one. */
#define ANAME_KNOT_DEFAULT_ALIAS_TTL 300
/** Longest presentation name we accept (255 octets, all escaped as \DDD). */
#define ANAME_KNOT_NAME_TXT 1024

/** One parsed "alias" value. */
struct aname_knot_alias {
	char owner[ANAME_KNOT_NAME_TXT + 1];  /**< "@", relative or absolute. */
	char target[ANAME_KNOT_NAME_TXT + 1]; /**< Always absolute. */
	uint32_t ttl;                         /**< ALIAS TTL. */
};

/**
 * Parse one "owner [ttl] target." value.
 *
 * \param[in]  text  The value as written in the configuration.
 * \param[out] out   Filled on success.
 * \return NULL on success, else a static sentence saying what is wrong.
 */
const char *aname_knot_alias_parse(const char *text,
				   struct aname_knot_alias *out);

/**
 * Make the owner absolute: "@" is the zone apex, a name not ending in an
 * unescaped dot is relative to \a zone.
 *
 * \param[in]  owner  Owner as parsed.
 * \param[in]  zone   Zone name, presentation, absolute ("example.test.").
 * \param[out] buf    Receives the absolute owner.
 * \return true on success, false if it does not fit.
 */
bool aname_knot_alias_owner_abs(const char *owner, const char *zone,
				char *buf, size_t buflen);

/** true if presentation name \a name ends with an unescaped dot. */
bool aname_knot_name_is_abs(const char *name);

#endif
