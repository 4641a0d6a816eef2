/*
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <criterion/criterion.h>
#include <string.h>

#include <aname.h>

Test(status, every_code_has_name_and_message)
{
	int seen = 0;
#define XX(name, val, msg)                                                    \
	cr_assert_str_eq(aname_strerror(val), msg);                           \
	cr_assert_str_eq(aname_status_name(val), "ANAME_" #name);             \
	cr_assert_lt(val, 0);                                                 \
	seen++;
	ANAME_STATUS_MAP(XX)
#undef XX
	cr_assert_gt(seen, 10);
	cr_assert_str_eq(aname_strerror(ANAME_OK), "success");
	cr_assert_str_eq(aname_status_name(12345), "ANAME_UNKNOWN");
	cr_assert_str_eq(aname_strerror(-999), "unknown status");
}

Test(status, values_are_fixed)
{
	/* Bindings depend on these numbers: they never change. */
	cr_assert_eq(ANAME_EINVAL, -1);
	cr_assert_eq(ANAME_ETIMEDOUT, -6);
	cr_assert_eq(ANAME_ESERVFAIL, -7);
	cr_assert_eq(ANAME_ESHED, -15);
	cr_assert_eq(ANAME_EFILE, -21);
}

Test(status, stats_and_health_names)
{
	for (int i = 0; i < ANAME_STAT_COUNT_; i++) {
		const char *n = aname_stat_name(i);
		cr_assert_not_null(n, "stat %d", i);
		for (const char *p = n; *p; p++) {
			cr_assert((*p >= 'a' && *p <= 'z') || *p == '_',
				  "metric name %s", n);
		}
	}
	cr_assert_null(aname_stat_name(ANAME_STAT_COUNT_));
	cr_assert_str_eq(aname_health_level_name(ANAME_HEALTH_FAILING),
			 "failing");
	cr_assert_str_eq(aname_health_reason_name(ANAME_REASON_SHEDDING),
			 "shedding");
	cr_assert_str_eq(aname_health_reason_name(99), "unknown");
	unsigned hex = 0;
	cr_assert_str_eq(aname_version(&hex), ANAME_VERSION_STR);
	cr_assert_eq(hex, ANAME_VERSION_HEX);
}
