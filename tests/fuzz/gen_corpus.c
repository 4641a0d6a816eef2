/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file gen_corpus.c
 * \brief Write the seed corpora of the fuzz targets (make fuzz-corpus).
 *
 *   answer  real answer packets: a libunbound context (stub zones to an nsd
 *           on loopback serving tests/fixtures/zones, a guard stub for "."
 *           at a closed port) resolves every fixture name for A and AAAA;
 *           each ub_result's answer_packet is stored behind the target's
 *           4-byte header, with the rcode and flags libunbound reported.
 *   query   client queries built with ldns: every name of the fuzzers'
 *           fixed zone, each type, with and without EDNS/DO, over-size and
 *           under-size EDNS buffers, plus malformed ones.
 *   name    names in presentation form (escapes, the root, limits) and in
 *           wire form.
 *   synth   results of every shape (A, AAAA, both, failed parts, stale).
 *
 * The zone corpus is the checked-in zone files themselves (rules.mk copies
 * them).  Usage: gen_corpus OUTDIR (OUTDIR/<target>/ must exist).
 */
#include "support/servers.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

static const char *outdir;
static unsigned written;

static void put(const char *target, const char *name, const uint8_t *d,
		size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s\n", path);
		exit(1);
	}
	written++;
}

/* ------------------------------------------------------------ answer */

static int answers(void)
{
	static const char *names[] = {
		"www", "c1", "c2", "c3", "ext", "loop1", "self", "l1", "l9",
		"nodata", "big", "short", "v6only", "dangling", "nothere",
		"ns1", "", "target.other.test.",
	};
	ts_nsd_t *nsd = ts_nsd_start(NULL);
	if (nsd == NULL) {
		fprintf(stderr, "gen_corpus: nsd did not start\n");
		return -1;
	}
	char addr[64], guard[64];
	snprintf(addr, sizeof(addr), "127.0.0.1@%d", ts_nsd_port(nsd));
	snprintf(guard, sizeof(guard), "127.0.0.1@%d", ts_free_port());
	struct ub_ctx *ub = ub_ctx_create();
	int bad = ub == NULL;
	bad |= ub_ctx_set_option(ub, "local-zone:", "test. transparent");
	bad |= ub_ctx_set_option(ub, "rrset-roundrobin:", "no");
	bad |= ub_ctx_set_stub(ub, "example.test", addr, 0);
	bad |= ub_ctx_set_stub(ub, "other.test", addr, 0);
	bad |= ub_ctx_set_stub(ub, ".", guard, 0);
	if (bad) {
		fprintf(stderr, "gen_corpus: libunbound set-up failed\n");
		ts_server_stop(nsd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (int t = 0; t < 2; t++) {
			char q[256];
			if (strchr(names[i], '.') != NULL) {
				snprintf(q, sizeof(q), "%s", names[i]);
			} else {
				snprintf(q, sizeof(q), "%s%sexample.test.",
					 names[i], names[i][0] ? "." : "");
			}
			int type = t ? 28 : 1;
			struct ub_result *r = NULL;
			if (ub_resolve(ub, q, type, 1, &r) != 0 || r == NULL) {
				fprintf(stderr, "gen_corpus: %s failed\n", q);
				continue;
			}
			size_t ql = strlen(q);
			size_t n = 4 + ql + (size_t)r->answer_len;
			uint8_t *buf = malloc(n);
			/* header: rcode; secure, bogus, AAAA, chain limit 8 */
			buf[0] = (uint8_t)r->rcode;
			buf[1] = (uint8_t)((r->secure ? 1 : 0) |
					   (r->bogus ? 2 : 0) | (t ? 4 : 0) |
					   (8 << 3));
			buf[2] = 4; /* floor 0, cap 86400, neg cap 3600 */
			buf[3] = (uint8_t)ql;
			memcpy(buf + 4, q, ql);
			if (r->answer_len > 0) {
				memcpy(buf + 4 + ql, r->answer_packet,
				       (size_t)r->answer_len);
			}
			char fname[300];
			snprintf(fname, sizeof(fname), "%s-%s",
				 names[i][0] ? names[i] : "apex",
				 t ? "AAAA" : "A");
			for (char *c = fname; *c; c++) {
				if (*c == '.') {
					*c = '_';
				}
			}
			put("answer", fname, buf, n);
			free(buf);
			ub_resolve_free(r);
		}
	}
	ub_ctx_delete(ub);
	ts_server_stop(nsd);
	return 0;
}

/* ------------------------------------------------------------ query */

static void query(const char *fname, const char *name, ldns_rr_type type,
		  ldns_rr_class cls, int edns, uint16_t size, int do_bit)
{
	ldns_pkt *p = NULL;
	if (ldns_pkt_query_new_frm_str(&p, name, type, cls, LDNS_RD) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "gen_corpus: query %s\n", name);
		exit(1);
	}
	ldns_pkt_set_id(p, 0x1234);
	if (edns) {
		ldns_pkt_set_edns_udp_size(p, size);
		ldns_pkt_set_edns_do(p, do_bit);
		/* ldns adds OPT only if some EDNS field is non-default. */
		ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_str(
						  LDNS_RDF_TYPE_HEX, "000a0000"));
	}
	uint8_t *w = NULL;
	size_t n = 0;
	if (ldns_pkt2wire(&w, p, &n) != LDNS_STATUS_OK) {
		exit(1);
	}
	put("query", fname, w, n);
	free(w);
	ldns_pkt_free(p);
}

