#!/bin/bash
# make bench-updater: the measurements of issue 16 (docs/SCALING.md).
#
#   bench.sh BUILD/examples/aname-updater
#
#   1. scale: 10 000 ALIAS owners over 2 000 targets on a Knot primary
#      (signing off, then on): first --once pass time and UPDATE messages,
#      second pass time and UPDATE messages (must be 0).
#   2. propagation: target change at the upstream -> new address served by
#      an NSD secondary (Knot signing, NOTIFY + IXFR), BENCH_ROUNDS times.
#   3. UPDATE messages per target change (one target behind 5 owners).
#   4. upstream queries per target per TTL with 1 and with 4 secondaries.
#   5. memory: the daemon's peak RSS with 100 000 owners (zone pre-filled,
#      so the pass is the steady state).
# Results go to stdout and to $BENCH_OUT (default build/bench-updater.txt).
set -u
UPD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tests/lib.sh"
trap 'stop_all; rm -rf "$T"' EXIT
OUT=${BENCH_OUT:-build/bench-updater.txt}
ROUNDS=${BENCH_ROUNDS:-5}
PARTS=${BENCH_PARTS:-scale propagation load memory}
UPD_ONCE_TIMEOUT=1800
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
: > "$OUT"
say() { echo "$*" | tee -a "$OUT"; }
say "# bench-updater $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
make_key

# ------------------------------------------------------------ 1. scale
part scale && for signing in off on; do
	gen_zones 10000 2000 0
	UP_ZONE_FILE=$T/up.zone start_upstream
	KNOT_ZONE_FILE=$T/primary.zone start_knot $signing
	ARGS="--server 127.0.0.1@$KNOT_PORT --zone example.test --key $T/key.conf
	      --stub up.test=127.0.0.1@$UP_PORT --rate 1000000 --primary-timeout-ms 60000"
	s0=$(serial_of "$KNOT_PORT" example.test)
	t0=$(ms); upd_once $ARGS; rc=$?; t1=$(ms)
	[ $rc = 0 ] || fail "scale first pass ($signing): status $rc, $(grep -v info: "$T/upd.log" | tail -3) $(cat "$T/state")"
	say "scale signing=$signing owners=10000 targets=2000 first_pass_ms=$(( t1 - t0 )) updates=$(state example.test. pass_updates) zone_versions=$(( $(serial_of "$KNOT_PORT" example.test) - s0 ))"
	t0=$(ms); upd_once $ARGS; rc=$?; t1=$(ms)
	[ $rc = 0 ] || fail "scale second pass: $(tail -3 "$T/upd.log")"
	say "scale signing=$signing owners=10000 targets=2000 second_pass_ms=$(( t1 - t0 )) updates=$(state example.test. pass_updates)"
	stop_all
done

# ------------------------------------------------------------ 2, 3. propagation
if part propagation; then
upd_bench_zone() {
	upstream_zone "$1" "www A 192.0.2.$1" 'www AAAA 2001:db8::1' \
		'v4only A 192.0.2.7' 'gone A 192.0.2.9'
}
UP_ZONE_FILE= start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
SEC_PORT=$(free_port)
KNOT_ZONE_FILE= start_knot on "$SEC_PORT"
start_secondary "$KNOT_PORT"
MPORT=$(free_port)
upd_daemon --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" \
	--stub up.test=127.0.0.1@$UP_PORT --poll 1 --interval 1 --metrics 127.0.0.1@$MPORT
