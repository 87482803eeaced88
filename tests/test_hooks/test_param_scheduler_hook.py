import copy
from unittest.mock import Mock

import pytest
import torch
import torch.nn as nn

from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook, ParamSchedulerHook
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import METRICS
from mmengine.runner import Runner
from mmengine.testing import RunnerTestCase


class TwoNets(BaseModel):
    """A GAN-like model: each sub-net has its own optimizer."""

    def __init__(self):
        super().__init__()
        self.gen = nn.Linear(2, 1)
        self.disc = nn.Linear(2, 1)

    def train_step(self, data, optim_wrapper):
        inputs = torch.stack(data['inputs'])
        for name in ('gen', 'disc'):
            with optim_wrapper[name].optim_context(self):
                loss = getattr(self, name)(inputs).pow(2).mean()
            optim_wrapper[name].update_params(loss)
        return dict(loss=loss)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return [self.gen(torch.stack(inputs))]


class FallingAcc(BaseMetric):
    """acc 0.5, 0.4, 0.3, ...: never improves after the first."""
    calls = 0

    def process(self, data_batch, predictions):
        self.results.append(1)

    def compute_metrics(self, results):
        FallingAcc.calls += 1
        return dict(acc=0.6 - 0.1 * FallingAcc.calls)


class RecordLr(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.lrs = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.lrs.append(tuple(
            runner.optim_wrapper[name].get_lr()['lr'][0]
            for name in ('gen', 'disc')))


def _scheduler(by_epoch, need_val_args=False):
    scheduler = Mock(spec=['step', 'by_epoch', 'need_val_args'])
    scheduler.by_epoch = by_epoch
    scheduler.need_val_args = need_val_args
    return scheduler


class TestParamSchedulerHook(RunnerTestCase):

    def test_step_points(self):
        hook = ParamSchedulerHook()
        runner = Mock()
        by_iter, by_epoch = _scheduler(False), _scheduler(True)
        plateau = _scheduler(True, need_val_args=True)
        runner.param_schedulers = [by_iter, by_epoch, plateau]
        hook.after_train_iter(runner, 0)
        assert by_iter.step.call_count == 1
        assert by_epoch.step.call_count == 0
        hook.after_train_epoch(runner)
        assert by_epoch.step.call_count == 1
        assert by_iter.step.call_count == 1
        hook.after_val_epoch(runner, dict(loss=0.1))
        plateau.step.assert_called_with(dict(loss=0.1))
        assert by_epoch.step.call_count == 1
        hook.after_val_epoch(runner, None)  # no metrics: nothing to do
        assert plateau.step.call_count == 2

        runner.param_schedulers = None
        hook.after_train_iter(runner, 0)
        hook.after_train_epoch(runner)

    def test_dict_of_lists_and_errors(self):
        hook = ParamSchedulerHook()
        runner = Mock()
        gen, disc = _scheduler(False), _scheduler(False)
        runner.param_schedulers = dict(gen=[gen], disc=[disc])
        hook.after_train_iter(runner, 0)
        assert gen.step.called and disc.step.called
        runner.param_schedulers = dict(gen=gen)
        with pytest.raises(TypeError, match=r"param_schedulers\['gen'\]"):
            hook.after_train_iter(runner, 0)
        runner.param_schedulers = gen
        with pytest.raises(TypeError, match='list of ParamScheduler'):
            hook.after_train_epoch(runner)
        # Unbuilt configs (validation-only runs) are skipped.
        runner.param_schedulers = dict(type='MultiStepLR', milestones=[1])
        hook.after_val_epoch(runner, dict(acc=1))
        runner.param_schedulers = [dict(type='MultiStepLR')]
        hook.after_val_epoch(runner, dict(acc=1))

    def test_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 3
        cfg.param_scheduler = dict(
            type='MultiStepLR', milestones=[1, 2], gamma=0.5)
        runner = self.build_runner(cfg)
        runner.train()
        lrs = list(runner.message_hub.get_scalar('train/lr').data[0])
        assert lrs == [0.1] * 4 + [0.05] * 4 + [0.025] * 4

        cfg = copy.deepcopy(self.iter_based_cfg)
        cfg.param_scheduler = dict(
            type='MultiStepLR', milestones=[4], gamma=0.5, by_epoch=False)
        runner = self.build_runner(cfg)
        runner.train()
        lrs = list(runner.message_hub.get_scalar('train/lr').data[0])
        assert lrs == [0.1] * 4 + [0.05] * 8

    def test_optim_wrapper_dict_with_runner(self):
        """Iteration- and epoch-based and plateau schedulers of two
        optimizers, through the Runner."""
        METRICS.register_module(module=FallingAcc, force=True)
        FallingAcc.calls = 0
        model = TwoNets()
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 3
        cfg.train_dataloader.collate_fn = dict(type='pseudo_collate')
        cfg.val_dataloader.collate_fn = dict(type='pseudo_collate')
        cfg.val_evaluator = [dict(type='FallingAcc')]
        cfg.model = None  # objects below: the Runner gets them directly
        cfg.optim_wrapper = None
        cfg.param_scheduler = dict(
            gen=[
                dict(type='LinearLR', start_factor=0.5, by_epoch=False,
                     begin=0, end=3),
                dict(type='MultiStepLR', milestones=[2], by_epoch=True)
            ],
            disc=[
                dict(type='ReduceOnPlateauLR', monitor='acc', rule='greater',
                     patience=0, factor=0.5)
            ])
        cfg.experiment_name = self.experiment_name
        cfg.pop('cfg', None)
        runner = Runner(
            **dict(
                cfg,
                model=model,
                optim_wrapper=OptimWrapperDict(
                    gen=OptimWrapper(
                        torch.optim.SGD(model.gen.parameters(), lr=0.1)),
                    disc=OptimWrapper(
                        torch.optim.SGD(model.disc.parameters(),
                                        lr=1.0)))))
        recorder = RecordLr()
        runner.register_hook(recorder)
        runner.train()
        METRICS.module_dict.pop('FallingAcc', None)
        gen = [round(g, 6) for g, _ in recorder.lrs]
        disc = [d for _, d in recorder.lrs]
        # gen: linear warm-up over 3 iterations, x0.1 after epoch 2.
        assert gen == [0.05, 0.075] + [0.1] * 6 + [0.01] * 4
        # disc: acc falls at every validation after the first (which sets
        # the best), so the lr halves after the validation of epoch 2.
        assert disc == [1.0] * 8 + [0.5] * 4
