# SPDX-License-Identifier: BSD-3-Clause
"""asyncio API: fd + timer driving, concurrency, cancellation, timeouts."""

import asyncio
import gc
import subprocess
import sys
import time
import weakref

import pytest

import aname
from aname import _requests
from aname._aio import LoopDriver
from conftest import PKG

EX = "example.test."
WWW_A = {"192.0.2.1", "192.0.2.2"}


def run(coro, limit=30):
    """asyncio.run with an overall limit, so a bug fails instead of hangs."""
    return asyncio.run(asyncio.wait_for(coro, limit))


def bh_resolver(make_resolver, blackhole, **kw):
    return make_resolver({"bh.test.": "127.0.0.1@%d" % blackhole.port},
                         **kw)


def test_resolve_async(resolver):
    async def main():
        res = await resolver.resolve_async("www." + EX, "A")
        assert set(res.addresses) == WWW_A
        res = await resolver.resolve_async("c1." + EX, "AAAA")
        assert res.addresses == ["2001:db8::1"] and res.ttl <= 50
        with pytest.raises(aname.BadName):
            await resolver.resolve_async("a..b." + EX)
        with pytest.raises(aname.Loop):
            await resolver.resolve_async("l1." + EX)
    run(main())
    assert resolver._driver is None, "reader left on the loop"


def test_thousand_concurrent(make_resolver):
    r = make_resolver(max_fetches=1024)
    fixed = {"www": WWW_A, "c1": WWW_A, "ext": {"198.51.100.7"},
             "nodata": set(), "v6only": set(), "nothere": set(),
             "dangling": set(), "big": None}
    names = []
    for i in range(800):
        names.append(list(fixed)[i % len(fixed)])
    names += ["nx%d" % i for i in range(200)]

    async def main():
        t0 = time.monotonic()
        results = await asyncio.gather(
            *(r.resolve_async(n + "." + EX, "A") for n in names))
        return results, time.monotonic() - t0

    results, elapsed = run(main(), 60)
    assert len(results) == 1000
    for n, res in zip(names, results):
        assert res.status == 0, n
        want = fixed.get(n, set())
        if want is None:
            assert len(res.addresses) == 100
        else:
            assert set(res.addresses) == want, n
        if n.startswith("nx") or n in ("nothere", "dangling"):
            assert res.rcode == 3, n
    st = r.stats()
    assert st["requests"] >= 1000
    assert st["waiters"] == 0 and st["inflight"] == 0
    assert elapsed < 20
    assert not _requests.PENDING


def test_thread_mode_async(make_resolver):
    r = make_resolver(thread=True)

    async def main():
        return await asyncio.gather(
            *(r.resolve_async(n + "." + EX, "BOTH")
              for n in ("www", "c1", "nothere") * 20))

    results = run(main())
    assert all(res.status == 0 for res in results)
    assert set(results[0].addresses_of("A")) == WWW_A


def test_timeout_against_black_hole_sync(make_resolver, blackhole):
    r = bh_resolver(make_resolver, blackhole, timeout=0.4)
    t0 = time.monotonic()
    with pytest.raises(aname.Timeout) as info:
        r.resolve("x.bh.test.", "A")
    elapsed = time.monotonic() - t0
    assert 0.35 <= elapsed < 0.4 + 0.2, elapsed
    assert info.value.status == -6
    assert isinstance(info.value, TimeoutError)
    assert blackhole.received >= 1, "the query never reached the black hole"


def test_timeout_against_black_hole_async(make_resolver, blackhole):
    r = bh_resolver(make_resolver, blackhole)

    async def main():
        t0 = time.monotonic()
        with pytest.raises(aname.Timeout):
            await r.resolve_async("y.bh.test.", "AAAA", timeout=0.3)
        return time.monotonic() - t0

    elapsed = run(main())
    assert 0.25 <= elapsed < 0.3 + 0.2, elapsed


