"""``AmpOptimWrapper``: automatic mixed precision (autocast + GradScaler)."""
import warnings
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn

from mmengine.device import get_device
from mmengine.registry import OPTIM_WRAPPERS
from .optimizer_wrapper import OptimWrapper

__all__ = ['AmpOptimWrapper']

_DTYPE_NAMES = ('float16', 'bfloat16', 'float32', 'float64')
# dtypes torch.autocast accepts per device type (others disable autocast
# with only a warning, which would silently train in full precision).
_AUTOCAST_DTYPES = {
    'cpu': (torch.bfloat16, torch.float16),
    'cuda': (torch.float16, torch.bfloat16, torch.float32),
}


def _resolve_dtype(dtype: Union[None, str, torch.dtype]) -> \
        Optional[torch.dtype]:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return getattr(torch, dtype)
    raise TypeError(f'AmpOptimWrapper: dtype should be None, a torch.dtype or '
                    f'one of {list(_DTYPE_NAMES)}, but got {dtype!r}')


def _make_grad_scaler(device: str, use_fsdp: bool, **kwargs):
    if use_fsdp:
        from torch.distributed.fsdp.sharded_grad_scaler import \
            ShardedGradScaler
        return ShardedGradScaler(device=device, **kwargs)
    if device == 'cuda':
        # ``torch.cuda.amp.GradScaler`` (a subclass of torch.amp.GradScaler)
        # keeps ``isinstance`` checks of existing code working.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            return torch.cuda.amp.GradScaler(**kwargs)
    return torch.amp.GradScaler(device, **kwargs)


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(OptimWrapper):
    """Optimizer wrapper for automatic mixed precision training.

    :meth:`optim_context` runs the forward pass under ``torch.autocast``;
    :meth:`backward` scales the loss with a ``GradScaler``; :meth:`step`
    unscales the gradients (before clipping), steps through the scaler and
    updates the scale.

    The device is the current default device (``mmengine.device.
    get_device()``): CUDA/NPU/MLU/MUSA when available, else the CPU, where
    autocast uses bfloat16 by default.

    Args:
        loss_scale (str | float | dict): ``'dynamic'`` (default) for a
            dynamic ``GradScaler``; a number for a static scale; a dict of
            ``GradScaler`` arguments (e.g. ``dict(init_scale=512)``).
        dtype (str | torch.dtype, optional): Autocast dtype: ``'float16'``,
            ``'bfloat16'`` (also ``'float32'``/``'float64'`` where the device
            supports them). None uses the device's autocast default
            (float16 on CUDA, bfloat16 on CPU).
        use_fsdp (bool): Use ``ShardedGradScaler`` for FSDP models.
            Defaults to False.
        **kwargs: Arguments of :class:`OptimWrapper` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    valid_dtypes = _DTYPE_NAMES

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Union[None, str, torch.dtype] = None,
                 use_fsdp: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.device = get_device()
        self.cast_dtype = _resolve_dtype(dtype)
        self._check_autocast_support()

        self._scale_update_param: Optional[float] = None
        if loss_scale == 'dynamic':
            self.loss_scaler = _make_grad_scaler(self.device, use_fsdp)
        elif isinstance(loss_scale, (int, float)) and \
                not isinstance(loss_scale, bool):
            # A static scale: ``update(scale)`` resets it every step.
            self._scale_update_param = float(loss_scale)
            self.loss_scaler = _make_grad_scaler(
                self.device, use_fsdp, init_scale=float(loss_scale))
        elif isinstance(loss_scale, dict):
            self.loss_scaler = _make_grad_scaler(self.device, use_fsdp,
                                                 **loss_scale)
        else:
            raise TypeError('loss_scale must be of type float, dict, or '
                            f'"dynamic", but got {loss_scale!r}')

    def _check_autocast_support(self) -> None:
        device = self.device
        if not torch.amp.autocast_mode.is_autocast_available(device):
            raise RuntimeError(
                f'AmpOptimWrapper: torch.autocast is not available on device '
                f'type {device!r}')
        supported = _AUTOCAST_DTYPES.get(device)
        if self.cast_dtype is None or supported is None:
            return
        if self.cast_dtype not in supported:
            raise ValueError(
                f'AmpOptimWrapper: dtype {self.cast_dtype} is not supported '
                f'by autocast on device {device!r}; use one of '
                f'{[str(d) for d in supported]} (or dtype=None)')
        if (device == 'cuda' and self.cast_dtype is torch.bfloat16
                and not torch.cuda.is_bf16_supported()):
            raise ValueError('AmpOptimWrapper: dtype bfloat16 is not '
                             'supported by this CUDA device')

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backward the loss scaled by the ``GradScaler``."""
        self.loss_scaler.scale(loss).backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        """Unscale (before clipping), step via the scaler, update the scale.

        The scaler skips the step when the gradients contain inf/NaN.
        """
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._scale_update_param)

    def state_dict(self) -> dict:
        """Optimizer state dict plus ``'loss_scaler'`` (the scaler state)."""
        state_dict = dict(self.optimizer.state_dict())
        state_dict['loss_scaler'] = self.loss_scaler.state_dict()
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer state and, if present, ``'loss_scaler'``.

        A plain optimizer state dict (without ``'loss_scaler'``) is accepted.
        """
        if not isinstance(state_dict, dict):
            raise TypeError('AmpOptimWrapper.load_state_dict expects a dict, '
                            f'but got {type(state_dict).__name__}')
        state_dict = dict(state_dict)
        if 'loss_scaler' in state_dict:
            self.loss_scaler.load_state_dict(state_dict.pop('loss_scaler'))
        self.optimizer.load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Accumulation no-sync logic plus ``torch.autocast``."""
        with super().optim_context(model):
            with torch.autocast(
                    device_type=self.device, dtype=self.cast_dtype):
                yield
