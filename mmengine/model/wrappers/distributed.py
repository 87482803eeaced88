"""``MMDistributedDataParallel``: DDP with the ``train/val/test_step`` API."""
from typing import Any, Dict, Union

import torch
import torch.nn as nn
from torch.nn.parallel import DataParallel, DistributedDataParallel

from mmengine.registry import MODEL_WRAPPERS

__all__ = ['MMDistributedDataParallel']

# PyTorch's own wrappers count as model wrappers too (``is_model_wrapper``).
MODEL_WRAPPERS.register_module(module=DistributedDataParallel)
MODEL_WRAPPERS.register_module(module=DataParallel)


def run_forward(wrapper: nn.Module, data: Union[dict, tuple, list],
                mode: str) -> Any:
    """Call ``wrapper(**data, mode=mode)`` or ``wrapper(*data, mode=mode)``.

    Going through the wrapper's ``__call__`` (not ``wrapper.module``) is what
    makes DDP/FSDP register their gradient synchronisation hooks.
    """
    if isinstance(data, dict):
        return wrapper(**data, mode=mode)
    if isinstance(data, (list, tuple)):
        return wrapper(*data, mode=mode)
    raise TypeError('The output of the data_preprocessor must be a dict, '
                    f'list or tuple to be unpacked into forward, but got '
                    f'{type(data)}')


@MODEL_WRAPPERS.register_module()
class MMDistributedDataParallel(DistributedDataParallel):
    """``DistributedDataParallel`` that the Runner can drive.

    Besides DDP's behaviour it provides the step API of ``BaseModel``:

    - ``train_step``: preprocesses ``data`` with ``module.data_preprocessor``,
      runs the ``'loss'`` forward **through DDP's forward** (so gradients are
      all-reduced in backward), parses the losses with ``module.parse_losses``
      and updates the parameters with the optimizer wrapper. The forward runs
      inside ``optim_wrapper.optim_context(self)``, which enters
      ``self.no_sync()`` on gradient-accumulation steps and autocast for AMP.
    - ``val_step`` / ``test_step``: delegate to ``module`` (no gradient
      synchronisation is needed).

    Args:
        module (nn.Module): The model to wrap; a ``BaseModel`` (or anything
            with ``data_preprocessor``, ``parse_losses``, ``val_step`` and
            ``test_step``).
        detect_anomalous_params (bool): Log the parameters that take no part
            in the loss computation at every ``train_step``. Slow; for
            debugging "unused parameters" errors of DDP only. Defaults to
            False.
        **kwargs: Passed to ``DistributedDataParallel`` (``device_ids``,
            ``broadcast_buffers``, ``find_unused_parameters``, ...).
    """

    def __init__(self,
                 module: nn.Module,
                 detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        super().__init__(module=module, **kwargs)
        self.detect_anomalous_params = detect_anomalous_params

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """Run one training iteration with synchronised gradients.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): Updates the parameters.

        Returns:
            dict[str, torch.Tensor]: The ``log_vars`` of ``parse_losses``.
        """
        with optim_wrapper.optim_context(self):
            data = self.module.data_preprocessor(data, training=True)
            losses = self._run_forward(data, mode='loss')
        parsed_loss, log_vars = self.module.parse_losses(losses)
        if self.detect_anomalous_params:
            # Before the backward, while the whole graph is still alive.
            from mmengine.model.utils import detect_anomalous_params
            detect_anomalous_params(parsed_loss, model=self)
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Return the predictions of ``module.val_step(data)``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Return the predictions of ``module.test_step(data)``."""
        return self.module.test_step(data)

    def _run_forward(self, data: Union[dict, tuple, list], mode: str) -> Any:
        """Unpack ``data`` into this wrapper's forward with ``mode``."""
        return run_forward(self, data, mode)
