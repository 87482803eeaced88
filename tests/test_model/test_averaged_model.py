import copy
import io
import logging
from unittest.mock import patch

import pytest
import torch
import torch.nn as nn

from mmengine.model import (BaseAveragedModel, ExponentialMovingAverage,
                            MomentumAnnealingEMA, StochasticWeightAverage)
from mmengine.registry import MODELS


class BNNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.linear(x))


def _perturb(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def test_construction_copies_and_freezes():
    model = BNNet()
    ema = ExponentialMovingAverage(model)
    assert ema.module is not model
    assert all(not p.requires_grad for p in ema.module.parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert ema.steps.item() == 0 and ema.steps.dtype == torch.long
    assert ema.momentum == 0.0002 and ema.interval == 1
    assert ema.update_buffers is False
    x = torch.randn(4, 2)
    model.eval()
    ema.eval()
    torch.testing.assert_close(ema(x), model(x))


def test_ema_matches_hand_formula():
    m = 0.1
    model = BNNet()
    ema = ExponentialMovingAverage(model, momentum=m)
    _perturb(model, 0)
    ema.update_parameters(model)  # first update copies the weights
    expected = _snapshot(model)
    for k, v in ema.module.named_parameters():
        torch.testing.assert_close(v, expected[k])
    for seed in (1, 2, 3):
        _perturb(model, seed)
        current = _snapshot(model)
        ema.update_parameters(model)
        expected = {
            k: (1 - m) * expected[k] + m * current[k]
            for k in expected
        }
    for k, v in ema.module.named_parameters():
        torch.testing.assert_close(v, expected[k])
    assert ema.steps.item() == 4


def test_ema_interval():
    m = 0.5 - 1e-6
    model = nn.Linear(1, 1, bias=False)
    ema = ExponentialMovingAverage(model, momentum=m, interval=2)
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    for v in values:
        model.weight.data.fill_(v)
        ema.update_parameters(model)
    # step 0 copies 1; steps 1, 3 skip; steps 2, 4 average values 3 and 5
    expected = 1.0
    expected = (1 - m) * expected + m * 3.0
    expected = (1 - m) * expected + m * 5.0
    assert ema.module.weight.item() == pytest.approx(expected, rel=1e-6)


def test_buffers_copied_or_averaged():
    model = BNNet()
    ema = ExponentialMovingAverage(model, momentum=0.25)
    ema_avg_buf = ExponentialMovingAverage(
        model, momentum=0.25, update_buffers=True)
    model.bn.running_mean.fill_(1.0)
    ema.update_parameters(model)
    ema_avg_buf.update_parameters(model)
    model.bn.running_mean.fill_(3.0)
    model.bn.num_batches_tracked.fill_(7)
    ema.update_parameters(model)
    ema_avg_buf.update_parameters(model)
    # update_buffers=False: buffers follow the source
    torch.testing.assert_close(ema.module.bn.running_mean,
                               torch.full((2, ), 3.0))
    # update_buffers=True: float buffers are averaged, int ones follow
    torch.testing.assert_close(ema_avg_buf.module.bn.running_mean,
                               torch.full((2, ), 0.75 * 1.0 + 0.25 * 3.0))
    assert ema_avg_buf.module.bn.num_batches_tracked.item() == 7
    assert 'bn.running_mean' in ema_avg_buf.avg_parameters
    assert 'bn.running_mean' not in ema.avg_parameters


def test_momentum_annealing_ema():
    m, gamma = 0.01, 10
    model = nn.Linear(1, 1, bias=False)
    ema = MomentumAnnealingEMA(model, momentum=m, gamma=gamma)
    assert isinstance(ema, ExponentialMovingAverage)
    expected = None
    for step, v in enumerate([1.0, 5.0, -2.0, 4.0]):
        model.weight.data.fill_(v)
        ema.update_parameters(model)
        if step == 0:
            expected = v
        else:
            momentum = max(m, gamma / (gamma + step))
            expected = (1 - momentum) * expected + momentum * v
    assert ema.module.weight.item() == pytest.approx(expected, rel=1e-6)
    # once gamma / (gamma + steps) < momentum the floor applies
    big = MomentumAnnealingEMA(model, momentum=0.4, gamma=1)
    big.update_parameters(model)
    base = big.module.weight.item()
    big.steps.fill_(10)
    model.weight.data.fill_(base + 1.0)
    big.update_parameters(model)
    assert big.module.weight.item() == pytest.approx(base + 0.4, rel=1e-6)


def test_stochastic_weight_average():
    model = nn.Linear(1, 1, bias=False)
    swa = StochasticWeightAverage(model)
    values = [1.0, 2.0, 6.0, -3.0]
    for v in values:
        model.weight.data.fill_(v)
        swa.update_parameters(model)
    assert swa.module.weight.item() == pytest.approx(sum(values) / 4)
    swa2 = StochasticWeightAverage(model, interval=2)
    for v in values + [8.0]:
        model.weight.data.fill_(v)
        swa2.update_parameters(model)
    # averaged at steps 0, 2, 4 -> values 1, 6, 8
    assert swa2.module.weight.item() == pytest.approx((1 + 6 + 8) / 3)


def test_state_dict_round_trip_weights_only():
    model = BNNet()
    ema = ExponentialMovingAverage(model, momentum=0.1)
    for seed in range(3):
        _perturb(model, seed)
        ema.update_parameters(model)
    state = ema.state_dict()
    assert set(state) == {'steps'} | {f'module.{k}'
                                      for k in model.state_dict()}
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    other = ExponentialMovingAverage(BNNet(), momentum=0.1)
    other.load_state_dict(loaded)
    assert other.steps.item() == 3
    for (k, a), (_, b) in zip(ema.state_dict().items(),
                              other.state_dict().items()):
        torch.testing.assert_close(a, b, msg=k)
    # the restored model keeps averaging from where it was
    _perturb(model, 9)
    ema.update_parameters(model)
    other.update_parameters(model)
    torch.testing.assert_close(ema.module.linear.weight,
                               other.module.linear.weight)


def test_device_and_dtype_changes():
    model = BNNet()
    ema = ExponentialMovingAverage(
        model, momentum=0.5 - 1e-6, device='cpu', update_buffers=True)
    ema.update_parameters(model)
    ema.to(torch.float64)  # the averaged tensors are looked up afresh
    before = ema.module.linear.weight.clone()
    _perturb(model, 4)
    ema.update_parameters(model)
    assert ema.module.linear.weight.dtype == torch.float64
    assert not torch.equal(ema.module.linear.weight, before)


def test_build_from_registry():
    model = nn.Linear(1, 1)
    for name in ('ExponentialMovingAverage', 'MomentumAnnealingEMA',
                 'StochasticWeightAverage'):
        avg = MODELS.build(dict(type=name, model=model, interval=2))
        assert isinstance(avg, BaseAveragedModel) and avg.interval == 2


def test_large_momentum_warns():
    with patch('mmengine.model.averaged_model.print_log') as log:
        ExponentialMovingAverage(nn.Linear(1, 1), momentum=0.9)
    assert log.call_count == 1
    msg = log.call_args[0][0]
    assert 'momentum=0.1' in msg
    assert log.call_args[1]['level'] == logging.WARNING
    with patch('mmengine.model.averaged_model.print_log') as log:
        ExponentialMovingAverage(nn.Linear(1, 1), momentum=0.1)
    assert log.call_count == 0


def test_errors():
    with pytest.raises(TypeError, match='nn.Module'):
        ExponentialMovingAverage('model')
    for momentum in (0.0, 1.0, -0.1, 2):
        with pytest.raises(ValueError, match='momentum'):
            ExponentialMovingAverage(nn.Linear(1, 1), momentum=momentum)
    for interval in (0, -1, 1.5):
        with pytest.raises(ValueError, match='interval'):
            StochasticWeightAverage(nn.Linear(1, 1), interval=interval)
    with pytest.raises(ValueError, match='gamma'):
        MomentumAnnealingEMA(nn.Linear(1, 1), gamma=0)
    with pytest.raises(TypeError):
        BaseAveragedModel(nn.Linear(1, 1))  # abstract avg_func
    ema = ExponentialMovingAverage(nn.Linear(1, 1))
    with pytest.raises(KeyError, match='weight'):
        # same shapes, different names (0.weight): a different architecture
        ema.update_parameters(nn.Sequential(nn.Linear(1, 1)))
    assert copy.deepcopy(ema).steps.item() == 0


def test_steps_changed_outside_update_are_seen():
    # update_parameters keeps a host copy of ``steps`` (no device read per
    # iteration); loading a state dict or editing the buffer must reset it.
    model = BNNet()
    ema = ExponentialMovingAverage(model, momentum=0.1)
    for seed in range(3):
        _perturb(model, seed)
        ema.update_parameters(model)
    assert ema.steps.item() == 3
    ema.steps.fill_(0)  # the next update copies again, like a fresh EMA
    _perturb(model, 5)
    ema.update_parameters(model)
    torch.testing.assert_close(ema.module.linear.weight, model.linear.weight)
    assert ema.steps.item() == 1
    fresh = ExponentialMovingAverage(BNNet(), momentum=0.1)
    ema.load_state_dict(fresh.state_dict())
    _perturb(model, 6)
    ema.update_parameters(model)
    torch.testing.assert_close(ema.module.linear.weight, model.linear.weight)
    # a copy, or a move, carries the right count on
    ema2 = copy.deepcopy(ema).to(torch.float64)
    _perturb(model, 7)
    before = ema2.module.linear.weight.clone()
    ema2.update_parameters(model)
    torch.testing.assert_close(
        ema2.module.linear.weight,
        before * 0.9 + model.linear.weight.double() * 0.1)
    assert ema2.steps.item() == 2


def test_batched_ema_update_equals_per_tensor_lerp():
    # EMA averages all tensors in one fused call; the values are exactly
    # those of a per-parameter ``lerp_`` with the step's momentum.
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for cls in (ExponentialMovingAverage, MomentumAnnealingEMA):
        ema = cls(model, momentum=0.01, gamma=3) if cls is \
            MomentumAnnealingEMA else cls(model, momentum=0.01)
        ref = [p.detach().clone() for p in model.parameters()]
        for step in range(4):
            _perturb(model, step)
            ema.update_parameters(model)
            for r, p in zip(ref, model.parameters()):
                if step == 0:
                    r.copy_(p)
                else:
                    r.lerp_(p.detach(), ema.momentum_at(step))
        for r, p in zip(ref, ema.module.parameters()):
            assert torch.equal(r, p)
    # annealed momentum: max(momentum, gamma / (gamma + steps))
    assert MomentumAnnealingEMA(model, gamma=3).momentum_at(1) == 0.75


def test_subclass_avg_func_is_used():

    class HalfWay(ExponentialMovingAverage):

        def avg_func(self, averaged_param, source_param, steps):
            averaged_param.mul_(0.5).add_(source_param, alpha=0.5)

    model = nn.Linear(1, 1, bias=False)
    avg = HalfWay(model, momentum=0.1)
    with torch.no_grad():
        model.weight.fill_(2.)
        avg.update_parameters(model)  # copy
        model.weight.fill_(4.)
        avg.update_parameters(model)
    assert avg.module.weight.item() == 3.
