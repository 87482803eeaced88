"""``OptimWrapper``: runs backward, clipping, step and zero_grad in one call.

The wrapper owns the bookkeeping that a training loop would otherwise repeat:
gradient accumulation (loss scaling and skipping ``step`` on intermediate
iterations), disabling DDP gradient all-reduce on those iterations, gradient
clipping with ``grad_norm`` logging, and lr / momentum queries.
"""
import inspect
import logging
from contextlib import nullcontext
from typing import Any, ContextManager, Dict, List, Optional

import torch
import torch.nn as nn
from torch.optim import Optimizer

from mmengine.logging import MessageHub, print_log
from mmengine.registry import OPTIM_WRAPPERS
from .errors import OptimConfigTypeError

__all__ = ['OptimWrapper']


# Reusable and reentrant: shared by every ``optim_context`` without no_sync.
_NULL_CONTEXT = nullcontext()

_CLIP_FUNCS = {
    'norm': torch.nn.utils.clip_grad_norm_,
    'value': torch.nn.utils.clip_grad_value_,
}


def _has_batch_norm(model: nn.Module) -> bool:
    from torch.nn.modules.batchnorm import _BatchNorm
    return any(isinstance(m, _BatchNorm) for m in model.modules())


@OPTIM_WRAPPERS.register_module()
class OptimWrapper:
    """Wrap a ``torch.optim.Optimizer`` with a uniform update interface.

    Args:
        optimizer (Optimizer): The optimizer to wrap.
        accumulative_counts (int): Number of ``update_params`` calls whose
            gradients are accumulated before one optimizer step. The loss is
            divided by this number (by the size of the last, incomplete
            window at the end of training once :meth:`initialize_count_status`
            was called). Defaults to 1.
        clip_grad (dict, optional): Gradient clipping config. ``type`` is
            ``'norm'`` (``torch.nn.utils.clip_grad_norm_``, the default) or
            ``'value'`` (``clip_grad_value_``; inferred when ``clip_value`` is
            given without ``type``). Other keys are passed to the function,
            e.g. ``dict(max_norm=35, norm_type=2)``. Defaults to None.

    Examples:
        >>> optim_wrapper = OptimWrapper(SGD(model.parameters(), lr=0.01))
        >>> with optim_wrapper.optim_context(model):
        ...     loss = model(x).sum()
        >>> optim_wrapper.update_params(loss)
    """

    def __init__(self,
                 optimizer: Optimizer,
                 accumulative_counts: int = 1,
                 clip_grad: Optional[dict] = None) -> None:
        if isinstance(accumulative_counts, bool) or not isinstance(
                accumulative_counts, int) or accumulative_counts < 1:
            raise ValueError('OptimWrapper: accumulative_counts must be an '
                             'int >= 1, but got '
                             f'{accumulative_counts!r}')
        if not isinstance(optimizer, Optimizer):
            raise TypeError('OptimWrapper: optimizer must be a built '
                            'torch.optim.Optimizer instance, but got '
                            f'{type(optimizer).__name__}. To build one from '
                            'a config use build_optim_wrapper(model, cfg).')
        self.optimizer = optimizer
        self._accumulative_counts = accumulative_counts

        self.clip_grad_kwargs: Optional[dict] = None
        if clip_grad is not None:
            if not isinstance(clip_grad, dict) or not clip_grad:
                raise OptimConfigTypeError(
                    'If `clip_grad` is not None, it should be a `dict` '
                    'which is the arguments of `torch.nn.utils.clip_grad_*`'
                    f', e.g. dict(max_norm=35), but got {clip_grad!r}')
            clip_grad = dict(clip_grad)
            default_type = 'value' if 'clip_value' in clip_grad else 'norm'
            clip_type = clip_grad.pop('type', default_type)
            if clip_type not in _CLIP_FUNCS:
                raise ValueError(
                    f"clip_grad: type must be 'norm' or 'value', but got "
                    f'{clip_type!r}')
            self.clip_grad_type = clip_type
            self.clip_func = _CLIP_FUNCS[clip_type]
            self.clip_grad_kwargs = clip_grad
            # Check the arguments now rather than at the first update.
            signature = inspect.signature(self.clip_func)
            try:
                signature.bind([], **clip_grad)
            except TypeError as e:
                accepted = list(signature.parameters)[1:]
                raise TypeError(
                    f'clip_grad={dict(clip_grad, type=clip_type)!r} does '
                    f'not match torch.nn.utils.{self.clip_func.__name__} '
                    f'({e}); accepted keys: {accepted} plus type') from None

        # Counters for gradient accumulation. ``_max_counts == -1`` means the
        # loop did not call ``initialize_count_status`` (unknown end).
        self._inner_count = 0
        self._max_counts = -1
        self._remainder_counts = -1

        self.message_hub = MessageHub.get_current_instance()

        # With several param groups the "base" lr (optimizer defaults) is
        # reported beside the per-group values, e.g. for logging.
        self.base_param_settings: Optional[Dict[str, Any]] = None
        if len(optimizer.param_groups) > 1:
            self.base_param_settings = dict(optimizer.defaults)

    # ------------------------------------------------------------------
    # Update interface
    # ------------------------------------------------------------------
    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backward ``loss`` and, when an update is due, step and zero grads.

        Args:
            loss (torch.Tensor): The loss of this iteration.
            step_kwargs (dict, optional): Passed to :meth:`step`.
            zero_kwargs (dict, optional): Passed to :meth:`zero_grad`.
        """
        loss = self.scale_loss(loss)
        self.backward(loss)
        if self.should_update():
            # No empty kwargs dicts built on the common path.
            if step_kwargs:
                self.step(**step_kwargs)
            else:
                self.step()
            if zero_kwargs:
                self.zero_grad(**zero_kwargs)
            else:
                self.zero_grad()

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Divide ``loss`` by the size of the current accumulation window.

        Raises:
            RuntimeError: if more updates are made than the ``max_counts``
                given to :meth:`initialize_count_status`.
        """
        if self._accumulative_counts == 1:
            return loss
        if self._max_counts == -1 or \
                self._inner_count < self._max_counts - self._remainder_counts:
            return loss / self._accumulative_counts
        if self._inner_count >= self._max_counts:
            raise RuntimeError(
                f'OptimWrapper: update number {self._inner_count + 1} is past '
                f'max_counts={self._max_counts} given to '
                'initialize_count_status (the total number of iterations); '
                'call initialize_count_status again for a longer run')
        # The last, incomplete accumulation window.
        return loss / self._remainder_counts

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Compute gradients of ``loss`` (``loss.backward(**kwargs)``)."""
        loss.backward(**kwargs)
        self._inner_count += 1

    def zero_grad(self, **kwargs) -> None:
        """Call ``optimizer.zero_grad(**kwargs)``."""
        self.optimizer.zero_grad(**kwargs)

    def step(self, **kwargs) -> None:
        """Clip gradients if configured, then ``optimizer.step(**kwargs)``."""
        if self.clip_grad_kwargs:
            self._clip_grad()
        self.optimizer.step(**kwargs)

    def _clip_grad(self) -> None:
        params: List[torch.Tensor] = []
        for group in self.optimizer.param_groups:
            params.extend(p for p in group['params']
                          if p.requires_grad and p.grad is not None)
        if not params:
            return
        result = self.clip_func(params, **self.clip_grad_kwargs)
        if self.clip_grad_type == 'norm' and result is not None:
            # The tensor itself is logged: MessageHub converts device tensors
            # lazily, so there is no host-device sync per update.
            self.message_hub.update_scalar('train/grad_norm',
                                           result.detach())

    # ------------------------------------------------------------------
    # Accumulation / distributed sync
    # ------------------------------------------------------------------
    def optim_context(self, model: nn.Module) -> ContextManager:
        """Context for the forward pass of ``model``.

        On iterations that only accumulate gradients, a model that has
        ``no_sync`` (DDP) skips the gradient all-reduce.
        """
        # Entered every iteration: a plain function returning a shared
        # ``nullcontext`` costs less than a generator-based context manager.
        if not self.should_sync() and hasattr(model, 'no_sync'):
            return model.no_sync()
        return _NULL_CONTEXT

    def initialize_count_status(self, model: nn.Module, init_counts: int,
                                max_counts: int) -> None:
        """Set the accumulation counters for a (resumed) training run.

        Args:
            model (nn.Module): The trained model (checked for BatchNorm).
            init_counts (int): Iterations already done.
            max_counts (int): Total iterations of the run.
        """
        self._inner_count = init_counts
        self._max_counts = max_counts
        if self._inner_count % self._accumulative_counts != 0:
            print_log(
                f'Resumed iteration number {init_counts} is not divisible '
                f'by accumulative_counts={self._accumulative_counts}: the '
                'gradients accumulated in the interrupted window were not '
                'saved, so that window steps with fewer iterations and the '
                'result may be influenced slightly.',
                logger='current',
                level=logging.WARNING)
        if self._accumulative_counts > 1 and _has_batch_norm(model):
            print_log(
                'Gradient accumulative may slightly decrease performance '
                'because the model has BatchNorm layers.',
                logger='current',
                level=logging.WARNING)
        self._remainder_counts = self._max_counts % self._accumulative_counts

    def should_update(self) -> bool:
        """Whether the optimizer should step after the last ``backward``."""
        return (self._inner_count % self._accumulative_counts == 0
                or self._inner_count == self._max_counts)

    def should_sync(self) -> bool:
        """Whether the next ``backward`` must all-reduce gradients."""
        return ((self._inner_count + 1) % self._accumulative_counts == 0
                or (self._inner_count + 1) == self._max_counts)

    @property
    def inner_count(self) -> int:
        """Number of ``backward`` calls counted so far."""
        return self._inner_count

    @property
    def max_counts(self) -> int:
        """Total iterations set by :meth:`initialize_count_status` or -1."""
        return self._max_counts

    # ------------------------------------------------------------------
    # Queries and state
    # ------------------------------------------------------------------
    @property
    def param_groups(self) -> List[dict]:
        """The wrapped optimizer's ``param_groups``."""
        return self.optimizer.param_groups

    @property
    def defaults(self) -> dict:
        """The wrapped optimizer's ``defaults``."""
        return self.optimizer.defaults

    def get_lr(self) -> Dict[str, List[float]]:
        """Return ``{'lr': [lr of each param group]}``.

        When the optimizer has several param groups, ``'base_lr'`` (the
        optimizer's default lr) is included as well.
        """
        res: Dict[str, List[float]] = {}
        if self.base_param_settings is not None \
                and 'lr' in self.base_param_settings:
            res['base_lr'] = [self.base_param_settings['lr']]
        res['lr'] = [group['lr'] for group in self.optimizer.param_groups]
        return res

    def get_momentum(self) -> Dict[str, List[float]]:
        """Return ``{'momentum': [...]}`` (``betas[0]`` for Adam-like)."""
        momentum = []
        for group in self.optimizer.param_groups:
            if 'momentum' in group:
                momentum.append(group['momentum'])
            elif 'betas' in group:
                momentum.append(group['betas'][0])
            else:
                momentum.append(0)
        return dict(momentum=momentum)

    def state_dict(self) -> dict:
        """Return the wrapped optimizer's state dict."""
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        """Load an optimizer state dict into the wrapped optimizer."""
        if not isinstance(state_dict, dict):
            raise TypeError('OptimWrapper.load_state_dict expects a dict, '
                            f'but got {type(state_dict).__name__}')
        self.optimizer.load_state_dict(state_dict)

    def __repr__(self) -> str:
        wrapper_info = (f'Type: {type(self).__name__}\n'
                        f'_accumulative_counts: {self._accumulative_counts}\n'
                        'optimizer: \n')
        return wrapper_info + repr(self.optimizer)


# The MMCV migration guide spells the type 'OptimizerWrapper'.
OPTIM_WRAPPERS.register_module(name='OptimizerWrapper', module=OptimWrapper)
