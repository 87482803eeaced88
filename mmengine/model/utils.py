"""Model utilities: batch stacking, SyncBN conversion, unused-parameter
detection and dict merging."""
import logging
import math
from typing import Any, List, Union

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

from mmengine.logging import print_log

__all__ = [
    'stack_batch', 'merge_dict', 'detect_anomalous_params',
    'convert_sync_batchnorm', 'revert_sync_batchnorm'
]


def stack_batch(tensor_list: List[torch.Tensor],
                pad_size_divisor: int = 1,
                pad_value: Union[int, float] = 0) -> torch.Tensor:
    """Pad tensors of the same dimensionality to a common shape and stack.

    The first dimension (channels) is never padded. Every other dimension is
    padded at its end to the largest size in the batch; the last two
    dimensions are further rounded up to a multiple of ``pad_size_divisor``.

    Args:
        tensor_list (list[Tensor]): Tensors with the same number of dims.
        pad_size_divisor (int): Make the last two dims divisible by it.
            Defaults to 1.
        pad_value (int | float): Padding value. Defaults to 0.

    Returns:
        Tensor: The stacked batch, shape ``(N, C, *padded)``.

    Raises:
        TypeError: If ``tensor_list`` is not a list of tensors.
        ValueError: If it is empty, or the tensors differ in dimensionality
            or in their first dimension, or ``pad_size_divisor < 1``.
    """
    if not isinstance(tensor_list, (list, tuple)) or not all(
            isinstance(t, torch.Tensor) for t in tensor_list):
        raise TypeError('stack_batch: tensor_list must be a list of tensors,'
                        f' but got {type(tensor_list).__name__}')
    if not tensor_list:
        raise ValueError('stack_batch: tensor_list must not be empty')
    if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
        raise ValueError('stack_batch: pad_size_divisor must be a positive '
                         f'int, but got {pad_size_divisor!r}')
    ndims = {t.dim() for t in tensor_list}
    if len(ndims) != 1:
        raise ValueError('stack_batch: all tensors must have the same number'
                         f' of dimensions, but got {sorted(ndims)}')
    dim = ndims.pop()
    shapes = [tuple(t.shape) for t in tensor_list]
    if dim == 0:
        return torch.stack(tensor_list)
    if len({s[0] for s in shapes}) != 1:
        raise ValueError('stack_batch: the first (channel) dimension is not '
                         'padded and must be equal, but got shapes '
                         f'{shapes}')
    target = [max(s[i] for s in shapes) for i in range(dim)]
    for i in range(max(1, dim - 2), dim):
        target[i] = math.ceil(target[i] / pad_size_divisor) * pad_size_divisor
    if all(s == tuple(target) for s in shapes):
        return torch.stack(tensor_list)
    padded = []
    for t, shape in zip(tensor_list, shapes):
        # F.pad takes (left, right) pairs from the last dim backwards; pad
        # only at the end ("right"/"bottom").
        pad = []
        for i in range(dim - 1, 0, -1):
            pad += [0, target[i] - shape[i]]
        padded.append(F.pad(t, pad, value=pad_value) if any(pad) else t)
    return torch.stack(padded)


def run_forward(model: nn.Module, data: Union[dict, tuple, list],
                mode: str) -> Any:
    """Call ``model(**data, mode=mode)`` for a dict batch or
    ``model(*data, mode=mode)`` for a tuple/list batch.

    Shared by ``BaseModel`` and the model wrappers. A wrapper passes itself
    (not ``wrapper.module``): going through DDP's/FSDP's ``__call__`` is what
    registers their gradient synchronisation.

    Args:
        model (nn.Module): The model or model wrapper to call.
        data (dict | tuple | list): The data preprocessor's output.
        mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

    Raises:
        TypeError: If ``data`` is neither a dict nor a tuple/list.
    """
    if isinstance(data, dict):
        return model(**data, mode=mode)
    if isinstance(data, (list, tuple)):
        return model(*data, mode=mode)
    raise TypeError('The output of the data preprocessor must be a dict, '
                    'tuple or list to unpack into forward, but got '
                    f'{type(data).__name__}')


def merge_dict(*args: dict) -> dict:
    """Merge dicts into a new one; later keys win.

    Raises:
        TypeError: If an argument is not a dict.
    """
    output: dict = {}
    for i, item in enumerate(args):
        if not isinstance(item, dict):
            raise TypeError('merge_dict: every argument must be a dict, but '
                            f'argument {i} is a {type(item).__name__}')
        output.update(item)
    return output


# torch.fx keeps merge_dict as a call instead of tracing into it (``wrap``
# must be called at module level; torch imports torch.fx itself).
torch.fx.wrap('merge_dict')


