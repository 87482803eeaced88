"""Collective communication that also works in a single process.

Each function moves tensors to the device the backend needs (CUDA for
NCCL, CPU for gloo), communicates, and moves the result back, so callers
need not know the backend. Without a process group every function returns
the single-process answer (identity / no-op).

``src`` / ``dst`` arguments are ranks within ``group`` (for the default
group they are the global ranks).
"""
import os
import os.path as osp
import pickle
import shutil
import tempfile
from collections import OrderedDict
from typing import Any, Dict, Generator, Iterable, List, Optional, Union

import numpy as np
import torch
import torch.distributed as torch_dist
from torch import Tensor
from torch._utils import (_flatten_dense_tensors, _take_tensors,
                          _unflatten_dense_tensors)
from torch.distributed import ProcessGroup

from mmengine.utils import mkdir_or_exist
from .utils import (barrier, cast_data_device, get_comm_device,
                    get_default_group, get_rank, get_world_size)


class _ArgumentError(TypeError, AssertionError):
    """Wrong argument type. Also an AssertionError, which is what the
    original raised (``assert isinstance(...)``) and what callers catch."""


_REDUCE_OPS = ('sum', 'mean', 'product', 'min', 'max', 'band', 'bor', 'bxor')


def _get_reduce_op(name: str) -> torch_dist.ReduceOp:
    ops = {
        'sum': torch_dist.ReduceOp.SUM,
        'product': torch_dist.ReduceOp.PRODUCT,
        'min': torch_dist.ReduceOp.MIN,
        'max': torch_dist.ReduceOp.MAX,
        'band': torch_dist.ReduceOp.BAND,
        'bor': torch_dist.ReduceOp.BOR,
        'bxor': torch_dist.ReduceOp.BXOR,
    }
    return ops[name]


def _check_op(op: str) -> str:
    if not isinstance(op, str) or op.lower() not in _REDUCE_OPS:
        raise ValueError(f'reduce op should be one of {_REDUCE_OPS}, '
                         f'but got {op!r}')
    return op.lower()


def _group_or_default(group: Optional[ProcessGroup]) -> ProcessGroup:
    return get_default_group() if group is None else group


def _global_rank(group: ProcessGroup, group_rank: int) -> int:
    """torch's src/dst arguments are global ranks; ours are group ranks."""
    if group is get_default_group():
        return group_rank
    return torch_dist.get_global_rank(group, group_rank)


def _to_comm_device(data: Tensor, group: ProcessGroup,
                    caller: str) -> Tensor:
    """``data`` as a contiguous tensor on the device the backend of
    ``group`` communicates from (``data`` itself when it already is)."""
    if not isinstance(data, Tensor):
        raise TypeError(f'{caller} expects a Tensor, but got {type(data)}')
    return cast_data_device(data, get_comm_device(group)).contiguous()


def _copy_back(result: Tensor, data: Tensor) -> None:
    """Write a collective's result into ``data`` (converting device and
    dtype); nothing to do when the collective ran in ``data`` itself."""
    if result is not data:
        data.copy_(result)


def all_reduce(data: Tensor,
               op: str = 'sum',
               group: Optional[ProcessGroup] = None) -> None:
    """Reduce ``data`` across all processes in place.

    Args:
        data (Tensor): tensor to reduce, modified in place.
        op (str): ``'sum'``, ``'mean'``, ``'product'``, ``'min'``,
            ``'max'``, ``'band'``, ``'bor'`` or ``'bxor'``. ``'mean'`` is a
            sum divided by the world size (integer tensors are truncated).
        group (ProcessGroup, optional): defaults to the world group.
    """
    op = _check_op(op)
    world_size = get_world_size(group)
    if world_size == 1:
        return
    group = _group_or_default(group)
    data_on_device = _to_comm_device(data, group, 'all_reduce')
    if op == 'mean':
        torch_dist.all_reduce(data_on_device, torch_dist.ReduceOp.SUM, group)
        # true_divide: integer tensors cannot be divided in place.
        data_on_device = torch.true_divide(data_on_device, world_size)
    else:
        torch_dist.all_reduce(data_on_device, _get_reduce_op(op), group)
    _copy_back(data_on_device, data)


