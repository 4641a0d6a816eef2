# Knot 3.2 primary signing the zone itself (dnssec-signing: on), NSD as its
# secondary by NOTIFY + IXFR.  The issue's Knot test list, in order.
make_key
start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
SEC_PORT=$(free_port)
start_knot on "$SEC_PORT"
start_secondary "$KNOT_PORT"
ARGS="--server 127.0.0.1@$KNOT_PORT --zone example.test --key $T/key.conf
      --stub up.test=127.0.0.1@$UP_PORT"

# First pass: every ALIAS owner gets its siblings; --once says up to date.
upd_once $ARGS || fail "first --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 4 ] ||
	fail "first pass sent $(state example.test. pass_updates) UPDATEs, want 4 (one per owner)"
answers_are "$KNOT_PORT" web.example.test A 192.0.2.1 || fail "web A on knot"
answers_are "$KNOT_PORT" example.test AAAA 2001:db8::1 || fail "apex AAAA on knot"
answers_are "$KNOT_PORT" v4.example.test AAAA "" || fail "v4 has no AAAA"
answers_are "$KNOT_PORT" static.example.test A 198.51.100.1 || fail "static A touched"
[ "$(ask_ttl "$KNOT_PORT" web.example.test A)" = 5 ] ||
	fail "web A TTL $(ask_ttl "$KNOT_PORT" web.example.test A), want min(60, 5)"
note "first pass: 4 UPDATEs, siblings on the primary"

# They reach the secondary by IXFR, signed by Knot.
wait_for 15 answers_are "$SEC_PORT" web.example.test A 192.0.2.1 ||
	fail "secondary never served web A: $(tail -5 "$SEC_DIR/nsd.log")"
wait_for 15 sh -c "[ \"\$(dig -p $SEC_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" = \"\$(dig -p $KNOT_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" ]" ||
	fail "secondary behind the primary"
grep -q 'IXFR' "$KNOT_DIR/knot.log" || fail "no IXFR to the secondary in knot.log"
zone_verifies "$SEC_PORT" example.test || fail "RRSIGs on the secondary: $(cat "$T/verify.out")"
dig -p "$SEC_PORT" @127.0.0.1 +dnssec +norec web.example.test A | grep -q 'RRSIG.*A 13' ||
	fail "no RRSIG over web A on the secondary"
note "secondary serves the siblings; ldns-verify-zone: $(tail -1 "$T/verify.out")"

# Nothing changed: a second pass sends nothing and the serial stays.
serial=$(serial_of "$KNOT_PORT" example.test)
upd_once $ARGS || fail "second --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 0 ] ||
	fail "second pass sent $(state example.test. pass_updates) UPDATEs, want 0"
[ "$(serial_of "$KNOT_PORT" example.test)" = "$serial" ] || fail "serial moved on a no-op pass"
note "second pass: 0 UPDATEs, serial $serial unchanged"

# The daemon: an address change upstream reaches the secondary within
# target TTL (5 s) + 5 s.
MPORT=$(free_port)
upd_daemon $ARGS --poll 1 --interval 1 --metrics 127.0.0.1@$MPORT
wait_for 10 sh -c "grep -q 'serial' $T/updd.log" || fail "daemon did not start: $(cat "$T/updd.log")"
t0=$(ms)
upstream_change 2 'www A 192.0.2.2' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
wait_for 10 answers_are "$SEC_PORT" web.example.test A 192.0.2.2 ||
	fail "new address not on the secondary within TTL + 5 s: $(tail -5 "$T/updd.log")"
t1=$(ms)
answers_are "$SEC_PORT" example.test A 192.0.2.2 || fail "apex A not changed"
note "target change -> secondary in $(( t1 - t0 )) ms (limit 10000)"

# Upstream dead: the siblings stay as they are (draft section 3 step 3).
serial=$(serial_of "$KNOT_PORT" example.test)
upstream_kill
wait_for 30 sh -c "[ \"\$(sed -n 's/^zone example.test. .*state=\([^ ]*\).*/\1/p' $T/state)\" = targets-failing ]" ||
	fail "daemon never noticed the dead upstream: $(tail -5 "$T/updd.log")"
answers_are "$SEC_PORT" web.example.test A 192.0.2.2 || fail "siblings changed while the upstream is dead"
answers_are "$KNOT_PORT" v4.example.test A 192.0.2.7 || fail "v4 A changed while the upstream is dead"
[ "$(serial_of "$KNOT_PORT" example.test)" = "$serial" ] || fail "serial moved while the upstream is dead"
code=$(curl -s -o "$T/health" -w '%{http_code}' "http://127.0.0.1:$MPORT/health")
[ "$code" = 200 ] && grep -q '^degraded' "$T/health" && grep -q 'targets-failing' "$T/health" ||
	fail "/health while the upstream is dead: $code $(cat "$T/health")"
curl -s "http://127.0.0.1:$MPORT/metrics" > "$T/metrics"
grep -q '^aname_updater_zone_owners_failing{zone="example.test."} [1-9]' "$T/metrics" ||
	fail "/metrics owners_failing: $(grep owners_failing "$T/metrics")"
grep -q '^aname_updater_zone_updates_total{zone="example.test."} [1-9]' "$T/metrics" ||
	fail "/metrics updates_total"
note "upstream dead: siblings and serial unchanged, state targets-failing"

# Target NXDOMAIN: the siblings go, and the secondary proves it (NSEC).
upstream_zone 3 'www A 192.0.2.2' 'www AAAA 2001:db8::1' 'v4only A 192.0.2.7'
upstream_run
wait_for 20 answers_are "$SEC_PORT" nx.example.test A "" ||
	fail "nx A still on the secondary: $(tail -5 "$T/updd.log")"
dig -p "$SEC_PORT" @127.0.0.1 +dnssec +norec nx.example.test A > "$T/nx.out"
grep -q 'status: NOERROR' "$T/nx.out" || fail "nx: not NODATA: $(cat "$T/nx.out")"
grep -q 'ANSWER: 0' "$T/nx.out" || fail "nx: answer not empty"
awk '$4 == "NSEC" && $1 == "nx.example.test."' "$T/nx.out" | grep -q . || fail "nx: no NSEC proof"
awk '$4 == "NSEC" && $1 == "nx.example.test."' "$T/nx.out" | grep -qw A && fail "nx: NSEC still lists A"
grep -q 'RRSIG.*NSEC' "$T/nx.out" || fail "nx: NSEC not signed"
wait_for 10 sh -c "[ \"\$(dig -p $SEC_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" = \"\$(dig -p $KNOT_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" ]" ||
	fail "secondary behind the primary"
zone_verifies "$SEC_PORT" example.test || fail "zone after removal: $(cat "$T/verify.out")"
note "target NXDOMAIN: nx siblings removed, signed NSEC NODATA on the secondary"
