import copy
import os.path as osp

import pytest
import torch

from mmengine.hooks import EMAHook, Hook
from mmengine.registry import HOOKS
from mmengine.testing import RunnerTestCase


class RecordValWeights(Hook):
    """Records a weight of the model seen during validation and training."""
    priority = 'LOWEST'  # after EMAHook swapped the weights
    seen = {}

    def before_val_epoch(self, runner):
        RecordValWeights.seen['val'] = runner.model.linear1.weight.clone()

    def before_test_epoch(self, runner):
        RecordValWeights.seen['test'] = runner.model.linear1.weight.clone()

    def after_val_epoch(self, runner, metrics=None):
        RecordValWeights.seen['after_val'] = \
            runner.model.linear1.weight.clone()


class TestEMAHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        HOOKS.register_module(module=RecordValWeights, force=True)

    def tearDown(self):
        HOOKS.module_dict.pop('RecordValWeights', None)
        super().tearDown()

    def test_test_after_train_uses_averaged_weights(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.optim_wrapper.optimizer.lr = 0.01
        cfg.custom_hooks = [
            dict(type='EMAHook', momentum=0.5),
            dict(type='RecordValWeights')
        ]
        runner = self.build_runner(cfg)
        runner.train()
        ema_hook = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        ema = ema_hook.ema_model.module.linear1.weight.clone()
        live = runner.model.linear1.weight.clone()
        assert not torch.equal(live, ema)
        runner.test()
        assert torch.equal(RecordValWeights.seen['test'], ema)
        assert torch.equal(runner.model.linear1.weight, live)

    def test_init_errors(self):
        with pytest.raises(ValueError, match='both set'):
            EMAHook(begin_iter=1, begin_epoch=1)
        with pytest.raises(ValueError, match='begin_iter'):
            EMAHook(begin_iter=-1)
        with pytest.raises(TypeError, match='begin_epoch'):
            EMAHook(begin_epoch=1.5)

    def test_train_val_checkpoint_resume(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.optim_wrapper.optimizer.lr = 0.01
        cfg.custom_hooks = [
            dict(type='EMAHook', momentum=0.5),
            dict(type='RecordValWeights')
        ]
        runner = self.build_runner(cfg)
        runner.train()
        ema_hook = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        live = runner.model.linear1.weight
        ema = ema_hook.ema_model.module.linear1.weight
        assert not torch.equal(live, ema)
        # Validation saw the averaged weights, training gets its own back.
        assert torch.equal(RecordValWeights.seen['val'], ema)
        assert torch.equal(RecordValWeights.seen['after_val'], live)

        ckpt = torch.load(
            osp.join(self.temp_dir.name, 'epoch_2.pth'), weights_only=True)
        # state_dict holds the EMA weights; ema_state_dict the live ones.
        assert torch.equal(ckpt['state_dict']['linear1.weight'], ema)
        assert torch.equal(ckpt['ema_state_dict']['module.linear1.weight'],
                           live)
        assert int(ckpt['ema_state_dict']['steps']) == 8

        # Resuming restores both the live model and the EMA model.
        cfg = copy.deepcopy(cfg)
        cfg.train_cfg.max_epochs = 2
        cfg.load_from = osp.join(self.temp_dir.name, 'epoch_2.pth')
        cfg.resume = True
        runner = self.build_runner(cfg)
        runner.train()  # nothing left to train
        ema_hook = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        assert torch.equal(runner.model.linear1.weight, live)
        assert torch.equal(ema_hook.ema_model.module.linear1.weight, ema)

    def test_load_without_ema_state(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 1
        runner = self.build_runner(cfg)
        runner.train()
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [dict(type='EMAHook')]
        cfg.load_from = osp.join(self.temp_dir.name, 'epoch_1.pth')
        runner = self.build_runner(cfg)
        runner.test()
        ema_hook = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        assert torch.equal(ema_hook.ema_model.module.linear1.weight,
                           runner.model.linear1.weight)

    def test_begin_and_other_types(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [dict(type='EMAHook', begin_epoch=5)]
        runner = self.build_runner(cfg)
        with pytest.raises(ValueError, match='max_epochs'):
            runner.train()

        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [dict(type='EMAHook', begin_epoch=2)]
        runner = self.build_runner(cfg)
        runner.train()
        ema_hook = [h for h in runner.hooks if isinstance(h, EMAHook)][0]
        # Averaging started in epoch 2 (4 updates).
        assert int(ema_hook.ema_model.steps) == 4

        for ema_type in ('StochasticWeightAverage', 'MomentumAnnealingEMA'):
            cfg = copy.deepcopy(self.epoch_based_cfg)
            cfg.custom_hooks = [dict(type='EMAHook', ema_type=ema_type)]
            runner = self.build_runner(cfg)
            runner.train()
