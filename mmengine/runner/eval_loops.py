"""The validation and test loops: run ``val_step``/``test_step`` on every
batch, feed the evaluator the raw batches, then evaluate."""
import contextlib
from typing import Any, Dict, List, Sequence, Union

import torch
from torch.utils.data import DataLoader

from mmengine.registry import LOOPS
from .base_loop import BaseLoop, _warn_no_metainfo
from .utils import preserve_rng_state

__all__ = ['ValLoop', 'TestLoop']


def _eval_autocast(fp16: bool):
    """Autocast context for ``fp16`` evaluation (a no-op when False).

    On CPU, float16 autocast is poorly supported, so bfloat16 is used.
    """
    if not fp16:
        return contextlib.nullcontext()
    from mmengine.device import get_device
    from .amp import autocast
    if get_device() == 'cpu':
        return autocast(device_type='cpu', dtype=torch.bfloat16)
    return autocast()


class _EvalLoop(BaseLoop):
    """Shared body of :class:`ValLoop` and :class:`TestLoop`."""

    _mode = 'val'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Any, Dict, List],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader)
        from mmengine.evaluator import Evaluator
        if isinstance(evaluator, (dict, list)):
            self.evaluator = runner.build_evaluator(evaluator)
        elif isinstance(evaluator, Evaluator):
            self.evaluator = evaluator
        else:
            raise TypeError(
                f'{self._mode}_evaluator should be an Evaluator, a metric '
                f'config dict or a list of them, but got {evaluator!r}')
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.evaluator.dataset_meta = self.dataloader.dataset.metainfo
            self.runner.visualizer.dataset_meta = \
                self.dataloader.dataset.metainfo
        else:
            _warn_no_metainfo(self.dataloader)
        self.fp16 = fp16
        self._step = f'{self._mode}_step'
        self._hook_names = tuple(
            f'{when}_{self._mode}{what}'
            for when, what in (('before', ''), ('before', '_epoch'),
                               ('before', '_iter'), ('after', '_iter'),
                               ('after', '_epoch'), ('after', '')))

    def run(self) -> dict:
        """Evaluate the model on the whole data loader.

        Returns:
            dict: The metrics.
        """
        (before, before_epoch, _, _, after_epoch,
         after) = self._hook_names
        runner = self.runner
        # Evaluation must not change the random stream training sees.
        with preserve_rng_state():
            runner.call_hook(before)
            runner.call_hook(before_epoch)
            runner.model.eval()
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
            metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
            runner.call_hook(after_epoch, metrics=metrics)
            runner.call_hook(after)
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Evaluate one batch.

        Args:
            idx (int): Index of the batch.
            data_batch: The raw batch from the data loader.
        """
        _, _, before_iter, after_iter, _, _ = self._hook_names
        runner = self.runner
        runner.call_hook(before_iter, batch_idx=idx, data_batch=data_batch)
        with _eval_autocast(self.fp16):
            outputs = getattr(runner.model, self._step)(data_batch)
        # The evaluator gets the raw batch, not the preprocessed one.
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        runner.call_hook(
            after_iter, batch_idx=idx, data_batch=data_batch, outputs=outputs)


@LOOPS.register_module()
class ValLoop(_EvalLoop):
    """Validation loop: ``model.val_step`` on every batch, then evaluate.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Validation data loader (or config).
        evaluator (Evaluator | dict | list): Evaluator or metric config(s).
        fp16 (bool): Run the forward under autocast (bfloat16 on CPU).
            Defaults to False.
    """
    _mode = 'val'


@LOOPS.register_module()
class TestLoop(_EvalLoop):
    """Test loop: ``model.test_step`` on every batch, then evaluate.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Test data loader (or config).
        evaluator (Evaluator | dict | list): Evaluator or metric config(s).
        fp16 (bool): Run the forward under autocast (bfloat16 on CPU).
            Defaults to False.
    """
    _mode = 'test'
