import copy
from unittest.mock import patch

from mmengine.testing import RunnerTestCase


class TestEmptyCacheHook(RunnerTestCase):

    def _count(self, **kwargs):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [dict(type='EmptyCacheHook', **kwargs)]
        cfg.train_cfg.val_interval = 100  # no validation during training
        with patch('torch.cuda.empty_cache') as empty_cache:
            runner = self.build_runner(cfg)
            runner.train()
            runner.val()
            runner.test()
        return empty_cache.call_count, runner

    def test_call_counts(self):
        # Epochs: 2 train, 1 val at the end of training, 1 val, 1 test.
        count, _ = self._count()
        assert count == 5
        count, _ = self._count(before_epoch=True)
        assert count == 10
        count, _ = self._count(after_epoch=False, after_iter=True)
        # 8 train + 3 * 4 val/test iterations.
        assert count == 20

    def test_runs_without_patch(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.custom_hooks = [
            dict(type='EmptyCacheHook', before_epoch=True, after_iter=True)
        ]
        self.build_runner(cfg).train()
