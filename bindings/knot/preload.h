/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file preload.h
 * \brief Find the apex TYPE65401 (ALIAS) record in a zone's file at load.
 *
 * Knot's module API gives no zone contents at load time, only per query.
 * Reading the configured zone file lets the module register apex ALIAS
 * targets before the first query, so the first answer is already warm.
 */
#ifndef ANAME_KNOT_PRELOAD_H
#define ANAME_KNOT_PRELOAD_H

#include <knot/module.h>

/** Called once per apex TYPE65401 target found (wire format). */
typedef void (*aname_knot_preload_cb)(void *arg, const knot_dname_t *target);

/**
 * Scan the zone file of \a mod's zone for apex TYPE65401 records.  Zones
 * without a readable file (secondaries before their first flush, file name
 * patterns other than %s) are skipped quietly: the query path registers
 * the target on first sight instead.
 */
void aname_knot_preload_apex(knotd_mod_t *mod, aname_knot_preload_cb cb,
			     void *arg);

#endif
