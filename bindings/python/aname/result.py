# SPDX-License-Identifier: BSD-3-Clause
"""Results and synthesis: Python views of an aname_result_t.

A Result owns one library reference to an immutable aname_result_t and
drops it when the Result is garbage-collected, at interpreter exit, or on
close().  Results stay valid after their Resolver is closed (the library
promises that), so a Result does not keep its Resolver alive.
"""

from __future__ import annotations

import ctypes
import socket
import weakref
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

from . import _util
from ._lib import lib
from .errors import Busy, check

_FAMILY = {_util.A: (socket.AF_INET, 4), _util.AAAA: (socket.AF_INET6, 16)}

ENOENT = -4
ENOSPC = -16

class Record(NamedTuple):
    """One synthesized address: type 'A' or 'AAAA', address text."""

    type: str
    address: str


class Synthesis(NamedTuple):
    """The sibling RRset(s) for one owner name.

    owner  the owner name as given;
    ttl    TTL put on every record (aname_synth_ttl);
    count  number of records (0 for NXDOMAIN/NODATA);
    text   presentation format, one record per line (aname_synth_text);
    wire   the same records in uncompressed DNS wire format, ready to be
           appended to an answer section (aname_synth_wire).
    """

    owner: str
    ttl: int
    count: int  # type: ignore[assignment]  # shadows tuple.count, as before
    text: str
    wire: bytes

    @property
    def lines(self) -> List[str]:
        return self.text.splitlines()


def name_to_wire(name: Union[str, bytes]) -> bytes:
    """Presentation-format name to uncompressed wire format (bytes)."""
    raw = _util.name(name)
    buf = ctypes.create_string_buffer(256)
    n = ctypes.c_size_t()
    check(lib.aname_name_to_wire(raw, buf, len(buf), ctypes.byref(n)),
          "name %r" % (name,))
    return buf.raw[:n.value]


