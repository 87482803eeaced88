"""Averaged copies of a model: EMA, momentum-annealed EMA and SWA.

An averaged model keeps a frozen deep copy of the source model and, each
time ``update_parameters(model)`` is called, blends the source's current
weights into the copy. ``EMAHook`` drives them during training and swaps the
averaged weights in for validation and checkpoints.
"""
import logging
from abc import ABCMeta, abstractmethod
from copy import deepcopy
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmengine.logging import print_log
from mmengine.registry import MODELS

__all__ = [
    'BaseAveragedModel', 'ExponentialMovingAverage', 'MomentumAnnealingEMA',
    'StochasticWeightAverage'
]


class BaseAveragedModel(nn.Module, metaclass=ABCMeta):
    """Base class of averaged models.

    The first ``update_parameters`` call copies the source weights; later
    calls average them with ``avg_func`` every ``interval`` calls. The number
    of calls is kept in the ``steps`` buffer, so it is saved in
    ``state_dict()`` (keys ``steps`` and ``module.<name>``, tensors only).

    Args:
        model (nn.Module): The model to average. It is deep-copied and the
            copy's parameters do not require gradients.
        interval (int): Average every ``interval`` calls of
            ``update_parameters``. Defaults to 1.
        device (torch.device | str, optional): Keep the averaged copy on this
            device (e.g. ``'cpu'`` to save GPU memory). Defaults to None,
            i.e. the source model's device.
        update_buffers (bool): Average the buffers too (e.g. BatchNorm
            statistics). If False, buffers are copied from the source model
            at every update. Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 interval: int = 1,
                 device: Optional[Union[torch.device, str]] = None,
                 update_buffers: bool = False) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f'{type(self).__name__} expects an nn.Module to '
                            f'average, but got {type(model)}')
        if not isinstance(interval, int) or isinstance(interval, bool) \
                or interval < 1:
            raise ValueError(f'{type(self).__name__}: interval must be a '
                             f'positive int, but got {interval!r}')
        self.module = deepcopy(model).requires_grad_(False)
        self.interval = interval
        self.device = device
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer('steps',
                             torch.tensor(0, dtype=torch.long, device=device))
        self.update_buffers = update_buffers
        # Host copy of ``steps``, so that an update does not wait for the
        # device (``.item()``) every iteration; keyed by the buffer's
        # identity and version, so loading a state dict or editing the
        # buffer in place invalidates it.
        self._steps_host = (self._steps_key(), 0)

    @property
    def avg_parameters(self) -> Dict[str, torch.Tensor]:
        """The averaged tensors by name: parameters, plus buffers when
        ``update_buffers`` is True.

        Looked up on every access (not cached), so they stay right after the
        averaged model is moved with ``.to()``.
        """
        if self.update_buffers:
            return dict(self.module.state_dict(keep_vars=True))
        return dict(self.module.named_parameters())

    @abstractmethod
    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        """Blend ``source_param`` into ``averaged_param`` in place.

        Args:
            averaged_param (Tensor): The averaged value (updated in place).
            source_param (Tensor): The source model's current value.
            steps (int): Number of ``update_parameters`` calls before this
                one.
        """

    def forward(self, *args, **kwargs):
        """Run the averaged copy."""
        return self.module(*args, **kwargs)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Blend the weights of ``model`` into the averaged copy.

        Args:
            model (nn.Module): The source model (unwrapped, same structure as
                the one given at construction).
        """
        if self.update_buffers:
            src = dict(model.state_dict(keep_vars=True))
        else:
            src = dict(model.named_parameters())
        avg = self.avg_parameters
        missing = [k for k in avg if k not in src]
        if missing:
            raise KeyError(
                f'{type(self).__name__}.update_parameters: the model lacks '
                f'{missing[:5]} which the averaged model has; pass the same '
                'model (architecture) that the averaged model was built from')
        steps = self._host_steps()
        if steps == 0:
            for k, p_avg in avg.items():
                p_avg.data.copy_(src[k].data)  # copy_ casts dtype/device
        elif steps % self.interval == 0:
            averaged, source = [], []
            for k, p_avg in avg.items():
                if p_avg.dtype.is_floating_point:
                    averaged.append(p_avg.data)
                    source.append(src[k].data.to(
                        device=p_avg.device, dtype=p_avg.dtype))
                else:
                    # Integer buffers (e.g. num_batches_tracked) cannot be
                    # averaged; follow the source.
                    p_avg.data.copy_(src[k].data)
            if averaged:
                self._average(averaged, source, steps)
        if not self.update_buffers:
            # Keep the buffers (BN statistics) in sync with the source.
            for (name, b_avg), (_, b_src) in zip(self.module.named_buffers(),
                                                 model.named_buffers()):
                b_avg.data.copy_(b_src.data.to(b_avg.device))
        self.steps += 1
        self._steps_host = (self._steps_key(), steps + 1)

    def _average(self, averaged: List[torch.Tensor],
                 source: List[torch.Tensor], steps: int) -> None:
        """Apply :meth:`avg_func` to every (averaged, source) pair;
        subclasses may do it in one batched call."""
        for averaged_param, source_param in zip(averaged, source):
            self.avg_func(averaged_param, source_param, steps)

    def _steps_key(self) -> tuple:
        return id(self.steps), self.steps._version

    def _host_steps(self) -> int:
        """``self.steps`` as an int, read from the device only when the
        buffer changed outside ``update_parameters``."""
        key, value = self._steps_host
        if key != self._steps_key():
            value = int(self.steps.item())
            self._steps_host = (self._steps_key(), value)
        return value


