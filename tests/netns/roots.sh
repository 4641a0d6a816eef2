#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The root canary against real root servers, in a network namespace of
# its own (full recursion needs port 53 at the roots' addresses):
#
#   tests/netns/roots.sh build/tests/roots_canary
#
# The namespace has only lo, carrying the 13 IPv4 addresses of
# libunbound's built-in root hints, 10.53.0.1 (the root named by a
# root-hints file) and 10.53.0.2 (the "example." TLD server).  nsd serves
# "." on the root addresses, delegating "example." to a second nsd.  Three
# runs of roots_canary (see roots_canary.c): built-in hints with the root
# nsd stopped (SIGSTOP) and resumed, built-in hints with three roots in a
# row dropped (health must stay ok) and then every packet to the roots
# dropped (nftables) and let through again, and a root-hints file with
# its root's packets dropped.
# Every server is stopped by its PID; the namespace goes with the script.
# Missing tools fail the test (deps/test.txt lists them), never skip it.
set -eu
# dash's kill cannot signal a process group; procps' can.
KILL=/bin/kill

prog=${1:?usage: roots.sh path/to/roots_canary}
case $prog in /*) ;; *) prog=$(pwd)/$prog ;; esac

if [ -z "${ANAME_IN_NETNS:-}" ]; then
	for t in unshare ip nsd dig nft /bin/kill; do
		if ! command -v "$t" >/dev/null 2>&1 &&
		   ! [ -x "/usr/sbin/$t" ]; then
			echo "roots.sh: FAILED: $t is missing (deps/test.txt:" \
			     "util-linux, iproute2, nftables, nsd, bind9-dnsutils, procps)" >&2
			exit 1
		fi
	done
	[ -x "$prog" ] || { echo "roots.sh: FAILED: no $prog" >&2; exit 1; }
	# Root creates a plain network namespace; anyone else gets one inside
	# a user namespace where they are root (binding port 53 needs it).
	if [ "$(id -u)" -eq 0 ]; then
		ns="--net"
	else
		ns="--user --map-root-user --net"
	fi
	# shellcheck disable=SC2086
	exec unshare $ns env ANAME_IN_NETNS=1 PATH="$PATH:/usr/sbin:/sbin" \
		sh "$0" "$prog"
fi

ROOTS4="198.41.0.4 199.9.14.201 192.33.4.12 199.7.91.13 192.203.230.10
192.5.5.241 192.112.36.4 198.97.190.53 192.36.148.17 192.58.128.30
193.0.14.129 199.7.83.42 202.12.27.33"
HINT_ROOT=10.53.0.1
TLD=10.53.0.2

dir=$(mktemp -d /tmp/aname-roots-XXXXXX)
pids=""
cleanup() {
	for p in $pids; do
		$KILL -CONT -- "-$p" 2>/dev/null || true
		$KILL -TERM -- "-$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

ip link set lo up
for a in $ROOTS4 $HINT_ROOT $TLD; do
	ip addr add "$a/32" dev lo
done
# The black hole: a rule dropping every packet to a root's port 53 as it
# arrives (input hook; lo traffic passes it), so the sender's sendto()
# succeeds and nothing comes back, as in a remote outage (on the output
# hook the kernel would fail sendto() with EPERM instead).  Added and
# flushed by roots_canary.
nft add table inet aname
nft add chain inet aname in '{ type filter hook input priority 0; }'
fault_env() { # the root addresses, comma-separated
	ROOTS_FAULT_ON="nft add rule inet aname in ip daddr { $1 } meta l4proto { udp, tcp } th dport 53 drop"
	ROOTS_FAULT_OFF="nft flush chain inet aname in"
	export ROOTS_FAULT_ON ROOTS_FAULT_OFF
}

# nsd_conf NAME ZONE-NAME ZONE-FILE ADDR...
nsd_conf() {
	name=$1 zone=$2 file=$3
	shift 3
	d=$dir/$name
	mkdir -p "$d"
	{
		echo "server:"
		for a in "$@"; do echo "  ip-address: $a"; done
		cat <<CONF
  port: 53
  do-ip6: no
  server-count: 1
  verbosity: 1
  rrl-ratelimit: 0
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  pidfile: "$d/nsd.pid"
  logfile: "$d/nsd.log"
remote-control:
  control-enable: no
zone:
  name: "$zone"
  zonefile: "$file"
CONF
	} > "$d/nsd.conf"
}

# start_nsd NAME ADDR QNAME: in its own session (so its process group is
# its PID), ready once it answers QNAME SOA at ADDR.
start_nsd() {
	setsid nsd -d -c "$dir/$1/nsd.conf" &
	pid=$!
	pids="$pids $pid"
	i=0
	until dig +norec +time=1 +tries=1 @"$2" "$3" SOA 2>/dev/null |
	      grep -q 'status: NOERROR'; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "roots.sh: FAILED: nsd $1 did not start" >&2
			cat "$dir/$1/nsd.log" >&2 || true
			exit 1
		fi
		sleep 0.1 # nsd gives no readiness signal but its answers
	done
	started=$pid
}

stop_nsd() {
	$KILL -CONT -- "-$1" 2>/dev/null || true
	$KILL -TERM -- "-$1"
	wait "$1" || true
	new=""
	for p in $pids; do [ "$p" = "$1" ] || new="$new $p"; done
	pids=$new
}

# The TLD, shared by both runs: TTL 3600, so the cache stays fresh.
cat > "$dir/example.zone" <<ZONE
\$TTL 3600
example. IN SOA ns.example. hostmaster.example. 1 3600 900 604800 300
example. IN NS ns.example.
ns.example. IN A $TLD
www.example. IN A 192.0.2.1
ZONE

# root_zone FILE NS-NAME=ADDR...
root_zone() {
	f=$1
	shift
	{
		echo "\$TTL 86400"
		echo ". IN SOA ${1%%=*} hostmaster.example. 1 1800 900 604800 86400"
		for p in "$@"; do echo ". IN NS ${p%%=*}"; done
		for p in "$@"; do echo "${p%%=*} IN A ${p#*=}"; done
		echo "example. 172800 IN NS ns.example."
		echo "ns.example. 172800 IN A $TLD"
	} > "$f"
}

nsd_conf tld example. "$dir/example.zone" "$TLD"
start_nsd tld "$TLD" example.

# Run 1: libunbound's built-in hints.
set --
i=0
for a in $ROOTS4; do
	l=$(printf "\\$(printf '%03o' $((97 + i)))")
	set -- "$@" "$l.root-servers.net.=$a"
	i=$((i + 1))
done
root_zone "$dir/root-builtin.zone" "$@"
# shellcheck disable=SC2086
nsd_conf root-builtin . "$dir/root-builtin.zone" $ROOTS4
start_nsd root-builtin 198.41.0.4 .
root=$started
"$prog" builtin - "stop:$root"
fault_env "$(echo $ROOTS4 | tr ' ' ',')"
# First b, c and d.root (in a row in the rotation) alone: not silent.
ROOTS_FAULT_SOME="nft add rule inet aname in ip daddr { 199.9.14.201, 192.33.4.12, 199.7.91.13 } meta l4proto { udp, tcp } th dport 53 drop" \
	"$prog" builtin - drop
stop_nsd "$root"

# Run 2: a root-hints file naming a root at an address of its own.
root_zone "$dir/root-hints.zone" "a.root.hint.=$HINT_ROOT"
cat > "$dir/root.hints" <<HINTS
.                3600000  NS  a.root.hint.
a.root.hint.     3600000  A   $HINT_ROOT
HINTS
nsd_conf root-hints . "$dir/root-hints.zone" "$HINT_ROOT"
start_nsd root-hints "$HINT_ROOT" .
root=$started
fault_env "$HINT_ROOT"
"$prog" hints "$dir/root.hints" drop
stop_nsd "$root"
echo "roots.sh: ok"
