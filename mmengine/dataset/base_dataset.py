"""``BaseDataset``: the OpenMMLab 2.0 annotation-format dataset base class."""
import copy
import functools
import logging
import operator
import os
import os.path as osp
from collections.abc import Mapping, Sequence
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
from torch.utils.data import Dataset

from mmengine.fileio import join_path, list_from_file, load
from mmengine.logging import print_log
from mmengine.utils import is_abs
from .compose import Compose
from .serialization import (normalize_indices, read_serialized,
                            serialized_subset, serialize_list)

__all__ = ['BaseDataset', 'Compose', 'force_full_init']

# Keys of the OpenMMLab 2.0 annotation format.
_ANN_KEYS = ('metainfo', 'data_list')


def force_full_init(old_func: Callable) -> Callable:
    """Decorate a method so that it fully initialises its object first.

    The object must provide ``full_init()`` and a ``_fully_initialized``
    flag (``BaseDataset`` and the dataset wrappers do). If the flag is false,
    ``full_init()`` is called before the decorated method.

    Args:
        old_func (Callable): The method to decorate.

    Returns:
        Callable: The wrapped method.
    """

    @functools.wraps(old_func)
    def wrapper(obj: object, *args, **kwargs):
        # Fast path first: this wraps ``__len__`` and ``get_data_info``,
        # which every ``__getitem__`` calls.
        if getattr(obj, '_fully_initialized', False):
            return old_func(obj, *args, **kwargs)
        if not hasattr(obj, 'full_init'):
            raise AttributeError(
                f'{type(obj).__name__} has no `full_init` method; '
                f'`force_full_init` (used on {old_func.__name__}) only '
                'decorates methods of objects that implement `full_init`')
        if not hasattr(obj, '_fully_initialized'):
            raise AttributeError(
                f'{type(obj).__name__} has no `_fully_initialized` '
                f'attribute; set it in `__init__` before calling '
                f'{old_func.__name__}')
        print_log(
            f'Attribute `_fully_initialized` of {type(obj).__name__} is '
            f'False, so `full_init` is called before '
            f'`{old_func.__name__}`.',
            logger='current',
            level=logging.DEBUG)
        obj.full_init()  # type: ignore[attr-defined]
        obj._fully_initialized = True  # type: ignore[attr-defined]
        return old_func(obj, *args, **kwargs)

    return wrapper


