import pytest
import torch

import mmengine.device.utils as device_utils
from mmengine.device import (get_device, get_max_cuda_memory,
                             get_max_musa_memory, is_cuda_available,
                             is_dipu_available, is_mlu_available,
                             is_mps_available, is_musa_available,
                             is_npu_available, is_npu_support_full_precision)


def test_availability_checks_return_bool():
    for check in (is_cuda_available, is_npu_available, is_mlu_available,
                  is_mps_available, is_musa_available, is_dipu_available,
                  is_npu_support_full_precision):
        assert isinstance(check(), bool), check.__name__
    assert is_cuda_available() == torch.cuda.is_available()


def test_get_device_matches_availability():
    device = get_device()
    if is_npu_available():
        assert device == 'npu'
    elif is_cuda_available():
        assert device == 'cuda'
    elif is_mlu_available():
        assert device == 'mlu'
    elif is_mps_available():
        assert device == 'mps'
    elif is_dipu_available():
        assert device == 'dipu'
    elif is_musa_available():
        assert device == 'musa'
    else:
        assert device == 'cpu'


@pytest.mark.parametrize('available, expected', [
    ({'is_npu_available', 'is_cuda_available'}, 'npu'),
    ({'is_cuda_available', 'is_mps_available'}, 'cuda'),
    ({'is_mlu_available', 'is_mps_available'}, 'mlu'),
    ({'is_mps_available', 'is_musa_available'}, 'mps'),
    ({'is_dipu_available', 'is_musa_available'}, 'dipu'),
    ({'is_musa_available'}, 'musa'),
    (set(), 'cpu'),
])
def test_get_device_priority(monkeypatch, available, expected):
    for name in ('is_npu_available', 'is_cuda_available',
                 'is_mlu_available', 'is_mps_available', 'is_dipu_available',
                 'is_musa_available'):
        monkeypatch.setattr(device_utils, name,
                            lambda name=name: name in available)
    assert get_device() == expected


def test_missing_plugins_are_unavailable():
    assert device_utils._import_plugin('no_such_vendor_plugin_q') is False


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only check')
def test_max_memory_without_device_raises():
    with pytest.raises(RuntimeError, match='CUDA'):
        get_max_cuda_memory()
    if not is_musa_available():
        with pytest.raises(RuntimeError, match='MUSA'):
            get_max_musa_memory()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_get_max_cuda_memory_reports_and_resets():
    get_max_cuda_memory()  # reset the peak
    x = torch.empty(64 * 1024 * 1024, dtype=torch.uint8, device='cuda')
    assert get_max_cuda_memory() >= 64
    del x
    torch.cuda.empty_cache()
    assert get_max_cuda_memory() < 64
    assert isinstance(get_max_cuda_memory(0), int)
    assert get_device() == 'cuda'
