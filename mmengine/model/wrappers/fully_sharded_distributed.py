"""``MMFullyShardedDataParallel``: torch FSDP with the step API.

Importing this module imports ``torch.distributed.fsdp`` (slow); the rest of
``mmengine.model`` exposes a lazy stand-in under the same name.
"""
import functools
from typing import Any, Callable, Dict, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.fsdp import (BackwardPrefetch, CPUOffload,
                                    FullyShardedDataParallel, MixedPrecision,
                                    ShardingStrategy)

from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS
from ..utils import run_forward
from .distributed import wrapper_train_step

__all__ = ['MMFullyShardedDataParallel']

MODEL_WRAPPERS.register_module(module=FullyShardedDataParallel, force=True)


def _enum(value: Any, enum_cls: type, arg: str) -> Any:
    if value is None or isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        try:
            return enum_cls[value.upper()]
        except KeyError:
            raise ValueError(
                f'MMFullyShardedDataParallel: unknown {arg} "{value}"; '
                f'expected one of {[e.name for e in enum_cls]}') from None
    raise TypeError(f'MMFullyShardedDataParallel: {arg} must be a str, '
                    f'{enum_cls.__name__} or None, but got {type(value)}')


def _function(value: Any, arg: str) -> Optional[Callable]:
    """Resolve a callable given as a name, a ``dict(type=name, **kwargs)``
    config (kwargs bound with ``functools.partial``) or a callable."""
    if value is None or (callable(value) and not isinstance(value, str)):
        return value
    kwargs: Dict[str, Any] = {}
    if isinstance(value, dict):
        kwargs = dict(value)
        if 'type' not in kwargs:
            raise KeyError(f'MMFullyShardedDataParallel: the {arg} config '
                           f'{value} has no "type" key')
        value = kwargs.pop('type')
    if isinstance(value, str):
        name = value
        value = FUNCTIONS.get(name)
        if value is None:  # torch's own policies, e.g. size_based_...
            import torch.distributed.fsdp.wrap as fsdp_wrap
            value = getattr(fsdp_wrap, name, None)
        if value is None:
            raise KeyError(f'MMFullyShardedDataParallel: {arg} "{name}" is '
                           'neither registered in FUNCTIONS nor a function of '
                           'torch.distributed.fsdp.wrap')
    if not callable(value):
        raise TypeError(f'MMFullyShardedDataParallel: {arg} must be a '
                        f'callable, a name or a dict config, but got '
                        f'{type(value)}')
    return functools.partial(value, **kwargs) if kwargs else value


def _mixed_precision(value: Any) -> Optional[MixedPrecision]:
    if value is None or isinstance(value, MixedPrecision):
        return value
    if not isinstance(value, dict):
        raise TypeError('MMFullyShardedDataParallel: mixed_precision must be '
                        'a dict, MixedPrecision or None, but got '
                        f'{type(value)}')
    cfg = dict(value)
    for key in ('param_dtype', 'reduce_dtype', 'buffer_dtype'):
        dtype = cfg.get(key)
        if isinstance(dtype, str):
            resolved = getattr(torch, dtype, None)
            if not isinstance(resolved, torch.dtype):
                raise ValueError(f'MMFullyShardedDataParallel: '
                                 f'mixed_precision.{key}="{dtype}" is not a '
                                 'torch dtype (e.g. "float16", "bfloat16")')
            cfg[key] = resolved
    return MixedPrecision(**cfg)


def _cpu_offload(value: Any) -> Optional[CPUOffload]:
    if value is None or isinstance(value, CPUOffload):
        return value
    if isinstance(value, bool):
        return CPUOffload(offload_params=value)
    if isinstance(value, dict):
        return CPUOffload(**value)
    raise TypeError('MMFullyShardedDataParallel: cpu_offload must be a bool, '
                    f'dict, CPUOffload or None, but got {type(value)}')


