/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_name.c
 * \brief Fuzz target "name": domain names in presentation and wire form.
 *
 * Every target name a host hands the library (and every ALIAS target read
 * from zone data) goes through aname__name_parse(); names the library
 * renders back go through aname__name_to_text().  The first input byte
 * picks what the rest is:
 *
 *   mode 0  presentation text: parse, render, parse again; the two wire
 *           forms must be identical, and ldns must read our rendering as
 *           the same wire name.
 *   mode 1  wire bytes (a host-supplied owner, say): render into a buffer
 *           of fuzzed size; whatever renders must parse back to the same
 *           wire name, or be refused because it is over 255 octets.
 *   mode 2  two wire names: lower-casing and case-insensitive comparison
 *           must agree with each other.
 */
#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"
#include "fuzz_check.h"

#include <ldns/ldns.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is w[0..len) one well-formed uncompressed wire name, root included? */
static bool wire_ok(const uint8_t *w, size_t len)
{
	size_t i = 0;
	if (len == 0 || len > ANAME_NAME_MAX) {
		return false;
	}
	while (i < len) {
		if (w[i] == 0) {
			return i + 1 == len;
		}
		if (w[i] > ANAME_LABEL_MAX) {
			return false;
		}
		i += 1u + w[i];
	}
	return false;
}

static void text_mode(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint8_t wire[ANAME_NAME_MAX], wire2[ANAME_NAME_MAX];
	uint8_t pub[ANAME_NAME_MAX];
	char rendered[ANAME_TEXT_MAX];
	size_t len = 0, len2 = 0, publen = 0;
	if (text == NULL) {
		return;
	}
	memcpy(text, data, size);
	text[size] = '\0';

	int rc = aname__name_parse(text, wire, &len);
	int prc = aname_name_to_wire(text, pub, sizeof(pub), &publen);
	FUZZ_CHECK(rc == prc, "internal %d vs public %d", rc, prc);
	if (rc != ANAME_OK) {
		FUZZ_CHECK(rc == ANAME_EBADNAME, "parse failed with %d", rc);
		free(text);
		return;
	}
	FUZZ_CHECK(len == publen && memcmp(wire, pub, len) == 0,
		   "public and internal wire differ");
	FUZZ_CHECK(wire_ok(wire, len), "parse produced a bad wire name");

	/* A too small buffer is refused, not overrun. */
	if (len > 1) {
		uint8_t *small = malloc(len - 1);
		FUZZ_CHECK(small != NULL, "oom");
		prc = aname_name_to_wire(text, small, len - 1, NULL);
		FUZZ_CHECK(prc == ANAME_ENOSPC, "short buffer gave %d", prc);
		free(small);
	}

	int n = aname__name_to_text(wire, len, rendered, sizeof(rendered));
	FUZZ_CHECK(n > 0, "cannot render a parsed name: %d", n);
	FUZZ_CHECK((size_t)n == strlen(rendered), "length %d", n);
	FUZZ_CHECK(rendered[n - 1] == '.', "rendering not absolute");

	rc = aname__name_parse(rendered, wire2, &len2);
	FUZZ_CHECK(rc == ANAME_OK, "rendering '%s' does not parse", rendered);
	FUZZ_CHECK(len2 == len && memcmp(wire, wire2, len) == 0,
		   "round trip changed the name: '%s'", rendered);

	/* A second, independent reader agrees on what we wrote. */
	ldns_rdf *rdf = NULL;
	ldns_status st = ldns_str2rdf_dname(&rdf, rendered);
	FUZZ_CHECK(st == LDNS_STATUS_OK, "ldns rejects '%s': %s", rendered,
		   ldns_get_errorstr_by_id(st));
	FUZZ_CHECK(ldns_rdf_size(rdf) == len &&
			   memcmp(ldns_rdf_data(rdf), wire, len) == 0,
		   "ldns reads '%s' differently", rendered);
	ldns_rdf_deep_free(rdf);
	free(text);
}

static void wire_mode(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return;
	}
	/* Output buffer of fuzzed size, heap-allocated so ASan sees any
	 * write past it. */
	size_t outlen = data[0] == 255 ? ANAME_TEXT_MAX : data[0];
	data++;
	size--;
	char *out = malloc(outlen ? outlen : 1);
	FUZZ_CHECK(out != NULL, "oom");
	int n = size ? aname__name_to_text(data, size, out, outlen)
		     : ANAME_EBADNAME;
	if (n < 0) {
		FUZZ_CHECK(n == ANAME_EBADNAME || n == ANAME_ENOSPC,
			   "render failed with %d", n);
		free(out);
		return;
	}
	FUZZ_CHECK((size_t)n < outlen && strlen(out) == (size_t)n,
		   "length %d in a %zu buffer", n, outlen);
	/* Where the name it rendered ends. */
	size_t end = 0;
	while (data[end] != 0) {
		end += 1u + data[end];
		FUZZ_CHECK(end < size, "rendered a name without its root");
	}
	end++;
	uint8_t wire[ANAME_NAME_MAX];
	size_t len = 0;
	int rc = aname__name_parse(out, wire, &len);
	if (end > ANAME_NAME_MAX) {
		FUZZ_CHECK(rc == ANAME_EBADNAME, "over-long name accepted");
	} else {
		FUZZ_CHECK(rc == ANAME_OK, "rendering '%s' does not parse",
			   out);
		FUZZ_CHECK(len == end && memcmp(wire, data, len) == 0,
			   "'%s' parses to another name", out);
	}
	free(out);
}

static void case_mode(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return;
	}
	size_t alen = data[0] % size;
	const uint8_t *a = data + 1;
	if (alen > size - 1) {
		alen = size - 1;
	}
	const uint8_t *b = a + alen;
	size_t blen = size - 1 - alen;
	uint8_t *la = malloc(alen + 1), *lb = malloc(blen + 1);
	FUZZ_CHECK(la != NULL && lb != NULL, "oom");
	memcpy(la, a, alen);
	memcpy(lb, b, blen);
	aname__name_lower(la, alen);
	aname__name_lower(lb, blen);
	bool eq = aname__name_equal(a, alen, b, blen);
	if (wire_ok(a, alen) && wire_ok(b, blen)) {
		/* On real names, lower-casing is what equality means. */
		bool leq = alen == blen && memcmp(la, lb, alen) == 0;
		FUZZ_CHECK(eq == leq, "equal %d, lowered equal %d", eq, leq);
		FUZZ_CHECK(aname__name_equal(la, alen, a, alen),
			   "lowering changed the name");
	}
	free(la);
	free(lb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	switch (data[0] % 3) {
	case 0:
		text_mode(data + 1, size - 1);
		break;
	case 1:
		wire_mode(data + 1, size - 1);
		break;
	default:
		case_mode(data + 1, size - 1);
		break;
	}
	return 0;
}
