#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# bench/ab.sh BUILD_DIR [REV_OR_LIB ...]: this tree's library against other
# builds on the hit path, in one process (bench/bench_ab.c).
#
# Each argument is a git revision, exported with git archive into
# BUILD_DIR/ab/REV and built there with its own Makefile, or the path of a
# libaname.so file (a build made by hand, say with one part taken out).
# This tree's BUILD_DIR/libaname.so comes first, so "/ first build" is
# against it.  With no argument it runs against itself: what the harness
# can resolve.  make bench-ab calls this (AB="REV ...").
set -eu
build=$1
shift
set -- "$build/libaname.so.0" "$@"
[ $# -gt 1 ] || set -- "$1" "$1"
libs=
for a in "$@"; do
	if [ -f "$a" ]; then
		libs="$libs $a"
		continue
	fi
	rev=$(git rev-parse --short "$a^{commit}") || {
		echo "bench-ab: $a is neither a file nor a revision" >&2
		exit 1
	}
	root=$build/ab/$rev
	if [ ! -f "$root/Makefile" ]; then
		mkdir -p "$root"
		git archive "$rev" | tar -x -C "$root"
	fi
	make -s -C "$root" build/libaname.so >/dev/null
	libs="$libs $root/build/libaname.so.0"
done
echo "bench-ab:$libs"
# shellcheck disable=SC2086 # one word per library
exec "$build/bench/bench_ab" $libs
