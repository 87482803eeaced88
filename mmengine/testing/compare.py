"""Comparison helpers for tests.

``assert_allclose`` raises ``AssertionError``; the other ``assert_*``
helpers *return* a bool (as in MMCV/MMEngine, whose users write
``assert assert_dict_has_keys(...)`` and ``assert not ...``).
"""
from typing import Any, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn


def _to_tensor(value: Any) -> torch.Tensor:
    if torch.is_tensor(value):
        return value
    return torch.as_tensor(np.asarray(value))


def assert_allclose(actual: Any,
                    expected: Any,
                    rtol: Optional[float] = None,
                    atol: Optional[float] = None,
                    equal_nan: bool = True,
                    msg: Optional[str] = '') -> None:
    """Assert that ``actual`` and ``expected`` are close element-wise.

    Built on ``torch.testing.assert_close``. Inputs may be tensors, numpy
    arrays, Python numbers or sequences/dicts of them; mixed kinds are
    compared as tensors. Values are compared after type promotion; dtypes
    and devices are not checked. When only one of ``rtol``/``atol`` is
    given the other is 0; when both are omitted they default by dtype as
    in torch.

    Args:
        actual: the value under test.
        expected: the reference value.
        rtol (float, optional): relative tolerance.
        atol (float, optional): absolute tolerance.
        equal_nan (bool): treat NaNs at the same place as equal.
            Defaults to True.
        msg (str, optional): text put in front of the failure message.

    Raises:
        AssertionError: if the values differ beyond the tolerance or have
            different shapes.
    """
    if (rtol is None) != (atol is None):
        rtol = 0.0 if rtol is None else rtol
        atol = 0.0 if atol is None else atol
    kwargs = dict(
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_dtype=False,
        check_device=False)
    try:
        try:
            torch.testing.assert_close(actual, expected, **kwargs)
        except TypeError:
            # torch refuses mixed kinds such as a tensor and a float;
            # compare their values as tensors instead.
            torch.testing.assert_close(
                _to_tensor(actual), _to_tensor(expected), **kwargs)
    except AssertionError as error:
        if msg:
            raise AssertionError(f'{msg}\n{error}') from None
        raise


def _any(judge_result: Any) -> bool:
    """Reduce a comparison result (bool, array or tensor) to one bool."""
    if isinstance(judge_result, (bool, np.bool_)):
        return bool(judge_result)
    if torch.is_tensor(judge_result):
        return bool(judge_result.any())
    if isinstance(judge_result, np.ndarray):
        return bool(judge_result.any())
    try:
        return any(judge_result)
    except TypeError:
        return bool(judge_result)


def _shape(value: Any) -> tuple:
    # np.shape would copy a tensor to numpy, which fails off the CPU.
    return tuple(value.shape) if torch.is_tensor(value) else np.shape(value)


def _differs(value: Any, expected: Any) -> bool:
    if torch.is_tensor(value) or torch.is_tensor(expected) or isinstance(
            value, np.ndarray) or isinstance(expected, np.ndarray):
        try:
            if _shape(value) != _shape(expected):
                return True
        except Exception:
            return True
    try:
        return _any(value != expected)
    except Exception:  # incomparable values are different
        return True


def assert_dict_contains_subset(dict_obj: Dict[Any, Any],
                                expected_subset: Dict[Any, Any]) -> bool:
    """Whether every key of ``expected_subset`` is in ``dict_obj`` with an
    equal value (arrays and tensors compared element-wise)."""
    for key, value in expected_subset.items():
        if key not in dict_obj or _differs(dict_obj[key], value):
            return False
    return True


def assert_attrs_equal(obj: Any, expected_attrs: Dict[str, Any]) -> bool:
    """Whether ``obj`` has every attribute of ``expected_attrs`` with an
    equal value."""
    for attr, value in expected_attrs.items():
        if not hasattr(obj, attr) or _differs(getattr(obj, attr), value):
            return False
    return True


def assert_dict_has_keys(obj: Dict[str, Any],
                         expected_keys: List[str]) -> bool:
    """Whether ``obj`` contains all of ``expected_keys``."""
    return set(expected_keys).issubset(set(obj.keys()))


def assert_keys_equal(result_keys: List[str], target_keys: List[str]) -> bool:
    """Whether two key collections hold the same keys (order ignored)."""
    return set(result_keys) == set(target_keys)


def assert_is_norm_layer(module: nn.Module) -> bool:
    """Whether ``module`` is a batch, instance, group or layer norm."""
    from mmengine.utils.dl_utils import is_norm
    return is_norm(module)


def assert_params_all_zeros(module: nn.Module) -> bool:
    """Whether the weight (and bias, if any) of ``module`` are all zero.

    Raises:
        AttributeError: if ``module`` has no ``weight``.
    """
    if not hasattr(module, 'weight'):
        raise AttributeError(
            f'{type(module).__name__} has no "weight" parameter to check')
    weight_zero = bool(torch.all(module.weight.data == 0))
    bias = getattr(module, 'bias', None)
    if bias is None:
        return weight_zero
    return weight_zero and bool(torch.all(bias.data == 0))


def check_python_script(cmd: str) -> None:
    """Run a Python script in this process, like the command line would.

    Args:
        cmd (str): e.g. ``'./tools/analyze.py --arg value'``; the script
            runs as ``__main__`` with ``sys.argv`` set from ``cmd``.
    """
    import runpy
    import shlex
    import sys
    from unittest.mock import patch
    args = shlex.split(cmd)
    if args and args[0] == 'python':
        args = args[1:]
    if not args:
        raise ValueError(f'check_python_script needs a script path, got '
                         f'{cmd!r}')
    with patch.object(sys, 'argv', args):
        runpy.run_path(args[0], run_name='__main__')
