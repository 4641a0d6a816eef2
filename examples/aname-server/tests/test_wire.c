/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * aname-server on the wire: the queries dig, kdig, dnspython and EDNS
 * compliance testers (ednscomp's plain/edns/edns1/ednsflags/ednsopt/do
 * probes) send, built byte by byte, and the reply bytes that matter
 * checked exactly: id, every header flag, opcode, rcode, counts, the
 * echoed question, and the OPT record.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsclient.h"
#include "srvharness.h"
#include "wire.h"

TestSuite(wire, .init = srv_setup, .fini = srv_teardown, .timeout = 60);

/* Header flag bits. */
#define QR 0x8000
#define AA 0x0400
#define TC 0x0200
#define RD 0x0100
#define RA 0x0080
#define AD 0x0020
#define CD 0x0010

static uint8_t reply[65536];

/* Send over UDP or TCP; the reply's length (asserts one arrived). */
static size_t exchange(const wq_t *q, int tcp)
{
	int n = tcp ? wq_tcp(sport, q, reply, sizeof(reply), 3000) :
		      dc_raw_udp(sport, q->b, q->len, reply, sizeof(reply),
				 3000);
	cr_assert(n >= 12, "no reply (tcp=%d, opcode %u, qtype %u)", tcp,
		  q->opcode, q->qtype);
	return (size_t)n;
}

/* The header of a reply: id, flags (QR, opcode, AA, TC, RD, RA, CD,
 * rcode), and the four counts. */
static void expect_header(const wq_t *q, size_t n, uint16_t flags,
			  unsigned rcode, unsigned qd, unsigned an, unsigned ns,
			  unsigned ar)
{
	(void)n;
	cr_expect_eq(wq_u16(reply, 0), q->id, "id echoed");
	uint16_t want = (uint16_t)(QR | (q->opcode << 11) | flags | (rcode & 0xf));
	cr_expect_eq(wq_u16(reply, 2), want,
		     "flags %04x, want %04x (opcode %u qtype %u)",
		     wq_u16(reply, 2), want, q->opcode, q->qtype);
	cr_expect_eq(wq_u16(reply, 4), qd, "QDCOUNT");
	if (an != WQ_ANY)
		cr_expect_eq(wq_u16(reply, 6), an, "ANCOUNT (qtype %u)", q->qtype);
	if (ns != WQ_ANY)
		cr_expect_eq(wq_u16(reply, 8), ns, "NSCOUNT (qtype %u)", q->qtype);
	if (ar != WQ_ANY)
		cr_expect_eq(wq_u16(reply, 10), ar, "ARCOUNT (qtype %u)", q->qtype);
}

/* The question is echoed byte for byte, case included (0x20 clients). */
static void expect_question(const wq_t *q)
{
	cr_expect_eq(memcmp(reply + 12, q->b + 12, q->qlen), 0,
		     "question echoed verbatim");
}

/* Our OPT is the last record: root owner, type 41, size 1232, the upper
 * rcode bits, version 0, DO as asked, no other flags, no options. */
static void expect_opt(size_t n, unsigned rcode, int do_bit)
{
	cr_assert(n >= 12 + 11);
	const uint8_t *o = reply + n - 11;
	const uint8_t want[11] = { 0, 0, 41, 1232 >> 8, 1232 & 0xff,
				   (uint8_t)(rcode >> 4), 0,
				   (uint8_t)(do_bit ? 0x80 : 0), 0, 0, 0 };
	cr_expect_eq(memcmp(o, want, 11), 0,
		     "OPT %02x%02x%02x %02x%02x %02x %02x %02x%02x %02x%02x",
		     o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8],
		     o[9], o[10]);
}

