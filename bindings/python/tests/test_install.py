# SPDX-License-Identifier: BSD-3-Clause
"""`pip install --no-build-isolation bindings/python` works offline."""

import os
import shutil
import subprocess
import sys

from conftest import PKG


def test_pip_install_offline(tmp_path):
    # Build from a copy: an in-tree build would leave build/ and
    # *.egg-info in the source folder.
    src = tmp_path / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PIP_ROOT_USER_ACTION="ignore")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation",
         "--no-deps", "--target", str(target), str(src)],
        env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (target / "aname" / "__init__.py").is_file()
    # PEP 561: type checkers use the inline hints of an installed copy.
    assert (target / "aname" / "py.typed").is_file()
    dist = [p.name for p in target.iterdir() if p.name.endswith(".dist-info")]
    assert dist == ["aname-0.1.0.dist-info"], dist

    run_env = dict(env, PYTHONPATH=str(target))
    out = subprocess.run(
        [sys.executable, "-c",
         "import aname; print(aname.__file__); print(aname.version())"],
        env=run_env, cwd=str(tmp_path), capture_output=True, text=True,
        timeout=30)
    assert out.returncode == 0, out.stderr
    where, version = out.stdout.split()
    assert where == str(target / "aname" / "__init__.py")
    assert version == "0.1.0"
