/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file alias.c
 * \brief "owner [ttl] target." parsing for the mod-aname "alias" item.
 *
 * Names are checked with the library's own name parser (aname_name_to_wire)
 * so that the module accepts exactly the names the library will resolve.
 * The target must be absolute: a relative target would silently depend on
 * which zone the config id is attached to.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "aname.h"
#include "alias.h"

bool aname_knot_name_is_abs(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || name[len - 1] != '.') {
		return false;
	}
	/* A trailing "\." is an escaped dot inside a label, not the root. */
	size_t bs = 0;
	for (size_t i = len - 1; i > 0 && name[i - 1] == '\\'; i--) {
		bs++;
	}
	return bs % 2 == 0;
}

/* Copy the next whitespace-separated token; false if too long. */
static bool next_token(const char **p, char *buf, size_t buflen)
{
	const char *s = *p;
	while (isspace((unsigned char)*s)) {
		s++;
	}
	size_t n = 0;
	while (*s != '\0' && !isspace((unsigned char)*s)) {
		if (n + 1 >= buflen) {
			return false;
		}
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	*p = s;
	return true;
}

static bool valid_name(const char *name)
{
	uint8_t wire[512];
	return aname_name_to_wire(name, wire, sizeof(wire), NULL) == ANAME_OK;
}

static bool parse_ttl(const char *s, uint32_t *ttl)
{
	if (*s == '\0') {
		return false;
	}
	uint64_t v = 0;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s)) {
			return false;
		}
		v = v * 10 + (uint64_t)(*s - '0');
		/* RFC 2181 section 8: TTLs are 31-bit. */
		if (v > 2147483647u) {
			return false;
		}
	}
	*ttl = (uint32_t)v;
	return true;
}

const char *aname_knot_alias_parse(const char *text,
				   struct aname_knot_alias *out)
{
	char tok[4][ANAME_KNOT_NAME_TXT + 1];
	const char *p = text;
	size_t n = 0;

	if (text == NULL || out == NULL) {
		return "no value";
	}
	while (n < 4) {
		if (!next_token(&p, tok[n], sizeof(tok[n]))) {
			return "field too long";
		}
		if (tok[n][0] == '\0') {
			break;
		}
		n++;
	}
	if (n > 3) {
		return "too many fields, expected \"owner [ttl] target.\"";
	}
	if (n < 2) {
		return "expected \"owner [ttl] target.\"";
	}

	const char *owner = tok[0];
	const char *target = tok[n - 1];
	out->ttl = ANAME_KNOT_DEFAULT_ALIAS_TTL;
	if (n == 3 && !parse_ttl(tok[1], &out->ttl)) {
		return "bad TTL, expected 0 to 2147483647 seconds";
	}
	if (strcmp(owner, "@") != 0 && !valid_name(owner)) {
		return "malformed owner name";
	}
	if (!valid_name(target)) {
		return "malformed target name";
	}
	if (!aname_knot_name_is_abs(target)) {
		return "target must be absolute (end with '.')";
	}
	strcpy(out->owner, owner);
	strcpy(out->target, target);
	return NULL;
}

bool aname_knot_alias_owner_abs(const char *owner, const char *zone,
				char *buf, size_t buflen)
{
	size_t need;
	if (strcmp(owner, "@") == 0) {
		need = strlen(zone) + 1;
		if (need > buflen) {
			return false;
		}
		memcpy(buf, zone, need);
		return true;
	}
	if (aname_knot_name_is_abs(owner)) {
		need = strlen(owner) + 1;
		if (need > buflen) {
			return false;
		}
		memcpy(buf, owner, need);
		return true;
	}
	/* The root zone's name is ".", so relative owners need no extra dot. */
	const char *sep = strcmp(zone, ".") == 0 ? "" : ".";
	const char *suffix = strcmp(zone, ".") == 0 ? "." : zone;
	need = strlen(owner) + strlen(sep) + strlen(suffix) + 1;
	if (need > buflen) {
		return false;
	}
	strcpy(buf, owner);
	strcat(buf, sep);
	strcat(buf, suffix);
	return true;
}
