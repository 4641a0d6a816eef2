/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_query.c
 * \brief Fuzz target "query": client query datagrams as aname-server
 * parses and answers them.
 *
 * The input is one DNS message as a client would send it.  It goes
 * through the same steps as dnsloop.c's handle_msg(): dns_query_parse()
 * (examples/aname-server/dnsmsg.c), the UDP size clamp, then either an
 * error response or answer_query() (examples/aname-server/answer.c) over a
 * fixed in-memory zone, once as if it came over UDP and once over TCP.
 * ALIAS answers come from a real library context whose targets are local
 * data (no network; a guard stub for "." points at a closed loopback
 * port), warmed before the first input so that answers are cache hits.  A
 * query that misses is deferred as dnsloop would; this file stands in for
 * dnsloop_defer()/dnsloop_answer() and drives the context until every
 * deferred query is answered (2 s at most, else it is a hang and aborts).
 *
 * Checked on every response: it fits the buffer the client allows; ldns
 * parses it; it echoes the id, opcode and question; QR is set; a
 * truncated response carries no records.  A response is missing only
 * when the query was to be dropped.
 */
#include "aname.h"
#include "fuzz_check.h"
#include "server.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char ZONE[] =
	"$ORIGIN fz.test.\n"
	"$TTL 300\n"
	"@ 300 IN SOA ns1 hostmaster 1 3600 900 604800 120\n"
	"@ 300 IN NS ns1\n"
	"ns1 300 IN A 192.0.2.53\n"
	"@ 600 IN ALIAS www.example.test.\n"
	"@ 300 IN MX 10 mail\n"
	"@ 300 IN TXT \"v=spf1 -all\"\n"
	"mail 300 IN A 192.0.2.25\n"
	"mail 300 IN AAAA 2001:db8::25\n"
	"low 30 IN ALIAS www.example.test.\n"
	"chain 3600 ANAME c1.example.test.\n"
	"nx ALIAS nothere.example.test.\n"
	"nodata ALIAS nodata.example.test.\n"
	"v6 ALIAS v6only.example.test.\n"
	"big ALIAS big.example.test.\n"
	"cn 300 IN CNAME www.fz.test.\n"
	"www 300 IN A 192.0.2.80\n"
	"deep.ent 300 IN TXT \"empty non-terminal above\"\n"
	"generic 300 IN TYPE65401 \\# 18 03777777076578616D706C65047465737400\n"
	"wild 300 IN A 192.0.2.99\n"
	/* aname-server refuses wildcard owners now (issue 14); SVCB/HTTPS
	 * targets reach its additional-section code. */
	"@ 300 IN HTTPS 1 . alpn=h2\n"
	"svc 300 IN SVCB 0 www.fz.test.\n"
	"svc2 300 IN HTTPS 1 low.fz.test. port=8443\n"
	"www 300 IN SVCB 1 . alpn=h3\n";

static srv_app_t app;
static unsigned deferred; /* deferred queries not answered yet */

zoneset_t *srv_zones(srv_app_t *a)
{
	return a->zs;
}

/* ---------------------------------------------------- dnsloop stand-ins */

struct kreq {
	dnsloop_req_t req; /* first: dnsloop_answer() gets &k->req */
	struct sockaddr_storage peer;
};

dnsloop_req_t *dnsloop_defer(dnsloop_req_t *req)
{
	struct kreq *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		return NULL;
	}
	k->req = *req;
	memcpy(&k->peer, req->peer, req->peerlen);
	k->req.peer = (struct sockaddr *)&k->peer;
	deferred++;
	return &k->req;
}

size_t dnsloop_req_maxlen(const dnsloop_req_t *req)
{
	return req->tcp ? DNS_MAX_MSG : req->q.udp_size;
}