@MODEL_WRAPPERS.register_module(force=True)
class MMFullyShardedDataParallel(FullyShardedDataParallel):
    """``FullyShardedDataParallel`` with the ``train/val/test_step`` API.

    Parameters, gradients and optimizer states are sharded over the ranks,
    so every forward (training **and** prediction) must go through FSDP's
    forward, which gathers the shards. Built by the Runner from
    ``model_wrapper_cfg=dict(type='MMFullyShardedDataParallel', ...)``;
    config-friendly values are accepted for the FSDP arguments:

    Args:
        module (nn.Module): The model (a ``BaseModel``).
        process_group (optional): Process group to shard over. Defaults to
            the world group.
        sharding_strategy (str | ShardingStrategy, optional): e.g.
            ``'FULL_SHARD'``, ``'SHARD_GRAD_OP'``, ``'NO_SHARD'``.
        cpu_offload (bool | dict | CPUOffload, optional): ``True`` offloads
            parameters to CPU; a dict holds ``CPUOffload`` arguments.
        auto_wrap_policy (str | dict | callable, optional): A function name
            (from ``FUNCTIONS`` or ``torch.distributed.fsdp.wrap``), a config
            ``dict(type=name, **kwargs)`` or a callable.
        backward_prefetch (str | BackwardPrefetch, optional): e.g.
            ``'BACKWARD_PRE'``.
        mixed_precision (dict | MixedPrecision, optional): dtypes may be
            given as strings, e.g. ``dict(param_dtype='float16')``.
        param_init_fn (str | dict | callable, optional): Like
            ``auto_wrap_policy``.
        use_orig_params (bool): Keep the original parameters visible (needed
            for per-parameter optimizer settings). Defaults to True.
        **kwargs: Other ``FullyShardedDataParallel`` arguments. ``device_id``
            defaults to the current CUDA device, or the CPU without CUDA.

    Raises:
        RuntimeError: If the default process group is not initialised.
    """

    def __init__(self,
                 module: nn.Module,
                 process_group: Optional[Any] = None,
                 sharding_strategy: Union[str, ShardingStrategy,
                                          None] = None,
                 cpu_offload: Union[bool, dict, CPUOffload, None] = None,
                 auto_wrap_policy: Union[str, dict, Callable, None] = None,
                 backward_prefetch: Union[str, BackwardPrefetch,
                                          None] = None,
                 mixed_precision: Union[dict, MixedPrecision, None] = None,
                 param_init_fn: Union[str, dict, Callable, None] = None,
                 use_orig_params: bool = True,
                 **kwargs) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError('MMFullyShardedDataParallel expects an nn.Module '
                            f'to wrap, but got {type(module)}')
        # Convert (and validate) config values before the distributed check,
        # so a config error is reported as such.
        fsdp_kwargs = dict(
            process_group=process_group,
            sharding_strategy=_enum(sharding_strategy, ShardingStrategy,
                                    'sharding_strategy'),
            cpu_offload=_cpu_offload(cpu_offload),
            auto_wrap_policy=_function(auto_wrap_policy, 'auto_wrap_policy'),
            backward_prefetch=_enum(backward_prefetch, BackwardPrefetch,
                                    'backward_prefetch'),
            mixed_precision=_mixed_precision(mixed_precision),
            param_init_fn=_function(param_init_fn, 'param_init_fn'),
            use_orig_params=use_orig_params)
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                'MMFullyShardedDataParallel needs distributed mode: call '
                'mmengine.dist.init_dist (or run the Runner with a launcher '
                'other than "none") before building it')
        if kwargs.get('device_id') is None:
            kwargs['device_id'] = (
                torch.cuda.current_device()
                if torch.cuda.is_available() else torch.device('cpu'))
        super().__init__(module=module, **fsdp_kwargs, **kwargs)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """Preprocess, run the loss forward through FSDP, update.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): Updates the parameters.

        Returns:
            dict[str, torch.Tensor]: The ``log_vars`` of ``parse_losses``.
        """
        return wrapper_train_step(self, data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Predict through FSDP's forward (which gathers the shards)."""
        data = self.module.data_preprocessor(data, False)
        return self._run_forward(data, mode='predict')

    # FSDP must gather the shards for testing too: same path as val_step.
    test_step = val_step

    def _run_forward(self, data: Union[dict, tuple, list], mode: str) -> Any:
        """Unpack ``data`` into FSDP's forward with ``mode``."""
        return run_forward(self, data, mode)