Test(wire, every_opcode_gets_its_own_opcode_back)
{
	srv_start("1500", NULL);
	for (unsigned op = 0; op < 16; op++) {
		for (int tcp = 0; tcp <= 1; tcp++) {
			wq_t q = wq_new(0x1200 + op, RD, "mail.srv.test", 1, 1);
			q.opcode = op;
			wq_set_flags(&q);
			size_t n = exchange(&q, tcp);
			/* Opcode 0: the answer; others: NOTIMP, never AA. */
			if (op == 0)
				expect_header(&q, n, AA | RD, 0, 1, 1, 0, 0);
			else
				expect_header(&q, n, RD, 4, 1, 0, 0, 0);
			expect_question(&q);
		}
	}
	/* NOTIFY as nsd/knotd send it (AA set, SOA question) and UPDATE
	 * with a zone section, prerequisite and update records. */
	wq_t notify = wq_new(0x4444, AA, "srv.test", 6, 1);
	notify.opcode = 4;
	wq_set_flags(&notify);
	size_t n = exchange(&notify, 0);
	expect_header(&notify, n, 0, 4, 1, 0, 0, 0);
	wq_t upd = wq_new(0x5555, 0, "srv.test", 6, 1);
	upd.opcode = 5;
	wq_set_flags(&upd);
	wq_add_rr(&upd, 1, "new.srv.test", 1, 1, 300, "\xc0\x00\x02\x09", 4);
	n = exchange(&upd, 1);
	expect_header(&upd, n, 0, 4, 1, 0, 0, 0);
	expect_question(&upd);
	/* DSO (opcode 6) has no question: NOTIMP with none. */
	wq_t dso = wq_new(0x6666, 0, NULL, 0, 0);
	dso.opcode = 6;
	wq_set_flags(&dso);
	n = exchange(&dso, 1);
	expect_header(&dso, n, 0, 4, 0, 0, 0, 0);
	/* NOTIMP with EDNS keeps the OPT. */
	wq_t ne = wq_new(0x7777, 0, "srv.test", 6, 1);
	ne.opcode = 2;
	wq_set_flags(&ne);
	wq_add_opt(&ne, 4096, 0, 0x8000, NULL, 0);
	n = exchange(&ne, 0);
	expect_header(&ne, n, 0, 4, 1, 0, 0, 1);
	expect_opt(n, 4, 1);
}

Test(wire, edns_versions_flags_options_and_do)
{
	srv_start("1500", NULL);
	for (int tcp = 0; tcp <= 1; tcp++) {
		/* plain: no OPT in, none out. */
		wq_t q = wq_new(1, RD, "MaIl.SrV.tEsT", 1, 1);
		size_t n = exchange(&q, tcp);
		expect_header(&q, n, AA | RD, 0, 1, 1, 0, 0);
		expect_question(&q);
		/* edns: OPT echoed, DO clear. */
		q = wq_new(2, 0, "mail.srv.test", 1, 1);
		wq_add_opt(&q, 4096, 0, 0, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 1, 0, 1);
		expect_opt(n, 0, 0);
		/* do: DO echoed (RFC 3225), CD copied. */
		q = wq_new(3, RD | CD, "mail.srv.test", 1, 1);
		wq_add_opt(&q, 1232, 0, 0x8000, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA | RD | CD, 0, 1, 1, 0, 1);
		expect_opt(n, 0, 1);
		/* ednsflags: an unknown flag bit is not echoed. */
		q = wq_new(4, 0, "mail.srv.test", 1, 1);
		wq_add_opt(&q, 1232, 0, 0x4000, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 1, 0, 1);
		expect_opt(n, 0, 0);
		/* ednsopt: an unknown option (code 100) is ignored, not
		 * echoed; COOKIE and NSID likewise (not implemented). */
		q = wq_new(5, 0, "mail.srv.test", 1, 1);
		wq_add_opt(&q, 1232, 0, 0x8000,
			   "\x00\x64\x00\x04" "abcd" "\x00\x0a\x00\x08" "12345678"
			   "\x00\x03\x00\x00", 24);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 1, 0, 1);
		expect_opt(n, 0, 1);
		/* edns1 and edns255: BADVERS (16: 0 in the header, 1 in the
		 * OPT), version 0, no answer. */
		for (int v = 1; v <= 255; v += 254) {
			q = wq_new((uint16_t)(6 + v), RD, "mail.srv.test", 1, 1);
			wq_add_opt(&q, 1232, (uint8_t)v, 0x8000, NULL, 0);
			n = exchange(&q, tcp);
			expect_header(&q, n, RD, 16, 1, 0, 0, 1);
			expect_question(&q);
			expect_opt(n, 16, 1);
		}
		/* Two OPTs, or an OPT not at the root: FORMERR. */
		q = wq_new(9, 0, "mail.srv.test", 1, 1);
		wq_add_opt(&q, 1232, 0, 0, NULL, 0);
		wq_add_opt(&q, 1232, 0, 0, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, 0, 1, 1, 0, 0, 1);
		q = wq_new(10, 0, "mail.srv.test", 1, 1);
		wq_add_rr(&q, 2, "srv.test", 41, 1232, 0, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, 0, 1, 1, 0, 0, 0);
		/* No question (an EDNS cookie-only probe): FORMERR + OPT. */
		q = wq_new(11, 0, NULL, 0, 0);
		wq_add_opt(&q, 1232, 0, 0, NULL, 0);
		n = exchange(&q, tcp);
		expect_header(&q, n, 0, 1, 0, 0, 0, 1);
		expect_opt(n, 1, 0);
		/* Two questions: FORMERR. */
		q = wq_new(12, 0, "mail.srv.test", 1, 2);
		n = exchange(&q, tcp);
		cr_expect_eq(reply[3] & 0xf, 1, "two questions: FORMERR");
	}
	/* edns@512 over UDP: a big answer truncates at 512 bytes. */
	wq_t q = wq_new(13, 0, "big.srv.test", 1, 1);
	wq_add_opt(&q, 512, 0, 0, NULL, 0);
	size_t n = exchange(&q, 0);
	cr_expect(n <= 512, "%zu bytes over a 512-byte buffer", n);
	expect_header(&q, n, AA | TC, 0, 1, 0, 0, 1);
}

