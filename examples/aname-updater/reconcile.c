/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Draft-aname section 3 per owner and type, written with RFC 2136.
 *
 * Each owner whose siblings differ gets one UPDATE message: the zone
 * section names the zone; the prerequisites (RFC 2136 3.2) say what this
 * updater last read there -- the ALIAS exists, and each sibling RRset it
 * replaces is exactly the set read (value-dependent), or absent -- so an
 * edit made on the primary since then makes the primary answer
 * NXRRSET/YXRRSET and the UPDATE changes nothing.  That owner is then
 * skipped with a log line and the zone is read again; the next pass
 * decides from the new contents.  The update section deletes the RRset
 * and adds the new one, so the primary replaces it atomically.
 *
 * Messages for one zone are pipelined on one TCP connection, up to
 * UPD_WINDOW outstanding (the batch), at most --rate per second over all
 * zones.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "updater.h"

int upd_ttl_close(uint32_t published, uint32_t desired, unsigned pct)
{
	uint64_t slack = (uint64_t)desired * pct / 100;
	if (slack < 2)
		slack = 2;
	uint64_t d = published > desired ? published - desired :
					   desired - published;
	return d <= slack;
}

static void take_token(upd_app_t *app)
{
	for (;;) {
		int64_t now = upd_now_ms();
		app->tokens += (double)(now - app->tokens_ms) * app->rate / 1000.0;
		app->tokens_ms = now;
		if (app->tokens > app->rate)
			app->tokens = app->rate;
		if (app->tokens >= 1.0) {
			app->tokens -= 1.0;
			return;
		}
		double wait_ms = (1.0 - app->tokens) * 1000.0 / app->rate;
		struct timespec ts = { 0, (long)(wait_ms * 1e6) + 1 };
		nanosleep(&ts, NULL);
	}
}

static ldns_rr *mk_rr(const ldns_rdf *owner, uint32_t ttl, ldns_rr_class cls,
		      uint16_t type, const uint8_t *addr, size_t alen)
{
	ldns_rr *rr = ldns_rr_new();
	if (!rr)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_type(rr, type);
	if (addr) {
		ldns_rdf *rd = ldns_rdf_new_frm_data(
			alen == 4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, alen,
			addr);
		if (!rd || !ldns_rr_push_rdf(rr, rd)) {
			ldns_rdf_deep_free(rd);
			ldns_rr_free(rr);
			return NULL;
		}
	}
	return rr;
}

static int push(ldns_rr_list *l, ldns_rr *rr)
{
	if (!rr)
		return -1;
	if (!ldns_rr_list_push_rr(l, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

typedef struct {
	int change;
	uint8_t addr[UPD_MAX_ADDRS * 16];
	size_t n;
	uint32_t ttl;
} want_t;

static ldns_pkt *build_update(const upd_zone_t *z, const upd_owner_t *w,
			      const want_t *want)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(w->name);
	ldns_rdf *zone = ldns_dname_new_frm_str(z->name);
	ldns_rr_list *pr = ldns_rr_list_new(), *up = ldns_rr_list_new();
	ldns_pkt *p = NULL;
	int bad = !owner || !zone || !pr || !up;
	/* The ALIAS is still there (value-independent, class ANY). */
	bad = bad || push(pr, mk_rr(owner, 0, LDNS_RR_CLASS_ANY, 65401, NULL,
				    0));
	for (int ti = 0; ti < UPD_NTYPES && !bad; ti++) {
		if (!want[ti].change)
			continue;
		const upd_rrset_t *pub = &w->pub[ti];
		size_t alen = upd_alen(ti);
		uint16_t type = upd_types[ti];
		if (pub->n == 0)
			bad = push(pr, mk_rr(owner, 0, LDNS_RR_CLASS_NONE, type,
					     NULL, 0));
		for (size_t i = 0; i < pub->n && !bad; i++)
			bad = push(pr, mk_rr(owner, 0, LDNS_RR_CLASS_IN, type,
					     pub->addr + i * alen, alen));
		if (!bad)
			bad = push(up, mk_rr(owner, 0, LDNS_RR_CLASS_ANY, type,
					     NULL, 0));
		for (size_t i = 0; i < want[ti].n && !bad; i++)
			bad = push(up, mk_rr(owner, want[ti].ttl,
					     LDNS_RR_CLASS_IN, type,
					     want[ti].addr + i * alen, alen));
	}
	if (!bad) {
		p = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, pr, up, NULL);
		zone = NULL; /* owned by the packet (or freed) now */
		if (p)
			ldns_pkt_set_rd(p, false);
	}
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(owner);
	ldns_rr_list_deep_free(pr);
	ldns_rr_list_deep_free(up);
	return p;
}

static void describe(char *buf, size_t len, const upd_owner_t *w,
		     const want_t *want)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int ti = 0; ti < UPD_NTYPES; ti++) {
		if (!want[ti].change)
			continue;
		size_t alen = upd_alen(ti);
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      "%s%s %u->%zu RRs ttl %u", n ? ", " : "",
				      upd_type_names[ti], w->pub[ti].n,
				      want[ti].n, want[ti].ttl);
		if (want[ti].n && n < len) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(alen == 4 ? AF_INET : AF_INET6,
				  want[ti].addr, ip, sizeof(ip));
			n += (size_t)snprintf(buf + n, len - n, " (%s%s)", ip,
					      want[ti].n > 1 ? ", ..." : "");
		}
	}
}

