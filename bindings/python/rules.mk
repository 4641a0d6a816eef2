# bindings/python: the `aname` Python package (ctypes over libaname.so.0).
# Nothing to compile; the tests need the shared library and its soname link.
#
#   make test-python      pytest suite against a real nsd on loopback
#
# Installing the package is pip's job (see README.md); `make install` leaves
# Python alone.

# Debian's interpreter: python3-pytest and python3-dnspython live there,
# whatever python3 comes first in PATH (pyenv, venvs).
PY_BINDING_PYTHON ?= /usr/bin/python3

TEST_TARGETS += test-python
TEST_DEPS    += deps/python.txt
CLEAN_FILES  += bindings/python/build bindings/python/aname.egg-info

.PHONY: test-python

# timeout(1) is a safety net only: the suite itself takes well under a
# minute, and every wait in it has its own deadline.
test-python: $(SHLIB) $(B)/$(SONAME)
	cd bindings/python && \
	ANAME_LIBRARY=$(abspath $(B)/$(SONAME)) PYTHONDONTWRITEBYTECODE=1 \
	    timeout -k 10 300 $(PY_BINDING_PYTHON) -m pytest -p no:cacheprovider \
	    -q -rfE tests
