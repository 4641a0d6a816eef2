/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file aname-resolve.c
 * \brief Command-line front end: resolve ALIAS targets with libaname and
 * print the address RRsets an authoritative server would synthesize.
 *
 * It is also the reference for event-loop mode: one context, every target
 * submitted at once, then a poll(2) loop on aname_fd() and
 * aname_timeout_ms() that calls aname_process() until every callback ran.
 *
 * Exit status: 0 every target had addresses; 1 some had none (NXDOMAIN or
 * NODATA) and none failed; 2 a resolution failed or timed out; 64 usage.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>

#include <aname.h>

#define EXIT_EMPTY 1
#define EXIT_FAIL 2
#define EXIT_USAGE 64

/* Slack past the resolution deadline before the loop gives up on the
 * library itself; the library promises callbacks by the deadline. */
#define LOOP_SLACK_MS 2000

typedef struct {
	const char *target;   /* as given on the command line */
	int done;
	int status;
	aname_result_t *res;  /* our reference, NULL on failure */
} job_t;

typedef struct {
	uint16_t rrtype;
	const char *owner;     /* NULL: each target is its own owner */
	uint32_t alias_ttl;
	unsigned timeout_ms;
	int json;
} opts_t;

static const char *prog = "aname-resolve";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [--forward IP[@PORT]]... [--stub ZONE=IP[@PORT]]...\n"
		"       [--timeout-ms N] [--type A|AAAA|both] [--owner NAME]\n"
		"       [--alias-ttl N] [--trust-anchor FILE] [--json] TARGET...\n",
		prog);
}

static int die_usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Strict unsigned parse: digits only, within [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

static void on_done(void *arg, int status, const aname_result_t *res)
{
	job_t *job = arg;
	job->done = 1;
	job->status = status;
	job->res = status == ANAME_OK ? aname_result_ref(res) : NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t job_count(const job_t *job, uint16_t rrtype)
{
	if (job->res == NULL) {
		return 0;
	}
	if (rrtype == ANAME_RRTYPE_BOTH) {
		return aname_result_count(job->res, ANAME_RRTYPE_A) +
		       aname_result_count(job->res, ANAME_RRTYPE_AAAA);
	}
	return aname_result_count(job->res, rrtype);
}

/* rcode of the requested type, or of A then AAAA for "both". */
static int job_rcode(const job_t *job, uint16_t rrtype)
{
	if (job->res == NULL) {
		return -1;
	}
	if (rrtype != ANAME_RRTYPE_BOTH) {
		return aname_result_rcode(job->res, rrtype);
	}
	int rc = aname_result_rcode(job->res, ANAME_RRTYPE_A);
	return rc >= 0 ? rc : aname_result_rcode(job->res, ANAME_RRTYPE_AAAA);
}

/* ---------------------------------------------------------------- text */

static int print_text(const job_t *job, const opts_t *o)
{
	const char *owner = o->owner != NULL ? o->owner : job->target;
	char small[4096];
	char *buf = small;
	int n = aname_synth_text(job->res, o->rrtype, owner, o->alias_ttl, buf,
				 sizeof(small));
	if (n >= (int)sizeof(small)) {
		buf = malloc((size_t)n + 1);
		if (buf == NULL) {
			return ANAME_ENOMEM;
		}
		n = aname_synth_text(job->res, o->rrtype, owner, o->alias_ttl,
				     buf, (size_t)n + 1);
	}
	if (n >= 0) {
		fputs(buf, stdout);
	}
	if (buf != small) {
		free(buf);
	}
	return n < 0 ? n : ANAME_OK;
}

/* ---------------------------------------------------------------- JSON */

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
		} else if (*p < 0x20 || *p >= 0x7f) {
			printf("\\u%04x", *p);
		} else {
			putchar(*p);
		}
	}
	putchar('"');
}

static int json_records(const job_t *job, uint16_t type, const opts_t *o,
			int first)
{
	size_t n = job->res != NULL ? aname_result_count(job->res, type) : 0;
	uint32_t ttl = n > 0 ? aname_synth_ttl(job->res, type, o->alias_ttl)
			     : 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char addr[16];
		char text[INET6_ADDRSTRLEN];
		int len = aname_result_addr(job->res, type, i, addr,
					    sizeof(addr));
		if (len < 0 ||
		    inet_ntop(type == ANAME_RRTYPE_A ? AF_INET : AF_INET6,
			      addr, text, sizeof(text)) == NULL) {
			continue;
		}
		printf("%s{\"type\": \"%s\", \"ttl\": %u, \"address\": \"%s\"}",
		       first ? "" : ", ", type == ANAME_RRTYPE_A ? "A" : "AAAA",
		       ttl, text);
		first = 0;
	}
	return first;
}

static const char *outcome(const job_t *job, const opts_t *o)
{
	if (job->status != ANAME_OK) {
		return "error";
	}
	if (job_count(job, o->rrtype) > 0) {
		return "answer";
	}
	return job_rcode(job, o->rrtype) == 3 ? "nxdomain" : "nodata";
}

