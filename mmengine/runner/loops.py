"""The built-in train loops (the validation and test loops are in
:mod:`.eval_loops` and re-exported here).

Each loop is a few readable lines: call the hooks of a point, run one step
of the model, move the counters. Hook dispatch and the model do the work;
the loops add nothing else per iteration.

Exact resume (DESIGN §4): the train loops report their position with
:meth:`progress_state` (stored in checkpoints by ``Runner.save_checkpoint``)
and, after ``Runner.resume``, continue from it in O(1): the RNG states are
restored and the sampler is told where to start (``load_state_dict``), the
data loader is never replayed. Creating data loader iterators and running
validation leave the global RNGs untouched, so a resumed run sees the same
random numbers as an uninterrupted one.

Random numbers drawn inside DataLoader *worker processes* (augmentation
with ``num_workers > 0``) are reproduced when resuming at an epoch end with
non-persistent workers (they are re-seeded from the run's seed every
epoch), but not in the middle of an epoch nor with persistent workers: a
worker's RNG position cannot be recovered without replaying its batches.
"""
import bisect
import logging
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch.utils.data import DataLoader

from mmengine.logging import print_log
from mmengine.registry import LOOPS
from .base_loop import BaseLoop, _warn_no_metainfo
# ValLoop/TestLoop live in eval_loops.py; `mmengine.runner.loops.ValLoop`
# stays a valid import path.
from .eval_loops import TestLoop, ValLoop  # noqa: F401
from .utils import _get_batch_size, preserve_rng_state, set_rng_state

__all__ = [
    'EpochBasedTrainLoop', 'IterBasedTrainLoop', 'ValLoop', 'TestLoop',
    'calc_dynamic_intervals'
]


def calc_dynamic_intervals(
    start_interval: int,
    dynamic_interval_list: Optional[List[Tuple[int, int]]] = None
) -> Tuple[List[int], List[int]]:
    """Split ``[(milestone, interval), ...]`` into two sorted lists.

    Args:
        start_interval (int): Interval used before the first milestone.
        dynamic_interval_list (list[tuple[int, int]], optional): After
            epoch/iteration ``milestone`` the interval becomes ``interval``.

    Returns:
        tuple[list[int], list[int]]: milestones (starting with 0) and the
        matching intervals.
    """
    if dynamic_interval_list is None:
        return [0], [start_interval]
    if not all(
            isinstance(item, (tuple, list)) and len(item) == 2
            for item in dynamic_interval_list):
        raise TypeError('dynamic_intervals must be a list of '
                        '(milestone, interval) pairs, but got '
                        f'{dynamic_interval_list!r}')
    pairs = sorted((int(m), int(i)) for m, i in dynamic_interval_list)
    return [0] + [m for m, _ in pairs], [start_interval
                                         ] + [i for _, i in pairs]


def _get_sampler(dataloader: Any) -> Any:
    """The index sampler behind a data loader (the batch sampler's if any)."""
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    sampler = getattr(batch_sampler, 'sampler', None)
    return sampler if sampler is not None else getattr(
        dataloader, 'sampler', None)


def _sampler_state(dataloader: Any, batches_done: int) -> Optional[dict]:
    """``sampler.state_dict(consumed=...)`` or None if not supported."""
    sampler = _get_sampler(dataloader)
    batch_size = _get_batch_size(dataloader)
    if batch_size is None or not hasattr(sampler, 'state_dict'):
        return None
    try:
        return sampler.state_dict(consumed=batches_done * batch_size)
    except TypeError:  # a sampler with another state_dict signature
        return None


def _restore_sampler(dataloader: Any, state: Optional[dict]) -> bool:
    """Load a sampler state saved by :func:`_sampler_state`; True if done."""
    sampler = _get_sampler(dataloader)
    if state is None or not hasattr(sampler, 'load_state_dict'):
        return False
    sampler.load_state_dict(state)
    return True


