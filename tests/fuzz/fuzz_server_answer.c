/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_server_answer.c
 * \brief Fuzz target "server_answer": aname-server's zone-driven answer
 * paths with the zone as input too (issue 14): ALIAS chains through our
 * own zones (alias_follow() in examples/aname-server/zone.c), SVCB/HTTPS
 * additional-section processing and ALIAS-type answers
 * (examples/aname-server/answer.c).
 *
 * Input: zone-file text, a NUL byte, then queries, each one length byte
 * and that many bytes of DNS message.  The zone goes through
 * zoneset_load() (via a memfd); when it loads, every ALIAS owner's chain
 * result is checked (below), then the queries are answered, and so are
 * SVCB, HTTPS and TYPE65401 queries for every node (the paths a fixed
 * zone cannot reach).  Queries that would wait for the library (A, AAAA
 * or ANY at an ALIAS owner whose chain leaves our zones) are skipped:
 * fuzz_query covers deferral; nothing here may defer.
 *
 * Checked: via is one of enum alias_via; the chain TTL is at most the
 * ALIAS TTL; an upstream name is a wire name outside every zone of ours
 * and in the set's upstream list; a local final node holds no ALIAS or
 * CNAME; every response fits, parses with ldns, echoes the id and
 * question count, and never has TC without being cut to the question.
 */
#include "aname.h"
#include "fuzz_check.h"
#include "server.h"

#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static srv_app_t app;

zoneset_t *srv_zones(srv_app_t *a)
{
	return a->zs;
}

/* Nothing in this target may defer (see the file comment). */
dnsloop_req_t *dnsloop_defer(dnsloop_req_t *req)
{
	(void)req;
	FUZZ_CHECK(0, "a query was deferred");
	return NULL;
}

void dnsloop_answer(dnsloop_req_t *req, const uint8_t *msg, size_t len)
{
	(void)req;
	(void)msg;
	(void)len;
	FUZZ_CHECK(0, "dnsloop_answer without a deferred query");
}

size_t dnsloop_req_maxlen(const dnsloop_req_t *req)
{
	return req->tcp ? DNS_MAX_MSG : req->q.udp_size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	aname_config_t *cfg = aname_config_new();
	FUZZ_CHECK(cfg != NULL, "config");
	/* No network: every upstream is a closed loopback port. */
	FUZZ_CHECK(aname_config_add_stub(cfg, ".", "127.0.0.1@1") == ANAME_OK,
		   "stub");
	FUZZ_CHECK(aname_config_set_watchdog(cfg, 0, 100) == ANAME_OK,
		   "watchdog");
	FUZZ_CHECK(aname_ctx_new(&app.ctx, cfg) == ANAME_OK, "context");
	aname_config_free(cfg);
	app.timeout_ms = 1000;
	app.include_alias = 1;
	pthread_mutex_init(&app.zmu, NULL);
	return 0;
}

static bool in_upstream(const zoneset_t *zs, const char *name)
{
	for (size_t i = 0; i < zs->nupstream; i++)
		if (strcasecmp(zs->upstream[i], name) == 0)
			return true;
	return false;
}

static void check_alias(const zoneset_t *zs, const znode_t *n)
{
	FUZZ_CHECK(n->via <= ALIAS_LOOP, "via %u", n->via);
	FUZZ_CHECK(n->chain_ttl <= n->alias_ttl, "chain TTL %u > ALIAS TTL %u",
		   n->chain_ttl, n->alias_ttl);
	if (n->via == ALIAS_UPSTREAM) {
		FUZZ_CHECK(n->upstream != NULL && n->up_len > 0, "no upstream");
		uint8_t w[256];
		size_t wl = 0;
		FUZZ_CHECK(aname_name_to_wire(n->upstream, w, sizeof(w), &wl) ==
					   ANAME_OK &&
				   wl == n->up_len,
			   "upstream '%s' is not its wire name", n->upstream);
		FUZZ_CHECK(zoneset_find(zs, n->up_wire, n->up_len) == NULL,
			   "upstream '%s' is in our zones", n->upstream);
		FUZZ_CHECK(in_upstream(zs, n->upstream), "'%s' not listed",
			   n->upstream);
	} else if (n->via == ALIAS_LOCAL) {
		FUZZ_CHECK(n->local != NULL, "local without a node");
		FUZZ_CHECK(n->local->alias_rrset == NULL &&
				   znode_rrset(n->local, DNS_TYPE_CNAME) == NULL,
			   "the chain stopped at an ALIAS or CNAME");
		FUZZ_CHECK(zoneset_lookup(zs, n->local->name,
					  n->local->namelen) == n->local,
			   "local node not found again");
	}
}

