# The issue's scale case: 10 000 ALIAS owners over 2 000 distinct targets
# on a Knot primary.  First pass: one UPDATE per owner, batched by Knot
# into far fewer zone versions; second pass with nothing changed: 0
# UPDATEs and the serial stays.  (Timings are bench-updater's job.)
make_key
gen_zones 10000 2000 0
UP_ZONE_FILE=$T/up.zone start_upstream
KNOT_ZONE_FILE=$T/primary.zone start_knot off
ARGS="--server 127.0.0.1@$KNOT_PORT --zone example.test --key $T/key.conf
      --stub up.test=127.0.0.1@$UP_PORT --rate 1000000 --primary-timeout-ms 60000"
s0=$(serial_of "$KNOT_PORT" example.test)
UPD_ONCE_TIMEOUT=300 upd_once $ARGS || fail "scale: first pass: $(grep -v info: "$T/upd.log" | tail -3) $(cat "$T/state")"
[ "$(state example.test. pass_updates)" = 10000 ] || fail "scale: first pass sent $(state example.test. pass_updates), want 10000"
[ "$(state example.test. ok)" = 10000 ] || fail "scale: $(state example.test. ok) owners up to date"
s1=$(serial_of "$KNOT_PORT" example.test)
answers_are "$KNOT_PORT" o1234.example.test A 10.0.4.210 || fail "scale: o1234 -> t1234 A"
[ "$(ask "$KNOT_PORT" o9999.example.test AAAA)" = "2001:db8::7cf" ] || fail "scale: o9999 -> t1999 AAAA: $(ask "$KNOT_PORT" o9999.example.test AAAA)"
[ $(( s1 - s0 )) -lt 10000 ] || fail "scale: 10000 UPDATEs made $(( s1 - s0 )) zone versions (no batching)"
note "scale: first pass 10000 UPDATEs, $(( s1 - s0 )) zone versions"
UPD_ONCE_TIMEOUT=300 upd_once $ARGS || fail "scale: second pass: $(grep -v info: "$T/upd.log" | tail -3)"
[ "$(state example.test. pass_updates)" = 0 ] || fail "scale: second pass sent $(state example.test. pass_updates), want 0"
[ "$(serial_of "$KNOT_PORT" example.test)" = "$s1" ] || fail "scale: serial moved on the second pass"
note "scale: second pass 0 UPDATEs, serial $s1 unchanged"
