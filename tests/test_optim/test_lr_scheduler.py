"""Tests of the learning-rate schedulers and the EX-OPT scheduler programs."""
import logging
import math
import tempfile

import pytest
import torch
from torch import nn

from mmengine.optim.scheduler import (ConstantLR, ConstantParamScheduler,
                                      CosineAnnealingLR,
                                      CosineAnnealingParamScheduler,
                                      CosineRestartLR,
                                      CosineRestartParamScheduler,
                                      ExponentialLR, ExponentialParamScheduler,
                                      LinearLR, LinearParamScheduler,
                                      MultiStepLR, MultiStepParamScheduler,
                                      OneCycleLR, OneCycleParamScheduler,
                                      PolyLR, PolyParamScheduler,
                                      ReduceOnPlateauLR, StepLR,
                                      StepParamScheduler)
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.registry import PARAM_SCHEDULERS

BASE_LR = 0.01


def make_optimizer(lr=BASE_LR):
    return torch.optim.SGD(
        nn.Linear(1, 1).parameters(), lr=lr, momentum=0.9)


def simulate(schedulers, optimizer, epochs, epoch_length):
    """Runner-like loop: iteration-based schedulers step after every
    iteration, epoch-based ones after every epoch (ParamSchedulerHook).
    Returns the lr used by every iteration."""
    lrs = []
    for _ in range(epochs):
        for _ in range(epoch_length):
            lrs.append(optimizer.param_groups[0]['lr'])
            optimizer.step()
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return lrs


def assert_curve(actual, expected, tol=1e-12):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert a == pytest.approx(e, rel=1e-9, abs=tol), f'{i}: {a} != {e}'


# ------------------------------------------------------------------ LR
PAIRS = [
    (ConstantLR, ConstantParamScheduler, dict(factor=0.5, end=4)),
    (CosineAnnealingLR, CosineAnnealingParamScheduler, dict(T_max=5)),
    (ExponentialLR, ExponentialParamScheduler, dict(gamma=0.8)),
    (LinearLR, LinearParamScheduler, dict(start_factor=0.2, end=6)),
    (MultiStepLR, MultiStepParamScheduler, dict(milestones=[2, 5])),
    (StepLR, StepParamScheduler, dict(step_size=3)),
    (PolyLR, PolyParamScheduler, dict(eta_min=1e-4, end=6)),
    (OneCycleLR, OneCycleParamScheduler, dict(total_steps=8)),
    (CosineRestartLR, CosineRestartParamScheduler,
     dict(periods=[3, 4], restart_weights=[1, 0.5])),
]


@pytest.mark.parametrize('lr_cls, generic_cls, kwargs', PAIRS)
def test_lr_scheduler_equals_generic_on_lr(lr_cls, generic_cls, kwargs):
    """A generic scheduler on 'lr' is the LR scheduler (spec §8.1)."""
    opt1, opt2 = make_optimizer(), make_optimizer()
    s1 = lr_cls(opt1, **kwargs)
    s2 = generic_cls(opt2, param_name='lr', **kwargs)
    assert s1.param_name == 'lr'
    assert simulate([s1], opt1, 10, 1) == simulate([s2], opt2, 10, 1)
    assert PARAM_SCHEDULERS.get(lr_cls.__name__) is lr_cls
    assert issubclass(lr_cls, (LRSchedulerMixin, generic_cls))


def test_lr_scheduler_positional_arguments():
    opt = make_optimizer()
    s = StepLR(opt, 3, 0.5)
    assert (s.step_size, s.gamma) == (3, 0.5)
    s = StepLR.build_iter_from_epoch(opt, 3, 0.5, epoch_length=4)
    assert (s.step_size, s.gamma, s.by_epoch) == (12, 0.5, False)
    assert 'param_name' not in MultiStepLR._init_signature().parameters


def test_reduce_on_plateau_lr():
    opt = make_optimizer()
    s = ReduceOnPlateauLR(opt, monitor='loss', patience=1, factor=0.5)
    assert s.need_val_args and s.param_name == 'lr'
    for loss in (1.0, 1.0, 1.0):
        s.step()  # end of a training epoch: only counted
        s.step(dict(loss=loss))
    assert opt.param_groups[0]['lr'] == pytest.approx(BASE_LR * 0.5)


# ------------------------------------------------------------- EX-OPT
def test_ex_opt_12_manual_scheduler_in_runner():
    """EX-OPT-12: a built MultiStepLR passed to the Runner."""
    from torch.utils.data import DataLoader

    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Model(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x, y=None, mode='tensor'):
            out = self.linear(x)
            if mode == 'loss':
                return dict(loss=((out - y)**2).mean())
            return out

    class RecordLR(Hook):

        def __init__(self):
            self.lrs = []

        def before_train_epoch(self, runner):
            self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])

    model = Model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = MultiStepLR(optimizer, milestones=[8, 11], gamma=0.1)
    data = [dict(x=torch.ones(1), y=torch.ones(1)) for _ in range(4)]
    record = RecordLR()
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(
            model=model,
            work_dir=work_dir,
            train_dataloader=DataLoader(data, batch_size=2),
            optim_wrapper=dict(optimizer=optimizer),
            param_scheduler=scheduler,
            train_cfg=dict(by_epoch=True, max_epochs=13),
            custom_hooks=[record],
            default_hooks=dict(logger=None, checkpoint=None),
            log_level=logging.WARNING)
        runner.train()
    assert_curve(record.lrs, [0.01] * 8 + [0.001] * 3 + [0.0001] * 2)


