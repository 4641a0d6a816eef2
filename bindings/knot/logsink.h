/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file logsink.h
 * \brief Route libaname's log messages into knotd's log.
 *
 * The library context is shared by every zone's module instance (shared.h)
 * and logs from its own thread, but knotd_mod_log() needs a live module
 * instance.  Instances attach when they load and detach before they are
 * freed; a message goes out through any attached one (knotd prefixes it
 * with that zone's name, the text says "libaname:").  With none attached
 * (context parked between reloads) messages are dropped.
 */
#ifndef ANAME_KNOT_LOGSINK_H
#define ANAME_KNOT_LOGSINK_H

#include <knot/module.h>

/** An aname_log_cb; its arg is unused. */
void aname_knot_log_cb(void *arg, int level, const char *msg);

/** Make \a mod available for library messages (one pointer per zone). */
void aname_knot_log_attach(knotd_mod_t *mod);

/** Withdraw \a mod; after this returns no message uses it. */
void aname_knot_log_detach(knotd_mod_t *mod);

#endif
