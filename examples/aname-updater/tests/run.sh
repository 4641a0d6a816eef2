#!/bin/bash
# aname-updater against real primaries on loopback (make test-updater).
#
#   run.sh BUILD/examples/aname-updater [CASE...]
#
# Cases: knot (Knot 3.2 signing primary + NSD secondary by IXFR), errors
# (bad key, wrong zone, primary down, AXFR refused, a racing manual edit),
# bind (BIND 9 inline-signing primary), pdns (PowerDNS gsqlite3), scale
# (10 000 owners over 2 000 targets).  Every
# server is stopped by PID when the script exits, pass or fail.
set -u
UPD=$(realpath "$1"); shift
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
trap 'stop_all; rm -rf "$T"' EXIT
CASES=${*:-knot errors bind pdns scale}
start=$(date +%s)

for c in $CASES; do
	echo "== test-updater: $c"
	. "$HERE/case_$c.sh" || fail "case $c"
	stop_all
	rm -f "$T/state" "$T/upd.log" "$T/updd.log"
	echo "== test-updater: $c ok"
done
echo "test-updater: all ok ($CASES) in $(( $(date +%s) - start )) s"
