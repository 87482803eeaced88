"""Process-group initialisation and rank/world queries.

Everything here works in a plain (non-distributed) process too, returning
the single-process answer, so callers never need to branch on whether a
process group exists.
"""
import datetime
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from torch import Tensor
from torch.distributed import ProcessGroup

# Group of the processes that run on this machine; created by ``init_dist``
# (or ``init_local_group``) because creating a group is itself a collective.
_LOCAL_PROCESS_GROUP: Optional[ProcessGroup] = None
# The default group the local group belongs to: after
# ``destroy_process_group`` and a new ``init_dist`` the old one is stale.
_LOCAL_GROUP_OWNER: Optional[ProcessGroup] = None

_LAUNCHERS = ('pytorch', 'slurm', 'mpi')


def is_distributed() -> bool:
    """Return True if a default process group has been initialised."""
    return torch_dist.is_available() and torch_dist.is_initialized()


def get_default_group() -> Optional[ProcessGroup]:
    """Return the default (world) process group, or None when not
    distributed."""
    if not is_distributed():
        return None
    return torch_dist.distributed_c10d._get_default_group()


def _local_group() -> Optional[ProcessGroup]:
    """The local group if it belongs to the current default group."""
    global _LOCAL_PROCESS_GROUP, _LOCAL_GROUP_OWNER
    if _LOCAL_PROCESS_GROUP is not None and (
            not is_distributed()
            or _LOCAL_GROUP_OWNER is not get_default_group()):
        _LOCAL_PROCESS_GROUP = _LOCAL_GROUP_OWNER = None
    return _LOCAL_PROCESS_GROUP


def get_local_group() -> Optional[ProcessGroup]:
    """Return the process group of the processes on this machine.

    Returns None when not distributed.

    Raises:
        RuntimeError: if distributed but no local group was created (it is
            created by :func:`init_dist`, or call :func:`init_local_group`).
    """
    if not is_distributed():
        return None
    group = _local_group()
    if group is None:
        raise RuntimeError(
            'Local process group is not created; call '
            '`mmengine.dist.init_local_group(node_rank, num_gpus_per_node)` '
            'on every rank (init_dist does it when LOCAL_WORLD_SIZE is '
            'known).')
    return group


