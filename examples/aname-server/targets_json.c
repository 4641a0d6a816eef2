/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * /targets: aname_targets_each() as JSON, for the operator who needs to
 * know which targets are failing (httpd.c serves it).
 */
#include "targets_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, cap, max;
	unsigned n, limit, skipped;
	int want; /* state filter, -1: all */
	int failed;
};

static void add(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (!b) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void addf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void addf(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		add(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string: presentation names may hold '\' and '"' escapes. */
static void add_str(struct out *o, const char *s)
{
	add(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			add(o, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			addf(o, "\\u%04x", c);
		} else {
			add(o, (const char *)&c, 1);
		}
	}
	add(o, "\"", 1);
}

static void add_age(struct out *o, const char *key, uint32_t v)
{
	if (v == UINT32_MAX)
		addf(o, ",\"%s\":null", key);
	else
		addf(o, ",\"%s\":%u", key, v);
}

static int one(void *arg, const aname_target_info_t *t)
{
	struct out *o = arg;
	if (o->want >= 0 && t->state != o->want)
		return 0;
	if (o->n >= o->limit || o->len >= o->max) {
		o->skipped++;
		return 0;
	}
	add(o, o->n ? ",\n" : "\n", o->n ? 2 : 1);
	add(o, "{\"target\":", 10);
	add_str(o, t->target);
	addf(o, ",\"type\":\"%s\",\"state\":\"%s\",\"registered\":%s",
	     t->rrtype == ANAME_RRTYPE_AAAA ? "AAAA" : "A",
	     aname_target_state_name(t->state),
	     t->registered ? "true" : "false");
	addf(o, ",\"addresses\":%u,\"rcode\":%d,\"age_s\":%u,\"ttl_left_s\":%u,"
		"\"stale_for_s\":%u,\"secure\":%s,\"chain\":%u",
	     t->addresses, t->rcode, t->age_s, t->ttl_left_s, t->stale_for_s,
	     t->secure ? "true" : "false", t->chain);
	addf(o, ",\"last_error\":");
	if (t->last_error == ANAME_OK)
		add(o, "null", 4);
	else
		add_str(o, aname_status_name(t->last_error));
	add_age(o, "last_error_age_s", t->last_error_age_s);
	addf(o, ",\"consecutive_failures\":%u", t->consecutive_failures);
	add_age(o, "changed_age_s", t->changed_age_s);
	add(o, "}", 1);
	o->n++;
	return 0;
}

int targets_state_from_name(const char *name)
{
	for (int i = 0; i < ANAME_TARGET_STATE_COUNT_; i++)
		if (!strcmp(aname_target_state_name(i), name))
			return i;
	return -1;
}

char *targets_json(aname_ctx_t *ctx, int state, unsigned limit,
		   size_t *len)
{
	struct out o = {.want = state, .limit = limit,
			.max = TARGETS_JSON_MAX_BYTES};
	add(&o, "{\"targets\":[", 12);
	if (aname_targets_each(ctx, one, &o) != ANAME_OK)
		o.failed = 1;
	addf(&o, "\n],\"count\":%u,\"truncated\":%u}\n", o.n, o.skipped);
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