def detect_anomalous_params(loss: torch.Tensor,
                            model: nn.Module) -> List[str]:
    """Log (at ERROR level) every parameter with ``requires_grad=True`` that
    is not part of the autograd graph of ``loss``.

    Such parameters make DDP fail with "Expected to have finished reduction
    in the prior iteration"; this names them.

    Args:
        loss (Tensor): The loss (before ``backward``).
        model (nn.Module): The model whose parameters are checked.

    Returns:
        list[str]: Names of the parameters outside the graph (empty if
        none).
    """
    in_graph = set()
    visited = set()
    stack = [loss.grad_fn] if loss.grad_fn is not None else []
    # Iterative walk: deep graphs would overflow a recursive one.
    while stack:
        fn = stack.pop()
        if fn is None or fn in visited:
            continue
        visited.add(fn)
        variable = getattr(fn, 'variable', None)
        if variable is not None:
            in_graph.add(id(variable))
        stack.extend(parent for parent, _ in fn.next_functions)
    anomalous = []
    for name, param in model.named_parameters():
        if param.requires_grad and id(param) not in in_graph:
            anomalous.append(name)
            print_log(
                f'{name} with shape {tuple(param.size())} is not in the '
                'computational graph \n',
                logger='current',
                level=logging.ERROR)
    return anomalous


class _BatchNormXd(nn.modules.batchnorm._BatchNorm):
    """BatchNorm that accepts inputs of any dimensionality (what
    ``revert_sync_batchnorm`` turns ``SyncBatchNorm`` into, since SyncBN
    does not record whether it was 1d, 2d or 3d)."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        return


def _copy_bn_state(src: nn.Module, dst: nn.Module) -> None:
    if src.affine:
        with torch.no_grad():
            dst.weight = src.weight
            dst.bias = src.bias
    dst.running_mean = src.running_mean
    dst.running_var = src.running_var
    dst.num_batches_tracked = src.num_batches_tracked
    dst.training = src.training
    if hasattr(src, 'qconfig'):
        dst.qconfig = src.qconfig


def _is_mmcv_sync_bn(module: nn.Module) -> bool:
    # Checked by name so that mmcv is never imported here.
    cls = type(module)
    return cls.__name__ == 'SyncBatchNorm' and cls.__module__.startswith(
        'mmcv')


def revert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every ``SyncBatchNorm`` in ``module`` by a plain BatchNorm
    sharing its parameters and buffers (for CPU / single-process use).

    Args:
        module (nn.Module): The module (modified in place where possible).

    Returns:
        nn.Module: The converted module.
    """
    module_output = module
    if isinstance(module, nn.SyncBatchNorm) or _is_mmcv_sync_bn(module):
        module_output = _BatchNormXd(module.num_features, module.eps,
                                     module.momentum, module.affine,
                                     module.track_running_stats)
        _copy_bn_state(module, module_output)
    for name, child in module.named_children():
        converted = revert_sync_batchnorm(child)
        try:
            module_output.add_module(name, converted)
        except Exception as e:
            # Some third-party modules (e.g. TorchScript ones) reject
            # add_module: keep that child as is, and say so.
            print_log(
                f'Failed to convert {type(child).__name__} ({name}) from '
                f'SyncBN to BN: {type(e).__name__}: {e}',
                logger='current',
                level=logging.WARNING)
    return module_output


def convert_sync_batchnorm(module: nn.Module,
                           implementation: Any = 'torch',
                           process_group: Any = None) -> nn.Module:
    """Replace every BatchNorm in ``module`` by ``SyncBatchNorm`` sharing
    its parameters and buffers.

    Args:
        module (nn.Module): The module.
        implementation (str): ``'torch'`` (``torch.nn.SyncBatchNorm``) or
            ``'mmcv'`` (``mmcv.ops.SyncBatchNorm``), as the Runner's
            ``sync_bn`` config passes it. Defaults to 'torch'. A process
            group given here positionally (the
            ``convert_sync_batchnorm(module, process_group)`` spelling) is
            accepted as ``process_group``.
        process_group (ProcessGroup, optional): Group to synchronise over.
            Defaults to the whole world.

    Returns:
        nn.Module: The converted module.

    Raises:
        ValueError: If ``implementation`` is not 'torch' or 'mmcv'.
        TypeError: If a process group is given both ways.
        ImportError: If ``'mmcv'`` is asked for and mmcv is not installed.
    """
    if not isinstance(implementation, str):
        if process_group is not None:
            raise TypeError('convert_sync_batchnorm: implementation must be '
                            '"torch" or "mmcv", but got '
                            f'{type(implementation).__name__}')
        implementation, process_group = 'torch', implementation
    if implementation not in ('torch', 'mmcv'):
        raise ValueError('convert_sync_batchnorm: implementation must be '
                         f'"torch" or "mmcv", but got {implementation!r}')
    module_output = module
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and \
            not isinstance(module, nn.SyncBatchNorm):
        if implementation == 'torch':
            sync_bn_cls = nn.SyncBatchNorm
        else:
            try:
                from mmcv.ops import SyncBatchNorm as sync_bn_cls
            except ImportError as e:
                raise ImportError(
                    'convert_sync_batchnorm(implementation="mmcv") needs '
                    'mmcv: pip install mmcv') from e
        module_output = sync_bn_cls(module.num_features, module.eps,
                                    module.momentum, module.affine,
                                    module.track_running_stats, process_group)
        _copy_bn_state(module, module_output)
    for name, child in module.named_children():
        module_output.add_module(
            name, convert_sync_batchnorm(child, implementation, process_group))
    return module_output
