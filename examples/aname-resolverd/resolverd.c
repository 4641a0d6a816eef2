/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-resolverd: a loopback DNS responder built on libaname, meant to be
 * PowerDNS's resolver= for its built-in ALIAS expansion.
 *
 * Every A/AAAA query is answered before its deadline: from the cache (fresh
 * or stale), from a resolution that many queries share, or SERVFAIL.  The
 * answer is flattened: the final address records at the queried name, no
 * CNAMEs, TTL the minimum over the chain.  A target that is NXDOMAIN or
 * NODATA upstream is answered NOERROR with no records, because PowerDNS
 * turns any other rcode into SERVFAIL for the ALIAS owner.  ANY (which
 * PowerDNS sends for an ANY query at an ALIAS owner) gets both A and AAAA.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachefile.h"
#include "common.h"
#include "dnsloop.h"
#include "httpd.h"

#define MAX_LISTEN 16
#define MAX_ALLOW 64

struct cidr {
	int family;
	uint8_t addr[16];
	unsigned bits;
};

struct app {
	aname_config_t *cfg;
	aname_ctx_t *ctx;
	const char *listen[MAX_LISTEN];
	size_t nlisten;
	struct cidr allow[MAX_ALLOW];
	size_t nallow;
	const char *metrics;
	const char *cache_file;
	unsigned long threads;
	unsigned long timeout_ms;
	unsigned long tcp_idle_ms;
	unsigned long tcp_max;
	unsigned long tcp_out_max;
	uint64_t refused_acl;
	uint64_t refused_type;
	uint64_t secure;
};

static const common_opt_t opts[] = {
	{ "listen", 1 },  { "forward", 1 }, { "stub", 1 },
	{ "timeout-ms", 1 }, { "stale-max", 1 }, { "metrics", 1 },
	{ "allow", 1 },   { "threads", 1 }, { "config", 1 },
	{ "trust-anchor", 1 }, { "tcp-idle-ms", 1 }, { "tcp-max", 1 },
	{ "tcp-out-max", 1 }, { "cache-file", 1 },
	{ "help", 0 },    { "version", 0 }, { NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: aname-resolverd --listen IP@PORT [--listen ...]\n"
	      "         [--forward IP[@PORT] ...] [--stub ZONE=IP[@PORT] ...]\n"
	      "         [--timeout-ms N] [--stale-max S] [--threads N]\n"
	      "         [--metrics IP@PORT] [--allow CIDR ...] [--config FILE]\n"
	      "         [--trust-anchor FILE] [--tcp-idle-ms N] [--tcp-max N]\n"
	      "         [--tcp-out-max BYTES] [--cache-file FILE]\n"
	      "Answers A/AAAA queries for any name, flattened, from libaname.\n"
	      "Default upstream: full recursion from the root hints.\n"
	      "See aname-resolverd(8).\n", f);
}

static int parse_cidr(const char *s, struct cidr *c)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	unsigned max;
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	c->bits = max;
	if (slash) {
		unsigned long b;
		char *end;
		b = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || b > max)
			return -1;
		c->bits = (unsigned)b;
	}
	return 0;
}

static int cidr_match(const struct cidr *c, const uint8_t *a)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(c->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

static int allowed(const struct app *a, const struct sockaddr *sa)
{
	const uint8_t *addr;
	int fam = sa->sa_family;
	if (fam == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (addr[0] == 127)
			return 1;
	} else if (fam == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)addr))
			return 1;
	} else {
		return 0;
	}
	for (size_t i = 0; i < a->nallow; i++)
		if (a->allow[i].family == fam && cidr_match(&a->allow[i], addr))
			return 1;
	return 0;
}