static void print_json(const job_t *job, const opts_t *o, int last)
{
	const char *owner = o->owner != NULL ? o->owner : job->target;
	printf("  {\"target\": ");
	json_str(job->res != NULL ? aname_result_target(job->res)
				  : job->target);
	printf(", \"owner\": ");
	json_str(owner);
	printf(", \"status\": \"%s\", \"result\": \"%s\"",
	       aname_status_name(job->status), outcome(job, o));
	if (job->status != ANAME_OK) {
		printf(", \"error\": ");
		json_str(aname_strerror(job->status));
	}
	int rcode = job_rcode(job, o->rrtype);
	if (rcode >= 0) {
		printf(", \"rcode\": %d", rcode);
	} else {
		printf(", \"rcode\": null");
	}
	/* Empty answers carry the target's negative TTL (RFC 2308). */
	uint32_t ttl = 0;
	if (job->res != NULL && job_count(job, o->rrtype) > 0) {
		ttl = aname_synth_ttl(job->res, o->rrtype, o->alias_ttl);
	} else if (job->res != NULL) {
		ttl = aname_result_ttl(job->res, o->rrtype == ANAME_RRTYPE_BOTH
							 ? ANAME_RRTYPE_A
							 : o->rrtype);
	}
	printf(", \"ttl\": %u, \"stale\": %s, \"secure\": %s, \"records\": [",
	       ttl,
	       job->res != NULL && aname_result_stale(job->res) ? "true"
								 : "false",
	       job->res != NULL && aname_result_secure(job->res) ? "true"
								  : "false");
	int first = 1;
	if (o->rrtype != ANAME_RRTYPE_AAAA) {
		first = json_records(job, ANAME_RRTYPE_A, o, first);
	}
	if (o->rrtype != ANAME_RRTYPE_A) {
		json_records(job, ANAME_RRTYPE_AAAA, o, first);
	}
	printf("]}%s\n", last ? "" : ",");
}

/* ---------------------------------------------------------------- main */

static int configure(aname_config_t *cfg, int argc, char **argv, opts_t *o)
{
	enum { O_FORWARD = 1, O_STUB, O_TIMEOUT, O_TYPE, O_OWNER, O_TTL,
	       O_JSON, O_HELP, O_ANCHOR };
	static const struct option longopts[] = {
		{ "forward", required_argument, NULL, O_FORWARD },
		{ "stub", required_argument, NULL, O_STUB },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "type", required_argument, NULL, O_TYPE },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "alias-ttl", required_argument, NULL, O_TTL },
		{ "json", no_argument, NULL, O_JSON },
		{ "trust-anchor", required_argument, NULL, O_ANCHOR },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	unsigned long v;
	uint8_t wire[256];

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_FORWARD:
			rc = aname_config_add_forwarder(cfg, optarg);
			if (rc != ANAME_OK) {
				return die_usage("--forward '%s': %s", optarg,
						 aname_strerror(rc));
			}
			break;
		case O_ANCHOR:
			/* DNSSEC: bogus targets fail (exit 2), "secure" in
			 * --json tells validated answers. */
			rc = aname_config_set_trust_anchor_file(cfg, optarg);
			if (rc != ANAME_OK) {
				return die_usage("--trust-anchor '%s': %s", optarg,
						 aname_strerror(rc));
			}
			break;
		case O_STUB: {
			char *eq = strchr(optarg, '=');
			if (eq == NULL) {
				return die_usage("--stub '%s': expected "
						 "ZONE=IP[@PORT]", optarg);
			}
			*eq = '\0';
			rc = aname_config_add_stub(cfg, optarg, eq + 1);
			*eq = '=';
			if (rc != ANAME_OK) {
				return die_usage("--stub '%s': %s", optarg,
						 aname_strerror(rc));
			}
			break;
		}
		case O_TIMEOUT:
			rc = parse_uint(optarg, 0, UINT_MAX, &v) != 0
				     ? ANAME_ERANGE
				     : aname_config_set_timeout_ms(cfg,
								   (unsigned)v);
			if (rc != ANAME_OK) {
				return die_usage("--timeout-ms '%s': %s "
						 "(10 to 60000)", optarg,
						 aname_strerror(rc));
			}
			o->timeout_ms = (unsigned)v;
			break;
		case O_TYPE:
			if (strcasecmp(optarg, "A") == 0) {
				o->rrtype = ANAME_RRTYPE_A;
			} else if (strcasecmp(optarg, "AAAA") == 0) {
				o->rrtype = ANAME_RRTYPE_AAAA;
			} else if (strcasecmp(optarg, "both") == 0) {
				o->rrtype = ANAME_RRTYPE_BOTH;
			} else {
				return die_usage("--type '%s': expected A, "
						 "AAAA or both", optarg);
			}
			break;
		case O_OWNER:
			rc = aname_name_to_wire(optarg, wire, sizeof(wire),
						NULL);
			if (rc != ANAME_OK) {
				return die_usage("--owner '%s': %s", optarg,
						 aname_strerror(rc));
			}
			o->owner = optarg;
			break;
		case O_TTL:
			/* RFC 2181 section 8: TTLs are 31-bit. */
			if (parse_uint(optarg, 0, 2147483647UL, &v) != 0) {
				return die_usage("--alias-ttl '%s': %s "
						 "(0 to 2147483647)", optarg,
						 aname_strerror(ANAME_ERANGE));
			}
			o->alias_ttl = (uint32_t)v;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_HELP:
			usage(stdout);
			return -1;
		default:
			if (optopt != 0) {
				return die_usage("option '%s' needs a value",
						 argv[optind - 1]);
			}
			return die_usage("unknown option '%s' (see --help)",
					 argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		return die_usage("no TARGET given (see --help)");
	}
	for (int i = optind; i < argc; i++) {
		rc = aname_name_to_wire(argv[i], wire, sizeof(wire), NULL);
		if (rc != ANAME_OK) {
			return die_usage("target '%s': %s", argv[i],
					 aname_strerror(rc));
		}
	}
	return 0;
}

