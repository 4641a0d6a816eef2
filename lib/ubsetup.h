/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file ubsetup.h
 * \brief Creating, configuring and deleting libunbound contexts, and
 * catching what libunbound prints (ubsetup.c).
 *
 * Only driver.c calls these, in the driver thread or (the first context,
 * for aname_ctx_new's errors) before it starts, so a host thread never
 * waits on the process-global locks they take.
 */
#ifndef ANAME_UBSETUP_H
#define ANAME_UBSETUP_H

#include "aname_private.h"
#include "config.h"

#include <stddef.h>

struct event_base;
struct ub_ctx;

#define ANAME_PROBE_NAME "aname-watchdog-probe.invalid."
/* CNAME hops libunbound follows (ubsetup.c says why). */
#define ANAME_UB_MAX_RESTARTS 34

/* Create and fully configure (finalize) a libunbound context in event
 * mode over \a base (a libevent base only the driver thread runs), whose
 * output goes to the library's log sink, never to stderr.  Use it with
 * ub_resolve_event() only. */
int aname__ub_create(const aname_config_t *cfg, struct event_base *base,
		     struct ub_ctx **out);
/* ub_ctx_delete() under the same lock as creation (see ubsetup.c).  In
 * event mode it calls no callbacks and joins no thread.  The base is the
 * caller's, to free afterwards. */
void aname__ub_delete(struct ub_ctx *ub);

/* Lines libunbound printed since the last call, oldest first: up to max
 * lines of up to ANAME_UB_LINE_MAX - 1 characters.  *dropped is the
 * number of lines lost because nobody collected them in time. */
#define ANAME_UB_LINE_MAX 240
size_t aname__ub_log_take(char (*lines)[ANAME_UB_LINE_MAX], size_t max,
			  unsigned long *dropped);

#endif /* ANAME_UBSETUP_H */
