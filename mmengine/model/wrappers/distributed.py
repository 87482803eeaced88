"""``MMDistributedDataParallel``: DDP with the ``train/val/test_step`` API."""
from typing import Any, Dict, Union

import torch
import torch.nn as nn
from torch.nn.parallel import DataParallel, DistributedDataParallel

from mmengine.registry import MODEL_WRAPPERS
from .. import utils as model_utils
from ..utils import run_forward

__all__ = ['MMDistributedDataParallel']

# PyTorch's own wrappers count as model wrappers too (``is_model_wrapper``).
MODEL_WRAPPERS.register_module(module=DistributedDataParallel)
MODEL_WRAPPERS.register_module(module=DataParallel)


def wrapper_train_step(wrapper: nn.Module,
                       data: Union[dict, tuple, list],
                       optim_wrapper,
                       detect_anomalous: bool = False) -> Dict[str, Any]:
    """``train_step`` of a wrapper whose ``module`` is a ``BaseModel``.

    Like ``BaseModel.train_step``, except that the ``'loss'`` forward goes
    through ``wrapper._run_forward``, i.e. the wrapper's own ``__call__``
    (DDP/FSDP synchronise gradients only then), and ``optim_context``
    receives the wrapper (so DDP's ``no_sync`` is entered on
    gradient-accumulation steps).

    Args:
        wrapper (nn.Module): The model wrapper.
        data (dict | tuple | list): A batch from the dataloader.
        optim_wrapper (OptimWrapper): Updates the parameters.
        detect_anomalous (bool): Log the parameters outside the loss graph
            (before the backward, while the graph is alive).

    Returns:
        dict: The ``log_vars`` of ``wrapper.module.parse_losses``.
    """
    with optim_wrapper.optim_context(wrapper):
        data = wrapper.module.data_preprocessor(data, training=True)
        losses = wrapper._run_forward(data, mode='loss')
    parsed_loss, log_vars = wrapper.module.parse_losses(losses)
    if detect_anomalous:
        # looked up at call time so that it can be patched in tests.
        model_utils.detect_anomalous_params(parsed_loss, model=wrapper)
    optim_wrapper.update_params(parsed_loss)
    return log_vars


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
        return wrapper_train_step(self, data, optim_wrapper,
                                  self.detect_anomalous_params)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Return the predictions of ``module.val_step(data)``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Return the predictions of ``module.test_step(data)``."""
        return self.module.test_step(data)

    def _run_forward(self, data: Union[dict, tuple, list], mode: str) -> Any:
        """Unpack ``data`` into this wrapper's forward with ``mode``."""
        return run_forward(self, data, mode)
