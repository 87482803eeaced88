"""Runner, loops and their helpers (checkpoint I/O, log processing, hook
priorities, autocast, activation checkpointing)."""
from . import activation_checkpointing as _activation_checkpointing
from . import amp as _amp
from . import checkpoint as _checkpoint
from . import log_processor as _log_processor
from . import priority as _priority
from .activation_checkpointing import *  # noqa: F401,F403
from .amp import *  # noqa: F401,F403
from .base_loop import BaseLoop
from .checkpoint import *  # noqa: F401,F403
from .log_processor import *  # noqa: F401,F403
from .loops import EpochBasedTrainLoop, IterBasedTrainLoop, TestLoop, ValLoop
from .priority import *  # noqa: F401,F403
from .runner import Runner
from .utils import set_random_seed

__all__ = [
    'Runner', 'BaseLoop', 'EpochBasedTrainLoop', 'IterBasedTrainLoop',
    'ValLoop', 'TestLoop', 'set_random_seed'
]
for _module in (_checkpoint, _log_processor, _priority, _amp,
                _activation_checkpointing):
    __all__ += [n for n in getattr(_module, '__all__', []) if n not in __all__]
del _module
