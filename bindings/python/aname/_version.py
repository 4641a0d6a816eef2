# SPDX-License-Identifier: BSD-3-Clause
"""The package version: the one place it is written.  pyproject.toml reads
it (setuptools dynamic version); keep it equal to ANAME_VERSION_STR in
include/aname_version.h (tests/test_version.py checks both)."""

__version__ = "0.1.0"
