#!/bin/bash
# Benchmark: aname-server plain-A and cached-ALIAS QPS against PowerDNS's
# built-in ALIAS (bind backend, expand-alias=yes, resolver= unbound), with
# dnsperf on loopback.  Writes $B/bench/server.md.
#
#   examples/aname-server/bench.sh [BUILD_DIR]      (make bench-server)
#   BENCH_SECONDS=10 BENCH_RUNS=3 BENCH_CLIENTS=8 (defaults)
#
# Everything runs on 127.0.0.1 at free high ports; every daemon is stopped
# by PID when the script exits, however it exits.
set -eu
B=${1:-build}
SECS=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
CLIENTS=${BENCH_CLIENTS:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER=$ROOT/$B/examples/aname-server
FIX=$ROOT/tests/fixtures/zones
OUT=$ROOT/$B/bench/server.md
for tool in dnsperf nsd unbound pdns_server dig; do
	command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] ||
		{ echo "bench-server: $tool is missing: apt-get install dnsperf pdns-server pdns-backend-bind unbound nsd" >&2; exit 1; }
done
[ -x "$SERVER" ] || { echo "bench-server: build $SERVER first" >&2; exit 1; }

T=$(mktemp -d /tmp/aname-bench-server.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket
while True:
    t=socket.socket(); t.bind(("127.0.0.1",0)); p=t.getsockname()[1]
    u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1",p)); print(p); break
    except OSError: pass'
}

# Poll until a server answers NAME/TYPE with status NOERROR (deadline 10 s).
await_answer() {
	local port=$1 name=$2 type=$3 i
	for i in $(seq 100); do
		if dig +tries=1 +time=1 -p "$port" @127.0.0.1 "$name" "$type" 2>/dev/null |
			grep -q 'status: NOERROR'; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench-server: 127.0.0.1@$port never answered $name $type" >&2
	return 1
}

NSD_PORT=$(free_port); UB_PORT=$(free_port); SRV_PORT=$(free_port); PDNS_PORT=$(free_port)

# --- nsd: the targets' authoritative server.
cat > "$T/nsd.conf" <<EOC
server:
	ip-address: 127.0.0.1
	port: $NSD_PORT
	server-count: 1
	database: ""
	zonelistfile: "$T/zone.list"
	xfrdfile: "$T/xfrd.state"
	pidfile: "$T/nsd.pid"
	logfile: "$T/nsd.log"
	username: ""
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: example.test
	zonefile: "$FIX/example.test.zone"
zone:
	name: other.test
	zonefile: "$FIX/other.test.zone"
EOC
/usr/sbin/nsd -d -c "$T/nsd.conf" 2>>"$T/nsd.log" & PIDS="$PIDS $!"
await_answer "$NSD_PORT" www.example.test A

# --- unbound: the recursive resolver PowerDNS needs for resolver=.
cat > "$T/unbound.conf" <<EOC
server:
	interface: 127.0.0.1
	port: $UB_PORT
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$T"
	pidfile: "$T/unbound.pid"
	use-syslog: no
	logfile: "$T/unbound.log"
	do-not-query-localhost: no
	module-config: "iterator"
	local-zone: "test." nodefault
	num-threads: 1
stub-zone:
	name: "example.test"
	stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
	name: "other.test"
	stub-addr: 127.0.0.1@$NSD_PORT
EOC
/usr/sbin/unbound -d -c "$T/unbound.conf" & PIDS="$PIDS $!"
await_answer "$UB_PORT" www.example.test A

# --- the served zone: the same file for both servers.
cat > "$T/bench.test.zone" <<'EOC'
$ORIGIN bench.test.
$TTL 300
@	IN	SOA	ns1.bench.test. hostmaster.bench.test. 1 3600 900 604800 300
@	IN	NS	ns1.bench.test.
ns1	IN	A	192.0.2.53
www	IN	A	192.0.2.10
@	IN	ALIAS	www.example.test.
EOC

# --- aname-server (one thread: dnsperf gets the other core).  Without the
# ALIAS record in the answer, as PowerDNS answers: the same bytes on both.
"$SERVER" --listen 127.0.0.1@$SRV_PORT --zone "$T/bench.test.zone" \
	--stub example.test=127.0.0.1@$NSD_PORT --stub .=127.0.0.1@$(free_port) \
	--no-include-alias \
	2>"$T/aname-server.log" & SRV_PID=$!; PIDS="$PIDS $SRV_PID"
await_answer "$SRV_PORT" bench.test A

# --- PowerDNS, bind backend, built-in ALIAS (config from hosts.md 3.1).
echo "zone \"bench.test\" { type master; file \"$T/bench.test.zone\"; };" > "$T/named.conf"
mkdir -p "$T/pdns"
cat > "$T/pdns/pdns.conf" <<EOC
launch=bind
bind-config=$T/named.conf
local-address=127.0.0.1
local-port=$PDNS_PORT
socket-dir=$T/pdns
daemon=no
guardian=no
disable-syslog=yes
webserver=no
api=no
security-poll-suffix=
primary=no
secondary=no
resolver=127.0.0.1:$UB_PORT
expand-alias=yes
EOC
pdns_server --config-dir="$T/pdns" 2>"$T/pdns.log" & PDNS_PID=$!; PIDS="$PIDS $PDNS_PID"
await_answer "$PDNS_PORT" bench.test A

