/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file status.c
 * \brief Status, health-reason and statistic names.  Every table is
 * generated from the X-macros in aname.h, so a code, its name and its
 * sentence cannot drift apart.
 */
#include "aname_private.h"

const char *aname_strerror(int status)
{
	switch (status) {
	case ANAME_OK:
		return "success";
#define XX(name, val, msg)                                                    \
	case ANAME_##name:                                                    \
		return msg;
		ANAME_STATUS_MAP(XX)
#undef XX
	default:
		return "unknown status";
	}
}

const char *aname_status_name(int status)
{
	switch (status) {
	case ANAME_OK:
		return "ANAME_OK";
#define XX(name, val, msg)                                                    \
	case ANAME_##name:                                                    \
		return "ANAME_" #name;
		ANAME_STATUS_MAP(XX)
#undef XX
	default:
		return "ANAME_UNKNOWN";
	}
}

const char *aname_version(unsigned *hex)
{
	if (hex != NULL) {
		*hex = ANAME_VERSION_HEX;
	}
	return ANAME_VERSION_STR;
}

const char *aname_health_level_name(int level)
{
	switch (level) {
	case ANAME_HEALTH_OK:
		return "ok";
	case ANAME_HEALTH_DEGRADED:
		return "degraded";
	case ANAME_HEALTH_FAILING:
		return "failing";
	default:
		return "unknown";
	}
}

const char *aname_health_reason_name(int reason)
{
	switch (reason) {
#define XX(name, val, anchor, text)                                           \
	case ANAME_REASON_##name:                                             \
		return anchor;
		ANAME_HEALTH_REASON_MAP(XX)
#undef XX
	default:
		return "unknown";
	}
}

const char *aname_health_reason_text(int reason)
{
	switch (reason) {
#define XX(name, val, anchor, text)                                           \
	case ANAME_REASON_##name:                                             \
		return text;
		ANAME_HEALTH_REASON_MAP(XX)
#undef XX
	default:
		return "unknown health reason";
	}
}

const char *aname_stat_name(int stat)
{
	switch (stat) {
#define XX(name, val, metric, kind, help)                                     \
	case ANAME_STAT_##name:                                               \
		return metric;
		ANAME_STAT_MAP(XX)
#undef XX
	default:
		return NULL;
	}
}

const char *aname_target_state_name(int state)
{
	switch (state) {
#define XX(name, val, str, text)                                              \
	case ANAME_TARGET_##name:                                             \
		return str;
		ANAME_TARGET_STATE_MAP(XX)
#undef XX
	default:
		return NULL;
	}
}
