/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file mod_aname.c
 * \brief mod-aname: a knotd query module answering ALIAS owners' A/AAAA
 *        queries with addresses resolved by libaname.
 *
 * Behaviour summary:
 *  - ALIAS data comes from a TYPE65401 record at the zone apex (PowerDNS's
 *    ALIAS type code, RFC 3597 form) and from the module's "alias" items,
 *    which also cover non-apex owners because Knot 3.2's module API reads
 *    only apex RRsets.  A config alias wins over the apex record.
 *  - The ANSWER hook acts only when the zone has no A/AAAA for the query
 *    name (state NODATA or MISS), so real address records always win.
 *  - The hook never blocks: it does one aname_cache_lookup() (fresh or
 *    stale), and on a miss answers SERVFAIL at once while the library
 *    resolves in the background.  Every target is registered with the
 *    library so refresh-ahead keeps it warm; config targets at load,
 *    apex-record targets at load (from the zone file) or on first sight.
 *  - NXDOMAIN or NODATA at the target gives NOERROR/NODATA at the owner.
 *  - Listed before mod-onlinesign, the synthesized RRsets get signed,
 *    because onlinesign signs whatever its later hooks find in the section.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include <knot/module.h>
#include <libknot/yparser/yptrafo.h>

#include "aname.h"
#include "alias.h"
#include "logsink.h"
#include "preload.h"
#include "shared.h"

/* Knot refuses a module whose ABI differs from its own, so the .so is built
 * per knotd minor series.  Only series whose module.h we know are allowed. */
#if KNOTD_MOD_ABI_VERSION == 400 || KNOTD_MOD_ABI_VERSION == 500
#define ANAME_KNOT_NODE_RRSET 0
#elif KNOTD_MOD_ABI_VERSION == 600
/* knotd 3.4 added knotd_qdata_zone_rrset(): non-apex TYPE65401 readable. */
#define ANAME_KNOT_NODE_RRSET 1
#else
#error "mod-aname: unsupported KNOTD_MOD_ABI_VERSION; supported: 400 (Knot 3.2), 500 (3.3), 600 (3.4/3.5)"
#endif

#define MOD_FORWARD	"\x07" "forward"
#define MOD_STUB	"\x04" "stub"
#define MOD_REMOTE	"\x06" "remote"
#define MOD_STUB_REMOTE	"\x0b" "stub-remote"
#define MOD_TIMEOUT	"\x07" "timeout"
#define MOD_STALE_TTL	"\x09" "stale-ttl"
#define MOD_MAX_STALE	"\x09" "max-stale"
#define MOD_CACHE_SIZE	"\x0a" "cache-size"
#define MOD_ALIAS	"\x05" "alias"
#define MOD_ANCHORS	"\x11" "trust-anchor-file"
#define MOD_MIN_TTL	"\x07" "min-ttl"
#define MOD_MAX_TTL	"\x07" "max-ttl"
#define MOD_MAX_NEG_TTL	"\x0b" "max-neg-ttl"
/* knotd's remote section and its address item (mod-dnsproxy's C_RMT). */
#define C_REMOTE	(const yp_name_t *)"\x06" "remote"
#define C_ADDRESS	(const yp_name_t *)"\x07" "address"

static int stub_remote_check(knotd_conf_check_args_t *args);

static const yp_item_t aname_conf[] = {
	/* Knot's own address type: "IP[@PORT]", checked by knotd. */
	{ .name = MOD_FORWARD, .type = YP_TADDR, .flags = YP_FMULTI,
	  .var.a = { .dflt_port = 53 } },
	/* "ZONE=IP[@PORT]"; the address part is parsed as a YP_TADDR. */
	{ .name = MOD_STUB, .type = YP_TSTR, .flags = YP_FMULTI },
	/* References to "remote:" ids, as mod-dnsproxy's "remote": every
	 * address of each remote is a forwarder.  knotd resolves a dynamic
	 * module's references twice: first among the module's own items
	 * (where this item, named like the section, finds itself), then in
	 * the full schema, where it finds the remote section.  Hence the
	 * name; a reference to a section that no module item is named after
	 * cannot be loaded from a shared object (3.2 and 3.4 alike). */
	{ .name = MOD_REMOTE, .type = YP_TREF, .flags = YP_FMULTI,
	  .var.r = { .ref_name = C_REMOTE },
	  .misc = { (const void *)knotd_conf_check_ref } },
	/* "ZONE=REMOTE-ID": every address of the remote serves ZONE. */
	{ .name = MOD_STUB_REMOTE, .type = YP_TSTR, .flags = YP_FMULTI,
	  .misc = { (const void *)stub_remote_check } },
	{ .name = MOD_TIMEOUT, .type = YP_TINT,
	  .var.i = { .min = 10, .max = 60000, .dflt = 1500 } },
	{ .name = MOD_STALE_TTL, .type = YP_TINT,
	  .var.i = { .min = 1, .max = 3600, .dflt = 30, .unit = YP_STIME } },
	{ .name = MOD_MAX_STALE, .type = YP_TINT,
	  .var.i = { .min = 0, .max = 604800, .dflt = 86400,
		     .unit = YP_STIME } },
	{ .name = MOD_CACHE_SIZE, .type = YP_TINT,
	  .var.i = { .min = 1, .max = 100000000, .dflt = 100000 } },
	{ .name = MOD_ALIAS, .type = YP_TSTR, .flags = YP_FMULTI },
	/* DNSSEC validation of targets: DS or DNSKEY lines (unbound's
	 * trust-anchor-file); a bogus target is a miss, i.e. SERVFAIL. */
	{ .name = MOD_ANCHORS, .type = YP_TSTR },
	/* TTL floor and caps of cached target answers (the library's). */
	{ .name = MOD_MIN_TTL, .type = YP_TINT,
	  .var.i = { .min = 0, .max = 604800, .dflt = 0, .unit = YP_STIME } },
	{ .name = MOD_MAX_TTL, .type = YP_TINT,
	  .var.i = { .min = 0, .max = 604800, .dflt = 86400,
		     .unit = YP_STIME } },
	{ .name = MOD_MAX_NEG_TTL, .type = YP_TINT,
	  .var.i = { .min = 0, .max = 604800, .dflt = 3600,
		     .unit = YP_STIME } },
	{ .name = NULL }
};

/* Statistics counters, in registration order. */
enum {
	CTR_HITS,	/* answered from a fresh entry */
	CTR_STALE,	/* answered from a stale entry */
	CTR_MISSES,	/* nothing usable: SERVFAIL (all causes) */
	CTR_NODATA,	/* target NXDOMAIN/NODATA: NODATA at the owner */
	/* Library-wide (the context is shared by all zones), copied in at
	 * each ALIAS query of the zone: */
	CTR_TIMEOUTS,	/* resolutions that ended unanswered (deadline) */
	CTR_UPFAIL,	/* upstream SERVFAIL, REFUSED, bogus, malformed */
	CTR_QUERIES,	/* upstream queries sent */
	CTR_HEALTH,	/* 3 sub-counters ok/degraded/failing: 1 = current */
	CTR_COUNT
};
static const char *const ctr_names[] = { "hits", "stale", "misses", "nodata",
					 "resolver-unanswered", "resolver-failures",
					 "resolver-queries",
					 "health" };

