# setup.sh: sourced by test_knot.sh and bench_knot.sh (POSIX sh).
#
# Starts, on 127.0.0.1 high ports: nsd serving tests/fixtures/zones
# (example.test, other.test), a black hole (open socket, never answers) for
# blackhole.test, and knotd with mod-aname (+ mod-onlinesign on signed.test);
# defines the query helpers.  Every server is stopped by PID on exit, pass or
# fail.  Waits poll a condition with a deadline; nothing sleeps blindly.
# Expects B (build dir) to be set and the current directory to be the repo.
# A test may add nsd zones (NSD_EXTRA_ZONES: nsd.conf "zone:" stanzas),
# knotd zones (KNOT_EXTRA_ZONES: items of knot.conf's "zone:" list) and
# mod-aname stubs: a function knot_extra_stubs, if defined, is called once
# the ports are chosen and prints '"ZONE=ADDR", ' items.  KNOT_EXTRA_CONF
# adds top-level knot.conf sections (e.g. remote:).
ROOT=$(pwd)
HERE=$ROOT/bindings/knot/tests
MOD=${ANAME_KNOT_MOD:-$ROOT/$B/bindings/knot/mod_aname.so}
TOOLS=$ROOT/$B/bindings/knot
FIX=$ROOT/tests/fixtures/zones

PASS=0
FAIL=0
PIDS=""
T=$(mktemp -d /tmp/aname-knot.XXXXXX)

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ "$FAIL" -eq 0 ]; then
		rm -rf "$T"
	else
		echo "test-knot: logs kept in $T (knot.log, nsd.log)"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
die() {
	bad "$1"
	echo "$PASS passed, $FAIL failed"
	exit 1
}
now_ms() { date +%s%3N; }
in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

for f in /usr/sbin/knotd /usr/sbin/knotc /usr/bin/kdig /usr/sbin/nsd "$MOD" \
	"$TOOLS/blackhole" "$TOOLS/rrsig_check" "$FIX/example.test.zone"; do
	[ -e "$f" ] || die "required file missing: $f (make test installs deps/knot.txt)"
done

set -- $("$TOOLS/blackhole" --free-ports 3)
NSD_PORT=$1
KNOT_PORT=$2
CLOSED_PORT=$3 # nothing listens: the guard stub for "." answers nothing

# ---------------------------------------------------------------- servers
mkdir -p "$T/nsd" "$T/run" "$T/db" "$T/zones"
# Two DNSSEC-signed upstream zones for the trust-anchor tests: secure.test
# validates, bogus.test is altered after signing (its RRSIGs no longer
# match).  Their DS records are the module's trust anchors.
for z in secure bogus; do
	printf '$ORIGIN %s.test.\n$TTL 300\n@ IN SOA ns1 h 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.%s\n' \
		$z $([ $z = secure ] && echo 10 || echo 66) > "$T/nsd/$z.test.zone"
	(cd "$T/nsd" && k=$(ldns-keygen -a ECDSAP256SHA256 -k $z.test) &&
		ldns-signzone $z.test.zone "$k" && cat "$k.ds" >> "$T/anchors" &&
		rm -f "$k.private") || die "signing $z.test with ldns-keygen/ldns-signzone"
done
sed -i 's/192\.0\.2\.66/192.0.2.67/' "$T/nsd/bogus.test.zone.signed"
# A test may write zone files into $T first (function before_servers).
if command -v before_servers >/dev/null 2>&1; then
	before_servers
fi
cat > "$T/nsd/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$NSD_PORT
	do-ip6: no
	server-count: 1
	verbosity: 1
	username: ""
	chroot: ""
	zonesdir: "$T/nsd"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	xfrdfile: "$T/nsd/xfrd.state"
	xfrdir: "$T/nsd"
	pidfile: "$T/nsd/nsd.pid"
	logfile: "$T/nsd.log"
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: "$FIX/example.test.zone"
zone:
	name: other.test
	zonefile: "$FIX/other.test.zone"
zone:
	name: secure.test
	zonefile: "$T/nsd/secure.test.zone.signed"
zone:
	name: bogus.test
	zonefile: "$T/nsd/bogus.test.zone.signed"
${NSD_EXTRA_ZONES:-}
EOF
/usr/sbin/nsd -d -c "$T/nsd/nsd.conf" &
NSD_PID=$!
PIDS="$PIDS $NSD_PID"

"$TOOLS/blackhole" "$T/bh.port" &
PIDS="$PIDS $!"

# wait_for DEADLINE_MS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	limit=$(($(now_ms) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$limit" ] || return 1
		sleep 0.05
	done
	return 0
}
nsd_up() { kdig @127.0.0.1 -p "$NSD_PORT" +retry=0 +timeout=1 example.test SOA | grep -q 'status: NOERROR'; }
wait_for 10000 nsd_up || die "nsd answers on port $NSD_PORT"
wait_for 5000 test -s "$T/bh.port" || die "black hole started"
BH_PORT=$(cat "$T/bh.port")

