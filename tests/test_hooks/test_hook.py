import copy
from unittest.mock import Mock

import torch

from mmengine.hooks import DATA_BATCH, Hook  # noqa: F401
from mmengine.registry import MODELS
from mmengine.runner import get_priority
from mmengine.testing import RunnerTestCase
from mmengine.testing.runner_test_case import ToyModel


class Recorder(Hook):

    def __init__(self):
        self.calls = []

    def _before_epoch(self, runner, mode='train'):
        self.calls.append(('before_epoch', mode))

    def _after_epoch(self, runner, mode='train'):
        self.calls.append(('after_epoch', mode))

    def _before_iter(self, runner, batch_idx, data_batch=None, mode='train'):
        self.calls.append(('before_iter', mode, batch_idx, data_batch))

    def _after_iter(self,
                    runner,
                    batch_idx,
                    data_batch=None,
                    outputs=None,
                    mode='train'):
        self.calls.append(('after_iter', mode, batch_idx, outputs))


def test_points_forward_to_generic_methods():
    hook, runner = Recorder(), Mock()
    for mode in ('train', 'val', 'test'):
        getattr(hook, f'before_{mode}_epoch')(runner)
        getattr(hook, f'before_{mode}_iter')(runner, 3, data_batch={'a': 1})
        getattr(hook, f'after_{mode}_iter')(runner, 3, outputs=[1])
    hook.after_train_epoch(runner)
    hook.after_val_epoch(runner, metrics={'acc': 1})
    hook.after_test_epoch(runner)
    assert hook.calls[:3] == [('before_epoch', 'train'),
                              ('before_iter', 'train', 3, {'a': 1}),
                              ('after_iter', 'train', 3, [1])]
    assert ('before_iter', 'test', 3, {'a': 1}) in hook.calls
    assert hook.calls[-3:] == [('after_epoch', 'train'),
                               ('after_epoch', 'val'),
                               ('after_epoch', 'test')]


def test_every_n_helpers():
    hook, runner = Hook(), Mock()
    runner.epoch = 4
    assert hook.every_n_epochs(runner, 5)
    assert not hook.every_n_epochs(runner, 0)
    assert not hook.every_n_epochs(runner, -1)
    # with a start: multiples of n counted from `start`
    assert hook.every_n_epochs(runner, 2, start=1)
    assert not hook.every_n_epochs(runner, 2, start=6)
    runner.iter = 9
    assert hook.every_n_train_iters(runner, 10)
    assert hook.every_n_train_iters(runner, 3, start=4)
    assert not hook.every_n_train_iters(runner, 3, start=11)
    assert not hook.every_n_inner_iters(4, 0)
    assert hook.every_n_inner_iters(4, 5)
    runner.max_iters = 10
    assert hook.is_last_train_iter(runner)
    runner.max_epochs = 6
    assert not hook.is_last_train_epoch(runner)
    assert hook.end_of_epoch([1, 2, 3], 2)


def test_triggered_stages_and_priority():
    assert Hook.priority == 'NORMAL'
    assert len(Hook.stages) == 22
    assert Hook().get_triggered_stages() == []

    class Both(Hook):
        priority = 'ABOVE_NORMAL'

        def _after_epoch(self, runner, mode='train'):
            pass

        def after_load_checkpoint(self, runner, checkpoint):
            pass

    # Ordered as in Hook.stages.
    assert Both().get_triggered_stages() == [
        'after_load_checkpoint', 'after_train_epoch', 'after_val_epoch',
        'after_test_epoch'
    ]


