/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file name.c
 * \brief Domain names: presentation text <-> uncompressed wire format.
 *
 * Every name that enters the library from a host passes through
 * aname__name_parse(), which is strict: an empty label (except the root),
 * a label over 63 octets, a name over 255 octets, a bad escape or a NUL
 * inside the text is rejected before anything else happens.  Wire names
 * are what the cache keys on (lower-cased) and what synthesis writes.
 */
#include "name.h"

#include <string.h>

/* Read one character of a label, decoding "\X" and "\DDD". */
static int read_char(const char **p, uint8_t *out)
{
	const char *s = *p;
	if (*s != '\\') {
		*out = (uint8_t)*s;
		*p = s + 1;
		return ANAME_OK;
	}
	s++;
	if (*s >= '0' && *s <= '9') {
		if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9')) {
			return ANAME_EBADNAME;
		}
		int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (v > 255) {
			return ANAME_EBADNAME;
		}
		*out = (uint8_t)v;
		*p = s + 3;
		return ANAME_OK;
	}
	if (*s == '\0') {
		return ANAME_EBADNAME; /* a trailing lone backslash */
	}
	*out = (uint8_t)*s;
	*p = s + 1;
	return ANAME_OK;
}

int aname__name_parse(const char *text, uint8_t *wire, size_t *wire_len)
{
	if (text == NULL || wire == NULL) {
		return ANAME_EINVAL;
	}
	/* "" and "." are the root. */
	if (text[0] == '\0' || (text[0] == '.' && text[1] == '\0')) {
		wire[0] = 0;
		*wire_len = 1;
		return ANAME_OK;
	}
	size_t pos = 0;
	const char *p = text;
	while (*p != '\0') {
		size_t label_at = pos++;
		size_t label_len = 0;
		if (*p == '.') {
			return ANAME_EBADNAME; /* empty label */
		}
		while (*p != '\0' && *p != '.') {
			uint8_t c;
			int rc = read_char(&p, &c);
			if (rc != ANAME_OK) {
				return rc;
			}
			if (++label_len > ANAME_LABEL_MAX ||
			    pos + 1 >= ANAME_NAME_MAX) {
				return ANAME_EBADNAME;
			}
			wire[pos++] = c;
		}
		wire[label_at] = (uint8_t)label_len;
		if (*p == '.') {
			p++;
		}
	}
	wire[pos++] = 0;
	*wire_len = pos;
	return ANAME_OK;
}

void aname__name_lower(uint8_t *wire, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint8_t n = wire[i++];
		for (uint8_t j = 0; j < n && i < len; j++, i++) {
			if (wire[i] >= 'A' && wire[i] <= 'Z') {
				wire[i] = (uint8_t)(wire[i] + ('a' - 'A'));
			}
		}
		if (n == 0) {
			break;
		}
	}
}

/* Check that a wire name from a host is one well-formed uncompressed name
 * of exactly \a len octets: the host may hand us anything. */
bool aname__name_equal(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen)
{
	if (alen != blen) {
		return false;
	}
	for (size_t i = 0; i < alen; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z') {
			x = (uint8_t)(x + 32);
		}
		if (y >= 'A' && y <= 'Z') {
			y = (uint8_t)(y + 32);
		}
		if (x != y) {
			return false;
		}
	}
	return true;
}

int aname__name_to_text(const uint8_t *wire, size_t len, char *out,
			size_t outlen)
{
	size_t o = 0;
	size_t i = 0;
	if (outlen < 2) {
		return ANAME_ENOSPC;
	}
	if (len == 0) {
		return ANAME_EBADNAME;
	}
	if (wire[0] == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (i < len && wire[i] != 0) {
		uint8_t n = wire[i++];
		if (n > ANAME_LABEL_MAX || i + n > len) {
			return ANAME_EBADNAME;
		}
		for (uint8_t j = 0; j < n; j++) {
			uint8_t c = wire[i++];
			/* Escape what would change the name's meaning when
			 * read back: the separators, and non-printables. */
			if (c == '.' || c == '\\' || c == '"' || c == ';' ||
			    c == '(' || c == ')' || c == '@' || c == '$') {
				if (o + 2 >= outlen) {
					return ANAME_ENOSPC;
				}
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				if (o + 4 >= outlen) {
					return ANAME_ENOSPC;
				}
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + (c / 10) % 10);
				out[o++] = (char)('0' + c % 10);
			} else {
				if (o + 1 >= outlen) {
					return ANAME_ENOSPC;
				}
				out[o++] = (char)c;
			}
		}
		if (o + 1 >= outlen) {
			return ANAME_ENOSPC;
		}
		out[o++] = '.';
	}
	if (i >= len) {
		return ANAME_EBADNAME; /* no terminating root label */
	}
	out[o] = '\0';
	return (int)o;
}

int aname_name_to_wire(const char *name, uint8_t *buf, size_t buflen,
		       size_t *outlen)
{
	uint8_t wire[ANAME_NAME_MAX];
	size_t len = 0;
	if (name == NULL || buf == NULL) {
		return ANAME_EINVAL;
	}
	int rc = aname__name_parse(name, wire, &len);
	if (rc != ANAME_OK) {
		return rc;
	}
	if (len > buflen) {
		return ANAME_ENOSPC;
	}
	memcpy(buf, wire, len);
	if (outlen != NULL) {
		*outlen = len;
	}
	return ANAME_OK;
}
