/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Pieces shared by aname-server and aname-resolverd: the command-line and
 * config-file driver, and the library options both programs take
 * (--forward, --stub, --timeout-ms, --stale-max, --trust-anchor).
 */
#ifndef COMMON_H
#define COMMON_H

#include <stddef.h>

#include "aname.h"

typedef struct common_opt {
	const char *name;   /* without the leading "--" */
	int has_arg;
} common_opt_t;

/* Called for each option; return 0, or -1 after printing an error. */
typedef int (*common_apply_fn)(void *app, const char *name, const char *val);

/**
 * Parse argv: "--name value", "--name=value", and "--config FILE", whose
 * lines are "name value" (or "name" for flags; '#' starts a comment) and
 * are applied where --config stands.  Returns 0, or -1 after printing the
 * error with file and line.
 */
int common_args(int argc, char **argv, const common_opt_t *opts,
		common_apply_fn apply, void *app);

/**
 * Apply one of the shared library options to \a cfg.  Returns 1 if \a name
 * is one of them and it was applied, 0 if it is not one of them, -1 after
 * printing an error.
 */
int common_lib_opt(aname_config_t *cfg, const char *name, const char *val);

/** Parse an unsigned decimal in [min, max]; -1 on error (printed). */
int common_uint(const char *name, const char *val, unsigned long min,
		unsigned long max, unsigned long *out);

/**
 * Print "--OPT: 'VAL' is not IP[@PORT]" with a hint for the usual
 * mistake, "127.0.0.1:53": ports are written after an '@'.
 */
void common_bad_addr(const char *opt, const char *val);

/** Library log sink printing to stderr with the program name. */
void common_log(void *arg, int level, const char *msg);

/* Create the library context both programs run on: thread mode when
 * several workers share it, else the event loop drives it.  Frees \a cfg
 * either way; on failure prints "PROG: library: reason" and returns -1. */
int common_ctx_new(const char *prog, aname_config_t *cfg, int threads,
		   aname_ctx_t **ctx);

#endif
