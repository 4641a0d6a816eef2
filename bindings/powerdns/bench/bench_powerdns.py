#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench-powerdns: PowerDNS (4.7 on Debian 12, 4.9 on 13) built-in ALIAS with resolver= a plain
unbound versus resolver= aname-resolverd, plus the lua2 + libaname path.

All in one run, on loopback, with dnsperf:
  1. ALIAS QPS (dnsperf, 10 s x 3, median) per resolver, and for lua2;
  2. plain-A QPS over 60 s (5 s intervals) while a second dnsperf sends
     1000 qps of ALIAS queries whose target's upstream never answers;
  3. lua2 context sharing: Lua states and upstream queries per target with
     and without the helper .so, and the cost of one thread-mode context.

Writes markdown to --out (build/bench/powerdns.md).
"""

import argparse
import ctypes
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import pdnsenv  # noqa: E402
from pdnsenv import ZONE  # noqa: E402

DNSPERF = "/usr/bin/dnsperf"
CACHES_OFF = ["cache-ttl=0", "query-cache-ttl=0", "negquery-cache-ttl=0"]
RUNS = 3
RUN_S = 10
LONG_S = 60
NOISE_QPS = 1000


def pdns_version():
    """The pdns_server version, e.g. 4.9.18 (--version prints to stderr)."""
    r = subprocess.run([pdnsenv.PDNS_SERVER, "--version"], capture_output=True,
                       text=True, timeout=30)
    m = re.search(r"PowerDNS Authoritative Server (\S+)", r.stdout + r.stderr)
    return m.group(1) if m else "(unknown version)"

def dnsperf(port, qfile, seconds, extra=(), stats_every=None):
    argv = [DNSPERF, "-s", "127.0.0.1", "-p", str(port), "-d", qfile,
            "-l", str(seconds), "-c", "8", "-t", "2"] + list(extra)
    if stats_every:
        argv += ["-S", str(stats_every)]
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    lost = re.search(r"Queries lost:\s+(\d+) \(([\d.]+)%\)", out)
    intervals = [float(x) for x in re.findall(r"^\d+\.\d+: ([\d.]+)$", out, re.M)]
    return {
        "qps": float(m.group(1)) if m else 0.0,
        "lost_pct": float(lost.group(2)) if lost else 100.0,
        "intervals": intervals,
        "argv": " ".join(argv),
        "out": out,
    }


def qfile(env, name, lines):
    path = env.path(name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def med(xs):
    return statistics.median(xs) if xs else 0.0


def ctx_cost(n=20):
    """Mean wall time of aname_ctx_new + aname_ctx_free in thread mode."""
    lib = ctypes.CDLL(pdnsenv.require(pdnsenv.LIBANAME))
    lib.aname_config_new.restype = ctypes.c_void_p
    lib.aname_config_free.argtypes = [ctypes.c_void_p]
    lib.aname_config_set_thread.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.aname_config_add_forwarder.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.aname_ctx_new.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.aname_ctx_free.argtypes = [ctypes.c_void_p]
    cfg = lib.aname_config_new()
    lib.aname_config_set_thread(cfg, 1)
    lib.aname_config_add_forwarder(cfg, b"127.0.0.1@9")
    new_t, free_t = [], []
    for _ in range(n):
        ctx = ctypes.c_void_p()
        t0 = time.perf_counter()
        rc = lib.aname_ctx_new(ctypes.byref(ctx), cfg)
        t1 = time.perf_counter()
        if rc != 0:
            raise RuntimeError("aname_ctx_new: %d" % rc)
        lib.aname_ctx_free(ctx)
        t2 = time.perf_counter()
        new_t.append((t1 - t0) * 1000)
        free_t.append((t2 - t1) * 1000)
    lib.aname_config_free(cfg)
    return med(new_t), med(free_t)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    pdnsenv.require(DNSPERF)

    env = pdnsenv.Env("bench")
    with open("/proc/loadavg") as f:
        results = {"load": " ".join(f.read().split()[:3])}
    try:
        nsd = env.nsd()
        proxy = env.proxy(nsd)
        bh, _ = env.blackhole()
        closed = env.closed_port()
        stubs = [("example.test.", "127.0.0.1@%d" % proxy.port),
                 ("other.test.", "127.0.0.1@%d" % proxy.port),
                 ("silent.test.", "127.0.0.1@%d" % bh),
                 (".", "127.0.0.1@%d" % closed)]
        ub = env.unbound(stubs)
        rd, _ = env.resolverd(stubs, timeout_ms=500)
        named = env.path("named.conf")
        with open(named, "w") as f:
            f.write('zone "pdns.test" { type master; file "%s"; };\n'
                    % pdnsenv.ZONE_FILE)
        alias_q = qfile(env, "alias.txt", ["pdns.test A", "pdns.test AAAA",
                                           "chain.pdns.test A"])
        plain_q = qfile(env, "plain.txt", ["www.pdns.test A"])
        silent_q = qfile(env, "silent.txt", ["silent.pdns.test A"])

        # How long unbound takes to give up on the silent target itself.
        t0 = time.monotonic()
        resp = pdnsenv.query(ub, "www.silent.test.", "A", timeout=30, rd=True)
        results["unbound_silent"] = (
            time.monotonic() - t0,
            pdnsenv.dns.rcode.to_text(resp.rcode()) if resp else "no answer")

        configs = [("unbound", ub), ("aname-resolverd", rd), ("black hole", bh)]
        for label, rport in configs:
            port = env.pdns("pdns-" + label, ["launch=bind", "bind-config=" + named,
                                              "resolver=127.0.0.1:%d" % rport,
                                              "expand-alias=yes"] + CACHES_OFF)
            pr = env.procs[-1]
            # warm the resolver's cache for the healthy targets
            for n in ("pdns.test.", "chain.pdns.test."):
                pdnsenv.query(port, n, "A")
                pdnsenv.query(port, n, "AAAA")
            res = {}
            if label != "black hole":
                res["alias"] = [dnsperf(port, alias_q, RUN_S) for _ in range(RUNS)]
            # 1000 qps at the silent target, then 60 s of plain A
            noise = pdnsenv.Noise(port, "silent." + ZONE, "A", NOISE_QPS)
            time.sleep(1.0)  # the noise must be running before plain A starts
            res["plain"] = dnsperf(port, plain_q, LONG_S, stats_every=5)
            sent, rcodes = noise.stop()
            answered = sum(rcodes.values())
            res["noise_rcodes"] = ", ".join("%s %d" % kv for kv in sorted(rcodes.items())) or "none"
            res["noise_lost"] = "%.1f" % (100.0 * (sent - answered) / max(1, sent))
            res["noise_sent"] = sent
            res["rss_kb"] = rss_kb(pr.p.pid)
            res["alive"] = pr.alive()
            pr.stop()
            results[label] = res

        # lua2 path: ALIAS QPS (in process), and context sharing
        lua = {}
        for helper in (True, False):
            before = proxy.count("www.example.test.", "A")
            conf = env.lua2_conf(stubs, helper=helper)
            port = env.pdns("pdns-lua2-%s" % ("shared" if helper else "perstate"),
                            ["launch=lua2", "lua2-filename=" + conf,
                             "lua2-api=2"] + CACHES_OFF)
            pr = env.procs[-1]
            def warm():
                resp = pdnsenv.query(port, ZONE, "A")
                return resp is not None and pdnsenv.addresses(resp, ZONE, "A")[0]
            pdnsenv.wait_until(warm, 10, "lua2 warm")
            entry = {"alias": [dnsperf(port, alias_q, RUN_S) for _ in range(RUNS)]}
            if helper:
                entry["plain"] = [dnsperf(port, plain_q, RUN_S) for _ in range(RUNS)]
            entry["states"] = pr.logtext().count("[aname-lua2] serving")
            entry["upstream"] = proxy.count("www.example.test.", "A") - before
            entry["rss_kb"] = rss_kb(pr.p.pid)
            pr.stop()
            lua["shared" if helper else "per-state"] = entry
        results["lua2"] = lua
        results["ctx_cost"] = ctx_cost()
    finally:
        env.close()
    write(args.out, results)


def write(path, r):
    L = []
    add = L.append
    add("# PowerDNS %s + libaname (bench-powerdns)\n" % pdns_version())
    add("Load average when the run started: %s.\n" % r.get("load", "?"))
    add("One run on this machine (2 cores; dnsperf, pdns, the resolvers and "
        "nsd share them: compare configurations, not capacities). "
        "pdns: bind backend, built-in ALIAS (`expand-alias=yes`), caches off "
        "(`%s`), 3 distributor threads. Zone: `bindings/powerdns/tests/zones/"
        "pdns.test.zone`; targets on nsd; `silent.test` routed to a socket that "
        "never answers. aname-resolverd: `--timeout-ms 500`.\n" % " ".join(CACHES_OFF))
    add("## 1. ALIAS queries per second (dnsperf -c 8, %d s x %d, median)\n" % (RUN_S, RUNS))
    add("| resolver= | median QPS | runs | lost |")
    add("|---|---|---|---|")
    for label in ("unbound", "aname-resolverd"):
        runs = r[label]["alias"]
        qs = [x["qps"] for x in runs]
        add("| %s | **%.0f** | %s | %s |" % (
            label, med(qs), " / ".join("%.0f" % q for q in qs),
            " / ".join("%.1f%%" % x["lost_pct"] for x in runs)))
    ratio = med([x["qps"] for x in r["aname-resolverd"]["alias"]]) / max(
        1.0, med([x["qps"] for x in r["unbound"]["alias"]]))
    add("\nRatio aname-resolverd / unbound: **%.2f**\n" % ratio)

    add("## 2. Plain A QPS for %d s while %d qps of ALIAS hit a silent upstream\n"
        % (LONG_S, NOISE_QPS))
    add("The ALIAS clients' view is in the \"noise answers\" column. "
        "`black hole` = pdns's resolver= itself never answers (reference: the "
        "failure mode the library exists to avoid). unbound alone answered "
        "`www.silent.test A` with %s after %.1f s.\n" % (r["unbound_silent"][1],
                                                       r["unbound_silent"][0]))
    add("| resolver= | overall QPS | median of 5 s intervals | min interval | "
        "lost | ALIAS noise: sent, answers | pdns RSS | pdns alive |")
    add("|---|---|---|---|---|---|---|---|")
    for label in ("unbound", "aname-resolverd", "black hole"):
        p = r[label]["plain"]
        iv = p["intervals"]
        add("| %s | **%.0f** | %.0f | %.0f | %.1f%% | %d sent: %s (no answer %s%%) | %d MB | %s |" % (
            label, p["qps"], med(iv), min(iv) if iv else 0, p["lost_pct"],
            r[label]["noise_sent"], r[label]["noise_rcodes"], r[label]["noise_lost"],
            r[label]["rss_kb"] // 1024, "yes" if r[label]["alive"] else "NO"))
    pr = r["aname-resolverd"]["plain"]["qps"] / max(1.0, r["unbound"]["plain"]["qps"])
    add("\nRatio aname-resolverd / unbound (overall plain A): **%.2f**\n" % pr)
    add("5 s intervals (plain A QPS):\n")
    for label in ("unbound", "aname-resolverd", "black hole"):
        add("- %s: %s" % (label, " ".join("%.0f" % x for x in
                                          r[label]["plain"]["intervals"])))
    add("")

    add("## 3. lua2 + LuaJIT FFI + libaname (in process)\n")
    add("| context | ALIAS median QPS | runs | Lua states | upstream queries for "
        "www.example.test A (whole run) | pdns RSS |")
    add("|---|---|---|---|---|---|")
    for k in ("shared", "per-state"):
        e = r["lua2"][k]
        qs = [x["qps"] for x in e["alias"]]
        add("| %s | **%.0f** | %s | %d | %d | %d MB |" % (
            k, med(qs), " / ".join("%.0f" % q for q in qs), e["states"],
            e["upstream"], e["rss_kb"] // 1024))
    plain = [x["qps"] for x in r["lua2"]["shared"]["plain"]]
    add("\nSame pdns (shared context), plain A `www.pdns.test` from the zone "
        "file: median **%.0f** (%s): the ALIAS synthesis costs %.0f %% of "
        "that.\n" % (med(plain), " / ".join("%.0f" % q for q in plain),
                     100.0 * (1 - med([x["qps"] for x in r["lua2"]["shared"]["alias"]])
                              / max(1.0, med(plain)))))
    new_ms, free_ms = r["ctx_cost"]
    add("\nOne thread-mode context (aname_ctx_new / aname_ctx_free, median of 20): "
        "%.2f ms / %.2f ms.\n" % (new_ms, free_ms))

    add("## Commands\n")
    add("```")
    add("make bench-powerdns        # this file")
    add(r["aname-resolverd"]["alias"][0]["argv"] + "    # ALIAS QPS")
    add(r["aname-resolverd"]["plain"]["argv"] + "    # plain A")
    add("# ALIAS noise: pdnsenv.Noise, %d qps of silent.pdns.test A from 8 UDP "
        "sockets (dnsperf -Q stalls when most queries time out)" % NOISE_QPS)
    add("```")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
