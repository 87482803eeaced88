"""Helpers for writing tests of MMEngine-based code.

The comparison helpers are imported eagerly; ``RunnerTestCase`` (and the
toy model/dataset/metric beside it) and ``MultiProcessTestCase`` are
resolved lazily (PEP 562), since they pull in the runner and the
distributed test harness.
"""
import importlib
from typing import Any

from .compare import (assert_allclose, assert_attrs_equal,
                      assert_dict_contains_subset, assert_dict_has_keys,
                      assert_is_norm_layer, assert_keys_equal,
                      assert_params_all_zeros, check_python_script)

_LAZY_ATTRS = {
    'RunnerTestCase': 'mmengine.testing.runner_test_case',
    'MultiProcessTestCase': 'mmengine.testing._internal',
}

__all__ = [
    'assert_allclose', 'assert_dict_contains_subset', 'assert_keys_equal',
    'assert_attrs_equal', 'assert_dict_has_keys', 'assert_is_norm_layer',
    'assert_params_all_zeros', 'check_python_script', 'RunnerTestCase',
    'MultiProcessTestCase'
]


def __getattr__(name: str) -> Any:
    module = _LAZY_ATTRS.get(name)
    if module is None:
        raise AttributeError(
            f"module 'mmengine.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
