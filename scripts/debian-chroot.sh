#!/bin/sh
# Run make targets of this source tree inside a Debian 13 (trixie) chroot, so
# the plugins are built and tested against Knot 3.4 (module ABI 600) and
# PowerDNS 4.9 as well as the host's Debian 12 versions.
#
# Usage: scripts/debian-chroot.sh [make arguments...]
#   e.g. scripts/debian-chroot.sh test-knot test-powerdns
#
# Environment:
#   ANAME_CHROOT   chroot directory      (default /var/cache/libaname/trixie)
#   ANAME_SUITE    Debian suite          (default trixie)
#   ANAME_MIRROR   Debian mirror URL     (default: the one this machine's apt
#                                         sources use for its own release)
#   ANAME_CHROOT_DEPS  deps/*.txt files installed inside (default below)
#
# Idempotent: the chroot is created once (debootstrap --variant=minbase),
# packages missing inside are installed on every run through scripts/deps.sh,
# which does nothing when all are present.  The source tree is bind-mounted
# at /src; build outputs go to build/$ANAME_SUITE so they never mix with the
# host's build/.  /proc, /sys, /dev, /dev/pts and /src are mounted for the
# run and unmounted on exit, whatever the outcome.  One run at a time per
# chroot (flock).  The chroot shares the host's network, so tests inside
# start nsd/knotd/pdns_server on loopback as they do on the host.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
suite=${ANAME_SUITE:-trixie}
root=${ANAME_CHROOT:-/var/cache/libaname/$suite}
deps=${ANAME_CHROOT_DEPS:-"deps/core.txt deps/test.txt deps/support.txt deps/server.txt deps/python.txt deps/knot.txt deps/powerdns.txt deps/bench.txt"}

die() { echo "debian-chroot: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || die "debootstrap missing: install deps/chroot.txt"
command -v flock >/dev/null || die "flock missing (util-linux)"

# The mirror this machine already uses for Debian itself (not -security,
# not third-party repositories): deb822 .sources first, then sources.list.
host_mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			/^[ \t]*$/ { if (uri != "" && main) { print uri; exit } uri = ""; main = 0; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
			END { if (uri != "" && main) print uri }
		' "$f" | grep -v security | head -n1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $0 !~ /security/ && $0 ~ /debian/ {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' "$f"
	done
}
mirror=${ANAME_MIRROR:-$(host_mirror | head -n1)}
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources*; set ANAME_MIRROR"

mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9

mounted=""
cleanup() {
	for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
mnt() { # mnt TARGET mount-args...
	t=$1; shift
	mkdir -p "$t"
	mountpoint -q "$t" && umount -l "$t"
	mount "$@" "$t"
	mounted="$t $mounted"   # unmount in reverse order
}

# Mount points under the chroot, deepest first (a run killed before its
# trap ran leaves them behind).
mounts_under() {
	awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r
}

if [ ! -e "$root/.aname-bootstrapped" ]; then
	echo "debian-chroot: creating $suite in $root from $mirror" >&2
	# Never delete through a leftover bind mount (/src is the source tree).
	for m in $(mounts_under); do umount -l "$m"; done
	[ -z "$(mounts_under)" ] || die "mounts left under $root: $(mounts_under)"
	rm -rf --one-file-system "$root"
	debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 ||
		{ tail -n 20 "$root.log" >&2; die "debootstrap failed (log: $root.log)"; }
	printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
	touch "$root/.aname-bootstrapped"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

mnt "$root/proc" -t proc proc
mnt "$root/sys" -t sysfs sysfs
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" --bind /dev/pts
mnt "$root/dev/shm" --bind /dev/shm
mnt "$root/src" --bind "$src"

# shellcheck disable=SC2086
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	DEBIAN_FRONTEND=noninteractive sh -c "cd /src && scripts/deps.sh $deps"

echo "debian-chroot: $(chroot "$root" sh -c '. /etc/os-release; echo $PRETTY_NAME'):" \
	"make B=build/$suite $*" >&2
# env -i: the host's environment (paths, python, locale) must not leak in;
# CI is passed through so tests keep their CI behaviour.
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 ${CI:+CI=$CI} sh -c 'cd /src && exec make B="$0" "$@"' "build/$suite" "$@"