Test(wire, any_axfr_ixfr_alias_https_and_meta_types)
{
	srv_start("1500", NULL);
	for (int tcp = 0; tcp <= 1; tcp++) {
		/* ANY at an ALIAS owner: its RRsets (SOA, NS, ALIAS, MX)
		 * plus the synthesized 2 A and 1 AAAA, as PowerDNS answers. */
		wq_t q = wq_new(20, 0, "srv.test", 255, 1);
		size_t n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 7, 0, 0);
		ldns_pkt *p = NULL;
		cr_assert_eq(ldns_wire2pkt(&p, reply, n), LDNS_STATUS_OK);
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 1), 2);
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 28), 1);
		cr_expect_eq(dc_count(p, LDNS_SECTION_ANSWER, 65401), 1);
		ldns_pkt_free(p);
		/* ANY at a plain name: its RRsets. */
		q = wq_new(21, 0, "mail.srv.test", 255, 1);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 1, 0, 0);
		/* AXFR and IXFR: REFUSED, question echoed, nothing else. */
		for (uint16_t t = 251; t <= 252; t++) {
			q = wq_new(t, 0, "srv.test", t, 1);
			n = exchange(&q, tcp);
			expect_header(&q, n, 0, 5, 1, 0, 0, 0);
			expect_question(&q);
		}
		/* The ALIAS type itself: the record, AA. */
		q = wq_new(22, 0, "srv.test", 65401, 1);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 1, 0, WQ_ANY);
		/* HTTPS at an ALIAS owner with none in the zone: NODATA
		 * with the SOA, never a copy of the target's. */
		q = wq_new(23, 0, "srv.test", 65, 1);
		n = exchange(&q, tcp);
		expect_header(&q, n, AA, 0, 1, 0, 1, 0);
		/* OPT as a question type: FORMERR. */
		q = wq_new(24, 0, "srv.test", 41, 1);
		n = exchange(&q, tcp);
		expect_header(&q, n, 0, 1, 1, 0, 0, 0);
		/* CHAOS version.bind: REFUSED (not our class). */
		q = wq_new(25, RD, "version.bind", 16, 1);
		q.qclass = 3;
		wq_set_question(&q);
		n = exchange(&q, tcp);
		expect_header(&q, n, RD, 5, 1, 0, 0, 0);
		/* Outside our zones: REFUSED, never AA, never RA. */
		q = wq_new(26, RD, "www.example.test", 1, 1);
		n = exchange(&q, tcp);
		expect_header(&q, n, RD, 5, 1, 0, 0, 0);
	}
	cr_expect_eq(srv_metric("aname_server_xfr_refused_total"), 4);
	cr_expect_eq(srv_metric("aname_server_responses_total{rcode=\"REFUSED\"}"),
		     8);
}
