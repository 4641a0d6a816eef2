#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the TSan programs (make check-tsan-programs).  Any ThreadSanitizer
# report makes the program exit 66 (halt_on_error); any failed check makes
# it exit 1.  Prints "N passed, N failed" last.
#   run.sh BINDIR
dir=${1:?usage: run.sh BINDIR}
here=$(cd "$(dirname "$0")" && pwd)
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$here/suppressions.txt ${TSAN_OPTIONS:-}"
pass=0
fail=0
for p in tsan_thread tsan_loop tsan_free tsan_swap tsan_cache; do
	start=$(date +%s)
	if "$dir/$p"; then
		pass=$((pass + 1))
		echo "$p: ok ($(($(date +%s) - start)) s)"
	else
		rc=$?
		fail=$((fail + 1))
		echo "$p: FAILED (exit $rc$( [ $rc -eq 66 ] && echo ', ThreadSanitizer report above'))"
	fi
done
echo "check-tsan-programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
