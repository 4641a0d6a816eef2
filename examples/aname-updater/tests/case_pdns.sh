# PowerDNS Authoritative with gsqlite3 (dnsupdate=yes, TSIG-ALLOW-DNSUPDATE,
# SOA-EDIT-DNSUPDATE INCREASE, a secured zone), NSD secondary.
make_key
start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
SEC_PORT=$(free_port)
start_pdns "$SEC_PORT"
ARGS="--server 127.0.0.1@$PDNS_PORT --zone example.test --key $T/key.conf
      --stub up.test=127.0.0.1@$UP_PORT"
serial=$(serial_of "$PDNS_PORT" example.test)
upd_once $ARGS || fail "pdns: first --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 4 ] || fail "pdns: first pass sent $(state example.test. pass_updates)"
answers_are "$PDNS_PORT" web.example.test A 192.0.2.1 || fail "pdns: web A"
answers_are "$PDNS_PORT" example.test AAAA 2001:db8::1 || fail "pdns: apex AAAA"
[ "$(serial_of "$PDNS_PORT" example.test)" -gt "$serial" ] || fail "pdns: serial did not move"
start_secondary "$PDNS_PORT"
wait_for 15 answers_are "$SEC_PORT" web.example.test A 192.0.2.1 || fail "pdns: secondary web A"
zone_verifies "$SEC_PORT" example.test || fail "pdns: RRSIGs on the secondary: $(cat "$T/verify.out")"
note "pdns: 4 UPDATEs, serial $serial -> $(serial_of "$PDNS_PORT" example.test), signed zone verifies on the secondary"
upd_once $ARGS || fail "pdns: second --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 0 ] || fail "pdns: second pass sent $(state example.test. pass_updates)"
note "pdns: second pass 0 UPDATEs"
