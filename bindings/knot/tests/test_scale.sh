#!/bin/sh
# test-knot, scale part (issue 15 items 1 and 2): a zone whose file holds
# 5 000 non-apex ALIAS (TYPE65401) owners, each with its own target, and a
# secondary zone with the same owners that knotd transfers from nsd (no
# file at load).  Every owner must answer its target's address, on Knot 3.2
# (where only the zone-file scan knows these owners) and on 3.4.  Then
# "knotc zone-reload" must keep them.
#
# Asserts the 3 s goal (SCALE_GOAL_MS) from the start of knotd, for both
# zones.  The times are printed and, with SCALE_REPORT=FILE, written there
# ("big MS", "sec MS", ... lines) for bench_scale.sh, which reports the
# median of several runs.  SCALE_DEADLINE_MS (default 20 s) bounds the
# sweeps of owners that never answer.
#
#   sh bindings/knot/tests/test_scale.sh [BUILD_DIR]
set -u

B=${1:-build}
N=${SCALE_OWNERS:-5000}
DEADLINE=${SCALE_DEADLINE_MS:-20000}
before_servers() {
	{
		printf '$ORIGIN scale.test.\n$TTL 300\n'
		printf '@ IN SOA ns1 h 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n'
		i=0
		while [ $i -lt "$N" ]; do
			printf 't%d IN A 198.51.%d.%d\n' $i $((i / 250)) $((i % 250 + 1))
			i=$((i + 1))
		done
	} > "$T/scale.test.zone"
	# owner o$i -> t$i.scale.test.: rdata \# LEN (label t$i)(label scale)(label test)(0)
	awk -v n="$N" 'function hexs(s,  i, o) { o = ""; for (i = 1; i <= length(s); i++) o = o sprintf("%02x", ord[substr(s, i, 1)]); return o }
		BEGIN {
			for (c = 0; c < 256; c++) ord[sprintf("%c", c)] = c
			print "$ORIGIN big.test.\n$TTL 300"
			print "@ IN SOA ns1 h 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 192.0.2.53"
			for (i = 0; i < n; i++) {
				l = "t" i
				w = sprintf("%02x", length(l)) hexs(l) "057363616c65047465737400"
				printf "o%d IN TYPE65401 \\# %d %s\n", i, length(w) / 2, w
			}
		}' > "$T/zones/big.test.zone"
	# The same owners in sec.test, which knotd gets from nsd by AXFR: no
	# zone file exists when the module loads (issue 15 item 1, "what a
	# PowerDNS primary sends a Knot secondary").
	sed -e 's/^\$ORIGIN big.test./$ORIGIN sec.test./' "$T/zones/big.test.zone" \
		> "$T/nsd/sec.test.zone"
	NSD_EXTRA_ZONES="zone:
	name: scale.test
	zonefile: \"$T/scale.test.zone\"
zone:
	name: sec.test
	zonefile: \"$T/nsd/sec.test.zone\"
	provide-xfr: 127.0.0.1 NOKEY"
	KNOT_EXTRA_ZONES="  - domain: big.test
    file: \"$T/zones/big.test.zone\"
    module: mod-aname/zonedata
  - domain: sec.test
    file: \"$T/zones/sec.test.zone\"
    master: nsd
    module: mod-aname/zonedata"
}
knot_extra_stubs() { printf '"scale.test=127.0.0.1@%s", ' "$NSD_PORT"; }
. "$(pwd)/bindings/knot/tests/setup.sh"

# answering: how many of the N owners answer their own address now.
# kdig takes many queries per run; 500 per run keeps argv small.
answering() { # answering [ZONE]
	z=${1:-big.test}
	i=0
	: > "$T/scale.$z.out"
	while [ $i -lt "$N" ]; do
		set --
		j=$i
		while [ $j -lt $((i + 500)) ] && [ $j -lt "$N" ]; do
			set -- "$@" "o$j.$z" A
			j=$((j + 1))
		done
		kdig @127.0.0.1 -p "$KNOT_PORT" +retry=0 +timeout=2 +norec +noall +answer "$@" >>"$T/scale.$z.out" 2>&1
		set -- "$z"
		i=$j
	done
	awk '$4 == "A" { split($1, o, "."); split($5, a, "."); if (o[1] == "o" (a[3] * 250 + a[4] - 1)) n++ } END { print n + 0 }' "$T/scale.$z.out"
}
all_answer() { [ "$(answering)" -eq "$N" ]; }