static char *health_idx_name(uint32_t idx, uint32_t count)
{
	(void)count;
	return strdup(aname_health_level_name((int)idx));
}

/* One known ALIAS owner of the zone, from the "alias" config item or from
 * a TYPE65401 record in the zone file; names in lower-case wire format. */
struct cfg_alias {
	knot_dname_storage_t owner;
	size_t owner_len;
	knot_dname_storage_t target_wire;
	uint32_t ttl;
	bool from_file;
	char *target;
};

/* A target registered on first sight (an apex record), kept until unload.
 * The list only grows and nodes never change, so the query path reads it
 * without a lock. */
struct seen_target {
	struct seen_target *next;
	knot_dname_storage_t wire;
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
};

/* Known ALIAS owners, sorted by owner, owners unique; read without a lock
 * once published (they never change after). */
struct alias_table {
	struct cfg_alias *alias;
	size_t n_alias;
	size_t cap_alias;
	size_t n_config;		/* of which from the config */
};

struct mod_aname {
	aname_ctx_t *ctx;
	knotd_mod_t *mod;
	struct alias_table tab;		/* config + zone file at load */
	/* The zone file read later (latescan): a zone without a file at load,
	 * e.g. a secondary before its first transfer. */
	_Atomic(struct alias_table *) late;
	pthread_t late_thr;
	bool late_started;
	pthread_mutex_t late_lock;
	pthread_cond_t late_cond;
	bool stopping;			/* under late_lock */
	char zone_file[4096];
	pthread_mutex_t seen_lock;	/* serialises writers of seen */
	_Atomic(struct seen_target *) seen;
	atomic_int health;		/* last level stored, -1: none */
	atomic_long stats_sec;		/* second of the last update_health */
};

/* ------------------------------------------------------------ settings */

/* "IP@PORT" of one upstream address, as the library takes it; a UNIX
 * socket path (a YP_TADDR may be one) is refused by the callers. */
#define FWD_TXT 128
static void forward_text(const struct sockaddr_storage *ss, char *buf)
{
	char ip[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, FWD_TXT, "%s@%u", ip, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, FWD_TXT, "%s@%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(buf, FWD_TXT, "family-%d", ss->ss_family);
	}
}

/* The library allows at most 16 forwarders and 64 stub addresses; larger
 * lists are rejected by aname_knot_settings_apply() with ANAME_ERANGE.
 * This bound only sizes the buffers. */
#define MAX_UPSTREAMS 128
#define STUB_TXT (KNOT_DNAME_TXT_MAXLEN + FWD_TXT + 2)

/* Upstream addresses of one config id, as library text ("IP@PORT" and
 * "ZONE=IP@PORT"), from the literal items and from remote: references. */
struct upstreams {
	const char *fv[MAX_UPSTREAMS];
	const char *sv[MAX_UPSTREAMS];
	char fbuf[MAX_UPSTREAMS][FWD_TXT];
	char sbuf[MAX_UPSTREAMS][STUB_TXT];
	size_t nf, ns;
	char err[1400];
};

static int up_fail(struct upstreams *u, const char *what, const char *val,
		   const char *why)
{
	snprintf(u->err, sizeof(u->err), "%s '%s': %s", what, val, why);
	return KNOT_EINVAL;
}

/* One forwarder; \a what and \a val name its source in errors. */
static int up_forward(struct upstreams *u, const struct sockaddr_storage *ss,
		      const char *what, const char *val)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		return up_fail(u, what, val, "not an IP address (UNIX sockets "
			       "are not supported)");
	}
	if (u->nf == MAX_UPSTREAMS) {
		return up_fail(u, what, val, "too many forward addresses");
	}
	forward_text(ss, u->fbuf[u->nf]);
	u->fv[u->nf] = u->fbuf[u->nf];
	u->nf++;
	return KNOT_EOK;
}

/* One stub address for \a zone (zlen octets of text). */
static int up_stub(struct upstreams *u, const char *zone, size_t zlen,
		   const struct sockaddr_storage *ss, const char *what,
		   const char *val)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		return up_fail(u, what, val, "not an IP address (UNIX sockets "
			       "are not supported)");
	}
	if (u->ns == MAX_UPSTREAMS) {
		return up_fail(u, what, val, "too many stub addresses");
	}
	if (zlen == 0 || zlen > KNOT_DNAME_TXT_MAXLEN) {
		return up_fail(u, what, val, "expected ZONE=...");
	}
	char addr[FWD_TXT];
	forward_text(ss, addr);
	snprintf(u->sbuf[u->ns], STUB_TXT, "%.*s=%s", (int)zlen, zone, addr);
	u->sv[u->ns] = u->sbuf[u->ns];
	u->ns++;
	return KNOT_EOK;
}

/* The address part of a "stub" value goes through Knot's own address type
 * (YP_TADDR: the converter knotd uses for "forward" and "remote"), so both
 * take the same syntax, the same default port and the same range check. */
static const yp_item_t stub_addr_item = {
	.name = (const yp_name_t *)"\x07" "address",
	.type = YP_TADDR,
	.var.a = { .dflt_port = 53 },
};

static int parse_stub(struct upstreams *u, const char *val)
{
	const char *eq = strchr(val, '=');
	if (eq == NULL || eq == val) {
		return up_fail(u, "bad stub, expected ZONE=IP[@PORT]", val,
			       "no '='");
	}
	uint8_t bin[256];
	size_t len = sizeof(bin);
	int ret = yp_item_to_bin(&stub_addr_item, eq + 1, strlen(eq + 1), bin,
				 &len);
	if (ret != KNOT_EOK) {
		return up_fail(u, "bad stub", val, knot_strerror(ret));
	}
	bool no_port = false;
	struct sockaddr_storage ss = yp_addr(bin, &no_port);
	if (no_port && ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(53);
	} else if (no_port && ss.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(53);
	}
	return up_stub(u, val, (size_t)(eq - val), &ss, "bad stub", val);
}

/* A remote's id in the configuration's binary form (YP_TSTR: with NUL). */
static knotd_conf_t remote_id(const char *id)
{
	knotd_conf_t c = { .count = 1 };
	c.single.data = (const uint8_t *)id;
	c.single.data_len = strlen(id) + 1;
	return c;
}


/* The addresses of remote \a id (load time only: the check callback
 * cannot read other sections).  0 when it has none or does not exist. */
static knotd_conf_t remote_addrs(knotd_mod_t *mod, const char *id)
{
	knotd_conf_t rid = remote_id(id);
	return knotd_conf(mod, C_REMOTE, C_ADDRESS, &rid);
}