@MODELS.register_module()
class StochasticWeightAverage(BaseAveragedModel):
    """Stochastic Weight Averaging: equal-weight running mean.

    After ``n`` averaging steps the averaged value is the mean of the ``n + 1``
    weights seen (the first one included).
    """

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        """``avg += (src - avg) / (steps // interval + 1)``."""
        averaged_param.add_(
            source_param - averaged_param,
            alpha=1.0 / float(steps // self.interval + 1))


@MODELS.register_module()
class ExponentialMovingAverage(BaseAveragedModel):
    r"""Exponential moving average of the weights.

    .. math::
        X_{avg} \leftarrow (1 - momentum) \cdot X_{avg} + momentum \cdot X_t

    ``momentum`` is the weight of the *new* value (the reverse of the
    ``decay`` convention, where ``decay = 1 - momentum``).

    Args:
        model (nn.Module): The model to average.
        momentum (float): Weight of the current weights, in (0, 1).
            Defaults to 0.0002.
        interval (int): Average every ``interval`` updates. Defaults to 1.
        device (torch.device | str, optional): Device of the averaged copy.
            Defaults to None.
        update_buffers (bool): Average the buffers too. Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.0002,
                 interval: int = 1,
                 device: Optional[Union[torch.device, str]] = None,
                 update_buffers: bool = False) -> None:
        super().__init__(model, interval, device, update_buffers)
        if not isinstance(momentum, (int, float)) or \
                not 0.0 < momentum < 1.0:
            raise ValueError(f'{type(self).__name__}: momentum must be in '
                             f'(0, 1), but got {momentum!r}')
        if momentum > 0.5:
            print_log(
                'The momentum of EMA is the weight of the new value and is '
                f'usually small, but got {momentum}; you may mean '
                f'momentum={1 - momentum:g} (1 - decay).',
                logger='current',
                level=logging.WARNING)
        self.momentum = momentum

    def momentum_at(self, steps: int) -> float:
        """The momentum used at ``steps`` (constant here)."""
        return self.momentum

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        """``avg = (1 - momentum) * avg + momentum * src``."""
        averaged_param.lerp_(source_param, self.momentum_at(steps))

    def _average(self, averaged: List[torch.Tensor],
                 source: List[torch.Tensor], steps: int) -> None:
        if type(self).avg_func is not ExponentialMovingAverage.avg_func:
            # a subclass with its own formula: apply it per tensor
            super()._average(averaged, source, steps)
            return
        # One fused lerp over all tensors instead of one kernel launch per
        # parameter: this runs every iteration under EMAHook.
        torch._foreach_lerp_(averaged, source, self.momentum_at(steps))


@MODELS.register_module()
class MomentumAnnealingEMA(ExponentialMovingAverage):
    """EMA whose momentum starts high and anneals to ``momentum``.

    The momentum used at step ``steps`` is
    ``max(momentum, gamma / (gamma + steps))``, so early weights (far from
    converged) are forgotten quickly.

    Args:
        model (nn.Module): The model to average.
        momentum (float): Final (minimum) momentum. Defaults to 0.0002.
        gamma (int): Annealing speed; larger keeps the momentum high for
            longer. Must be positive. Defaults to 100.
        interval (int): Average every ``interval`` updates. Defaults to 1.
        device (torch.device | str, optional): Device of the averaged copy.
            Defaults to None.
        update_buffers (bool): Average the buffers too. Defaults to False.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.0002,
                 gamma: int = 100,
                 interval: int = 1,
                 device: Optional[Union[torch.device, str]] = None,
                 update_buffers: bool = False) -> None:
        super().__init__(
            model=model,
            momentum=momentum,
            interval=interval,
            device=device,
            update_buffers=update_buffers)
        if not isinstance(gamma, (int, float)) or gamma <= 0:
            raise ValueError(f'{type(self).__name__}: gamma must be a '
                             f'positive number, but got {gamma!r}')
        self.gamma = gamma

    def momentum_at(self, steps: int) -> float:
        """``max(momentum, gamma / (gamma + steps))``."""
        return max(self.momentum, self.gamma / (self.gamma + steps))
