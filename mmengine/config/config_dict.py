"""``ConfigDict``: a ``dict`` with attribute access, used for every mapping
inside a :class:`~mmengine.config.Config`."""
import copy
from typing import Any, Iterator

from .lazy import LazyAttr, LazyObject


def _convert(value: Any) -> Any:
    """Turn plain dicts (also inside lists/tuples) into ``ConfigDict``.

    Only exact ``dict``/``list``/``tuple`` are converted: user subclasses
    (``OrderedDict``, named tuples, custom dicts) are kept as they are.
    """
    tp = type(value)
    if tp is dict:
        return ConfigDict(value)
    if tp is list:
        return [_convert(item) for item in value]
    if tp is tuple:
        return tuple(_convert(item) for item in value)
    return value


def _build(value: Any) -> Any:
    if isinstance(value, (LazyObject, LazyAttr)):
        return value.build()
    return value


class ConfigDict(dict):
    """A ``dict`` whose keys can also be read and written as attributes.

    Nested plain dicts, including dicts inside lists and tuples, become
    ``ConfigDict`` too. Lazily imported objects of pure-Python configs
    (:class:`~mmengine.config.lazy.LazyObject`) are stored as they are and
    built when they are handed out (``cfg.type``, ``cfg['type']``,
    ``get``, ``pop``, ``items``, ``values``, ``**cfg``); use
    :meth:`to_dict` or ``_to_lazy_dict`` to see the stored form.

    ``update`` merges nested dicts recursively (``cfg.update(model=dict(
    depth=101))`` keeps the other keys of ``cfg.model``).

    Examples:
        >>> cfg = ConfigDict(model=dict(type='ResNet', depth=50))
        >>> cfg.model.depth
        50
        >>> cfg.model.depth = 101
        >>> cfg['model']
        {'type': 'ResNet', 'depth': 101}
        >>> cfg.missing
        Traceback (most recent call last):
        AttributeError: 'ConfigDict' object has no attribute 'missing'
    """

    def __init__(self, *args, **kwargs):
        super().__init__()
        for arg in args:
            if not arg:
                continue
            if isinstance(arg, dict):
                items = dict.items(arg)
            elif hasattr(arg, 'keys'):
                items = ((k, arg[k]) for k in arg.keys())
            else:
                items = arg
            for key, value in items:
                dict.__setitem__(self, key, _convert(value))
        for key, value in kwargs.items():
            dict.__setitem__(self, key, _convert(value))

    # --- item / attribute access ---------------------------------------
    def __missing__(self, key: Any):
        raise KeyError(key)

    def __getitem__(self, key: Any) -> Any:
        return _build(dict.__getitem__(self, key))

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, _convert(value))

    def __getattr__(self, name: str) -> Any:
        try:
            value = dict.__getitem__(self, name)
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no "
                                 f"attribute '{name}'") from None
        return _build(value)

    def __setattr__(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, _convert(value))

    def __delattr__(self, name: str) -> None:
        try:
            dict.__delitem__(self, name)
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no "
                                 f"attribute '{name}'") from None

    def __iter__(self) -> Iterator:
        # Overriding __iter__ makes ``dict(cfg)``/``**cfg`` go through
        # ``keys()`` + ``__getitem__``, so they see built objects.
        return dict.__iter__(self)

    def __dir__(self):
        return list(super().__dir__()) + [
            k for k in dict.keys(self) if isinstance(k, str)
        ]

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get`` that builds lazily imported values."""
        return _build(dict.get(self, key, default))

    def pop(self, key: Any, *default) -> Any:
        """``dict.pop`` that builds lazily imported values."""
        return _build(dict.pop(self, key, *default))

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def items(self) -> list:  # type: ignore[override]
        """List of ``(key, value)`` pairs with lazy values built."""
        return [(k, _build(v)) for k, v in dict.items(self)]

    def values(self) -> list:  # type: ignore[override]
        """List of values with lazy values built."""
        return [_build(v) for v in dict.values(self)]

    def update(self, *args, **kwargs) -> None:  # type: ignore[override]
        """Recursively merge other mappings (and keyword args) into this.

        A key whose old and new values are both dicts is merged key by key;
        any other value replaces the old one.
        """
        if len(args) > 1:
            raise TypeError('update expected at most 1 positional argument, '
                            f'got {len(args)}')
        other: dict = {}
        if args and args[0]:
            arg = args[0]
            if isinstance(arg, dict):
                other.update(dict.items(arg))
            else:
                other.update(arg)
        other.update(kwargs)
        for key, value in other.items():
            old = dict.get(self, key)
            if (key in self and isinstance(old, dict)
                    and isinstance(value, dict)):
                if not isinstance(old, ConfigDict):
                    old = ConfigDict(old)
                    dict.__setitem__(self, key, old)
                old.update(value)
            else:
                self[key] = value

    def merge(self, other: dict) -> None:
        """Merge ``other`` into this dict like a child config does into its
        base: nested dicts merge, other values are replaced, and
        ``_delete_=True`` in a sub-dict replaces instead of merging."""
        from .merge import merge_a_into_b  # local: merge imports this file
        merged = merge_a_into_b(other, self)
        dict.clear(self)
        dict.update(self, dict.items(merged))

    # --- copies and pickling -------------------------------------------
    def copy(self) -> 'ConfigDict':
        """Shallow copy (values are shared, the mapping is new)."""
        new = type(self)()
        dict.update(new, dict.items(self))
        return new

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> 'ConfigDict':
        new = type(self)()
        memo[id(self)] = new
        for key, value in dict.items(self):
            dict.__setitem__(new, copy.deepcopy(key, memo),
                             copy.deepcopy(value, memo))
        return new

    def __reduce_ex__(self, protocol):
        # Pickle the stored (lazy) values, never built modules/classes.
        return (type(self), (), None, None, iter(dict.items(self)))

    # --- conversion ----------------------------------------------------
    def to_dict(self) -> dict:
        """Plain nested ``dict``; lazy objects become their dotted name."""
        return _to_plain(self, keep_lazy=False)

    def _to_lazy_dict(self) -> dict:
        """Plain nested ``dict`` keeping lazy objects unbuilt."""
        return _to_plain(self, keep_lazy=True)


def _to_plain(data: Any, keep_lazy: bool) -> Any:
    # a ``Config`` stored as a value is converted like its mapping (duck
    # typed: config.py imports this module)
    if type(data).__name__ == 'Config' and isinstance(
            vars(data).get('_cfg_dict'), ConfigDict):
        data = vars(data)['_cfg_dict']
    if isinstance(data, dict):
        return {
            key: _to_plain(value, keep_lazy)
            for key, value in dict.items(data)
        }
    if type(data) in (list, tuple):
        return type(data)(_to_plain(item, keep_lazy) for item in data)
    if not keep_lazy and isinstance(data, (LazyObject, LazyAttr)):
        return str(data)
    return data
