#!/bin/sh
# test-knot: mod-aname inside Debian's knotd, against a real nsd upstream.
#
#   sh bindings/knot/tests/test_knot.sh [BUILD_DIR]
#
# Servers and helpers come from setup.sh: nsd serving tests/fixtures/zones
# (example.test, other.test), a black hole (open socket, never answers) for
# blackhole.test, and knotd with mod-aname (+ mod-onlinesign on signed.test).
# Every server is stopped by PID on exit, pass or fail.  Waits poll a
# condition with a deadline; nothing sleeps blindly.  Ends with
# "N passed, M failed" and exits non-zero on any failure.
set -u

B=${1:-build}
. "$(pwd)/bindings/knot/tests/setup.sh"

# ---------------------------------------------------------------- warm-up
wait_for 2000 answered knot.test A "$WWW4"
WARM=$(($(now_ms) - READY))
check "apex ALIAS answered within 2 s of knotd being ready (took ${WARM} ms)" \
	answered knot.test A "$WWW4"

# ---------------------------------------------------------------- answers
out=$(ask knot.test A)
check "apex A: NOERROR" [ "$(status "$out")" = NOERROR ]
check "apex A: addresses of www.example.test" [ "$(addrs "$out" A)" = "$WWW4" ]
t=$(ttl "$out" A)
check "apex A: TTL min(ALIAS 300, target 300) is 1..300 (got $t)" \
	in_range "$t" 1 300
aa_flag() { printf '%s\n' "$1" | grep -q '^;; Flags: qr aa'; }
check "apex A: authoritative answer" aa_flag "$out"
out=$(ask knot.test AAAA)
check "apex AAAA: $WWW6" [ "$(addrs "$out" AAAA)" = "$WWW6" ]
out=$(ask knot.test MX)
check "apex MX untouched" [ "$(section ANSWER "$out" | awk '$4 == "MX" { print $5, $6 }')" = "10 mail.knot.test." ]
out=$(ask www.knot.test A)
check "plain zone A untouched (192.0.2.80)" [ "$(addrs "$out" A)" = "192.0.2.80" ]
out=$(ask nothere.knot.test A)
check "absent name still NXDOMAIN" [ "$(status "$out")" = NXDOMAIN ]

wait_for 2000 answered www2.knot.test A "$WWW4"
out=$(ask www2.knot.test A)
check "non-apex config ALIAS A" [ "$(addrs "$out" A)" = "$WWW4" ]
t=$(ttl "$out" A)
check "non-apex: ALIAS 300, target 300, max-ttl 100 caps the TTL (got $t)" in_range "$t" 1 100
out=$(ask WWW2.Knot.Test AAAA)
check "non-apex AAAA, mixed-case query" [ "$(addrs "$out" AAAA)" = "$WWW6" ]

wait_for 2000 answered lowttl.knot.test A "$WWW4"
t=$(ttl "$(ask lowttl.knot.test A)" A)
check "TTL rule: ALIAS TTL 60 < target 300 gives <= 60 (got $t)" in_range "$t" 1 60

wait_for 2000 answered chain.knot.test A "$WWW4"
out=$(ask chain.knot.test A)
t=$(ttl "$out" A)
check "CNAME chain c1->c2->c3->www answered" [ "$(addrs "$out" A)" = "$WWW4" ]
check "TTL rule: chain minimum 50 < ALIAS 600 (got $t)" in_range "$t" 1 50

wait_for 2000 answered abs.knot.test A "$WWW4"
t=$(ttl "$(ask abs.knot.test A)" A)
check "absolute owner with TTL 120 (got $t)" in_range "$t" 1 120

