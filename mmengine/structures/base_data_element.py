"""``BaseDataElement``: the common container passed between data pipeline,
model, evaluator and visualizer.

An element holds two kinds of fields, both readable as attributes:

* **metainfo** — information about the sample (``img_id``, ``img_shape``),
  set with :meth:`BaseDataElement.set_metainfo`;
* **data** — the annotations or predictions themselves (``bboxes``,
  ``labels``), set as attributes or with :meth:`BaseDataElement.set_data`.

A name can never be both. Tensor-like methods (``to``, ``cpu``, ``numpy``,
...) return a new element whose data values are converted and whose
metainfo is carried over.
"""
import copy
from collections.abc import MutableSet
from typing import Any, Callable, Iterator, List, Optional, Tuple, Type, Union

import numpy as np
import torch

_PRIVATE_FIELDS = ('_metainfo_fields', '_data_fields')


class _FieldSet(MutableSet):
    """A set of field names that remembers insertion order.

    ``keys()`` must list fields in the order they were added (the spec's
    examples rely on it), which a plain ``set`` does not guarantee.
    """

    __slots__ = ('_names', )

    def __init__(self, names=()):
        self._names = dict.fromkeys(names)

    def __contains__(self, name) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def add(self, name: str) -> None:
        self._names[name] = None

    def discard(self, name: str) -> None:
        self._names.pop(name, None)

    def __getstate__(self):
        return list(self._names)

    def __setstate__(self, state):
        self._names = dict.fromkeys(state)

    def __repr__(self) -> str:
        return '{' + ', '.join(repr(n) for n in self._names) + '}'


