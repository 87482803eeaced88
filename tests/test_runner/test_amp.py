import pytest
import torch
import torch.nn as nn

import mmengine.runner.amp as amp_module
from mmengine.runner.amp import autocast


def _conv_out(device='cpu'):
    layer = nn.Conv2d(1, 1, 1).to(device)
    return layer(torch.randn(1, 1, 1, 1, device=device))


def test_cpu_autocast_default_bfloat16():
    with autocast(device_type='cpu'):
        assert _conv_out().dtype == torch.bfloat16
        with autocast(device_type='cpu', enabled=False):
            assert _conv_out().dtype == torch.float32
    assert _conv_out().dtype == torch.float32


@pytest.mark.parametrize('dtype', ['bfloat16', torch.bfloat16])
def test_cpu_autocast_dtype_spellings(dtype):
    with autocast(device_type='cpu', dtype=dtype):
        assert _conv_out().dtype == torch.bfloat16


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype must be None, 'float16'"):
        with autocast(device_type='cpu', dtype='fp8'):
            pass


def test_cache_enabled_passed_through():
    with autocast(device_type='cpu', cache_enabled=False):
        assert not torch.is_autocast_cache_enabled()
    assert torch.is_autocast_cache_enabled()


def test_device_from_get_device(monkeypatch):
    monkeypatch.setattr(amp_module, 'get_device', lambda: 'cpu')
    with autocast():
        assert _conv_out().dtype == torch.bfloat16


def test_unsupported_device(monkeypatch):
    monkeypatch.setattr(amp_module, 'get_device', lambda: 'mps')
    with autocast(enabled=False):  # fp32 is always possible
        assert _conv_out().dtype == torch.float32
    with pytest.raises(ValueError, match="device_type.*'mps'"):
        with autocast():
            pass


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_autocast():
    with autocast(device_type='cuda'):
        assert _conv_out('cuda').dtype == torch.float16
        with autocast(device_type='cuda', enabled=False):
            assert _conv_out('cuda').dtype == torch.float32
    if torch.cuda.is_bf16_supported():
        with autocast(device_type='cuda', dtype='bfloat16'):
            assert _conv_out('cuda').dtype == torch.bfloat16