def _count(name: str, value: Any) -> int:
    """``value`` as a non-negative int, else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(
            value, (int, float)) or int(value) != value or value < 0:
        raise ValueError(f'train_cfg.{name} must be a non-negative integer, '
                         f'but got {value!r}')
    return int(value)


class _TrainLoopMixin:
    """Counters and resume helpers shared by both train loops."""

    _epoch: int
    _iter: int
    _max_epochs: int
    _max_iters: int

    @property
    def max_epochs(self) -> int:
        """int: Total training epochs."""
        return self._max_epochs

    @property
    def max_iters(self) -> int:
        """int: Total training iterations."""
        return self._max_iters

    @property
    def epoch(self) -> int:
        """int: Completed epochs."""
        return self._epoch

    @property
    def iter(self) -> int:
        """int: Completed training iterations."""
        return self._iter

    def _set_dataset_meta(self) -> None:
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.runner.visualizer.dataset_meta = \
                self.dataloader.dataset.metainfo
        else:
            _warn_no_metainfo(self.dataloader)

    def _take_resume_state(self) -> Optional[dict]:
        """Restore the RNGs saved with the resumed checkpoint.

        Returns the rest of the saved progress when it matches the resumed
        counters, else None.
        """
        pop = getattr(self.runner, '_pop_resume_state', None)
        state = pop() if pop is not None else None
        if state is None:
            return None
        if 'rng' in state:
            set_rng_state(state['rng'])
        if state.get('iter') != self._iter:
            print_log(
                'The progress saved in the checkpoint (iter '
                f'{state.get("iter")}) does not match the resumed iteration '
                f'{self._iter}; the data order is not restored.',
                logger='current',
                level=logging.WARNING)
            return None
        return state

    def _init_schedule(self, val_begin: int, val_interval: int,
                       dynamic_intervals: Optional[List[Tuple[int, int]]],
                       unit: str) -> None:
        """Counters, validation schedule and dataset meta (both loops)."""
        self._epoch = 0
        self._iter = 0
        self.val_begin = val_begin
        self.val_interval = val_interval
        # Set by EarlyStoppingHook to end training early.
        self.stop_training = False
        self._set_dataset_meta()
        self.dynamic_milestones, self.dynamic_intervals = \
            calc_dynamic_intervals(self.val_interval, dynamic_intervals)
        self._check_val_schedule(unit)

    def _check_val_schedule(self, unit: str) -> None:
        for name, value, low in (('val_begin', self.val_begin, 0),
                                 ('val_interval', self.val_interval, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < low:
                raise ValueError(
                    f'train_cfg.{name} must be an integer >= {low} '
                    f'({unit}), but got {value!r}')
        for _, interval in zip(self.dynamic_milestones,
                               self.dynamic_intervals):
            if isinstance(interval, bool) or interval < 1:
                raise ValueError('train_cfg.dynamic_intervals: every interval '
                                 f'must be >= 1, but got {interval!r}')

    def _decide_current_val_interval(self, progress: int) -> None:
        # Without dynamic intervals there is nothing to switch (and a
        # val_interval changed at run time by the user is kept).
        if len(self.dynamic_milestones) > 1:
            step = bisect.bisect(self.dynamic_milestones, progress + 1)
            self.val_interval = self.dynamic_intervals[step - 1]

    def _maybe_validate(self, progress: int, last: int) -> None:
        # Runs every iteration in iteration mode: the arithmetic first.
        if (progress >= self.val_begin
                and (progress % self.val_interval == 0 or progress == last)
                and self.runner.val_loop is not None):
            self.runner.val_loop.run()
            self.runner.model.train()


@LOOPS.register_module()
class EpochBasedTrainLoop(_TrainLoopMixin, BaseLoop):
    """Train for ``max_epochs`` epochs, validating every ``val_interval``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training data loader (or config).
        max_epochs (int): Total training epochs.
        val_begin (int): First epoch after which validation may run.
            Defaults to 1.
        val_interval (int): Validate every this many epochs (and after the
            last one). Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): ``(epoch,
            interval)`` pairs switching ``val_interval`` after ``epoch``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader)
        self._max_epochs = _count('max_epochs', max_epochs)
        self._max_iters = self._max_epochs * len(self.dataloader)
        self._init_schedule(val_begin, val_interval, dynamic_intervals,
                            'epochs')
        # Batches of the current epoch already trained before a resume.
        self._batch_offset = 0
        self._epoch_start_iter = 0

    def run(self) -> torch.nn.Module:
        """Train; returns the (trained) model."""
        self.runner.call_hook('before_train')
        state = self._take_resume_state()
        if state is not None:
            self._restore_progress(state)
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval(self._epoch)
            self._maybe_validate(self._epoch, self._max_epochs)
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate over the data loader once."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        offset, self._batch_offset = self._batch_offset, 0
        self._epoch_start_iter = self._iter - offset
        with preserve_rng_state():
            batches = iter(self.dataloader)
        for idx, data_batch in enumerate(batches, offset):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Any) -> None:
        """Train one batch.

        Args:
            idx (int): Index of the batch in the epoch.
            data_batch: The batch from the data loader.
        """
        runner = self.runner
        runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        # The model runs forward/backward/step itself through the wrapper.
        outputs = runner.model.train_step(
            data_batch, optim_wrapper=runner.optim_wrapper)
        runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def progress_state(self, epoch: int, iteration: int) -> dict:
        """Position to store in a checkpoint saved with ``(epoch, iter)``.

        Args:
            epoch (int): The checkpoint's ``meta['epoch']``.
            iteration (int): The checkpoint's ``meta['iter']``.

        Returns:
            dict: plain-typed state read back by the resumed loop.
        """
        # Saved after an epoch ended: the next one starts from its first
        # batch. Otherwise: inside the current epoch.
        done = 0 if epoch > self._epoch else iteration - self._epoch_start_iter
        done = max(int(done), 0)
        return dict(
            epoch=int(epoch),
            iter=int(iteration),
            batch_offset=done,
            sampler=_sampler_state(self.dataloader, done))

    def _restore_progress(self, state: dict) -> None:
        offset = int(state.get('batch_offset', 0))
        if state.get('epoch') != self._epoch:
            return
        if _restore_sampler(self.dataloader, state.get('sampler')):
            self._batch_offset = offset
        elif offset:
            print_log(
                'The sampler of the train dataloader has no '
                '`load_state_dict`, so the interrupted epoch restarts from '
                'its first batch.',
                logger='current',
                level=logging.WARNING)


