# BIND 9 primary: allow-update by key, inline-signing with a dnssec-policy,
# NSD secondary.  First pass writes, the secondary serves signed siblings,
# second pass writes nothing.
make_key
start_upstream 'www A 192.0.2.1' 'www AAAA 2001:db8::1' \
	'v4only A 192.0.2.7' 'gone A 192.0.2.9'
SEC_PORT=$(free_port)
start_bind "$SEC_PORT"
start_secondary "$BIND_PORT"
ARGS="--server 127.0.0.1@$BIND_PORT --zone example.test --key $T/key.conf
      --stub up.test=127.0.0.1@$UP_PORT"
upd_once $ARGS || fail "bind: first --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 4 ] || fail "bind: first pass sent $(state example.test. pass_updates)"
wait_for 15 answers_are "$BIND_PORT" web.example.test A 192.0.2.1 || fail "bind: web A"
answers_are "$BIND_PORT" example.test AAAA 2001:db8::1 || fail "bind: apex AAAA"
wait_for 15 answers_are "$SEC_PORT" web.example.test A 192.0.2.1 ||
	fail "bind: secondary never served web A: $(tail -5 "$SEC_DIR/nsd.log")"
wait_for 15 sh -c "dig -p $SEC_PORT @127.0.0.1 +dnssec +norec v4.example.test A | grep -q 'RRSIG.*A 13'" ||
	fail "bind: no RRSIG over v4 A on the secondary"
wait_for 15 sh -c "[ \"\$(dig -p $SEC_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" = \"\$(dig -p $BIND_PORT @127.0.0.1 +short example.test SOA | awk '{print \$3}')\" ]" ||
	fail "bind: secondary behind the primary"
zone_verifies "$SEC_PORT" example.test || fail "bind: RRSIGs on the secondary: $(cat "$T/verify.out")"
note "bind: 4 UPDATEs, signed siblings on the secondary ($(tail -1 "$T/verify.out"))"
upd_once $ARGS || fail "bind: second --once pass: $(cat "$T/upd.log")"
[ "$(state example.test. pass_updates)" = 0 ] || fail "bind: second pass sent $(state example.test. pass_updates)"
note "bind: second pass 0 UPDATEs"
