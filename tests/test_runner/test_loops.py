"""The train/val/test loops, driven through a real Runner."""
import logging
import os

import pytest
import torch
from torch.utils.data import DataLoader

from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.hooks import Hook
from mmengine.registry import DATASETS, HOOKS, LOOPS, METRICS, MODELS
from mmengine.runner import (BaseLoop, EpochBasedTrainLoop,
                             IterBasedTrainLoop, Runner, ValLoop)
from mmengine.runner import TestLoop as _TestLoop  # not a pytest class
from mmengine.runner.loops import _InfiniteDataloaderIterator
from mmengine.testing.runner_test_case import (ToyDataset, ToyMetric,
                                               ToyModel)

_COUNTER = [0]


@pytest.fixture(autouse=True)
def _registered():
    saved = [(reg, dict(reg.module_dict))
             for reg in (MODELS, DATASETS, METRICS)]
    MODELS.register_module(module=ToyModel, force=True)
    DATASETS.register_module(module=ToyDataset, force=True)
    METRICS.register_module(module=ToyMetric, force=True)
    yield
    logging.shutdown()
    for reg, modules in saved:  # leave the registries as found
        reg.module_dict.clear()
        reg.module_dict.update(modules)


def _loader(sampler='DefaultSampler', shuffle=False, batch_size=3):
    return dict(
        dataset=dict(type='ToyDataset'),
        sampler=dict(type=sampler, shuffle=shuffle),
        batch_size=batch_size)


