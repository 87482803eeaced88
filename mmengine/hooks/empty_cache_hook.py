"""``EmptyCacheHook``: release cached accelerator memory."""
from typing import Optional, Sequence, Union

import torch

from mmengine.registry import HOOKS
from .hook import DATA_BATCH, Hook


@HOOKS.register_module()
class EmptyCacheHook(Hook):
    """Calls ``torch.cuda.empty_cache()`` around epochs and/or iterations.

    Applies to training, validation and test alike. Without CUDA (or before
    CUDA is initialised) the call does nothing.

    Args:
        before_epoch (bool): Empty the cache before each epoch. Defaults to
            False.
        after_epoch (bool): Empty the cache after each epoch. Defaults to
            True.
        after_iter (bool): Empty the cache after each iteration. Defaults to
            False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 before_epoch: bool = False,
                 after_epoch: bool = True,
                 after_iter: bool = False) -> None:
        self._do_before_epoch = before_epoch
        self._do_after_epoch = after_epoch
        self._do_after_iter = after_iter

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: DATA_BATCH = None,
                    outputs: Optional[Union[dict, Sequence]] = None,
                    mode: str = 'train') -> None:
        """Empty the cache after an iteration if configured."""
        if self._do_after_iter:
            torch.cuda.empty_cache()

    def _before_epoch(self, runner, mode: str = 'train') -> None:
        """Empty the cache before an epoch if configured."""
        if self._do_before_epoch:
            torch.cuda.empty_cache()

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        """Empty the cache after an epoch if configured."""
        if self._do_after_epoch:
            torch.cuda.empty_cache()
