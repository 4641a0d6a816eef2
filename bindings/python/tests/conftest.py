# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures: a real nsd on loopback, a black hole, resolvers that stay on
loopback.

nsd serves tests/fixtures/zones/{example,other}.test.zone (see
tests/fixtures/README.md for every name).  It runs in the foreground as our
child, in its own process group, with PR_SET_PDEATHSIG so that it dies with
the test run even if pytest is killed; teardown kills it by PID.
"""

import ctypes
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PKG = HERE.parent
ROOT = PKG.parent.parent
ZONES = ROOT / "tests" / "fixtures" / "zones"
NSD = "/usr/sbin/nsd"

# Import the package from the source tree, whatever the working directory,
# and load the library from the build tree unless told otherwise.
sys.path.insert(0, str(PKG))
os.environ.setdefault("ANAME_LIBRARY", str(ROOT / "build" / "libaname.so.0"))

import aname  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port")


def _die_with_parent():
    # Runs in the child between fork and exec.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _soa_ok(port):
    q = dns.message.make_query("example.test.", "SOA")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.2)
    except (dns.exception.Timeout, OSError):
        return False
    return r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1


class Nsd:
    def __init__(self):
        if not os.access(NSD, os.X_OK):
            raise RuntimeError("%s missing: apt-get install nsd" % NSD)
        for z in ("example.test.zone", "other.test.zone"):
            if not (ZONES / z).is_file():
                raise RuntimeError("fixture zone %s missing" % (ZONES / z))
        self.dir = tempfile.mkdtemp(prefix="aname-py-nsd-")
        self.proc = None
        self.port = None

    def _config(self, port):
        zones = "".join('zone:\n\tname: "%s"\n\tzonefile: "%s"\n'
                        % (z, ZONES / ("%s.zone" % z))
                        for z in ("example.test", "other.test"))
        d = self.dir
        text = (
            "server:\n"
            "\tip-address: 127.0.0.1@%d\n"
            "\tdo-ip6: no\n"
            "\tserver-count: 1\n"
            "\tverbosity: 0\n"
            # Response rate limiting drops NXDOMAIN bursts (shared notes).
            "\trrl-ratelimit: 0\n"
            '\tusername: ""\n'
            '\tchroot: ""\n'
            '\tdatabase: ""\n'
            '\tzonelistfile: "%s/zone.list"\n'
            '\txfrdfile: "%s/xfrd.state"\n'
            '\txfrdir: "%s"\n'
            '\tpidfile: "%s/nsd.pid"\n'
            '\tlogfile: "%s/nsd.log"\n'
            "remote-control:\n"
            "\tcontrol-enable: no\n" % (port, d, d, d, d, d)) + zones
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, deadline_s=10.0):
        # A port picked free can be taken before nsd binds it: retry.
        for _ in range(3):
            port = free_port()
            conf = self._config(port)
            self.proc = subprocess.Popen(
                [NSD, "-d", "-c", conf], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with_parent)
            end = time.monotonic() + deadline_s
            while time.monotonic() < end and self.proc.poll() is None:
                if _soa_ok(port):
                    self.port = port
                    return self
            self.stop()
        raise RuntimeError("nsd did not answer SOA on loopback: %s"
                           % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return "(no nsd.log)"

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class BlackHole:
    """UDP and TCP on one loopback port: reads every query, never answers."""

    def __init__(self):
        self.port = free_port()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.received = 0
        self.conns = []
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import select
        p = select.poll()
        for s in (self.udp, self.tcp):
            p.register(s, select.POLLIN)
        p.register(self.stop_r, select.POLLIN)
        socks = {self.udp.fileno(): self.udp, self.tcp.fileno(): self.tcp}
        while True:
            for fd, _ in p.poll():
                if fd == self.stop_r:
                    return
                s = socks[fd]
                if s is self.udp:
                    s.recvfrom(65535)
                    self.received += 1
                elif s is self.tcp:
                    c, _ = s.accept()
                    self.conns.append(c)
                    socks[c.fileno()] = c
                    p.register(c, select.POLLIN)
                else:
                    if not s.recv(65535):
                        p.unregister(fd)
                        del socks[fd]
                        s.close()

    def close(self):
        os.write(self.stop_w, b"x")
        self.thread.join(5)
        for s in [self.udp, self.tcp] + self.conns:
            s.close()
        os.close(self.stop_r)
        os.close(self.stop_w)


@pytest.fixture(scope="session")
def nsd():
    server = Nsd()
    try:
        yield server.start()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def closed_port():
    """A loopback port nobody listens on: the guard stub for '.', so that a
    name outside the test zones fails on loopback instead of recursing from
    the Internet root."""
    return free_port()


@pytest.fixture
def blackhole():
    bh = BlackHole()
    try:
        yield bh
    finally:
        bh.close()


def stubs_for(nsd_port, closed_port, **extra):
    s = {"example.test.": "127.0.0.1@%d" % nsd_port,
         "other.test.": "127.0.0.1@%d" % nsd_port,
         ".": "127.0.0.1@%d" % closed_port}
    s.update(extra)
    return s


@pytest.fixture
def make_resolver(nsd, closed_port):
    """Resolver factory on loopback stubs; every resolver is closed after
    the test."""
    made = []

    def make(extra_stubs=None, **kw):
        stubs = stubs_for(nsd.port, closed_port)
        stubs.update(extra_stubs or {})
        kw.setdefault("timeout", 2.0)
        r = aname.Resolver(stubs=stubs, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def resolver(make_resolver):
    return make_resolver()