def _runner(tmp_path, **overrides):
    _COUNTER[0] += 1
    cfg = dict(
        model=dict(type='ToyModel'),
        work_dir=str(tmp_path),
        train_dataloader=_loader(shuffle=True),
        val_dataloader=_loader(),
        test_dataloader=_loader(),
        val_evaluator=dict(type='ToyMetric'),
        test_evaluator=dict(type='ToyMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        val_cfg=dict(),
        test_cfg=dict(),
        default_hooks=dict(checkpoint=None, logger=None),
        experiment_name=f'loops_{os.getpid()}_{_COUNTER[0]}')
    cfg.update(overrides)
    return Runner(**cfg)


class _Trace(Hook):
    """Records (point, epoch, iter) of the hook points it implements."""

    def __init__(self):
        self.events = []

    def _rec(self, point, runner):
        self.events.append((point, runner.epoch, runner.iter))

    def before_train_epoch(self, runner):
        self._rec('train_epoch', runner)

    def before_val(self, runner):
        self._rec('val', runner)

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self.val_model_training = runner.model.training

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.model_training = runner.model.training


def _points(trace, point):
    return [(e, i) for p, e, i in trace.events if p == point]


def test_epoch_loop_val_begin_and_interval(tmp_path):
    trace = _Trace()
    runner = _runner(tmp_path, custom_hooks=[trace],
                     train_cfg=dict(by_epoch=True, max_epochs=5, val_begin=2,
                                    val_interval=2))
    runner.train()
    assert isinstance(runner.train_loop, EpochBasedTrainLoop)
    assert _points(trace, 'train_epoch') == [(e, 4 * e) for e in range(5)]
    # epochs 2 and 4, and always after the last epoch
    assert [e for e, _ in _points(trace, 'val')] == [2, 4, 5]
    assert trace.model_training and not trace.val_model_training
    assert runner.model.training  # back in train mode after validation


def test_iter_loop_counts_and_dynamic_intervals(tmp_path):
    trace = _Trace()
    runner = _runner(
        tmp_path, custom_hooks=[trace],
        train_dataloader=_loader('InfiniteSampler', True),
        train_cfg=dict(by_epoch=False, max_iters=9, val_interval=4,
                       dynamic_intervals=[(6, 2)]))
    runner.train()
    assert isinstance(runner.train_loop, IterBasedTrainLoop)
    assert runner.iter == 9 and runner.epoch == 0
    assert _points(trace, 'train_epoch') == [(0, 0)]  # one big "epoch"
    assert [i for _, i in _points(trace, 'val')] == [4, 6, 8, 9]


def test_iter_loop_restarts_finite_sampler_with_warning(tmp_path, caplog):
    runner = _runner(tmp_path,
                     train_cfg=dict(by_epoch=False, max_iters=9,
                                    val_interval=100))
    epochs = []
    sampler = runner.train_dataloader.sampler
    original = sampler.set_epoch
    sampler.set_epoch = lambda e: (epochs.append(e), original(e))
    runner.train()
    assert isinstance(runner.train_loop.dataloader_iterator,
                      _InfiniteDataloaderIterator)
    # 4 batches per pass: passes 1 and 2 start after iterations 4 and 8
    assert runner.train_loop.dataloader_iterator.epoch == 2
    assert [e for e in epochs if e > 0] == [1, 2]


def test_infinite_iterator_on_empty_loader():
    iterator = _InfiniteDataloaderIterator(DataLoader([], batch_size=1))
    with pytest.raises(RuntimeError, match='yields no batch'):
        next(iterator)


def test_loop_config_errors(tmp_path):
    runner = _runner(tmp_path)
    with pytest.raises(RuntimeError, match='Only one'):
        runner.build_train_loop(dict(type='EpochBasedTrainLoop',
                                     by_epoch=True, max_epochs=1))
    with pytest.raises(ValueError, match='max_epochs'):
        runner.build_train_loop(dict(by_epoch=True, max_epochs=1.5))
    with pytest.raises(ValueError, match='max_iters'):
        runner.build_train_loop(dict(by_epoch=False, max_iters=-1))
    with pytest.raises(TypeError, match='dynamic_intervals'):
        runner.build_train_loop(dict(max_epochs=2, dynamic_intervals=[3]))
    with pytest.raises(TypeError, match='val_evaluator should be'):
        ValLoop(runner, _loader(), evaluator=ToyMetric())
    # by_epoch omitted: inferred from max_iters / max_epochs
    assert isinstance(runner.build_train_loop(dict(max_iters=3)),
                      IterBasedTrainLoop)
    assert isinstance(runner.build_train_loop(dict(max_epochs=3)),
                      EpochBasedTrainLoop)


class _BatchMetric(BaseMetric):
    """Checks that process() gets the raw batch and model outputs."""

    def process(self, data_batch, data_samples):
        preds = data_samples if isinstance(data_samples,
                                           torch.Tensor) else data_samples[0]
        self.results.append((len(data_batch['inputs']), preds.dtype))

    def compute_metrics(self, results):
        return dict(n=sum(n for n, _ in results),
                    dtypes=sorted({str(d) for _, d in results}))


@pytest.mark.parametrize('mode', ['val', 'test'])
def test_eval_loops_raw_batch_fp16_and_metrics(tmp_path, mode):
    evaluator = Evaluator(_BatchMetric())
    kwargs = {
        f'{mode}_evaluator': evaluator,
        f'{mode}_cfg': dict(fp16=True)
    }
    runner = _runner(tmp_path, **kwargs)
    metrics = getattr(runner, mode)()
    loop_cls = ValLoop if mode == 'val' else _TestLoop
    assert isinstance(getattr(runner, f'{mode}_loop'), loop_cls)
    assert getattr(runner, f'{mode}_evaluator') is evaluator
    # all 12 raw samples; CPU fp16 evaluation runs under bfloat16 autocast
    assert metrics == dict(n=12, dtypes=['torch.bfloat16'])


def test_validation_does_not_change_training_randomness(tmp_path):
    """Training draws the same random numbers with or without val."""

    def run(with_val, name):
        kwargs = dict(randomness=dict(seed=5))
        if not with_val:
            kwargs.update(val_dataloader=None, val_cfg=None,
                          val_evaluator=None)
        runner = _runner(tmp_path / name, **kwargs)
        runner.train()
        return [p.detach().clone() for p in runner.model.parameters()]

    for a, b in zip(run(True, 'a'), run(False, 'b')):
        assert torch.equal(a, b)


def test_custom_val_loop_with_extra_hook_points(tmp_path):  # EX-RUN-16
    events = []

    @LOOPS.register_module(force=True)
    class TwoLoaderValLoop(ValLoop):

        def __init__(self, runner, dataloader, evaluator, dataloader2):
            super().__init__(runner, dataloader, evaluator)
            self.dataloader2 = runner.build_dataloader(dataloader2)

        def run(self):
            metrics = super().run()
            for idx, data_batch in enumerate(self.dataloader2):
                self.runner.call_hook(
                    'before_valloader2_iter', batch_idx=idx,
                    data_batch=data_batch)
                outputs = self.runner.model.val_step(data_batch)
                self.runner.call_hook(
                    'after_valloader2_iter', batch_idx=idx,
                    data_batch=data_batch, outputs=outputs)
            return metrics

    @HOOKS.register_module(force=True)
    class CustomValHook(Hook):

        def before_valloader2_iter(self, runner, batch_idx, data_batch=None):
            events.append(('before', batch_idx))

        def after_valloader2_iter(self, runner, batch_idx, data_batch=None,
                                  outputs=None):
            events.append(('after', batch_idx))

    try:
        runner = _runner(
            tmp_path,
            val_cfg=dict(type='TwoLoaderValLoop',
                         dataloader2=_loader(batch_size=6)),
            custom_hooks=[dict(type='CustomValHook')],
            default_hooks=None)
        assert runner.val() == dict(acc=1)
    finally:
        LOOPS.module_dict.pop('TwoLoaderValLoop')
        HOOKS.module_dict.pop('CustomValHook')
    assert events == [('before', 0), ('after', 0), ('before', 1),
                      ('after', 1)]


def test_stop_training_flag(tmp_path):

    class Stopper(Hook):

        def after_train_epoch(self, runner):
            runner.train_loop.stop_training = True

    runner = _runner(tmp_path, custom_hooks=[Stopper()],
                     train_cfg=dict(by_epoch=True, max_epochs=5))
    runner.train()
    assert runner.epoch == 1


def test_base_loop_is_abstract_and_builds_dict_loader(tmp_path):
    runner = _runner(tmp_path, randomness=dict(seed=9))

    class MyLoop(BaseLoop):

        def run(self):
            return len(self.dataloader)

    loop = MyLoop(runner, _loader())
    assert loop.runner is runner and loop.run() == 4
    assert loop.dataloader.sampler.seed == 9
    with pytest.raises(TypeError):
        BaseLoop(runner, _loader())