static int forward_remotes(struct upstreams *u, knotd_mod_t *mod)
{
	knotd_conf_t refs = knotd_conf_mod(mod, MOD_REMOTE);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < refs.count && ret == KNOT_EOK; i++) {
		knotd_conf_t one = { .count = 1, .single = refs.multi[i] };
		knotd_conf_t a = knotd_conf(mod, C_REMOTE, C_ADDRESS, &one);
		const char *id = (const char *)refs.multi[i].data;
		if (a.count == 0) {
			ret = up_fail(u, "remote", id, "remote has no "
				      "address");
		}
		for (size_t j = 0; j < a.count && ret == KNOT_EOK; j++) {
			ret = up_forward(u, &a.multi[j].addr, "remote",
					 id);
		}
		knotd_conf_free(&a);
	}
	knotd_conf_free(&refs);
	return ret;
}

static int stub_remotes(struct upstreams *u, knotd_mod_t *mod)
{
	knotd_conf_t refs = knotd_conf_mod(mod, MOD_STUB_REMOTE);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < refs.count && ret == KNOT_EOK; i++) {
		const char *val = refs.multi[i].string;
		const char *eq = strchr(val, '=');
		if (eq == NULL) { /* conf-check has refused it */
			ret = up_fail(u, "stub-remote", val, "expected "
				      "ZONE=REMOTE-ID");
			break;
		}
		knotd_conf_t a = remote_addrs(mod, eq + 1);
		if (a.count == 0) {
			ret = up_fail(u, "stub-remote", val, "no such remote, "
				      "or it has no address");
		}
		for (size_t j = 0; j < a.count && ret == KNOT_EOK; j++) {
			ret = up_stub(u, val, (size_t)(eq - val),
				      &a.multi[j].addr, "stub-remote", val);
		}
		knotd_conf_free(&a);
	}
	knotd_conf_free(&refs);
	return ret;
}

/* Reads the settings into *set and *u (the strings of set point into u and
 * into knotd's configuration).  \a mod is NULL in the check callback, which
 * cannot resolve remote: references (knotd checks that they exist). */
static int read_settings(knotd_conf_t (*get)(void *, const yp_name_t *),
			 void *arg, knotd_mod_t *mod,
			 struct aname_knot_settings *set, struct upstreams *u)
{
	int ret = KNOT_EOK;
	knotd_conf_t f = get(arg, MOD_FORWARD);
	for (size_t i = 0; i < f.count && ret == KNOT_EOK; i++) {
		const struct sockaddr_storage *ss = &f.multi[i].addr;
		const char *shown = "?";
		if (ss->ss_family == AF_UNIX) {
			shown = ((const struct sockaddr_un *)(const void *)ss)->sun_path;
		}
		ret = up_forward(u, ss, "bad forward", shown);
	}
	knotd_conf_free(&f);
	knotd_conf_t s = get(arg, MOD_STUB);
	for (size_t i = 0; i < s.count && ret == KNOT_EOK; i++) {
		ret = parse_stub(u, s.multi[i].string);
	}
	knotd_conf_free(&s);
	if (ret == KNOT_EOK && mod != NULL) {
		ret = forward_remotes(u, mod);
	}
	if (ret == KNOT_EOK && mod != NULL) {
		ret = stub_remotes(u, mod);
	}
	if (ret != KNOT_EOK) {
		return ret;
	}
	set->forward = u->fv;
	set->n_forward = u->nf;
	set->stub = u->sv;
	set->n_stub = u->ns;
	set->timeout_ms = (unsigned)get(arg, MOD_TIMEOUT).single.integer;
	set->stale_ttl = (uint32_t)get(arg, MOD_STALE_TTL).single.integer;
	set->max_stale = (uint32_t)get(arg, MOD_MAX_STALE).single.integer;
	set->cache_size = (size_t)get(arg, MOD_CACHE_SIZE).single.integer;
	set->trust_anchor_file = get(arg, MOD_ANCHORS).single.string;
	set->min_ttl = (uint32_t)get(arg, MOD_MIN_TTL).single.integer;
	set->max_ttl = (uint32_t)get(arg, MOD_MAX_TTL).single.integer;
	set->max_neg_ttl = (uint32_t)get(arg, MOD_MAX_NEG_TTL).single.integer;
	return KNOT_EOK;
}

static knotd_conf_t get_check(void *arg, const yp_name_t *name)
{
	return knotd_conf_check_item(arg, name);
}

static knotd_conf_t get_mod(void *arg, const yp_name_t *name)
{
	return knotd_conf_mod(arg, name);
}

static _Thread_local char check_err[1400];

/* A "stub-remote" value: "ZONE=REMOTE-ID" with an existing remote.  The
 * id is checked by knotd's own reference check, given an item that refers
 * to the remote section (it reads only the referenced section's name and
 * the id, on 3.2 and 3.4 alike). */
static int stub_remote_check(knotd_conf_check_args_t *args)
{
	const char *val = (const char *)args->data;
	const char *eq = memchr(val, '=', args->data_len);
	if (eq == NULL || eq == val || eq[1] == '\0') {
		snprintf(check_err, sizeof(check_err), "stub-remote '%s': "
			 "expected ZONE=REMOTE-ID", val);
		args->err_str = check_err;
		return KNOT_EINVAL;
	}
	static const yp_item_t remote_section = { .name = C_REMOTE };
	yp_item_t ref = *args->item;
	ref.type = YP_TREF;
	ref.flags = YP_FNONE;
	ref.var.r.ref = &remote_section;
	ref.var.r.grp_ref = NULL;
	knotd_conf_check_args_t one = *args;
	one.item = &ref;
	one.data = (const uint8_t *)eq + 1;
	one.data_len = args->data_len - (size_t)(eq + 1 - val);
	int ret = knotd_conf_check_ref(&one);
	if (ret != KNOT_EOK) {
		snprintf(check_err, sizeof(check_err), "stub-remote '%s': no "
			 "remote '%s'", val, eq + 1);
		args->err_str = check_err;
	}
	return ret;
}