# Both zones at once, each by its own sweep (tests/sweep.c: UDP, 64
# queries in flight, each pass asking only the owners that have not answered
# yet, then a last pass over all N).  Times are from the start of knotd
# (KNOT_START, before zones and modules load: "within 3 s of load" is at
# most this), so they include knotd's start-up, the zone load, the module's
# scan and registration and the resolutions.  sec.test comes from nsd by
# AXFR, so no zone file exists when the module loads; its watcher finds the
# file knotd writes after the transfer.
"$TOOLS/sweep" "$KNOT_PORT" big.test "$N" "$KNOT_START" "$DEADLINE" > "$T/sweep.big" 2>&1 &
SW1=$!
"$TOOLS/sweep" "$KNOT_PORT" sec.test "$N" "$KNOT_START" "$DEADLINE" > "$T/sweep.sec" 2>&1 &
SW2=$!
PIDS="$PIDS $SW1 $SW2"
wait "$SW1" "$SW2"
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
t_big=$(field "$T/sweep.big" all)
t_sec=$(field "$T/sweep.sec" all)
echo "big.test: $(cat "$T/sweep.big")"
echo "sec.test: $(cat "$T/sweep.sec")"
echo "knotd start to answering: $((READY - KNOT_START)) ms"
# The module copies the library's counters in at most once a second, on an
# ALIAS query: ask until the count covers both types of every target.
queries() {
	$KNOTC zone-stats big.test 2>/dev/null |
		sed -n 's/.*mod-aname\.resolver-queries *= *\([0-9]*\).*/\1/p' | head -n 1
}
queries_counted() { ask o0.big.test A >/dev/null; [ "$(queries)" -ge $((2 * N)) ]; }
wait_for 3000 queries_counted
q=$(queries)
echo "upstream queries (library-wide, all zones): ${q:-none}, per target: $(awk -v q="${q:-0}" -v n="$N" 'BEGIN { printf "%.2f", q / n }')"
if [ -n "${SCALE_REPORT:-}" ]; then
	printf 'big %s\nsec %s\nready %s\nqueries %s\nbigline %s\nsecline %s\n' "${t_big:-late}" "${t_sec:-late}" \
		"$((READY - KNOT_START))" "${q:-0}" "$(cat "$T/sweep.big")" "$(cat "$T/sweep.sec")" > "$SCALE_REPORT"
fi
# Issue 15: all owners within 3 s.  The goal is asserted as such; the
# README gives the measured times and the margin they leave.
GOAL=${SCALE_GOAL_MS:-3000}
in_time() { [ -n "$1" ] && [ "$1" -le "$GOAL" ]; }
check "all $N zone-file ALIAS owners of big.test answer within $GOAL ms of knotd's start (${t_big:-late} ms)" in_time "$t_big"
check "secondary sec.test (AXFR, no file at load): all $N owners answer within $GOAL ms of knotd's start (${t_sec:-late} ms)" in_time "$t_sec"
again_ok() { [ "$(field "$1" again)" = "$N" ]; }
check "big.test: the last pass over all $N owners got all right answers" again_ok "$T/sweep.big"
check "sec.test: the last pass over all $N owners got all right answers" again_ok "$T/sweep.sec"
check "at most 2.05 upstream queries per target (A and AAAA; ${q:-none} for $N)" \
	awk -v q="${q:-999999}" -v n="$N" 'BEGIN { exit !(q <= 2.05 * n + 40) }'
check "module log: the transferred zone file was found and registered" \
	grep -q "sec.test.*zone file .* appeared: $N ALIAS owners registered" "$T/knot.log"
grep 'big.test.*ALIAS owners in total' "$T/knot.log" | tail -n 1
check "module log: $N owners registered" grep -q "big.test.*, $N ALIAS owners in total registered" "$T/knot.log"

$KNOTC zone-reload big.test >"$T/reload.out" 2>&1
check "knotc zone-reload big.test" [ $? -eq 0 ]
wait_for 5000 sh -c "[ \$(grep -c 'big.test.*ALIAS owners in total' '$T/knot.log') -ge 2 ]"
got=$(answering)
check "after the reload all $N owners still answer ($got)" [ "$got" -eq "$N" ]
check "knotd did not crash" kill -0 "$KNOT_PID"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
