#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of the installed programs, against a real nsd on loopback:
#   - aname-server answers the ALIAS at alias.test with www.example.test's
#     addresses (served by nsd);
#   - aname-resolverd answers www.example.test A the same way;
#   - aname-resolve (the CLI) and, when importable, the Python package
#     resolve it too;
#   - each daemon's /metrics is saved to OUT/NAME.metrics and checked for
#     the conventions of docs/RUNBOOK.md (health state set, build info,
#     seconds), and with promtool when it is installed.
# Runs on the build tree (make check-metrics) and inside the clean Debian
# chroot with the packages installed (make deb-smoke).  Needs nsd, drill
# (ldnsutils) and python3.  Every server it starts is stopped by PID.
#
# Usage: distro/smoke.sh ZONEDIR OUTDIR
#   ANAME_SERVER, ANAME_RESOLVERD, ANAME_RESOLVE: the programs (default:
#   found in PATH); SMOKE_PYTHON=1: also require "import aname" to work;
#   SMOKE_KNOT=1: also knotd with the installed mod-aname; SMOKE_UNIT=1:
#   also the installed unit's ExecStart=, as nobody, and its SIGHUP reload.
set -eu
zones=$1 out=$2
SERVER=${ANAME_SERVER:-$(command -v aname-server || echo /usr/sbin/aname-server)}
RESOLVERD=${ANAME_RESOLVERD:-$(command -v aname-resolverd || echo /usr/sbin/aname-resolverd)}
RESOLVE=${ANAME_RESOLVE:-$(command -v aname-resolve || echo /usr/bin/aname-resolve)}
NSD=${NSD:-/usr/sbin/nsd}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/aname-smoke.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "smoke: FAILED: $*" >&2; for f in "$tmp"/*.log; do [ -s "$f" ] && sed "s|^|$(basename "$f"): |" "$f" >&2; done; exit 1; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# until SECONDS CMD...: run CMD until it succeeds, at most SECONDS.
until_ok() {
	limit=$(( $(date +%s) + $1 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$limit" ] || return 1
		sleep 0.05
	done
}

# answers PORT NAME TYPE: the RDATA of the answer section's TYPE records,
# one per line (an ALIAS owner's answer also carries the ALIAS record).
answers() {
	drill -p "$1" "$2" "$3" @127.0.0.1 2>/dev/null |
		awk -v t="$3" '/^;; ANSWER SECTION/ {a = 1; next} /^;; / {a = 0}
			a && NF >= 5 && $4 == t {print $5}' | sort
}

expect_www() {
	got=$(answers "$1" "$2" A | tr '\n' ' ')
	[ "$got" = "192.0.2.1 192.0.2.2 " ] || fail "$3: $2 A gave '$got', want 192.0.2.1 192.0.2.2"
	echo "smoke: $3 answers $2 A with $got"
}

metrics() {  # metrics NAME PORT
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$2" > "$out/$1.metrics" ||
		fail "$1: GET /metrics"
	m=$out/$1.metrics
	[ "$(grep -c '^aname_health{level="[a-z]*"} [01]$' "$m")" -eq 3 ] || fail "$1: aname_health is not a 3-level state set"
	[ "$(grep -c '^aname_health{level="[a-z]*"} 1$' "$m")" -eq 1 ] || fail "$1: not exactly one health level is 1"
	grep -q '^aname_build_info{version="[0-9][0-9.]*"} 1$' "$m" || fail "$1: no aname_build_info{version}"
	grep -q '^aname_oldest_inflight_seconds ' "$m" || fail "$1: no aname_oldest_inflight_seconds"
	! grep -Eq '^aname[a-z_]*_ms[ {]' "$m" || fail "$1: a metric in milliseconds: $(grep -E '^aname[a-z_]*_ms[ {]' "$m")"
	if command -v promtool >/dev/null; then
		promtool check metrics < "$m" || fail "$1: promtool check metrics"
		echo "smoke: $1 /metrics: promtool clean, $(grep -vc '^#' "$m") samples"
	else
		echo "smoke: $1 /metrics saved to $m (no promtool here)"
	fi
}

# nsd serves the fixture zone example.test; nothing else leaves loopback.
np=$(free_port)
cat > "$tmp/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$np
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$tmp"
	database: ""
	zonelistfile: "$tmp/zone.list"
	xfrdfile: "$tmp/xfrd.state"
	xfrdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	logfile: "$tmp/nsd.log"
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: "$zones/example.test.zone"
EOF
"$NSD" -d -c "$tmp/nsd.conf" >"$tmp/nsd.log" 2>&1 &
pids="$pids $!"
until_ok 10 sh -c "drill -p $np example.test SOA @127.0.0.1 | grep -q 'rcode: NOERROR'" || fail "nsd did not answer"
expect_www "$np" www.example.test nsd
closed=$(free_port)   # the root goes here: nothing answers, nothing leaks
stubs="--stub example.test=127.0.0.1@$np --stub .=127.0.0.1@$closed"

# aname-server with the ALIAS zone.
sp=$(free_port) smp=$(free_port)
# shellcheck disable=SC2086
"$SERVER" --listen "127.0.0.1@$sp" --zone "$zones/alias.test.zone" $stubs \
	--metrics "127.0.0.1@$smp" >"$tmp/aname-server.log" 2>&1 &
pids="$pids $!"
until_ok 10 sh -c "drill -p $sp alias.test SOA @127.0.0.1 | grep -q 'rcode: NOERROR'" || fail "aname-server did not answer"
expect_www "$sp" alias.test aname-server
metrics aname-server "$smp"

# aname-resolverd flattens www.example.test.
rp=$(free_port) rmp=$(free_port)
# shellcheck disable=SC2086
"$RESOLVERD" --listen "127.0.0.1@$rp" $stubs --metrics "127.0.0.1@$rmp" \
	>"$tmp/aname-resolverd.log" 2>&1 &
pids="$pids $!"
until_ok 10 sh -c "drill -p $rp www.example.test A @127.0.0.1 | grep -q '192\.0\.2\.1$'" || fail "aname-resolverd did not answer"
expect_www "$rp" www.example.test aname-resolverd
metrics aname-resolverd "$rmp"

# The CLI.
# shellcheck disable=SC2086
cli=$("$RESOLVE" $stubs --owner alias.test. --alias-ttl 120 www.example.test 2>&1) || fail "aname-resolve: $cli"
echo "$cli" | grep -q '192\.0\.2\.1' || fail "aname-resolve printed: $cli"
echo "smoke: aname-resolve synthesized $(echo "$cli" | grep -c 'IN') records"

# The packaged unit's own command line and config file format, as far as a
# chroot without systemd allows: ExecStart= as written (its --config file
# with test ports, a zone and loopback stubs added), as an unprivileged
# user like DynamicUser=, then ExecReload='s SIGHUP while it serves.
if [ "${SMOKE_UNIT:-0}" = 1 ]; then
	unit=/lib/systemd/system/aname-server.service
	[ -f "$unit" ] || fail "$unit not installed"
	cmd=$(sed -n 's/^ExecStart=//p' "$unit")
	conf=$(echo "$cmd" | sed -n 's/.* --config \([^ ]*\).*/\1/p')
	[ -f "$conf" ] || fail "the unit's config $conf is not installed"
	grep -q '^ExecReload=kill -HUP \$MAINPID$' "$unit" || fail "$unit: no ExecReload=kill -HUP"
	up=$(free_port) ump=$(free_port)
	chmod 755 "$tmp"   # nobody must reach the config below
	mkdir -m 755 "$tmp/unit"
	sed -e "s|^listen .*|listen 127.0.0.1@$up|" -e "s|^metrics .*|metrics 127.0.0.1@$ump|" \
		"$conf" > "$tmp/unit/aname-server.conf"
	printf 'zone %s\nstub example.test=127.0.0.1@%s\nstub .=127.0.0.1@%s\n' \
		"$zones/alias.test.zone" "$np" "$closed" >> "$tmp/unit/aname-server.conf"
	chmod 644 "$tmp/unit/aname-server.conf"
	# shellcheck disable=SC2086
	setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
		$(echo "$cmd" | sed "s| --config [^ ]*| --config $tmp/unit/aname-server.conf|") \
		>"$tmp/aname-server-unit.log" 2>&1 &
	upid=$!
	pids="$pids $upid"
	until_ok 10 sh -c "drill -p $up alias.test SOA @127.0.0.1 | grep -q 'rcode: NOERROR'" ||
		fail "aname-server started as the unit's ExecStart did not answer"
	expect_www "$up" alias.test "unit ExecStart (as nobody)"
	kill -HUP "$upid"
	until_ok 10 grep -q 'reloaded' "$tmp/aname-server-unit.log" ||
		fail "no reload logged after SIGHUP"
	kill -0 "$upid" || fail "aname-server died on SIGHUP"
	metrics aname-server-unit "$ump"
	expect_www "$up" alias.test "unit after SIGHUP ($(grep reloaded "$tmp/aname-server-unit.log" | tail -n 1))"
