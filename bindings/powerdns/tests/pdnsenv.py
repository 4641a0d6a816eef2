# SPDX-License-Identifier: BSD-3-Clause
"""Real servers on loopback for the PowerDNS tests and benchmark.

Everything listens on 127.0.0.1 at a port that was free a moment ago, lives
in its own temporary directory, and is stopped by its own PID (never by
name).  Child processes get PR_SET_PDEATHSIG, so they die with us even if
we are killed.  Readiness is awaited by polling with a deadline, never by
sleeping a fixed time.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
PDNS_DIR = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(PDNS_DIR))
BUILD = os.environ.get("ANAME_BUILD", os.path.join(ROOT, "build"))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "zones")
ZONE = "pdns.test."
ZONE_FILE = os.path.join(HERE, "zones", "pdns.test.zone")
LUA_SCRIPT = os.path.join(PDNS_DIR, "aname-lua2.lua")
LIBANAME = os.path.join(BUILD, "libaname.so.0")
HELPER = os.path.join(BUILD, "bindings", "powerdns", "libaname-pdns.so")
RESOLVERD = os.path.join(BUILD, "examples", "aname-resolverd")

PDNS_SERVER = "/usr/sbin/pdns_server"
PDNSUTIL = "/usr/bin/pdnsutil"
NSD = "/usr/sbin/nsd"
UNBOUND = "/usr/sbin/unbound"
SQLITE_SCHEMA = "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"


def require(path):
    """Fail loudly (never skip) when a binary or file is missing."""
    if not os.path.exists(path):
        raise RuntimeError("required file missing: %s (run `make` and "
                           "`scripts/deps.sh deps/powerdns.txt`)" % path)
    return path


def _pdeathsig():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 a moment ago."""
    while True:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()


def query(port, name, rdtype, tcp=False, timeout=2.0, want_dnssec=False,
          rd=False):
    """One query; returns the dns.message response or None on timeout."""
    q = dns.message.make_query(name, rdtype, want_dnssec=want_dnssec)
    if not rd:
        q.flags &= ~dns.flags.RD
    try:
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=port, timeout=timeout)
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    except (dns.exception.Timeout, ConnectionError, OSError):
        return None


def addresses(resp, name, rdtype):
    """Sorted address strings of one RRset in the answer, and its TTL."""
    rrset = resp.get_rrset(resp.answer, dns.name.from_text(name),
                           dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))
    if rrset is None:
        return [], None
    return sorted(r.address for r in rrset), rrset.ttl


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.1f s waiting for %s"
                               % (timeout, what))
        time.sleep(0.02)