class TestDefaultHooksWithRunner(RunnerTestCase):
    """The default hooks fire in the order of their spec priorities."""

    def test_call_order_and_hooks_info(self):
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.train_cfg.max_epochs = 1
        cfg.custom_hooks = [dict(type='EMAHook')]
        runner = self.build_runner(cfg)
        expected_levels = {
            'RuntimeInfoHook': 10, 'IterTimerHook': 50,
            'DistSamplerSeedHook': 50, 'EMAHook': 50, 'LoggerHook': 60,
            'ParamSchedulerHook': 70, 'CheckpointHook': 90
        }
        assert {type(h).__name__: get_priority(h.priority)
                for h in runner.hooks} == expected_levels
        calls = []
        for hook in runner.hooks:
            for stage in hook.get_triggered_stages():
                method = getattr(hook, stage)

                def record(*args, _method=method, _stage=stage,
                           _name=type(hook).__name__, **kwargs):
                    calls.append((_stage, _name))
                    return _method(*args, **kwargs)

                setattr(hook, stage, record)
        runner.train()
        names = [type(h).__name__ for h in runner.hooks]
        by_stage = {}
        for stage, name in calls:
            if name not in by_stage.setdefault(stage, []):
                by_stage[stage].append(name)
        for stage, order in by_stage.items():
            # Equal priorities keep the registration order.
            assert order == sorted(order, key=names.index), stage
        assert by_stage['after_train_iter'] == [
            'RuntimeInfoHook', 'IterTimerHook', 'EMAHook', 'LoggerHook',
            'ParamSchedulerHook', 'CheckpointHook'
        ]
        assert by_stage['after_train_epoch'] == [
            'IterTimerHook', 'ParamSchedulerHook', 'CheckpointHook'
        ]
        assert by_stage['before_train_epoch'][:3] == [
            'RuntimeInfoHook', 'IterTimerHook', 'DistSamplerSeedHook'
        ]
        # get_hooks_info() lists the same hooks, stage by stage.
        info = runner.get_hooks_info()
        block = info.split('after_train_iter:\n')[1].split('----')[0]
        rows = [line.split() for line in block.strip().splitlines()]
        assert rows == [['(VERY_HIGH', ')', 'RuntimeInfoHook'],
                        ['(NORMAL', ')', 'IterTimerHook'],
                        ['(NORMAL', ')', 'EMAHook'],
                        ['(BELOW_NORMAL)', 'LoggerHook'],
                        ['(LOW', ')', 'ParamSchedulerHook'],
                        ['(VERY_LOW', ')', 'CheckpointHook']]

    def test_no_host_reads_between_log_intervals(self):
        """DESIGN §3: the default hooks (and CheckInvalidLossHook) read no
        loss value on the host except at log intervals and checkpoints.

        The loss is a tensor that pretends to live on an accelerator and
        records every read of its value (what would synchronise).
        """
        reads = []
        current = [0]

        class DeviceTensor(torch.Tensor):

            @property
            def is_cpu(self):
                return False

            def _read(self):
                reads.append(current[0])

            def __bool__(self):
                self._read()
                return super().__bool__()

            def item(self):
                self._read()
                return super().item()

            def tolist(self):
                self._read()
                return super().tolist()

            def __float__(self):
                self._read()
                return super().__float__()

            def cpu(self):
                self._read()
                return super().cpu()

        class DeviceLossModel(ToyModel):

            def forward(self, inputs, data_samples=None, mode='tensor'):
                out = super().forward(inputs, data_samples, mode)
                if mode == 'loss':
                    out = {k: v.as_subclass(DeviceTensor)
                           for k, v in out.items()}
                return out

        class Counter(Hook):
            priority = 'HIGHEST'

            def before_train_iter(self, runner, batch_idx, data_batch=None):
                current[0] = runner.iter + 1

        MODELS.register_module(module=DeviceLossModel, force=True)
        cfg = copy.deepcopy(self.epoch_based_cfg)
        cfg.model = dict(type='DeviceLossModel')
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.default_hooks = dict(logger=dict(type='LoggerHook', interval=2))
        cfg.custom_hooks = [dict(type='CheckInvalidLossHook', interval=4)]
        runner = self.build_runner(cfg)
        runner.register_hook(Counter())
        runner.train()  # 2 epochs of 4 iterations
        assert reads, 'the test tensor was never read'
        # Log lines at iterations 2, 4, 6, 8; checkpoints and loss checks
        # at 4 and 8; nothing in between.
        assert set(reads) <= {2, 4, 6, 8}, reads