fi

# Knot with the packaged module, loaded from knotd's module directory (no
# "module:" section: the package puts mod_aname.so where knotd looks).
if [ "${SMOKE_KNOT:-0}" = 1 ]; then
	kp=$(free_port)
	mkdir -p "$tmp/knot/run" "$tmp/knot/db" "$tmp/knot/zones"
	cat > "$tmp/knot/zones/knot.test.zone" <<'EOF'
$ORIGIN knot.test.
$TTL 300
@	300	IN	SOA	ns1.knot.test. hostmaster.knot.test. 1 3600 900 604800 300
@	300	IN	NS	ns1
ns1	300	IN	A	192.0.2.53
; PowerDNS's ALIAS type in RFC 3597 form: www.example.test. (18 octets)
@	300	IN	TYPE65401	\# 18 03777777076578616d706c65047465737400
EOF
	cat > "$tmp/knot/knot.conf" <<EOF
server:
    rundir: "$tmp/knot/run"
    listen: 127.0.0.1@$kp
database:
    storage: "$tmp/knot/db"
mod-aname:
  - id: default
    stub: [ "example.test=127.0.0.1@$np", ".=127.0.0.1@$closed" ]
template:
  - id: default
    storage: "$tmp/knot/zones"
zone:
  - domain: knot.test
    file: "$tmp/knot/zones/knot.test.zone"
    module: mod-aname/default
