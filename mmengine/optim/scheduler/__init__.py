"""Parameter schedulers (learning rate, momentum, any param-group key).

Every class is registered in ``PARAM_SCHEDULERS``. See
:mod:`.param_scheduler` for the shared behaviour (``begin``/``end``,
``by_epoch``, chaining, ``state_dict``, ``build_iter_from_epoch``).
"""
from .annealing_schedulers import (CosineAnnealingParamScheduler,
                                   CosineRestartParamScheduler,
                                   OneCycleParamScheduler, PolyParamScheduler)
from .lr_scheduler import (ConstantLR, CosineAnnealingLR, CosineRestartLR,
                           ExponentialLR, LinearLR, MultiStepLR, OneCycleLR,
                           PolyLR, ReduceOnPlateauLR, StepLR)
from .momentum_scheduler import (ConstantMomentum, CosineAnnealingMomentum,
                                 CosineRestartMomentum, ExponentialMomentum,
                                 LinearMomentum, MultiStepMomentum,
                                 PolyMomentum, ReduceOnPlateauMomentum,
                                 StepMomentum)
from .multiplicative_schedulers import (ConstantParamScheduler,
                                        ExponentialParamScheduler,
                                        LinearParamScheduler,
                                        MultiStepParamScheduler,
                                        StepParamScheduler)
from .param_scheduler import _ParamScheduler
from .reduce_on_plateau import ReduceOnPlateauParamScheduler

__all__ = [
    'ConstantLR', 'CosineAnnealingLR', 'ExponentialLR', 'LinearLR',
    'MultiStepLR', 'StepLR', 'ConstantMomentum', 'CosineAnnealingMomentum',
    'ExponentialMomentum', 'LinearMomentum', 'MultiStepMomentum',
    'StepMomentum', 'ConstantParamScheduler', 'CosineAnnealingParamScheduler',
    'ExponentialParamScheduler', 'LinearParamScheduler',
    'MultiStepParamScheduler', 'StepParamScheduler', '_ParamScheduler',
    'PolyParamScheduler', 'PolyLR', 'PolyMomentum', 'OneCycleParamScheduler',
    'OneCycleLR', 'CosineRestartParamScheduler', 'CosineRestartLR',
    'CosineRestartMomentum', 'ReduceOnPlateauParamScheduler',
    'ReduceOnPlateauLR', 'ReduceOnPlateauMomentum'
]
