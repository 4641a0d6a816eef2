#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Old library against new, in one run: the figures of the library's own
benchmarks (bench_hit, bench_miss, bench_coalesce, bench_memory,
bench_deadline) for an older revision and for this tree, run alternately
(old, new, new, old, ...) so that drift on a shared machine hits both
alike.

    bench/compare.py BUILD_DIR [OLD_REV] [ROUNDS]

OLD_REV (default d487b06, release 0.1.0) is exported with git archive into
BUILD_DIR/compare/OLD_REV and its benchmarks are built there with its own
Makefile; this tree's are built by the caller (make bench-compare).  Each
figure is the median over rounds of what the benchmark itself reports
(its own median over repetitions).  Figures that are ratios against a
contender measured in the same process (hit / bare hash table, miss path /
raw libunbound) are the ones that survive a noisy machine; absolute times
are printed beside them.  Writes BUILD_DIR/bench/compare.md and fails
(exit 1) when a figure got more than 5 % worse.
"""
import os
import re
import statistics
import subprocess
import sys

PARTS = ["hit", "miss", "coalesce", "memory", "deadline"]
LIMIT = 5.0  # per cent
# The smallest change a figure can show: deadline lateness is timed by
# poll() in whole milliseconds.
RESOLUTION = {"deadline: worst p99 lateness": 1.0}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def export_old(build, rev):
    root = os.path.join(build, "compare", rev)
    if not os.path.exists(os.path.join(root, "Makefile")):
        os.makedirs(root, exist_ok=True)
        archive = subprocess.run(["git", "archive", rev], check=True,
                                 stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", root], input=archive.stdout,
                       check=True)
    targets = ["build/bench/bench_%s" % p for p in PARTS]
    sh(["make", "-C", root, "-j2"] + targets, stdout=subprocess.DEVNULL)
    return os.path.join(root, "build", "bench")


def median_of(rx, text, group=1):
    vals = [float(m.group(group)) for m in re.finditer(rx, text)]
    return statistics.median(vals) if vals else None


def figures(part, out, err):
    """(name, value, unit, higher_is_worse) from one run's output."""
    f = []
    if part == "hit":
        reps = [dict(re.findall(r"(\w+ \w+)=([\d.]+)", line))
                for line in err.splitlines()
                if line.startswith("bench-hit rep") and "warm-up" not in line]
        def ratio(a):
            return statistics.median(float(r[a]) / float(r["floor 1T"])
                                     for r in reps)
        f.append(("hit: text lookup + synth / floor", ratio("lib 1T"), "×"))
        f.append(("hit: wire lookup + synth / floor", ratio("wire 1T"), "×"))
        f.append(("hit: text lookup only / floor", ratio("lookup 1T"), "×"))
        f.append(("hit: text lookup + synth, 1 thread",
                  statistics.median(float(r["lib 1T"]) for r in reps), "ns"))
    elif part == "miss":
        m = re.search(r"miss-path overhead[^:]*: ([+-][\d.]+) % throughput, "
                      r"([+-][\d.]+) % CPU", out)
        # Overheads in per cent: compare as cost factors (1 + x/100).
        f.append(("miss: wall clock vs ub_resolve_async",
                  1 + float(m.group(1)) / 100, "×"))
        f.append(("miss: CPU vs ub_resolve_async",
                  1 + float(m.group(2)) / 100, "×"))
    elif part == "coalesce":
        m = re.search(r"by the library; ([\d.]+) ms", out)
        f.append(("coalesce: 10 000 requests on one cold target",
                  float(m.group(1)), "ms"))
    elif part == "memory":
        m = re.search(r"worst median: ([\d.]+) B \(positive.*?([\d.]+) B "
                      r"\(negative\)", out)
        f.append(("memory: bytes per positive entry", float(m.group(1)), "B"))
        f.append(("memory: bytes per negative entry", float(m.group(2)), "B"))
    elif part == "deadline":
        m = re.search(r"worst p99 ([\d.]+) ms", out)
        f.append(("deadline: worst p99 lateness", float(m.group(1)), "ms"))
    return f


def run(bindir, part, tmp):
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, BENCH_DIR=tmp)
    p = subprocess.run([os.path.join(bindir, "bench_" + part)], env=env,
                       text=True, capture_output=True)
    if p.returncode != 0:
        sys.exit("%s/bench_%s failed:\n%s" % (bindir, part, p.stderr[-2000:]))
    return figures(part, p.stdout + p.stderr, p.stderr)


def main():
    build = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "d487b06"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    old_bin = export_old(build, rev)
    new_bin = os.path.join(build, "bench")
    tmp = os.path.join(build, "compare", "out")
    got = {"old": {}, "new": {}}
    units = {}
    for r in range(rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for part in PARTS:
            for who in order:
                b = old_bin if who == "old" else new_bin
                print("compare: round %d, %s, %s" % (r + 1, part, who),
                      flush=True)
                for name, val, unit in run(b, part, tmp):
                    got[who].setdefault(name, []).append(val)
                    units[name] = unit
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                          text=True, capture_output=True).stdout.strip()
    rows, worse = [], []
    for name in units:
        o = statistics.median(got["old"][name])
        n = statistics.median(got["new"][name])
        change = (n / o - 1) * 100 if o else 0.0
        # Every figure here is a cost: higher is worse.  Memory and the
        # ratios are stable; absolute times are context only.
        judged = units[name] != "ns"
        floor = RESOLUTION.get(name, 0.0)
        bad = judged and change > LIMIT and n - o > floor
        verdict = ("worse by %.1f %%" % change if bad else
                   "ok" if change <= LIMIT or not judged else
                   "ok (%.2g %s, below the %g %s resolution)" %
                   (n - o, units[name], floor, units[name])) \
            if judged else "context only"
        if bad:
            worse.append(name)
        rows.append("| %s | %.3g %s | %.3g %s | %+.1f %% | %s |" % (
            name, o, units[name], n, units[name], change, verdict))
    md = os.path.join(build, "bench", "compare.md")
    with open(md, "w") as fp:
        fp.write("## Old library against new (`make bench-compare`)\n\n")
        fp.write("`bench/compare.py`: release 0.1.0 (`%s`) against this "
                 "tree (`%s`), each library with its own benchmark "
                 "programs, run alternately for %d rounds in one session; "
                 "each cell is the median over rounds of the benchmark's "
                 "own median. Ratios are against a contender measured in "
                 "the same process, so they hold up on a busy machine; "
                 "the absolute hit time is context. A figure more than "
                 "%.0f %% worse fails the target, unless the change is "
                 "below what the figure can resolve (1 ms for the deadline "
                 "lateness, which poll() times in whole milliseconds).\n\n"
                 % (rev, head, rounds, LIMIT))
        fp.write("| figure | 0.1.0 | now | change | verdict |\n")
        fp.write("|---|---:|---:|---:|---|\n")
        fp.write("\n".join(rows) + "\n\n")
    print(open(md).read())
    if worse:
        sys.exit("bench-compare: worse by more than %.0f %%: %s"
                 % (LIMIT, ", ".join(worse)))


if __name__ == "__main__":
    main()
