#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Checks on a staged "make install DESTDIR=STAGE PREFIX=/usr" tree, as a
# packager would see it:
#  1. no installed ELF file carries an RPATH or RUNPATH (Debian policy
#     10.2; lintian: custom-library-search-path);
#  2. every unit in STAGE/UNITDIR passes "systemd-analyze verify", with
#     its ExecStart= binary and its Documentation= man page looked up in the
#     stage (the host has neither installed).
# Usage: distro/check-installed.sh STAGE UNITDIR UNIT...
set -eu
stage=$(cd "$1" && pwd) unitdir=$2
shift 2
[ $# -gt 0 ] || { echo "check-installed: no units named" >&2; exit 1; }
bad=0

n=0
for f in $(find "$stage" -type f); do
	head -c 4 "$f" | grep -q 'ELF' || continue
	n=$((n + 1))
	if readelf -d "$f" | grep -Eq '\((RPATH|RUNPATH)\)'; then
		echo "check-installed: ${f#"$stage"} has $(readelf -d "$f" | grep -E 'R(UN)?PATH')" >&2
		bad=1
	fi
done
[ "$n" -gt 0 ] || { echo "check-installed: no ELF file in $stage" >&2; exit 1; }
echo "check-installed: $n ELF files, none with RPATH/RUNPATH" >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in "$@"; do
	src=$stage$unitdir/$u
	[ -f "$src" ] || { echo "check-installed: $unitdir/$u not installed" >&2; bad=1; continue; }
	# Point ExecStart at the staged binary; everything else stays as
	# installed.
	sed "s|^ExecStart=/|ExecStart=$stage/|" "$src" > "$tmp/$u"
	# verify exits 0 on some problems (an unknown key is only "ignoring"),
	# so any diagnostic at all counts as a failure.
	if ! out=$(MANPATH=$stage/usr/share/man systemd-analyze verify "$tmp/$u" 2>&1) ||
	   [ -n "$out" ]; then
		echo "check-installed: systemd-analyze verify $unitdir/$u failed:" >&2
		echo "$out" >&2
		bad=1
	else
		echo "check-installed: systemd-analyze verify $unitdir/$u: ok" >&2
	fi
done
exit "$bad"
