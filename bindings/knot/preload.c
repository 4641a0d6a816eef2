/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file preload.c
 * \brief TYPE65401 (ALIAS) records of a zone file, with Knot's own scanner.
 *
 * The path follows knotd's rules for the zone "file" item: relative paths
 * are under "storage", the default is "%s.zone", and "%s" is the zone name
 * without its final dot.  Other "%" patterns are not expanded; such zones
 * simply rely on registration at the first query.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libzscanner/scanner.h>

#include "aname.h"
#include "preload.h"

struct scan {
	knotd_mod_t *mod;
	const knot_dname_t *apex;
	aname_knot_preload_cb cb;
	void *arg;
	size_t seen;
};

static void on_record(zs_scanner_t *s)
{
	struct scan *sc = s->process.data;
	if (s->r_type != ANAME_RRTYPE_ALIAS ||
	    knot_dname_in_bailiwick(s->r_owner, sc->apex) < 0) {
		return;
	}
	if (knot_dname_wire_check(s->r_data, s->r_data + s->r_data_length,
				  NULL) != (int)s->r_data_length) {
		knotd_mod_log(sc->mod, LOG_WARNING, "zone file line %" PRIu64
			      ": TYPE65401 rdata is not one uncompressed name, "
			      "ignored", s->line_counter);
		return;
	}
	if (++sc->seen > ANAME_KNOT_MAX_FILE_ALIASES) {
		if (sc->seen == ANAME_KNOT_MAX_FILE_ALIASES + 1) {
			knotd_mod_log(sc->mod, LOG_ERR, "more than %u ALIAS "
				      "records in the zone file; the rest are "
				      "ignored", ANAME_KNOT_MAX_FILE_ALIASES);
		}
		return;
	}
	sc->cb(sc->arg, s->r_owner, s->r_ttl, s->r_data, s->line_counter);
}

/* Expand knotd's file pattern; false for patterns we do not handle. */
static bool zone_path(const char *pattern, const char *storage,
		      const char *zone, char *buf, size_t buflen)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	snprintf(name, sizeof(name), "%s", zone);
	size_t zl = strlen(name);
	if (zl > 1 && name[zl - 1] == '.') {
		name[zl - 1] = '\0';
	}

	size_t off = 0;
	if (pattern[0] != '/') {
		if (storage == NULL) {
			return false;
		}
		off = (size_t)snprintf(buf, buflen, "%s/", storage);
	}
	for (const char *p = pattern; *p != '\0' && off < buflen; p++) {
		if (*p != '%') {
			buf[off++] = *p;
			continue;
		}
		p++;
		if (*p == 's') {
			off += (size_t)snprintf(buf + off, buflen - off, "%s",
						name);
		} else if (*p == '%') {
			buf[off++] = '%';
		} else {
			return false;
		}
	}
	if (off >= buflen) {
		return false;
	}
	buf[off] = '\0';
	return true;
}

bool aname_knot_zone_file(knotd_mod_t *mod, char *path, size_t len)
{
	const knot_dname_t *apex = knotd_mod_zone(mod);
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(zone, apex, sizeof(zone));

	knotd_conf_t file = knotd_conf_zone(mod, (const yp_name_t *)"\x04" "file",
					    apex);
	knotd_conf_t storage = knotd_conf_zone(
		mod, (const yp_name_t *)"\x07" "storage", apex);
	const char *pattern = file.single.string;
	if (pattern == NULL || pattern[0] == '\0') {
		pattern = "%s.zone";
	}
	if (!zone_path(pattern, storage.single.string, zone, path, len)) {
		knotd_mod_log(mod, LOG_NOTICE, "zone file pattern '%s' not "
			      "expanded; ALIAS records in zone data are "
			      "registered at first query", pattern);
		return false;
	}
	return true;
}

bool aname_knot_scan_file(knotd_mod_t *mod, const char *path,
			  aname_knot_preload_cb cb, void *arg)
{
	const knot_dname_t *apex = knotd_mod_zone(mod);
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(zone, apex, sizeof(zone));
	struct scan sc = { .mod = mod, .apex = apex, .cb = cb, .arg = arg };
	zs_scanner_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return false;
	}
	bool ok = false;
	if (zs_init(s, zone, KNOT_CLASS_IN, 3600) == 0) {
		if (zs_set_input_file(s, path) == 0 &&
		    zs_set_processing(s, on_record, NULL, &sc) == 0) {
			/* knotd reports syntax errors itself when it loads the
			 * zone; the scan just skips what it cannot parse. */
			(void)zs_parse_all(s);
			ok = true;
		}
		zs_deinit(s);
	}
	free(s);
	return ok;
}