def all_gather(data: Tensor,
               group: Optional[ProcessGroup] = None) -> List[Tensor]:
    """Gather ``data`` from every process (same shape and dtype on all).

    Returns:
        list[Tensor]: one tensor per rank, in rank order, on the device of
        ``data``; ``[data]`` when not distributed.
    """
    world_size = get_world_size(group)
    if world_size == 1:
        return [data]
    group = _group_or_default(group)
    data_on_device = _to_comm_device(data, group, 'all_gather')
    gather_list = [
        torch.empty_like(data_on_device) for _ in range(world_size)
    ]
    torch_dist.all_gather(gather_list, data_on_device, group)
    return cast_data_device(gather_list, data.device)  # type: ignore


def gather(data: Tensor,
           dst: int = 0,
           group: Optional[ProcessGroup] = None) -> List[Optional[Tensor]]:
    """Gather ``data`` from every process on rank ``dst``.

    Returns:
        list[Tensor]: on ``dst`` one tensor per rank in rank order; an empty
        list on the other ranks; ``[data]`` when not distributed.
    """
    world_size = get_world_size(group)
    if world_size == 1:
        return [data]
    group = _group_or_default(group)
    data_on_device = _to_comm_device(data, group, 'gather')
    is_dst = get_rank(group) == dst
    gather_list = [torch.empty_like(data_on_device)
                   for _ in range(world_size)] if is_dst else None
    torch_dist.gather(data_on_device, gather_list, _global_rank(group, dst),
                      group)
    if is_dst:
        return cast_data_device(gather_list, data.device)  # type: ignore
    return []


def broadcast(data: Tensor,
              src: int = 0,
              group: Optional[ProcessGroup] = None) -> None:
    """Overwrite ``data`` on every process with the one of rank ``src``."""
    if get_world_size(group) == 1:
        return
    group = _group_or_default(group)
    data_on_device = _to_comm_device(data, group, 'broadcast')
    torch_dist.broadcast(data_on_device, _global_rank(group, src), group)
    if get_rank(group) != src:
        _copy_back(data_on_device, data)


def sync_random_seed(group: Optional[ProcessGroup] = None) -> int:
    """Return a random seed that is the same on every process.

    Rank 0 draws it and broadcasts it. Samplers use it so that every rank
    shuffles the dataset identically.
    """
    seed = np.random.randint(2**31)
    if get_world_size(group) == 1:
        return seed
    group = _group_or_default(group)
    device = get_comm_device(group)
    if get_rank(group) == 0:
        random_num = torch.tensor(seed, dtype=torch.int32).to(device)
    else:
        random_num = torch.tensor(0, dtype=torch.int32).to(device)
    torch_dist.broadcast(random_num, _global_rank(group, 0), group)
    return int(random_num.item())


def broadcast_object_list(data: List[Any],
                          src: int = 0,
                          group: Optional[ProcessGroup] = None) -> None:
    """Replace, in place, the items of ``data`` on every process with those
    of rank ``src`` (items must be picklable; lists must have the same
    length on all ranks)."""
    if not isinstance(data, list):
        raise _ArgumentError('broadcast_object_list expects a list (it is '
                             f'filled in place), but got {type(data)}')
    if get_world_size(group) == 1:
        return
    group = _group_or_default(group)
    torch_dist.broadcast_object_list(data, _global_rank(group, src), group)


def all_reduce_dict(data: Dict[str, Tensor],
                    op: str = 'sum',
                    group: Optional[ProcessGroup] = None) -> None:
    """Reduce every tensor value of ``data`` in place.

    Values are flattened into one buffer (one collective). Keys are sorted
    so ranks reduce matching entries; keys and shapes are checked to agree
    across ranks first.
    """
    if not isinstance(data, dict):
        raise _ArgumentError(
            f'all_reduce_dict expects a dict of tensors, got {type(data)}')
    op = _check_op(op)
    for key, value in data.items():
        if not isinstance(value, Tensor):
            raise TypeError(f'all_reduce_dict: value of key {key!r} should be'
                            f' a Tensor, but got {type(value)}')
    world_size = get_world_size(group)
    if world_size == 1 or not data:
        return
    group = _group_or_default(group)
    keys = sorted(data.keys())
    shapes = [tuple(data[k].shape) for k in keys]
    layouts = all_gather_object(list(zip(keys, shapes)), group)
    for rank, layout in enumerate(layouts):
        if layout != layouts[0]:
            raise ValueError(
                'all_reduce_dict needs the same keys and shapes on every '
                f'rank, but rank 0 has {layouts[0]} and rank {rank} has '
                f'{layout}')
    dtypes = [data[k].dtype for k in keys]
    flat = torch.cat([data[k].flatten() for k in keys])
    all_reduce(flat, op=op, group=group)
    sizes = [data[k].numel() for k in keys]
    for key, part, shape, dtype in zip(keys, torch.split(flat, sizes),
                                       shapes, dtypes):
        data[key] = part.reshape(shape).to(dtype)


