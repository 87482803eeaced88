"""Registries: map names in configs to classes and functions, and build them.

``import mmengine.registry`` stays light (no torch, no rich): the packages
that fill the root registries are imported on first lookup.
"""
from .build_functions import (build_from_cfg, build_model_from_cfg,
                              build_runner_from_cfg, build_scheduler_from_cfg)
from .default_scope import DefaultScope
from .registry import Registry
from .root import (DATA_SAMPLERS, DATA_TRANSFORMS, DATASETS, EVALUATOR,
                   FUNCTIONS, HOOKS, INFERENCERS, LOG_PROCESSORS, LOOPS,
                   METRICS, MODEL_WRAPPERS, MODELS, OPTIM_WRAPPER,
                   OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS,
                   PARAM_SCHEDULERS, RUNNER_CONSTRUCTORS, RUNNERS, STRATEGIES,
                   TASK_UTILS, TRANSFORMS, VISBACKENDS, VISUALIZERS,
                   WEIGHT_INITIALIZERS)
from .utils import (count_registered_modules, init_default_scope,
                    traverse_registry_tree)

__all__ = [
    'Registry', 'DefaultScope', 'build_from_cfg', 'build_model_from_cfg',
    'build_runner_from_cfg', 'build_scheduler_from_cfg',
    'count_registered_modules', 'init_default_scope',
    'traverse_registry_tree', 'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS',
    'HOOKS', 'STRATEGIES', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
    'DATA_TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'FUNCTIONS'
]