static int aname_conf_check(knotd_conf_check_args_t *args)
{
	struct aname_knot_settings set;
	struct upstreams *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return KNOT_ENOMEM;
	}
	int ret = read_settings(get_check, args, NULL, &set, u);
	const char *err = NULL;
	aname_config_t *cfg = NULL;
	if (ret != KNOT_EOK) {
		snprintf(check_err, sizeof(check_err), "%s", u->err);
		args->err_str = check_err;
	} else if ((cfg = aname_config_new()) == NULL) {
		ret = KNOT_ENOMEM;
	} else if (aname_knot_settings_apply(&set, cfg, &err) != ANAME_OK) {
		snprintf(check_err, sizeof(check_err), "%s", err);
		args->err_str = check_err;
		ret = KNOT_EINVAL;
	}
	aname_config_free(cfg);
	free(u);
	if (ret != KNOT_EOK) {
		return ret;
	}

	knotd_conf_t a = knotd_conf_check_item(args, MOD_ALIAS);
	struct aname_knot_alias *parsed = calloc(a.count + 1, sizeof(*parsed));
	if (parsed == NULL) {
		knotd_conf_free(&a);
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < a.count && ret == KNOT_EOK; i++) {
		const char *why = aname_knot_alias_parse(a.multi[i].string,
							 &parsed[i]);
		if (why != NULL) {
			snprintf(check_err, sizeof(check_err),
				 "alias '%s': %s", a.multi[i].string, why);
			ret = KNOT_EINVAL;
			break;
		}
		if (parsed[i].owner[0] == '*' &&
		    (parsed[i].owner[1] == '.' || parsed[i].owner[1] == '\0')) {
			snprintf(check_err, sizeof(check_err),
				 "alias '%s': wildcard owners are not "
				 "supported (declare each owner)",
				 a.multi[i].string);
			ret = KNOT_EINVAL;
			break;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(parsed[i].owner, parsed[j].owner) == 0) {
				snprintf(check_err, sizeof(check_err),
					 "alias '%s': owner '%s' given twice",
					 a.multi[i].string, parsed[i].owner);
				ret = KNOT_EINVAL;
				break;
			}
		}
	}
	if (ret != KNOT_EOK) {
		args->err_str = check_err;
	}
	free(parsed);
	knotd_conf_free(&a);
	return ret;
}

/* ------------------------------------------------------------ targets */

static struct seen_target *seen_find(struct mod_aname *m,
				     const knot_dname_t *wire)
{
	struct seen_target *t = atomic_load_explicit(&m->seen,
						     memory_order_acquire);
	for (; t != NULL; t = t->next) {
		if (knot_dname_is_equal(t->wire, wire)) {
			return t;
		}
	}
	return NULL;
}

/* Register a target the first time the module meets it; later calls find
 * it in the list.  \a wire must be lower case. */
static struct seen_target *seen_add(struct mod_aname *m, knotd_mod_t *mod,
				    const knot_dname_t *wire)
{
	struct seen_target *t = seen_find(m, wire);
	if (t != NULL) {
		return t;
	}
	pthread_mutex_lock(&m->seen_lock);
	t = seen_find(m, wire);
	if (t == NULL) {
		t = calloc(1, sizeof(*t));
		if (t != NULL) {
			int rc = ANAME_EBADNAME;
			if (knot_dname_store(t->wire, wire) > 0 &&
			    knot_dname_to_str(t->text, wire,
					      sizeof(t->text)) != NULL) {
				rc = aname_target_register(m->ctx, t->text,
							   ANAME_RRTYPE_BOTH);
			}
			if (rc != ANAME_OK) {
				knotd_mod_log(mod, LOG_WARNING,
					      "cannot register target '%s' (%s)",
					      t->text, aname_strerror(rc));
				free(t);
				t = NULL;
			} else {
				t->next = atomic_load_explicit(
					&m->seen, memory_order_relaxed);
				atomic_store_explicit(&m->seen, t,
						      memory_order_release);
			}
		}
	}
	pthread_mutex_unlock(&m->seen_lock);
	return t;
}

static int alias_cmp(const void *a, const void *b)
{
	const struct cfg_alias *x = a, *y = b;
	if (x->owner_len != y->owner_len) {
		return x->owner_len < y->owner_len ? -1 : 1;
	}
	return memcmp(x->owner, y->owner, x->owner_len);
}

/* Sort order for loading: by owner, config entries before file entries. */
static int alias_load_cmp(const void *a, const void *b)
{
	int c = alias_cmp(a, b);
	if (c != 0) {
		return c;
	}
	const struct cfg_alias *x = a, *y = b;
	if (x->from_file != y->from_file) {
		return x->from_file ? 1 : -1;
	}
	return 0;
}

static const struct cfg_alias *table_find(const struct alias_table *t,
					  const knot_dname_t *qname)
{
	struct cfg_alias key;
	if (t == NULL || t->n_alias == 0) {
		return NULL;
	}
	key.owner_len = knot_dname_store(key.owner, qname);
	return bsearch(&key, t->alias, t->n_alias, sizeof(key), alias_cmp);
}

/* The owner's entry: the load-time table, then the late one. */
static const struct cfg_alias *cfg_find(struct mod_aname *m,
					const knot_dname_t *qname)
{
	const struct cfg_alias *c = table_find(&m->tab, qname);
	if (c == NULL) {
		c = table_find(atomic_load_explicit(&m->late,
						    memory_order_acquire),
			       qname);
	}
	return c;
}

/* TYPE65401 rdata is one uncompressed name. */
static struct seen_target *record_target(struct mod_aname *m,
					 knotd_mod_t *mod,
					 const knot_rrset_t *rr)
{
	if (knot_rrset_empty(rr)) {
		return NULL;
	}
	const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, 0);
	if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) <= 0) {
		return NULL;
	}
	knot_dname_storage_t lower;
	knot_dname_copy_lower(lower, rd->data);
	return seen_add(m, mod, lower);
}

/* The zone's current TYPE65401 RRset at \a qname.  false when this knotd
 * cannot read it (non-apex before Knot 3.4); an empty *rr when there is
 * none, and then *no_node says whether the name has no node at all. */
static bool zone_alias_rrset(knotd_qdata_t *qdata, const knot_dname_t *zone,
			     const knot_dname_t *qname, knot_rrset_t *rr,
			     bool *no_node)
{
	*no_node = false;
	if (knot_dname_is_equal(qname, zone)) {
		*rr = knotd_qdata_zone_apex_rrset(qdata, ANAME_RRTYPE_ALIAS);
		return true;
	}
#if ANAME_KNOT_NODE_RRSET
	int ret = knotd_qdata_zone_rrset(qdata, zone, qname, ANAME_RRTYPE_ALIAS,
					 rr);
	if (ret != KNOT_EOK) {
		*no_node = ret == KNOT_ENONODE;
		knot_rrset_init_empty(rr);
	}
	return true;
#else
	return false;
#endif
}

#if ANAME_KNOT_NODE_RRSET
/* Knot answered NODATA for a name without a node: a wildcard matched.  The
 * wildcard is "*." + the closest encloser, the longest ancestor of \a qname
 * that has a node (empty non-terminals have nodes in Knot).  Fills \a wild
 * with its name and *rr with its TYPE65401 RRset (maybe empty). */
