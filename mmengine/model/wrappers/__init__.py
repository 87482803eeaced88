"""Model wrappers for distributed training.

``MMFullyShardedDataParallel`` is a lazy stand-in (see ``lazy_class``):
torch's FSDP is only imported when it is first used.
"""
from mmengine.registry import MODEL_WRAPPERS

from .distributed import MMDistributedDataParallel
from .lazy_class import lazy_class
from .seperate_distributed import MMSeparateDistributedDataParallel
from .utils import is_model_wrapper

MMFullyShardedDataParallel = lazy_class(
    'mmengine.model.wrappers.fully_sharded_distributed',
    'MMFullyShardedDataParallel',
    doc='FullyShardedDataParallel with the train/val/test_step API; see '
    '``mmengine.model.wrappers.fully_sharded_distributed``. (Stand-in that '
    'imports torch FSDP on first use.)')
# Registered now so that ``model_wrapper_cfg=dict(type=...)`` finds it; the
# real class replaces this entry when its module is imported.
if 'MMFullyShardedDataParallel' not in MODEL_WRAPPERS.module_dict:
    MODEL_WRAPPERS.register_module(module=MMFullyShardedDataParallel)

__all__ = [
    'MMDistributedDataParallel', 'MMSeparateDistributedDataParallel',
    'MMFullyShardedDataParallel', 'is_model_wrapper'
]
