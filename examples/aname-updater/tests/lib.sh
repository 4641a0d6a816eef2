# Shell support for the aname-updater tests: real servers on loopback at
# free high ports, each in its own temp dir, each stopped by its PID when
# the test ends (trap in run.sh), pass or fail.  Sourced by run.sh and
# ../bench.sh.

T=${T:-$(mktemp -d /tmp/aname-updater-test.XXXXXX)}
PIDS=""

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  - $*"; }

# A port free for TCP and UDP on 127.0.0.1 a moment ago.
free_port() {
	python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
print(p)
PY
}

stop_all() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	PIDS=""
}

# wait_for TIMEOUT_S CMD...: run CMD until it succeeds (awaiting a
# condition, 100 ms between tries), or fail after TIMEOUT_S.
wait_for() {
	local t=$1; shift
	local end=$(( $(date +%s%N) / 1000000 + t * 1000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.1
	done
}

# ask PORT NAME TYPE: the answer's rdata, sorted, one per line.
ask() {
	dig -p "$1" @127.0.0.1 +norec +short +time=1 +tries=2 "$2" "$3" | sort
}
# ask_ttl PORT NAME TYPE: the TTL of the answer RRset.
ask_ttl() {
	dig -p "$1" @127.0.0.1 +norec +noall +answer +time=1 +tries=2 "$2" "$3" |
		awk -v t="$3" '$4 == t { print $2; exit }'
}
# answers_are PORT NAME TYPE "RDATA...": sorted rdata equals the list.
answers_are() {
	[ "$(ask "$1" "$2" "$3" | tr '\n' ' ' | sed 's/ $//')" = "$4" ]
}
serial_of() {
	dig -p "$1" @127.0.0.1 +norec +short +time=1 "$2" SOA | awk '{print $3}'
}

# Uncompressed wire form of a name as hex, for "TYPE65401 \# LEN HEX".
alias_rdata() {
	python3 -c '
import sys
n = sys.argv[1].rstrip(".")
w = b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
print("\\# %d %s" % (len(w), w.hex()))' "$1"
}

# ---------------------------------------------------------------- upstream
# The targets' zone, up.test, served by an nsd the test edits and reloads.
UP_PORT= UP_DIR=
start_upstream() {
	UP_DIR=$T/up; rm -rf "$UP_DIR"; mkdir -p "$UP_DIR"
	UP_PORT=$(free_port)
	cat > "$UP_DIR/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1
	port: $UP_PORT
	zonesdir: "$UP_DIR"
	pidfile: "$UP_DIR/nsd.pid"
	xfrdfile: "$UP_DIR/xfrd.state"
	zonelistfile: "$UP_DIR/zone.list"
	database: ""
	username: ""
	logfile: "$UP_DIR/nsd.log"
	server-count: 1
	rrl-ratelimit: 0
	verbosity: 1
zone:
	name: up.test
	zonefile: up.test.zone
remote-control:
	control-enable: no
CONF
	if [ -n "${UP_ZONE_FILE:-}" ]; then
		cp "$UP_ZONE_FILE" "$UP_DIR/up.test.zone"
	else
		upstream_zone 1 "$@"
	fi
	upstream_run
}
# (Re)start the upstream nsd on UP_PORT with the current zone file.
upstream_run() {
	nsd -d -c "$UP_DIR/nsd.conf" >/dev/null 2>&1 &
	UP_PID=$!; PIDS="$PIDS $UP_PID"
	wait_for 10 sh -c "dig -p $UP_PORT @127.0.0.1 +short +time=1 up.test SOA | grep -q '^ns\\.'" ||
		fail "upstream nsd did not start: $(cat "$UP_DIR/nsd.log")"
}
upstream_kill() {
	kill "$UP_PID"; wait "$UP_PID" 2>/dev/null
}
# upstream_zone SERIAL RR...: write up.test (TTL 5 by default).
upstream_zone() {
	local serial=$1; shift
	{
		echo '$TTL 5'
		echo "@ SOA ns.up.test. h.up.test. $serial 60 60 600 5"
		echo '@ NS ns.up.test.'
		echo 'ns A 127.0.0.1'
		for rr in "$@"; do echo "$rr"; done
	} > "$UP_DIR/up.test.zone"
}
# upstream_change SERIAL RR...: rewrite and reload (SIGHUP), then await it.
upstream_change() {
	upstream_zone "$@"
	kill -HUP "$UP_PID"
	wait_for 10 sh -c "[ \"\$(dig -p $UP_PORT @127.0.0.1 +short +time=1 up.test SOA | awk '{print \$3}')\" = $1 ]" ||
		fail "upstream did not reload serial $1"
}

# ---------------------------------------------------------------- key
KEY_NAME=upd.key
make_key() {
	tsig-keygen -a hmac-sha256 "$KEY_NAME" > "$T/key.conf"
	KEY_SECRET=$(sed -n 's/.*secret "\(.*\)";.*/\1/p' "$T/key.conf")
}

# ---------------------------------------------------------------- zone
# primary_zone FILE SERIAL [pdns]: the test zone example.test with its
# ALIASes, in RFC 3597 generic syntax (Knot, BIND) or as PowerDNS's ALIAS
# mnemonic (pdnsutil load-zone does not take TYPE65401 \#).
alias_rr() {
	if [ "$PDNS_STYLE" = 1 ]; then echo "ALIAS $1."; else echo "TYPE65401 $(alias_rdata "$1")"; fi
}
PDNS_STYLE=0
primary_zone() {
	PDNS_STYLE=0; [ "${3:-}" = pdns ] && PDNS_STYLE=1
	cat > "$1" <<ZONE
\$TTL 300
@ SOA ns.example.test. h.example.test. $2 60 60 600 60
@ NS ns.example.test.
ns A 127.0.0.1
@ 300 $(alias_rr www.up.test)
web 60 $(alias_rr www.up.test)
v4 60 $(alias_rr v4only.up.test)
nx 60 $(alias_rr gone.up.test)
static A 198.51.100.1
ZONE
}

# ---------------------------------------------------------------- knot
KNOT_PORT= KNOT_DIR=
# start_knot SIGNING(on|off) ["NOTIFY_PORT..."] [ACL_ACTIONS]
start_knot() {
	KNOT_DIR=$T/knot; rm -rf "$KNOT_DIR"; mkdir -p "$KNOT_DIR"
	KNOT_PORT=$(free_port)
	local notify="" remote=""
	if [ -n "${2:-}" ]; then
		local p i=0 ids=""
		remote="remote:"
		for p in $2; do
			remote="$remote
  - id: sec$i
    address: 127.0.0.1@$p"
			ids="$ids${ids:+, }sec$i"; i=$((i + 1))
		done
		notify="    notify: [$ids]"
	fi
	cat > "$KNOT_DIR/knot.conf" <<CONF
server:
    rundir: "$KNOT_DIR"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 1
    tcp-workers: 2
    background-workers: 1
control:
    listen: "$KNOT_DIR/knot.sock"
log:
  - target: "$KNOT_DIR/knot.log"
    any: info
database:
    storage: "$KNOT_DIR"
key:
  - id: $KEY_NAME
    algorithm: hmac-sha256
    secret: $KEY_SECRET
$remote
acl:
  - id: upd
    key: $KEY_NAME
    action: [${3:-update, transfer}]
  - id: sec
    address: 127.0.0.1
    action: transfer
policy:
  - id: p
    algorithm: ecdsap256sha256
    nsec3: off
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
zone:
  - domain: example.test
    storage: "$KNOT_DIR"
    file: example.test.zone
    dnssec-signing: $1
    dnssec-policy: p
    journal-content: changes
    zonefile-sync: -1
    acl: [upd, sec]
$notify
CONF
	if [ -n "${KNOT_ZONE_FILE:-}" ]; then
		cp "$KNOT_ZONE_FILE" "$KNOT_DIR/example.test.zone"
	else
		primary_zone "$KNOT_DIR/example.test.zone" 1
	fi
	knotd -c "$KNOT_DIR/knot.conf" >/dev/null 2>&1 &
	KNOT_PID=$!; PIDS="$PIDS $KNOT_PID"
	wait_for 20 sh -c "dig -p $KNOT_PORT @127.0.0.1 +short +time=1 example.test SOA | grep -q '^ns\\.'" ||
		fail "knotd did not start: $(cat "$KNOT_DIR/knot.log")"
}

# ---------------------------------------------------------------- nsd secondary
SEC_PORT= SEC_DIR=
# start_secondary PRIMARY_PORT: nsd as a secondary of example.test (IXFR).
start_secondary() {
	SEC_DIR=$T/sec${SEC_INDEX:-}; rm -rf "$SEC_DIR"; mkdir -p "$SEC_DIR"
	cat > "$SEC_DIR/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1
	port: $SEC_PORT
	zonesdir: "$SEC_DIR"
	pidfile: "$SEC_DIR/nsd.pid"
	xfrdfile: "$SEC_DIR/xfrd.state"
	zonelistfile: "$SEC_DIR/zone.list"
	database: ""
	username: ""
	logfile: "$SEC_DIR/nsd.log"
	server-count: 1
	rrl-ratelimit: 0
	verbosity: 2
	xfrd-reload-timeout: 0
zone:
	name: example.test
	zonefile: example.test.sec
	request-xfr: 127.0.0.1@$1 NOKEY
	allow-notify: 127.0.0.1 NOKEY
	provide-xfr: 127.0.0.1 NOKEY
remote-control:
	control-enable: no
CONF
	nsd -d -c "$SEC_DIR/nsd.conf" >/dev/null 2>&1 &
	SEC_PID=$!; PIDS="$PIDS $SEC_PID"
	wait_for 20 sh -c "dig -p $SEC_PORT @127.0.0.1 +short +time=1 example.test SOA | grep -q '^ns\\.'" ||
		fail "nsd secondary did not load the zone: $(cat "$SEC_DIR/nsd.log")"
}

# ---------------------------------------------------------------- updater
# upd_once ARGS...: one --once run, log in $T/upd.log; returns its status.
upd_once() {
	timeout "${UPD_ONCE_TIMEOUT:-120}" "$UPD" --once --state-file "$T/state" "$@" > "$T/upd.log" 2>&1
}
# upd_daemon ARGS...: the daemon in the background, log in $T/updd.log.
upd_daemon() {
	"$UPD" --state-file "$T/state" "$@" > "$T/updd.log" 2>&1 &
	UPD_PID=$!; PIDS="$PIDS $UPD_PID"
}
# state ZONE KEY: a value from the --state-file line of ZONE.
state() {
	sed -n "s/^zone $1 .*[ ]$2=\([^ ]*\).*/\1/p" "$T/state" 2>/dev/null
}
# zone_verifies PORT ZONE: AXFR it from PORT and check every RRSIG against
# the zone's own DNSKEYs and the NSEC chain (ldns-verify-zone).
zone_verifies() {
	dig -p "$1" @127.0.0.1 +time=2 "$2" AXFR | grep -v '^;' | grep . > "$T/axfr.zone" &&
	grep -q DNSKEY "$T/axfr.zone" &&
	ldns-verify-zone "$T/axfr.zone" > "$T/verify.out" 2>&1
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
knot_stop() {
	kill "$KNOT_PID" 2>/dev/null; wait "$KNOT_PID" 2>/dev/null
	rm -rf "$KNOT_DIR"
}
# logged FILE WORDS...: FILE has one line containing every word.
logged() {
	local f=$1; shift
	local pat=""
	python3 - "$f" "$@" <<'PY'
import sys
f, words = sys.argv[1], sys.argv[2:]
ok = any(all(w in l for w in words) for l in open(f, errors="replace"))
sys.exit(0 if ok else 1)
PY
}

# ---------------------------------------------------------------- bind
BIND_PORT= BIND_DIR=
# start_bind NOTIFY_PORT: named, inline-signing, updates by key only.
start_bind() {
	BIND_DIR=$T/bind; rm -rf "$BIND_DIR"; mkdir -p "$BIND_DIR"
	BIND_PORT=$(free_port)
	cat > "$BIND_DIR/named.conf" <<CONF
include "$T/key.conf";
options {
	directory "$BIND_DIR";
	listen-on port $BIND_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	pid-file "$BIND_DIR/named.pid";
	session-keyfile "$BIND_DIR/session.key";
	managed-keys-directory "$BIND_DIR";
	key-directory "$BIND_DIR";
	recursion no;
	dnssec-validation no;
	notify explicit;
	also-notify { 127.0.0.1 port $1; };
	minimal-responses yes;
};
controls { };
dnssec-policy "p" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
};
zone "example.test" {
	type primary;
	file "$BIND_DIR/example.test.zone";
	dnssec-policy "p";
	inline-signing yes;
	allow-update { key "$KEY_NAME"; };
	allow-transfer { key "$KEY_NAME"; 127.0.0.1; };
};
CONF
	if [ -n "${BIND_ZONE_FILE:-}" ]; then
		cp "$BIND_ZONE_FILE" "$BIND_DIR/example.test.zone"
	else
		primary_zone "$BIND_DIR/example.test.zone" 1
	fi
	named -g -c "$BIND_DIR/named.conf" > "$BIND_DIR/named.log" 2>&1 &
	BIND_PID=$!; PIDS="$PIDS $BIND_PID"
	# Up, and signed (the DNSKEY is published once signing has run).
	wait_for 30 sh -c "dig -p $BIND_PORT @127.0.0.1 +short +time=1 example.test DNSKEY | grep -q ." ||
		fail "named did not start signing: $(tail -20 "$BIND_DIR/named.log")"
}

# ---------------------------------------------------------------- pdns
PDNS_PORT= PDNS_DIR=
start_pdns() {
	PDNS_DIR=$T/pdns; rm -rf "$PDNS_DIR"; mkdir -p "$PDNS_DIR"
	PDNS_PORT=$(free_port)
	cat > "$PDNS_DIR/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$PDNS_DIR/pdns.sqlite3
gsqlite3-dnssec=yes
local-address=127.0.0.1
local-port=$PDNS_PORT
socket-dir=$PDNS_DIR
guardian=no
daemon=no
disable-syslog=yes
loglevel=5
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
allow-axfr-ips=127.0.0.0/8
expand-alias=no
primary=yes
also-notify=127.0.0.1:$1
only-notify=
webserver=no
CONF
	sqlite3 "$PDNS_DIR/pdns.sqlite3" < /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ||
		fail "pdns schema"
	primary_zone "$PDNS_DIR/example.test.zone" 1 pdns
	local u="pdnsutil --config-dir=$PDNS_DIR"
	$u load-zone example.test "$PDNS_DIR/example.test.zone" >/dev/null 2>&1 &&
	$u import-tsig-key "$KEY_NAME" hmac-sha256 "$KEY_SECRET" >/dev/null &&
	$u set-meta example.test TSIG-ALLOW-DNSUPDATE "$KEY_NAME" >/dev/null &&
	$u set-meta example.test TSIG-ALLOW-AXFR "$KEY_NAME" >/dev/null &&
	$u set-meta example.test SOA-EDIT-DNSUPDATE INCREASE >/dev/null &&
	$u set-kind example.test primary >/dev/null &&
	$u secure-zone example.test >/dev/null 2>&1 &&
	$u rectify-zone example.test >/dev/null 2>&1 || fail "pdnsutil setup"
	pdns_server --config-dir="$PDNS_DIR" > "$PDNS_DIR/pdns.log" 2>&1 &
	PDNS_PID=$!; PIDS="$PIDS $PDNS_PID"
	wait_for 20 sh -c "dig -p $PDNS_PORT @127.0.0.1 +short +time=1 example.test SOA | grep -q '^ns\\.'" ||
		fail "pdns_server did not start: $(tail -20 "$PDNS_DIR/pdns.log")"
}

# ---------------------------------------------------------------- scale zones
# gen_zones OWNERS TARGETS PREFILL: $T/up.zone (targets tN.up.test, A and
# AAAA, TTL 300) and $T/primary.zone (owners oN -> t(N mod TARGETS);
# PREFILL=1 adds the siblings the updater would write).
gen_zones() {
	python3 - "$@" "$T" <<'PY'
import sys
owners, targets, prefill, t = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
def a(i): return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
def aaaa(i): return "2001:db8::%x:%x" % (i >> 16, i & 0xffff)
with open(t + "/up.zone", "w") as f:
    f.write("$TTL 300\n@ SOA ns.up.test. h.up.test. 1 60 60 600 300\n@ NS ns.up.test.\nns A 127.0.0.1\n")
    for i in range(targets):
        f.write("t%d A %s\nt%d AAAA %s\n" % (i, a(i), i, aaaa(i)))
def wire(n):
    w = b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
    return "\\# %d %s" % (len(w), w.hex())
with open(t + "/primary.zone", "w") as f:
    f.write("$TTL 300\n@ SOA ns.example.test. h.example.test. 1 60 60 600 60\n@ NS ns.example.test.\nns A 127.0.0.1\n")
    for i in range(owners):
        j = i % targets
        f.write("o%d 300 TYPE65401 %s\n" % (i, wire("t%d.up.test" % j)))
        if prefill:
            f.write("o%d 300 A %s\no%d 300 AAAA %s\n" % (i, a(j), i, aaaa(j)))
PY
}

