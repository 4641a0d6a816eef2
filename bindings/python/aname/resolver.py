# SPDX-License-Identifier: BSD-3-Clause
"""Resolver: one aname_ctx_t with a synchronous and an asyncio API."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import select
import sys
import threading
import time
import weakref
from typing import (Callable, Dict, Iterable, List, Mapping, NamedTuple,
                    Optional, Tuple, Union)

from . import _requests, _util
from ._aio import LoopDriver
from ._lib import LOG_CB, lib
from .errors import Busy, Timeout, check, error_for
from .result import Result

#: An address type: 'A', 'AAAA', 'BOTH' (any case) or aname.A/AAAA/BOTH.
RRType = Union[str, int]
#: A log sink: called with (level, message).
LogCallback = Callable[[int, str], None]

OK = 0
EBUSY = -10
EAGAIN = -3
ETIMEDOUT = -6

LOOKUP_FETCH = 1 << 0
LOOKUP_STALE = 1 << 1

# Library defaults (aname_config_new() in aname.h), used to fill in the
# arguments a caller did not give for setters that take several values.
_DEFAULT_TIMEOUT_MS = 1500
_CACHE_DEFAULTS = (100000, 0, 86400, 3600)
_STALE_DEFAULTS = (30, 86400, 400)
_LIMIT_DEFAULTS = (256, 10000)
_WATCHDOG_DEFAULTS = (1000, 2000)

# aname_resolve() accepts 1 to 600000 ms per request.
_MAX_REQUEST_MS = 600000

# How long a blocking resolve() waits past its deadline before it gives up
# on the library's promise and cancels the request itself.
_GRACE_S = 1.0


class Health(NamedTuple):
    """aname_health(): level 'ok'/'degraded'/'failing', the reason's
    runbook anchor (docs/RUNBOOK.md) and its sentence."""

    level: str
    reason: str
    text: str

    @property
    def level_code(self) -> int:
        return {"ok": 0, "degraded": 1, "failing": 2}.get(self.level, -1)


class _Handle:
    """The context pointer plus a count of calls using it, so that close()
    never frees the context under a call running in another thread."""

    lib = lib

    def __init__(self, ptr):
        self.ptr = ptr
        self.cond = threading.Condition()
        self.users = {}

    @contextlib.contextmanager
    def use(self):
        me = threading.get_ident()
        with self.cond:
            if self.ptr is None:
                raise Busy(EBUSY, "resolver is closed")
            self.users[me] = self.users.get(me, 0) + 1
        try:
            yield self.ptr
        finally:
            with self.cond:
                n = self.users[me] - 1
                if n:
                    self.users[me] = n
                else:
                    del self.users[me]
                    self.cond.notify_all()

    def free(self):
        me = threading.get_ident()
        with self.cond:
            if self.ptr is None:
                return
            if me in self.users:
                raise Busy(EBUSY, "close() from inside a call on this "
                           "resolver (e.g. a log callback)")
            while self.users:
                self.cond.wait()
            ptr, self.ptr = self.ptr, None
        # Pending requests' callbacks run here with ANAME_ECANCELED.
        lib.aname_ctx_free(ptr)


def _finalize(handle, keepalive):
    # keepalive: the log callback object, which must outlive the context.
    handle.free()


def _build_config(cfg, kw):
    """Apply every keyword argument to cfg through its setter."""
    def name_of(what, i=None):
        return what if i is None else "%s[%r]" % (what, i)

    for i, addr in enumerate(kw["forwarders"] or ()):
        check(lib.aname_config_add_forwarder(
            cfg, _util.text(addr, "forwarder")),
            "forwarders[%d] %r" % (i, addr))
    for zone, addrs in (kw["stubs"] or {}).items():
        if isinstance(addrs, (str, bytes)):
            addrs = [addrs]
        for addr in addrs:
            check(lib.aname_config_add_stub(
                cfg, _util.name(zone, "stub zone"),
                _util.text(addr, "stub address")),
                "stub %r -> %r" % (zone, addr))
    for zone, ztype in (kw["local_zones"] or {}).items():
        check(lib.aname_config_add_local_zone(
            cfg, _util.name(zone, "local zone"),
            _util.text(ztype, "local zone type")),
            "local zone %r %r" % (zone, ztype))
    for rr in kw["local_data"] or ():
        check(lib.aname_config_add_local_data(
            cfg, _util.text(rr, "local data")), "local data %r" % (rr,))
    if kw["trust_anchor_file"] is not None:
        path = kw["trust_anchor_file"]
        check(lib.aname_config_set_trust_anchor_file(
            cfg, _util.text(str(path), "trust_anchor_file")),
            "trust_anchor_file %r" % (str(path),))
    if kw["timeout"] is not None:
        check(lib.aname_config_set_timeout_ms(
            cfg, _util.millis(kw["timeout"], "timeout")),
            "timeout %r" % (kw["timeout"],))
    cache_defaults = list(_CACHE_DEFAULTS)
    if kw["neg_max_ttl"] is None and kw["max_ttl"] is not None:
        # The negative cap must not exceed the cap: lowering max_ttl alone
        # lowers the default negative cap with it.
        cache_defaults[3] = min(cache_defaults[3],
                                _util.uint(kw["max_ttl"], "max_ttl"))
    _multi(cfg, kw, lib.aname_config_set_cache,
           [("cache_size", _size), ("min_ttl", _util.uint),
            ("max_ttl", _util.uint), ("neg_max_ttl", _util.uint)],
           cache_defaults)
    if kw["max_chain"] is not None:
        check(lib.aname_config_set_max_chain(
            cfg, _util.uint(kw["max_chain"], "max_chain")),
            "max_chain %r" % (kw["max_chain"],))
    if kw["thread"]:
        check(lib.aname_config_set_thread(cfg, 1), "thread")
    _multi(cfg, kw, lib.aname_config_set_stale,
           [("stale_ttl", _util.uint), ("max_stale", _util.uint),
            ("stale_client_timeout", _util.millis)], _STALE_DEFAULTS)
    if kw["prefetch"] is not None:
        check(lib.aname_config_set_prefetch(
            cfg, _util.uint(kw["prefetch"], "prefetch")),
            "prefetch %r" % (kw["prefetch"],))
    if kw["backoff"] is not None:
        check(lib.aname_config_set_backoff(
            cfg, _util.uint(kw["backoff"], "backoff")),
            "backoff %r" % (kw["backoff"],))
    _multi(cfg, kw, lib.aname_config_set_limits,
           [("max_fetches", _util.uint), ("max_waiters", _util.uint)],
           _LIMIT_DEFAULTS)
    _multi(cfg, kw, lib.aname_config_set_watchdog,
           [("watchdog_interval", _util.millis),
            ("watchdog_grace", _util.millis)], _WATCHDOG_DEFAULTS)


def _size(value, what):
    return _util.uint(value, what, 0xFFFFFFFFFFFFFFFF)


def _multi(cfg, kw, setter, params, defaults):
    """Call a setter that takes several values when any of them was given,
    using the library defaults for the others."""
    if all(kw[key] is None for key, _ in params):
        return
    values = [default if kw[key] is None else conv(kw[key], key)
              for (key, conv), default in zip(params, defaults)]
    given = ", ".join("%s=%r" % (key, kw[key]) for key, _ in params
                      if kw[key] is not None)
    check(setter(cfg, *values), given)


class Resolver:
    """A libaname context.

    Keyword arguments map one-to-one onto the aname_config_* setters;
    anything not given keeps the library default.  Times are in seconds
    (floats allowed), TTLs and ages in whole seconds:

      forwarders=["127.0.0.1@5353", ...]   aname_config_add_forwarder
      stubs={"zone.": "ip@port" or [...]}   aname_config_add_stub
      local_zones={"zone.": "static"}       aname_config_add_local_zone
      local_data=["name 300 IN A 192.0.2.1"]  aname_config_add_local_data
      trust_anchor_file=path                aname_config_set_trust_anchor_file
      timeout=1.5                           aname_config_set_timeout_ms
      cache_size, min_ttl, max_ttl, neg_max_ttl    aname_config_set_cache
      max_chain=8                           aname_config_set_max_chain
      thread=False                          aname_config_set_thread
      stale_ttl, max_stale, stale_client_timeout   aname_config_set_stale
      prefetch=10 (percent)                 aname_config_set_prefetch
      backoff=30                            aname_config_set_backoff
      max_fetches, max_waiters              aname_config_set_limits
      watchdog_interval, watchdog_grace     aname_config_set_watchdog
      log=callable(level, message), log_level=LOG_WARNING
                                            aname_config_set_log

    A bad value raises the matching aname.Error subclass and no context is
    created.  Close the resolver with close() or a with block; it is also
    closed when garbage-collected and at interpreter exit.
    """

    def __init__(self, *,
                 forwarders: Optional[Iterable[str]] = None,
                 stubs: Optional[Mapping[str, Union[str, Iterable[str]]]] = None,
                 local_zones: Optional[Mapping[str, str]] = None,
                 local_data: Optional[Iterable[str]] = None,
                 trust_anchor_file: Optional[str] = None,
                 timeout: Optional[float] = None,
                 cache_size: Optional[int] = None,
                 min_ttl: Optional[int] = None,
                 max_ttl: Optional[int] = None,
                 neg_max_ttl: Optional[int] = None,
                 max_chain: Optional[int] = None,
                 thread: bool = False,
                 stale_ttl: Optional[int] = None,
                 max_stale: Optional[int] = None,
                 stale_client_timeout: Optional[float] = None,
                 prefetch: Optional[int] = None,
                 backoff: Optional[float] = None,
                 max_fetches: Optional[int] = None,
                 max_waiters: Optional[int] = None,
                 watchdog_interval: Optional[float] = None,
                 watchdog_grace: Optional[float] = None,
                 log: Optional[LogCallback] = None,
                 log_level: int = 1) -> None:
        kw = dict(locals())
        del kw["self"]
        if thread not in (True, False, 0, 1):
            raise error_for(-1, "thread must be a bool, not %r" % (thread,))
        self._thread = bool(thread)
        self._default_timeout_ms = (_DEFAULT_TIMEOUT_MS if timeout is None
                                    else _util.millis(timeout, "timeout"))
        self._log_cb = None
        self._driver = None
        cfg = lib.aname_config_new()
        if not cfg:
            raise MemoryError("aname_config_new")
        try:
            _build_config(cfg, kw)
            if log is not None:
                self._log_cb = _make_log_cb(log)
                check(lib.aname_config_set_log(
                    cfg, _util.uint(log_level, "log_level"), self._log_cb,
                    None), "log_level %r" % (log_level,))
            ctx = ctypes.c_void_p()
            check(lib.aname_ctx_new(ctypes.byref(ctx), cfg), "aname_ctx_new")
        finally:
            lib.aname_config_free(cfg)
        self._handle = _Handle(ctx.value)
        self._finalizer = weakref.finalize(self, _finalize, self._handle,
                                           self._log_cb)

    # ------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Free the context.  Pending requests fail with aname.Cancelled
        (their awaiters see the exception).  Idempotent."""
        if self._driver is not None:
            self._driver.detach_from_any_thread()
        self._finalizer()

    async def aclose(self) -> None:
        """close() for asyncio code.  In thread mode the library thread
        is joined in an executor thread, so the running loop never blocks
        on it; in event-loop mode close() itself never waits.  Pending
        requests fail with aname.Cancelled.  Idempotent."""
        if self._thread and not self.closed:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.close)
        else:
            self.close()

    @property
    def closed(self) -> bool:
        return self._handle.ptr is None

    def __enter__(self) -> "Resolver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Resolver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        mode = "thread" if self._thread else "event-loop"
        state = "closed" if self.closed else "open"
        return "<aname.Resolver %s %s>" % (mode, state)

    # ------------------------------------------------------------ driving
    def fileno(self) -> int:
        """aname_fd(): the fd to watch in event-loop mode."""
        with self._handle.use() as ctx:
            return check(lib.aname_fd(ctx), "aname_fd")

    def timeout_ms(self) -> int:
        """aname_timeout_ms(): -1 no deadline, 0 work is ready now."""
        with self._handle.use() as ctx:
            return lib.aname_timeout_ms(ctx)

    def process(self) -> None:
        """aname_process(): do all ready work now, without blocking."""
        with self._handle.use() as ctx:
            check(lib.aname_process(ctx), "aname_process")

    def poll(self, timeout: float) -> None:
        """Wait at most timeout seconds for the fd or the library's next
        deadline, then process().  For hosts with a simple loop."""
        with self._handle.use() as ctx:
            fd = check(lib.aname_fd(ctx), "aname_fd")
            ms = lib.aname_timeout_ms(ctx)
            wait = _util.millis(timeout, "timeout")
            if ms >= 0:
                wait = min(wait, ms)
            p = select.poll()
            p.register(fd, select.POLLIN)
            p.poll(wait)
            check(lib.aname_process(ctx), "aname_process")

    def wait(self, timeout: Optional[float] = None) -> None:
        """aname_wait(): drive until nothing is pending; raise
        aname.Timeout after timeout seconds (None: no limit)."""
        ms = -1 if timeout is None else _util.millis(timeout, "timeout")
        with self._handle.use() as ctx:
            check(lib.aname_wait(ctx, ms), "aname_wait")

    # ------------------------------------------------------------ resolving
    def _submit(self, ctx, req, target, code, timeout):
        ms = 0 if timeout is None else _util.millis(timeout, "timeout")
        if timeout is not None and not 1 <= ms <= _MAX_REQUEST_MS:
            # The library says EINVAL; the binding knows it is a range.
            raise error_for(-17, "timeout %r s: allowed 0.001 to %d s"
                            % (timeout, _MAX_REQUEST_MS // 1000))
        raw = _util.name(target, "target")
        rid = _requests.add(req)
        qid = ctypes.c_uint64()
        rc = lib.aname_resolve(ctx, raw, code, ms, _requests.TRAMPOLINE,
                               rid, ctypes.byref(qid))
        if rc < 0:
            # Refused: the callback will never run, so forget the request.
            _requests.take(rid)
            raise error_for(rc, "target %r" % (target,))
        return rid, qid.value, (ms or self._default_timeout_ms) / 1000.0

    def _cancel(self, ctx, rid, qid):
        """True when the callback will never run (request withdrawn)."""
        if lib.aname_cancel(ctx, qid) == OK:
            _requests.take(rid)
            return True
        return False

    def resolve(self, target: str, rrtype: RRType = "A",
                timeout: Optional[float] = None) -> Result:
        """Resolve target; block until the answer or the deadline.

        rrtype: 'A', 'AAAA' or 'BOTH'.  timeout: seconds for this request
        (default: the resolver's).  Returns a Result (which may be NXDOMAIN
        or NODATA); failures raise aname.Timeout, aname.ServFail, ...
        """
        code = _util.rrtype(rrtype)
        req = _requests.SyncRequest(code)
        with self._handle.use() as ctx:
            rid, qid, deadline_s = self._submit(ctx, req, target, code,
                                                timeout)
            give_up = time.monotonic() + deadline_s + _GRACE_S
            if self._thread:
                req.event.wait(max(0.0, give_up - time.monotonic()))
            else:
                self._drive_until(ctx, req, give_up)
            if not req.event.is_set():
                if self._cancel(ctx, rid, qid):
                    raise Timeout(ETIMEDOUT, "target %r: the library missed "
                                  "its deadline" % (target,))
                # Being delivered right now in another thread.
                req.event.wait()
        return req.outcome()

    def _drive_until(self, ctx, req, give_up):
        fd = lib.aname_fd(ctx)
        p = select.poll()
        p.register(fd, select.POLLIN)
        p.register(req.wake.r, select.POLLIN)
        while not req.event.is_set():
            left = give_up - time.monotonic()
            if left <= 0:
                return
            ms = lib.aname_timeout_ms(ctx)
            wait = left * 1000.0 if ms < 0 else min(ms, left * 1000.0)
            for rfd, _ in p.poll(wait):
                if rfd == req.wake.r:
                    req.wake.drain()
            rc = lib.aname_process(ctx)
            if rc < 0 and rc != EBUSY:
                check(rc, "aname_process")

    async def resolve_async(self, target: str, rrtype: RRType = "A",
                            timeout: Optional[float] = None) -> Result:
        """Like resolve(), without blocking the running asyncio loop.

        In event-loop mode the loop watches aname_fd() and arms one timer
        for aname_timeout_ms(); in thread mode the library thread hands the
        answer to the loop.  Cancelling the awaiting task cancels the
        library request (aname_cancel).
        """
        code = _util.rrtype(rrtype)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        driver = None if self._thread else self._driver_for(loop)
        req = _requests.AsyncRequest(code, loop, fut, driver)
        with self._handle.use() as ctx:
            if driver is not None:
                driver.acquire()
            try:
                rid, qid, _ = self._submit(ctx, req, target, code, timeout)
            except BaseException:
                req.finish()
                raise
        if driver is not None:
            driver.rearm()
        try:
            return await fut
        except asyncio.CancelledError:
            if not self.closed:
                with self._handle.use() as ctx:
                    if self._cancel(ctx, rid, qid):
                        req.finish()
            raise

    def _driver_for(self, loop):
        d = self._driver
        if d is not None and d.loop is not loop:
            if d.users:
                raise Busy(EBUSY, "resolver has requests pending on "
                           "another event loop")
            d.detach()
            d = None
        if d is None:
            d = self._driver = LoopDriver(self._handle, loop, self._idle)
        return d

    def _idle(self, driver):
        if self._driver is driver:
            self._driver = None

    # ------------------------------------------------------------ cache
    def lookup(self, target: str, rrtype: RRType = "A", fetch: bool = True,
               stale: bool = True) -> Optional[Result]:
        """aname_cache_lookup(): never blocks.  Returns a Result, or None
        when nothing usable is cached (with fetch=True a background
        resolution was then started; it runs while the resolver is driven).
        Raises aname.Shed when the fetch was shed under load."""
        code = _util.rrtype(rrtype, (_util.A, _util.AAAA))
        flags = (LOOKUP_FETCH if fetch else 0) | (LOOKUP_STALE if stale
                                                  else 0)
        raw = _util.name(target, "target")
        out = ctypes.c_void_p()
        with self._handle.use() as ctx:
            rc = lib.aname_cache_lookup(ctx, raw, code, flags,
                                        ctypes.byref(out))
        if self._driver is not None:
            self._driver.rearm()
        if rc == EAGAIN:
            return None
        check(rc, "target %r" % (target,))
        return Result(out.value, code)

    def register(self, target: str, rrtype: RRType = "BOTH") -> None:
        """aname_target_register(): keep target warm (counted)."""
        code = _util.rrtype(rrtype)
        raw = _util.name(target, "target")
        with self._handle.use() as ctx:
            check(lib.aname_target_register(ctx, raw, code),
                  "target %r" % (target,))
        if self._driver is not None:
            self._driver.rearm()

    def unregister(self, target: str, rrtype: RRType = "BOTH") -> None:
        """aname_target_unregister(); aname.NoEntry if not registered."""
        code = _util.rrtype(rrtype)
        raw = _util.name(target, "target")
        with self._handle.use() as ctx:
            check(lib.aname_target_unregister(ctx, raw, code),
                  "target %r" % (target,))

    # ------------------------------------------------------------ health
    def health(self) -> Health:
        """Health(level, reason anchor, text) over the last 60 s."""
        reason = ctypes.c_int(0)
        with self._handle.use() as ctx:
            level = check(lib.aname_health(ctx, ctypes.byref(reason)),
                          "aname_health")
        return Health(lib.aname_health_level_name(level).decode(),
                      lib.aname_health_reason_name(reason.value).decode(),
                      lib.aname_health_reason_text(reason.value).decode())

    def stats(self) -> Dict[str, int]:
        """Every statistic by its metric name, e.g. {'requests': 12, ...}."""
        out: Dict[str, int] = {}
        value = ctypes.c_uint64()
        with self._handle.use() as ctx:
            i = 0
            while True:
                name = lib.aname_stat_name(i)
                if name is None:
                    break
                check(lib.aname_stats_get(ctx, i, ctypes.byref(value)),
                      "stat %d" % i)
                out[name.decode()] = value.value
                i += 1
        return out

    def latency(self) -> List[Tuple[float, int]]:
        """Cumulative upstream latency histogram: [(le_ms, count), ...];
        the last bucket's le_ms is float('inf')."""
        out: List[Tuple[float, int]] = []
        le = ctypes.c_uint32()
        count = ctypes.c_uint64()
        with self._handle.use() as ctx:
            i = 0
            while True:
                rc = lib.aname_stats_latency(ctx, i, ctypes.byref(le),
                                             ctypes.byref(count))
                if rc == -4:  # ANAME_ENOENT: past the last bucket
                    break
                check(rc, "latency bucket %d" % i)
                edge = float("inf") if le.value == 0xFFFFFFFF else float(le.value)
                out.append((edge, count.value))
                i += 1
        return out

    def prometheus(self) -> str:
        """aname_metrics_prometheus(): the text exposition format."""
        with self._handle.use() as ctx:
            size = 4096
            while True:
                buf = ctypes.create_string_buffer(size)
                n = check(lib.aname_metrics_prometheus(ctx, buf, size),
                          "aname_metrics_prometheus")
                if n < size:
                    return buf.raw[:n].decode()
                size = n + 1024  # grew between calls: retry with room


def _make_log_cb(fn):
    if not callable(fn):
        raise error_for(-1, "log must be callable, not %r" % (fn,))

    def sink(_arg, level, msg):
        try:
            fn(level, msg.decode("utf-8", "replace") if msg else "")
        except BaseException:
            # Never let it into the library's thread; report it the way
            # Python reports exceptions it cannot raise.
            sys.unraisablehook(_requests.Unraisable(
                sys.exc_info(), fn, "Exception in aname log callback"))

    return LOG_CB(sink)
