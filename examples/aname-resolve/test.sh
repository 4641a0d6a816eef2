#!/bin/bash
# Integration tests of aname-resolve against a real nsd on loopback.
#
#   examples/aname-resolve/test.sh [BINARY] [NSD_HARNESS]
#
# The harness (tests/support) starts nsd with the fixture zones and a black
# hole on free 127.0.0.1 ports and stops them when our pipe to its stdin
# closes, i.e. when this script exits in any way.  Prints "N passed, N
# failed" and exits 1 if anything failed.
set -u

BIN=${1:-build/examples/aname-resolve}
HARNESS=${2:-build/tests/nsd-harness}
for f in "$BIN" "$HARNESS"; do
	if [ ! -x "$f" ]; then
		echo "test-cli: $f not built (make $f)" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if ! command -v python3 >/dev/null; then
	echo "test-cli: python3 is needed (deps/support.txt)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

TMP=$(mktemp -d /tmp/aname-cli-test.XXXXXX)
HPID=
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$HPID" ] && wait "$HPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkfifo "$TMP/ctl"
"$HARNESS" --nsd --blackhole --closed <"$TMP/ctl" >"$TMP/ports" &
HPID=$!
exec 3>"$TMP/ctl"
# Readiness is the harness's "ready" line (it waited for nsd's SOA answer).
for _ in $(seq 1 1000); do
	grep -q '^ready$' "$TMP/ports" 2>/dev/null && break
	kill -0 "$HPID" 2>/dev/null || break
	sleep 0.01
done
if ! grep -q '^ready$' "$TMP/ports"; then
	echo "test-cli: could not start nsd / black hole" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
NSD=$(sed -n 's/^nsd=//p' "$TMP/ports")
BH=$(sed -n 's/^blackhole=//p' "$TMP/ports")
CLOSED=$(sed -n 's/^closed=//p' "$TMP/ports")
echo "test-cli: nsd on 127.0.0.1@$NSD (ready in $(sed -n 's/^nsd_start_ms=//p' "$TMP/ports") ms), black hole on @$BH"

PASS=0
FAIL=0
# Stub mode is how hosts usually reach authoritative data; the guard stub
# for the root points at a closed port so that nothing ever leaves loopback.
UP=(--stub "example.test=127.0.0.1@$NSD" --stub "other.test=127.0.0.1@$NSD"
    --stub ".=127.0.0.1@$CLOSED")
FWD=(--forward "127.0.0.1@$NSD")
TAB=$'\t'

now_ms() { date +%s%3N; }

# run ARGS...: runs the CLI, sets OUT, ERR, RC, MS.
run() {
	local t0
	t0=$(now_ms)
	"$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	MS=$(($(now_ms) - t0))
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

ok() { PASS=$((PASS + 1)); echo "ok   $1 (${MS:-0} ms)"; }
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL $1"
	echo "     rc=$RC (${MS} ms)"
	sed 's/^/     stdout: /' "$TMP/out"
	sed 's/^/     stderr: /' "$TMP/err"
}

# check NAME CONDITION...: the condition is a command run with eval.
check() {
	local name=$1
	shift
	if eval "$@"; then ok "$name"; else bad "$name"; fi
}

lines() { [ -z "$OUT" ] && echo 0 || printf '%s\n' "$OUT" | wc -l; }
errlines() { [ -z "$ERR" ] && echo 0 || printf '%s\n' "$ERR" | wc -l; }

# ------------------------------------------------------------ answers
run "${UP[@]}" www.example.test
check "A records, alias TTL above the target TTL" \
	'[ $RC -eq 0 ] && [ "$OUT" = "www.example.test.${TAB}300${TAB}IN${TAB}A${TAB}192.0.2.1
www.example.test.${TAB}300${TAB}IN${TAB}A${TAB}192.0.2.2" ] && [ -z "$ERR" ]'

run "${UP[@]}" --type AAAA www.example.test.
check "AAAA record" \
	'[ $RC -eq 0 ] && [ "$OUT" = "www.example.test.${TAB}300${TAB}IN${TAB}AAAA${TAB}2001:db8::1" ]'

run "${UP[@]}" --type both --owner alias.test. --alias-ttl 120 www.example.test
check "both types at another owner, alias TTL 120 wins" \
	'[ $RC -eq 0 ] && [ "$(lines)" -eq 3 ] &&
	 [ "$(printf "%s\n" "$OUT" | grep -c "^alias.test.${TAB}120${TAB}IN${TAB}A${TAB}192.0.2.[12]$")" -eq 2 ] &&
	 printf "%s\n" "$OUT" | grep -q "^alias.test.${TAB}120${TAB}IN${TAB}AAAA${TAB}2001:db8::1$"'

