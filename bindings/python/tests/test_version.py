# SPDX-License-Identifier: BSD-3-Clause
"""One version source: aname/_version.py, equal to the C library's."""

import pathlib
import re

import aname

TOP = pathlib.Path(__file__).resolve().parents[3]


def test_version_matches_c_header():
    header = (TOP / "include" / "aname_version.h").read_text()
    c_version = re.search(r'#define ANAME_VERSION_STR\s+"([^"]+)"', header).group(1)
    assert aname.__version__ == c_version


def test_version_is_not_written_twice():
    pyproject = (TOP / "bindings" / "python" / "pyproject.toml").read_text()
    assert re.search(r'^version\s*=\s*"', pyproject, re.M) is None
    assert 'dynamic = ["version"]' in pyproject