def _indent_tail(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first by ``spaces``."""
    return text.replace('\n', '\n' + ' ' * spaces)


def _format_field(name: Any, value: Any) -> str:
    """Render one ``name: value`` entry of ``__repr__`` (unindented).

    Continuation lines of a multi-line value are indented by 4 so they sit
    under the value; a non-empty dict is shown as ``name:`` followed by its
    own entries, one per line, indented by 4 (the documented layout of a
    dict nested in a data element).
    """
    if isinstance(value, dict) and value:
        body = ''.join(
            '\n    ' + _indent_tail(_format_field(k, v), 4)
            for k, v in value.items())
        return f'{name}:{body}'
    return f'{name}: {_indent_tail(repr(value), 4)}'


class BaseDataElement:
    """Base class of all data elements (data samples, instances, pixels).

    Args:
        metainfo (dict, optional): Meta information of the sample, such as
            ``img_shape`` or ``img_id``. Must be given by keyword.
        **kwargs: Data fields, such as ``bboxes=torch.rand(5, 4)``.

    Examples:
        >>> import torch
        >>> gt = BaseDataElement(metainfo=dict(img_id=0, img_shape=(8, 8)),
        ...                      bboxes=torch.rand((5, 4)))
        >>> gt.metainfo_keys(), gt.keys()
        (['img_id', 'img_shape'], ['bboxes'])
        >>> gt.scores = torch.rand((5, ))   # adds a data field
        >>> 'scores' in gt
        True
    """

    def __init__(self, *, metainfo: Optional[dict] = None, **kwargs) -> None:
        object.__setattr__(self, '_metainfo_fields', _FieldSet())
        object.__setattr__(self, '_data_fields', _FieldSet())
        if metainfo is not None:
            self.set_metainfo(metainfo=metainfo)
        if kwargs:
            self.set_data(kwargs)

    # ------------------------------------------------------------------
    # setting fields
    # ------------------------------------------------------------------
    def set_metainfo(self, metainfo: dict) -> None:
        """Add or overwrite metainfo fields.

        Args:
            metainfo (dict): Field name to value. Values are deep-copied so
                later edits of the caller's dict do not leak in.

        Raises:
            AssertionError: If ``metainfo`` is not a dict.
            AttributeError: If a key is already a data field.
        """
        assert isinstance(metainfo, dict), (
            f'metainfo should be a ``dict`` but got {type(metainfo)}')
        # Check every key first so a conflict leaves the element unchanged.
        for name in metainfo:
            if name in self._data_fields:
                raise AttributeError(
                    f'Cannot set {name} to be a field of metainfo because '
                    f'{name} is already a data field')
        for name, value in metainfo.items():
            self.set_field(
                value=_copy_meta_value(value), name=name,
                field_type='metainfo')

    def set_data(self, data: dict) -> None:
        """Add or overwrite several data fields.

        Args:
            data (dict): Field name to value. Each value goes through
                ``__setattr__`` so subclass checks (lengths, shapes) apply.

        Raises:
            AssertionError: If ``data`` is not a dict.
            AttributeError: If a key is already a metainfo field.
        """
        assert isinstance(data, dict), (
            f'data should be a `dict` but got {type(data)}')
        for name, value in data.items():
            setattr(self, name, value)

    def update(self, instance: 'BaseDataElement') -> None:
        """Merge the metainfo and data fields of another element into this
        one (values of ``instance`` win).

        Args:
            instance (BaseDataElement): The element to merge in.
        """
        assert isinstance(instance, BaseDataElement), (
            f'instance should be a `BaseDataElement` but got '
            f'{type(instance)}')
        self.set_metainfo(dict(instance.metainfo_items()))
        self.set_data(dict(instance.items()))

    def set_field(self,
                  value: Any,
                  name: str,
                  dtype: Optional[Union[Type, Tuple[Type, ...]]] = None,
                  field_type: str = 'data') -> None:
        """Low-level setter used by ``__setattr__``, ``set_metainfo`` and
        typed properties of downstream data samples.

        Args:
            value (Any): The value to store.
            name (str): The attribute name.
            dtype (type or tuple of type, optional): If given, ``value`` must
                be an instance of it.
            field_type (str): ``'data'`` or ``'metainfo'``.

        Raises:
            AssertionError: If ``value`` is not a ``dtype`` or
                ``field_type`` is unknown.
            AttributeError: If ``name`` is already a field of the other kind.
        """
        assert field_type in ('metainfo', 'data'), (
            f"field_type should be 'metainfo' or 'data' but got "
            f'{field_type!r}')
        if dtype is not None:
            assert isinstance(value, dtype), (
                f'{value} should be a {dtype} but got {type(value)}')
        if field_type == 'metainfo':
            if name in self._data_fields:
                raise AttributeError(
                    f'Cannot set {name} to be a field of metainfo because '
                    f'{name} is already a data field')
            own = self._metainfo_fields
        else:
            if name in self._metainfo_fields:
                raise AttributeError(
                    f'Cannot set {name} to be a field of data because {name} '
                    f'is already a metainfo field; use `set_metainfo` to '
                    f'change it')
            own = self._data_fields
        # Set first: a property setter may reject the value, and then the
        # name must not be registered as a field.
        object.__setattr__(self, name, value)
        own.add(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PRIVATE_FIELDS:
            raise AttributeError(
                f'{name} has been used as a private attribute, which is '
                f'immutable.')
        self.set_field(value=value, name=name, field_type='data')

    def __delattr__(self, name: str) -> None:
        if name in _PRIVATE_FIELDS:
            raise AttributeError(
                f'{name} has been used as a private attribute, which is '
                f'immutable.')
        object.__delattr__(self, name)
        self._metainfo_fields.discard(name)
        self._data_fields.discard(name)

    # ``element[key]`` is deliberately not supported here: item syntax is
    # reserved for indexing in InstanceData / PixelData.

    # ------------------------------------------------------------------
    # creation helpers
    # ------------------------------------------------------------------
    def new(self,
            *,
            metainfo: Optional[dict] = None,
            **kwargs) -> 'BaseDataElement':
        """Return a new element of the same class.

        Args:
            metainfo (dict, optional): Metainfo of the new element; defaults
                to a copy of this element's metainfo.
            **kwargs: Data of the new element; defaults to this element's
                data (values shared, not copied).
        """
        new_element = self.__class__()
        if metainfo is not None:
            new_element.set_metainfo(metainfo)
        else:
            new_element.set_metainfo(dict(self.metainfo_items()))
        if kwargs:
            new_element.set_data(kwargs)
        else:
            new_element.set_data(dict(self.items()))
        return new_element

    def clone(self) -> 'BaseDataElement':
        """Return a deep copy of this element (like ``Tensor.clone``)."""
        new_element = self.__class__()
        new_element.set_metainfo(dict(self.metainfo_items()))
        new_element.set_data(
            {name: _clone_value(value)
             for name, value in self.items()})
        return new_element

    # ------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------
    def _public_names(self, fields: _FieldSet) -> List[str]:
        # A typed property ``x`` stores its value in ``_x``; both names are
        # registered, and only the public one is reported.
        cls = type(self)
        return [
            name for name in fields
            if not (name[:1] == '_' and name[1:] in fields
                    and isinstance(getattr(cls, name[1:], None), property))
        ]

    def keys(self) -> list:
        """Names of the data fields, in insertion order."""
        return self._public_names(self._data_fields)

    def metainfo_keys(self) -> list:
        """Names of the metainfo fields, in insertion order."""
        return self._public_names(self._metainfo_fields)

    def values(self) -> list:
        """Values of the data fields."""
        return [getattr(self, k) for k in self.keys()]

    def metainfo_values(self) -> list:
        """Values of the metainfo fields."""
        return [getattr(self, k) for k in self.metainfo_keys()]

    def all_keys(self) -> list:
        """Metainfo names followed by data names."""
        return self.metainfo_keys() + self.keys()

    def all_values(self) -> list:
        """Metainfo values followed by data values."""
        return self.metainfo_values() + self.values()

    def items(self) -> Iterator[Tuple[str, Any]]:
        """Iterate ``(name, value)`` over data fields."""
        for k in self.keys():
            yield (k, getattr(self, k))

    def metainfo_items(self) -> Iterator[Tuple[str, Any]]:
        """Iterate ``(name, value)`` over metainfo fields."""
        for k in self.metainfo_keys():
            yield (k, getattr(self, k))

    def all_items(self) -> Iterator[Tuple[str, Any]]:
        """Iterate ``(name, value)`` over metainfo then data fields."""
        for k in self.all_keys():
            yield (k, getattr(self, k))

    @property
    def metainfo(self) -> dict:
        """dict: The metainfo fields as a plain dict."""
        return dict(self.metainfo_items())

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get`` over metainfo and data fields.

        Only fields count: ``get('keys')`` returns ``default``, not the
        ``keys`` method.
        """
        if key in self:
            return getattr(self, key, default)
        return default

    def pop(self, *args) -> Any:
        """Remove a metainfo or data field and return its value.

        ``pop(name)`` raises ``KeyError`` if the field is missing;
        ``pop(name, default)`` returns ``default`` instead.
        """
        assert 1 <= len(args) <= 2, (
            f'pop expects 1 or 2 arguments (name[, default]) but got '
            f'{len(args)}')
        name = args[0]
        if name in self._metainfo_fields or name in self._data_fields:
            value = getattr(self, name)
            delattr(self, name)
            return value
        if len(args) == 2:
            return args[1]
        raise KeyError(f'{name} is not contained in metainfo or data')

    def __contains__(self, item: str) -> bool:
        return item in self._data_fields or item in self._metainfo_fields

    def to_dict(self) -> dict:
        """Convert to a plain dict (metainfo and data), recursively turning
        nested data elements into dicts."""
        return {
            k: v.to_dict() if isinstance(v, BaseDataElement) else v
            for k, v in self.all_items()
        }

    # ------------------------------------------------------------------
    # tensor-like operations; each returns a new element
    # ------------------------------------------------------------------
    def _map_data(self, fn: Callable[[str, Any], Any]) -> 'BaseDataElement':
        """New element with the same metainfo and ``fn(name, value)`` of
        each data field."""
        new_element = self.__class__()
        new_element.set_metainfo(dict(self.metainfo_items()))
        new_element.set_data({k: fn(k, v) for k, v in self.items()})
        return new_element

    def _apply_to_tensors(self, method: str) -> 'BaseDataElement':
        """Call ``method`` (e.g. ``'cpu'``) on every tensor and nested
        element; other values are kept as they are."""
        def convert(_, v):
            if isinstance(v, (torch.Tensor, BaseDataElement)):
                return getattr(v, method)()
            return v

        return self._map_data(convert)

    def to(self, *args, **kwargs) -> 'BaseDataElement':
        """Apply ``Tensor.to(*args, **kwargs)`` to every data value that
        has a ``to`` method (tensors, nested elements)."""
        return self._map_data(lambda _, v: v.to(*args, **kwargs)
                              if hasattr(v, 'to') else v)

    def cpu(self) -> 'BaseDataElement':
        """Move all tensors to the CPU."""
        return self._apply_to_tensors('cpu')

    def cuda(self) -> 'BaseDataElement':
        """Move all tensors to the current CUDA device."""
        return self._apply_to_tensors('cuda')

    def npu(self) -> 'BaseDataElement':
        """Move all tensors to the current NPU device."""
        return self._apply_to_tensors('npu')

    def musa(self) -> 'BaseDataElement':
        """Move all tensors to the current MUSA device."""
        return self._apply_to_tensors('musa')

    def detach(self) -> 'BaseDataElement':
        """Detach all tensors from the autograd graph."""
        return self._apply_to_tensors('detach')

    def numpy(self) -> 'BaseDataElement':
        """Convert all tensors to ``numpy.ndarray`` (via CPU, detached)."""

        def convert(_, v):
            if isinstance(v, torch.Tensor):
                return v.detach().cpu().numpy()
            if isinstance(v, BaseDataElement):
                return v.numpy()
            return v

        return self._map_data(convert)

    def to_tensor(self) -> 'BaseDataElement':
        """Convert all ``numpy.ndarray`` values to tensors."""

        def convert(name, v):
            if isinstance(v, np.ndarray):
                if v.dtype.kind not in 'biufc':
                    raise TypeError(
                        f'Can not convert field `{name}` of '
                        f'{type(self).__name__} to a tensor: numpy dtype '
                        f'{v.dtype} has no tensor equivalent (expected a '
                        f'bool, integer, float or complex array)')
                # Tensors can not have negative strides (``arr[::-1]``).
                if any(stride < 0 for stride in v.strides):
                    v = v.copy()
                return torch.from_numpy(v)
            if isinstance(v, BaseDataElement):
                return v.to_tensor()
            return v

        return self._map_data(convert)

    # ------------------------------------------------------------------
    # display
    # ------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f'<{type(self).__name__}(', '', '    META INFORMATION']
        for k, v in self.metainfo_items():
            lines.append('    ' + _indent_tail(_format_field(k, v), 4))
        lines += ['', '    DATA FIELDS']
        for k, v in self.items():
            lines.append('    ' + _indent_tail(_format_field(k, v), 4))
        lines.append(f') at {hex(id(self))}>')
        return '\n'.join(lines)


_IMMUTABLE_SCALARS = (int, float, complex, str, bytes, bool, type(None))


def _is_immutable(value: Any) -> bool:
    if type(value) in _IMMUTABLE_SCALARS:
        return True
    return type(value) is tuple and all(_is_immutable(v) for v in value)


def _copy_meta_value(value: Any) -> Any:
    """Deep-copy a metainfo value, skipping the copy for immutable plain
    values (the common ``img_id``/``img_shape`` case, on the hot path of
    ``InstanceData`` indexing)."""
    return value if _is_immutable(value) else copy.deepcopy(value)


def _clone_value(value: Any) -> Any:
    """Deep-copy one field value; tensors via ``clone`` so that non-leaf
    tensors (which refuse ``deepcopy``) can be cloned too."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, BaseDataElement):
        return value.clone()
    return copy.deepcopy(value)
