"""AmpOptimWrapper on the current device (CPU in CI: autocast bfloat16)."""
import copy
from contextlib import contextmanager
from unittest.mock import MagicMock

import pytest
import torch
import torch.nn as nn
from torch.optim import SGD

from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper, build_optim_wrapper
from mmengine.registry import OPTIM_WRAPPERS

DEVICE = get_device()
pytestmark = pytest.mark.skipif(
    DEVICE not in ('cpu', 'cuda'), reason='tests cover cpu and cuda only')


def _model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return model.to(DEVICE)


def test_init_variants():
    assert OPTIM_WRAPPERS.get('AmpOptimWrapper') is AmpOptimWrapper
    opt = SGD(_model().parameters(), lr=0.1)
    wrapper = AmpOptimWrapper(optimizer=opt)
    assert isinstance(wrapper, OptimWrapper)
    assert isinstance(wrapper.loss_scaler, torch.amp.GradScaler)
    assert wrapper._scale_update_param is None
    assert wrapper.cast_dtype is None

    wrapper = AmpOptimWrapper('dynamic', optimizer=opt)
    assert wrapper._scale_update_param is None

    wrapper = AmpOptimWrapper(loss_scale=128, optimizer=opt)
    assert wrapper._scale_update_param == 128.
    assert wrapper.loss_scaler.get_scale() == 128.

    wrapper = AmpOptimWrapper(
        dict(init_scale=1, growth_factor=2), optimizer=opt)
    assert wrapper._scale_update_param is None
    assert wrapper.loss_scaler.get_scale() == 1.

    assert AmpOptimWrapper(
        dtype='bfloat16', optimizer=opt).cast_dtype is torch.bfloat16
    assert AmpOptimWrapper(
        dtype=torch.bfloat16, optimizer=opt).cast_dtype is torch.bfloat16
    assert AmpOptimWrapper(
        dtype='float16', optimizer=opt).cast_dtype is torch.float16


def test_init_errors():
    opt = SGD(_model().parameters(), lr=0.1)
    with pytest.raises(TypeError, match='loss_scale must be of type float'):
        AmpOptimWrapper(optimizer=opt, loss_scale='unknown')
    with pytest.raises(TypeError, match='dtype'):
        AmpOptimWrapper(optimizer=opt, dtype='int8')
    if DEVICE == 'cpu':
        # CPU autocast only supports bfloat16/float16: no silent fp32.
        with pytest.raises(ValueError, match="float64.*'cpu'"):
            AmpOptimWrapper(optimizer=opt, dtype='float64')


@pytest.mark.parametrize('dtype', [None, 'bfloat16', 'float16'])
def test_optim_context_casts(dtype):
    model = _model()
    wrapper = AmpOptimWrapper(
        optimizer=SGD(model.parameters(), lr=0.1), dtype=dtype)
    expected = getattr(torch, dtype) if dtype else (
        torch.bfloat16 if DEVICE == 'cpu' else torch.float16)
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 4, device=DEVICE))
    assert out.dtype == expected
    # outside the context: full precision
    assert model(torch.randn(2, 4, device=DEVICE)).dtype == torch.float32


def test_amp_loop_trains():
    """EX-OPT-02/03: AMP loop with accumulation updates every 2nd call."""
    model = _model()
    ref = copy.deepcopy(model)
    wrapper = AmpOptimWrapper(
        optimizer=SGD(model.parameters(), lr=0.05), accumulative_counts=2)
    x = torch.randn(16, 4, device=DEVICE)
    y = torch.randn(16, 1, device=DEVICE)
    first = model[0].weight.detach().clone()
    losses = []
    for i in range(20):
        with wrapper.optim_context(model):
            loss = nn.functional.mse_loss(model(x).float(), y)
        wrapper.update_params(loss)
        losses.append(loss.item())
        if i == 0:
            # first call only accumulates
            assert torch.equal(model[0].weight, first)
            assert model[0].weight.grad is not None
        if i == 1:
            assert not torch.equal(model[0].weight, first)
            assert model[0].weight.grad is None or \
                not model[0].weight.grad.any()
    assert losses[-1] < losses[0]
    assert not torch.equal(model[0].weight, ref[0].weight)


