"""Optimizer registration and ``build_optim_wrapper``.

Every ``torch.optim`` optimizer is registered in ``OPTIMIZERS`` at import.
Optimizers of optional packages (dadaptation, lion-pytorch, Sophia,
bitsandbytes, transformers, torch_npu) are registered only when the package is
installed, and lazily: the package is imported the first time such an
optimizer is built, so ``import mmengine.optim`` stays fast.
"""
import copy
import importlib
import importlib.util
import inspect
from typing import Callable, List, Union

import torch
import torch.nn as nn

from mmengine.config import Config, ConfigDict
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

__all__ = [
    'build_optim_wrapper', 'register_torch_optimizers', 'TORCH_OPTIMIZERS',
    'DADAPTATION_OPTIMIZERS', 'LION_OPTIMIZERS', 'SOPHIA_OPTIMIZERS',
    'BITSANDBYTES_OPTIMIZERS', 'TRANSFORMERS_OPTIMIZERS',
    'NPU_OPTIMIZERS'
]


def register_torch_optimizers() -> List[str]:
    """Register every optimizer class of ``torch.optim`` in ``OPTIMIZERS``.

    Returns:
        list[str]: The registered names.
    """
    names = []
    for name in dir(torch.optim):
        if name.startswith('_'):
            continue
        obj = getattr(torch.optim, name)
        if inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer):
            if name not in OPTIMIZERS.module_dict:
                OPTIMIZERS.register_module(name=name, module=obj)
            names.append(name)
    return names


TORCH_OPTIMIZERS = register_torch_optimizers()


def _lazy_optimizer(module_name: str, attr: str) -> Callable:
    """A builder that imports ``module_name.attr`` on first use."""

    def build(*args, **kwargs):
        module = importlib.import_module(module_name)
        return getattr(module, attr)(*args, **kwargs)

    build.__name__ = attr
    build.__qualname__ = attr
    build.__doc__ = (f'Build ``{module_name}.{attr}`` (imported on first '
                     'use).')
    return build


def _register_optional(package: str, module_name: str, names: List[str],
                       force: bool = False) -> List[str]:
    """Register ``names`` from ``module_name`` if ``package`` is installed."""
    try:
        installed = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        return []
    registered = []
    for name in names:
        if name in OPTIMIZERS.module_dict and not force:
            continue
        OPTIMIZERS.register_module(
            name=name, module=_lazy_optimizer(module_name, name), force=force)
        registered.append(name)
    return registered


DADAPTATION_OPTIMIZERS = _register_optional(
    'dadaptation', 'dadaptation',
    ['DAdaptAdaGrad', 'DAdaptAdam', 'DAdaptSGD'])
LION_OPTIMIZERS = _register_optional('lion_pytorch', 'lion_pytorch', ['Lion'])
SOPHIA_OPTIMIZERS = _register_optional('Sophia', 'Sophia',
                                       ['SophiaG', 'Sophia'])
BITSANDBYTES_OPTIMIZERS = _register_optional(
    'bitsandbytes', 'bitsandbytes.optim', [
        'AdamW8bit', 'Adam8bit', 'Adagrad8bit', 'PagedAdam8bit',
        'PagedAdamW8bit', 'LAMB8bit', 'LARS8bit', 'RMSprop8bit', 'Lion8bit',
        'PagedLion8bit', 'SGD8bit'
    ])
# ``torch.optim.Adafactor`` exists in recent torch; the transformers one keeps
# its original name for configs written for it, so it replaces torch's.
TRANSFORMERS_OPTIMIZERS = _register_optional('transformers',
                                             'transformers.optimization',
                                             ['Adafactor'],
                                             force=True)
NPU_OPTIMIZERS = _register_optional('torch_npu', 'torch_npu.optim', [
    'NpuFusedAdadelta', 'NpuFusedAdam', 'NpuFusedAdamP', 'NpuFusedAdamW',
    'NpuFusedBertAdam', 'NpuFusedLamb', 'NpuFusedRMSprop',
    'NpuFusedRMSpropTF', 'NpuFusedSGD'
])


def build_optim_wrapper(model: nn.Module,
                        cfg: Union[dict, Config, ConfigDict]):
    """Build an optimizer wrapper for ``model`` from ``cfg``.

    ``cfg`` is an optimizer-wrapper config such as
    ``dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01))``. The
    keys ``constructor`` (default ``'DefaultOptimWrapperConstructor'``) and
    ``paramwise_cfg`` select and configure the constructor, which is built
    from ``OPTIM_WRAPPER_CONSTRUCTORS`` and then called with ``model``.

    Args:
        model (nn.Module): The model whose parameters are optimized.
        cfg (dict | Config | ConfigDict): The optimizer-wrapper config.

    Returns:
        OptimWrapper: The built wrapper (whatever the constructor returns,
        e.g. an ``OptimWrapperDict`` for multi-optimizer constructors).
    """
    if not isinstance(cfg, dict):
        raise TypeError('build_optim_wrapper: cfg must be a dict, but got '
                        f'{type(cfg).__name__}')
    # Copy the config, but keep an already built optimizer by reference
    # (deep-copying it would detach it from the model's parameters).
    optim_wrapper_cfg = {
        key: value if isinstance(value, torch.optim.Optimizer) else
        copy.deepcopy(value)
        for key, value in cfg.items()
    }
    constructor_type = optim_wrapper_cfg.pop('constructor',
                                             'DefaultOptimWrapperConstructor')
    paramwise_cfg = optim_wrapper_cfg.pop('paramwise_cfg', None)
    constructor_cfg = dict(
        type=constructor_type,
        optim_wrapper_cfg=optim_wrapper_cfg,
        paramwise_cfg=paramwise_cfg)
    optim_wrapper_constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        constructor_cfg)
    return optim_wrapper_constructor(model)