nodata_ok() {
	o=$(ask "$@")
	[ "$(status "$o")" = NOERROR ] && [ -z "$(section ANSWER "$o")" ] && has_auth_soa "$o"
}
wait_for 2000 nodata_ok nodata.knot.test A
check "target NODATA: NOERROR, empty answer, SOA" nodata_ok nodata.knot.test A
wait_for 2000 nodata_ok dangling.knot.test A
check "target NXDOMAIN (dangling CNAME): NOERROR/NODATA with SOA" nodata_ok dangling.knot.test A
wait_for 2000 answered v6.knot.test AAAA 2001:db8::6
check "AAAA-only target: AAAA answered" answered v6.knot.test AAAA 2001:db8::6
check "AAAA-only target: A is NODATA" nodata_ok v6.knot.test A
check "real A record wins over a config ALIAS" answered real.knot.test A 192.0.2.81
# Issue 15: a config owner covered by a wildcard (*.wild A and MX) is the
# ALIAS owner: Knot's wildcard answer is replaced there.
wait_for 2000 answered a.wild.knot.test A "$WWW4"
check "wildcard-covered config owner: A is the target's, not the wildcard's" answered a.wild.knot.test A "$WWW4"
check "wildcard-covered config owner: AAAA is the target's" answered a.wild.knot.test AAAA "$WWW6"
check "wildcard-covered config owner over TCP: A is the target's" \
	sh -c "kdig @127.0.0.1 -p $KNOT_PORT +tcp +retry=0 +timeout=2 +norec a.wild.knot.test A | grep -q 'a.wild.knot.test.*A.*192.0.2.1' && ! kdig @127.0.0.1 -p $KNOT_PORT +tcp +retry=0 +timeout=2 +norec a.wild.knot.test A | grep -q 192.0.2.90"
for t in MX TXT ANY; do
	check "wildcard-covered config owner: $t is NODATA with SOA (the wildcard's records are not answered)" nodata_ok a.wild.knot.test $t
done
check "wildcard-covered config owner with DO: MX is NODATA with SOA" nodata_ok a.wild.knot.test MX +dnssec
check "other names under the wildcard keep its A" answered b.wild.knot.test A 192.0.2.90
check "other names under the wildcard keep its MX" \
	sh -c "kdig @127.0.0.1 -p $KNOT_PORT +retry=0 +timeout=2 +norec b.wild.knot.test MX | grep -q 'MX.*10 mail.knot.test.'"
# Issue 15 item 5: a TTL-0 target answers (the library holds it 1 s with
# TTL 0), never SERVFAIL for ever.
wait_for 3000 answered zero.knot.test A 192.0.2.100
check "TTL-0 target: answered" answered zero.knot.test A 192.0.2.100
t=$(ttl "$(ask zero.knot.test A)" A)
check "TTL-0 target: TTL 0 or stale, never a cached TTL (got $t)" in_range "${t:-99}" 0 30
# Issue 15 item 3: a config-only owner has no node, yet it exists: every
# other type is NODATA with the SOA, with or without DO.
for t in MX TXT ANY TYPE65401; do
	check "config owner www2, $t: NODATA with SOA (not NXDOMAIN)" nodata_ok www2.knot.test $t
	check "config owner www2, $t with DO: NODATA with SOA" nodata_ok www2.knot.test $t +dnssec
done
out=$(ask elsewhere.other.zone. A)
check "alias owner outside the zone is not served" [ "$(status "$out")" = REFUSED ]

# ---------------------------------------------------------------- black hole
# kdig's own round-trip time ("From ... in X ms") excludes process start-up,
# which a loaded 2-core machine makes noisy.
rtt() { printf '%s\n' "$1" | sed -n 's/^;; From .* in \([0-9.]*\) ms$/\1/p'; }
out=$(ask hung.knot.test A)
dt=$(rtt "$out")
check "black-holed target: SERVFAIL" [ "$(status "$out")" = SERVFAIL ]
# The module's resolution timeout is 3000 ms: a hook that waited for the hung
# target would hold the query (and its worker) that long.  1000 ms leaves
# room for a machine busy with other jobs.
check "black-holed target: answered at once (${dt:-no answer} ms < 1000)" \
	awk -v w="${dt:-99999}" 'BEGIN { exit !(w < 1000) }'
# Flood the hung target (500 qps for 3 s) while timing ordinary queries.
printf 'hung.knot.test A\nhung.knot.test AAAA\n' > "$T/hung.txt"
dnsperf -s 127.0.0.1 -p "$KNOT_PORT" -d "$T/hung.txt" -Q 500 -l 3 -c 2 \
	>"$T/flood.out" 2>&1 &
