"""Which accelerator is present, and peak memory queries.

Vendor plug-ins (``torch_npu``, ``torch_musa``, ``torch_dipu``, Cambricon's
``torch_mlu``) are imported only when installed; presence checks of those
packages are cached because ``get_device`` may be called often.
"""
import functools
import importlib
import importlib.util
from typing import Optional, Union

import torch


@functools.lru_cache(maxsize=None)
def _import_plugin(module: str) -> bool:
    """Import a vendor plug-in if it is installed; False when missing or
    broken."""
    try:
        if importlib.util.find_spec(module) is None:
            return False
        importlib.import_module(module)
    except Exception:  # a broken vendor plug-in means "not available"
        return False
    return True


def is_cuda_available() -> bool:
    """Whether a CUDA (or ROCm) device is available."""
    return torch.cuda.is_available()


def is_npu_available() -> bool:
    """Whether an Ascend NPU is available (needs ``torch_npu``)."""
    if not _import_plugin('torch_npu'):
        return False
    return hasattr(torch, 'npu') and bool(torch.npu.is_available())


def is_mlu_available() -> bool:
    """Whether a Cambricon MLU is available."""
    if hasattr(torch, 'is_mlu_available'):
        return bool(torch.is_mlu_available())
    if hasattr(torch, 'mlu') and hasattr(torch.mlu, 'is_available'):
        return bool(torch.mlu.is_available())
    return False


def is_mps_available() -> bool:
    """Whether Apple's Metal Performance Shaders device is available."""
    mps = getattr(torch.backends, 'mps', None)
    return mps is not None and bool(mps.is_available())


def is_musa_available() -> bool:
    """Whether a Moore Threads MUSA device is available (needs
    ``torch_musa``)."""
    if not _import_plugin('torch_musa'):
        return False
    return hasattr(torch, 'musa') and bool(torch.musa.is_available())


def is_dipu_available() -> bool:
    """Whether the DeepLink DIPU backend (``torch_dipu``) is installed."""
    return _import_plugin('torch_dipu')


def is_npu_support_full_precision() -> bool:
    """Whether the NPU supports fp32 well enough to skip forced AMP (Ascend
    910B and later)."""
    if not is_npu_available():
        return False
    import torch_npu.npu.utils as npu_utils
    version_of_support_full_precision = 220
    return npu_utils.get_soc_version() >= version_of_support_full_precision


def get_device() -> str:
    """Name of the accelerator to use, or ``'cpu'``.

    Checked in order: npu, cuda, mlu, mps, dipu, musa.
    """
    if is_npu_available():
        return 'npu'
    if is_cuda_available():
        return 'cuda'
    if is_mlu_available():
        return 'mlu'
    if is_mps_available():
        return 'mps'
    if is_dipu_available():
        return 'dipu'
    if is_musa_available():
        return 'musa'
    return 'cpu'


def _to_mb(num_bytes: int) -> int:
    return int(num_bytes) // (1024 * 1024)


def get_max_cuda_memory(
        device: Optional[Union[int, str, torch.device]] = None) -> int:
    """Peak CUDA memory allocated by tensors since the last call, in MB.

    The peak counter is reset afterwards, so consecutive calls report
    per-interval peaks (used by the logger every log interval).

    Args:
        device (int | str | torch.device, optional): the device; the
            current one when None.

    Raises:
        RuntimeError: if CUDA is not available.
    """
    if not is_cuda_available():
        raise RuntimeError(
            'get_max_cuda_memory needs a CUDA device, but CUDA is not '
            'available')
    mem = torch.cuda.max_memory_allocated(device=device)
    torch.cuda.reset_peak_memory_stats(device=device)
    return _to_mb(mem)


def get_max_musa_memory(
        device: Optional[Union[int, str, torch.device]] = None) -> int:
    """Peak MUSA memory allocated since the last call, in MB (see
    :func:`get_max_cuda_memory`).

    Raises:
        RuntimeError: if MUSA is not available.
    """
    if not is_musa_available():
        raise RuntimeError(
            'get_max_musa_memory needs a MUSA device (torch_musa), but it '
            'is not available')
    mem = torch.musa.max_memory_allocated(device=device)
    torch.musa.reset_peak_memory_stats(device=device)
    return _to_mb(mem)