static void check_response(const dns_query_t *q, const uint8_t *msg,
			   size_t len, size_t cap)
{
	FUZZ_CHECK(len <= cap, "response of %zu bytes, %zu allowed", len, cap);
	FUZZ_CHECK(len >= DNS_HDR_LEN, "response of %zu bytes", len);
	uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
	uint16_t flags = (uint16_t)(msg[2] << 8 | msg[3]);
	FUZZ_CHECK(id == q->id, "id %u for %u", id, q->id);
	FUZZ_CHECK(flags & DNS_FLAG_QR, "QR not set");
	FUZZ_CHECK((flags >> 11 & 0xf) == (q->flags >> 11 & 0xf),
		   "opcode %u for %u", flags >> 11 & 0xf, q->flags >> 11 & 0xf);
	ldns_pkt *p = NULL;
	ldns_status st = ldns_wire2pkt(&p, msg, len);
	FUZZ_CHECK(st == LDNS_STATUS_OK, "response does not parse: %s",
		   ldns_get_errorstr_by_id(st));
	FUZZ_CHECK(ldns_pkt_qdcount(p) == q->has_question, "qdcount %u",
		   ldns_pkt_qdcount(p));
	if (q->has_question) {
		ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		FUZZ_CHECK(ldns_rr_get_type(qr) == q->qtype &&
				   (uint16_t)ldns_rr_get_class(qr) == q->qclass,
			   "question type/class changed");
		ldns_rdf *o = ldns_rr_owner(qr);
		FUZZ_CHECK(ldns_rdf_size(o) == q->qname_len &&
				   memcmp(ldns_rdf_data(o), q->qname,
					  q->qname_len) == 0,
			   "question name changed");
	}
	if (flags & DNS_FLAG_TC) {
		FUZZ_CHECK(ldns_pkt_ancount(p) == 0 && ldns_pkt_nscount(p) == 0,
			   "truncated response with records");
	}
	FUZZ_CHECK((ldns_pkt_edns(p) != 0) == (q->edns != 0),
		   "EDNS %d in reply to %d", ldns_pkt_edns(p), q->edns);
	ldns_pkt_free(p);
}

void dnsloop_answer(dnsloop_req_t *req, const uint8_t *msg, size_t len)
{
	struct kreq *k = (struct kreq *)req;
	FUZZ_CHECK(deferred > 0, "answer to a query never deferred");
	FUZZ_CHECK(req->user == NULL, "answered with state still attached");
	if (len > 0) {
		check_response(&req->q, msg, len, dnsloop_req_maxlen(req));
	}
	deferred--;
	free(k);
}

/* ---------------------------------------------------------- set-up */

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sl) == 0 &&
			   getsockname(fd, (struct sockaddr *)&sa, &sl) == 0,
		   "no loopback port");
	close(fd);
	return ntohs(sa.sin_port);
}

/* Drive the context until \a cond holds or \a ms pass; false on timeout. */
static bool drive(bool (*cond)(void), int ms)
{
	uint64_t end = (uint64_t)ms;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!cond()) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		uint64_t el = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000u +
			      (uint64_t)((t.tv_nsec - t0.tv_nsec) / 1000000);
		if (el >= end) {
			return false;
		}
		int wait = aname_timeout_ms(app.ctx);
		if (wait < 0 || wait > 50) {
			wait = 50;
		}
		struct pollfd pfd = {aname_fd(app.ctx), POLLIN, 0};
		poll(&pfd, 1, wait);
		aname_process(app.ctx);
	}
	return true;
}

static unsigned warm_pending;

static void warm_done(void *arg, int status, const aname_result_t *res)
{
	(void)arg;
	(void)status;
	(void)res;
	warm_pending--;
}

static bool warm_finished(void)
{
	return warm_pending == 0;
}