def test_grads_are_unscaled_before_clipping():
    model = _model()
    wrapper = AmpOptimWrapper(
        optimizer=SGD(model.parameters(), lr=0.0),
        clip_grad=dict(max_norm=1e9))
    x = torch.randn(4, 4, device=DEVICE)
    with wrapper.optim_context(model):
        loss = model(x).float().sum()
    wrapper.backward(loss)
    scaled = model[0].weight.grad.clone()
    wrapper.step()
    # after step the grads are unscaled by the (65536) scale
    torch.testing.assert_close(model[0].weight.grad * 65536., scaled)


def test_step_and_backward_use_scaler():
    model = _model()
    opt = SGD(model.parameters(), lr=0.1)
    wrapper = AmpOptimWrapper(optimizer=opt, loss_scale=8.)
    wrapper.loss_scaler = MagicMock()
    wrapper.step()
    wrapper.loss_scaler.step.assert_called_with(opt)
    wrapper.loss_scaler.update.assert_called_with(8.)

    scale_return = MagicMock()
    wrapper.loss_scaler.scale = MagicMock(return_value=scale_return)
    wrapper.backward(1)
    wrapper.loss_scaler.scale.assert_called_with(1)
    scale_return.backward.assert_called_with()
    assert wrapper.inner_count == 1


def test_state_dict_round_trip(tmp_path):
    """EX-OPT-07 (AMP part)."""
    model = _model()
    wrapper = AmpOptimWrapper(optimizer=SGD(model.parameters(), lr=0.01))
    sd = wrapper.state_dict()
    assert sd['loss_scaler'] == {
        'scale': 65536.0,
        'growth_factor': 2.0,
        'backoff_factor': 0.5,
        'growth_interval': 2000,
        '_growth_tracker': 0
    }
    with wrapper.optim_context(model):
        loss = model(torch.randn(2, 4, device=DEVICE)).float().sum()
    wrapper.update_params(loss)
    sd = wrapper.state_dict()
    scaler_sd = sd.pop('loss_scaler')
    assert sd == wrapper.optimizer.state_dict()
    assert scaler_sd == wrapper.loss_scaler.state_dict()

    torch.save(wrapper.state_dict(), tmp_path / 'amp.pth')
    loaded = torch.load(tmp_path / 'amp.pth', weights_only=True)
    other = AmpOptimWrapper(
        optimizer=SGD(_model().parameters(), lr=0.5), loss_scale=4.)
    other.load_state_dict(loaded)
    assert other.loss_scaler.state_dict() == scaler_sd
    assert other.get_lr() == {'lr': [0.01]}

    # a plain optimizer state dict loads too
    plain = SGD(_model().parameters(), lr=0.3).state_dict()
    other.load_state_dict(plain)
    assert other.get_lr() == {'lr': [0.3]}
    with pytest.raises(TypeError, match='expects a dict'):
        other.load_state_dict(None)


def test_build_from_config():
    model = _model()
    wrapper = build_optim_wrapper(
        model,
        dict(
            type='AmpOptimWrapper',
            dtype='bfloat16',
            loss_scale=dict(init_scale=256),
            optimizer=dict(type='SGD', lr=0.1)))
    assert isinstance(wrapper, AmpOptimWrapper)
    assert wrapper.cast_dtype is torch.bfloat16
    assert wrapper.loss_scaler.get_scale() == 256.


def test_optim_context_combines_no_sync_and_autocast():
    entered = []

    class DDPLike(nn.Module):

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 1)

        def forward(self, x):
            return self.linear(x)

        @contextmanager
        def no_sync(self):
            entered.append(True)
            yield

    model = DDPLike().to(DEVICE)
    wrapper = AmpOptimWrapper(
        optimizer=SGD(model.parameters(), lr=0.1),
        accumulative_counts=2,
        dtype='bfloat16')
    wrapper.initialize_count_status(model, 0, 4)
    with wrapper.optim_context(model):  # accumulating: no all-reduce
        out = model(torch.randn(2, 4, device=DEVICE))
    assert out.dtype == torch.bfloat16 and entered == [True]
    wrapper.update_params(out.float().sum())
    with wrapper.optim_context(model):  # updating: gradients are synced
        out = model(torch.randn(2, 4, device=DEVICE))
    assert out.dtype == torch.bfloat16 and entered == [True]