static void queries(void)
{
	static const char *names[] = {
		"fz.test.", "low.fz.test.", "chain.fz.test.", "nx.fz.test.",
		"nodata.fz.test.", "v6.fz.test.", "big.fz.test.",
		"cn.fz.test.", "www.fz.test.", "ent.fz.test.",
		"generic.fz.test.", "a.wild.fz.test.", "none.fz.test.",
		"other.example.", "FZ.TeSt.",
	};
	static const ldns_rr_type types[] = {
		LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_ANY,
		LDNS_RR_TYPE_MX, LDNS_RR_TYPE_SOA,
	};
	char fname[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			snprintf(fname, sizeof(fname), "q-%zu-%u", i,
				 (unsigned)types[t]);
			query(fname, names[i], types[t], LDNS_RR_CLASS_IN, 0, 0,
			      0);
		}
		snprintf(fname, sizeof(fname), "q-%zu-edns", i);
		query(fname, names[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1,
		      4096, 1);
	}
	query("q-edns-small", "big.fz.test.", LDNS_RR_TYPE_A,
	      LDNS_RR_CLASS_IN, 1, 100, 0);
	query("q-edns-1232", "big.fz.test.", LDNS_RR_TYPE_AAAA,
	      LDNS_RR_CLASS_IN, 1, 1232, 0);
	query("q-chaos", "fz.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, 0, 0,
	      0);
	/* Malformed: header only, a response, bad opcode, two questions. */
	static const uint8_t hdr[12] = {0x12, 0x34, 0x01, 0, 0, 1};
	put("query", "m-header-only", hdr, sizeof(hdr));
	static const uint8_t resp[] = {0x12, 0x34, 0x81, 0,  0, 1,
				       0,    0,    0,    0,  0, 0,
				       2,    'f',  'z',  0,  0, 1, 0, 1};
	put("query", "m-response", resp, sizeof(resp));
	static const uint8_t notify[] = {0x12, 0x34, 0x21, 0,  0, 1,
					 0,    0,    0,    0,  0, 0,
					 2,    'f',  'z',  0,  0, 6, 0, 1};
	put("query", "m-notify", notify, sizeof(notify));
	static const uint8_t ptr[] = {0x12, 0x34, 0x01, 0,    0, 1,
				      0,    0,    0,    0,    0, 0,
				      0xc0, 12,   0,    1,    0, 1};
	put("query", "m-compressed-qname", ptr, sizeof(ptr));
	static const uint8_t badvers[] = {
		0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 1,
		2, 'f', 'z', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
		0, 0, 41, 0x10, 0, 0, 1, 0, 0, 0, 0};
	put("query", "m-badvers", badvers, sizeof(badvers));
}

/* ------------------------------------------------------------ name */