FLOOD=$!
PIDS="$PIDS $FLOOD"
worst=0
fails=0
i=0
while [ $i -lt 40 ]; do
	for q in "www2.knot.test $WWW4" "www.knot.test 192.0.2.80"; do
		set -- $q
		n=$1
		shift
		o=$(ask "$n" A)
		[ "$(addrs "$o" A)" = "$*" ] || fails=$((fails + 1))
		worst=$(printf '%s %s\n' "$worst" "$(rtt "$o")" | awk '{ print ($2 > $1) ? $2 : $1 }')
	done
	i=$((i + 1))
done
wait "$FLOOD"
check "flood ran: dnsperf got answers for the hung target" \
	grep -q 'Queries completed:.*[1-9]' "$T/flood.out"
check "while the hung target is flooded, other queries answer (80 queries, $fails failed)" [ "$fails" -eq 0 ]
check "while flooded, slowest answer took ${worst} ms (< 1000)" \
	awk -v w="$worst" 'BEGIN { exit !(w < 1000) }'
out=$(ask hung.knot.test A)
check "hung target still SERVFAIL (not cached as an answer)" [ "$(status "$out")" = SERVFAIL ]

# ---------------------------------------------------------------- DNSSEC
signed_ok() { "$TOOLS/rrsig_check" "$KNOT_PORT" signed.test "$1" "$2" >"$T/rrsig.out" 2>&1; }
wait_for 3000 answered signed.test A "$WWW4"
out=$(ask signed.test A +dnssec)
check "onlinesign: apex A synthesized in signed.test" [ "$(addrs "$out" A)" = "$WWW4" ]
check "onlinesign: apex A carries an RRSIG" [ "$(section ANSWER "$out" | awk '$4 == "RRSIG" && $5 == "A"' | wc -l)" -ge 1 ]
check "onlinesign: apex A RRSIG validates with the zone DNSKEY" signed_ok signed.test A
check "onlinesign: apex AAAA RRSIG validates" signed_ok signed.test AAAA
wait_for 2000 answered www2.signed.test A "$WWW4"
check "onlinesign: relative config owner applies to signed.test too, signed" signed_ok www2.signed.test A
# Issue 15 item 3 under onlinesign: NODATA at a config-only owner carries
# the SOA and an NSEC proof, both signed.
out=$(ask www2.signed.test MX +dnssec)
auth_types=$(section AUTHORITY "$out" | awk '{ print $4 }' | sort | tr '\n' ' ')
nsec=$(section AUTHORITY "$out" | awk '$4 == "NSEC"' | head -n 1)
check "onlinesign: the NSEC is at the owner and does not list MX" \
	sh -c "echo '$nsec' | awk '{ exit !(tolower(\$1) == \"www2.signed.test.\") }' && ! echo '$nsec' | grep -qw MX"
check "onlinesign: config owner MX is NODATA with SOA, NSEC and RRSIGs ($auth_types)" \
	sh -c "[ '$(status "$out")' = NOERROR ] && [ -z '$(section ANSWER "$out")' ] && echo '$auth_types' | grep -q 'NSEC ' && echo '$auth_types' | grep -q 'RRSIG RRSIG' && echo '$auth_types' | grep -q 'SOA'"
# Issue 15: the NODATA proofs, verified with ldns (rrsig_check nodata):
# SOA and NSEC signatures against the zone's DNSKEY, and the NSEC denies
# the type at the owner (with a control type that it must not deny).
nodata_proof() { "$TOOLS/rrsig_check" "$KNOT_PORT" signed.test "$1" "$2" nodata >"$T/rrsig.out" 2>&1; }
for t in MX TXT TYPE65401; do
	check "onlinesign: config owner www2, $t: NODATA proof verifies and denies $t" nodata_proof www2.signed.test $t
