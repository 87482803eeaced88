"""``BaseModel``: the model interface the Runner trains, validates, tests."""
from abc import ABCMeta, abstractmethod
from collections import OrderedDict
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn

from mmengine.registry import MODELS
from ..base_module import BaseModule
from ..utils import run_forward
from .data_preprocessor import BaseDataPreprocessor, _accelerator_device

__all__ = ['BaseModel']


def _sum(tensors: list) -> torch.Tensor:
    """Sum tensors without the extra ``0 + t`` op of builtin ``sum``."""
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total


class BaseModel(BaseModule, metaclass=ABCMeta):
    """Base class of the models the Runner drives.

    A subclass implements ``forward(inputs, data_samples=None,
    mode='tensor')`` (argument names must match what the data preprocessor
    returns) with three modes: ``'loss'`` returns a dict of losses,
    ``'predict'`` a list of predictions, ``'tensor'`` the raw outputs.
    ``train_step``, ``val_step`` and ``test_step`` are inherited.

    Args:
        data_preprocessor (dict | nn.Module, optional): The preprocessor, or
            its ``MODELS`` config. None gives a :class:`BaseDataPreprocessor`
            (moves data to the model's device).
        init_cfg (dict | list[dict], optional): Weight init config.
    """

    def __init__(self,
                 data_preprocessor: Union[dict, nn.Module, None] = None,
                 init_cfg: Union[dict, list, None] = None):
        super().__init__(init_cfg)
        if data_preprocessor is None:
            self.data_preprocessor = BaseDataPreprocessor()
        elif isinstance(data_preprocessor, nn.Module):
            self.data_preprocessor = data_preprocessor
        elif isinstance(data_preprocessor, dict):
            self.data_preprocessor = MODELS.build(data_preprocessor)
        else:
            raise TypeError('data_preprocessor should be a `dict`, an '
                            '`nn.Module` instance or None, but got '
                            f'{type(data_preprocessor).__name__}')

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """One training iteration: preprocess, forward in ``'loss'`` mode,
        parse the losses and update the parameters.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): Updates the parameters.

        Returns:
            dict[str, Tensor]: Detached log variables (``'loss'`` and every
            entry of the loss dict), as returned by :meth:`parse_losses`.
        """
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        parsed_losses, log_vars = self.parse_losses(losses)  # type: ignore
        optim_wrapper.update_params(parsed_losses)
        return log_vars

    def val_step(self, data: Union[tuple, dict, list]) -> list:
        """Preprocess ``data`` and return ``forward(..., mode='predict')``."""
        data = self.data_preprocessor(data, False)
        return self._run_forward(data, mode='predict')  # type: ignore

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Preprocess ``data`` and return ``forward(..., mode='predict')``."""
        data = self.data_preprocessor(data, False)
        return self._run_forward(data, mode='predict')  # type: ignore

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Reduce the loss dict to the total loss and the log variables.

        A tensor value is reduced with ``.mean()``; a list of tensors to the
        sum of their means. The total ``loss`` sums the entries whose key
        contains ``'loss'``.

        Args:
            losses (dict): name -> tensor or list of tensors.

        Returns:
            tuple: ``(loss, log_vars)`` — the differentiable total loss and
            an ordered dict ``{name: ..., 'loss': total}`` of detached
            values, ``'loss'`` last (no host-device synchronisation happens
            here; a key named ``'loss'`` in ``losses`` is replaced by the
            total, which includes it).

        Raises:
            TypeError: If a value is neither a tensor nor a list of tensors.
            ValueError: If no key contains ``'loss'``.
        """
        # One pass that reduces, sums and detaches (this runs every
        # iteration). The total is summed in key order, as ``_sum`` would.
        log_vars: Dict[str, torch.Tensor] = OrderedDict()
        loss = None
        for name, value in losses.items():
            if isinstance(value, torch.Tensor):
                # a 0-dim tensor is its own mean; skipping the op keeps the
                # per-iteration cost down.
                if value.dim() != 0:
                    value = value.mean()
            elif isinstance(value, (list, tuple)) and value and all(
                    isinstance(v, torch.Tensor) for v in value):
                value = _sum([v.mean() for v in value])
            else:
                got = type(value).__name__
                if isinstance(value, (list, tuple)):
                    got += (' of ' + str([type(v).__name__ for v in value])
                            if value else ' (empty)')
                raise TypeError(
                    f'parse_losses: the value of {name!r} must be a tensor or'
                    f' a non-empty list of tensors, but got {got}')
            if 'loss' in name:
                loss = value if loss is None else loss + value
            # A key named 'loss' keeps its position but is overwritten by
            # the detached total below, so it needs no detach of its own.
            log_vars[name] = value if name == 'loss' else value.detach()
        if loss is None:
            raise ValueError(
                'parse_losses: no key of the loss dict contains "loss", so '
                f'there is nothing to optimise (keys: {list(losses)})')
        # the total goes last, so logs read `loss1 ... loss2 ... loss`.
        log_vars['loss'] = loss.detach()
        return loss, log_vars  # type: ignore

    # ------------------------------------------------------------------
    # Device movement: keep the data preprocessors' device in sync.
    # ------------------------------------------------------------------

    def to(self, *args, **kwargs) -> nn.Module:
        """Like ``nn.Module.to``; also updates the preprocessors' device."""
        device = torch._C._nn._parse_to(*args, **kwargs)[0]
        if device is not None:
            self._set_device(torch.device(device))
        return super().to(*args, **kwargs)

    def cuda(self, device: Union[int, str, torch.device, None] = None
             ) -> nn.Module:
        """Move to a CUDA device (the current one by default)."""
        if device is None or isinstance(device, int):
            device = torch.device('cuda', index=device)
        self._set_device(torch.device(device))
        return super().cuda(device)

    def musa(self, device: Union[int, str, torch.device, None] = None
             ) -> nn.Module:
        """Move to a MUSA device (the current one by default)."""
        return self._to_accelerator('musa', device)

    def mlu(self, device: Union[int, str, torch.device, None] = None
            ) -> nn.Module:
        """Move to an MLU device (the current one by default)."""
        return self._to_accelerator('mlu', device)

    def npu(self, device: Union[int, str, torch.device, None] = None
            ) -> nn.Module:
        """Move to an NPU device (the current one by default).

        One card per process: the index must match the default device.
        """
        return self._to_accelerator('npu', device)

    def cpu(self, *args, **kwargs) -> nn.Module:
        """Move to the CPU."""
        self._set_device(torch.device('cpu'))
        return super().cpu()

    def _to_accelerator(self, kind: str, device) -> nn.Module:
        device = _accelerator_device(kind, device)
        self._set_device(device)
        return nn.Module.to(self, device)

    def _set_device(self, device: torch.device) -> None:
        """Point every ``BaseDataPreprocessor`` inside to ``device``."""
        for module in self.modules():
            if isinstance(module, BaseDataPreprocessor):
                module._device = device

    @abstractmethod
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], list]:
        """Run the network.

        Args:
            inputs (Tensor): The batch inputs (names are free as long as they
                match the preprocessor's output).
            data_samples (list, optional): Annotations of the batch.
            mode (str): ``'loss'`` (dict of losses), ``'predict'`` (list of
                predictions) or ``'tensor'`` (raw outputs).
        """

    def _run_forward(self, data: Union[dict, tuple, list],
                     mode: str) -> Union[Dict[str, torch.Tensor], list]:
        """Call ``self(**data, mode=mode)`` for a dict, ``self(*data,
        mode=mode)`` for a tuple/list."""
        return run_forward(self, data, mode)
