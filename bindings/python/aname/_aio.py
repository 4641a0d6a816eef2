# SPDX-License-Identifier: BSD-3-Clause
"""Drive an event-loop-mode context from an asyncio loop.

The library asks for two things (see aname.h): call aname_process() when
aname_fd() is readable, and call it again after aname_timeout_ms() even if
the fd stays quiet.  The driver maps them onto loop.add_reader() and one
loop.call_later() handle, re-read after every call into the library.
There is no thread and no periodic wake-up: with nothing pending the timer
is not armed at all.

A driver lives while requests of its loop are pending (acquire/release).
Keeping the reader registered longer would leave a callback on a loop that
the host may close or never run again (asyncio.run() per call).
"""

import threading

from .errors import Busy


class LoopDriver:
    def __init__(self, handle, loop, on_idle):
        self.handle = handle
        self.loop = loop
        self.on_idle = on_idle
        self.users = 0
        self.timer = None
        self.fd = None
        self.thread = threading.get_ident()

    def acquire(self):
        if self.users == 0:
            with self.handle.use() as ctx:
                self.fd = self.handle.lib.aname_fd(ctx)
            if self.fd < 0:
                raise Busy(self.fd, "no fd to watch")
            self.loop.add_reader(self.fd, self.run)
        self.users += 1

    def release(self):
        self.users -= 1
        if self.users == 0:
            self.detach()
            self.on_idle(self)

    def detach_from_any_thread(self):
        """detach() before the context (and its fd) is freed.  The loop owns
        its selector: when it runs in another thread, detach there and wait,
        so that the fd number cannot be reused and then unregistered."""
        if threading.get_ident() == self.thread or not self.loop.is_running():
            self.detach()
            return
        done = threading.Event()

        def job():
            self.detach()
            done.set()

        try:
            self.loop.call_soon_threadsafe(job)
        except RuntimeError:
            return  # closed meanwhile: its selector is gone with it
        # Bounded: the loop may be stuck in a blocking call of its own.
        done.wait(10)

    def detach(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.fd is not None:
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)
            self.fd = None

    def run(self):
        """Reader and timer callback: do all ready work, then re-arm."""
        self.timer = None
        if self.handle.ptr is None:
            return
        with self.handle.use() as ctx:
            self.handle.lib.aname_process(ctx)
        self.rearm()

    def rearm(self):
        """Re-read the library's next deadline; call after every aname_*
        call that may have changed it."""
        if self.fd is None or self.handle.ptr is None:
            return
        with self.handle.use() as ctx:
            ms = self.handle.lib.aname_timeout_ms(ctx)
        if ms < 0:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            return
        when = self.loop.time() + ms / 1000.0
        if self.timer is not None:
            # Keep a timer that already fires at (about) the right time
            # rather than churn one handle per resolve under load.
            if abs(self.timer.when() - when) < 0.001:
                return
            self.timer.cancel()
        self.timer = self.loop.call_at(when, self.run)
