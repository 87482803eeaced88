"""``IterTimerHook``: data-loading time, iteration time and ETA."""
import time
from typing import Optional, Sequence, Union

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook

# Message-hub keys per mode, built once instead of per iteration.
_DATA_TIME_KEYS = {m: f'{m}/data_time' for m in ('train', 'val', 'test')}
_TIME_KEYS = {m: f'{m}/time' for m in ('train', 'val', 'test')}


@HOOKS.register_module()
class IterTimerHook(Hook):
    """Times every iteration and estimates the remaining time.

    Writes to ``runner.message_hub``:

    - scalar ``<mode>/data_time``: seconds spent waiting for the batch (from
      the end of the previous iteration, or the start of the epoch, to
      ``before_<mode>_iter``);
    - scalar ``<mode>/time``: seconds of the whole iteration, data loading
      included;
    - info ``eta``: seconds left, i.e. the mean iteration time of this run so
      far multiplied by the iterations left (of training, or of the current
      val/test epoch).

    Only ``time.time()`` and Python arithmetic run per iteration.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self.time_sec_tot = 0.0  # train seconds since `before_train`
        self.time_sec_test_val = 0.0  # seconds in the current val/test epoch
        self.start_iter = 0
        self.t = 0.0  # time at which the current iteration started
        # runner.max_iters, read once per training run instead of per
        # iteration (None until before_train or the first train iteration).
        self._max_iters: Optional[int] = None

    def before_train(self, runner) -> None:
        """Remember where training (re)starts and ends, for the ETA."""
        self.time_sec_tot = 0.0
        self.start_iter = runner.iter
        self._max_iters = runner.max_iters

    def _before_epoch(self, runner, mode: str = 'train') -> None:
        """Start the clock for the epoch's first iteration."""
        if mode != 'train':
            self.time_sec_test_val = 0.0
        self.t = time.time()

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        """Reset the val/test time sum for the next val/test epoch."""
        self.time_sec_test_val = 0.0

    def _before_iter(self,
                     runner,
                     batch_idx: int,
                     data_batch: DATA_BATCH = None,
                     mode: str = 'train') -> None:
        """Record how long the batch took to arrive."""
        key = _DATA_TIME_KEYS.get(mode) or f'{mode}/data_time'
        runner.message_hub.update_scalar(key, time.time() - self.t)

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: DATA_BATCH = None,
                    outputs: Optional[Union[dict, Sequence]] = None,
                    mode: str = 'train') -> None:
        """Record the iteration time and update the ETA."""
        now = time.time()
        iter_time = now - self.t
        self.t = now
        hub = runner.message_hub
        hub.update_scalar(_TIME_KEYS.get(mode) or f'{mode}/time', iter_time)
        if mode == 'train':
            self.time_sec_tot += iter_time
            cur_iter = runner.iter
            if self._max_iters is None:
                self._max_iters = runner.max_iters
            eta = self.time_sec_tot / (cur_iter - self.start_iter + 1) * (
                self._max_iters - cur_iter - 1)
        else:
            dataloader = runner.val_dataloader if mode == 'val' \
                else runner.test_dataloader
            self.time_sec_test_val += iter_time
            eta = self.time_sec_test_val / (batch_idx + 1) * (
                len(dataloader) - batch_idx - 1)
        hub.update_info('eta', eta)
