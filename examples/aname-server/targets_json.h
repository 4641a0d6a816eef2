/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The /targets document: every cached or registered (target, type) with
 * its state, as JSON.  Bounded: at most `limit` targets (the request's
 * ?limit=, default TARGETS_JSON_DEFAULT, at most TARGETS_JSON_MAX) and
 * TARGETS_JSON_MAX_BYTES of output; "truncated" counts what was left out.
 */
#ifndef TARGETS_JSON_H
#define TARGETS_JSON_H

#include <stdarg.h>
#include <stddef.h>

#include "aname.h"

#define TARGETS_JSON_DEFAULT 1000u
#define TARGETS_JSON_MAX 100000u
#define TARGETS_JSON_MAX_BYTES (4u * 1024u * 1024u)

/* A state's index by name ("stale"), or -1. */
int targets_state_from_name(const char *name);

/* state -1: all.  Returns malloc'd text and its length, or NULL. */
char *targets_json(aname_ctx_t *ctx, int state, unsigned limit, size_t *len);

#endif
