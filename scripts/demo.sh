#!/bin/bash
# Offline demo of libaname: a real nsd on a loopback high port serves the
# fixture zones (tests/fixtures/zones), and aname-resolve shows what an
# authoritative server would synthesize for ALIAS records pointing there.
# Run by "make demo" from the top directory; needs no network.
set -eu
cd "$(dirname "$0")/.."

B=${B:-build}
MAKE=${MAKE:-make}
BIN=$B/examples/aname-resolve
HARNESS=$B/tests/nsd-harness

if [ "$(id -u)" -eq 0 ]; then
	scripts/deps.sh deps/core.txt deps/test.txt deps/support.txt
fi
echo "== building the library, the CLI and the nsd harness"
$MAKE -s B="$B" "$BIN" "$HARNESS" >/dev/null

TMP=$(mktemp -d /tmp/aname-demo.XXXXXX)
HPID=
cleanup() {
	exec 3>&- 2>/dev/null || true
	[ -n "$HPID" ] && wait "$HPID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The harness starts nsd (own temp dir, free port, waits for a SOA answer)
# and a black hole, and stops both when our pipe to its stdin closes.
mkfifo "$TMP/ctl"
"$HARNESS" --nsd --blackhole --closed <"$TMP/ctl" >"$TMP/ports" &
HPID=$!
exec 3>"$TMP/ctl"
for _ in $(seq 1 1000); do
	grep -q '^ready$' "$TMP/ports" 2>/dev/null && break
	kill -0 "$HPID" 2>/dev/null || break
	sleep 0.01
done
grep -q '^ready$' "$TMP/ports" || { echo "demo: nsd did not start" >&2; exit 1; }
NSD=$(sed -n 's/^nsd=//p' "$TMP/ports")
BH=$(sed -n 's/^blackhole=//p' "$TMP/ports")
CLOSED=$(sed -n 's/^closed=//p' "$TMP/ports")
echo "== nsd serves example.test and other.test on 127.0.0.1@$NSD" \
     "(ready in $(sed -n 's/^nsd_start_ms=//p' "$TMP/ports") ms)"

step() {
	local text=$1
	shift
	echo
	echo "-- $text"
	local shown="$*"
	echo "\$ aname-resolve ${shown/"$F"/\$UP}"
	local rc=0
	"$BIN" "$@" 2>"$TMP/err" || rc=$?
	sed 's/^/stderr: /' "$TMP/err"
	echo "(exit status $rc)"
}

# Stub zones send example.test and other.test to nsd; the stub for the root
# points at a closed port, so nothing can leave the machine.
F="--stub example.test=127.0.0.1@$NSD --stub other.test=127.0.0.1@$NSD --stub .=127.0.0.1@$CLOSED"
echo "== every command below uses: $F"
echo "   (shown as \$UP)"
# shellcheck disable=SC2086
{
step "The zone alias.test has '@ 120 IN ALIAS www.example.test.'.  www has two A
   records (TTL 300), so the apex gets both, with TTL min(120, 300) = 120:" \
	$F --owner alias.test. --alias-ttl 120 www.example.test
step "Both address families at once (A and AAAA):" \
	$F --owner alias.test. --alias-ttl 120 --type both www.example.test
step "Target behind a CNAME chain c1 (TTL 1000) -> c2 (50) -> c3 (2000) -> www:
   the synthesized TTL is the smallest on the whole chain, 50, not 120:" \
	$F --owner alias.test. --alias-ttl 120 c1.example.test
step "A target that exists but has no address records (NODATA): nothing to
   synthesize, the server answers NODATA; exit status 1:" \
	$F --owner alias.test. --alias-ttl 120 nodata.example.test
step "A target that does not exist (NXDOMAIN): also NODATA at the ALIAS owner:" \
	$F --owner alias.test. --alias-ttl 120 nothere.example.test
step "The same four targets, resolved concurrently, as JSON:" \
	$F --owner alias.test. --alias-ttl 120 --json www.example.test c1.example.test nodata.example.test nothere.example.test
step "An upstream that never answers (a black hole on @$BH): the library
   gives up at the deadline (300 ms) instead of blocking; exit status 2:" \
	--stub example.test=127.0.0.1@$BH --stub .=127.0.0.1@$CLOSED --timeout-ms 300 --owner alias.test. www.example.test
}
echo
echo "== stopping nsd"
