/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Synthesis (lib/synth.c): wire output parses back with ldns, text output
 * matches, the TTL rule holds, bad owners and small buffers are refused.
 */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"

static aname_result_t *make(uint16_t type, size_t n, uint32_t ttl)
{
	aname_result_t *r = aname__result_new(type, "t.test.", n);
	r->ttl = ttl;
	r->expire_ms = aname__now_ms() + ttl * 1000ull;
	r->stale_ttl = 30;
	size_t alen = type == ANAME_RRTYPE_A ? 4 : 16;
	for (size_t i = 0; i < n; i++) {
		memset(aname__result_addrs(r) + i * alen, 0, alen);
		aname__result_addrs(r)[i * alen] = 192;
		aname__result_addrs(r)[i * alen + alen - 1] = (uint8_t)(i + 1);
	}
	return r;
}

Test(synth, wire_parses_back)
{
	aname_result_t *r = make(ANAME_RRTYPE_A, 3, 300);
	uint8_t owner[255], buf[512];
	size_t olen, wlen;
	aname_name_to_wire("Alias.Example.", owner, sizeof(owner), &olen);
	int n = aname_synth_wire(r, ANAME_RRTYPE_A, owner, olen, 60, buf,
				 sizeof(buf), &wlen);
	cr_assert_eq(n, 3);
	size_t pos = 0;
	for (int i = 0; i < 3; i++) {
		ldns_rr *rr = NULL;
		cr_assert_eq(ldns_wire2rr(&rr, buf, wlen, &pos,
					  LDNS_SECTION_ANSWER),
			     LDNS_STATUS_OK);
		cr_assert_eq(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
		cr_assert_eq(ldns_rr_ttl(rr), 60, "min(alias 60, target 300)");
		char *owner_s = ldns_rdf2str(ldns_rr_owner(rr));
		cr_assert_str_eq(owner_s, "Alias.Example.");
		free(owner_s);
		ldns_rr_free(rr);
	}
	cr_assert_eq(pos, wlen);
	aname_result_unref(r);
}

Test(synth, ttl_rule_both_ways)
{
	aname_result_t *r = make(ANAME_RRTYPE_AAAA, 1, 50);
	cr_assert_eq(aname_synth_ttl(r, ANAME_RRTYPE_AAAA, 3600), 50);
	cr_assert_eq(aname_synth_ttl(r, ANAME_RRTYPE_AAAA, 10), 10);
	aname_result_unref(r);
}

Test(synth, text_and_ldns_agree)
{
	aname_result_t *r = make(ANAME_RRTYPE_AAAA, 2, 300);
	char text[256];
	int n = aname_synth_text(r, ANAME_RRTYPE_AAAA, "o.test", 100, text,
				 sizeof(text));
	cr_assert_str_eq(text, "o.test.\t100\tIN\tAAAA\tc000::1\n"
			       "o.test.\t100\tIN\tAAAA\tc000::2\n");
	cr_assert_eq(n, (int)strlen(text));
	char small[10];
	cr_assert_eq(aname_synth_text(r, ANAME_RRTYPE_AAAA, "o.test", 100,
				      small, sizeof(small)),
		     n, "snprintf-like length when truncated");
	struct ldns_struct_rr_list *list = NULL;
	cr_assert_eq(aname_synth_ldns(r, ANAME_RRTYPE_AAAA, "o.test", 100,
				      &list),
		     ANAME_OK);
	cr_assert_eq(ldns_rr_list_rr_count(list), 2);
	cr_assert(ldns_is_rrset(list));
	char *s = ldns_rr2str(ldns_rr_list_rr(list, 0));
	cr_assert_str_eq(s, "o.test.\t100\tIN\tAAAA\tc000::1\n");
	free(s);
	ldns_rr_list_deep_free(list);
	aname_result_unref(r);
}

Test(synth, refuses_bad_input)
{
	aname_result_t *r = make(ANAME_RRTYPE_A, 2, 300);
	uint8_t buf[64];
	const uint8_t bad_owner[] = {3, 'a', 'b'};
	const uint8_t owner[] = {1, 'o', 0};
	cr_assert_eq(aname_synth_wire(r, ANAME_RRTYPE_A, bad_owner,
				      sizeof(bad_owner), 60, buf, sizeof(buf),
				      NULL),
		     ANAME_EBADNAME);
	cr_assert_eq(aname_synth_wire(r, ANAME_RRTYPE_A, owner, sizeof(owner),
				      60, buf, 20, NULL),
		     ANAME_ENOSPC);
	cr_assert_eq(aname_synth_wire(r, 16, owner, sizeof(owner), 60, buf,
				      sizeof(buf), NULL),
		     ANAME_EINVAL);
	cr_assert_eq(aname_synth_text(r, ANAME_RRTYPE_A, "a..b", 1, (char *)buf,
				      sizeof(buf)),
		     ANAME_EBADNAME);
	aname_result_unref(r);
}

Test(synth, empty_result_writes_nothing)
{
	aname_result_t *r = make(ANAME_RRTYPE_A, 0, 300);
	uint8_t buf[64];
	size_t w = 99;
	const uint8_t owner[] = {1, 'o', 0};
	cr_assert_eq(aname_synth_wire(r, ANAME_RRTYPE_A, owner, sizeof(owner),
				      60, buf, sizeof(buf), &w),
		     0);
	cr_assert_eq(w, 0);
	aname_result_unref(r);
}
