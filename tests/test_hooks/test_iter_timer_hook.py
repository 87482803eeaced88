import copy
from unittest.mock import patch

from mmengine.hooks import IterTimerHook
from mmengine.testing import RunnerTestCase


class FakeTime:
    """Each call advances the clock by 0.5 s."""
    now = 0.0

    @classmethod
    def time(cls):
        cls.now += 0.5
        return cls.now


class TestIterTimerHook(RunnerTestCase):

    def test_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        runner = self.build_runner(cfg)
        with patch('mmengine.hooks.iter_timer_hook.time', FakeTime):
            runner.train()
        hub = runner.message_hub
        # before_iter: +0.5 s of data time; after_iter: +0.5 s more.
        assert list(hub.get_scalar('train/data_time').data[0]) == [0.5] * 8
        assert list(hub.get_scalar('train/time').data[0]) == [1.0] * 8
        assert list(hub.get_scalar('val/time').data[0]) == [1.0] * 8
        assert hub.get_info('eta') == 0

    def test_eta(self):
        cfg = copy.deepcopy(self.iter_based_cfg)
        cfg.train_cfg.max_iters = 20
        runner = self.build_runner(cfg)
        hook = IterTimerHook()
        with patch('mmengine.hooks.iter_timer_hook.time', FakeTime):
            hook.before_train(runner)
            hook.before_train_epoch(runner)
            for i in range(4):
                hook.before_train_iter(runner, i)
                hook.after_train_iter(runner, i)
                runner.train_loop._iter += 1
            # 1 s per iteration, 16 iterations left.
            assert runner.message_hub.get_info('eta') == 16
            hook.before_val_epoch(runner)
            hook.before_val_iter(runner, 0)
            hook.after_val_iter(runner, 0)
            # 4 val batches, 1 s each, 3 left.
            assert runner.message_hub.get_info('eta') == 3
