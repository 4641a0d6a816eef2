#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Line coverage of the code each fuzz target is aimed at, from replaying
# corpora through coverage builds (make fuzz-coverage).
#   coverage.sh COVDIR CORPUS_ROOT...   e.g. build-fuzz/cov tests/fuzz/corpus build-fuzz/work
# Prints one table row per target.
set -u
cov=${1:?usage: coverage.sh COVDIR CORPUS_ROOT...}
shift
declare -A files=(
	[name]="lib/name.c"
	[zone]="examples/aname-server/zone.c"
	[answer]="lib/answer.c"
	[query]="examples/aname-server/dnsmsg.c examples/aname-server/answer.c"
	[synth]="lib/synth.c lib/result.c"
)
echo "| target | files | inputs | line coverage | function coverage |"
echo "|---|---|---|---|---|"
for t in name zone answer query synth; do
	rm -rf "$cov/prof-$t"
	mkdir -p "$cov/prof-$t"
	inputs=()
	for root in "$@"; do
		for f in "$root/$t"/*; do
			[ -f "$f" ] && inputs+=("$f")
		done
	done
	n=${#inputs[@]}
	# All inputs in one process; if one of them crashes (a known
	# finding), again one process per input so only that one is lost.
	if ! LLVM_PROFILE_FILE="$cov/prof-$t/all.profraw" \
		"$cov/fuzz_$t" -runs=1 "${inputs[@]}" >/dev/null 2>&1; then
		rm -f "$cov/prof-$t"/*.profraw
		for f in "${inputs[@]}"; do
			LLVM_PROFILE_FILE="$cov/prof-$t/%p.profraw" \
				"$cov/fuzz_$t" -runs=1 "$f" >/dev/null 2>&1
		done
	fi
	llvm-profdata merge -sparse "$cov/prof-$t"/*.profraw -o "$cov/$t.profdata"
	# shellcheck disable=SC2086
	total=$(llvm-cov report "$cov/fuzz_$t" -instr-profile="$cov/$t.profdata" \
		${files[$t]} | awk '/^TOTAL/ {print $10, $7}')
	printf '| %s | %s | %d | %s | %s |\n' "$t" "${files[$t]}" "$n" \
		"${total%% *}" "${total##* }"
done