def test_waiting_does_not_spin(make_resolver, blackhole):
    """A pending request must cost (almost) no CPU: no polling thread, no
    busy loop.  One second of waiting on a black hole is measured."""
    r = bh_resolver(make_resolver, blackhole, watchdog_interval=0)

    async def main():
        with pytest.raises(aname.Timeout):
            await r.resolve_async("spin.bh.test.", "A", timeout=1.0)

    runs = []
    orig = LoopDriver.run

    def counting_run(self):
        runs.append(time.monotonic())
        orig(self)

    LoopDriver.run = counting_run
    try:
        cpu0, t0 = time.process_time(), time.monotonic()
        run(main())
        cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    finally:
        LoopDriver.run = orig
    assert wall >= 0.95
    assert cpu < 0.15, "%.3f s CPU in %.3f s of waiting" % (cpu, wall)
    # A handful of wake-ups (submit, deadline), not one per millisecond.
    assert len(runs) < 20, "%d wake-ups in %.3f s" % (len(runs), wall)


def test_timer_follows_library_timeout(make_resolver, blackhole):
    """The one timer is armed at aname_timeout_ms(), re-read after each
    call: a black-holed request with a 0.8 s deadline arms it ~0.8 s out."""
    r = bh_resolver(make_resolver, blackhole, watchdog_interval=0)

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(
            r.resolve_async("tm.bh.test.", "A", timeout=0.8))
        while not _requests.PENDING:
            await asyncio.sleep(0)
        # Let the submit wake-up pass, then compare with the library.
        for _ in range(100):
            await asyncio.sleep(0.01)
            ms = r.timeout_ms()
            if ms > 100:
                break
        d = r._driver
        assert d is not None and d.timer is not None
        assert abs((d.timer.when() - loop.time()) * 1000 - ms) < 15, ms
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert r._driver is None and d.timer is None

    run(main())


def test_cancel_cancels_library_request(make_resolver, blackhole):
    r = bh_resolver(make_resolver, blackhole)

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(r.resolve_async("c.bh.test.", "A"))
        # Wait until the request is really in the library.
        while not _requests.PENDING:
            await asyncio.sleep(0)
        fd = r.fileno()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The reader is gone with the last request: remove_reader() says
        # whether one was still registered.
        assert loop.remove_reader(fd) is False

    run(main())
    assert not _requests.PENDING, "cancelled request still mapped"
    assert r._driver is None
    st = r.stats()
    assert st["cancellations"] == 1
    assert st["waiters"] == 0


def test_cancel_many_then_resolve(make_resolver, blackhole):
    """Cancelling some of many requests leaves the others intact."""
    r = bh_resolver(make_resolver, blackhole)

    async def main():
        doomed = [asyncio.create_task(r.resolve_async("d%d.bh.test." % i))
                  for i in range(50)]
        good = [asyncio.create_task(r.resolve_async("www." + EX))
                for _ in range(50)]
        while len(_requests.PENDING) < 100:
            await asyncio.sleep(0)
        for t in doomed:
            t.cancel()
        results = await asyncio.gather(*good)
        for t in doomed:
            with pytest.raises(asyncio.CancelledError):
                await t
        return results

    results = run(main())
    assert all(set(res.addresses) == WWW_A for res in results)
    assert not _requests.PENDING
    assert r.stats()["cancellations"] == 50


def test_wait_for_timeout_cancels(make_resolver, blackhole):
    r = bh_resolver(make_resolver, blackhole)

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.resolve_async("w.bh.test."), 0.1)

    run(main())
    assert not _requests.PENDING
    assert r.stats()["cancellations"] == 1


def test_close_with_pending_requests(make_resolver, blackhole):
    """aname_ctx_free() calls back with ECANCELED: awaiters get
    aname.Cancelled, nothing stays mapped."""
    r = bh_resolver(make_resolver, blackhole)

    async def main():
        tasks = [asyncio.create_task(r.resolve_async("z%d.bh.test." % i))
                 for i in range(10)]
        while len(_requests.PENDING) < 10:
            await asyncio.sleep(0)
        r.close()
        for t in tasks:
            with pytest.raises(aname.Cancelled) as info:
                await t
            assert info.value.status == -5

    run(main())
    assert not _requests.PENDING
    assert r.closed