/* UPDATEs outstanding on the connection at once.  Knot queues pipelined
 * UPDATEs and applies a queue in one transaction (one serial, one
 * signing), so a window turns thousands of owner changes into few zone
 * versions; 32 keeps a primary's queue short and loses little on error. */
#define UPD_WINDOW 32

typedef struct {
	upd_owner_t *w;
	want_t want[UPD_NTYPES];
	ldns_pkt *q;
	int fail;           /* some type failed to resolve (left alone) */
} job_t;

typedef struct {
	job_t *jobs;
	size_t n;
} window_t;

static int match_job(void *arg, uint16_t id, const ldns_rdf **mac)
{
	window_t *win = arg;
	for (size_t i = 0; i < win->n; i++)
		if (ldns_pkt_id(win->jobs[i].q) == id) {
			*mac = upd_request_mac(win->jobs[i].q);
			return 0;
		}
	return -1;
}

typedef struct {
	size_t ok, failing, pending, sent, succeeded, servfails;
	int aborted;
} tally_t;

/* One reply (or a transport failure, then \a j is any outstanding job). */
static void handle_reply(upd_app_t *app, upd_zone_t *z, job_t *j,
			 io_status_t st, tally_t *t)
{
	upd_owner_t *w = j->w;
	int rc = app->conn.rcode;
	int64_t now = upd_now_ms();
	char what[200];
	describe(what, sizeof(what), w, j->want);
	if (st == IO_OK) {
		for (int ti = 0; ti < UPD_NTYPES; ti++)
			if (j->want[ti].change &&
			    upd_rrset_set(&w->pub[ti], j->want[ti].addr,
					  j->want[ti].n, upd_alen(ti),
					  j->want[ti].ttl) != 0)
				z->need_axfr = 1;
		upd_log("info", z, "owner %s: updated %s", w->name, what);
		w->fails = 0;
		w->retry_at_ms = 0;
		t->succeeded++;
		if (j->fail) {
			t->failing++;
		} else {
			t->ok++;
			w->ok = 1;
		}
		return;
	}
	t->pending++;
	if (st == IO_RCODE &&
	    (rc == LDNS_RCODE_YXRRSET || rc == LDNS_RCODE_NXRRSET ||
	     rc == LDNS_RCODE_YXDOMAIN || rc == LDNS_RCODE_NXDOMAIN)) {
		upd_log("warning", z,
			"owner %s: not updated (%s): its ALIAS or siblings "
			"changed on the primary since the zone was read (a "
			"manual edit?); nothing overwritten, re-reading the "
			"zone",
			w->name, upd_rcode_name(rc));
		pthread_mutex_lock(&app->stats_lock);
		z->races++;
		pthread_mutex_unlock(&app->stats_lock);
		z->need_axfr = 1;
		z->next_poll_ms = 0;
		return;
	}
	if (t->aborted)
		return;
	int reason = -1;
	if (st == IO_TSIG && rc == 17)
		reason = UPD_R_REFUSED; /* key verified by AXFR: the ACL */
	else if (st == IO_TSIG)
		reason = UPD_R_TSIG;
	else if (st == IO_DOWN || st == IO_TIMEOUT)
		reason = UPD_R_PRIMARY_DOWN;
	else if (st == IO_RCODE && rc == LDNS_RCODE_REFUSED)
		reason = UPD_R_REFUSED;
	else if (st == IO_RCODE && rc == LDNS_RCODE_NOTAUTH)
		reason = UPD_R_NOTAUTH;
	else if (st == IO_RCODE && rc == LDNS_RCODE_NOTZONE)
		reason = UPD_R_NOTZONE;
	pthread_mutex_lock(&app->stats_lock);
	z->update_errors++;
	pthread_mutex_unlock(&app->stats_lock);
	if (reason >= 0) {
		upd_zone_fail(app, z, STAGE_UPDATE, reason, app->conn.err);
		t->aborted = 1;
		return;
	}
	/* SERVFAIL or a garbled reply: this owner backs off. */
	w->fails++;
	unsigned s = w->fails < 8 ? 1u << w->fails : 300;
	if (s > 300)
		s = 300;
	w->retry_at_ms = now + (int64_t)s * 1000;
	upd_log("warning", z, "owner %s: UPDATE failed: %s; retrying in %u s",
		w->name, app->conn.err, s);
	if (++t->servfails >= 8) {
		upd_zone_fail(app, z, STAGE_UPDATE, UPD_R_UPDATE_FAILING,
			      app->conn.err);
		t->aborted = 1;
	}
}

