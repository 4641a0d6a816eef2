# SPDX-License-Identifier: BSD-3-Clause
"""Argument conversion: Python values to what the C functions take.

ctypes converts silently where C would: -1 becomes 4294967295 in a c_uint
and b"a\\0b" becomes "a" in a c_char_p.  Every value is therefore checked
here first, so a bad argument raises a clear exception and never reaches
the library as something else.
"""

import numbers

from .errors import BadName, InvalidArgument, Range

A = 1
AAAA = 28
BOTH = 255
ALIAS = 65401

EINVAL = -1
EBADNAME = -9
ERANGE = -17

_TYPE_NAMES = {"A": A, "AAAA": AAAA, "BOTH": BOTH}
TYPE_TEXT = {A: "A", AAAA: "AAAA", BOTH: "BOTH"}


def rrtype(value, allowed=(A, AAAA, BOTH)):
    """'A', 'AAAA', 'BOTH' (any case) or the numbers 1, 28, 255."""
    if isinstance(value, str):
        code = _TYPE_NAMES.get(value.upper())
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        code = int(value)
    else:
        code = None
    if code not in allowed:
        names = ", ".join(repr(TYPE_TEXT[t]) for t in allowed)
        raise InvalidArgument(EINVAL, "record type %r: use one of %s"
                              % (value, names))
    return code


def types_of(code):
    """The address types a request for code covers, A first."""
    return (A, AAAA) if code == BOTH else (code,)


def name(value, what="name"):
    """A domain name in presentation format, as the bytes C expects."""
    if isinstance(value, str):
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise BadName(EBADNAME, "%s %r is not ASCII: convert it with "
                          "IDNA first (name.encode('idna'))"
                          % (what, value)) from None
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    else:
        raise InvalidArgument(EINVAL, "%s must be str or bytes, not %s"
                              % (what, type(value).__name__))
    if b"\0" in raw:
        raise BadName(EBADNAME, "%s %r contains a NUL byte" % (what, value))
    return raw


def text(value, what):
    """A plain string argument (address, zone type, RR text, path)."""
    if isinstance(value, str):
        raw = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    else:
        raise InvalidArgument(EINVAL, "%s must be str, not %s"
                              % (what, type(value).__name__))
    if b"\0" in raw:
        raise InvalidArgument(EINVAL, "%s %r contains a NUL byte"
                              % (what, value))
    return raw


def uint(value, what, maximum=0xFFFFFFFF):
    """A non-negative integer that fits the C parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(EINVAL, "%s must be an integer, not %r"
                              % (what, value))
    if not 0 <= value <= maximum:
        raise Range(ERANGE, "%s = %d" % (what, value))
    return int(value)


def millis(seconds, what):
    """Seconds (int or float) to whole milliseconds for a C unsigned."""
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise InvalidArgument(EINVAL, "%s must be a number of seconds, "
                              "not %r" % (what, seconds))
    if seconds != seconds or seconds < 0 or seconds * 1000 > 0xFFFFFFFF:
        raise Range(ERANGE, "%s = %r s" % (what, seconds))
    return int(round(seconds * 1000))
