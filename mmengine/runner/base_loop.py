"""The abstract base of every loop the Runner drives."""
import logging
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Union

from torch.utils.data import DataLoader

from mmengine.logging import print_log

__all__ = ['BaseLoop']


class BaseLoop(metaclass=ABCMeta):
    """Base class of train, validation and test loops.

    A loop owns one data loader and knows how to iterate it; everything else
    (model, optimizer, hooks) it reaches through the runner. Subclasses
    implement :meth:`run` and may take extra constructor arguments, which
    come from the extra keys of ``train_cfg`` / ``val_cfg`` / ``test_cfg``.

    Args:
        runner (Runner): The runner driving this loop.
        dataloader (DataLoader | dict): A data loader, or a config dict built
            with ``runner.build_dataloader`` (seeded with the run's seed).
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict]) -> None:
        self._runner = runner
        if isinstance(dataloader, dict):
            # Different ranks may use different seeds for their workers.
            randomness = getattr(runner, '_randomness_cfg', None) or {}
            diff_rank_seed = randomness.get('diff_rank_seed', False)
            self.dataloader = runner.build_dataloader(
                dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        else:
            self.dataloader = dataloader

    @property
    def runner(self):
        """Runner: the runner driving this loop."""
        return self._runner

    @abstractmethod
    def run(self) -> Any:
        """Execute the loop."""


def _warn_no_metainfo(dataloader: Any) -> None:
    print_log(
        f'Dataset {type(dataloader.dataset).__name__} has no metainfo. '
        '``dataset_meta`` in visualizer will be None.',
        logger='current',
        level=logging.WARNING)
