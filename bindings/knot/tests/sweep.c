/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file sweep.c
 * \brief Test helper for test_scale.sh: when do N ALIAS owners answer?
 *
 *   sweep PORT ZONE N START_MS DEADLINE_MS
 *
 * Asks 127.0.0.1@PORT, over UDP, "oI.ZONE A" for I in 0..N-1 and expects
 * the one address 198.51.(I/250).(I%250+1) (test_scale.sh's targets).  It
 * sweeps again and again, each pass asking only the owners that have not
 * answered yet (up to 64 queries in flight, 300 ms per query), until all
 * have answered or DEADLINE_MS (since START_MS, a CLOCK_REALTIME epoch in
 * ms: when knotd became ready) has passed.  An owner that answered once
 * stays answered: its target is registered and refreshed ahead of expiry.
 * A last pass then asks all N once more and counts the right answers, so a
 * regression after the first answer shows too.
 *
 * Prints one line:
 *   all MS p50 MS p90 MS passes P queries Q again A
 * (MS: since START_MS, when the last owner first answered; p50/p90 of the
 * owners' first answers; again: right answers in the last pass) or
 *   late K ...  (K owners never answered).  Exit 0 if all answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 64
#define QUERY_MS 300

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Query "o<i>.<zone>. A", id i; returns its length. */
static size_t make_query(uint8_t *buf, unsigned i, const char *zone)
{
	uint8_t *p = buf;
	*p++ = (uint8_t)(i >> 8);
	*p++ = (uint8_t)i;
	memset(p, 0, 10);
	p[3] = 1; /* QDCOUNT 1, no RD */
	p += 10;
	char label[16];
	int n = snprintf(label, sizeof(label), "o%u", i);
	*p++ = (uint8_t)n;
	memcpy(p, label, (size_t)n);
	p += n;
	const char *z = zone;
	while (*z != '\0') {
		const char *dot = strchr(z, '.');
		size_t len = dot != NULL ? (size_t)(dot - z) : strlen(z);
		if (len == 0) {
			break;
		}
		*p++ = (uint8_t)len;
		memcpy(p, z, len);
		p += len;
		z += len + (dot != NULL);
	}
	*p++ = 0;
	*p++ = 0;
	*p++ = 1; /* A */
	*p++ = 0;
	*p++ = 1; /* IN */
	return (size_t)(p - buf);
}

/* Skip a possibly compressed name; NULL if malformed. */
static const uint8_t *skip_name(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (*p == 0) {
			return p + 1;
		}
		if ((*p & 0xc0) == 0xc0) {
			return p + 2 <= end ? p + 2 : NULL;
		}
		p += 1 + *p;
	}
	return NULL;
}

/* True if \a r (len bytes) answers query \a q (qlen bytes) with exactly the
 * owner's expected address. */
static int right_answer(const uint8_t *r, size_t len, const uint8_t *q,
			size_t qlen, unsigned i)
{
	if (len < qlen || (r[3] & 0x0f) != 0 || memcmp(r + 12, q + 12,
							  qlen - 12) != 0) {
		return 0;
	}
	unsigned an = (unsigned)r[6] << 8 | r[7];
	const uint8_t *p = r + qlen, *end = r + len;
	uint8_t want[4] = { 198, 51, (uint8_t)(i / 250), (uint8_t)(i % 250 + 1) };
	int found = 0;
	for (unsigned k = 0; k < an; k++) {
		p = skip_name(p, end);
		if (p == NULL || p + 10 > end) {
			return 0;
		}
		unsigned type = (unsigned)p[0] << 8 | p[1];
		unsigned rdlen = (unsigned)p[8] << 8 | p[9];
		p += 10;
		if (p + rdlen > end) {
			return 0;
		}
		if (type == 1) {
			if (rdlen != 4 || memcmp(p, want, 4) != 0) {
				return 0;
			}
			found++;
		}
		p += rdlen;
	}
	return found == 1;
}

struct slot {
	int busy;
	unsigned owner;
	long long sent;
};

/* One pass over the owners with todo[i] set: on a right answer, done[i]
 * gets the time (ms since start).  Returns the right answers. */
static unsigned pass(int fd, const char *zone, unsigned n, const char *todo,
		     long long *done, long long start, unsigned long *queries)
{
	struct slot win[WINDOW] = { { 0 } };
	unsigned next = 0, right = 0, busy = 0;
	uint8_t q[300], r[4096];
	for (;;) {
		while (busy < WINDOW && next < n) {
			if (!todo[next]) {
				next++;
				continue;
			}
			int s = 0;
			while (win[s].busy) {
				s++;
			}
			size_t ql = make_query(q, next, zone);
			if (send(fd, q, ql, 0) < 0 && errno != EINTR) {
				perror("sweep: send");
				exit(2);
			}
			(*queries)++;
			win[s] = (struct slot){ 1, next, now_ms() };
			busy++;
			next++;
		}
		if (busy == 0) {
			return right;
		}
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 20) > 0) {
			ssize_t got = recv(fd, r, sizeof(r), 0);
			if (got >= 12) {
				unsigned id = (unsigned)r[0] << 8 | r[1];
				for (int s = 0; s < WINDOW; s++) {
					if (!win[s].busy || win[s].owner != id) {
						continue;
					}
					size_t ql = make_query(q, id, zone);
					if (right_answer(r, (size_t)got, q, ql, id)) {
						right++;
						if (done[id] < 0) {
							done[id] = now_ms() - start;
						}
					}
					win[s].busy = 0;
					busy--;
					break;
				}
			}
		}
		long long t = now_ms();
		for (int s = 0; s < WINDOW; s++) {
			if (win[s].busy && t - win[s].sent > QUERY_MS) {
				win[s].busy = 0;
				busy--;
			}
		}
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: sweep PORT ZONE N START_MS DEADLINE_MS\n");
		return 2;
	}
	unsigned n = (unsigned)atoi(argv[3]);
	long long start = atoll(argv[4]), deadline = atoll(argv[5]);
	if (n == 0 || n > 65535) {
		fprintf(stderr, "sweep: N must be 1..65535\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)atoi(argv[1])) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("sweep: socket");
		return 2;
	}
	char *todo = malloc(n);
	long long *done = malloc(n * sizeof(*done));
	if (todo == NULL || done == NULL) {
		return 2;
	}
	for (unsigned i = 0; i < n; i++) {
		todo[i] = 1;
		done[i] = -1;
	}
	unsigned left = n, passes = 0;
	unsigned long queries = 0;
	while (left > 0 && now_ms() - start < deadline) {
		pass(fd, argv[2], n, todo, done, start, &queries);
		passes++;
		left = 0;
		for (unsigned i = 0; i < n; i++) {
			todo[i] = done[i] < 0;
			left += todo[i];
		}
	}
	memset(todo, 1, n);
	unsigned again = pass(fd, argv[2], n, todo, done, start, &queries);
	if (left > 0) {
		printf("late %u passes %u queries %lu again %u\n", left, passes,
		       queries, again);
		return 1;
	}
	qsort(done, n, sizeof(*done), cmp_ll);
	printf("all %lld p50 %lld p90 %lld passes %u queries %lu again %u\n",
	       done[n - 1], done[n / 2], done[n * 9 / 10], passes, queries,
	       again);
	return 0;
}
