"""Recognising model wrappers (DDP and friends)."""
import sys

import torch.nn as nn

from mmengine.registry import MODEL_WRAPPERS, Registry

__all__ = ['is_model_wrapper']


def _registered_classes(registry: Registry) -> tuple:
    # Registries may also hold factory functions; isinstance needs types.
    return tuple(v for v in registry.module_dict.values()
                 if isinstance(v, type))


def is_model_wrapper(model: nn.Module,
                     registry: Registry = MODEL_WRAPPERS) -> bool:
    """Whether ``model`` is a model wrapper.

    A wrapper is an instance of any class registered in ``registry``
    (``MODEL_WRAPPERS`` by default) or in one of its child registries, so
    wrappers defined by downstream repositories are recognised too. PyTorch's
    ``DistributedDataParallel`` and ``DataParallel`` are registered, and
    ``FullyShardedDataParallel`` is recognised once it has been imported.

    Callers use it to reach the wrapped model as ``model.module``.

    Args:
        model (nn.Module): The model to check.
        registry (Registry): The registry to search. Defaults to
            ``MODEL_WRAPPERS``.

    Returns:
        bool: True if ``model`` is a model wrapper.
    """
    if isinstance(model, _registered_classes(registry)):
        return True
    if registry is MODEL_WRAPPERS:
        # torch FSDP is imported lazily; if nobody imported it, no model can
        # be an FSDP instance, so the check costs nothing in that case.
        fsdp = sys.modules.get('torch.distributed.fsdp')
        fsdp_cls = getattr(fsdp, 'FullyShardedDataParallel', None)
        if fsdp_cls is not None and isinstance(model, fsdp_cls):
            return True
    return any(
        is_model_wrapper(model, child)
        for child in registry.children.values())
