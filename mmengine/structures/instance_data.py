"""``InstanceData``: per-instance annotations or predictions (boxes, labels,
masks...) whose data fields all have the same length."""
from collections.abc import Sized
from typing import Any, List, Optional, Sequence, Tuple, Type, Union

import numpy as np
import torch

from .base_data_element import BaseDataElement

IndexType = Union[str, slice, int, list, torch.LongTensor,
                  torch.BoolTensor, np.ndarray]


class InstanceData(BaseDataElement):
    """Data element whose data fields describe the same set of instances.

    Every data field must have the same length (the number of instances).
    Supported field types: ``torch.Tensor``, ``numpy.ndarray``, ``list``,
    ``str``, ``tuple`` and any type implementing ``__len__``,
    ``__getitem__`` (with slices) and a ``cat`` class/static method.

    Indexing (``inst[idx]``) returns a new ``InstanceData`` with the same
    metainfo; ``idx`` may be an int (the dimension is kept), a slice (any
    step), a list of ints or bools, or a 1-D long/bool tensor or numpy
    array; a bool mask needs one entry per instance. Tuples are refused
    (there is only one instance axis). A string key returns the data field
    of that name. Empty selections keep each field's trailing shape.

    Examples:
        >>> import torch
        >>> inst = InstanceData(metainfo=dict(img_shape=(8, 8)))
        >>> inst.labels = torch.tensor([2, 3])
        >>> inst.scores = torch.tensor([0.8, 0.3])
        >>> len(inst[inst.scores > 0.5])
        1
        >>> len(InstanceData.cat([inst, inst]))
        4
    """

    def set_field(self,
                  value: Any,
                  name: str,
                  dtype: Optional[Union[Type, Tuple[Type, ...]]] = None,
                  field_type: str = 'data') -> None:
        """Set a field; data fields must match the length of the others.

        Attribute assignment, ``set_data`` and direct ``set_field`` calls
        all land here, so none of them can store a field of another length.
        See :meth:`BaseDataElement.set_field` for the arguments.
        """
        if (field_type == 'data' and name not in self._metainfo_fields
                and (dtype is None or isinstance(value, dtype))):
            self._check_length(name, value)
        super().set_field(value, name, dtype=dtype, field_type=field_type)

    def _check_length(self, name: str, value: Any) -> None:
        assert isinstance(value, Sized), (
            f'value of `{name}` must contain `__len__` attribute, but '
            f'got {type(value)}')
        try:
            value_len = len(value)
        except TypeError as e:  # 0-d tensors/arrays define __len__
            raise TypeError(
                f'value of `{name}` must have a length (one entry per '
                f'instance), but len() failed on {type(value)}: {e}'
            ) from e
        # Any existing field fixes the length, even an empty one: an
        # empty selection must not accept fields of other lengths.
        if self._data_fields:
            num = len(self)
            assert value_len == num, (
                f'the length of values {value_len} is not consistent '
                f'with the length of this :obj:`InstanceData` {num} '
                f'(setting field `{name}`)')

    def _set_field_unchecked(self, name: str, value: Any) -> None:
        # ``object.__setattr__`` still honours typed properties.
        object.__setattr__(self, name, value)
        self._data_fields.add(name)

    def __setitem__(self, name: str, value: Any) -> None:
        """Set a data field with ``inst['labels'] = value``."""
        if not isinstance(name, str):
            raise TypeError(
                f'InstanceData only supports string keys in item '
                f'assignment, but got {type(name)}')
        setattr(self, name, value)

    def __len__(self) -> int:
        for name in self._data_fields:
            return len(getattr(self, name))
        return 0

    # ------------------------------------------------------------------
    # indexing
    # ------------------------------------------------------------------
    def _normalize_index(self, item: Any) -> Union[slice, torch.Tensor]:
        """Turn any supported index into a slice or a 1-D long/bool
        tensor, validating it against ``len(self)``."""
        num = len(self)
        if isinstance(item, torch.Tensor):
            if item.dtype == torch.uint8:
                # torch reads a uint8 index as a (deprecated) mask, numpy
                # as positions: refuse rather than guess
                raise TypeError(
                    'A torch.uint8 tensor is an ambiguous index of '
                    'InstanceData (mask or positions); use a bool tensor '
                    'as a mask or a long tensor of positions')
            return self._check_tensor_index(item, num)
        if isinstance(item, bool):
            raise TypeError('A bool is not a valid index of InstanceData; '
                            'use a bool tensor or list as a mask')
        if isinstance(item, (int, np.integer)):
            item = int(item)
            if item >= num or item < -num:
                raise IndexError(
                    f'Index {item} out of range for InstanceData of '
                    f'length {num}')
            # A strided slice picks exactly one element and keeps the dim.
            return slice(item, None, num)
        if isinstance(item, slice):
            if item.step is not None and item.step < 0:
                # Tensors refuse negative steps; spell the slice out.
                return torch.tensor(
                    range(*item.indices(num)), dtype=torch.long)
            return item
        if isinstance(item, tuple):
            raise TypeError(
                f'InstanceData does not support tuple (multi-dimensional) '
                f'indexing, got {item!r}; use a list, a 1-D long/bool tensor '
                f'or numpy array to select instances')
        if isinstance(item, list):
            if len(item) == 0:
                return torch.zeros(0, dtype=torch.long)
            is_bool = [isinstance(i, (bool, np.bool_)) for i in item]
            if not (all(is_bool) or not any(is_bool) and all(
                    isinstance(i, (int, np.integer)) for i in item)):
                raise TypeError(
                    f'A list index of InstanceData must contain only ints or '
                    f'only bools, but got {[type(i).__name__ for i in item]}')
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            if item.dtype != np.bool_ and not np.issubdtype(
                    item.dtype, np.integer):
                raise TypeError(
                    f'A numpy index of InstanceData must be integer or '
                    f'bool, but got dtype {item.dtype}')
            item = torch.from_numpy(item)
        if isinstance(item, torch.Tensor):
            return self._check_tensor_index(item, num)
        raise TypeError(
            f'Unsupported type {type(item)} for indexing InstanceData; '
            f'expected str, int, slice, list, numpy.ndarray, '
            f'torch.LongTensor or torch.BoolTensor')

    @staticmethod
    def _check_tensor_index(item: torch.Tensor, num: int) -> torch.Tensor:
        if item.dim() != 1:
            raise ValueError(
                f'A tensor index of InstanceData must be 1-D, but got '
                f'shape {tuple(item.shape)}')
        if item.dtype == torch.bool:
            assert len(item) == num, (
                f'The shape of the input(BoolTensor) {len(item)} does '
                f'not match the shape of the indexed tensor in results '
                f'{num}: a bool mask needs one entry per instance of the '
                f'InstanceData')
            return item
        if item.dtype.is_floating_point or item.dtype.is_complex:
            raise TypeError(
                f'A tensor index of InstanceData must be long or bool, '
                f'but got {item.dtype}')
        item = item.long()
        if item.numel() > 0:
            hi, lo = int(item.max()), int(item.min())
            if hi >= num or lo < -num:
                raise IndexError(
                    f'Index {hi if hi >= num else lo} out of range for '
                    f'InstanceData of length {num} (valid: {-num} to '
                    f'{num - 1})')
        return item

    def __getitem__(self, item: IndexType) -> Any:
        """Return the data field ``item`` (str) or a new ``InstanceData``
        holding the selected instances (any other index)."""
        if isinstance(item, str):
            return getattr(self, item)
        index = self._normalize_index(item)
        new_data = self.__class__(metainfo=self.metainfo)
        if isinstance(index, slice):
            for k, v in self.items():
                setattr(new_data, k, v[index])
            return new_data

        positions = None  # lazily computed python ints for sequences
        np_index = None
        for k, v in self.items():
            # Tensor and array results have the selected length by
            # construction, so they skip the length check (hot path).
            if isinstance(v, torch.Tensor):
                if index.device != v.device:
                    index = index.to(v.device)
                new_data._set_field_unchecked(k, v[index])
            elif isinstance(v, np.ndarray):
                if np_index is None:
                    np_index = index.cpu().numpy()
                new_data._set_field_unchecked(k, v[np_index])
            elif isinstance(v, InstanceData):
                # Nested instances take the whole index at once.
                new_data._set_field_unchecked(k, v[index])
            else:
                if positions is None:
                    positions = _index_to_positions(index)
                setattr(new_data, k, _take_from_sequence(k, v, positions))
        return new_data

    # ------------------------------------------------------------------
    # concatenation
    # ------------------------------------------------------------------
    @staticmethod
    def cat(instances_list: List['InstanceData']) -> 'InstanceData':
        """Concatenate instances with identical data keys.

        Tensors are joined with ``torch.cat``, arrays with
        ``np.concatenate``, lists/str/tuples with ``+`` and other types with
        their own ``cat``. Metainfo is taken from the first element.

        Args:
            instances_list (list[InstanceData]): Elements to concatenate.

        Returns:
            InstanceData: ``sum(len(x) for x in instances_list)`` instances.
        """
        assert isinstance(instances_list, (list, tuple)), (
            f'instances_list must be a list of InstanceData, but got '
            f'{type(instances_list)}')
        for i, r in enumerate(instances_list):
            assert isinstance(r, InstanceData), (
                f'instances_list must be a list of InstanceData, but '
                f'element {i} is a {type(r)}')
        assert len(instances_list) > 0, 'instances_list must not be empty'
        if len(instances_list) == 1:
            return instances_list[0]

        keys = instances_list[0].keys()
        for i, other in enumerate(instances_list[1:], start=1):
            other_keys = other.keys()
            if len(other_keys) != len(keys) or set(other_keys) != set(keys):
                missing = [k for k in keys if k not in other_keys]
                extra = [k for k in other_keys if k not in keys]
                raise AssertionError(
                    f'There are different keys in `instances_list`, which '
                    f'may cause the cat operation to fail. Please make sure '
                    f'all elements in `instances_list` have the exact same '
                    f'keys; element 0 has {keys} but element {i} has '
                    f'{other_keys} (missing {missing}, extra {extra})')

        first = instances_list[0]
        new_data = first.__class__(metainfo=first.metainfo)
        for k in keys:
            values = [r[k] for r in instances_list]
            v0 = values[0]
            _check_same_kind(k, values)
            if isinstance(v0, torch.Tensor):
                joined = torch.cat(values, dim=0)
            elif isinstance(v0, np.ndarray):
                joined = np.concatenate(values, axis=0)
            elif isinstance(v0, (str, list, tuple)):
                joined = v0[:0]
                for v in values:
                    joined = joined + v
            elif hasattr(v0, 'cat'):
                joined = type(v0).cat(values)
            else:
                raise ValueError(
                    f'The type of `{k}` is `{type(v0)}` which has no '
                    f'attribute of `cat`, so it does not support cat.')
            setattr(new_data, k, joined)
        return new_data


