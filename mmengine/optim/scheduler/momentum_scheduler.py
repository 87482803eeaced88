"""Momentum schedulers: the generic schedulers with ``param_name='momentum'``.

For Adam-like optimizers, whose param groups have ``betas`` instead of
``momentum``, the scheduled momentum is ``betas[0]``: a ``momentum`` key
mirroring it is added to each group and ``betas`` is rewritten after every
step.
"""
from typing import Any

from torch.optim import Optimizer

from mmengine.registry import PARAM_SCHEDULERS
from .annealing_schedulers import (CosineAnnealingParamScheduler,
                                   CosineRestartParamScheduler,
                                   PolyParamScheduler)
from .multiplicative_schedulers import (ConstantParamScheduler,
                                        ExponentialParamScheduler,
                                        LinearParamScheduler,
                                        MultiStepParamScheduler,
                                        StepParamScheduler)
from .param_scheduler import _check_optimizer, _scheduled_groups
from .reduce_on_plateau import ReduceOnPlateauParamScheduler

__all__ = [
    'MomentumSchedulerMixin', 'ConstantMomentum', 'CosineAnnealingMomentum',
    'CosineRestartMomentum', 'ExponentialMomentum', 'LinearMomentum',
    'MultiStepMomentum', 'PolyMomentum', 'ReduceOnPlateauMomentum',
    'StepMomentum'
]


class MomentumSchedulerMixin:
    """Mixin fixing ``param_name='momentum'`` (``betas[0]`` for Adam-like
    optimizers): ``class XxxMomentum(MomentumSchedulerMixin,
    XxxParamScheduler)``.

    Raises:
        ValueError: The optimizer has neither ``momentum`` nor ``betas``.
    """

    def __init__(self, optimizer: Any, *args, **kwargs):
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        raw = optimizer if isinstance(optimizer,
                                      Optimizer) else optimizer.optimizer
        if 'momentum' in raw.defaults:
            self.use_betas = False
        elif 'betas' in raw.defaults:
            self.use_betas = True
            for group in _scheduled_groups(optimizer, 'betas'):
                if 'betas' in group:
                    group['momentum'] = group['betas'][0]
        else:
            raise ValueError(
                f'{name}: the optimizer {type(raw).__name__} has no momentum '
                "(its defaults have neither 'momentum' nor 'betas')")
        super().__init__(optimizer, 'momentum', *args, **kwargs)

    __init__._fixes_param_name = True  # type: ignore[attr-defined]

    def _initial_step(self) -> None:
        super()._initial_step()  # type: ignore[misc]
        self._sync_betas()

    def step(self, *args, **kwargs) -> None:
        """Advance the schedule; keep ``betas[0]`` equal to the momentum."""
        super().step(*args, **kwargs)  # type: ignore[misc]
        self._sync_betas()

    def load_state_dict(self, state_dict) -> None:
        """Restore the state; keep ``betas[0]`` equal to the momentum."""
        super().load_state_dict(state_dict)  # type: ignore[misc]
        self._sync_betas()

    def _sync_betas(self) -> None:
        if not self.use_betas:
            return
        for group in self._param_groups():  # type: ignore
            if 'betas' in group:
                group['betas'] = (group['momentum'], *group['betas'][1:])


@PARAM_SCHEDULERS.register_module()
class ConstantMomentum(MomentumSchedulerMixin, ConstantParamScheduler):
    """Multiply the momentum by ``factor`` until ``end - 1``.

    Args: see :class:`ConstantParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingMomentum(MomentumSchedulerMixin,
                              CosineAnnealingParamScheduler):
    """Cosine-anneal the momentum to ``eta_min`` over ``T_max`` steps.

    Args: see :class:`CosineAnnealingParamScheduler` (without
    ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class ExponentialMomentum(MomentumSchedulerMixin, ExponentialParamScheduler):
    """Multiply the momentum by ``gamma`` every step.

    Args: see :class:`ExponentialParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class LinearMomentum(MomentumSchedulerMixin, LinearParamScheduler):
    """Scale the momentum by a factor moving linearly from ``start_factor``
    to ``end_factor``.

    Args: see :class:`LinearParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class MultiStepMomentum(MomentumSchedulerMixin, MultiStepParamScheduler):
    """Multiply the momentum by ``gamma`` at each milestone.

    Args: see :class:`MultiStepParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class StepMomentum(MomentumSchedulerMixin, StepParamScheduler):
    """Multiply the momentum by ``gamma`` every ``step_size`` steps.

    Args: see :class:`StepParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class PolyMomentum(MomentumSchedulerMixin, PolyParamScheduler):
    """Polynomial decay of the momentum to ``eta_min``.

    Args: see :class:`PolyParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class CosineRestartMomentum(MomentumSchedulerMixin,
                            CosineRestartParamScheduler):
    """Cosine annealing of the momentum with restarts.

    Args: see :class:`CosineRestartParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class ReduceOnPlateauMomentum(MomentumSchedulerMixin,
                              ReduceOnPlateauParamScheduler):
    """Reduce the momentum when a validation metric stops improving.

    Args: see :class:`ReduceOnPlateauParamScheduler` (without
    ``param_name``).
    """