class BaseDataset(Dataset):
    r"""Base class for datasets in the OpenMMLab 2.0 annotation format.

    The annotation file is a JSON, YAML or pickle file (anything
    :func:`mmengine.fileio.load` reads) holding a dict with two keys::

        {
            'metainfo': {'classes': ('cat', 'dog'), ...},
            'data_list': [{'img_path': 'xxx/xxx_0.jpg', 'img_label': 0},
                          ...]
        }

    Initialisation runs in steps: (1) resolve metainfo (constructor
    ``metainfo`` > class ``METAINFO`` > the file's ``metainfo``, per key; the
    file part is merged during full init), (2) join ``ann_file`` and each
    ``data_prefix`` value onto ``data_root``, (3) build the pipeline, and
    (4) unless ``lazy_init``, :meth:`full_init`: :meth:`load_data_list`,
    :meth:`filter_data`, the ``indices`` subset and the serialization of the
    samples into one numpy byte buffer, which DataLoader workers share
    instead of each holding a copy of a Python list.

    Args:
        ann_file (str, optional): Annotation file path, relative to
            ``data_root`` unless absolute or a URI. Defaults to ''.
        metainfo (Mapping | Config, optional): Meta information that
            overrides ``METAINFO`` and the file's metainfo. A string value
            that is the path of an existing local file is read as a list of
            lines (e.g. a class-name file). Defaults to None.
        data_root (str, optional): Root folder of ``ann_file`` and
            ``data_prefix``. Defaults to ''.
        data_prefix (dict): Prefixes of path fields of each sample, e.g.
            ``dict(img_path='train/')``, joined onto ``data_root`` and then
            onto the matching field by :meth:`parse_data_info`. Defaults to
            ``dict(img_path='')``.
        filter_cfg (dict, optional): Config used by :meth:`filter_data`.
            Defaults to None.
        indices (int | Sequence[int], optional): Keep only this subset (see
            :meth:`get_subset_`), a debugging aid. Defaults to None.
        serialize_data (bool): Serialize the samples into one numpy buffer
            to save memory with multi-worker data loading. Defaults to True.
        pipeline (Sequence[dict | Callable]): Transforms (or their configs)
            applied to each sample. Defaults to [].
        test_mode (bool): In test mode a sample whose pipeline returns
            ``None`` is an error instead of being replaced by another one.
            Defaults to False.
        lazy_init (bool): Skip :meth:`full_init` at construction; it runs on
            first access instead. Defaults to False.
        max_refetch (int): How many other random samples to try when the
            pipeline returns ``None`` in training mode. Defaults to 1000.

    Examples:
        >>> class ToyDataset(BaseDataset):
        ...     METAINFO = dict(classes=('cat', 'dog'))
        >>> ds = ToyDataset(data_root='data/', ann_file='ann.json',
        ...                 data_prefix=dict(img_path='train/'),
        ...                 lazy_init=True)  # reads ann.json on first use
        >>> ds.metainfo
        {'classes': ('cat', 'dog')}
        >>> ds.get_data_info(0)['img_path']  # doctest: +SKIP
        'data/train/xxx/xxx_0.jpg'
    """

    METAINFO: dict = dict()
    _fully_initialized: bool = False

    def __init__(self,
                 ann_file: Optional[str] = '',
                 metainfo: Union[Mapping, Any, None] = None,
                 data_root: Optional[str] = '',
                 data_prefix: dict = dict(img_path=''),
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 pipeline: Sequence[Union[dict, Callable]] = [],
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000):
        # None means "not given"; pathlib paths are accepted as strings.
        self.ann_file = '' if ann_file is None else ann_file
        self.data_root = '' if data_root is None else data_root
        if isinstance(self.ann_file, os.PathLike):
            self.ann_file = os.fspath(self.ann_file)
        if isinstance(self.data_root, os.PathLike):
            self.data_root = os.fspath(self.data_root)
        if not isinstance(self.ann_file, str):
            raise TypeError('ann_file must be a str (a path or URI), but got '
                            f'{type(self.ann_file).__name__}')
        if not isinstance(self.data_root, str):
            raise TypeError('data_root must be a str, but got '
                            f'{type(self.data_root).__name__}')
        if not isinstance(data_prefix, Mapping):
            raise TypeError('data_prefix must be a dict mapping sample keys '
                            'to path prefixes, but got '
                            f'{type(data_prefix).__name__}')
        if filter_cfg is not None and not isinstance(filter_cfg, Mapping):
            raise TypeError('filter_cfg must be a dict or None, but got '
                            f'{type(filter_cfg).__name__}: {filter_cfg!r}')
        if isinstance(max_refetch, bool) or not isinstance(
                max_refetch, int) or max_refetch < 0:
            raise TypeError('max_refetch must be a non-negative int, but got '
                            f'{type(max_refetch).__name__}: {max_refetch!r}')
        self.data_prefix = dict(copy.copy(data_prefix))
        self.filter_cfg = copy.deepcopy(filter_cfg)
        self._indices = indices
        self.serialize_data = serialize_data
        self.test_mode = test_mode
        self.max_refetch = max_refetch
        self.data_list: List[dict] = []
        self._fully_initialized = False
        self.data_bytes: np.ndarray
        self.data_address: np.ndarray

        # Step 1: constructor and class metainfo (the file part comes later).
        self._metainfo = self._load_metainfo(copy.deepcopy(metainfo))
        # Step 2: join ann_file and data_prefix onto data_root.
        self._join_prefix()
        # Step 3: pipeline.
        self.pipeline = Compose(pipeline)
        # Step 4: load annotations, unless deferred.
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        """Load, filter, subset and serialize the annotations, once.

        Called at construction unless ``lazy_init=True``; with lazy init it
        runs on the first call of ``len()``, ``get_data_info``,
        ``__getitem__``, ``get_subset`` or ``get_subset_``. Calling it again
        does nothing. Call it before handing a lazily initialised dataset to
        a multi-worker DataLoader, otherwise every worker parses the
        annotations.
        """
        if self._fully_initialized:
            return
        self.data_list = self.load_data_list()
        self.data_list = self.filter_data()
        if self._indices is not None:
            self.data_list = self._get_unserialized_subset(self._indices)
        if self.serialize_data:
            self.data_bytes, self.data_address = self._serialize_data()
        self._fully_initialized = True

    def load_data_list(self) -> List[dict]:
        """Load the annotation file and parse every raw data item.

        Override this for annotations that do not follow the OpenMMLab 2.0
        format (or have no file at all); it must return a list of dicts.

        Returns:
            list[dict]: One dict per sample.
        """
        if not self.ann_file:
            raise TypeError(
                f'{type(self).__name__}: ann_file is empty, so there is no '
                'annotation file to load; pass ann_file=... or override '
                '`load_data_list()` to build the data list another way')
        try:
            annotations = load(self.ann_file)
        except TypeError as e:  # e.g. an unsupported file extension
            raise TypeError(f'Cannot load the annotation file '
                            f'{self.ann_file!r}: {e}') from e
        if not isinstance(annotations, dict):
            raise TypeError(
                f'The annotation file {self.ann_file!r} must contain a dict '
                f"with keys {list(_ANN_KEYS)} (OpenMMLab 2.0 format), but "
                f'it contains a {type(annotations).__name__}')
        missing = [key for key in _ANN_KEYS if key not in annotations]
        if missing:
            raise ValueError(
                f'The annotation file {self.ann_file!r} is missing the '
                f'key(s) {missing}; an OpenMMLab 2.0 annotation file must '
                f'have the keys {list(_ANN_KEYS)} (found: '
                f'{sorted(map(str, annotations))})')
        metainfo = annotations['metainfo']
        raw_data_list = annotations['data_list']
        if not isinstance(metainfo, dict):
            raise TypeError(
                f"'metainfo' in annotation file {self.ann_file!r} must be a "
                f'dict, but got {type(metainfo).__name__}')
        if not isinstance(raw_data_list, list):
            raise TypeError(
                f"'data_list' in annotation file {self.ann_file!r} must be "
                f'a list, but got {type(raw_data_list).__name__}')

        # File metainfo has the lowest priority: it only fills missing keys.
        for key, value in metainfo.items():
            self._metainfo.setdefault(key, value)

        data_list = []
        for i, raw_data_info in enumerate(raw_data_list):
            data_info = self.parse_data_info(raw_data_info)
            if isinstance(data_info, dict):
                data_list.append(data_info)
            elif isinstance(data_info, list):
                for item in data_info:
                    if not isinstance(item, dict):
                        raise TypeError(
                            'parse_data_info must return a dict or a list of '
                            f'dicts, but for item {i} of {self.ann_file!r} '
                            f'it returned a list containing a '
                            f'{type(item).__name__}')
                data_list.extend(data_info)
            else:
                raise TypeError(
                    'parse_data_info must return a dict or a list of dicts, '
                    f'but for item {i} of {self.ann_file!r} it returned a '
                    f'{type(data_info).__name__}')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """Turn one raw item of ``data_list`` into one or more samples.

        The default joins each non-empty ``data_prefix`` value onto the field
        of the same name. Override it to convert the raw format; return a
        list of dicts to expand one raw item into several samples (e.g. the
        frames of a video).

        Args:
            raw_data_info (dict): One item of the annotation's ``data_list``.

        Returns:
            dict | list[dict]: The parsed sample(s).
        """
        if not isinstance(raw_data_info, dict):
            raise TypeError(
                f'Items of data_list in {self.ann_file!r} must be dicts, but '
                f'got a {type(raw_data_info).__name__}: {raw_data_info!r}')
        for prefix_key, prefix in self.data_prefix.items():
            if prefix_key not in raw_data_info:
                if not prefix:
                    continue  # nothing to join, e.g. default img_path=''
                raise KeyError(
                    f'data_prefix has key {prefix_key!r} but a data item of '
                    f'{self.ann_file!r} has no such field (fields: '
                    f'{sorted(map(str, raw_data_info))})')
            raw_data_info[prefix_key] = join_path(prefix,
                                                  raw_data_info[prefix_key])
        return raw_data_info

    def filter_data(self) -> List[dict]:
        """Filter ``self.data_list`` using ``self.filter_cfg``.

        The default keeps every sample; subclasses implement their own rules
        (e.g. ``filter_cfg=dict(filter_empty_gt=True, min_size=32)``).

        Returns:
            list[dict]: The kept samples.
        """
        return self.data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """Category ids of sample ``idx`` (used by ``ClassBalancedDataset``).

        Subclasses that can be class-balanced must implement this.

        Args:
            idx (int): Sample index.

        Returns:
            list[int]: The categories present in the sample.
        """
        raise NotImplementedError(
            f'{type(self).__name__} does not implement `get_cat_ids(idx)`, '
            'which ClassBalancedDataset needs; override it to return the '
            'category ids of a sample')

    @classmethod
    def _load_metainfo(cls, metainfo: Union[Mapping, Any, None] = None
                       ) -> dict:
        """Merge the class ``METAINFO`` with the constructor ``metainfo``.

        Constructor values win. String values that are paths of existing
        local files are read as lists of lines (e.g. class-name files).
        """
        cls_metainfo = copy.deepcopy(cls.METAINFO)
        if metainfo is None:
            return cls_metainfo
        if not isinstance(metainfo, Mapping):
            from mmengine.config import Config  # lazy: config is optional
            if not isinstance(metainfo, Config):
                raise TypeError(
                    'metainfo should be a Mapping or Config, but got '
                    f'{type(metainfo).__name__}: {metainfo!r}')
            metainfo = metainfo.to_dict()
        for key, value in metainfo.items():
            if isinstance(value, str) and osp.isfile(value):
                cls_metainfo[key] = list_from_file(value)
            else:
                cls_metainfo[key] = value
        return cls_metainfo

    def _join_prefix(self) -> None:
        """Join ``ann_file`` and the ``data_prefix`` values onto data_root.

        Absolute paths and URIs are kept as they are.
        """
        if self.ann_file and not is_abs(self.ann_file) and self.data_root:
            self.ann_file = join_path(self.data_root, self.ann_file)
        for key, prefix in self.data_prefix.items():
            if not isinstance(prefix, str):
                raise TypeError(
                    f'data_prefix[{key!r}] must be a str, but got '
                    f'{type(prefix).__name__}: {prefix!r}')
            if not is_abs(prefix) and self.data_root:
                self.data_prefix[key] = join_path(self.data_root, prefix)

    # ------------------------------------------------------------------
    # Serialization and subsets
    # ------------------------------------------------------------------
    def _serialize_data(self) -> Tuple[np.ndarray, np.ndarray]:
        """Pack ``data_list`` into one byte buffer (see
        :func:`~mmengine.dataset.serialization.serialize_list`) and free the
        Python list."""
        data_bytes, data_address = serialize_list(self.data_list)
        # Rebind rather than clear(): the list may be shared by the caller.
        self.data_list = []
        return data_bytes, data_address

    def _get_unserialized_subset(
            self, indices: Union[int, Sequence[int]]) -> List[dict]:
        """Select samples from the plain ``data_list``."""
        selection = normalize_indices(indices, len(self.data_list))
        if isinstance(selection, slice):
            return self.data_list[selection]
        return [self.data_list[i] for i in selection]

    def _get_serialized_subset(
        self, indices: Union[int, Sequence[int]]
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Select samples from the serialized buffer without unpickling."""
        return serialized_subset(self.data_bytes, self.data_address, indices)

    def _copy_without_annotation(self, memo: Optional[dict] = None
                                 ) -> 'BaseDataset':
        """Deep copy everything except the (possibly huge) sample storage."""
        memo = {} if memo is None else memo
        cls = self.__class__
        other = cls.__new__(cls)
        memo[id(self)] = other
        for key, value in self.__dict__.items():
            if key in ('data_list', 'data_bytes', 'data_address'):
                continue
            setattr(other, key, copy.deepcopy(value, memo))
        other.data_list = []
        return other

    @force_full_init
    def get_subset_(self, indices: Union[Sequence[int], int]) -> None:
        """Keep only the selected samples, in place.

        Args:
            indices (int | Sequence[int]): An int ``n`` keeps the first ``n``
                samples (the last ``|n|`` if negative); a sequence keeps
                those samples in the given order (negative values count from
                the end).
        """
        if self.serialize_data:
            self.data_bytes, self.data_address = \
                self._get_serialized_subset(indices)
        else:
            self.data_list = self._get_unserialized_subset(indices)

    @force_full_init
    def get_subset(self, indices: Union[Sequence[int], int]) -> 'BaseDataset':
        """Return a new dataset holding the selected samples.

        The selection rules are those of :meth:`get_subset_`; the original
        dataset is left unchanged.

        Args:
            indices (int | Sequence[int]): Samples to keep.

        Returns:
            BaseDataset: A dataset of the same class with those samples.
        """
        sub_dataset = self._copy_without_annotation()
        if self.serialize_data:
            sub_dataset.data_bytes, sub_dataset.data_address = \
                self._get_serialized_subset(indices)
        else:
            sub_dataset.data_list = self._get_unserialized_subset(indices)
        return sub_dataset

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    @property
    def metainfo(self) -> dict:
        """dict: A deep copy of the dataset's meta information."""
        return copy.deepcopy(self._metainfo)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Return the data information of sample ``idx`` (before pipeline).

        The result is a fresh copy with ``sample_idx`` (the non-negative
        index) added, so callers cannot corrupt the stored annotations.

        Args:
            idx (int): Sample index; negative values count from the end.

        Returns:
            dict: The sample's information.
        """
        try:
            idx = operator.index(idx)  # ints, numpy ints, int tensors
        except TypeError:
            raise TypeError(f'{type(self).__name__} indices must be ints, '
                            f'but got {type(idx).__name__}: {idx!r}') from None
        length = len(self)
        if not -length <= idx < length:
            raise IndexError(f'index {idx} is out of range for '
                             f'{type(self).__name__} of {length} samples')
        if self.serialize_data:
            data_info = read_serialized(self.data_bytes, self.data_address,
                                        idx % length)
        else:
            data_info = copy.deepcopy(self.data_list[idx])
        data_info['sample_idx'] = idx if idx >= 0 else length + idx
        return data_info

    def prepare_data(self, idx: int) -> Any:
        """Fetch sample ``idx`` and run it through the pipeline.

        Args:
            idx (int): Sample index.

        Returns:
            Any: The pipeline's output (``None`` marks an invalid sample).
        """
        data_info = self.get_data_info(idx)
        return self.pipeline(data_info)

    def _rand_another(self) -> int:
        """Return a random sample index, used to replace invalid samples."""
        return np.random.randint(0, len(self))

    def __getitem__(self, idx: int) -> Any:
        """Return the processed sample ``idx``.

        In training mode, when the pipeline returns ``None`` another random
        sample is tried, up to ``max_refetch`` times. In ``test_mode`` a
        ``None`` is an error, since every test sample must be evaluated.

        Args:
            idx (int): Sample index.

        Returns:
            Any: The output of the pipeline, fed to the model.
        """
        if not self._fully_initialized:
            print_log(
                'Please call `full_init()` method manually to accelerate '
                'the speed.',
                logger='current',
                level=logging.WARNING)
            self.full_init()

        if self.test_mode:
            data = self.prepare_data(idx)
            if data is None:
                raise RuntimeError(
                    f'The pipeline returned None for sample {idx} in '
                    'test_mode; test-time pipelines must not drop samples')
            return data

        first_idx = idx
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            # None means the sample is invalid: try a random other one.
            if data is None:
                idx = self._rand_another()
                continue
            return data
        raise RuntimeError(
            f'Cannot find a valid sample after {self.max_refetch} refetches '
            f'(starting from index {first_idx}): the pipeline kept '
            'returning None. Please check the data paths and the pipeline.')

    @force_full_init
    def __len__(self) -> int:
        """int: The number of samples."""
        if self.serialize_data:
            return len(self.data_address)
        return len(self.data_list)
