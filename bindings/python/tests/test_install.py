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


def test_readme_install_commands_work(tmp_path):
    """The README's install commands, as written, with Debian's python3."""
    readme = (PKG / "README.md").read_text()
    venv_cmd = "/usr/bin/python3 -m venv --system-site-packages venv"
    pip_cmd = "venv/bin/pip install --no-build-isolation bindings/python"
    block = readme.split("## Install", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == \
        ["make", venv_cmd, pip_cmd], block
    # The caveat comes before the commands.
    assert readme.index("bdist_wheel") < readme.index(venv_cmd)

    # Run them in a scratch top directory holding a copy of the package.
    top = tmp_path / "top"
    shutil.copytree(PKG, top / "bindings" / "python", ignore=shutil.ignore_patterns(
        "tests", "__pycache__", "build", "*.egg-info"))
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PIP_ROOT_USER_ACTION="ignore")
    for cmd in (venv_cmd, pip_cmd):
        out = subprocess.run(cmd.split(), cwd=str(top), env=env,
                             capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, cmd + "\n" + out.stdout + out.stderr
    out = subprocess.run(
        [str(top / "venv" / "bin" / "python"), "-c",
         "import aname, pathlib; print(aname.__version__, "
         "(pathlib.Path(aname.__file__).parent / 'py.typed').is_file())"],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [aname_version(), "True"]


def aname_version():
    sys.path.insert(0, str(PKG))
    try:
        from aname._version import __version__
    finally:
        sys.path.pop(0)
    return __version__
