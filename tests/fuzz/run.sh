#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Drive the fuzzers built by "make fuzz" (see tests/fuzz/README.md).
#
#   run.sh regress T...       replay tests/fuzz/regressions/T/* and the seed
#                             corpus tests/fuzz/corpus/T/* once each
#   run.sh fuzz SECONDS T...  fuzz each target for SECONDS, FUZZ_JOBS at a
#                             time (default 2), niced by FUZZ_NICE (default
#                             0), stopping early after FUZZ_RUNS executions
#                             if set; new inputs go to $FUZZ_B/work/T,
#                             crashes to $FUZZ_B/artifacts/T/
#
# Exits non-zero if any input crashes, leaks or breaks an invariant, and
# prints "N passed, N failed" last.
set -u
B=${FUZZ_B:-build-fuzz}
DIR=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: run.sh regress|fuzz ...}
shift

pass=0
fail=0
declare -A pid_target=()

cleanup() {
	for p in "${!pid_target[@]}"; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Options every run of target $1 gets.
target_opts() {
	local o=(-timeout=10 -rss_limit_mb=2048)
	[ -f "$DIR/$1.dict" ] && o+=("-dict=$DIR/$1.dict")
	# The zone loader reports each syntax error on stderr; libFuzzer and
	# the sanitizers keep writing to a duplicate of it.
	[ "$1" = zone ] && o+=(-close_fd_mask=2)
	echo "${o[@]}"
}

# Each regression input alone (so every one is reported), then the whole
# seed corpus in one process.
regress() {
	local t=$1 bin=$B/fuzz_$1 corpus=() f name log
	for f in "$DIR/regressions/$t"/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		log=$B/logs/regress-$t-$name.log
		# shellcheck disable=SC2046
		if "$bin" $(target_opts "$t") -runs=1 "$f" >"$log" 2>&1; then
			echo "regress $t/$name: ok"
			pass=$((pass + 1))
		else
			echo "regress $t/$name: FAILED (log: $log)"
			grep -m1 -E 'invariant broken|Assertion|ERROR: ' "$log"
			fail=$((fail + 1))
		fi
	done
	for f in "$DIR/corpus/$t"/*; do
		[ -f "$f" ] && corpus+=("$f")
	done
	if [ ${#corpus[@]} -eq 0 ]; then
		echo "regress $t: FAILED, no seed corpus in $DIR/corpus/$t"
		fail=$((fail + 1))
		return
	fi
	log=$B/logs/regress-$t-corpus.log
	# shellcheck disable=SC2046
	if "$bin" $(target_opts "$t") -runs=1 "${corpus[@]}" >"$log" 2>&1; then
		echo "regress $t: ok, ${#corpus[@]} seed inputs replayed"
		pass=$((pass + 1))
	else
		echo "regress $t: seed corpus FAILED (log: $log)"
		grep -m1 -B1 -E 'invariant broken|ERROR: ' "$log"
		fail=$((fail + 1))
	fi
}

# Report one finished fuzzing run from its log.
report() {
	local t=$1 rc=$2 log=$B/logs/fuzz-$1.log
	local execs cov ft secs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	secs=$(grep -Eo 'DONE .*|^#[0-9]+.*' "$log" | tail -n1 | grep -Eo 'cov: [0-9]+ ft: [0-9]+' )
	cov=$(echo "$secs" | awk '{print $2}')
	ft=$(echo "$secs" | awk '{print $4}')
	local corpus
	corpus=$(find "$B/work/$t" -type f | wc -l)
	printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" \
		"$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)" \
		"${cov:-?}" "${ft:-?}" "$corpus" >>"$B/logs/fuzz-summary.md"
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $t: ok, ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}"
		pass=$((pass + 1))
	else
		echo "fuzz $t: FAILED (exit $rc, log: $log, artifacts: $B/artifacts/$t/)"
		grep -A30 -m1 -E 'ERROR: |invariant broken|Sanitizer' "$log"
		fail=$((fail + 1))
	fi
}

fuzz() {
	local secs=$1
	shift
	local jobs=${FUZZ_JOBS:-2} nice=${FUZZ_NICE:-0}
	printf '| target | executions | exec/s | cov | ft | corpus |\n|---|---|---|---|---|---|\n' \
		>"$B/logs/fuzz-summary.md"
	for t in "$@"; do
		while [ ${#pid_target[@]} -ge "$jobs" ]; do
			wait_one
		done
		mkdir -p "$B/work/$t" "$B/artifacts/$t"
		# shellcheck disable=SC2046
		nice -n "$nice" "$B/fuzz_$t" $(target_opts "$t") \
			-max_total_time="$secs" -runs="${FUZZ_RUNS:--1}" \
			-print_final_stats=1 \
			-artifact_prefix="$B/artifacts/$t/" \
			"$B/work/$t" "$DIR/corpus/$t" >"$B/logs/fuzz-$t.log" 2>&1 &
		pid_target[$!]=$t
	done
	while [ ${#pid_target[@]} -gt 0 ]; do
		wait_one
	done
	echo "summary: $B/logs/fuzz-summary.md"
}

wait_one() {
	local done_pid rc
	wait -n -p done_pid "${!pid_target[@]}"
	rc=$?
	report "${pid_target[$done_pid]}" "$rc"
	unset "pid_target[$done_pid]"
}

mkdir -p "$B/logs"
case $mode in
regress)
	for t in "$@"; do
		regress "$t"
	done
	;;
fuzz)
	fuzz "$@"
	;;
*)
	echo "run.sh: unknown mode $mode" >&2
	exit 2
	;;
esac
echo "$mode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