class Proc:
    """A child process in its own directory, stopped by PID."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.workdir = workdir
        self.log = os.path.join(workdir, name + ".log")
        with open(self.log, "wb") as out:
            self.p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=workdir,
                                      env=env, preexec_fn=_pdeathsig)

    def alive(self):
        return self.p.poll() is None

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def check_alive(self):
        if not self.alive():
            raise RuntimeError("%s exited with %s:\n%s" % (
                self.name, self.p.returncode, self.logtext()[-3000:]))

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def wait_dns(proc, port, name, rdtype="SOA", timeout=20.0, tcp=False):
    """Poll a server until it answers anything for name."""
    def ready():
        proc.check_alive()
        return query(port, name, rdtype, timeout=0.3, tcp=tcp) is not None
    wait_until(ready, timeout, "%s on port %d" % (proc.name, port))


class Env:
    """A temp directory plus every process and thread started in it."""

    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix="aname-pdns-%s-" % tag)
        self.procs = []
        self.stoppers = []

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def spawn(self, name, argv, env=None):
        pr = Proc(name, argv, self.dir, env=env)
        self.procs.append(pr)
        return pr

    def close(self):
        for pr in reversed(self.procs):
            pr.stop()
        for s in self.stoppers:
            s()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ servers

    def nsd(self, zones=None):
        """nsd serving the fixture zones example.test and other.test."""
        require(NSD)
        zones = zones or {
            "example.test": os.path.join(FIXTURES, "example.test.zone"),
            "other.test": os.path.join(FIXTURES, "other.test.zone"),
        }
        for attempt in range(5):
            port = free_port()
            d = self.path("nsd%d" % attempt)
            os.makedirs(d)
            conf = os.path.join(d, "nsd.conf")
            with open(conf, "w") as f:
                f.write("server:\n\tip-address: 127.0.0.1@%d\n\tdo-ip6: no\n"
                        "\tserver-count: 1\n\tverbosity: 0\n\trrl-ratelimit: 0\n"
                        "\tusername: \"\"\n\tchroot: \"\"\n\tzonesdir: \"%s\"\n"
                        "\tdatabase: \"\"\n\tzonelistfile: \"%s/zone.list\"\n"
                        "\txfrdfile: \"%s/xfrd.state\"\n\txfrdir: \"%s\"\n"
                        "\tpidfile: \"%s/nsd.pid\"\n"
                        "remote-control:\n\tcontrol-enable: no\n"
                        % (port, d, d, d, d, d))
                for name, zf in zones.items():
                    f.write("zone:\n\tname: \"%s\"\n\tzonefile: \"%s\"\n"
                            % (name, require(zf)))
            pr = self.spawn("nsd%d" % attempt, [NSD, "-d", "-c", conf])
            try:
                wait_dns(pr, port, "example.test.", timeout=10)
                return port
            except RuntimeError:
                if pr.alive():
                    raise
        raise RuntimeError("nsd did not start")

    def blackhole(self):
        """A UDP socket that reads queries and never answers."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        stop = threading.Event()
        counter = {"n": 0}

        def run():
            s.settimeout(0.2)
            while not stop.is_set():
                try:
                    s.recvfrom(4096)
                    counter["n"] += 1
                except socket.timeout:
                    pass
                except OSError:
                    return
        t = threading.Thread(target=run, daemon=True)
        t.start()

        def close():
            stop.set()
            t.join()
            s.close()
        self.stoppers.append(close)
        return s.getsockname()[1], counter

    def proxy(self, upstream_port):
        """UDP forwarder that counts queries per (qname, qtype)."""
        return CountingProxy(self, upstream_port)

    def closed_port(self):
        """A loopback port nothing listens on (guard for the root)."""
        return free_port()

    def resolverd(self, stubs, timeout_ms=500, extra=()):
        """aname-resolverd on a free port; returns (port, metrics_port)."""
        require(RESOLVERD)
        for attempt in range(5):
            port, mport = free_port(), free_port()
            argv = [RESOLVERD, "--listen", "127.0.0.1@%d" % port,
                    "--metrics", "127.0.0.1@%d" % mport,
                    "--timeout-ms", str(timeout_ms)]
            for zone, addr in stubs:
                argv += ["--stub", "%s=%s" % (zone, addr)]
            argv += list(extra)
            pr = self.spawn("resolverd%d" % attempt, argv)
            try:
                wait_dns(pr, port, "www.example.test.", "A", timeout=10)
                return port, mport
            except RuntimeError:
                if pr.alive():
                    raise
        raise RuntimeError("aname-resolverd did not start")

    def unbound(self, stubs):
        """Debian's unbound on a free port, stub zones only, no recursion."""
        require(UNBOUND)
        for attempt in range(5):
            port = free_port()
            conf = self.path("unbound%d.conf" % attempt)
            with open(conf, "w") as f:
                f.write("server:\n\tinterface: 127.0.0.1\n\tport: %d\n"
                        "\tdo-ip6: no\n\tuse-syslog: no\n\tlogfile: \"\"\n"
                        "\tusername: \"\"\n\tchroot: \"\"\n\tdirectory: \"%s\"\n"
                        "\tpidfile: \"\"\n\tdo-daemonize: no\n\tverbosity: 0\n"
                        "\tdo-not-query-localhost: no\n\tnum-threads: 1\n"
                        "\taccess-control: 127.0.0.0/8 allow\n"
                        "\tmodule-config: \"iterator\"\n"
                        "\tlocal-zone: \"test.\" transparent\n"
                        "\tauto-trust-anchor-file: \"\"\n"
                        "remote-control:\n\tcontrol-enable: no\n"
                        % (port, self.dir))
                for zone, addr in stubs:
                    f.write("stub-zone:\n\tname: \"%s\"\n\tstub-addr: %s\n"
                            % (zone, addr))
            pr = self.spawn("unbound%d" % attempt, [UNBOUND, "-d", "-c", conf])
            try:
                wait_dns(pr, port, "www.example.test.", "A", timeout=10)
                return port
            except RuntimeError:
                if pr.alive():
                    raise
        raise RuntimeError("unbound did not start")

    def pdns(self, name, lines, zone_ready=ZONE, env=None):
        """pdns_server with the given backend lines; returns its port."""
        require(PDNS_SERVER)
        for attempt in range(5):
            port = free_port()
            cdir = self.path("%s%d" % (name, attempt))
            os.makedirs(cdir, exist_ok=True)
            self.write_pdns_conf(cdir, port, lines)
            pr = self.spawn("%s%d" % (name, attempt),
                            [PDNS_SERVER, "--config-dir=" + cdir], env=env)
            try:
                wait_dns(pr, port, zone_ready, timeout=20)
                self.pdns_dir = cdir
                return port
            except RuntimeError:
                if pr.alive():
                    raise
        raise RuntimeError("pdns_server did not start")

    @staticmethod
    def write_pdns_conf(cdir, port, lines):
        with open(os.path.join(cdir, "pdns.conf"), "w") as f:
            f.write("\n".join([
                "local-address=127.0.0.1",
                "local-port=%d" % port,
                "socket-dir=%s" % cdir,
                "daemon=no",
                "guardian=no",
                "disable-syslog=yes",
                "webserver=no",
                "api=no",
                "security-poll-suffix=",
                "primary=no",
                "secondary=no",
                "loglevel=4",
            ] + list(lines)) + "\n")

    def lua2_conf(self, stubs, helper=True, extra="", zones=None):
        """The operator's lua2-filename file: the ANAME table + dofile.
        zones: {name: file}, default pdns.test."""
        path = self.path("aname-conf-%d.lua" % len(os.listdir(self.dir)))
        stub_lines = "".join('    ["%s"] = { "%s" },\n' % (z, a)
                             for z, a in stubs)
        zones = zones or {ZONE: ZONE_FILE}
        zone_items = ", ".join('["%s"] = "%s"' % (z, f)
                               for z, f in zones.items())
        with open(path, "w") as f:
            f.write('ANAME = {\n'
                    '  library = "%s",\n'
                    '  helper = %s,\n'
                    '  timeout_ms = 500,\n'
                    '  stubs = {\n%s  },\n'
                    '  zones = { %s },\n%s'
                    '}\n'
                    'dofile("%s")\n'
                    % (require(LIBANAME),
                       '"%s"' % require(HELPER) if helper else "false",
                       stub_lines, zone_items, extra, LUA_SCRIPT))
        return path


