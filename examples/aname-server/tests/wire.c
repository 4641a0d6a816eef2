/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Byte-by-byte queries for the wire tests (see wire.h).
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsclient.h"
#include "wire.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t wq_u16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] << 8 | b[off + 1]);
}

/* Uncompressed wire form of a dotted name ("" or NULL: the root). */
static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (name && *name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		cr_assert(l > 0 && l < 64, "bad label in %s", name);
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

void wq_set_flags(wq_t *q)
{
	put16(q->b + 2, (uint16_t)((q->flags & ~0x7800u) |
				   (q->opcode & 0xf) << 11));
}

void wq_set_question(wq_t *q)
{
	size_t n = 12;
	for (int i = 0; i < q->qd; i++) {
		n += put_name(q->b + n, q->name);
		put16(q->b + n, q->qtype);
		put16(q->b + n + 2, q->qclass);
		n += 4;
	}
	q->qlen = n - 12;
	q->len = n;
	put16(q->b + 4, (uint16_t)q->qd);
}

wq_t wq_new(uint16_t id, uint16_t flags, const char *name, uint16_t qtype,
	    int qd)
{
	wq_t q;
	memset(&q, 0, sizeof(q));
	q.id = id;
	q.flags = flags;
	q.qtype = qtype;
	q.qclass = 1;
	q.qd = qd;
	if (name)
		snprintf(q.name, sizeof(q.name), "%s", name);
	put16(q.b, id);
	wq_set_flags(&q);
	wq_set_question(&q);
	return q;
}

void wq_add_rr(wq_t *q, int section, const char *owner, uint16_t type,
	       uint16_t klass, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	cr_assert(q->len + 256 + 10 + rdlen <= sizeof(q->b));
	uint8_t *p = q->b + q->len;
	size_t n = put_name(p, owner);
	put16(p + n, type);
	put16(p + n + 2, klass);
	put16(p + n + 4, (uint16_t)(ttl >> 16));
	put16(p + n + 6, (uint16_t)ttl);
	put16(p + n + 8, rdlen);
	if (rdlen)
		memcpy(p + n + 10, rdata, rdlen);
	q->len += n + 10 + rdlen;
	size_t at = 6 + 2 * (size_t)section;
	put16(q->b + at, (uint16_t)(wq_u16(q->b, at) + 1));
}

void wq_add_opt(wq_t *q, uint16_t size, uint8_t version, uint16_t flags,
		const void *opts, uint16_t optlen)
{
	/* TTL field: extended rcode 0, version, flags. */
	uint32_t ttl = (uint32_t)version << 16 | flags;
	wq_add_rr(q, 2, NULL, 41, size, ttl, opts, optlen);
}

int wq_tcp(int port, const wq_t *q, uint8_t *out, size_t outlen,
	   int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	uint8_t pre[2] = { (uint8_t)(q->len >> 8), (uint8_t)q->len };
	int rc = -1;
	if (write(fd, pre, 2) != 2 ||
	    write(fd, q->b, q->len) != (ssize_t)q->len)
		goto out;
	size_t have = 0, want = 0;
	int64_t deadline = dc_now_ms() + timeout_ms;
	static uint8_t buf[2 + 65535];
	while (dc_now_ms() < deadline) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		if (have >= 2)
			want = (size_t)buf[0] << 8 | buf[1];
		if (have >= 2 && have >= 2 + want) {
			if (want > outlen)
				break;
			memcpy(out, buf + 2, want);
			rc = (int)want;
			break;
		}
	}
out:
	close(fd);
	return rc;
}
