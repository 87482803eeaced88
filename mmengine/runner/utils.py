"""Seeding and small helpers shared by the Runner and its loops.

Exact resume (DESIGN §4) needs the random number generators of python,
numpy and torch captured as plain data (so checkpoints load with
``torch.load(weights_only=True)``) and restored later; the helpers for that
live here too.
"""
import contextlib
import logging
import random
from typing import Any, Dict, Iterator, Optional

import numpy as np
import torch

from mmengine.dist import get_rank, sync_random_seed
from mmengine.logging import print_log

__all__ = [
    'set_random_seed', 'get_rng_state', 'set_rng_state', 'preserve_rng_state'
]


def set_random_seed(seed: Optional[int] = None,
                    deterministic: bool = False,
                    diff_rank_seed: bool = False) -> int:
    """Seed ``random``, numpy and torch (CPU and every CUDA device).

    Args:
        seed (int, optional): The seed. ``None`` draws one on rank 0 and
            shares it with every rank (``sync_random_seed``).
        deterministic (bool): Make cuDNN deterministic (and disable its
            benchmark mode) and ask torch for deterministic algorithms.
            Defaults to False.
        diff_rank_seed (bool): Add the rank to the seed, so that every
            process draws different random numbers. Defaults to False.

    Returns:
        int: The seed actually used.

    Raises:
        TypeError: ``seed`` is not an int or None.
    """
    if seed is None:
        seed = sync_random_seed()
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError('set_random_seed: seed must be an int or None, but '
                        f'got {type(seed).__name__}: {seed!r}')
    seed = int(seed)
    if diff_rank_seed:
        seed += get_rank()
    random.seed(seed)
    # numpy only accepts seeds in [0, 2**32).
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        if torch.backends.cudnn.benchmark:
            print_log(
                'torch.backends.cudnn.benchmark is going to be set as '
                '`False` to cause cuDNN to deterministically select an '
                'algorithm', logger='current', level=logging.WARNING)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        # warn_only: ops without a deterministic kernel still run.
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


def get_rng_state() -> Dict[str, Any]:
    """Capture the state of every global RNG as tensors and plain types.

    Returns:
        dict: ``python`` (list), ``numpy`` (dict of plain values plus an
        int64 tensor), ``torch`` (uint8 tensor) and, when CUDA is
        available, ``cuda`` (list of uint8 tensors).
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: Dict[str, Any] = dict(
        python=[int(version), list(internal), gauss],
        numpy=dict(
            kind=str(kind),
            keys=torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore RNG states captured by :func:`get_rng_state`.

    Args:
        state (dict): The captured state.

    Raises:
        TypeError: ``state`` is not a dict of the expected layout.
    """
    if not isinstance(state, dict) or not {'python', 'numpy', 'torch'
                                           } <= set(state):
        raise TypeError('set_rng_state: expected a dict with keys python, '
                        f'numpy and torch, but got {state!r:.200}')
    version, internal, gauss = state['python']
    random.setstate((int(version), tuple(int(x) for x in internal), gauss))
    np_state = state['numpy']
    np.random.set_state(
        (np_state['kind'], np_state['keys'].numpy().astype(np.uint32),
         int(np_state['pos']), int(np_state['has_gauss']),
         float(np_state['cached_gaussian'])))
    torch.set_rng_state(state['torch'].to('cpu', torch.uint8))
    if 'cuda' in state and torch.cuda.is_available():
        cuda_states = state['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


@contextlib.contextmanager
def preserve_rng_state() -> Iterator[None]:
    """Run a block without changing any global RNG state.

    The loops create data loader iterators (which draw a worker base seed
    from torch's global generator) and run validation inside this, so the
    random stream seen by training does not depend on them; that is what
    makes a resumed run bitwise identical to an uninterrupted one.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = None
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda_states = torch.cuda.get_rng_state_all()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


def _get_batch_size(dataloader: Any) -> Optional[int]:
    """Batch size of a DataLoader or of a dataloader config dict.

    Args:
        dataloader (DataLoader | dict): The data loader or its config.

    Returns:
        int or None: the batch size, None when it cannot be determined
        (e.g. a custom batch sampler without ``batch_size``).
    """
    if isinstance(dataloader, dict):
        if 'batch_size' in dataloader:
            return dataloader['batch_size']
        batch_sampler = dataloader.get('batch_sampler')
        if isinstance(batch_sampler, dict) and 'batch_size' in batch_sampler:
            return batch_sampler['batch_size']
        raise ValueError('Please set `batch_size` in the dataloader config '
                         f'(or in its batch_sampler), got {dataloader!r}')
    batch_size = getattr(dataloader, 'batch_size', None)
    if batch_size is None:
        batch_sampler = getattr(dataloader, 'batch_sampler', None)
        batch_size = getattr(batch_sampler, 'batch_size', None)
    return batch_size