wait_for 20 answers_are "$SEC_PORT" web.example.test A 192.0.2.1 || fail "propagation setup"
updates() { curl -s "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^aname_updater_zone_updates_total{zone="example.test."} //p'; }
lat=""
for r in $(seq 2 $(( ROUNDS + 1 ))); do
	u0=$(updates)
	t0=$(ms)
	upd_bench_zone "$r"; kill -HUP "$UP_PID"
	wait_for 30 answers_are "$SEC_PORT" web.example.test A "192.0.2.$r" || fail "round $r"
	t1=$(ms)
	wait_for 5 answers_are "$SEC_PORT" example.test A "192.0.2.$r" || fail "round $r apex"
	sleep 1 # let the pass that wrote it finish counting
	lat="$lat $(( t1 - t0 ))"
	say "propagation round=$((r - 1)) target_ttl=5 latency_ms=$(( t1 - t0 )) updates_for_change=$(( $(updates) - u0 )) owners_behind_target=2"
done
say "propagation latencies_ms:$lat (bound: target TTL 5 s + 5 s)"
# Hysteresis: nothing changes upstream for a while (many TTLs), so the
# counted-down TTL must cause no UPDATE at all.
u0=$(updates)
sleep "${BENCH_WINDOW_S:-30}"   # a fixed window: the quantity is "none in it"
say "churn window_s=${BENCH_WINDOW_S:-30} target_ttl=5 updates=$(( $(updates) - u0 ))"
stop_all
fi

# ------------------------------------------------------------ 4. upstream load
part load && for nsec in 1 4; do
	UP_ZONE_FILE= start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
		'v4only A 192.0.2.7' 'gone A 192.0.2.9'
	PX=$(free_port)
	python3 "$HERE/countproxy.py" "$PX" "$UP_PORT" "$T/counts" &
	PIDS="$PIDS $!"
	SEC_PORTS=""
	for i in $(seq $nsec); do SEC_PORTS="$SEC_PORTS $(free_port)"; done
	# Knot NOTIFYs every secondary; all transfer from Knot, none resolves
	# targets.
	KNOT_ZONE_FILE= start_knot off "$SEC_PORTS"
	i=0
	for p in $SEC_PORTS; do SEC_INDEX=$i SEC_PORT=$p start_secondary "$KNOT_PORT"; i=$((i+1)); done
	upd_daemon --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" \
		--stub up.test=127.0.0.1@$PX --poll 1 --interval 1
	wait_for 20 answers_are "$KNOT_PORT" web.example.test A 192.0.2.1 || fail "load setup"
	sleep 2
	c0=$(sed -n 's/^total //p' "$T/counts")
	W=${BENCH_WINDOW_S:-30}
	sleep "$W"   # a fixed measuring window: the quantity is queries per time
	c1=$(sed -n 's/^total //p' "$T/counts")
	# 3 distinct targets x 2 types, TTL 5 s.
	per=$(python3 -c "print('%.2f' % (($c1 - $c0) / (3 * 2) / ($W / 5.0)))")
	say "upstream_load secondaries=$nsec window_s=$W queries=$(( c1 - c0 )) targets=3 types=2 ttl_s=5 queries_per_target_type_per_ttl=$per"
	for p in $SEC_PORTS; do
		answers_are "$p" web.example.test A 192.0.2.1 || fail "secondary $p not in sync"
	done
	stop_all
done

# ------------------------------------------------------------ 5. memory
if part memory; then
gen_zones 100000 20000 1
UP_ZONE_FILE=$T/up.zone start_upstream
KNOT_ZONE_FILE=$T/primary.zone start_knot off
upd_daemon --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" \
	--stub up.test=127.0.0.1@$UP_PORT --poll 3600 --interval 5 --primary-timeout-ms 60000
t0=$(ms)
wait_for 300 sh -c "grep -q 'passes=\|ok=100000' $T/state && [ \"\$(sed -n 's/^zone example.test. .*ok=\([0-9]*\) .*/\1/p' $T/state)\" = 100000 ]" ||
	fail "memory: pass never completed: $(tail -3 "$T/updd.log"; cat "$T/state")"
t1=$(ms)
say "memory owners=100000 targets=20000 first_pass_ms=$(( t1 - t0 )) updates=$(state example.test. pass_updates) $(grep -E 'VmHWM|VmRSS' /proc/$UPD_PID/status | tr -s ' \t' ' ' | tr '\n' ' ')"
stop_all
fi
say "# done"
