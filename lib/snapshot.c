/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file snapshot.c
 * \brief aname_cache_save() and aname_cache_load(): warm restarts.
 *
 * A server restarted while its upstream is down would otherwise answer
 * SERVFAIL for every ALIAS until the upstream returns.  The snapshot keeps
 * every cached answer with the TTL it had left, so a restarted server
 * serves them (stale once expired, within max-stale) at once.
 *
 * Format, all integers big-endian (version 1):
 *
 *   "ANAMESNP"  u32 version  u32 count  u64 saved_at (wall clock, ms)
 *   count x { u8 name_len, name (lower-case wire), u16 rrtype, u8 rcode,
 *             u8 secure, u8 chain, u16 addresses, u32 ttl, u32 stale_ttl,
 *             u32 age_ms (since the answer arrived), addresses }
 *   u64 FNV-1a of everything before it
 *
 * Every field is checked on load (snapshot.h's parser is fuzzed); any
 * defect rejects the whole file before the cache is touched.
 */
#include "snapshot.h"

#include "cache.h"
#include "clock.h"
#include "ctx.h"
#include "name.h"
#include "result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "ANAMESNP"
#define VERSION 1u
#define HEADER_LEN (8 + 4 + 4 + 8)
#define MAX_ADDRS 4096

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ writing */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->failed) {
		return;
	}
	if (b->len + n > ANAME_SNAPSHOT_MAX_BYTES) {
		b->failed = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->len + n) {
			cap *= 2;
		}
		uint8_t *np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_be(struct buf *b, uint64_t v, size_t n)
{
	uint8_t x[8];
	for (size_t i = 0; i < n; i++) {
		x[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	}
	put(b, x, n);
}

struct save {
	struct buf b;
	uint32_t count;
	uint64_t now;
};

static int save_item(void *arg, const struct aname_cache_item *it)
{
	struct save *s = arg;
	aname_result_t *r = it->res;
	if (r == NULL || r->status != ANAME_OK || s->count == UINT32_MAX) {
		return 0;
	}
	uint64_t got = r->expire_ms - (uint64_t)r->ttl * 1000u;
	uint64_t age = s->now > got ? s->now - got : 0;
	size_t alen = r->rrtype == ANAME_RRTYPE_AAAA ? 16 : 4;
	put_be(&s->b, it->key.len, 1);
	put(&s->b, it->key.name, it->key.len);
	put_be(&s->b, r->rrtype, 2);
	put_be(&s->b, (uint8_t)r->rcode, 1);
	put_be(&s->b, r->secure, 1);
	put_be(&s->b, r->chain, 1);
	put_be(&s->b, r->count, 2);
	put_be(&s->b, r->ttl, 4);
	put_be(&s->b, r->stale_ttl, 4);
	put_be(&s->b, age > UINT32_MAX ? UINT32_MAX : age, 4);
	put(&s->b, aname__result_addrs(r), (size_t)r->count * alen);
	s->count++;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int aname_cache_save(aname_ctx_t *ctx, const char *path)
{
	if (ctx == NULL || path == NULL) {
		return ANAME_EINVAL;
	}
	struct save s = {.now = aname__now_ms()};
	put(&s.b, MAGIC, 8);
	put_be(&s.b, VERSION, 4);
	put_be(&s.b, 0, 4); /* count, patched below */
	put_be(&s.b, wall_ms(), 8);
	int rc = aname__cache_each(ctx->cache, save_item, &s);
	if (rc == ANAME_OK && !s.b.failed) {
		for (int i = 0; i < 4; i++) {
			s.b.p[8 + 4 + i] = (uint8_t)(s.count >> (24 - 8 * i));
		}
		put_be(&s.b, fnv1a(s.b.p, s.b.len), 8);
	}
	if (rc != ANAME_OK || s.b.failed) {
		free(s.b.p);
		return rc != ANAME_OK ? rc : ANAME_ENOMEM;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(tmp)) {
		free(s.b.p);
		return ANAME_EINVAL;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = ANAME_EFILE;
	if (fd >= 0) {
		if (write_all(fd, s.b.p, s.b.len) == 0 && fsync(fd) == 0 &&
		    close(fd) == 0) {
			fd = -1;
			rc = rename(tmp, path) == 0 ? ANAME_OK : ANAME_EFILE;
		}
		if (fd >= 0) {
			close(fd);
		}
		if (rc != ANAME_OK) {
			unlink(tmp);
		}
	}
	free(s.b.p);
	aname__log(&ctx->log, rc == ANAME_OK ? ANAME_LOG_INFO : ANAME_LOG_ERROR,
		   "cache snapshot %s: %s (%u answers)", path,
		   rc == ANAME_OK ? "saved" : "cannot be written", s.count);
	aname__log_flush(&ctx->log); /* no library lock is held here */
	return rc;
}

/* ------------------------------------------------------------ reading */

struct rd {
	const uint8_t *p, *end;
};

static bool get(struct rd *r, void *dst, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		return false;
	}
	memcpy(dst, r->p, n);
	r->p += n;
	return true;
}

static bool get_be(struct rd *r, size_t n, uint64_t *v)
{
	uint8_t x[8];
	if (!get(r, x, n)) {
		return false;
	}
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		*v = *v << 8 | x[i];
	}
	return true;
}

int aname__snapshot_parse(const uint8_t *data, size_t len, uint64_t now_mono,
			  uint64_t now_wall, aname_snapshot_fn fn, void *arg)
{
	if (len < HEADER_LEN + 8 || len > ANAME_SNAPSHOT_MAX_BYTES ||
	    memcmp(data, MAGIC, 8) != 0) {
		return ANAME_EBADFILE;
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < 8; i++) {
		sum = sum << 8 | data[len - 8 + i];
	}
	if (sum != fnv1a(data, len - 8)) {
		return ANAME_EBADFILE;
	}
	struct rd r = {data + 8, data + len - 8};
	uint64_t version, count, saved;
	if (!get_be(&r, 4, &version) || version != VERSION ||
	    !get_be(&r, 4, &count) || !get_be(&r, 8, &saved)) {
		return ANAME_EBADFILE;
	}
	/* Time passed since the save (a clock set back counts as none). */
	uint64_t elapsed = now_wall > saved ? now_wall - saved : 0;
	/* Two passes: nothing is handed out unless the whole file is good. */
	for (int pass = 0; pass < 2; pass++) {
		struct rd q = r;
		for (uint64_t i = 0; i < count; i++) {
			struct aname_snapshot_entry e;
			uint64_t nl, type, rcode, secure, chain, n, ttl, sttl,
				age;
			memset(&e, 0, sizeof(e));
			if (!get_be(&q, 1, &nl) || nl == 0 ||
			    nl > ANAME_NAME_MAX || !get(&q, e.wire, nl) ||
			    !get_be(&q, 2, &type) || !get_be(&q, 1, &rcode) ||
			    !get_be(&q, 1, &secure) || !get_be(&q, 1, &chain) ||
			    !get_be(&q, 2, &n) || !get_be(&q, 4, &ttl) ||
			    !get_be(&q, 4, &sttl) || !get_be(&q, 4, &age)) {
				return ANAME_EBADFILE;
			}
			size_t alen = type == ANAME_RRTYPE_AAAA ? 16 : 4;
			if ((type != ANAME_RRTYPE_A &&
			     type != ANAME_RRTYPE_AAAA) ||
			    (rcode != 0 && rcode != 3) || secure > 1 ||
			    chain > 64 || n > MAX_ADDRS ||
			    (rcode == 3 && n > 0) ||
			    !aname__name_wire_ok(e.wire, (size_t)nl) ||
			    (size_t)(q.end - q.p) < n * alen) {
				return ANAME_EBADFILE;
			}
			e.wire_len = (size_t)nl;
			e.rrtype = (uint16_t)type;
			e.rcode = (int)rcode;
			e.secure = (int)secure;
			e.chain = (unsigned)chain;
			e.count = (uint16_t)n;
			e.ttl = (uint32_t)ttl;
			e.stale_ttl = (uint32_t)sttl;
			e.addrs = q.p;
			q.p += n * alen;
			/* Received age + elapsed ms ago, in monotonic time;
			 * clamped so that the subtraction cannot wrap. */
			uint64_t back = age + elapsed;
			e.received_ms = now_mono > back ? now_mono - back : 1;
			if (pass == 1) {
				int rc = fn(arg, &e);
				if (rc != ANAME_OK) {
					return rc;
				}
			}
		}
		if (q.p != q.end) {
			return ANAME_EBADFILE; /* trailing bytes */
		}
	}
	return ANAME_OK;
}

struct load {
	aname_ctx_t *ctx;
	uint64_t now;
	size_t loaded;
};

static int load_entry(void *arg, const struct aname_snapshot_entry *e)
{
	struct load *l = arg;
	char target[ANAME_TEXT_MAX];
	if (aname__name_to_text(e->wire, e->wire_len, target,
				sizeof(target)) < 0) {
		return ANAME_EBADFILE;
	}
	uint64_t expire = e->received_ms + (uint64_t)e->ttl * 1000u;
	uint64_t keep = (uint64_t)l->ctx->cfg.max_stale_s * 1000u;
	if (expire + keep <= l->now) {
		return ANAME_OK; /* past max-stale: useless */
	}
	aname_result_t *r = aname__result_new(e->rrtype, target, e->count);
	if (r == NULL) {
		return ANAME_ENOMEM;
	}
	size_t alen = e->rrtype == ANAME_RRTYPE_AAAA ? 16 : 4;
	memcpy(aname__result_addrs(r), e->addrs, (size_t)e->count * alen);
	r->status = ANAME_OK;
	r->rcode = (int8_t)e->rcode;
	r->secure = (uint8_t)e->secure;
	r->chain = (uint8_t)e->chain;
	r->ttl = e->ttl;
	r->stale_ttl = e->stale_ttl;
	r->expire_ms = expire;
	struct aname_cache_key k;
	aname__cache_key(&k, e->wire, e->wire_len, e->rrtype);
	int rc = aname__cache_put(l->ctx->cache, &k, r, l->now);
	aname_result_unref(r);
	l->loaded += rc == ANAME_OK;
	return rc;
}

int aname_cache_load(aname_ctx_t *ctx, const char *path, size_t *loaded)
{
	if (loaded != NULL) {
		*loaded = 0;
	}
	if (ctx == NULL || path == NULL) {
		return ANAME_EINVAL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		aname__log(&ctx->log, ANAME_LOG_WARNING,
			   "cache snapshot %s: cannot be read (%s); starting "
			   "with an empty cache",
			   path, strerror(errno));
		aname__log_flush(&ctx->log);
		return ANAME_EFILE;
	}
	int rc = ANAME_OK;
	uint8_t *data = NULL;
	size_t len = (size_t)st.st_size;
	if (st.st_size > (off_t)ANAME_SNAPSHOT_MAX_BYTES) {
		rc = ANAME_EBADFILE;
	} else if ((data = malloc(len > 0 ? len : 1)) == NULL) {
		rc = ANAME_ENOMEM;
	} else {
		size_t got = 0;
		while (got < len) {
			ssize_t n = read(fd, data + got, len - got);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				break;
			}
			got += (size_t)n;
		}
		rc = got == len ? ANAME_OK : ANAME_EFILE;
	}
	close(fd);
	struct load l = {ctx, aname__now_ms(), 0};
	if (rc == ANAME_OK) {
		rc = aname__snapshot_parse(data, len, l.now, wall_ms(),
					   load_entry, &l);
	}
	free(data);
	if (rc == ANAME_OK) {
		aname__log(&ctx->log, ANAME_LOG_INFO,
			   "cache snapshot %s: loaded %zu answers", path,
			   l.loaded);
	} else {
		aname__log(&ctx->log, ANAME_LOG_WARNING,
			   "cache snapshot %s rejected (%s); starting with "
			   "an empty cache",
			   path, aname_strerror(rc));
	}
	if (loaded != NULL) {
		*loaded = l.loaded;
	}
	aname__log_flush(&ctx->log); /* no library lock is held here */
	return rc;
}
