"""Collate functions and the DataLoader worker seeding function."""
import random
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate as _torch_default_collate

from mmengine.registry import FUNCTIONS
from mmengine.structures import BaseDataElement

__all__ = [
    'worker_init_fn', 'pseudo_collate', 'default_collate',
    'COLLATE_FUNCTIONS'
]

# Collate functions live in the generic FUNCTIONS registry; the old name is
# kept as an alias for downstream code that imports it.
COLLATE_FUNCTIONS = FUNCTIONS


def worker_init_fn(worker_id: int,
                   num_workers: int,
                   rank: int,
                   seed: int,
                   disable_subprocess_warning: bool = False) -> None:
    """Seed ``random``, numpy and torch in a DataLoader worker.

    Every worker of every rank gets a distinct, reproducible seed
    ``num_workers * rank + worker_id + seed``. Bind the first three
    arguments with ``functools.partial`` (the Runner does).

    Args:
        worker_id (int): Id of the worker, in ``[0, num_workers)``.
        num_workers (int): Number of workers of the DataLoader.
        rank (int): Rank of the process.
        seed (int): Base random seed.
        disable_subprocess_warning (bool): Silence warnings in all workers
            except worker 0, to avoid duplicated messages. Defaults to False.
    """
    worker_seed = num_workers * rank + worker_id + seed
    np.random.seed(worker_seed % 2**32)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)
    if disable_subprocess_warning and worker_id != 0:
        warnings.simplefilter('ignore')


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, '_fields')


def _collate(data_batch: Sequence, leaf_fn) -> Any:
    """Transpose a batch of nested structures; ``leaf_fn`` merges leaves."""
    if len(data_batch) == 0:
        return leaf_fn(data_batch)
    elem = data_batch[0]
    elem_type = type(elem)

    if isinstance(elem, (str, bytes)):
        return leaf_fn(data_batch)
    if _is_namedtuple(elem):
        return elem_type(*(_collate(list(samples), leaf_fn)
                           for samples in zip(*data_batch)))
    if isinstance(elem, Mapping):
        result = {}
        for key in elem:
            try:
                values = [d[key] for d in data_batch]
            except KeyError:
                raise KeyError(
                    f'collate: key {key!r} of the first sample is missing '
                    'in another sample of the batch; all samples must have '
                    'the same keys') from None
            result[key] = _collate(values, leaf_fn)
        try:
            return elem_type(result)
        except TypeError:  # a Mapping type that cannot be built from a dict
            return result
    if isinstance(elem, Sequence) and not isinstance(elem, BaseDataElement):
        size = len(elem)
        if any(len(d) != size for d in data_batch):
            raise RuntimeError(
                'collate: every sample of a batch of sequences must have '
                f'the same length, but got lengths '
                f'{[len(d) for d in data_batch]}')
        transposed = [
            _collate(list(samples), leaf_fn) for samples in zip(*data_batch)
        ]
        if isinstance(elem, tuple):  # tuples always take an iterable
            return elem_type(transposed)
        try:
            return elem_type(transposed)
        except TypeError:  # sequence type that cannot take a list
            return transposed
    return leaf_fn(data_batch)


def _keep_list(data_batch: Sequence) -> list:
    return list(data_batch)


@FUNCTIONS.register_module()
def pseudo_collate(data_batch: Sequence) -> Any:
    """Collate a batch without stacking anything.

    The batch is transposed recursively: a list of dicts becomes a dict of
    lists, a list of tuples a tuple of lists (the sequence type is kept);
    tensors, arrays, numbers and data elements end up in per-sample lists.
    This is the default ``collate_fn`` of dataloaders built from configs:
    the model's data preprocessor does the stacking/padding.

    Args:
        data_batch (Sequence): The samples of the batch.

    Returns:
        Any: The batch, with the structure of one sample.

    Examples:
        >>> pseudo_collate([(1, 'a'), (2, 'b')])
        ([1, 2], ['a', 'b'])
        >>> pseudo_collate([{'inputs': 1}, {'inputs': 2}])
        {'inputs': [1, 2]}
    """
    return _collate(data_batch, _keep_list)


def _stack_leaf(data_batch: Sequence) -> Any:
    if len(data_batch) == 0:
        return list(data_batch)
    elem = data_batch[0]
    if isinstance(elem, BaseDataElement):
        # Data elements hold fields of different shapes; keep them per-sample
        return list(data_batch)
    if isinstance(elem, torch.Tensor):
        shapes = {tuple(t.shape) for t in data_batch}
        if len(shapes) > 1:
            raise RuntimeError(
                'default_collate: tensors of a batch must have the same '
                f'shape to be stacked, but got shapes {sorted(shapes)}; use '
                'pseudo_collate (and pad in the data preprocessor) for '
                'samples of different sizes')
    return _torch_default_collate(list(data_batch))


@FUNCTIONS.register_module()
def default_collate(data_batch: Sequence) -> Any:
    """Collate a batch like PyTorch's ``default_collate``.

    Tensors are stacked along a new batch dimension, numbers and numpy
    arrays are converted to tensors, dicts and sequences are handled
    recursively. Unlike PyTorch's version, ``BaseDataElement`` objects are
    left as per-sample lists.

    Args:
        data_batch (Sequence): The samples of the batch.

    Returns:
        Any: The batch, with tensors stacked.

    Examples:
        >>> import torch
        >>> default_collate([(torch.zeros(2), 0), (torch.ones(2), 1)])
        (tensor([[0., 0.],
                [1., 1.]]), tensor([0, 1]))
    """
    return _collate(data_batch, _stack_leaf)
