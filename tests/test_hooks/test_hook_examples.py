"""The acceptance examples EX-HOOK-01 ... EX-HOOK-09 of spec 04-hooks."""
import copy
import os.path as osp

import torch

from mmengine.hooks import (CheckpointHook, DistSamplerSeedHook, EMAHook,
                            EmptyCacheHook, Hook, IterTimerHook, LoggerHook,
                            ParamSchedulerHook, RuntimeInfoHook)
from mmengine.registry import HOOKS
from mmengine.runner import get_priority
from mmengine.testing import RunnerTestCase

CALLS = []


class HighPriorityHook(Hook):
    priority = 'HIGH'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        CALLS.append(('high', 'before'))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        CALLS.append(('high', 'after'))


class NormalHook(HighPriorityHook):
    priority = 'NORMAL'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        CALLS.append(('normal', 'before'))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        CALLS.append(('normal', 'after'))


class LowPriorityHook(HighPriorityHook):
    priority = 'LOW'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        CALLS.append(('low', 'before'))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        CALLS.append(('low', 'after'))


class UserCheckInvalidLossHook(Hook):
    """EX-HOOK-02, as a user writes it."""

    def __init__(self, interval=50):
        self.interval = interval
        self.checked = 0

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if self.every_n_train_iters(runner, self.interval):
            assert torch.isfinite(outputs['loss']), \
                runner.logger.info('loss become infinite or NaN!')
            self.checked += 1


class ValidateHook(Hook):
    """EX-HOOK-07: validate from a hook every ``val_interval`` epochs."""

    def __init__(self, val_interval=1):
        self.val_interval = val_interval
        self.metrics = []

    def after_train_epoch(self, runner):
        if self.every_n_epochs(runner, self.val_interval):
            runner.val()
            self.metrics.append(
                runner.message_hub.get_scalar('val/acc').current())


class GreetingHook(Hook):
    """EX-HOOK-08: code run before/after the main work."""

    def before_run(self, runner):
        print('hello')

    def after_train_epoch(self, runner):
        print('do something here')

    def after_run(self, runner):
        print('goodbye')


