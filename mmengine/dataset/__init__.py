"""Datasets, dataset wrappers, samplers, collate functions and ``Compose``."""
from .base_dataset import BaseDataset, Compose, force_full_init
from .dataset_wrapper import ClassBalancedDataset, ConcatDataset, RepeatDataset
from .sampler import DefaultSampler, InfiniteSampler
from .utils import (COLLATE_FUNCTIONS, default_collate, pseudo_collate,
                    worker_init_fn)

__all__ = [
    'BaseDataset', 'Compose', 'force_full_init', 'ClassBalancedDataset',
    'ConcatDataset', 'RepeatDataset', 'DefaultSampler', 'InfiniteSampler',
    'worker_init_fn', 'pseudo_collate', 'default_collate', 'COLLATE_FUNCTIONS'
]