static int apply(void *arg, const char *name, const char *val)
{
	struct app *a = arg;
	int rc = common_lib_opt(a->cfg, name, val);
	if (rc != 0) {
		if (rc > 0 && !strcmp(name, "timeout-ms"))
			a->timeout_ms = strtoul(val, NULL, 10);
		return rc < 0 ? -1 : 0;
	}
	if (!strcmp(name, "listen")) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (dnsloop_parse_addr(val, 53, &ss, &sl) != 0) {
			common_bad_addr("listen", val);
			return -1;
		}
		if (a->nlisten == MAX_LISTEN) {
			fprintf(stderr, "--listen: at most %d\n", MAX_LISTEN);
			return -1;
		}
		a->listen[a->nlisten++] = val;
	} else if (!strcmp(name, "allow")) {
		if (a->nallow == MAX_ALLOW || parse_cidr(val, &a->allow[a->nallow])) {
			fprintf(stderr, "--allow: '%s' is not a CIDR (or more "
					"than %d)\n", val, MAX_ALLOW);
			return -1;
		}
		a->nallow++;
	} else if (!strcmp(name, "metrics")) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (!strchr(val, '@') || dnsloop_parse_addr(val, 0, &ss, &sl)) {
			common_bad_addr("metrics", val);
			return -1;
		}
		a->metrics = val;
	} else if (!strcmp(name, "cache-file")) {
		a->cache_file = val;
	} else if (!strcmp(name, "threads")) {
		return common_uint(name, val, 1, 64, &a->threads);
	} else if (!strcmp(name, "tcp-idle-ms")) {
		return common_uint(name, val, 100, 3600000, &a->tcp_idle_ms);
	} else if (!strcmp(name, "tcp-max")) {
		return common_uint(name, val, 1, 100000, &a->tcp_max);
	} else if (!strcmp(name, "tcp-out-max")) {
		return common_uint(name, val, 1 << 20, 1ul << 32, &a->tcp_out_max);
	} else if (!strcmp(name, "help")) {
		usage(stdout);
		exit(0);
	} else if (!strcmp(name, "version")) {
		printf("aname-resolverd (libaname %s)\n", aname_version(NULL));
		exit(0);
	}
	return 0;
}

/* Flattened answer from a result: addresses at the query name, or an
 * empty NOERROR for NXDOMAIN/NODATA; SERVFAIL for failures. */
static uint64_t *secure_count;   /* the app's counter, for build() */

static size_t build(const dns_query_t *q, const aname_result_t *res,
		    uint8_t *buf, size_t cap)
{
	dns_resp_t r;
	int any = q->qtype == DNS_TYPE_ANY;
	if (dns_resp_init(&r, buf, cap, q, DNS_FLAG_RA) != 0)
		return DNSLOOP_DROP;
	if (!res || (any ? aname_result_status(res, ANAME_RRTYPE_A) != ANAME_OK &&
				   aname_result_status(res, ANAME_RRTYPE_AAAA) != ANAME_OK :
			   aname_result_status(res, q->qtype) != ANAME_OK))
		return dns_resp_finish(&r, DNS_RCODE_SERVFAIL);
	size_t w = 0;
	if (aname_result_secure(res) && secure_count)   /* --trust-anchor */
		__atomic_fetch_add(secure_count, 1, __ATOMIC_RELAXED);
	int n = aname_synth_wire(res, any ? ANAME_RRTYPE_BOTH : q->qtype,
				 q->qname, q->qname_len,
				 UINT32_MAX, r.buf + r.len, dns_resp_room(&r),
				 &w);
	if (n == ANAME_ENOSPC)
		r.truncated = 1;
	else if (n < 0)
		return dns_resp_finish(&r, DNS_RCODE_SERVFAIL);
	else
		dns_resp_commit(&r, DNS_AN, w, (unsigned)n);
	return dns_resp_finish(&r, DNS_RCODE_NOERROR);
}

static void on_resolved(void *arg, int status, const aname_result_t *res)
{
	dnsloop_req_t *req = arg;
	uint8_t buf[DNS_MAX_MSG];
	size_t len = build(&req->q, status == ANAME_OK ? res : NULL, buf,
			   dnsloop_req_maxlen(req));
	dnsloop_answer(req, buf, len);
}

static size_t handle(void *arg, dnsloop_req_t *req, uint8_t *buf, size_t cap)
{
	struct app *a = arg;
	const dns_query_t *q = &req->q;
	if (!allowed(a, req->peer)) {
		__atomic_fetch_add(&a->refused_acl, 1, __ATOMIC_RELAXED);
		return dns_resp_error(buf, cap, q, DNS_RCODE_REFUSED, 0);
	}
	int any = q->qtype == DNS_TYPE_ANY;
	if (q->qclass != DNS_CLASS_IN ||
	    (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA && !any)) {
		/* Only address lookups: this is not a general resolver. */
		__atomic_fetch_add(&a->refused_type, 1, __ATOMIC_RELAXED);
		return dns_resp_error(buf, cap, q, DNS_RCODE_REFUSED,
				      DNS_FLAG_RA);
	}
	char target[1024];
	if (dns_name_to_text(q->qname, q->qname_len, target,
			     sizeof(target)) < 0)
		return dns_resp_error(buf, cap, q, DNS_RCODE_FORMERR, 0);

	aname_result_t *res = NULL;
	/* ANY needs both types in one result: the library's resolve, which
	 * completes from the cache on the next loop turn when it can. */
	int rc = any ? ANAME_EAGAIN :
		 aname_cache_lookup(a->ctx, target, q->qtype,
				    ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
				    &res);
	if (rc == ANAME_OK) {
		size_t len = build(q, res, buf, cap);
		aname_result_unref(res);
		return len;
	}
	if (rc != ANAME_EAGAIN)
		return build(q, NULL, buf, cap);   /* shed, bad name: SERVFAIL */
	dnsloop_req_t *k = dnsloop_defer(req);
	if (!k)
		return build(q, NULL, buf, cap);
	rc = aname_resolve(a->ctx, target, any ? ANAME_RRTYPE_BOTH : q->qtype,
			   (unsigned)a->timeout_ms,
			   on_resolved, k, &k->qid);
	if (rc != ANAME_OK) {
		size_t len = build(q, NULL, buf, cap);
		dnsloop_answer(k, buf, len);
	}
	return DNSLOOP_DEFERRED;
}