def test_close_from_another_thread_while_resolving(make_resolver, blackhole):
    import threading
    r = bh_resolver(make_resolver, blackhole, timeout=0.5)
    errors = []

    def worker():
        try:
            r.resolve("t.bh.test.")
        except aname.Error as e:
            errors.append(e)

    th = threading.Thread(target=worker)
    th.start()
    deadline = time.monotonic() + 2
    while not _requests.PENDING and time.monotonic() < deadline:
        time.sleep(0.001)
    r.close()  # waits for the blocking call, then frees
    th.join(3)
    assert not th.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], (aname.Timeout, aname.Cancelled))


def test_resolver_collected_without_close(nsd, closed_port):
    from conftest import stubs_for
    r = aname.Resolver(stubs=stubs_for(nsd.port, closed_port))
    res = r.resolve("www." + EX)
    fin = r._finalizer
    ref = weakref.ref(r)
    del r
    gc.collect()
    assert ref() is None
    assert not fin.alive, "context not freed on garbage collection"
    assert set(res.addresses) == WWW_A


def test_interpreter_exit_with_pending_requests(nsd, blackhole,
                                                closed_port):
    """weakref.finalize closes the context at exit; the ECANCELED
    callbacks fired then must not crash or complain."""
    code = """
import asyncio, aname
r = aname.Resolver(stubs={"bh.test.": "127.0.0.1@%d",
                          ".": "127.0.0.1@%d"}, timeout=5)
t = aname.Resolver(stubs={"bh.test.": "127.0.0.1@%d",
                          ".": "127.0.0.1@%d"}, timeout=5, thread=True)
assert r.lookup("bg.bh.test.", "A", fetch=True) is None
async def main():
    for x in (r, t):
        asyncio.get_running_loop().create_task(x.resolve_async("p.bh.test."))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
loop = asyncio.new_event_loop()
loop.run_until_complete(main())
print("done")
""" % ((blackhole.port, closed_port) * 2)
    env = {"PYTHONPATH": str(PKG), "PATH": "/usr/bin:/bin"}
    import os
    if "ANAME_LIBRARY" in os.environ:
        env["ANAME_LIBRARY"] = os.environ["ANAME_LIBRARY"]
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"
    for bad in ("Exception ignored", "never retrieved", "Traceback",
                "Fatal Python error"):
        assert bad not in out.stderr, out.stderr
    assert time.monotonic() - t0 < 5


def test_log_callback(make_resolver, blackhole, monkeypatch):
    logs = []
    r = bh_resolver(make_resolver, blackhole, timeout=0.2,
                    log=lambda lvl, msg: logs.append((lvl, msg)),
                    log_level=aname.LOG_INFO)
    with pytest.raises(aname.Timeout):
        r.resolve("log.bh.test.", "A")
    assert any("log.bh.test" in msg and lvl <= aname.LOG_INFO
               for lvl, msg in logs), logs

    # A sink that raises is reported like any unraisable exception and
    # breaks nothing.
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    def bad_sink(lvl, msg):
        raise RuntimeError("sink failed")

    r = bh_resolver(make_resolver, blackhole, timeout=0.2, log=bad_sink,
                    log_level=aname.LOG_INFO)
    with pytest.raises(aname.Timeout):
        r.resolve("log2.bh.test.", "A")
    assert seen and isinstance(seen[0].exc_value, RuntimeError)
    assert r.resolve("www." + EX).addresses


def test_close_from_another_thread_while_loop_waits(make_resolver,
                                                    blackhole):
    """close() in thread B while the loop in thread A awaits: the reader is
    removed in A before the fd closes, and A's awaiter gets Cancelled."""
    import threading
    r = bh_resolver(make_resolver, blackhole)
    state = {}
    ready = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(r.resolve_async("x.bh.test."))
        while not _requests.PENDING:
            await asyncio.sleep(0)
        state["fd"] = r.fileno()
        ready.set()
        with pytest.raises(aname.Cancelled):
            await task
        state["reader_left"] = loop.remove_reader(state["fd"])

    th = threading.Thread(target=run, args=(main(),))
    th.start()
    assert ready.wait(5)
    r.close()
    th.join(5)
    assert not th.is_alive()
    assert state["reader_left"] is False
    assert not _requests.PENDING