static bool none_deferred(void)
{
	return deferred == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *data[] = {
		"www.example.test. 86400 IN A 192.0.2.1",
		"www.example.test. 86400 IN A 192.0.2.2",
		"www.example.test. 86400 IN AAAA 2001:db8::1",
		"c1.example.test. 86400 IN CNAME c2.example.test.",
		"c2.example.test. 50000 IN CNAME www.example.test.",
		"nodata.example.test. 86400 IN TXT \"no addresses\"",
		"v6only.example.test. 86400 IN AAAA 2001:db8::6",
	};
	char guard[32];
	(void)argc;
	(void)argv;
	aname_config_t *cfg = aname_config_new();
	FUZZ_CHECK(cfg != NULL, "oom");
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", free_port());
	FUZZ_CHECK(aname_config_add_stub(cfg, ".", guard) == ANAME_OK, "stub");
	FUZZ_CHECK(aname_config_add_local_zone(cfg, "example.test",
					       "static") == ANAME_OK,
		   "local zone");
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		FUZZ_CHECK(aname_config_add_local_data(cfg, data[i]) ==
				   ANAME_OK,
			   "local data %s", data[i]);
	}
	/* big.example.test: 100 addresses, more than a 512-byte reply. */
	for (int i = 1; i <= 100; i++) {
		char rr[80];
		snprintf(rr, sizeof(rr), "big.example.test. 86400 IN A 198.51.100.%d",
			 i);
		FUZZ_CHECK(aname_config_add_local_data(cfg, rr) == ANAME_OK,
			   "local data");
	}
	FUZZ_CHECK(aname_config_set_watchdog(cfg, 0, 100) == ANAME_OK,
		   "watchdog");
	FUZZ_CHECK(aname_ctx_new(&app.ctx, cfg) == ANAME_OK, "context");
	aname_config_free(cfg);
	app.timeout_ms = 1000;
	pthread_mutex_init(&app.zmu, NULL);

	int fd = memfd_create("fuzz-query-zone", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && write(fd, ZONE, sizeof(ZONE) - 1) ==
				      (ssize_t)(sizeof(ZONE) - 1),
		   "memfd");
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *files[1] = {path};
	app.zs = zoneset_load(files, 1);
	FUZZ_CHECK(app.zs != NULL && app.zs->ntargets == 6,
		   "fixed zone did not load");
	close(fd);

	/* Warm and keep warm every target, as aname-server does. */
	for (size_t i = 0; i < app.zs->ntargets; i++) {
		aname_qid_t qid;
		FUZZ_CHECK(aname_target_register(app.ctx, app.zs->targets[i],
						 ANAME_RRTYPE_BOTH) == ANAME_OK,
			   "register");
		warm_pending++;
		FUZZ_CHECK(aname_resolve(app.ctx, app.zs->targets[i],
					 ANAME_RRTYPE_BOTH, 5000, warm_done,
					 NULL, &qid) == ANAME_OK,
			   "resolve");
	}
	FUZZ_CHECK(drive(warm_finished, 10000), "warming timed out");
	aname_result_t *res = NULL;
	FUZZ_CHECK(aname_cache_lookup(app.ctx, "www.example.test.",
				      ANAME_RRTYPE_A, 0, &res) == ANAME_OK &&
			   aname_result_count(res, ANAME_RRTYPE_A) == 2,
		   "local data not served");
	aname_result_unref(res);
	return 0;
}

/* ---------------------------------------------------------- one input */

static void one(const uint8_t *data, size_t size, int tcp)
{
	static const struct sockaddr_in peer = {.sin_family = AF_INET};
	dnsloop_req_t req = {.peer = (const struct sockaddr *)&peer,
			     .peerlen = sizeof(peer),
			     .tcp = (uint8_t)tcp};
	size_t cap = DNS_MAX_MSG;
	enum dns_parse p = dns_query_parse(data, size, &req.q);
	if (p == DNS_PARSE_DROP) {
		return;
	}
	if (!tcp && cap > req.q.udp_size) {
		cap = req.q.udp_size;
	}
	/* Exactly the room allowed, so ASan sees a write past it. */
	uint8_t *out = malloc(cap);
	FUZZ_CHECK(out != NULL, "oom");
	size_t len;
	if (p == DNS_PARSE_ERROR) {
		len = dns_resp_error(out, cap, &req.q, req.q.rcode, 0);
	} else {
		len = answer_query(&app, &req, out, cap);
	}
	if (len == DNSLOOP_DEFERRED) {
		FUZZ_CHECK(drive(none_deferred, 2000),
			   "deferred query not answered in 2 s");
	} else {
		FUZZ_CHECK(len != DNSLOOP_DROP, "well-formed query dropped");
		check_response(&req.q, out, len, cap);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0);
	one(data, size, 1);
	return 0;
}