def all_gather_object(data: Any,
                      group: Optional[ProcessGroup] = None) -> List[Any]:
    """Gather a picklable object from every process.

    Returns:
        list: one object per rank, in rank order; ``[data]`` when not
        distributed.
    """
    world_size = get_world_size(group)
    if world_size == 1:
        return [data]
    group = _group_or_default(group)
    gather_list: List[Any] = [None] * world_size
    torch_dist.all_gather_object(gather_list, data, group)
    return gather_list


def gather_object(data: Any,
                  dst: int = 0,
                  group: Optional[ProcessGroup] = None) -> Optional[List[Any]]:
    """Gather a picklable object from every process on rank ``dst``.

    Returns:
        list | None: on ``dst`` one object per rank in rank order, None on
        the other ranks; ``[data]`` when not distributed.
    """
    world_size = get_world_size(group)
    if world_size == 1:
        return [data]
    group = _group_or_default(group)
    is_dst = get_rank(group) == dst
    gather_list = [None] * world_size if is_dst else None
    torch_dist.gather_object(data, gather_list, _global_rank(group, dst),
                             group)
    return gather_list


def _interleave(parts: List[list], size: Optional[int]) -> list:
    """Merge per-rank lists back into dataset order and drop padding.

    The sampler gives rank r the samples r, r + ws, r + 2 ws, ..., so
    the original order is ``parts[0][0], parts[1][0], ..., parts[0][1]``.
    Unlike a zip_longest-and-filter-None merge, a None result is kept.
    ``size=None`` keeps everything.
    """
    ordered = []
    longest = max((len(p) for p in parts), default=0)
    for i in range(longest):
        for part in parts:
            if i < len(part):
                ordered.append(part[i])
    return ordered if size is None else ordered[:size]


def _check_results(results: Any, size: Any) -> None:
    if not isinstance(results, list):
        raise TypeError('collect_results expects `results` to be a list, '
                        f'but got {type(results)}')
    if size is not None and (not isinstance(size, int)
                             or isinstance(size, bool) or size < 0):
        raise TypeError('collect_results expects `size` to be a '
                        f'non-negative int or None, but got {size!r}')


def collect_results(results: list,
                    size: Optional[int],
                    device: str = 'cpu',
                    tmpdir: Optional[str] = None) -> Optional[list]:
    """Collect the result lists of all ranks on rank 0.

    Args:
        results (list): this rank's results; rank r is expected to hold
            samples r, r + world_size, ... (``DefaultSampler`` sharding).
        size (int, optional): dataset length; the merged list is truncated
            to it, dropping the samples the sampler repeated as padding.
            ``None`` keeps every gathered result.
        device (str): ``'cpu'``: ranks pickle their part into a shared
            directory that rank 0 reads. ``'gpu'``: parts are sent as
            tensors through the backend (works with gloo too).
        tmpdir (str, optional): shared directory for ``'cpu'``, see
            :func:`collect_results_cpu`.

    Returns:
        list | None: on rank 0 the results in dataset order, None on the
        other ranks.
    """
    if device not in ('cpu', 'gpu'):
        raise ValueError("collect_results: device must be 'cpu' or 'gpu', "
                         f'but got {device!r}')
    if device == 'gpu':
        if tmpdir is not None:
            raise ValueError("tmpdir is only used with device='cpu', but got "
                             f"tmpdir={tmpdir!r} with device='gpu'")
        return collect_results_gpu(results, size)
    return collect_results_cpu(results, size, tmpdir)


def _make_work_dir(parent: str) -> str:
    """A fresh directory under ``parent`` (created if needed). Retries if a
    concurrent run removes the (empty) parent in between."""
    for _ in range(5):
        mkdir_or_exist(parent)
        try:
            return tempfile.mkdtemp(dir=parent)
        except FileNotFoundError:
            continue
    raise OSError(f'could not create a temporary directory under {parent}')


