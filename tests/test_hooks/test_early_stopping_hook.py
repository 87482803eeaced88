import copy
import math
from unittest.mock import Mock

import pytest

from mmengine.evaluator import BaseMetric
from mmengine.hooks import EarlyStoppingHook
from mmengine.logging import MessageHub
from mmengine.registry import METRICS
from mmengine.testing import RunnerTestCase


class FlatMetric(BaseMetric):
    """Accuracy that stops improving after the second evaluation."""
    values = [0.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    calls = 0

    def process(self, data_batch, predictions):
        self.results.append(1)

    def compute_metrics(self, results):
        value = self.values[FlatMetric.calls]
        FlatMetric.calls += 1
        return dict(acc=value)


def _runner():
    runner = Mock()
    runner.train_loop.stop_training = False
    runner.message_hub = MessageHub.get_instance('test_early_stopping')
    return runner


def test_rule_inference_and_errors():
    assert EarlyStoppingHook('accuracy').rule == 'greater'
    assert EarlyStoppingHook('val_loss').rule == 'less'
    assert EarlyStoppingHook('f1', rule='greater').min_delta == 0.1
    assert EarlyStoppingHook('f1', rule='less').min_delta == -0.1
    with pytest.raises(ValueError, match='cannot infer'):
        EarlyStoppingHook('f1')
    with pytest.raises(ValueError, match='rule'):
        EarlyStoppingHook('acc', rule='up')
    with pytest.raises(ValueError, match='patience'):
        EarlyStoppingHook('acc', patience=0)
    with pytest.raises(TypeError, match='monitor'):
        EarlyStoppingHook(['acc'])


def test_patience_threshold_and_finite():
    runner = _runner()
    hook = EarlyStoppingHook('loss', min_delta=0.0, patience=2)
    for value in (1.0, 0.5, 0.6):  # 0.6: worse, wait 1
        hook.after_val_epoch(runner, dict(loss=value))
    assert not runner.train_loop.stop_training
    hook.after_val_epoch(runner, dict(loss=0.55))  # still worse, wait 2
    assert runner.train_loop.stop_training
    assert hook.best_score == 0.5

    runner = _runner()
    hook = EarlyStoppingHook('acc', stopping_threshold=0.9)
    hook.after_val_epoch(runner, dict(acc=0.95))
    assert runner.train_loop.stop_training

    runner = _runner()
    hook = EarlyStoppingHook('acc')
    hook.after_val_epoch(runner, dict(acc=math.nan))
    assert runner.train_loop.stop_training


def test_missing_metric():
    runner = _runner()
    with pytest.warns(UserWarning, match='not in the validation metrics'):
        EarlyStoppingHook('acc').after_val_epoch(runner, dict(loss=1))
    with pytest.raises(RuntimeError, match="'acc'"):
        EarlyStoppingHook('acc', strict=True).after_val_epoch(
            runner, dict(loss=1))


class TestEarlyStoppingHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        FlatMetric.calls = 0
        METRICS.register_module(module=FlatMetric, force=True)

    def tearDown(self):
        METRICS.module_dict.pop('FlatMetric', None)
        super().tearDown()

    def test_with_runner_and_resume(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 8
        cfg.val_evaluator = [dict(type='FlatMetric')]
        cfg.custom_hooks = [
            dict(type='EarlyStoppingHook', monitor='acc', patience=3)
        ]
        runner = self.build_runner(cfg)
        runner.train()
        # Improves at epochs 1-2, then 3 flat validations: stop after 5.
        assert runner.epoch == 5

        # The wait count and best score survive a resume. epoch_3.pth was
        # written before epoch 3's validation, so that one is not counted:
        # waits at epochs 4, 5, 6 (a fresh count would stop at epoch 7).
        FlatMetric.calls = 3
        cfg = copy.deepcopy(cfg)
        cfg.load_from = f'{self.temp_dir.name}/epoch_3.pth'
        cfg.resume = True
        runner = self.build_runner(cfg)
        runner.train()
        assert runner.epoch == 6
