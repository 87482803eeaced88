"""Optimization: optimizer wrappers, their constructors and schedulers."""
from . import optimizer as _optimizer
from . import scheduler as _scheduler
from .optimizer import *  # noqa: F401,F403
from .scheduler import *  # noqa: F401,F403
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)

__all__ = ['OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIM_WRAPPERS', 'OPTIMIZERS'
           ] + list(_optimizer.__all__) + list(_scheduler.__all__)


def __getattr__(name: str):
    if name == 'ZeroRedundancyOptimizer':
        return getattr(_optimizer, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
