/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_synth.c
 * \brief Fuzz target "synth": synthesis of the sibling RRsets from any
 * result (aname_synth_wire/_text/_ldns/_ttl).
 *
 * Input layout (tests/fuzz/README.md):
 *
 *   byte 0      bits 0-1 type asked (A, AAAA, BOTH, or a bad type),
 *               bit 2 A part fails, bit 3 AAAA part fails,
 *               bit 4 owner given as raw wire bytes instead of text,
 *               bit 5 result already expired (stale)
 *   byte 1      number of A addresses, byte 2 number of AAAA addresses
 *               (each modulo 40)
 *   bytes 3-6   result TTL, bytes 7-10 ALIAS TTL (big endian)
 *   bytes 11-12 output buffer size
 *   byte 13     owner length N, then N owner bytes, then the addresses
 *               (4 bytes per A, 16 per AAAA; missing bytes are zero)
 *
 * Checks: the wire output parses back with ldns_wire2rr() into exactly the
 * returned number of records, each with the owner, type, class, TTL
 * (aname_synth_ttl) and address of the result; ENOSPC exactly when the
 * records do not fit; the text output has the same records (read back with
 * ldns) and snprintf semantics; the ldns list equals the wire records.
 */
#include "answer.h"
#include "cache.h"
#include "config.h"
#include "clock.h"
#include "name.h"
#include "result.h"
#include "stats.h"
#include "fuzz_check.h"