static void wildcard_alias_rrset(knotd_qdata_t *qdata, const knot_dname_t *zone,
				 const knot_dname_t *qname, knot_rrset_t *rr,
				 knot_dname_storage_t wild)
{
	knot_rrset_init_empty(rr);
	const knot_dname_t *up = qname;
	while (!knot_dname_is_equal(up, zone)) {
		up = knot_dname_next_label(up);
		knot_rrset_t probe;
		if (knotd_qdata_zone_rrset(qdata, zone, up, ANAME_RRTYPE_ALIAS,
					   &probe) != KNOT_ENONODE) {
			break;
		}
	}
	size_t len = knot_dname_size(up);
	if (len + 2 > KNOT_DNAME_MAXLEN) {
		return;
	}
	wild[0] = 1;
	wild[1] = '*';
	memcpy(wild + 2, up, len);
	knot_dname_to_lower(wild);
	if (knotd_qdata_zone_rrset(qdata, zone, wild, ANAME_RRTYPE_ALIAS,
				   rr) != KNOT_EOK) {
		knot_rrset_init_empty(rr);
	}
}
#endif

/* The target of a zone-data ALIAS RRset: the table entry's (registered at
 * load) when it names the same target, else registered on first sight. */
static bool rrset_alias(struct mod_aname *m, knotd_mod_t *mod,
			const struct cfg_alias *c, const knot_rrset_t *rr,
			const knot_dname_t **target, uint32_t *ttl)
{
	if (c != NULL) {
		const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, 0);
		knot_dname_storage_t lower;
		if (knot_dname_wire_check(rd->data, rd->data + rd->len,
					  NULL) > 0) {
			knot_dname_copy_lower(lower, rd->data);
			if (knot_dname_is_equal(lower, c->target_wire)) {
				*target = c->target_wire;
				*ttl = rr->ttl;
				return true;
			}
		}
	}
	struct seen_target *t = record_target(m, mod, rr);
	if (t == NULL) {
		return false;
	}
	*target = t->wire;
	*ttl = rr->ttl;
	return true;
}

/* Find the ALIAS for \a qname: target (lower-case wire) and ALIAS TTL.  A
 * config alias wins; then the zone's current data where this knotd lets us
 * read it (so IXFR and DDNS changes count, and on Knot >= 3.4 a wildcard
 * ALIAS when Knot's own answer came from a wildcard: \a state NODATA
 * without a node); then what the zone file said at load. */
static bool find_alias(struct mod_aname *m, knotd_mod_t *mod,
		       knotd_qdata_t *qdata, knotd_in_state_t state,
		       const knot_dname_t *qname, const knot_dname_t **target,
		       uint32_t *ttl)
{
	const struct cfg_alias *c = cfg_find(m, qname);
	if (c != NULL && !c->from_file) {
		*target = c->target_wire;
		*ttl = c->ttl;
		return true;
	}
	knot_rrset_t rr;
	bool no_node;
	const knot_dname_t *zone = knotd_qdata_zone_name(qdata);
	if (zone == NULL) {
		return false;
	}
	if (!zone_alias_rrset(qdata, zone, qname, &rr, &no_node)) {
		if (c == NULL) {
			return false;
		}
		*target = c->target_wire;
		*ttl = c->ttl;
		return true;
	}
#if ANAME_KNOT_NODE_RRSET
	if (knot_rrset_empty(&rr) && no_node &&
	    state == KNOTD_IN_STATE_NODATA) {
		knot_dname_storage_t wild;
		wildcard_alias_rrset(qdata, zone, qname, &rr, wild);
		if (knot_rrset_empty(&rr)) {
			return false;
		}
		return rrset_alias(m, mod, cfg_find(m, wild), &rr, target, ttl);
	}
#else
	(void)state;
	(void)no_node;
#endif
	if (knot_rrset_empty(&rr)) {
		return false;
	}
	return rrset_alias(m, mod, c, &rr, target, ttl);
}

/* ------------------------------------------------------------ answering */

static void count(knotd_mod_t *mod, knotd_qdata_t *qdata, uint32_t ctr)
{
	knotd_mod_stats_incr(mod, qdata->params->thread_id, ctr, 0, 1);
}

/* The library-wide counters and health verdict, refreshed by the first
 * ALIAS query of this zone in each second (reading them takes the
 * library's context lock, too dear for every query): the current health
 * level is 1, the others 0.  Thread slot 0 holds them (knotc sums the
 * slots, the others stay 0). */
static void update_health(struct mod_aname *m, knotd_mod_t *mod)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	long last = atomic_load_explicit(&m->stats_sec, memory_order_relaxed);
	if (now.tv_sec == last ||
	    !atomic_compare_exchange_strong(&m->stats_sec, &last,
					    (long)now.tv_sec)) {
		return;
	}
	/* The library counts deadline hits only for waiting requests
	 * (ANAME_STAT_TIMEOUTS), and the module never waits: resolutions
	 * that ended unanswered = sent - answered (any rcode) - in flight. */
	static const int ids[] = {
		ANAME_STAT_ANSWERS_NOERROR, ANAME_STAT_ANSWERS_NODATA,
		ANAME_STAT_ANSWERS_NXDOMAIN, ANAME_STAT_ANSWERS_SERVFAIL,
		ANAME_STAT_ANSWERS_REFUSED, ANAME_STAT_ANSWERS_BOGUS,
		ANAME_STAT_ANSWERS_MALFORMED, ANAME_STAT_INFLIGHT,
		ANAME_STAT_UPSTREAM_QUERIES,
	};
	uint64_t st[ANAME_STAT_COUNT_] = { 0 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		(void)aname_stats_get(m->ctx, ids[i], &st[ids[i]]);
	}
	uint64_t answered = st[ANAME_STAT_ANSWERS_NOERROR] +
			    st[ANAME_STAT_ANSWERS_NODATA] +
			    st[ANAME_STAT_ANSWERS_NXDOMAIN];
	uint64_t failed = st[ANAME_STAT_ANSWERS_SERVFAIL] +
			  st[ANAME_STAT_ANSWERS_REFUSED] +
			  st[ANAME_STAT_ANSWERS_BOGUS] +
			  st[ANAME_STAT_ANSWERS_MALFORMED];
	uint64_t done = answered + failed + st[ANAME_STAT_INFLIGHT];
	knotd_mod_stats_store(mod, 0, CTR_TIMEOUTS, 0,
			      st[ANAME_STAT_UPSTREAM_QUERIES] > done
				      ? st[ANAME_STAT_UPSTREAM_QUERIES] - done
				      : 0);
	knotd_mod_stats_store(mod, 0, CTR_UPFAIL, 0, failed);
	knotd_mod_stats_store(mod, 0, CTR_QUERIES, 0,
			      st[ANAME_STAT_UPSTREAM_QUERIES]);
	int level = aname_health(m->ctx, NULL);
	if (level < ANAME_HEALTH_OK || level > ANAME_HEALTH_FAILING ||
	    atomic_exchange_explicit(&m->health, level,
				     memory_order_relaxed) == level) {
		return;
	}
	for (int i = ANAME_HEALTH_OK; i <= ANAME_HEALTH_FAILING; i++) {
		knotd_mod_stats_store(mod, 0, CTR_HEALTH, (uint32_t)i,
				      i == level ? 1 : 0);
	}
}

