"""``ApexOptimWrapper``: mixed precision with NVIDIA apex (optional)."""
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn

from mmengine.registry import OPTIM_WRAPPERS
from .optimizer_wrapper import OptimWrapper

__all__ = ['ApexOptimWrapper']


def _import_apex_amp():
    try:
        import apex.amp as apex_amp
    except ImportError as e:
        raise ImportError(
            'ApexOptimWrapper needs NVIDIA apex, which is not installed. '
            'Install it from https://github.com/NVIDIA/apex, or use '
            "AmpOptimWrapper (torch's native AMP) instead.") from e
    return apex_amp


@OPTIM_WRAPPERS.register_module()
class ApexOptimWrapper(OptimWrapper):
    """Optimizer wrapper for mixed precision with ``apex.amp``.

    ``apex.amp.initialize`` is called on the model and optimizer the first
    time :meth:`optim_context` is entered; the other arguments are passed to
    it (see apex's documentation).

    Args:
        opt_level (str): ``'O0'`` … ``'O3'``. Defaults to ``'O1'``.
        loss_scale (float | str): Static scale or ``'dynamic'``.
        enabled (bool): Whether apex amp is active. Defaults to True.
        cast_model_type (torch.dtype, optional): See ``apex.amp.initialize``.
        patch_torch_functions (bool, optional): See apex.
        keep_batchnorm_fp32 (bool | str, optional): See apex.
        master_weights (bool, optional): See apex.
        cast_model_outputs (torch.dtype, optional): See apex.
        **kwargs: Arguments of :class:`OptimWrapper`.

    Raises:
        ImportError: if apex is not installed.
    """

    def __init__(self,
                 opt_level: str = 'O1',
                 loss_scale: Union[float, str, None] = 'dynamic',
                 enabled: Optional[bool] = True,
                 cast_model_type: Optional[torch.dtype] = None,
                 patch_torch_functions: Optional[bool] = None,
                 keep_batchnorm_fp32: Union[bool, str, None] = None,
                 master_weights: Optional[bool] = None,
                 cast_model_outputs: Optional[torch.dtype] = None,
                 **kwargs) -> None:
        self._apex_amp = _import_apex_amp()
        super().__init__(**kwargs)
        self.opt_level = opt_level
        self.loss_scale = loss_scale
        self.enabled = enabled
        self.cast_model_type = cast_model_type
        self.patch_torch_functions = patch_torch_functions
        self.keep_batchnorm_fp32 = keep_batchnorm_fp32
        self.master_weights = master_weights
        self.cast_model_outputs = cast_model_outputs
        self._initialized = False
        self._pending_state: Optional[dict] = None

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backward the loss scaled by ``apex.amp.scale_loss``."""
        with self._apex_amp.scale_loss(loss, self.optimizer) as scaled_loss:
            scaled_loss.backward(**kwargs)
        self._inner_count += 1

    def state_dict(self) -> dict:
        """Optimizer state dict plus ``'apex_amp'`` (apex's amp state)."""
        state_dict = dict(self.optimizer.state_dict())
        state_dict['apex_amp'] = self._apex_amp.state_dict()
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer state and, if present, ``'apex_amp'``.

        apex can only load its state after ``amp.initialize``; before that
        the state is kept and loaded in :meth:`optim_context`.
        """
        state_dict = dict(state_dict)
        if 'apex_amp' in state_dict:
            amp_state = state_dict.pop('apex_amp')
            if self._initialized:
                self._apex_amp.load_state_dict(amp_state)
            else:
                self._pending_state = amp_state
        self.optimizer.load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Initialize apex amp once, then the accumulation no-sync logic."""
        with super().optim_context(model):
            if not self._initialized:
                if hasattr(model, 'module'):
                    model = model.module
                model, self.optimizer = self._apex_amp.initialize(
                    model,
                    self.optimizer,
                    opt_level=self.opt_level,
                    loss_scale=self.loss_scale,
                    enabled=self.enabled,
                    cast_model_type=self.cast_model_type,
                    patch_torch_functions=self.patch_torch_functions,
                    keep_batchnorm_fp32=self.keep_batchnorm_fp32,
                    master_weights=self.master_weights,
                    cast_model_outputs=self.cast_model_outputs)
                self._initialized = True
                if self._pending_state is not None:
                    self._apex_amp.load_state_dict(self._pending_state)
                    self._pending_state = None
            yield
