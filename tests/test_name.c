/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Name validation and conversion (lib/name.c), table-driven.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"

/* Inline strings: Criterion copies parameters into a separate process,
 * where pointers into the parent's data would not be valid. */
struct name_case {
	char text[32];
	int status;
	size_t wire_len;
	char back[32]; /* presentation after a round trip */
};

ParameterizedTestParameters(name, table)
{
	static struct name_case cases[] = {
		{"example.test", ANAME_OK, 14, "example.test."},
		{"example.test.", ANAME_OK, 14, "example.test."},
		{"Example.TEST.", ANAME_OK, 14, "Example.TEST."},
		{".", ANAME_OK, 1, "."},
		{"", ANAME_OK, 1, "."},
		{"a\\.b.test", ANAME_OK, 10, "a\\.b.test."},
		{"a\\046b.test", ANAME_OK, 10, "a\\.b.test."},
		{"sp\\032ace.test", ANAME_OK, 13, "sp\\032ace.test."},
		{"a..b", ANAME_EBADNAME, 0, ""},
		{".a", ANAME_EBADNAME, 0, ""},
		{"..", ANAME_EBADNAME, 0, ""},
		{"a\\", ANAME_EBADNAME, 0, ""},
		{"a\\2", ANAME_EBADNAME, 0, ""},
		{"a\\25x", ANAME_EBADNAME, 0, ""},
		{"a\\256", ANAME_EBADNAME, 0, ""},
	};
	return cr_make_param_array(struct name_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, name, table)
{
	uint8_t wire[255];
	char text[1024];
	size_t len = 0;
	int rc = aname_name_to_wire(c->text, wire, sizeof(wire), &len);
	cr_assert_eq(rc, c->status, "%s: %s", c->text, aname_status_name(rc));
	if (rc == ANAME_OK) {
		cr_assert_eq(len, c->wire_len, "%s: wire length %zu", c->text,
			     len);
		cr_assert_geq(aname__name_to_text(wire, len, text,
						  sizeof(text)),
			      0);
		cr_assert_str_eq(text, c->back);
	}
}

Test(name, label_of_63_ok_64_rejected)
{
	char name[80];
	uint8_t wire[255];
	size_t len;
	memset(name, 'a', 63);
	strcpy(name + 63, ".test");
	cr_assert_eq(aname_name_to_wire(name, wire, sizeof(wire), &len),
		     ANAME_OK);
	memset(name, 'a', 64);
	strcpy(name + 64, ".test");
	cr_assert_eq(aname_name_to_wire(name, wire, sizeof(wire), &len),
		     ANAME_EBADNAME);
}

Test(name, name_of_255_octets_ok_256_rejected)
{
	/* 4 labels of 62 + 1 label of 1: 4*63 + 2 + 1 = 255 octets. */
	char name[300];
	uint8_t wire[255];
	size_t len, p = 0;
	for (int l = 0; l < 4; l++) {
		memset(name + p, 'x', 62);
		p += 62;
		name[p++] = '.';
	}
	name[p++] = 'y';
	name[p] = '\0';
	cr_assert_eq(aname_name_to_wire(name, wire, sizeof(wire), &len),
		     ANAME_OK);
	cr_assert_eq(len, 255);
	name[p++] = 'y'; /* one more octet */
	name[p] = '\0';
	cr_assert_eq(aname_name_to_wire(name, wire, sizeof(wire), &len),
		     ANAME_EBADNAME);
}

Test(name, small_buffer_and_null)
{
	uint8_t wire[4];
	size_t len;
	cr_assert_eq(aname_name_to_wire("example.test", wire, sizeof(wire),
					&len),
		     ANAME_ENOSPC);
	cr_assert_eq(aname_name_to_wire(NULL, wire, sizeof(wire), &len),
		     ANAME_EINVAL);
}

Test(name, lower_and_equal)
{
	uint8_t a[255], b[255];
	size_t al, bl;
	aname_name_to_wire("WwW.Example.TEST", a, sizeof(a), &al);
	aname_name_to_wire("www.example.test", b, sizeof(b), &bl);
	cr_assert(aname__name_equal(a, al, b, bl));
	aname__name_lower(a, al);
	cr_assert_eq(memcmp(a, b, al), 0);
}

Test(name, text_rendering_rejects_malformed_wire)
{
	char text[64];
	const uint8_t bad[] = {5, 'a', 'b'}; /* label runs past the end */
	cr_assert_lt(aname__name_to_text(bad, sizeof(bad), text, sizeof(text)),
		     0);
	const uint8_t noroot[] = {1, 'a'};
	cr_assert_lt(aname__name_to_text(noroot, sizeof(noroot), text,
					 sizeof(text)),
		     0);
}