static knotd_in_state_t synth(const aname_result_t *res, uint16_t qtype,
			      uint32_t alias_ttl, knot_pkt_t *pkt,
			      knotd_qdata_t *qdata, const knot_dname_t *qname)
{
	uint32_t ttl = aname_synth_ttl(res, qtype, alias_ttl);
	knot_rrset_t *rr = knot_rrset_new(qname, qtype, KNOT_CLASS_IN, ttl,
					  &pkt->mm);
	if (rr == NULL) {
		qdata->rcode = KNOT_RCODE_SERVFAIL;
		return KNOTD_IN_STATE_ERROR;
	}
	size_t n = aname_result_count(res, qtype);
	for (size_t i = 0; i < n; i++) {
		uint8_t addr[16];
		int len = aname_result_addr(res, qtype, i, addr, sizeof(addr));
		if (len < 0 || knot_rrset_add_rdata(rr, addr, (uint16_t)len,
						    &pkt->mm) != KNOT_EOK) {
			knot_rrset_free(rr, &pkt->mm);
			qdata->rcode = KNOT_RCODE_SERVFAIL;
			return KNOTD_IN_STATE_ERROR;
		}
	}
	int ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_QNAME, rr, KNOT_PF_FREE);
	if (ret != KNOT_EOK) {
		knot_rrset_free(rr, &pkt->mm);
		if (ret == KNOT_ESPACE) {
			return KNOTD_IN_STATE_TRUNC;
		}
		qdata->rcode = KNOT_RCODE_SERVFAIL;
		return KNOTD_IN_STATE_ERROR;
	}
	qdata->rcode = KNOT_RCODE_NOERROR;
	return KNOTD_IN_STATE_HIT;
}

/* Knot answered the QNAME from a wildcard.  Its first answer RRset goes in
 * with the QNAME compression hint and keeps the wildcard's own owner in the
 * packet's RRset array (put_answer() and process_query_put_rr() in Knot's
 * nameserver code, 3.2 and 3.4), so that owner starts with "*". */
static bool wildcard_answered(const knot_pkt_t *pkt)
{
	return pkt->rrset_count > 0 && pkt->rr[0].owner != NULL &&
	       knot_dname_is_wildcard(pkt->rr[0].owner);
}

/* Empty the answer section (at the ANSWER stage it is the only one filled):
 * records Knot copied for the expansion are freed as knot_pkt_free would. */
static void drop_answer(knot_pkt_t *pkt)
{
	for (uint16_t i = 0; i < pkt->rrset_count; i++) {
		if (pkt->rr_info[i].flags & KNOT_PF_FREE) {
			knot_rrset_clear(&pkt->rr[i], &pkt->mm);
		}
	}
	pkt->rrset_count = 0;
	pkt->sections[KNOT_ANSWER].count = 0;
	pkt->size = KNOT_WIRE_HEADER_SIZE + knot_pkt_question_size(pkt);
	knot_wire_set_ancount(pkt->wire, 0);
}

/* A config owner has no node; when a wildcard covers it Knot answers from
 * the wildcard before the module sees the query (state HIT).  The owner is
 * ours: drop that answer and go on as for an owner the zone lacks.  Not in
 * zones that knotd signs itself (unsupported anyway): its RRSIG bookkeeping
 * points at the records being dropped. */
static bool take_over_wildcard(struct mod_aname *m, knot_pkt_t *pkt,
			       knotd_qdata_t *qdata, const knot_dname_t *qname)
{
	if (!wildcard_answered(pkt) || knot_dname_is_wildcard(qname)) {
		return false;
	}
	const struct cfg_alias *c = cfg_find(m, qname);
	if (c == NULL || c->from_file) {
		return false;
	}
	knot_rrset_t keys = knotd_qdata_zone_apex_rrset(qdata,
							KNOT_RRTYPE_DNSKEY);
	if (!knot_rrset_empty(&keys)) {
		return false;
	}
	drop_answer(pkt);
	qdata->name = qname;
	qdata->rcode = KNOT_RCODE_NOERROR;
	return true;
}

