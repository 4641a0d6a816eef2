# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions: one class per library status code.

Every exception carries the library's own status code (``status``), its
symbolic name (``name``, e.g. "ANAME_ETIMEDOUT") and its sentence from
aname_strerror() (``message``).  Classes also derive from the closest
Python built-in, so ``except TimeoutError`` or ``except ValueError`` work
for code that does not know this package.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from ._lib import lib

OK = 0


class Error(Exception):
    """A libaname call failed.  Base class of every error below."""

    #: The status this class stands for; Error itself covers unknown codes.
    code: Optional[int] = None
    status: int
    name: str
    message: str
    detail: Optional[str]

    def __new__(cls, status: int, detail: Optional[str] = None) -> "Error":
        # OSError.__new__ would read two arguments as (errno, strerror);
        # the status is not an errno, so give the built-in bases nothing.
        return super().__new__(cls)

    def __init__(self, status: int, detail: Optional[str] = None) -> None:
        status = int(status)
        self.status = status
        self.name = lib.aname_status_name(status).decode()
        self.message = lib.aname_strerror(status).decode()
        self.detail = detail
        text = "%s (%s)" % (self.message, self.name)
        if detail:
            text = "%s: %s" % (detail, text)
        # Exception.__init__ sets args; OSError-derived classes below need
        # exactly one argument so they do not read it as (errno, strerror).
        Exception.__init__(self, text)

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return (error_for, (self.status, self.detail))


class InvalidArgument(Error, ValueError):
    code = -1


class NoMemory(Error):
    code = -2


class Again(Error):
    code = -3


class NoEntry(Error, LookupError):
    code = -4


class Cancelled(Error):
    """The resolver was closed while the request was pending."""
    code = -5


class Timeout(Error, TimeoutError):
    code = -6


class ServFail(Error):
    code = -7


class Bogus(Error):
    code = -8


class BadName(Error, ValueError):
    code = -9


class Busy(Error):
    code = -10


class ResolverError(Error):
    code = -11


class ThreadError(Error):
    code = -12


class Refused(Error):
    code = -13


class Loop(Error):
    code = -14


class Shed(Error):
    code = -15


class NoSpace(Error):
    code = -16


class Range(Error, ValueError):
    code = -17


class BadAddress(Error, ValueError):
    code = -18


class BadRR(Error, ValueError):
    code = -19


class Malformed(Error):
    code = -20


class FileError(Error, OSError):
    code = -21


class BadFile(Error, ValueError):
    """A cache snapshot that is truncated, corrupt, too large or of another
    format version (aname_cache_load)."""
    code = -22


_BY_CODE: Dict[Optional[int], Type[Error]] = {cls.code: cls for cls in Error.__subclasses__()}


def error_for(status: int, detail: Optional[str] = None) -> Error:
    """The exception instance for a negative library status."""
    return _BY_CODE.get(int(status), Error)(status, detail)


def check(status: int, detail: Optional[str] = None) -> int:
    """Raise the matching exception when a C call returned < 0."""
    if status < 0:
        raise error_for(status, detail)
    return status
