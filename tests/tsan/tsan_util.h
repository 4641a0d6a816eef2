/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file tsan_util.h
 * \brief Shared pieces of the ThreadSanitizer programs (no Criterion: it
 * cannot start under TSan here, Criterion issue #274).
 *
 * Every program builds a hermetic context: names under t.test are local
 * data answered by libunbound itself, names under slow.test go to a UDP
 * socket on loopback that is never read (so they stay in flight until
 * their deadline), and a guard stub sends everything else to a closed
 * loopback port.  Nothing leaves the machine.
 */
#ifndef TSAN_UTIL_H
#define TSAN_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aname.h"

extern atomic_uint tsan_failures;

#define TSAN_CHECK(cond, ...)                                               \
	do {                                                                \
		if (!(cond)) {                                              \
			tsan_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);  \
		}                                                           \
	} while (0)

void tsan_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

/* The targets every program uses; tsan_target(i) cycles through them. */
#define TSAN_TARGETS 6
const char *tsan_target(unsigned i);
/* Whether target i resolves (to addresses, NODATA or NXDOMAIN) rather
 * than hanging on the black hole. */
bool tsan_target_answers(unsigned i);

/* A configuration as described above; thread mode if \a thread. */
aname_config_t *tsan_config(int thread);
/* Close the black hole (after the last context is freed). */
void tsan_cleanup(void);

/* One tracked request: the callback must run exactly once unless
 * aname_cancel() returned ANAME_OK for it. */
struct tsan_req {
	atomic_uint calls;
	atomic_bool cancelled;
	atomic_int status;
	unsigned target;
	aname_qid_t qid;
	/* If set, the callback submits this request from inside itself
	 * (allowed by aname.h) before returning. */
	struct tsan_req *follow;
	aname_ctx_t *ctx;
};

/* Submit \a r (target r->target, both types); false if refused. */
bool tsan_submit(aname_ctx_t *ctx, struct tsan_req *r, unsigned timeout_ms);
/* Count of tracked requests still owed a callback. */
extern atomic_uint tsan_outstanding;
/* Check the exactly-once rule over \a n requests; returns failures. */
unsigned tsan_check_reqs(const struct tsan_req *reqs, unsigned n);

/* The read-only calls a host makes from any thread. */
void tsan_poke(aname_ctx_t *ctx, unsigned i);

/* Milliseconds, monotonic. */
uint64_t tsan_now_ms(void);

/* Print the verdict and return the exit status. */
int tsan_finish(const char *prog);

#endif /* TSAN_UTIL_H */