static void check_response(const dns_query_t *q, const uint8_t *msg,
			   size_t len, size_t cap)
{
	FUZZ_CHECK(len <= cap, "response of %zu bytes, %zu allowed", len, cap);
	FUZZ_CHECK(len >= DNS_HDR_LEN, "response of %zu bytes", len);
	FUZZ_CHECK((uint16_t)(msg[0] << 8 | msg[1]) == q->id, "id");
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, msg, len);
	FUZZ_CHECK(st == LDNS_STATUS_OK, "response does not parse: %s",
		   ldns_get_errorstr_by_id(st));
	FUZZ_CHECK(ldns_pkt_qdcount(p) == q->has_question, "qdcount");
	if (ldns_pkt_tc(p))
		FUZZ_CHECK(ldns_pkt_ancount(p) == 0 && ldns_pkt_nscount(p) == 0,
			   "TC with records");
	ldns_pkt_free(p);
}

/* Would answering wait for the library? */
static bool would_defer(const zoneset_t *zs, const dns_query_t *q)
{
	if (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA &&
	    q->qtype != DNS_TYPE_ANY)
		return false;
	const znode_t *n = zoneset_lookup(zs, q->lname, q->qname_len);
	return n && n->alias && n->via == ALIAS_UPSTREAM;
}

static void answer(const uint8_t *msg, size_t len, int tcp)
{
	static const struct sockaddr_in peer = { .sin_family = AF_INET };
	static uint8_t out[DNS_MAX_MSG];
	dnsloop_req_t req = { .peer = (const struct sockaddr *)&peer,
			      .peerlen = sizeof(peer),
			      .tcp = (uint8_t)tcp };
	if (dns_query_parse(msg, len, &req.q) != DNS_PARSE_OK ||
	    would_defer(app.zs, &req.q))
		return;
	size_t cap = tcp ? DNS_MAX_MSG : req.q.udp_size;
	size_t n = answer_query(&app, &req, out, cap);
	if (n != DNSLOOP_DROP)
		check_response(&req.q, out, n, cap);
}

/* A query for \a type at node \a n, built here. */
static void ask_node(const znode_t *n, uint16_t type)
{
	uint8_t m[DNS_HDR_LEN + 255 + 4] = { 0x12, 0x34, 0, 0, 0, 1 };
	memcpy(m + DNS_HDR_LEN, n->name, n->namelen);
	size_t l = DNS_HDR_LEN + n->namelen;
	m[l] = (uint8_t)(type >> 8);
	m[l + 1] = (uint8_t)type;
	m[l + 2] = 0;
	m[l + 3] = 1;
	answer(m, l + 4, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t zlen = nul ? (size_t)(nul - data) : size;
	int fd = memfd_create("fuzz-server-zone", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd");
	FUZZ_CHECK(write(fd, data, zlen) == (ssize_t)zlen, "memfd write");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *files[1] = { path };
	app.zs = zoneset_load(files, 1);
	close(fd);
	if (!app.zs)
		return 0;
	unsigned asked = 0;
	for (size_t i = 0; i < app.zs->nzones; i++) {
		const zone_t *z = app.zs->zones[i];
		for (size_t b = 0; b < z->nbuckets; b++) {
			for (const znode_t *n = z->buckets[b]; n; n = n->hnext) {
				if (n->alias)
					check_alias(app.zs, n);
				if (asked++ >= 32)
					continue;
				ask_node(n, DNS_TYPE_SVCB);
				ask_node(n, DNS_TYPE_HTTPS);
				ask_node(n, DNS_TYPE_ALIAS);
			}
		}
	}
	for (size_t pos = zlen + 1; nul && pos < size;) {
		size_t l = data[pos++];
		if (l > size - pos)
			l = size - pos;
		answer(data + pos, l, 0);
		answer(data + pos, l, 1);
		pos += l;
	}
	zoneset_unref(app.zs);
	app.zs = NULL;
	/* Let fetches the cache lookups started fail (closed port), so
	 * they do not pile up over millions of inputs. */
	aname_process(app.ctx);
	return 0;
}
