"""Dataset wrappers: ``ConcatDataset``, ``RepeatDataset``,
``ClassBalancedDataset``.

Every wrapper follows the same protocol (which custom wrappers should copy):
accept a dataset instance or a config built from ``DATASETS``, record the
wrapped dataset's metainfo, and call :meth:`full_init` at construction unless
``lazy_init=True``. ``full_init`` is idempotent and first fully initialises
the wrapped dataset(s); index-mapping helpers, ``get_data_info`` and
``__len__`` use :func:`force_full_init`; ``__getitem__`` warns and
initialises if needed.
"""
import bisect
import copy
import logging
import math
from collections import defaultdict
from typing import Any, List, Sequence, Tuple, Union

import numpy as np
from torch.utils.data import Dataset

from mmengine.logging import print_log
from mmengine.registry import DATASETS
from .base_dataset import BaseDataset, force_full_init

__all__ = ['ConcatDataset', 'RepeatDataset', 'ClassBalancedDataset']

# What a wrapped dataset must provide (BaseDataset and the wrappers do).
_DATASET_PROTOCOL = ('metainfo', 'full_init', 'get_data_info', '__len__',
                     '__getitem__')


def _build_dataset(dataset: Any, owner: str, position: str = 'dataset'):
    """Build ``dataset`` from a config or check it is a usable dataset."""
    if isinstance(dataset, dict):
        return DATASETS.build(dataset)
    if isinstance(dataset, BaseDataset) or all(
            hasattr(dataset, attr) for attr in _DATASET_PROTOCOL):
        return dataset
    raise TypeError(
        f'{owner}: {position} must be a config dict or a BaseDataset '
        '(or a dataset wrapper providing metainfo, full_init, '
        f'get_data_info, __len__ and __getitem__), but got '
        f'{type(dataset).__name__}')


def _values_equal(a: Any, b: Any) -> bool:
    """Compare two metainfo values, including numpy arrays and tensors."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            _values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(
            _values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.all(a == b))
    result = a == b
    if isinstance(result, bool):
        return result
    try:  # tensors and other array-likes
        return bool(result.all())
    except Exception:
        return False


class _WrapperMixin:
    """Behaviour shared by the wrappers (subset errors, metainfo copy)."""

    _metainfo: dict
    _fully_initialized: bool

    @property
    def metainfo(self) -> dict:
        """dict: A deep copy of the wrapped dataset's meta information."""
        return copy.deepcopy(self._metainfo)

    def _warn_and_init(self) -> None:
        if not self._fully_initialized:
            print_log(
                'Please call `full_init` method manually to accelerate '
                'the speed.',
                logger='current',
                level=logging.WARNING)
            self.full_init()  # type: ignore[attr-defined]

    def get_subset_(self, indices: Union[List[int], int]) -> None:
        """Not supported by wrappers; subset the wrapped dataset instead."""
        raise NotImplementedError(
            f'`{type(self).__name__}` does not support `get_subset_`: the '
            'index mapping of a wrapper is derived from its datasets. Call '
            '`get_subset_` (or pass `indices`) on the wrapped dataset(s) '
            'before wrapping them.')

    def get_subset(self, indices: Union[List[int], int]) -> Any:
        """Not supported by wrappers; subset the wrapped dataset instead."""
        raise NotImplementedError(
            f'`{type(self).__name__}` does not support `get_subset`: the '
            'index mapping of a wrapper is derived from its datasets. Call '
            '`get_subset` (or pass `indices`) on the wrapped dataset(s) '
            'before wrapping them.')