def init_local_group(node_rank: int, num_gpus_per_node: int) -> None:
    """Create the local (per machine) process group.

    Must be called by every rank with the same ``num_gpus_per_node``, since
    ``torch.distributed.new_group`` is collective: each rank creates the
    groups of all nodes and keeps its own.

    Args:
        node_rank (int): index of this machine.
        num_gpus_per_node (int): processes per machine.
    """
    global _LOCAL_PROCESS_GROUP, _LOCAL_GROUP_OWNER
    if not is_distributed():
        raise RuntimeError('init_local_group needs an initialised default '
                           'process group; call init_dist first.')
    if _local_group() is not None:
        raise RuntimeError('The local process group is already created.')
    world_size = torch_dist.get_world_size()
    if num_gpus_per_node <= 0 or world_size % num_gpus_per_node != 0:
        raise ValueError(
            f'num_gpus_per_node={num_gpus_per_node} must be a positive '
            f'divisor of the world size {world_size}.')
    for node in range(world_size // num_gpus_per_node):
        ranks = list(
            range(node * num_gpus_per_node, (node + 1) * num_gpus_per_node))
        group = torch_dist.new_group(ranks)
        if node == node_rank:
            _LOCAL_PROCESS_GROUP = group
            _LOCAL_GROUP_OWNER = get_default_group()


def infer_launcher() -> str:
    """Guess the launcher from environment variables.

    Returns:
        str: ``'pytorch'`` (torchrun sets ``WORLD_SIZE``), ``'slurm'``
        (``SLURM_NTASKS``), ``'mpi'`` (``OMPI_COMM_WORLD_LOCAL_RANK``) or
        ``'none'``.
    """
    if 'WORLD_SIZE' in os.environ:
        return 'pytorch'
    if 'SLURM_NTASKS' in os.environ:
        return 'slurm'
    if 'OMPI_COMM_WORLD_LOCAL_RANK' in os.environ:
        return 'mpi'
    return 'none'


def _to_timedelta(timeout: Any) -> datetime.timedelta:
    if isinstance(timeout, datetime.timedelta):
        return timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        if timeout <= 0:
            raise ValueError(
                f'timeout must be a positive number of seconds, got {timeout}')
        return datetime.timedelta(seconds=timeout)
    raise TypeError(
        'Timeout for distributed training must be given in seconds (int or '
        f'float) or as a datetime.timedelta, but got {type(timeout)}. '
        "Example: dist_cfg=dict(backend='nccl', timeout=1800)")


def _env_int(name: str, launcher: str) -> int:
    value = os.environ.get(name)
    if value is None:
        raise KeyError(
            f'init_dist(launcher={launcher!r}) needs the environment '
            f'variable {name}, which is not set. Start the program with the '
            f'matching launcher (torchrun / srun / mpirun).')
    try:
        return int(value)
    except ValueError:
        raise ValueError(f'Environment variable {name} should be an integer, '
                         f'got {value!r}') from None


def _set_device(local_rank: int, backend: str) -> None:
    """Bind this process to its accelerator (one device per process)."""
    if torch.cuda.is_available() and torch.cuda.device_count() > 0:
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    elif backend == 'nccl':
        raise RuntimeError(
            "backend='nccl' needs CUDA devices but none are available; use "
            "backend='gloo' to run distributed on CPU, e.g. "
            "env_cfg=dict(dist_cfg=dict(backend='gloo')).")


def _init_process_group(backend: str, init_backend: str, **kwargs) -> None:
    if init_backend == 'torch':
        torch_dist.init_process_group(backend=backend, **kwargs)
    elif init_backend == 'deepspeed':
        try:
            import deepspeed
        except ImportError as e:
            raise ImportError("init_backend='deepspeed' needs deepspeed: "
                              "pip install 'mmengine[deepspeed]'") from e
        deepspeed.init_distributed(dist_backend=backend, **kwargs)
    elif init_backend == 'colossalai':
        try:
            import colossalai
        except ImportError as e:
            raise ImportError("init_backend='colossalai' needs colossalai: "
                              'pip install colossalai') from e
        colossalai.launch_from_torch(backend=backend, **kwargs)
    else:
        raise ValueError('init_backend should be "torch", "deepspeed" or '
                         f'"colossalai", but got {init_backend!r}')


def _maybe_init_local_group() -> None:
    """Create the per-machine group when the local size is known and all
    machines hold the same number of processes."""
    local_size = os.environ.get('LOCAL_WORLD_SIZE')
    if local_size is None or _local_group() is not None:
        return
    local_size = int(local_size)
    world_size = torch_dist.get_world_size()
    if local_size <= 0 or world_size % local_size != 0:
        return
    init_local_group(torch_dist.get_rank() // local_size, local_size)


def init_dist(launcher: str,
              backend: str = 'nccl',
              init_backend: str = 'torch',
              **kwargs) -> None:
    """Initialise the default process group.

    Args:
        launcher (str): ``'pytorch'`` (torchrun / torch.distributed.launch),
            ``'slurm'`` (srun) or ``'mpi'`` (mpirun with Open MPI).
        backend (str): communication backend, ``'nccl'`` (GPU) or
            ``'gloo'`` (CPU). Defaults to ``'nccl'``.
        init_backend (str): who initialises the group: ``'torch'``,
            ``'deepspeed'`` or ``'colossalai'``. Defaults to ``'torch'``.
        **kwargs: passed to ``torch.distributed.init_process_group``.
            ``timeout`` may be seconds (int/float) or a ``timedelta``; every
            collective then fails with an error after that long instead of
            hanging. For slurm, ``port`` sets the master port.
    """
    if launcher not in _LAUNCHERS:
        raise ValueError(f'Invalid launcher type: {launcher!r}; expected one '
                         f'of {_LAUNCHERS}')
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = _to_timedelta(kwargs['timeout'])
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method('spawn')
    if launcher == 'pytorch':
        _init_dist_pytorch(backend, init_backend=init_backend, **kwargs)
    elif launcher == 'mpi':
        _init_dist_mpi(backend, init_backend=init_backend, **kwargs)
    else:
        _init_dist_slurm(backend, init_backend=init_backend, **kwargs)
    if is_distributed():
        _maybe_init_local_group()


def _init_dist_pytorch(backend: str, init_backend: str = 'torch',
                       **kwargs) -> None:
    """torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR/PORT."""
    _env_int('RANK', 'pytorch')
    local_rank = _env_int('LOCAL_RANK', 'pytorch')
    _set_device(local_rank, backend)
    _init_process_group(backend, init_backend, **kwargs)


def _init_dist_mpi(backend: str, init_backend: str = 'torch',
                   **kwargs) -> None:
    """Open MPI sets OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK,LOCAL_SIZE}."""
    local_rank = _env_int('OMPI_COMM_WORLD_LOCAL_RANK', 'mpi')
    world_size = _env_int('OMPI_COMM_WORLD_SIZE', 'mpi')
    rank = _env_int('OMPI_COMM_WORLD_RANK', 'mpi')
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('init_dist(launcher="mpi") needs the environment '
                       'variable MASTER_ADDR (address of rank 0), which is '
                       'not set.')
    port = kwargs.pop('port', None)
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = str(world_size)
    os.environ['RANK'] = str(rank)
    os.environ['LOCAL_RANK'] = str(local_rank)
    if 'OMPI_COMM_WORLD_LOCAL_SIZE' in os.environ:
        os.environ['LOCAL_WORLD_SIZE'] = os.environ[
            'OMPI_COMM_WORLD_LOCAL_SIZE']
    _set_device(local_rank, backend)
    _init_process_group(backend, init_backend, **kwargs)


def _first_host(node_list: str) -> str:
    """First host name of a Slurm node list such as ``gpu[03-05,9],cpu1``.

    ``scontrol show hostnames`` is used when available; this parser is the
    fallback (and what tests exercise).
    """
    node_list = node_list.strip()
    if not node_list:
        raise ValueError('SLURM_NODELIST is empty')
    # The first entry ends at the first comma outside brackets.
    depth, end = 0, len(node_list)
    for i, ch in enumerate(node_list):
        if ch == '[':
            depth += 1
        elif ch == ']':
            depth -= 1
        elif ch == ',' and depth == 0:
            end = i
            break
    entry = node_list[:end]
    match = re.fullmatch(r'([^\[]*)\[([^\]]+)\](.*)', entry)
    if match is None:
        return entry
    prefix, ranges, suffix = match.groups()
    first = ranges.split(',')[0].split('-')[0]
    return prefix + first + _first_host(suffix) if suffix else prefix + first


def _slurm_master_addr(node_list: str) -> str:
    if shutil.which('scontrol'):
        try:
            # bounded: an unreachable Slurm controller must not hang init
            out = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                                 capture_output=True,
                                 text=True,
                                 timeout=30)
        except subprocess.TimeoutExpired:
            return _first_host(node_list)
        hosts = out.stdout.split()
        if out.returncode == 0 and hosts:
            return hosts[0]
    return _first_host(node_list)


def _init_dist_slurm(backend: str,
                     port: Optional[int] = None,
                     init_backend: str = 'torch',
                     **kwargs) -> None:
    """Derive torch's env vars from SLURM_PROCID/NTASKS/NODELIST.

    The master is the first node of the allocation; the port comes from
    ``port``, else ``MASTER_PORT``, else 29500.
    """
    proc_id = _env_int('SLURM_PROCID', 'slurm')
    ntasks = _env_int('SLURM_NTASKS', 'slurm')
    node_list = os.environ.get('SLURM_NODELIST')
    if 'SLURM_LOCALID' in os.environ:
        local_rank = int(os.environ['SLURM_LOCALID'])
    else:
        num_gpus = max(torch.cuda.device_count(), 1)
        local_rank = proc_id % num_gpus
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        if node_list is None:
            raise KeyError('init_dist(launcher="slurm") needs SLURM_NODELIST '
                           'or MASTER_ADDR in the environment.')
        os.environ['MASTER_ADDR'] = _slurm_master_addr(node_list)
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = str(local_rank)
    os.environ['RANK'] = str(proc_id)
    # 'SLURM_NTASKS_PER_NODE' may read '8' or '8(x2)'; take the count.
    per_node = os.environ.get('SLURM_NTASKS_PER_NODE')
    if per_node and re.match(r'^\d+', per_node):
        os.environ['LOCAL_WORLD_SIZE'] = re.match(r'^\d+', per_node).group()
    _set_device(local_rank, backend)
    _init_process_group(backend, init_backend, **kwargs)


def get_backend(group: Optional[ProcessGroup] = None) -> Optional[str]:
    """Backend name of ``group`` (default: world); None when not
    distributed."""
    if not is_distributed():
        return None
    if group is None:
        group = get_default_group()
    return torch_dist.get_backend(group)


def get_world_size(group: Optional[ProcessGroup] = None) -> int:
    """Number of processes in ``group`` (default: world); 1 when not
    distributed."""
    if not is_distributed():
        return 1
    if group is None:
        group = get_default_group()
    return torch_dist.get_world_size(group)


def get_rank(group: Optional[ProcessGroup] = None) -> int:
    """Rank of this process in ``group`` (default: world); 0 when not
    distributed."""
    if not is_distributed():
        return 0
    if group is None:
        group = get_default_group()
    return torch_dist.get_rank(group)


def get_local_size() -> int:
    """Number of processes on this machine; 1 when not distributed.

    Uses the local group when it exists, else ``LOCAL_WORLD_SIZE``.
    """
    if not is_distributed():
        return 1
    group = _local_group()
    if group is not None:
        return torch_dist.get_world_size(group)
    if 'LOCAL_WORLD_SIZE' in os.environ:
        return int(os.environ['LOCAL_WORLD_SIZE'])
    get_local_group()  # raises the explanatory RuntimeError
    return 1  # pragma: no cover


def get_local_rank() -> int:
    """Rank of this process on its machine; 0 when not distributed.

    Uses the local group when it exists, else ``LOCAL_RANK``.
    """
    if not is_distributed():
        return 0
    group = _local_group()
    if group is not None:
        return torch_dist.get_rank(group)
    if 'LOCAL_RANK' in os.environ:
        return int(os.environ['LOCAL_RANK'])
    get_local_group()  # raises the explanatory RuntimeError
    return 0  # pragma: no cover


def get_dist_info(group: Optional[ProcessGroup] = None) -> Tuple[int, int]:
    """Return ``(rank, world_size)``; ``(0, 1)`` when not distributed."""
    return get_rank(group), get_world_size(group)


def is_main_process(group: Optional[ProcessGroup] = None) -> bool:
    """True on rank 0 of ``group`` (always True when not distributed)."""
    return get_rank(group) == 0


def master_only(func: Callable) -> Callable:
    """Decorator: run ``func`` on global rank 0 only; other ranks get
    None."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if is_main_process():
            return func(*args, **kwargs)
        return None

    return wrapper


def barrier(group: Optional[ProcessGroup] = None) -> None:
    """Block until every process of ``group`` reaches this call; no-op when
    not distributed."""
    if not is_distributed():
        return
    if group is None:
        group = get_default_group()
    torch_dist.barrier(group)


def get_data_device(data: Union[Tensor, Mapping, Iterable]) -> torch.device:
    """Return the device of a tensor, or of all tensors in a (nested)
    mapping / sequence.

    Raises:
        ValueError: if the tensors are on different devices or ``data`` is
            empty.
        TypeError: if ``data`` holds something other than tensors.
    """
    if isinstance(data, Tensor):
        return data.device
    if isinstance(data, Mapping):
        values: Iterable = data.values()
    elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        values = data
    else:
        raise TypeError('data should be a Tensor, a sequence of tensors or a '
                        f'dict of tensors, but got {type(data)}: {data!r}')
    device = None
    for value in values:
        current = get_data_device(value)
        if device is None:
            device = current
        elif current != device:
            raise ValueError('All tensors in data should be on the same '
                             f'device, but got {device} and {current}')
    if device is None:
        raise ValueError('data should not be empty.')
    return device


def get_comm_device(group: Optional[ProcessGroup] = None) -> torch.device:
    """Device that tensors must live on to be communicated in ``group``:
    the current CUDA device for NCCL, the CPU for gloo / no group."""
    backend = get_backend(group)
    if backend in ('nccl', 'smddp'):
        return torch.device('cuda', torch.cuda.current_device())
    if backend == 'hccl':
        return torch.device('npu', torch.npu.current_device())  # type: ignore
    if backend == 'cncl':
        return torch.device('mlu', torch.mlu.current_device())  # type: ignore
    if backend == 'mccl':
        return torch.device('musa',
                            torch.musa.current_device())  # type: ignore
    return torch.device('cpu')


def cast_data_device(data: Union[Tensor, Mapping, Iterable],
                     device: torch.device,
                     out: Optional[Union[Tensor, Mapping, Iterable]] = None
                     ) -> Union[Tensor, Mapping, Iterable]:
    """Move a tensor or a (nested) mapping / sequence of tensors to
    ``device``.

    Args:
        data: tensor(s) to move.
        device (torch.device): target device.
        out: optional structure of the same shape and type as ``data``; the
            moved values are also copied into it in place.

    Returns:
        The moved data, with the container types of ``data``.
    """
    if isinstance(device, str):
        device = torch.device(device)
    if out is not None:
        if type(data) is not type(out):
            raise TypeError('out should be the same type as data, but got '
                            f'data: {type(data)} and out: {type(out)}')
        if isinstance(out, set):
            raise TypeError('out should not be a set (it has no order)')
    if isinstance(data, Tensor):
        moved = data if data.device == device else data.to(device)
        if out is not None:
            out.copy_(moved)  # type: ignore[union-attr]
        return moved
    if isinstance(data, Mapping):
        outs: Any = out
        if outs is not None and len(data) != len(outs):
            raise ValueError('length of data and out should be the same, '
                             f'but got {len(data)} and {len(outs)}')
        if outs is not None and set(data) != set(outs):
            raise KeyError('data and out should have the same keys, but got '
                           f'{sorted(map(str, data))} and '
                           f'{sorted(map(str, outs))}')
        if len(data) == 0:
            raise ValueError('data should not be empty')
        result = {
            k: cast_data_device(v, device, None if outs is None else outs[k])
            for k, v in data.items()
        }
        return type(data)(result)  # type: ignore[call-arg]
    if (isinstance(data, Iterable) and not isinstance(data, (str, bytes))
            and not isinstance(data, np.ndarray)):
        items = list(data)
        if len(items) == 0:
            raise ValueError('data should not be empty')
        if out is not None:
            outs = list(out)  # type: ignore[arg-type]
            if len(outs) != len(items):
                raise ValueError('length of data and out should be the same, '
                                 f'but got {len(items)} and {len(outs)}')
            moved_items = [
                cast_data_device(v, device, o) for v, o in zip(items, outs)
            ]
        else:
            moved_items = [cast_data_device(v, device) for v in items]
        if hasattr(data, '_fields'):  # namedtuple
            return type(data)(*moved_items)  # type: ignore[call-arg]
        if isinstance(data, (list, tuple)):
            return type(data)(moved_items)  # type: ignore[call-arg]
        return moved_items
    raise TypeError('data should be a Tensor, a sequence of tensors or a dict '
                    f'of tensors, but got {type(data)}: {data!r}')