class CountingProxy:
    """Forwards UDP queries to upstream and counts them by (name, type)."""

    def __init__(self, env, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.counts = {}
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.pending = {}
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.bind(("127.0.0.1", 0))
        self.threads = [threading.Thread(target=self._down, daemon=True),
                        threading.Thread(target=self._up, daemon=True)]
        for t in self.threads:
            t.start()
        env.stoppers.append(self.close)

    def _down(self):
        self.sock.settimeout(0.2)
        while not self.stop_ev.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                msg = dns.message.from_wire(data)
                key = (msg.question[0].name.to_text().lower(),
                       dns.rdatatype.to_text(msg.question[0].rdtype))
            except Exception:
                key = ("?", "?")
            with self.lock:
                self.counts[key] = self.counts.get(key, 0) + 1
                self.pending[data[:2]] = addr
            self.up.sendto(data, self.upstream)

    def _up(self):
        self.up.settimeout(0.2)
        while not self.stop_ev.is_set():
            try:
                data, _ = self.up.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                addr = self.pending.pop(data[:2], None)
            if addr:
                self.sock.sendto(data, addr)

    def count(self, name, rdtype=None):
        with self.lock:
            return sum(n for (q, t), n in self.counts.items()
                       if q == name.lower() and (rdtype is None or t == rdtype))

    def close(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join()
        self.sock.close()
        self.up.close()


class Noise:
    """Fixed-rate UDP query load (dnsperf -Q stalls once most queries time
    out, so it cannot hold 1000 qps at a silent target).  Counts answers by
    rcode; never waits for them."""

    def __init__(self, port, name, rdtype, qps, sockets=8):
        self.target = ("127.0.0.1", port)
        self.qps = qps
        self.socks = []
        for _ in range(sockets):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            self.socks.append(s)
        q = dns.message.make_query(name, rdtype)
        q.flags &= ~dns.flags.RD
        self.wire = bytearray(q.to_wire())
        self.sent = 0
        self.rcodes = {}
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._send, daemon=True),
                        threading.Thread(target=self._recv, daemon=True)]
        for t in self.threads:
            t.start()

    def _send(self):
        t0 = time.monotonic()
        while not self.stop_ev.is_set():
            due = int((time.monotonic() - t0) * self.qps)
            while self.sent < due:
                self.wire[0:2] = (self.sent & 0xFFFF).to_bytes(2, "big")
                try:
                    self.socks[self.sent % len(self.socks)].sendto(
                        bytes(self.wire), self.target)
                except OSError:
                    pass
                self.sent += 1
            time.sleep(0.002)

    def _recv(self):
        import select
        while not self.stop_ev.is_set():
            r, _, _ = select.select(self.socks, [], [], 0.2)
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    continue
                if len(data) >= 4:
                    rc = dns.rcode.to_text(data[3] & 0x0F)
                    self.rcodes[rc] = self.rcodes.get(rc, 0) + 1

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join()
        for s in self.socks:
            s.close()
        return self.sent, dict(self.rcodes)
