"""Lazily imported objects of pure-Python ("new-style") configs.

In a pure-Python config, ``from torch.optim import SGD`` does not import
torch while the config is read: the name ``SGD`` is bound to a
:class:`LazyObject` that records *where* the object lives. Attribute access
on it (``nn.BatchNorm2d``) gives a :class:`LazyAttr`. Both are built (the
module imported, the attribute looked up) only when a :class:`ConfigDict`
hands the value out, e.g. when a registry builds ``dict(type=SGD)``. This
keeps loading a config cheap and lets a config name classes of packages that
are only needed at build time.
"""
import importlib
from typing import Any, Optional, Union


class _LazyValue:
    """Shared behaviour of lazy config values: immutable, compared and
    hashed by what they point to, shared (not copied) by copy/deepcopy."""

    def _key(self) -> tuple:
        raise NotImplementedError  # abstract: each subclass names its key

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, ) + self._key())

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self

    def __getattr__(self, name: str) -> 'LazyAttr':
        # Dunder look-ups (pickle, copy, inspect) must not become LazyAttrs.
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        return LazyAttr(name, self, self.__dict__.get('location'))


class LazyObject(_LazyValue):
    """A module, or an object imported from a module, imported on demand.

    Args:
        module (str): dotted module name, e.g. ``'torch.optim'``.
        imported (str, optional): name imported from ``module`` (``'SGD'``
            for ``from torch.optim import SGD``). ``None`` means the object
            is the module itself (``import numpy as np``).
        location (str, optional): ``'<config file>, line <n>'`` of the
            import statement, used in error messages.

    Examples:
        >>> obj = LazyObject('collections', 'OrderedDict')
        >>> str(obj)
        'collections.OrderedDict'
        >>> obj.build()
        <class 'collections.OrderedDict'>
    """

    def __init__(self,
                 module: str,
                 imported: Optional[str] = None,
                 location: Optional[str] = None):
        if not isinstance(module, str) or not module:
            raise TypeError('module of a LazyObject must be a non-empty str, '
                            f'but got {module!r}')
        if imported is not None and not isinstance(imported, str):
            raise TypeError('imported of a LazyObject must be a str or None, '
                            f'but got {imported!r}')
        self.__dict__['module'] = module
        self.__dict__['imported'] = imported
        self.__dict__['location'] = location

    def build(self) -> Any:
        """Import the module and return it, or the imported object."""
        module, imported = self.module, self.imported
        where = f' (imported in {self.location})' if self.location else ''
        try:
            mod = importlib.import_module(module)
        except Exception as e:
            raise ImportError(
                f'Failed to import {module}{where}: {type(e).__name__}: {e}'
            ) from e
        if imported is None:
            return mod
        try:
            return getattr(mod, imported)
        except AttributeError:
            pass
        # ``from pkg import submodule`` where pkg does not import it itself.
        sub = _import_submodule(module, imported, where)
        if sub is None:
            raise ImportError(f'Failed to import {imported} from {module}'
                              f'{where}: {module} has no attribute '
                              f'{imported!r}')
        return sub

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f'cannot set attribute {name!r} of the lazily imported {self}: '
            'it is imported only when the config is built')

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f'{self} is imported lazily by the config'
            f'{" (" + self.location + ")" if self.location else ""} and '
            'cannot be called while the config is read. Reference it '
            '(e.g. ``type=' + (self.imported or self.module) + '``) and let '
            'a registry build it.')

    def _key(self) -> tuple:
        return (self.module, self.imported)

    def __str__(self) -> str:
        if self.imported is None:
            return self.module
        return f'{self.module}.{self.imported}'

    def __repr__(self) -> str:
        return f"<LazyObject '{self}'>"


class LazyAttr(_LazyValue):
    """An attribute of a :class:`LazyObject` (or of another ``LazyAttr``).

    ``import torch.nn as nn; norm = nn.BatchNorm2d`` binds ``norm`` to
    ``LazyAttr('BatchNorm2d', LazyObject('torch.nn'))``.

    Args:
        name (str): the attribute name.
        source (LazyObject | LazyAttr): what the attribute is read from.
        location (str, optional): where in the config it was written.
    """

    def __init__(self,
                 name: str,
                 source: Union[LazyObject, 'LazyAttr'],
                 location: Optional[str] = None):
        self.__dict__['name'] = name
        self.__dict__['source'] = source
        self.__dict__['location'] = location

    def build(self) -> Any:
        """Build the source and return the attribute."""
        obj = self.source.build()
        try:
            return getattr(obj, self.name)
        except AttributeError:
            pass
        # ``import a.b`` followed by ``a.b.C``: ``a`` may not import ``b``.
        where = f' (used in {self.location})' if self.location else ''
        module_name = getattr(obj, '__name__', None)
        if module_name is not None and hasattr(obj, '__path__'):
            sub = _import_submodule(module_name, self.name, where)
            if sub is not None:
                return sub
        raise ImportError(f'Failed to get {self}{where}: '
                          f'{self.source} has no attribute {self.name!r}')

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f'cannot set attribute {name!r} of the lazily imported {self}')

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f'{self} is imported lazily by the config'
            f'{" (" + self.location + ")" if self.location else ""} and '
            'cannot be called while the config is read.')

    def _key(self) -> tuple:
        return (self.name, self.source)

    def __str__(self) -> str:
        return f'{self.source}.{self.name}'

    def __repr__(self) -> str:
        return f"<LazyAttr '{self}'>"


def _import_submodule(package: str, name: str, where: str) -> Any:
    """Import ``package.name``; None when there is no such module. An error
    raised while importing an existing submodule (e.g. a dependency it
    lacks) is reported as the cause, not hidden."""
    full = f'{package}.{name}'
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as e:
        if e.name == full:
            return None
        error: Exception = e
    except Exception as e:
        error = e
    raise ImportError(f'Failed to import {full}{where}: '
                      f'{type(error).__name__}: {error}') from error


def is_lazy(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`LazyObject` or :class:`LazyAttr`."""
    return isinstance(obj, (LazyObject, LazyAttr))