/* Work out one owner: 1 with a job ready to send, 0 when nothing to do. */
static int plan_owner(upd_app_t *app, upd_zone_t *z, upd_owner_t *w,
		      job_t *j, tally_t *t)
{
	int change = 0;
	j->w = w;
	j->fail = 0;
	w->ok = 0;
	for (int ti = 0; ti < UPD_NTYPES; ti++) {
		want_t *x = &j->want[ti];
		x->change = 0;
		if (upd_target_desired(w->t, ti, w->alias_ttl, x->addr, &x->n,
				       &x->ttl) != 0) {
			j->fail = 1; /* step 3: leave these siblings */
			continue;
		}
		const upd_rrset_t *pub = &w->pub[ti];
		size_t alen = upd_alen(ti);
		int same = pub->n == x->n &&
			   (x->n == 0 ||
			    (!memcmp(pub->addr, x->addr, x->n * alen) &&
			     upd_ttl_close(pub->ttl, x->ttl, app->hyst_pct)));
		x->change = !same;
		change |= !same;
	}
	if (!change) {
		if (j->fail) {
			t->failing++;
		} else {
			w->ok = 1;
			t->ok++;
		}
		return 0;
	}
	j->q = build_update(z, w, j->want);
	if (!j->q) {
		upd_log("error", z, "owner %s: out of memory", w->name);
		t->pending++;
		return 0;
	}
	return 1;
}

void upd_reconcile_zone(upd_app_t *app, upd_zone_t *z)
{
	int64_t now = upd_now_ms();
	static job_t jobs[UPD_WINDOW];
	window_t win = { jobs, 0 };
	tally_t t = { 0 };
	size_t next = 0;

	if (!z->loaded || now < z->backoff_until_ms)
		return;
	for (;;) {
		/* Fill the window, then take one reply. */
		while (!t.aborted && win.n < UPD_WINDOW && next < z->owners.n) {
			upd_owner_t *w = &z->owners.v[next++];
			if (now < w->retry_at_ms) {
				w->ok = 0;
				t.pending++;
				continue;
			}
			job_t *j = &jobs[win.n];
			if (!plan_owner(app, z, w, j, &t))
				continue;
			take_token(app);
			io_status_t st = upd_send(&app->conn, j->q);
			t.sent++;
			if (st != IO_OK) {
				handle_reply(app, z, j, st, &t);
				ldns_pkt_free(j->q);
				continue;
			}
			win.n++;
		}
		if (win.n == 0)
			break;
		ldns_pkt *r = NULL;
		io_status_t st = upd_recv(&app->conn, match_job, &win, &r);
		size_t k = 0;
		if (r) {
			while (k < win.n &&
			       ldns_pkt_id(jobs[k].q) != ldns_pkt_id(r))
				k++;
			ldns_pkt_free(r);
		}
		if (k == win.n || st == IO_DOWN || st == IO_TIMEOUT ||
		    st == IO_PROTO) {
			/* The connection is gone: what became of the UPDATEs
			 * still out is unknown, so the zone is read again. */
			for (size_t i = 0; i < win.n; i++) {
				handle_reply(app, z, &jobs[i],
					     st == IO_OK ? IO_PROTO : st, &t);
				ldns_pkt_free(jobs[i].q);
			}
			win.n = 0;
			z->need_axfr = 1;
			t.aborted = 1;
			upd_conn_close(&app->conn);
			continue;
		}
		handle_reply(app, z, &jobs[k], st, &t);
		ldns_pkt_free(jobs[k].q);
		jobs[k] = jobs[--win.n];
	}
	/* Owners never reached after an abort are pending, not up to date. */
	for (; next < z->owners.n; next++) {
		z->owners.v[next].ok = 0;
		t.pending++;
	}
	/* Our own UPDATEs moved the serial: learn it now, so the next poll
	 * does not re-read the zone for changes we made ourselves. */
	if (t.succeeded && !z->need_axfr) {
		uint32_t serial;
		if (upd_soa_serial(&app->conn, z->name, &serial) == IO_OK)
			z->serial = serial;
	}
	if (!t.aborted)
		upd_zone_clear(app, z, STAGE_UPDATE);
	pthread_mutex_lock(&app->stats_lock);
	z->updates += t.succeeded;
	z->pass_updates = t.sent;
	z->owners_ok = t.ok;
	z->owners_failing = t.failing;
	z->owners_pending = t.pending;
	z->passes++;
	app->updates_total += t.sent;
	if (z->reason == UPD_R_OK || z->reason == UPD_R_TARGETS_FAILING ||
	    z->reason == UPD_R_UPDATE_RACE || z->reason == UPD_R_STARTING ||
	    z->reason == UPD_R_UPDATE_FAILING)
		z->reason = t.failing ? UPD_R_TARGETS_FAILING :
			    z->need_axfr ? UPD_R_UPDATE_RACE :
			    t.pending ? UPD_R_UPDATE_FAILING : UPD_R_OK;
	pthread_mutex_unlock(&app->stats_lock);
}