def _check_same_kind(name: str, values: List[Any]) -> None:
    """Refuse to concatenate a field whose values are of different kinds
    (``list + ndarray`` would silently add element-wise)."""
    v0 = values[0]
    for kind in (torch.Tensor, np.ndarray, str, list, tuple):
        if isinstance(v0, kind):
            break
    else:
        return  # custom types: their own ``cat`` decides what it accepts
    for i, v in enumerate(values):
        if not isinstance(v, kind):
            raise TypeError(
                f'Can not cat field `{name}`: element 0 holds a '
                f'{type(v0)} but element {i} holds a {type(v)}; all '
                f'elements must store the same type')


def _index_to_positions(index: torch.Tensor) -> List[int]:
    """Convert a bool mask or long index tensor to python int positions."""
    if index.dtype == torch.bool:
        index = index.nonzero().view(-1)
    return index.cpu().tolist()


def _take_from_sequence(name: str, value: Any, positions: Sequence[int]):
    """Select ``positions`` from a list/str/tuple or a custom sequence type.

    Each position becomes a one-element slice ``value[i::len(value)]`` of
    the same type; pieces are joined with ``+`` (builtin sequences) or
    ``type(value).cat`` (custom types).
    """
    num = len(value)
    if isinstance(value, (str, list, tuple)):
        if isinstance(value, str):
            return ''.join(value[i] for i in positions)
        picked = [value[i] for i in positions]
        return picked if isinstance(value, list) else tuple(picked)
    if not (hasattr(value, '__getitem__') and hasattr(value, 'cat')):
        raise TypeError(
            f'The field `{name}` of type {type(value)} can not be indexed '
            f'with a tensor or list: it needs `__getitem__` and `cat`')
    if not positions:
        return value[0:0]
    pieces = [value[slice(i, None, num)] for i in positions]
    return type(value).cat(pieces)

