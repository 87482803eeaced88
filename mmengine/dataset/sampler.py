"""Samplers that shard a dataset over ranks: ``DefaultSampler`` (epoch
based) and ``InfiniteSampler`` (iteration based).

Both support exact, O(1) resume through ``state_dict(consumed)`` /
``load_state_dict(state)`` (or ``set_start``). A sampler cannot know how many
of the indices it produced were actually used: DataLoader workers prefetch
batches, so the sampler runs ahead of training. The caller (the Runner)
therefore passes the number of indices this rank has consumed, e.g.
``iters_done_in_epoch * batch_size`` for ``DefaultSampler`` and
``iters_done * batch_size`` for ``InfiniteSampler``.
"""
import math
from typing import Any, Dict, Iterator, List, Optional, Sized

import torch
from torch.utils.data import Sampler

from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS

__all__ = ['DefaultSampler', 'InfiniteSampler']


def _check_seed(seed: Optional[int], owner: str) -> int:
    """Resolve ``seed``: None → a random seed shared by all ranks."""
    if seed is None:
        return sync_random_seed()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f'{owner}: seed must be an int or None, but got '
                        f'{type(seed).__name__}: {seed!r}')
    return seed


def _check_count(value: Any, name: str, owner: str) -> int:
    """Check ``value`` is a non-negative int (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'{owner}: {name} must be a non-negative int, but '
                        f'got {type(value).__name__}: {value!r}')
    if value < 0:
        raise ValueError(f'{owner}: {name} must be a non-negative int, but '
                         f'got {value}')
    return value


def _check_state_seed(seed: Any, owner: str) -> int:
    """A saved seed must be an int (None would draw a new random seed)."""
    if seed is None:
        raise TypeError(f'{owner}.load_state_dict: seed must be an int, but '
                        'got None')
    return _check_seed(seed, owner)


def _check_state(owner: str, state_dict: Any, expected: Dict[str, Any],
                 keys: List[str]) -> None:
    """Check a sampler state: a dict with ``keys`` whose run-shape entries
    (``expected``) match this sampler; positions would be meaningless
    otherwise."""
    if not isinstance(state_dict, dict):
        raise TypeError(f'{owner}.load_state_dict expects a dict, but got '
                        f'{type(state_dict).__name__}')
    missing = [k for k in keys if k not in state_dict]
    if missing:
        raise KeyError(f'{owner}.load_state_dict: the state is missing the '
                       f'key(s) {missing}; expected the keys {keys} (as '
                       f'written by {owner}.state_dict())')
    for key, value in expected.items():
        if state_dict[key] != value:
            raise ValueError(
                f'{owner}.load_state_dict: the state was saved with '
                f'{key}={state_dict[key]!r} but this sampler has '
                f'{key}={value!r}; the saved position cannot be resumed '
                'exactly with a different dataset length or world size')


@DATA_SAMPLERS.register_module()
class DefaultSampler(Sampler):
    """Epoch-based sampler for both single- and multi-process runs.

    Each rank gets the disjoint shard ``indices[rank::world_size]``. With
    ``shuffle=True`` the order is a permutation drawn from a generator
    seeded with ``seed + epoch``, so every rank computes the same
    permutation and :meth:`set_epoch` changes it between epochs.

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle the indices. Defaults to True.
        seed (int, optional): Shuffle seed, identical on every rank. ``None``
            draws a random seed on rank 0 and broadcasts it (the Runner
            passes its ``randomness`` seed). Defaults to None.
        round_up (bool): Pad the indices (repeating from the start) so that
            every rank gets ``ceil(len(dataset) / world_size)`` samples, like
            ``drop_last=False``. With False, ranks may get one sample fewer
            than others and nothing is repeated. Defaults to True.

    Examples:
        Exact resume in the middle of an epoch (the Runner passes the
        number of indices this rank consumed)::

            >>> sampler = DefaultSampler(range(10), seed=0)
            >>> sampler.set_epoch(3)
            >>> state = sampler.state_dict(consumed=4)  # into the checkpoint
            >>> resumed = DefaultSampler(range(10), seed=1)
            >>> resumed.load_state_dict(state)
            >>> list(resumed) == list(sampler)[4:]
            True
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size

        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = _check_seed(seed, 'DefaultSampler')
        self.epoch = 0
        self.round_up = round_up
        # Indices of the current epoch to skip on the next __iter__ (resume).
        self._start = 0

        dataset_len = len(dataset)
        if self.round_up:
            self.num_samples = math.ceil(dataset_len / world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                max(dataset_len - rank, 0) / world_size)
            self.total_size = dataset_len

    def __iter__(self) -> Iterator[int]:
        """Iterate over this rank's indices for the current epoch.

        After :meth:`set_start` (or :meth:`load_state_dict`) the first
        ``start`` indices of the epoch are skipped once; later iterations
        yield whole epochs again.
        """
        start, self._start = self._start, 0
        dataset_len = len(self.dataset)
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(dataset_len, generator=g).tolist()
        else:
            indices = list(range(dataset_len))

        if self.round_up and indices:
            # Repeat from the start so that all ranks get the same count.
            repeats = math.ceil(self.total_size / len(indices))
            indices = (indices * repeats)[:self.total_size]

        indices = indices[self.rank:self.total_size:self.world_size]
        return iter(indices[start:])

    def __len__(self) -> int:
        """int: Number of indices this rank yields per (whole) epoch."""
        return self.num_samples

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` indices of this rank's current epoch.

        Applies to the next ``__iter__`` only, so a resumed run continues
        the interrupted epoch in the same order without replaying the data
        loader; the following epochs are whole.

        Args:
            start (int): Number of indices of the current epoch this rank
                has already consumed (``iters_done_in_epoch * batch_size``).
        """
        self._start = _check_count(start, 'start', 'DefaultSampler')

    def state_dict(self, consumed: int = 0) -> Dict[str, Any]:
        """Plain-typed state for exact resume (checkpoint safe).

        Args:
            consumed (int): Indices of the current epoch this rank has
                consumed. The sampler cannot count them itself because
                DataLoader workers prefetch. Defaults to 0 (resume at the
                start of ``epoch``).

        Returns:
            dict: ``epoch``, ``seed``, ``start`` (= ``consumed``), and
            ``shuffle``, ``round_up``, ``world_size``, ``dataset_len``,
            which :meth:`load_state_dict` checks.
        """
        return dict(
            epoch=int(self.epoch),
            seed=int(self.seed),
            start=_check_count(consumed, 'consumed', 'DefaultSampler'),
            shuffle=bool(self.shuffle),
            round_up=bool(self.round_up),
            world_size=int(self.world_size),
            dataset_len=len(self.dataset))

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore ``epoch`` and ``seed`` and skip ``start`` indices once.

        Args:
            state_dict (dict): A state from :meth:`state_dict`.

        Raises:
            KeyError: A key is missing.
            ValueError: The state was saved with another dataset length,
                world size, ``shuffle`` or ``round_up``.
        """
        _check_state(
            'DefaultSampler', state_dict,
            dict(shuffle=bool(self.shuffle), round_up=bool(self.round_up),
                 world_size=self.world_size,
                 dataset_len=len(self.dataset)),
            ['epoch', 'seed', 'start', 'shuffle', 'round_up', 'world_size',
             'dataset_len'])
        # Check everything before changing anything.
        epoch = _check_count(state_dict['epoch'], 'epoch', 'DefaultSampler')
        seed = _check_state_seed(state_dict['seed'], 'DefaultSampler')
        start = _check_count(state_dict['start'], 'start', 'DefaultSampler')
        self.epoch, self.seed, self._start = epoch, seed, start

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which changes the shuffle order.

        Called by ``DistSamplerSeedHook`` before each epoch.

        Args:
            epoch (int): The epoch number.
        """
        self.epoch = epoch


@DATA_SAMPLERS.register_module()
class InfiniteSampler(Sampler):
    """Endless per-rank index stream for iteration-based training.

    The indices of the whole dataset are produced pass after pass and rank
    ``r`` takes every ``world_size``-th index starting at ``r``. With
    ``shuffle=True`` pass ``p`` is the permutation drawn from a generator
    seeded with ``seed + p`` (like ``DefaultSampler``'s ``seed + epoch``),
    so any position of the stream can be reached in O(1) for resume (see
    :meth:`set_start`). The stream is created once, so re-iterating the
    sampler continues where it stopped.

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle every pass. Defaults to True.
        seed (int, optional): Shuffle seed, identical on every rank. ``None``
            draws a random seed shared by all ranks. Defaults to None.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size

        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = _check_seed(seed, 'InfiniteSampler')
        self.size = len(dataset)
        self.indices = self._indices_of_rank(0)

    def _pass_indices(self, pass_idx: int) -> List[int]:
        """All dataset indices of pass ``pass_idx`` of the global stream."""
        if not self.shuffle:
            return list(range(self.size))
        g = torch.Generator()
        g.manual_seed(self.seed + pass_idx)
        return torch.randperm(self.size, generator=g).tolist()

    def _indices_of_rank(self, start: int) -> Iterator[int]:
        """This rank's share of the stream, from its ``start``-th index.

        Stops only for an empty dataset (an endless loop over nothing would
        hang the caller).
        """
        if self.size == 0:
            return
        # The k-th index of this rank is global position rank + k * ws.
        pass_idx, offset = divmod(self.rank + start * self.world_size,
                                  self.size)
        while True:
            if offset < self.size:
                indices = self._pass_indices(pass_idx)
                yield from indices[offset::self.world_size]
                taken = len(range(offset, self.size, self.world_size))
                offset += taken * self.world_size
            offset -= self.size
            pass_idx += 1

    def __iter__(self) -> Iterator[int]:
        """Iterate over this rank's indices, continuing the stream."""
        # Hand out the shared stream itself: a wrapping generator would close
        # the stream when an abandoned iterator is garbage collected.
        return self.indices

    def __len__(self) -> int:
        """int: Length of the dataset (the stream itself is endless)."""
        return self.size

    def set_epoch(self, epoch: int) -> None:
        """No-op: an infinite stream has no epochs (kept for the hook)."""

    def set_start(self, start: int) -> None:
        """Restart this rank's stream at its ``start``-th index, in O(1).

        Args:
            start (int): Number of indices this rank has consumed since the
                stream began (``iters_done * batch_size``).
        """
        start = _check_count(start, 'start', 'InfiniteSampler')
        self.indices = self._indices_of_rank(start)

    def state_dict(self, consumed: int = 0) -> Dict[str, Any]:
        """Plain-typed state for exact resume (checkpoint safe).

        Args:
            consumed (int): Indices this rank has consumed since the stream
                began (the sampler cannot count them itself because
                DataLoader workers prefetch). Defaults to 0.

        Returns:
            dict: ``seed``, ``start`` (= ``consumed``), and ``shuffle``,
            ``world_size``, ``dataset_len``, which :meth:`load_state_dict`
            checks.
        """
        return dict(
            seed=int(self.seed),
            start=_check_count(consumed, 'consumed', 'InfiniteSampler'),
            shuffle=bool(self.shuffle),
            world_size=int(self.world_size),
            dataset_len=int(self.size))

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore ``seed`` and continue the stream at ``start``.

        Args:
            state_dict (dict): A state from :meth:`state_dict`.

        Raises:
            KeyError: A key is missing.
            ValueError: The state was saved with another dataset length,
                world size or ``shuffle``.
        """
        _check_state(
            'InfiniteSampler', state_dict,
            dict(shuffle=bool(self.shuffle), world_size=self.world_size,
                 dataset_len=self.size),
            ['seed', 'start', 'shuffle', 'world_size', 'dataset_len'])
        seed = _check_state_seed(state_dict['seed'], 'InfiniteSampler')
        start = _check_count(state_dict['start'], 'start', 'InfiniteSampler')
        self.seed = seed
        self.set_start(start)
