import copy
from unittest.mock import Mock

import pytest

from mmengine.hooks import ParamSchedulerHook
from mmengine.testing import RunnerTestCase


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