class _InfiniteDataloaderIterator:
    """Iterate a data loader endlessly, restarting it when exhausted.

    Each restart counts a new pass and calls ``sampler.set_epoch(pass)``,
    so a ``DefaultSampler`` reshuffles.

    Args:
        dataloader (DataLoader): The data loader.
        epoch (int): Passes completed before (resume). Defaults to 0.
        batches_in_pass (int): Batches of the current pass already consumed
            before (resume). Defaults to 0.
    """

    def __init__(self,
                 dataloader: DataLoader,
                 epoch: int = 0,
                 batches_in_pass: int = 0) -> None:
        self._dataloader = dataloader
        self._epoch = epoch
        self._batches = batches_in_pass
        with preserve_rng_state():
            self._iterator = iter(self._dataloader)

    @property
    def epoch(self) -> int:
        """int: Number of completed passes over the data loader."""
        return self._epoch

    def __iter__(self):
        return self

    def __next__(self) -> Any:
        try:
            data = next(self._iterator)
        except StopIteration:
            print_log(
                'Reach the end of the dataloader, it will be restarted and '
                'continue to iterate. It is recommended to use '
                '`mmengine.dataset.InfiniteSampler` to enable the dataloader '
                'to iterate infinitely.',
                logger='current',
                level=logging.WARNING)
            self._epoch += 1
            self._batches = 0
            sampler = _get_sampler(self._dataloader)
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(self._epoch)
            with preserve_rng_state():
                self._iterator = iter(self._dataloader)
            try:
                data = next(self._iterator)
            except StopIteration:
                raise RuntimeError(
                    'The train dataloader yields no batch at all (empty '
                    'dataset, or fewer samples than batch_size with '
                    'drop_last=True).') from None
        self._batches += 1
        return data


