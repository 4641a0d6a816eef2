# SPDX-License-Identifier: BSD-3-Clause
"""Type hints (PEP 484, shipped with py.typed): mypy accepts the package,
and `mypy --strict` accepts typing_client.py, a user of the public API, so
every public call is typed; a wrong argument type is caught."""

import os
import subprocess
import sys

from conftest import HERE, PKG


def mypy(*args, cwd=PKG):
    env = dict(os.environ, MYPYPATH=str(PKG))
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental",
                           "--cache-dir", os.devnull, *args],
                          cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=240)


def test_package_type_checks():
    out = mypy("-p", "aname")
    assert out.returncode == 0, out.stdout + out.stderr


# A user's view of an installed package: --strict applies to the user's
# code; errors inside the package are the package's (mypy does not report
# them for installed packages either), but an untyped public function is a
# no-untyped-call error in the user's code.
STRICT_USER = """\
[mypy]
strict = True
[mypy-aname.*]
ignore_errors = True
"""


def test_public_api_is_typed_for_strict_users(tmp_path):
    cfg = tmp_path / "mypy.ini"
    cfg.write_text(STRICT_USER)
    out = mypy("--config-file", str(cfg), str(HERE / "typing_client.py"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_wrong_argument_type_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import aname\n"
                   "r = aname.Resolver(timeout='slow')\n"
                   "r.resolve(42)\n")
    cfg = tmp_path / "mypy.ini"
    cfg.write_text(STRICT_USER)
    out = mypy("--config-file", str(cfg), str(bad))
    assert out.returncode == 1, out.stdout + out.stderr
    assert 'Argument "timeout" to "Resolver"' in out.stdout, out.stdout
    assert 'Argument 1 to "resolve"' in out.stdout, out.stdout