done
wait_for 2000 nodata_ok nodata.signed.test A
check "onlinesign: target NODATA: the A NODATA proof at the owner verifies and denies A" nodata_proof nodata.signed.test A
wait_for 2000 nodata_ok dangling.signed.test A
check "onlinesign: target NXDOMAIN: the A NODATA proof verifies and denies A" nodata_proof dangling.signed.test A
wait_for 2000 answered v6.signed.test AAAA 2001:db8::6
check "onlinesign: AAAA-only target: the A NODATA proof verifies and denies A" nodata_proof v6.signed.test A
check "onlinesign: zone-data ALIAS owner (apex) MX: NODATA proof verifies and denies MX" nodata_proof signed.test MX
check "onlinesign: the nodata check fails on a positive answer (control)" sh -c "! \"$TOOLS/rrsig_check\" $KNOT_PORT signed.test www2.signed.test A nodata 2>/dev/null"
wait_for 2000 answered a.wild.signed.test A "$WWW4"
check "onlinesign: wildcard-covered config owner: the target's A, not the wildcard's" answered a.wild.signed.test A "$WWW4"
check "onlinesign: wildcard-covered config owner: its A RRSIG validates" signed_ok a.wild.signed.test A
check "onlinesign: wildcard-covered config owner: TXT NODATA proof verifies and denies TXT" nodata_proof a.wild.signed.test TXT
check "onlinesign: other names under the wildcard: its A, signed" signed_ok b.wild.signed.test A
# Issue 15 item 7: targets validated against trust-anchor-file.  A bogus
# target is never answered, so onlinesign cannot sign a forged address.
wait_for 3000 answered sec.signed.test A 192.0.2.10
check "trust anchor: validated target answered (sec -> www.secure.test)" answered sec.signed.test A 192.0.2.10
check "trust anchor: validated answer signed by onlinesign" signed_ok sec.signed.test A
out=$(ask bog.signed.test A +dnssec)
check "trust anchor: bogus target gives SERVFAIL under onlinesign ($(status "$out"))" [ "$(status "$out")" = SERVFAIL ]
check "trust anchor: no forged address in the answer" [ -z "$(section ANSWER "$out")" ]
check "trust anchor: bogus target SERVFAIL in the unsigned zone too" [ "$(status "$(ask bog.knot.test A)")" = SERVFAIL ]

# ---------------------------------------------------------------- stats
# refused.test is a stub to nsd, which does not serve it: REFUSED.
check "target answered REFUSED upstream: SERVFAIL" [ "$(status "$(ask refused.knot.test A)")" = SERVFAIL ]
stat() { sed -n "s/.*mod-aname\.$1 *= *\([0-9]*\).*/\1/p" "$T/stats.out" | head -n 1; }
# The library-wide counters are refreshed by the zone's first ALIAS query
# in each second, and the hung target's deadline (3 s) can pass in the
# second of the last refresh: ask an ALIAS owner until a refresh shows it.
timeouts_counted() {
	ask refused.knot.test A >/dev/null
	$KNOTC zone-stats knot.test >"$T/stats.out" 2>&1
	[ "$(stat resolver-unanswered)" -gt 0 ]
}
wait_for 3000 timeouts_counted || true
h=$(stat hits); m=$(stat misses); n=$(stat nodata)
check "knotc zone-stats: hits counted (${h:-none})" [ "${h:-0}" -gt 0 ]
check "knotc zone-stats: misses counted (${m:-none})" [ "${m:-0}" -gt 0 ]
check "knotc zone-stats: nodata counted (${n:-none})" [ "${n:-0}" -gt 0 ]
to=$(stat resolver-unanswered)
check "knotc zone-stats: resolver-unanswered counts the hung target's timeouts (${to:-none})" [ "${to:-0}" -gt 0 ]
rf=$(stat resolver-failures)
check "knotc zone-stats: resolver-failures counts nsd's REFUSED for refused.test (${rf:-none})" [ "${rf:-0}" -gt 0 ]
health_ones=$(grep -c 'mod-aname\.health\[[a-z]*\] *= *1' "$T/stats.out")
check "knotc zone-stats: exactly one health level is 1 ($(grep 'mod-aname\.health' "$T/stats.out" | tr -s ' ' | tr '\n' ' '))" [ "$health_ones" -eq 1 ]
check "library log routed into knotd's log (hung target's timeout)" \
	grep -q "libaname: resolving x.blackhole.test.*no answer within" "$T/knot.log"

