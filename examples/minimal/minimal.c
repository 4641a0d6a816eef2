/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The README's "API in ten lines", as a complete program: both ways a host
 * uses libaname, with every variable declared.
 *
 *     minimal FORWARDER TARGET OWNER
 *     minimal 127.0.0.1@5353 www.example.test. alias.test.
 *
 * 1. Asynchronous host: aname_resolve() with a callback, driven by poll()
 *    on aname_fd() and aname_process() (event-loop mode).
 * 2. Synchronous host (a Knot module, a PowerDNS backend): a non-blocking
 *    aname_cache_lookup(), then aname_synth_wire() appends the sibling A
 *    RRset at OWNER to an answer buffer.
 *
 * Built and run against nsd by "make test-minimal" (examples/minimal/test.sh).
 */
#include <aname.h>

#include <poll.h>
#include <stdio.h>

struct request {
	int done;   /* set by the callback */
	int status; /* its status */
	const char *owner;
};

/* Called exactly once per accepted request, from aname_process(). */
static void on_done(void *arg, int status, const aname_result_t *res)
{
	struct request *req = arg;
	req->done = 1;
	req->status = status;
	if (status != ANAME_OK) {
		fprintf(stderr, "resolve: %s\n", aname_strerror(status));
		return;
	}
	/* res is borrowed: use it here, or take aname_result_ref(). */
	char text[1024];
	int n = aname_synth_text(res, ANAME_RRTYPE_BOTH, req->owner, 300, text,
				 sizeof(text));
	if (n >= 0 && (size_t)n < sizeof(text)) {
		printf("async:\n%s", text);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: minimal FORWARDER TARGET OWNER\n");
		return 2;
	}
	const char *forwarder = argv[1], *target = argv[2], *owner = argv[3];

	aname_config_t *cfg = aname_config_new();
	if (cfg == NULL || aname_config_add_forwarder(cfg, forwarder) != ANAME_OK) {
		fprintf(stderr, "bad forwarder '%s'\n", forwarder);
		aname_config_free(cfg);
		return 2;
	}
	aname_ctx_t *ctx;
	int rc = aname_ctx_new(&ctx, cfg); /* cfg is copied */
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "aname_ctx_new: %s\n", aname_strerror(rc));
		return 1;
	}

	/* 1. Asynchronous: callback exactly once, by the deadline (1.5 s). */
	struct request req = {0, 0, owner};
	aname_qid_t qid;
	rc = aname_resolve(ctx, target, ANAME_RRTYPE_BOTH, 0, on_done, &req, &qid);
	if (rc != ANAME_OK) {
		fprintf(stderr, "aname_resolve: %s\n", aname_strerror(rc));
		aname_ctx_free(ctx);
		return 1;
	}
	while (!req.done) {
		struct pollfd pfd = {aname_fd(ctx), POLLIN, 0};
		poll(&pfd, 1, aname_timeout_ms(ctx)); /* -1: no deadline yet */
		aname_process(ctx);                   /* on_done() runs here */
	}

	/* 2. Synchronous: the cache is warm now.  The owner goes to wire
	 * format once (a server has it from the query or the zone); buf is the
	 * host's answer section, here a local buffer. */
	uint8_t owner_wire[255];
	size_t owner_len;
	rc = aname_name_to_wire(owner, owner_wire, sizeof(owner_wire), &owner_len);
	if (rc != ANAME_OK) {
		fprintf(stderr, "owner '%s': %s\n", owner, aname_strerror(rc));
		aname_ctx_free(ctx);
		return 2;
	}
	uint8_t buf[1232];
	size_t len = 0;
	uint32_t alias_ttl = 300;
	aname_result_t *res;
	int n = -1;
	rc = aname_cache_lookup(ctx, target, ANAME_RRTYPE_A,
				ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE, &res);
	if (rc == ANAME_OK) {
		n = aname_synth_wire(res, ANAME_RRTYPE_A, owner_wire, owner_len,
				     alias_ttl, buf, sizeof(buf), &len);
		aname_result_unref(res);
		printf("sync: %d A records, %zu bytes of wire data\n", n, len);
	} else {
		/* A real server answers SERVFAIL now, never waits. */
		fprintf(stderr, "cache lookup: %s\n", aname_strerror(rc));
	}
	aname_ctx_free(ctx);
	return req.status == ANAME_OK && n >= 0 ? 0 : 1;
}