/* Drive the context until every job is done or the guard deadline. */
static int run_loop(aname_ctx_t *ctx, job_t *jobs, int njobs,
		    int64_t deadline)
{
	struct pollfd pfd = { .fd = aname_fd(ctx), .events = POLLIN };
	for (;;) {
		int pending = 0;
		for (int i = 0; i < njobs; i++) {
			pending += !jobs[i].done;
		}
		if (pending == 0) {
			return 0;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			return -1;
		}
		int t = aname_timeout_ms(ctx);
		if (t < 0 || t > left) {
			t = (int)left;
		}
		if (poll(&pfd, 1, t) < 0 && errno != EINTR) {
			return -1;
		}
		int rc = aname_process(ctx);
		if (rc != ANAME_OK) {
			fprintf(stderr, "%s: aname_process: %s\n", prog,
				aname_strerror(rc));
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	opts_t o = { .rrtype = ANAME_RRTYPE_A, .alias_ttl = 3600,
		     .timeout_ms = 1500 };
	aname_config_t *cfg = aname_config_new();
	if (cfg == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_FAIL;
	}
	int rc = configure(cfg, argc, argv, &o);
	if (rc != 0) {
		aname_config_free(cfg);
		return rc < 0 ? 0 : rc; /* -1: --help */
	}

	aname_ctx_t *ctx = NULL;
	rc = aname_ctx_new(&ctx, cfg);
	aname_config_free(cfg);
	if (rc != ANAME_OK) {
		fprintf(stderr, "%s: cannot create context: %s\n", prog,
			aname_strerror(rc));
		return EXIT_FAIL;
	}

	int njobs = argc - optind;
	job_t *jobs = calloc((size_t)njobs, sizeof(*jobs));
	if (jobs == NULL) {
		aname_ctx_free(ctx);
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_FAIL;
	}
	for (int i = 0; i < njobs; i++) {
		jobs[i].target = argv[optind + i];
		rc = aname_resolve(ctx, jobs[i].target, o.rrtype, 0, on_done,
				   &jobs[i], NULL);
		if (rc != ANAME_OK) {
			/* Names were validated already: this is a failure. */
			jobs[i].done = 1;
			jobs[i].status = rc;
		}
	}

	int64_t deadline = now_ms() + o.timeout_ms + LOOP_SLACK_MS;
	if (run_loop(ctx, jobs, njobs, deadline) != 0) {
		for (int i = 0; i < njobs; i++) {
			if (!jobs[i].done) {
				jobs[i].done = 1;
				jobs[i].status = ANAME_ETIMEDOUT;
			}
		}
		fprintf(stderr, "%s: the library did not call back within "
				"%u ms\n", prog, o.timeout_ms + LOOP_SLACK_MS);
	}

	int failed = 0, empty = 0;
	if (o.json) {
		printf("[\n");
	}
	for (int i = 0; i < njobs; i++) {
		job_t *job = &jobs[i];
		if (o.json) {
			print_json(job, &o, i == njobs - 1);
		}
		if (job->status != ANAME_OK) {
			failed++;
			fprintf(stderr, "%s: %s: %s (%s)\n", prog, job->target,
				aname_strerror(job->status),
				aname_status_name(job->status));
		} else if (job_count(job, o.rrtype) == 0) {
			empty++;
			fprintf(stderr, "%s: %s: no addresses (%s)\n", prog,
				job->target, outcome(job, &o));
		} else if (!o.json) {
			rc = print_text(job, &o);
			if (rc != ANAME_OK) {
				failed++;
				fprintf(stderr, "%s: %s: synthesis: %s\n", prog,
					job->target, aname_strerror(rc));
			}
		}
	}
	if (o.json) {
		printf("]\n");
	}

	for (int i = 0; i < njobs; i++) {
		aname_result_unref(jobs[i].res);
	}
	free(jobs);
	aname_ctx_free(ctx);
	if (fflush(stdout) != 0) {
		return EXIT_FAIL;
	}
	return failed ? EXIT_FAIL : empty ? EXIT_EMPTY : 0;
}