static void names(void)
{
	static const char *text[] = {
		"www.example.test.", "www.example.test", ".", "",
		"a\\.b.example.", "\\065\\066c.", "a\\000b.", "\\\\.\\\".",
		"UPPER.Case.", "a..b", ".a", "a\\", "\\2561.", "\\25.",
		"xn--bcher-kva.example.", "*.wild.test.", "@.test.",
		"a;b(c)d$e.", "tab\\009x.",
	};
	char fname[64];
	uint8_t buf[600];
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		size_t n = strlen(text[i]);
		buf[0] = 0; /* text mode */
		memcpy(buf + 1, text[i], n);
		snprintf(fname, sizeof(fname), "text-%zu", i);
		put("name", fname, buf, n + 1);
	}
	/* 63-octet label and a 255-octet name, and one octet too many. */
	size_t n = 1;
	for (int l = 0; l < 4; l++) {
		for (int c = 0; c < (l < 3 ? 63 : 61); c++) {
			buf[n++] = 'a';
		}
		buf[n++] = '.';
	}
	put("name", "text-max", buf, n);
	buf[n - 1] = 'b';
	buf[n++] = '.';
	put("name", "text-over", buf, n);
	/* Wire mode: mode byte, output size, then the wire name. */
	static const uint8_t w1[] = {1, 255, 3, 'w', 'w', 'w', 7, 'e', 'x',
				     'a', 'm', 'p', 'l', 'e', 0};
	put("name", "wire-www", w1, sizeof(w1));
	static const uint8_t w2[] = {1, 8, 3, 'a', '.', 0x7f, 0};
	put("name", "wire-escapes-small", w2, sizeof(w2));
	static const uint8_t w3[] = {1, 255, 0xc0, 0x0c};
	put("name", "wire-pointer", w3, sizeof(w3));
	static const uint8_t c1[] = {2, 5, 3, 'W', 'w', 'W', 0,
				     3, 'w', 'w', 'w', 0};
	put("name", "case-www", c1, sizeof(c1));
}

/* ------------------------------------------------------------ synth */

static void synth(void)
{
	/* flags, #A, #AAAA, ttl, alias ttl, buflen, owner len, owner, addrs */
	struct seed {
		const char *name;
		uint8_t flags, na, n6;
		uint32_t ttl, alias_ttl;
		uint16_t buflen;
		const char *owner;
	} seeds[] = {
		{"a-two", 0, 2, 0, 300, 600, 512, "alias.test."},
		{"aaaa-one", 1, 0, 1, 300, 60, 512, "alias.test."},
		{"both", 2, 2, 1, 300, 600, 65535, "Alias.Test."},
		{"both-a-failed", 2 | 4, 2, 1, 300, 600, 65535, "x.test."},
		{"both-empty", 2, 0, 0, 300, 600, 100, "x.test."},
		{"stale", 32, 3, 0, 300, 600, 512, "x.test."},
		{"small-buffer", 0, 5, 0, 300, 600, 40, "alias.test."},
		{"bad-type", 3, 1, 1, 300, 600, 512, "x.test."},
		{"raw-owner", 16 | 2, 1, 1, 300, 600, 512,
		 "\005alias\004test"},
		{"escaped-owner", 2, 1, 1, 5, 0xffffffffu, 512,
		 "a\\.b\\032c.test."},
		{"many", 2, 200, 200, 86400, 3600, 65535, "m.test."},
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		const struct seed *s = &seeds[i];
		uint8_t buf[8192];
		size_t n = 0;
		size_t ol = strlen(s->owner) + ((s->flags & 16) ? 1 : 0);
		buf[n++] = s->flags;
		buf[n++] = s->na;
		buf[n++] = s->n6;
		for (int b = 3; b >= 0; b--) {
			buf[n++] = (uint8_t)(s->ttl >> (8 * b));
		}
		for (int b = 3; b >= 0; b--) {
			buf[n++] = (uint8_t)(s->alias_ttl >> (8 * b));
		}
		buf[n++] = (uint8_t)(s->buflen >> 8);
		buf[n++] = (uint8_t)s->buflen;
		buf[n++] = (uint8_t)ol;
		memcpy(buf + n, s->owner, ol);
		n += ol;
		for (size_t a = 0; a < (size_t)s->na * 4 + (size_t)s->n6 * 16 &&
				   n < sizeof(buf);
		     a++) {
			buf[n++] = (uint8_t)(a * 7 + 1);
		}
		put("synth", s->name, buf, n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	names();
	synth();
	queries();
	if (answers() != 0) {
		return 1;
	}
	printf("gen_corpus: %u seed files written under %s\n", written,
	       outdir);
	return 0;
}
