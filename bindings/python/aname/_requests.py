# SPDX-License-Identifier: BSD-3-Clause
"""Pending requests and the one C callback that completes them.

The library calls back through a function pointer and a void *arg.  A
ctypes CFUNCTYPE object per request would have to be kept alive exactly
until its single call, including the calls aname_ctx_free() makes with
ANAME_ECANCELED, and a mistake there is a jump into freed memory.  So the
binding has ONE trampoline for the whole process, alive as long as this
module, and passes a small integer id as arg.  The id maps to a request
object in PENDING; whoever completes a request (the callback, or a
successful aname_cancel()) removes it, exactly once.

Callbacks may run in any thread: the one calling aname_process(), the
library thread in thread mode, or the thread in aname_ctx_free().  Each
request kind knows how to hand its outcome to its waiter from there.
"""

import itertools
import os
import sys
import threading

from ._lib import RESOLVE_CB
from .errors import error_for
from .result import Result

PENDING = {}
_LOCK = threading.Lock()
_IDS = itertools.count(1)


def add(req):
    """Register req; returns the id to pass as the callback argument."""
    with _LOCK:
        rid = next(_IDS)
        PENDING[rid] = req
    return rid


def take(rid):
    """Remove and return a pending request, or None if already gone."""
    with _LOCK:
        return PENDING.pop(rid, None)


def _trampoline(arg, status, res):
    req = take(arg)
    if req is None:
        # The library promises one call per accepted id; a second one (or
        # an unknown id) is a library bug, but must not crash the host.
        return
    try:
        result = Result._borrow(res, req.rrtype) if status == 0 else None
        req.deliver(status, result)
    except BaseException:
        # An exception cannot travel into C; report it like asyncio does.
        sys.unraisablehook(Unraisable(sys.exc_info(), req,
                                      "Exception in aname resolve callback"))


class Unraisable:
    """The argument sys.unraisablehook expects."""

    def __init__(self, info, obj, msg):
        self.exc_type, self.exc_value, self.exc_traceback = info
        self.err_msg = msg
        self.object = obj


#: The process-wide callback; never freed while the module is loaded.
TRAMPOLINE = RESOLVE_CB(_trampoline)


class _Wakeup:
    """A per-thread pipe a blocking resolve() polls next to the library fd,
    so that a callback run by another thread can wake it at once."""

    def __init__(self):
        self.r, self.w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def drain(self):
        try:
            while os.read(self.r, 64):
                pass
        except BlockingIOError:
            pass

    def __del__(self):
        os.close(self.r)
        os.close(self.w)


_local = threading.local()


def wakeup():
    w = getattr(_local, "wakeup", None)
    if w is None:
        w = _local.wakeup = _Wakeup()
    return w


class SyncRequest:
    """A blocking resolve(): the caller waits on event (thread mode) or
    drives the library itself until done (event-loop mode)."""

    def __init__(self, rrtype):
        self.rrtype = rrtype
        self.thread = threading.get_ident()
        self.event = threading.Event()
        self.wake = wakeup()
        self.status = None
        self.result = None

    def deliver(self, status, result):
        self.status = status
        self.result = result
        self.event.set()
        if threading.get_ident() != self.thread:
            try:
                os.write(self.wake.w, b"\0")
            except BlockingIOError:
                pass

    def outcome(self):
        if self.status != 0:
            raise error_for(self.status)
        return self.result


class AsyncRequest:
    """An awaited resolve_async(): completes an asyncio future in the loop's
    own thread, directly when the callback runs there, else through
    call_soon_threadsafe()."""

    def __init__(self, rrtype, loop, future, driver=None):
        self.rrtype = rrtype
        self.loop = loop
        self.future = future
        self.driver = driver
        self.thread = threading.get_ident()
        self._finished = False

    def deliver(self, status, result):
        if threading.get_ident() == self.thread:
            self._complete(status, result)
            return
        try:
            self.loop.call_soon_threadsafe(self._complete, status, result)
        except RuntimeError:
            # The loop is closed: nobody awaits the future any more.  The
            # Result (if any) is released by the garbage collector.
            pass

    def _complete(self, status, result):
        self.finish()
        fut = self.future
        if fut.done():
            return  # the task was cancelled while the answer was on its way
        if status == 0:
            fut.set_result(result)
        else:
            fut.set_exception(error_for(status))
            # The awaiting task reads the exception all the same; marking it
            # retrieved keeps asyncio from logging "Future exception was
            # never retrieved" when the task is gone (ECANCELED at exit).
            fut.exception()

    def finish(self):
        """Called exactly once per request, in the loop thread: delivered,
        or cancelled before delivery."""
        if self._finished:
            return
        self._finished = True
        if self.driver is not None:
            self.driver.release()
