"""``ZeroRedundancyOptimizer``: ZeRO stage-1 optimizer-state sharding.

A thin wrapper of ``torch.distributed.optim.ZeroRedundancyOptimizer`` that
takes the inner optimizer by name (``optimizer_type='SGD'``) so it can be
built from a config, and whose ``state_dict`` is gathered on rank 0.

``torch.distributed.optim`` is slow to import, so the class is created on
first use: ``OPTIMIZERS`` holds a small builder under the same name until
then, and ``mmengine.optim.ZeroRedundancyOptimizer`` loads the class.
"""
from typing import Any, Optional

from mmengine.registry import OPTIMIZERS

__all__ = ['register_zero_optimizer', 'get_zero_redundancy_optimizer']

_ZERO_CLS: Optional[type] = None


def get_zero_redundancy_optimizer() -> type:
    """Return the ``ZeroRedundancyOptimizer`` class (created once)."""
    global _ZERO_CLS
    if _ZERO_CLS is not None:
        return _ZERO_CLS

    import torch
    import torch.distributed as dist
    if not dist.is_available():
        raise ImportError('ZeroRedundancyOptimizer needs torch.distributed, '
                          'which this PyTorch build does not provide')
    import warnings
    with warnings.catch_warnings():
        # torch.distributed.optim scripts helpers with the deprecated
        # torch.jit.script at import; that noise is not the user's concern.
        warnings.simplefilter('ignore', DeprecationWarning)
        from torch.distributed.optim import \
            ZeroRedundancyOptimizer as _TorchZeroRedundancyOptimizer

    from mmengine.dist import is_main_process

    class ZeroRedundancyOptimizer(_TorchZeroRedundancyOptimizer):
        """ZeRO optimizer whose inner optimizer is chosen by name.

        Args:
            params: Parameters or param-group dicts to optimize.
            optimizer_type (str): Name of the inner optimizer, looked up in
                ``OPTIMIZERS`` (e.g. ``'SGD'``, ``'AdamW'``).
            **kwargs: Passed to ``torch.distributed.optim.
                ZeroRedundancyOptimizer`` and the inner optimizer (``lr``,
                ``weight_decay``, ...).
        """

        def __init__(self, params, optimizer_type: str, **kwargs) -> None:
            optimizer_class = OPTIMIZERS.get(optimizer_type) if isinstance(
                optimizer_type, str) else optimizer_type
            if optimizer_class is None or not (
                    isinstance(optimizer_class, type)
                    and issubclass(optimizer_class, torch.optim.Optimizer)):
                raise KeyError(
                    'ZeroRedundancyOptimizer: optimizer_type '
                    f'{optimizer_type!r} is not an optimizer class '
                    'registered in OPTIMIZERS')
            super().__init__(params, optimizer_class, **kwargs)

        def state_dict(self) -> dict:
            """Gather the sharded state; rank 0 returns it, others ``{}``."""
            self.consolidate_state_dict()
            return super().state_dict() if is_main_process() else {}

    # Make the class findable (repr, pickle) as a module-level name.
    ZeroRedundancyOptimizer.__qualname__ = 'ZeroRedundancyOptimizer'
    ZeroRedundancyOptimizer.__module__ = __name__
    _ZERO_CLS = ZeroRedundancyOptimizer
    OPTIMIZERS.register_module(
        name='ZeroRedundancyOptimizer', module=_ZERO_CLS, force=True)
    return _ZERO_CLS


def _build_zero_redundancy_optimizer(params, optimizer_type: str,
                                     **kwargs: Any):
    """Build a ``ZeroRedundancyOptimizer`` (imports it on first use)."""
    return get_zero_redundancy_optimizer()(params, optimizer_type, **kwargs)


def register_zero_optimizer() -> None:
    """Register the lazy ``ZeroRedundancyOptimizer`` builder in OPTIMIZERS."""
    if 'ZeroRedundancyOptimizer' not in OPTIMIZERS.module_dict:
        _build_zero_redundancy_optimizer.__name__ = 'ZeroRedundancyOptimizer'
        OPTIMIZERS.register_module(
            name='ZeroRedundancyOptimizer',
            module=_build_zero_redundancy_optimizer)


def __getattr__(name: str):
    if name == 'ZeroRedundancyOptimizer':
        return get_zero_redundancy_optimizer()
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
