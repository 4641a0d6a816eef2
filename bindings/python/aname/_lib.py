# SPDX-License-Identifier: BSD-3-Clause
"""Load libaname with ctypes and declare the type of every C function.

This module is the only place that knows the C signatures.  Each entry of
PROTOTYPES mirrors one ANAME_API declaration of include/aname.h; the test
suite parses the header and fails if a function is missing here or a
declared one is not exported by the loaded library.

The library is found, in order:
  1. the path in the environment variable ANAME_LIBRARY;
  2. build/libaname.so.<ABI> in the source tree this package sits in
     (bindings/python/aname -> ../../../build), for tests and development;
  3. the system soname libaname.so.<ABI> through the dynamic loader.
"""

import ctypes
import os
import pathlib

# The ABI this binding was written against (ANAME_ABI in aname_version.h).
# A library with another soname is a different contract: refuse to guess.
ABI = 0
SONAME = "libaname.so.%d" % ABI

c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_size_t = ctypes.c_size_t
c_uint16 = ctypes.c_uint16
c_uint32 = ctypes.c_uint32
c_uint64 = ctypes.c_uint64
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
P = ctypes.POINTER

# Opaque handles travel as void pointers; the binding never looks inside.
ctx_p = c_void_p
cfg_p = c_void_p
res_p = c_void_p

#: void (*aname_resolve_cb)(void *arg, int status, const aname_result_t *res)
RESOLVE_CB = ctypes.CFUNCTYPE(None, c_void_p, c_int, res_p)
#: void (*aname_log_cb)(void *arg, int level, const char *msg)
LOG_CB = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p)
#: int (*aname_target_cb)(void *arg, const aname_target_info_t *info)
TARGET_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_void_p)

