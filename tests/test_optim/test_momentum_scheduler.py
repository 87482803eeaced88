"""Tests of the momentum schedulers (``momentum`` or Adam's ``betas[0]``)."""
import io
import math

import pytest
import torch
from torch import nn

from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import (ConstantMomentum,
                                      CosineAnnealingMomentum,
                                      CosineRestartMomentum,
                                      ExponentialMomentum, LinearMomentum,
                                      LinearParamScheduler, MultiStepMomentum,
                                      PolyMomentum, ReduceOnPlateauMomentum,
                                      StepMomentum)
from mmengine.registry import PARAM_SCHEDULERS

MOMENTUM = 0.9


def sgd():
    return torch.optim.SGD(
        nn.Linear(1, 1).parameters(), lr=0.1, momentum=MOMENTUM)


def adam():
    return torch.optim.Adam(
        nn.Linear(1, 1).parameters(), lr=0.1, betas=(MOMENTUM, 0.999))


def momenta(optimizer, steps, scheduler):
    values = []
    for _ in range(steps):
        values.append(OptimWrapper(optimizer).get_momentum()['momentum'][0])
        optimizer.step()
        scheduler.step()
    return values


MOMENTUM_SCHEDULERS = [
    (ConstantMomentum, dict(factor=0.5, end=3)),
    (CosineAnnealingMomentum, dict(T_max=4, eta_min=0.5)),
    (CosineRestartMomentum, dict(periods=[2, 2], restart_weights=[1, 0.9])),
    (ExponentialMomentum, dict(gamma=0.95)),
    (LinearMomentum, dict(start_factor=0.5, end=4)),
    (MultiStepMomentum, dict(milestones=[1, 3], gamma=0.5)),
    (PolyMomentum, dict(eta_min=0.5, end=5)),
    (StepMomentum, dict(step_size=2, gamma=0.5)),
]


@pytest.mark.parametrize('cls, kwargs', MOMENTUM_SCHEDULERS)
def test_adam_betas_follow_sgd_momentum(cls, kwargs):
    """For Adam the schedule drives betas[0] exactly like SGD's momentum."""
    assert PARAM_SCHEDULERS.get(cls.__name__) is cls
    sgd_opt, adam_opt = sgd(), adam()
    s1, s2 = cls(sgd_opt, **kwargs), cls(adam_opt, **kwargs)
    assert s1.param_name == s2.param_name == 'momentum'
    assert not s1.use_betas and s2.use_betas
    assert momenta(sgd_opt, 6, s1) == momenta(adam_opt, 6, s2)
    group = adam_opt.param_groups[0]
    assert group['betas'][0] == group['momentum']
    assert group['betas'][1] == 0.999
    assert isinstance(group['betas'], tuple)


def test_ex_opt_13g_linear_momentum():
    opt = sgd()
    s = LinearMomentum(
        opt, start_factor=0.001, by_epoch=False, begin=0, end=1000)
    values = momenta(opt, 1001, s)
    expected = [MOMENTUM * (0.001 + 0.999 * min(i, 999) / 999)
                for i in range(1001)]
    for i, (a, e) in enumerate(zip(values, expected)):
        assert a == pytest.approx(e, rel=1e-9), i


def test_ex_opt_13h_generic_on_lr_and_weight_decay():
    opt = torch.optim.SGD(
        nn.Linear(1, 1).parameters(), lr=0.1, weight_decay=1e-4)
    sched = [
        LinearParamScheduler(
            opt, param_name=name, start_factor=0.001, by_epoch=False,
            begin=0, end=1000) for name in ('lr', 'weight_decay')
    ]
    for i in range(1000):
        factor = 0.001 + 0.999 * i / 999
        group = opt.param_groups[0]
        assert group['lr'] == pytest.approx(0.1 * factor, rel=1e-9)
        assert group['weight_decay'] == pytest.approx(1e-4 * factor, rel=1e-9)
        opt.step()
        for s in sched:
            s.step()


def test_cosine_momentum_closed_form_on_adam():
    opt = adam()
    s = CosineAnnealingMomentum(opt, T_max=5, eta_min=0.8)
    values = momenta(opt, 5, s)
    expected = [0.8 + 0.1 * (1 + math.cos(math.pi * t / 5)) / 2
                for t in range(5)]
    assert values == pytest.approx(expected, rel=1e-12)


def test_reduce_on_plateau_momentum_updates_betas():
    opt = adam()
    s = ReduceOnPlateauMomentum(opt, patience=0, factor=0.5)
    s.step(dict(loss=1.0))
    s.step(dict(loss=2.0))  # worse: reduce
    assert opt.param_groups[0]['betas'][0] == pytest.approx(MOMENTUM * 0.5)


def test_momentum_with_optim_wrapper_and_state_dict():
    wrapper = OptimWrapper(adam())
    s = StepMomentum(wrapper, step_size=1, gamma=0.5, by_epoch=False)
    wrapper.step()
    s.step()
    assert wrapper.get_momentum()['momentum'] == [pytest.approx(0.45)]
    buffer = io.BytesIO()
    torch.save(s.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert state['use_betas'] is True

    fresh = OptimWrapper(adam())
    resumed = StepMomentum(fresh, step_size=1, gamma=0.5, by_epoch=False)
    fresh.load_state_dict(wrapper.state_dict())
    resumed.load_state_dict(state)
    wrapper.step()
    s.step()
    fresh.step()
    resumed.step()
    assert fresh.param_groups[0]['betas'] == wrapper.param_groups[0]['betas']


def test_momentum_errors():
    with pytest.raises(ValueError, match='Adagrad has no momentum'):
        ExponentialMomentum(
            torch.optim.Adagrad(nn.Linear(1, 1).parameters()), gamma=0.9)
    with pytest.raises(TypeError, match='should be an Optimizer'):
        StepMomentum('sgd', step_size=1)


def test_betas_of_optim_wrapper_base_settings_resume():
    """With several param groups the wrapper's base settings hold Adam's
    betas too; they are restored (momentum and betas[0]) on resume."""

    def two_group_adam():
        model = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1))
        return OptimWrapper(
            torch.optim.Adam([{
                'params': model[0].parameters()
            }, {
                'params': model[1].parameters(),
                'lr': 0.2
            }],
                             lr=0.1,
                             betas=(MOMENTUM, 0.999)))

    wrapper = two_group_adam()
    s = StepMomentum(wrapper, step_size=1, gamma=0.5)
    for _ in range(2):
        wrapper.step()
        s.step()
    assert wrapper.base_param_settings['betas'][0] == pytest.approx(0.225)

    fresh = two_group_adam()
    resumed = StepMomentum(fresh, step_size=1, gamma=0.5)
    fresh.load_state_dict(wrapper.state_dict())
    resumed.load_state_dict(s.state_dict())
    assert [(g['momentum'], g['betas']) for g in fresh.param_groups] == [
        (g['momentum'], g['betas']) for g in wrapper.param_groups
    ]
    base = fresh.base_param_settings
    assert base['momentum'] == wrapper.base_param_settings['momentum']
    assert base['betas'] == wrapper.base_param_settings['betas']
