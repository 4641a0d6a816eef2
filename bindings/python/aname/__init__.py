# SPDX-License-Identifier: BSD-3-Clause
"""aname: Python binding of libaname (ALIAS/ANAME target resolution).

    import aname
    with aname.Resolver(forwarders=["127.0.0.1@5353"], timeout=1.5) as r:
        res = r.resolve("target.example.", "A")
        print(res.addresses, res.ttl)
        print(res.synthesize("alias.example.", 300).text)

    # asyncio
    res = await r.resolve_async("target.example.", "AAAA")

The library is loaded with ctypes from $ANAME_LIBRARY, the build/ directory
of the source tree this package sits in, or the system (libaname.so.0).
"""

from __future__ import annotations

from ._lib import LIBRARY_PATH, lib as _cdll
from ._util import A, AAAA, ALIAS, BOTH
from .errors import (Again, BadAddress, BadName, BadRR, Bogus, Busy,
                     BadFile, Cancelled, Error, FileError, InvalidArgument, Loop,
                     Malformed, NoEntry, NoMemory, NoSpace, Range, Refused,
                     ResolverError, ServFail, Shed, ThreadError, Timeout,
                     error_for)
from .resolver import Health, Resolver
from .result import Record, Result, Synthesis, name_to_wire

from ._version import __version__

HEALTH_OK = 0
HEALTH_DEGRADED = 1
HEALTH_FAILING = 2

LOG_ERROR = 0
LOG_WARNING = 1
LOG_INFO = 2
LOG_DEBUG = 3

__all__ = [
    "A", "AAAA", "ALIAS", "BOTH", "LIBRARY_PATH",
    "Again", "BadAddress", "BadName", "BadRR", "Bogus", "Busy", "Cancelled",
    "BadFile", "Error", "FileError", "InvalidArgument", "Loop", "Malformed", "NoEntry",
    "NoMemory", "NoSpace", "Range", "Refused", "ResolverError", "ServFail",
    "Shed", "ThreadError", "Timeout", "error_for",
    "Health", "Resolver", "Record", "Result", "Synthesis", "name_to_wire",
    "HEALTH_OK", "HEALTH_DEGRADED", "HEALTH_FAILING",
    "LOG_ERROR", "LOG_WARNING", "LOG_INFO", "LOG_DEBUG",
    "version", "version_hex", "strerror", "status_name",
]


def version() -> str:
    """The loaded library's version string, e.g. '0.1.0'."""
    return _cdll.aname_version(None).decode()


def version_hex() -> int:
    """The loaded library's ANAME_VERSION_HEX."""
    import ctypes
    h = ctypes.c_uint()
    _cdll.aname_version(ctypes.byref(h))
    return h.value


def strerror(status: int) -> str:
    """aname_strerror(): one sentence for a status code."""
    return _cdll.aname_strerror(int(status)).decode()


def status_name(status: int) -> str:
    """aname_status_name(): e.g. 'ANAME_ETIMEDOUT'."""
    return _cdll.aname_status_name(int(status)).decode()
