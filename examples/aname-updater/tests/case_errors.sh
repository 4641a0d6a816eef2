# Bad input and failing primaries: each gives a clear error naming the zone
# and the fix, a non-zero --once status, and changes nothing on the primary.
make_key
start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
start_knot off
STUB="--stub up.test=127.0.0.1@$UP_PORT"
ARGS="--server 127.0.0.1@$KNOT_PORT --zone example.test $STUB"
serial=$(serial_of "$KNOT_PORT" example.test)

# A key file that does not parse: exit 2, the file and line named.
printf 'key "upd.key" {\n\talgorithm hmac-sha256;\n\tsecret "not base64!";\n};\n' > "$T/bad.conf"
upd_once $ARGS --key "$T/bad.conf"; rc=$?
[ $rc = 2 ] || fail "unparsable key: status $rc, want 2"
logged "$T/upd.log" bad.conf "line 3" base64 || fail "unparsable key message: $(cat "$T/upd.log")"
note "unparsable key file: status 2, '$(head -1 "$T/upd.log")'"

# The right key name with a wrong secret: the primary answers BADSIG.
sed "s|$KEY_SECRET|$(head -c 32 /dev/urandom | base64)|" "$T/key.conf" > "$T/wrong.conf"
upd_once $ARGS --key "$T/wrong.conf"; rc=$?
[ $rc = 1 ] || fail "wrong secret: status $rc, want 1"
logged "$T/upd.log" "zone example.test." BADSIG "fix:" "--key" ||
	fail "wrong secret message: $(cat "$T/upd.log")"
[ "$(state example.test. state)" = tsig-rejected ] || fail "state $(state example.test. state)"
note "wrong secret: '$(grep -m1 error "$T/upd.log" | cut -c1-150)...'"

# A key the primary does not know: BADKEY.
sed 's/"upd.key"/"nobody.key"/' "$T/key.conf" > "$T/unknown.conf"
upd_once $ARGS --key "$T/unknown.conf"; rc=$?
[ $rc = 1 ] && logged "$T/upd.log" "zone example.test." BADKEY "fix:" ||
	fail "unknown key: $rc $(cat "$T/upd.log")"
note "unknown key: BADKEY named"

# A zone the primary does not serve.
upd_once --server 127.0.0.1@$KNOT_PORT --zone wrong.test --key "$T/key.conf" $STUB; rc=$?
[ $rc = 1 ] && logged "$T/upd.log" "zone wrong.test." "fix --zone" ||
	fail "wrong zone: $rc $(cat "$T/upd.log")"
note "wrong zone: '$(grep -m1 error "$T/upd.log" | cut -c1-150)...'"

# Primary down: nothing listens on the port.
dead=$(free_port)
upd_once --server 127.0.0.1@$dead --zone example.test --key "$T/key.conf" $STUB; rc=$?
[ $rc = 1 ] && logged "$T/upd.log" "zone example.test." "cannot connect" primary ||
	fail "primary down: $rc $(cat "$T/upd.log")"
[ "$(state example.test. state)" = primary-down ] || fail "state $(state example.test. state)"
note "primary down: state primary-down"

[ "$(serial_of "$KNOT_PORT" example.test)" = "$serial" ] || fail "a failing run changed the zone"
answers_are "$KNOT_PORT" web.example.test A "" || fail "a failing run wrote siblings"
knot_stop

# AXFR refused: the key may update but not transfer.
start_knot off "" update
upd_once --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" $STUB; rc=$?
[ $rc = 1 ] && logged "$T/upd.log" "zone example.test." AXFR "allow transfers" ||
	fail "AXFR refused: $rc $(cat "$T/upd.log")"
[ "$(state example.test. state)" = axfr-refused ] || fail "state $(state example.test. state)"
note "AXFR refused: '$(grep -m1 error "$T/upd.log" | cut -c1-150)...'"
knot_stop

# UPDATE refused: the key may transfer but not update.
start_knot off "" transfer
upd_once --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" $STUB; rc=$?
[ $rc = 1 ] && logged "$T/upd.log" "zone example.test." "allow updates" ||
	fail "UPDATE refused: $rc $(cat "$T/upd.log")"
answers_are "$KNOT_PORT" web.example.test A "" || fail "refused UPDATE wrote siblings"
note "UPDATE refused: state $(state example.test. state)"
knot_stop

# A manual edit racing the updater.  The daemon has read the zone (and
# polls rarely, so it does not see the edit); an operator then replaces
# v4's ALIAS with a static A.  When the target changes, the updater's
# UPDATE carries "ALIAS exists" and "A is what I read" prerequisites: the
# primary refuses it, the operator's record survives, the updater logs the
# race, re-reads the zone and stops managing v4.
start_knot off
upd_daemon --server 127.0.0.1@$KNOT_PORT --zone example.test --key "$T/key.conf" $STUB \
	--poll 3600 --interval 1
wait_for 15 answers_are "$KNOT_PORT" v4.example.test A 192.0.2.7 || fail "race: daemon never wrote v4"
knsupdate -y "hmac-sha256:$KEY_NAME:$KEY_SECRET" <<NSU || fail "manual edit failed"
server 127.0.0.1 $KNOT_PORT
zone example.test.
del v4.example.test. TYPE65401
del v4.example.test. A
add v4.example.test. 300 A 203.0.113.5
send
NSU
answers_are "$KNOT_PORT" v4.example.test A 203.0.113.5 || fail "manual edit not applied"
upstream_change 2 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.8' 'gone A 192.0.2.9'
wait_for 15 logged "$T/updd.log" "owner v4.example.test." "not updated" NXRRSET "nothing overwritten" ||
	fail "race not logged: $(tail -5 "$T/updd.log")"
wait_for 10 sh -c "[ \"\$(sed -n 's/^zone example.test. .*owners=\([^ ]*\).*/\1/p' $T/state)\" = 3 ]" ||
	fail "zone not re-read after the race"
answers_are "$KNOT_PORT" v4.example.test A 203.0.113.5 || fail "the manual edit was clobbered"
[ "$(state example.test. races)" -ge 1 ] || fail "races counter"
note "manual edit race: UPDATE refused by prerequisites, operator's A kept, zone re-read"