cp "$HERE/zones/knot.test.zone" "$HERE/zones/signed.test.zone" "$T/zones/"
printf '$ORIGIN viaremote.test.\n@ 300 IN SOA ns1 h 1 3600 900 604800 300\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.53\n' > "$T/zones/viaremote.test.zone"
STALE_TTL=7
KNOT_EXTRA_STUBS=
# TTL cap options of both ids; test_hosts.sh keeps the library defaults.
KNOT_TTL_OPTS=${KNOT_TTL_OPTS-"    max-ttl: 100
    max-neg-ttl: 60"}
KNOT_TTL_OPTS="$KNOT_TTL_OPTS
    trust-anchor-file: \"$T/anchors\""
if command -v knot_extra_stubs >/dev/null 2>&1; then
	KNOT_EXTRA_STUBS=$(knot_extra_stubs)
fi
KNOT_STUBS="\"example.test=127.0.0.1@$NSD_PORT\", \"other.test=127.0.0.1@$NSD_PORT\", \"blackhole.test=127.0.0.1@$BH_PORT\", \"refused.test=127.0.0.1@$NSD_PORT\", \"secure.test=127.0.0.1@$NSD_PORT\", \"bogus.test=127.0.0.1@$NSD_PORT\", $KNOT_EXTRA_STUBS\".=127.0.0.1@$CLOSED_PORT\""
# The same stubs as references to remote: ids (knotd's own address items),
# for the "viaremote" id.  KNOT_EXTRA_STUBS entries all point at nsd.
KNOT_STUB_REMOTES="\"example.test=nsd\", \"other.test=nsd\", \"blackhole.test=blackhole\", \"refused.test=nsd\", \"secure.test=nsd\", \"bogus.test=nsd\", $(printf '%s' "$KNOT_EXTRA_STUBS" | sed 's/=127\.0\.0\.1@[0-9]*"/=nsd"/g')\".=closed\""
cat > "$T/knot.conf" <<EOF
server:
    rundir: "$T/run"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
database:
    storage: "$T/db"
log:
  - target: "$T/knot.log"
    any: info
remote:
  - id: nsd
    address: 127.0.0.1@$NSD_PORT
  - id: blackhole
    address: 127.0.0.1@$BH_PORT
  - id: closed
    address: 127.0.0.1@$CLOSED_PORT
module:
  - id: mod-aname
    file: "$MOD"
mod-aname:
  - id: default
    stub: [ $KNOT_STUBS ]
    timeout: 3000
    stale-ttl: $STALE_TTL
${KNOT_TTL_OPTS}
    alias: [ "www2 www.example.test.", "lowttl 60 www.example.test.", "chain 600 c1.example.test.", "abs.knot.test. 120 www.example.test.", "elsewhere.other.zone. www.example.test.", "nodata nodata.example.test.", "dangling dangling.example.test.", "v6 v6only.example.test.", "real www.example.test.", "short short.example.test.", "zero zero.example.test.", "hung x.blackhole.test.", "refused x.refused.test.", "sec www.secure.test.", "bog www.bogus.test.", "a.wild www.example.test." ]
  # Same upstream settings as "default" (one shared resolver), no aliases:
  # for zones that bring their own ALIAS records.
  - id: zonedata
    stub: [ $KNOT_STUBS ]
    timeout: 3000
    stale-ttl: $STALE_TTL
${KNOT_TTL_OPTS}
  # The same upstreams again, given as remote: references: identical
  # settings once resolved, so it shares the resolver without a warning.
  - id: viaremote
    stub-remote: [ $KNOT_STUB_REMOTES ]
    timeout: 3000
    stale-ttl: $STALE_TTL
${KNOT_TTL_OPTS}
    alias: [ "www www.example.test." ]
${KNOT_EXTRA_CONF:-}
template:
  - id: default
    storage: "$T/zones"
zone:
  - domain: knot.test
    file: "$T/zones/knot.test.zone"
    module: mod-aname/default
  - domain: signed.test
    file: "$T/zones/signed.test.zone"
    module: [ mod-aname/default, mod-onlinesign ]
  - domain: viaremote.test
    file: "$T/zones/viaremote.test.zone"
    module: mod-aname/viaremote
${KNOT_EXTRA_ZONES:-}
EOF

KNOTC="/usr/sbin/knotc -c $T/knot.conf -s $T/run/knot.sock"
check "knotc conf-check accepts the module config" \
	sh -c "$KNOTC conf-check >$T/conf-check.out 2>&1"

KNOT_START=$(now_ms)
/usr/sbin/knotd -c "$T/knot.conf" -s "$T/run/knot.sock" 2>"$T/knotd.err" &
KNOT_PID=$!
PIDS="$PIDS $KNOT_PID"
# TCP: before knotd listens the connection is refused at once; a UDP probe
# sent then would wait out its whole 1 s timeout.
knot_up() { kdig @127.0.0.1 -p "$KNOT_PORT" +tcp +retry=0 +timeout=1 knot.test SOA | grep -q 'status: NOERROR'; }
wait_for 15000 knot_up || die "knotd answers on port $KNOT_PORT"
READY=$(now_ms)

# ---------------------------------------------------------------- helpers
# ask NAME TYPE [kdig options]: full kdig output
ask() {
	n=$1
	t=$2
	shift 2
	kdig @127.0.0.1 -p "$KNOT_PORT" +retry=0 +timeout=2 +norec "$@" "$n" "$t" 2>&1
}
status() { printf '%s\n' "$1" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1; }
# section NAME: records of one section (kdig prints ";; NAME SECTION:")
section() {
	printf '%s\n' "$2" | awk -v s=";; $1 SECTION:" '
		$0 == s { on = 1; next }
		on && /^$/ { exit }
		on && /^;;/ { exit }
		on { print }'
}
# addrs OUTPUT TYPE: sorted answer addresses of TYPE, space separated
addrs() { section ANSWER "$1" | awk -v t="$2" '$4 == t { print $5 }' | sort | tr '\n' ' ' | sed 's/ $//'; }
ttl() { section ANSWER "$1" | awk -v t="$2" '$4 == t { print $2; exit }'; }
has_auth_soa() { section AUTHORITY "$1" | awk '$4 == "SOA" { f = 1 } END { exit !f }'; }
answered() { [ "$(addrs "$(ask "$1" "$2")" "$2")" = "$3" ]; }

WWW4="192.0.2.1 192.0.2.2"
WWW6="2001:db8::1"