EOF
	knotd -c "$tmp/knot/knot.conf" >"$tmp/knotd.log" 2>&1 &
	pids="$pids $!"
	# The module answers from its cache only: the first queries start the
	# background resolution, then the ALIAS is answered.
	until_ok 10 sh -c "drill -p $kp knot.test A @127.0.0.1 | grep -q '192\.0\.2\.2$'" ||
		fail "knotd with the packaged mod-aname did not answer the ALIAS"
	expect_www "$kp" knot.test "knotd + mod-aname"
fi

# The Python package, where it is installed.
if [ "${SMOKE_PYTHON:-0}" = 1 ]; then
	py=$(python3 - "$np" "$closed" <<'EOF'
import sys, aname
with aname.Resolver(stubs={"example.test.": "127.0.0.1@" + sys.argv[1],
                           ".": "127.0.0.1@" + sys.argv[2]}, timeout=2) as r:
    print(" ".join(sorted(r.resolve("www.example.test.", "A").addresses)))
EOF
) || fail "python3 -c 'import aname': $py"
	[ "$py" = "192.0.2.1 192.0.2.2" ] || fail "python3 aname resolved '$py'"
	echo "smoke: python3 aname $(python3 -c 'import aname; print(aname.__version__)') resolves $py"
fi
echo "smoke: ok"
