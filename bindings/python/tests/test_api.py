# SPDX-License-Identifier: BSD-3-Clause
"""The binding's surface without a network: declarations, errors, config."""

import os
import re
import subprocess
import sys

import pytest

import aname
from aname import _lib
from conftest import PKG, ROOT

HEADER = ROOT / "include" / "aname.h"


def header_functions():
    text = HEADER.read_text()
    return set(re.findall(r"ANAME_API\s[^;(]*?\b(aname_\w+)\s*\(", text))


def test_every_header_function_is_declared():
    declared = set(_lib.PROTOTYPES)
    in_header = header_functions()
    assert len(in_header) >= 50, "header parse found too little"
    assert in_header - declared == set(), "missing in _lib.PROTOTYPES"
    assert declared - in_header == set(), "not in include/aname.h"
    for name in declared:
        fn = getattr(_lib.lib, name)
        assert fn.argtypes is not None or _lib.PROTOTYPES[name][1] == []
        assert fn.restype == _lib.PROTOTYPES[name][0]


def test_version_matches_header_and_package():
    text = (ROOT / "include" / "aname_version.h").read_text()
    want = re.search(r'ANAME_VERSION_STR\s+"([^"]+)"', text).group(1)
    assert aname.version() == want
    assert aname.__version__ == want
    major, minor, patch = (int(x) for x in want.split("."))
    assert aname.version_hex() == (major << 16) | (minor << 8) | patch
    abi = int(re.search(r"ANAME_ABI\s+(\d+)", text).group(1))
    assert _lib.ABI == abi


def test_every_status_has_its_exception():
    text = HEADER.read_text()
    codes = {name: int(val) for name, val in
             re.findall(r"XX\((E[A-Z]+),\s*(-\d+),", text)}
    assert len(codes) >= 21
    for name, code in codes.items():
        e = aname.error_for(code, "ctx")
        assert isinstance(e, aname.Error)
        assert type(e) is not aname.Error, "no class for %s" % name
        assert type(e).code == code
        assert e.status == code
        assert e.name == "ANAME_" + name
        assert e.message == aname.strerror(code)
        assert e.message in str(e) and "ctx" in str(e)
    assert isinstance(aname.error_for(-6), TimeoutError)
    assert isinstance(aname.error_for(-9), ValueError)
    assert isinstance(aname.error_for(-1), ValueError)
    # Unknown codes still make an Error with the library's wording.
    e = aname.error_for(-999)
    assert type(e) is aname.Error and e.name == "ANAME_UNKNOWN"


def test_timeout_is_not_an_errno():
    e = aname.Timeout(-6)
    assert e.errno is None
    assert "deadline" in str(e)


@pytest.mark.parametrize("kw, exc, status", [
    ({"forwarders": ["not-an-address"]}, aname.BadAddress, -18),
    ({"forwarders": ["127.0.0.1@99999"]}, aname.BadAddress, -18),
    ({"stubs": {"a..b.": "127.0.0.1"}}, aname.BadName, -9),
    ({"stubs": {"ok.test.": "127.0.0.1@x"}}, aname.BadAddress, -18),
    ({"local_zones": {"z.test.": "no-such-type"}}, aname.InvalidArgument,
     -1),
    ({"local_data": ["this is not a record"]}, aname.BadRR, -19),
    ({"timeout": 0.001}, aname.Range, -17),
    ({"timeout": -1}, aname.Range, -17),
    ({"timeout": "1s"}, aname.InvalidArgument, -1),
    ({"max_chain": 17}, aname.Range, -17),
    ({"max_chain": -1}, aname.Range, -17),
    ({"cache_size": 0}, aname.Range, -17),
    ({"min_ttl": 100, "max_ttl": 10}, aname.Range, -17),
    ({"stale_ttl": 0}, aname.Range, -17),
    ({"prefetch": 51}, aname.Range, -17),
    ({"backoff": 3601}, aname.Range, -17),
    ({"max_fetches": 0}, aname.Range, -17),
    ({"watchdog_interval": 0.01}, aname.Range, -17),
    ({"trust_anchor_file": "/nonexistent/anchor.key"}, aname.FileError,
     -21),
    ({"log": print, "log_level": 9}, aname.Range, -17),
    ({"log": "not callable"}, aname.InvalidArgument, -1),
    ({"thread": "yes"}, aname.InvalidArgument, -1),
])
def test_bad_config_raises_clear_error(kw, exc, status):
    with pytest.raises(exc) as info:
        aname.Resolver(**kw)
    assert info.value.status == status
    assert info.value.message == aname.strerror(status)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        aname.Resolver(forwarder=["127.0.0.1"])