#include <ldns/ldns.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, size_t bytes)
{
	uint32_t v = 0;
	for (size_t i = 0; i < bytes; i++) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static aname_result_t *part_new(uint16_t t, size_t count, uint32_t ttl,
				bool expired, struct input *in)
{
	aname_result_t *r = aname__result_new(t, "target.example.test.",
					      count);
	FUZZ_CHECK(r != NULL, "oom");
	uint8_t *a = aname__result_addrs(r);
	size_t alen = t == ANAME_RRTYPE_A ? 4 : 16;
	for (size_t i = 0; i < count * alen; i++) {
		a[i] = (uint8_t)take(in, 1);
	}
	uint64_t now = aname__now_ms();
	r->status = ANAME_OK;
	r->rcode = count ? 0 : 3;
	r->ttl = ttl;
	r->stale_ttl = 30;
	/* Expired for any clock the library reads, coarse or not; a fresh
	 * result was received 10 ms ago (as when a host synthesizes from a
	 * callback), and a fresh TTL-0 one is within its hold, as answer.c
	 * makes them. */
	r->expire_ms = expired	? 1
		       : ttl > 0 ? now - 10 + (uint64_t)ttl * 1000u
				 : now - 10 + ANAME_TTL0_HOLD_MS;
	return r;
}

static const uint8_t *expected_addr(const aname_result_t *res, uint16_t t,
				    size_t i, uint8_t *buf)
{
	int n = aname_result_addr(res, t, i, buf, 16);
	FUZZ_CHECK(n == (t == ANAME_RRTYPE_A ? 4 : 16), "addr %d", n);
	return buf;
}

/* The records we expect, in order: type and address of each. */
struct want {
	uint16_t type[512];
	uint8_t addr[512][16];
	size_t n;
};

static void wanted(const aname_result_t *res, uint16_t rrtype,
		   struct want *w)
{
	uint16_t types[2] = {rrtype, 0};
	int nt = 1;
	w->n = 0;
	if (rrtype == ANAME_RRTYPE_BOTH) {
		types[0] = ANAME_RRTYPE_A;
		types[1] = ANAME_RRTYPE_AAAA;
		nt = 2;
	}
	for (int t = 0; t < nt; t++) {
		for (size_t i = 0; i < aname_result_count(res, types[t]); i++) {
			w->type[w->n] = types[t];
			expected_addr(res, types[t], i, w->addr[w->n]);
			w->n++;
		}
	}
}

static void check_rr(const ldns_rr *rr, const struct want *w, size_t i,
		     const ldns_rdf *owner, uint32_t ttl)
{
	size_t alen = w->type[i] == ANAME_RRTYPE_A ? 4 : 16;
	FUZZ_CHECK(ldns_rr_get_type(rr) == w->type[i], "rr %zu type", i);
	FUZZ_CHECK(ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN, "class");
	FUZZ_CHECK(ldns_rr_ttl(rr) == ttl, "rr %zu ttl %u, want %u", i,
		   ldns_rr_ttl(rr), ttl);
	FUZZ_CHECK(ldns_dname_compare(ldns_rr_owner(rr), owner) == 0,
		   "rr %zu owner", i);
	FUZZ_CHECK(ldns_rr_rd_count(rr) == 1, "rdata count");
	const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
	FUZZ_CHECK(ldns_rdf_size(rd) == alen &&
			   memcmp(ldns_rdf_data(rd), w->addr[i], alen) == 0,
		   "rr %zu address", i);
}

static void check_wire(const aname_result_t *res, uint16_t rrtype,
		       const uint8_t *owner, size_t olen, uint32_t alias_ttl,
		       size_t buflen, const struct want *w, uint32_t ttl)
{
	uint8_t *buf = malloc(buflen ? buflen : 1);
	size_t written = 12345;
	FUZZ_CHECK(buf != NULL, "oom");
	int k = aname_synth_wire(res, rrtype, owner, olen, alias_ttl,
				 buflen ? buf : buf, buflen, &written);
	if (k == ANAME_EBADNAME) {
		/* Only a malformed owner is refused. */
		ldns_rdf *o = NULL;
		size_t pos = 0;
		bool ok = ldns_wire2dname(&o, owner, olen, &pos) ==
				  LDNS_STATUS_OK &&
			  pos == olen && (owner[0] & 0xc0) == 0;
		/* ldns follows compression pointers; we do not, so only an
		 * owner ldns also rejects (or a compressed one) may be
		 * refused. */
		bool compressed = false;
		for (size_t i = 0; i < olen && owner[i]; i += 1u + owner[i]) {
			compressed |= (owner[i] & 0xc0) != 0;
		}
		FUZZ_CHECK(!ok || compressed, "good owner refused");
		ldns_rdf_deep_free(o);
		FUZZ_CHECK(written == 0, "written on error");
		free(buf);
		return;
	}
	size_t rrs = 0;
	for (size_t i = 0; i < w->n; i++) {
		rrs += olen + 10 + (w->type[i] == ANAME_RRTYPE_A ? 4 : 16);
	}
	if (rrs > buflen) {
		FUZZ_CHECK(k == ANAME_ENOSPC, "%zu bytes in %zu gave %d", rrs,
			   buflen, k);
		free(buf);
		return;
	}
	FUZZ_CHECK(k == (int)w->n, "wrote %d RRs, want %zu", k, w->n);
	FUZZ_CHECK(written == rrs, "wrote %zu bytes, want %zu", written, rrs);
	ldns_rdf *own = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, olen, owner);
	FUZZ_CHECK(own != NULL, "oom");
	size_t pos = 0;
	for (size_t i = 0; i < w->n; i++) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_wire2rr(&rr, buf, written, &pos,
					      LDNS_SECTION_ANSWER);
		FUZZ_CHECK(st == LDNS_STATUS_OK, "rr %zu does not parse: %s",
			   i, ldns_get_errorstr_by_id(st));
		check_rr(rr, w, i, own, ttl);
		ldns_rr_free(rr);
	}
	FUZZ_CHECK(pos == written, "trailing bytes");
	ldns_rdf_deep_free(own);
	free(buf);
}

/* \a own is the owner as our parser read it (NULL if it refused it): the
 * name fuzzer checks separately that ldns reads our renderings alike. */
