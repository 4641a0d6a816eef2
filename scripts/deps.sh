#!/bin/sh
# Install the Debian packages listed in deps/*.txt that are missing.
# Usage: scripts/deps.sh deps/core.txt [deps/test.txt ...]
# As root it runs apt-get; otherwise it names what is missing and fails, so a
# build never half-works on a machine that lacks something.
set -eu
missing=""
for f in "$@"; do
	for p in $(sed -e 's/#.*//' "$f"); do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's postinst scripts try to start daemons (nsd, knot, pdns); tests run
# their own instances on high ports, so keep the system ones from starting.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.aname
if [ ! -e /usr/sbin/policy-rc.d ]; then
	cp /usr/sbin/policy-rc.d.aname /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
rm -f /usr/sbin/policy-rc.d.aname
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
