"""MMEngine: a training engine for PyTorch.

Top-level names are resolved lazily (PEP 562) so that ``import mmengine``
stays cheap and does not import torch.
"""
import importlib
from typing import Any

from .version import __version__, version_info

# public name -> submodule that defines it
_LAZY_ATTRS = {
    # config
    'Config': 'mmengine.config',
    'ConfigDict': 'mmengine.config',
    'DictAction': 'mmengine.config',
    'read_base': 'mmengine.config',
    # fileio
    'load': 'mmengine.fileio',
    'dump': 'mmengine.fileio',
    'register_handler': 'mmengine.fileio',
    'BaseFileHandler': 'mmengine.fileio',
    'JsonHandler': 'mmengine.fileio',
    'PickleHandler': 'mmengine.fileio',
    'YamlHandler': 'mmengine.fileio',
    'list_from_file': 'mmengine.fileio',
    'dict_from_file': 'mmengine.fileio',
    'FileClient': 'mmengine.fileio',
    'get_file_backend': 'mmengine.fileio',
    # logging
    'MMLogger': 'mmengine.logging',
    'print_log': 'mmengine.logging',
    'MessageHub': 'mmengine.logging',
    'HistoryBuffer': 'mmengine.logging',
    # registry
    'Registry': 'mmengine.registry',
    'DefaultScope': 'mmengine.registry',
    'build_from_cfg': 'mmengine.registry',
    'init_default_scope': 'mmengine.registry',
    'build_model_from_cfg': 'mmengine.registry',
    'build_runner_from_cfg': 'mmengine.registry',
    'build_scheduler_from_cfg': 'mmengine.registry',
    'count_registered_modules': 'mmengine.registry',
    'traverse_registry_tree': 'mmengine.registry',
    # utils
    'ManagerMixin': 'mmengine.utils',
    'ManagerMeta': 'mmengine.utils',
    'is_installed': 'mmengine.utils',
    'digit_version': 'mmengine.utils',
    'mkdir_or_exist': 'mmengine.utils',
    'scandir': 'mmengine.utils',
    'is_list_of': 'mmengine.utils',
    'is_seq_of': 'mmengine.utils',
    'is_str': 'mmengine.utils',
    'track_progress': 'mmengine.utils',
    'track_iter_progress': 'mmengine.utils',
    'track_parallel_progress': 'mmengine.utils',
    'ProgressBar': 'mmengine.utils',
    'Timer': 'mmengine.utils',
    # runner and hooks
    'Runner': 'mmengine.runner',
    'load_checkpoint': 'mmengine.runner',
    'save_checkpoint': 'mmengine.runner',
    'Hook': 'mmengine.hooks',
}

# Root registries are exported at top level too (``from mmengine import MODELS``).
_REGISTRY_NAMES = (
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'STRATEGIES',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'FUNCTIONS', 'OPTIM_WRAPPER', 'DATA_TRANSFORMS')
_LAZY_ATTRS.update({name: 'mmengine.registry' for name in _REGISTRY_NAMES})

_SUBMODULES = frozenset({
    'analysis', 'config', 'dataset', 'device', 'dist', 'evaluator', 'fileio',
    'hooks', 'hub', 'infer', 'logging', 'model', 'optim', 'registry',
    'runner', 'structures', 'testing', 'utils', 'visualization'
})

__all__ = ['__version__', 'version_info', *_LAZY_ATTRS]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f'mmengine.{name}')
    module = _LAZY_ATTRS.get(name)
    if module is None:
        # Every public name of ``mmengine.utils`` is also a top-level name,
        # as upstream's ``from .utils import *`` made it; the import is cheap.
        utils = importlib.import_module('mmengine.utils')
        if name not in getattr(utils, '__all__', ()):
            raise AttributeError(
                f"module 'mmengine' has no attribute {name!r}")
        module = 'mmengine.utils'
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
