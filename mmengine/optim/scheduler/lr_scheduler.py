"""Learning-rate schedulers: the generic schedulers with ``param_name='lr'``.

Each ``XxxLR`` takes the arguments of ``XxxParamScheduler`` except
``param_name``, e.g. ``MultiStepLR(optimizer, milestones=[8, 11], gamma=0.1)``.
"""
from typing import Any

from mmengine.registry import PARAM_SCHEDULERS
from .annealing_schedulers import (CosineAnnealingParamScheduler,
                                   CosineRestartParamScheduler,
                                   OneCycleParamScheduler, PolyParamScheduler)
from .multiplicative_schedulers import (ConstantParamScheduler,
                                        ExponentialParamScheduler,
                                        LinearParamScheduler,
                                        MultiStepParamScheduler,
                                        StepParamScheduler)
from .reduce_on_plateau import ReduceOnPlateauParamScheduler

__all__ = [
    'LRSchedulerMixin', 'ConstantLR', 'CosineAnnealingLR', 'CosineRestartLR',
    'ExponentialLR', 'LinearLR', 'MultiStepLR', 'OneCycleLR', 'PolyLR',
    'ReduceOnPlateauLR', 'StepLR'
]


class LRSchedulerMixin:
    """Mixin fixing ``param_name='lr'``: put it before a parameter scheduler
    in the bases, ``class XxxLR(LRSchedulerMixin, XxxParamScheduler)``."""

    def __init__(self, optimizer: Any, *args, **kwargs):
        super().__init__(optimizer, 'lr', *args, **kwargs)

    # Lets ``build_iter_from_epoch`` see the wrapped class's arguments.
    __init__._fixes_param_name = True  # type: ignore[attr-defined]


@PARAM_SCHEDULERS.register_module()
class ConstantLR(LRSchedulerMixin, ConstantParamScheduler):
    """Multiply the learning rate by ``factor`` until ``end - 1``.

    Args: see :class:`ConstantParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingLR(LRSchedulerMixin, CosineAnnealingParamScheduler):
    """Cosine-anneal the learning rate to ``eta_min`` over ``T_max`` steps.

    Args: see :class:`CosineAnnealingParamScheduler` (without
    ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class ExponentialLR(LRSchedulerMixin, ExponentialParamScheduler):
    """Multiply the learning rate by ``gamma`` every step.

    Args: see :class:`ExponentialParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class LinearLR(LRSchedulerMixin, LinearParamScheduler):
    """Scale the learning rate by a factor moving linearly from
    ``start_factor`` to ``end_factor`` (e.g. a warm-up).

    Args: see :class:`LinearParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class MultiStepLR(LRSchedulerMixin, MultiStepParamScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone.

    Args: see :class:`MultiStepParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class StepLR(LRSchedulerMixin, StepParamScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    Args: see :class:`StepParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class PolyLR(LRSchedulerMixin, PolyParamScheduler):
    """Polynomial decay of the learning rate to ``eta_min``.

    Args: see :class:`PolyParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class OneCycleLR(LRSchedulerMixin, OneCycleParamScheduler):
    """The 1cycle learning-rate policy.

    Args: see :class:`OneCycleParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class CosineRestartLR(LRSchedulerMixin, CosineRestartParamScheduler):
    """Cosine annealing of the learning rate with restarts.

    Args: see :class:`CosineRestartParamScheduler` (without ``param_name``).
    """


@PARAM_SCHEDULERS.register_module()
class ReduceOnPlateauLR(LRSchedulerMixin, ReduceOnPlateauParamScheduler):
    """Reduce the learning rate when a validation metric stops improving.

    Args: see :class:`ReduceOnPlateauParamScheduler` (without
    ``param_name``).
    """
