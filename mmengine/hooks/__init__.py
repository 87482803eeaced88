"""Hooks: the ``Hook`` base class and MMEngine's built-in hooks.

Importing this package registers every built-in hook in ``HOOKS``.
"""
from .check_invalid_loss_hook import CheckInvalidLossHook, InvalidLossError
from .checkpoint_hook import CheckpointHook
from .early_stopping_hook import EarlyStoppingHook
from .ema_hook import EMAHook
from .empty_cache_hook import EmptyCacheHook
from .hook import DATA_BATCH, Hook
from .iter_timer_hook import IterTimerHook
from .logger_hook import LoggerHook
from .naive_visualization_hook import NaiveVisualizationHook
from .param_scheduler_hook import ParamSchedulerHook
from .profiler_hook import NPUProfilerHook, ProfilerHook
from .runtime_info_hook import RuntimeInfoHook
from .sampler_seed_hook import DistSamplerSeedHook
from .sync_buffer_hook import SyncBufferHook, SyncBuffersHook
from .test_time_aug_hook import PrepareTTAHook

__all__ = [
    'Hook', 'DATA_BATCH', 'RuntimeInfoHook', 'IterTimerHook',
    'DistSamplerSeedHook', 'LoggerHook', 'ParamSchedulerHook',
    'CheckpointHook', 'EMAHook', 'EmptyCacheHook', 'SyncBuffersHook',
    'SyncBufferHook', 'ProfilerHook', 'NPUProfilerHook', 'EarlyStoppingHook',
    'NaiveVisualizationHook', 'PrepareTTAHook', 'CheckInvalidLossHook',
    'InvalidLossError'
]
