#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make deb-smoke: install the built .debs into a clean Debian 12 chroot
# (debootstrap --variant=minbase bookworm, from this machine's Debian
# mirror) and run distro/smoke.sh there with the installed programs and the
# Python package, against nsd inside the chroot.  The daemons' /metrics are
# copied out and checked with promtool here (promtool is not installed in
# the chroot).  Needs root and the Debian archive.
# Usage: distro/deb-smoke.sh DEBDIR WORKDIR
set -eu
debdir=$(cd "$1" && pwd) work=$2
[ "$(id -u)" -eq 0 ] || { echo "deb-smoke: needs root (debootstrap, chroot)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)

# The first Debian URI this machine's apt uses (deb822 or one-line form).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || { echo "deb-smoke: no Debian mirror in /etc/apt" >&2; exit 1; }

root=$work/chroot
rm -rf "$work"
mkdir -p "$work"
cleanup() {
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "deb-smoke: debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
mount -t proc proc "$root/proc"
# Daemons must not start from postinst scripts inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

mkdir -p "$root/smoke/debs" "$root/smoke/zones" "$root/smoke/out"
pkgs=""
for p in libaname0 libaname-dev aname-server knot-module-aname python3-aname; do
	f=$(ls "$debdir"/${p}_*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "deb-smoke: no ${p}_*.deb in $debdir" >&2; exit 1; }
	cp "$f" "$root/smoke/debs/"
	pkgs="$pkgs /smoke/debs/$(basename "$f")"
done
cp "$top/tests/fixtures/zones/example.test.zone" "$top/tests/fixtures/zones/alias.test.zone" \
	"$root/smoke/zones/"
cp "$top/distro/smoke.sh" "$root/smoke/"

echo "deb-smoke: apt-get install the packages, nsd and ldnsutils in the chroot"
# shellcheck disable=SC2086
chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends $pkgs nsd ldnsutils" \
	>"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; exit 1; }
chroot "$root" dpkg-query -W libaname0 libaname-dev aname-server knot-module-aname python3-aname

echo "deb-smoke: smoke test in the chroot"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SMOKE_PYTHON=1 SMOKE_KNOT=1 SMOKE_UNIT=1 \
	sh /smoke/smoke.sh /smoke/zones /smoke/out
# What libaname-dev and libaname0 must have put in place.
chroot "$root" sh -c 'test -f /usr/include/aname.h && test -L /usr/lib/*/libaname.so &&
	test -f /usr/share/man/man3/aname_resolve.3.gz && test -f /usr/share/doc/libaname/RUNBOOK.md' ||
	{ echo "deb-smoke: header, dev link, man page or runbook missing" >&2; exit 1; }
for m in "$root"/smoke/out/*.metrics; do
	promtool check metrics < "$m" || { echo "deb-smoke: promtool: $(basename "$m")" >&2; exit 1; }
	echo "deb-smoke: promtool check metrics $(basename "$m"): ok"
done
echo "deb-smoke: ok"