@LOOPS.register_module()
class IterBasedTrainLoop(_TrainLoopMixin, BaseLoop):
    """Train for ``max_iters`` iterations, validating every ``val_interval``.

    The whole run counts as one epoch for the epoch hooks.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training data loader (or config).
        max_iters (int): Total training iterations.
        val_begin (int): First iteration after which validation may run.
            Defaults to 1.
        val_interval (int): Validate every this many iterations (and after
            the last one). Defaults to 1000.
        dynamic_intervals (list[tuple[int, int]], optional): ``(iter,
            interval)`` pairs switching ``val_interval`` after ``iter``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader)
        self._max_iters = _count('max_iters', max_iters)
        self._max_epochs = 1  # the whole run is one "epoch"
        self._init_schedule(val_begin, val_interval, dynamic_intervals,
                            'iterations')
        self._dataloader_iterator: Optional[_InfiniteDataloaderIterator] = \
            None
        self._pending_progress: Optional[dict] = None

    @property
    def dataloader_iterator(self) -> _InfiniteDataloaderIterator:
        """_InfiniteDataloaderIterator: created on first use, positioned at
        the resumed iteration when resuming."""
        if self._dataloader_iterator is None:
            self._dataloader_iterator = self._make_iterator()
        return self._dataloader_iterator

    @dataloader_iterator.setter
    def dataloader_iterator(self, value: _InfiniteDataloaderIterator) -> None:
        self._dataloader_iterator = value

    def _make_iterator(self) -> _InfiniteDataloaderIterator:
        state, self._pending_progress = self._pending_progress, None
        if state is not None and _restore_sampler(self.dataloader,
                                                  state.get('sampler')):
            return _InfiniteDataloaderIterator(
                self.dataloader, int(state.get('pass_epoch', 0)),
                int(state.get('batch_offset', 0)))
        iterator = _InfiniteDataloaderIterator(self.dataloader)
        if self._iter > 0:
            # No sampler state to jump to: fall back to skipping batches.
            print_log(
                f'Advance dataloader {self._iter} steps to skip data that '
                'has already been trained (the sampler has no saved state '
                'to resume from directly).',
                logger='current',
                level=logging.WARNING)
            for _ in range(self._iter):
                next(iterator)
        return iterator

    def run(self) -> torch.nn.Module:
        """Train; returns the (trained) model."""
        self.runner.call_hook('before_train')
        self._pending_progress = self._take_resume_state()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        iterator = self.dataloader_iterator
        while self._iter < self._max_iters and not self.stop_training:
            data_batch = next(iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval(self._iter)
            self._maybe_validate(self._iter, self._max_iters)
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_iter(self, data_batch: Any) -> None:
        """Train one batch.

        Args:
            data_batch: The batch from the data loader.
        """
        runner = self.runner
        runner.call_hook(
            'before_train_iter', batch_idx=self._iter, data_batch=data_batch)
        outputs = runner.model.train_step(
            data_batch, optim_wrapper=runner.optim_wrapper)
        runner.call_hook(
            'after_train_iter',
            batch_idx=self._iter,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def progress_state(self, epoch: int, iteration: int) -> dict:
        """Position to store in a checkpoint saved with ``(epoch, iter)``.

        Args:
            epoch (int): The checkpoint's ``meta['epoch']``.
            iteration (int): The checkpoint's ``meta['iter']``.

        Returns:
            dict: plain-typed state read back by the resumed loop.
        """
        iterator = self._dataloader_iterator
        pass_epoch = iterator.epoch if iterator is not None else 0
        done = iterator._batches if iterator is not None else 0
        return dict(
            epoch=int(epoch),
            iter=int(iteration),
            pass_epoch=int(pass_epoch),
            batch_offset=int(done),
            sampler=_sampler_state(self.dataloader, done))