# Both must give the same addresses before we measure anything.
for port in $SRV_PORT $PDNS_PORT; do
	got=$(dig +short -p "$port" @127.0.0.1 bench.test A | sort | tr '\n' ' ')
	[ "$got" = "192.0.2.1 192.0.2.2 " ] ||
		{ echo "bench-server: port $port answered '$got' for bench.test A" >&2; exit 1; }
done

echo "www.bench.test A" > "$T/plain.txt"
echo "bench.test A" > "$T/alias.txt"
CMD="dnsperf -s 127.0.0.1 -p PORT -d FILE -l $SECS -c $CLIENTS"

# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# One measurement of server PID on PORT with FILE: prints "QPS CPU-us/query".
# CPU per query is measured too because it is far less sensitive than QPS
# to other load on a shared machine.
perf() {
	local c0 c1 out qps n
	c0=$(cpu_ticks "$3")
	out=$(dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$SECS" -c "$CLIENTS" 2>&1)
	c1=$(cpu_ticks "$3")
	echo "$out" >> "$T/dnsperf.log"
	qps=$(echo "$out" | awk '/Queries per second/ {printf "%d", $4}')
	n=$(echo "$out" | awk '/Queries completed/ {print $3}')
	[ -n "$qps" ] && [ -n "$n" ] && [ "$n" -gt 0 ] || return 0
	awk -v q="$qps" -v n="$n" -v c=$((c1 - c0)) -v t="$TICK" \
		'BEGIN { printf "%d %.2f\n", q, c / t * 1e6 / n }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RES ALL CPU CPUALL
for run in $(seq "$RUNS"); do
	for cfg in "aname plain $SRV_PORT $SRV_PID" "aname alias $SRV_PORT $SRV_PID" \
		   "pdns plain $PDNS_PORT $PDNS_PID" "pdns alias $PDNS_PORT $PDNS_PID"; do
		set -- $cfg
		r=$(perf "$3" "$T/$2.txt" "$4")
		[ -n "$r" ] || { echo "bench-server: dnsperf failed" >&2; tail -20 "$T/dnsperf.log" >&2; exit 1; }
		ALL[$1-$2]="${ALL[$1-$2]:-} ${r% *}"
		CPUALL[$1-$2]="${CPUALL[$1-$2]:-} ${r#* }"
		echo "run $run: $1 $2: ${r% *} qps, ${r#* } us CPU/query" >&2
	done
done
for k in aname-plain aname-alias pdns-plain pdns-alias; do
	# shellcheck disable=SC2086
	RES[$k]=$(median ${ALL[$k]})
	# shellcheck disable=SC2086
	CPU[$k]=$(median ${CPUALL[$k]})
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f %%", 100 * a / b }'; }
lost=$(grep -h "Queries lost" "$T/dnsperf.log" | awk '{s += $3} END {print s + 0}')

mkdir -p "$(dirname "$OUT")"
cat > "$OUT" <<EOM
## aname-server vs PowerDNS built-in ALIAS (dnsperf, loopback)

$(date -u +%Y-%m-%d), $(nproc) cores, dnsperf ${SECS} s x ${RUNS} runs, ${CLIENTS} clients, medians.
Load average before / after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg) (numbers are only
comparable on a quiet machine; the four cells are interleaved run by run).
aname-server: 1 worker thread (event loop), ALIAS target cached (registered at load).
PowerDNS $(dpkg-query -W -f='${Version}' pdns-server 2>/dev/null) bind backend, default caches,
expand-alias=yes, resolver= unbound on loopback (stubbing to nsd); same zone file.

| server | query | median QPS | runs (QPS) | median server CPU µs/query |
|---|---|---|---|---|
| aname-server | plain A \`www.bench.test\` | ${RES[aname-plain]} | ${ALL[aname-plain]} | ${CPU[aname-plain]} |
| aname-server | cached ALIAS \`bench.test A\` | ${RES[aname-alias]} | ${ALL[aname-alias]} | ${CPU[aname-alias]} |
| PowerDNS | plain A \`www.bench.test\` | ${RES[pdns-plain]} | ${ALL[pdns-plain]} | ${CPU[pdns-plain]} |
| PowerDNS | ALIAS \`bench.test A\` | ${RES[pdns-alias]} | ${ALL[pdns-alias]} | ${CPU[pdns-alias]} (+ unbound's) |

- aname-server cached ALIAS / its plain A, QPS: **$(ratio "${RES[aname-alias]}" "${RES[aname-plain]}")** (goal >= 95 %)
- the same by CPU per query (plain / ALIAS, less sensitive to other load): **$(ratio "${CPU[aname-plain]}" "${CPU[aname-alias]}")**
- aname-server ALIAS / PowerDNS ALIAS, QPS: **$(ratio "${RES[aname-alias]}" "${RES[pdns-alias]}")**
- queries lost over all runs: $lost

Command (per cell): \`$CMD\` with a one-line query file;
reproduce with \`make bench-server\` (examples/aname-server/bench.sh).
EOM
cat "$OUT"
