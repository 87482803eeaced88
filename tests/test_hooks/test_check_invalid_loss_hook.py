import copy
from unittest.mock import Mock

import pytest
import torch

from mmengine.hooks import CheckInvalidLossHook, InvalidLossError
from mmengine.registry import MODELS
from mmengine.testing import RunnerTestCase
from mmengine.testing.runner_test_case import ToyModel


class NaNAtThirdIter(ToyModel):
    """ToyModel whose loss is NaN in the third training iteration."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor)
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = super().forward(inputs, data_samples, mode)
        if mode == 'loss':
            self.calls += 1
            if self.calls == 3:
                out = dict(loss=out['loss'] * float('nan'))
        return out


def _runner(iteration):
    runner = Mock()
    runner.iter = iteration
    return runner


def test_init_errors():
    with pytest.raises(ValueError, match='interval'):
        CheckInvalidLossHook(interval=0)
    with pytest.raises(ValueError, match='policy'):
        CheckInvalidLossHook(policy='ignore')
    with pytest.raises(TypeError, match='loss_keys'):
        CheckInvalidLossHook(loss_keys='loss')


def test_stop_policy_checks_at_interval():
    hook = CheckInvalidLossHook(interval=4)
    outputs = dict(loss=torch.tensor(1.0), loss_cls=torch.tensor(1.0),
                   acc=torch.tensor(float('nan')))  # not a loss: ignored
    hook.after_train_iter(_runner(0), 0, outputs=outputs)
    bad = dict(loss=torch.tensor(float('inf')), loss_cls=torch.tensor(1.0))
    hook.after_train_iter(_runner(1), 1, outputs=bad)  # recorded, no check
    hook.after_train_iter(_runner(2), 2, outputs=outputs)
    with pytest.raises(InvalidLossError,
                       match=r"iteration 2 \(invalid keys: \['loss'\]\)"):
        hook.after_train_iter(_runner(3), 3, outputs=outputs)
    # Also catchable as the assert-based hooks' AssertionError.
    assert issubclass(InvalidLossError, AssertionError)
    assert issubclass(InvalidLossError, FloatingPointError)
    # The flags were reset: later valid iterations pass.
    for i in range(4, 8):
        hook.after_train_iter(_runner(i), i, outputs=outputs)


def test_float_losses_and_final_check():
    hook = CheckInvalidLossHook(interval=50, loss_keys=['total'])
    hook.after_train_iter(_runner(0), 0, outputs=dict(total=float('nan')))
    with pytest.raises(InvalidLossError, match='iteration 1'):
        hook.after_train(_runner(0))
    with pytest.raises(KeyError, match='total'):
        hook.after_train_iter(_runner(1), 1, outputs=dict(loss=1.0))
    with pytest.raises(TypeError, match='number or tensor'):
        CheckInvalidLossHook().after_train_iter(
            _runner(0), 0, outputs=dict(loss='nan'))


class TestCheckInvalidLossHook(RunnerTestCase):

    def setUp(self):
        super().setUp()
        MODELS.register_module(module=NaNAtThirdIter, force=True)

    def test_stop_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.model = dict(type='NaNAtThirdIter')
        cfg.custom_hooks = [
            dict(type='CheckInvalidLossHook', interval=4,
                 priority='ABOVE_NORMAL')
        ]
        runner = self.build_runner(cfg)
        with pytest.raises(InvalidLossError, match='iteration 3'):
            runner.train()
        assert runner.iter == 3  # stopped at the check of iteration 4

    def test_skip_with_runner(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.model = dict(type='NaNAtThirdIter')
        cfg.custom_hooks = [
            dict(type='CheckInvalidLossHook', policy='skip')
        ]
        runner = self.build_runner(cfg)
        with self.assertLogs(runner.logger, 'WARNING') as logs:
            runner.train()
        assert any('iteration 3' in line and "['loss']" in line
                   for line in logs.output)
        assert runner.iter == 8
        for param in runner.model.parameters():
            assert torch.isfinite(param).all()
        hook = runner.hooks[-1] if isinstance(
            runner.hooks[-1], CheckInvalidLossHook) else [
                h for h in runner.hooks
                if isinstance(h, CheckInvalidLossHook)
            ][0]
        assert hook.num_skipped == 1
        # The guard is removed after training.
        assert 'update_params' not in vars(runner.optim_wrapper)


class CountingTensor(torch.Tensor):
    """Counts reads of its value on the host (what would sync on a GPU)."""
    reads = 0

    def __bool__(self):
        CountingTensor.reads += 1
        return super().__bool__()

    def item(self):
        CountingTensor.reads += 1
        return super().item()

    def __int__(self):
        CountingTensor.reads += 1
        return super().__int__()

    def tolist(self):
        CountingTensor.reads += 1
        return super().tolist()


def test_stop_policy_reads_values_only_at_checks():
    hook = CheckInvalidLossHook(interval=5)
    CountingTensor.reads = 0
    for i in range(4):
        loss = torch.tensor(1.0).as_subclass(CountingTensor)
        hook.after_train_iter(_runner(i), i, outputs=dict(loss=loss))
    assert CountingTensor.reads == 0
    loss = torch.tensor(1.0).as_subclass(CountingTensor)
    hook.after_train_iter(_runner(4), 4, outputs=dict(loss=loss))
    assert CountingTensor.reads == 1  # one read for the check at iter 5


def test_stop_policy_mixed_devices_shapes_and_long_interval():
    hook = CheckInvalidLossHook(interval=10**9)
    # A vector loss and a half-precision loss next to float32 ones.
    for i in range(3):
        hook.after_train_iter(
            _runner(i), i,
            outputs=dict(loss=torch.tensor(1.0),
                         loss_vec=torch.ones(3),
                         loss_half=torch.tensor(1.0, dtype=torch.float16)))
    bad = dict(loss=torch.tensor(1.0),
               loss_vec=torch.tensor([1.0, float('nan'), 1.0]),
               loss_half=torch.tensor(float('inf'), dtype=torch.float16))
    hook.after_train_iter(_runner(3), 3, outputs=bad)
    with pytest.raises(InvalidLossError,
                       match=r"iteration 4 \(invalid keys: "
                       r"\['loss_vec', 'loss_half'\]\)"):
        hook.after_train(_runner(3))
    # Recorded losses are read at the latest every 1024 entries.
    hook = CheckInvalidLossHook(interval=10**9)
    for i in range(1023):
        hook.after_train_iter(_runner(i), i,
                              outputs=dict(loss=torch.tensor(1.0)))
    assert len(hook._pending) == 1023
    hook.after_train_iter(_runner(1023), 1023,
                          outputs=dict(loss=torch.tensor(1.0)))
    assert hook._pending == []