static void check_text(const aname_result_t *res, uint16_t rrtype,
		       const char *owner, const ldns_rdf *own,
		       uint32_t alias_ttl, size_t buflen,
		       const struct want *w, uint32_t ttl)
{
	int full = aname_synth_text(res, rrtype, owner, alias_ttl, NULL, 0);
	if (own == NULL || full < 0) {
		FUZZ_CHECK(own == NULL && full == ANAME_EBADNAME, "text %d",
			   full);
		return;
	}
	char *buf = malloc((size_t)full + 1);
	FUZZ_CHECK(buf != NULL, "oom");
	int again = aname_synth_text(res, rrtype, owner, alias_ttl, buf,
				     (size_t)full + 1);
	FUZZ_CHECK(again == full && strlen(buf) == (size_t)full,
		   "length %d then %d", full, again);
	/* A short buffer gets a NUL-terminated prefix, never more. */
	if (buflen > 0 && buflen <= (size_t)full) {
		char *small = malloc(buflen);
		FUZZ_CHECK(small != NULL, "oom");
		int k = aname_synth_text(res, rrtype, owner, alias_ttl, small,
					 buflen);
		FUZZ_CHECK(k == full, "truncated call gave %d", k);
		FUZZ_CHECK(strlen(small) == buflen - 1 &&
				   memcmp(small, buf, buflen - 1) == 0,
			   "truncated text differs");
		free(small);
	}
	char *line = buf;
	for (size_t i = 0; i < w->n; i++) {
		char *nl = strchr(line, '\n');
		FUZZ_CHECK(nl != NULL, "line %zu missing", i);
		*nl = '\0';
		/* ldns_rr_new_frm_str() reads at most 255 characters of owner
		 * (LDNS_MAX_DOMAINLEN), but an escaped 255-octet name takes up
		 * to 1000: read the owner with ldns_str2rdf_dname() and the
		 * rest of the line behind a short stand-in owner. */
		char *tab = strchr(line, '\t');
		FUZZ_CHECK(tab != NULL, "line %zu has no owner", i);
		*tab = '\0';
		ldns_rdf *o = NULL;
		ldns_status st = ldns_str2rdf_dname(&o, line);
		FUZZ_CHECK(st == LDNS_STATUS_OK, "owner '%s': %s", line,
			   ldns_get_errorstr_by_id(st));
		char rest[128];
		snprintf(rest, sizeof(rest), "x.\t%s", tab + 1);
		ldns_rr *rr = NULL;
		st = ldns_rr_new_frm_str(&rr, rest, 0, NULL, NULL);
		FUZZ_CHECK(st == LDNS_STATUS_OK, "line '%s': %s", rest,
			   ldns_get_errorstr_by_id(st));
		ldns_rdf *stand_in = ldns_rr_owner(rr);
		ldns_rr_set_owner(rr, o);
		ldns_rdf_deep_free(stand_in);
		check_rr(rr, w, i, own, ttl);
		ldns_rr_free(rr);
		line = nl + 1;
	}
	FUZZ_CHECK(*line == '\0', "extra text '%s'", line);
	free(buf);
}

