"""Samplers that shard a dataset over ranks: ``DefaultSampler`` (epoch
based) and ``InfiniteSampler`` (iteration based)."""
import itertools
import math
from typing import Iterator, Optional, Sized

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

        dataset_len = len(dataset)
        if self.round_up:
            self.num_samples = math.ceil(dataset_len / world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                max(dataset_len - rank, 0) / world_size)
            self.total_size = dataset_len

    def __iter__(self) -> Iterator[int]:
        """Iterate over this rank's indices for the current epoch."""
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

        return iter(indices[self.rank:self.total_size:self.world_size])

    def __len__(self) -> int:
        """int: Number of indices this rank yields per epoch."""
        return self.num_samples

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

    The indices of the whole dataset are produced pass after pass (each pass
    a fresh permutation when ``shuffle=True``) and rank ``r`` takes every
    ``world_size``-th index starting at ``r``. The stream is created once,
    so re-iterating the sampler continues where it stopped.

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
        self.indices = self._indices_of_rank()

    def _infinite_indices(self) -> Iterator[int]:
        """Yield dataset indices forever (stops only for an empty dataset)."""
        if self.size == 0:
            return  # an endless loop over nothing would hang the caller
        g = torch.Generator()
        g.manual_seed(self.seed)
        while True:
            if self.shuffle:
                yield from torch.randperm(self.size, generator=g).tolist()
            else:
                yield from range(self.size)

    def _indices_of_rank(self) -> Iterator[int]:
        """Slice this rank's share out of the infinite stream."""
        yield from itertools.islice(self._infinite_indices(), self.rank,
                                    None, self.world_size)

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
