"""The shared-memory sample store of ``BaseDataset`` (``serialize_data``).

Every sample is pickled into one ``uint8`` numpy buffer with an ``int64``
array of cumulative end offsets. Reading a sample touches no per-sample
Python object, so forked DataLoader workers keep sharing the parent's pages,
whereas a list of dicts is copied page by page as reference counts change.
"""
import pickle
from collections.abc import Sequence
from typing import List, Tuple, Union

import numpy as np

__all__ = [
    'serialize_list', 'read_serialized', 'serialized_subset',
    'normalize_indices'
]


def serialize_list(data_list: List[dict]) -> Tuple[np.ndarray, np.ndarray]:
    """Pickle every sample into one byte buffer plus end offsets.

    Args:
        data_list (list[dict]): The samples.

    Returns:
        tuple[np.ndarray, np.ndarray]: The ``uint8`` buffer and the
        ``int64`` cumulative end offset of each sample.
    """
    parts = [
        pickle.dumps(info, protocol=pickle.HIGHEST_PROTOCOL)
        for info in data_list
    ]
    data_address = np.cumsum(
        np.fromiter((len(p) for p in parts), dtype=np.int64,
                    count=len(parts)),
        dtype=np.int64)
    data_bytes = np.frombuffer(b''.join(parts), dtype=np.uint8)
    return data_bytes, data_address


def read_serialized(data_bytes: np.ndarray, data_address: np.ndarray,
                    idx: int) -> dict:
    """Unpickle sample ``idx`` (non-negative) from the buffer."""
    start = 0 if idx == 0 else int(data_address[idx - 1])
    end = int(data_address[idx])
    return pickle.loads(memoryview(data_bytes[start:end]))


def normalize_indices(indices: Union[int, Sequence[int]],
                      length: int) -> Union[slice, List[int]]:
    """Turn ``indices`` into a slice (int form) or a list of ints.

    An int ``n >= 0`` keeps the first ``n`` samples, ``n < 0`` the last
    ``|n|``; a sequence keeps those indices (negative ones count from the
    end).

    Raises:
        TypeError: ``indices`` is not an int or a sequence of ints.
        IndexError: an index is out of range.
    """
    if isinstance(indices, (bool, np.bool_)):
        raise TypeError('indices must be an int or a sequence of ints, '
                        'but got a bool')
    if isinstance(indices, (int, np.integer)):
        n = int(indices)
        # n >= 0 keeps the first n samples, n < 0 the last |n|.
        return slice(0, n) if n >= 0 else slice(max(length + n, 0),
                                                 length)
    if isinstance(indices, np.ndarray):
        indices = indices.tolist()
    if not isinstance(indices, Sequence) or isinstance(indices, str):
        raise TypeError('indices must be an int or a sequence of ints, '
                        f'but got {type(indices).__name__}')
    result = []
    for idx in indices:
        if isinstance(idx, (bool, np.bool_)) or not isinstance(
                idx, (int, np.integer)):
            raise TypeError('indices must contain only ints, but got '
                            f'{type(idx).__name__}: {idx!r}')
        idx = int(idx)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} is out of range for a dataset '
                             f'of {length} samples')
        result.append(idx % length)
    return result


def serialized_subset(
    data_bytes: np.ndarray, data_address: np.ndarray,
    indices: Union[int, Sequence[int]]
) -> Tuple[np.ndarray, np.ndarray]:
    """Select samples from the buffer without unpickling them.

    Args:
        data_bytes (np.ndarray): The buffer.
        data_address (np.ndarray): Cumulative end offsets.
        indices (int | Sequence[int]): As for :func:`normalize_indices`.

    Returns:
        tuple[np.ndarray, np.ndarray]: The new buffer and offsets.
    """
    ends = data_address
    starts = np.concatenate([np.zeros(1, dtype=np.int64), ends[:-1]])
    selection = normalize_indices(indices, len(ends))
    if isinstance(selection, slice):
        # Contiguous block: copy one byte range, shift the offsets.
        begin, end = selection.start, min(selection.stop, len(ends))
        if end <= begin:
            return (np.zeros(0, dtype=np.uint8),
                    np.zeros(0, dtype=np.int64))
        offset = starts[begin]
        data_bytes = data_bytes[offset:ends[end - 1]].copy()
        return data_bytes, ends[begin:end] - offset
    if not selection:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    sel = np.asarray(selection, dtype=np.int64)
    data_bytes = np.concatenate(
        [data_bytes[starts[i]:ends[i]] for i in selection])
    data_address = np.cumsum(ends[sel] - starts[sel], dtype=np.int64)
    return data_bytes, data_address
