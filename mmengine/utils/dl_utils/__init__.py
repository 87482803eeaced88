"""Utilities that need PyTorch (importing this package imports torch)."""
from .collect_env import collect_env
from .hub import load_url
from .misc import has_batch_norm, is_norm, mmcv_full_available, tensor2imgs
from .parrots_wrapper import TORCH_VERSION, get_build_config
from .setup_env import set_multi_processing
from .time_counter import TimeCounter
from .torch_ops import torch_meshgrid
from .trace import is_jit_tracing

__all__ = [
    'collect_env', 'load_url', 'has_batch_norm', 'is_norm',
    'mmcv_full_available', 'tensor2imgs', 'TORCH_VERSION',
    'get_build_config', 'set_multi_processing', 'TimeCounter',
    'torch_meshgrid', 'is_jit_tracing'
]