class TestHookExamples(RunnerTestCase):

    def setUp(self):
        super().setUp()
        CALLS.clear()
        for hook in (HighPriorityHook, NormalHook, LowPriorityHook,
                     UserCheckInvalidLossHook):
            HOOKS.register_module(module=hook, force=True)

    def tearDown(self):
        for name in ('HighPriorityHook', 'NormalHook', 'LowPriorityHook',
                     'UserCheckInvalidLossHook'):
            HOOKS.module_dict.pop(name, None)
        super().tearDown()

    def test_ex_hook_01_defaults_and_customs(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.default_hooks = dict(
            runtime_info=dict(type='RuntimeInfoHook'),
            timer=dict(type='IterTimerHook'),
            sampler_seed=dict(type='DistSamplerSeedHook'),
            logger=dict(type='LoggerHook'),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='CheckpointHook', interval=1))
        cfg.custom_hooks = [dict(type='EmptyCacheHook')]
        runner = self.build_runner(cfg)
        runner.train()
        types = [type(h) for h in runner.hooks]
        assert types == [
            RuntimeInfoHook, IterTimerHook, DistSamplerSeedHook,
            EmptyCacheHook, LoggerHook, ParamSchedulerHook, CheckpointHook
        ]
        priorities = [get_priority(h.priority) for h in runner.hooks]
        assert priorities == sorted(priorities)
        assert osp.isfile(osp.join(self.temp_dir.name, 'epoch_2.pth'))

    def test_ex_hook_02_check_invalid_loss(self):
        for hook_type in ('UserCheckInvalidLossHook', 'CheckInvalidLossHook'):
            cfg = copy.deepcopy(self.epoch_based_cfg)
            cfg.custom_hooks = [
                dict(type=hook_type, interval=2, priority='ABOVE_NORMAL')
            ]
            runner = self.build_runner(cfg)
            runner.train()
            hook = [h for h in runner.hooks if type(h).__name__ == hook_type]
            assert get_priority(hook[0].priority) == 40
        assert hook[0].interval == 2

    def test_ex_hook_03_checkpoint_variants(self):
        import os

        def ckpts(path):
            return sorted(f for f in os.listdir(path) if f.endswith('.pth'))

        def train(max_epochs=20, **hook_kwargs):
            self.clear_work_dir()
            cfg = copy.deepcopy(self.epoch_based_cfg)
            cfg.train_cfg.max_epochs = max_epochs
            cfg.train_cfg.val_interval = 5
            cfg.default_hooks = dict(
                checkpoint=dict(type='CheckpointHook', **hook_kwargs))
            self.build_runner(cfg).train()

        train(interval=5, by_epoch=True)
        assert ckpts(self.temp_dir.name) == [
            'epoch_10.pth', 'epoch_15.pth', 'epoch_20.pth', 'epoch_5.pth'
        ]
        train(interval=5, max_keep_ckpts=2)
        assert ckpts(self.temp_dir.name) == ['epoch_15.pth', 'epoch_20.pth']
        train(interval=20, by_epoch=False)  # 80 iterations
        assert ckpts(self.temp_dir.name) == [
            'iter_20.pth', 'iter_40.pth', 'iter_60.pth', 'iter_80.pth'
        ]
        train(interval=5, save_best='auto')
        assert 'best_acc_epoch_5.pth' in ckpts(self.temp_dir.name)
        out_dir = osp.join(self.temp_dir.name, 'path')
        train(max_epochs=2, interval=1, out_dir=out_dir)
        assert ckpts(osp.join(out_dir, osp.basename(
            self.temp_dir.name))) == ['epoch_1.pth', 'epoch_2.pth']
        train(
            max_epochs=2,
            interval=1,
            save_best='acc',
            rule='less',
            published_keys=['meta', 'state_dict'])
        published = [f for f in ckpts(self.temp_dir.name) if '-' in f]
        assert len(published) == 2  # the last and the best
        for name in published:
            ckpt = torch.load(
                osp.join(self.temp_dir.name, name), weights_only=True)
            assert list(ckpt) == ['meta', 'state_dict']

    def test_ex_hook_04_ema(self):
        for ema_type in ('ExponentialMovingAverage',
                         'StochasticWeightAverage'):
            cfg = copy.deepcopy(self.epoch_based_cfg)
            cfg.custom_hooks = [dict(type='EMAHook', ema_type=ema_type)]
            runner = self.build_runner(cfg)
            runner.train()
            ema = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
            assert not torch.equal(ema.ema_model.module.linear1.weight,
                                   runner.model.linear1.weight)

    def test_ex_hook_05_empty_cache_and_sync_buffers(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [
            dict(type='EmptyCacheHook', after_epoch=True),
            dict(type='SyncBuffersHook')
        ]
        self.build_runner(cfg).train()

    def test_ex_hook_06_priority_classes(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 1
        cfg.custom_hooks = [
            dict(type='LowPriorityHook'),
            dict(type='NormalHook'),
            dict(type='HighPriorityHook')
        ]
        self.build_runner(cfg).train()
        assert CALLS[:6] == [('high', 'before'), ('normal', 'before'),
                             ('low', 'before'), ('high', 'after'),
                             ('normal', 'after'), ('low', 'after')]

    def test_ex_hook_07_validate_from_hook(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.val_interval = 100  # only the hook validates
        runner = self.build_runner(cfg)
        hook = ValidateHook(val_interval=1)
        runner.register_hook(hook)
        runner.train()
        assert hook.metrics[:2] == [1, 1]

    def test_ex_hook_08_plain_hook(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 1
        runner = self.build_runner(cfg)
        runner.register_hook(GreetingHook())
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runner.train()
        words = ('hello', 'do something here', 'goodbye')
        lines = [ln for ln in out.getvalue().splitlines() if ln in words]
        assert lines == list(words)

    def test_ex_hook_09_builtin_hooks_config(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.default_hooks = dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=100),
            param_scheduler=dict(type='ParamSchedulerHook'),
            sampler_seed=dict(type='DistSamplerSeedHook'),
            checkpoint=dict(
                type='CheckpointHook',
                interval=1,
                save_best='auto',
                max_keep_ckpts=3))
        cfg.custom_hooks = [
            dict(type='EMAHook', momentum=0.0002, priority=49)
        ]
        runner = self.build_runner(cfg)
        ema = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        assert ema.priority == 49
        index = runner.hooks.index(ema)
        assert isinstance(runner.hooks[index + 1], IterTimerHook)
        runner.train()
        assert osp.isfile(osp.join(self.temp_dir.name,
                                   'best_acc_epoch_1.pth'))