def test_ex_opt_13ab_multistep_by_epoch_and_by_iter():
    opt = make_optimizer()
    s = PARAM_SCHEDULERS.build(
        dict(type='MultiStepLR', by_epoch=True, milestones=[8, 11],
             gamma=0.1),
        default_args=dict(optimizer=opt))
    lrs = simulate([s], opt, 13, 2)
    expected = [BASE_LR * 0.1**sum(e >= m for m in (8, 11))
                for e in range(13) for _ in range(2)]
    assert_curve(lrs, expected)

    opt = make_optimizer()
    s = PARAM_SCHEDULERS.build(
        dict(type='MultiStepLR', by_epoch=False, milestones=[600, 800],
             gamma=0.1),
        default_args=dict(optimizer=opt))
    lrs = simulate([s], opt, 1, 1000)
    expected = [BASE_LR * 0.1**sum(i >= m for m in (600, 800))
                for i in range(1000)]
    assert_curve(lrs, expected)


def test_ex_opt_13cd_conversion_equals_epoch_schedule():
    epoch_length = 5
    opt = make_optimizer()
    epoch_based = MultiStepLR(opt, milestones=[8, 11], gamma=0.1)
    by_epoch = simulate([epoch_based], opt, 13, epoch_length)

    opt = make_optimizer()
    converted = MultiStepLR.build_iter_from_epoch(
        opt, milestones=[8, 11], gamma=0.1, epoch_length=epoch_length)
    assert not converted.by_epoch
    assert simulate([converted], opt, 13, epoch_length) == by_epoch

    opt = make_optimizer()
    from_cfg = PARAM_SCHEDULERS.build(
        dict(type='MultiStepLR', milestones=[8, 11], gamma=0.1,
             convert_to_iter_based=True),
        default_args=dict(optimizer=opt, epoch_length=epoch_length))
    assert simulate([from_cfg], opt, 13, epoch_length) == by_epoch


def test_ex_opt_13e_cosine_by_epoch_vs_converted():
    epoch_length, t_max = 4, 12

    def cosine(t, period):
        return BASE_LR * (1 + math.cos(math.pi * t / period)) / 2

    opt = make_optimizer()
    s = PARAM_SCHEDULERS.build(
        dict(type='CosineAnnealingLR', by_epoch=True, T_max=t_max),
        default_args=dict(optimizer=opt))
    lrs = simulate([s], opt, t_max, epoch_length)
    # changes only at epoch ends
    assert_curve(lrs, [
        cosine(e, t_max) for e in range(t_max) for _ in range(epoch_length)
    ])

    opt = make_optimizer()
    s = PARAM_SCHEDULERS.build(
        dict(type='CosineAnnealingLR', by_epoch=True, T_max=t_max,
             convert_to_iter_based=True),
        default_args=dict(optimizer=opt, epoch_length=epoch_length))
    lrs = simulate([s], opt, t_max, epoch_length)
    total = t_max * epoch_length
    assert_curve(lrs, [cosine(i, total) for i in range(total)])


def test_ex_opt_13f_warmup_then_multistep_mixed_units():
    epoch_length = 20
    opt = make_optimizer()
    schedulers = [
        PARAM_SCHEDULERS.build(cfg, default_args=dict(optimizer=opt))
        for cfg in [
            dict(type='LinearLR', start_factor=0.001, by_epoch=False,
                 begin=0, end=50),
            dict(type='MultiStepLR', by_epoch=True, milestones=[8, 11],
                 gamma=0.1),
        ]
    ]
    lrs = simulate(schedulers, opt, 12, epoch_length)

    def expected(i):
        warm = 0.001 + (1 - 0.001) * min(i, 49) / 49
        decay = 0.1**sum(i // epoch_length >= m for m in (8, 11))
        return BASE_LR * warm * decay

    assert_curve(lrs, [expected(i) for i in range(12 * epoch_length)])


def test_ex_opt_13f_warmup_then_cosine():
    opt = make_optimizer()
    warmup = LinearLR(
        opt, start_factor=0.001, by_epoch=False, begin=0, end=100)
    cosine = CosineAnnealingLR(
        opt, T_max=800, by_epoch=False, begin=100, end=900)
    lrs = simulate([warmup, cosine], opt, 1, 1000)

    def expected(i):
        if i < 100:
            return BASE_LR * (0.001 + 0.999 * min(i, 99) / 99)
        t = min(i, 899) - 100
        return BASE_LR * (1 + math.cos(math.pi * t / 800)) / 2

    assert_curve(lrs, [expected(i) for i in range(1000)], tol=1e-15)
    assert lrs[899] < 1e-7  # decayed (almost) to 0 by iteration 900


def test_ex_opt_14_matches_torch_exponential_lr():
    torch_opt = make_optimizer()
    torch_sched = torch.optim.lr_scheduler.ExponentialLR(torch_opt, gamma=0.9)
    ours_opt = make_optimizer()
    ours = ExponentialLR(ours_opt, gamma=0.9)
    for _ in range(20):
        assert ours_opt.param_groups[0]['lr'] == pytest.approx(
            torch_opt.param_groups[0]['lr'], rel=1e-12)
        torch_opt.step()
        torch_sched.step()
        ours_opt.step()
        ours.step()