def test_good_config_with_every_setter(tmp_path):
    anchor = tmp_path / "root.key"
    anchor.write_text(". 3600 IN DS 20326 8 2 "
                      "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457"
                      "104237C7F8EC8D\n")
    logs = []
    r = aname.Resolver(
        forwarders=["127.0.0.1@1"], local_zones={"pinned.test.": "static"},
        local_data=["a.pinned.test. 60 IN A 192.0.2.7"],
        trust_anchor_file=str(anchor), timeout=1.5, cache_size=1000,
        min_ttl=0, max_ttl=3600, neg_max_ttl=60, max_chain=4, thread=False,
        stale_ttl=10, max_stale=600, stale_client_timeout=0.2, prefetch=20,
        backoff=5, max_fetches=64, max_waiters=1000,
        watchdog_interval=0.5, watchdog_grace=1.0,
        log=lambda lvl, msg: logs.append((lvl, msg)),
        log_level=aname.LOG_DEBUG)
    with r:
        assert not r.closed
        assert r.fileno() >= 0
    assert r.closed


def test_closed_resolver_raises_busy():
    r = aname.Resolver(forwarders=["127.0.0.1@1"])
    r.close()
    r.close()  # idempotent
    with pytest.raises(aname.Busy) as info:
        r.resolve("www.example.test.")
    assert "closed" in str(info.value)
    with pytest.raises(aname.Busy):
        r.stats()


def test_thread_mode_has_no_fd():
    with aname.Resolver(forwarders=["127.0.0.1@1"], thread=True) as r:
        with pytest.raises(aname.Busy):
            r.fileno()
        with pytest.raises(aname.Busy):
            r.process()


def test_name_to_wire():
    assert aname.name_to_wire("www.example.test.") == \
        b"\x03www\x07example\x04test\x00"
    assert aname.name_to_wire("www.example.test") == \
        b"\x03www\x07example\x04test\x00"
    assert aname.name_to_wire(".") == b"\x00"
    assert aname.name_to_wire("a\\.b.") == b"\x03a.b\x00"
    assert aname.name_to_wire("\\065.") == b"\x01A\x00"


@pytest.mark.parametrize("bad", [
    "a..b.", "x" * 64 + ".test.", ".".join(["abcdefgh"] * 40) + ".",
    "\\300.test.", "bücher.test.", "nul\0byte.test.", b"a..b"])
def test_name_to_wire_rejects(bad):
    with pytest.raises(aname.BadName) as info:
        aname.name_to_wire(bad)
    assert info.value.status == -9


def test_loads_from_build_tree_without_env(tmp_path):
    """Without ANAME_LIBRARY the package finds build/libaname.so.0 of the
    source tree it sits in (a copy of the tree layout here, so the test
    does not depend on where `make` put the library)."""
    import shutil
    pkg = tmp_path / "bindings" / "python"
    shutil.copytree(PKG / "aname", pkg / "aname",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "build").mkdir()
    lib = tmp_path / "build" / "libaname.so.0"
    lib.symlink_to(os.path.realpath(os.environ["ANAME_LIBRARY"]))
    env = dict(os.environ)
    env.pop("ANAME_LIBRARY", None)
    env["PYTHONPATH"] = str(pkg)
    out = subprocess.run(
        [sys.executable, "-c", "import aname; print(aname.LIBRARY_PATH)"],
        env=env, cwd="/", capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(lib)


def test_bad_library_path_fails_import_clearly():
    env = dict(os.environ, ANAME_LIBRARY="/nonexistent/libaname.so.0",
               PYTHONPATH=str(PKG))
    out = subprocess.run([sys.executable, "-c", "import aname"], env=env,
                         cwd="/", capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "ImportError: aname: cannot load libaname.so.0 (ANAME_LIBRARY)" \
        in out.stderr


def test_sync_request_wakes_its_thread_from_another():
    """A blocking resolve() polls a per-thread pipe next to the library fd:
    a callback run by another thread must make it readable."""
    import select
    import threading
    from aname import _requests
    req = _requests.SyncRequest(aname.A)
    req.wake.drain()
    t = threading.Thread(target=req.deliver, args=(-6, None))
    t.start()
    t.join()
    assert req.event.is_set()
    assert select.select([req.wake.r], [], [], 0)[0] == [req.wake.r]
    req.wake.drain()
    req.deliver(-6, None)  # same thread: it is not asleep, no byte
    assert select.select([req.wake.r], [], [], 0)[0] == []
    with pytest.raises(aname.Timeout):
        req.outcome()