# ---------------------------------------------------------------- reload
$KNOTC zone-reload knot.test >"$T/reload.out" 2>&1
check "knotc zone-reload knot.test" [ $? -eq 0 ]
wait_for 3000 sh -c "grep -c 'config aliases' '$T/knot.log' | grep -qv '^[012]$'"
out=$(ask www2.knot.test A)
check "first query after reload answered from the kept cache" [ "$(addrs "$out" A)" = "$WWW4" ]
check "apex after reload" answered knot.test A "$WWW4"
check "knotd alive after reload" kill -0 "$KNOT_PID"

# ---------------------------------------------------------------- remote: references
# Issue 15 item 9.  Stubs given as "stub-remote: ZONE=REMOTE-ID": the
# viaremote id resolves its remotes to exactly the default id's stub list,
# so its instance shares the resolver without the "settings differ"
# warning (a wrong or missing address would change the settings).
wait_for 3000 answered www.viaremote.test A "$WWW4"
check "stub-remote: config ALIAS of viaremote.test answered" answered www.viaremote.test A "$WWW4"
check "stub-remote: the viaremote instance loaded" grep -q "viaremote.test.*config aliases" "$T/knot.log"
check "stub-remote: resolved to the same upstreams as the literal stubs (no 'settings differ')" \
	sh -c "! grep -q 'viaremote.test.*settings differ' '$T/knot.log'"
# Forwarders given as "remote: [ ID ]" (mod-dnsproxy's item): a second
# knotd whose only upstream is remote "resolver", i.e. nsd, which answers
# the forwarded queries for its own zones.
set -- $("$TOOLS/blackhole" --free-ports 1)
FWD_PORT=$1
mkdir -p "$T/fwd/run" "$T/fwd/db"
printf '$ORIGIN fwd.test.\n@ 300 IN SOA ns1 h 1 3600 900 604800 300\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.53\n' > "$T/fwd/fwd.test.zone"
cat > "$T/fwd/knot.conf" <<EOF
server:
    rundir: "$T/fwd/run"
    listen: 127.0.0.1@$FWD_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$T/fwd/db"
log:
  - target: "$T/fwd/knot.log"
    any: info
remote:
  - id: unused
    address: 192.0.2.1
  - id: resolver
    address: 127.0.0.1@$NSD_PORT
module:
  - id: mod-aname
    file: "$MOD"
mod-aname:
  - id: fwd
    remote: [ resolver ]
    alias: [ "www www.example.test." ]
zone:
  - domain: fwd.test
    file: "$T/fwd/fwd.test.zone"
    module: mod-aname/fwd
EOF
/usr/sbin/knotd -c "$T/fwd/knot.conf" -s "$T/fwd/run/knot.sock" 2>"$T/fwd/knotd.err" &
FWD_PID=$!
PIDS="$PIDS $FWD_PID"
fwd_answered() {
	[ "$(addrs "$(kdig @127.0.0.1 -p "$FWD_PORT" +retry=0 +timeout=2 +norec www.fwd.test A 2>&1)" A)" = "$WWW4" ]
}
wait_for 15000 fwd_answered
check "remote: [ resolver ] as forwarder: www.fwd.test answered through nsd" fwd_answered
kill "$FWD_PID"
wait "$FWD_PID" 2>/dev/null

# ---------------------------------------------------------------- stale
wait_for 3000 answered short.knot.test A 192.0.2.99
check "short-TTL target answered" answered short.knot.test A 192.0.2.99
kill "$NSD_PID"
wait "$NSD_PID" 2>/dev/null
stale_ok() {
	o=$(ask short.knot.test A)
	[ "$(addrs "$o" A)" = 192.0.2.99 ] && [ "$(ttl "$o" A)" = "$STALE_TTL" ]
}
wait_for 10000 stale_ok
check "upstream dead, TTL 2 expired: served stale with stale-ttl $STALE_TTL" stale_ok
check "upstream dead: long-TTL ALIAS still answered" answered www2.knot.test A "$WWW4"

# ---------------------------------------------------------------- config errors
badconf() { # badconf 'YAML lines of the mod-aname section' EXPECTED-TEXT
	printf 'module:\n  - id: mod-aname\n    file: "%s"\nmod-aname:\n  - id: default\n%s\n' \
		"$MOD" "$1" > "$T/bad.conf"
	if /usr/sbin/knotc -c "$T/bad.conf" conf-check >"$T/bad.out" 2>&1; then
		return 1
	fi
	grep -q "$2" "$T/bad.out"
}
check "conf-check rejects a malformed alias with a clear error" \
	badconf '    alias: "www2"' 'expected "owner \[ttl\] target."'