static int expire(void *arg, dnsloop_req_t *req)
{
	struct app *a = arg;
	return aname_cancel(a->ctx, req->qid) == ANAME_OK;
}

static int extra_metrics(void *arg, char *buf, size_t len)
{
	struct app *a = arg;
	return snprintf(buf, len,
			"# HELP aname_resolverd_refused_acl_total queries "
			"refused: client not allowed\n"
			"# TYPE aname_resolverd_refused_acl_total counter\n"
			"aname_resolverd_refused_acl_total %llu\n"
			"# HELP aname_resolverd_refused_type_total queries "
			"refused: not IN A/AAAA/ANY\n"
			"# TYPE aname_resolverd_refused_type_total counter\n"
			"aname_resolverd_refused_type_total %llu\n"
			"# HELP aname_resolverd_secure_total answers from "
			"DNSSEC-validated data\n"
			"# TYPE aname_resolverd_secure_total counter\n"
			"aname_resolverd_secure_total %llu\n",
			(unsigned long long)__atomic_load_n(&a->refused_acl,
							    __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&a->refused_type,
							    __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&a->secure,
							    __ATOMIC_RELAXED));
}

static const dnsloop_ops_t ops = {
	.handle = handle,
	.expire = expire,
	.reload = NULL,
};

int main(int argc, char **argv)
{
	/* static: option values from --config stay reachable */
	static struct app a = { .threads = 1, .timeout_ms = 1500,
				.tcp_idle_ms = 10000, .tcp_max = 256 };
	dnsloop_block_signals();
	secure_count = &a.secure;
	a.cfg = aname_config_new();
	if (!a.cfg) {
		fprintf(stderr, "aname-resolverd: out of memory\n");
		return 1;
	}
	aname_config_set_log(a.cfg, ANAME_LOG_WARNING, common_log,
			     (void *)"aname-resolverd");
	if (common_args(argc, argv, opts, apply, &a) != 0) {
		aname_config_free(a.cfg);
		return 2;
	}
	if (a.nlisten == 0) {
		fprintf(stderr, "aname-resolverd: --listen IP@PORT is required\n");
		usage(stderr);
		aname_config_free(a.cfg);
		return 2;
	}
	if (common_ctx_new("aname-resolverd", a.cfg, a.threads, &a.ctx) != 0)
		return 1;
	char err[256];
	dnsloop_opts_t lo = {
		.listen = a.listen,
		.nlisten = a.nlisten,
		.threads = (unsigned)a.threads,
		.ctx = a.ctx,
		.event_mode = a.threads == 1,
		.deadline_ms = (unsigned)a.timeout_ms,
		.tcp_idle_ms = (unsigned)a.tcp_idle_ms,
		.tcp_max = (unsigned)a.tcp_max,
		.tcp_out_max = a.tcp_out_max,
		.ops = &ops,
		.app = &a,
	};
	dnsloop_srv_t *srv = dnsloop_srv_new(&lo, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "aname-resolverd: %s\n", err);
		aname_ctx_free(a.ctx);
		return 1;
	}
	httpd_t *http = NULL;
	if (a.metrics) {
		http = httpd_start(a.metrics, a.ctx, srv, "aname_resolverd",
				   extra_metrics, &a);
		if (!http) {
			dnsloop_srv_free(srv);
			aname_ctx_free(a.ctx);
			return 1;
		}
	}
	cachefile_t *cf = cachefile_start("aname-resolverd", a.ctx,
					  a.cache_file);
	fprintf(stderr, "aname-resolverd: listening on %s%s\n", a.listen[0],
		a.nlisten > 1 ? " and more" : "");
	dnsloop_srv_run(srv);
	httpd_stop(http);
	cachefile_stop(cf);
	/* Pending resolutions get ANAME_ECANCELED: clients get SERVFAIL. */
	aname_ctx_free(a.ctx);
	dnsloop_srv_free(srv);
	return 0;
}