# name: (restype, [argtypes])
PROTOTYPES = {
    "aname_strerror": (c_char_p, [c_int]),
    "aname_status_name": (c_char_p, [c_int]),
    "aname_version": (c_char_p, [P(c_uint)]),

    "aname_config_new": (cfg_p, []),
    "aname_config_free": (None, [cfg_p]),
    "aname_config_add_forwarder": (c_int, [cfg_p, c_char_p]),
    "aname_config_add_stub": (c_int, [cfg_p, c_char_p, c_char_p]),
    "aname_config_add_local_zone": (c_int, [cfg_p, c_char_p, c_char_p]),
    "aname_config_add_local_data": (c_int, [cfg_p, c_char_p]),
    "aname_config_set_trust_anchor_file": (c_int, [cfg_p, c_char_p]),
    "aname_config_set_root_hints": (c_int, [cfg_p, c_char_p]),
    "aname_config_set_timeout_ms": (c_int, [cfg_p, c_uint]),
    "aname_config_set_cache": (c_int, [cfg_p, c_size_t, c_uint32,
                                       c_uint32, c_uint32]),
    "aname_config_set_max_chain": (c_int, [cfg_p, c_uint]),
    "aname_config_set_thread": (c_int, [cfg_p, c_int]),
    "aname_config_set_stale": (c_int, [cfg_p, c_uint32, c_uint32,
                                       c_uint]),
    "aname_config_set_prefetch": (c_int, [cfg_p, c_uint]),
    "aname_config_set_backoff": (c_int, [cfg_p, c_uint]),
    "aname_config_set_limits": (c_int, [cfg_p, c_uint, c_uint]),
    "aname_config_set_watchdog": (c_int, [cfg_p, c_uint, c_uint]),
    "aname_config_set_log": (c_int, [cfg_p, c_int, LOG_CB, c_void_p]),

    "aname_ctx_new": (c_int, [P(ctx_p), cfg_p]),
    "aname_ctx_free": (None, [ctx_p]),
    "aname_fd": (c_int, [ctx_p]),
    "aname_timeout_ms": (c_int, [ctx_p]),
    "aname_process": (c_int, [ctx_p]),
    "aname_wait": (c_int, [ctx_p, c_int]),

    "aname_resolve": (c_int, [ctx_p, c_char_p, c_uint16, c_uint,
                              RESOLVE_CB, c_void_p, P(c_uint64)]),
    "aname_cancel": (c_int, [ctx_p, c_uint64]),
    "aname_cache_lookup": (c_int, [ctx_p, c_char_p, c_uint16, c_uint,
                                   P(res_p)]),
    "aname_cache_lookup_wire": (c_int, [ctx_p, c_char_p, c_size_t, c_uint16,
                                        c_uint, P(res_p)]),
    "aname_cache_synth_wire": (c_int, [ctx_p, c_char_p, c_size_t, c_uint16,
                                       c_uint, c_char_p, c_size_t, c_uint32,
                                       c_char_p, c_size_t, P(c_size_t),
                                       P(c_uint)]),
    "aname_target_register": (c_int, [ctx_p, c_char_p, c_uint16]),
    "aname_target_unregister": (c_int, [ctx_p, c_char_p, c_uint16]),

    "aname_result_ref": (res_p, [res_p]),
    "aname_result_unref": (None, [res_p]),
    "aname_result_target": (c_char_p, [res_p]),
    "aname_result_status": (c_int, [res_p, c_uint16]),
    "aname_result_rcode": (c_int, [res_p, c_uint16]),
    "aname_result_ttl": (c_uint32, [res_p, c_uint16]),
    "aname_result_count": (c_size_t, [res_p, c_uint16]),
    "aname_result_addr": (c_int, [res_p, c_uint16, c_size_t, c_void_p,
                                  c_size_t]),
    "aname_result_chain": (c_uint, [res_p, c_uint16]),
    "aname_result_secure": (c_int, [res_p]),
    "aname_result_stale": (c_int, [res_p]),

    "aname_synth_ttl": (c_uint32, [res_p, c_uint16, c_uint32]),
    "aname_synth_wire": (c_int, [res_p, c_uint16, c_char_p, c_size_t,
                                 c_uint32, c_void_p, c_size_t,
                                 P(c_size_t)]),
    "aname_synth_text": (c_int, [res_p, c_uint16, c_char_p, c_uint32,
                                 c_void_p, c_size_t]),
    # struct ldns_struct_rr_list **: the binding passes it through as an
    # opaque pointer; Python has no use for an ldns list of its own.
    "aname_synth_ldns": (c_int, [res_p, c_uint16, c_char_p, c_uint32,
                                 P(c_void_p)]),
    "aname_name_to_wire": (c_int, [c_char_p, c_void_p, c_size_t,
                                   P(c_size_t)]),

    "aname_health": (c_int, [ctx_p, P(c_int)]),
    "aname_health_level_name": (c_char_p, [c_int]),
    "aname_health_reason_name": (c_char_p, [c_int]),
    "aname_health_reason_text": (c_char_p, [c_int]),
    "aname_stats_get": (c_int, [ctx_p, c_int, P(c_uint64)]),
    "aname_stat_name": (c_char_p, [c_int]),
    "aname_stats_latency": (c_int, [ctx_p, c_size_t, P(c_uint32),
                                    P(c_uint64)]),
    "aname_metrics_prometheus": (c_int, [ctx_p, c_void_p, c_size_t]),

    # Per-target state and warm restarts (0.2).  aname_targets_each's
    # callback gets a pointer to aname_target_info_t (see aname.h).
    "aname_target_state_name": (c_char_p, [c_int]),
    "aname_targets_each": (c_int, [ctx_p, TARGET_CB, c_void_p]),
    "aname_cache_save": (c_int, [ctx_p, c_char_p]),
    "aname_cache_load": (c_int, [ctx_p, c_char_p, P(c_size_t)]),
}


def _candidates():
    env = os.environ.get("ANAME_LIBRARY")
    if env:
        # An explicit choice must not silently fall back to another copy.
        return [env], True
    here = pathlib.Path(__file__).resolve().parent
    tree = here.parent.parent.parent / "build" / SONAME
    return [str(tree), SONAME], False


def _load():
    paths, explicit = _candidates()
    errors = []
    for path in paths:
        if path != SONAME and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    how = "ANAME_LIBRARY" if explicit else "search"
    raise ImportError("aname: cannot load %s (%s): %s"
                      % (SONAME, how, "; ".join(errors)))


def _declare(dll):
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError("aname: %s lacks %s"
                          % (LIBRARY_PATH, ", ".join(missing)))


lib, LIBRARY_PATH = _load()
_declare(lib)