run "${UP[@]}" --type BoTh www.example.test
check "--type is case-insensitive" '[ $RC -eq 0 ] && [ "$(lines)" -eq 3 ]'

run "${UP[@]}" --owner a2.alias.test --alias-ttl 60 c1.example.test
check "CNAME chain: TTL is the minimum along the chain (50)" \
	'[ $RC -eq 0 ] && [ "$(lines)" -eq 2 ] &&
	 [ "$(printf "%s\n" "$OUT" | cut -f1,2 | sort -u)" = "a2.alias.test.${TAB}50" ]'

run "${UP[@]}" --alias-ttl 10 c1.example.test
check "CNAME chain: a smaller alias TTL wins (10)" \
	'[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | cut -f2 | sort -u)" = "10" ]'

run "${UP[@]}" ext.example.test
check "cross-zone CNAME to other.test" \
	'[ $RC -eq 0 ] && [ "$OUT" = "ext.example.test.${TAB}30${TAB}IN${TAB}A${TAB}198.51.100.7" ]'

run "${UP[@]}" big.example.test
check "100 A records (TC, then TCP)" \
	'[ $RC -eq 0 ] && [ "$(lines)" -eq 100 ]'

run "${UP[@]}" www.example.test ext.example.test c1.example.test v6only.example.test short.example.test
check "several targets at once, printed in argument order, exit 1 for the empty one" \
	'[ $RC -eq 1 ] && [ "$(printf "%s\n" "$OUT" | cut -f1 | uniq | tr "\n" " ")" = "www.example.test. ext.example.test. c1.example.test. short.example.test. " ] &&
	 [ "$(errlines)" -eq 1 ] && printf "%s" "$ERR" | grep -q "v6only.example.test.*nodata"'

# ------------------------------------------------------------ empty answers
run "${UP[@]}" nodata.example.test
check "NODATA: exit 1, nothing on stdout, one line on stderr" \
	'[ $RC -eq 1 ] && [ -z "$OUT" ] && [ "$(errlines)" -eq 1 ] && printf "%s" "$ERR" | grep -q nodata'

run "${UP[@]}" nothere.example.test
check "NXDOMAIN: exit 1" \
	'[ $RC -eq 1 ] && [ -z "$OUT" ] && printf "%s" "$ERR" | grep -q nxdomain'

run "${UP[@]}" dangling.example.test
check "CNAME to a missing name: exit 1 (NXDOMAIN)" \
	'[ $RC -eq 1 ] && printf "%s" "$ERR" | grep -q nxdomain'

run "${UP[@]}" www.example.test nodata.example.test
check "one target with data, one without: exit 1" \
	'[ $RC -eq 1 ] && [ "$(lines)" -eq 2 ]'

# ------------------------------------------------------------ failures
run "${UP[@]}" l1.example.test
check "chain of 10 CNAMEs (limit 8): exit 2" \
	'[ $RC -eq 2 ] && [ -z "$OUT" ] && [ "$(errlines)" -eq 1 ] && printf "%s" "$ERR" | grep -q "l1.example.test"'

run "${UP[@]}" --timeout-ms 2000 loop1.example.test
check "CNAME loop: exit 2" '[ $RC -eq 2 ] && [ "$(errlines)" -eq 1 ]'

run "${UP[@]}" www.example.test loop1.example.test nodata.example.test
check "a failure wins over an empty answer: exit 2" \
	'[ $RC -eq 2 ] && [ "$(lines)" -eq 2 ] && [ "$(errlines)" -eq 2 ]'

BHUP=(--stub "example.test=127.0.0.1@$BH" --stub "other.test=127.0.0.1@$BH"
      --stub ".=127.0.0.1@$CLOSED")
run "${BHUP[@]}" --timeout-ms 300 www.example.test
check "black hole: exit 2 within timeout + 500 ms" \
	'[ $RC -eq 2 ] && [ "$MS" -lt 800 ] && printf "%s" "$ERR" | grep -q ETIMEDOUT'

run "${BHUP[@]}" --timeout-ms 300 www.example.test c1.example.test ext.example.test
check "black hole, three targets: all time out together within 800 ms" \
	'[ $RC -eq 2 ] && [ "$MS" -lt 800 ] && [ "$(errlines)" -eq 3 ]'

