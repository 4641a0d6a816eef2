/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file preload.h
 * \brief Find every TYPE65401 (ALIAS) record in a zone's file at load.
 *
 * Knot's module API gives no zone contents at load time, only per query
 * (and before 3.4 only the apex).  Reading the configured zone file lets
 * the module know every ALIAS owner of the zone when it loads: on 3.2 that
 * is the only way to learn non-apex owners, and on every version it
 * registers the targets before the first query, so the first answers are
 * already warm.  knotd recreates module instances on zone reload, so the
 * scan follows the zone file.
 */
#ifndef ANAME_KNOT_PRELOAD_H
#define ANAME_KNOT_PRELOAD_H

#include <stdbool.h>
#include <knot/module.h>

/** Bound on the ALIAS records taken from one zone file; more are logged
 *  and ignored (each costs about 600 bytes and one registered target). */
#define ANAME_KNOT_MAX_FILE_ALIASES 200000u

/** Called once per TYPE65401 record inside the zone (wire names, as
 *  written in the file; \a line for messages). */
typedef void (*aname_knot_preload_cb)(void *arg, const knot_dname_t *owner,
				      uint32_t ttl,
				      const knot_dname_t *target,
				      uint64_t line);

/**
 * The path of \a mod's zone file, from knotd's "file" and "storage" rules
 * (absolute, or under storage; %s and %% patterns).  Reads knotd's
 * configuration: call it from knotd's threads (load).  false, with a
 * notice, for patterns it does not expand.
 */
bool aname_knot_zone_file(knotd_mod_t *mod, char *path, size_t len);

/**
 * Scan the zone file at \a path for TYPE65401 records inside \a mod's
 * zone.  Uses only libzscanner and knotd_mod_log(), so any thread may call
 * it.  \return true if the file was read (false: missing or unreadable,
 * e.g. a secondary before its first transfer).
 */
bool aname_knot_scan_file(knotd_mod_t *mod, const char *path,
			  aname_knot_preload_cb cb, void *arg);

#endif