def collect_results_cpu(result_part: list,
                        size: Optional[int],
                        tmpdir: Optional[str] = None) -> Optional[list]:
    """Collect results on rank 0 through a directory all ranks can reach.

    Rank 0 creates a fresh sub-directory of ``tmpdir`` (default:
    ``./.dist_test``, under the working directory, which unlike /tmp is
    normally shared by all machines) and broadcasts its name; every rank
    pickles its part there; rank 0 reads them, then removes that
    sub-directory, and ``tmpdir`` itself if it is left empty. Nothing
    else in a user-given ``tmpdir`` is deleted. Rank 0's ``tmpdir`` is
    the one used. See :func:`collect_results` for the arguments.
    """
    _check_results(result_part, size)
    rank, world_size = get_rank(), get_world_size()
    if world_size == 1:
        return result_part if size is None else result_part[:size]
    parent = osp.abspath('.dist_test' if tmpdir is None else tmpdir)
    # A fresh directory per call, announced by rank 0: the broadcast also
    # keeps a fast rank from writing its next part into a directory that
    # rank 0 is still reading from the previous call.
    holder: List[Optional[str]] = [None]
    if rank == 0:
        holder[0] = _make_work_dir(parent)
    broadcast_object_list(holder)
    work_dir = holder[0]
    assert work_dir is not None
    parent = osp.dirname(work_dir)
    # Missing here means this machine does not share rank 0's directory:
    # write anyway (rank 0 then raises a clear error) and clean up after.
    not_shared = not osp.isdir(work_dir)
    if not_shared:
        mkdir_or_exist(work_dir)
    part_file = osp.join(work_dir, f'part_{rank}.pkl')
    with open(part_file, 'wb') as f:
        pickle.dump(result_part, f, protocol=pickle.HIGHEST_PROTOCOL)
    barrier()
    if rank != 0:
        if not_shared:
            shutil.rmtree(work_dir, ignore_errors=True)
        return None
    try:
        parts = []
        for i in range(world_size):
            path = osp.join(work_dir, f'part_{i}.pkl')
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'{path} (results of rank {i}) was not found: {parent} '
                    'must be a directory shared by all ranks; pass a shared '
                    "`tmpdir` or use device='gpu'.")
            with open(path, 'rb') as f:
                parts.append(pickle.load(f))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        try:
            os.rmdir(parent)  # only succeeds if nothing else is in it
        except OSError:
            pass
    return _interleave(parts, size)


def collect_results_gpu(result_part: list,
                        size: Optional[int]) -> Optional[list]:
    """Collect results on rank 0 by sending them, pickled into tensors,
    through the communication backend (CUDA tensors for NCCL, CPU tensors
    for gloo). See :func:`collect_results`."""
    _check_results(result_part, size)
    rank, world_size = get_rank(), get_world_size()
    if world_size == 1:
        return result_part if size is None else result_part[:size]
    parts = gather_object(result_part, dst=0)
    if rank != 0:
        return None
    return _interleave(parts, size)  # type: ignore[arg-type]


def all_reduce_params(params: Union[List, Generator, Iterable],
                      coalesce: bool = True,
                      bucket_size_mb: int = -1,
                      op: str = 'sum',
                      group: Optional[ProcessGroup] = None) -> None:
    """All-reduce parameters (or tensors) in place, e.g. to sync buffers.

    Args:
        params: parameters or tensors (a list or a generator).
        coalesce (bool): reduce several tensors per collective by
            flattening them into one buffer. Defaults to True.
        bucket_size_mb (int): bucket size when coalescing; -1 puts all
            tensors of one type into a single bucket.
        op (str): reduce op, see :func:`all_reduce`.
        group (ProcessGroup, optional): defaults to the world group.
    """
    op = _check_op(op)
    if get_world_size(group) == 1:
        return
    tensors = [p.data if isinstance(p, Tensor) else p for p in params]
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError('all_reduce_params expects parameters or '
                            f'tensors, but item {i} is {type(t)}')
    if not coalesce:
        for tensor in tensors:
            all_reduce(tensor, op=op, group=group)
        return
    if bucket_size_mb > 0:
        buckets: Iterable[List[Tensor]] = _take_tensors(
            tensors, bucket_size_mb * 1024 * 1024)
    else:
        by_type: Dict[Any, List[Tensor]] = OrderedDict()
        for tensor in tensors:
            by_type.setdefault((tensor.dtype, tensor.device),
                               []).append(tensor)
        buckets = by_type.values()
    for bucket in buckets:
        flat = _flatten_dense_tensors(bucket)
        all_reduce(flat, op=op, group=group)
        for tensor, synced in zip(bucket,
                                  _unflatten_dense_tensors(flat, bucket)):
            tensor.copy_(synced)


__all__ = [
    'all_reduce', 'all_gather', 'gather', 'broadcast', 'sync_random_seed',
    'broadcast_object_list', 'all_reduce_dict', 'all_gather_object',
    'gather_object', 'collect_results', 'collect_results_cpu',
    'collect_results_gpu', 'all_reduce_params'
]
