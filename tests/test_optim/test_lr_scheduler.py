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


# ------------------------------------------------ resume in the Runner
def _resume_model():
    from mmengine.model import BaseModel

    class Model(BaseModel):
        """``gen`` trains through ``optim_wrapper`` or, with an
        OptimWrapperDict, ``gen`` and ``disc`` through their own wrappers."""

        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.gen = nn.Linear(2, 1)
            self.disc = nn.Linear(2, 1)

        def forward(self, x, y=None, mode='tensor'):
            out = self.gen(x)
            if mode == 'loss':
                return dict(loss=((out - y)**2).mean())
            return out

        def train_step(self, data, optim_wrapper):
            from mmengine.optim import OptimWrapperDict
            if not isinstance(optim_wrapper, OptimWrapperDict):
                return super().train_step(data, optim_wrapper)
            data = self.data_preprocessor(data, True)
            x, y = data['x'], data['y']
            loss_gen = ((self.gen(x) - y)**2).mean()
            optim_wrapper['gen'].update_params(loss_gen)
            loss_disc = ((self.disc(x) - y)**2).mean()
            optim_wrapper['disc'].update_params(loss_disc)
            return dict(loss_gen=loss_gen.detach(),
                        loss_disc=loss_disc.detach())

    return Model()


def _record_hook():
    from mmengine.hooks import Hook

    class Record(Hook):
        """Values used by every iteration, after all schedulers stepped."""
        priority = 'LOWEST'

        def __init__(self):
            self.values = []

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            wrapper = runner.optim_wrapper
            self.values.append(
                (runner.iter, wrapper.get_lr(), wrapper.get_momentum()))

    return Record()


_MIXED_SCHEDULERS = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='CosineAnnealingLR', T_max=6, by_epoch=True, begin=0, end=6,
         convert_to_iter_based=True),
    dict(type='MultiStepMomentum', milestones=[2, 4], gamma=0.5,
         by_epoch=True),
    dict(type='ExponentialParamScheduler', param_name='weight_decay',
         gamma=0.9, by_epoch=True),
    dict(type='StepLR', step_size=5, gamma=0.5, by_epoch=False),
]


def _train(work_dir, train_cfg, checkpoint, sampler, optim_wrapper,
           param_scheduler, load_from=None):
    """Train a fresh runner; ``optim_wrapper(model)`` gives its wrapper."""
    import copy

    from mmengine.runner import Runner
    g = torch.Generator().manual_seed(1)
    data = [
        dict(x=torch.randn(2, generator=g), y=torch.randn(1, generator=g))
        for _ in range(12)
    ]
    model = _resume_model()
    record = _record_hook()
    runner = Runner(
        model=model,
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=data,
            batch_size=3,
            sampler=dict(type=sampler, shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=optim_wrapper(model),
        param_scheduler=copy.deepcopy(param_scheduler),
        train_cfg=train_cfg,
        default_hooks=dict(logger=None, checkpoint=checkpoint),
        custom_hooks=[record],
        randomness=dict(seed=0),
        resume=load_from is not None,
        load_from=load_from,
        log_level=logging.ERROR)
    runner.train()
    schedulers = runner.param_schedulers
    if isinstance(schedulers, dict):
        states = {k: [s.state_dict() for s in v]
                  for k, v in schedulers.items()}
    else:
        states = [s.state_dict() for s in schedulers]
    return runner, record.values, states


def _assert_resume_is_exact(straight, resumed):
    (runner1, values1, states1), (runner2, values2, states2) = \
        straight, resumed
    assert 0 < len(values2) < len(values1)  # resumed mid-run
    assert values1[-len(values2):] == values2
    assert states2 == states1
    weights = runner1.model.state_dict()
    for key, value in runner2.model.state_dict().items():
        assert torch.equal(value, weights[key]), key


@pytest.mark.parametrize('train_cfg, checkpoint, sampler, ckpt_name', [
    (dict(by_epoch=True, max_epochs=6), dict(type='CheckpointHook',
                                             interval=1), 'DefaultSampler',
     'epoch_3.pth'),
    (dict(by_epoch=True, max_epochs=6),
     dict(type='CheckpointHook', interval=5, by_epoch=False),
     'DefaultSampler', 'iter_10.pth'),
    (dict(by_epoch=False, max_iters=24),
     dict(type='CheckpointHook', interval=7, by_epoch=False),
     'InfiniteSampler', 'iter_14.pth'),
])
def test_runner_resume_restores_every_scheduler_exactly(
        tmp_path, train_cfg, checkpoint, sampler, ckpt_name):
    """Epoch-based, mid-epoch and iteration-based resume with mixed
    ``by_epoch`` schedulers (one converted to iterations) on lr, momentum
    and weight decay: values, scheduler states and final weights equal a
    straight run. Two param groups, so ``base_lr`` is checked too."""

    def sgd_two_groups(model):
        return dict(
            optimizer=dict(
                type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-2),
            paramwise_cfg=dict(bias_lr_mult=2.0))

    args = (train_cfg, checkpoint, sampler, sgd_two_groups, _MIXED_SCHEDULERS)
    straight = _train(str(tmp_path), *args)
    assert 'base_lr' in straight[1][-1][1]
    resumed = _train(str(tmp_path / 'resumed'), *args,
                     load_from=str(tmp_path / ckpt_name))
    _assert_resume_is_exact(straight, resumed)


def test_runner_param_scheduler_dict_per_optimizer_and_resume(tmp_path):
    """``param_scheduler`` keyed by optimizer name for an OptimWrapperDict
    (spec 03 §8); every scheduler of every optimizer resumes exactly."""
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    def gen_disc(model):
        return OptimWrapperDict(
            gen=OptimWrapper(
                torch.optim.SGD(model.gen.parameters(), lr=0.1,
                                momentum=0.9)),
            disc=OptimWrapper(
                torch.optim.Adam(model.disc.parameters(), lr=0.01)))

    schedulers = dict(
        gen=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=3),
            dict(type='MultiStepLR', milestones=[2], by_epoch=True)
        ],
        disc=dict(type='CosineAnnealingMomentum', T_max=4, eta_min=0.5,
                  by_epoch=True, convert_to_iter_based=True))
    args = (dict(by_epoch=True, max_epochs=4),
            dict(type='CheckpointHook', interval=1), 'DefaultSampler',
            gen_disc, schedulers)
    straight = _train(str(tmp_path), *args)
    runner = straight[0]
    assert {k: [type(s).__name__ for s in v]
            for k, v in runner.param_schedulers.items()} == dict(
                gen=['LinearLR', 'MultiStepLR'],
                disc=['CosineAnnealingMomentum'])
    lr = runner.optim_wrapper.get_lr()
    assert lr['gen.lr'] == pytest.approx([0.01]) and lr['disc.lr'] == [0.01]
    # Adam's betas[0] follows the iteration-based cosine momentum
    betas = runner.optim_wrapper['disc'].optimizer.param_groups[0]['betas']
    assert 0.5 < betas[0] < 0.51
    resumed = _train(str(tmp_path / 'resumed'), *args,
                     load_from=str(tmp_path / 'epoch_2.pth'))
    _assert_resume_is_exact(straight, resumed)
