#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Remove RPATH/RUNPATH from every ELF file under the given directories.
# Build-tree programs carry $ORIGIN run paths so they find build/libaname.so
# without LD_LIBRARY_PATH; installed ones must use the system search path
# (Debian policy 10.2).  Used by "make install" on the installed copies only.
# Usage: distro/strip-runpath.sh DIR...
set -eu
for d in "$@"; do
	[ -d "$d" ] || continue
	for f in $(find "$d" -type f); do
		head -c 4 "$f" | grep -q 'ELF' || continue
		readelf -d "$f" 2>/dev/null | grep -Eq '\((RPATH|RUNPATH)\)' || continue
		if ! command -v chrpath >/dev/null; then
			echo "strip-runpath: $f has a run path and chrpath is missing (make deps)" >&2
			exit 1
		fi
		chrpath -d "$f" >/dev/null
		echo "strip-runpath: removed the run path of $f"
	done
done