check "conf-check rejects a relative alias target" \
	badconf '    alias: "www2 www.example.test"' 'target must be absolute'
check "conf-check rejects a bad alias TTL" \
	badconf '    alias: "www2 1x www.example.test."' 'bad TTL'
check "conf-check rejects a duplicate owner" \
	badconf '    alias: [ "a x.test.", "A y.test." ]' 'given twice'
check "conf-check rejects a bad forwarder" \
	badconf '    forward: "not-an-ip@53"' "bad forward 'not-an-ip@53': not an IP address"
check "conf-check rejects a forwarder port out of range (Knot's address type)" \
	badconf '    forward: "192.0.2.1@99999"' "value is out of range"
goodconf() { # goodconf 'YAML lines of the mod-aname section'
	printf 'module:\n  - id: mod-aname\n    file: "%s"\nmod-aname:\n  - id: default\n%s\n' \
		"$MOD" "$1" > "$T/good.conf"
	/usr/sbin/knotc -c "$T/good.conf" conf-check >"$T/good.out" 2>&1
}
check "conf-check accepts IPv4 and IPv6 forwarders, with and without port" \
	goodconf '    forward: [ "192.0.2.53", "2001:db8::53@5353", "127.0.0.1@5300" ]'
check "conf-check rejects a stub without '='" \
	badconf '    stub: "127.0.0.1@53"' 'bad stub'
check "conf-check rejects a stub port out of range (Knot's address type)" \
	badconf '    stub: "x.test=127.0.0.1@99999"' "bad stub 'x.test=127.0.0.1@99999': value is out of range"
check "conf-check rejects a stub UNIX socket" \
	badconf '    stub: "x.test=/run/sock"' "bad stub 'x.test=/run/sock': not an IP address"
check "conf-check rejects a remote: reference to no remote" \
	badconf '    remote: nowhere' "item 'remote', value 'nowhere' (invalid reference)"
check "conf-check rejects a stub-remote to no remote" \
	badconf '    stub-remote: "x.test=nowhere"' "stub-remote 'x.test=nowhere': no remote 'nowhere'"
check "conf-check rejects a stub-remote without '='" \
	badconf '    stub-remote: "nowhere"' "stub-remote 'nowhere': expected ZONE=REMOTE-ID"
rmtconf() { # rmtconf 'YAML lines of the mod-aname section': with remotes r1, r2
	printf 'remote:\n  - id: r1\n    address: [ 127.0.0.1@5300, "::1" ]\n  - id: r2\n    address: 192.0.2.7\nmodule:\n  - id: mod-aname\n    file: "%s"\nmod-aname:\n  - id: default\n%s\n' \
		"$MOD" "$1" > "$T/good.conf"
	/usr/sbin/knotc -c "$T/good.conf" conf-check >"$T/good.out" 2>&1
}
check "conf-check accepts stubs with and without port, IPv4 and IPv6" \
	goodconf '    stub: [ "x.test=127.0.0.1", "y.test=::1@5353" ]'
check "conf-check accepts remote: and stub-remote: references" \
	rmtconf '    remote: [ r1, r2 ]
    stub-remote: [ "x.test=r1", ".=r2" ]'
check "conf-check rejects an out-of-range timeout" \
	badconf '    timeout: 5' 'timeout'
check "conf-check rejects min-ttl above max-ttl" \
	badconf '    min-ttl: 2h
    max-ttl: 1h' 'need min-ttl <= max-ttl'
check "conf-check rejects max-neg-ttl above max-ttl" \
	badconf '    max-neg-ttl: 2h
    max-ttl: 1h' 'max-neg-ttl <= max-ttl'
check "conf-check rejects a missing trust-anchor-file" \
	badconf '    trust-anchor-file: "/nonexistent/anchors"' "bad trust-anchor-file '/nonexistent/anchors'"
check "conf-check rejects a wildcard alias owner" \
	badconf '    alias: "*.w www.example.test."' 'wildcard owners are not supported'

check "knotd did not crash" kill -0 "$KNOT_PID"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