static void check_ldns(const aname_result_t *res, uint16_t rrtype,
		       const char *owner, const ldns_rdf *own,
		       uint32_t alias_ttl, const struct want *w, uint32_t ttl)
{
	ldns_rr_list *list = NULL;
	int rc = aname_synth_ldns(res, rrtype, owner, alias_ttl, &list);
	if (own == NULL || rc != ANAME_OK) {
		FUZZ_CHECK(own == NULL && rc == ANAME_EBADNAME && list == NULL,
			   "ldns %d", rc);
		return;
	}
	FUZZ_CHECK(ldns_rr_list_rr_count(list) == w->n, "list of %zu",
		   ldns_rr_list_rr_count(list));
	for (size_t i = 0; i < w->n; i++) {
		check_rr(ldns_rr_list_rr(list, i), w, i, own, ttl);
	}
	ldns_rr_list_deep_free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[4] = {ANAME_RRTYPE_A, ANAME_RRTYPE_AAAA,
					  ANAME_RRTYPE_BOTH, 2 /* NS */};
	struct input in = {data, size};
	uint8_t flags = (uint8_t)take(&in, 1);
	/* Up to 39 addresses per type: more only slows the fuzzer down (the
	 * checks parse every record three times) without new paths. */
	size_t na = take(&in, 1) % 40, n6 = take(&in, 1) % 40;
	uint32_t res_ttl = take(&in, 4), alias_ttl = take(&in, 4);
	size_t buflen = take(&in, 2);
	size_t olen = take(&in, 1);
	uint8_t owner_raw[256];
	char owner_text[257];
	for (size_t i = 0; i < olen; i++) {
		owner_raw[i] = (uint8_t)take(&in, 1);
	}
	memcpy(owner_text, owner_raw, olen);
	owner_text[olen] = '\0';
	uint16_t rrtype = types[flags & 3];
	bool expired = flags & 32;

	aname_result_t *a = part_new(ANAME_RRTYPE_A, na, res_ttl, expired, &in);
	aname_result_t *q = part_new(ANAME_RRTYPE_AAAA, n6, res_ttl, expired,
				     &in);
	aname_result_t *res;
	if (rrtype == ANAME_RRTYPE_A) {
		res = aname_result_ref(a);
	} else if (rrtype == ANAME_RRTYPE_AAAA) {
		res = aname_result_ref(q);
	} else {
		res = aname__result_both("target.example.test.",
					 (flags & 4) ? NULL : a,
					 ANAME_ESERVFAIL,
					 (flags & 8) ? NULL : q,
					 ANAME_ETIMEDOUT);
		FUZZ_CHECK(res != NULL, "oom");
	}
	aname_result_unref(a);
	aname_result_unref(q);

	uint8_t wire[ANAME_NAME_MAX];
	size_t wlen = 0;
	const uint8_t *owner = owner_raw;
	size_t owner_len = olen;
	if (!(flags & 16)) {
		if (aname_name_to_wire(owner_text, wire, sizeof(wire), &wlen) !=
		    ANAME_OK) {
			wlen = 0;
		}
		owner = wire;
		owner_len = wlen;
	}

	if (rrtype == 2) {
		/* Not a type synthesis knows: refused, nothing written. */
		uint8_t buf[64];
		size_t written = 7;
		FUZZ_CHECK(aname_synth_wire(res, rrtype, wire, wlen, alias_ttl,
					    buf, sizeof(buf), &written) ==
					   ANAME_EINVAL &&
				   written == 0,
			   "bad type accepted");
		FUZZ_CHECK(aname_synth_text(res, rrtype, "a.", 1, NULL, 0) ==
				   ANAME_EINVAL,
			   "bad type accepted by text");
		FUZZ_CHECK(aname_synth_ttl(res, rrtype, alias_ttl) == 0,
			   "ttl of a bad type");
		aname_result_unref(res);
		return 0;
	}

	struct want *w = malloc(sizeof(*w));
	FUZZ_CHECK(w != NULL, "oom");
	wanted(res, rrtype, w);
	uint32_t ttl = aname_synth_ttl(res, rrtype, alias_ttl);
	FUZZ_CHECK(ttl <= alias_ttl, "ttl %u over the ALIAS TTL %u", ttl,
		   alias_ttl);
	if (w->n > 0) {
		uint32_t bound = expired ? 30 : res_ttl;

		FUZZ_CHECK(ttl <= bound, "ttl %u over the result's %u", ttl,
			   bound);
	}
	check_wire(res, rrtype, owner, owner_len, alias_ttl, buflen, w, ttl);
	if (!(flags & 16)) {
		ldns_rdf *own = wlen ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
							     wlen, wire)
				     : NULL;
		FUZZ_CHECK(wlen == 0 || own != NULL, "oom");
		check_text(res, rrtype, owner_text, own, alias_ttl, buflen, w,
			   ttl);
		check_ldns(res, rrtype, owner_text, own, alias_ttl, w, ttl);
		ldns_rdf_deep_free(own);
	}
	free(w);
	aname_result_unref(res);
	return 0;
}