static knotd_in_state_t aname_answer(knotd_in_state_t state, knot_pkt_t *pkt,
				     knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	struct mod_aname *m = knotd_mod_ctx(mod);
	const knot_dname_t *qname = knot_pkt_qname(qdata->query);
	if (state == KNOTD_IN_STATE_HIT && take_over_wildcard(m, pkt, qdata,
							      qname)) {
		state = KNOTD_IN_STATE_MISS;
	}
	/* Only names the zone has no address records for (or no node). */
	if (state != KNOTD_IN_STATE_NODATA && state != KNOTD_IN_STATE_MISS) {
		return state;
	}
	/* Not after an in-zone CNAME: the chain's end is not our owner. */
	if (qdata->name == NULL || !knot_dname_is_equal(qdata->name, qname)) {
		return state;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	if (qtype != KNOT_RRTYPE_A && qtype != KNOT_RRTYPE_AAAA) {
		/* An owner known only from the config has no node: every
		 * other type is NODATA there (the owner exists), never
		 * NXDOMAIN.  Knot adds the SOA, onlinesign the proof. */
		if (state == KNOTD_IN_STATE_MISS && cfg_find(m, qname) != NULL) {
			qdata->rcode = KNOT_RCODE_NOERROR;
			return KNOTD_IN_STATE_NODATA;
		}
		return state;
	}

	const knot_dname_t *target;
	uint32_t alias_ttl;
	if (!find_alias(m, mod, qdata, state, qname, &target, &alias_ttl)) {
		return state;
	}

	/* An ALIAS naming its own owner has no addresses but the owner's,
	 * which the zone lacks (else the state would be HIT): NODATA, as
	 * resolving it would only come back here.  Both names are lower
	 * case (Knot lowers the QNAME it hands out). */
	if (knot_dname_is_equal(qname, target)) {
		count(mod, qdata, CTR_NODATA);
		qdata->rcode = KNOT_RCODE_NOERROR;
		return KNOTD_IN_STATE_NODATA;
	}

	/* The wire form of the target: no text conversion in the hot path. */
	aname_result_t *res = NULL;
	int rc = aname_cache_lookup_wire(m->ctx, target, knot_dname_size(target),
					 qtype,
					 ANAME_LOOKUP_FETCH | ANAME_LOOKUP_STALE,
					 &res);
	update_health(m, mod);
	if (rc != ANAME_OK || aname_result_status(res, qtype) != ANAME_OK) {
		aname_result_unref(res);
		count(mod, qdata, CTR_MISSES);
		qdata->rcode = KNOT_RCODE_SERVFAIL;
		return KNOTD_IN_STATE_ERROR;
	}
	knotd_in_state_t next;
	if (aname_result_count(res, qtype) == 0) {
		/* NXDOMAIN or NODATA at the target (draft-aname section 3). */
		count(mod, qdata, CTR_NODATA);
		qdata->rcode = KNOT_RCODE_NOERROR;
		next = KNOTD_IN_STATE_NODATA;
	} else {
		count(mod, qdata, aname_result_stale(res) ? CTR_STALE : CTR_HITS);
		next = synth(res, qtype, alias_ttl, pkt, qdata, qname);
	}
	aname_result_unref(res);
	return next;
}

/* ------------------------------------------------------------ load */

static void table_free(struct alias_table *t, aname_ctx_t *ctx)
{
	for (size_t i = 0; i < t->n_alias; i++) {
		aname_target_unregister(ctx, t->alias[i].target,
					ANAME_RRTYPE_BOTH);
		free(t->alias[i].target);
	}
	free(t->alias);
	t->alias = NULL;
	t->n_alias = 0;
}

static void latescan_stop(struct mod_aname *m);

static void mod_free(struct mod_aname *m)
{
	latescan_stop(m);
	table_free(&m->tab, m->ctx);
	struct alias_table *late = atomic_load(&m->late);
	if (late != NULL) {
		table_free(late, m->ctx);
		free(late);
	}
	pthread_mutex_destroy(&m->late_lock);
	pthread_cond_destroy(&m->late_cond);
	struct seen_target *t = atomic_load(&m->seen);
	while (t != NULL) {
		struct seen_target *next = t->next;
		aname_target_unregister(m->ctx, t->text, ANAME_RRTYPE_BOTH);
		free(t);
		t = next;
	}
	pthread_mutex_destroy(&m->seen_lock);
	if (m->ctx != NULL) {
		aname_knot_shared_release();
	}
	free(m);
}

/* Build this zone's alias table from the "alias" items: owners outside the
 * zone belong to other zones sharing the config id and are skipped. */
static int load_aliases(struct mod_aname *m, knotd_mod_t *mod)
{
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	const knot_dname_t *apex = knotd_mod_zone(mod);
	knot_dname_to_str(zone, apex, sizeof(zone));

	knotd_conf_t a = knotd_conf_mod(mod, MOD_ALIAS);
	m->tab.alias = calloc(a.count + 1, sizeof(*m->tab.alias));
	if (m->tab.alias == NULL) {
		knotd_conf_free(&a);
		return KNOT_ENOMEM;
	}
	int ret = KNOT_EOK;
	for (size_t i = 0; i < a.count; i++) {
		struct aname_knot_alias al;
		char owner[2 * ANAME_KNOT_NAME_TXT + 2];
		if (aname_knot_alias_parse(a.multi[i].string, &al) != NULL ||
		    !aname_knot_alias_owner_abs(al.owner, zone, owner,
						sizeof(owner))) {
			/* Config check has already rejected these. */
			ret = KNOT_EINVAL;
			break;
		}
		struct cfg_alias *c = &m->tab.alias[m->tab.n_alias];
		if (knot_dname_from_str(c->owner, owner, sizeof(c->owner)) ==
		    NULL) {
			knotd_mod_log(mod, LOG_ERR, "alias '%s': bad owner",
				      a.multi[i].string);
			ret = KNOT_EINVAL;
			break;
		}
		knot_dname_to_lower(c->owner);
		if (knot_dname_in_bailiwick(c->owner, apex) < 0) {
			knotd_mod_log(mod, LOG_DEBUG,
				      "alias '%s': owner outside the zone, "
				      "skipped", a.multi[i].string);
			continue;
		}
		c->owner_len = knot_dname_size(c->owner);
		c->ttl = al.ttl;
		if (knot_dname_from_str(c->target_wire, al.target,
					sizeof(c->target_wire)) == NULL) {
			ret = KNOT_EINVAL;
			break;
		}
		knot_dname_to_lower(c->target_wire);
		c->target = strdup(al.target);
		if (c->target == NULL) {
			ret = KNOT_ENOMEM;
			break;
		}
		m->tab.n_alias++;
	}
	m->tab.cap_alias = a.count + 1;
	m->tab.n_config = m->tab.n_alias;
	knotd_conf_free(&a);
	return ret;
}

/* Where file_alias_cb puts the records it is given. */
struct file_fill {
	knotd_mod_t *mod;
	struct alias_table *t;
};

/* One TYPE65401 record of the zone file (preload.c). */
static void file_alias_cb(void *arg, const knot_dname_t *owner, uint32_t ttl,
			  const knot_dname_t *target, uint64_t line)
{
	struct file_fill *ff = arg;
	knotd_mod_t *mod = ff->mod;
	struct alias_table *m = ff->t;
#if !ANAME_KNOT_NODE_RRSET
	if (owner[0] == 1 && owner[1] == '*') {
		knotd_mod_log(mod, LOG_WARNING, "zone file line %" PRIu64
			      ": wildcard ALIAS owners need Knot >= 3.4, "
			      "record ignored", line);
		return;
	}
#endif
	if (m->n_alias == m->cap_alias) {
		size_t cap = m->cap_alias * 2;
		struct cfg_alias *a = realloc(m->alias, cap * sizeof(*a));
		if (a == NULL) {
			knotd_mod_log(mod, LOG_ERR, "zone file line %" PRIu64
				      ": out of memory, ALIAS ignored", line);
			return;
		}
		m->alias = a;
		m->cap_alias = cap;
	}
	struct cfg_alias *c = &m->alias[m->n_alias];
	memset(c, 0, sizeof(*c));
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_store(c->owner, owner) == 0 ||
	    knot_dname_store(c->target_wire, target) == 0) {
		return;
	}
	knot_dname_to_lower(c->owner);
	knot_dname_to_lower(c->target_wire);
	if (knot_dname_to_str(text, c->target_wire, sizeof(text)) == NULL ||
	    (c->target = strdup(text)) == NULL) {
		return;
	}
	c->owner_len = knot_dname_size(c->owner);
	c->ttl = ttl;
	c->from_file = true;
	m->n_alias++;
}

/* Sort the table, drop owners given twice (config first, then the first
 * record of the file), and register every target that stays. */
static int finish_aliases(struct alias_table *m, aname_ctx_t *ctx,
			  knotd_mod_t *mod)
{
	/* qsort is not stable: of several TYPE65401 records at one owner in
	 * the file, an arbitrary one is kept (and the others logged). */
	qsort(m->alias, m->n_alias, sizeof(*m->alias), alias_load_cmp);
	size_t out = 0;
	for (size_t i = 0; i < m->n_alias; i++) {
		struct cfg_alias *c = &m->alias[i];
		if (out > 0 && alias_cmp(&m->alias[out - 1], c) == 0) {
			if (c->from_file) {
				knotd_mod_log(mod, LOG_WARNING, "ALIAS owner "
					      "with more than one target in "
					      "the zone (or also in the config):"
					      " one target is used, '%s' "
					      "ignored", c->target);
			}
			free(c->target);
			continue;
		}
		m->alias[out++] = *c;
	}
	m->n_alias = out;
	for (size_t i = 0; i < m->n_alias; i++) {
		int rc = aname_target_register(ctx, m->alias[i].target,
					       ANAME_RRTYPE_BOTH);
		if (rc != ANAME_OK) {
			knotd_mod_log(mod, LOG_ERR, "ALIAS target '%s': cannot "
				      "register (%s)", m->alias[i].target,
				      aname_strerror(rc));
			/* Unregister only what was registered. */
			for (size_t j = i; j < m->n_alias; j++) {
				free(m->alias[j].target);
			}
			m->n_alias = i;
			return KNOT_EINVAL;
		}
	}
	return KNOT_EOK;
}