# ------------------------------------------------------------ forward mode
run "${FWD[@]}" --type both www.example.test ext.example.test
check "forwarder: answers come from the forwarder" \
	'[ $RC -eq 0 ] && [ "$(lines)" -eq 4 ]'

run "${FWD[@]}" nothere.example.test
check "forwarder: NXDOMAIN from the forwarder" \
	'[ $RC -eq 1 ] && printf "%s" "$ERR" | grep -q nxdomain'

run --forward "127.0.0.1@$BH" --timeout-ms 300 www.example.test
check "forwarder is a black hole: exit 2 within timeout + 500 ms" \
	'[ $RC -eq 2 ] && [ "$MS" -lt 800 ] && printf "%s" "$ERR" | grep -q ETIMEDOUT'

# ------------------------------------------------------------ JSON
run "${UP[@]}" --json --type both --alias-ttl 100 www.example.test nodata.example.test nothere.example.test
printf '%s\n' "$OUT" >"$TMP/json"
check "JSON is valid (python3 -m json.tool)" \
	'[ $RC -eq 1 ] && python3 -m json.tool "$TMP/json" >/dev/null'
check "JSON fields" python3 - "$TMP/json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and len(d) == 3, d
w, n, x = d
assert w["target"] == "www.example.test." and w["owner"] == "www.example.test", w
assert w["status"] == "ANAME_OK" and w["result"] == "answer" and w["rcode"] == 0, w
assert w["ttl"] == 100 and w["stale"] is False and w["secure"] is False, w
recs = sorted((r["type"], r["address"], r["ttl"]) for r in w["records"])
assert recs == [("A", "192.0.2.1", 100), ("A", "192.0.2.2", 100),
                ("AAAA", "2001:db8::1", 100)], recs
assert n["result"] == "nodata" and n["rcode"] == 0 and n["records"] == [], n
assert 290 <= n["ttl"] <= 300, n  # the target's negative TTL (SOA minimum 300)
assert x["result"] == "nxdomain" and x["rcode"] == 3 and x["records"] == [], x
EOF

run "${BHUP[@]}" --timeout-ms 100 --json www.example.test
printf '%s\n' "$OUT" >"$TMP/json"
check "JSON for a timeout" python3 - "$TMP/json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["status"] == "ANAME_ETIMEDOUT", d
assert d[0]["result"] == "error" and d[0]["rcode"] is None and d[0]["error"], d
EOF

# ------------------------------------------------------------ usage errors
usage_case() {
	local name=$1
	shift
	run "$@"
	check "usage: $name -> 64, one line on stderr" \
		'[ $RC -eq 64 ] && [ -z "$OUT" ] && [ "$(errlines)" -eq 1 ]'
}
usage_case "no target" "${UP[@]}"
usage_case "unknown option" --bogus www.example.test
usage_case "missing option value" www.example.test --forward
usage_case "bad forwarder address" --forward 300.1.1.1 www.example.test
usage_case "bad forwarder port" --forward 127.0.0.1@99999 www.example.test
usage_case "forwarder is a name" --forward localhost www.example.test
usage_case "stub without =" --stub example.test www.example.test
usage_case "stub with bad zone" --stub "a..b=127.0.0.1" www.example.test
usage_case "stub with bad address" --stub "example.test=nowhere" www.example.test
usage_case "bad type" "${UP[@]}" --type MX www.example.test
usage_case "timeout too small" "${UP[@]}" --timeout-ms 5 www.example.test
usage_case "timeout not a number" "${UP[@]}" --timeout-ms 10x www.example.test
usage_case "negative alias TTL" "${UP[@]}" --alias-ttl -1 www.example.test
usage_case "alias TTL above 2^31-1" "${UP[@]}" --alias-ttl 2147483648 www.example.test
usage_case "bad owner" "${UP[@]}" --owner 'a..b' www.example.test
usage_case "empty label in target" "${UP[@]}" www..example.test
usage_case "label over 63 octets" "${FWD[@]}" "$(printf 'a%.0s' $(seq 64)).example.test"
usage_case "bad target among good ones" "${UP[@]}" www.example.test 'bad\999.test'
check "usage: the reason names the library error" \
	'printf "%s" "$ERR" | grep -q "bad.999.test"'

run --help
check "--help: exit 0, synopsis on stdout" '[ $RC -eq 0 ] && printf "%s" "$OUT" | grep -q "usage: aname-resolve"'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
