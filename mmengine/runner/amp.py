"""``autocast``: one mixed-precision context manager for every device."""
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch

from mmengine.device import get_device

__all__ = ['autocast']

_DTYPES = {'float16': torch.float16, 'bfloat16': torch.bfloat16}


def _as_dtype(dtype: Union[str, torch.dtype, None]) -> Optional[torch.dtype]:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise TypeError(
        "autocast: dtype must be None, 'float16', 'bfloat16' or a "
        f'torch.dtype, but got {dtype!r}')


@contextmanager
def autocast(device_type: Optional[str] = None,
             dtype: Union[str, torch.dtype, None] = None,
             enabled: bool = True,
             cache_enabled: Optional[bool] = None) -> Iterator[None]:
    """Run the enclosed code in mixed precision (``torch.autocast``).

    Args:
        device_type (str, optional): ``'cuda'``, ``'cpu'``, ``'npu'``,
            ``'mlu'``, ``'musa'``... Defaults to the current device
            (:func:`mmengine.device.get_device`).
        dtype (str | torch.dtype, optional): ``torch.float16`` /
            ``'float16'`` or ``torch.bfloat16`` / ``'bfloat16'``. Defaults
            to torch's autocast dtype of the device: float16 on CUDA,
            bfloat16 on CPU.
        enabled (bool): with False the code runs in full precision (also
            inside an enclosing autocast). Defaults to True.
        cache_enabled (bool, optional): cache casted weights; defaults to
            ``torch.is_autocast_cache_enabled()``.

    Raises:
        ValueError: if ``enabled`` and the device has no autocast support
            (e.g. ``'mps'``).
        RuntimeError: if bfloat16 is asked for on a CUDA device without
            bfloat16 support.

    Examples:
        >>> with autocast(device_type='cpu'):
        ...     y = model(x)  # runs in bfloat16 where safe
    """
    dtype = _as_dtype(dtype)
    if cache_enabled is None:
        cache_enabled = torch.is_autocast_cache_enabled()
    if device_type is None:
        device_type = get_device()

    if device_type == 'cuda':
        if dtype is None:
            dtype = torch.get_autocast_dtype('cuda') if hasattr(
                torch, 'get_autocast_dtype') else \
                torch.get_autocast_gpu_dtype()
        if (enabled and dtype == torch.bfloat16
                and torch.cuda.is_available()
                and not torch.cuda.is_bf16_supported()):
            raise RuntimeError(
                'The current CUDA device does not support bfloat16; use '
                "dtype='float16' instead")
    elif device_type == 'cpu':
        if dtype is None:  # bfloat16 unless torch.set_autocast_dtype says
            dtype = torch.get_autocast_dtype('cpu') if hasattr(
                torch, 'get_autocast_dtype') else \
                torch.get_autocast_cpu_dtype()
    elif device_type in ('npu', 'mlu', 'musa', 'dipu', 'xpu', 'hpu'):
        pass  # vendor builds of torch implement autocast for these
    elif not enabled:
        # Devices without autocast (mps, ...): full precision is fine.
        yield
        return
    else:
        raise ValueError(
            'User specified autocast device_type must be cuda, cpu, npu, '
            f'mlu or musa, but got {device_type!r}: this device does not '
            'support mixed precision, run it with enabled=False (fp32)')

    with torch.autocast(
            device_type=device_type,
            dtype=dtype,
            enabled=enabled,
            cache_enabled=cache_enabled):
        yield
