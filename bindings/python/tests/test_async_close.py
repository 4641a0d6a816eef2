# SPDX-License-Identifier: BSD-3-Clause
"""`async with aname.Resolver(...)` and `await r.aclose()`: the context is
freed on exit, pending awaiters get aname.Cancelled, the loop is never
blocked, and a second aclose() is harmless."""

import asyncio
import threading
import time

import pytest

import aname
from conftest import stubs_for

EX = "example.test."
WWW_A = {"192.0.2.1", "192.0.2.2"}


def run(coro, limit=30):
    return asyncio.run(asyncio.wait_for(coro, limit))


@pytest.mark.parametrize("thread", [False, True])
def test_async_with_resolves_and_closes(nsd, closed_port, thread):
    async def main():
        async with aname.Resolver(stubs=stubs_for(nsd.port, closed_port),
                                  timeout=2.0, thread=thread) as r:
            assert not r.closed
            res = await r.resolve_async("www." + EX, "A")
            assert set(res.addresses) == WWW_A
        assert r.closed
        # Results outlive their resolver; calls on a closed one raise Busy.
        assert set(res.addresses) == WWW_A
        with pytest.raises(aname.Busy):
            await r.resolve_async("www." + EX, "A")
        await r.aclose()  # idempotent
    run(main())


@pytest.mark.parametrize("thread", [False, True])
def test_aclose_cancels_pending_awaiters(nsd, closed_port, blackhole, thread):
    stubs = stubs_for(nsd.port, closed_port,
                      **{"bh.test.": "127.0.0.1@%d" % blackhole.port})

    async def main():
        r = aname.Resolver(stubs=stubs, timeout=5.0, thread=thread)
        task = asyncio.ensure_future(r.resolve_async("x.bh.test.", "A"))
        await asyncio.sleep(0.05)  # let the request reach the black hole
        assert not task.done()
        t0 = time.monotonic()
        await r.aclose()
        with pytest.raises(aname.Cancelled):
            await task
        took = time.monotonic() - t0
        assert r.closed
        assert took < 2.0, "aclose() waited for the 5 s deadline"
    run(main())


def test_aclose_from_the_loop_thread_in_thread_mode_uses_an_executor(
        nsd, closed_port):
    """In thread mode aclose() joins the library thread off the loop
    thread."""
    seen = []
    r = aname.Resolver(stubs=stubs_for(nsd.port, closed_port), thread=True)
    close = r.close

    def spy():
        seen.append(threading.get_ident())
        close()
    r.close = spy

    async def main():
        await r.aclose()
        return threading.get_ident()
    loop_thread = run(main())
    assert seen and seen[0] != loop_thread
    assert r.closed
