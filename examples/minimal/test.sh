#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make test-minimal: run examples/minimal against nsd (tests/support's
# nsd-harness, fixture zone example.test) and check what it prints: the
# async synthesis of www.example.test's A and AAAA at alias.test., then the
# sync cache lookup's two A records in wire format.
# Usage: examples/minimal/test.sh MINIMAL NSD_HARNESS
set -eu
bin=$1 harness=$2
tmp=$(mktemp -d /tmp/aname-minimal.XXXXXX)
hpid=
cleanup() {
	exec 3>&- 2>/dev/null || true   # the harness stops nsd on EOF
	[ -n "$hpid" ] && wait "$hpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/ctl"
"$harness" --nsd <"$tmp/ctl" >"$tmp/ports" &
hpid=$!
exec 3>"$tmp/ctl"
limit=$(( $(date +%s) + 20 ))
until grep -q '^ready$' "$tmp/ports" 2>/dev/null; do
	kill -0 "$hpid" 2>/dev/null || { echo "test-minimal: nsd-harness exited" >&2; exit 1; }
	[ "$(date +%s)" -lt "$limit" ] || { echo "test-minimal: nsd not ready" >&2; exit 1; }
	sleep 0.05
done
port=$(sed -n 's/^nsd=//p' "$tmp/ports")

out=$("$bin" "127.0.0.1@$port" www.example.test. alias.test.) || {
	echo "test-minimal: FAILED, exit status $?: $out" >&2; exit 1; }
echo "$out"
want() {
	echo "$out" | grep -q "$1" || { echo "test-minimal: FAILED, no line matching '$1'" >&2; exit 1; }
}
want '^alias\.test\.	[0-9]*	IN	A	192\.0\.2\.1$'
want '^alias\.test\.	[0-9]*	IN	A	192\.0\.2\.2$'
want '^alias\.test\.	[0-9]*	IN	AAAA	2001:db8::1$'
# Two A RRs at alias.test. (12 octets): 2 * (12 + 10 + 4) = 52 bytes.
want '^sync: 2 A records, 52 bytes of wire data$'
# Bad input: a clear error and exit status 2.
if "$bin" "not-an-address" www.example.test. alias.test. 2>"$tmp/err"; then
	echo "test-minimal: FAILED, a bad forwarder was accepted" >&2; exit 1
fi
grep -q "bad forwarder" "$tmp/err" || { echo "test-minimal: FAILED, no error for a bad forwarder" >&2; exit 1; }
echo "test-minimal: ok"