/* ------------------------------------------------------------ late scan */

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}


/* A zone whose file does not exist at load (a secondary before its first
 * transfer: knotd writes the file after it, zonefile-sync 0 by default)
 * would register every target on first sight, one SERVFAIL each.  A
 * thread looks for the file every LATESCAN_PERIOD_MS for LATESCAN_LIMIT_S
 * and, once it is readable, registers all its ALIAS targets and publishes
 * their table.  The file path was resolved at load: the thread touches no
 * knotd configuration. */
#define LATESCAN_PERIOD_MS 200
#define LATESCAN_LIMIT_S 600

/* Wait one period; false if the instance is being unloaded. */
static bool latescan_wait(struct mod_aname *m)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += LATESCAN_PERIOD_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&m->late_lock);
	while (!m->stopping &&
	       pthread_cond_timedwait(&m->late_cond, &m->late_lock, &until) == 0) {
	}
	bool go_on = !m->stopping;
	pthread_mutex_unlock(&m->late_lock);
	return go_on;
}

static void *latescan_run(void *arg)
{
	struct mod_aname *m = arg;
	for (unsigned i = 0; i < LATESCAN_LIMIT_S * 1000 / LATESCAN_PERIOD_MS;
	     i++) {
		if (!latescan_wait(m)) {
			return NULL;
		}
		struct alias_table *t = calloc(1, sizeof(*t));
		if (t == NULL || (t->alias = calloc(16, sizeof(*t->alias))) ==
					 NULL) {
			free(t);
			continue;
		}
		t->cap_alias = 16;
		struct file_fill ff = { .mod = m->mod, .t = t };
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (!aname_knot_scan_file(m->mod, m->zone_file, file_alias_cb,
					  &ff)) {
			free(t->alias);
			free(t);
			continue;
		}
		if (finish_aliases(t, m->ctx, m->mod) != KNOT_EOK) {
			table_free(t, m->ctx);
			free(t);
			return NULL;
		}
		atomic_store_explicit(&m->late, t, memory_order_release);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		knotd_mod_log(m->mod, LOG_INFO, "zone file '%s' appeared: %zu "
			      "ALIAS owners registered in %ld ms", m->zone_file,
			      t->n_alias, ms_between(&t0, &t1));
		return NULL;
	}
	knotd_mod_log(m->mod, LOG_NOTICE, "zone file '%s' did not appear "
		      "within %u s; ALIAS targets are registered at first "
		      "query", m->zone_file, LATESCAN_LIMIT_S);
	return NULL;
}

static void latescan_start(struct mod_aname *m)
{
	m->late_started = pthread_create(&m->late_thr, NULL, latescan_run,
					 m) == 0;
	if (!m->late_started) {
		knotd_mod_log(m->mod, LOG_WARNING, "cannot start the zone file "
			      "watcher; ALIAS targets are registered at first "
			      "query");
	}
}

static void latescan_stop(struct mod_aname *m)
{
	if (!m->late_started) {
		return;
	}
	pthread_mutex_lock(&m->late_lock);
	m->stopping = true;
	pthread_cond_signal(&m->late_cond);
	pthread_mutex_unlock(&m->late_lock);
	pthread_join(m->late_thr, NULL);
	m->late_started = false;
}

static int aname_load(knotd_mod_t *mod)
{
	struct mod_aname *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&m->seen_lock, NULL);
	pthread_mutex_init(&m->late_lock, NULL);
	pthread_cond_init(&m->late_cond, NULL);
	atomic_init(&m->late, NULL);
	m->mod = mod;
	atomic_init(&m->seen, NULL);
	atomic_init(&m->health, -1);
	atomic_init(&m->stats_sec, 0);

	struct aname_knot_settings set;
	struct upstreams *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		mod_free(m);
		return KNOT_ENOMEM;
	}
	if (read_settings(get_mod, mod, mod, &set, u) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "%s", u->err);
		free(u);
		mod_free(m);
		return KNOT_EINVAL;
	}
	bool differs = false;
	const char *err = NULL;
	int rc = aname_knot_shared_acquire(&set, &m->ctx, &differs, &err);
	free(u);
	if (rc != ANAME_OK) {
		knotd_mod_log(mod, LOG_ERR, "%s", err);
		m->ctx = NULL;
		mod_free(m);
		return rc == ANAME_ENOMEM ? KNOT_ENOMEM : KNOT_EINVAL;
	}
	if (differs) {
		knotd_mod_log(mod, LOG_WARNING,
			      "upstream/cache settings differ from those of the "
			      "shared resolver already running; they are "
			      "ignored (use identical settings or one "
			      "mod-aname id for all zones)");
	}
	knotd_mod_ctx_set(mod, m);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ret = load_aliases(m, mod);
	bool have_path = false, have_file = false;
	if (ret == KNOT_EOK) {
		struct file_fill ff = { .mod = mod, .t = &m->tab };
		have_path = aname_knot_zone_file(mod, m->zone_file,
						 sizeof(m->zone_file));
		have_file = have_path && aname_knot_scan_file(mod, m->zone_file,
							      file_alias_cb, &ff);
		ret = finish_aliases(&m->tab, m->ctx, mod);
	}
	if (ret == KNOT_EOK && have_path && !have_file) {
		latescan_start(m);
	}
	for (uint32_t i = 0; ret == KNOT_EOK && i < CTR_COUNT; i++) {
		if (i == CTR_HEALTH) {
			ret = knotd_mod_stats_add(mod, ctr_names[i],
						  ANAME_HEALTH_FAILING + 1,
						  health_idx_name);
		} else {
			ret = knotd_mod_stats_add(mod, ctr_names[i], 1, NULL);
		}
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, aname_answer);
	}
	if (ret != KNOT_EOK) {
		knotd_mod_ctx_set(mod, NULL);
		mod_free(m);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	aname_knot_log_attach(mod);
	knotd_mod_log(mod, LOG_INFO, "%zu config aliases, %zu ALIAS owners in "
		      "total registered in %ld ms, libaname %s", m->tab.n_config,
		      m->tab.n_alias, ms_between(&t0, &t1), aname_version(NULL));
	return KNOT_EOK;
}

static void aname_unload(knotd_mod_t *mod)
{
	aname_knot_log_detach(mod);
	struct mod_aname *m = knotd_mod_ctx(mod);
	if (m != NULL) {
		mod_free(m);
	}
}

KNOTD_MOD_API(aname, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
	      aname_load, aname_unload, aname_conf, aname_conf_check);
