#!/bin/sh
# bench-knot, scale part: how long after knotd starts all 5 000 ALIAS
# owners of a zone file, and of a secondary transferred from nsd, answer
# (issue 15 asks for 3 s; test_scale.sh asserts it).  Runs test_scale.sh
# SCALE_RUNS times (default 5) and reports the median, the range and every
# run, with the profile test_scale.sh prints (knotd start to answering, the
# module's scan and registration, queries per target).
#
#   sh bindings/knot/tests/bench_scale.sh BUILD_DIR OUT.md
set -u
B=${1:-build}
OUT=${2:-$B/bench/knot-scale.md}
RUNS=${SCALE_RUNS:-5}
mkdir -p "$(dirname "$OUT")"
R=$(mktemp /tmp/aname-scale.XXXXXX)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
big="" sec="" ready="" qpt="" p90="" fails=0 i=0
while [ $i -lt "$RUNS" ]; do
	: > "$R"
	# A run over the goal still reports its times; a run without times
	# (setup failed, owners never answered) stops the benchmark.
	SCALE_REPORT=$R sh bindings/knot/tests/test_scale.sh "$B" > "$R.log" 2>&1 || fails=$((fails + 1))
	b=$(sed -n 's/^big //p' "$R")
	s=$(sed -n 's/^sec //p' "$R")
	case "$b$s" in
	'' | *late*)
		echo "bench-scale: run $i gave no times (sh bindings/knot/tests/test_scale.sh $B):"
		cat "$R.log"
		rm -f "$R" "$R.log"
		exit 1
		;;
	esac
	big="$big $b"
	sec="$sec $s"
	ready="$ready $(sed -n 's/^ready //p' "$R")"
	qpt="$qpt $(awk '/^queries / { printf "%.2f", $2 / 5000 }' "$R")"
	p90="$p90 $(sed -n 's/^bigline .* p90 \([0-9]*\) .*/\1/p' "$R")"
	i=$((i + 1))
done
rm -f "$R" "$R.log"
median() { printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
range() { printf '%s\n' $1 | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
verdict() { [ "$(printf '%s\n' $1 | sort -n | tail -n 1)" -le 3000 ] && echo "met by every run" || echo "MISSED by a run"; }
{
	echo "## Knot DNS: 5 000 ALIAS owners after load"
	echo
	echo "$(/usr/sbin/knotd -V), mod-aname, 5 000 non-apex TYPE65401 owners with"
	echo "distinct targets on a loopback nsd, in a zone file (big.test) and in a"
	echo "secondary transferred from nsd (sec.test), swept at once by"
	echo "\`tests/sweep.c\` (UDP, 64 in flight, re-asking only owners not yet"
	echo "answered).  Time from knotd's start (before zones and modules load) to"
	echo "the first answer of the last owner; $RUNS runs, load average before:"
	echo "$LOAD0."
	echo
	echo "| zone | median ms | range ms | runs (ms) | goal 3 000 ms |"
	echo "|---|---|---|---|---|"
	echo "| zone file (big.test) | $(median "$big") | $(range "$big") |$big | $(verdict "$big") |"
	echo "| secondary, AXFR from nsd (sec.test) | $(median "$sec") | $(range "$sec") |$sec | $(verdict "$sec") |"
	echo
	echo "Profile (medians): knotd start to answering $(median "$ready") ms (runs:$ready);"
	echo "90 % of big.test's owners answered by $(median "$p90") ms (runs:$p90); upstream"
	echo "queries per target$qpt (A and AAAA: 2 is the minimum)."
	echo "Runs whose test_scale.sh failed: $fails of $RUNS."
	echo
	echo "Command: \`sh bindings/knot/tests/bench_scale.sh $B\` (part of \`make bench-knot\`)."
} > "$OUT"
cat "$OUT"