@DATASETS.register_module()
class ConcatDataset(_WrapperMixin, Dataset):
    """Concatenate several datasets into one.

    Index ``i`` is mapped to ``(dataset_idx, sample_idx)``; negative indices
    count from the end of the concatenation. All datasets must share the
    same metainfo, except for the keys listed in ``ignore_keys``; the
    concatenation's metainfo is that of the first dataset.

    Args:
        datasets (Sequence[BaseDataset | dict]): Datasets or their configs.
        lazy_init (bool): Defer :meth:`full_init`. Defaults to False.
        ignore_keys (str | list[str], optional): Metainfo keys allowed to
            differ between datasets. Defaults to None.
    """

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 lazy_init: bool = False,
                 ignore_keys: Union[str, List[str], None] = None):
        if isinstance(datasets, (dict, str)) or not isinstance(
                datasets, Sequence):
            raise TypeError('ConcatDataset: datasets must be a sequence of '
                            'datasets or configs, but got '
                            f'{type(datasets).__name__}')
        self.datasets: List[Any] = [
            _build_dataset(d, 'ConcatDataset', f'datasets[{i}]')
            for i, d in enumerate(datasets)
        ]
        if not self.datasets:
            raise ValueError('ConcatDataset needs at least one dataset')

        if ignore_keys is None:
            self.ignore_keys: List[str] = []
        elif isinstance(ignore_keys, str):
            self.ignore_keys = [ignore_keys]
        elif isinstance(ignore_keys, list) and all(
                isinstance(k, str) for k in ignore_keys):
            self.ignore_keys = list(ignore_keys)
        else:
            raise TypeError('ConcatDataset: ignore_keys must be a str or a '
                            'list of str, but got '
                            f'{type(ignore_keys).__name__}: {ignore_keys!r}')

        self._metainfo = self._check_metainfo()
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    def _check_metainfo(self) -> dict:
        """Check every dataset's metainfo matches the first one's."""
        first = self.datasets[0].metainfo
        for i, dataset in enumerate(self.datasets[1:], start=1):
            other = dataset.metainfo
            for key in sorted(set(first) | set(other), key=str):
                if key in self.ignore_keys:
                    continue
                if key not in first or key not in other:
                    owner = 'first' if key not in first else f'{i}-th'
                    raise ValueError(
                        f'ConcatDataset: metainfo key {key!r} is missing in '
                        f'the {owner} dataset but present in the other '
                        f'(comparing datasets 0 and {i}); add it to '
                        '`ignore_keys` if the difference is intended')
                if not _values_equal(first[key], other[key]):
                    raise ValueError(
                        f'ConcatDataset: metainfo key {key!r} differs '
                        f'between dataset 0 ({first[key]!r}) and dataset {i}'
                        f' ({other[key]!r}); add it to `ignore_keys` if the '
                        'difference is intended')
        return first

    def full_init(self) -> None:
        """Fully initialise every dataset and build the index mapping."""
        if self._fully_initialized:
            return
        for dataset in self.datasets:
            dataset.full_init()
        # Lazily initialised datasets only now know their file metainfo.
        self._metainfo = self._check_metainfo()
        self.cumulative_sizes: List[int] = np.cumsum(
            [len(d) for d in self.datasets]).tolist()
        self._fully_initialized = True

    @force_full_init
    def _get_ori_dataset_idx(self, idx: int) -> Tuple[int, int]:
        """Map a global index to ``(dataset_idx, sample_idx)``.

        Args:
            idx (int): Global index, negative values count from the end.

        Returns:
            tuple[int, int]: The dataset index and the index inside it.
        """
        length = len(self)
        if idx < 0:
            if -idx > length:
                raise ValueError(
                    f'absolute value of index ({idx}) should not exceed the '
                    f'dataset length ({length})')
            idx = length + idx
        elif idx >= length:
            raise IndexError(f'index {idx} is out of range for '
                             f'ConcatDataset of {length} samples')
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else \
            idx - self.cumulative_sizes[dataset_idx - 1]
        return dataset_idx, sample_idx

    # Public, descriptive spelling of the same mapping.
    get_dataset_idx_and_sample_idx = _get_ori_dataset_idx

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Data information of global sample ``idx``."""
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        return self.datasets[dataset_idx].get_data_info(sample_idx)

    @force_full_init
    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        self._warn_and_init()
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        return self.datasets[dataset_idx][sample_idx]


@DATASETS.register_module()
class RepeatDataset(_WrapperMixin, Dataset):
    """Repeat a dataset ``times`` times (index ``i`` → ``i % len``).

    Useful when data loading is slow and epochs are short.

    Args:
        dataset (BaseDataset | dict): The dataset or its config.
        times (int): Number of repetitions.
        lazy_init (bool): Defer :meth:`full_init`. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 times: int,
                 lazy_init: bool = False):
        self.dataset = _build_dataset(dataset, 'RepeatDataset')
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError('RepeatDataset: times must be a non-negative '
                            f'int, but got {type(times).__name__}: '
                            f'{times!r}')
        if times < 0:
            raise ValueError('RepeatDataset: times must be a non-negative '
                             f'int, but got {times!r}')
        self.times = times
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        """Fully initialise the wrapped dataset."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._metainfo = self.dataset.metainfo
        self._ori_len = len(self.dataset)
        self._fully_initialized = True

    @force_full_init
    def _get_ori_dataset_idx(self, idx: int) -> int:
        """Index in the wrapped dataset of global sample ``idx``."""
        length = len(self)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} is out of range for '
                             f'RepeatDataset of {length} samples')
        return (idx % length) % self._ori_len

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Data information of global sample ``idx``."""
        return self.dataset.get_data_info(self._get_ori_dataset_idx(idx))

    @force_full_init
    def __len__(self) -> int:
        return self.times * self._ori_len

    def __getitem__(self, idx: int) -> Any:
        self._warn_and_init()
        return self.dataset[self._get_ori_dataset_idx(idx)]


