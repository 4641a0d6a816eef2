/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Command-line/config-file driver and shared library options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const common_opt_t *find(const common_opt_t *opts, const char *name,
				size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

/* Option values read from config files, kept for the program's lifetime
 * (options may keep pointers to them, as they do to argv). */
static char **kept;
static size_t nkept;

static char *keep_value(const char *val)
{
	char **k = realloc(kept, (nkept + 1) * sizeof(*kept));
	if (!k)
		return NULL;
	kept = k;
	char *v = strdup(val);
	if (v)
		kept[nkept++] = v;
	return v;
}

static int load_config(const char *path, const common_opt_t *opts,
		       common_apply_fn apply, void *app)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *name = strtok(line, " \t\r\n");
		if (!name)
			continue;
		char *val = strtok(NULL, " \t\r\n");
		char *extra = strtok(NULL, " \t\r\n");
		const common_opt_t *o = find(opts, name, strlen(name));
		if (!o || !strcmp(name, "config")) {
			fprintf(stderr, "%s:%d: unknown option '%s'\n", path,
				lineno, name);
			rc = -1;
		} else if (extra || (o->has_arg && !val) ||
			   (!o->has_arg && val)) {
			fprintf(stderr, "%s:%d: '%s' takes %s\n", path, lineno,
				name, o->has_arg ? "one value" : "no value");
			rc = -1;
		} else {
			char *keep = val ? keep_value(val) : NULL;
			if (val && !keep) {
				fprintf(stderr, "%s: out of memory\n", path);
				rc = -1;
			} else if (apply(app, name, keep) != 0) {
				fprintf(stderr, "%s:%d: in option '%s'\n", path,
					lineno, name);
				rc = -1;
			}
		}
	}
	fclose(f);
	return rc;
}

int common_args(int argc, char **argv, const common_opt_t *opts,
		common_apply_fn apply, void *app)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "unexpected argument '%s'\n", a);
			return -1;
		}
		a += 2;
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const common_opt_t *o = find(opts, a, nl);
		if (!o) {
			fprintf(stderr, "unknown option '%s' (see --help)\n",
				argv[i]);
			return -1;
		}
		const char *val = NULL;
		if (o->has_arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "option --%s needs a value\n",
					o->name);
				return -1;
			}
		} else if (eq) {
			fprintf(stderr, "option --%s takes no value\n", o->name);
			return -1;
		}
		if (!strcmp(o->name, "config")) {
			if (load_config(val, opts, apply, app) != 0)
				return -1;
		} else if (apply(app, o->name, val) != 0) {
			return -1;
		}
	}
	return 0;
}

int common_uint(const char *name, const char *val, unsigned long min,
		unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(val, &end, 10);
	if (!*val || *end || errno || v < min || v > max || val[0] == '-') {
		fprintf(stderr, "--%s: '%s' is not a number in %lu..%lu\n",
			name, val, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

void common_bad_addr(const char *opt, const char *val)
{
	const char *colon = strchr(val, ':');
	fprintf(stderr, "--%s: '%s' is not IP[@PORT]", opt, val);
	if (colon && colon == strrchr(val, ':') && !strchr(val, '@'))
		fprintf(stderr, "; the port goes after '@': %.*s@%s\n",
			(int)(colon - val), val, colon + 1);
	else
		fprintf(stderr, " (e.g. 127.0.0.1@53 or ::1@53)\n");
}

int common_lib_opt(aname_config_t *cfg, const char *name, const char *val)
{
	int rc;
	if (!strcmp(name, "forward")) {
		rc = aname_config_add_forwarder(cfg, val);
	} else if (!strcmp(name, "stub")) {
		const char *eq = strchr(val, '=');
		if (!eq || eq == val) {
			fprintf(stderr, "--stub: '%s' is not ZONE=IP[@PORT]\n",
				val);
			return -1;
		}
		char zone[256];
		size_t zl = (size_t)(eq - val);
		if (zl >= sizeof(zone)) {
			fprintf(stderr, "--stub: zone name too long\n");
			return -1;
		}
		memcpy(zone, val, zl);
		zone[zl] = '\0';
		rc = aname_config_add_stub(cfg, zone, eq + 1);
	} else if (!strcmp(name, "trust-anchor")) {
		/* DNSSEC validation: bogus targets fail (SERVFAIL). */
		rc = aname_config_set_trust_anchor_file(cfg, val);
	} else if (!strcmp(name, "timeout-ms")) {
		unsigned long v;
		if (common_uint(name, val, 10, 60000, &v) != 0)
			return -1;
		rc = aname_config_set_timeout_ms(cfg, (unsigned)v);
	} else if (!strcmp(name, "stale-max")) {
		unsigned long v;
		if (common_uint(name, val, 0, 604800, &v) != 0)
			return -1;
		rc = aname_config_set_stale(cfg, 30, (uint32_t)v, 400);
	} else {
		return 0;
	}
	if (rc == ANAME_EBADADDR && !strcmp(name, "forward")) {
		common_bad_addr(name, val);
		return -1;
	}
	if (rc == ANAME_EBADADDR && !strcmp(name, "stub")) {
		common_bad_addr(name, strchr(val, '=') + 1);
		return -1;
	}
	if (rc != ANAME_OK) {
		fprintf(stderr, "--%s %s: %s\n", name, val, aname_strerror(rc));
		return -1;
	}
	return 1;
}

void common_log(void *arg, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info",
					      "debug" };
	fprintf(stderr, "%s: %s: %s\n", (const char *)arg,
		level >= 0 && level <= 3 ? names[level] : "log", msg);
}

int common_ctx_new(const char *prog, aname_config_t *cfg, int threads,
		   aname_ctx_t **ctx)
{
	if (threads > 1)
		aname_config_set_thread(cfg, 1);
	int rc = aname_ctx_new(ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "%s: library: %s\n", prog, aname_strerror(rc));
		return -1;
	}
	return 0;
}
