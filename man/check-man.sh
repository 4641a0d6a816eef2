#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make check-man: every function the shared library exports has a man3 page
# in MANDIR3, and every page renders without groff warnings.
# Usage: man/check-man.sh SHLIB MANDIR3
# Exit 1 naming each function without a page (or each broken page).
set -eu
shlib=$1 dir=$2
[ -f "$shlib" ] || { echo "check-man: $shlib missing" >&2; exit 1; }
[ -d "$dir" ] || { echo "check-man: $dir missing" >&2; exit 1; }
funcs=$(nm -D --defined-only "$shlib" | awk '$2 == "T" && $3 ~ /^aname_/ {sub(/@.*/, "", $3); print $3}' | sort)
[ -n "$funcs" ] || { echo "check-man: no aname_* function exported by $shlib" >&2; exit 1; }
bad=0 n=0
for f in $funcs; do
	n=$((n + 1))
	if [ ! -s "$dir/$f.3" ]; then
		echo "check-man: no man page for exported function $f" >&2
		bad=1
		continue
	fi
	# -ww: all warnings; -z: no output.  Any diagnostic is a broken page.
	warn=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$dir/$f.3" 2>&1 || echo "groff failed")
	if [ -n "$warn" ]; then
		echo "check-man: $dir/$f.3: $warn" >&2
		bad=1
	fi
done
[ "$bad" -eq 0 ] || exit 1
echo "check-man: ok, $n exported functions, each with a page"