class Result:
    """The outcome of one resolution or cache lookup.

    For a request of one type the plain properties (status, rcode, ttl,
    addresses, records) describe that type; for 'BOTH' they combine the
    two: addresses are A then AAAA, ttl is the smallest over the types that
    got an answer, status is OK when at least one type did.  The *_of()
    methods give one type's view.
    """

    def __init__(self, ptr, rrtype):
        # Private: takes over one reference the caller already holds.
        if not ptr:
            raise ValueError("Result needs an aname_result_t")
        self._ptr = ptr
        self._rrtype = rrtype
        self._addrs = {}
        self._finalizer = weakref.finalize(self, lib.aname_result_unref, ptr)

    @classmethod
    def _borrow(cls, ptr, rrtype):
        """Wrap a pointer the library lends to a callback."""
        return cls(lib.aname_result_ref(ptr), rrtype)

    # ------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Drop the library reference now; later accesses raise."""
        self._finalizer()
        self._ptr = None

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> "Result":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _p(self):
        if self._ptr is None:
            raise Busy(-10, "result is closed")
        return self._ptr

    # ------------------------------------------------------------ per type
    @property
    def rrtype(self) -> str:
        """The requested type: 'A', 'AAAA' or 'BOTH'."""
        return _util.TYPE_TEXT[self._rrtype]

    @property
    def types(self) -> Tuple[str, ...]:
        """The address types this result covers, e.g. ('A', 'AAAA')."""
        return tuple(_util.TYPE_TEXT[t] for t in _util.types_of(self._rrtype))

    def _type(self, rrtype):
        return _util.rrtype(rrtype, (_util.A, _util.AAAA))

    def status_of(self, rrtype: Union[str, int]) -> int:
        """ANAME_OK (0) or the failure status of one type."""
        return lib.aname_result_status(self._p(), self._type(rrtype))

    def rcode_of(self, rrtype: Union[str, int]) -> int:
        """0 (NOERROR), 3 (NXDOMAIN) or -1 (no answer) for one type."""
        return lib.aname_result_rcode(self._p(), self._type(rrtype))

    def ttl_of(self, rrtype: Union[str, int]) -> int:
        """Remaining TTL of one type, counted down since it was received."""
        return lib.aname_result_ttl(self._p(), self._type(rrtype))

    def chain_of(self, rrtype: Union[str, int]) -> int:
        """Number of CNAMEs followed to reach one type's addresses."""
        return lib.aname_result_chain(self._p(), self._type(rrtype))

    def addresses_of(self, rrtype: Union[str, int]) -> List[str]:
        """One type's addresses as strings, in the library's order."""
        t = self._type(rrtype)
        if t not in self._addrs:
            self._addrs[t] = self._read_addrs(t)
        return list(self._addrs[t])

    def _read_addrs(self, t):
        family, size = _FAMILY[t]
        ptr = self._p()
        buf = ctypes.create_string_buffer(size)
        out = []
        for i in range(lib.aname_result_count(ptr, t)):
            n = lib.aname_result_addr(ptr, t, i, buf, size)
            check(n, "address %d of %s" % (i, _util.TYPE_TEXT[t]))
            out.append(socket.inet_ntop(family, buf.raw[:n]))
        return tuple(out)

    # ------------------------------------------------------------ combined
    def _answered(self):
        return [t for t in _util.types_of(self._rrtype)
                if lib.aname_result_rcode(self._p(), t) >= 0]

    @property
    def target(self) -> str:
        """The target, lower case and absolute."""
        return lib.aname_result_target(self._p()).decode("ascii", "replace")

    @property
    def status(self) -> int:
        types = _util.types_of(self._rrtype)
        codes = [lib.aname_result_status(self._p(), t) for t in types]
        return 0 if 0 in codes else codes[0]

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def rcode(self) -> int:
        """0 NOERROR, 3 NXDOMAIN, -1 no DNS answer; for BOTH the first
        type that has an answer (NOERROR wins over NXDOMAIN)."""
        codes = [lib.aname_result_rcode(self._p(), t)
                 for t in _util.types_of(self._rrtype)]
        answered = [c for c in codes if c >= 0]
        return min(answered) if answered else -1

    @property
    def nxdomain(self) -> bool:
        return self.rcode == 3

    @property
    def nodata(self) -> bool:
        """NOERROR without a single address (draft-aname: answer NODATA)."""
        return self.rcode == 0 and not self.addresses

    @property
    def ttl(self) -> int:
        ttls = [lib.aname_result_ttl(self._p(), t) for t in self._answered()]
        return min(ttls) if ttls else 0

    @property
    def chain(self) -> int:
        """Longest CNAME chain followed over the covered types."""
        return max(lib.aname_result_chain(self._p(), t)
                   for t in _util.types_of(self._rrtype))

    @property
    def addresses(self) -> List[str]:
        out: List[str] = []
        for t in _util.types_of(self._rrtype):
            out.extend(self.addresses_of(t))
        return out

    @property
    def records(self) -> List[Record]:
        out: List[Record] = []
        for t in _util.types_of(self._rrtype):
            out.extend(Record(_util.TYPE_TEXT[t], a)
                       for a in self.addresses_of(t))
        return out

    @property
    def secure(self) -> bool:
        return bool(lib.aname_result_secure(self._p()))

    @property
    def stale(self) -> bool:
        return bool(lib.aname_result_stale(self._p()))

    # ------------------------------------------------------------ synthesis
    def synth_ttl(self, alias_ttl: int,
                  rrtype: Optional[Union[str, int]] = None) -> int:
        t = self._rrtype if rrtype is None else _util.rrtype(rrtype)
        return lib.aname_synth_ttl(self._p(), t,
                                   _util.uint(alias_ttl, "alias_ttl"))

    def synthesize(self, owner: str, alias_ttl: int,
                   rrtype: Optional[Union[str, int]] = None) -> Synthesis:
        """The sibling RRset(s) at owner, as text and as wire bytes.

        rrtype defaults to the requested type; 'BOTH' gives A then AAAA.
        """
        t = self._rrtype if rrtype is None else _util.rrtype(rrtype)
        ttl = _util.uint(alias_ttl, "alias_ttl")
        ptr = self._p()
        raw_owner = _util.name(owner, "owner")
        text = self._synth_text(ptr, t, raw_owner, ttl)
        wire, count = self._synth_wire(ptr, t, name_to_wire(raw_owner), ttl)
        return Synthesis(owner, lib.aname_synth_ttl(ptr, t, ttl), count,
                         text, wire)

    @staticmethod
    def _synth_text(ptr, t, owner, ttl):
        # snprintf-like: ask for the length first, then fill an exact buffer.
        need = check(lib.aname_synth_text(ptr, t, owner, ttl, None, 0),
                     "owner %r" % (owner,))
        buf = ctypes.create_string_buffer(need + 1)
        got = check(lib.aname_synth_text(ptr, t, owner, ttl, buf, len(buf)),
                    "owner %r" % (owner,))
        if got != need:
            raise RuntimeError("aname_synth_text length changed: %d != %d"
                               % (got, need))
        return buf.raw[:got].decode("ascii")

    @staticmethod
    def _synth_wire(ptr, t, owner, ttl):
        # Each RR: owner + type, class, TTL, rdlength (10) + rdata (<= 16).
        n = sum(lib.aname_result_count(ptr, x) for x in _util.types_of(t))
        size = max(n, 1) * (len(owner) + 10 + 16)
        buf = ctypes.create_string_buffer(size)
        written = ctypes.c_size_t()
        count = lib.aname_synth_wire(ptr, t, owner, len(owner), ttl, buf,
                                     size, ctypes.byref(written))
        check(count, "owner %r" % (owner,))
        return buf.raw[:written.value], count

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<aname.Result closed>"
        flags = "".join([" stale" if self.stale else "",
                         " secure" if self.secure else ""])
        return "<aname.Result %s %s status=%d rcode=%d ttl=%d %s%s>" % (
            self.target, self.rrtype, self.status, self.rcode, self.ttl,
            self.addresses, flags)
