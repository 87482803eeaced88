"""Optimizers, optimizer wrappers and their constructors."""
from .amp_optimizer_wrapper import AmpOptimWrapper
from .apex_optimizer_wrapper import ApexOptimWrapper
from .builder import (BITSANDBYTES_OPTIMIZERS, DADAPTATION_OPTIMIZERS,
                      LION_OPTIMIZERS, NPU_OPTIMIZERS, SOPHIA_OPTIMIZERS,
                      TORCH_OPTIMIZERS, TRANSFORMERS_OPTIMIZERS,
                      build_optim_wrapper, register_torch_optimizers)
from .default_constructor import DefaultOptimWrapperConstructor
from .optimizer_wrapper import OptimWrapper
from .optimizer_wrapper_dict import OptimWrapperDict
from .zero_optimizer import register_zero_optimizer

register_zero_optimizer()

__all__ = [
    'OptimWrapper', 'AmpOptimWrapper', 'ApexOptimWrapper', 'OptimWrapperDict',
    'DefaultOptimWrapperConstructor', 'build_optim_wrapper',
    'register_torch_optimizers', 'TORCH_OPTIMIZERS', 'DADAPTATION_OPTIMIZERS',
    'LION_OPTIMIZERS', 'SOPHIA_OPTIMIZERS', 'BITSANDBYTES_OPTIMIZERS',
    'TRANSFORMERS_OPTIMIZERS', 'NPU_OPTIMIZERS'
]


def __getattr__(name: str):
    # ZeroRedundancyOptimizer needs torch.distributed.optim (slow import),
    # so the class is loaded on first access.
    if name == 'ZeroRedundancyOptimizer':
        from .zero_optimizer import get_zero_redundancy_optimizer
        return get_zero_redundancy_optimizer()
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