@DATASETS.register_module()
class ClassBalancedDataset(_WrapperMixin, Dataset):
    """Oversample images of rare categories (repeat factor sampling, LVIS).

    With ``f(c)`` the fraction of samples containing category ``c``:

    1. category repeat factor ``r(c) = max(1, sqrt(t / f(c)))``, with ``t``
       the ``oversample_thr``;
    2. sample repeat factor ``r(I) = max(r(c) for c in I)`` (1 if the sample
       has no category);
    3. each sample is repeated ``ceil(r(I))`` times.

    The wrapped dataset must implement ``get_cat_ids(idx)``.

    Args:
        dataset (BaseDataset | dict): The dataset or its config.
        oversample_thr (float): Frequency threshold below which categories
            are oversampled.
        lazy_init (bool): Defer :meth:`full_init`. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 oversample_thr: float,
                 lazy_init: bool = False):
        self.dataset = _build_dataset(dataset, 'ClassBalancedDataset')
        if not hasattr(self.dataset, 'get_cat_ids'):
            raise TypeError('ClassBalancedDataset: the wrapped '
                            f'{type(self.dataset).__name__} has no '
                            '`get_cat_ids(idx)` method')
        if isinstance(oversample_thr, bool) or not isinstance(
                oversample_thr, (int, float)):
            raise TypeError('ClassBalancedDataset: oversample_thr must be a '
                            'float, but got '
                            f'{type(oversample_thr).__name__}: '
                            f'{oversample_thr!r}')
        if not oversample_thr >= 0:  # also rejects NaN
            raise ValueError('ClassBalancedDataset: oversample_thr must be '
                             f'>= 0, but got {oversample_thr!r}')
        self.oversample_thr = float(oversample_thr)
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        """Initialise the wrapped dataset and compute ``repeat_indices``."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._metainfo = self.dataset.metainfo
        repeat_factors = self._get_repeat_factors(self.dataset,
                                                  self.oversample_thr)
        repeat_indices: List[int] = []
        for dataset_idx, factor in enumerate(repeat_factors):
            repeat_indices.extend([dataset_idx] * math.ceil(factor))
        self.repeat_indices = repeat_indices
        self._fully_initialized = True

    def _get_repeat_factors(self, dataset: Any,
                            repeat_thr: float) -> List[float]:
        """Repeat factor of every sample of ``dataset``.

        Args:
            dataset: The wrapped dataset.
            repeat_thr (float): The oversampling threshold.

        Returns:
            list[float]: One repeat factor per sample.
        """
        num_samples = len(dataset)
        cat_ids_per_sample = []
        category_count: defaultdict = defaultdict(int)
        for idx in range(num_samples):
            cat_ids = set(dataset.get_cat_ids(idx))
            cat_ids_per_sample.append(cat_ids)
            for cat_id in cat_ids:
                category_count[cat_id] += 1
        category_repeat = {
            cat_id: max(1.0, math.sqrt(repeat_thr / (count / num_samples)))
            for cat_id, count in category_count.items()
        }
        return [
            max((category_repeat[c] for c in cat_ids), default=1.0)
            for cat_ids in cat_ids_per_sample
        ]

    @force_full_init
    def _get_ori_dataset_idx(self, idx: int) -> int:
        """Index in the wrapped dataset of global sample ``idx``."""
        length = len(self.repeat_indices)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} is out of range for '
                             f'ClassBalancedDataset of {length} samples')
        return self.repeat_indices[idx]

    @force_full_init
    def get_cat_ids(self, idx: int) -> List[int]:
        """Category ids of global sample ``idx``."""
        return self.dataset.get_cat_ids(self._get_ori_dataset_idx(idx))

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Data information of global sample ``idx``."""
        return self.dataset.get_data_info(self._get_ori_dataset_idx(idx))

    @force_full_init
    def __len__(self) -> int:
        return len(self.repeat_indices)

    def __getitem__(self, idx: int) -> Any:
        self._warn_and_init()
        return self.dataset[self._get_ori_dataset_idx(idx)]
